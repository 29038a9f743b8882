/**
 * The `Cache-Control` of GraphQL answers (docs/consumers.md "HTTP caching"). The age comes from
 * the schema's `@cacheControl` hints (below: createCachePolicy, from the document, without a per-field
 * hook) and the reports of the resolvers whose age depends on the record. Only a GET query can be
 * cached (a POST is never reused by HTTP caches, and a mutation is refused over GET anyway); an
 * answer with any error, a partial one included, or an incremental one, is `no-store`.
 *
 * The scope comes from who asked, not from the schema: every SPP record is read as some identity,
 * so an answer to a caller with credentials is `private`. Only an anonymous caller (service-account
 * mode with GATEWAY_ALLOW_ANONYMOUS, no Authorization) gets `public`: the gateway answers every
 * anonymous caller alike, so a shared cache serves nobody anything they could not read themselves.
 * ETags, `If-None-Match`, `Vary`, and `private` for any request that carried credentials or a
 * cookie (whatever execution it shared) are the HTTP front's (src/http/caching.ts).
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { OperationTypeNode, type GraphQLSchema } from 'graphql';
import { DYNAMIC_ROOT_FIELDS } from '../resolvers/context.js';
import type { RequestContext } from './context.js';
import {
  getNamedType,
  isCompositeType,
  isInterfaceType,
  isObjectType,
  Kind,
  type DirectiveNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

export const NO_STORE = 'no-store';

export function httpCachingPlugin(schema: GraphQLSchema): ApolloServerPlugin<RequestContext> {
  const staticAge = createCachePolicy(schema, DYNAMIC_ROOT_FIELDS);
  return {
    async requestDidStart({ request }) {
      const get = request.http?.method === 'GET';
      return {
        async willSendResponse({ response, document, operation, contextValue }) {
          const complete = response.body.kind === 'single' && response.body.singleResult.errors === undefined;
          let maxAge: number | undefined;
          if (get && complete && document && operation?.operation === OperationTypeNode.QUERY) {
            const fromSchema = staticAge(document, operation);
            const fromRecords = contextValue.cacheHints.maxAge;
            maxAge = fromSchema === undefined ? fromRecords : fromRecords === undefined ? fromSchema : Math.min(fromSchema, fromRecords);
          }
          if (!maxAge) {
            response.http.headers.set('cache-control', NO_STORE);
            return;
          }
          response.http.headers.set('cache-control', `max-age=${maxAge}, ${isAnonymous(contextValue) ? 'public' : 'private'}`);
        },
      };
    },
  };
}

function isAnonymous(context: RequestContext): boolean {
  try {
    return context.caller().actor.anonymous;
  } catch {
    // No valid credentials: the answer holds an error and is no-store before this is asked.
    return false;
  }
}

/**
 * The cache age of a query, from the schema's `@cacheControl` hints, computed from the document
 * once (not per resolved field): Apollo's cache-control plugin gets the same answer by hooking
 * every field as it resolves, and that hook (Apollo then wraps every resolver of the schema)
 * cost 1.29x the CPU per request at 25 rows and 1.41x at 1000 in `npm run bench:cache-control`
 * (docs/performance.md); reading the document costs nothing measurable.
 *
 * The rules are Apollo's (https://www.apollographql.com/docs/apollo-server/performance/caching):
 * a field returning an object, interface or union takes its type's hint, which its own hint
 * replaces; without either it is 0, unless `inheritMaxAge` makes it take its parent's; a scalar
 * field restricts only with a hint of its own; a root field without any is 0. The answer's age is
 * the smallest of them all. Every selection counts, even a fragment on a type that turns out
 * absent at run time or a field under @skip: the age can only come out shorter, never longer.
 *
 * Root fields whose age depends on the record (a running or finished session) are `dynamic`:
 * their static hint is left out and their resolver reports the age (src/resolvers/context.ts).
 */
interface Hint {
  maxAge?: number;
  inheritMaxAge?: boolean;
}

function hintOf(directives: readonly DirectiveNode[] | undefined): Hint {
  const directive = directives?.find((d) => d.name.value === 'cacheControl');
  const hint: Hint = {};
  for (const argument of directive?.arguments ?? []) {
    if (argument.name.value === 'maxAge' && argument.value.kind === Kind.INT) hint.maxAge = Number(argument.value.value);
    if (argument.name.value === 'inheritMaxAge' && argument.value.kind === Kind.BOOLEAN) hint.inheritMaxAge = argument.value.value;
  }
  return hint;
}

/** The restriction one field puts on the answer's age; undefined: none. */
function fieldMaxAge(field: GraphQLField<unknown, unknown>, root: boolean): number | undefined {
  const own = hintOf(field.astNode?.directives);
  const target = getNamedType(field.type);
  let maxAge: number | undefined;
  let inherit = false;
  if (isCompositeType(target)) {
    const typeHint = hintOf(target.astNode?.directives);
    maxAge = typeHint.maxAge;
    inherit = typeHint.inheritMaxAge === true;
    if (own.inheritMaxAge && maxAge === undefined) inherit = true;
    else if (own.maxAge !== undefined) maxAge = own.maxAge;
    if (maxAge === undefined && (!inherit || root)) maxAge = 0;
  } else {
    maxAge = own.maxAge;
    if (maxAge === undefined && root) maxAge = 0;
  }
  return maxAge;
}

export type CachePolicy = (document: DocumentNode, operation: OperationDefinitionNode) => number | undefined;

/**
 * The static age of an operation (undefined: nothing restricts it, which only the dynamic root
 * fields' reports can settle), memoised per parsed document: the document store hands repeated
 * queries the same DocumentNode.
 */
export function createCachePolicy(schema: GraphQLSchema, dynamicRootFields: ReadonlySet<string>): CachePolicy {
  const fieldAges = new WeakMap<GraphQLField<unknown, unknown>, { root: number | undefined; nested: number | undefined }>();
  const ageOf = (field: GraphQLField<unknown, unknown>, root: boolean) => {
    let ages = fieldAges.get(field);
    if (!ages) fieldAges.set(field, (ages = { root: fieldMaxAge(field, true), nested: fieldMaxAge(field, false) }));
    return root ? ages.root : ages.nested;
  };
  const memo = new WeakMap<DocumentNode, Map<OperationDefinitionNode, number | undefined>>();

  return (document, operation) => {
    let byOperation = memo.get(document);
    if (byOperation?.has(operation)) return byOperation.get(operation);
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    let age: number | undefined;
    const restrict = (maxAge: number | undefined) => {
      if (maxAge !== undefined && (age === undefined || maxAge < age)) age = maxAge;
    };
    const walk = (selectionSet: SelectionSetNode, parent: GraphQLCompositeType, root: boolean, spread: ReadonlySet<string>): void => {
      for (const selection of selectionSet.selections) {
        if (selection.kind === Kind.FIELD) {
          const name = selection.name.value;
          // __typename restricts nothing; introspection at the root is never cached.
          if (name.startsWith('__')) {
            if (root && name !== '__typename') restrict(0);
            continue;
          }
          const field = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[name] : undefined;
          if (!field) continue;
          if (!(root && dynamicRootFields.has(name))) restrict(ageOf(field, root));
          const target = getNamedType(field.type);
          if (selection.selectionSet && isCompositeType(target)) walk(selection.selectionSet, target, false, spread);
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
          if (type && isCompositeType(type)) walk(selection.selectionSet, type, root, spread);
        } else {
          const fragment = fragments.get(selection.name.value);
          const type = fragment ? schema.getType(fragment.typeCondition.name.value) : undefined;
          if (fragment && type && isCompositeType(type) && !spread.has(fragment.name.value)) {
            walk(fragment.selectionSet, type, root, new Set([...spread, fragment.name.value]));
          }
        }
      }
    };
    const rootType = schema.getRootType(operation.operation);
    if (rootType) walk(operation.selectionSet, rootType, true, new Set());
    else age = 0;
    if (!byOperation) memo.set(document, (byOperation = new Map<OperationDefinitionNode, number | undefined>()));
    byOperation.set(operation, age);
    return age;
  };
}
