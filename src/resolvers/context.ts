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
import type { JobSessionReader } from '../lists/job-sessions.js';
import type { LiveConnection, LiveService } from '../live/service.js';
import type { SppFilter, SppJob, SppJobLogEntry, SppJobSession, SppJobSessionStats } from '../spp-api/types.js';
import type { UpstreamIdentity } from '../upstream/session.js';
import type { GraphQLError } from 'graphql';
import type { MergedPaginator } from '../pagination/merge.js';
import type { ReaderFactory } from '../pagination/paginator.js';

/** An SPP server as the schema shows it. */
export interface ServerView {
  name: string;
  url: string;
  version: string | null;
  status: 'UP' | 'DOWN' | 'MISCONFIGURED';
  lastContact: number | null;
}

export interface UpstreamContext extends JobSessionReader {
  identity: UpstreamIdentity;
  /** The SPP server this access reads (issue 21). */
  server: string;
  /** The window reader of a list on this server, for this request (merged paging reads one per server). */
  readerFor: ReaderFactory;
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

export interface GatewayContext {
  requestId: string;
  logger: Logger;
  headers: IncomingHttpHeaders;
  auth: Authenticator;
  /**
   * The caller's access to one SPP server (default: the first); throws UNAUTHENTICATED when the
   * request has no valid credentials, BAD_USER_INPUT for a server the gateway does not know.
   */
  upstream(server?: string): UpstreamContext;
  /** Issue 21: whether the gateway reads several SPP servers (then global ids name theirs). */
  multiServer: boolean;
  /** The servers' names, in configuration order. */
  servers: readonly string[];
  /** The server a record of this request came from. */
  serverOf(record: object): string;
  /** Records that `server`'s actions returned belong to it (serverOf). */
  adopt<T>(server: string, value: T): T;
  /** A server as `SppServer` shows it (BAD_USER_INPUT for an unknown name). */
  serverView(name: string): ServerView;
  /** Every server as `sppServers` shows it (pings those not heard from yet). */
  sppServers(): Promise<ServerView[]>;
  /** Paging over several servers: one engine, N positions in the cursor. */
  merged: MergedPaginator;
  /** The actions of one server (default: the first). */
  actionsFor(server?: string): Actions;
  /** Errors of a partial answer (a server that did not answer), added to the response's `errors` with its data. */
  partialErrors: GraphQLError[];
  /** Start, cancel, rerun, expire (src/actions/): never through the loaders or the answer cache. */
  actions: Actions;
  /** The caller as actions see it; throws UNAUTHENTICATED when the request has no valid credentials. */
  caller(): { identity: UpstreamIdentity; actor: Actor };
  /** Subscriptions only (WebSocket and SSE, src/transports/): the live feeds and the connection. */
  live?: { service: LiveService; connection: LiveConnection };
}
