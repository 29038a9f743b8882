/**
 * GraphQL `orderBy` → SPP's `sort` array, in the same order (docs/spp-api.md#filter-and-sort), for any list.
 *
 * The default is START DESC, newest first, as SPP's own UI lists sessions. SPP's order
 * for equal keys is undocumented (docs/spp-api.md#open-questions), so the session id is appended as a
 * final key: the order becomes total, which offset paging and keyset cursors both need.
 */
import { badUserInput } from '../errors.js';
import type { JobSessionOrder, JobSessionOrderField } from '../__generated__/resolvers-types.js';
import type { SppSort } from '../spp-api/types.js';

export const SORT_PROPERTY: Record<JobSessionOrderField, string> = {
  START: 'start',
  END: 'end',
  DURATION: 'duration',
  JOB_NAME: 'jobName',
  STATUS: 'status',
  TYPE: 'type',
};

export const ID_PROPERTY = 'id';

export const DEFAULT_ORDER: readonly JobSessionOrder[] = [{ field: 'START', direction: 'DESC' }];

/** One `orderBy` entry of any list: a GraphQL enum field and a direction. */
export interface OrderInput<F extends string> {
  field: F;
  direction?: 'ASC' | 'DESC' | null;
}

/**
 * Any list's `orderBy` → SPP's `sort`, keys in the given order (the list's default when none),
 * each field at most once, the id appended as the final tie-breaker.
 */
export function translateOrderOf<F extends string>(
  orderBy: readonly OrderInput<F>[] | null | undefined,
  properties: Readonly<Record<F, string>>,
  defaultOrder: readonly OrderInput<F>[],
  idProperty = ID_PROPERTY,
): SppSort[] {
  const given = orderBy && orderBy.length > 0 ? orderBy : defaultOrder;
  const seen = new Set<string>();
  const sort: SppSort[] = [];
  for (const { field, direction } of given) {
    if (seen.has(field)) {
      throw badUserInput(`Argument "orderBy" names ${field} more than once: expected each field at most once.`, 'orderBy');
    }
    seen.add(field);
    sort.push({ property: properties[field], direction: direction ?? 'ASC' });
  }
  sort.push({ property: idProperty, direction: sort[sort.length - 1]!.direction });
  return sort;
}

/** Job sessions' `orderBy` (default START DESC). */
export function translateOrder(orderBy: readonly JobSessionOrder[] | null | undefined): SppSort[] {
  return translateOrderOf(orderBy, SORT_PROPERTY, DEFAULT_ORDER);
}
