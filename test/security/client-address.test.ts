/**
 * The client's address behind a proxy (TRUSTED_PROXIES, src/identity/client-address.ts): anonymous
 * callers' budgets and their subscription connections are counted per client, through real HTTP,
 * event streams and WebSockets. The tests connect from 127.0.0.1, so `loopback` makes the test
 * itself the trusted proxy, and X-Forwarded-For what that proxy says it saw.
 */
import WebSocket from 'ws';
import { createClient as createWsClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { startHarness, type Harness } from '../support/harness.js';
import { collect, LIVE_ENV, until, wsUrl } from '../live/support.js';

const QUERY = '{ jobSessions(first: 20) { edges { node { sessionId } } } }';
const SUBSCRIPTION = 'subscription { jobSessionEvents(filter: { status: [RUNNING] }) { kind sessionId } }';
/** A slow refill (1 point a second): what a test spends stays spent while it runs. */
const BUDGET = { QUOTA_POINTS: '1000', QUOTA_RESTORE_PER_S: '1' };

async function post(h: Harness, forwardedFor?: string) {
  const response = await fetch(h.gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) },
    body: JSON.stringify({ query: QUERY }),
  });
  const body = (await response.json()) as any;
  return {
    status: response.status,
    left: body.extensions?.cost?.throttleStatus?.currentlyAvailable as number,
    cost: body.extensions?.cost?.requestedQueryCost as number,
  };
}

/** An event stream opened as the client `forwardedFor`: its HTTP status (200 while it streams). */
async function eventStream(h: Harness, forwardedFor: string, signal: AbortSignal): Promise<number> {
  const response = await fetch(h.gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'x-forwarded-for': forwardedFor },
    body: JSON.stringify({ query: SUBSCRIPTION }),
    signal,
  });
  return response.status;
}

/** A graphql-ws client whose upgrade request carries `X-Forwarded-For: forwardedFor`. */
function wsAs(h: Harness, forwardedFor: string, closed: Array<{ code: number; reason: string }>) {
  class Forwarded extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers: { 'x-forwarded-for': forwardedFor } });
    }
  }
  return createWsClient({
    url: wsUrl(h),
    webSocketImpl: Forwarded,
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => undefined,
    on: { closed: (event) => closed.push({ code: (event as { code: number }).code, reason: (event as { reason: string }).reason }) },
  });
}

describe('TRUSTED_PROXIES', () => {
  it.each([
    ['a word that is no range', 'loopback,proxies', '"proxies" is none of them'],
    ['an address with a bad prefix', '10.0.0.0/33', '"10.0.0.0/33" is none of them'],
    ['an empty entry', '10.0.0.1,,10.0.0.2', '"" is none of them'],
  ])('is refused at start with a ConfigError naming the variable and the entry: %s', (_what, value, message) => {
    expect(() => loadConfig({ TRUSTED_PROXIES: value })).toThrow(ConfigError);
    expect(() => loadConfig({ TRUSTED_PROXIES: value })).toThrow(`Invalid TRUSTED_PROXIES (${JSON.stringify(value)}): expected comma-separated addresses`);
    expect(() => loadConfig({ TRUSTED_PROXIES: value })).toThrow(message);
  });

  it('refuses TRUSTED_PROXY_HOPS outside 1 to 10', () => {
    expect(() => loadConfig({ TRUSTED_PROXIES: 'loopback', TRUSTED_PROXY_HOPS: '0' })).toThrow(/^Invalid TRUSTED_PROXY_HOPS \("0"\)/);
    expect(() => loadConfig({ TRUSTED_PROXIES: 'loopback', TRUSTED_PROXY_HOPS: '11' })).toThrow(/^Invalid TRUSTED_PROXY_HOPS \("11"\)/);
  });

  it('accepts addresses, CIDR ranges and the named ranges, IPv4 and IPv6', () => {
    expect(loadConfig({ TRUSTED_PROXIES: ' loopback, 10.0.0.0/8,fd00::/8 , 192.0.2.7,uniquelocal' }).env.TRUSTED_PROXIES).toEqual([
      'loopback',
      '10.0.0.0/8',
      'fd00::/8',
      '192.0.2.7',
      'uniquelocal',
    ]);
  });
});

describe('anonymous callers behind a trusted proxy', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      sim: { size: 100 },
      env: { ...LIVE_ENV, ...BUDGET, TRUSTED_PROXIES: 'loopback', SUBSCRIPTION_CONNECTIONS_PER_CALLER: '1' },
    });
  });
  afterAll(() => h.close());

  it('gives each forwarded client its own budget; a client cannot pick another by writing X-Forwarded-For, even from a trusted range', async () => {
    const first = await post(h, '203.0.113.1');
    expect(first.status).toBe(200);
    expect(first.left).toBe(1000 - first.cost);
    // Another client behind the same proxy starts full.
    expect(await post(h, '203.0.113.2')).toEqual({ status: 200, left: 1000 - first.cost, cost: first.cost });
    // 203.0.113.1 writes an address of its own in front: the proxy appended what it saw, and that is the client.
    expect(await post(h, '198.51.100.9, 203.0.113.1')).toEqual({ status: 200, left: 1000 - 2 * first.cost, cost: first.cost });
    // Without X-Forwarded-For the proxy itself is the client: its own budget too.
    expect((await post(h)).left).toBe(1000 - first.cost);
    // A client in a trusted range (here 127.0.0.5, as a user on an office 10/8 network behind an
    // on-premises ingress) is still only one hop: what it wrote to the left is not believed.
    expect((await post(h, '203.0.113.2, 127.0.0.5')).left).toBe(1000 - first.cost);
    // An entry that is no address (a proxy that passed the client's header on as it was) counts for the proxy.
    expect((await post(h, 'whatever-i-like')).left).toBe(1000 - 2 * first.cost);
    // The request log line names the client each request was counted for.
    const lines = h.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request' && l.path === '/graphql');
    expect(lines.map((l) => [l.consumer, l.address])).toEqual([
      ['anonymous', '203.0.113.1'],
      ['anonymous', '203.0.113.2'],
      ['anonymous', '203.0.113.1'],
      ['anonymous', '127.0.0.1'],
      ['anonymous', '127.0.0.5'],
      ['anonymous', '127.0.0.1'],
    ]);
  });

  it('counts SUBSCRIPTION_CONNECTIONS_PER_CALLER per forwarded client on event streams and WebSockets: one client’s second connection is refused, another’s first is not', async () => {
    const done = new AbortController();
    try {
      expect(await eventStream(h, '203.0.113.21', done.signal)).toBe(200);
      await until(() => h.gateway.live.registry.size === 1);
      expect(await eventStream(h, '203.0.113.21', AbortSignal.timeout(10_000))).toBe(429);

      const closed: Array<{ code: number; reason: string }> = [];
      const same = wsAs(h, '203.0.113.21', closed);
      collect(same, SUBSCRIPTION);
      await until(() => closed.length > 0);
      expect(closed).toEqual([{ code: 1008, reason: 'Too many connections: this caller holds 1 (SUBSCRIPTION_CONNECTIONS_PER_CALLER)' }]);

      const otherClosed: Array<{ code: number; reason: string }> = [];
      const other = wsAs(h, '203.0.113.22', otherClosed);
      const theirs = collect(other, SUBSCRIPTION);
      await expect
        .poll(async () => (await h.gateway.metrics.registry.getSingleMetric('live_subscriptions')!.get()).values[0]!.value, { timeout: 15_000 })
        .toBe(2);
      expect([theirs.errors, otherClosed]).toEqual([[], []]);
      theirs.stop();
      await Promise.all([same.dispose(), other.dispose()]);
    } finally {
      done.abort();
    }
  });
});

describe('anonymous callers behind two trusted proxies in a row (TRUSTED_PROXY_HOPS=2)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ sim: { size: 100 }, env: { ...BUDGET, TRUSTED_PROXIES: 'loopback,10.0.0.0/8', TRUSTED_PROXY_HOPS: '2' } });
  });
  afterAll(() => h.close());

  it('takes the entry the outer proxy wrote when the inner one forwarded from a trusted address, and stops at two hops', async () => {
    const first = await post(h, '203.0.113.7, 10.1.2.3');
    expect(first.status).toBe(200);
    // The client prefixes its own entries: still 203.0.113.7's budget.
    expect((await post(h, '10.9.9.9, 203.0.113.7, 10.1.2.3')).left).toBe(1000 - 2 * first.cost);
    // Even a client in the trusted 10/8 range is the second hop, not a third proxy.
    expect((await post(h, '203.0.113.7, 10.4.4.4, 10.1.2.3')).left).toBe(1000 - first.cost);
    // An inner hop that is no trusted proxy is the client.
    expect((await post(h, '10.9.9.9, 198.51.100.1')).left).toBe(1000 - first.cost);
  });
});

describe('anonymous callers without TRUSTED_PROXIES', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ sim: { size: 100 }, env: BUDGET });
  });
  afterAll(() => h.close());

  it('ignores X-Forwarded-For: whatever a client writes there, it spends the budget of the address it connects from', async () => {
    const first = await post(h, '203.0.113.1');
    expect(first.status).toBe(200);
    expect(await post(h, '203.0.113.2')).toEqual({ status: 200, left: 1000 - 2 * first.cost, cost: first.cost });
    expect((await post(h)).left).toBe(1000 - 3 * first.cost);
  });

  it('warns once that a proxy seems to stand in front without TRUSTED_PROXIES, naming the peer', async () => {
    await post(h, '203.0.113.3');
    await post(h, '203.0.113.4');
    const warnings = h.logs
      .map((l) => JSON.parse(l) as { level: number; msg: string; peer?: string })
      .filter((l) => l.msg.includes('TRUSTED_PROXIES is not set'));
    expect(warnings.map((w) => [w.level, w.peer])).toEqual([[40, '127.0.0.1']]);
  });
});
