/**
 * Live updates on two replicas (real gateway processes) sharing state through a real
 * redis-server: each replica runs its own feed for its own subscribers, and their polls share
 * one upstream read per poll interval; when a replica dies, the other's subscribers lose nothing.
 */
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { redisServerPath, startRedis, warnIfNoRedis, type RedisServer } from '../support/redis.js';
import { ACTIVE_FILTER, ACTIVE_SPP_FILTER, EVENTS, NEWEST_FIRST, collect, expectedEvents, received, until, type Collected } from '../live/support.js';
import { eventually, replicaEnv, startReplica, type Replica } from './support.js';

warnIfNoRedis('test/replicas/live.test.ts');

const POLL_MS = 1_000;
const PER_REPLICA = 100;

describe.skipIf(!redisServerPath)('live updates on two replicas sharing state through Redis', () => {
  let redis: RedisServer;
  let sim: Simulator;
  let a: Replica;
  let b: Replica;
  const clients: Client[] = [];
  const subscribers = new Map<Replica, Collected[]>();

  const polls = async () => (await a.metric('live_polls_total{outcome="ok"}')) + (await b.metric('live_polls_total{outcome="ok"}'));
  const listCalls = () => sim.requests.filter((r) => r.method === 'GET' && r.path === '/api/endeavour/jobsession').length;

  beforeAll(async () => {
    redis = await startRedis();
    sim = await startSimulator({ seed: 1, size: 300, host: '127.0.0.1' });
    const env = {
      ...replicaEnv('live', sim.url, redis.url),
      GATEWAY_ALLOW_ANONYMOUS: 'true',
      SUBSCRIPTION_POLL_MS: String(POLL_MS),
      SUBSCRIPTION_IDLE_POLL_MS: String(POLL_MS),
      SUBSCRIPTION_MAX_BACKOFF_MS: '2000',
    };
    [a, b] = await Promise.all([startReplica(env), startReplica(env)]);
    for (const replica of [a, b]) {
      const client = createClient({
        url: replica.url.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        lazy: false,
        onNonLazyError: () => undefined,
      });
      clients.push(client);
      subscribers.set(
        replica,
        Array.from({ length: PER_REPLICA }, () => collect(client, EVENTS, { filter: ACTIVE_FILTER })),
      );
    }
    for (const replica of [a, b]) expect(await eventually(async () => (await replica.metric('live_subscriptions')) === PER_REPLICA)).toBe(true);
  }, 120_000);

  afterAll(async () => {
    for (const client of clients) await client.dispose();
    await Promise.all([a?.stop(), b?.stop()]);
    await sim?.close();
    await redis?.stop();
  });

  it('polls SPP about once per interval for both replicas together, and every subscriber on both gets each event once', async () => {
    const pollsBefore = await polls();
    const callsBefore = listCalls();
    expect(await eventually(async () => (await polls()) - pollsBefore >= 12, 60_000)).toBe(true);
    const pollCount = (await polls()) - pollsBefore;
    const calls = listCalls() - callsBefore;
    // Alone, each replica's polls would each be a request (calls === polls); shared, two polls in one interval are one.
    expect(calls).toBeGreaterThan(0);
    expect(calls).toBeLessThanOrEqual(Math.ceil(pollCount * 0.75));

    const before = sim.list({ filter: ACTIVE_SPP_FILTER, sort: NEWEST_FIRST });
    sim.step({ insert: 2 });
    const expected = expectedEvents(before, sim.list({ filter: ACTIVE_SPP_FILTER, sort: NEWEST_FIRST }), (id) => sim.get(id));
    expect(expected.length).toBeGreaterThan(0);
    const everyone = [...subscribers.get(a)!, ...subscribers.get(b)!];
    await until(() => everyone.every((s) => s.data.length >= expected.length), 'every subscriber on both replicas has the events');
    for (const subscriber of everyone) expect(received(subscriber)).toEqual(expected);
  }, 90_000);

  it("keeps serving the other replica's subscribers, with no event lost or repeated, when a replica dies", async () => {
    const survivors = subscribers.get(b)!;
    const already = received(survivors[0]!);
    a.child.kill('SIGKILL');
    await a.stop();
    const callsBefore = listCalls();
    const before = sim.list({ filter: ACTIVE_SPP_FILTER, sort: NEWEST_FIRST });
    sim.step({ insert: 3 });
    const expected = expectedEvents(before, sim.list({ filter: ACTIVE_SPP_FILTER, sort: NEWEST_FIRST }), (id) => sim.get(id));
    await until(() => survivors.every((s) => s.data.length >= already.length + expected.length), 'the survivors have the new events');
    for (const subscriber of survivors) expect(received(subscriber)).toEqual([...already, ...expected]);
    expect(listCalls()).toBeGreaterThan(callsBefore);
  }, 60_000);
});
