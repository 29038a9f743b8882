/**
 * GraphQL over WebSocket (the `graphql-ws` protocol, `graphql-transport-ws` subprotocol) on the
 * HTTP server's `/graphql` path, with the `ws` server, as Apollo Server documents it.
 *
 * Before the handshake (HTTP `upgrade`): the path, the Origin and the open-connection limit;
 * refusals are plain HTTP answers (403, 404, 503). At `connection_init`: credentials, with the
 * graphql-ws close codes: 4401 when none were sent, 4403 when they are wrong or expired. Per
 * subscription: the per-connection limit and the document checks (src/transports/guard.ts).
 * A subscriber whose events pile up past SUBSCRIPTION_BUFFER closes its connection with 1008
 * and a reason; shutdown closes every socket with 1001 (graphql-ws's `dispose`).
 */
import type { IncomingHttpHeaders, IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { type GraphQLError, type ExecutionArgs, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import type { ContextFactory, RequestContext } from '../graphql/context.js';
import type { CostBudget } from '../graphql/budget.js';
import { requestConsumer } from '../identity/consumer.js';
import type { Authenticator } from '../identity/auth.js';
import type { LiveService } from '../live/service.js';
import type { LiveMetrics } from '../live/metrics.js';
import { ErrorCode, gatewayError } from '../errors.js';
import { subscribeShared } from '../graphql/shared-execution.js';
import {
  type CallerConnections,
  chargeSubscription,
  closeReason,
  endOnSignOut,
  originAllowed,
  originRefusal,
  SIGNED_OUT,
  subscriptionHeaders,
  type SubscriptionLimits,
} from './guard.js';
import type { OperationCheck } from './persisted.js';

export interface TransportOptions {
  schema: GraphQLSchema;
  auth: Authenticator;
  live: LiveService;
  metrics: LiveMetrics;
  logger: Logger;
  limits: SubscriptionLimits & { perConnection: number; maxConnections: number; maxPayloadBytes: number };
  allowedOrigins: ReadonlyArray<string | RegExp>;
  /** The per-operation context, as for queries. */
  context: ContextFactory;
  /** The consumers' cost budgets: a subscription pays its cost when it subscribes. Undefined: off (QUOTA_POINTS=0). */
  budget: CostBudget | undefined;
  /** The error masking of queries (src/graphql/error-masking.ts). */
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  /** The document checks (one cache for every transport), persisted queries resolved first. */
  check: OperationCheck;
  /** Open connections over both transports. */
  connections: { count: number };
  /** Open connections per caller over both transports. */
  perCaller: CallerConnections;
  path: string;
}

type ConnectionExtra = {
  headers?: IncomingHttpHeaders;
  connectionId?: string;
};

export function attachWebSocketTransport(httpServer: Server, options: TransportOptions): { close(): Promise<void> } {
  const { logger, metrics, limits } = options;
  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxPayloadBytes });

  const refuse = (socket: Duplex, status: number, text: string, message: string) => {
    const body = JSON.stringify({ errors: [{ message }] });
    socket.end(
      `HTTP/1.1 ${status} ${text}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  };

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(request.url ?? '/', 'http://gateway.invalid').pathname;
    if (path !== options.path) return refuse(socket, 404, 'Not Found', `Not found: GraphQL is served at ${options.path}.`);
    if (!originAllowed(request, options.allowedOrigins)) return refuse(socket, 403, 'Forbidden', originRefusal(request));
    if (options.connections.count >= limits.maxConnections) {
      metrics.refused.inc({ limit: 'connections' });
      return refuse(
        socket,
        503,
        'Service Unavailable',
        `The gateway holds ${options.connections.count} subscription connections, the most allowed (SUBSCRIPTION_MAX_CONNECTIONS): try again later.`,
      );
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  };
  httpServer.on('upgrade', onUpgrade);

  wss.on('connection', (socket: WebSocket) => {
    const opened = Date.now();
    options.connections.count++;
    metrics.connections.inc({ transport: 'ws' });
    socket.once('close', (code) => {
      options.connections.count--;
      metrics.connections.dec({ transport: 'ws' });
      logger.info({ transport: 'ws', code, ms: Date.now() - opened }, 'subscription connection closed');
    });
  });

  const format = (errors: readonly GraphQLError[]) => errors.map((error) => options.formatError(error.toJSON(), error));

  const server = useServer<Record<string, unknown> | undefined, ConnectionExtra>(
    {
      schema: options.schema,
      subscribe: subscribeShared,
      async onConnect(ctx) {
        const headers = subscriptionHeaders(ctx.extra.request, ctx.connectionParams);
        const outcome = await options.auth.prepare(headers);
        const socket = ctx.extra.socket;
        if ('error' in outcome) {
          const none = !headers.authorization && !headers['x-endeavour-sessionid'];
          socket.close(none ? 4401 : 4403, closeReason(`${none ? 'Unauthorized' : 'Forbidden'}: ${outcome.error.message}`));
          return false;
        }
        try {
          // Credentials the gateway logs in with (service account, Basic) are checked now, not at the first poll.
          await outcome.identity.sessionId();
        } catch (error) {
          const code = (error as GraphQLError).extensions?.code;
          if (code === ErrorCode.UNAUTHENTICATED || code === ErrorCode.FORBIDDEN) {
            socket.close(4403, closeReason(`Forbidden: ${(error as GraphQLError).message}`));
            return false;
          }
          // SPP unreachable: the connection stays; subscriptions report the upstream error.
        }
        // Gone while SPP was asked: its 'close' has fired, so nothing registered below would ever be released.
        if (socket.readyState !== socket.OPEN) return false;
        const release = options.perCaller.take(requestConsumer(options.auth, headers, options.auth.clientAddress(ctx.extra.request)).key);
        if (!release) {
          metrics.refused.inc({ limit: 'connections-per-caller' });
          socket.close(1008, `Too many connections: this caller holds ${options.perCaller.max} (SUBSCRIPTION_CONNECTIONS_PER_CALLER)`);
          return false;
        }
        socket.once('close', release);
        socket.once(
          'close',
          endOnSignOut(options.auth.signOutCheck(headers), () => socket.close(4403, closeReason(`Forbidden: ${SIGNED_OUT}`))),
        );
        ctx.extra.headers = headers;
        ctx.extra.connectionId = randomUUID();
        return true;
      },
      async onSubscribe(ctx, _id, payload): Promise<ExecutionArgs | readonly GraphQLError[]> {
        const active = Object.keys(ctx.subscriptions).length;
        if (active > limits.perConnection) {
          metrics.refused.inc({ limit: 'per-connection' });
          return [
            gatewayError(
              ErrorCode.LIMIT_EXCEEDED,
              `This connection already holds ${active - 1} subscriptions, the most allowed (SUBSCRIPTIONS_PER_CONNECTION): end one, or open another connection.`,
            ),
          ];
        }
        const checked = await options.check(payload, ctx.extra.headers!);
        if ('errors' in checked) return checked.errors;
        const socket = ctx.extra.socket;
        const log = logger.child({ connectionId: ctx.extra.connectionId, transport: 'ws' });
        const contextValue: RequestContext = {
          ...options.context(ctx.extra.headers!, ctx.extra.connectionId!, log, options.auth.clientAddress(ctx.extra.request)),
          live: {
            service: options.live,
            connection: {
              slowConsumer(waiting) {
                log.warn({ waiting }, 'closing a slow subscription consumer');
                socket.close(
                  1008,
                  closeReason(`Slow consumer: more than ${waiting} events were waiting to be sent; reconnect and resubscribe with "after" (the last cursor).`),
                );
              },
            },
          },
        };
        const refused = await chargeSubscription(options.budget, contextValue, checked.cost);
        if (refused) return [refused];
        return { schema: options.schema, document: checked.document, variableValues: checked.variables, operationName: checked.operationName, contextValue };
      },
      onNext(_ctx, _id, _payload, _args, result) {
        metrics.eventsSent.inc();
        return result.errors ? { ...result, errors: format(result.errors) } : undefined;
      },
      onError(_ctx, _id, _payload, errors) {
        return format(errors);
      },
    },
    wss,
  );

  return {
    async close() {
      httpServer.off('upgrade', onUpgrade);
      // graphql-ws's dispose closes every socket with 1001 (Going Away) and the ws server.
      await server.dispose();
    },
  };
}
