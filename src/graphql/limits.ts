/**
 * Query limits that fail fast, before any upstream call: depth and aliases as validation
 * rules (graphql-armor), document size as a token limit at parse time (graphql-js
 * `maxTokens`) and a byte limit at the HTTP layer, and cost as an Apollo plugin
 * (graphql-query-complexity) once variables are known.
 *
 * Cost counts the objects a query can return: each object field costs 1 plus what it
 * selects; a connection multiplies what it selects by `first`/`last` (or the default page
 * size), and a nested list without paging arguments (statistics, links, sources) by
 * NESTED_LIST_ESTIMATE. Scalars are free. So `jobSessions(first: 1000)` with every nested
 * list costs about 1000 × 49, what it really costs to serialise.
 *
 * Nested connections multiply: `jobSessions(first: 100) { nodes { log(first: 100) } }` is
 * 10,000 log entries, and also 100 upstream reads, one per session. So every read a field
 * makes per parent object costs UPSTREAM_READ_COST on top of its objects: each connection,
 * and each per-item count (`logCounts`, `jobSessionCounts`), whose every item is a read.
 * Batched fields (`JobSession.job`, `Job.lastRun`: one read per page) cost only their objects.
 *
 * A field with a `servers` argument (issue 21) reads each server named, or every configured
 * server without it: a merged connection costs one read per server (its page is still one
 * page of objects), and counts and statistics cost their one-server price per server.
 */
import {
  GraphQLError,
  type DocumentNode,
  type ValidationContext,
  getNamedType,
  isCompositeType,
  isListType,
  getNullableType,
  getOperationAST,
  getVariableValues,
} from 'graphql';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { createRequire } from 'node:module';
import type { ComplexityEstimator, getComplexity as GetComplexity } from 'graphql-query-complexity';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { ErrorCode, httpStatusOf } from '../errors.js';

// graphql-query-complexity's ESM build imports 'graphql/index.mjs', while Apollo Server loads
// graphql's CommonJS build: two graphql realms ("Cannot use GraphQLObjectType from another
// module or realm"). Its CommonJS build shares Apollo's graphql.
const { getComplexity } = createRequire(import.meta.url)('graphql-query-complexity') as { getComplexity: typeof GetComplexity };

export interface QueryLimits {
  maxDepth: number;
  maxAliases: number;
  maxCost: number;
  maxTokens: number;
  defaultPageSize: number;
  /** PAGE_MAX_SIZE: a larger first/last is priced at this size, so the caller hears BAD_USER_INPUT about the argument, not QUERY_TOO_COMPLEX. */
  maxPageSize?: number;
  /** The SPP servers configured (issue 21): what a field with a `servers` argument reads when it is left out. Default 1. */
  serverCount?: number;
}

/** The size assumed for a list that has no paging argument (statistics, links, sources). */
export const NESTED_LIST_ESTIMATE = 10;

/** What one upstream read costs beyond the objects it returns. */
export const UPSTREAM_READ_COST = 10;

/** Scalar fields that read SPP once per object they belong to (a one-record read of SPP's total each). */
const READ_PER_OBJECT = new Set(['JobLogTypeCount.count', 'JobSessionStatusCount.count']);

const tooComplex = (message: string) =>
  new GraphQLError(message, { extensions: { code: ErrorCode.QUERY_TOO_COMPLEX, http: { status: httpStatusOf.QUERY_TOO_COMPLEX } } });

export function validationRules(limits: QueryLimits) {
  // Reported as validation errors (GRAPHQL_VALIDATION_FAILED, HTTP 400), not thrown: a thrown
  // rejection would reach Apollo as an unexpected error (500).
  const onRejectCode = {
    exposeLimits: true,
    propagateOnRejection: false,
    // graphql-armor words its rejections as "Syntax Error: ..."; the document's syntax is fine.
    onReject: [
      (context: ValidationContext | null, error: GraphQLError) =>
        context?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, ''), { nodes: error.nodes ?? null })),
    ],
  };
  return [
    maxDepthRule({ n: limits.maxDepth, ...onRejectCode, ignoreIntrospection: true, flattenFragments: true }),
    maxAliasesRule({ n: limits.maxAliases, ...onRejectCode }),
  ];
}

/** How many servers a field reads: the distinct names of its `servers` argument, or every server (at least 1: an empty list is refused at execution). */
function serversReadBy(field: { args: readonly { name: string }[] }, args: Record<string, unknown>, serverCount: number): number {
  if (!field.args.some((a) => a.name === 'servers')) return 1;
  return Array.isArray(args.servers) ? Math.max(1, new Set(args.servers).size) : serverCount;
}

export function costEstimator(defaultPageSize: number, maxPageSize = Number.POSITIVE_INFINITY, serverCount = 1): ComplexityEstimator {
  return ({ type: parent, field, args, childComplexity }) => {
    const type = getNullableType(field.type);
    const servers = serversReadBy(field, args, serverCount);
    if (READ_PER_OBJECT.has(`${parent.name}.${field.name}`)) return UPSTREAM_READ_COST;
    if (!isCompositeType(getNamedType(field.type))) return 0;
    // A connection's edges and nodes are the page itself: the connection field already multiplied.
    if (parent.name.endsWith('Connection')) return 1 + childComplexity;
    const asked = typeof args.first === 'number' ? args.first : typeof args.last === 'number' ? args.last : undefined;
    // Out-of-range sizes are refused by the paginator with BAD_USER_INPUT naming the argument and
    // its bounds; priced within the bounds here, the cost limit does not answer in its place.
    const pageSize = asked === undefined ? undefined : Math.max(0, Math.min(asked, maxPageSize));
    if (field.args.some((a) => a.name === 'first' || a.name === 'last')) {
      return 1 + servers * UPSTREAM_READ_COST + (pageSize ?? defaultPageSize) * childComplexity;
    }
    if (isListType(type)) return servers * (1 + NESTED_LIST_ESTIMATE * (1 + childComplexity));
    return servers * (1 + childComplexity);
  };
}

/**
 * What a cost can depend on besides the document (pure): the operation, and the variables
 * that are numbers, booleans or null: `first`/`last` (Int) and `@include`/`@skip` (Boolean);
 * of a list variable (`servers`), its number of distinct values.
 * Filters and cursors are left out, so a client paging with its own filter values (every
 * request distinct) still finds its cost computed once per page size.
 */
export function costKey(operationName: string | null | undefined, variables: Record<string, unknown> | undefined): string {
  let key = operationName ?? '';
  for (const name in variables) {
    const value = variables[name];
    if (value === null || typeof value === 'number' || typeof value === 'boolean') key += ` ${name}=${String(value)}`;
    else if (Array.isArray(value)) key += ` ${name}=#${new Set(value).size}`;
  }
  return key;
}

/**
 * Rejects operations whose cost exceeds `maxCost`, with QUERY_TOO_COMPLEX and the figures; then
 * hands the cost to `charge` (the consumer's budget, budget.ts), which may refuse it too.
 */
export function costLimitPlugin<T extends BaseContext>(limits: QueryLimits, charge?: (context: T, cost: number) => Promise<void>): ApolloServerPlugin<T> {
  const estimator = costEstimator(limits.defaultPageSize, limits.maxPageSize, limits.serverCount);
  // Apollo reuses one DocumentNode per distinct query text, and a cost depends only on the
  // document, the operation and the variables: clients repeat the same few, so remember them.
  const costs = new WeakMap<DocumentNode, Map<string, number>>();
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, schema, operationName, contextValue }) {
          const key = costKey(operationName, request.variables);
          let known = costs.get(document);
          let cost = known?.get(key);
          if (cost === undefined) {
            // graphql-query-complexity coerces the variables with no error limit, and a GraphQLError
            // (with its stack trace) per bad list item made a 100 KB body of 5,000 bad enum values
            // cost over a second of CPU (found by the fuzzer). Stop at the first bad value here:
            // execution then rejects the variables with BAD_USER_INPUT and graphql-js's own limit.
            const operation = getOperationAST(document, operationName);
            if (operation && getVariableValues(schema, operation.variableDefinitions ?? [], request.variables ?? {}, { maxErrors: 0 }).errors) return;
            try {
              cost = getComplexity({
                schema,
                query: document,
                variables: request.variables ?? {},
                operationName: operationName ?? undefined,
                estimators: [estimator],
              });
            } catch {
              // Variables that do not coerce: execution rejects them next with BAD_USER_INPUT and the
              // exact reason, before any resolver (so before any upstream call) runs.
              return;
            }
            if (!known) costs.set(document, (known = new Map<string, number>()));
            if (known.size >= 100) known.clear();
            known.set(key, cost);
          }
          if (cost > limits.maxCost) {
            throw tooComplex(`The query costs ${cost}, above the limit of ${limits.maxCost}: ask for fewer sessions (first/last) or fewer nested fields.`);
          }
          await charge?.(contextValue, cost);
        },
      };
    },
  };
}
