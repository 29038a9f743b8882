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
import type { RequestContext } from '../graphql/context.js';
import { admitHttpStream, sendRefusal, subscriptionHeaders } from './guard.js';
import type { TransportOptions } from './ws.js';
import { subscribeShared } from '../graphql/shared-execution.js';
import { ErrorCode } from '../errors.js';

type Refusal = readonly [string, { status: number; statusText: string; headers: Record<string, string> }];

const refusal = (errors: readonly GraphQLError[], format: TransportOptions['formatError']): Refusal => {
  const status = Number((errors[0]?.extensions?.http as { status?: number } | undefined)?.status ?? 400);
  return [
    JSON.stringify({ errors: errors.map((e) => format(e.toJSON(), e)) }),
    { status, statusText: 'Refused', headers: { 'content-type': 'application/json; charset=utf-8' } },
  ];
};

/** Per stream: the cursors of the events graphql-sse is about to write, in order. */
const eventIds = new WeakMap<ServerResponse, { queue: Array<string | undefined>; current: string | undefined }>();

export function createEventStreamHandler(options: TransportOptions & { streams: Map<ServerResponse, () => void> }) {
  const { metrics, logger } = options;
  const handler = createHandler<RequestContext & Record<PropertyKey, unknown>>({
    schema: options.schema,
    subscribe: subscribeShared,
    // Distinct connections only: no reservations, so no stream token to guess or leak.
    authenticate: () => null,
    onSubscribe(req, params) {
      const checked = options.check(params);
      if ('errors' in checked) return refusal(checked.errors, options.formatError);
      const raw = req.raw;
      const res = req.context.res;
      const requestId = randomUUID();
      const log = logger.child({ requestId, transport: 'sse' });
      const ids = eventIds.get(res);
      const lastEventId = raw.headers['last-event-id'];
      const contextValue = {
        ...options.context(subscriptionHeaders(raw, undefined), requestId, log),
        live: {
          service: options.live,
          // SSE's own resume: a reconnecting EventSource sends the last `id:` it saw.
          ...(typeof lastEventId === 'string' && lastEventId.length > 0 ? { resumeAfter: lastEventId } : {}),
          connection: {
            slowConsumer(waiting: number) {
              log.warn({ waiting }, 'closing a slow subscription consumer');
              res.destroy();
            },
            sent(cursor: string) {
              if (ids) ids.current = cursor;
            },
          },
        },
      } as RequestContext & Record<PropertyKey, unknown>;
      return { schema: options.schema, document: checked.document, variableValues: checked.variables, operationName: checked.operationName, contextValue };
    },
    onNext(_ctx, req, result) {
      metrics.eventsSent.inc();
      // The event's cursor goes out as the SSE `id:` of the message graphql-sse writes next.
      const ids = eventIds.get(req.context.res);
      if (ids) ids.queue.push(ids.current);
      if (!result.errors) return undefined;
      return { ...result, errors: result.errors.map((e) => options.formatError(e.toJSON(), e)) } as never;
    },
  });

  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const admitted = admitHttpStream(req, { ...options, onLimit: () => metrics.refused.inc({ limit: 'connections' }) }, ['GET', 'POST']);
    if (admitted) return sendRefusal(res, admitted);
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > options.limits.maxPayloadBytes) {
      req.resume();
      return sendRefusal(res, {
        status: 413,
        code: ErrorCode.PAYLOAD_TOO_LARGE,
        message: `The request body is ${declared} bytes; at most ${options.limits.maxPayloadBytes} are accepted (MAX_BODY_BYTES).`,
      });
    }
    // graphql-sse buffers the body whole: only a declared length, within the limit, is read.
    if (req.method === 'POST' && !Number.isFinite(declared)) {
      req.resume();
      return sendRefusal(res, { status: 411, code: ErrorCode.BAD_REQUEST, message: 'An event-stream POST must declare its Content-Length.' });
    }
    // graphql-sse recognises the exact media type only.
    req.headers.accept = 'text/event-stream';
    const ids = { queue: [] as Array<string | undefined>, current: undefined as string | undefined };
    eventIds.set(res, ids);
    const write = res.write.bind(res) as (chunk: unknown, callback?: (error?: Error | null) => void) => boolean;
    res.write = ((chunk: unknown, callback?: (error?: Error | null) => void) => {
      if (typeof chunk === 'string' && chunk.startsWith('event: next')) {
        const id = ids.queue.shift();
        if (id) return write(`id: ${id}\n${chunk}`, callback);
      }
      return write(chunk, callback);
    }) as typeof res.write;
    options.connections.count++;
    metrics.connections.inc({ transport: 'sse' });
    options.streams.set(res, () => res.end());
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
