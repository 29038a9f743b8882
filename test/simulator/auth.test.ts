import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IBM_SAMPLE_SESSION_ID, startSimulator, type Simulator } from '../../src/simulator/index.js';
import type { SppErrorBody, SppJobSession, SppJobSessionList, SppLoginResponse } from '../../src/spp-api/types.js';
import { ADMIN, CATALOG_OPERATOR, basic, getJson, list, login } from './helpers.js';

const NOW = Date.UTC(2024, 5, 30, 12, 0, 0);

describe('authentication and sessions', () => {
  let sim: Simulator;
  let t = NOW;
  beforeAll(async () => {
    sim = await startSimulator({ now: NOW, clock: () => t, size: 600, sessionIdleMs: 60_000 });
  });
  afterAll(() => sim.close());

  it('logs in with HTTP Basic and returns a 32-hex session id and the user', async () => {
    const res = await fetch(`${sim.url}/api/endeavour/session?screenInfo=1`, {
      method: 'POST',
      headers: { authorization: basic(ADMIN.username, ADMIN.password) },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as SppLoginResponse;
    expect(body.sessionid).toMatch(/^[0-9a-f]{32}$/);
    expect(body.user).toMatchObject({ name: 'admin', type: 'NATIVE_USER', links: expect.any(Object) });
  });

  it.each([
    ['a wrong password', basic('admin', 'nope')],
    ['an unknown user', basic('root', 'admin-password')],
    ['a malformed header', 'Basic !!!'],
    ['a bearer token', 'Bearer abc'],
  ])('answers 401 with an SPP error body for %s', async (_label, authorization) => {
    const res = await fetch(`${sim.url}/api/endeavour/session`, { method: 'POST', headers: { authorization } });
    expect(res.status).toBe(401);
    const body = (await res.json()) as SppErrorBody;
    expect(body.id).toMatch(/^XSB\w+Exception$/);
    expect(body.description).toEqual(expect.any(String));
  });

  it('answers 401 without credentials', async () => {
    const res = await fetch(`${sim.url}/api/endeavour/session`, { method: 'POST' });
    expect(res.status).toBe(401);
  });

  it('answers 401 XSBMissingSessionidException when the session header is missing', async () => {
    const r = await getJson<SppErrorBody>(sim, '/api/endeavour/jobsession', undefined);
    expect(r.status).toBe(401);
    expect(r.body.id).toBe('XSBMissingSessionidException');
    expect(r.body.description).toEqual(expect.any(String));
  });

  it('answers 401 XSBSessionDoesNotExistException for an unknown session id', async () => {
    const r = await getJson<SppErrorBody>(sim, '/api/endeavour/jobsession', 'deadbeefdeadbeefdeadbeefdeadbeef');
    expect(r.status).toBe(401);
    expect(r.body.id).toBe('XSBSessionDoesNotExistException');
  });

  it('accepts the session header in lower case', async () => {
    const sid = await login(sim);
    const res = await fetch(`${sim.url}/api/endeavour/jobsession?pageSize=1`, { headers: { 'x-endeavour-sessionid': sid } });
    expect(res.status).toBe(200);
  });

  it('expires a session after the idle timeout, measured with the injected clock', async () => {
    const sid = await login(sim);
    t += 59_000;
    expect((await getJson(sim, '/api/endeavour/jobsession?pageSize=1', sid)).status).toBe(200);
    // That request refreshed the idle timer: another 59 s is still fine.
    t += 59_000;
    expect((await getJson(sim, '/api/endeavour/jobsession?pageSize=1', sid)).status).toBe(200);
    t += 60_000;
    const r = await getJson<SppErrorBody>(sim, '/api/endeavour/jobsession?pageSize=1', sid);
    expect(r.status).toBe(401);
    expect(r.body.id).toBe('XSBSessionDoesNotExistException');
  });

  it('logs out with DELETE → 204, after which the session is gone', async () => {
    const sid = await login(sim);
    const res = await fetch(`${sim.url}/api/endeavour/session`, { method: 'DELETE', headers: { 'X-Endeavour-Sessionid': sid } });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    const r = await getJson<SppErrorBody>(sim, '/api/endeavour/jobsession', sid);
    expect(r.status).toBe(401);
    expect(r.body.id).toBe('XSBSessionDoesNotExistException');
  });

  it('invalidates every login session with expireLoginSessions()', async () => {
    const a = await login(sim);
    const b = await login(sim, CATALOG_OPERATOR);
    sim.expireLoginSessions();
    expect((await getJson(sim, '/api/endeavour/jobsession', a)).status).toBe(401);
    expect((await getJson(sim, '/api/endeavour/jobsession', b)).status).toBe(401);
    expect((await getJson(sim, '/api/endeavour/jobsession?pageSize=1', await login(sim))).status).toBe(200);
  });

  it('answers the ping healthcheck without authentication', async () => {
    const r = await getJson<{ version: string; build: string }>(sim, '/api/lifecycle/ping', undefined);
    expect(r.status).toBe(200);
    expect(r.body.version).toBe('10.1.17');
    expect(r.body.build).toEqual(expect.any(String));
  });

  it('requires a session for unknown /api/endeavour paths and then answers 404', async () => {
    expect((await getJson(sim, '/api/endeavour/nothing', undefined)).status).toBe(401);
    const r = await getJson<SppErrorBody>(sim, '/api/endeavour/nothing', await login(sim));
    expect(r.status).toBe(404);
    expect(r.body.id).toMatch(/^XSB/);
  });
});

describe('single records and RBAC', () => {
  let sim: Simulator;
  let admin: string;
  let operator: string;
  beforeAll(async () => {
    sim = await startSimulator({ now: NOW, size: 800 });
    admin = await login(sim);
    operator = await login(sim, CATALOG_OPERATOR);
  });
  afterAll(() => sim.close());

  it('returns the bare record for GET /api/endeavour/jobsession/{id}', async () => {
    const rec = sim.list()[123]!;
    const r = await getJson<SppJobSession>(sim, `/api/endeavour/jobsession/${rec.id}`, admin);
    expect(r.status).toBe(200);
    expect(r.body).toEqual(rec);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('answers 404 with an SPP error body for an unknown id', async () => {
    const r = await getJson<SppErrorBody>(sim, '/api/endeavour/jobsession/1000000000000', admin);
    expect(r.status).toBe(404);
    expect(r.body.id).toBe('XSBObjectNotFoundException');
    expect(r.body.description).toContain('1000000000000');
  });

  it('answers 403 with an SPP error body for a record the user may not see', async () => {
    const hidden = sim.list().find((r) => r.type === 'protection')!;
    const r = await getJson<SppErrorBody>(sim, `/api/endeavour/jobsession/${hidden.id}`, operator);
    expect(r.status).toBe(403);
    expect(r.body.id).toMatch(/^XSB\w+Exception$/);
    expect(r.body.description).toEqual(expect.any(String));
    const visible = await getJson<SppJobSession>(sim, `/api/endeavour/jobsession/${IBM_SAMPLE_SESSION_ID}`, operator);
    expect(visible.status).toBe(200);
  });

  it('shows the catalog operator only catalog sessions, and counts only those', async () => {
    const body = await list(sim, operator, { pageSize: 10000 });
    const expected = sim.list({ user: 'catalog-operator' });
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(sim.list().length);
    expect(body.total).toBe(expected.length);
    expect(body.sessions.every((s) => s.type === 'catalog')).toBe(true);
    expect(body.sessions.map((s) => s.id)).toEqual(expected.map((s) => s.id));
    const filtered = await getJson<SppJobSessionList>(
      sim,
      `/api/endeavour/jobsession?filter=${encodeURIComponent('[{"property":"type","value":"protection"}]')}`,
      operator,
    );
    expect(filtered.body.total).toBe(0);
  });

  it('honours custom users and their allowed types', async () => {
    const custom = await startSimulator({ size: 200, now: NOW, users: [{ username: 'ops', password: 's3cret', allowedTypes: ['maintenance'] }] });
    try {
      await expect(login(custom)).rejects.toThrow(/401/);
      const sid = await login(custom, { username: 'ops', password: 's3cret' });
      const body = await list(custom, sid, { pageSize: 1000 });
      expect(body.total).toBeGreaterThan(0);
      expect(body.sessions.every((s) => s.type === 'maintenance')).toBe(true);
    } finally {
      await custom.close();
    }
  });
});
