/**
 * Error masking (as graphql-yoga does by default): errors raised on purpose through
 * src/errors.ts, and GraphQL's own parse/validation/variable errors, reach clients as they
 * are; anything else (a bug, an unexpected throw) becomes INTERNAL_SERVER_ERROR with no
 * detail, and the full error is logged with the request id.
 */
import type { GraphQLFormattedError } from 'graphql';
import { GraphQLError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import type { Logger } from 'pino';
import { ErrorCode, isDeliberate } from '../errors.js';

export const MASKED_MESSAGE = 'Internal server error';

/** Apollo's own words ("pass introspection: true to ApolloServer") name a setting operators do not have. */
export const INTROSPECTION_OFF_MESSAGE =
  'Introspection is off on this gateway (GRAPHQL_INTROSPECTION; off by default in production). ' +
  "Generate types from the SDL instead: GET /schema.graphql (with the operator's SCHEMA_TOKEN) or schema/schema.graphql of the gateway's repository.";

export function createErrorFormatter(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    const { stacktrace: _stack, ...extensions } = (formatted.extensions ?? {}) as Record<string, unknown>;
    if (isDeliberate(original)) return { ...formatted, extensions };
    if (extensions.validationErrorCode === 'INTROSPECTION_DISABLED') return { ...formatted, message: INTROSPECTION_OFF_MESSAGE, extensions };
    // A bad scalar literal is reported by validation, the same value as a variable by coercion:
    // the scalar's own code (BAD_USER_INPUT) wins over GRAPHQL_VALIDATION_FAILED, so both read alike.
    if (error instanceof GraphQLError && isDeliberate(error.originalError) && extensions.code === 'GRAPHQL_VALIDATION_FAILED') {
      return { ...formatted, extensions: { ...extensions, code: error.originalError.extensions.code } };
    }
    // Request-level errors (parse, validation, variable coercion, limits) have no path: they
    // describe the query, and Apollo has given them their code. Field errors do have one.
    // graphql-js's own request errors that Apollo leaves uncoded are about the caller's input too:
    // after 50 bad variable values, "Too many errors processing variables" (found by the fuzzer).
    if (error instanceof GraphQLError && !error.originalError && formatted.path === undefined && extensions.code === ErrorCode.INTERNAL_SERVER_ERROR) {
      return { ...formatted, extensions: { ...extensions, code: ErrorCode.BAD_USER_INPUT } };
    }
    const requestLevel = formatted.path === undefined && extensions.code !== ErrorCode.INTERNAL_SERVER_ERROR;
    if (error instanceof GraphQLError && (!error.originalError || requestLevel)) return { ...formatted, extensions };
    logger.error({ err: original, path: formatted.path }, 'unexpected error while resolving a request');
    return {
      message: MASKED_MESSAGE,
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}
