import { describe, expect, it } from 'vitest';
import { DateTime, isoDateTime } from '../../src/resolvers/scalars.js';

describe('isoDateTime', () => {
  it('writes exactly what toISOString writes, across days, edges of the day and of its range', () => {
    const values = [
      0, 1, 999, 1000, 59_999, 60_000, 3_599_999, 3_600_000, 86_399_999, 86_400_000, 951_782_400_000 /* 2000-02-29 */, 1_564_688_656_142, 1_764_000_000_000,
      253_402_300_799_999 /* 9999-12-31T23:59:59.999Z */,
    ];
    // a page sorted newest first, a few minutes to a few days apart, as SPP's are
    for (let ms = 1_764_000_000_000, i = 0; i < 5_000; i++, ms -= 37_123 + (i % 7) * 9_876_543) values.push(ms);
    for (const ms of values) expect(isoDateTime(ms)).toBe(new Date(ms).toISOString());
  });

  it('falls back to toISOString outside years 1970-9999 and for fractional milliseconds', () => {
    for (const ms of [-1, -86_400_001, 253_402_300_800_000, 1_764_000_000_000.5]) expect(isoDateTime(ms)).toBe(new Date(ms).toISOString());
  });

  it('is what DateTime serialises epoch milliseconds to', () => {
    expect(DateTime.serialize(1_564_688_656_142)).toBe('2019-08-01T19:44:16.142Z');
    expect(DateTime.serialize('1564688656142')).toBe('2019-08-01T19:44:16.142Z');
    expect(() => DateTime.serialize('yesterday')).toThrow(/DateTime cannot serialize "yesterday": expected epoch milliseconds/);
  });
});
