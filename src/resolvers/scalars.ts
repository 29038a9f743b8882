/**
 * `DateTime`: SPP's epoch milliseconds in, ISO-8601 UTC with milliseconds out
 * (`2020-01-01T12:20:34.123Z`). `JSON`: any value, untouched.
 */
import { GraphQLError, GraphQLScalarType, Kind, valueFromASTUntyped, type ValueNode } from 'graphql';
import { badUserInput } from '../errors.js';

// An ISO-8601 date-time with an explicit zone: a bare date or a zone-less time is ambiguous.
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

function parseDateTime(value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value) && Number.isInteger(value)) return value;
  if (typeof value === 'string' && ISO_WITH_ZONE.test(value)) {
    const ms = Date.parse(value);
    if (!Number.isNaN(ms)) return ms;
  }
  // BAD_USER_INPUT whether the value came as a literal or a variable (error-masking.ts keeps the code).
  throw badUserInput(`DateTime cannot represent ${JSON.stringify(value)}: expected an ISO-8601 date-time with a time zone (e.g. "2020-01-01T12:20:34.123Z") or epoch milliseconds.`);
}

export const DateTime = new GraphQLScalarType<number, string>({
  name: 'DateTime',
  serialize(value) {
    const ms = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
    if (!Number.isFinite(ms)) throw new GraphQLError(`DateTime cannot serialize ${JSON.stringify(value)}: expected epoch milliseconds.`);
    return new Date(ms).toISOString();
  },
  parseValue: parseDateTime,
  parseLiteral(ast) {
    if (ast.kind === Kind.STRING) return parseDateTime(ast.value);
    if (ast.kind === Kind.INT) return parseDateTime(Number(ast.value));
    throw badUserInput(`DateTime cannot represent a ${ast.kind} literal: expected a string or an integer.`);
  },
});

export const JSONScalar = new GraphQLScalarType<unknown, unknown>({
  name: 'JSON',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: (ast: ValueNode, variables) => valueFromASTUntyped(ast, variables),
});
