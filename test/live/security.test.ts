import { request as httpRequest, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ADMIN, startHarness, type Harness } from '../support/harness.js';
import { ACTIVE_FILTER, EVENTS, LIVE_ENV, collect, until, wsClient, wsUrl } from './support.js';

const TOKEN = 'live-test-token-0123456789abcdef';
const SMALL = 'subscription($filter: JobSessionFilter) { jobSessionEvents(filter: $filter) { kind sessionId } }';
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** Opens a WebSocket with graphql-ws's subprotocol and resolves how the server ended it. */
function rawSocket(h: Harness, headers: Record<string, string> = {}, init?: Record<string, unknown>) {
  const socket = new WebSocket(wsUrl(h), 'graphql-transport-ws', { headers });
  const messages: any[] = [];
  const ended = new Promise<{ status?: number; code?: number; reason?: string }>((resolve) => {
    socket.on('unexpected-response', (_req, res) => resolve({ status: res.statusCode }));
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    socket.on('error', () => undefined);
  });
  socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', ...(init ? { payload: init } : {}) })));
  socket.on('message', (data) => messages.push(JSON.parse((data as Buffer).toString('utf8'))));
  return { socket, messages, ended };
}

async function ssePost(h: Harness, headers: Record<string, string>, body: unknown = { query: SMALL }) {
  const controller = new AbortController();
  const response = await fetch(h.gateway.url, {
    method: 'POST',
    headers: { accept: 'text/event-stream', 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: controller.signal,
  });
  const result = {
    status: response.status,
    contentType: response.headers.get('content-type'),
    body: response.status === 200 ? undefined : ((await response.json()) as any),
  };
  controller.abort();
  return result;
}

/** Opens an HTTP stream (event stream or multipart) and reads it until the gateway ends it, or it breaks off. */
async function openStream(h: Harness, accept: string, headers: Record<string, string>) {
  const response = await fetch(h.gateway.url, {
    method: 'POST',
    headers: { accept, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query: SMALL }),
  });
  const done = (async () => {
    let text = '';
    try {
      for await (const chunk of response.body!) text += Buffer.from(chunk).toString('utf8');
      return { text, broken: false };
    } catch {
      return { text, broken: true };
    }
  })();
  return { status: response.status, done };
}

describe('authentication (service account with tokens)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      sim: { size: 300 },
      env: LIVE_ENV,
      auth: { mode: 'service-account', serviceAccount: ADMIN, tokens: [TOKEN], allowAnonymous: false },
    });
  });
  afterAll(() => h.close());

  it('closes a WebSocket that sent no credentials with 4401, and one with a wrong token with 4403, before any upstream call', async () => {
    h.resetUpstreamCalls();
    const none = rawSocket(h);
    expect(await none.ended).toEqual({ code: 4401, reason: expect.stringMatching(/^Unauthorized: Authentication required/) });
    const wrong = rawSocket(h, {}, { authorization: 'Bearer nope' });
    expect(await wrong.ended).toEqual({ code: 4403, reason: expect.stringMatching(/^Forbidden: The bearer token is not valid/) });
    expect(h.upstreamCalls()).toEqual([]);
  });

  it('accepts the token in connection_init or on the upgrade request', async () => {
    for (const client of [wsClient(h, { authorization: `Bearer ${TOKEN}` }), wsClient(h, { headers: { Authorization: `Bearer ${TOKEN}` } })]) {
      const events = collect(client, SMALL, { filter: ACTIVE_FILTER });
      await until(() => h.gateway.live.registry.size === 1);
      events.stop();
      await client.dispose();
      await until(() => h.gateway.live.registry.size === 0);
    }
    const upgraded = rawSocket(h, { authorization: `Bearer ${TOKEN}` });
    await until(() => upgraded.messages.length > 0);
    expect(upgraded.messages[0]).toEqual({ type: 'connection_ack' });
    upgraded.socket.close();
  });

  it('answers an event stream without valid credentials with 401 and UNAUTHENTICATED', async () => {
    expect(await ssePost(h, {})).toMatchObject({ status: 401, body: { errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] } });
    expect(await ssePost(h, { authorization: 'Bearer nope' })).toMatchObject({
      status: 401,
      body: { errors: [{ message: expect.stringMatching(/not valid/) }] },
    });
    expect(await ssePost(h, { authorization: `Bearer ${TOKEN}` })).toMatchObject({ status: 200, contentType: expect.stringMatching(/^text\/event-stream/) });
  });

  it('answers a multipart subscription without valid credentials with 401 and UNAUTHENTICATED, as an event stream', async () => {
    const accept = 'multipart/mixed;subscriptionSpec="1.0", application/json';
    expect(await ssePost(h, { accept })).toMatchObject({ status: 401, body: { errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] } });
    expect(await ssePost(h, { accept, authorization: 'Bearer nope' })).toMatchObject({
      status: 401,
      body: { errors: [{ message: expect.stringMatching(/not valid/) }] },
    });
    expect(await ssePost(h, { accept, authorization: `Bearer ${TOKEN}` })).toMatchObject({
      status: 200,
      contentType: expect.stringMatching(/^multipart\/mixed/),
    });
  });

  it('opens a GET stream only with a CSRF preflight header, and applies the document limits to streams', async () => {
    const query = encodeURIComponent(SMALL);
    const bare = await fetch(`${h.gateway.url}?query=${query}`, { headers: { accept: 'text/event-stream', authorization: `Bearer ${TOKEN}` } });
    expect(bare.status).toBe(400);
    expect(((await bare.json()) as any).errors[0]).toMatchObject({
      extensions: { code: 'BAD_REQUEST' },
      message: expect.stringMatching(/apollo-require-preflight/),
    });
    const controller = new AbortController();
    const preflighted = await fetch(`${h.gateway.url}?query=${query}`, {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${TOKEN}`, 'apollo-require-preflight': 'true' },
      signal: controller.signal,
    });
    expect(preflighted.status).toBe(200);
    controller.abort();
    const invalid = await ssePost(h, { authorization: `Bearer ${TOKEN}` }, { query: 'subscription { jobSessionEvents { nope } }' });
    expect(invalid).toMatchObject({
      status: 400,
      body: { errors: [{ extensions: { code: 'GRAPHQL_VALIDATION_FAILED' }, message: expect.stringMatching(/Cannot query field "nope"/) }] },
    });
  });

  it('refuses a foreign Origin on the upgrade and on the stream (403), and a non-JSON stream POST (400), like POSTs', async () => {
    const foreign = rawSocket(h, { origin: 'https://evil.example', authorization: `Bearer ${TOKEN}` });
    expect(await foreign.ended).toEqual({ status: 403 });
    const same = rawSocket(h, { origin: h.gateway.url.replace(/\/graphql$/, ''), authorization: `Bearer ${TOKEN}` });
    await until(() => same.messages.length > 0);
    expect(same.messages[0]).toEqual({ type: 'connection_ack' });
    same.socket.close();
    expect(await ssePost(h, { origin: 'https://evil.example', authorization: `Bearer ${TOKEN}` })).toMatchObject({
      status: 403,
      body: { errors: [{ extensions: { code: 'FORBIDDEN' } }] },
    });
    const plain = await fetch(h.gateway.url, {
      method: 'POST',
      headers: { accept: 'text/event-stream', 'content-type': 'text/plain', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ query: SMALL }),
    });
    expect(plain.status).toBe(400);
    expect(((await plain.json()) as any).errors[0]).toMatchObject({ extensions: { code: 'BAD_REQUEST' }, message: expect.stringMatching(/CSRF/) });
  });
});

describe('origins a browser app may subscribe from', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      sim: { size: 300 },
      env: { ...LIVE_ENV, CORS_ORIGINS: 'https://monitor.example' },
      auth: { mode: 'service-account', serviceAccount: ADMIN, tokens: [TOKEN], allowAnonymous: false },
    });
  });
  afterAll(() => h.close());

  it('lets an origin that CORS_ORIGINS allows subscribe over both transports, and still refuses others', async () => {
    const listed = rawSocket(h, { origin: 'https://monitor.example', authorization: `Bearer ${TOKEN}` });
    await until(() => listed.messages.length > 0);
    expect(listed.messages[0]).toEqual({ type: 'connection_ack' });
    listed.socket.close();
    expect((await ssePost(h, { origin: 'https://monitor.example', authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    expect(await rawSocket(h, { origin: 'https://evil.example', authorization: `Bearer ${TOKEN}` }).ended).toEqual({ status: 403 });
    expect((await ssePost(h, { origin: 'https://evil.example', authorization: `Bearer ${TOKEN}` })).status).toBe(403);
  });
});

describe('CORS_ORIGINS=* (reads open to any site)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      sim: { size: 50 },
      env: { ...LIVE_ENV, CORS_ORIGINS: '*', CORS_CREDENTIALS: 'false' },
      auth: { mode: 'service-account', serviceAccount: ADMIN, tokens: [TOKEN], allowAnonymous: false },
    });
  });
  afterAll(() => h.close());

  it('still refuses subscriptions from a foreign site on both transports (403); same-origin and non-browser clients subscribe', async () => {
    expect(await rawSocket(h, { origin: 'https://evil.example', authorization: `Bearer ${TOKEN}` }).ended).toEqual({ status: 403 });
    expect((await ssePost(h, { origin: 'https://evil.example', authorization: `Bearer ${TOKEN}` })).status).toBe(403);
    const plain = rawSocket(h, { authorization: `Bearer ${TOKEN}` });
    await until(() => plain.messages.length > 0);
    expect(plain.messages[0]).toEqual({ type: 'connection_ack' });
    plain.socket.close();
  });
});

describe('authentication (pass-through)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ sim: { size: 300 }, env: LIVE_ENV, auth: { mode: 'pass-through' } });
  });
  afterAll(() => h.close());

  it('closes with 4403 when SPP rejects Basic credentials at connection_init', async () => {
    const wrong = rawSocket(h, {}, { authorization: basic('admin', 'wrong') });
    expect(await wrong.ended).toEqual({ code: 4403, reason: expect.stringMatching(/^Forbidden: SPP rejected the username or password/) });
  });

  it('closes with 4403 for a createSession token that was signed out, and ends a subscription with UNAUTHENTICATED when SPP expires its session', async () => {
    const login = await h.gql('mutation { createSession(username: "admin", password: "admin-password") { token } }');
    const token = login.body.data.createSession.token as string;
    const client = wsClient(h, { authorization: `Bearer ${token}` });
    const events = collect(client, SMALL, { filter: ACTIVE_FILTER });
    await until(() => h.gateway.live.registry.size === 1);
    await h.gateway.live.registry.nextPolls();
    h.sim.expireLoginSessions();
    await until(() => events.completed, 'the subscription ends');
    expect(events.results.at(-1)!.errors![0]).toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    expect(h.gateway.live.registry.size).toBe(0);
    await client.dispose();

    await h.gql('mutation { deleteSession }', undefined, { authorization: `Bearer ${token}` });
    const signedOut = rawSocket(h, {}, { authorization: `Bearer ${token}` });
    expect(await signedOut.ended).toEqual({ code: 4403, reason: expect.stringMatching(/^Forbidden: The bearer token is unknown or expired/) });
  });

  it('logs a Basic user in again when SPP expires the session mid-subscription, and the events go on', async () => {
    const client = wsClient(h, { authorization: basic('admin', 'admin-password') });
    const events = collect(client, SMALL, { filter: ACTIVE_FILTER });
    await until(() => h.gateway.live.registry.size === 1);
    await h.gateway.live.registry.nextPolls();
    h.sim.expireLoginSessions();
    h.sim.step({ insert: 2 });
    await h.gateway.live.registry.nextPolls();
    await until(() => events.data.filter((d: any) => d.jobSessionEvents.kind === 'ADDED').length === 2, 'events after the re-login');
    expect(events.completed).toBe(false);
    expect(h.sim.requests.filter((r) => r.method === 'POST' && r.path === '/api/endeavour/session' && r.status === 200).length).toBeGreaterThanOrEqual(2);
    events.stop();
    await client.dispose();
  });
});

describe('signing out elsewhere', () => {
  let h: Harness;
  // Polls a minute apart: what ends the streams below is the sign-out, not SPP refusing the next poll.
  beforeAll(async () => {
    h = await startHarness({
      sim: { size: 300 },
      env: { ...LIVE_ENV, SUBSCRIPTION_POLL_MS: '60000', SUBSCRIPTION_IDLE_POLL_MS: '60000' },
      auth: { mode: 'pass-through' },
    });
  });
  afterAll(() => h.close());

  it('ends an open WebSocket, event stream and multipart stream within seconds once their token is signed out elsewhere (deleteSession)', async () => {
    const login = await h.gql('mutation { createSession(username: "admin", password: "admin-password") { token } }');
    const bearer = { authorization: `Bearer ${login.body.data.createSession.token as string}` };
    const socket = rawSocket(h, {}, bearer);
    await until(() => socket.messages.length > 0);
    expect(socket.messages[0]).toEqual({ type: 'connection_ack' });
    const sse = await openStream(h, 'text/event-stream', bearer);
    const multipart = await openStream(h, 'multipart/mixed;subscriptionSpec="1.0", application/json', bearer);
    expect([sse.status, multipart.status]).toEqual([200, 200]);
    // Signed out on another connection: every stream of the token ends, each saying why.
    expect((await h.gql('mutation { deleteSession }', undefined, bearer)).body.data).toEqual({ deleteSession: true });
    expect(await socket.ended).toEqual({
      code: 4403,
      reason: expect.stringMatching(/^Forbidden: Signed out: the session or token of this connection was signed out/),
    });
    for (const stream of [sse, multipart]) {
      const { text } = await stream.done;
      expect(text).toContain('"code":"UNAUTHENTICATED"');
      expect(text).toContain('Signed out: the session or token of this connection was signed out');
    }
    // A stream of the signed-out token is refused from then on.
    expect((await ssePost(h, bearer)).status).toBe(401);
  });
});

describe('limits', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      sim: { size: 300 },
      env: {
        ...LIVE_ENV,
        SUBSCRIPTIONS_PER_CONNECTION: '3',
        SUBSCRIPTIONS_PER_IDENTITY: '5',
        SUBSCRIPTION_MAX_POLLERS: '2',
        SUBSCRIPTION_MAX_CONNECTIONS: '3',
        MAX_DEPTH: '5',
        MAX_ALIASES: '1',
        MAX_COST: '20',
      },
    });
  });
  afterAll(() => h.close());

  /**
   * Refused before execution (document checks, per-connection limit): graphql-ws's `error`
   * message. Refused by the subscribe resolver (identity and poller limits): a result with errors.
   */
  const refusal = (c: { errors: any[]; results: any[] }) => (c.errors[0] as any[] | undefined)?.[0] ?? c.results[0]?.errors?.[0];
  const codeOf = (c: { errors: any[]; results: any[] }) => refusal(c)?.extensions?.code;
  const refused = (c: { errors: any[]; results: any[] }) => refusal(c) !== undefined;

  it('holds subscriptions per connection, per identity and pollers at their limits and refuses one more with LIMIT_EXCEEDED', async () => {
    const one = wsClient(h);
    const two = wsClient(h);
    const running = { status: ['RUNNING'] };
    const first = [1, 2, 3].map(() => collect(one, SMALL, { filter: running }));
    await until(() => h.gateway.live.registry.size === 1);
    const fourth = collect(one, SMALL, { filter: running });
    await until(() => refused(fourth), 'step 2');
    expect(codeOf(fourth)).toBe('LIMIT_EXCEEDED');
    expect(refusal(fourth).message).toMatch(/SUBSCRIPTIONS_PER_CONNECTION/);

    // A second filter is the second poller (the limit); a third filter is refused.
    const second = collect(two, SMALL, { filter: { status: ['PENDING'] } });
    await until(() => h.gateway.live.registry.size === 2);
    const third = collect(two, SMALL, { filter: { status: ['FAILED'] } });
    await until(() => refused(third), 'step 4');
    expect(codeOf(third)).toBe('LIMIT_EXCEEDED');
    expect(refusal(third).message).toMatch(/SUBSCRIPTION_MAX_POLLERS/);

    // Identity: 3 + 1 held; one more is the fifth, the sixth is refused.
    const fifth = collect(two, SMALL, { filter: running });
    await expect
      .poll(async () => (await h.gateway.metrics.registry.getSingleMetric('live_subscriptions')!.get()).values[0]!.value, { timeout: 15_000 })
      .toBe(5);
    const sixth = collect(two, SMALL, { filter: running });
    await until(() => refused(sixth), 'step 5');
    expect(codeOf(sixth)).toBe('LIMIT_EXCEEDED');
    expect(refusal(sixth).message).toMatch(/SUBSCRIPTIONS_PER_IDENTITY/);
    expect([fifth.results, fifth.errors]).toEqual([[], []]);
    expect(refusal(sixth).extensions).toEqual({ code: 'LIMIT_EXCEEDED' });

    // Open connections: 2 held, a third is allowed, a fourth is refused (WebSocket and SSE alike).
    const three = rawSocket(h);
    await until(() => three.messages.length > 0);
    const four = rawSocket(h);
    expect(await four.ended).toEqual({ status: 503 });
    expect(await ssePost(h, {})).toMatchObject({ status: 503, body: { errors: [{ extensions: { code: 'LIMIT_EXCEEDED' } }] } });
    three.socket.close();
    for (const c of [...first, second, fifth]) c.stop();
    await one.dispose();
    await two.dispose();
    await expect
      .poll(async () => (await h.gateway.metrics.registry.getSingleMetric('live_connections')!.get()).values.reduce((sum, v) => sum + v.value, 0), {
        timeout: 15_000,
      })
      .toBe(0);
    await until(() => h.gateway.live.registry.size === 0);
  });

  it('applies the depth, alias and cost limits to subscription documents before any upstream call', async () => {
    h.resetUpstreamCalls();
    const client = wsClient(h);
    // jobSessionEvents(1) session(2) policySnapshot(3) spec(4) applicationType(5): at the limit; source { name } is 6.
    const atDepth = collect(
      client,
      'subscription { jobSessionEvents(filter: {status: [RUNNING]}) { session { policySnapshot { spec { applicationType } } } } }',
    );
    const deep = collect(client, 'subscription { jobSessionEvents { session { policySnapshot { spec { source { name } } } } } }');
    const aliased = collect(client, 'subscription { a: jobSessionEvents { kind } b: jobSessionEvents { kind } }');
    const other = wsClient(h);
    const costly = collect(other, 'subscription { jobSessionEvents { session { links { name } statistics { total } } } }');
    await until(() => refused(deep) && refused(aliased) && refused(costly));
    expect(codeOf(deep)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(refusal(deep).message).toMatch(/depth limit of 5 exceeded, found 6/);
    expect(codeOf(aliased)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(codeOf(costly)).toBe('QUERY_TOO_COMPLEX');
    expect(h.upstreamCalls().every((c) => c.filter !== undefined && JSON.stringify(c.filter).includes('RUNNING'))).toBe(true);
    expect([atDepth.results, atDepth.errors]).toEqual([[], []]);
    atDepth.stop();
    await client.dispose();
    await other.dispose();
  });
});

describe('resilience', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ sim: { size: 300 }, env: { ...LIVE_ENV, SUBSCRIPTION_WINDOW: '20', SUBSCRIPTION_BUFFER: '50', SPP_RETRY_LIMIT: '0' } });
  });
  afterAll(() => h.close());

  it('backs off while SPP fails, invents nothing, and resumes with the changes made during the outage', async () => {
    const client = wsClient(h);
    const events = collect(client, EVENTS, { filter: ACTIVE_FILTER });
    await until(() => h.gateway.live.registry.size === 1);
    await h.gateway.live.registry.nextPolls();
    const failed = async () =>
      (await h.gateway.metrics.registry.getSingleMetric('live_polls_total')!.get()).values.find((v) => v.labels.outcome === 'failed')?.value ?? 0;
    const failedBefore = await failed();
    h.sim.configure({ faults: { errorRate: 1 } });
    const before = h.sim.list({
      filter: [{ property: 'status', value: ['RUNNING', 'PENDING', 'WAITING'], op: 'IN' }],
      sort: [{ property: 'start', direction: 'DESC' }],
    });
    h.sim.step({ insert: 2 });
    h.sim.step({ insert: 0 });
    await h.gateway.live.registry.nextPolls();
    await h.gateway.live.registry.nextPolls();
    expect(await failed()).toBeGreaterThanOrEqual(failedBefore + 2);
    expect(events.data).toEqual([]);
    h.sim.configure({ faults: { errorRate: 0 } });
    const after = h.sim.list({
      filter: [{ property: 'status', value: ['RUNNING', 'PENDING', 'WAITING'], op: 'IN' }],
      sort: [{ property: 'start', direction: 'DESC' }],
    });
    const { expectedEvents, received } = await import('./support.js');
    const expected = expectedEvents(before, after, (id) => h.sim.get(id));
    await h.gateway.live.registry.nextPolls();
    await until(() => events.data.length >= expected.length);
    await h.gateway.live.registry.nextPolls();
    expect(received(events)).toEqual(expected);
    expect(events.errors).toEqual([]);
    events.stop();
    await client.dispose();
  });

  it('disconnects a consumer that stops reading, with 1008 and a reason, instead of buffering', async () => {
    const slow = rawSocket(h);
    await until(() => slow.messages.length > 0);
    // Large events (the whole record) on many subscriptions, and a client that stops reading.
    for (let i = 0; i < 3; i++)
      slow.socket.send(JSON.stringify({ id: String(i), type: 'subscribe', payload: { query: 'subscription { jobSessionEvents { session { raw } } }' } }));
    await until(() => h.gateway.live.registry.size === 1);
    await h.gateway.live.registry.nextPolls();
    (slow.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const disconnects = async () => (await h.gateway.metrics.registry.getSingleMetric('live_slow_consumer_disconnects_total')!.get()).values[0]?.value ?? 0;
    for (let i = 0; i < 200 && (await disconnects()) === 0; i++) {
      h.sim.step({ insert: 10 });
      await h.gateway.live.registry.nextPolls();
    }
    expect(await disconnects()).toBeGreaterThanOrEqual(1);
    (slow.socket as unknown as { _socket: { resume(): void } })._socket.resume();
    expect(await slow.ended).toEqual({ code: 1008, reason: expect.stringMatching(/^Slow consumer: more than 50 events were waiting/) });
    await until(() => h.gateway.live.registry.size === 0, 'its subscriptions ended');
  });

  /** Opens an HTTP stream (`accept`) of a heavy subscription, stops reading it, and lets SPP change until the gateway drops it as a slow consumer. */
  async function stallStream(accept: string): Promise<{ response: IncomingMessage; closed: Promise<void> }> {
    const body = JSON.stringify({ query: 'subscription { jobSessionEvents { session { raw } } }' });
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest(
        h.gateway.url,
        { method: 'POST', headers: { accept, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        resolve,
      );
      req.on('error', reject);
      req.end(body);
    });
    expect(response.statusCode).toBe(200);
    const closed = new Promise<void>((resolve) => response.socket.once('close', () => resolve()));
    await until(() => h.gateway.live.registry.size === 1);
    await h.gateway.live.registry.nextPolls();
    response.pause();
    const disconnects = async () => (await h.gateway.metrics.registry.getSingleMetric('live_slow_consumer_disconnects_total')!.get()).values[0]?.value ?? 0;
    const before = await disconnects();
    for (let i = 0; i < 200 && (await disconnects()) === before; i++) {
      h.sim.step({ insert: 10 });
      await h.gateway.live.registry.nextPolls();
    }
    expect(await disconnects()).toBe(before + 1);
    return { response, closed };
  }

  it('closes the event stream of a consumer that stops reading, instead of buffering', async () => {
    const { response, closed } = await stallStream('text/event-stream');
    response.resume();
    response.on('data', () => undefined);
    await closed;
    await until(() => h.gateway.live.registry.size === 0, 'its subscription ended');
  });

  it('ends the multipart stream of a consumer that stops reading with a LIMIT_EXCEEDED part, instead of buffering', async () => {
    const { response } = await stallStream('multipart/mixed;subscriptionSpec="1.0", application/json');
    let text = '';
    // The paused body still holds the stream's last parts: read to its end.
    const ended = new Promise<void>((resolve) => response.once('end', () => resolve()).once('close', () => resolve()));
    response.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    response.resume();
    await ended;
    // The stream's last words: the reason as a transport error part, then the closing delimiter.
    expect(text).toMatch(/"code":"LIMIT_EXCEEDED"/);
    expect(text).toContain('Slow consumer: more than');
    expect(text.trimEnd().endsWith('--graphql--')).toBe(true);
    await until(() => h.gateway.live.registry.size === 0, 'its subscription ended');
  });
});
