/**
 * Issue 22: every body the gateway reads obeys MAX_BODY_BYTES before it is buffered, on every
 * transport. Black-box, against a real gateway process (its RSS read from /proc): an event-stream
 * POST used to reach graphql-sse's adapter, which concatenated the body without bound (one 200 MB
 * POST took the process from 169 to 594 MiB). Pass-through mode: a made-up session id passes
 * authentication without SPP being asked, so no credential is needed to send one.
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { NOW } from '../support/harness.js';
import { startReplica, type Replica } from '../replicas/support.js';

const MiB = 1024 * 1024;
const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

/**
 * Streams up to `total` bytes (chunked, no Content-Length unless `declare`), stopping as soon as the
 * gateway answers; the test allocates one 64 KiB chunk, never the whole body.
 */
function streamPost(url: string, headers: Record<string, string>, total: number, declare = false): Promise<{ status: number; body: string; sent: number }> {
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  chunk.write('{"query":"subscription { jobSessionEvents { kind } }","variables":{"pad":"');
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = http.request(url, { method: 'POST', headers: { ...headers, ...(declare ? { 'content-length': String(total) } : {}) } }, (res) => {
      answered = true;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (text: string) => (body += text));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body, sent });
      });
    });
    req.on('error', (error) => (answered ? undefined : reject(error)));
    const pump = () => {
      while (!answered && sent < total) {
        const ok = req.write(chunk);
        sent += chunk.length;
        if (!ok) return void req.once('drain', pump);
      }
      if (!answered) req.end();
    };
    pump();
  });
}

describe('request bodies within MAX_BODY_BYTES on a real gateway process', () => {
  let sim: Simulator;
  let gateway: Replica;
  const SSE = { accept: 'text/event-stream', 'content-type': 'application/json', 'x-endeavour-sessionid': 'made-up-session-id' };

  beforeAll(async () => {
    sim = await startSimulator({ seed: 1, now: NOW, size: 50, host: '127.0.0.1' });
    gateway = await startReplica({ SPP_URL: sim.url, CURSOR_SECRET: 'body-limits-cursor-secret', LOG_LEVEL: 'warn' });
  }, 120_000);
  afterAll(async () => {
    await gateway?.stop();
    await sim?.close();
  });

  it('refuses a 200 MB event-stream POST streamed without Content-Length with 413, the process growing by less than 64 MiB', async () => {
    const pid = gateway.child.pid!;
    const before = rssOf(pid);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 20);
    try {
      const answer = await streamPost(gateway.url, SSE, 200 * 1024 * 1024);
      expect({ status: answer.status, body: JSON.parse(answer.body) }).toEqual({
        status: 413,
        body: { errors: [{ message: 'The request body exceeds 200000 bytes.', extensions: { code: 'PAYLOAD_TOO_LARGE' } }] },
      });
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, rssOf(pid));
    console.info(`event-stream POST of 200 MB: RSS ${(before / MiB).toFixed(0)} → peak ${(peak / MiB).toFixed(0)} MiB`);
    expect(peak - before).toBeLessThan(64 * MiB);
  }, 120_000);

  it('refuses an event-stream POST by its Content-Length before reading it, and a plain GraphQL POST the same way', async () => {
    const declared = await streamPost(gateway.url, SSE, 200 * 1024 * 1024, true);
    expect({ status: declared.status, body: JSON.parse(declared.body) }).toEqual({
      status: 413,
      body: {
        errors: [{ message: `The request body is ${200 * 1024 * 1024} bytes; at most 200000 are accepted.`, extensions: { code: 'PAYLOAD_TOO_LARGE' } }],
      },
    });
    const plain = await streamPost(gateway.url, { 'content-type': 'application/json', 'x-endeavour-sessionid': 'made-up' }, 8 * 1024 * 1024);
    expect({ status: plain.status, body: JSON.parse(plain.body) }).toEqual({
      status: 413,
      body: { errors: [{ message: 'The request body exceeds 200000 bytes.', extensions: { code: 'PAYLOAD_TOO_LARGE' } }] },
    });
  }, 60_000);

  it('closes a WebSocket whose message is larger than MAX_BODY_BYTES with 1009, before buffering it', async () => {
    const socket = new WebSocket(gateway.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.send(Buffer.alloc(300_000, 0x20));
    expect(await closed).toBe(1009);
  });

  it('still serves event streams of ordinary size', async () => {
    const answer = await new Promise<{ status: number; type: string }>((resolve, reject) => {
      const req = http.request(gateway.url, { method: 'POST', headers: SSE }, (res) => {
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']) });
        req.destroy();
      });
      req.on('error', reject);
      req.end(JSON.stringify({ query: 'subscription { jobSessionEvents { kind } }' }));
    });
    expect(answer).toEqual({ status: 200, type: expect.stringMatching(/^text\/event-stream/) });
  });
});
