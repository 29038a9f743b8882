/**
 * Subscriptions over multipart HTTP, Apollo's "HTTP Multipart protocol for GraphQL
 * Subscriptions" (Apollo Client's HttpLink, Apollo Kotlin, Apollo iOS): a POST to `/graphql`
 * whose Accept names `multipart/mixed` with `subscriptionSpec=1.0` is answered with
 * `multipart/mixed;boundary="graphql";subscriptionSpec="1.0"`, one JSON part per message:
 * - each event as `{"payload": <GraphQL result>}`;
 * - a heartbeat `{}` every SUBSCRIPTION_HEARTBEAT_MS while nothing else is sent;
 * - an error that ends the stream (the identity refused, a slow consumer, shutdown) as
 *   `{"payload": null, "errors": [...]}`; then the closing delimiter `--graphql--`.
 *
 * Admission is the event stream's (guard.ts `admitHttpStream`: Origin, CSRF, credentials, the
 * connection limit), the body obeys MAX_BODY_BYTES before it is buffered, the document passes
 * the same checks (guard.ts), and refusals before the stream starts are plain JSON answers
 * with their HTTP status, which clients report as a failed request.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { GraphQLError, GraphQLFormattedError } from 'graphql';
import { ErrorCode, gatewayError } from '../errors.js';
import type { RequestContext } from '../graphql/context.js';
import { subscribeShared } from '../graphql/shared-execution.js';
import {
  admitHttpStream,
  callerConnectionsRefusal,
  chargeSubscription,
  endOnSignOut,
  sendRefusal,
  SIGNED_OUT,
  subscriptionHeaders,
  type StreamRefusal,
} from './guard.js';
import type { TransportOptions } from './ws.js';

/** Whether an Accept header asks for Apollo's multipart subscriptions. */
export const wantsMultipartSubscription = (accept: string | undefined): boolean =>
  accept !== undefined && /multipart\/mixed/i.test(accept) && /subscriptionSpec\s*=\s*"?1\.0"?/i.test(accept);

// Each part is followed at once by the delimiter, as Apollo Router writes them: a client knows a
// part is complete only when it sees the next delimiter, so an event is not held until the next heartbeat.
const OPEN = '\r\n--graphql';
const part = (json: string) => `\r\ncontent-type: application/json; charset=utf-8\r\n\r\n${json}\r\n--graphql`;
const END = '--\r\n';

export interface MultipartOptions extends TransportOptions {
  streams: Map<ServerResponse, () => void>;
  heartbeatMs: number;
}

export function createMultipartHandler(options: MultipartOptions) {
  const { metrics, limits, logger } = options;
  const refuse = (res: ServerResponse, errors: readonly GraphQLError[]) => {
    const status = Number((errors[0]?.extensions?.http as { status?: number } | undefined)?.status ?? 400);
    const body = JSON.stringify({ errors: errors.map((e) => options.formatError(e.toJSON(), e)) });
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };

  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const admitted = await admitHttpStream(req, { ...options, onLimit: () => metrics.refused.inc({ limit: 'connections' }) }, ['POST'], 'A subscription');
    if (admitted) return sendRefusal(res, admitted);
    const body = await readBody(req, limits.maxPayloadBytes);
    if ('status' in body) return sendRefusal(res, body);
    // One headers object for the whole request: the Authenticator decides once per object.
    const callerHeaders = subscriptionHeaders(req, undefined);
    const checked = await options.check(body.params, callerHeaders);
    if ('errors' in checked) return refuse(res, checked.errors);

    const requestId = randomUUID();
    const log = logger.child({ requestId, transport: 'multipart' });
    let ended = false;
    // The stream's last words: a transport error part, then the closing delimiter.
    const finish = (errors?: readonly GraphQLFormattedError[]) => {
      if (ended) return;
      ended = true;
      if (!res.headersSent) res.writeHead(200, headers).write(OPEN);
      if (errors && !res.destroyed) res.write(part(JSON.stringify({ payload: null, errors })));
      res.end(END);
    };
    const contextValue: RequestContext = {
      ...options.context(callerHeaders, requestId, log, options.auth.clientAddress(req)),
      live: {
        service: options.live,
        connection: {
          slowConsumer(waiting) {
            log.warn({ waiting }, 'closing a slow subscription consumer');
            finish([
              {
                message: `Slow consumer: more than ${waiting} events were waiting to be sent; resubscribe with "after" (the last event's cursor).`,
                extensions: { code: ErrorCode.LIMIT_EXCEEDED },
              },
            ]);
          },
        },
      },
    };
    // As on the other transports: one more connection of this caller, and the subscription's cost from its budget.
    const release = options.perCaller.take(contextValue.consumer().key);
    if (!release) {
      metrics.refused.inc({ limit: 'connections-per-caller' });
      return refuse(res, [gatewayError(ErrorCode.LIMIT_EXCEEDED, callerConnectionsRefusal(options.perCaller.max))]);
    }
    // Gone while its body was read: its 'close' has fired already.
    if (res.destroyed) return release();
    res.once('close', release);
    const charged = await chargeSubscription(options.budget, contextValue, checked.cost);
    if (charged) return refuse(res, [charged]);
    const result = await subscribeShared({
      schema: options.schema,
      document: checked.document,
      variableValues: checked.variables,
      operationName: checked.operationName,
      contextValue,
    });
    const format = (errors: readonly GraphQLError[]) => errors.map((e) => options.formatError(e.toJSON(), e));
    if (!(Symbol.asyncIterator in result)) {
      // Refused before the first event (a limit, a bad argument): the errors of a GraphQL result.
      const errors = result.errors ?? [];
      return refuse(res, errors.length > 0 ? errors : [gatewayError(ErrorCode.BAD_REQUEST, 'The subscription produced no stream.')]);
    }
    const iterator = result;
    // Gone while it was charged and subscribed: end the subscription now, as its 'close' would have.
    if (res.destroyed) {
      void iterator.return?.();
      return;
    }

    options.connections.count++;
    metrics.connections.inc({ transport: 'multipart' });
    options.streams.set(res, () =>
      finish([
        { message: 'The gateway is shutting down: resubscribe with "after" (the last event\'s cursor).', extensions: { code: ErrorCode.UPSTREAM_UNAVAILABLE } },
      ]),
    );
    res.once(
      'close',
      endOnSignOut(options.auth.signOutCheck(callerHeaders), () => finish([{ message: SIGNED_OUT, extensions: { code: ErrorCode.UNAUTHENTICATED } }])),
    );
    res.writeHead(200, headers);
    // The first heartbeat at once: clients (and proxies) see the stream is open.
    res.write(OPEN + part('{}'));
    const heartbeat = setInterval(() => {
      if (!ended && res.writableLength === 0) res.write(part('{}'));
    }, options.heartbeatMs);
    heartbeat.unref();
    res.once('close', () => {
      ended = true;
      clearInterval(heartbeat);
      options.connections.count--;
      metrics.connections.dec({ transport: 'multipart' });
      options.streams.delete(res);
      void iterator.return?.();
    });
    try {
      for (;;) {
        const step = await iterator.next();
        if (step.done || ended || res.writableEnded) break;
        const event = step.value;
        metrics.eventsSent.inc();
        const payload = event.errors ? { ...event, errors: format(event.errors) } : event;
        // Backpressure: the next event is pulled only once this one left (the queue's bound applies).
        if (!res.write(part(JSON.stringify({ payload })))) await new Promise((resolve) => res.once('drain', resolve).once('close', resolve));
      }
      finish();
    } catch (error) {
      if (res.destroyed || res.writableEnded) return;
      const errors = 'extensions' in (error as object) ? format([error as GraphQLError]) : [{ message: 'The subscription failed.' }];
      finish(errors);
    } finally {
      clearInterval(heartbeat);
    }
  };
}

const headers = { 'content-type': 'multipart/mixed;boundary="graphql";subscriptionSpec="1.0"', 'cache-control': 'no-store', 'x-accel-buffering': 'no' };

/** The JSON request body, at most `maxBytes` (refused by Content-Length before any byte is buffered). */
async function readBody(req: IncomingMessage, maxBytes: number): Promise<{ params: Record<string, unknown> } | StreamRefusal> {
  const tooLarge = (bytes: string): StreamRefusal => ({
    status: 413,
    code: ErrorCode.PAYLOAD_TOO_LARGE,
    message: `The request body ${bytes}; at most ${maxBytes} bytes are accepted (MAX_BODY_BYTES).`,
  });
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.resume();
    return tooLarge(`is ${declared} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      req.resume();
      return tooLarge('exceeds that');
    }
    chunks.push(chunk);
  }
  try {
    const params: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (params && typeof params === 'object' && !Array.isArray(params)) return { params: params as Record<string, unknown> };
  } catch {
    // Reported below.
  }
  return { status: 400, code: ErrorCode.BAD_REQUEST, message: 'The request body must be a JSON object with a "query" field.' };
}
