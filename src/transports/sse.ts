/**
 * GraphQL over Server-Sent Events (`graphql-sse`, its "distinct connections" mode: one stream per
 * subscription) on `/graphql`, for networks and proxies that block WebSockets. The HTTP front
 * hands over requests that ask for `Accept: text/event-stream`.
 *
 * The same rules as for POSTs and WebSockets: the Origin check and Apollo's CSRF rule (a POST
 * must be JSON, a GET must carry a preflight header such as `apollo-require-preflight`), the
 * open-connection limit (503), credentials from the request headers (401), then the document
 * checks. A subscriber whose events pile up past SUBSCRIPTION_BUFFER has its stream closed.
 *
 * The body is read here, within MAX_BODY_BYTES (./body.ts), and handed to graphql-sse parsed:
 * its own Node adapter concatenates a body without bound (issue 22: one 200 MB POST grew the
 * process by 425 MiB). Reading it here also keeps the `documentId` of trusted-document clients,
 * which graphql-sse drops (it keeps only query, variables, operationName and extensions).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { createHandler, print } from 'graphql-sse';
import { GraphQLError } from 'graphql';
import { ErrorCode, httpStatusOf } from '../errors.js';
import type { RequestContext } from '../graphql/context.js';
import { admitHttpStream, callerConnectionsRefusal, chargeSubscription, endOnSignOut, SIGNED_OUT, subscriptionHeaders } from './guard.js';
import type { TransportOptions } from './ws.js';
import { subscribeShared } from '../graphql/shared-execution.js';
import { BodyTooLarge, readBody } from './body.js';
import { requestConsumer } from '../identity/consumer.js';

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

/** Per stream: the cursors of the events graphql-sse is about to write, in order (issue 20: SSE's own resume). */
const eventIds = new WeakMap<ServerResponse, { queue: Array<string | undefined>; current: string | undefined }>();

export function createEventStreamHandler(options: TransportOptions & { streams: Map<ServerResponse, () => void> }) {
  const { metrics, limits, logger } = options;
  // The `documentId` each request named (graphql-sse's parameters have no place for it).
  const documentIds = new WeakMap<IncomingMessage, string>();
  const handler = createHandler<IncomingMessage, { res: ServerResponse }, RequestContext & Record<PropertyKey, unknown>>({
    schema: options.schema,
    subscribe: subscribeShared,
    // Distinct connections only: no reservations, so no stream token to guess or leak.
    authenticate: () => null,
    async onSubscribe(req, params) {
      const documentId = documentIds.get(req.raw);
      const raw = req.raw;
      const callerHeaders = subscriptionHeaders(raw, undefined);
      const checked = await options.check(documentId === undefined ? params : { ...params, documentId }, callerHeaders);
      if ('errors' in checked) return refusal(checked.errors, options.formatError);
      const res = req.context.res;
      const requestId = randomUUID();
      const log = logger.child({ requestId, transport: 'sse' });
      const ids = eventIds.get(res);
      const lastEventId = raw.headers['last-event-id'];
      const contextValue = {
        ...options.context(callerHeaders, requestId, log, options.auth.clientAddress(raw)),
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
      const refused = await chargeSubscription(options.budget, contextValue, checked.cost);
      if (refused) return refusal([refused], options.formatError);
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

  const send = (res: ServerResponse, status: number, code: string, message: string) => {
    const body = JSON.stringify({ errors: [{ message, extensions: { code } }] });
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };

  // graphql-sse's Node adapter (graphql-sse/lib/use/http), with the body already read.
  const respond = async (req: IncomingMessage, res: ServerResponse, given: { url: string; body: Record<string, unknown> | null }): Promise<void> => {
    const [body, init] = await handler({
      method: req.method ?? 'GET',
      url: given.url,
      headers: {
        // graphql-sse recognises the exact media type only.
        get: (key) => (key === 'accept' ? 'text/event-stream' : [req.headers[key]].flat().join('\n') || undefined),
      },
      body: given.body,
      raw: req,
      context: { res },
    });
    res.writeHead(init.status, init.statusText, init.headers);
    if (!body || typeof body === 'string') return new Promise<void>((resolve) => res.end(body ?? undefined, () => resolve()));
    const stop = () => void body.return(undefined);
    res.once('close', stop);
    for await (const value of body) {
      if (!res.writable) break;
      const failed = await new Promise<Error | null | undefined>((resolve) => res.write(value, resolve));
      if (failed) break;
    }
    res.off('close', stop);
    return new Promise<void>((resolve) => res.end(() => resolve()));
  };

  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const refused = await admitHttpStream(
      req,
      { ...options, limits, onLimit: () => metrics.refused.inc({ limit: 'connections' }) },
      ['GET', 'POST'],
      'An event-stream',
    );
    if (refused) return send(res, refused.status, refused.code, refused.message);
    const headers = subscriptionHeaders(req, undefined);
    let given: { url: string; body: Record<string, unknown> | null };
    try {
      given = await requestOf(req, limits.maxPayloadBytes);
    } catch (error) {
      if (error instanceof BodyTooLarge) return send(res, 413, ErrorCode.PAYLOAD_TOO_LARGE, error.message);
      if (error instanceof SyntaxError) return send(res, 400, ErrorCode.BAD_REQUEST, `The request body is not valid JSON: ${error.message}.`);
      throw error;
    }
    // Gone while its body was read: its 'close' has fired, so nothing registered below would ever be released.
    if (res.destroyed) return;
    const documentId = given.body ? given.body.documentId : new URLSearchParams(given.url.split('?')[1] ?? '').get('documentId');
    if (typeof documentId === 'string') documentIds.set(req, documentId);
    const release = options.perCaller.take(requestConsumer(options.auth, headers, options.auth.clientAddress(req)).key);
    if (!release) {
      metrics.refused.inc({ limit: 'connections-per-caller' });
      return send(res, httpStatusOf.LIMIT_EXCEEDED, ErrorCode.LIMIT_EXCEEDED, callerConnectionsRefusal(options.perCaller.max));
    }
    res.once('close', release);
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
    // Signed out elsewhere: a last event says so, the stream ends, and a reconnect is refused (401).
    res.once(
      'close',
      endOnSignOut(options.auth.signOutCheck(headers), () => {
        const errors = [new GraphQLError(SIGNED_OUT, { extensions: { code: ErrorCode.UNAUTHENTICATED } })];
        if (res.writable) res.end(print({ event: 'next', data: { errors } }) + print({ event: 'complete', data: null }));
      }),
    );
    res.once('close', () => {
      options.connections.count--;
      metrics.connections.dec({ transport: 'sse' });
      options.streams.delete(res);
    });
    try {
      await respond(req, res, given);
    } catch (error) {
      // A client that went away mid-write is the normal end of a stream, not a fault.
      if (res.destroyed || res.writableEnded) return;
      throw error;
    }
  };
}

/**
 * The request's URL and parsed body (POST) as graphql-sse takes them. A `documentId` without a
 * `query` gets `query: ""`: graphql-sse refuses a request without one, and the operation checker
 * (./guard.ts) puts the trusted document's text in its place.
 */
async function requestOf(req: IncomingMessage, maxBytes: number): Promise<{ url: string; body: Record<string, unknown> | null }> {
  const url = req.url ?? '/graphql';
  if (req.method !== 'POST') {
    const search = new URLSearchParams(url.split('?')[1] ?? '');
    const named = search.get('documentId') !== null || persistedIn(search.get('extensions'));
    if (!named || search.get('query') !== null) return { url, body: null };
    search.set('query', '');
    return { url: `${url.split('?')[0]}?${search.toString()}`, body: null };
  }
  const text = (await readBody(req, maxBytes)).toString('utf8');
  const parsed: unknown = JSON.parse(text);
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new SyntaxError('expected a JSON object');
  const body = parsed as Record<string, unknown>;
  if ((typeof body.documentId === 'string' || persistedIn(body.extensions)) && body.query === undefined) body.query = '';
  return { url, body };
}

/** Whether request extensions (an object, or a GET's JSON text) name an automatic persisted query: the hash stands for the query. */
function persistedIn(extensions: unknown): boolean {
  let value = extensions;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value) as unknown;
    } catch {
      return false;
    }
  }
  return typeof value === 'object' && value !== null && 'persistedQuery' in value;
}
