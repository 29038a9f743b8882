/**
 * Who the gateway is on each of several SPP servers (issue 21 with issue 19's callers): one
 * Authenticator decides who calls; each server is spoken to as it knows that caller. Three
 * in-process simulators; "cairo" has its own directory (the admin password differs there).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config.js';
import { createGateway, type Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/observability/logger.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { ADMIN, NOW, basic, withoutCost } from '../support/harness.js';
import { redisServerPath, startRedis, warnIfNoRedis } from '../support/redis.js';

warnIfNoRedis('test/gateway/multi-server-identity.test.ts');

const NAMES = ['athens', 'berlin', 'cairo'] as const;
const CAIRO_ADMIN = { username: 'admin', password: 'cairo-password' };
const TOKEN = 'multi-server-identity-token';

const LIST = `{ jobSessions(first: 200) { edges { node { server { name } } } } }`;

let sims: Map<string, Simulator>;
const gateways: Gateway[] = [];

async function gatewayOver(
  auth: 'pass-through' | 'service-account',
  cairoPassword = CAIRO_ADMIN.password,
  extra: Record<string, string> = {},
): Promise<Gateway> {
  const { env } = loadConfig({
    ...{ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', CURSOR_SECRET: 'identity-test-cursor-secret', SPP_RETRY_LIMIT: '0' },
    ...extra,
  });
  const account = (name: string) => ({ serviceAccount: name === 'cairo' ? { username: 'admin', password: cairoPassword } : ADMIN });
  const gateway = await createGateway({
    env,
    sppUrl: sims.get('athens')!.url,
    servers: NAMES.map((name) => ({ name, url: sims.get(name)!.url, ...(auth === 'service-account' ? account(name) : {}) })),
    auth: auth === 'pass-through' ? { mode: 'pass-through' } : { mode: 'service-account', serviceAccount: ADMIN, tokens: [TOKEN], allowAnonymous: false },
    logger: createLogger('silent', new Writable({ write: (_c, _e, done) => done() })),
  });
  gateways.push(gateway);
  return gateway;
}

async function post(gateway: Gateway, query: string, headers: Record<string, string>, variables: Record<string, unknown> = {}) {
  const response = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: withoutCost(await response.json()) as any };
}

/** How many sessions of each server an answer holds. */
function perServer(body: any): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const edge of body.data.jobSessions.edges) counts[edge.node.server.name] = (counts[edge.node.server.name] ?? 0) + 1;
  return counts;
}

const logins = (name: string) => sims.get(name)!.requests.filter((r) => r.method === 'POST' && r.path === '/api/endeavour/session');
const logouts = (name: string) => sims.get(name)!.requests.filter((r) => r.method === 'DELETE' && r.path.startsWith('/api/endeavour/session'));

beforeAll(async () => {
  sims = new Map();
  sims.set('athens', await startSimulator({ seed: 11, size: 30, now: NOW }));
  sims.set('berlin', await startSimulator({ seed: 12, size: 20, now: NOW }));
  sims.set('cairo', await startSimulator({ seed: 13, size: 25, now: NOW, users: [{ ...CAIRO_ADMIN }] }));
});

afterEach(async () => {
  for (const gateway of gateways.splice(0)) await gateway.stop();
  for (const sim of sims.values()) sim.clearRequests();
});

afterAll(async () => {
  for (const sim of sims?.values() ?? []) await sim.close();
});

describe('one caller, one identity per SPP server', () => {
  it('pass-through Basic: the credentials go to every server, each logs in once, and the server that refuses them is named while the others answer', async () => {
    const gateway = await gatewayOver('pass-through');
    const first = await post(gateway, LIST, basic(ADMIN));
    expect(perServer(first.body)).toEqual({ athens: 30, berlin: 20 });
    expect(first.body.errors).toEqual([
      expect.objectContaining({ path: ['jobSessions'], extensions: expect.objectContaining({ code: 'UNAUTHENTICATED', server: 'cairo' }) }),
    ]);
    await post(gateway, LIST, basic(ADMIN));
    // One login per server that accepted the user, reused by the second request.
    expect([logins('athens').length, logins('berlin').length]).toEqual([1, 1]);
    expect(logins('cairo').every((r) => r.status === 401)).toBe(true);
  });

  it('a browser sign-in holds a session on every server that accepted it; signing out ends each of them', async () => {
    const gateway = await gatewayOver('pass-through');
    const origin = new URL(gateway.url).origin;
    const signIn = await fetch(`${origin}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ADMIN),
    });
    expect(signIn.status).toBe(200);
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
    expect([logins('athens').length, logins('berlin').length, logins('cairo').length]).toEqual([1, 1, 1]);
    const read = await post(gateway, LIST, { cookie });
    expect(perServer(read.body)).toEqual({ athens: 30, berlin: 20 });
    expect(read.body.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'UNAUTHENTICATED', server: 'cairo' }) })]);
    expect(read.body.errors[0].message).toContain('SPP server "cairo"');
    // No further login: the cookie carries each server's session.
    expect([logins('athens').length, logins('berlin').length]).toEqual([1, 1]);

    const signOut = await fetch(`${origin}/auth/logout`, { method: 'POST', headers: { cookie, origin } });
    expect(signOut.status).toBeLessThan(300);
    expect([logouts('athens').length, logouts('berlin').length, logouts('cairo').length]).toEqual([1, 1, 0]);
  });

  it('a createSession token reads every server that accepted the sign-in, and deleteSession logs each of them out', async () => {
    const gateway = await gatewayOver('pass-through');
    const created = await post(
      gateway,
      'mutation($u: String!, $p: String!) { createSession(username: $u, password: $p) { token } }',
      {},
      { u: 'admin', p: ADMIN.password },
    );
    const token = created.body.data.createSession.token as string;
    const read = await post(gateway, LIST, { authorization: `Bearer ${token}` });
    expect(perServer(read.body)).toEqual({ athens: 30, berlin: 20 });
    expect(read.body.errors.map((e: any) => e.extensions.server)).toEqual(['cairo']);

    const deleted = await post(gateway, 'mutation { deleteSession }', { authorization: `Bearer ${token}` });
    expect(deleted.body).toEqual({ data: { deleteSession: true } });
    expect([logouts('athens').length, logouts('berlin').length]).toEqual([1, 1]);
  });

  it('a sign-in the first server refuses is refused, and sessions the other servers opened meanwhile are logged out', async () => {
    const gateway = await gatewayOver('pass-through');
    const created = await post(
      gateway,
      'mutation($u: String!, $p: String!) { createSession(username: $u, password: $p) { token } }',
      {},
      { u: 'admin', p: CAIRO_ADMIN.password },
    );
    expect(created.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(created.body.data).toBeNull();
    // cairo accepted this password; athens (the first) did not, so cairo's session is ended.
    await expect.poll(() => logouts('cairo').length).toBe(1);
  });

  it('service accounts: each server is read as its own account, a gateway token reaches all three', async () => {
    const gateway = await gatewayOver('service-account');
    const read = await post(gateway, LIST, { authorization: `Bearer ${TOKEN}` });
    expect(read.body.errors).toBeUndefined();
    expect(perServer(read.body)).toEqual({ athens: 30, berlin: 20, cairo: 25 });
    for (const name of NAMES) expect(logins(name).map((r) => r.status)).toEqual([200]);
  });

  it("a server whose service account is wrong is MISCONFIGURED (the operator's fault, 503 code, named), the others answer", async () => {
    const gateway = await gatewayOver('service-account', 'wrong-password');
    const read = await post(gateway, LIST, { authorization: `Bearer ${TOKEN}` });
    expect(perServer(read.body)).toEqual({ athens: 30, berlin: 20 });
    expect(read.body.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'UPSTREAM_MISCONFIGURED', server: 'cairo' }) })]);
    const servers = await post(gateway, '{ sppServers { name status } }', { authorization: `Bearer ${TOKEN}` });
    expect(servers.body.data.sppServers).toEqual([
      { name: 'athens', status: 'UP' },
      { name: 'berlin', status: 'UP' },
      { name: 'cairo', status: 'MISCONFIGURED' },
    ]);
  });

  it('sppServers asked first (nothing read yet) logs in where it pings: a refused service account shows MISCONFIGURED, not UP', async () => {
    const gateway = await gatewayOver('service-account', 'wrong-password');
    const servers = await post(gateway, '{ sppServers { name status } }', { authorization: `Bearer ${TOKEN}` });
    expect(servers.body).toEqual({
      data: {
        sppServers: [
          { name: 'athens', status: 'UP' },
          { name: 'berlin', status: 'UP' },
          { name: 'cairo', status: 'MISCONFIGURED' },
        ],
      },
    });
  });
});

describe.skipIf(!redisServerPath)('several SPP servers sharing one Redis', () => {
  it("never answers one server with another's records: the same identity and request on two servers are two shared keys", async () => {
    const redis = await startRedis();
    try {
      const extra = { REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'multi-identity:', SESSION_SECRET: 'multi-identity-session-secret-0123456789' };
      const gateway = await gatewayOver('service-account', CAIRO_ADMIN.password, extra);
      // Identical reads (same service-account key, same path and query) go to the three servers at once.
      const read = await post(gateway, LIST, { authorization: `Bearer ${TOKEN}` });
      expect(read.body.errors).toBeUndefined();
      expect(perServer(read.body)).toEqual({ athens: 30, berlin: 20, cairo: 25 });
      for (const name of NAMES) expect(sims.get(name)!.requests.filter((r) => r.path === '/api/endeavour/jobsession').length).toBe(1);
    } finally {
      for (const gateway of gateways.splice(0)) await gateway.stop();
      await redis.stop();
    }
  });
});
