import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig, ConfigError } from '../../src/config.js';
import { startHarness } from '../support/harness.js';
import { LIVE_ENV, collect, sseClient, until, wsClient } from './support.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('shutdown', () => {
  it('on SIGTERM closes WebSockets with 1001, ends event streams, stops the pollers and exits 0', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'warn',
        SIM_SIZE: '200',
        SUBSCRIPTION_POLL_MS: '50',
        SUBSCRIPTION_IDLE_POLL_MS: '50',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let stdout = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk) => {
        stdout += String(chunk);
        const match = /Gateway ready at (http:\/\/[^\s"]+)/.exec(stdout);
        if (match) resolve(match[1]!);
      });
      child.on('exit', () => reject(new Error(`the gateway exited before it was ready: ${stdout}`)));
    });

    // One subscription over each transport.
    const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
    const messages: any[] = [];
    socket.on('message', (data) => {
      const message = JSON.parse((data as Buffer).toString('utf8'));
      messages.push(message);
      if (message.type === 'connection_ack') {
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { jobSessionEvents { kind sessionId } }' } }));
      }
    });
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init' })));
    const stream = await fetch(url, {
      method: 'POST',
      headers: { accept: 'text/event-stream', 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'subscription { jobSessionEvents(filter: {status: [RUNNING]}) { kind } }' }),
    });
    expect(stream.status).toBe(200);
    const streamEnded = (async () => {
      for await (const _chunk of stream.body!) {
        // read until the server ends the stream
      }
      return true;
    })();
    const gauge = async (name: string) => {
      const text = await (await fetch(url.replace(/\/graphql$/, '/metrics'))).text();
      return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
    };
    await expect.poll(() => gauge('live_subscriptions'), { timeout: 20_000 }).toBe(2);
    expect(await gauge('live_pollers')).toBe(2);

    child.kill('SIGTERM');
    expect(await closed).toEqual({ code: 1001, reason: 'Going away' });
    expect(await streamEnded).toBe(true);
    expect(await exited).toBe(0);
    clearTimeout(killer);
    expect(messages[0]).toEqual({ type: 'connection_ack' });
  });
});

describe('stop()', () => {
  it('closes sockets with 1001, ends streams, stops every poller, and SPP hears nothing more', async () => {
    const h = await startHarness({ sim: { size: 200 }, env: LIVE_ENV });
    const closes: Array<{ code: number; reason: string }> = [];
    const ws = wsClient(h, undefined, closes);
    const sse = sseClient(h);
    const a = collect(ws, 'subscription { jobSessionEvents { kind } }');
    const b = collect(sse, 'subscription { jobSessionEvents(filter: {status: [RUNNING]}) { kind } }');
    await until(() => h.gateway.live.registry.size === 2);
    await h.gateway.live.registry.nextPolls();
    await h.gateway.stop();
    expect(h.gateway.live.registry.size).toBe(0);
    await until(() => closes.length === 1 && (b.completed || b.errors.length > 0));
    expect(closes).toEqual([{ code: 1001, reason: 'Going away' }]);
    h.resetUpstreamCalls();
    await new Promise((resolve) => setTimeout(resolve, 10 * Number(LIVE_ENV.SUBSCRIPTION_POLL_MS)));
    expect(h.upstreamCalls()).toEqual([]);
    expect(a.data).toEqual([]);
    sse.dispose();
    await h.sim.close();
  });
});

describe('configuration', () => {
  it('refuses a subscription buffer smaller than two poll windows, naming both variables', () => {
    expect(() => loadConfig({ SUBSCRIPTION_WINDOW: '100', SUBSCRIPTION_BUFFER: '150' })).toThrow(ConfigError);
    expect(() => loadConfig({ SUBSCRIPTION_WINDOW: '100', SUBSCRIPTION_BUFFER: '150' })).toThrow(
      /^Invalid SUBSCRIPTION_BUFFER \(150\): must be at least twice SUBSCRIPTION_WINDOW \(100\)$/,
    );
    expect(loadConfig({}).env).toMatchObject({ SUBSCRIPTION_POLL_MS: 2000, SUBSCRIPTION_WINDOW: 100, SUBSCRIPTION_BUFFER: 1000 });
  });
});
