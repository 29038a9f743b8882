/**
 * Trusted documents hold for subscriptions as for queries: an app that ships its operations as
 * graphql-codegen's persisted-documents.json subscribes by naming a document, and while only
 * trusted documents run (ALLOW_ARBITRARY_OPERATIONS=false) neither transport runs other text.
 * (Found by the job-monitor example, issue 13: subscriptions used to ignore the manifest.)
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
import { LIVE_ENV, subscribePayload, until, wsClient } from './support.js';

const TRUSTED = 'subscription Running { jobSessionEvents(filter: { status: [RUNNING, PENDING] }) { kind sessionId } }';
const HASH = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';
const OTHER = 'subscription { jobSessionEvents { kind sessionId session { jobName } } }';

describe('subscriptions with PERSISTED_DOCUMENTS_FILE and ALLOW_ARBITRARY_OPERATIONS=false', () => {
  let h: Harness;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trusted-subscriptions-'));
    const file = join(dir, 'persisted-documents.json');
    writeFileSync(file, JSON.stringify({ [HASH]: TRUSTED }));
    h = await startHarness({ sim: { size: 40 }, env: { ...LIVE_ENV, PERSISTED_DOCUMENTS_FILE: file, ALLOW_ARBITRARY_OPERATIONS: 'false' } });
  });
  afterAll(() => h.close());

  it('runs a manifest document named by its hash over WebSocket (graphql-ws needs a query string: "" is sent)', async () => {
    const client = wsClient(h);
    const events = subscribePayload(client, { query: '', extensions: { persistedQuery: { version: 1, sha256Hash: HASH } } });
    h.resetUpstreamCalls();
    await until(() => h.gateway.live.registry.size === 1 && h.upstreamCalls().length > 0, 'the first poll of the trusted subscription');
    const { inserted } = h.sim.step({ insert: 1 });
    await until(() => events.data.length > 0, 'an event');
    expect(events.errors).toEqual([]);
    expect(events.data).toContainEqual({ jobSessionEvents: { kind: 'ADDED', sessionId: inserted[0] } });
    events.stop();
    await client.dispose();
    await until(() => h.gateway.live.registry.size === 0, 'the poller stopped');
  });

  it('runs a manifest document named by documentId over WebSocket', async () => {
    const client = wsClient(h);
    const events = subscribePayload(client, { query: '', documentId: `sha256:${HASH}` });
    h.resetUpstreamCalls();
    await until(() => h.gateway.live.registry.size === 1 && h.upstreamCalls().length > 0, 'the first poll');
    const { inserted } = h.sim.step({ insert: 1 });
    await until(() => events.data.length > 0, 'an event');
    expect(events.data).toContainEqual({ jobSessionEvents: { kind: 'ADDED', sessionId: inserted[0] } });
    events.stop();
    await client.dispose();
    await until(() => h.gateway.live.registry.size === 0, 'the poller stopped');
  });

  it('runs a manifest document named by documentId over an event stream, POST and GET (graphql-sse drops documentId; issue 22)', async () => {
    for (const request of [
      { method: 'POST', url: h.gateway.url, body: JSON.stringify({ documentId: `sha256:${HASH}` }) },
      { method: 'GET', url: `${h.gateway.url}?documentId=${HASH}`, body: undefined },
    ]) {
      const abort = new AbortController();
      h.resetUpstreamCalls();
      const response = await fetch(request.url, {
        method: request.method,
        headers: { accept: 'text/event-stream', 'content-type': 'application/json', 'apollo-require-preflight': 'true' },
        ...(request.body ? { body: request.body } : {}),
        signal: abort.signal,
      });
      expect({ method: request.method, status: response.status, type: response.headers.get('content-type') }).toEqual({
        method: request.method,
        status: 200,
        type: expect.stringMatching(/^text\/event-stream/),
      });
      await until(() => h.gateway.live.registry.size === 1 && h.upstreamCalls().length > 0, 'the first poll of the trusted subscription');
      const reader = response.body!.getReader();
      const { inserted } = h.sim.step({ insert: 1 });
      let text = '';
      for (let chunk = await reader.read(); !chunk.done && !text.includes(inserted[0]!);) {
        text += new TextDecoder().decode(chunk.value);
        if (!text.includes(inserted[0]!)) chunk = await reader.read();
      }
      expect(text).toContain(`"kind":"ADDED","sessionId":"${inserted[0]}"`);
      abort.abort();
      await until(() => h.gateway.live.registry.size === 0, 'the poller stopped');
    }
  });

  it('refuses text outside the manifest (PERSISTED_QUERY_NOT_IN_LIST) and unknown ids (PERSISTED_QUERY_NOT_FOUND) on every transport, before any upstream call', async () => {
    h.resetUpstreamCalls();
    const ws = wsClient(h);
    const other = subscribePayload(ws, { query: OTHER });
    const unknown = subscribePayload(ws, { query: '', extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } } });
    await until(() => other.errors.length > 0 && unknown.errors.length > 0, 'both refusals');
    expect(other.errors).toEqual([
      expect.objectContaining({ message: expect.stringMatching(/runs only trusted documents/), extensions: { code: 'PERSISTED_QUERY_NOT_IN_LIST' } }),
    ]);
    expect(unknown.errors).toEqual([
      expect.objectContaining({ message: expect.stringMatching(/No trusted document has the id/), extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }),
    ]);
    await ws.dispose();

    const response = await fetch(h.gateway.url, {
      method: 'POST',
      headers: { accept: 'text/event-stream', 'content-type': 'application/json' },
      body: JSON.stringify({ query: OTHER }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as any).errors).toEqual([expect.objectContaining({ extensions: { code: 'PERSISTED_QUERY_NOT_IN_LIST' } })]);

    // Multipart HTTP (Apollo's protocol) goes through the same guard.
    const multipart = await fetch(h.gateway.url, {
      method: 'POST',
      headers: { accept: 'multipart/mixed;subscriptionSpec="1.0"', 'content-type': 'application/json' },
      body: JSON.stringify({ query: OTHER }),
    });
    expect(multipart.status).toBe(400);
    expect(((await multipart.json()) as any).errors).toEqual([expect.objectContaining({ extensions: { code: 'PERSISTED_QUERY_NOT_IN_LIST' } })]);
    expect(h.upstreamCalls()).toEqual([]);
  });
});
