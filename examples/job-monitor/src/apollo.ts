/**
 * One Apollo Client for the app: queries and mutations over HTTP, subscriptions over
 * WebSocket (graphql-ws), both naming the app's trusted documents by hash, so a gateway that
 * runs only its manifest (PERSISTED_DOCUMENTS_FILE, ALLOW_ARBITRARY_OPERATIONS=false) serves it.
 */
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { relayStylePagination, getMainDefinition } from '@apollo/client/utilities';
import { print, parse, type OperationDefinitionNode } from 'graphql';
import { createClient } from 'graphql-ws';
import { Observable } from 'rxjs';
import manifest from './gql/persisted-documents.json';
import type { AppConfig } from './config';

/**
 * Operation name → manifest hash. Looked up by name rather than read from the documents'
 * `__meta__`, which Apollo Client's document transforms do not carry along.
 */
export const hashByOperation: ReadonlyMap<string, string> = new Map(
  Object.entries(manifest as Record<string, string>).flatMap(([hash, body]) =>
    parse(body)
      .definitions.filter((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition' && d.name !== undefined)
      .map((d) => [d.name!.value, hash] as [string, string]),
  ),
);

/** HTTP: the hash instead of the text (Apollo's persisted-query extension, which the gateway resolves). */
const trustedDocumentLink = new ApolloLink((operation, forward) => {
  const hash = operation.operationName ? hashByOperation.get(operation.operationName) : undefined;
  if (hash) {
    operation.extensions = { ...operation.extensions, persistedQuery: { version: 1, sha256Hash: hash } };
    operation.setContext({ http: { includeQuery: false, includeExtensions: true } });
  }
  return forward(operation);
});

/**
 * WebSocket: graphql-ws requires a `query` string in every subscribe message, so the text goes
 * along with the hash; a gateway with the manifest runs the manifest's text, one without runs this one.
 */
function webSocketLink(url: string, token: string | undefined): ApolloLink {
  // Browsers cannot set headers on a WebSocket: the token goes in connection_init.
  const client = createClient({
    url,
    retryAttempts: Infinity,
    shouldRetry: () => true,
    ...(token ? { connectionParams: { authorization: `Bearer ${token}` } } : {}),
  });
  return new ApolloLink(
    (operation) =>
      new Observable<ApolloLink.Result>((observer) => {
        const hash = operation.operationName ? hashByOperation.get(operation.operationName) : undefined;
        return client.subscribe(
          {
            query: print(operation.query),
            variables: operation.variables,
            ...(operation.operationName ? { operationName: operation.operationName } : {}),
            ...(hash ? { extensions: { persistedQuery: { version: 1, sha256Hash: hash } } } : {}),
          },
          {
            next: (result) => observer.next(result as ApolloLink.Result),
            error: (error) =>
              observer.error(error instanceof Error ? error : new Error(Array.isArray(error) ? error.map((e) => e.message).join('; ') : describeClose(error))),
            complete: () => observer.complete(),
          },
        );
      }),
  );
}

function describeClose(event: unknown): string {
  const { code, reason } = (event ?? {}) as { code?: number; reason?: string };
  return code ? `The live connection closed (${code}${reason ? `: ${reason}` : ''})` : 'The live connection failed';
}

export function createApolloClient({ gatewayUrl, token }: AppConfig): ApolloClient {
  const wsUrl = gatewayUrl.replace(/^http/, 'ws');
  const link = ApolloLink.split(
    ({ query }) => {
      const definition = getMainDefinition(query);
      return definition.kind === 'OperationDefinition' && definition.operation === 'subscription';
    },
    webSocketLink(wsUrl, token),
    ApolloLink.from([trustedDocumentLink, new HttpLink({ uri: gatewayUrl, ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}) })]),
  );
  return new ApolloClient({
    link,
    cache: new InMemoryCache({
      typePolicies: {
        Query: {
          fields: {
            // History: one list per filter and order; pages are merged by cursor.
            jobSessions: relayStylePagination(['filter', 'orderBy']),
          },
        },
        JobSession: { fields: { log: relayStylePagination(['filter', 'orderBy']) } },
      },
    }),
  });
}
