/**
 * The one HTTP client for SPP's REST API: a single `got` instance shared by all requests.
 *
 * - Keep-alive agents bounded by SPP_MAX_SOCKETS: SPP's web tier is a single appliance,
 *   and opening a socket per request costs a TLS handshake each time.
 * - Explicit budgets: connect (SPP_CONNECT_TIMEOUT_MS) and first byte (SPP_RESPONSE_TIMEOUT_MS).
 *   SPPMon's default read timeout on jobsession is 60 s on loaded systems (docs/spp-api.md#listing-job-sessions);
 *   our default of 30 s leaves a frontend's typical 60 s budget room for one retry.
 * - Retries only for GETs (idempotent) on 502/503/504 and connection resets, with a short
 *   exponential backoff that honours `Retry-After` up to SPP_MAX_RETRY_AFTER_MS (sppclient
 *   documents 503 as "too many requests going to the same controller", docs/spp-api.md#errors).
 * - A 401 means SPP dropped our session (45 idle minutes, docs/spp-api.md#sessions-and-login): log in again once, retry once.
 * - Identical GETs in flight for the same identity are sent once (single flight), and an
 *   optional short-lived cache (SPP_CACHE_TTL_MS) keyed by identity and full request. Both work
 *   in this process first, then across replicas through the shared state (src/state/): with
 *   Redis, identical GETs on different replicas reach SPP once and the cache is shared.
 *
 * - Redirects are never followed (issue 22): a 3xx would carry the session id to whatever host
 *   the Location names, and re-send an action's body there. A 3xx is an UPSTREAM_ERROR naming
 *   that host, and logged.
 *
 * Errors leave this module only as the gateway's own vocabulary (src/errors.ts): upstream
 * bodies, URLs and session ids stay in the logs.
 */
import http from 'node:http';
import https from 'node:https';
import got, { HTTPError, RequestError, TimeoutError, type ExtendOptions, type Got, type Response } from 'got';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { GraphQLError } from 'graphql';
import { forbidden, gatewayError, ErrorCode, unauthenticated, upstreamError, upstreamTimeout, upstreamUnavailable } from '../errors.js';
import type { UpstreamIdentity } from './session.js';
import type { SharedState } from '../state/index.js';
import { InMemoryState } from '../state/memory.js';
import type { SppFilter, SppJobSession, SppListPage, SppLoginResponse, SppRecord, SppSort } from '../spp-api/types.js';
import { parseJobSession, parseList } from './validate.js';
import { describeError, endpointOf, outcomeOf } from './describe.js';

/**
 * What the client reports about its upstream requests. Declared here so that upstream/ imports
 * nothing above it; src/observability/metrics.ts implements it with prom-client.
 */
export interface UpstreamMetrics {
  /** `server`: the SPP server's name, set only when the gateway has several (issue 21). */
  upstreamRequests: { inc(labels: { endpoint: string; outcome: string; server?: string }): void };
  upstreamDuration: { startTimer(labels: { endpoint: string; server?: string }): () => unknown };
  upstreamLogins: { inc(labels: { outcome: 'ok' | 'rejected' | 'failed' }): void };
  upstreamCacheHits: { inc(): void };
  upstreamCoalesced: { inc(): void };
}

export interface SppClientOptions {
  baseUrl: string;
  connectTimeoutMs: number;
  responseTimeoutMs: number;
  retryLimit: number;
  maxRetryAfterMs: number;
  maxSockets: number;
  /** PEM text of the CA that signed SPP's certificate (SPP_CA_FILE). */
  ca?: string | Buffer | undefined;
  /** Skip TLS verification (SPP_TLS_INSECURE): only by explicit choice. */
  tlsInsecure?: boolean;
  cacheTtlMs?: number;
  cacheMaxEntries?: number;
  logger: Logger;
  metrics: UpstreamMetrics;
  /** Extra got options merged last, e.g. the tracing hooks (src/observability/tracing.ts). */
  extend?: ExtendOptions;
  /** Single flight and answer cache shared with other replicas (in memory, i.e. this process only, by default). */
  shared?: SharedState;
  /**
   * Prefix of this client's keys in the shared state. Several SPP servers (issue 21) share one
   * Redis: the same identity key and path on two servers are two answers.
   */
  sharedScope?: string;
}

/** One upstream page request of any list: 0-based offset, size, SPP filter and sort. */
export interface ListPageParams {
  pageStartIndex: number;
  pageSize: number;
  filter: SppFilter[];
  sort: SppSort[];
}

/** Records the answer cache holds at most (with SPP_CACHE_TTL_MS): ten 1000-session pages, some 60-80 MB of heap. */
export const CACHE_MAX_RECORDS = 10_000;

const RETRY_ERROR_CODES = ['ECONNRESET', 'EPIPE'];
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

export class SppClient {
  private http: Got;
  private readonly agents: { http: http.Agent; https: https.Agent };
  private readonly inflight = new Map<string, Promise<unknown>>();
  private readonly cache: LRUCache<string, { value: unknown }> | undefined;
  private readonly logger: Logger;
  private readonly metrics: UpstreamMetrics;
  private readonly shared: SharedState;
  private readonly sharedScope: string;
  private readonly cacheTtlMs: number;

  constructor(options: SppClientOptions) {
    this.logger = options.logger;
    this.shared = options.shared ?? new InMemoryState();
    this.sharedScope = options.sharedScope ?? '';
    this.cacheTtlMs = options.cacheTtlMs ?? 0;
    this.metrics = options.metrics;
    this.agents = {
      // noDelay: a request is written in one go; Nagle's algorithm would only hold it back.
      http: new http.Agent({ keepAlive: true, maxSockets: options.maxSockets, noDelay: true }),
      https: new https.Agent({ keepAlive: true, maxSockets: options.maxSockets, noDelay: true }),
    };
    this.cache =
      options.cacheTtlMs && options.cacheTtlMs > 0
        ? new LRUCache({
            max: options.cacheMaxEntries ?? 500,
            ttl: options.cacheTtlMs,
            // An entry is a page of up to 1000+ records (about 2 KB of JSON each): bounded by
            // entries alone, 500 deep pages would hold gigabytes. Weighed in records instead.
            maxSize: CACHE_MAX_RECORDS,
            sizeCalculation: ({ value }) => 1 + recordsIn(value),
          })
        : undefined;
    this.http = got.extend({
      prefixUrl: `${options.baseUrl}/api`,
      agent: this.agents,
      https: {
        rejectUnauthorized: !options.tlsInsecure,
        ...(options.ca ? { certificateAuthority: options.ca } : {}),
      },
      timeout: {
        lookup: options.connectTimeoutMs,
        connect: options.connectTimeoutMs,
        secureConnect: options.connectTimeoutMs,
        response: options.responseTimeoutMs,
      },
      headers: { accept: 'application/json', 'user-agent': 'spp-jobsession-gateway' },
      // A 3xx comes back as an answer (got's default follows it, session header and body included).
      followRedirect: false,
      retry: {
        limit: options.retryLimit,
        methods: ['GET'],
        statusCodes: [502, 503, 504],
        errorCodes: RETRY_ERROR_CODES,
        maxRetryAfter: options.maxRetryAfterMs,
        // got's default backoff starts at 1 s; SPP behind a loaded controller recovers faster,
        // and a GraphQL client is waiting. Retry-After, when given, wins (computedValue holds it).
        calculateDelay: ({ computedValue, retryAfter, attemptCount }) => {
          if (computedValue === 0) return 0;
          if (retryAfter) return computedValue;
          return Math.min(100 * 2 ** (attemptCount - 1), 1_000) + Math.random() * 50;
        },
      },
      hooks: {
        beforeRetry: [
          (error, retryCount) => {
            this.metrics.upstreamRequests.inc({ endpoint: endpointOf(error.options?.url), outcome: outcomeOf(error) });
            this.logger.warn({ upstream: describeError(error), retryCount }, 'retrying SPP request');
          },
        ],
      },
    });
    if (options.extend) this.http = this.http.extend(options.extend);
  }

  /**
   * `GET /api/lifecycle/ping` (no session needed; docs/spp-api.md#sessions-and-login): resolves when SPP answers.
   * Older SPP builds have no ping and answer 404, which still proves SPP is there.
   */
  async ping(timeoutMs: number): Promise<string | null> {
    try {
      const response = await this.http.get('lifecycle/ping', { retry: { limit: 0 }, timeout: { request: timeoutMs }, throwHttpErrors: false });
      this.refuseRedirect(response, 'ping');
      if (response.statusCode >= 500) throw upstreamUnavailable({ status: response.statusCode, path: 'lifecycle/ping' });
      // SPP's version when the answer reports one (sppServers, issue 21); anything else is no version.
      try {
        const version = (JSON.parse(response.body) as { version?: unknown } | null)?.version;
        return typeof version === 'string' && version.length <= 40 ? version : null;
      } catch {
        return null;
      }
    } catch (error) {
      throw this.translate(error, 'ping');
    }
  }

  /**
   * One page of any offset-paged SPP list (`endpoint` under /api, e.g. `endeavour/log/job`),
   * its records under `recordsKey`, each checked by `parse`.
   */
  listPage<R extends SppRecord>(
    identity: UpstreamIdentity,
    list: { endpoint: string; recordsKey: string; parse: (record: unknown) => R },
    params: ListPageParams,
    /** `keepMs`: keep this answer for other replicas at least this long (live polls of one interval), beyond SPP_CACHE_TTL_MS. */
    sharing?: { keepMs: number },
  ): Promise<SppListPage<R>> {
    const search = new URLSearchParams();
    search.set('pageStartIndex', String(params.pageStartIndex));
    search.set('pageSize', String(params.pageSize));
    if (params.filter.length > 0) search.set('filter', JSON.stringify(params.filter));
    if (params.sort.length > 0) search.set('sort', JSON.stringify(params.sort));
    return this.getShared(identity, list.endpoint, search, (body) => parseList(body, list.recordsKey, list.parse), sharing?.keepMs);
  }

  /** `GET /api/{path}` of one record (e.g. `endeavour/job/1005`), or null when SPP has no such record (404). */
  async getRecord<T>(identity: UpstreamIdentity, path: string, parse: (body: unknown) => T): Promise<T | null> {
    try {
      return await this.getShared(identity, path, new URLSearchParams(), parse);
    } catch (error) {
      if ((error as GraphQLError).extensions?.code === ErrorCode.NOT_FOUND) return null;
      throw error;
    }
  }

  /** `GET /api/{path}` with a `filter` (e.g. `endeavour/jobsession/stats`). */
  getFiltered<T>(identity: UpstreamIdentity, path: string, filter: SppFilter[], parse: (body: unknown) => T): Promise<T> {
    const search = new URLSearchParams();
    if (filter.length > 0) search.set('filter', JSON.stringify(filter));
    return this.getShared(identity, path, search, parse);
  }

  /** `GET /api/endeavour/jobsession/{id}`: one record, or null when SPP has no such session. */
  getJobSession(identity: UpstreamIdentity, id: string): Promise<SppJobSession | null> {
    return this.getRecord(identity, `endeavour/jobsession/${encodeURIComponent(id)}`, parseJobSession);
  }

  /**
   * A read for an action's decision (src/actions/): neither the answer cache nor another
   * request's read in flight answers it, since a stale record would offer a stale action.
   * `pathAndQuery` is under /api (e.g. `endeavour/job/1005?action=start&schema=true`). Null on 404.
   */
  async readFresh<T>(identity: UpstreamIdentity, pathAndQuery: string, parse: (body: unknown) => T): Promise<T | null> {
    const [path = '', query = ''] = splitQuery(pathAndQuery);
    try {
      return this.parseAnswer(await this.getWithSession(identity, path, query), parse, path);
    } catch (error) {
      if ((error as GraphQLError).extensions?.code === ErrorCode.NOT_FOUND) return null;
      throw error;
    }
  }

  /**
   * An action: one `POST /api/{pathAndQuery}` with a JSON body, never retried (not even after a
   * 401: a new login would be a second submission), never shared with another request, never
   * cached. Any HTTP answer is returned for the caller to interpret (src/actions/); a request
   * that got no answer throws in the gateway's vocabulary.
   */
  async act(identity: UpstreamIdentity, pathAndQuery: string, body: unknown): Promise<{ status: number; body: unknown }> {
    const sessionId = await identity.sessionId();
    const endpoint = endpointOf(pathAndQuery);
    const timer = this.metrics.upstreamDuration.startTimer({ endpoint });
    try {
      const response = await this.http.post(pathAndQuery, {
        headers: { 'x-endeavour-sessionid': sessionId },
        json: body,
        retry: { limit: 0 },
        throwHttpErrors: false,
        responseType: 'text',
      });
      this.metrics.upstreamRequests.inc({ endpoint, outcome: String(response.statusCode) });
      this.refuseRedirect(response, 'action');
      let parsed: unknown = null;
      try {
        parsed = response.body ? JSON.parse(response.body) : null;
      } catch {
        parsed = null;
      }
      return { status: response.statusCode, body: parsed };
    } catch (error) {
      if (!(error as GraphQLError).extensions?.code) this.metrics.upstreamRequests.inc({ endpoint, outcome: outcomeOf(error) });
      throw this.translate(error, 'action');
    } finally {
      timer();
    }
  }

  /** `POST /api/endeavour/session` with HTTP Basic: a new session id. Wrong credentials: UNAUTHENTICATED. */
  async login(username: string, password: string): Promise<SppLoginResponse> {
    try {
      const response = await this.http.post('endeavour/session', { username, password, retry: { limit: 0 } });
      this.refuseRedirect(response, 'login');
      const body = JSON.parse(response.body) as SppLoginResponse | undefined;
      if (typeof body?.sessionid !== 'string' || body.sessionid.length === 0) {
        throw upstreamError('the login answer had no session id');
      }
      this.metrics.upstreamLogins.inc({ outcome: 'ok' });
      return body;
    } catch (error) {
      this.metrics.upstreamLogins.inc({ outcome: error instanceof HTTPError && error.response.statusCode === 401 ? 'rejected' : 'failed' });
      if (error instanceof HTTPError && error.response.statusCode === 401) {
        throw unauthenticated('SPP rejected the username or password.', describeError(error));
      }
      throw this.translate(error, 'login');
    }
  }

  /** `DELETE /api/endeavour/session`: SPP answers 204. Failures are logged, not thrown. */
  async logout(sessionId: string): Promise<boolean> {
    try {
      const response = await this.http.delete('endeavour/session', {
        headers: { 'x-endeavour-sessionid': sessionId },
        retry: { limit: 0 },
        throwHttpErrors: false,
      });
      this.refuseRedirect(response, 'logout');
      return response.statusCode === 204;
    } catch (error) {
      this.logger.warn({ upstream: describeError(error) }, 'SPP logout failed');
      return false;
    }
  }

  /** Closes the keep-alive sockets (graceful shutdown). */
  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  private getShared<T>(identity: UpstreamIdentity, path: string, search: URLSearchParams, parse: (body: unknown) => T, keepMs = 0): Promise<T> {
    const query = search.toString();
    // SPP's answer depends on the identity alone (what the caller's roles add is decided above, per request).
    const key = `${identity.key} ${path}?${query}`;
    const cached = this.cache?.get(key);
    if (cached) {
      this.metrics.upstreamCacheHits.inc();
      return Promise.resolve(cached.value as T);
    }
    const running = this.inflight.get(key);
    if (running) {
      this.metrics.upstreamCoalesced.inc();
      return running as Promise<T>;
    }
    // The answer crosses replicas as SPP's JSON text; each replica checks it with `parse` itself.
    const request = this.shared
      .once(this.sharedScope + key, () => this.getWithSession(identity, path, query), { keepMs: Math.max(this.cacheTtlMs, keepMs) })
      .then((text) => this.parseAnswer(text, parse, path))
      .then(
        (value) => {
          this.inflight.delete(key);
          this.cache?.set(key, { value });
          return value;
        },
        (error: unknown) => {
          this.inflight.delete(key);
          throw error;
        },
      );
    this.inflight.set(key, request);
    return request;
  }

  /** SPP's answer text parsed and checked by `parse`; failures in the gateway's vocabulary. */
  private parseAnswer<T>(text: string, parse: (body: unknown) => T, path: string): T {
    try {
      return parse(JSON.parse(text));
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw this.translate(error, path);
      this.logger.warn({ upstream: { name: 'ParseError', path }, what: path }, 'SPP request failed');
      throw upstreamError('the answer was not valid JSON', { name: 'ParseError', path });
    }
  }

  /** SPP's answer text (checked by the caller once shared). */
  private async getWithSession(identity: UpstreamIdentity, path: string, query: string): Promise<string> {
    // The query string goes in the URL as text: got's `searchParams` option costs about 0.1-0.2 ms
    // of CPU per request to normalise and merge (measured: 0.44-0.61 ms per GET with it, 0.34-0.37
    // without), a tenth of a 25-session request's CPU.
    const url = query ? `${path}?${query}` : path;
    let sessionId = await identity.sessionId();
    const endpoint = endpointOf(path);
    for (let attempt = 0; ; attempt++) {
      const timer = this.metrics.upstreamDuration.startTimer({ endpoint });
      try {
        const response = await this.http.get(url, { headers: { 'x-endeavour-sessionid': sessionId } });
        this.metrics.upstreamRequests.inc({ endpoint, outcome: String(response.statusCode) });
        this.refuseRedirect(response, path);
        return response.body;
      } catch (error) {
        if (!(error as GraphQLError).extensions?.code) this.metrics.upstreamRequests.inc({ endpoint, outcome: outcomeOf(error) });
        if (attempt === 0 && error instanceof HTTPError && error.response.statusCode === 401) {
          const renewed = await identity.renew(sessionId);
          if (renewed !== null) {
            this.logger.info({ path }, 'SPP session expired; logged in again');
            sessionId = renewed;
            continue;
          }
        }
        throw this.translate(error, path);
      } finally {
        timer();
      }
    }
  }

  /** Throws (and logs) for a 3xx: the gateway sends nothing where a redirect points (see the module comment). */
  private refuseRedirect(response: Response, what: string): void {
    const status = response.statusCode;
    if (status < 300 || status >= 400 || status === 304) return;
    const location = response.headers.location;
    let host = 'nowhere (no Location)';
    if (location) {
      try {
        host = new URL(location, response.url).host;
      } catch {
        host = 'an unreadable Location';
      }
    }
    const detail = { name: 'Redirect', status, method: response.request.options.method, path: new URL(response.url).pathname, location: host };
    this.logger.warn({ upstream: detail, what }, 'SPP answered with a redirect; not followed');
    throw upstreamError(`HTTP ${status}, a redirect to ${host}, which the gateway does not follow`, detail);
  }

  /** Maps anything `got` or a parser threw to the gateway's vocabulary, logging the detail. */
  private translate(error: unknown, what: string): GraphQLError {
    if ((error as GraphQLError).extensions?.code) return error as GraphQLError;
    const detail = describeError(error);
    this.logger.warn({ upstream: detail, what }, 'SPP request failed');
    if (error instanceof TimeoutError) return upstreamTimeout(detail);
    if (error instanceof SyntaxError) return upstreamError('the answer was not valid JSON', detail);
    if (error instanceof HTTPError) {
      const status = error.response.statusCode;
      if (status === 401) return unauthenticated('SPP did not accept the session: log in again.', detail);
      if (status === 403) return forbidden('SPP denied access to this data for your SPP user.', detail);
      if (status === 404) return gatewayError(ErrorCode.NOT_FOUND, 'SPP has no such record.', { cause: detail });
      if (status === 503) return upstreamUnavailable(detail);
      if (status === 504) return upstreamTimeout(detail);
      return upstreamError(`HTTP ${status}`, detail);
    }
    if (error instanceof RequestError) {
      if (error.code && UNAVAILABLE_CODES.has(error.code)) return upstreamUnavailable(detail);
      if (error.name === 'ParseError') return upstreamError('the answer was not valid JSON', detail);
      return upstreamUnavailable(detail);
    }
    return upstreamError('the answer did not have the expected shape', detail);
  }
}

function splitQuery(pathAndQuery: string): [string, string] {
  const q = pathAndQuery.indexOf('?');
  return q < 0 ? [pathAndQuery, ''] : [pathAndQuery.slice(0, q), pathAndQuery.slice(q + 1)];
}

/** How many records a cached answer holds: a list page's (`records`); none for a single record. */
function recordsIn(value: unknown): number {
  const page = value as { records?: unknown } | null;
  return Array.isArray(page?.records) ? page.records.length : 0;
}
