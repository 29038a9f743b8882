/**
 * Signing out is honoured by every replica, through a real redis-server, also when a replica was
 * cut off from Redis at the moment of the sign-out (Redis back empty: the revoking replica writes
 * it back), and by a replica started after it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrowserSessions } from '../../src/identity/browser-sessions.js';
import type { RedisState } from '../../src/state/redis.js';
import { redisServerPath, redisStateFor, startRedis, warnIfNoRedis, type RedisServer } from '../support/redis.js';

warnIfNoRedis('test/state/session-revocation.test.ts');

const SECRET = Buffer.from('revocation-test-session-secret-0123456789');
const request = { headers: { host: 'localhost:1' }, socket: {} } as never;

describe.skipIf(!redisServerPath)('browser session revocation across replicas (real Redis)', () => {
  let redis: RedisServer;
  const states: RedisState[] = [];
  const sessions: BrowserSessions[] = [];
  const replica = async () => {
    const state = redisStateFor(redis.url, { prefix: 'revocation-test:', secret: SECRET, leaseMs: 5_000, timeoutMs: 300 });
    await state.start();
    states.push(state);
    const s = new BrowserSessions(SECRET, state, 30 * 60_000, 12 * 3_600_000);
    sessions.push(s);
    return s;
  };
  /** Waits (bounded) until `check` holds. */
  const eventually = async (check: () => boolean, what: string, ms = 15_000) => {
    for (const until = Date.now() + ms; Date.now() < until; await new Promise((r) => setTimeout(r, 100))) if (check()) return;
    throw new Error(`timed out waiting until ${what}`);
  };

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const s of sessions) s.close();
    await Promise.all(states.map((s) => s.close()));
    await redis?.stop();
  });

  it('a sign-out on one replica ends the session on the other', async () => {
    const [a, b] = [await replica(), await replica()];
    const content = a.start({ via: 'oidc', sub: 'alice', roles: ['viewer'] });
    const cookie = { cookie: a.cookie(request, content).split(';')[0] };
    expect(b.read(cookie)).toMatchObject({ sub: 'alice' });
    await a.revoke(content);
    await eventually(() => b.read(cookie) === 'ended', 'replica B refuses the session');
  });

  it('a replica started after the sign-out refuses the session (the shared record)', async () => {
    const a = await replica();
    const content = a.start({ via: 'oidc', sub: 'carol', roles: ['viewer'] });
    const cookie = { cookie: a.cookie(request, content).split(';')[0] };
    await a.revoke(content);
    const late = await replica();
    await eventually(() => late.read(cookie) === 'ended', 'a replica started later refuses the session');
  });

  it('a replica that could not hear the sign-out (Redis down) refuses the session once Redis is back', async () => {
    const [a, b] = [await replica(), await replica()];
    const content = a.start({ via: 'oidc', sub: 'bob', roles: ['viewer'] });
    const cookie = { cookie: a.cookie(request, content).split(';')[0] };
    await redis.kill();
    await a.revoke(content);
    // A knows at once; B heard nothing.
    expect(a.read(cookie)).toBe('ended');
    expect(b.read(cookie)).toMatchObject({ sub: 'bob' });
    await redis.start();
    await eventually(() => b.read(cookie) === 'ended', 'replica B refuses the session after Redis came back', 20_000);
  }, 30_000);
});
