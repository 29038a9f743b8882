/**
 * Live updates over several SPP servers (issue 21), over real WebSocket and SSE: three
 * in-process simulators with different data behind one gateway in pass-through mode. One feed
 * polls each (server, identity, filter); a subscriber's stream merges the servers it watches,
 * each session naming its server; cursors resume every server exactly; `jobSessionUpdated`
 * follows its id's server; a stopped server stops only its own events and shows in /metrics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config.js';
import { createGateway, type Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/observability/logger.js';
import { toGlobalId } from '../../src/resolvers/global-id.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import type { SppJobSession } from '../../src/spp-api/types.js';
import { ADMIN, NOW, basic, withoutCost, type Harness } from '../support/harness.js';
import { LIVE_ENV, collect, expectedEvents, sseClient, until, wsClient, type Collected } from './support.js';

const NAMES = ['sim-1', 'sim-2', 'sim-3'] as const;
type Name = (typeof NAMES)[number];
const SIMS: Record<Name, SimulatorOptions> = {
  'sim-1': { seed: 11, size: 30, now: NOW },
  'sim-2': { seed: 12, size: 20, now: NOW },
  'sim-3': { seed: 13, size: 25, now: NOW },
};

const EVENTS = `subscription Events($after: String, $servers: [String!]) {
  jobSessionEvents(after: $after, servers: $servers) {
    kind sessionId at previousStatus cursor server { name }
    session { id sessionId status percent lastUpdate server { name } }
  }
}`;

const sims = new Map<Name, Simulator>();
const gateways: Gateway[] = [];

async function stopGateway(gateway: Gateway): Promise<void> {
  gateways.splice(gateways.indexOf(gateway), 1);
  await gateway.stop();
}

async function gatewayOver(env: Record<string, string>): Promise<Gateway> {
  const { env: config } = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', CURSOR_SECRET: 'integration-test-cursor-secret', ...env });
  const gateway = await createGateway({
    env: config,
    sppUrl: sims.get('sim-1')!.url,
    servers: NAMES.map((name) => ({ name, url: sims.get(name)!.url })),
    auth: { mode: 'pass-through' },
    logger: createLogger(config.LOG_LEVEL, new Writable({ write: (_chunk, _encoding, done) => done() })),
  });
  gateways.push(gateway);
  return gateway;
}

/** The live-test clients take a harness; only its gateway is read. */
const harnessOf = (gateway: Gateway) => ({ gateway }) as Harness;
const AUTH = basic(ADMIN);

beforeAll(async () => {
  for (const name of NAMES) sims.set(name, await startSimulator(SIMS[name]));
});

afterAll(async () => {
  for (const gateway of gateways) await gateway.stop();
  for (const sim of sims.values()) await sim.close();
});

const all = (name: Name) => sims.get(name)!.list({ sort: [{ property: 'start', direction: 'DESC' }] });

async function subscriptions(gateway: Gateway): Promise<number> {
  const metric = await gateway.metrics.registry.getSingleMetric('live_subscriptions')!.get();
  return metric.values[0]?.value ?? 0;
}

async function joined(gateway: Gateway, count: number): Promise<void> {
  await expect.poll(() => subscriptions(gateway), { timeout: 15_000, interval: 10, message: `${count} subscriptions` }).toBe(count);
  await gateway.live.registry.nextPolls();
}

/** Steps the named simulators once, waits for a poll of every feed, and returns each server's expected events. */
async function change(gateway: Gateway, steps: Partial<Record<Name, { insert?: number; expire?: number }>>) {
  const expected = new Map<Name, ReturnType<typeof expectedEvents>>();
  for (const [name, step] of Object.entries(steps) as Array<[Name, { insert?: number; expire?: number }]>) {
    const sim = sims.get(name)!;
    const before = all(name);
    sim.step(step);
    expected.set(
      name,
      expectedEvents(before, all(name), (id) => sim.get(id)),
    );
  }
  await gateway.live.registry.nextPolls();
  return expected;
}

/** What a subscriber received from `server`, in the shape of `expectedEvents`, each session's server and global id checked. */
function receivedFrom(collected: Collected, server: Name) {
  return collected.data
    .map((d: any) => d.jobSessionEvents)
    .filter((e: any) => e.server.name === server)
    .map((e: any) => {
      if (e.session) expect([e.session.id, e.session.server.name]).toEqual([toGlobalId('JobSession', e.sessionId, server), server]);
      return {
        kind: e.kind,
        sessionId: e.sessionId,
        // An expired session's `at` is the gateway's clock: not compared.
        at: e.session ? e.at : 'expired',
        previousStatus: e.previousStatus,
        session: e.session && { sessionId: e.session.sessionId, status: e.session.status, percent: e.session.percent, lastUpdate: e.session.lastUpdate },
      };
    });
}

const merge = (...lists: Array<Map<Name, ReturnType<typeof expectedEvents>>>) => {
  const merged = new Map<Name, ReturnType<typeof expectedEvents>>(NAMES.map((n) => [n, []]));
  for (const list of lists) for (const [name, events] of list) merged.get(name)!.push(...events);
  return merged;
};

// First: no other gateway's feeds poll the simulators yet, so their request counts are this gateway's.
describe('pollers over three SPP servers', () => {
  it('runs one poller per (server, identity, filter): one upstream read per simulator for three subscribers', async () => {
    // Polls far apart: each feed's first read is the only one in this test, so counts are exact.
    const gateway = await gatewayOver({ SUBSCRIPTION_POLL_MS: '60000', SUBSCRIPTION_IDLE_POLL_MS: '60000', SUBSCRIPTION_WINDOW: '100' });
    for (const sim of sims.values()) sim.clearRequests();
    const clients = [wsClient(harnessOf(gateway), AUTH), wsClient(harnessOf(gateway), AUTH)];
    const sse = sseClient(harnessOf(gateway), AUTH);
    try {
      collect(clients[0]!, EVENTS);
      collect(clients[1]!, EVENTS, { servers: ['sim-2', 'sim-3'] });
      collect(sse, EVENTS, { servers: ['sim-3'] });
      await expect.poll(() => subscriptions(gateway), { timeout: 15_000, interval: 10 }).toBe(3);
      const reads = () => NAMES.map((name) => sims.get(name)!.requests.filter((r) => r.path === '/api/endeavour/jobsession').length);
      await until(() => reads().every((n) => n >= 1), 'the first polls');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(reads()).toEqual([1, 1, 1]);
      expect((await gateway.metrics.registry.getSingleMetric('live_pollers')!.get()).values[0]?.value).toBe(3);
    } finally {
      for (const client of clients) await client.dispose();
      sse.dispose();
      await stopGateway(gateway);
    }
  });
});

describe('jobSessionEvents over three SPP servers', () => {
  let gateway: Gateway;
  beforeAll(async () => {
    // Few enough sessions that each poll window sees them all: every change is an event.
    gateway = await gatewayOver({ ...LIVE_ENV, SUBSCRIPTION_RESUME_MS: '60000', SUBSCRIPTION_WINDOW: '100' });
  });
  // Its lingering feeds would poll the simulators during the next tests.
  afterAll(() => stopGateway(gateway));

  it('delivers the events of sessions on two servers to a subscriber of all, each with its server; one of `servers: ["sim-2"]` gets sim-2’s only', async () => {
    const everyone = wsClient(harnessOf(gateway), AUTH);
    const onlyTwo = wsClient(harnessOf(gateway), AUTH);
    try {
      const allEvents = collect(everyone, EVENTS);
      const twoEvents = collect(onlyTwo, EVENTS, { servers: ['sim-2'] });
      await joined(gateway, 2);
      // One feed per server for the shared (identity, filter): the sim-2 subscriber joins sim-2's.
      expect((await gateway.metrics.registry.getSingleMetric('live_pollers')!.get()).values[0]?.value).toBe(3);
      const expected = await change(gateway, { 'sim-1': { insert: 2 }, 'sim-2': { insert: 1 } });
      expect(expected.get('sim-1')!.length).toBeGreaterThan(0);
      expect(expected.get('sim-2')!.length).toBeGreaterThan(0);
      const total = expected.get('sim-1')!.length + expected.get('sim-2')!.length;
      await until(() => allEvents.data.length >= total && twoEvents.data.length >= expected.get('sim-2')!.length, 'the events');
      await gateway.live.registry.nextPolls();
      expect(allEvents.data.length).toBe(total);
      expect(receivedFrom(allEvents, 'sim-1')).toEqual(expected.get('sim-1'));
      expect(receivedFrom(allEvents, 'sim-2')).toEqual(expected.get('sim-2'));
      expect(twoEvents.data.length).toBe(expected.get('sim-2')!.length);
      expect(receivedFrom(twoEvents, 'sim-2')).toEqual(expected.get('sim-2'));
      expect(allEvents.errors).toEqual([]);
      expect(twoEvents.errors).toEqual([]);
    } finally {
      await everyone.dispose();
      await onlyTwo.dispose();
    }
    await joined(gateway, 0);
  });

  const transports = [
    {
      name: 'graphql-ws with after',
      subscribe(after?: string) {
        const client = wsClient(harnessOf(gateway), AUTH);
        return { events: collect(client, EVENTS, after ? { after } : {}), close: () => client.dispose() as Promise<void> };
      },
    },
    {
      name: 'SSE with Last-Event-ID',
      subscribe(after?: string) {
        const client = sseClient(harnessOf(gateway), { ...AUTH, ...(after ? { 'last-event-id': after } : {}) });
        return { events: collect(client, EVENTS), close: async () => client.dispose() };
      },
    },
  ];

  for (const transport of transports) {
    it(`over ${transport.name}: a subscriber that disconnects resumes with its last cursor and receives exactly the events it missed on every server, none twice`, async () => {
      const first = transport.subscribe();
      await joined(gateway, 1);
      // sim-3 has no event before the disconnect: the cursor still holds its position.
      const seen = await change(gateway, { 'sim-1': { insert: 1 }, 'sim-2': { insert: 1 } });
      const seenCount = seen.get('sim-1')!.length + seen.get('sim-2')!.length;
      await until(() => first.events.data.length >= seenCount, 'the first events');
      const cursor: string = first.events.data.at(-1).jobSessionEvents.cursor;
      await first.close();
      await joined(gateway, 0);

      const missed = merge(
        await change(gateway, { 'sim-1': { insert: 1 }, 'sim-3': { insert: 2 } }),
        await change(gateway, { 'sim-2': { insert: 1, expire: 1 }, 'sim-3': { insert: 0 } }),
        await change(gateway, { 'sim-1': { insert: 0, expire: 2 } }),
      );
      const missedCount = NAMES.reduce((n, name) => n + missed.get(name)!.length, 0);
      for (const name of NAMES) expect(missed.get(name)!.length).toBeGreaterThan(0);

      const second = transport.subscribe(cursor);
      try {
        await until(() => second.events.data.length >= missedCount, 'the missed events');
        const live = await change(gateway, { 'sim-2': { insert: 1 } });
        const want = merge(missed, live);
        const wantCount = missedCount + want.get('sim-2')!.length - missed.get('sim-2')!.length;
        await until(() => second.events.data.length >= wantCount, 'the live events');
        await gateway.live.registry.nextPolls();
        expect(second.events.errors).toEqual([]);
        expect(second.events.data.length).toBe(wantCount);
        for (const name of NAMES) expect(receivedFrom(second.events, name)).toEqual(want.get(name));
      } finally {
        await second.close();
      }
      await joined(gateway, 0);
    });
  }

  it('refuses a cursor of another server set, and a server it does not know', async () => {
    const client = wsClient(harnessOf(gateway), AUTH);
    try {
      const first = collect(client, EVENTS);
      await joined(gateway, 1);
      await change(gateway, { 'sim-1': { insert: 1 } });
      await until(() => first.data.length > 0, 'an event');
      const cursor: string = first.data.at(-1).jobSessionEvents.cursor;
      const other = collect(client, EVENTS, { after: cursor, servers: ['sim-1', 'sim-2'] });
      const unknown = collect(client, EVENTS, { servers: ['zurich'] });
      await until(() => other.results.length > 0 && unknown.results.length > 0, 'the refusals');
      expect(other.results[0]!.errors![0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
      expect(other.results[0]!.errors![0]!.message).toContain('server set');
      expect(unknown.results[0]!.errors![0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
      expect(unknown.results[0]!.errors![0]!.message).toContain('"zurich"');
    } finally {
      await client.dispose();
    }
    await joined(gateway, 0);
  });

  it('pushes the updates of a session of sim-3 to a jobSessionUpdated subscriber, polling sim-3 only', async () => {
    const running = sims
      .get('sim-3')!
      .list()
      .find((s) => s.status === 'RUNNING')!;
    expect(running).toBeDefined();
    for (const sim of sims.values()) sim.clearRequests();
    const client = wsClient(harnessOf(gateway), AUTH);
    try {
      const updates = collect(client, `subscription($id: ID!) { jobSessionUpdated(id: $id) { id sessionId status percent server { name } } }`, {
        id: toGlobalId('JobSession', running.id, 'sim-3'),
      });
      await until(() => updates.data.length >= 1, 'the current state');
      expect(updates.data[0]).toEqual({
        jobSessionUpdated: {
          id: toGlobalId('JobSession', running.id, 'sim-3'),
          sessionId: running.id,
          status: running.status,
          percent: running.percent ?? null,
          server: { name: 'sim-3' },
        },
      });
      await gateway.live.registry.nextPolls();
      let now: SppJobSession | undefined;
      for (let i = 0; i < 20 && (now = sims.get('sim-3')!.get(running.id))?.percent === running.percent; i++) sims.get('sim-3')!.step({});
      await gateway.live.registry.nextPolls();
      await until(() => updates.data.some((d: any) => d.jobSessionUpdated.percent === (now?.percent ?? null)), 'the update');
      const asked = (sim: Simulator) => sim.requests.filter((r) => JSON.stringify(r.query).includes(running.id)).length;
      expect(asked(sims.get('sim-3')!)).toBeGreaterThan(0);
      expect([asked(sims.get('sim-1')!), asked(sims.get('sim-2')!)]).toEqual([0, 0]);
    } finally {
      await client.dispose();
    }
  });

  it('reads the job log of a session of sim-2 from sim-2 only', async () => {
    const session = sims.get('sim-2')!.list()[0]!;
    for (const sim of sims.values()) sim.clearRequests();
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...AUTH },
      body: JSON.stringify({
        query: 'query($id: ID!) { jobSession(id: $id) { server { name } log(first: 3) { edges { node { id } } } } }',
        variables: { id: toGlobalId('JobSession', session.id, 'sim-2') },
      }),
    });
    const body = withoutCost(await response.json()) as any;
    expect(body.errors).toBeUndefined();
    expect(body.data.jobSession.server).toEqual({ name: 'sim-2' });
    expect(body.data.jobSession.log.edges.length).toBe(Math.min(3, sims.get('sim-2')!.logOf(session.id).length));
    const logReads = [...sims.values()].map((sim) => sim.requests.filter((r) => r.path.startsWith('/api/endeavour/log')).length);
    expect(logReads[0]).toBe(0);
    expect(logReads[1]).toBeGreaterThan(0);
    expect(logReads[2]).toBe(0);
  });
});

describe('a stopped server', () => {
  it("stops only its own events, and /metrics shows it down, the others up, and each server's polls under its name", async () => {
    const gateway = await gatewayOver({ ...LIVE_ENV, SUBSCRIPTION_WINDOW: '100' });
    const client = wsClient(harnessOf(gateway), AUTH);
    const scrape = async () => (await fetch(gateway.url.replace(/\/graphql$/, '/metrics'))).text();
    try {
      const events = collect(client, EVENTS);
      await joined(gateway, 1);
      const sim1 = sims.get('sim-1')!;
      const port = sim1.port;
      await sim1.close();
      await expect.poll(scrape, { timeout: 15_000, interval: 50, message: 'sim-1 down' }).toMatch(/^spp_server_up\{server="sim-1"\} 0$/m);
      const expected = await change(gateway, { 'sim-2': { insert: 1 } });
      await until(() => events.data.length >= expected.get('sim-2')!.length, 'sim-2 events');
      expect(receivedFrom(events, 'sim-2')).toEqual(expected.get('sim-2'));
      expect(events.errors).toEqual([]);
      expect(events.completed).toBe(false);
      const text = await scrape();
      expect(text).toMatch(/^spp_server_up\{server="sim-1"\} 0$/m);
      expect(text).toMatch(/^spp_server_up\{server="sim-2"\} 1$/m);
      expect(text).toMatch(/^spp_server_up\{server="sim-3"\} 1$/m);
      expect(text).toMatch(/^spp_server_status\{server="sim-1",status="DOWN"\} 1$/m);
      expect(text).toMatch(/^spp_server_status\{server="sim-2",status="UP"\} 1$/m);
      expect(text).toMatch(/^spp_server_last_contact_timestamp_seconds\{server="sim-2"\} \d+(\.\d+)?$/m);
      expect(text).toMatch(/^spp_upstream_requests_total\{endpoint="[^"]+",outcome="200",server="sim-3"\} \d+$/m);
      // Each server's polls are counted under its name: sim-1's failed while it was down, the others' succeeded.
      expect(text).toMatch(/^live_polls_total\{outcome="failed",server="sim-1"\} [1-9]\d*$/m);
      expect(text).toMatch(/^live_polls_total\{outcome="ok",server="sim-2"\} [1-9]\d*$/m);
      // The same server comes back (same data, same port): its events flow again.
      sims.set('sim-1', await startSimulator({ ...SIMS['sim-1'], port }));
      await expect.poll(scrape, { timeout: 15_000, interval: 50, message: 'sim-1 up' }).toMatch(/^spp_server_up\{server="sim-1"\} 1$/m);
    } finally {
      await client.dispose();
    }
  });
});

describe('a server that refuses the caller', () => {
  it('ends a subscription of several servers with an error naming the server that refused the caller', async () => {
    // Another directory: this server does not know the caller's password.
    const stranger = await startSimulator({ seed: 14, size: 10, now: NOW, users: [{ username: ADMIN.username, password: 'another-password' }] });
    const { env: config } = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', CURSOR_SECRET: 'integration-test-cursor-secret', ...LIVE_ENV });
    const gateway = await createGateway({
      env: config,
      sppUrl: sims.get('sim-1')!.url,
      servers: [
        { name: 'sim-1', url: sims.get('sim-1')!.url },
        { name: 'elsewhere', url: stranger.url },
      ],
      auth: { mode: 'pass-through' },
      logger: createLogger(config.LOG_LEVEL, new Writable({ write: (_chunk, _encoding, done) => done() })),
    });
    gateways.push(gateway);
    const client = wsClient(harnessOf(gateway), AUTH);
    try {
      const events = collect(client, EVENTS);
      await until(() => events.results.some((r) => r.errors) || events.errors.length > 0, 'the refusal');
      const error = events.results.flatMap((r) => r.errors ?? [])[0];
      expect(error).toMatchObject({ extensions: { code: 'UNAUTHENTICATED', server: 'elsewhere' } });
      expect(error!.message).toContain('elsewhere');
      await until(() => events.completed, 'the subscription to end');
    } finally {
      await client.dispose();
      await stopGateway(gateway);
      await stranger.close();
    }
  });
});
