import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import type { SppJobSession, SppJobSessionList } from '../../src/spp-api/types.js';
import { getJson, ids, list, login } from './helpers.js';

const NOW = Date.UTC(2024, 5, 30, 12, 0, 0);
const ACTIVE = ['RUNNING', 'PENDING', 'WAITING'];

describe('live mode', () => {
  let sim: Simulator;
  let sid: string;
  let t = NOW;
  beforeAll(async () => {
    sim = await startSimulator({ now: NOW, clock: () => t, size: 500 });
    sid = await login(sim);
  });
  afterAll(() => sim.close());

  it('inserts new sessions at the head of start DESC with larger ids and starts', async () => {
    const before = await list(sim, sid, { pageSize: 1 });
    const maxId = Math.max(...sim.list().map((r) => Number(r.id)));
    const maxStart = Math.max(...sim.list().map((r) => r.start));
    t += 1_000;
    const { inserted, expired } = sim.step({ insert: 3 });
    expect(inserted).toHaveLength(3);
    expect(expired).toEqual([]);
    const head = await list(sim, sid, { pageSize: 3, sort: [{ property: 'start', direction: 'DESC' }] });
    expect(ids(head.sessions)).toEqual([...inserted].reverse());
    expect(head.total).toBe(before.total + 3);
    const records = inserted.map((id) => sim.get(id)!);
    expect(records[0]!.start).toBe(t);
    for (const [i, r] of records.entries()) {
      expect(Number(r.id)).toBeGreaterThan(maxId);
      expect(r.start).toBeGreaterThan(maxStart);
      if (i > 0) expect(r.start).toBeGreaterThan(records[i - 1]!.start);
      expect(['RUNNING', 'PENDING']).toContain(r.status);
      expect(r.end).toBeNull();
      expect(r.duration).toBeNull();
      expect(r.id).toMatch(/^\d{13}$/);
    }
  });

  it('bumps the start by 1 ms when the clock has not moved', () => {
    const { inserted } = sim.step({ insert: 2 });
    const [a, b] = inserted.map((id) => sim.get(id)!);
    expect(b!.start).toBe(a!.start + 1);
  });

  it('progresses running sessions and eventually finishes them with end and duration', () => {
    const running = sim.list().filter((r) => r.status === 'RUNNING');
    expect(running.length).toBeGreaterThan(0);
    t += 10_000;
    sim.step({ insert: 0 });
    for (const r of running) {
      const now = sim.get(r.id)!;
      expect(now.lastUpdate).toBe(t);
      if (now.status === 'RUNNING') expect(now.percent!).toBeGreaterThan(r.percent!);
      else expect(['COMPLETED', 'PARTIAL', 'FAILED']).toContain(now.status);
    }
    for (let i = 0; i < 12; i++) {
      t += 10_000;
      sim.step({ insert: 0 });
    }
    for (const r of running) {
      const done = sim.get(r.id)!;
      expect(['COMPLETED', 'PARTIAL', 'FAILED']).toContain(done.status);
      expect(done.percent).toBe(100);
      expect(done.end).toBeGreaterThan(done.start);
      expect(done.duration).toBe(done.end! - done.start);
    }
    expect(sim.list().some((r) => ACTIVE.includes(r.status))).toBe(false);
  });

  it('expires the oldest sessions by start', async () => {
    const oldest = sim.list().slice(0, 4);
    const count = sim.list().length;
    const { expired, inserted } = sim.step({ insert: 0, expire: 4 });
    expect(inserted).toEqual([]);
    expect(expired).toEqual(ids(oldest));
    expect(sim.list()).toHaveLength(count - 4);
    for (const id of expired) {
      expect(sim.get(id)).toBeUndefined();
      expect((await getJson(sim, `/api/endeavour/jobsession/${id}`, sid)).status).toBe(404);
    }
    const body = await list(sim, sid, { pageSize: 1 });
    expect(body.total).toBe(count - 4);
  });

  it('runs steps on a timer when live mode is on', async () => {
    const live = await startSimulator({ now: NOW, size: 100, live: { intervalMs: 20, insertPerTick: 2, expirePerTick: 1 } });
    try {
      await expect.poll(() => live.list().length, { timeout: 2000 }).toBeGreaterThanOrEqual(104);
      const newest = live.list({ sort: [{ property: 'start', direction: 'DESC' }] })[0]!;
      expect(newest.start).toBeGreaterThan(NOW);
    } finally {
      await live.close();
    }
  });
});

describe('HTTPS', () => {
  it('serves the same API over TLS with https:// links', async () => {
    const dir = new URL('./fixtures/', import.meta.url);
    const cert = readFileSync(new URL('selfsigned-test-only.cert.pem', dir));
    const key = readFileSync(new URL('selfsigned-test-only.key.pem', dir));
    const sim = await startSimulator({ now: NOW, size: 120, tls: { key, cert } });
    try {
      expect(sim.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const call = (method: string, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> =>
        new Promise((resolve, reject) => {
          const req = request(`${sim.url}${path}`, { method, headers, ca: cert, servername: 'localhost' }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (body += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          });
          req.on('error', reject);
          req.end();
        });
      const auth = `Basic ${Buffer.from('admin:admin-password').toString('base64')}`;
      const loginRes = await call('POST', '/api/endeavour/session', { authorization: auth });
      expect(loginRes.status).toBe(200);
      const { sessionid } = JSON.parse(loginRes.body) as { sessionid: string };
      const res = await call('GET', '/api/endeavour/jobsession?pageSize=10', { 'x-endeavour-sessionid': sessionid });
      expect(res.status).toBe(200);
      const body = JSON.parse(res.body) as SppJobSessionList;
      expect(body.sessions).toHaveLength(10);
      expect(body.links!.nextPage!.href.startsWith('https://')).toBe(true);
      const first: SppJobSession = body.sessions[0]!;
      expect(first).toEqual(sim.list()[0]);
    } finally {
      await sim.close();
    }
  });
});
