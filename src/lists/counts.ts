/**
 * Counts read from SPP's list totals, in parallel, one record per read (Paginator.count):
 * sessions per status, log entries per type. SPP's totals are the only count it offers for an
 * arbitrary filter, and some builds answer 0 whatever the records (APAR IT45897): such a count
 * resolves to null with an error that says why (untrustedTotal), never to a wrong number.
 */
import type { JobLogType, JobSessionStatus } from '../__generated__/resolvers-types.js';
import { untrustedTotal } from '../errors.js';

/** What a JobSessionStatusCount resolves to: the count is read only when selected. */
export interface StatusCount {
  status: JobSessionStatus;
  count: () => Promise<number | null>;
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
