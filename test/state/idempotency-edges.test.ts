/**
 * Issue 22, item 8: the Redis idempotency store's edge cases, against a real redis-server. Two
 * stores stand for two replicas; a replica's Redis connection is wrapped to place a step of the
 * other replica, or a failure, exactly between two of its commands.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisIdempotencyStore } from '../../src/state/redis-idempotency.js';
import { Sealer } from '../../src/state/sealing.js';
import { redisServerPath, startRedis, warnIfNoRedis, type RedisServer } from '../support/redis.js';

warnIfNoRedis('test/state/idempotency-edges.test.ts');

const SECRET = Buffer.from('edges-test-session-secret-0123456789abcdef');
const REFUSAL = { ok: false as const, error: { message: 'SPP refused', extensions: { code: 'CONFLICT' } } };

/** `commands` with `around(method, args, run)` deciding what each call does. */
function wrapped(commands: Redis, around: (method: string, args: unknown[], run: () => Promise<unknown>) => Promise<unknown>): Redis {
  return new Proxy(commands, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function' || property === 'defineCommand') return typeof value === 'function' ? value.bind(target) : value;
      return (...args: unknown[]) => around(String(property), args, () => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args));
    },
  });
}

describe.skipIf(!redisServerPath)('Redis idempotency store edge cases', () => {
  let redis: RedisServer;
  const clients: Redis[] = [];
  const store = (around?: Parameters<typeof wrapped>[1]) => {
    const commands = new Redis(redis.url);
    clients.push(commands);
    return new RedisIdempotencyStore({
      commands: around ? wrapped(commands, around) : commands,
      name: (key) => `edges:idempotency:${key}`,
      sealer: new Sealer(SECRET, 'redis values'),
      channel: 'edges:idempotency',
      attempt: (_operation, command) => command().catch(() => undefined),
    });
  };
  const isClaim = (method: string, args: unknown[]) => method === 'claimIdempotency' || (method === 'set' && args.includes('NX'));
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await redis?.stop();
  });

  it('acts on a retry whose first submission was refused between its failed claim and its read, instead of sleeping the whole TTL', async () => {
    const first = store();
    expect(await first.claim('refused-in-between', 'f', 60_000)).toEqual({ first: true });
    let settled = false;
    const retry = store(async (method, args, run) => {
      const result = await run();
      if (isClaim(method, args) && !settled) {
        settled = true;
        // The first replica settles a refusal (nothing kept) and announces it before this one listens.
        await first.settle('refused-in-between', REFUSAL, 0);
      }
      return result;
    });
    expect(await retry.claim('refused-in-between', 'f', 60_000)).toEqual({ first: true });
  });

  it('refuses a retry while Redis does not answer rather than acting from its own memory (UPSTREAM_UNAVAILABLE, nothing done)', async () => {
    expect(await store().claim('blip', 'f', 60_000)).toEqual({ first: true });
    const duringBlip = store(async () => {
      throw new Error('Connection is closed.');
    });
    await expect(duringBlip.claim('blip', 'f', 60_000)).rejects.toMatchObject({
      message: expect.stringMatching(/shared state \(Redis\) does not answer.*nothing was done/),
      extensions: { code: 'UPSTREAM_UNAVAILABLE' },
    });
  });

  it('never skips the input check when the read after a failed claim fails: the retry is refused, not told it matches', async () => {
    expect(await store().claim('mismatch', 'first-input', 60_000)).toEqual({ first: true });
    const readFails = store(async (method, _args, run) => {
      if (method === 'get') throw new Error('Command timed out');
      return run();
    });
    await expect(readFails.claim('mismatch', 'other-input', 60_000)).rejects.toMatchObject({ extensions: { code: 'UPSTREAM_UNAVAILABLE' } });
  });

  it('tells a waiting duplicate that the outcome is unknown once the first replica stops renewing its claim, and every later retry too', async () => {
    const commands = new Redis(redis.url);
    clients.push(commands);
    const options = {
      commands,
      name: (key: string) => `edges:idempotency:${key}`,
      sealer: new Sealer(SECRET, 'redis values'),
      channel: 'edges:idempotency',
      attempt: <T>(_operation: string, command: () => Promise<T>) => command().catch(() => undefined),
      aliveMs: 600,
    };
    const dying = new RedisIdempotencyStore(options);
    expect(await dying.claim('died', 'f', 60_000)).toEqual({ first: true });
    // The replica dies: its renewals stop (as with SIGKILL; the process test is test/replicas/redis-outages.test.ts).
    commands.disconnect();
    const other = new Redis(redis.url);
    clients.push(other);
    const survivor = new RedisIdempotencyStore({ ...options, commands: other });
    const waiting = await survivor.claim('died', 'f', 60_000);
    expect(waiting).toMatchObject({ first: false, fingerprint: 'f' });
    expect(await (waiting as { outcome: Promise<unknown> }).outcome).toMatchObject({ ok: false, error: { extensions: { code: 'UPSTREAM_UNAVAILABLE' } } });
    const later = await survivor.claim('died', 'f', 60_000);
    expect(later).toMatchObject({ first: false });
    expect(await (later as { outcome: Promise<unknown> }).outcome).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/whether SPP acted is unknown/) },
    });
  });

  it('keeps a settled outcome across a Redis restart that lost every key: a retry on the other replica is refused while the replicas restore, then gets the first outcome, never a second submission', async () => {
    const replica = () => {
      const commands = new Redis(redis.url, { retryStrategy: () => 50 });
      clients.push(commands);
      return new RedisIdempotencyStore({
        commands,
        name: (key) => `edges:idempotency:${key}`,
        sealer: new Sealer(SECRET, 'redis values'),
        channel: 'edges:idempotency',
        attempt: (_operation, command) => command().catch(() => undefined),
        restoreMs: 1_500,
      });
    };
    const OK = { ok: true as const, value: { acted: 'once' } };
    const a = replica();
    const b = replica();
    expect(await a.claim('lost-in-restart', 'f', 60_000)).toEqual({ first: true });
    await a.settle('lost-in-restart', OK, 60_000);
    const before = await b.claim('lost-in-restart', 'f', 60_000);
    expect(before).toMatchObject({ first: false, fingerprint: 'f' });
    expect(await (before as { outcome: Promise<unknown> }).outcome).toEqual(OK);

    // Redis is SIGKILLed and comes back empty (no persistence).
    await redis.kill();
    await redis.start();
    await expect
      .poll(
        async () =>
          (await clients
            .at(-1)!
            .ping()
            .catch(() => 'down')) === 'PONG',
        { timeout: 10_000 },
      )
      .toBe(true);
    // The first claim after the loss, before the replica that acted restored its records: refused, nothing done.
    await expect(b.claim('lost-in-restart', 'f', 60_000)).rejects.toMatchObject({
      extensions: { code: 'UPSTREAM_UNAVAILABLE' },
      message: expect.stringMatching(/restarted and lost its record/),
    });
    // The replica that acted reconnects ('ready' in src/state/redis.ts) and writes its records back.
    await a.recovered();
    await new Promise((resolve) => setTimeout(resolve, 1_600));
    const after = await b.claim('lost-in-restart', 'f', 60_000);
    expect(after).toMatchObject({ first: false, fingerprint: 'f' });
    expect(await (after as { outcome: Promise<unknown> }).outcome).toEqual(OK);
    // A key nobody claimed before the loss is free once the restore time is over.
    expect(await b.claim('new-after-restart', 'g', 60_000)).toEqual({ first: true });
  });
});
