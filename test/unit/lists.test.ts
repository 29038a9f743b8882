import { describe, expect, it } from 'vitest';
import { readByIds } from '../../src/lists/by-id.js';
import { JOBS, translateJobFilter } from '../../src/lists/jobs.js';
import { JOB_LOG, logTypeOf, translateLogFilter } from '../../src/lists/job-log.js';
import { JOB_SESSIONS } from '../../src/lists/job-sessions.js';
import { totalOrder } from '../../src/pagination/list.js';
import { withLocalCondition } from '../../src/pagination/local.js';
import { createWindowReader, readWindow, type PageFetcher } from '../../src/pagination/window.js';
import { jobStatusOf } from '../../src/resolvers/Job.js';
import type { SppFilter, SppJob, SppJobLogEntry } from '../../src/spp-api/types.js';

const jobs = Array.from({ length: 30 }, (_, i) => ({ id: String(1000 + i), name: `job-${i}` }));

/** An upstream job list that honours (or ignores) an IN filter on id; it records every call. */
function upstream(honoursIn: boolean) {
  const calls: SppFilter[][] = [];
  const fetchPage: PageFetcher<SppJob> = async ({ pageStartIndex, pageSize, filter }) => {
    calls.push(filter);
    const wanted = filter.find((f) => f.property === 'id')?.value as string[] | undefined;
    const list = honoursIn && wanted ? jobs.filter((j) => wanted.includes(j.id)) : jobs;
    return { total: list.length, records: list.slice(pageStartIndex, pageStartIndex + pageSize) };
  };
  return { reader: createWindowReader(fetchPage, 100, 4), calls };
}

describe('readByIds', () => {
  it('reads a batch of ids in one IN request, in the order asked, null for unknown ids', async () => {
    const { reader, calls } = upstream(true);
    const one: string[] = [];
    const found = await readByIds(reader, JOBS, ['1005', '1001', '9999', '1005'], async (id) => (one.push(id), null));
    expect(found.map((j) => j?.name ?? null)).toEqual(['job-5', 'job-1', null, 'job-5']);
    expect(calls).toEqual([[{ property: 'id', value: ['1005', '1001', '9999'], op: 'IN' }]]);
    expect(one).toEqual([]);
  });

  it('falls back to one read per id when SPP ignores the IN filter (records that were not asked for come back)', async () => {
    const { reader, calls } = upstream(false);
    const one: string[] = [];
    const found = await readByIds(reader, JOBS, ['1007', '1002'], async (id) => (one.push(id), jobs.find((j) => j.id === id)!));
    expect(found.map((j) => j!.id)).toEqual(['1007', '1002']);
    expect(calls).toHaveLength(1);
    expect(one).toEqual(['1007', '1002']);
  });
});

describe('list descriptions', () => {
  it('make every order total with the id, once, in the direction of the last key', () => {
    expect(totalOrder(JOB_SESSIONS, [])).toEqual([
      { property: 'start', direction: 'DESC' },
      { property: 'id', direction: 'DESC' },
    ]);
    expect(totalOrder(JOB_LOG, [{ property: 'type', direction: 'ASC' }])).toEqual([
      { property: 'type', direction: 'ASC' },
      { property: 'id', direction: 'ASC' },
    ]);
    const total = totalOrder(JOBS, []);
    expect(totalOrder(JOBS, total)).toEqual(total);
  });

  it('translate log filters: the session condition first, UNKNOWN types never sent, messageId kept for the gateway', () => {
    const only = translateLogFilter('17', { type: ['UNKNOWN'] });
    expect(only).toMatchObject({
      empty: true,
      filter: [
        { property: 'jobsessionId', value: '17', op: '=' },
        { property: 'type', value: [], op: 'IN' },
      ],
    });
    const local = translateLogFilter('17', { messageId: ['CTGGA2402'], logTime: { lt: 5 } });
    expect(local.filter).toEqual([
      { property: 'jobsessionId', value: '17', op: '=' },
      { property: 'logTime', value: 5, op: '<' },
    ]);
    expect(local.local!.test({ messageId: 'CTGGA2402' } as SppJobLogEntry)).toBe(true);
    expect(local.local!.test({ messageId: 'CTGGA2401' } as SppJobLogEntry)).toBe(false);
    expect(() => translateJobFilter({ name: '' })).toThrow(/filter.name/);
  });

  it('read unknown enum values tolerantly', () => {
    expect(logTypeOf('warn')).toBe('WARN');
    expect(logTypeOf('TRACE')).toBe('UNKNOWN');
    expect(jobStatusOf('RESOURCE ACTIVE')).toBe('RESOURCE_ACTIVE');
    expect(jobStatusOf('HELD')).toBe('UNKNOWN');
  });
});

describe('withLocalCondition', () => {
  it('serves the filtered list with exact totals and offsets, reading the upstream list once per filter and sort', async () => {
    const { reader, calls } = upstream(false);
    const even = withLocalCondition(reader, { key: 'even', test: (j: SppJob) => Number(j.id) % 2 === 0 });
    const page = await readWindow(even, { filter: [], sort: [] }, 3, 4);
    expect(page.records.map((j) => j.id)).toEqual(['1006', '1008', '1010', '1012']);
    expect(page.total).toBe(15);
    const next = await readWindow(even, { filter: [], sort: [] }, 14, 4);
    expect(next.records.map((j) => j.id)).toEqual(['1028']);
    expect(next.ended).toBe(true);
    expect(calls).toHaveLength(1);
  });
});

describe('withLocalCondition on a capped upstream', () => {
  it('reads a long list in parallel pages once SPP showed its cap and its total, not page after page', async () => {
    const long = Array.from({ length: 950 }, (_, i) => ({ id: String(10_000 + i), name: `job-${i}` }));
    const calls: Array<[number, number]> = [];
    let inFlight = 0;
    let most = 0;
    const fetchPage: PageFetcher<SppJob> = async ({ pageStartIndex, pageSize }) => {
      calls.push([pageStartIndex, pageSize]);
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      return { total: long.length, records: long.slice(pageStartIndex, pageStartIndex + Math.min(pageSize, 100)) };
    };
    // The gateway already knows SPP's cap of 100 (PageSizeMemory learned it earlier).
    const reader = createWindowReader(fetchPage, 100, 4);
    const local = withLocalCondition(reader, { key: 'x', test: (j: SppJob) => j.id.endsWith('7') });
    const page = await readWindow(local, { filter: [], sort: [] }, 0, 10);
    expect(page.total).toBe(95);
    expect(page.records.map((j) => j.id)).toEqual(
      long
        .filter((j) => j.id.endsWith('7'))
        .slice(0, 10)
        .map((j) => j.id),
    );
    expect(calls).toHaveLength(10);
    expect(most).toBe(4);
  });
});
