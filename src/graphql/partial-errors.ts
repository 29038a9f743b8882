/**
 * Partial answers (issue 21): a list merged over several SPP servers returns the records of the
 * servers that answered, and one error per server that did not. Resolvers put those errors on
 * the context (`partialErrors`, with the field's path); this plugin adds them to the response's
 * `errors`, next to its data, without changing the HTTP status (the data is there).
 */
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { GraphQLError } from 'graphql';

export function partialErrorsPlugin<T extends BaseContext & { partialErrors: GraphQLError[] }>(): ApolloServerPlugin<T> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, contextValue }) {
          if (contextValue.partialErrors.length === 0 || response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          const added = contextValue.partialErrors.map((error) => {
            const { http: _http, ...extensions } = error.extensions as Record<string, unknown>;
            return { message: error.message, ...(error.path ? { path: error.path } : {}), extensions };
          });
          result.errors = [...(result.errors ?? []), ...added];
        },
      };
    },
  };
}
