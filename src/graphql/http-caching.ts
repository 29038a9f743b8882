/**
 * The `Cache-Control` of GraphQL answers (docs/consumers.md "HTTP caching"). Apollo's cache-control
 * plugin computes the policy from the schema's `@cacheControl` hints and the resolvers' dynamic
 * ones; this plugin turns it into the header, because the gateway is stricter than Apollo's own
 * header code about when an answer may be kept:
 * - only a GET query can be cached (a POST is never reused by HTTP caches, and a mutation is refused
 *   over GET anyway); an answer with any error, a partial one included, or an incremental one, is `no-store`;
 * - the scope comes from who asked, not from the schema: every SPP record is read as some
 *   identity, so an answer to a caller with credentials is `private`. Only an anonymous caller
 *   (service-account mode with GATEWAY_ALLOW_ANONYMOUS, no Authorization) gets `public`: the
 *   gateway answers every anonymous caller alike, so a shared cache serves nobody anything
 *   they could not read themselves.
 * ETags, `If-None-Match` and `Vary` are the HTTP front's (src/http/caching.ts).
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { OperationTypeNode } from 'graphql';
import type { RequestContext } from './context.js';

export const NO_STORE = 'no-store';

export function httpCachingPlugin(): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart({ request }) {
      const get = request.http?.method === 'GET';
      return {
        async willSendResponse({ response, overallCachePolicy, operation, contextValue }) {
          const complete = response.body.kind === 'single' && response.body.singleResult.errors === undefined;
          const policy = get && complete && operation?.operation === OperationTypeNode.QUERY ? overallCachePolicy.policyIfCacheable() : null;
          if (!policy) {
            response.http.headers.set('cache-control', NO_STORE);
            return;
          }
          const scope = policy.scope === 'PUBLIC' && isAnonymous(contextValue) ? 'public' : 'private';
          response.http.headers.set('cache-control', `max-age=${policy.maxAge}, ${scope}`);
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
