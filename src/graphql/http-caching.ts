/**
 * The `Cache-Control` of GraphQL answers (docs/consumers.md "HTTP caching"). The age comes from
 * the schema's `@cacheControl` hints (cache-policy.ts, from the document, without a per-field
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
import { DYNAMIC_ROOT_FIELDS } from '../resolvers/cache-hints.js';
import { createCachePolicy } from './cache-policy.js';
import type { RequestContext } from './context.js';

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
