/**
 * Filter, sort and paging semantics of `GET /api/endeavour/jobsession`, as pure functions.
 *
 * SPP documents only part of this (docs/spp-api.md#filter-and-sort and #open-questions); where the
 * docs and the public clients disagree we follow the clients, because they are what
 * works against real servers:
 *  - filter objects are ANDed (every client relies on it; the doc's "OR" wording looks wrong);
 *  - a missing `op` means `=` (sppclient sends none and gets filtered results);
 *  - `*` in a string `=` value is a glob (the UI's job-name search);
 *  - ids and timestamps arrive both as numbers and as digit strings, `hasCatalog` as "true";
 *  - what the server cannot understand (unknown properties, an `IN` whose value is not an
 *    array, unknown operators) is ignored rather than rejected (SPPMon changelog, commit 037ff1a).
 */
import type { SppFilter, SppJobSession, SppSort } from '../spp-api/types.js';

/** Any record of a simulated list (sessions, jobs, log entries): an id and named fields. */
export interface SimRecord {
  id: string;
  [key: string]: unknown;
}

/** Top-level fields of a session record, in the order SPP writes them (IBM sample record). */
export const SESSION_FIELDS: readonly string[] = [
  'links',
  'jobName',
  'jobId',
  'type',
  'typeDisplayName',
  'subType',
  'subTypeDisplayName',
  'subPolicyType',
  'subPolicyTypeDisplayName',
  'serviceId',
  'displayName',
  'start',
  'end',
  'duration',
  'status',
  'statusDisplayName',
  'indexStatus',
  'description',
  'results',
  'properties',
  'numTasks',
  'previousLastTask',
  'lastUpdate',
  'percent',
  'expiresAt',
  'expirationTime',
  'retention',
  'retentionUnit',
  'expired',
  'hasCatalog',
  'hasCondensed',
  'wormProtected',
  'rerunnable',
  'userUpdate',
  'actions',
  'statistics',
  'policySnapshot',
  'id',
];

const DEFAULT_KNOWN = new Set(SESSION_FIELDS);
const NONE: ReadonlySet<string> = new Set();

/** A query parameter SPP would reject with 400 (`XSBInvalidArgumentException`). */
export class QueryParamError extends Error {
  override name = 'QueryParamError';
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Parses a `filter` or `sort` query value: URL-decoded already, it must be a JSON array.
 * Absent (null) or empty means "no criteria". Anything else that is not a JSON array is a 400.
 */
export function parseJsonArrayParam(param: string, raw: string | null | undefined): unknown[] {
  if (raw === null || raw === undefined || raw.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new QueryParamError(param, `Invalid ${param} parameter: not valid JSON (${(error as Error).message}).`);
  }
  if (!Array.isArray(parsed)) {
    throw new QueryParamError(
      param,
      `Invalid ${param} parameter: expected a JSON array of ${param === 'sort' ? '{property, direction}' : '{property, value, op}'} objects.`,
    );
  }
  return parsed;
}

// ---------------------------------------------------------------------------------------
// Value comparison

const NUMERIC = /^-?\d+(\.\d+)?$/;

function asNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && NUMERIC.test(v)) return Number(v);
  return undefined;
}

function asBoolean(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  return undefined;
}

function isNullish(v: unknown): v is null | undefined {
  return v === null || v === undefined;
}

/**
 * Lenient equality (docs/spp-api.md#filter-and-sort): 1003 equals "1003", true equals "true";
 * otherwise strings compare exactly (case-sensitive). Objects never equal anything.
 */
export function valuesEqual(recordValue: unknown, filterValue: unknown): boolean {
  if (isNullish(filterValue)) return isNullish(recordValue);
  if (isNullish(recordValue)) return false;
  const a = asNumber(recordValue);
  const b = asNumber(filterValue);
  if (a !== undefined && b !== undefined) return a === b;
  const x = asBoolean(recordValue);
  const y = asBoolean(filterValue);
  if (x !== undefined && y !== undefined) return x === y;
  if (isScalar(recordValue) && isScalar(filterValue)) return String(recordValue) === String(filterValue);
  return false;
}

function isScalar(v: unknown): v is string | number | boolean {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

/**
 * Ordering for the relational operators: numerically when both sides are numeric,
 * numeric strings before other strings and other strings by code unit (as `sort` orders them),
 * false < true; undefined when not comparable
 * (null/missing, objects, or mixed kinds) so that the operator does not match.
 */
export function compareForFilter(recordValue: unknown, filterValue: unknown): number | undefined {
  if (isNullish(recordValue) || isNullish(filterValue)) return undefined;
  const a = asNumber(recordValue);
  const b = asNumber(filterValue);
  if (a !== undefined && b !== undefined) return a < b ? -1 : a > b ? 1 : 0;
  const x = asBoolean(recordValue);
  const y = asBoolean(filterValue);
  if (x !== undefined && y !== undefined) return Number(x) - Number(y);
  if (typeof recordValue === 'string' && typeof filterValue === 'string') {
    // Two strings of which one is numeric: the order `sort` uses (numbers before other strings),
    // so that "after this value" filters agree with the sorted list (keyset paging relies on it).
    if (a !== undefined) return -1;
    if (b !== undefined) return 1;
    return recordValue < filterValue ? -1 : recordValue > filterValue ? 1 : 0;
  }
  return undefined;
}

/** `*` is "any run of characters"; everything else is literal and case-sensitive. */
export function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 's');
}

/**
 * Sort order: nulls/missing are the smallest values (first in ASC, last in DESC);
 * numbers and digit strings compare numerically (13-digit ids sort as numbers);
 * mixed kinds order null < boolean < number < string < object.
 */
export function compareSortValues(a: unknown, b: unknown): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case 0:
      return 0;
    case 1:
      return Number(a) - Number(b);
    case 2: {
      const x = asNumber(a)!;
      const y = asNumber(b)!;
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 3: {
      const x = a as string;
      const y = b as string;
      return x < y ? -1 : x > y ? 1 : 0;
    }
    default: {
      const x = JSON.stringify(a);
      const y = JSON.stringify(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
  }
}

function rank(v: unknown): number {
  if (isNullish(v)) return 0;
  if (typeof v === 'boolean') return 1;
  if (asNumber(v) !== undefined) return 2;
  if (typeof v === 'string') return 3;
  return 4;
}

// ---------------------------------------------------------------------------------------
// Filters

export type RangeUnit = 'hour' | 'day' | 'week' | 'month';

export const RANGE_UNIT_MS: Readonly<Record<RangeUnit, number>> = {
  hour: 3_600_000,
  day: 86_400_000,
  week: 7 * 86_400_000,
  // Calendar months vary; the stats/time-window UI only offers coarse windows, 30 days is close enough.
  month: 30 * 86_400_000,
};

export interface CompiledFilter {
  /** True when the record passes every effective (non-ignored) criterion. */
  test(record: SimRecord): boolean;
  /** Canonical form of the effective criteria (excluding the time window), usable as a cache key. */
  readonly key: string;
  /** The `rangeunit`/`range` time window, when both were given and valid. */
  readonly range?: { unit: RangeUnit; amount: number };
  /** The criteria that took effect, normalised (op filled in). */
  readonly effective: SppFilter[];
  /** How many filter objects were ignored (unknown property, wrong value shape, unknown op). */
  readonly ignored: number;
}

type Predicate = (record: SimRecord) => boolean;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseRangeUnit(v: unknown): RangeUnit | undefined {
  if (typeof v !== 'string') return undefined;
  const unit = v.trim().toLowerCase().replace(/s$/, '');
  return unit in RANGE_UNIT_MS ? (unit as RangeUnit) : undefined;
}

/**
 * Turns the parsed `filter` array into one predicate. Never throws: elements it cannot use
 * are counted in `ignored`, which is what SPP does with filters it does not understand.
 */
export function compileFilters(
  filters: readonly unknown[],
  knownProperties: ReadonlySet<string> = DEFAULT_KNOWN,
  ignoredProperties: ReadonlySet<string> = NONE,
): CompiledFilter {
  const predicates: Predicate[] = [];
  const effective: SppFilter[] = [];
  let ignored = 0;
  let rangeUnit: RangeUnit | undefined;
  let rangeAmount: number | undefined;
  let rangeSeen = 0;

  for (const item of filters) {
    if (!isRecord(item) || typeof item.property !== 'string') {
      ignored++;
      continue;
    }
    const property = item.property;
    const value = item.value;
    // Pseudo-filters of the time-window UI (docs/spp-api.md#filter-and-sort).
    if (property === 'rangeunit') {
      rangeSeen++;
      rangeUnit = parseRangeUnit(value);
      continue;
    }
    if (property === 'range') {
      rangeSeen++;
      const n = asNumber(value);
      rangeAmount = n !== undefined && n > 0 ? n : undefined;
      continue;
    }
    if (!knownProperties.has(property) || ignoredProperties.has(property)) {
      ignored++;
      continue;
    }
    const rawOp = item.op === undefined || item.op === null || item.op === '' ? '=' : item.op;
    const op = typeof rawOp === 'string' ? rawOp.trim().toUpperCase() : undefined;
    const predicate = compileOne(property, op, value);
    if (predicate === undefined) {
      ignored++;
      continue;
    }
    predicates.push(predicate);
    effective.push({ property, value: value as SppFilter['value'], op: op as SppFilter['op'] });
  }

  const range = rangeUnit !== undefined && rangeAmount !== undefined ? { unit: rangeUnit, amount: rangeAmount } : undefined;
  if (rangeSeen > 0 && range === undefined) ignored += rangeSeen;

  const test: Predicate =
    predicates.length === 0
      ? () => true
      : predicates.length === 1
        ? predicates[0]!
        : (record) => {
            for (const p of predicates) if (!p(record)) return false;
            return true;
          };
  return { test, key: JSON.stringify(effective), ...(range ? { range } : {}), effective, ignored };
}

function compileOne(property: string, op: string | undefined, value: unknown): Predicate | undefined {
  const get = (r: SimRecord): unknown => r[property];
  switch (op) {
    case '=': {
      if (value === undefined || Array.isArray(value) || isRecord(value)) return undefined;
      if (typeof value === 'string' && value.includes('*')) {
        const re = globToRegExp(value);
        return (r) => {
          const v = get(r);
          return (typeof v === 'string' || typeof v === 'number') && re.test(String(v));
        };
      }
      return (r) => valuesEqual(get(r), value);
    }
    case '<':
    case '>':
    case '<=':
    case '>=': {
      if (!isScalar(value)) return undefined;
      const accept = op === '<' ? (c: number) => c < 0 : op === '>' ? (c: number) => c > 0 : op === '<=' ? (c: number) => c <= 0 : (c: number) => c >= 0;
      return (r) => {
        const c = compareForFilter(get(r), value);
        return c !== undefined && accept(c);
      };
    }
    case 'IN': {
      // SPPMon sent `"value":"[\"SUMMARY\"]"` (a string) and the server silently did not filter.
      if (!Array.isArray(value)) return undefined;
      const values: unknown[] = value;
      return (r) => {
        const v = get(r);
        for (const candidate of values) if (valuesEqual(v, candidate)) return true;
        return false;
      };
    }
    default:
      return undefined;
  }
}

/** Epoch ms at which the `rangeunit`/`range` window starts, relative to `now`. */
export function rangeCutoff(range: { unit: RangeUnit; amount: number }, now: number): number {
  return now - range.amount * RANGE_UNIT_MS[range.unit];
}

/** Applies a compiled filter, including the time window (`start >= now - range`). */
export function filterSessions(records: readonly SppJobSession[], filter: CompiledFilter, now: number): SppJobSession[] {
  const cutoff = filter.range ? rangeCutoff(filter.range, now) : undefined;
  return records.filter((r) => filter.test(r) && (cutoff === undefined || r.start >= cutoff));
}

// ---------------------------------------------------------------------------------------
// Sort

/**
 * Normalises the parsed `sort` array. Elements without a string `property` are ignored;
 * `direction` is case-insensitive and defaults to ASC (the UI's default, docs/spp-api.md#filter-and-sort).
 * With no usable key the documented default applies: `start` ascending (IBM's REST API reference, docs/spp-api.md#listing-job-sessions).
 */
export function normalizeSorts(sorts: readonly unknown[], fallback: SppSort = { property: 'start', direction: 'ASC' }): SppSort[] {
  const out: SppSort[] = [];
  for (const item of sorts) {
    if (!isRecord(item) || typeof item.property !== 'string' || item.property === '') continue;
    const dir = typeof item.direction === 'string' && item.direction.trim().toUpperCase() === 'DESC' ? 'DESC' : 'ASC';
    out.push({ property: item.property, direction: dir });
  }
  return out.length > 0 ? out : [fallback];
}

/**
 * Sorts by the given keys in order, then by `id` ascending so that equal keys (several
 * sessions starting in the same millisecond) still page deterministically (docs/spp-api.md#open-questions).
 * Returns a new array.
 */
export function sortSessions<R extends SimRecord>(records: readonly R[], sorts: readonly SppSort[]): R[] {
  const keys = sorts.map((s) => ({ property: s.property, sign: s.direction === 'DESC' ? -1 : 1 }));
  return [...records].sort((a, b) => {
    for (const k of keys) {
      const c = compareSortValues(a[k.property], b[k.property]);
      if (c !== 0) return c * k.sign;
    }
    return compareSortValues(a.id, b.id);
  });
}

// ---------------------------------------------------------------------------------------
// Paging

export interface PageWindow {
  /** 1-based page number, floor(pageStartIndex / pageSize) + 1. */
  page: number;
  /** Offsets for the paging links; undefined when that link is absent. */
  prevStart?: number;
  nextStart?: number;
  lastStart: number;
}

/** Where the paging links point, for `count` matching records. */
export function pageWindow(count: number, pageStartIndex: number, pageSize: number): PageWindow {
  const page = Math.floor(pageStartIndex / pageSize) + 1;
  const lastStart = count > 0 ? Math.floor((count - 1) / pageSize) * pageSize : 0;
  const w: PageWindow = { page, lastStart };
  if (pageStartIndex > 0) w.prevStart = Math.max(0, pageStartIndex - pageSize);
  if (pageStartIndex + pageSize < count) w.nextStart = pageStartIndex + pageSize;
  return w;
}

/**
 * Parses `pageStartIndex`/`pageSize` the way the simulator's contract says: absent means the
 * default, anything that is not a whole number in range is a 400 (docs/spp-api.md#open-questions leaves
 * this open; rejecting is the safer imitation for a gateway that must not send garbage).
 */
export function parseIntParam(param: string, raw: string | null, fallback: number, min: number): number {
  if (raw === null) return fallback;
  const trimmed = raw.trim();
  if (!/^-?\d+$/.test(trimmed)) {
    throw new QueryParamError(param, `Invalid ${param} parameter "${raw}": expected a whole number.`);
  }
  const n = Number(trimmed);
  if (!Number.isSafeInteger(n) || n < min) {
    throw new QueryParamError(param, `Invalid ${param} parameter "${raw}": must be at least ${min}.`);
  }
  return n;
}
