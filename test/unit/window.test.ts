import { describe, expect, it } from 'vitest';
import {
  boundedLimit,
  capFromAnswers,
  classifyAnswer,
  createWindowReader,
  PageSizeMemory,
  planChunks,
  readWindow,
  totalIsConsistent,
  type PageFetcher,
} from '../../src/pagination/window.js';
import type { SppJobSession } from '../../src/spp-api/types.js';

const records = Array.from({ length: 250 }, (_, i) => ({ id: String(1000 + i), start: i }) as unknown as SppJobSession);
const query = { filter: [], sort: [] };

/** An upstream list of `records` with SPP's possible behaviours; it records every call. */
function upstream(behaviour: { serverMax?: number; alwaysHundred?: boolean; totalZero?: boolean; list?: SppJobSession[] } = {}) {
  const list = behaviour.list ?? records;
  const calls: Array<[number, number]> = [];
  const fetchPage: PageFetcher = async ({ pageStartIndex, pageSize }) => {
    calls.push([pageStartIndex, pageSize]);
    const size = behaviour.alwaysHundred ? 100 : Math.min(pageSize, behaviour.serverMax ?? Infinity);
    return { total: behaviour.totalZero ? 0 : list.length, records: list.slice(pageStartIndex, pageStartIndex + size) };
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
      return { total: 10_000, records: Array.from({ length: pageSize }, (_, i) => ({ id: String(pageStartIndex + i) }) as unknown as SppJobSession) };
    };
    const result = await readWindow(createWindowReader(fetchPage, 10, 3), query, 0, 95);
    expect(result.records).toHaveLength(95);
    expect(peak).toBe(3);
  });
});

describe('readWindow learning the page cap of its upstream', () => {
  const many = Array.from({ length: 2_000 }, (_, i) => ({ id: String(10_000 + i), start: i }) as unknown as SppJobSession);
  const starts = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

  it('asks an upstream that honours pageSize for the whole window in one request', async () => {
    const { fetchPage, calls } = upstream({ list: many });
    const memory = new PageSizeMemory(10_000);
    const result = await readWindow(createWindowReader(fetchPage, memory, 12), query, 0, 1001);
    expect(result.records.map((r) => r.start)).toEqual(starts(1001));
    expect(calls).toEqual([[0, 1001]]);
    expect(memory.learned).toBeUndefined();
    expect(result).toMatchObject({ ended: false, total: 2_000 });
  });

  it('learns 100 from the first answer of a build that ignores pageSize, reads the rest in parallel, and splits later windows from the start', async () => {
    const { fetchPage, calls } = upstream({ list: many, alwaysHundred: true });
    const learned: number[] = [];
    const memory = new PageSizeMemory(10_000, (cap) => learned.push(cap));
    const first = await readWindow(createWindowReader(fetchPage, memory, 12), query, 0, 1001);
    expect(first.records.map((r) => r.start)).toEqual(starts(1001));
    expect(calls[0]).toEqual([0, 1001]);
    expect(calls.slice(1).sort((a, b) => a[0] - b[0])).toEqual([...starts(9, 1).map((i) => [i * 100, 100]), [1000, 1]]);
    expect(memory.learned).toBe(100);
    expect(learned).toEqual([100]);

    calls.length = 0;
    const second = await readWindow(createWindowReader(fetchPage, memory, 12), query, 500, 250);
    expect(second.records.map((r) => r.start)).toEqual(starts(250, 500));
    expect(calls).toEqual([
      [500, 100],
      [600, 100],
      [700, 50],
    ]);
  });

  it('learns a lower server maximum (a clamp) the same way', async () => {
    const { fetchPage, calls } = upstream({ list: many, serverMax: 300 });
    const memory = new PageSizeMemory(10_000);
    const result = await readWindow(createWindowReader(fetchPage, memory, 12), query, 0, 1001);
    expect(result.records.map((r) => r.start)).toEqual(starts(1001));
    expect(calls[0]).toEqual([0, 1001]);
    expect(calls.slice(1).sort((a, b) => a[0] - b[0])).toEqual([
      [300, 300],
      [600, 300],
      [900, 101],
    ]);
    expect(memory.learned).toBe(300);
  });

  it('learns nothing from a short answer that is the end of the list', async () => {
    const { fetchPage, calls } = upstream({ list: many.slice(0, 40) });
    const memory = new PageSizeMemory(10_000);
    const result = await readWindow(createWindowReader(fetchPage, memory, 12), query, 0, 1001);
    expect(result).toMatchObject({ ended: true, total: 40 });
    expect(result.records).toHaveLength(40);
    expect(calls).toEqual([[0, 1001]]);
    expect(memory.learned).toBeUndefined();
  });

  it('without a trusted total (APAR IT45897) asks for the rest once, and learns only from two short answers of the same size', async () => {
    const ended = upstream({ list: many.slice(0, 40), totalZero: true });
    const memory = new PageSizeMemory(10_000);
    const short = await readWindow(createWindowReader(ended.fetchPage, memory, 12), query, 0, 1001);
    expect(short).toMatchObject({ ended: true, total: null });
    expect(ended.calls).toEqual([
      [0, 1001],
      [40, 961],
    ]);
    expect(memory.learned).toBeUndefined();

    const capped = upstream({ list: many, alwaysHundred: true, totalZero: true });
    const result = await readWindow(createWindowReader(capped.fetchPage, memory, 12), query, 0, 1001);
    expect(result.records.map((r) => r.start)).toEqual(starts(1001));
    expect(capped.calls.slice(0, 2)).toEqual([
      [0, 1001],
      [100, 901],
    ]);
    expect(capped.calls.slice(2).sort((a, b) => a[0] - b[0])).toEqual([...starts(7, 2).map((i) => [i * 100, 100]), [900, 100], [1000, 1]]);
    expect(memory.learned).toBe(100);
  });

  it('does not learn from a total that promised more records than the list holds', async () => {
    // SPP's total says 60, but the list ends at 40: the one follow-up comes back empty.
    const list = many.slice(0, 40);
    const calls: Array<[number, number]> = [];
    const fetchPage: PageFetcher = async ({ pageStartIndex, pageSize }) => {
      calls.push([pageStartIndex, pageSize]);
      return { total: 60, records: list.slice(pageStartIndex, pageStartIndex + pageSize) };
    };
    const memory = new PageSizeMemory(10_000);
    const result = await readWindow(createWindowReader(fetchPage, memory, 12), query, 0, 1001);
    expect(result.records).toHaveLength(40);
    expect(result.ended).toBe(true);
    expect(calls).toEqual([
      [0, 1001],
      [40, 20],
    ]);
    expect(memory.learned).toBeUndefined();
  });
});

describe('window arithmetic and what answers mean', () => {
  it('plans consecutive chunks of at most the page size', () => {
    expect(planChunks(0, 1001, 10_000)).toEqual([{ start: 0, size: 1001 }]);
    expect(planChunks(10, 230, 100)).toEqual([
      { start: 10, size: 100 },
      { start: 110, size: 100 },
      { start: 210, size: 30 },
    ]);
    expect(planChunks(5, 0, 100)).toEqual([]);
  });

  it('classifies answers: complete, the end of the list, a capped page, or unknown without a trusted total', () => {
    expect(classifyAnswer({ start: 0, asked: 26, received: 100, total: 4877 })).toEqual({ kind: 'complete' });
    expect(classifyAnswer({ start: 0, asked: 26, received: 26, total: null })).toEqual({ kind: 'complete' });
    expect(classifyAnswer({ start: 0, asked: 1001, received: 0, total: null })).toEqual({ kind: 'end' });
    expect(classifyAnswer({ start: 0, asked: 1001, received: 40, total: 40 })).toEqual({ kind: 'end' });
    expect(classifyAnswer({ start: 0, asked: 1001, received: 100, total: 4877 })).toEqual({ kind: 'short', exists: 4777 });
    expect(classifyAnswer({ start: 0, asked: 1001, received: 100, total: null })).toEqual({ kind: 'unknown' });
  });

  it('takes a cap only from evidence that records exist beyond a short answer', () => {
    const short = { start: 0, asked: 1001, received: 100, total: 4877 };
    expect(capFromAnswers(short, { start: 100, asked: 100, received: 100, total: 4877 })).toBe(100);
    expect(capFromAnswers(short, { start: 100, asked: 100, received: 0, total: 4877 })).toBeUndefined();
    const unknown = { start: 0, asked: 1001, received: 100, total: null };
    expect(capFromAnswers(unknown, { start: 100, asked: 901, received: 100, total: null })).toBe(100);
    // The list ended at 100 and grew by 3 before the follow-up: no cap of 100.
    expect(capFromAnswers(unknown, { start: 100, asked: 901, received: 3, total: null })).toBeUndefined();
    expect(capFromAnswers({ start: 0, asked: 26, received: 26, total: null }, { start: 26, asked: 10, received: 10, total: null })).toBeUndefined();
  });

  it('remembers only a lower cap than it asks', () => {
    const memory = new PageSizeMemory(1000);
    expect(memory.size).toBe(1000);
    memory.learn(2000);
    memory.learn(0);
    expect(memory.learned).toBeUndefined();
    memory.learn(300);
    memory.learn(500);
    expect(memory.size).toBe(300);
    memory.learn(100);
    expect(memory.size).toBe(100);
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

describe('boundedLimit', () => {
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  it('runs `concurrency` tasks at once, starts the next when one ends, and answers each with its own result', async () => {
    for (const concurrency of [1, 2, 4]) {
      const limit = boundedLimit(concurrency);
      let active = 0;
      let peak = 0;
      const releases: Array<() => void> = [];
      const results = Array.from({ length: 9 }, (_, i) =>
        limit(async () => {
          active++;
          peak = Math.max(peak, active);
          await new Promise<void>((resolve) => releases.push(resolve));
          active--;
          return i;
        }),
      );
      const running: number[] = [];
      for (let done = 0; done < 9; done++) {
        await settle();
        running.push(active);
        releases.shift()!();
      }
      expect({ concurrency, peak, values: await Promise.all(results) }).toEqual({ concurrency, peak: concurrency, values: [0, 1, 2, 3, 4, 5, 6, 7, 8] });
      // Full while enough tasks wait, then draining one by one.
      expect(running).toEqual(Array.from({ length: 9 }, (_, i) => Math.min(concurrency, 9 - i)));
    }
  });

  it('frees the slot of a task that failed, synchronously or not, and passes the error on', async () => {
    const limit = boundedLimit(2);
    await expect(
      limit(() => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    await expect(
      limit(async () => {
        throw new Error('async');
      }),
    ).rejects.toThrow('async');
    await settle();
    let active = 0;
    let peak = 0;
    const task = (value: string) => async () => {
      active++;
      peak = Math.max(peak, active);
      await settle();
      active--;
      return value;
    };
    await expect(Promise.all([limit(task('a')), limit(task('b')), limit(task('c'))])).resolves.toEqual(['a', 'b', 'c']);
    expect(peak).toBe(2);
  });

  it('refuses a concurrency that is not a positive integer', () => {
    expect(() => boundedLimit(0)).toThrow('Expected a positive integer concurrency, got 0.');
    expect(() => boundedLimit(1.5)).toThrow('Expected a positive integer concurrency, got 1.5.');
  });
});
