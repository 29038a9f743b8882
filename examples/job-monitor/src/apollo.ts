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

/** Whether a GraphQL answer says the caller is no longer signed in. */
const unauthenticated = (result: ApolloLink.Result) => (result.errors ?? []).some((e) => e.extensions?.code === 'UNAUTHENTICATED');

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
function webSocketLink(url: string, onSignedOut: () => void): { link: ApolloLink; dispose: () => void } {
  // The browser sends the session cookie with the upgrade (the gateway's origin check guards it).
  const client = createClient({
    url,
    retryAttempts: Infinity,
    // 4401/4403: the session ended; retrying would not help, signing in again does.
    shouldRetry: (event) => {
      const code = (event as { code?: number } | undefined)?.code;
      if (code === 4401 || code === 4403) {
        onSignedOut();
        return false;
      }
      return true;
    },
  });
  const link = new ApolloLink(
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
  return { link, dispose: () => void client.dispose() };
}

function describeClose(event: unknown): string {
  const { code, reason } = (event ?? {}) as { code?: number; reason?: string };
  return code ? `The live connection closed (${code}${reason ? `: ${reason}` : ''})` : 'The live connection failed';
}

/**
 * The client for one signed-in session: the cookie goes with every request (`credentials:
 * 'include'`, the app being on another origin of the same site); an answer saying the session
 * ended calls `onSignedOut`. `dispose` closes the live connection when the session ends.
 */
export function createApolloClient({ gatewayUrl }: AppConfig, onSignedOut: () => void): { client: ApolloClient; dispose: () => void } {
  const wsUrl = gatewayUrl.replace(/^http/, 'ws');
  const ws = webSocketLink(wsUrl, onSignedOut);
  const watchSession = new ApolloLink(
    (operation, forward) =>
      new Observable<ApolloLink.Result>((observer) =>
        forward(operation).subscribe({
          next: (result) => {
            if (unauthenticated(result)) onSignedOut();
            observer.next(result);
          },
          error: (error: unknown) => {
            if ((error as { statusCode?: number }).statusCode === 401) onSignedOut();
            observer.error(error);
          },
          complete: () => observer.complete(),
        }),
      ),
  );
  const link = ApolloLink.split(
    ({ query }) => {
      const definition = getMainDefinition(query);
      return definition.kind === 'OperationDefinition' && definition.operation === 'subscription';
    },
    ws.link,
    ApolloLink.from([watchSession, trustedDocumentLink, new HttpLink({ uri: gatewayUrl, credentials: 'include' })]),
  );
  const client = new ApolloClient({
    link,
    cache: new InMemoryCache({
      typePolicies: {
        Query: {
          fields: {
            // History: one list per filter, order and server set; pages are merged by cursor.
            jobSessions: relayStylePagination(['filter', 'orderBy', 'servers']),
          },
        },
        JobSession: { fields: { log: relayStylePagination(['filter', 'orderBy']) } },
        // A server is known by its name: its status read anywhere is current everywhere.
        SppServer: { keyFields: ['name'] },
      },
    }),
  });
  return {
    client,
    dispose: () => {
      ws.dispose();
      client.stop();
    },
  };
}
