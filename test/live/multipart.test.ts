/**
 * Subscriptions over Apollo's multipart HTTP protocol: Apollo Client 4 with HttpLink alone (no
 * WebSocket link), and the raw protocol as Apollo's document describes it.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { startHarness, type Harness } from '../support/harness.js';
import { ACTIVE_FILTER, ACTIVE_SPP_FILTER, EVENTS, LIVE_ENV, NEWEST_FIRST, expectedEvents, until } from './support.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ sim: { size: 400 }, env: { ...LIVE_ENV, SUBSCRIPTION_HEARTBEAT_MS: '50' } });
});
afterAll(() => h.close());

const active = () => h.sim.list({ filter: ACTIVE_SPP_FILTER, sort: NEWEST_FIRST });
const ACCEPT = 'multipart/mixed;subscriptionSpec="1.0", application/json';

/** A raw multipart subscription: the response head and the body as it arrives. */
function open(body: unknown, headers: Record<string, string> = {}) {
  const url = new URL(h.gateway.url);
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const out = { status: 0, headers: {} as Record<string, unknown>, body: '', ended: false, close: () => undefined as void };
  const req = request(
    { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', accept: ACCEPT, ...headers } },
    (res) => {
      out.status = res.statusCode ?? 0;
      out.headers = res.headers;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (out.body += chunk));
      res.on('end', () => (out.ended = true));
      res.on('error', () => (out.ended = true));
    },
  );
  req.on('error', () => (out.ended = true));
  req.end(text);
  out.close = () => void req.destroy();
  return out;
}

/** The JSON parts of a multipart body (boundary "graphql"), and whether the closing delimiter came. */
function parts(body: string): { parts: unknown[]; closed: boolean } {
  const closed = body.endsWith('\r\n--graphql--\r\n');
  const chunks = body.split('\r\n--graphql').slice(1);
  const parsed = chunks
    .filter((c) => c.length > 0 && !c.startsWith('--'))
    .map((c) => {
      const [head, json] = c.split('\r\n\r\n');
      expect(head!.toLowerCase()).toContain('content-type: application/json');
      return JSON.parse(json!) as unknown;
    });
  return { parts: parsed, closed };
}

describe('multipart subscriptions', () => {
  it('Apollo Client 4 with HttpLink alone receives ADDED, CHANGED and REMOVED exactly as the simulator changed', async () => {
    const client = new ApolloClient({ link: new HttpLink({ uri: h.gateway.url }), cache: new InMemoryCache() });
    const data: any[] = [];
    const errors: unknown[] = [];
    const subscription = client.subscribe({ query: gql(EVENTS), variables: { filter: ACTIVE_FILTER }, fetchPolicy: 'no-cache' }).subscribe({
      next: (result) => (result.error ? errors.push(result.error) : data.push(result.data)),
      error: (error: unknown) => errors.push(error),
    });
    await until(() => h.gateway.live.registry.size === 1, 'the feed of the multipart subscriber');
    await h.gateway.live.registry.nextPolls();
    await h.gateway.live.registry.nextPolls();
    const expected: ReturnType<typeof expectedEvents> = [];
    for (const change of [{ insert: 3 }, { insert: 0 }, { insert: 2, expire: 2 }, { insert: 0 }, { insert: 1 }, { insert: 0 }]) {
      const before = active();
      h.sim.step(change);
      expected.push(...expectedEvents(before, active(), (id) => h.sim.get(id)));
      await h.gateway.live.registry.nextPolls();
      await until(() => data.length >= expected.length, `${expected.length} events`);
    }
    await h.gateway.live.registry.nextPolls();
    expect(new Set(expected.map((e) => e.kind))).toEqual(new Set(['ADDED', 'CHANGED', 'REMOVED']));
    const got = data.map((d) => {
      const { kind, sessionId, at, previousStatus, session } = d.jobSessionEvents;
      return { kind, sessionId, at: session ? at : 'expired', previousStatus, session: session ? { ...session, __typename: undefined } : null };
    });
    expect(got).toEqual(expected.map((e) => ({ ...e, session: e.session ? { ...e.session, __typename: undefined } : null })));
    expect(errors).toEqual([]);
    subscription.unsubscribe();
    await until(() => h.gateway.live.registry.size === 0, 'the feed stops when Apollo Client unsubscribes');
  });

  it("follows Apollo's protocol: the multipart content type, heartbeats {}, each event wrapped in payload, GraphQL errors inside the payload", async () => {
    const stream = open({ query: `subscription { jobSessionEvents(filter: { status: [RUNNING] }) { kind sessionId } }` });
    await until(() => stream.status === 200 && parts(stream.body).parts.length >= 3, 'a few heartbeats');
    expect(stream.headers['content-type']).toBe('multipart/mixed;boundary="graphql";subscriptionSpec="1.0"');
    expect(parts(stream.body).parts.slice(0, 3)).toEqual([{}, {}, {}]);
    await until(() => h.gateway.live.registry.size === 1);
    await h.gateway.live.registry.nextPolls();
    const running = () => h.sim.list({ filter: [{ property: 'status', value: ['RUNNING'], op: 'IN' }], sort: NEWEST_FIRST });
    const before = running();
    h.sim.step({ insert: 2 });
    const expected = expectedEvents(before, running(), (id) => h.sim.get(id)).map(({ kind, sessionId }) => ({
      payload: { data: { jobSessionEvents: { kind, sessionId } } },
    }));
    expect(expected.length).toBeGreaterThan(0);
    await h.gateway.live.registry.nextPolls();
    await until(() => parts(stream.body).parts.filter((p: any) => p.payload).length >= expected.length, 'the events');
    // Heartbeats keep coming between events while nothing else is sent.
    const count = parts(stream.body).parts.length;
    await until(() => parts(stream.body).parts.length > count + 1, 'heartbeats after the events');
    expect(parts(stream.body).parts.filter((p: any) => Object.keys(p as object).length > 0)).toEqual(expected);
    stream.close();
    await until(() => h.gateway.live.registry.size === 0, 'the feed stops when the client disconnects');

    // A GraphQL error of the operation travels inside the payload; the stream then ends with --graphql--.
    const failing = open({ query: `subscription { jobSessionUpdated(id: "99999999") { sessionId } }` });
    await until(() => failing.ended, 'the stream ends');
    const { parts: got, closed } = parts(failing.body);
    expect(closed).toBe(true);
    expect(got.at(-1)).toEqual({
      payload: {
        data: null,
        errors: [expect.objectContaining({ message: 'SPP has no job session with id 99999999 that this identity can see.', path: ['jobSessionUpdated'] })],
      },
    });
  });

  it('ends open streams at shutdown with a transport error {"payload": null, "errors": [...]} and the closing delimiter', async () => {
    const other = await startHarness({ sim: { size: 50 }, env: { ...LIVE_ENV, SUBSCRIPTION_HEARTBEAT_MS: '50' } });
    const url = new URL(other.gateway.url);
    let body = '';
    let ended = false;
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', accept: ACCEPT } },
      (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => (ended = true));
      },
    );
    req.end(JSON.stringify({ query: 'subscription { jobSessionEvents { kind } }' }));
    await until(() => body.length > 0, 'the stream opened');
    await other.close();
    await until(() => ended, 'the stream ended');
    const { parts: got, closed } = parts(body);
    expect(closed).toBe(true);
    expect(got.at(-1)).toEqual({
      payload: null,
      errors: [{ message: 'The gateway is shutting down: resubscribe with "after" (the last event\'s cursor).', extensions: { code: 'UPSTREAM_UNAVAILABLE' } }],
    });
  });

  it('refuses before streaming, with the status and code of a POST: bad documents, large bodies, cross-site origins, mutations', async () => {
    const cases: Array<{ body: unknown; headers?: Record<string, string>; status: number; code: string }> = [
      { body: { query: 'subscription { nope }' }, status: 400, code: 'GRAPHQL_VALIDATION_FAILED' },
      { body: 'x'.repeat(2_000_000), status: 413, code: 'PAYLOAD_TOO_LARGE' },
      { body: { query: 'subscription { jobSessionEvents { kind } }' }, headers: { origin: 'https://evil.example' }, status: 403, code: 'FORBIDDEN' },
      { body: { query: 'subscription { jobSessionEvents { kind } }' }, headers: { 'content-type': 'text/plain' }, status: 400, code: 'BAD_REQUEST' },
      { body: { query: 'mutation { cancelJobSession(input: { id: "1" }) { clientMutationId } }' }, status: 400, code: 'BAD_REQUEST' },
    ];
    for (const c of cases) {
      const answer = open(c.body, c.headers);
      await until(() => answer.ended, `the answer to ${JSON.stringify(c.body).slice(0, 40)}`);
      expect({ status: answer.status, code: JSON.parse(answer.body).errors[0].extensions.code }).toEqual({ status: c.status, code: c.code });
    }
  });
});
