import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import type { SppErrorBody, SppJobSessionList } from '../../src/spp-api/types.js';
import { getJson, ids, list, login } from './helpers.js';

const NOW = Date.UTC(2024, 5, 30, 12, 0, 0);

describe('quirk modes', () => {
  let sim: Simulator;
  let sid: string;
  beforeAll(async () => {
    sim = await startSimulator({ now: NOW, size: 1500 });
    sid = await login(sim);
  });
  afterEach(() => sim.configure({ quirks: { totalAlwaysZero: false, ignorePageSize: false, cancelledSpelling: false } }));
  afterAll(() => sim.close());

  it('reports total 0 with totalAlwaysZero (APAR IT45897) but still pages with links', async () => {
    sim.configure({ quirks: { totalAlwaysZero: true } });
    const body = await list(sim, sid, { pageSize: 100 });
    expect(body.total).toBe(0);
    expect(body.sessions).toHaveLength(100);
    expect(body.links?.nextPage).toBeDefined();
    expect(new URL(body.links!.lastPage!.href).searchParams.get('pageStartIndex')).toBe('1400');
  });

  it('answers 100 records whatever pageSize says with ignorePageSize', async () => {
    sim.configure({ quirks: { ignorePageSize: true } });
    const all = sim.list();
    const small = await list(sim, sid, { pageSize: 10, pageStartIndex: 30 });
    expect(ids(small.sessions)).toEqual(ids(all.slice(30, 130)));
    expect(small.page).toBe(1);
    expect(new URL(small.links!.nextPage!.href).searchParams.get('pageStartIndex')).toBe('130');
    const big = await list(sim, sid, { pageSize: 1000 });
    expect(big.sessions).toHaveLength(100);
    expect(big.total).toBe(1500);
  });

  it('spells CANCELED as CANCELLED with cancelledSpelling, in records and filters', async () => {
    const canceled = sim.list({ filter: [{ property: 'status', value: ['CANCELED'], op: 'IN' }] });
    expect(canceled.length).toBeGreaterThan(0);
    sim.configure({ quirks: { cancelledSpelling: true } });
    const old = await list(sim, sid, { filter: [{ property: 'status', value: ['CANCELED'], op: 'IN' }] });
    expect(old.total).toBe(0);
    const uk = await list(sim, sid, { pageSize: 10000, filter: [{ property: 'status', value: ['CANCELLED'], op: 'IN' }] });
    expect(ids(uk.sessions)).toEqual(ids(canceled));
    expect(uk.sessions.every((s) => s.status === 'CANCELLED' && s.statusDisplayName === 'Cancelled')).toBe(true);
    const one = await getJson<{ status: string }>(sim, `/api/endeavour/jobsession/${canceled[0]!.id}`, sid);
    expect(one.body.status).toBe('CANCELLED');
    sim.configure({ quirks: { cancelledSpelling: false } });
    expect(sim.get(canceled[0]!.id)!.status).toBe('CANCELED');
  });

  it('accepts quirks at start-up', async () => {
    const q = await startSimulator({ now: NOW, size: 150, quirks: { totalAlwaysZero: true, ignorePageSize: true } });
    try {
      const body = await list(q, await login(q), { pageSize: 7 });
      expect(body.total).toBe(0);
      expect(body.sessions).toHaveLength(100);
    } finally {
      await q.close();
    }
  });
});

describe('faults and latency', () => {
  let sim: Simulator;
  let sid: string;
  beforeAll(async () => {
    sim = await startSimulator({ now: NOW, size: 300 });
    sid = await login(sim);
  });
  afterEach(() => sim.configure({ faults: { errorRate: 0, hangRate: 0, dropRate: 0 }, latency: { fixedMs: 0, jitterMs: 0 } }));
  afterAll(() => sim.close());

  it('answers queued failNext faults in FIFO order, then recovers', async () => {
    sim.failNext({ kind: 'status', status: 503, retryAfterSeconds: 1 }, { kind: 'status', status: 500 });
    const first = await getJson<SppErrorBody>(sim, '/api/endeavour/jobsession', sid);
    expect(first.status).toBe(503);
    expect(first.headers.get('retry-after')).toBe('1');
    expect(first.body.id).toMatch(/^XSB/);
    const second = await getJson<SppErrorBody>(sim, '/api/endeavour/jobsession', sid);
    expect(second.status).toBe(500);
    expect(second.headers.get('retry-after')).toBeNull();
    expect(second.body.description).toEqual(expect.any(String));
    expect((await getJson(sim, '/api/endeavour/jobsession', sid)).status).toBe(200);
  });

  it('does not apply default failNext faults to login or ping', async () => {
    sim.failNext({ kind: 'status', status: 500 });
    expect((await getJson(sim, '/api/lifecycle/ping', undefined)).status).toBe(200);
    await login(sim);
    expect((await getJson(sim, '/api/endeavour/jobsession/1', sid)).status).toBe(500);
  });

  it('applies a failNext fault only to requests matching its path prefix', async () => {
    sim.failNext({ kind: 'status', status: 503, path: '/api/endeavour/session' });
    expect((await getJson(sim, '/api/endeavour/jobsession', sid)).status).toBe(200);
    const res = await fetch(`${sim.url}/api/endeavour/session`, { method: 'POST' });
    expect(res.status).toBe(503);
  });

  it('destroys the socket for a drop fault and logs status 0', async () => {
    sim.clearRequests();
    sim.failNext({ kind: 'drop' });
    await expect(fetch(`${sim.url}/api/endeavour/jobsession`, { headers: { 'X-Endeavour-Sessionid': sid } })).rejects.toThrow();
    expect(sim.requests.map((r) => r.status)).toEqual([0]);
    expect((await getJson(sim, '/api/endeavour/jobsession?pageSize=1', sid)).status).toBe(200);
  });

  it('never answers a hang fault until the client gives up', async () => {
    sim.clearRequests();
    sim.failNext({ kind: 'hang' });
    const started = Date.now();
    await expect(
      fetch(`${sim.url}/api/endeavour/jobsession`, { headers: { 'X-Endeavour-Sessionid': sid }, signal: AbortSignal.timeout(300) }),
    ).rejects.toThrow();
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(sim.requests).toHaveLength(1);
    expect(sim.requests[0]!.status).toBe(0);
  });

  it('closes hung connections on close()', async () => {
    const s = await startSimulator({ now: NOW, size: 50 });
    const id = await login(s);
    s.failNext({ kind: 'hang' });
    const pending = fetch(`${s.url}/api/endeavour/jobsession`, { headers: { 'X-Endeavour-Sessionid': id } });
    const outcome = pending.then(
      () => 'answered',
      () => 'failed',
    );
    await expect.poll(() => s.requests.length).toBe(2);
    await s.close();
    expect(await outcome).toBe('failed');
  });

  it('answers every jobsession request 500 or 503 with errorRate 1, but not login', async () => {
    sim.configure({ faults: { errorRate: 1 } });
    const statuses = new Set<number>();
    for (let i = 0; i < 30; i++) {
      const r = await getJson<SppErrorBody>(sim, '/api/endeavour/jobsession', sid);
      statuses.add(r.status);
      if (r.status === 503) expect(r.headers.get('retry-after')).toBe('1');
      expect(r.body.id).toMatch(/^XSB/);
    }
    expect(statuses).toEqual(new Set([500, 503]));
    await login(sim);
  });

  it('drops every jobsession request with dropRate 1', async () => {
    sim.configure({ faults: { dropRate: 1 } });
    await expect(fetch(`${sim.url}/api/endeavour/jobsession`, { headers: { 'X-Endeavour-Sessionid': sid } })).rejects.toThrow();
  });

  it('adds the configured latency to jobsession responses only', async () => {
    sim.configure({ latency: { fixedMs: 150, jitterMs: 50 } });
    let t0 = performance.now();
    expect((await getJson(sim, '/api/endeavour/jobsession?pageSize=1', sid)).status).toBe(200);
    const slow = performance.now() - t0;
    expect(slow).toBeGreaterThanOrEqual(145);
    expect(slow).toBeLessThan(1000);
    t0 = performance.now();
    await getJson(sim, '/api/lifecycle/ping', undefined);
    expect(performance.now() - t0).toBeLessThan(100);
  });

  it('rejects invalid failNext statuses', () => {
    expect(() => sim.failNext({ kind: 'status', status: 42 })).toThrow(RangeError);
  });
});

describe('request log', () => {
  it('records method, path, query, parsed filter and sort, status and user', async () => {
    const sim = await startSimulator({ now: NOW, size: 100 });
    try {
      const sid = await login(sim);
      const filter = [{ property: 'status', value: ['FAILED'], op: 'IN' }];
      const sort = [{ property: 'start', direction: 'DESC' }];
      await getJson<SppJobSessionList>(
        sim,
        `/api/endeavour/jobsession?pageSize=5&filter=${encodeURIComponent(JSON.stringify(filter))}&sort=${encodeURIComponent(JSON.stringify(sort))}`,
        sid,
      );
      await getJson(sim, '/api/endeavour/jobsession?filter=oops', sid);
      await getJson(sim, '/api/endeavour/jobsession', undefined);
      const [loginEntry, ok, bad, anon] = sim.requests;
      expect(loginEntry).toMatchObject({ method: 'POST', path: '/api/endeavour/session', status: 200, user: 'admin' });
      expect(ok).toEqual({
        method: 'GET',
        path: '/api/endeavour/jobsession',
        query: { pageSize: '5', filter: JSON.stringify(filter), sort: JSON.stringify(sort) },
        filter,
        sort,
        status: 200,
        user: 'admin',
        at: expect.any(Number),
      });
      expect(bad).toMatchObject({ status: 400, filter: 'oops' });
      expect(anon!.status).toBe(401);
      expect(anon!.user).toBeUndefined();
      sim.clearRequests();
      expect(sim.requests).toHaveLength(0);
    } finally {
      await sim.close();
    }
  });
});
