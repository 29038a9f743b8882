/**
 * Fuzz generators driven by the schema: GraphQL documents (with their variables) built from
 * whatever the SDL holds, so new lists and fields are fuzzed as they land, and raw HTTP
 * request bodies. Each value is valid, almost valid (a typo, a wrong type, a missing
 * argument) or hostile (deep nesting, huge lists, unicode, numbers at the edges, cursors
 * with flipped bits).
 */
import fc from 'fast-check';
import {
  buildSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  isUnionType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';

export function fuzzSchema(typeDefs: string): GraphQLSchema {
  return buildSchema(typeDefs);
}

/** Flips one bit of a cursor, truncates it, or swaps its halves: all must be refused cleanly. */
export function cursorArb(valid: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    fc.tuple(fc.constantFrom(...valid), fc.nat(), fc.nat({ max: 5 })).map(([c, at, bit]) => {
      const i = at % c.length;
      return c.slice(0, i) + String.fromCharCode(c.charCodeAt(i) ^ (1 << bit)) + c.slice(i + 1);
    }),
    fc.tuple(fc.constantFrom(...valid), fc.nat()).map(([c, n]) => c.slice(0, n % c.length)),
    fc.constantFrom(...valid).map((c) => c.split('.').reverse().join('.')),
    fc.constantFrom(...valid),
    fc.constantFrom('', '.', 'a.b', 'x'.repeat(3000), '\u0000', '😀.😀'),
  );
}

const edgeInts = [0, 1, -1, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1, Number.MAX_SAFE_INTEGER, 1e300, 0.5, -0];
const hostileStrings = ['', ' ', '*', '**', '\u0000', '\uD800', 'é\u0301', '😀'.repeat(50), 'a'.repeat(5000), '"; DROP TABLE', '${x}', '\\', '{"$gt":""}'];

/** A JSON value for a GraphQL input type: mostly valid, sometimes not. */
export function inputValueArb(type: GraphQLInputType, argName: string, cursors: readonly string[], depth = 0): fc.Arbitrary<unknown> {
  const invalid = fc.constantFrom<unknown>(null, 'NOT_A_VALUE', 42, true, {}, []);
  if (isNonNullType(type))
    return fc.oneof({ weight: 12, arbitrary: inputValueArb(type.ofType, argName, cursors, depth) }, { weight: 1, arbitrary: fc.constant(null) });
  const nullable = <T>(arb: fc.Arbitrary<T>) =>
    fc.oneof({ weight: 8, arbitrary: arb }, { weight: 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: invalid });
  if (isListType(type)) {
    const item = inputValueArb(type.ofType, argName, cursors, depth + 1);
    return nullable(
      fc.oneof(
        { weight: 10, arbitrary: fc.array(item, { maxLength: 4 }) },
        // Huge lists: within the body limit, far beyond any real filter.
        {
          weight: 1,
          arbitrary: item.map((v) => Array.from({ length: Math.min(5000, Math.floor(400_000 / ((JSON.stringify(v)?.length ?? 4) + 1))) }, () => v)),
        },
        { weight: 1, arbitrary: item },
      ),
    );
  }
  if (isEnumType(type))
    return nullable(
      fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom(...type.getValues().map((v) => v.name)) },
        { weight: 1, arbitrary: fc.constantFrom('completed', 'NOPE', '') },
      ),
    );
  if (isInputObjectType(type)) {
    if (depth > 4) return fc.constant(null);
    const fields = Object.values(type.getFields());
    const record = fc.record(Object.fromEntries(fields.map((f) => [f.name, inputValueArb(f.type, f.name, cursors, depth + 1)])), { requiredKeys: [] });
    return nullable(fc.oneof({ weight: 8, arbitrary: record }, { weight: 1, arbitrary: record.map((r) => ({ ...r, unknownField: 1 })) }));
  }
  if (isScalarType(type)) {
    switch (type.name) {
      case 'Int':
        return nullable(
          fc.oneof(
            { weight: 6, arbitrary: fc.integer({ min: -2, max: 60 }) },
            { weight: 2, arbitrary: fc.constantFrom(...edgeInts) },
            { weight: 1, arbitrary: fc.constantFrom('5', '1e3') },
          ),
        );
      case 'Float':
        return nullable(fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(...edgeInts)));
      case 'Boolean':
        return nullable(fc.oneof({ weight: 6, arbitrary: fc.boolean() }, { weight: 1, arbitrary: fc.constantFrom('true', 0) }));
      case 'DateTime':
        return nullable(
          fc.oneof(
            fc.integer({ min: 1_600_000_000_000, max: 1_800_000_000_000 }),
            fc.constantFrom(...edgeInts),
            fc.constantFrom('2026-11-01T12:00:00Z', 'yesterday', ''),
          ),
        );
      case 'ID':
        return nullable(
          fc.oneof(fc.constantFrom('1564688656142', '1', '0', '-1', '99999999999999999999', 'Sm9iU2Vzc2lvbjox'), fc.string({ maxLength: 40 }), fc.nat()),
        );
      case 'String':
        if (argName === 'after' || argName === 'before') return nullable(cursorArb(cursors));
        return nullable(
          fc.oneof(fc.constantFrom(...hostileStrings), fc.string({ unit: 'grapheme', maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 30 })),
        );
      default:
        return nullable(fc.jsonValue({ maxDepth: 2 }));
    }
  }
  return fc.constant(null);
}

export interface FuzzRequest {
  query: string;
  variables: Record<string, unknown>;
  /** How the document was made: a hostile or broken one may be refused, a valid one may not fail with anything but BAD_USER_INPUT/NOT_FOUND. */
  kind: 'generated' | 'broken' | 'deep' | 'aliases';
}

interface Built {
  text: string;
  variables: Array<{ name: string; type: string; value: unknown }>;
}

/** A selection set for `type`, `depth` levels deep at most, with arguments passed as variables. */
function selectionArb(schema: GraphQLSchema, type: GraphQLNamedType, depth: number, cursors: readonly string[], counter: { n: number }): fc.Arbitrary<Built> {
  if (isLeafType(type)) return fc.constant({ text: '', variables: [] });
  if (isInterfaceType(type) || isUnionType(type)) {
    const possible = schema.getPossibleTypes(type);
    return fc.constantFrom(...possible).chain((t) =>
      selectionArb(schema, t, depth, cursors, counter).map((inner) => ({
        text: `{ __typename ... on ${t.name} ${inner.text} }`,
        variables: inner.variables,
      })),
    );
  }
  if (!isObjectType(type)) return fc.constant({ text: '', variables: [] });
  const fields = Object.values((type as GraphQLObjectType).getFields()).filter((f) => depth > 0 || isLeafType(getNamedType(f.type)));
  const usable = fields.length > 0 ? fields : Object.values((type as GraphQLObjectType).getFields()).filter((f) => isLeafType(getNamedType(f.type)));
  if (usable.length === 0) return fc.constant({ text: '{ __typename }', variables: [] });
  return fc
    .uniqueArray(fc.constantFrom(...usable), { minLength: 1, maxLength: 4, selector: (f) => f.name })
    .chain((chosen) => fc.tuple(...chosen.map((f) => fieldArb(schema, f, depth, cursors, counter))))
    .map((parts) => ({ text: `{ ${parts.map((p) => p.text).join(' ')} }`, variables: parts.flatMap((p) => p.variables) }));
}

function fieldArb(
  schema: GraphQLSchema,
  field: GraphQLField<unknown, unknown>,
  depth: number,
  cursors: readonly string[],
  counter: { n: number },
): fc.Arbitrary<Built> {
  const args = field.args;
  const argsArb = fc.tuple(
    ...args.map((arg) =>
      fc.oneof(
        { weight: isNonNullType(arg.type) ? 12 : 2, arbitrary: inputValueArb(arg.type, arg.name, cursors).map((value) => ({ arg, value, present: true })) },
        { weight: isNonNullType(arg.type) ? 1 : 3, arbitrary: fc.constant({ arg, value: undefined, present: false }) },
      ),
    ),
  );
  const inner = selectionArb(schema, getNamedType(field.type), depth - 1, cursors, counter);
  return fc.tuple(argsArb, inner).map(([given, sub]) => {
    const variables: Built['variables'] = [];
    const used = given
      .filter((g) => g.present)
      .map((g) => {
        const name = `v${counter.n++}`;
        variables.push({ name, type: String(g.arg.type), value: g.value });
        return `${g.arg.name}: $${name}`;
      });
    const text = `${field.name}${used.length ? `(${used.join(', ')})` : ''} ${sub.text}`;
    return { text, variables: [...variables, ...sub.variables] };
  });
}

/** Documents from the schema's Query type, plus broken and hostile ones. */
export function requestArb(schema: GraphQLSchema, cursors: readonly string[]): fc.Arbitrary<FuzzRequest> {
  const query = schema.getQueryType()!;
  const counter = { n: 0 };
  const generated = fc
    .constantFrom(...Object.values(query.getFields()))
    .chain((root) => fieldArb(schema, root, 4, cursors, counter))
    .map((built) => {
      const declarations = built.variables.map((v) => `$${v.name}: ${v.type}`).join(', ');
      return {
        query: `query Fuzz${declarations ? `(${declarations})` : ''} { ${built.text} }`,
        variables: Object.fromEntries(built.variables.map((v) => [v.name, v.value])),
      };
    });
  return fc.oneof(
    { weight: 10, arbitrary: generated.map((r) => ({ ...r, kind: 'generated' as const })) },
    {
      weight: 3,
      // Almost valid: a character dropped, a name misspelt, a variable's declared type changed.
      arbitrary: fc.tuple(generated, fc.nat(), fc.constantFrom('drop', 'typo', 'type')).map(([r, at, how]) => {
        const i = at % r.query.length;
        const query =
          how === 'drop'
            ? r.query.slice(0, i) + r.query.slice(i + 1)
            : how === 'typo'
              ? r.query.replace(/\b(edges|node|id|jobName|status)\b/, '$1x')
              : r.query.replace(/: (Int|String|ID)\b/, ': Boolean');
        return { query, variables: r.variables, kind: 'broken' as const };
      }),
    },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 20, max: 400 }).map((n) => ({
        query: `{ ${'... on Query { '.repeat(n)}__typename${' }'.repeat(n)} jobSessions(first: 1) { edges { node { ${'... on Node { '.repeat(n)}id${' }'.repeat(n)} } } } }`,
        variables: {},
        kind: 'deep' as const,
      })),
    },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 31, max: 300 }).map((n) => ({
        query: `{ ${Array.from({ length: n }, (_, i) => `a${i}: jobSessions(first: 1) { totalCount }`).join(' ')} }`,
        variables: {},
        kind: 'aliases' as const,
      })),
    },
  );
}

/** Raw request bodies and headers for POST /graphql. */
export interface RawRequest {
  method: string;
  headers: Record<string, string>;
  body: Buffer;
}

export function rawRequestArb(valid: string): fc.Arbitrary<RawRequest> {
  const json = { 'content-type': 'application/json' };
  const post = (body: string | Buffer, headers: Record<string, string> = json): RawRequest => ({
    method: 'POST',
    headers,
    body: Buffer.isBuffer(body) ? body : Buffer.from(body),
  });
  return fc.oneof(
    fc.nat().map((n) => post(valid.slice(0, n % valid.length))),
    fc.jsonValue({ maxDepth: 3 }).map((v) => post(JSON.stringify(v))),
    fc
      .record(
        { query: fc.jsonValue({ maxDepth: 2 }), variables: fc.jsonValue({ maxDepth: 2 }), operationName: fc.jsonValue({ maxDepth: 1 }) },
        { requiredKeys: [] },
      )
      .map((v) => post(JSON.stringify(v))),
    fc.array(fc.constant(JSON.parse(valid) as unknown), { minLength: 0, maxLength: 14 }).map((batch) => post(JSON.stringify(batch))),
    fc.uint8Array({ maxLength: 200 }).map((bytes) => post(Buffer.from(bytes))),
    fc.integer({ min: 100, max: 20_000 }).map((n) => post('['.repeat(n) + ']'.repeat(n))),
    fc
      .constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', '')
      .map((type) => post(valid, type ? { 'content-type': type } : {})),
    fc.constant(post(valid, { ...json, 'x-giant': 'g'.repeat(20_000) })),
    fc.constant(post(`{"query":"${'x'.repeat(300_000)}"}`)),
    fc.constantFrom('PUT', 'DELETE', 'PATCH', 'OPTIONS').map((method) => ({ method, headers: json, body: Buffer.from(valid) })),
  );
}
