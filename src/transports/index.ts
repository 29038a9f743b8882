/**
 * The subscription transports on the gateway's one port and path: graphql-ws over WebSocket
 * (ws.ts), graphql-sse over Server-Sent Events (sse.ts) and Apollo's multipart HTTP
 * (multipart.ts), all executing
 * with graphql-js `subscribe` on the same executable schema as Apollo Server.
 *
 * Apollo Server answers plain HTTP only: a subscription sent there is refused with BAD_REQUEST
 * naming the transports. At shutdown Apollo's drain phase closes the WebSockets with 1001,
 * ends the event streams (graphql-sse clients reconnect), and stops every poller.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { OperationTypeNode } from 'graphql';
import { gatewayError, ErrorCode } from '../errors.js';
import { attachWebSocketTransport, type TransportOptions } from './ws.js';
import { createEventStreamHandler } from './sse.js';
import { createMultipartHandler, wantsMultipartSubscription } from './multipart.js';
import { CallerConnections, createOperationChecker } from './guard.js';
import { withPersistedQueries } from './persisted.js';
import type { KeyValueCache } from '@apollo/utils.keyvaluecache';
import type { QueryLimits } from '../graphql/limits.js';
import type { Env } from '../config.js';
import type { TrustedDocuments } from '../graphql/trusted-documents.js';

export interface SubscriptionTransports {
  /** For the HTTP front: requests with `Accept: text/event-stream` on the GraphQL path. */
  eventStream(req: Parameters<ReturnType<typeof createEventStreamHandler>>[0], res: ServerResponse): Promise<void>;
  /** For the HTTP front: requests whose Accept asks for Apollo's multipart subscriptions. */
  multipart: { wants(accept: string | undefined): boolean; handle(req: IncomingMessage, res: ServerResponse): Promise<void> };
  /** Refuses subscriptions over plain HTTP; closes both transports when Apollo drains. */
  plugin<T extends BaseContext>(): ApolloServerPlugin<T>;
  close(): Promise<void>;
}

/** The query limits plus the subscription transports' own (SUBSCRIPTION_*, MAX_BODY_BYTES). */
function subscriptionLimitsOf(env: Env, limits: QueryLimits): TransportOptions['limits'] {
  return {
    ...limits,
    maxDocumentBytes: env.MAX_DOCUMENT_BYTES,
    perConnection: env.SUBSCRIPTIONS_PER_CONNECTION,
    maxConnections: env.SUBSCRIPTION_MAX_CONNECTIONS,
    maxPayloadBytes: env.MAX_BODY_BYTES,
  };
}

export function createSubscriptionTransports(
  httpServer: Server,
  env: Env,
  settings: Omit<TransportOptions, 'connections' | 'perCaller' | 'check' | 'limits' | 'path' | 'allowedOrigins'> & {
    queryLimits: QueryLimits;
    /** The origins CORS allows: subscriptions accept them too unless SUBSCRIPTION_ALLOWED_ORIGINS says otherwise. */
    corsOrigins: TransportOptions['allowedOrigins'];
    trustedDocuments?: TrustedDocuments | undefined;
    /** Automatic persisted queries' store (the queries' own); undefined where only trusted documents run. */
    persistedQueries?: KeyValueCache<string> | undefined;
  },
): SubscriptionTransports {
  const { queryLimits, corsOrigins, persistedQueries, ...rest } = settings;
  const options = {
    ...rest,
    limits: subscriptionLimitsOf(env, queryLimits),
    // CORS_ORIGINS=* opens reads to any site, not subscriptions (issue 22, item 7): a WebSocket is
    // not bound by CORS, and carries credentials from the upgrade request. Only an explicit
    // SUBSCRIPTION_ALLOWED_ORIGINS=* opens them to any site.
    allowedOrigins: env.SUBSCRIPTION_ALLOWED_ORIGINS ?? corsOrigins.filter((origin) => origin !== '*'),
    path: '/graphql',
  };
  const connections = { count: 0 };
  const perCaller = new CallerConnections(env.SUBSCRIPTION_CONNECTIONS_PER_CALLER);
  const check = withPersistedQueries(
    createOperationChecker(options.schema, options.limits, options.trustedDocuments),
    persistedQueries && {
      store: persistedQueries,
      verified: (headers) => options.auth.verified(headers),
      inManifest: (id) => options.trustedDocuments?.has(id) ?? false,
    },
  );
  /** Open HTTP streams, each with how it ends at shutdown. */
  const streams = new Map<ServerResponse, () => void>();
  // The masking of queries, minus `extensions.http`: Apollo drops it from HTTP answers, and it means nothing on a socket.
  const formatError: TransportOptions['formatError'] = (formatted, error) => {
    const masked = options.formatError(formatted, error);
    if (!masked.extensions || !('http' in masked.extensions)) return masked;
    const { http: _http, ...extensions } = masked.extensions;
    return { ...masked, extensions };
  };
  const ws = attachWebSocketTransport(httpServer, { ...options, check, formatError, connections, perCaller });
  const sse = createEventStreamHandler({ ...options, check, formatError, connections, perCaller, streams });
  const multipart = createMultipartHandler({ ...options, check, formatError, connections, perCaller, streams, heartbeatMs: env.SUBSCRIPTION_HEARTBEAT_MS });
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await ws.close();
      // Event streams end (graphql-sse clients reconnect); a multipart stream with a transport error and its closing delimiter.
      for (const end of streams.values()) end();
      options.live.registry.close();
    })());
  return {
    eventStream: sse,
    multipart: { wants: wantsMultipartSubscription, handle: multipart },
    close,
    plugin<T extends BaseContext>(): ApolloServerPlugin<T> {
      return {
        async serverWillStart() {
          return { drainServer: close };
        },
        async requestDidStart() {
          return {
            async didResolveOperation({ operation }) {
              if (operation?.operation === OperationTypeNode.SUBSCRIPTION) {
                throw gatewayError(
                  ErrorCode.BAD_REQUEST,
                  'Subscriptions are served over WebSocket (graphql-ws), Server-Sent Events (graphql-sse, "Accept: text/event-stream") or multipart HTTP (Apollo\'s protocol, "Accept: multipart/mixed;subscriptionSpec=1.0") at this same URL, not over plain HTTP.',
                );
              }
            },
          };
        },
      };
    },
  };
}
