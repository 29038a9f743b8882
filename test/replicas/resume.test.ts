/**
 * Resuming on another replica: a subscriber of replica A disconnects while SPP starts, finishes
 * and expires sessions, then reconnects to replica B with its last cursor and receives exactly
 * the events it missed, then the live ones, each once: the event log and its ids live in a real
 * redis-server, shared by two real gateway processes.
 */
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { redisServerPath, startRedis, warnIfNoRedis, type RedisServer } from '../support/redis.js';
import { collect, expectedEvents, received, until } from '../live/support.js';
import { eventually, replicaEnv, startReplica, type Replica } from './support.js';

warnIfNoRedis('test/replicas/resume.test.ts');

const RESUMABLE = `subscription Events($after: String) {
  jobSessionEvents(after: $after) { kind sessionId at previousStatus cursor session { sessionId status percent lastUpdate } }
}`;

describe.skipIf(!redisServerPath)('resuming subscriptions on another replica through Redis', () => {
  let redis: RedisServer;
  let sim: Simulator;
  let a: Replica;
  let b: Replica;
  const clients: Client[] = [];

  const connect = (replica: Replica) => {
    const client = createClient({
      url: replica.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: false,
      onNonLazyError: () => undefined,
    });
    clients.push(client);
    return client;
  };
  /** Resolves once `replica` finished two more polls (the change is seen, whatever the phase). */
  const polled = async (replica: Replica) => {
    const start = await replica.metric('live_polls_total{outcome="ok"}');
    expect(await eventually(async () => (await replica.metric('live_polls_total{outcome="ok"}')) >= start + 2)).toBe(true);
  };
  const all = () => sim.list({ sort: [{ property: 'start', direction: 'DESC' }] });

  beforeAll(async () => {
    redis = await startRedis();
    // Few enough sessions that the poll window sees them all: inserts, finishes and expiries are all events.
    sim = await startSimulator({ seed: 7, size: 40, host: '127.0.0.1' });
    const env = {
      ...replicaEnv('resume', sim.url, redis.url),
      GATEWAY_ALLOW_ANONYMOUS: 'true',
      SUBSCRIPTION_POLL_MS: '200',
      SUBSCRIPTION_IDLE_POLL_MS: '200',
      SUBSCRIPTION_MAX_BACKOFF_MS: '1000',
      SUBSCRIPTION_WINDOW: '100',
    };
    [a, b] = await Promise.all([startReplica(env), startReplica(env)]);
  }, 120_000);

  afterAll(async () => {
    for (const client of clients) await client.dispose();
    await Promise.all([a?.stop(), b?.stop()]);
    await sim?.close();
    await redis?.stop();
  });

  it('a subscriber of one replica resumes on the other with its last cursor and receives exactly the missed events, then the live ones', async () => {
    const onA = connect(a);
    const first = collect(onA, RESUMABLE);
    expect(await eventually(async () => (await a.metric('live_subscriptions')) === 1)).toBe(true);
    await polled(a);
    const before = all();
    sim.step({ insert: 2 });
    const seen = expectedEvents(before, all(), (id) => sim.get(id));
    await until(() => first.data.length >= seen.length, 'the first events on replica A');
    expect(received(first)).toEqual(seen);
    const cursor: string = first.data.at(-1).jobSessionEvents.cursor;
    first.stop();
    expect(await eventually(async () => (await a.metric('live_subscriptions')) === 0)).toBe(true);

    const missed: ReturnType<typeof expectedEvents> = [];
    for (const change of [{ insert: 1 }, { insert: 0 }, { insert: 1, expire: 2 }, { insert: 0 }]) {
      const earlier = all();
      sim.step(change);
      missed.push(...expectedEvents(earlier, all(), (id) => sim.get(id)));
      await polled(a);
    }
    expect(new Set(missed.map((e) => e.kind))).toEqual(new Set(['ADDED', 'CHANGED', 'REMOVED']));

    const onB = connect(b);
    const resumed = collect(onB, RESUMABLE, { after: cursor });
    await until(() => resumed.data.length >= missed.length, 'the missed events on replica B');
    await polled(b);
    const earlier = all();
    sim.step({ insert: 1 });
    const live = expectedEvents(earlier, all(), (id) => sim.get(id));
    await until(() => resumed.data.length >= missed.length + live.length, 'the live events on replica B');
    await polled(b);
    await polled(a);
    expect(received(resumed)).toEqual([...missed, ...live]);
    expect(resumed.errors).toEqual([]);
    const cursors = resumed.data.map((d: any) => d.jobSessionEvents.cursor);
    expect(new Set(cursors).size).toBe(cursors.length);
  }, 120_000);
});
