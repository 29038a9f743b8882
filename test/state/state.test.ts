/**
 * The shared-state seam on its own: configuration, sealing, and the Redis implementation's
 * leases, single flight, pub/sub and degradation against a real redis-server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { Sealer } from '../../src/state/sealing.js';
import type { RedisState } from '../../src/state/redis.js';
import { InMemoryState } from '../../src/state/memory.js';
import { freePort, redisServerPath, redisStateFor, stateMetrics, startRedis, warnIfNoRedis, type RedisServer } from '../support/redis.js';

warnIfNoRedis('test/state/state.test.ts');

const SECRET = Buffer.from('state-test-session-secret-0123456789abcdef');

describe('configuration of several replicas', () => {
  it.each(['CURSOR_SECRET', 'SESSION_SECRET'])('refuses REDIS_URL without %s, in one line naming it', (missing) => {
    const env: Record<string, string> = { REDIS_URL: 'redis://redis:6379', CURSOR_SECRET: 'c'.repeat(16), SESSION_SECRET: 's'.repeat(32) };
    delete env[missing];
    expect(() => loadConfig(env)).toThrow(new ConfigError(`Invalid ${missing}: required with REDIS_URL (every replica must use the same one)`));
  });

  it('refuses a REDIS_URL that is not redis:// without echoing it (it may hold a password)', () => {
    expect(() => loadConfig({ REDIS_URL: 'http://user:hunter2@redis:6379' })).toThrow(
      new ConfigError('Invalid REDIS_URL: expected a redis:// or rediss:// URL such as redis://redis:6379'),
    );
  });

  it('refuses a SESSION_SECRET shorter than 32 characters', () => {
    expect(() => loadConfig({ SESSION_SECRET: 'short' })).toThrow(new ConfigError('Invalid SESSION_SECRET: expected at least 32 characters'));
  });
});

describe('sealing', () => {
  it('opens what it sealed, and nothing altered, moved to another place or sealed with another secret', () => {
    const sealer = new Sealer(SECRET, 'test');
    const sealed = sealer.seal('0123456789abcdef0123456789abcdef', 'here');
    expect(sealed).not.toContain('0123456789abcdef');
    expect(sealer.open(sealed, 'here')).toBe('0123456789abcdef0123456789abcdef');
    expect(sealer.open(sealed, 'elsewhere')).toBeNull();
    const flipped = Buffer.from(sealed, 'base64url');
    flipped[20] = flipped[20]! ^ 1;
    expect(sealer.open(flipped.toString('base64url'), 'here')).toBeNull();
    expect(new Sealer(Buffer.from('another-secret-of-at-least-32-characters'), 'test').open(sealed, 'here')).toBeNull();
    expect(new Sealer(SECRET, 'another purpose').open(sealed, 'here')).toBeNull();
  });
});

describe('in-memory state (one process)', () => {
  it('gives a lease to one holder until it is released or expires', async () => {
    const state = new InMemoryState();
    const lease = await state.lease('poller', 60_000);
    expect(lease).not.toBeNull();
    expect(await state.lease('poller', 60_000)).toBeNull();
    await lease!.release();
    expect(await state.lease('poller', 60_000)).not.toBeNull();
  });
});

describe.skipIf(!redisServerPath)('Redis state', () => {
  let redis: RedisServer;
  const states: RedisState[] = [];
  const make = async (url: string, options: { leaseMs?: number; timeoutMs?: number } = {}) => {
    const m = stateMetrics();
    const state = redisStateFor(url, { prefix: 'state-test:', secret: SECRET, ...options, metrics: m });
    await state.start();
    states.push(state);
    return { state, m };
  };
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const state of states) await state.close();
    await redis?.stop();
  });

  it('gives a lease to one replica at a time; renewal keeps it, and another takes it over once it expires', async () => {
    const [{ state: a }, { state: b }] = [await make(redis.url), await make(redis.url)];
    const held = await a.lease('feed x', 300);
    expect(held).not.toBeNull();
    expect(await b.lease('feed x', 300)).toBeNull();
    expect(await held!.renew()).toBe(true);
    // Not renewed: it expires and the other replica takes over; the old holder learns it lost it.
    let taken = null;
    for (let i = 0; i < 100 && !taken; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      taken = await b.lease('feed x', 60_000);
    }
    expect(taken).not.toBeNull();
    expect(await held!.renew()).toBe(false);
    await taken?.release();
    expect(await a.lease('feed x', 60_000)).not.toBeNull();
  });

  it('runs work asked for at the same moment on two replicas once, and shares its answer', async () => {
    const [a, b] = [await make(redis.url), await make(redis.url)];
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const work = async () => {
      runs++;
      await gate;
      return 'the answer';
    };
    const first = a.state.once('same key', work, { keepMs: 0 });
    while (runs === 0) await new Promise((resolve) => setTimeout(resolve, 10)); // a holds the lease
    const second = b.state.once('same key', work, { keepMs: 0 });
    // b waits for an answer once it registered; its lease attempt follows on the same tick's round trip.
    while ((b.state as unknown as { waiters: Map<string, unknown> }).waiters.size === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await new Promise((resolve) => setTimeout(resolve, 200));
    release();
    expect(await Promise.all([first, second])).toEqual(['the answer', 'the answer']);
    expect(runs).toBe(1);
    expect(await b.m.value('f', { outcome: 'joined' })).toBe(1);
  });

  it('does not share a failure: the waiting replica runs the work itself', async () => {
    const [a, b] = [await make(redis.url), await make(redis.url)];
    let fail!: () => void;
    const failing = a.state.once('failing key', () => new Promise<string>((_, reject) => (fail = () => reject(new Error('SPP said no')))), { keepMs: 60_000 });
    while (!fail) await new Promise((resolve) => setTimeout(resolve, 10)); // a holds the lease
    const waiting = b.state.once('failing key', async () => 'computed here', { keepMs: 60_000 });
    while ((b.state as unknown as { waiters: Map<string, unknown> }).waiters.size === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await new Promise((resolve) => setTimeout(resolve, 200));
    fail();
    await expect(failing).rejects.toThrow('SPP said no');
    expect(await waiting).toBe('computed here');
  });

  it('delivers a published message to subscribers on every replica', async () => {
    const [a, b] = [await make(redis.url), await make(redis.url)];
    const heard: string[] = [];
    a.state.subscribe('news', (m) => heard.push(`a:${m}`));
    b.state.subscribe('news', (m) => heard.push(`b:${m}`));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await a.state.publish('news', 'hello');
    for (let i = 0; i < 100 && heard.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(heard.sort()).toEqual(['a:hello', 'b:hello']);
  });

  it('lets one replica act on an idempotency key; another replica waits for and receives its outcome, then anyone within the window', async () => {
    const [a, b] = [(await make(redis.url)).state.idempotency(), (await make(redis.url)).state.idempotency()];
    expect(await a.claim('caller\u0000START\u0000id:42', 'input-fingerprint', 60_000)).toEqual({ first: true });
    const waiting = await b.claim('caller\u0000START\u0000id:42', 'input-fingerprint', 60_000);
    expect(waiting).toMatchObject({ first: false, fingerprint: 'input-fingerprint' });
    await a.settle('caller\u0000START\u0000id:42', { ok: true, value: { jobId: '1005' } }, 60_000);
    expect(await (waiting as { outcome: Promise<unknown> }).outcome).toEqual({ ok: true, value: { jobId: '1005' } });
    const later = await b.claim('caller\u0000START\u0000id:42', 'another-input', 60_000);
    expect(later).toMatchObject({ first: false, fingerprint: 'input-fingerprint' });
    expect(await (later as { outcome: Promise<unknown> }).outcome).toEqual({ ok: true, value: { jobId: '1005' } });
    for (const { key, value } of await redis.dump()) expect(`${key} ${value}`).not.toMatch(/fingerprint|1005|caller/);
  });

  it('frees an idempotency key settled with nothing to keep (a refusal): the next claim acts', async () => {
    const [a, b] = [(await make(redis.url)).state.idempotency(), (await make(redis.url)).state.idempotency()];
    expect(await a.claim('refused key', 'f', 60_000)).toEqual({ first: true });
    await a.settle('refused key', { ok: false, error: { message: 'no', extensions: { code: 'CONFLICT' } } }, 0);
    expect(await b.claim('refused key', 'f', 60_000)).toEqual({ first: true });
  });

  it('starts degraded when Redis is not there, and still runs the work, counting the failures', async () => {
    const { state, m } = await make(`redis://127.0.0.1:${await freePort()}`, { timeoutMs: 100 });
    expect(await state.once('k', async () => 'local', { keepMs: 1_000 })).toBe('local');
    expect(await m.value('d')).toBe(1);
    expect(await m.value('e')).toBeGreaterThan(0);
    expect(await m.value('f', { outcome: 'local' })).toBe(1);
    // No per-process lease while Redis is out of reach: two holders would be worse than none (issue 22, item 12).
    expect(await state.lease('alone', 1_000)).toBeNull();
  });

  it('gives no lease during an outage, and tells a holder its renewal failed rather than letting it keep working', async () => {
    const own = await startRedis();
    try {
      const { state } = await make(own.url, { timeoutMs: 200 });
      const lease = await state.lease('poller', 60_000);
      expect(lease).not.toBeNull();
      await own.kill();
      expect(await lease!.renew()).toBe(false);
      expect(await state.lease('poller', 60_000)).toBeNull();
    } finally {
      await own.stop();
    }
  });
});
