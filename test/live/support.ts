/**
 * Subscription clients for the live tests: graphql-ws over a real WebSocket and graphql-sse over
 * a real event stream, both against a gateway on port 0. Events are collected as they arrive.
 */
import WebSocket from 'ws';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { createClient as createSseClient, type Client as SseClient } from 'graphql-sse';
import { expect } from 'vitest';
import type { Harness } from '../support/harness.js';
import type { SppFilter, SppJobSession } from '../../src/spp-api/types.js';

export const LIVE_ENV = { SUBSCRIPTION_POLL_MS: '20', SUBSCRIPTION_IDLE_POLL_MS: '20', SUBSCRIPTION_MAX_BACKOFF_MS: '100', SUBSCRIPTION_RESUME_MS: '1000' };

export const wsUrl = (h: Harness) => h.gateway.url.replace(/^http/, 'ws');

export interface Collected<T = any> {
  results: Array<{ data?: T; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> }>;
  data: T[];
  errors: unknown[];
  completed: boolean;
  stop(): void;
}

type Subscribable = WsClient | SseClient;

export function collect<T = any>(client: Subscribable, query: string, variables?: Record<string, unknown>): Collected<T> {
  const collected: Collected<T> = { results: [], data: [], errors: [], completed: false, stop: () => undefined };
  collected.stop = client.subscribe<T>(
    { query, ...(variables ? { variables } : {}) },
    {
      next: (result) => {
        collected.results.push(result as Collected<T>['results'][number]);
        if (result.data) collected.data.push(result.data);
      },
      error: (error) => collected.errors.push(error),
      complete: () => (collected.completed = true),
    },
  );
  return collected;
}

export function wsClient(h: Harness, connectionParams?: Record<string, unknown>, closed?: Array<{ code: number; reason: string }>): WsClient {
  return createWsClient({
    url: wsUrl(h),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: false,
    // Closes are asserted where they matter; the default would print every one.
    onNonLazyError: () => undefined,
    ...(connectionParams ? { connectionParams } : {}),
    on: closed ? { closed: (event) => closed.push({ code: (event as { code: number }).code, reason: (event as { reason: string }).reason }) } : {},
  });
}

export function sseClient(h: Harness, headers: Record<string, string> = {}): SseClient {
  return createSseClient({ url: h.gateway.url, headers, retryAttempts: 0 });
}

/** Waits until `condition` holds; a loaded machine may take a while, so this bounds nothing but a hang. */
/**
 * A subscription from a whole payload (a document named by hash or id, extensions): its data, and
 * its errors flattened, whether the server sent them in a result or as the subscription's error.
 */
export function subscribePayload(client: Subscribable, payload: Record<string, unknown>): { data: unknown[]; errors: unknown[]; stop(): void } {
  const outcome = { data: [] as unknown[], errors: [] as unknown[], stop: () => undefined as void };
  outcome.stop = client.subscribe(payload as never, {
    next: (result) => (result.errors ? outcome.errors.push(...result.errors) : outcome.data.push(result.data)),
    error: (error) => outcome.errors.push(...(Array.isArray(error) ? error : [error])),
    complete: () => undefined,
  });
  return outcome;
}

export async function until(condition: () => boolean, message = 'condition'): Promise<void> {
  await expect.poll(condition, { timeout: 15_000, interval: 10, message }).toBe(true);
}

export const EVENTS = `subscription Events($filter: JobSessionFilter, $since: DateTime) {
  jobSessionEvents(filter: $filter, since: $since) { kind sessionId at previousStatus session { sessionId status percent lastUpdate } }
}`;

export const ACTIVE_FILTER = { status: ['RUNNING', 'PENDING', 'WAITING'] };
export const ACTIVE_SPP_FILTER: SppFilter[] = [{ property: 'status', value: ['RUNNING', 'PENDING', 'WAITING'], op: 'IN' }];
export const NEWEST_FIRST = [
  { property: 'start', direction: 'DESC' as const },
  { property: 'id', direction: 'DESC' as const },
];

const iso = (ms: number | null | undefined) => (typeof ms === 'number' ? new Date(ms).toISOString() : null);

/**
 * The events a subscriber should see between two simulator states of a filter whose matches all
 * fit in the poll window: a plain set difference, independent of the gateway's window logic.
 */
export function expectedEvents(before: SppJobSession[], after: SppJobSession[], current: (id: string) => SppJobSession | undefined) {
  const was = new Map(before.map((s) => [s.id, s]));
  const now = new Map(after.map((s) => [s.id, s]));
  const events: Array<{ kind: string; sessionId: string; at: string; previousStatus: string | null; session: unknown; atMs: number }> = [];
  const view = (s: SppJobSession | undefined) => (s ? { sessionId: s.id, status: s.status, percent: s.percent ?? null, lastUpdate: iso(s.lastUpdate) } : null);
  for (const s of after) {
    const old = was.get(s.id);
    if (!old) events.push({ kind: 'ADDED', sessionId: s.id, at: iso(s.lastUpdate)!, previousStatus: null, session: view(s), atMs: s.lastUpdate! });
    else if (old.lastUpdate !== s.lastUpdate || old.status !== s.status || old.percent !== s.percent) {
      events.push({ kind: 'CHANGED', sessionId: s.id, at: iso(s.lastUpdate)!, previousStatus: old.status, session: view(s), atMs: s.lastUpdate! });
    }
  }
  for (const s of before) {
    if (now.has(s.id)) continue;
    const gone = current(s.id);
    events.push({
      kind: 'REMOVED',
      sessionId: s.id,
      at: gone ? iso(gone.lastUpdate)! : 'expired',
      previousStatus: s.status,
      session: view(gone),
      atMs: gone?.lastUpdate ?? Number.MAX_SAFE_INTEGER,
    });
  }
  events.sort((a, b) => a.atMs - b.atMs || a.sessionId.length - b.sessionId.length || (a.sessionId < b.sessionId ? -1 : 1));
  return events.map(({ atMs: _atMs, ...event }) => event);
}

/** Received events in the shape of `expectedEvents` (an expired session's `at` is the gateway's clock: not compared). */
export function received(collected: Collected): ReturnType<typeof expectedEvents> {
  return collected.data.map((d: any) => {
    const e = d.jobSessionEvents;
    return { kind: e.kind, sessionId: e.sessionId, at: e.session ? e.at : 'expired', previousStatus: e.previousStatus, session: e.session };
  });
}
