/**
 * The per-request context. Loaders and the paginator are created fresh for every request,
 * bound to the caller's upstream identity: nothing read for one caller can answer another.
 */
import DataLoader from 'dataloader';
import type { Logger } from 'pino';
import type { SppClient } from '../upstream/spp-client.js';
import type { UpstreamIdentity } from '../upstream/session.js';
import type { SppJobSession } from '../upstream/types.js';
import { Paginator } from '../pagination/paginator.js';
import { createWindowReader } from '../pagination/window.js';
import type { CursorCodec } from '../pagination/cursor.js';

export interface GatewayContext {
  requestId: string;
  logger: Logger;
  identity: UpstreamIdentity;
  spp: SppClient;
  paginator: Paginator;
  loaders: {
    /** By SPP session id; null for ids SPP does not know. */
    jobSession: DataLoader<string, SppJobSession | null>;
  };
}

export interface ContextDeps {
  spp: SppClient;
  codec: CursorCodec;
  pageSizeCap: number;
  fanoutConcurrency: number;
  defaultPageSize: number;
  maxPageSize: number;
}

export function createContext(deps: ContextDeps, identity: UpstreamIdentity, requestId: string, logger: Logger): GatewayContext {
  const { spp } = deps;
  const reader = createWindowReader((params) => spp.listJobSessions(identity, params), deps.pageSizeCap, deps.fanoutConcurrency);
  return {
    requestId,
    logger,
    identity,
    spp,
    paginator: new Paginator(reader, deps.codec, { defaultSize: deps.defaultPageSize, maxSize: deps.maxPageSize }),
    loaders: {
      // SPP has no documented multi-id lookup, so a batch is parallel single-record GETs;
      // the loader's value is deduplication within the operation and priming from lists.
      jobSession: new DataLoader(
        (ids) =>
          Promise.all(
            ids.map((id) =>
              spp.getJobSession(identity, id).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))),
            ),
          ),
        { maxBatchSize: 50 },
      ),
    },
  };
}
