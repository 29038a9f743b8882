import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import type { SppJobSession } from '../../src/spp-api/types.js';
import { ids, list, listError, login } from './helpers.js';

const NOW = Date.UTC(2024, 5, 30, 12, 0, 0);
const HOUR = 3_600_000;

describe('GET /api/endeavour/jobsession filter and sort over HTTP', () => {
  let sim: Simulator;
  let sid: string;
  let all: SppJobSession[];
  beforeAll(async () => {
    // The clock is pinned to the end of the history so that rangeunit/range windows are exact.
    sim = await startSimulator({ now: NOW, clock: () => NOW, size: 2000 });
    sid = await login(sim);
    all = sim.list();
  });
  afterAll(() => sim.close());

  const everything = { pageSize: 10000 };

  it('filters with = (default op) and returns a consistent total', async () => {
    const body = await list(sim, sid, { ...everything, filter: [{ property: 'jobName', value: 'vmware_Gold' }] });
    const expected = all.filter((r) => r.jobName === 'vmware_Gold');
    expect(expected.length).toBeGreaterThan(10);
    expect(body.total).toBe(expected.length);
    expect(ids(body.sessions)).toEqual(ids(expected));
  });

  it('filters with IN, as the UI running-jobs tab does', async () => {
    const filter = [{ property: 'status', value: ['RUNNING', 'PENDING', 'HELD', 'CANCELING'], op: 'IN' }];
    const body = await list(sim, sid, { ...everything, filter });
    expect(body.sessions.length).toBeGreaterThan(0);
    expect(ids(body.sessions)).toEqual(ids(all.filter((r) => ['RUNNING', 'PENDING'].includes(r.status))));
  });

  it('filters start with < > <= >= and ANDs them into a window', async () => {
    const a = all[500]!.start;
    const b = all[900]!.start;
    const check = async (filter: object[], pred: (r: SppJobSession) => boolean) => {
      const body = await list(sim, sid, { ...everything, filter });
      expect(ids(body.sessions)).toEqual(ids(all.filter(pred)));
    };
    await check([{ property: 'start', value: a, op: '<' }], (r) => r.start < a);
    await check([{ property: 'start', value: a, op: '<=' }], (r) => r.start <= a);
    await check([{ property: 'start', value: b, op: '>' }], (r) => r.start > b);
    await check([{ property: 'start', value: String(b), op: '>=' }], (r) => r.start >= b);
    await check(
      [
        { property: 'start', value: a, op: '>=' },
        { property: 'start', value: b, op: '<=' },
        { property: 'type', value: 'protection', op: '=' },
      ],
      (r) => r.start >= a && r.start <= b && r.type === 'protection',
    );
  });

  it('matches * wildcards case-sensitively in = string values', async () => {
    const body = await list(sim, sid, { ...everything, filter: [{ property: 'jobName', value: '*_Gold' }] });
    expect(new Set(body.sessions.map((s) => s.jobName))).toEqual(new Set(['vmware_Gold', 'sql_Gold', 'oracle_Gold']));
    const none = await list(sim, sid, { filter: [{ property: 'jobName', value: '*_gold' }] });
    expect(none.total).toBe(0);
  });

  it('accepts jobId and id as numbers or strings alike', async () => {
    const asNumber = await list(sim, sid, { ...everything, filter: [{ property: 'jobId', value: 1009, op: '=' }] });
    const asString = await list(sim, sid, { ...everything, filter: [{ property: 'jobId', value: '1009', op: '=' }] });
    expect(asNumber.total).toBeGreaterThan(0);
    expect(ids(asNumber.sessions)).toEqual(ids(asString.sessions));
    const one = await list(sim, sid, { filter: [{ property: 'id', value: Number(all[42]!.id) }] });
    expect(ids(one.sessions)).toEqual([all[42]!.id]);
  });

  it('accepts hasCatalog as the string "true"', async () => {
    const body = await list(sim, sid, { ...everything, filter: [{ property: 'hasCatalog', value: 'true', op: '=' }] });
    expect(body.total).toBe(all.filter((r) => r.hasCatalog === true).length);
    expect(body.total).toBeGreaterThan(0);
  });

  it('ignores filters on unknown properties', async () => {
    const body = await list(sim, sid, { filter: [{ property: 'messageId', value: ['CTGGA2384'], op: 'IN' }] });
    expect(body.total).toBe(all.length);
  });

  it('ignores an IN whose value is a JSON string rather than an array', async () => {
    const body = await list(sim, sid, { filter: [{ property: 'status', value: '["FAILED"]', op: 'IN' }] });
    expect(body.total).toBe(all.length);
  });

  it('limits results to start >= now - N units with rangeunit/range', async () => {
    const body = await list(sim, sid, {
      ...everything,
      filter: [
        { property: 'rangeunit', value: 'hour', op: '=' },
        { property: 'range', value: 12, op: '=' },
      ],
    });
    expect(ids(body.sessions)).toEqual(ids(all.filter((r) => r.start >= NOW - 12 * HOUR)));
    const week = await list(sim, sid, {
      filter: [
        { property: 'rangeunit', value: 'week' },
        { property: 'range', value: '2' },
      ],
    });
    expect(week.total).toBe(all.filter((r) => r.start >= NOW - 14 * 24 * HOUR).length);
    expect(week.total).toBeLessThan(all.length);
  });

  it('sorts by start DESC as in the IBM example', async () => {
    const body = await list(sim, sid, { sort: [{ property: 'start', direction: 'DESC' }], pageSize: 50 });
    const starts = body.sessions.map((s) => s.start);
    expect(starts).toEqual([...starts].sort((x, y) => y - x));
    expect(starts[0]).toBe(Math.max(...all.map((r) => r.start)));
  });

  it('breaks ties on start by id ascending in both directions', async () => {
    const tieStart = all.find((r, i) => i > 0 && all[i - 1]!.start === r.start)!.start;
    const tied = all.filter((r) => r.start === tieStart).map((r) => r.id);
    expect(tied.length).toBeGreaterThan(1);
    const filter = [{ property: 'start', value: tieStart, op: '=' }];
    const asc = await list(sim, sid, { filter, sort: [{ property: 'start', direction: 'ASC' }] });
    const desc = await list(sim, sid, { filter, sort: [{ property: 'start', direction: 'DESC' }] });
    const sortedIds = [...tied].sort((x, y) => Number(x) - Number(y));
    expect(ids(asc.sessions)).toEqual(sortedIds);
    expect(ids(desc.sessions)).toEqual(sortedIds);
  });

  it('sorts by several keys in the given order', async () => {
    const body = await list(sim, sid, {
      ...everything,
      sort: [
        { property: 'type', direction: 'ASC' },
        { property: 'duration', direction: 'DESC' },
      ],
    });
    const got = body.sessions;
    expect(got).toHaveLength(all.length);
    for (let i = 1; i < got.length; i++) {
      const p = got[i - 1]!;
      const c = got[i]!;
      expect(p.type <= c.type).toBe(true);
      if (p.type === c.type && c.duration !== null && p.duration !== null) expect(p.duration! >= c.duration!).toBe(true);
      if (p.type === c.type && p.duration === null) expect(c.duration).toBeNull();
    }
  });

  it('puts null durations first in ASC and last in DESC', async () => {
    const running = all.filter((r) => r.duration === null).length;
    expect(running).toBeGreaterThan(0);
    const asc = await list(sim, sid, { ...everything, sort: [{ property: 'duration', direction: 'ASC' }] });
    expect(asc.sessions.slice(0, running).every((s) => s.duration === null)).toBe(true);
    expect(asc.sessions[running]!.duration).not.toBeNull();
    const desc = await list(sim, sid, { ...everything, sort: [{ property: 'duration', direction: 'DESC' }] });
    expect(desc.sessions.slice(-running).every((s) => s.duration === null)).toBe(true);
    expect(desc.sessions[desc.sessions.length - running - 1]!.duration).not.toBeNull();
  });

  it('serves list() and HTTP from the same code path', async () => {
    const filter = [{ property: 'type', value: ['protection', 'catalog'], op: 'IN' as const }];
    const sort = [{ property: 'jobName', direction: 'ASC' as const }];
    const body = await list(sim, sid, { ...everything, filter, sort });
    expect(body.sessions).toEqual(sim.list({ filter, sort }));
  });

  it.each([
    ['filter', '[{"property":'],
    ['filter', '{"property":"status","value":"FAILED"}'],
    ['sort', 'start DESC'],
    ['sort', '"start"'],
  ])('answers 400 XSBInvalidArgumentException for %s=%s', async (param, value) => {
    const r = await listError(sim, sid, { [param]: value });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ id: 'XSBInvalidArgumentException', description: expect.stringContaining(param) });
  });
});
