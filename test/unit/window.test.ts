import { describe, expect, it } from 'vitest';
import { createWindowReader, readWindow, totalIsConsistent, type PageFetcher } from '../../src/pagination/window.js';
import type { SppJobSession } from '../../src/upstream/types.js';

const records = Array.from({ length: 250 }, (_, i) => ({ id: String(1000 + i), start: i }) as unknown as SppJobSession);
const query = { filter: [], sort: [] };

/** An upstream list of `records` with SPP's possible behaviours; it records every call. */
function upstream(behaviour: { serverMax?: number; alwaysHundred?: boolean; totalZero?: boolean } = {}) {
  const calls: Array<[number, number]> = [];
  const fetchPage: PageFetcher = async ({ pageStartIndex, pageSize }) => {
    calls.push([pageStartIndex, pageSize]);
    const size = behaviour.alwaysHundred ? 100 : Math.min(pageSize, behaviour.serverMax ?? Infinity);
    return { total: behaviour.totalZero ? 0 : records.length, sessions: records.slice(pageStartIndex, pageStartIndex + size) };
  };
  return { fetchPage, calls };
}

describe('readWindow', () => {
  it('splits a window larger than the page cap into chunks and keeps their order', async () => {
    const { fetchPage, calls } = upstream();
    const result = await readWindow(createWindowReader(fetchPage, 100, 4), query, 10, 230);
    expect(result.records.map((r) => r.start)).toEqual(Array.from({ length: 230 }, (_, i) => 10 + i));
    expect(calls.sort((a, b) => a[0] - b[0])).toEqual([
      [10, 100],
      [110, 100],
      [210, 30],
    ]);
    expect(result).toMatchObject({ ended: false, total: 250 });
  });

  it('sees the end of the list from the records when it falls inside the window', async () => {
    const { fetchPage } = upstream();
    const result = await readWindow(createWindowReader(fetchPage, 100, 4), query, 200, 100);
    expect(result.records).toHaveLength(50);
    expect(result).toMatchObject({ ended: true, total: 250 });
  });

  it('drops the surplus when SPP ignores pageSize and always answers 100 records', async () => {
    const { fetchPage } = upstream({ alwaysHundred: true });
    const result = await readWindow(createWindowReader(fetchPage, 100, 4), query, 5, 26);
    expect(result.records.map((r) => r.start)).toEqual(Array.from({ length: 26 }, (_, i) => 5 + i));
  });

  it('fetches what a short answer left out when SPP caps pages below the asked size', async () => {
    const { fetchPage, calls } = upstream({ serverMax: 40, totalZero: true });
    const result = await readWindow(createWindowReader(fetchPage, 100, 4), query, 0, 100);
    expect(result.records.map((r) => r.start)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(calls).toEqual([
      [0, 100],
      [40, 60],
      [80, 20],
    ]);
    expect(result.total).toBeNull();
  });

  it('reports no total when SPP answers total 0 with records (APAR IT45897), and still finds the end', async () => {
    const { fetchPage } = upstream({ totalZero: true });
    const result = await readWindow(createWindowReader(fetchPage, 100, 4), query, 240, 20);
    expect(result.records).toHaveLength(10);
    expect(result).toMatchObject({ ended: true, total: null });
  });

  it('never runs more requests at once than its concurrency', async () => {
    let running = 0;
    let peak = 0;
    const fetchPage: PageFetcher = async ({ pageStartIndex, pageSize }) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      return { total: 10_000, sessions: Array.from({ length: pageSize }, (_, i) => ({ id: String(pageStartIndex + i) }) as unknown as SppJobSession) };
    };
    const result = await readWindow(createWindowReader(fetchPage, 10, 3), query, 0, 95);
    expect(result.records).toHaveLength(95);
    expect(peak).toBe(3);
  });
});

describe('totalIsConsistent', () => {
  it('accepts totals that cover the records seen and rejects contradictions', () => {
    expect(totalIsConsistent(250, 0, 100)).toBe(true);
    expect(totalIsConsistent(250, 250, 0)).toBe(true);
    expect(totalIsConsistent(0, 0, 0)).toBe(true);
    expect(totalIsConsistent(0, 0, 100)).toBe(false);
    expect(totalIsConsistent(250, 300, 0)).toBe(true);
    expect(totalIsConsistent(250, 100, 0)).toBe(false);
    expect(totalIsConsistent(120, 100, 30)).toBe(false);
  });
});
