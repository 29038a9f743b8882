/**
 * The per-request context. Loaders and the paginator are created fresh for every request,
 * bound to the caller's upstream identity: nothing read for one caller can answer another.
 *
 * The upstream part is built on first use, so that a request without credentials can still
 * call `createSession` and fails with UNAUTHENTICATED only when it asks for SPP data.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Env } from '../config.js';
import DataLoader from 'dataloader';
import type { Logger } from 'pino';
import type { SppClient } from '../upstream/spp-client.js';
import type { UpstreamIdentity } from '../upstream/session.js';
import type { SppJobSession, SppRecord } from '../spp-api/types.js';
import { Paginator, type ReaderFactory } from '../pagination/paginator.js';
import { createWindowReader, readWindow, type PageSizeMemory, type WindowReader } from '../pagination/window.js';
import type { ListDescription } from '../pagination/list.js';
import { parseJob, parseJobSessionStats } from '../upstream/validate.js';
import { JOB_SESSIONS } from '../lists/job-sessions.js';
import { JOBS } from '../lists/jobs.js';
import { JOB_LOG, sessionCondition } from '../lists/job-log.js';
import { readByIds } from '../lists/by-id.js';
import { CursorCodec } from '../pagination/cursor.js';
import { MergedPaginator } from '../pagination/merge.js';
import type { ServerHealth } from '../upstream/servers.js';
import type { GraphQLError } from 'graphql';
import { badUserInput } from '../errors.js';
import type { Authenticator } from '../identity/auth.js';
import { requestConsumer, type Consumer } from '../identity/consumer.js';
import type { Actions } from '../actions/actions.js';
import type { OperationTypeHolder } from './identical-requests.js';
import type { GatewayContext, UpstreamContext } from '../resolvers/context.js';

/** What the pipeline hands Apollo: the resolvers' context and the operation's type (identical-request sharing). */
export type RequestContext = GatewayContext &
  OperationTypeHolder & {
    /**
     * A new upstream accessor, with loaders of its own: each event of a subscription, which may live
     * for hours, is resolved with it, so nested records (`session.job`) are read anew (issue 22, item 9).
     */
    freshUpstream(): GatewayContext['upstream'];
  };

export interface ContextDeps {
  merged: MergedPaginator;
  auth: Authenticator;
  codec: CursorCodec;
  fanoutConcurrency: number;
  defaultPageSize: number;
  maxPageSize: number;
  /** Every SPP server, the first the default (issue 21); one entry "default" with one server. */
  servers: ServerDeps[];
}

/** One SPP server as the context reads it: its client, actions, page-size memory and health. */
export interface ServerDeps {
  name: string;
  host: string;
  spp: SppClient;
  actions: Actions;
  pageSize: PageSizeMemory;
  health: ServerHealth;
}

/** The context factory of every request (queries over HTTP, subscriptions on any transport); `address` is the client's (anonymous consumers). */
export type ContextFactory = (headers: IncomingHttpHeaders, requestId: string, logger: Logger, address: string | undefined) => RequestContext;

/** Builds the context factory; warns when cursors will not outlive this process. */
export function createContexts(
  env: Env,
  deps: Omit<ContextDeps, 'codec' | 'merged' | 'fanoutConcurrency' | 'defaultPageSize' | 'maxPageSize'>,
  logger: Logger,
): ContextFactory {
  const codec = new CursorCodec(env.CURSOR_SECRET ? Buffer.from(env.CURSOR_SECRET, 'utf8') : randomBytes(32));
  if (!env.CURSOR_SECRET)
    logger.warn('CURSOR_SECRET is not set: cursors are signed with a random per-process key, so they do not survive a restart or work across replicas.');
  const all: ContextDeps = {
    ...deps,
    merged: new MergedPaginator(codec, { defaultSize: env.PAGE_DEFAULT_SIZE, maxSize: env.PAGE_MAX_SIZE }),
    codec,
    fanoutConcurrency: env.SPP_FANOUT_CONCURRENCY,
    defaultPageSize: env.PAGE_DEFAULT_SIZE,
    maxPageSize: env.PAGE_MAX_SIZE,
  };
  return (headers, requestId, log, address) => createContext(all, headers, requestId, log, address);
}

/** Which server each record came from (records are fresh objects per server client: a WeakMap suffices). */
const origins = new WeakMap<object, string>();

export function createContext(deps: ContextDeps, headers: IncomingHttpHeaders, requestId: string, logger: Logger, address?: string): RequestContext {
  let consumer: Consumer | undefined;
  let maxAge: number | undefined;
  const byName = new Map(deps.servers.map((s) => [s.name, s]));
  const first = deps.servers[0]!;
  const serverNamed = (name: string | undefined): ServerDeps => {
    if (name === undefined) return first;
    const server = byName.get(name);
    if (!server) {
      throw badUserInput(
        `Unknown SPP server ${JSON.stringify(name)}: this gateway reads ${deps.servers.map((s) => JSON.stringify(s.name)).join(', ')} (see sppServers).`,
        'servers',
      );
    }
    return server;
  };
  const upstreamOf = upstreamAccess(deps, headers, serverNamed);
  const partialErrors: GraphQLError[] = [];
  return {
    partialErrors,
    multiServer: deps.servers.length > 1,
    servers: deps.servers.map((s) => s.name),
    serverOf: (record) => origins.get(record) ?? first.name,
    adopt: (name, value) => {
      for (const record of Object.values(value ?? {})) if (typeof record === 'object' && record !== null) origins.set(record, serverNamed(name).name);
      return value;
    },
    serverView: (name) => viewOf(serverNamed(name)),
    sppServers: () =>
      Promise.all(deps.servers.map(async (s) => (s.health.known && s.health.version !== null ? viewOf(s) : viewOf(s, await ping(s, deps.auth))))),
    merged: deps.merged,
    actionsFor: (name) => serverNamed(name).actions,
    operation: {},
    cacheHints: {
      restrict(age) {
        maxAge = maxAge === undefined ? age : Math.min(maxAge, age);
      },
      get maxAge() {
        return maxAge;
      },
    },
    requestId,
    logger,
    headers,
    auth: deps.auth,
    actions: first.actions,
    consumer: () => (consumer ??= requestConsumer(deps.auth, headers, address)),
    caller() {
      const outcome = deps.auth.authenticate(headers);
      if ('error' in outcome) throw outcome.error;
      return outcome;
    },
    upstream: upstreamOf,
    freshUpstream: () => upstreamAccess(deps, headers, serverNamed),
  };
}

/** The caller's upstream contexts, one per server, each built on first use and kept by this accessor. */
function upstreamAccess(
  deps: ContextDeps,
  headers: IncomingHttpHeaders,
  serverNamed: (name: string | undefined) => ServerDeps,
): (name?: string) => UpstreamContext {
  const upstreams = new Map<string, UpstreamContext>();
  return (name) => {
    const server = serverNamed(name);
    // The Authenticator keeps each request's outcome: asking again costs nothing.
    const outcome = deps.auth.authenticate(headers);
    if ('error' in outcome) throw outcome.error;
    let upstream = upstreams.get(server.name);
    if (!upstream) {
      // One gateway caller, one SPP identity per server (its service account, or the caller's own login there).
      upstream = createUpstreamContext(deps, outcome.identityOn(server.name), server);
      upstreams.set(server.name, upstream);
    }
    return upstream;
  };
}

/** A server as sppServers shows it. */
function viewOf(s: ServerDeps, version: string | null = s.health.version) {
  return { name: s.name, url: s.host, version, status: s.health.status, lastContact: s.health.lastContact };
}

/**
 * Pings a server the gateway has not heard from yet (sppServers before any other request) and,
 * in service-account mode, logs in there: its health then says whether it accepts the gateway too.
 */
async function ping(s: ServerDeps, auth: Authenticator): Promise<string | null> {
  await s.health.probe(s.spp, 5_000, () => auth.ensureServiceSession(s.name)).catch(() => undefined);
  return s.health.version;
}

function createUpstreamContext(deps: ContextDeps, identity: UpstreamIdentity, server: ServerDeps): UpstreamContext {
  const { spp, health } = server;
  const mark = <T>(value: T): T => {
    if (typeof value === 'object' && value !== null) origins.set(value, server.name);
    return value;
  };
  // One reader per list and request: its concurrency bound is per request, its page size the upstream's.
  const readers = new Map<string, WindowReader<SppRecord>>();
  const readerFor = (<R extends SppRecord>(list: ListDescription<R>): WindowReader<R> => {
    let reader = readers.get(list.endpoint);
    if (!reader) {
      reader = createWindowReader(
        (params) =>
          health.track(spp.listPage(identity, list, params)).then((page) => {
            for (const record of page.records) mark(record);
            return page;
          }),
        server.pageSize,
        deps.fanoutConcurrency,
      );
      readers.set(list.endpoint, reader);
    }
    return reader as WindowReader<R>;
  }) as ReaderFactory;
  const pendingLists = new Set<Promise<unknown>>();
  /** A loader that reads a batch of ids in one IN request; ids `known` answers (records this operation already read) cost nothing. */
  const inBatch = <R extends SppRecord>(
    list: ListDescription<R>,
    readOne: (id: string) => Promise<R | null>,
    known: (id: string) => R | undefined = () => undefined,
  ) =>
    // 100 ids keep the URL short (about 2 KB) and cover any page's distinct jobs.
    new DataLoader<string, R | null>(
      async (ids) => {
        // Sibling list fields run at the same time as this batch: wait for them, they may hold the records.
        if (pendingLists.size > 0) await Promise.allSettled(pendingLists);
        const missing = ids.filter((id) => known(id) === undefined);
        const read = missing.length > 0 ? await readByIds(readerFor(list), list, missing, readOne) : [];
        const found = new Map(missing.map((id, i) => [id, read[i] ?? null]));
        return ids.map((id) => known(id) ?? found.get(id) ?? null);
      },
      { maxBatchSize: 100 },
    );
  // Lists this operation read, indexed only when a lookup needs them: most operations have none,
  // and indexing every record of a 1000-session page would cost each of them.
  const lists: Array<readonly SppJobSession[]> = [];
  let listed: Map<string, SppJobSession> | undefined;
  let indexed = 0;
  const fromLists = (id: string) => {
    listed ??= new Map();
    for (; indexed < lists.length; indexed++) for (const record of lists[indexed]!) listed.set(record.id, record);
    return listed.get(id);
  };
  const getJob = (id: string) => health.track(spp.getRecord(identity, `endeavour/job/${encodeURIComponent(id)}`, parseJob)).then(mark);
  const getJobSession = (id: string) => health.track(spp.getJobSession(identity, id)).then(mark);
  return {
    identity,
    server: server.name,
    readerFor,
    paginator: new Paginator(readerFor, deps.codec, { defaultSize: deps.defaultPageSize, maxSize: deps.maxPageSize }),
    stats: (filter) => spp.getFiltered(identity, 'endeavour/jobsession/stats', filter, parseJobSessionStats),
    loaders: {
      job: new DataLoader((ids) =>
        Promise.all(ids.map((id) => getJob(id).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))))),
      ),
      jobInBatch: inBatch(JOBS, getJob),
      jobSessionInBatch: inBatch(JOB_SESSIONS, getJobSession, (id) => (lists.length > 0 ? fromLists(id) : undefined)),
      logEntry: new DataLoader((keys) =>
        Promise.all(
          keys.map(async (key) => {
            const [sessionId, entryId] = key.split('.') as [string, string];
            const window = await readWindow(
              readerFor(JOB_LOG),
              { filter: [sessionCondition(sessionId), { property: 'id', value: entryId, op: '=' }], sort: [{ property: 'id', direction: 'ASC' }] },
              0,
              1,
            );
            return window.records[0] ?? null;
          }),
        ),
      ),
      // SPP has no documented multi-id lookup, so a batch is parallel single-record GETs;
      // the loader's value is deduplication within the operation and answers from lists.
      jobSession: new DataLoader(
        async (ids) => {
          // Sibling list fields run at the same time as this batch: wait for them, they may hold the records.
          if (pendingLists.size > 0) await Promise.allSettled(pendingLists);
          return Promise.all(
            ids.map(async (id) => fromLists(id) ?? getJobSession(id).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))))),
          );
        },
        { maxBatchSize: 50 },
      ),
    },
    trackList(list) {
      const tracked = list.then((records) => {
        lists.push(records);
      });
      pendingLists.add(tracked);
      void tracked.finally(() => pendingLists.delete(tracked)).catch(() => undefined);
    },
  };
}
