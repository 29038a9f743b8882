/**
 * One consumer, one budget across replicas: two real gateway processes on one real redis-server
 * take from the same bucket (src/state/redis-budget.ts), and fall back to their own while Redis is down.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { redisServerPath, startRedis, warnIfNoRedis, type RedisServer } from '../support/redis.js';
import { replicaEnv, startReplica, type Replica } from './support.js';

warnIfNoRedis('test/replicas/budgets.test.ts');

const TOKEN_A = 'replica-budget-token-a-0123456789';
const TOKEN_B = 'replica-budget-token-b-0123456789';
/** Named apart, so that concurrent requests are not identical (identical ones in flight share one execution and its charge). */
const query = (name: string) => `query ${name} { jobSessions(first: 2) { nodes { sessionId status } } }`;
const POINTS = 1000;

async function post(replica: Replica, token: string, name = 'Q') {
  const response = await fetch(replica.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: query(name) }),
  });
  const body = (await response.json()) as { extensions: { cost: { requestedQueryCost: number; throttleStatus: { currentlyAvailable: number } } } };
  return { status: response.status, cost: body.extensions.cost };
}

describe.skipIf(!redisServerPath)('a consumer’s budget across replicas', () => {
  let redis: RedisServer;
  let sim: Simulator;
  let a: Replica;
  let b: Replica;

  beforeAll(async () => {
    redis = await startRedis();
    sim = await startSimulator({ seed: 1, size: 50, host: '127.0.0.1' });
    const env = {
      ...replicaEnv('budget-replicas', sim.url, redis.url),
      GATEWAY_TOKENS: `${TOKEN_A},${TOKEN_B}`,
      REDIS_TIMEOUT_MS: '300',
      // A slow refill (1 point a second): what the test spends stays spent while it runs.
      QUOTA_POINTS: String(POINTS),
      QUOTA_RESTORE_PER_S: '1',
    };
    [a, b] = await Promise.all([startReplica(env), startReplica(env)]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await sim?.close();
    await redis?.stop();
  });

  it('grants one consumer one budget across two replicas (within 5 %), and another consumer its own', async () => {
    const started = Date.now();
    const granted = { a: 0, b: 0 };
    let cost = 0;
    // Twice the budget's worth of requests, 8 at a time, alternating between the replicas.
    for (let round = 0; round < 25; round++) {
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, i) => i).map(async (i) => {
          const replica = i % 2 ? a : b;
          return { replica, ...(await post(replica, TOKEN_A, `Q${round}_${i}`)) };
        }),
      );
      for (const answer of answers) {
        cost = answer.cost.requestedQueryCost;
        expect([200, 429]).toContain(answer.status);
        if (answer.status === 200) granted[answer.replica === a ? 'a' : 'b'] += answer.cost.requestedQueryCost;
      }
    }
    const refilled = ((Date.now() - started) / 1000) * 1;
    const total = granted.a + granted.b;
    console.info(
      `budget across replicas: ${total} points granted of ${POINTS} (+${refilled.toFixed(1)} refilled), a ${granted.a}, b ${granted.b}, cost ${cost}`,
    );
    expect(200 * cost).toBeGreaterThan(2 * POINTS);
    expect(granted.a).toBeGreaterThan(0);
    expect(granted.b).toBeGreaterThan(0);
    expect(total).toBeGreaterThanOrEqual(POINTS * 0.95);
    // What refilled while the test ran (1 point a second) is budget too: on a loaded machine the run takes longer.
    expect(total).toBeLessThanOrEqual((POINTS + refilled) * 1.05);

    const other = await post(a, TOKEN_B);
    expect(other).toEqual({
      status: 200,
      cost: { requestedQueryCost: cost, throttleStatus: { maximumAvailable: POINTS, currentlyAvailable: POINTS - cost, restoreRate: 1 } },
    });
    expect((await post(b, TOKEN_B)).cost.throttleStatus.currentlyAvailable).toBeLessThanOrEqual(POINTS - 2 * cost + 1);
  });
});
