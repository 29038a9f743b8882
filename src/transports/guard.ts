/**
 * What both subscription transports (graphql-ws, graphql-sse) check before a subscription
 * runs, so that a WebSocket or an event stream is held to the same rules as a POST:
 * - the caller's credentials, with exactly the modes queries have (src/identity/auth.ts), taken
 *   from the upgrade/stream request headers and, for graphql-ws, from `connection_init`;
 * - the Origin of browser requests (cross-site WebSocket hijacking is CSRF for sockets);
 * - the document: size, token count, validation with the depth and alias rules, and cost
 *   (src/graphql/limits.ts), all before any upstream call;
 * - trusted documents (src/graphql/trusted-documents.ts), as for queries: a `documentId` or
 *   `extensions.persistedQuery.sha256Hash` names a manifest document, and while only trusted
 *   documents run, text outside the manifest is refused. graphql-ws requires a `query` string
 *   in every subscribe message, so a client naming a document there sends `""` (or the text).
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { GraphQLError, OperationTypeNode, parse, specifiedRules, validate, getOperationAST, type DocumentNode, type GraphQLSchema } from 'graphql';
import type { getComplexity as GetComplexity } from 'graphql-query-complexity';
import { badUserInput, gatewayError, ErrorCode, httpStatusOf } from '../errors.js';
import { LRUCache } from 'lru-cache';
import { costEstimator, validationRules, type QueryLimits } from '../graphql/limits.js';
import { documentHeapBytes } from '../graphql/document-cache.js';
import { TrustedDocumentError, type TrustedDocuments } from '../graphql/trusted-documents.js';
import type { CostBudget } from '../graphql/budget.js';
import type { RequestContext } from '../graphql/context.js';

// The CommonJS build shares Apollo's graphql realm (see limits.ts).
const { getComplexity } = createRequire(import.meta.url)('graphql-query-complexity') as { getComplexity: typeof GetComplexity };

export interface SubscriptionLimits extends QueryLimits {
  maxDocumentBytes: number;
}

/**
 * The headers a subscription authenticates with: the upgrade/stream request's, overridden by
 * the `connection_init` payload's (`{ "authorization": "Bearer ..." }`, `{ "x-endeavour-sessionid": ... }`,
 * or the same under `headers`), since browsers cannot set headers on a WebSocket.
 * A new object each time: the Authenticator keeps one outcome per headers object.
 */
export function subscriptionHeaders(request: IncomingMessage, payload: unknown): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = { ...request.headers };
  const given = payload && typeof payload === 'object' ? (payload as Record<string, unknown>) : {};
  const nested = given.headers && typeof given.headers === 'object' ? (given.headers as Record<string, unknown>) : {};
  for (const source of [given, nested]) {
    for (const [name, value] of Object.entries(source)) {
      const key = name.toLowerCase();
      if ((key === 'authorization' || key === 'x-endeavour-sessionid') && typeof value === 'string') headers[key] = value;
    }
  }
  return headers;
}

/**
 * Whether a browser request may open a subscription: requests without Origin (non-browser
 * clients) pass; a browser's must be same-origin (its host equals the Host header) or allowed:
 * SUBSCRIPTION_ALLOWED_ORIGINS, else the origins CORS allows (a browser app that may query may
 * also subscribe).
 */
export function originAllowed(request: IncomingMessage, allowed: ReadonlyArray<string | RegExp>): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  if (allowed.some((entry) => entry === '*' || (typeof entry === 'string' ? entry === origin : entry.test(origin)))) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

export const originRefusal = (request: IncomingMessage) =>
  `Origin ${JSON.stringify(String(request.headers.origin).slice(0, 100))} may not open subscriptions on this gateway (same origin only, or list it in SUBSCRIPTION_ALLOWED_ORIGINS or CORS_ORIGINS).`;

/** A checked operation and its cost (0 when its variables do not coerce: execution refuses them before any upstream call). */
export type CheckedOperation =
  { document: DocumentNode; variables: Record<string, unknown>; operationName: string | undefined; cost: number } | { errors: GraphQLError[] };

/**
 * Parses and checks subscription documents against the schema and the limits: returns the
 * document, or the errors to send (each with its `extensions.code`).
 *
 * A dashboard opens the same subscription in every tab: the parsed and validated document is
 * kept per query text (so thousands of subscribers share one DocumentNode, which also lets
 * their events share one execution, see shared-execution.ts), and the cost per text,
 * operation and variables.
 */
export function createOperationChecker(schema: GraphQLSchema, limits: SubscriptionLimits, trustedDocuments?: TrustedDocuments) {
  // Bounded by weight, as the HTTP path's store (document-cache.ts): 500 documents of MAX_DOCUMENT_BYTES
  // each, with their syntax trees, would hold hundreds of megabytes (issue 22, item 5).
  const documents = new LRUCache<string, { document: DocumentNode } | { errors: GraphQLError[] }>({
    maxSize: SUBSCRIPTION_DOCUMENTS_BYTES,
    sizeCalculation: (known, query) => query.length + ('document' in known ? documentHeapBytes(known.document) : 1_024),
  });
  const costs = new LRUCache<string, number>({ maxSize: SUBSCRIPTION_DOCUMENTS_BYTES / 4, sizeCalculation: (_cost, key) => key.length + 64 });
  const estimator = costEstimator(limits.defaultPageSize);

  const parsed = (query: string): { document: DocumentNode } | { errors: GraphQLError[] } => {
    let known = documents.get(query);
    if (known) return known;
    try {
      const document = parse(query, { maxTokens: limits.maxTokens });
      const invalid = validate(schema, document, [...specifiedRules, ...validationRules(limits)]);
      known = invalid.length > 0 ? { errors: invalid.map((e) => withCode(e, 'GRAPHQL_VALIDATION_FAILED')) } : { document };
    } catch (error) {
      known = { errors: [withCode(error as GraphQLError, 'GRAPHQL_PARSE_FAILED')] };
    }
    documents.set(query, known);
    return known;
  };

  const check = (given: { query?: unknown; variables?: unknown; operationName?: unknown; documentId?: unknown }): CheckedOperation => {
    let params: Record<string, unknown> = given;
    if (trustedDocuments) {
      // A copy: the transports keep their payloads; resolve() puts the manifest's text in `query`.
      params = { ...given };
      if (params.query === '') delete params.query;
      try {
        trustedDocuments.resolve(params);
      } catch (error) {
        if (!(error instanceof TrustedDocumentError)) throw error;
        return { errors: [gatewayError(error.code, error.message)] };
      }
    }
    const { query } = params;
    if (typeof query !== 'string' || query.length === 0)
      return { errors: [gatewayError(ErrorCode.BAD_REQUEST, 'Expected a "query" string holding a GraphQL document.')] };
    const bytes = Buffer.byteLength(query);
    if (bytes > limits.maxDocumentBytes) {
      return {
        errors: [gatewayError(ErrorCode.PAYLOAD_TOO_LARGE, `The GraphQL document is ${bytes} bytes; at most ${limits.maxDocumentBytes} are accepted.`)],
      };
    }
    const variables = params.variables ?? {};
    if (typeof variables !== 'object' || variables === null || Array.isArray(variables)) {
      return { errors: [badUserInput('"variables" must be an object.')] };
    }
    const operationName = typeof params.operationName === 'string' ? params.operationName : undefined;
    const checked = parsed(query);
    if ('errors' in checked) return checked;
    const { document } = checked;
    const operation = getOperationAST(document, operationName);
    if (!operation) {
      return {
        errors: [
          gatewayError(
            ErrorCode.BAD_REQUEST,
            operationName
              ? `No operation named "${operationName}" in the document.`
              : 'The document holds several operations: name the one to run in "operationName".',
          ),
        ],
      };
    }
    // Actions change SPP: they run only as POST /graphql, under CSRF prevention, the idempotency
    // rules and HTTP semantics (docs/security.md "Actions"), never over a WebSocket or an event stream (a GET).
    if (operation.operation === OperationTypeNode.MUTATION) {
      return { errors: [gatewayError(ErrorCode.BAD_REQUEST, 'Mutations are not accepted over a subscription transport: send them as POST /graphql.')] };
    }
    const costKey = `${operationName ?? ''}\u0000${JSON.stringify(variables)}\u0000${query}`;
    let cost = costs.get(costKey);
    if (cost === undefined) {
      try {
        cost = getComplexity({ schema, query: document, variables: variables as Record<string, unknown>, operationName, estimators: [estimator] });
      } catch {
        // Variables that do not coerce: execution reports them with the exact reason.
        return { document, variables: variables as Record<string, unknown>, operationName, cost: 0 };
      }
      costs.set(costKey, cost);
    }
    if (cost > limits.maxCost) {
      return {
        errors: [
          new GraphQLError(`The subscription costs ${cost} per event, above the limit of ${limits.maxCost}: select fewer nested fields.`, {
            extensions: { code: ErrorCode.QUERY_TOO_COMPLEX, http: { status: httpStatusOf.QUERY_TOO_COMPLEX } },
          }),
        ],
      };
    }
    return { document, variables: variables as Record<string, unknown>, operationName, cost };
  };
  /** What the caches hold, in their weight (about bytes of heap). */
  const cachedBytes = () => documents.calculatedSize + costs.calculatedSize;
  return Object.assign(check, { cachedBytes });
}

/** The weight the subscription document and cost caches hold at most, together about 1.25 times this. */
export const SUBSCRIPTION_DOCUMENTS_BYTES = 8 * 1024 * 1024;

function withCode(error: GraphQLError, code: string): GraphQLError {
  return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, extensions: { ...error.extensions, code } });
}

/**
 * Takes a subscription's cost from its consumer's budget when it subscribes (its events then
 * cost nothing more: the poller they share is bounded by SUBSCRIPTION_MAX_POLLERS). The refusal
 * (RATE_LIMITED, QUERY_TOO_COMPLEX) to send, or undefined when it may run.
 */
export async function chargeSubscription(budget: CostBudget | undefined, context: RequestContext, cost: number): Promise<GraphQLError | undefined> {
  if (!budget) return undefined;
  try {
    await budget.charge(context.consumer(), cost);
    return undefined;
  } catch (error) {
    if (error instanceof GraphQLError) return error;
    throw error;
  }
}

/**
 * Open subscription connections per caller (SUBSCRIPTION_CONNECTIONS_PER_CALLER), over both
 * transports: one caller (a consumer key, src/identity/consumer.ts) cannot take every connection
 * SUBSCRIPTION_MAX_CONNECTIONS allows.
 */
export class CallerConnections {
  private readonly open = new Map<string, number>();

  constructor(readonly max: number) {}

  /** Counts a connection of `caller`; returns its release, or undefined when the caller holds `max` already. */
  take(caller: string): (() => void) | undefined {
    const held = this.open.get(caller) ?? 0;
    if (held >= this.max) return undefined;
    this.open.set(caller, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(caller) ?? 1) - 1;
      if (left > 0) this.open.set(caller, left);
      else this.open.delete(caller);
    };
  }
}

export const callerConnectionsRefusal = (max: number) =>
  `This caller already holds ${max} subscription connections, the most allowed (SUBSCRIPTION_CONNECTIONS_PER_CALLER): close one, or hold several subscriptions on one connection.`;

/** A close reason must fit in 123 bytes (RFC 6455 §5.5.1). */
export function closeReason(text: string): string {
  let reason = text;
  while (Buffer.byteLength(reason) > 123) reason = `${reason.slice(0, -2)}…`;
  return reason;
}

/** The headers that make a cross-site GET non-simple (Apollo's CSRF prevention). */
export const PREFLIGHT_HEADERS = ['apollo-require-preflight', 'x-apollo-operation-name', 'graphql-preflight'];

export interface StreamRefusal {
  status: number;
  code: ErrorCode;
  message: string;
}

/**
 * The checks an HTTP stream (graphql-sse, multipart) passes before its document is read, in
 * the order a POST meets them: Origin, method, CSRF (a POST must be JSON, a GET must carry a
 * preflight header), credentials (401, after `prepare`: an OIDC token's signing keys may need a
 * round trip), the open-connection limit (503). Undefined: admitted. `noun` names the stream in
 * messages ("An event-stream", "A subscription").
 */
export async function admitHttpStream(
  req: IncomingMessage,
  options: {
    allowedOrigins: ReadonlyArray<string | RegExp>;
    auth: { prepare(headers: IncomingHttpHeaders): Promise<{ error: GraphQLError } | object> };
    connections: { count: number };
    limits: { maxConnections: number };
    onLimit(): void;
  },
  methods: readonly string[],
  noun: string,
): Promise<StreamRefusal | undefined> {
  if (!originAllowed(req, options.allowedOrigins)) return { status: 403, code: ErrorCode.FORBIDDEN, message: originRefusal(req) };
  const method = req.method ?? 'GET';
  if (!methods.includes(method)) return { status: 405, code: ErrorCode.BAD_REQUEST, message: `Open this stream with ${methods.join(' or ')}.` };
  if (method === 'POST' && !/^application\/json\b/i.test(String(req.headers['content-type'] ?? ''))) {
    return { status: 400, code: ErrorCode.BAD_REQUEST, message: `${noun} POST must have "Content-Type: application/json" (CSRF prevention).` };
  }
  if (method === 'GET' && !PREFLIGHT_HEADERS.some((name) => req.headers[name] !== undefined)) {
    return {
      status: 400,
      code: ErrorCode.BAD_REQUEST,
      message: `${noun} GET must carry one of the headers ${PREFLIGHT_HEADERS.join(', ')} (CSRF prevention), or use POST.`,
    };
  }
  const outcome = await options.auth.prepare(subscriptionHeaders(req, undefined));
  if ('error' in outcome) return { status: httpStatusOf.UNAUTHENTICATED, code: ErrorCode.UNAUTHENTICATED, message: outcome.error.message };
  if (options.connections.count >= options.limits.maxConnections) {
    options.onLimit();
    return {
      status: 503,
      code: ErrorCode.LIMIT_EXCEEDED,
      message: `The gateway holds ${options.connections.count} subscription connections, the most allowed (SUBSCRIPTION_MAX_CONNECTIONS): try again later.`,
    };
  }
  return undefined;
}

/** How often an open subscription connection checks that its credential was not signed out (in memory: no request). */
const SIGN_OUT_CHECK_MS = 1_000;

/** Why a connection ended by `endOnSignOut` was closed. */
export const SIGNED_OUT =
  'Signed out: the session or token of this connection was signed out or reached the end of its lifetime; sign in again, then resubscribe with "after".';

/**
 * Ends a subscription connection once its credential is signed out: `signedOut` is the
 * Authenticator's `signOutCheck` for the connection's headers (none: nothing to watch), `end`
 * closes the connection. Returns the function that stops watching (call it on close).
 */
export function endOnSignOut(signedOut: (() => boolean) | undefined, end: () => void): () => void {
  if (!signedOut) return () => undefined;
  const timer = setInterval(() => {
    if (!signedOut()) return;
    clearInterval(timer);
    end();
  }, SIGN_OUT_CHECK_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** Answers a refused HTTP stream with a GraphQL error body. */
export function sendRefusal(res: ServerResponse, refusal: StreamRefusal): void {
  const body = JSON.stringify({ errors: [{ message: refusal.message, extensions: { code: refusal.code } }] });
  res.writeHead(refusal.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
