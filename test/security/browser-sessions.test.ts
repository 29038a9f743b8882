import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { BrowserSessions, LOCAL_COOKIE, SECURE_COOKIE } from '../../src/identity/browser-sessions.js';
import { createSharedState } from '../../src/state/index.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/observability/logger.js';
import { startHarness, type Harness } from '../support/harness.js';

const SECRET = 'browser-session-test-secret-0123456789abcdef';
const MONITOR = { username: 'monitor', password: 'monitor-password' };
const ADMIN = { username: 'admin', password: 'admin-password' };
const SESSIONS = '{ jobSessions(first: 50) { nodes { id availableActions } } }';

const base = (h: Harness) => h.gateway.url.replace(/\/graphql$/, '');

async function login(h: Harness, user: { username: string; password: string }, headers: Record<string, string> = {}) {
  const response = await fetch(`${base(h)}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(user),
  });
  return { status: response.status, setCookie: response.headers.get('set-cookie'), body: (await response.json()) as any };
}
/** The `name=value` part of a Set-Cookie header, as a browser sends it back. */
const cookieOf = (setCookie: string | null) => setCookie!.split(';')[0]!;

async function graphql(h: Harness, cookie: string, headers: Record<string, string> = {}) {
  const response = await fetch(h.gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie, ...headers },
    body: JSON.stringify({ query: SESSIONS }),
  });
  return { status: response.status, body: (await response.json()) as any };
}

describe('browser sessions in pass-through mode (POST /auth/login, /auth/logout, GET /auth/session)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ sim: { size: 300 }, auth: { mode: 'pass-through' }, env: { SESSION_SECRET: SECRET } });
  });
  afterAll(() => h?.close());

  it('refuses wrong SPP credentials with 401 and no cookie, and a malformed body with 400', async () => {
    const wrong = await login(h, { username: 'admin', password: 'nope' });
    expect(wrong).toEqual({
      status: 401,
      setCookie: null,
      body: { errors: [{ message: 'SPP refused the user name or password.', extensions: { code: 'UNAUTHENTICATED' } }] },
    });
    const malformed = await login(h, { username: 'admin' } as never);
    expect(malformed.status).toBe(400);
    expect(malformed.body.errors[0].message).toBe('Invalid sign-in: expected {"username": "...", "password": "..."} with both non-empty.');
  });

  it('signs in: the cookie is __Host- prefixed, HttpOnly, Secure, SameSite=Lax, with the absolute lifetime as Max-Age, and holds no SPP session id in clear', async () => {
    h.sim.clearRequests();
    const { status, setCookie, body } = await login(h, ADMIN, { 'x-forwarded-proto': 'https' });
    expect(status).toBe(200);
    expect(setCookie).toMatch(new RegExp(`^${SECURE_COOKIE}=v1\\.[A-Za-z0-9_-]+; Path=/; Max-Age=43200; HttpOnly; SameSite=Lax; Secure$`));
    expect(body).toEqual({
      signedIn: true,
      via: 'spp',
      user: { name: 'admin', type: expect.any(String) },
      roles: ['viewer', 'operator'],
      idleExpiresAt: expect.any(String),
      expiresAt: expect.any(String),
    });
    expect(Date.parse(body.idleExpiresAt) - Date.now()).toBeGreaterThan(29 * 60_000);
    const logins = h.sim.requests.filter((r) => r.path === '/api/endeavour/session');
    expect(logins).toHaveLength(1);
    // Sealed: nothing of its content reads in clear.
    expect(Buffer.from(cookieOf(setCookie).split('=')[1]!.slice(3), 'base64url').toString('latin1')).not.toMatch(/admin|"spp"/);
  });

  it('on plain http://localhost the cookie is neither Secure nor __Host- prefixed (browsers refuse Secure there), still HttpOnly and SameSite=Lax', async () => {
    const { setCookie } = await login(h, ADMIN);
    expect(setCookie).toMatch(new RegExp(`^${LOCAL_COOKIE}=v1\\.[A-Za-z0-9_-]+; Path=/; Max-Age=43200; HttpOnly; SameSite=Lax$`));
  });

  it('the cookie authenticates GraphQL as that SPP user: monitor sees no actions, admin sees SPP offer cancel', async () => {
    const admin = cookieOf((await login(h, ADMIN)).setCookie);
    const monitor = cookieOf((await login(h, MONITOR)).setCookie);
    const asAdmin = await graphql(h, admin);
    const asMonitor = await graphql(h, monitor);
    expect(asAdmin.status).toBe(200);
    expect(asMonitor.status).toBe(200);
    const actions = (r: any) => (r.body.data.jobSessions.nodes as Array<{ availableActions: string[] }>).flatMap((n) => n.availableActions);
    expect(actions(asAdmin)).toContain('CANCEL');
    expect(actions(asMonitor)).toEqual([]);
  });

  it('GET /auth/session says who is signed in, and signedIn: false without a cookie', async () => {
    const cookie = cookieOf((await login(h, MONITOR)).setCookie);
    const signedIn = await fetch(`${base(h)}/auth/session`, { headers: { cookie } });
    expect(signedIn.headers.get('cache-control')).toBe('no-store');
    expect(await signedIn.json()).toEqual({
      signedIn: true,
      via: 'spp',
      user: { name: 'monitor', type: expect.any(String) },
      roles: ['viewer', 'operator'],
      idleExpiresAt: expect.any(String),
      expiresAt: expect.any(String),
    });
    expect(await (await fetch(`${base(h)}/auth/session`)).json()).toEqual({ signedIn: false, signIn: { password: true, oidc: false } });
  });

  it('refuses a cookie-carrying POST from another origin with 403 before anything runs; the same request from an allowed origin passes', async () => {
    const cookie = cookieOf((await login(h, ADMIN)).setCookie);
    h.resetUpstreamCalls();
    const foreign = await graphql(h, cookie, { origin: 'https://evil.example' });
    expect(foreign).toEqual({
      status: 403,
      body: {
        errors: [
          {
            message: 'Origin "https://evil.example" may not use this gateway\'s session cookie (same origin only, or list it in CORS_ORIGINS).',
            extensions: { code: 'FORBIDDEN' },
          },
        ],
      },
    });
    expect(h.upstreamCalls()).toEqual([]);
    const own = await graphql(h, cookie, { origin: base(h) });
    expect(own.status).toBe(200);
  });

  it('refuses a cookie-carrying WebSocket upgrade from another origin (403), and a login posted from another origin', async () => {
    const cookie = cookieOf((await login(h, ADMIN)).setCookie);
    const socket = new WebSocket(h.gateway.url.replace(/^http/, 'ws'), 'graphql-transport-ws', { headers: { cookie, origin: 'https://evil.example' } });
    const status = await new Promise<number | string>((resolve) => {
      socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      socket.on('open', () => resolve('open'));
      socket.on('error', () => undefined);
    });
    socket.terminate();
    expect(status).toBe(403);
    const crossLogin = await login(h, ADMIN, { origin: 'https://evil.example' });
    expect(crossLogin.status).toBe(403);
    expect(crossLogin.setCookie).toBeNull();
  });

  it('signs out: the cookie is removed, the SPP session logged out, and the old cookie refused with 401 afterwards', async () => {
    const cookie = cookieOf((await login(h, ADMIN)).setCookie);
    expect((await graphql(h, cookie)).status).toBe(200);
    h.sim.clearRequests();
    const out = await fetch(`${base(h)}/auth/logout`, { method: 'POST', headers: { cookie } });
    expect(out.status).toBe(200);
    expect(await out.json()).toEqual({ signedOut: true });
    expect(out.headers.get('set-cookie')).toBe(`${LOCAL_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax`);
    expect(h.sim.requests.filter((r) => r.method === 'DELETE').map((r) => r.path)).toEqual(['/api/endeavour/session']);
    const after = await graphql(h, cookie);
    expect(after.status).toBe(401);
    expect(after.body.errors[0]).toMatchObject({ message: 'Your session has ended: sign in again.', extensions: { code: 'UNAUTHENTICATED' } });
    expect(await (await fetch(`${base(h)}/auth/session`, { headers: { cookie } })).json()).toEqual({
      signedIn: false,
      ended: true,
      signIn: { password: true, oidc: false },
    });
  });

  /** A graphql-ws connection of the cookie, once acknowledged: resolves to how it closes. */
  async function openSocket(cookie: string): Promise<{ closed: Promise<{ code: number; reason: string }> }> {
    const socket = new WebSocket(h.gateway.url.replace(/^http/, 'ws'), 'graphql-transport-ws', { headers: { cookie } });
    const acked = new Promise<void>((resolve) =>
      socket.on('message', (data) => (JSON.parse((data as Buffer).toString('utf8')) as { type: string }).type === 'connection_ack' && resolve()),
    );
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init' })));
    await acked;
    return { closed };
  }

  it('signs out: an open WebSocket of the cookie is closed within seconds, saying why', async () => {
    const cookie = cookieOf((await login(h, ADMIN)).setCookie);
    const { closed } = await openSocket(cookie);
    expect((await fetch(`${base(h)}/auth/logout`, { method: 'POST', headers: { cookie } })).status).toBe(200);
    expect(await closed).toEqual({
      code: 4403,
      reason: expect.stringMatching(/^Forbidden: Signed out: the session or token of this connection was signed out/),
    });
  });

  it('signs out a session past its idle time whose WebSocket still runs: the socket is closed, and a sign-out again finds nothing live', async () => {
    const cookie = cookieOf((await login(h, ADMIN)).setCookie);
    const { closed } = await openSocket(cookie);
    // The live view is the only use for longer than SESSION_IDLE_MS (30 min): the cookie's idle time has passed.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 31 * 60_000 });
    try {
      const signOut = async () => await (await fetch(`${base(h)}/auth/logout`, { method: 'POST', headers: { cookie } })).json();
      expect(await signOut()).toEqual({ signedOut: false });
      expect(await closed).toEqual({
        code: 4403,
        reason: expect.stringMatching(/^Forbidden: Signed out: the session or token of this connection was signed out/),
      });
      expect(await signOut()).toEqual({ signedOut: false });
    } finally {
      vi.useRealTimers();
    }
  });

  it('ends an open WebSocket of the cookie when the session reaches its absolute lifetime (SESSION_MAX_MS), which a live view does not extend', async () => {
    const cookie = cookieOf((await login(h, ADMIN)).setCookie);
    const { closed } = await openSocket(cookie);
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 12 * 3_600_000 });
    try {
      expect(await closed).toEqual({
        code: 4403,
        reason: expect.stringMatching(/^Forbidden: Signed out: the session or token of this connection was signed out or reached the end/),
      });
    } finally {
      vi.useRealTimers();
    }
  });

  it('a cookie altered by the browser is refused', async () => {
    const cookie = cookieOf((await login(h, ADMIN)).setCookie);
    const altered = cookie.slice(0, -4) + (cookie.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect((await graphql(h, altered)).status).toBe(401);
  });
});

describe('BrowserSessions: idle timeout and absolute lifetime', () => {
  const idleMs = 90_000;
  const maxMs = 10 * 60_000;
  const make = async () => {
    const { env } = loadConfig({});
    const state = await createSharedState(env, { secret: undefined, logger: createLogger('silent'), metrics: undefined as never });
    return new BrowserSessions(Buffer.from(SECRET), state, idleMs, maxMs);
  };
  const request = { headers: { host: 'localhost:1' }, socket: {} } as never;
  const cookieHeader = (setCookie: string) => ({ cookie: setCookie.split(';')[0] });

  it('a session unused for the idle time has ended, one used in time goes on until the absolute lifetime', async () => {
    const sessions = await make();
    const t0 = 1_000_000;
    const content = sessions.start({ via: 'spp', spp: 'x', sub: 'admin', roles: ['viewer'] }, t0);
    const issued = cookieHeader(sessions.cookie(request, content, t0));
    expect(sessions.read(issued, t0 + idleMs - 1)).toMatchObject({ sub: 'admin' });
    expect(sessions.read(issued, t0 + idleMs)).toBe('ended');
    // Used every 61 s: re-issued each time (the idle clock moves), until the absolute end.
    let cookie = issued;
    for (let t = t0 + 61_000; t < t0 + maxMs; t += 61_000) {
      const read = sessions.read(cookie, t);
      expect(read).toMatchObject({ sub: 'admin' });
      cookie = cookieHeader(sessions.refreshed(request, read as never, t)!);
    }
    expect(sessions.read(cookie, t0 + maxMs)).toBe('ended');
    sessions.close();
  });
});
