/**
 * The job-log list, `GET /api/endeavour/log/job` (docs/spp-api.md#other-lists): one session's entries,
 * read with the `jobsessionId` filter as every SPP client does, oldest first by default (how
 * SPP's UI and IBM's clients read a log).
 *
 * SPP filters logs on `jobsessionId`, `type` and `logTime`, but ignores `messageId` (SPPMon:
 * "does NOT work yet, nothing filtered", docs/spp-api.md#filter-and-sort and #open-questions): that condition is applied
 * by the gateway as a local condition of the page query (see Paginator), never sent.
 */
import type { JobLogFilter, JobLogOrder, JobLogOrderField, JobLogType } from '../__generated__/resolvers-types.js';
import type { ListDescription } from '../pagination/list.js';
import type { LocalCondition, Page, Paginator } from '../pagination/paginator.js';
import type { SppFilter, SppJobLogEntry, SppSort } from '../spp-api/types.js';
import { parseJobLogEntry } from '../upstream/validate.js';
import { addIn, rangeFilters } from '../translate/filter.js';
import { translateOrderOf } from '../translate/order.js';

export const JOB_LOG: ListDescription<SppJobLogEntry> = {
  name: 'log',
  endpoint: 'endeavour/log/job',
  recordsKey: 'logs',
  id: 'id',
  sortKeys: { logTime: { nullable: false }, type: { nullable: false } },
  defaultOrder: [{ property: 'logTime', direction: 'ASC' }],
  parse: parseJobLogEntry,
};

/** What a JobLogEntryConnection resolves to. */
export type JobLogEntryPage = Page<SppJobLogEntry>;

export const LOG_TYPES: readonly JobLogType[] = ['INFO', 'WARN', 'ERROR', 'SUMMARY', 'DEBUG', 'DETAIL'];
const KNOWN_TYPES = new Set<string>(LOG_TYPES);

/** SPP's type string → the enum; anything new reads as UNKNOWN rather than failing the query. */
export function logTypeOf(raw: string | null | undefined): JobLogType {
  const upper = (raw ?? '').toUpperCase();
  return KNOWN_TYPES.has(upper) ? (upper as JobLogType) : 'UNKNOWN';
}

/** The condition every read of one session's log carries. SPPMon and sppclient send the id as a string. */
export function sessionCondition(sessionId: string): SppFilter {
  return { property: 'jobsessionId', value: sessionId, op: '=' };
}

export interface TranslatedLogQuery {
  filter: SppFilter[];
  empty: boolean;
  /** The messageId condition, applied by the gateway (SPP ignores it). */
  local?: LocalCondition<SppJobLogEntry>;
}

export function translateLogFilter(sessionId: string, input: JobLogFilter | null | undefined): TranslatedLogQuery {
  const filter: SppFilter[] = [sessionCondition(sessionId)];
  let empty = false;
  if (!input) return { filter, empty };
  // UNKNOWN names no value SPP could match: only known types are sent.
  if (
    input.type &&
    addIn(
      filter,
      'type',
      input.type.filter((t) => t !== 'UNKNOWN'),
    )
  )
    empty = true;
  filter.push(...rangeFilters('logTime', input.logTime));
  if (input.messageId) {
    if (input.messageId.length === 0) empty = true;
    const wanted = new Set(input.messageId);
    return { filter, empty, local: { key: `messageId IN ${JSON.stringify([...wanted].sort())}`, test: (entry) => wanted.has(String(entry.messageId ?? '')) } };
  }
  return { filter, empty };
}

const ORDER_PROPERTY: Record<JobLogOrderField, string> = { LOG_TIME: 'logTime', TYPE: 'type' };

export function translateLogOrder(orderBy: readonly JobLogOrder[] | null | undefined): SppSort[] {
  return translateOrderOf(orderBy, ORDER_PROPERTY, [{ field: 'LOG_TIME', direction: 'ASC' }]);
}

/**
 * How many entries of `type` the session's log holds, from SPP's totals (null when they cannot
 * be trusted). UNKNOWN names no value SPP can filter on: it is the whole log minus the known
 * types (the identical reads of the known types' own counts are shared in flight).
 */
export async function logCount(paginator: Paginator, sessionId: string, type: JobLogType): Promise<number | null> {
  const count = (t?: string) =>
    paginator.count(JOB_LOG, t === undefined ? [sessionCondition(sessionId)] : [sessionCondition(sessionId), { property: 'type', value: t, op: '=' }]);
  if (type !== 'UNKNOWN') return count(type);
  const [all, ...known] = await Promise.all([count(), ...LOG_TYPES.map((t) => count(t))]);
  if (all === null || known.some((n) => n === null)) return null;
  return all - known.reduce((sum: number, n) => sum + n!, 0);
}
