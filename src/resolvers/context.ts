/**
 * What every resolver receives: the caller's upstream access (loaders and the paginator, bound to
 * one upstream identity), actions and, for subscriptions, the live feeds. Declared here, where it is
 * used, so that the resolvers depend on no part of the GraphQL pipeline; `src/graphql/context.ts`
 * builds it per request.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type DataLoader from 'dataloader';
import type { Logger } from 'pino';
import type { Actions } from '../actions/actions.js';
import type { Actor, Authenticator } from '../identity/auth.js';
import type { Consumer } from '../identity/consumer.js';
import type { JobSessionReader } from '../lists/job-sessions.js';
import type { LiveConnection, LiveService } from '../live/service.js';
import type { SppFilter, SppJob, SppJobLogEntry, SppJobSession, SppJobSessionStats } from '../spp-api/types.js';
import type { UpstreamIdentity } from '../upstream/session.js';

export interface UpstreamContext extends JobSessionReader {
  identity: UpstreamIdentity;
  loaders: {
    /** By SPP session id; null for ids SPP does not know. */
    jobSession: DataLoader<string, SppJobSession | null>;
    /** By SPP job id, one GET each: FORBIDDEN when SPP's roles deny the job. */
    job: DataLoader<string, SppJob | null>;
    /** By SPP job id, a batch in one `IN` read (JobSession.job over a page); null for jobs SPP does not return. */
    jobInBatch: DataLoader<string, SppJob | null>;
    /** By SPP session id, a batch in one `IN` read (Job.lastRun over a page). */
    jobSessionInBatch: DataLoader<string, SppJobSession | null>;
    /** By `sessionId.entryId` (a JobLogEntry global id). */
    logEntry: DataLoader<string, SppJobLogEntry | null>;
  };
  /** SPP's session statistics (`jobsession/stats`) for a filter. */
  stats(filter: SppFilter[]): Promise<SppJobSessionStats>;
}

/** Where resolvers whose answer's age depends on the record report it (src/resolvers/cache-hints.ts). */
export interface CacheHints {
  /** The answer may be kept at most this many seconds (0: not at all). */
  restrict(maxAge: number): void;
  /** The smallest age reported so far; undefined: none. */
  readonly maxAge: number | undefined;
}

export interface GatewayContext {
  requestId: string;
  /** Dynamic cache hints of this request (an object: Apollo runs each operation on a shallow copy of the context). */
  cacheHints: CacheHints;
  logger: Logger;
  headers: IncomingHttpHeaders;
  auth: Authenticator;
  /** The caller's upstream access; throws UNAUTHENTICATED when the request has no valid credentials. */
  upstream(): UpstreamContext;
  /** Start, cancel, rerun, expire (src/actions/): never through the loaders or the answer cache. */
  actions: Actions;
  /** The caller as actions see it; throws UNAUTHENTICATED when the request has no valid credentials. */
  caller(): { identity: UpstreamIdentity; actor: Actor };
  /** Who the request is charged to and named after (budgets, subscription limits, logs); never throws: without valid credentials, `anonymous` by address. */
  consumer(): Consumer;
  /** Subscriptions only (WebSocket and SSE, src/transports/): the live feeds and the connection. */
  live?: { service: LiveService; connection: LiveConnection; /** SSE's Last-Event-ID: resume as with `after`. */ resumeAfter?: string };
}
