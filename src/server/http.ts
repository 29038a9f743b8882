/**
 * The HTTP front of the gateway (node:http, no framework): `/graphql` for GraphQL over
 * HTTP, `/healthz` for liveness. Requests are read with a byte limit, malformed JSON and
 * oversized or over-batched bodies are answered here with GraphQL-shaped errors, and the
 * rest is handed to Apollo Server's `executeHTTPGraphQLRequest`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ErrorCode, httpStatusOf } from '../errors.js';
import { IdenticalRequests, requestKey, type BufferedResponse, type OperationTypeHolder } from './identical-requests.js';

export interface HttpLimits {
  /** Largest GraphQL document (the `query` text) accepted, in bytes. */
  maxDocumentBytes: number;
  /** Largest request body accepted, in bytes. */
  maxBodyBytes: number;
  /** Most operations in one batched (array) request. */
  maxBatch: number;
}

export interface HttpHandlerOptions<TContext extends BaseContext & OperationTypeHolder> {
  apollo: ApolloServer<TContext>;
  /** Builds the context, or throws a deliberate GraphQL error (e.g. UNAUTHENTICATED). */
  context: (req: IncomingMessage, requestId: string, logger: Logger) => Promise<TContext>;
  logger: Logger;
  limits: HttpLimits;
  /** Served at GET /metrics in Prometheus' text format. */
  metrics?: Registry;
  /** The caller's identity key, for sharing identical requests in flight; undefined: never shared. */
  identityOf?: (req: IncomingMessage) => string | undefined;
  /** Called when a request reused the response of an identical one in flight. */
  onJoin?: () => void;
  path?: string;
  /** GraphQL over SSE (src/server/sse-transport.ts): requests to the GraphQL path that accept `text/event-stream`. */
  eventStream?: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
}

class HttpProblem extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,100}$/;

export function createHttpHandler<TContext extends BaseContext & OperationTypeHolder>(options: HttpHandlerOptions<TContext>) {
  const { apollo, logger, limits } = options;
  const graphqlPath = options.path ?? '/graphql';
  const identical = new IdenticalRequests(options.onJoin);

  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = process.hrtime.bigint();
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    const log = logger.child({ requestId });
    res.setHeader('x-request-id', requestId);
    res.on('finish', () => {
      log.info({ method: req.method, path: req.url?.split('?')[0], status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request');
    });

    const url = new URL(req.url ?? '/', 'http://gateway.invalid');
    try {
      if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
      if (url.pathname === '/metrics' && options.metrics) {
        const text = await options.metrics.metrics();
        res.writeHead(200, { 'content-type': options.metrics.contentType });
        res.end(text);
        return;
      }
      if (url.pathname !== graphqlPath) return sendJson(res, 404, { errors: [{ message: `Not found: GraphQL is served at ${graphqlPath}.`, extensions: { code: ErrorCode.NOT_FOUND } }] });
      if (options.eventStream && /\btext\/event-stream\b/i.test(String(req.headers.accept ?? ''))) return await options.eventStream(req, res);

      const { text, body } = req.method === 'POST' ? await readJsonBody(req, limits) : { text: undefined, body: undefined };
      if (Array.isArray(body) && body.length > limits.maxBatch) {
        throw new HttpProblem(ErrorCode.BAD_REQUEST, `A batched request may hold at most ${limits.maxBatch} operations, got ${body.length}.`);
      }
      for (const operation of Array.isArray(body) ? body : [body ?? Object.fromEntries(url.searchParams)]) {
        const query = (operation as { query?: unknown } | null)?.query;
        if (typeof query === 'string' && Buffer.byteLength(query) > limits.maxDocumentBytes) {
          throw new HttpProblem(ErrorCode.PAYLOAD_TOO_LARGE, `The GraphQL document is ${Buffer.byteLength(query)} bytes; at most ${limits.maxDocumentBytes} are accepted.`);
        }
      }
      const headers = new HeaderMap();
      for (const [key, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
      }
      const key = requestKey(options.identityOf?.(req), req, url.search, text);
      const response = await identical.run(key, async () => {
        let context: TContext | undefined;
        const result = await apollo.executeHTTPGraphQLRequest({
          httpGraphQLRequest: { method: (req.method ?? 'GET').toUpperCase(), headers, search: url.search, body },
          context: async () => (context = await options.context(req, requestId, log)),
        });
        let responseBody = '';
        if (result.body.kind === 'complete') responseBody = result.body.string;
        else for await (const chunk of result.body.asyncIterator) responseBody += chunk;
        const buffered: BufferedResponse = { status: result.status ?? 200, headers: [...result.headers], body: responseBody };
        return { response: buffered, shareable: context?.operation.type === 'query' };
      });
      for (const [name, value] of response.headers) res.setHeader(name, value);
      res.statusCode = response.status;
      res.end(response.body);
    } catch (error) {
      if (error instanceof HttpProblem) {
        return sendJson(res, httpStatusOf[error.code], { errors: [{ message: error.message, extensions: { code: error.code } }] });
      }
      log.error({ err: error }, 'unexpected error in the HTTP handler');
      if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'Internal server error', extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } }] });
      else res.destroy();
    }
  };
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJsonBody(req: IncomingMessage, limits: HttpLimits): Promise<{ text: string; body: unknown }> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limits.maxBodyBytes) {
    req.resume();
    throw new HttpProblem(ErrorCode.PAYLOAD_TOO_LARGE, `The request body is ${declared} bytes; at most ${limits.maxBodyBytes} are accepted.`);
  }
  // Plain 'data'/'end' events: an async iterator over the request costs a promise per chunk.
  const chunks = await new Promise<Buffer[]>((resolve, reject) => {
    const received: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limits.maxBodyBytes) {
        req.removeAllListeners('data');
        req.resume();
        reject(new HttpProblem(ErrorCode.PAYLOAD_TOO_LARGE, `The request body exceeds ${limits.maxBodyBytes} bytes.`));
        return;
      }
      received.push(chunk);
    });
    req.on('end', () => resolve(received));
    req.on('error', reject);
  });
  const text = Buffer.concat(chunks).toString('utf8');
  const type = String(req.headers['content-type'] ?? '');
  if (!/^application\/(graphql-response\+)?json\b/i.test(type)) {
    // Left to Apollo, which answers 400 for a missing or wrong content type (and its CSRF rules).
    return { text, body: text.length > 0 ? text : undefined };
  }
  if (text.trim().length === 0) throw new HttpProblem(ErrorCode.BAD_REQUEST, 'The request body is empty: expected a JSON object with a "query" field.');
  try {
    return { text, body: JSON.parse(text) };
  } catch (error) {
    throw new HttpProblem(ErrorCode.BAD_REQUEST, `The request body is not valid JSON: ${(error as Error).message}.`);
  }
}
