/**
 * Issue 22, items 1, 2 and 8: replicas on Redis when Redis or a replica fails. Each replica is a
 * real gateway process (`node --import tsx src/main.ts`) in pass-through mode over one in-process
 * simulator, sharing a real redis-server.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { ADMIN, NOW, basic } from '../support/harness.js';
import { redisServerPath, startRedis, warnIfNoRedis, type RedisServer } from '../support/redis.js';
import { eventually, startReplica, type Replica } from './support.js';

warnIfNoRedis('test/replicas/redis-outages.test.ts');

const PREFIX = 'outages-test:';
const listCalls = (sim: Simulator) => sim.requests.filter((r) => r.method === 'GET' && r.path === '/api/endeavour/jobsession');
const actionPosts = (sim: Simulator) => sim.requests.filter((r) => r.method === 'POST' && r.path !== '/api/endeavour/session');
const page = (first: number) => `{ jobSessions(first: ${first}) { nodes { sessionId status } } }`;
const CANCEL = `mutation Cancel($input: CancelJobSessionInput!) { cancelJobSession(input: $input) { clientMutationId jobSession { sessionId status } } }`;

/** Running sessions admin may cancel that no earlier test used. */
function cancelable(sim: Simulator, used: Set<string>): string {
  for (let i = 0; i < 20; i++) {
    const found = sim.list({ user: 'admin' }).find((s) => s.links?.cancel !== undefined && !used.has(s.id));
    if (found) {
      used.add(found.id);
      return found.id;
    }
    sim.step({ insert: 10 });
  }
  throw new Error('no cancelable session');
}

describe.skipIf(!redisServerPath)('replicas when Redis or a replica fails', () => {
  let redis: RedisServer;
  let sim: Simulator;
  let a: Replica;
  let b: Replica;
  const used = new Set<string>();
  const env = () => ({
    SPP_URL: sim.url,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: PREFIX,
    REDIS_TIMEOUT_MS: '300',
    // Long: a waiter that hears no notice waits this long, then asks SPP itself.
    REDIS_LEASE_MS: '15000',
    CURSOR_SECRET: 'outages-test-cursor-secret',
    SESSION_SECRET: 'outages-test-session-secret-0123456789',
    SPP_RESPONSE_TIMEOUT_MS: '20000',
  });

  beforeAll(async () => {
    redis = await startRedis();
    sim = await startSimulator({ seed: 1, now: NOW, size: 300, host: '127.0.0.1' });
    // Redis absent when the replicas start.
    await redis.kill();
    [a, b] = await Promise.all([startReplica(env()), startReplica(env())]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await sim?.close();
    await redis?.stop();
  });

  it('shares single flights and action outcomes across replicas once a Redis that was absent at their start comes up', async () => {
    expect(/Redis is unreachable or slow/.test(a.output()) && /Redis is unreachable or slow/.test(b.output())).toBe(true);
    await redis.start();
    const probe = new Redis(redis.url);
    try {
      // Both replicas' commands and subscriptions are back (ioredis reconnects every 2 s at most).
      const ready = await eventually(async () => {
        const [, flight] = (await probe.pubsub('NUMSUB', `${PREFIX}flight`)) as [string, number];
        return flight === 2 && (await a.metric('shared_state_degraded')) === 0 && (await b.metric('shared_state_degraded')) === 0;
      }, 30_000);
      expect(ready).toBe(true);
    } finally {
      probe.disconnect();
    }
    // Logged in beforehand, so only the list is in flight.
    await Promise.all([a.gql(page(1), basic(ADMIN)), b.gql(page(2), basic(ADMIN))]);

    // A single flight joined across replicas: one GET, the joiner told by the leader's notice.
    sim.configure({ latency: { fixedMs: 600 } });
    sim.clearRequests();
    const [onA, onB] = await Promise.all([a.gql(page(7), basic(ADMIN)), new Promise((r) => setTimeout(r, 150)).then(() => b.gql(page(7), basic(ADMIN)))]);
    expect(onB).toEqual(onA);
    expect(listCalls(sim)).toHaveLength(1);
    sim.configure({ latency: { fixedMs: 0 } });

    // A duplicate action on the other replica gets the first outcome when it is settled, not after the claim's whole life.
    const id = cancelable(sim, used);
    sim.clearRequests();
    sim.failNext({ kind: 'delay', ms: 1_500, method: 'POST', path: `/api/endeavour/jobsession/${id}` });
    const input = { id, catalogCompletedObjects: false, clientMutationId: 'after-redis-came-up' };
    const first = a.gql(CANCEL, basic(ADMIN), { input });
    expect(await eventually(() => actionPosts(sim).length === 1, 10_000)).toBe(true);
    const duplicate = await b.gql(CANCEL, basic(ADMIN), { input });
    expect(duplicate).toEqual(await first);
    expect(duplicate.body.data?.cancelJobSession?.clientMutationId).toBe('after-redis-came-up');
    expect(actionPosts(sim)).toHaveLength(1);
  }, 90_000);

  it("answers a retry after a replica was SIGKILLed between its claim and SPP's answer with 'outcome unknown' within the claim's life, with one POST overall", async () => {
    const id = cancelable(sim, used);
    await a.gql(page(1), basic(ADMIN));
    sim.clearRequests();
    // SPP holds the POST long enough for the replica to die while it waits.
    sim.failNext({ kind: 'delay', ms: 3_000, method: 'POST', path: `/api/endeavour/jobsession/${id}` });
    const input = { id, catalogCompletedObjects: false, clientMutationId: 'replica-died' };
    const doomed = a.gql(CANCEL, basic(ADMIN), { input }).catch((error: unknown) => error);
    expect(await eventually(() => actionPosts(sim).length === 1, 10_000)).toBe(true);
    a.child.kill('SIGKILL');
    await doomed;

    const started = Date.now();
    const retry = await b.gql(CANCEL, basic(ADMIN), { input });
    const waitedMs = Date.now() - started;
    expect(retry.body).toEqual({
      data: null,
      errors: [
        {
          message:
            'The first submission with this key did not finish (its gateway replica stopped): whether SPP acted is unknown. Check the job before submitting again with a new clientMutationId.',
          path: ['cancelJobSession'],
          locations: expect.any(Array),
          extensions: { code: 'UPSTREAM_UNAVAILABLE' },
        },
      ],
    });
    // The claim lives 5 minutes (IN_FLIGHT_TTL_MS); the retry learns within the liveness period (10 s) after the death.
    expect(waitedMs).toBeLessThan(60_000);
    // SPP acted on the one POST; later retries, on any replica, act no more.
    expect(await eventually(() => sim.get(id)?.status !== 'RUNNING', 10_000)).toBe(true);
    const again = await b.gql(CANCEL, basic(ADMIN), { input });
    expect(again.body).toEqual(retry.body);
    expect(actionPosts(sim)).toHaveLength(1);
    a = await startReplica(env());
    const onRestarted = await a.gql(CANCEL, basic(ADMIN), { input });
    expect(onRestarted.body).toEqual(retry.body);
    expect(actionPosts(sim)).toHaveLength(1);
  }, 120_000);

  it('signs a token out durably: a failed SPP logout is reported, and a replica started afterwards refuses the token too', async () => {
    const created = await b.gql(`mutation { createSession(username: "${ADMIN.username}", password: "${ADMIN.password}") { token } }`);
    const bearer = { authorization: `Bearer ${created.body.data.createSession.token as string}` };
    expect((await a.gql(page(2), bearer)).status).toBe(200);
    sim.failNext({ kind: 'status', status: 500, method: 'DELETE', path: '/api/endeavour/session' });
    const signedOut = await b.gql('mutation { deleteSession }', bearer);
    expect(signedOut.body).toEqual({
      data: null,
      errors: [
        {
          message:
            'The token is signed out of the gateway, but SPP did not confirm ending its session: SPP ends it after its idle timeout (45 minutes by default).',
          path: ['deleteSession'],
          locations: expect.any(Array),
          extensions: { code: 'UPSTREAM_ERROR' },
        },
      ],
    });
    // SPP still accepts the session: only the gateway's record keeps the token out, on every replica, a new one included.
    await a.stop();
    a = await startReplica(env());
    for (const replica of [a, b]) {
      const after = await replica.gql(page(3), bearer);
      expect({ status: after.status, code: after.body.errors?.[0]?.extensions?.code }).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
    }
  }, 90_000);
});
