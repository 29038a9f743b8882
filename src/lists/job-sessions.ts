/**
 * The job-session list, `GET /api/endeavour/jobsession` (docs/spp-api.md#listing-job-sessions). Its filter and
 * order translation live in src/translate/ (filter.ts, order.ts).
 */
import type { JobSessionFilter, JobSessionOrder } from '../__generated__/resolvers-types.js';
import type { ListDescription } from '../pagination/list.js';
import type { MergedPaginator } from '../pagination/merge.js';
import type { Page, PageArgs, Paginator, ReaderFactory } from '../pagination/paginator.js';
import { readListAcross, type AcrossPage } from './across.js';
import { translateFilter } from '../translate/filter.js';
import { translateOrder } from '../translate/order.js';
import type { SppJobSession } from '../spp-api/types.js';
import { parseJobSession } from '../upstream/validate.js';

export const JOB_SESSIONS: ListDescription<SppJobSession> = {
  name: 'jobSessions',
  endpoint: 'endeavour/jobsession',
  recordsKey: 'sessions',
  id: 'id',
  // A running session has no `end` and no `duration` yet.
  sortKeys: {
    start: { nullable: false },
    end: { nullable: true },
    duration: { nullable: true },
    jobName: { nullable: false },
    status: { nullable: false },
    type: { nullable: false },
  },
  // Newest first, as SPP's UI lists sessions.
  defaultOrder: [{ property: 'start', direction: 'DESC' }],
  parse: parseJobSession,
};

/** What reading job sessions for a connection needs of the caller's upstream access. */
export interface JobSessionReader {
  paginator: Paginator;
  /**
   * Registers a list read of this operation: the records it returns answer jobSession/node
   * lookups, including lookups that sibling fields started while the list was in flight.
   */
  trackList(list: Promise<readonly SppJobSession[]>): void;
}

/** What a JobSessionConnection resolves to. */
export type JobSessionPage = Page<SppJobSession>;

/**
 * A page of job sessions for a connection field (`jobSessions`, `Job.sessions`): the
 * GraphQL arguments translated, and the page's records registered so that jobSession/node
 * lookups in the same operation are answered from them.
 */
export function readJobSessions(
  upstream: JobSessionReader,
  args: PageArgs & { filter?: JobSessionFilter | null; orderBy?: readonly JobSessionOrder[] | null },
): Promise<JobSessionPage> {
  const { filter, empty } = translateFilter(args.filter);
  const page = upstream.paginator.page(JOB_SESSIONS, args, { filter, sort: translateOrder(args.orderBy), empty });
  upstream.trackList(page.then((p) => p.edges.map((edge) => edge.node)));
  return page;
}

/** One server's access, for merged job-session pages (issue 21). */
export interface ServerListAccess extends JobSessionReader {
  readerFor: ReaderFactory;
}

/**
 * A page of job sessions merged over several servers (issue 21): readListAcross with the
 * job-session filter and order. `failures` are the servers that did not answer; their records
 * follow on later pages.
 */
export function readJobSessionsAcross(
  merged: MergedPaginator,
  servers: ReadonlyMap<string, ServerListAccess>,
  args: PageArgs & { filter?: JobSessionFilter | null; orderBy?: readonly JobSessionOrder[] | null },
): Promise<AcrossPage<SppJobSession>> {
  const { filter, empty } = translateFilter(args.filter);
  const readers = new Map([...servers].map(([name, access]) => [name, access.readerFor]));
  return readListAcross(merged, JOB_SESSIONS, readers, args, { filter, sort: translateOrder(args.orderBy), empty }, (name, records) =>
    servers.get(name)?.trackList(Promise.resolve(records)),
  );
}
