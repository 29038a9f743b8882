/**
 * What both subscription transports (graphql-ws, graphql-sse) check before a subscription
 * runs, so that a WebSocket or an event stream is held to the same rules as a POST:
 * - the caller's credentials, with exactly the modes queries have (src/server/auth.ts), taken
 *   from the upgrade/stream request headers and, for graphql-ws, from `connection_init`;
 * - the Origin of browser requests (cross-site WebSocket hijacking is CSRF for sockets);
 * - the document: size, token count, validation with the depth and alias rules, and cost
 *   (src/server/limits.ts), all before any upstream call.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import { GraphQLError, parse, specifiedRules, validate, getOperationAST, type DocumentNode, type GraphQLSchema } from 'graphql';
import type { getComplexity as GetComplexity } from 'graphql-query-complexity';
import { badUserInput, gatewayError, ErrorCode, httpStatusOf } from '../errors.js';
import { costEstimator, validationRules, type QueryLimits } from './limits.js';

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
 * clients) pass; a browser's must be same-origin (its host equals the Host header) or listed
 * in SUBSCRIPTION_ALLOWED_ORIGINS.
 */
export function originAllowed(request: IncomingMessage, allowed: readonly string[]): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  if (allowed.includes('*') || allowed.includes(origin)) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

export const originRefusal = (request: IncomingMessage) =>
  `Origin ${JSON.stringify(String(request.headers.origin).slice(0, 100))} may not open subscriptions on this gateway (same origin only, or list it in SUBSCRIPTION_ALLOWED_ORIGINS).`;

/**
 * Parses and checks one subscription document against the schema and the limits; returns
 * the document, or the errors to send (each with its `extensions.code`).
 */
export function checkOperation(
  schema: GraphQLSchema,
  limits: SubscriptionLimits,
  params: { query?: unknown; variables?: unknown; operationName?: unknown },
): { document: DocumentNode; variables: Record<string, unknown>; operationName: string | undefined } | { errors: GraphQLError[] } {
  const { query } = params;
  if (typeof query !== 'string' || query.length === 0) return { errors: [gatewayError(ErrorCode.BAD_REQUEST, 'Expected a "query" string holding a GraphQL document.')] };
  const bytes = Buffer.byteLength(query);
  if (bytes > limits.maxDocumentBytes) {
    return { errors: [gatewayError(ErrorCode.PAYLOAD_TOO_LARGE, `The GraphQL document is ${bytes} bytes; at most ${limits.maxDocumentBytes} are accepted.`)] };
  }
  const variables = params.variables ?? {};
  if (typeof variables !== 'object' || variables === null || Array.isArray(variables)) {
    return { errors: [badUserInput('"variables" must be an object.')] };
  }
  const operationName = typeof params.operationName === 'string' ? params.operationName : undefined;
  let document: DocumentNode;
  try {
    document = parse(query, { maxTokens: limits.maxTokens });
  } catch (error) {
    return { errors: [withCode(error as GraphQLError, 'GRAPHQL_PARSE_FAILED')] };
  }
  const invalid = validate(schema, document, [...specifiedRules, ...validationRules(limits)]);
  if (invalid.length > 0) return { errors: invalid.map((e) => withCode(e, 'GRAPHQL_VALIDATION_FAILED')) };
  if (!getOperationAST(document, operationName)) {
    return { errors: [gatewayError(ErrorCode.BAD_REQUEST, operationName ? `No operation named "${operationName}" in the document.` : 'The document holds several operations: name the one to run in "operationName".')] };
  }
  let cost: number;
  try {
    cost = getComplexity({ schema, query: document, variables: variables as Record<string, unknown>, operationName, estimators: [costEstimator(limits.defaultPageSize)] });
  } catch (error) {
    // Variables that do not coerce: execution reports them with the exact reason.
    return { document, variables: variables as Record<string, unknown>, operationName };
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
  return { document, variables: variables as Record<string, unknown>, operationName };
}

function withCode(error: GraphQLError, code: string): GraphQLError {
  return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, extensions: { ...error.extensions, code } });
}

/** A close reason must fit in 123 bytes (RFC 6455 §5.5.1). */
export function closeReason(text: string): string {
  let reason = text;
  while (Buffer.byteLength(reason) > 123) reason = `${reason.slice(0, -2)}…`;
  return reason;
}
