/**
 * The HTTP front of the gateway (node:http, no framework). A route table maps paths to
 * handlers (`/healthz`, `/readyz`, `/metrics`, the explorer's assets, and whatever other
 * transports add); `/graphql` is GraphQL over HTTP. Requests are read with a byte limit,
 * malformed JSON and oversized or over-batched bodies are answered here with GraphQL-shaped
 * errors, and the rest is handed to Apollo Server's `executeHTTPGraphQLRequest`.
 *
 * Status codes follow the GraphQL-over-HTTP spec (https://graphql.github.io/graphql-over-http/draft/):
 * - `application/graphql-response+json` (also for clients that send no Accept or `*\/*`, as the
 *   spec allows since its 2025 watershed): a response with non-null `data` is 200 (partial data
 *   is a success); one without `data` (request errors) keeps its 4xx; an operation that failed
 *   as a whole (`data: null`: SPP down, no credentials) keeps the error's status (401, 503, ...)
 *   so load balancers and monitors see outages.
 * - `application/json` (legacy clients that ask for it): 200 for every well-formed request,
 *   whatever GraphQL errors it holds; 4xx only when the request itself is malformed.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlibConstants, gzip } from 'node:zlib';
import Negotiator from 'negotiator';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ErrorCode, httpStatusOf } from '../errors.js';
import { IdenticalRequests, requestKey, type BufferedResponse, type OperationTypeHolder } from '../graphql/identical-requests.js';
import type { CorsHandler } from './cors.js';
import type { Explorer } from './explorer.js';
import { appendVary, entityTag, GRAPHQL_VARY, matchesIfNoneMatch, scopedForRequest } from './caching.js';
import { TrustedDocumentError, type TrustedDocuments } from '../graphql/trusted-documents.js';
import { BodyTooLarge, readBody } from '../transports/body.js';
import { verifiedCaller } from '../state/index.js';

/** A non-GraphQL endpoint. Keys ending in `/` match every path under them. */
export type Route = (req: IncomingMessage, res: ServerResponse, url: URL, log: Logger) => void | Promise<void>;

export interface HttpLimits {
  /** Largest GraphQL document (the `query` text) accepted, in bytes. */
  maxDocumentBytes: number;
  /** Largest request body accepted, in bytes. */
  maxBodyBytes: number;
  /** Most operations in one batched (array) request. */
  maxBatch: number;
}

export interface HttpHandlerOptions<TContext extends BaseContext & OperationTypeHolder> {
  apollo: ApolloServer<TContext>;
  /** Builds the context, or throws a deliberate GraphQL error (e.g. UNAUTHENTICATED). */
  context: (req: IncomingMessage, requestId: string, logger: Logger) => Promise<TContext>;
  logger: Logger;
  limits: HttpLimits;
  /** Served at GET /metrics in Prometheus' text format (unless metricsOnOwnPort). */
  metrics?: Registry;
  /** When set, /metrics needs `Authorization: Bearer <token>`. */
  metricsToken?: string;
  /** Other endpoints, by path (see Route). */
  routes?: Map<string, Route>;
  /** Cross-origin headers and preflights; undefined: same-origin only. */
  cors?: CorsHandler;
  /** The offline GraphiQL page at the GraphQL path for browsers; undefined: off. */
  explorer?: Explorer;
  /** The trusted-documents manifest; undefined: any document runs. */
  trustedDocuments?: TrustedDocuments;
  /** Responses at least this large are compressed when the client accepts gzip or br. */
  compressionThresholdBytes?: number;
  /** The `WWW-Authenticate` challenge sent with 401 (RFC 9110 §11.6.1). */
  wwwAuthenticate?: string;
  /** Called for a GraphQL request refused here, before Apollo (malformed, too large, not trusted): metrics. */
  onRefused?: (code: ErrorCode) => void;
  /** Runs the whole request inside it (the tracing span). */
  around?: (req: IncomingMessage, res: ServerResponse, handle: () => Promise<void>) => Promise<void>;
  /** The caller's identity key, for sharing identical requests in flight; undefined: never shared. */
  identityOf?: (req: IncomingMessage) => string | undefined;
  /** Whether the gateway verified the caller's credentials (shared state stores what verified callers send only). */
  verified?: (req: IncomingMessage) => boolean;
  /**
   * Before a GraphQL request or event stream runs: resolves the caller (some credentials need an
   * async check) and may refuse the request (cross-site use of the session cookie).
   */
  admit?: (req: IncomingMessage, res: ServerResponse, eventStream: boolean) => Promise<{ code: ErrorCode; message: string } | undefined>;
  /** What the request's log line says about the caller (consumer, client name and version); asked when the answer is sent. */
  describe?: (req: IncomingMessage) => Record<string, string>;
  /** Called when a request reused the response of an identical one in flight. */
  onJoin?: () => void;
  path?: string;
  /** GraphQL over SSE (src/transports/sse.ts): requests to the GraphQL path that accept `text/event-stream`. */
  eventStream?: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  /** Apollo's multipart subscriptions (src/transports/multipart.ts): requests whose Accept names `subscriptionSpec=1.0`. */
  multipart?: { wants(accept: string | undefined): boolean; handle(req: IncomingMessage, res: ServerResponse): Promise<void> };
}

class HttpProblem extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,100}$/;
const GRAPHQL_RESPONSE_JSON = 'application/graphql-response+json';
const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

export function createHttpHandler<TContext extends BaseContext & OperationTypeHolder>(options: HttpHandlerOptions<TContext>) {
  const { apollo, logger, limits } = options;
  const graphqlPath = options.path ?? '/graphql';
  const identical = new IdenticalRequests(options.onJoin);

  const routes = new Map(options.routes);
  if (options.metrics) routes.set('/metrics', metricsRoute(options.metrics, options.metricsToken));
  routes.set('/healthz', healthRoute);
  if (options.explorer) {
    const explorer = options.explorer;
    routes.set(EXPLORER_ROUTE, (req, res, url) => {
      if (!explorer.serveAsset(url.pathname.slice(EXPLORER_ROUTE.length), req, res)) notFound(res, graphqlPath);
    });
  }
  const prefixes = [...routes.keys()].filter((path) => path.endsWith('/'));
  const routeFor = (path: string): Route | undefined => routes.get(path) ?? routes.get(prefixes.find((prefix) => path.startsWith(prefix)) ?? '');

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = process.hrtime.bigint();
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    const log = logger.child({ requestId });
    res.setHeader('x-request-id', requestId);
    const logged: { operation?: string | undefined } = {};
    res.on('finish', () => {
      log.info(
        {
          method: req.method,
          path: req.url?.split('?')[0],
          status: res.statusCode,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
          ...(logged.operation ? { operation: logged.operation } : {}),
          ...options.describe?.(req),
        },
        'request',
      );
    });

    const url = new URL(req.url ?? '/', 'http://gateway.invalid');
    try {
      if (options.cors && (await options.cors(req, res)) === 'answered') return;
      if (url.pathname !== graphqlPath) {
        const route = routeFor(url.pathname);
        if (route) return await route(req, res, url, log);
        return notFound(res, graphqlPath);
      }
      // GraphQL over Server-Sent Events (graphql-sse) shares the path; the stream is its own protocol.
      const eventStream = options.eventStream !== undefined && /\btext\/event-stream\b/i.test(String(req.headers.accept ?? ''));
      const refusal = await options.admit?.(req, res, eventStream);
      if (refusal) throw new HttpProblem(refusal.code, refusal.message);
      if (eventStream) return await options.eventStream!(req, res);
      if (options.multipart?.wants(req.headers.accept)) {
        const refused = await options.admit?.(req, res, true);
        if (refused) throw new HttpProblem(refused.code, refused.message);
        return await options.multipart.handle(req, res);
      }
      if (options.explorer?.wantsPage(req, url)) return await options.explorer.servePage(req, res);

      // Until an answer says otherwise (Apollo's, from the schema's cache hints): refusals and errors are never kept.
      res.setHeader('cache-control', 'no-store');
      appendVary(res, ...GRAPHQL_VARY);
      const { text, body } = req.method === 'POST' ? await readJsonBody(req, limits) : { text: undefined, body: undefined };
      if (Array.isArray(body) && body.length > limits.maxBatch) {
        throw new HttpProblem(ErrorCode.BAD_REQUEST, `A batched request may hold at most ${limits.maxBatch} operations, got ${body.length}.`);
      }
      let search = url.search;
      const operations = Array.isArray(body) ? body : [body ?? getOperation(url.searchParams)];
      for (const operation of operations) {
        if (options.trustedDocuments && operation && typeof operation === 'object') {
          options.trustedDocuments.resolve(operation as Record<string, unknown>);
          if (body === undefined) search = toSearch(operation as Record<string, unknown>);
        }
        const query = (operation as { query?: unknown } | null)?.query;
        if (typeof query === 'string' && Buffer.byteLength(query) > limits.maxDocumentBytes) {
          throw new HttpProblem(
            ErrorCode.PAYLOAD_TOO_LARGE,
            `The GraphQL document is ${Buffer.byteLength(query)} bytes; at most ${limits.maxDocumentBytes} are accepted.`,
          );
        }
      }
      const requestedName = operations.length === 1 ? (operations[0] as { operationName?: unknown } | null)?.operationName : undefined;
      const headers = new HeaderMap();
      for (const [key, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
      }
      // No Accept, or only */*: the spec's preferred media type, whose status codes say what happened.
      const accept = headers.get('accept')?.trim();
      if (!accept || accept === '*/*') headers.set('accept', GRAPHQL_RESPONSE_JSON);
      const key = requestKey(options.identityOf?.(req), req, search, text);
      const response = await identical.run(key, async () => {
        let context: TContext | undefined;
        const result = await verifiedCaller.run(options.verified?.(req) ?? false, () =>
          apollo.executeHTTPGraphQLRequest({
            httpGraphQLRequest: { method: (req.method ?? 'GET').toUpperCase(), headers, search, body },
            context: async () => (context = await options.context(req, requestId, log)),
          }),
        );
        let responseBody = '';
        if (result.body.kind === 'complete') responseBody = result.body.string;
        else for await (const chunk of result.body.asyncIterator) responseBody += chunk;
        const buffered: BufferedResponse = { status: result.status ?? 200, headers: [...result.headers], body: responseBody };
        logged.operation = context?.operation.name;
        return { response: buffered, shareable: context?.operation.type === 'query' };
      });
      logged.operation ??= typeof requestedName === 'string' ? requestedName : undefined;
      for (const [name, value] of response.headers) res.setHeader(name, name.toLowerCase() === 'cache-control' ? scopedForRequest(value, req.headers) : value);
      const status = specStatus(response);
      if (status === 401 && options.wwwAuthenticate) res.setHeader('www-authenticate', options.wwwAuthenticate);
      await sendBody(req, res, status, response.body, options.compressionThresholdBytes, req.method === 'GET' && status === 200);
    } catch (error) {
      if (error instanceof HttpProblem || error instanceof TrustedDocumentError) {
        options.onRefused?.(error.code);
        return sendJson(res, httpStatusOf[error.code], { errors: [{ message: error.message, extensions: { code: error.code } }] });
      }
      log.error({ err: error }, 'unexpected error in the HTTP handler');
      if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'Internal server error', extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } }] });
      else res.destroy();
    }
  };
  const around = options.around;
  return around ? (req: IncomingMessage, res: ServerResponse) => around(req, res, () => handle(req, res)) : handle;
}

const EXPLORER_ROUTE = '/explorer/';

/** `GET /healthz`: liveness, 200 while the process answers. */
export const healthRoute: Route = (_req, res) => sendJson(res, 200, { status: 'ok' });

/** `GET /metrics` in Prometheus' text format, behind `Authorization: Bearer <token>` when a token is given. */
export function metricsRoute(registry: Registry, token?: string): Route {
  return async (req, res) => {
    if (token && !bearerMatches(req.headers.authorization, token)) {
      res.setHeader('www-authenticate', 'Bearer realm="metrics"');
      return sendJson(res, 401, { error: 'GET /metrics needs "Authorization: Bearer <METRICS_TOKEN>".' });
    }
    const text = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType });
    res.end(text);
  };
}

/** A server of a few plain routes (METRICS_PORT): anything else is 404. */
export function createRoutesHandler(routes: Map<string, Route>, logger: Logger) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://gateway.invalid');
    const route = routes.get(url.pathname);
    if (!route) return sendJson(res, 404, { error: `Not found: this port serves ${[...routes.keys()].join(', ')}.` });
    Promise.resolve(route(req, res, url, logger)).catch((error: unknown) => {
      logger.error({ err: error }, 'unexpected error in a route');
      if (!res.headersSent) sendJson(res, 500, { error: 'Internal server error' });
      else res.destroy();
    });
  };
}

/** Codes Apollo gives requests that are not well-formed GraphQL-over-HTTP requests (they keep their 4xx). */
const MALFORMED = new Set(['BAD_REQUEST']);

/**
 * The status the spec asks for (see the module comment). Only error responses are parsed;
 * a success is passed through untouched.
 */
export function specStatus(response: BufferedResponse): number {
  if (response.status < 400) return response.status;
  const type = response.headers.find(([name]) => name.toLowerCase() === 'content-type')?.[1] ?? '';
  let parsed: unknown;
  try {
    parsed = JSON.parse(response.body);
  } catch {
    return response.status;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return response.status;
  const { data, errors } = parsed as { data?: unknown; errors?: Array<{ extensions?: { code?: unknown } }> };
  if (data !== undefined && data !== null) return 200;
  // 429 (over the cost budget) stays for every client: retrying with Retry-After is what it asks of any of them.
  if (/^application\/json\b/i.test(type) && ![405, 406, 413, 415, 429].includes(response.status)) {
    const malformed = (errors ?? []).some((e) => MALFORMED.has(String(e.extensions?.code)));
    if (!malformed) return 200;
  }
  return response.status;
}

/** A GET request's operation, as Apollo will read it from the query string. */
function getOperation(params: URLSearchParams): Record<string, unknown> {
  const operation: Record<string, unknown> = Object.fromEntries(params);
  if (typeof operation.extensions === 'string') {
    try {
      operation.extensions = JSON.parse(operation.extensions);
    } catch {
      // Left as is: Apollo answers 400 for extensions that are not JSON.
    }
  }
  return operation;
}

function toSearch(operation: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(operation)) {
    if (value !== undefined) params.set(name, typeof value === 'string' ? value : JSON.stringify(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

export function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^bearer\s+(\S+)$/i.exec(header?.trim() ?? '');
  if (!match) return false;
  const given = Buffer.from(match[1]!);
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function notFound(res: ServerResponse, graphqlPath: string): void {
  sendJson(res, 404, { errors: [{ message: `Not found: GraphQL is served at ${graphqlPath}.`, extensions: { code: ErrorCode.NOT_FOUND } }] });
}

/**
 * Writes a body, compressed with br or gzip when the client accepts it and the body is at least
 * `threshold` bytes (smaller ones cost more to compress than they save). Brotli at quality 4:
 * close to gzip's speed with a better ratio; the default 11 costs far more CPU than it saves.
 */
export async function sendBody(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: string | Buffer,
  threshold = Number.POSITIVE_INFINITY,
  conditional = false,
): Promise<void> {
  res.statusCode = status;
  let encoding: string | undefined;
  if (body.length >= threshold) {
    appendVary(res, 'Accept-Encoding');
    // No Accept-Encoding: identity, as Negotiator would answer, without parsing anything
    // (most API clients send none; this runs once per response above the threshold).
    if (req.headers['accept-encoding'])
      encoding = (new Negotiator(req) as NegotiatorWithPreference).encoding(['br', 'gzip', 'identity'], { preferred: ['br', 'gzip'] });
  }
  if (conditional) {
    const etag = entityTag(body, encoding === 'br' || encoding === 'gzip' ? encoding : undefined);
    res.setHeader('etag', etag);
    if (matchesIfNoneMatch(req.headers['if-none-match'], etag)) {
      // 304 keeps the headers a cache updates (Cache-Control, ETag, Vary), no representation (RFC 9110 §15.4.5).
      res.statusCode = 304;
      res.removeHeader('content-type');
      res.end();
      return;
    }
  }
  if (encoding !== 'br' && encoding !== 'gzip') {
    // Small, or not accepted compressed: written as it came (Node sets Content-Length).
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  const input = typeof body === 'string' ? Buffer.from(body) : body;
  const compressed =
    encoding === 'br'
      ? await brotli(input, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 4, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: input.length } })
      : await gzipAsync(input, { level: 6 });
  res.setHeader('content-encoding', encoding);
  res.setHeader('content-length', compressed.length);
  res.end(req.method === 'HEAD' ? undefined : compressed);
}

/** negotiator 1.x takes a tie-break order; its published types predate it. */
type NegotiatorWithPreference = { encoding(available: string[], options: { preferred: string[] }): string | undefined };

export { sendJson as sendJsonResponse };

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJsonBody(req: IncomingMessage, limits: HttpLimits): Promise<{ text: string; body: unknown }> {
  let raw: Buffer;
  try {
    raw = await readBody(req, limits.maxBodyBytes);
  } catch (error) {
    if (error instanceof BodyTooLarge) throw new HttpProblem(ErrorCode.PAYLOAD_TOO_LARGE, error.message);
    throw error;
  }
  const text = raw.toString('utf8');
  const type = String(req.headers['content-type'] ?? '');
  if (!/^application\/(graphql-response\+)?json\b/i.test(type)) {
    // Left to Apollo, which answers 400 for a missing or wrong content type (and its CSRF rules).
    return { text, body: text.length > 0 ? text : undefined };
  }
  if (text.trim().length === 0) throw new HttpProblem(ErrorCode.BAD_REQUEST, 'The request body is empty: expected a JSON object with a "query" field.');
  try {
    return { text, body: JSON.parse(text) };
  } catch (error) {
    throw new HttpProblem(ErrorCode.BAD_REQUEST, `The request body is not valid JSON: ${(error as Error).message}.`);
  }
}
