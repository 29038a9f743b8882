/**
 * Several replicas sharing state through a real redis-server: each replica a real gateway
 * process (`node --import tsx src/main.ts`) in pass-through mode over one in-process simulator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { ADMIN, CATALOG_OPERATOR, NOW, basic } from '../support/harness.js';
import { redisServerPath, startRedis, warnIfNoRedis, type RedisServer } from '../support/redis.js';
import { eventually, startReplica, type Replica } from './support.js';

warnIfNoRedis('test/replicas/replicas.test.ts');

const SESSION_SECRET = 'replica-test-session-secret-0123456789';
const logins = (sim: Simulator, user: string) => sim.requests.filter((r) => r.method === 'POST' && r.path === '/api/endeavour/session' && r.user === user);
const listCalls = (sim: Simulator) => sim.requests.filter((r) => r.method === 'GET' && r.path === '/api/endeavour/jobsession');
const page = (first: number) => `{ jobSessions(first: ${first}) { nodes { sessionId status } } }`;

describe.skipIf(!redisServerPath)('replicas sharing state through Redis', () => {
  let redis: RedisServer;
  let sim: Simulator;
  let a: Replica;
  let b: Replica;
  const secrets: string[] = [ADMIN.password, CATALOG_OPERATOR.password, ADMIN.username, CATALOG_OPERATOR.username];
  const env = () => ({
    SPP_URL: sim.url,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: 'replicas-test:',
    REDIS_TIMEOUT_MS: '300',
    REDIS_LEASE_MS: '5000',
    CURSOR_SECRET: 'replica-test-cursor-secret',
    SESSION_SECRET,
    SPP_CACHE_TTL_MS: '60000',
  });

  beforeAll(async () => {
    redis = await startRedis();
    // SPP answering in 400 ms keeps a GET in flight while the other replica's requests arrive.
    sim = await startSimulator({ seed: 1, now: NOW, size: 300, host: '127.0.0.1', latency: { fixedMs: 400 } });
    [a, b] = await Promise.all([startReplica(env()), startReplica(env())]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await sim?.close();
    await redis?.stop();
  });

  it('logs a pass-through Basic user in to SPP once for the whole cluster', async () => {
    const first = await a.gql(page(3), basic(CATALOG_OPERATOR));
    const second = await b.gql(page(4), basic(CATALOG_OPERATOR));
    expect([first.status, second.status, first.body.errors, second.body.errors]).toEqual([200, 200, undefined, undefined]);
    expect(logins(sim, CATALOG_OPERATOR.username)).toHaveLength(1);
  });

  it('sends 50 identical queries arriving at two replicas at the same moment to SPP once', async () => {
    await Promise.all([a.gql(page(1), basic(ADMIN)), b.gql(page(2), basic(ADMIN))]); // logged in beforehand
    sim.clearRequests();
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).gql(page(7), basic(ADMIN))));
    for (const answer of answers) expect(answer).toEqual(answers[0]);
    expect(answers[0]!.body.data.jobSessions.nodes).toHaveLength(7);
    expect(listCalls(sim)).toHaveLength(1);
    expect(logins(sim, ADMIN.username)).toHaveLength(0);
  });

  it('answers from the shared cache on the second replica what the first asked SPP for', async () => {
    sim.clearRequests();
    const keptBefore = await b.metric('shared_flights_total{outcome="kept"}');
    const onA = await a.gql(page(9), basic(ADMIN));
    expect(listCalls(sim)).toHaveLength(1);
    const onB = await b.gql(page(9), basic(ADMIN));
    expect(onB).toEqual(onA);
    expect(listCalls(sim)).toHaveLength(1);
    expect((await b.metric('shared_flights_total{outcome="kept"}')) - keptBefore).toBe(1);
  });

  it('accepts a createSession token on every replica and after a restart; deleteSession on one signs it out everywhere', async () => {
    const created = await a.gql(`mutation { createSession(username: "${CATALOG_OPERATOR.username}", password: "${CATALOG_OPERATOR.password}") { token } }`);
    const token: string = created.body.data.createSession.token;
    secrets.push(token);
    const bearer = { authorization: `Bearer ${token}` };
    expect((await b.gql(page(5), bearer)).body).toEqual({ data: { jobSessions: { nodes: expect.any(Array) } } });

    await a.stop();
    a = await startReplica(env());
    expect((await a.gql(page(6), bearer)).body).toEqual({ data: { jobSessions: { nodes: expect.any(Array) } } });

    expect((await b.gql('mutation { deleteSession }', bearer)).body).toEqual({ data: { deleteSession: true } });
    for (const replica of [a, b]) {
      const after = await replica.gql(page(11), bearer);
      expect(after.status).toBe(401);
      expect(after.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
  }, 90_000);

  it('keeps nothing secret in Redis in clear: no session id, token, password or user name in any key or value', async () => {
    const entries = await redis.dump();
    expect(entries.length).toBeGreaterThan(0);
    for (const { key, value } of entries) {
      expect(key.startsWith('replicas-test:')).toBe(true);
      // SPP session ids are 32 hex digits (simulator and SPP alike).
      expect(`${key} ${value}`).not.toMatch(/[0-9a-f]{32}/i);
      for (const secret of secrets) expect(`${key} ${value}`).not.toContain(secret);
    }
  });

  it('fails no query while Redis is killed and restarted mid-traffic; the log and /metrics show the degradation', async () => {
    const errorsBefore = await a.metric('shared_state_errors_total{operation="get"}');
    let running = true;
    const outcomes: Array<{ status: number; errors: unknown }> = [];
    let n = 0;
    const worker = async (replica: Replica) => {
      while (running) {
        const answer = await replica.gql(page(1 + (n++ % 40)), basic(ADMIN));
        outcomes.push({ status: answer.status, errors: answer.body.errors });
      }
    };
    const workers = [worker(a), worker(b), worker(a), worker(b)];
    await eventually(() => outcomes.length >= 8);
    await redis.kill();
    const degraded = await eventually(
      async () =>
        /Redis is unreachable or slow/.test(a.output()) && /Redis is unreachable or slow/.test(b.output()) && (await a.metric('shared_state_degraded')) === 1,
    );
    const duringOutage = outcomes.length;
    await eventually(() => outcomes.length >= duringOutage + 8);
    await redis.start();
    const recovered = await eventually(() => /Redis answers again/.test(a.output()) && /Redis answers again/.test(b.output()));
    const afterRecovery = outcomes.length;
    await eventually(() => outcomes.length >= afterRecovery + 8);
    running = false;
    await Promise.all(workers);

    expect({ degraded, recovered }).toEqual({ degraded: true, recovered: true });
    expect(outcomes.filter((o) => o.status !== 200 || o.errors !== undefined)).toEqual([]);
    expect(outcomes.length).toBeGreaterThanOrEqual(afterRecovery + 8);
    expect(await a.metric('shared_state_degraded')).toBe(0);
    expect(await a.metric('shared_state_errors_total{operation="get"}')).toBeGreaterThan(errorsBefore);
  }, 120_000);
});
