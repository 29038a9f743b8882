/**
 * The HTTP server's timeouts (src/gateway.ts): a client that sends its headers or its body
 * slowly (slowloris) is cut off with 408, an idle keep-alive connection is closed, and other
 * clients are served all the while. No assertion is on timing: each test waits for the cut.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ env: { HTTP_HEADERS_TIMEOUT_MS: '1000', HTTP_REQUEST_TIMEOUT_MS: '2000', HTTP_KEEP_ALIVE_TIMEOUT_MS: '1000' } });
});
afterAll(async () => h?.close());

/** Opens a raw connection that writes `first`, then `drip` every 100 ms until the server closes it. */
function slowSender(first: string, drip: string): { socket: Socket; closed: Promise<string> } {
  const socket = connect(h.gateway.port, '127.0.0.1');
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (received += chunk));
  socket.on('error', () => {});
  socket.write(first);
  const timer = setInterval(() => {
    if (!socket.destroyed) socket.write(drip);
  }, 100);
  const closed = new Promise<string>((resolve) =>
    socket.on('close', () => {
      clearInterval(timer);
      resolve(received);
    }),
  );
  return { socket, closed };
}

const QUERY = '{ jobSessions(first: 2) { edges { node { id } } } }';

describe('slow clients', () => {
  it('serves other clients while twenty send their headers slowly, and cuts those off with 408', async () => {
    const slow = Array.from({ length: 20 }, () => slowSender('POST /graphql HTTP/1.1\r\nHost: localhost\r\n', 'X-Slow: y\r\n'));
    await Promise.all(slow.map((s) => new Promise((resolve) => s.socket.once('connect', resolve))));
    const served = await Promise.all(Array.from({ length: 5 }, () => h.gql(QUERY)));
    expect(served.map((r) => [r.status, r.body.data?.jobSessions.edges.length])).toEqual(Array(5).fill([200, 2]));
    const answers = await Promise.all(slow.map((s) => s.closed));
    for (const answer of answers) expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('cuts off a client that sends its body slowly with 408', async () => {
    const slow = slowSender('POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"query":"', ' ');
    const served = await h.gql(QUERY);
    expect(served.status).toBe(200);
    expect(await slow.closed).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('closes an idle keep-alive connection after a complete exchange', async () => {
    const socket = connect(h.gateway.port, '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    const body = JSON.stringify({ query: QUERY });
    socket.write(
      `POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: keep-alive\r\n\r\n${body}`,
    );
    await new Promise<void>((resolve) => socket.on('close', () => resolve()));
    expect(received).toMatch(/^HTTP\/1\.1 200 /);
    expect(received).toMatch(/keep-alive/i);
  });
});

describe('HTTP timeout configuration', () => {
  it('refuses a headers timeout longer than the request timeout, naming the variable', async () => {
    const { loadConfig, ConfigError } = await import('../../src/config.js');
    expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '40000', HTTP_REQUEST_TIMEOUT_MS: '30000' })).toThrow(ConfigError);
    expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '40000', HTTP_REQUEST_TIMEOUT_MS: '30000' })).toThrow(
      /^Invalid HTTP_HEADERS_TIMEOUT_MS \(40000\): must not exceed HTTP_REQUEST_TIMEOUT_MS \(30000\)$/,
    );
    expect(loadConfig({}).env).toMatchObject({ HTTP_HEADERS_TIMEOUT_MS: 10_000, HTTP_REQUEST_TIMEOUT_MS: 30_000, HTTP_KEEP_ALIVE_TIMEOUT_MS: 65_000 });
  });
});
