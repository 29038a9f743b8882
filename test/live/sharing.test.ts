import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client as WsClient } from 'graphql-ws';
import type { Client as SseClient } from 'graphql-sse';
import { startHarness, type Harness } from '../support/harness.js';
import {
  ACTIVE_FILTER,
  ACTIVE_SPP_FILTER,
  EVENTS,
  LIVE_ENV,
  NEWEST_FIRST,
  collect,
  expectedEvents,
  received,
  sseClient,
  until,
  wsClient,
  type Collected,
} from './support.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ sim: { size: 600 }, env: LIVE_ENV });
});
afterAll(() => h.close());

const gauge = async (name: string) => (await h.gateway.metrics.registry.getSingleMetric(name)!.get()).values.reduce((sum, v) => sum + v.value, 0);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('one poller per identity and filter', () => {
  it('serves 200 subscribers on one filter (WebSocket and SSE mixed) with one upstream request per poll, and stops polling when they leave', async () => {
    const wsClients: WsClient[] = [];
    const sseClients: SseClient[] = [];
    const subscribers: Collected[] = [];
    // 160 subscriptions over 4 WebSockets, 40 event streams: different selection sets, one feed.
    for (let c = 0; c < 4; c++) {
      const client = wsClient(h);
      wsClients.push(client);
      for (let i = 0; i < 40; i++)
        subscribers.push(
          collect(
            client,
            i % 2
              ? EVENTS
              : 'subscription($filter: JobSessionFilter) { jobSessionEvents(filter: $filter) { kind sessionId at previousStatus session { sessionId status percent lastUpdate } } }',
            { filter: ACTIVE_FILTER },
          ),
        );
    }
    for (let i = 0; i < 40; i++) {
      const client = sseClient(h);
      sseClients.push(client);
      subscribers.push(collect(client, EVENTS, { filter: ACTIVE_FILTER }));
    }
    await until(() => subscribers.length === 200);
    await expect.poll(() => gauge('live_subscriptions'), { timeout: 15_000 }).toBe(200);
    expect(h.gateway.live.registry.size).toBe(1);
    expect(await gauge('live_connections')).toBe(44);

    // Polls with nothing changing: each is exactly one upstream request, the filter's window.
    await h.gateway.live.registry.nextPolls();
    h.resetUpstreamCalls();
    const pollsBefore = await gauge('live_polls_total');
    for (let i = 0; i < 5; i++) await h.gateway.live.registry.nextPolls();
    const polls = (await gauge('live_polls_total')) - pollsBefore;
    const calls = h.upstreamCalls();
    expect(polls).toBeGreaterThanOrEqual(5);
    expect(calls.length).toBe(polls);
    for (const call of calls)
      expect(call).toMatchObject({ path: '/api/endeavour/jobsession', filter: ACTIVE_SPP_FILTER, query: { pageStartIndex: '0', pageSize: '100' } });

    // One change reaches every subscriber, whatever its transport.
    const before = h.sim.list({ filter: ACTIVE_SPP_FILTER, sort: NEWEST_FIRST });
    h.sim.step({ insert: 2 });
    const expected = expectedEvents(before, h.sim.list({ filter: ACTIVE_SPP_FILTER, sort: NEWEST_FIRST }), (id) => h.sim.get(id));
    await h.gateway.live.registry.nextPolls();
    await until(() => subscribers.every((s) => s.data.length >= expected.length), 'every subscriber has the events');
    for (const subscriber of subscribers) expect(received(subscriber)).toEqual(expected);

    // Everyone leaves: the poller stops, and SPP hears nothing more.
    for (const subscriber of subscribers) subscriber.stop();
    await until(() => h.gateway.live.registry.size === 0, 'the poller stops');
    await expect.poll(() => gauge('live_subscriptions'), { timeout: 15_000 }).toBe(0);
    h.resetUpstreamCalls();
    await sleep(10 * Number(LIVE_ENV.SUBSCRIPTION_POLL_MS));
    expect(h.upstreamCalls()).toEqual([]);
    await Promise.all(wsClients.map(async (c) => c.dispose()));
    for (const c of sseClients) c.dispose();
    await expect.poll(() => gauge('live_connections'), { timeout: 15_000 }).toBe(0);
  });

  it('shares the poller between filters that differ only in the order of their values', async () => {
    const client = wsClient(h);
    const a = collect(client, EVENTS, { filter: { status: ['RUNNING', 'PENDING'] } });
    const b = collect(client, EVENTS, { filter: { status: ['PENDING', 'RUNNING'] } });
    const c = collect(client, EVENTS, { filter: { status: ['RUNNING'] } });
    await expect.poll(() => gauge('live_subscriptions'), { timeout: 15_000 }).toBe(3);
    expect(h.gateway.live.registry.size).toBe(2);
    for (const s of [a, b, c]) s.stop();
    await client.dispose();
    await until(() => h.gateway.live.registry.size === 0);
  });
});
