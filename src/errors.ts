/**
 * The gateway's one error vocabulary.
 *
 * Every error a client can see is raised through one of these constructors, so its
 * `extensions.code` and HTTP status are chosen here and nowhere else. Anything else
 * thrown during a request is masked to INTERNAL_SERVER_ERROR by the error formatter
 * (src/graphql/error-masking.ts), which logs the original.
 *
 * Messages say what was expected and what arrived (as graphql-js and dataloader do),
 * and never carry upstream bodies, URLs, credentials or session ids.
 */
import { GraphQLError } from 'graphql';

export const ErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  UPSTREAM_UNAVAILABLE: 'UPSTREAM_UNAVAILABLE',
  UPSTREAM_TIMEOUT: 'UPSTREAM_TIMEOUT',
  UPSTREAM_ERROR: 'UPSTREAM_ERROR',
  UPSTREAM_MISCONFIGURED: 'UPSTREAM_MISCONFIGURED',
  PERSISTED_QUERY_NOT_FOUND: 'PERSISTED_QUERY_NOT_FOUND',
  PERSISTED_QUERY_NOT_IN_LIST: 'PERSISTED_QUERY_NOT_IN_LIST',
  QUERY_TOO_COMPLEX: 'QUERY_TOO_COMPLEX',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  BAD_REQUEST: 'BAD_REQUEST',
  /** SPP does not advertise the action on this object now (no `rel: "action"` link): SPP was not asked. */
  ACTION_NOT_AVAILABLE: 'ACTION_NOT_AVAILABLE',
  /** SPP refused the action because of the object's state (cancel a finished session). */
  CONFLICT: 'CONFLICT',
  /** The same clientMutationId was already used, within the idempotency window, for another input. */
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY_KEY_REUSED',
  LIMIT_EXCEEDED: 'LIMIT_EXCEEDED',
  /** The caller's cost budget (QUOTA_POINTS) holds fewer points than the operation costs: retry after `Retry-After` seconds. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** A subscription resumed from a cursor older than the event log keeps (issue 20): refetch, then subscribe afresh. */
  CURSOR_EXPIRED: 'CURSOR_EXPIRED',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The HTTP status each code answers with when it decides the response's status. */
export const httpStatusOf: Record<ErrorCode, number> = {
  BAD_USER_INPUT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  UPSTREAM_UNAVAILABLE: 503,
  UPSTREAM_TIMEOUT: 504,
  UPSTREAM_ERROR: 502,
  // The gateway's own configuration is wrong (its SPP account, its SPP_URL): never the caller's fault.
  UPSTREAM_MISCONFIGURED: 503,
  // Apollo's automatic-persisted-query protocol answers a miss with 200: clients (Apollo iOS's
  // ResponseCodeInterceptor among them) read the error, then resend the text (docs/schema.md "Errors").
  PERSISTED_QUERY_NOT_FOUND: 200,
  PERSISTED_QUERY_NOT_IN_LIST: 400,
  QUERY_TOO_COMPLEX: 400,
  PAYLOAD_TOO_LARGE: 413,
  BAD_REQUEST: 400,
  ACTION_NOT_AVAILABLE: 409,
  CONFLICT: 409,
  IDEMPOTENCY_KEY_REUSED: 422,
  LIMIT_EXCEEDED: 429,
  RATE_LIMITED: 429,
  CURSOR_EXPIRED: 410,
  INTERNAL_SERVER_ERROR: 500,
};

/** Marks errors raised on purpose: the masking formatter lets these through unchanged. */
export const DELIBERATE = Symbol.for('spp-gateway.deliberate-error');

export interface GatewayErrorOptions {
  /** Extra, safe, client-facing details (e.g. the argument name). */
  details?: Record<string, unknown>;
  /** The underlying error, for logs only: never serialised to clients. */
  cause?: unknown;
}

export function gatewayError(code: ErrorCode, message: string, options: GatewayErrorOptions = {}): GraphQLError {
  const error = new GraphQLError(message, {
    extensions: { code, ...options.details, http: { status: httpStatusOf[code] } },
  });
  Object.defineProperty(error, DELIBERATE, { value: true });
  // Kept off the enumerable properties so no serialiser can send it to a client.
  if (options.cause !== undefined) Object.defineProperty(error, 'cause', { value: options.cause, enumerable: false });
  return error;
}

export function isDeliberate(error: unknown): error is GraphQLError {
  return error instanceof GraphQLError && (error as unknown as Record<symbol, unknown>)[DELIBERATE] === true;
}

export const badUserInput = (message: string, argumentName?: string): GraphQLError =>
  gatewayError(ErrorCode.BAD_USER_INPUT, message, argumentName ? { details: { argumentName } } : {});

export const unauthenticated = (message: string, cause?: unknown): GraphQLError => gatewayError(ErrorCode.UNAUTHENTICATED, message, { cause });

export const forbidden = (message: string, cause?: unknown): GraphQLError => gatewayError(ErrorCode.FORBIDDEN, message, { cause });

export const upstreamUnavailable = (cause?: unknown): GraphQLError =>
  gatewayError(ErrorCode.UPSTREAM_UNAVAILABLE, 'SPP is unavailable: the gateway could not reach it or it refused the request for now. Try again shortly.', {
    cause,
  });

export const upstreamTimeout = (cause?: unknown): GraphQLError => gatewayError(ErrorCode.UPSTREAM_TIMEOUT, 'SPP did not answer in time.', { cause });

export const upstreamError = (detail: string, cause?: unknown): GraphQLError =>
  gatewayError(ErrorCode.UPSTREAM_ERROR, `SPP answered with an error: ${detail}.`, { cause });

export const upstreamMisconfigured = (cause?: unknown): GraphQLError =>
  gatewayError(
    ErrorCode.UPSTREAM_MISCONFIGURED,
    "The gateway's SPP service account was rejected (or SPP_URL does not point at SPP): the operator must fix the gateway's configuration. Your own credentials are not in question.",
    { cause },
  );

/** SPP's total contradicts the records it returned (APAR IT45897 builds answer 0): the count is unknown, never guessed. */
export const untrustedTotal = (what: string): GraphQLError =>
  gatewayError(
    ErrorCode.UPSTREAM_ERROR,
    `SPP's total for ${what} contradicts the records it returned (this SPP build reports totals of 0, APAR IT45897), so the count is unknown and left null rather than wrong.`,
  );

/** A total over several SPP servers (issue 21) that is not the sum of trusted totals. */
export const untrustedSum = (reason: string): GraphQLError =>
  gatewayError(ErrorCode.UPSTREAM_ERROR, `The total over several SPP servers is the sum of theirs, but ${reason}: so it is left null rather than wrong.`);

/**
 * What a server's failure in a merged read says (issue 21): unreachable or timed out, the
 * serverUnavailable error; refused (credentials, roles), its own error, naming the server.
 */
export function serverFailure(server: string, error: unknown): GraphQLError {
  const code = error instanceof GraphQLError ? (error.extensions.code as string | undefined) : undefined;
  if (!isDeliberate(error) || code === ErrorCode.UPSTREAM_UNAVAILABLE || code === ErrorCode.UPSTREAM_TIMEOUT) return serverUnavailable(server, error);
  return gatewayError(code as ErrorCode, `SPP server "${server}": ${error.message}`, { details: { server }, cause: error });
}

/** A server that did not answer a merged read (issue 21): its records are missing from this answer, not skipped. */
export const serverUnavailable = (server: string, cause?: unknown): GraphQLError =>
  gatewayError(
    ErrorCode.UPSTREAM_UNAVAILABLE,
    `SPP server "${server}" did not answer: its records are missing from this page. The page's cursors keep its place, so the next pages deliver them once it answers.`,
    { details: { server }, cause },
  );

/** The action is not among the `rel: "action"` links SPP advertises on the object now. */
export const actionNotAvailable = (action: string, what: string, available: readonly string[]): GraphQLError =>
  gatewayError(
    ErrorCode.ACTION_NOT_AVAILABLE,
    `SPP does not offer ${action} on ${what} now; available: ${available.length > 0 ? available.join(', ') : 'none'}. SPP was not asked.`,
    { details: { action, available: [...available] } },
  );

/** SPP refused the action because of the object's state; `reason` is SPP's own description (never its body). */
export const actionConflict = (action: string, what: string, reason: string | undefined, cause?: unknown): GraphQLError =>
  gatewayError(ErrorCode.CONFLICT, `SPP refused to ${action} ${what}${reason ? `: ${reason}` : ' in its current state'}.`, {
    details: { action, ...(reason ? { reason } : {}) },
    cause,
  });

/** Over the cost budget: the operation costs `cost`, the budget holds `available` now; `retryAfter` seconds refill enough. */
export const rateLimited = (cost: number, available: number, retryAfter: number): GraphQLError =>
  gatewayError(
    ErrorCode.RATE_LIMITED,
    `The operation costs ${cost} points and this caller's budget holds ${Math.floor(available)} now: retry after ${retryAfter} s, or ask for less (first/last, fewer nested fields).`,
    { details: { retryAfter } },
  );

/** An error's `extensions.code` as a label (metrics, spans): the code when it is a string, else `fallback`. */
export function codeOf(error: { readonly extensions?: { readonly [key: string]: unknown } | undefined }, fallback = 'UNKNOWN'): string {
  const code = error.extensions?.code;
  return typeof code === 'string' ? code : fallback;
}
