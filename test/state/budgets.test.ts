/**
 * Cost budgets in the shared state: the Redis script against a real redis-server (one bucket
 * for every replica, atomic under concurrent takes), and the fallback while Redis is down.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisState } from '../../src/state/redis.js';
import { InMemoryState } from '../../src/state/memory.js';
import { redisServerPath, redisStateFor, startRedis, warnIfNoRedis, type RedisServer } from '../support/redis.js';

warnIfNoRedis('test/state/budgets.test.ts');

const SECRET = Buffer.from('budget-test-session-secret-0123456789abcdef');
const policy = { points: 1000, restorePerSecond: 1 };

function replica(url: string) {
  return redisStateFor(url, { prefix: 'budget-test:', secret: SECRET, leaseMs: 1_000, timeoutMs: 200 });
}

describe('budgets in memory', () => {
  it('keeps one bucket per key', async () => {
    const budgets = new InMemoryState().budgets();
    expect((await budgets.take('a', policy, 900)).allowed).toBe(true);
    expect((await budgets.take('a', policy, 900)).allowed).toBe(false);
    expect((await budgets.take('b', policy, 900)).allowed).toBe(true);
  });
});

describe.skipIf(!redisServerPath)('budgets in Redis', () => {
  let redis: RedisServer;
  const states: RedisState[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await Promise.all(states.map((s) => s.close()));
    await redis.stop();
  });
  const start = async () => {
    const state = replica(redis.url);
    states.push(state);
    await state.start();
    return state;
  };

  it('gives a key one budget on two replicas: of 100 concurrent takes of 30 from 1000 points, exactly 33 pass', async () => {
    const [one, two] = [await start(), await start()];
    const takes = Array.from({ length: 100 }, (_, i) => (i % 2 ? one : two).budgets().take('consumer-a', policy, 30));
    const results = await Promise.all(takes);
    expect(results.filter((r) => r.allowed)).toHaveLength(33);
    const refused = results.find((r) => !r.allowed)!;
    expect(refused.available).toBeGreaterThanOrEqual(10);
    expect(refused.available).toBeLessThan(12);
    // Another key is untouched.
    expect(await one.budgets().take('consumer-b', policy, 0)).toMatchObject({ allowed: true, available: 1000 });
  });

  it('falls back to each replica’s own bucket while Redis is down, and shares again once it is back', async () => {
    const [one, two] = [await start(), await start()];
    expect((await one.budgets().take('consumer-c', policy, 600)).allowed).toBe(true);
    expect((await two.budgets().take('consumer-c', policy, 600)).allowed).toBe(false);
    await redis.kill();
    // Each replica's own bucket: full, so each grants 600 once.
    expect((await one.budgets().take('consumer-c', policy, 600)).allowed).toBe(true);
    expect((await two.budgets().take('consumer-c', policy, 600)).allowed).toBe(true);
    expect((await two.budgets().take('consumer-c', policy, 600)).allowed).toBe(false);
    await redis.start();
    await expect.poll(async () => (await one.budgets().take('consumer-d', policy, 600)).allowed, { timeout: 10_000, interval: 200 }).toBe(true);
    await expect.poll(async () => (await two.budgets().take('consumer-d', policy, 600)).allowed, { timeout: 10_000, interval: 200 }).toBe(false);
  });
});
