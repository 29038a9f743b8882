import { describe, expect, it } from 'vitest';
import type { SppJobSession } from '../../src/spp-api/types.js';
import {
  QueryParamError,
  compareSortValues,
  compileFilters,
  filterSessions,
  globToRegExp,
  normalizeSorts,
  pageWindow,
  parseIntParam,
  parseJsonArrayParam,
  sortSessions,
  valuesEqual,
} from '../../src/simulator/query.js';

function rec(id: string, fields: Partial<SppJobSession> = {}): SppJobSession {
  return { id, jobName: 'job', jobId: '1001', type: 'protection', start: 0, status: 'COMPLETED', ...fields };
}

const R = [
  rec('1000000000001', { jobName: 'vmware_Gold', jobId: '1005', start: 100, duration: 50, hasCatalog: true, status: 'COMPLETED' }),
  rec('1000000000002', { jobName: 'vmware_Silver', jobId: '1006', start: 200, duration: null, hasCatalog: false, status: 'RUNNING' }),
  rec('1000000000003', { jobName: 'sql_Gold', jobId: '1009', start: 200, duration: 10, hasCatalog: true, status: 'FAILED' }),
  rec('1000000000004', { jobName: 'Maintenance', jobId: '1004', type: 'maintenance', start: 300, duration: 70, hasCatalog: false, status: 'PARTIAL' }),
];

const match = (filters: unknown[], now = 0): string[] => filterSessions(R, compileFilters(filters), now).map((r) => r.id.slice(-1));

describe('filter semantics (pure)', () => {
  it('equality with a missing op means "="', () => {
    expect(match([{ property: 'jobName', value: 'sql_Gold' }])).toEqual(['3']);
  });

  it('compares numbers and digit strings as the same value', () => {
    expect(match([{ property: 'jobId', value: 1005, op: '=' }])).toEqual(['1']);
    expect(match([{ property: 'start', value: '200', op: '=' }])).toEqual(['2', '3']);
    expect(match([{ property: 'jobId', value: ['1004', 1009], op: 'IN' }])).toEqual(['3', '4']);
  });

  it('compares booleans and "true"/"false" strings as equal', () => {
    expect(match([{ property: 'hasCatalog', value: 'true' }])).toEqual(['1', '3']);
    expect(match([{ property: 'hasCatalog', value: false }])).toEqual(['2', '4']);
  });

  it('applies < > <= >= numerically, even when the value is a digit string', () => {
    expect(match([{ property: 'start', value: 200, op: '<' }])).toEqual(['1']);
    expect(match([{ property: 'start', value: '200', op: '<=' }])).toEqual(['1', '2', '3']);
    expect(match([{ property: 'start', value: 200, op: '>' }])).toEqual(['4']);
    expect(match([{ property: 'start', value: '200', op: '>=' }])).toEqual(['2', '3', '4']);
    // "1000000000010" > "9" numerically although not as strings
    expect(match([{ property: 'id', value: '999', op: '>' }])).toEqual(['1', '2', '3', '4']);
  });

  it('never matches null or missing fields with a comparison operator', () => {
    expect(match([{ property: 'duration', value: 0, op: '>=' }])).toEqual(['1', '3', '4']);
    expect(match([{ property: 'duration', value: 1000, op: '<' }])).toEqual(['1', '3', '4']);
  });

  it('ANDs several filter objects', () => {
    expect(
      match([
        { property: 'start', value: 200, op: '>=' },
        { property: 'hasCatalog', value: true, op: '=' },
      ]),
    ).toEqual(['3']);
    expect(
      match([
        { property: 'start', value: 150, op: '>' },
        { property: 'start', value: 250, op: '<' },
        { property: 'status', value: ['FAILED', 'PARTIAL'], op: 'IN' },
      ]),
    ).toEqual(['3']);
  });

  it('treats * in an = string value as a case-sensitive wildcard for any run of characters', () => {
    expect(match([{ property: 'jobName', value: 'vmware_*' }])).toEqual(['1', '2']);
    expect(match([{ property: 'jobName', value: '*Gold' }])).toEqual(['1', '3']);
    expect(match([{ property: 'jobName', value: '*gold*' }])).toEqual([]);
    expect(match([{ property: 'jobName', value: 'v*G*d' }])).toEqual(['1']);
    expect(match([{ property: 'jobName', value: 'vmware_Gol.' }])).toEqual([]);
  });

  it('ignores unknown properties instead of matching nothing', () => {
    const f = compileFilters([{ property: 'noSuchField', value: 'x', op: '=' }]);
    expect(f.ignored).toBe(1);
    expect(
      match([
        { property: 'noSuchField', value: 'x', op: '=' },
        { property: 'jobName', value: 'sql_Gold' },
      ]),
    ).toEqual(['3']);
  });

  it('ignores an IN whose value is not an array (SPPMon changelog)', () => {
    expect(match([{ property: 'status', value: '["FAILED"]', op: 'IN' }])).toEqual(['1', '2', '3', '4']);
    expect(compileFilters([{ property: 'status', value: 'FAILED', op: 'IN' }]).ignored).toBe(1);
  });

  it('matches nothing for an empty IN list', () => {
    expect(match([{ property: 'status', value: [], op: 'IN' }])).toEqual([]);
  });

  it('ignores unknown operators and non-object entries', () => {
    const f = compileFilters([{ property: 'status', value: 'FAILED', op: 'LIKE' }, 'junk', null, { value: 1 }]);
    expect(f.ignored).toBe(4);
    expect(f.effective).toEqual([]);
  });

  it('turns rangeunit + range into start >= now - N units', () => {
    const hour = 3_600_000;
    const data = [rec('1', { start: 10 * hour }), rec('2', { start: 20 * hour }), rec('3', { start: 23 * hour })];
    const f = compileFilters([
      { property: 'rangeunit', value: 'hour', op: '=' },
      { property: 'range', value: 4, op: '=' },
    ]);
    expect(f.range).toEqual({ unit: 'hour', amount: 4 });
    expect(filterSessions(data, f, 24 * hour).map((r) => r.id)).toEqual(['2', '3']);
    const days = compileFilters([
      { property: 'rangeunit', value: 'day' },
      { property: 'range', value: '1' },
    ]);
    expect(filterSessions(data, days, 24 * hour).map((r) => r.id)).toEqual(['1', '2', '3']);
  });

  it('compares a numeric string with another string as sort orders them: numbers first (property-test seed 309910122)', () => {
    const named = ['9', '2024', '10_daily', 'Maintenance'].map((jobName, i) => ({ id: String(i), jobName }) as unknown as SppJobSession);
    const after2024 = compileFilters([{ property: 'jobName', value: '2024', op: '>' }]);
    expect(named.filter((r) => after2024.test(r)).map((r) => r.jobName)).toEqual(['10_daily', 'Maintenance']);
    expect(sortSessions(named, [{ property: 'jobName', direction: 'ASC' }]).map((r) => r.jobName)).toEqual(['9', '2024', '10_daily', 'Maintenance']);
  });

  it('ignores a range without a valid rangeunit', () => {
    const f = compileFilters([{ property: 'range', value: 4 }]);
    expect(f.range).toBeUndefined();
    expect(f.ignored).toBe(1);
  });

  it('produces the same cache key for the same effective criteria', () => {
    expect(compileFilters([{ property: 'jobName', value: 'x' }]).key).toBe(
      compileFilters([
        { property: 'jobName', value: 'x', op: '=' },
        { property: 'bogus', value: 1 },
      ]).key,
    );
  });
});

describe('value helpers (pure)', () => {
  it('valuesEqual: null only equals null, objects equal nothing', () => {
    expect(valuesEqual(null, null)).toBe(true);
    expect(valuesEqual(undefined, null)).toBe(true);
    expect(valuesEqual(null, 'null')).toBe(false);
    expect(valuesEqual({ a: 1 }, '[object Object]')).toBe(false);
    expect(valuesEqual('1.50', 1.5)).toBe(true);
  });

  it('globToRegExp escapes regex metacharacters', () => {
    expect(globToRegExp('a.b*').test('a.bcd')).toBe(true);
    expect(globToRegExp('a.b*').test('axbcd')).toBe(false);
    expect(globToRegExp('(x)').test('(x)')).toBe(true);
  });

  it('compareSortValues puts nulls first and compares digit strings numerically', () => {
    // (wrapped: Array#sort moves bare undefined to the end without asking the comparator)
    const sorted = [3, null, '10', 2, undefined].map((v) => ({ v })).sort((a, b) => compareSortValues(a.v, b.v));
    expect(sorted.map((x) => x.v)).toEqual([null, undefined, 2, 3, '10']);
    expect(compareSortValues('b', 'a')).toBeGreaterThan(0);
    expect(compareSortValues(false, true)).toBeLessThan(0);
  });
});

describe('sort semantics (pure)', () => {
  it('defaults to start ASC when no usable key is given', () => {
    expect(normalizeSorts([])).toEqual([{ property: 'start', direction: 'ASC' }]);
    expect(normalizeSorts([{ direction: 'DESC' }])).toEqual([{ property: 'start', direction: 'ASC' }]);
  });

  it('accepts lower-case directions and defaults a missing one to ASC', () => {
    expect(normalizeSorts([{ property: 'jobName', direction: 'desc' }, { property: 'start' }])).toEqual([
      { property: 'jobName', direction: 'DESC' },
      { property: 'start', direction: 'ASC' },
    ]);
  });

  it('sorts by several keys in order and falls back to id ASC on ties', () => {
    const byStartDesc = sortSessions([...R].reverse(), [{ property: 'start', direction: 'DESC' }]);
    expect(byStartDesc.map((r) => r.id.slice(-1))).toEqual(['4', '2', '3', '1']);
    const twoKeys = sortSessions(R, [
      { property: 'hasCatalog', direction: 'DESC' },
      { property: 'start', direction: 'DESC' },
    ]);
    expect(twoKeys.map((r) => r.id.slice(-1))).toEqual(['3', '1', '4', '2']);
  });

  it('orders nulls first in ASC and last in DESC', () => {
    expect(sortSessions(R, [{ property: 'duration', direction: 'ASC' }]).map((r) => r.id.slice(-1))).toEqual(['2', '3', '1', '4']);
    expect(sortSessions(R, [{ property: 'duration', direction: 'DESC' }]).map((r) => r.id.slice(-1))).toEqual(['4', '1', '3', '2']);
  });

  it('does not modify its input', () => {
    const input = [...R].reverse();
    sortSessions(input, [{ property: 'start', direction: 'ASC' }]);
    expect(input.map((r) => r.id.slice(-1))).toEqual(['4', '3', '2', '1']);
  });
});

describe('paging and parameter parsing (pure)', () => {
  it('computes page numbers and link offsets', () => {
    expect(pageWindow(250, 0, 100)).toEqual({ page: 1, nextStart: 100, lastStart: 200 });
    expect(pageWindow(250, 150, 100)).toEqual({ page: 2, prevStart: 50, lastStart: 200 });
    expect(pageWindow(251, 150, 100)).toEqual({ page: 2, prevStart: 50, nextStart: 250, lastStart: 200 });
    expect(pageWindow(250, 200, 100)).toEqual({ page: 3, prevStart: 100, lastStart: 200 });
    expect(pageWindow(0, 0, 100)).toEqual({ page: 1, lastStart: 0 });
  });

  it('rejects non-integer and out-of-range numbers', () => {
    expect(parseIntParam('pageSize', null, 100, 1)).toBe(100);
    expect(parseIntParam('pageSize', ' 7 ', 100, 1)).toBe(7);
    expect(() => parseIntParam('pageSize', '1.5', 100, 1)).toThrow(QueryParamError);
    expect(() => parseIntParam('pageSize', '0', 100, 1)).toThrow(/at least 1/);
    expect(() => parseIntParam('pageStartIndex', '-1', 0, 0)).toThrow(/pageStartIndex/);
    expect(() => parseIntParam('pageSize', 'abc', 100, 1)).toThrow(/whole number/);
  });

  it('requires filter and sort to be JSON arrays', () => {
    expect(parseJsonArrayParam('filter', null)).toEqual([]);
    expect(parseJsonArrayParam('filter', '[{"property":"a","value":1}]')).toHaveLength(1);
    expect(() => parseJsonArrayParam('filter', '[{')).toThrow(/not valid JSON/);
    expect(() => parseJsonArrayParam('sort', '{"property":"start"}')).toThrow(/JSON array/);
  });
});
