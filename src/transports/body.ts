/**
 * Request bodies read within MAX_BODY_BYTES, for every transport that reads one (GraphQL POSTs
 * in src/http/handler.ts, event-stream POSTs in ./sse.ts; graphql-ws frames are bounded by the
 * WebSocket server's maxPayload). A body is refused by its Content-Length before a byte is
 * buffered, and while streaming as soon as the bytes received pass the limit; the rest is
 * discarded unread (HTTP_REQUEST_TIMEOUT_MS ends a client that keeps sending).
 */
import type { IncomingMessage } from 'node:http';

export class BodyTooLarge extends Error {}

export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.resume();
    return Promise.reject(new BodyTooLarge(`The request body is ${declared} bytes; at most ${maxBytes} are accepted.`));
  }
  // Plain 'data'/'end' events: an async iterator over the request costs a promise per chunk.
  return new Promise<Buffer>((resolve, reject) => {
    const received: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.off('data', onData);
        received.length = 0;
        req.resume();
        reject(new BodyTooLarge(`The request body exceeds ${maxBytes} bytes.`));
        return;
      }
      received.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(received)));
    req.once('error', reject);
  });
}
