/**
 * Issue 22, item 3: automatic persisted queries in Redis. Nothing an unauthenticated caller sends
 * is stored in shared state, and what verified callers register expires.
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, basic, startHarness, withoutCost, type Harness } from '../support/harness.js';
import { redisServerPath, startRedis, warnIfNoRedis, type RedisServer } from '../support/redis.js';

warnIfNoRedis('test/state/apq.test.ts');

const PREFIX = 'apq-test:';
const apqKeys = async (url: string) => {
  const client = new Redis(url);
  try {
    const keys = await client.keys(`${PREFIX}apq:*`);
    return Promise.all(keys.map(async (key) => ({ key, ttl: await client.ttl(key) })));
  } finally {
    client.disconnect();
  }
};

async function register(h: Harness, query: string, headers: Record<string, string>) {
  const sha256Hash = createHash('sha256').update(query).digest('hex');
  const response = await fetch(h.gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, extensions: { persistedQuery: { version: 1, sha256Hash } } }),
  });
  return { status: response.status, body: (await response.json()) as { data?: unknown; errors?: unknown } };
}

describe.skipIf(!redisServerPath)('automatic persisted queries in Redis', () => {
  let redis: RedisServer;
  let h: Harness;
  beforeAll(async () => {
    redis = await startRedis();
    h = await startHarness({
      sim: { size: 50 },
      auth: { mode: 'pass-through' },
      env: { REDIS_URL: redis.url, REDIS_KEY_PREFIX: PREFIX, SESSION_SECRET: 'apq-test-session-secret-0123456789abcdef' },
    });
  });
  afterAll(async () => {
    await h?.close();
    await redis?.stop();
  });

  it('keeps what a caller with a made-up session id registers out of Redis (it still runs, from this process)', async () => {
    const query = '{ jobSessions(first: 1) { nodes { sessionId } } } # from nobody';
    const answer = await register(h, query, { 'x-endeavour-sessionid': 'made-up-session-id' });
    expect(answer.status).toBe(401);
    const padded = await register(h, `{ __typename } # ${'x'.repeat(10_000)}`, { 'x-endeavour-sessionid': 'made-up-session-id' });
    expect(withoutCost(padded.body)).toEqual({ data: { __typename: 'Query' } });
    expect(await apqKeys(redis.url)).toEqual([]);
  });

  it('shares what a verified caller registers, for a day at most', async () => {
    await h.gql('{ jobSessions(first: 1) { nodes { sessionId } } }', undefined, basic(ADMIN)); // SPP accepted the password
    const query = '{ jobSessions(first: 2) { nodes { sessionId } } }';
    const answer = await register(h, query, basic(ADMIN));
    expect(answer.status).toBe(200);
    const keys = await apqKeys(redis.url);
    expect(keys).toEqual([{ key: expect.stringMatching(/^apq-test:apq:/), ttl: expect.any(Number) }]);
    expect(keys[0]!.ttl).toBeGreaterThan(0);
    expect(keys[0]!.ttl).toBeLessThanOrEqual(86_400);
  });
});
