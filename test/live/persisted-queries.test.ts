/**
 * Automatic persisted queries on the subscription transports (src/transports/persisted.ts), as
 * Apollo's clients speak them: the hash alone first, PERSISTED_QUERY_NOT_FOUND, then the text with
 * the hash, which registers it for every transport. Apollo Kotlin sends multipart subscriptions
 * through the same APQ interceptor as its queries.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
import { LIVE_ENV, sseClient, subscribePayload, until, wsClient } from './support.js';

const QUERY = 'subscription Persisted { jobSessionEvents(filter: { status: [RUNNING, PENDING] }) { kind sessionId } }';
const HASH = createHash('sha256').update(QUERY).digest('hex');
const persisted = (sha256Hash = HASH) => ({ persistedQuery: { version: 1, sha256Hash } });
const ACCEPT = 'multipart/mixed;subscriptionSpec="1.0", application/json';

describe('automatic persisted queries on subscriptions', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ sim: { size: 40 }, env: LIVE_ENV });
  });
  afterAll(() => h.close());

  /** A multipart subscription request: its status and, for a refusal, its JSON body; a stream is left open until `abort`. */
  async function multipart(body: Record<string, unknown>, abort: AbortController) {
    const response = await fetch(h.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: ACCEPT },
      body: JSON.stringify(body),
      signal: abort.signal,
    });
    const type = response.headers.get('content-type') ?? '';
    return { status: response.status, type, json: type.startsWith('application/json') ? await response.json() : undefined };
  }

  it('answers the hash alone with PERSISTED_QUERY_NOT_FOUND on every transport until the text registered it, then runs it from the hash', async () => {
    const abort = new AbortController();
    try {
      const notFound = { errors: [{ message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }] };
      expect(await multipart({ extensions: persisted() }, abort)).toEqual({ status: 200, type: 'application/json; charset=utf-8', json: notFound });
      // An event stream's hash alone, without a query (graphql-sse would refuse it as "Missing query").
      const sseRefused = await fetch(h.gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ extensions: persisted() }),
        signal: abort.signal,
      });
      expect({ status: sseRefused.status, body: await sseRefused.json() }).toEqual({ status: 200, body: notFound });
      const ws = wsClient(h);
      const before = subscribePayload(ws, { query: '', extensions: persisted() });
      await until(() => before.errors.length > 0, 'the refusal over WebSocket');
      expect(before.errors).toEqual([{ message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }]);

      // Apollo's second try: the text with its hash. It runs, and registers the document.
      const registering = await multipart({ query: QUERY, extensions: persisted() }, abort);
      expect({ status: registering.status, type: registering.type }).toEqual({
        status: 200,
        type: 'multipart/mixed;boundary="graphql";subscriptionSpec="1.0"',
      });
      await until(() => h.gateway.live.registry.size === 1, 'the registering subscription polls');

      // Now the hash alone runs: an event stream opened by GET with only the hash in `extensions` ...
      const byGet = await fetch(`${h.gateway.url}?extensions=${encodeURIComponent(JSON.stringify(persisted()))}`, {
        headers: { accept: 'text/event-stream', 'apollo-require-preflight': 'true' },
        signal: abort.signal,
      });
      expect({ status: byGet.status, type: byGet.headers.get('content-type') }).toEqual({ status: 200, type: 'text/event-stream; charset=utf-8' });
      // ... and on a WebSocket and an event stream client alike, which receive events.
      const fromWs = subscribePayload(ws, { query: '', extensions: persisted() });
      const sse = sseClient(h);
      const fromSse = subscribePayload(sse, { query: '', extensions: persisted() });
      await until(() => h.gateway.live.registry.size === 1 && h.upstreamCalls().length > 0, 'the shared poller');
      await h.gateway.live.registry.nextPolls();
      const [inserted] = h.sim.step({ insert: 1 }).inserted;
      await until(() => fromWs.data.length > 0 && fromSse.data.length > 0, 'an event on both');
      for (const outcome of [fromWs, fromSse]) {
        expect(outcome.errors).toEqual([]);
        expect(outcome.data).toContainEqual({ jobSessionEvents: { kind: 'ADDED', sessionId: inserted } });
      }
      fromWs.stop();
      fromSse.stop();
      sse.dispose();
      await ws.dispose();
    } finally {
      abort.abort();
    }
  });

  it('refuses a text whose hash is not the one sent (BAD_REQUEST), and registers nothing for that hash', async () => {
    const abort = new AbortController();
    try {
      const other = 'a'.repeat(64);
      expect(await multipart({ query: QUERY, extensions: persisted(other) }, abort)).toEqual({
        status: 400,
        type: 'application/json; charset=utf-8',
        json: { errors: [{ message: 'provided sha does not match query', extensions: { code: 'BAD_REQUEST' } }] },
      });
      expect((await multipart({ extensions: persisted(other) }, abort)).json).toEqual({
        errors: [{ message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }],
      });
    } finally {
      abort.abort();
    }
  });

  it('refuses a persisted query version other than 1 (BAD_REQUEST)', async () => {
    const abort = new AbortController();
    try {
      expect((await multipart({ query: QUERY, extensions: { persistedQuery: { version: 2, sha256Hash: HASH } } }, abort)).json).toEqual({
        errors: [{ message: 'Unsupported persisted query version: expected 1.', extensions: { code: 'BAD_REQUEST' } }],
      });
    } finally {
      abort.abort();
    }
  });
});
