/**
 * Cost budgets per consumer (docs/security.md "Budgets"), through real HTTP, WebSocket and event
 * streams against the simulator: two gateway tokens are two consumers with one service account.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, startHarness, type Harness } from '../support/harness.js';
import WebSocket from 'ws';
import { collect, LIVE_ENV, until, wsClient, wsUrl } from '../live/support.js';

const TOKEN_A = 'budget-test-token-a-0123456789';
const TOKEN_B = 'budget-test-token-b-0123456789';
const QUERY = '{ jobSessions(first: 20) { edges { node { sessionId status } } } }';
const SUBSCRIPTION = 'subscription { jobSessionEvents(filter: { status: [RUNNING] }) { kind sessionId } }';

async function post(h: Harness, token: string | undefined, query: string, headers: Record<string, string> = {}) {
  const response = await fetch(h.gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as any };
}

const tokens = { mode: 'service-account' as const, serviceAccount: ADMIN, tokens: [TOKEN_A, TOKEN_B], allowAnonymous: true };

describe('a cost budget per consumer', () => {
  let h: Harness;
  beforeAll(async () => {
    // A slow refill (1 point a second), so what the test spends stays spent while it runs.
    h = await startHarness({ sim: { size: 100 }, auth: tokens, env: { ...LIVE_ENV, QUOTA_POINTS: '1000', QUOTA_RESTORE_PER_S: '1' } });
  });
  afterAll(() => h.close());

  it('says where the caller stands on every answer: extensions.cost in Shopify’s shape and the RateLimit fields', async () => {
    const first = await post(h, TOKEN_A, QUERY);
    expect(first.status).toBe(200);
    const cost = first.body.extensions.cost.requestedQueryCost as number;
    expect(cost).toBeGreaterThan(20);
    expect(first.body.extensions).toEqual({
      cost: { requestedQueryCost: cost, throttleStatus: { maximumAvailable: 1000, currentlyAvailable: 1000 - cost, restoreRate: 1 } },
    });
    expect(first.headers.get('ratelimit-policy')).toBe('"cost";q=1000;w=1000');
    expect(first.headers.get('ratelimit')).toBe(`"cost";r=${1000 - cost};t=${cost}`);
    expect(first.headers.get('retry-after')).toBeNull();
  });

  it('answers a consumer over budget 429 RATE_LIMITED with Retry-After before any upstream call, while another consumer is unaffected', async () => {
    const cost = (await post(h, TOKEN_A, QUERY)).body.extensions.cost.requestedQueryCost as number;
    let refused: Awaited<ReturnType<typeof post>> | undefined;
    for (let i = 0; i < Math.ceil(1000 / cost) + 2 && !refused; i++) {
      const answer = await post(h, TOKEN_A, QUERY);
      if (answer.status !== 200) refused = answer;
    }
    expect(refused).toBeDefined();
    const left = refused!.body.extensions.cost.throttleStatus.currentlyAvailable as number;
    expect(left).toBeLessThan(cost);
    const wait = Math.ceil(cost - left);
    expect(refused!.status).toBe(429);
    expect(Number(refused!.headers.get('retry-after'))).toBeGreaterThanOrEqual(wait - 1);
    expect(Number(refused!.headers.get('retry-after'))).toBeLessThanOrEqual(wait);
    expect(refused!.body).toEqual({
      errors: [
        {
          message: expect.stringMatching(new RegExp(`^The operation costs ${cost} points and this caller's budget holds ${left} now: retry after \\d+ s`)),
          extensions: { code: 'RATE_LIMITED', retryAfter: Number(refused!.headers.get('retry-after')) },
        },
      ],
      extensions: { cost: { requestedQueryCost: cost, throttleStatus: { maximumAvailable: 1000, currentlyAvailable: left, restoreRate: 1 } } },
    });

    h.resetUpstreamCalls();
    const again = await post(h, TOKEN_A, QUERY, { accept: 'application/json' });
    expect(again.status).toBe(429);
    expect(h.upstreamCalls()).toEqual([]);

    const other = await post(h, TOKEN_B, QUERY);
    expect(other.status).toBe(200);
    expect(other.body.extensions.cost.throttleStatus.currentlyAvailable).toBe(1000 - cost);
    expect(h.upstreamCalls().length).toBeGreaterThan(0);
  });

  it('charges a subscription its cost when it subscribes, and refuses it over budget (429 with Retry-After on an event stream)', async () => {
    const cost = async (consumerPrefix: RegExp) => {
      const text = await (await fetch(h.gateway.url.replace('/graphql', '/metrics'))).text();
      const line = text.split('\n').find((l) => l.startsWith('graphql_consumer_cost_points_total{') && consumerPrefix.test(l));
      return line ? Number(line.split(' ').at(-1)) : 0;
    };
    const anonymousBefore = await cost(/consumer="anonymous"/);
    const client = wsClient(h);
    const events = collect(client, SUBSCRIPTION);
    await until(() => h.gateway.live.registry.size === 1);
    const charged = (await cost(/consumer="anonymous"/)) - anonymousBefore;
    expect(charged).toBeGreaterThan(0);
    expect(events.errors).toEqual([]);
    events.stop();
    await client.dispose();

    // Spend token A's budget to below 1 point with operations costing 1; the subscription costs 3, 2 s of refill away.
    for (let i = 0; i < 300; i++) if ((await post(h, TOKEN_A, '{ jobSession(id: "bm90LWFuLWlk") { sessionId } }')).status === 429) break;
    const stream = await fetch(h.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${TOKEN_A}` },
      body: JSON.stringify({ query: 'subscription { jobSessionEvents(filter: { status: [RUNNING] }) { kind session { sessionId job { name } } } }' }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await stream.json()) as any;
    expect(stream.status).toBe(429);
    expect(Number(stream.headers.get('retry-after'))).toBeGreaterThanOrEqual(2);
    expect(body.errors[0].extensions).toEqual({ code: 'RATE_LIMITED', retryAfter: Number(stream.headers.get('retry-after')) });

    // The same over a WebSocket: an `error` message, and no poller started for it (the first
    // subscription's feed may still linger for resuming: SUBSCRIPTION_RESUME_MS).
    const pollers = h.gateway.live.registry.size;
    const socket = wsClient(h, { authorization: `Bearer ${TOKEN_A}` });
    const refused = collect(socket, 'subscription { jobSessionEvents(filter: { status: [FAILED] }) { kind session { sessionId job { name } } } }');
    await until(() => refused.errors.length > 0);
    expect((refused.errors[0] as any[])[0]).toMatchObject({ extensions: { code: 'RATE_LIMITED', retryAfter: expect.any(Number) } });
    expect(h.gateway.live.registry.size).toBe(pollers);
    await socket.dispose();
  });

  it('refuses an operation costing more than the whole budget with QUERY_TOO_COMPLEX (waiting would never help)', async () => {
    const answer = await post(h, TOKEN_B, '{ jobSessions(first: 1000) { edges { node { sessionId job { name } } } } }');
    expect(answer.status).toBe(400);
    expect(answer.body.errors[0].extensions.code).toBe('QUERY_TOO_COMPLEX');
    expect(answer.body.errors[0].message).toMatch(/more than this caller's whole budget of 1000/);
    expect(answer.headers.get('retry-after')).toBeNull();
  });
});

describe('subscription limits per caller', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      sim: { size: 100 },
      auth: tokens,
      env: { ...LIVE_ENV, SUBSCRIPTIONS_PER_IDENTITY: '2', SUBSCRIPTION_CONNECTIONS_PER_CALLER: '1' },
    });
  });
  afterAll(() => h.close());

  it('counts SUBSCRIPTIONS_PER_IDENTITY per gateway token, not per service account: one holder at its limit leaves another’s first subscription running', async () => {
    const a = wsClient(h, { authorization: `Bearer ${TOKEN_A}` });
    const b = wsClient(h, { authorization: `Bearer ${TOKEN_B}` });
    const held = [collect(a, SUBSCRIPTION), collect(a, SUBSCRIPTION)];
    await until(() => h.gateway.live.registry.size === 1);
    const third = collect(a, SUBSCRIPTION);
    await until(() => third.errors.length + third.results.length > 0);
    const refusal = (third.errors[0] as any[] | undefined)?.[0] ?? third.results[0]?.errors?.[0];
    expect(refusal).toMatchObject({ extensions: { code: 'LIMIT_EXCEEDED' }, message: expect.stringMatching(/SUBSCRIPTIONS_PER_IDENTITY/) });

    const other = collect(b, SUBSCRIPTION);
    await expect
      .poll(async () => (await h.gateway.metrics.registry.getSingleMetric('live_subscriptions')!.get()).values[0]!.value, { timeout: 15_000 })
      .toBe(3);
    expect([other.errors, other.results.filter((r) => r.errors)]).toEqual([[], []]);
    for (const c of [...held, third, other]) c.stop();
    await Promise.all([a.dispose(), b.dispose()]);
  });

  it('counts SUBSCRIPTION_CONNECTIONS_PER_CALLER per gateway token over both transports: a holder’s second connection is refused, another’s first is not', async () => {
    const closed: Array<{ code: number; reason: string }> = [];
    const first = wsClient(h, { authorization: `Bearer ${TOKEN_A}` });
    const running = collect(first, SUBSCRIPTION);
    await until(() => h.gateway.live.registry.size === 1);
    const second = wsClient(h, { authorization: `Bearer ${TOKEN_A}` }, closed);
    const refused = collect(second, SUBSCRIPTION);
    await until(() => closed.length > 0);
    expect(closed).toEqual([{ code: 1008, reason: 'Too many connections: this caller holds 1 (SUBSCRIPTION_CONNECTIONS_PER_CALLER)' }]);
    expect(refused.data).toEqual([]);

    const stream = await fetch(h.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${TOKEN_A}` },
      body: JSON.stringify({ query: SUBSCRIPTION }),
      signal: AbortSignal.timeout(10_000),
    });
    expect(stream.status).toBe(429);
    expect(((await stream.json()) as any).errors[0].extensions).toEqual({ code: 'LIMIT_EXCEEDED' });

    const other = wsClient(h, { authorization: `Bearer ${TOKEN_B}` });
    const theirs = collect(other, SUBSCRIPTION);
    await expect
      .poll(async () => (await h.gateway.metrics.registry.getSingleMetric('live_subscriptions')!.get()).values[0]!.value, { timeout: 15_000 })
      .toBe(2);
    expect(theirs.errors).toEqual([]);
    running.stop();
    theirs.stop();
    await Promise.all([first.dispose(), second.dispose(), other.dispose()]);
  });
});

describe('a WebSocket that leaves while it is being set up', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      sim: { size: 20 },
      auth: { mode: 'pass-through' },
      env: { ...LIVE_ENV, SUBSCRIPTION_CONNECTIONS_PER_CALLER: '1', SPP_RESPONSE_TIMEOUT_MS: '400' },
    });
  });
  afterAll(() => h.close());

  /** A raw graphql-ws connection as admin (Basic, so SPP is asked to log in while it connects): how it ended, or 'acked'. */
  function connect(closeAfterMs?: number): Promise<string> {
    const socket = new WebSocket(wsUrl(h), 'graphql-transport-ws');
    return new Promise((resolve) => {
      socket.on('open', () => {
        socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Basic ${Buffer.from('admin:admin-password').toString('base64')}` } }));
        if (closeAfterMs !== undefined) setTimeout(() => socket.close(), closeAfterMs);
      });
      socket.on('message', (data) => {
        if ((JSON.parse((data as Buffer).toString('utf8')) as { type: string }).type === 'connection_ack') {
          socket.close();
          resolve('acked');
        }
      });
      socket.on('close', (code, reason) => resolve(`closed ${code} ${String(reason)}`));
    });
  }

  it('holds no connection of its caller once gone: the caller’s next connection is accepted (SUBSCRIPTION_CONNECTIONS_PER_CALLER=1)', async () => {
    // SPP hangs on the login of the first connection, which the client closes meanwhile.
    h.sim.failNext({ kind: 'hang', path: '/api/endeavour/session' });
    expect(await connect(100)).toBe('closed 1005 ');
    // The login's 400 ms pass; the gateway goes on setting up a connection that is gone.
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(await connect()).toBe('acked');
    await expect.poll(async () => (await h.gateway.metrics.registry.getSingleMetric('live_connections')?.get())?.values[0]?.value ?? 0).toBe(0);
  });
});

describe('consumers in logs and metrics', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ sim: { size: 20 }, auth: tokens });
  });
  afterAll(() => h.close());

  it('names the consumer and the client on every request’s log line and in the consumer and client metrics', async () => {
    await post(h, TOKEN_A, QUERY, { 'apollographql-client-name': 'billing-report', 'apollographql-client-version': '1.2.3' });
    await post(h, TOKEN_B, QUERY);
    await post(h, undefined, QUERY);
    const lines = h.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request' && l.path === '/graphql');
    expect(lines.map((l) => [l.consumer, l.client, l.clientVersion])).toEqual([
      [expect.stringMatching(/^token:[\w-]{8}$/), 'billing-report', '1.2.3'],
      [expect.stringMatching(/^token:[\w-]{8}$/), undefined, undefined],
      ['anonymous', undefined, undefined],
    ]);
    const [a, b] = [lines[0]!.consumer as string, lines[1]!.consumer as string];
    expect(a).not.toBe(b);

    const metrics = await (await fetch(h.gateway.url.replace('/graphql', '/metrics'))).text();
    for (const consumer of [a, b, 'anonymous']) expect(metrics).toContain(`graphql_consumer_requests_total{consumer="${consumer}",outcome="ok"} 1`);
    expect(metrics).toContain('graphql_client_requests_total{client="billing-report",client_version="1.2.3"} 1');
    expect(metrics).toContain('graphql_client_requests_total{client="(none)",client_version="(none)"} 2');
    expect(metrics).toMatch(new RegExp(`graphql_consumer_cost_points_total\\{consumer="${a}"\\} \\d+`));
  });
});
