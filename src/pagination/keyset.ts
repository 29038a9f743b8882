/**
 * Pure order arithmetic on SPP sort arrays: comparing records, reversing an order, and
 * expressing "the records after this position" as SPP filters.
 *
 * SPP's filter objects can only be ANDed (docs/spp-api.md#filter-and-sort), so the lexicographic condition
 * (k1 > x1) OR (k1 = x1 AND k2 > x2) OR ... cannot be sent as one query. It is split into
 * one AND-only query per sort key ("levels"), whose results, concatenated from the most
 * specific level to the least, are exactly the records after the position, in order.
 * The levels are independent and are fetched in parallel.
 *
 * Nulls (a running session's `end`, a job's missing `nextFireTime`) sort as the smallest
 * value, as SPP's simulator does; comparison operators never match null, so nulls get levels
 * of their own, for the properties the list description marks nullable.
 */
import type { SppFilter, SppRecord, SppSort } from '../spp-api/types.js';
import type { SortKeyValue } from './cursor.js';

export function sortKeyOf(record: SppRecord, property: string): SortKeyValue {
  const value = record[property];
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  // SPP records are JSON: anything else is an object or array, compared by its JSON text.
  return JSON.stringify(value);
}

/** The cursor keys of a record: its values of every sort key but the final id tie-breaker. */
export function keysOf(record: SppRecord, sort: readonly SppSort[]): SortKeyValue[] {
  return sort.slice(0, -1).map((s) => sortKeyOf(record, s.property));
}

const NUMERIC = /^-?\d+(\.\d+)?$/;

// Module level, not a closure per call: under tsx (`npm start`) every closure gets its name set
// when created, and compareValues runs hundreds of times per merged page (bench/multi-server.ts).
function numeric(v: SortKeyValue): number | undefined {
  return typeof v === 'number' ? v : typeof v === 'string' && NUMERIC.test(v) ? Number(v) : undefined;
}

/**
 * Compares two key values as SPP sorts them: nulls smallest, numbers and numeric strings
 * numerically and before every other string, other strings by code unit. A total order:
 * comparing "9" with "10_daily" by text but "9" with "10" by number would not be transitive,
 * and the keyset levels would skip records (property-test seed 309910122).
 */
export function compareValues(a: SortKeyValue, b: SortKeyValue): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== undefined && nb !== undefined) return na < nb ? -1 : na > nb ? 1 : 0;
  if (na !== undefined && typeof b === 'string') return -1;
  if (nb !== undefined && typeof a === 'string') return 1;
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** Compares positions (key values + id) under `sort`, whose last entry is the id tie-breaker. */
export function comparePositions(a: { keys: SortKeyValue[]; id: string }, b: { keys: SortKeyValue[]; id: string }, sort: readonly SppSort[]): number {
  for (let i = 0; i < sort.length; i++) {
    const last = i === sort.length - 1;
    const va = last ? a.id : (a.keys[i] ?? null);
    const vb = last ? b.id : (b.keys[i] ?? null);
    const c = compareValues(va, vb);
    if (c !== 0) return sort[i]!.direction === 'DESC' ? -c : c;
  }
  return 0;
}

export function reverseSort(sort: readonly SppSort[]): SppSort[] {
  return sort.map((s) => ({ property: s.property, direction: s.direction === 'ASC' ? 'DESC' : 'ASC' }));
}

/** Epoch-ms and duration values are never below this: "not null" for a numeric key (every nullable key of SPP's lists is numeric). */
const NUMERIC_FLOOR = -1;

/**
 * The AND-only filter sets whose concatenated results (in this order, each sorted by `sort`)
 * are the records strictly after `position` under `sort`; with `inclusive`, the record at
 * `position` itself too (the id level compares with `>=`/`<=`). `nullable` says which
 * properties may be null (from the list description).
 */
export function levelsAfter(
  position: { keys: SortKeyValue[]; id: string },
  sort: readonly SppSort[],
  inclusive = false,
  nullable: (property: string) => boolean = () => false,
): SppFilter[][] {
  const values = sort.map((_, i) => (i === sort.length - 1 ? position.id : (position.keys[i] ?? null)));
  const levels: SppFilter[][] = [];
  for (let depth = sort.length - 1; depth >= 0; depth--) {
    const prefix: SppFilter[] = [];
    for (let i = 0; i < depth; i++) {
      const v = values[i]!;
      // "= null" matches missing and null values (MongoDB semantics; the simulator follows them).
      prefix.push({ property: sort[i]!.property, value: v, op: '=' });
    }
    const { property, direction } = sort[depth]!;
    const value = values[depth]!;
    const mayBeNull = nullable(property);
    const orEqual = inclusive && depth === sort.length - 1;
    if (direction === 'ASC') {
      // After x in ascending order: greater values; after null: every non-null value.
      levels.push([...prefix, value === null ? { property, value: NUMERIC_FLOOR, op: '>' } : { property, value, op: orEqual ? '>=' : '>' }]);
    } else if (value !== null) {
      // After x in descending order: smaller values, then the nulls, which sort last.
      levels.push([...prefix, { property, value, op: orEqual ? '<=' : '<' }]);
      if (mayBeNull) levels.push([...prefix, { property, value: null, op: '=' }]);
    }
  }
  return levels;
}
