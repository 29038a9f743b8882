/**
 * What the paging engine needs to know about one offset-paged SPP list. The engine serves
 * any list from this description alone (job sessions, job log entries, jobs: src/lists/),
 * so a new list is a description plus its resolvers, never a copy of paging code.
 */
import type { SppRecord, SppSort } from '../spp-api/types.js';

export interface SortKey {
  /** Whether records may lack a value (a running session's `end`, a job without schedule's `nextFireTime`): nulls sort smallest. */
  nullable: boolean;
}

export interface ListDescription<R extends SppRecord = SppRecord> {
  /** The GraphQL field that reads the list, for messages: `jobSessions`, `log`, `jobs`. */
  readonly name: string;
  /** SPP path under `/api`, e.g. `endeavour/jobsession`. */
  readonly endpoint: string;
  /** The key of SPP's answer that holds the records: `sessions`, `logs`, `jobs`. */
  readonly recordsKey: string;
  /** The record's id property: unique, the final tie-breaker of every order. */
  readonly id: string;
  /** The properties SPP sorts this list by (the id excluded), with their nullability. */
  readonly sortKeys: Readonly<Record<string, SortKey>>;
  /** The order without `orderBy`, without the id tie-breaker. */
  readonly defaultOrder: readonly SppSort[];
  /** Checks one record of SPP's answer and normalises it in place (src/upstream/validate.ts); throws when it has the wrong shape. */
  readonly parse: (record: unknown) => R;
}

/** Whether `property` may be null on records of `list` (the id never is). */
export function isNullable(list: ListDescription<SppRecord>, property: string): boolean {
  return list.sortKeys[property]?.nullable === true;
}

/**
 * `sort` made total: the id appended as the final key, in the direction of the last key
 * (unless it is the last key already).
 * SPP's order for equal keys is undocumented (docs/spp-api.md#open-questions), and offset paging and keyset
 * cursors both need a total order. Without keys, the list's default order.
 */
export function totalOrder(list: ListDescription<SppRecord>, sort: readonly SppSort[]): SppSort[] {
  const keys = sort.length > 0 ? [...sort] : [...list.defaultOrder];
  if (keys.length === 0) return [{ property: list.id, direction: 'ASC' }];
  if (keys[keys.length - 1]!.property === list.id) return keys;
  return [...keys, { property: list.id, direction: keys[keys.length - 1]!.direction }];
}
