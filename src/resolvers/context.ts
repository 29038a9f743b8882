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
import type { JobSessionStatus } from '../__generated__/resolvers-types.js';
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

/** Where resolvers whose answer's age depends on the record report it (src/resolvers/context.ts). */
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
  /** Who the request is charged to and named after (budgets, subscription limits, logs); never throws: without valid credentials, `anonymous` by address. */
  consumer(): Consumer;
  /** Subscriptions only (WebSocket and SSE, src/transports/): the live feeds and the connection. */
  live?: { service: LiveService; connection: LiveConnection; /** SSE's Last-Event-ID: resume as with `after`. */ resumeAfter?: string };
}

/**
 * Cache hints that depend on the record, not on the schema (the static ones are `@cacheControl`
 * in schema/schema.graphql). The root fields named in DYNAMIC_ROOT_FIELDS have no static hint
 * there: their resolvers report an age on every call, and the answer's age is the smallest of
 * these reports and the static hints (src/graphql/http-caching.ts).
 */
/** Root fields whose resolvers report the age of what they return. */
export const DYNAMIC_ROOT_FIELDS: ReadonlySet<string> = new Set(['jobSession', 'node']);

/**
 * A finished session changes no more until SPP expires it (by retention or `expireJobSession`):
 * a minute bounds how long a client may show one that was expired meanwhile, and ETags make the
 * revalidation after it cheap. A running (waiting, paused, ...) session changes every poll.
 */
export const FINISHED_SESSION_MAX_AGE_S = 60;
/** Job definitions change when an operator edits them, rarely; their live fields carry `maxAge: 0` in the SDL. */
export const JOB_MAX_AGE_S = 30;

const FINISHED: ReadonlySet<JobSessionStatus> = new Set(['COMPLETED', 'PARTIAL', 'FAILED', 'CANCELED', 'STOPPED', 'ABORTED']);

/** Whether a session is in a final state (UNKNOWN is not: a state this gateway does not know may be live). */
export const isFinished = (status: JobSessionStatus): boolean => FINISHED.has(status);

/** The age of the answer of a field that returned this session (or nothing: null). */
export function hintSession(hints: CacheHints, status: JobSessionStatus | null): void {
  hints.restrict(status !== null && isFinished(status) ? FINISHED_SESSION_MAX_AGE_S : 0);
}

/** The age of the answer of a field that returned a job definition (null: nothing, which may appear). */
export function hintJob(hints: CacheHints, found: boolean): void {
  hints.restrict(found ? JOB_MAX_AGE_S : 0);
}
