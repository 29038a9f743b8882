/**
 * Resuming over several SPP servers on another replica (issue 21): a subscriber of all three
 * servers on gateway A disconnects while sessions change on every server, then resumes on
 * gateway B with its last cursor (one position per server) and receives exactly what it missed
 * from each server, none twice. The two gateways share nothing but a real redis-server (event
 * logs, shared polls) and their secrets.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createGateway, type Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/observability/logger.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { ADMIN, NOW, basic, type Harness } from '../support/harness.js';
import { redisServerPath, startRedis, warnIfNoRedis, type RedisServer } from '../support/redis.js';
import { collect, expectedEvents, until, wsClient, type Collected } from '../live/support.js';

warnIfNoRedis('test/replicas/servers-resume.test.ts');

const NAMES = ['sim-1', 'sim-2', 'sim-3'] as const;
type Name = (typeof NAMES)[number];
const EVENTS = `subscription Events($after: String) {
  jobSessionEvents(after: $after) { kind sessionId at previousStatus cursor server { name } session { sessionId status percent lastUpdate } }
}`;

describe.skipIf(!redisServerPath)('resuming a subscription of several servers on another replica through Redis', () => {
  let redis: RedisServer;
  const sims = new Map<Name, Simulator>();
  let a: Gateway;
  let b: Gateway;

  const start = async () => {
    const { env } = loadConfig({
      ...{ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'servers-resume-test:' },
      ...{ CURSOR_SECRET: 'servers-resume-cursor-secret', SESSION_SECRET: 'servers-resume-session-secret-0123456789' },
      ...{ SUBSCRIPTION_POLL_MS: '50', SUBSCRIPTION_IDLE_POLL_MS: '50', SUBSCRIPTION_MAX_BACKOFF_MS: '200', SUBSCRIPTION_WINDOW: '100' },
    });
    return createGateway({
      env,
      sppUrl: sims.get('sim-1')!.url,
      servers: NAMES.map((name) => ({ name, url: sims.get(name)!.url })),
      auth: { mode: 'pass-through' },
      logger: createLogger(env.LOG_LEVEL, new Writable({ write: (_chunk, _encoding, done) => done() })),
    });
  };

  beforeAll(async () => {
    redis = await startRedis();
    for (const [i, name] of NAMES.entries()) sims.set(name, await startSimulator({ seed: 21 + i, size: 20 + 5 * i, now: NOW }));
    [a, b] = await Promise.all([start(), start()]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    for (const sim of sims.values()) await sim.close();
    await redis?.stop();
  });

  const all = (name: Name) => sims.get(name)!.list({ sort: [{ property: 'start', direction: 'DESC' }] });
  /** Steps the simulators, waits for both replicas' feeds to poll, and returns each server's expected events. */
  async function change(steps: Partial<Record<Name, { insert?: number; expire?: number }>>) {
    const expected = new Map<Name, ReturnType<typeof expectedEvents>>();
    for (const [name, step] of Object.entries(steps) as Array<[Name, { insert?: number; expire?: number }]>) {
      const before = all(name);
      sims.get(name)!.step(step);
      expected.set(
        name,
        expectedEvents(before, all(name), (id) => sims.get(name)!.get(id)),
      );
    }
    await Promise.all([a.live.registry.nextPolls(), b.live.registry.nextPolls()]);
    return expected;
  }
  const from = (collected: Collected, server: Name) =>
    collected.data
      .map((d: any) => d.jobSessionEvents)
      .filter((e: any) => e.server.name === server)
      .map((e: any) => ({ kind: e.kind, sessionId: e.sessionId, at: e.session ? e.at : 'expired', previousStatus: e.previousStatus, session: e.session }));
  const subscriptions = async (gateway: Gateway) => (await gateway.metrics.registry.getSingleMetric('live_subscriptions')!.get()).values[0]?.value ?? 0;

  it('a subscriber of three servers on replica A resumes on replica B with its last cursor: exactly the missed events of each server, none twice', async () => {
    const onA = wsClient({ gateway: a } as Harness, basic(ADMIN));
    const first = collect(onA, EVENTS);
    await expect.poll(() => subscriptions(a), { timeout: 15_000 }).toBe(1);
    await a.live.registry.nextPolls();
    const seen = await change({ 'sim-2': { insert: 1 } });
    await until(() => first.data.length >= seen.get('sim-2')!.length, 'the first events on A');
    const cursor: string = first.data.at(-1).jobSessionEvents.cursor;
    await onA.dispose();
    await expect.poll(() => subscriptions(a), { timeout: 15_000 }).toBe(0);

    const missed = new Map<Name, ReturnType<typeof expectedEvents>>(NAMES.map((n) => [n, []]));
    for (const steps of [{ 'sim-1': { insert: 1 }, 'sim-3': { insert: 1 } }, { 'sim-2': { insert: 1, expire: 1 } }, { 'sim-3': { expire: 2 } }]) {
      for (const [name, events] of await change(steps)) missed.get(name)!.push(...events);
    }
    for (const name of NAMES) expect(missed.get(name)!.length).toBeGreaterThan(0);
    const count = NAMES.reduce((n, name) => n + missed.get(name)!.length, 0);

    const onB = wsClient({ gateway: b } as Harness, basic(ADMIN));
    try {
      const resumed = collect(onB, EVENTS, { after: cursor });
      await until(() => resumed.data.length >= count, 'the missed events on B');
      await Promise.all([a.live.registry.nextPolls(), b.live.registry.nextPolls()]);
      expect(resumed.errors).toEqual([]);
      expect(resumed.data.length).toBe(count);
      for (const name of NAMES) expect(from(resumed, name)).toEqual(missed.get(name));
      const cursors = resumed.data.map((d: any) => d.jobSessionEvents.cursor);
      expect(new Set(cursors).size).toBe(cursors.length);
    } finally {
      await onB.dispose();
    }
  }, 120_000);
});
