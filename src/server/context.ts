/**
 * The per-request context. Loaders and the paginator are created fresh for every request,
 * bound to the caller's upstream identity: nothing read for one caller can answer another.
 *
 * The upstream part is built on first use, so that a request without credentials can still
 * call `createSession` and fails with UNAUTHENTICATED only when it asks for SPP data.
 */
import type { IncomingHttpHeaders } from 'node:http';
import DataLoader from 'dataloader';
import type { Logger } from 'pino';
import type { SppClient } from '../upstream/spp-client.js';
import type { UpstreamIdentity } from '../upstream/session.js';
import type { SppJobSession } from '../upstream/types.js';
import { Paginator } from '../pagination/paginator.js';
import { createWindowReader } from '../pagination/window.js';
import type { CursorCodec } from '../pagination/cursor.js';
import type { Authenticator } from './auth.js';
import type { OperationTypeHolder } from './identical-requests.js';
import type { LiveConnection, LiveService } from '../live/service.js';

export interface UpstreamContext {
  identity: UpstreamIdentity;
  paginator: Paginator;
  loaders: {
    /** By SPP session id; null for ids SPP does not know. */
    jobSession: DataLoader<string, SppJobSession | null>;
  };
  /**
   * Registers a list read of this operation: the records it returns answer jobSession/node
   * lookups, including lookups that sibling fields started while the list was in flight.
   */
  trackList(list: Promise<readonly SppJobSession[]>): void;
}

export interface GatewayContext extends OperationTypeHolder {
  requestId: string;
  logger: Logger;
  headers: IncomingHttpHeaders;
  auth: Authenticator;
  /** The caller's upstream access; throws UNAUTHENTICATED when the request has no valid credentials. */
  upstream(): UpstreamContext;
  /** Subscriptions only (WebSocket and SSE, src/server/subscriptions.ts): the live feeds and the connection. */
  live?: { service: LiveService; connection: LiveConnection };
}

export interface ContextDeps {
  spp: SppClient;
  auth: Authenticator;
  codec: CursorCodec;
  pageSizeCap: number;
  fanoutConcurrency: number;
  defaultPageSize: number;
  maxPageSize: number;
}

export function createContext(deps: ContextDeps, headers: IncomingHttpHeaders, requestId: string, logger: Logger): GatewayContext {
  let upstream: UpstreamContext | undefined;
  return {
    operation: {},
    requestId,
    logger,
    headers,
    auth: deps.auth,
    upstream() {
      // The Authenticator keeps each request's outcome: asking again costs nothing.
      const outcome = deps.auth.authenticate(headers);
      if ('error' in outcome) throw outcome.error;
      upstream ??= createUpstreamContext(deps, outcome.identity);
      return upstream;
    },
  };
}

function createUpstreamContext(deps: ContextDeps, identity: UpstreamIdentity): UpstreamContext {
  const { spp } = deps;
  const reader = createWindowReader((params) => spp.listJobSessions(identity, params), deps.pageSizeCap, deps.fanoutConcurrency);
  const listed = new Map<string, SppJobSession>();
  const pendingLists = new Set<Promise<unknown>>();
  return {
    identity,
    paginator: new Paginator(reader, deps.codec, { defaultSize: deps.defaultPageSize, maxSize: deps.maxPageSize }),
    loaders: {
      // SPP has no documented multi-id lookup, so a batch is parallel single-record GETs;
      // the loader's value is deduplication within the operation and answers from lists.
      jobSession: new DataLoader(
        async (ids) => {
          // Sibling list fields run at the same time as this batch: wait for them, they may hold the records.
          if (pendingLists.size > 0) await Promise.allSettled(pendingLists);
          return Promise.all(
            ids.map(
              (id) =>
                listed.get(id) ?? spp.getJobSession(identity, id).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))),
            ),
          );
        },
        { maxBatchSize: 50 },
      ),
    },
    trackList(list) {
      const tracked = list.then((records) => {
        for (const record of records) listed.set(record.id, record);
      });
      pendingLists.add(tracked);
      void tracked.finally(() => pendingLists.delete(tracked)).catch(() => undefined);
    },
  };
}
