/**
 * GraphQL `orderBy` → SPP's `sort` array, in the same order (spp-api.md §3 "Sort").
 *
 * The default is START DESC, newest first, as SPP's own UI lists sessions. SPP's order
 * for equal keys is undocumented (spp-api.md §8 q8), so the session id is appended as a
 * final key: the order becomes total, which offset paging and keyset cursors both need.
 */
import { badUserInput } from '../errors.js';
import type { JobSessionOrder, JobSessionOrderField } from '../__generated__/resolvers-types.js';
import type { SppSort } from '../upstream/types.js';

export const SORT_PROPERTY: Record<JobSessionOrderField, string> = {
  START: 'start',
  END: 'end',
  DURATION: 'duration',
  JOB_NAME: 'jobName',
  STATUS: 'status',
  TYPE: 'type',
};

/** Properties that are null on some records (sessions still running); nulls sort as the smallest value. */
export const NULLABLE_SORT_PROPERTIES = new Set(['end', 'duration']);

export const ID_PROPERTY = 'id';

export const DEFAULT_ORDER: readonly JobSessionOrder[] = [{ field: 'START', direction: 'DESC' }];

export function translateOrder(orderBy: readonly JobSessionOrder[] | null | undefined): SppSort[] {
  const given = orderBy && orderBy.length > 0 ? orderBy : DEFAULT_ORDER;
  const seen = new Set<string>();
  const sort: SppSort[] = [];
  for (const { field, direction } of given) {
    if (seen.has(field)) {
      throw badUserInput(`Argument "orderBy" names ${field} more than once: expected each field at most once.`, 'orderBy');
    }
    seen.add(field);
    sort.push({ property: SORT_PROPERTY[field], direction: direction ?? 'ASC' });
  }
  sort.push({ property: ID_PROPERTY, direction: sort[sort.length - 1]!.direction });
  return sort;
}
