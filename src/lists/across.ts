/**
 * Any SPP list read over several servers as one Relay connection (issue 21): a list
 * description, each server's window reader, and pagination/merge.ts's engine with one position
 * per server in the cursor. jobSessions and jobs both page through here; a further list needs
 * only its description.
 */
import type { ListDescription } from '../pagination/list.js';
import type { MergedPaginator, MergedQuery, UpstreamFailure } from '../pagination/merge.js';
import type { Page, PageArgs, ReaderFactory } from '../pagination/paginator.js';
import type { SppRecord } from '../spp-api/types.js';
import { untrustedSum } from '../errors.js';

/** A merged page as a connection resolves it, and the servers whose records it misses (they follow on later pages). */
export interface AcrossPage<R extends SppRecord> {
  page: Page<R>;
  failures: UpstreamFailure[];
}

/**
 * A page of `list` merged over `servers` (name → that server's window readers for this request).
 * `track` receives each server's records of the page (job-session lookups answer from them).
 * totalCount is the sum of the servers' totals, or null with an error saying which total is
 * missing or not trusted.
 */
export async function readListAcross<R extends SppRecord>(
  merged: MergedPaginator,
  list: ListDescription<R>,
  servers: ReadonlyMap<string, ReaderFactory>,
  args: PageArgs,
  query: MergedQuery,
  track?: (server: string, records: readonly R[]) => void,
): Promise<AcrossPage<R>> {
  const readers = new Map([...servers].map(([name, readerFor]) => [name, readerFor(list)]));
  const page = await merged.page(list, readers, args, query);
  if (track)
    for (const name of servers.keys())
      track(
        name,
        page.edges.filter((edge) => edge.upstream === name).map((edge) => edge.node),
      );
  return {
    failures: page.failures,
    page: {
      edges: page.edges,
      pageInfo: page.pageInfo,
      totalCount: async () => {
        const { total, reason } = await page.totalCount();
        if (total === null) throw untrustedSum(reason ?? 'a server has no trusted total');
        return total;
      },
    },
  };
}
