/**
 * GraphQL `JobSessionFilter` → SPP's `filter` array (docs/spp-api.md#filter-and-sort).
 *
 * Each given field becomes one upstream filter object, and SPP ANDs them (every real
 * client relies on AND, although the docs say OR: docs/spp-api.md#filter-and-sort). Lists
 * become `IN` with a real JSON array (a stringified array is silently ignored by SPP,
 * SPPMon changelog), single values `=`, and range bounds `>`, `>=`, `<`, `<=` on epoch ms.
 */
import { badUserInput } from '../errors.js';
import type { JobSessionFilter, JobSessionStatus } from '../__generated__/resolvers-types.js';
import type { SppFilter } from '../spp-api/types.js';

/** SPP's spellings of each status; `CANCELED` is also written `CANCELLED` (UI, stats; docs/spp-api.md#the-session-record). */
const UPSTREAM_STATUS: Partial<Record<JobSessionStatus, string[]>> = {
  CANCELED: ['CANCELED', 'CANCELLED'],
};

export interface TranslatedFilter {
  filter: SppFilter[];
  /** True when the filter can match nothing (an empty list was given): no upstream call is needed. */
  empty: boolean;
}

/**
 * A list field → `IN` with a real JSON array, duplicates dropped, appended to `filter`.
 * Returns true when the list is empty: the filter can match nothing.
 */
export function addIn(filter: SppFilter[], property: string, values: readonly string[]): boolean {
  filter.push({ property, value: [...new Set(values)], op: 'IN' });
  return values.length === 0;
}

/** A `DateTimeRange` on `property` (epoch ms) → one SPP filter per given bound. */
export function rangeFilters(
  property: string,
  range: { gt?: number | null; gte?: number | null; lt?: number | null; lte?: number | null } | null | undefined,
): SppFilter[] {
  if (!range) return [];
  const out: SppFilter[] = [];
  const { gt, gte, lt, lte } = range;
  if (gt !== null && gt !== undefined) out.push({ property, value: gt, op: '>' });
  if (gte !== null && gte !== undefined) out.push({ property, value: gte, op: '>=' });
  if (lt !== null && lt !== undefined) out.push({ property, value: lt, op: '<' });
  if (lte !== null && lte !== undefined) out.push({ property, value: lte, op: '<=' });
  return out;
}

export function translateFilter(input: JobSessionFilter | null | undefined): TranslatedFilter {
  const filter: SppFilter[] = [];
  let empty = false;
  if (!input) return { filter, empty };

  const list = (property: string, values: readonly string[] | null | undefined) => {
    if (values === null || values === undefined) return;
    if (addIn(filter, property, values)) empty = true;
  };

  if (input.status)
    list(
      'status',
      input.status.flatMap((s) => UPSTREAM_STATUS[s] ?? [s]),
    );
  list('jobId', input.jobId);
  if (input.jobName !== null && input.jobName !== undefined) {
    if (input.jobName.length === 0) throw badUserInput('Field "filter.jobName" must not be empty: expected a job name, optionally with * wildcards.', 'filter');
    filter.push({ property: 'jobName', value: input.jobName, op: '=' });
  }
  list('type', input.type);
  list('subType', input.subType);
  list('serviceId', input.serviceId);
  list('subPolicyType', input.subPolicyType);
  filter.push(...rangeFilters('start', input.start));
  // SPP's UI and sppclient send hasCatalog as the string "true" (docs/spp-api.md#filter-and-sort).
  if (input.hasCatalog !== null && input.hasCatalog !== undefined) {
    filter.push({ property: 'hasCatalog', value: String(input.hasCatalog), op: '=' });
  }
  return { filter, empty };
}
