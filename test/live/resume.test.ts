/**
 * Resumable events: a subscriber that disconnects while SPP changes, then resumes with the
 * cursor of the last event it processed, receives exactly the events it missed, in order, none
 * twice, then the live ones: over graphql-ws (`after`), SSE (`Last-Event-ID`) and multipart HTTP
 * (`after`, Apollo Client's HttpLink). Past the log's bounds the client is told to refetch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import type { Client as WsClient } from 'graphql-ws';
import type { Client as SseClient } from 'graphql-sse';
import { startHarness, type Harness } from '../support/harness.js';
import { LIVE_ENV, collect, expectedEvents, received, sseClient, until, wsClient, type Collected } from './support.js';

const RESUME_EVENTS = 40;
let h: Harness;
beforeAll(async () => {
  // Few enough sessions that the poll window sees them all: inserts, finishes and expiries are all events.
  h = await startHarness({
    sim: { size: 40 },
    env: { ...LIVE_ENV, SUBSCRIPTION_RESUME_MS: '60000', SUBSCRIPTION_RESUME_EVENTS: String(RESUME_EVENTS), SUBSCRIPTION_WINDOW: '100' },
  });
});
afterAll(() => h.close());

const RESUMABLE = `subscription Events($filter: JobSessionFilter, $after: String) {
  jobSessionEvents(filter: $filter, after: $after) { kind sessionId at previousStatus cursor session { sessionId status percent lastUpdate } }
}`;

const all = () => h.sim.list({ sort: [{ property: 'start', direction: 'DESC' }] });

interface Transport {
  name: string;
  subscribe(after?: string): Promise<{ events: Collected; close(): Promise<void> }>;
}

function apolloCollect(after?: string): { events: Collected; close(): Promise<void> } {
  const client = new ApolloClient({ link: new HttpLink({ uri: h.gateway.url }), cache: new InMemoryCache() });
  const events: Collected = { results: [], data: [], errors: [], completed: false, stop: () => undefined };
  const subscription = client.subscribe({ query: gql(RESUMABLE), variables: after ? { after } : {}, fetchPolicy: 'no-cache' }).subscribe({
    next: (result) => {
      if (result.error) events.errors.push(result.error);
      else if (result.data) events.data.push(stripTypename(result.data));
    },
    error: (error: unknown) => events.errors.push(error),
    complete: () => (events.completed = true),
  });
  return { events, close: async () => subscription.unsubscribe() };
}

const stripTypename = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(stripTypename)
    : value && typeof value === 'object'
      ? Object.fromEntries(
          Object.entries(value)
            .filter(([k]) => k !== '__typename')
            .map(([k, v]) => [k, stripTypename(v)]),
        )
      : value;

const transports: Transport[] = [
  {
    name: 'graphql-ws with after',
    async subscribe(after) {
      const client: WsClient = wsClient(h);
      const events = collect(client, RESUMABLE, after ? { after } : {});
      return { events, close: () => client.dispose() as Promise<void> };
    },
  },
  {
    name: 'SSE with Last-Event-ID',
    async subscribe(after) {
      const client: SseClient = sseClient(h, after ? { 'last-event-id': after } : {});
      const events = collect(client, RESUMABLE);
      return { events, close: async () => client.dispose() };
    },
  },
  { name: 'multipart HTTP (Apollo Client HttpLink) with after', subscribe: async (after) => apolloCollect(after) },
];

/** Subscriptions the gateway holds now (a lingering feed has none). */
async function subscriptions(): Promise<number> {
  const metric = await h.gateway.metrics.registry.getSingleMetric('live_subscriptions')!.get();
  return metric.values[0]?.value ?? 0;
}

async function joined(count: number): Promise<void> {
  await expect.poll(subscriptions, { timeout: 15_000, interval: 10, message: `${count} subscriptions` }).toBe(count);
  await h.gateway.live.registry.nextPolls();
}

/** Applies `changes` to the simulator, one poll each, and returns the events they make. */
async function change(changes: Array<{ insert?: number; expire?: number }>) {
  const expected: ReturnType<typeof expectedEvents> = [];
  for (const step of changes) {
    const before = all();
    h.sim.step(step);
    expected.push(...expectedEvents(before, all(), (id) => h.sim.get(id)));
    await h.gateway.live.registry.nextPolls();
  }
  return expected;
}

describe('resumable jobSessionEvents', () => {
  for (const transport of transports) {
    it(`over ${transport.name}: a subscriber that disconnects while sessions start, finish and expire resumes with its last cursor and receives exactly the missed events, then the live ones`, async () => {
      const first = await transport.subscribe();
      await joined(1);
      await h.gateway.live.registry.nextPolls();
      const seen = await change([{ insert: 2 }]);
      await until(() => first.events.data.length >= seen.length, 'the first events');
      expect(received(first.events)).toEqual(seen);
      const cursor: string = first.events.data.at(-1).jobSessionEvents.cursor;
      expect(cursor).toMatch(/^[\w-]+\.[\w-]+$/);
      await first.close();
      await joined(0);

      const missed = await change([{ insert: 1 }, { insert: 0 }, { insert: 1, expire: 2 }, { insert: 0 }]);
      expect(new Set(missed.map((e) => e.kind))).toEqual(new Set(['ADDED', 'CHANGED', 'REMOVED']));
      expect(missed.some((e) => e.kind === 'REMOVED' && e.session === null)).toBe(true);

      const resumed = await transport.subscribe(cursor);
      await joined(1);
      await until(() => resumed.events.data.length >= missed.length, 'the missed events');
      const live = await change([{ insert: 1 }]);
      await until(() => resumed.events.data.length >= missed.length + live.length, 'the live events');
      await h.gateway.live.registry.nextPolls();
      expect(received(resumed.events)).toEqual([...missed, ...live]);
      expect(resumed.events.errors).toEqual([]);
      // Cursors increase: none repeated.
      const cursors = resumed.events.data.map((d: any) => d.jobSessionEvents.cursor);
      expect(new Set(cursors).size).toBe(cursors.length);
      await resumed.close();
      await joined(0);
    }, 60_000);
  }

  it('sends each event over SSE with its cursor as the `id:` line', async () => {
    const response = await fetch(h.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: RESUMABLE }),
    });
    await joined(1);
    const reader = response.body!.getReader();
    await change([{ insert: 1 }]);
    let text = '';
    for (let i = 0; i < 50 && !/event: next\ndata: .*\n\n/.test(text); i++) text += new TextDecoder().decode((await reader.read()).value);
    const [, id, data] = /id: (.*)\nevent: next\ndata: (.*)\n\n/.exec(text)!;
    expect(id).toBe(JSON.parse(data!).data.jobSessionEvents.cursor);
    await reader.cancel();
    await joined(0);
  });

  it('answers a cursor past the kept events with CURSOR_EXPIRED (refetch), and a cursor of another filter with BAD_USER_INPUT', async () => {
    const ws = wsClient(h);
    const first = collect(ws, RESUMABLE);
    await joined(1);
    const seen = await change([{ insert: 1 }]);
    await until(() => first.data.length >= seen.length);
    const cursor: string = first.data.at(-1).jobSessionEvents.cursor;
    first.stop();
    await joined(0);
    // More changes than the log keeps.
    let missed = 0;
    for (let i = 0; i < 10 && missed <= RESUME_EVENTS; i++) missed += (await change([{ insert: 6 }])).length;
    expect(missed).toBeGreaterThan(RESUME_EVENTS);
    const late = collect(ws, RESUMABLE, { after: cursor });
    await until(() => late.results.length > 0 || late.errors.length > 0, 'the refusal');
    expect(late.data).toEqual([]);
    expect(JSON.stringify([late.results, late.errors])).toContain('CURSOR_EXPIRED');
    expect(JSON.stringify([late.results, late.errors])).toContain('refetch the list');

    const other = collect(ws, RESUMABLE, { after: cursor, filter: { status: ['RUNNING'] } });
    await until(() => other.errors.length > 0 || other.results.length > 0, 'the refusal');
    expect(JSON.stringify([other.results, other.errors])).toContain('BAD_USER_INPUT');
    await ws.dispose();
  });
});
