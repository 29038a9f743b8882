/**
 * Counts read from SPP's list totals, in parallel, one record per read (Paginator.count):
 * sessions per status, log entries per type. SPP's totals are the only count it offers for an
 * arbitrary filter, and some builds answer 0 whatever the records (APAR IT45897): such a count
 * resolves to null with an error that says why (untrustedTotal), never to a wrong number.
 *
 * Over several servers (issue 21) a state's count is the sum of the servers' counts, read once
 * each and shared by the sum and `byServer`; a sum with a server missing is no answer (it would
 * understate), so it is null with the missing servers' errors.
 */
import type { JobLogType, JobSessionStatus } from '../__generated__/resolvers-types.js';
import type { UpstreamFailure } from '../pagination/merge.js';
import { untrustedTotal } from '../errors.js';

/** One server's count of one state: read on first use, then shared. */
export interface ServerCount {
  server: string;
  /** The count; rejects with the server's error, or untrustedTotal when its total contradicts its records. */
  read: () => Promise<number>;
}

/** What a JobSessionStatusCount resolves to: the counts are read only when selected. */
export interface StatusCount {
  status: JobSessionStatus;
  /** The servers read, in configuration order. */
  byServer: ServerCount[];
  /** False for the one server of a single-server gateway asked without `servers`: its errors read as before issue 21, without a server name. */
  named: boolean;
}

/** What a JobLogTypeCount resolves to. */
export interface TypeCount {
  type: JobLogType;
  count: () => Promise<number | null>;
}

/** A count that must be trusted: null from the reader becomes the untrustedTotal error. */
export async function trustedCount(count: Promise<number | null>, what: string): Promise<number> {
  const value = await count;
  if (value === null) throw untrustedTotal(what);
  return value;
}

/** A server's count of `what`, read once however many fields ask for it. */
export function serverCount(server: string, read: () => Promise<number | null>, what: string): ServerCount {
  let counted: Promise<number> | undefined;
  return { server, read: () => (counted ??= trustedCount(read(), what)) };
}

/** The sum of the servers' counts (read in parallel); null with the failures when any count is missing. */
export async function sumCounts(parts: readonly ServerCount[]): Promise<{ sum: number | null; failures: UpstreamFailure[] }> {
  const settled = await Promise.allSettled(parts.map((part) => part.read()));
  const failures: UpstreamFailure[] = [];
  let sum = 0;
  settled.forEach((result, i) => {
    if (result.status === 'fulfilled') sum += result.value;
    else failures.push({ upstream: parts[i]!.server, error: result.reason });
  });
  return failures.length > 0 ? { sum: null, failures } : { sum, failures };
}
