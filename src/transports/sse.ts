/**
 * GraphQL over Server-Sent Events (`graphql-sse`, its "distinct connections" mode: one stream per
 * subscription) on `/graphql`, for networks and proxies that block WebSockets. The HTTP front
 * hands over requests that ask for `Accept: text/event-stream`.
 *
 * The same rules as for POSTs and WebSockets: the Origin check and Apollo's CSRF rule (a POST
 * must be JSON, a GET must carry a preflight header such as `apollo-require-preflight`), the
 * open-connection limit (503), credentials from the request headers (401), then the document
 * checks. A subscriber whose events pile up past SUBSCRIPTION_BUFFER has its stream closed.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { createHandler } from 'graphql-sse/lib/use/http';
import type { GraphQLError } from 'graphql';
import { ErrorCode, gatewayError, httpStatusOf } from '../errors.js';
import type { RequestContext } from '../graphql/context.js';
import { callerConnectionsRefusal, chargeSubscription, originAllowed, originRefusal, subscriptionHeaders } from './guard.js';
import type { TransportOptions } from './ws.js';
import { subscribeShared } from '../graphql/shared-execution.js';
import { requestConsumer } from '../identity/consumer.js';

const PREFLIGHT_HEADERS = ['apollo-require-preflight', 'x-apollo-operation-name', 'graphql-preflight'];

type Refusal = readonly [string, { status: number; statusText: string; headers: Record<string, string> }];

const refusal = (errors: readonly GraphQLError[], format: TransportOptions['formatError']): Refusal => {
  const status = Number((errors[0]?.extensions?.http as { status?: number } | undefined)?.status ?? 400);
  const retryAfter = errors[0]?.extensions?.retryAfter;
  return [
    JSON.stringify({ errors: errors.map((e) => format(e.toJSON(), e)) }),
    {
      status,
      statusText: 'Refused',
      headers: {
        'content-type': 'application/json; charset=utf-8',
        ...(typeof retryAfter === 'number' && retryAfter > 0 ? { 'retry-after': String(retryAfter) } : {}),
      },
    },
  ];
};

export function createEventStreamHandler(options: TransportOptions & { streams: Set<ServerResponse> }) {
  const { metrics, limits, logger } = options;
  const handler = createHandler<RequestContext & Record<PropertyKey, unknown>>({
    schema: options.schema,
    subscribe: subscribeShared,
    // Distinct connections only: no reservations, so no stream token to guess or leak.
    authenticate: () => null,
    async onSubscribe(req, params) {
      const checked = options.check(params);
      if ('errors' in checked) return refusal(checked.errors, options.formatError);
      const raw = req.raw;
      const res = req.context.res;
      const requestId = randomUUID();
      const log = logger.child({ requestId, transport: 'sse' });
      const contextValue = {
        ...options.context(subscriptionHeaders(raw, undefined), requestId, log, raw.socket.remoteAddress),
        live: {
          service: options.live,
          connection: {
            slowConsumer(waiting: number) {
              log.warn({ waiting }, 'closing a slow subscription consumer');
              res.destroy();
            },
          },
        },
      } as RequestContext & Record<PropertyKey, unknown>;
      const refused = await chargeSubscription(options.budget, contextValue, checked.cost);
      if (refused) return refusal([refused], options.formatError);
      return { schema: options.schema, document: checked.document, variableValues: checked.variables, operationName: checked.operationName, contextValue };
    },
    onNext(_ctx, _req, result) {
      metrics.eventsSent.inc();
      if (!result.errors) return undefined;
      return { ...result, errors: result.errors.map((e) => options.formatError(e.toJSON(), e)) } as never;
    },
  });

  const send = (res: ServerResponse, status: number, code: string, message: string) => {
    const body = JSON.stringify({ errors: [{ message, extensions: { code } }] });
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };

  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!originAllowed(req, options.allowedOrigins)) return send(res, 403, ErrorCode.FORBIDDEN, originRefusal(req));
    const method = req.method ?? 'GET';
    if (method === 'POST' && !/^application\/json\b/i.test(String(req.headers['content-type'] ?? ''))) {
      return send(res, 400, ErrorCode.BAD_REQUEST, 'An event-stream POST must have "Content-Type: application/json" (CSRF prevention).');
    }
    if (method === 'GET' && !PREFLIGHT_HEADERS.some((name) => req.headers[name] !== undefined)) {
      return send(
        res,
        400,
        ErrorCode.BAD_REQUEST,
        `An event-stream GET must carry one of the headers ${PREFLIGHT_HEADERS.join(', ')} (CSRF prevention), or use POST.`,
      );
    }
    if (method !== 'GET' && method !== 'POST') return send(res, 405, ErrorCode.BAD_REQUEST, 'Event streams are opened with GET or POST.');
    const headers = subscriptionHeaders(req, undefined);
    const outcome = options.auth.authenticate(headers);
    if ('error' in outcome) return send(res, httpStatusOf.UNAUTHENTICATED, ErrorCode.UNAUTHENTICATED, outcome.error.message);
    if (options.connections.count >= limits.maxConnections) {
      metrics.refused.inc({ limit: 'connections' });
      const error = gatewayError(
        ErrorCode.LIMIT_EXCEEDED,
        `The gateway holds ${options.connections.count} subscription connections, the most allowed (SUBSCRIPTION_MAX_CONNECTIONS): try again later.`,
      );
      return send(res, 503, ErrorCode.LIMIT_EXCEEDED, error.message);
    }
    const release = options.perCaller.take(requestConsumer(options.auth, headers, req.socket.remoteAddress).key);
    if (!release) {
      metrics.refused.inc({ limit: 'connections-per-caller' });
      return send(res, httpStatusOf.LIMIT_EXCEEDED, ErrorCode.LIMIT_EXCEEDED, callerConnectionsRefusal(options.perCaller.max));
    }
    res.once('close', release);
    // graphql-sse recognises the exact media type only.
    req.headers.accept = 'text/event-stream';
    options.connections.count++;
    metrics.connections.inc({ transport: 'sse' });
    options.streams.add(res);
    res.once('close', () => {
      options.connections.count--;
      metrics.connections.dec({ transport: 'sse' });
      options.streams.delete(res);
    });
    try {
      await handler(req, res);
    } catch (error) {
      // A client that went away mid-write is the normal end of a stream, not a fault.
      if (res.destroyed || res.writableEnded) return;
      throw error;
    }
  };
}
