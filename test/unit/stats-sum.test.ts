import { describe, expect, it } from 'vitest';
import { serverStats, sumStats, STATS_KEYS } from '../../src/lists/stats.js';

const zero = Object.fromEntries(STATS_KEYS.map((key) => [key, 0]));

describe('sumStats', () => {
  it('adds every count, spans the windows, and recomputes successPercent from the sums (not an average of percentages)', () => {
    const a = serverStats('a', {
      ...zero,
      start: 100,
      end: 900,
      totalRuns: 10,
      successful: 9,
      failed: 1,
      warning: 0,
      running: 0,
      successPercent: 90,
      COMPLETED: 9,
      FAILED: 1,
    });
    const b = serverStats('b', {
      ...zero,
      start: 50,
      end: 950,
      totalRuns: 90,
      successful: 45,
      failed: 40,
      warning: 3,
      running: 2,
      successPercent: 50,
      COMPLETED: 45,
      FAILED: 40,
      PARTIAL: 3,
      RUNNING: 2,
    });
    const sum = sumStats([a, b]);
    expect(sum.server).toBeNull();
    expect(sum.byServer).toEqual([a, b]);
    expect(sum.raw).toEqual([
      { server: 'a', stats: a.stats },
      { server: 'b', stats: b.stats },
    ]);
    // (90 + 50) / 2 would be 70; the sums say 54 of 100.
    expect(sum.stats).toEqual({
      ...zero,
      start: 50,
      end: 950,
      totalRuns: 100,
      successful: 54,
      failed: 41,
      warning: 3,
      running: 2,
      successPercent: 54,
      COMPLETED: 54,
      FAILED: 41,
      PARTIAL: 3,
      RUNNING: 2,
    });
  });

  it('reads an absent count as 0, and says 0 percent without runs', () => {
    const sum = sumStats([serverStats('a', { totalRuns: 0 }), serverStats('b', {})]);
    expect(sum.stats).toMatchObject({ totalRuns: 0, successful: 0, COMPLETED: 0, successPercent: 0, start: null, end: null });
  });

  it('gives one server its own figures, its name and itself as its only byServer entry', () => {
    const one = serverStats('a', { totalRuns: 3 });
    expect(one).toMatchObject({ server: 'a', stats: { totalRuns: 3 }, raw: { totalRuns: 3 } });
    expect(one.byServer).toEqual([one]);
  });
});
