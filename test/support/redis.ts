/**
 * A real redis-server for tests, on a free loopback port, with no persistence. Tests that need
 * one use `redisServerPath` to skip loudly ("skipped: why") when the machine has none.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { Redis } from 'ioredis';
import pino from 'pino';
import { Counter, Gauge, Registry } from 'prom-client';
import { RedisState } from '../../src/state/redis.js';

function findRedisServer(): string | undefined {
  if (process.env.REDIS_SERVER_PATH && existsSync(process.env.REDIS_SERVER_PATH)) return process.env.REDIS_SERVER_PATH;
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
  return found || (existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : undefined);
}

export const redisServerPath = findRedisServer();

/** Call at the top of a test file that needs Redis: says why its tests are skipped. */
export function warnIfNoRedis(file: string): void {
  if (!redisServerPath) console.warn(`skipped: ${file} needs redis-server (apt-get install redis-server, or REDIS_SERVER_PATH); none was found`);
}

export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });

export interface RedisServer {
  url: string;
  port: number;
  /** SIGKILL: Redis gone without a goodbye. */
  kill(): Promise<void>;
  /** Starts again on the same port (empty: no persistence). */
  start(): Promise<void>;
  /** Every key with its value (strings; other types by their type name), for the secrets scan. */
  dump(): Promise<Array<{ key: string; value: string }>>;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(redisServerPath!, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      const up = await new Promise<boolean>((resolve) => {
        const socket = net.connect(port, '127.0.0.1');
        socket.once('connect', () => (socket.destroy(), resolve(true)));
        socket.once('error', () => resolve(false));
      });
      if (up) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`redis-server did not listen on ${port}`);
  };
  const kill = async () => {
    const running = child;
    // A process killed by a signal has no exit code, only a signal code: it is gone too.
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  };
  await start();
  const url = `redis://127.0.0.1:${port}`;
  return {
    url,
    port,
    kill,
    start,
    async dump() {
      const client = new Redis(url);
      try {
        const entries: Array<{ key: string; value: string }> = [];
        for (const key of await client.keys('*')) {
          const type = await client.type(key);
          entries.push({ key, value: type === 'string' ? ((await client.get(key)) ?? '') : `(${type})` });
        }
        return entries;
      } finally {
        client.disconnect();
      }
    },
    stop: kill,
  };
}

/** The shared state's metrics in a registry of their own, with `value` to read one back. */
export function stateMetrics() {
  const registry = new Registry();
  return {
    errors: new Counter({ name: 'e', help: 'e', labelNames: ['operation'], registers: [registry] }),
    degraded: new Gauge({ name: 'd', help: 'd', registers: [registry] }),
    flights: new Counter({ name: 'f', help: 'f', labelNames: ['outcome'], registers: [registry] }),
    value: async (name: 'e' | 'd' | 'f', labels: Record<string, string> = {}) =>
      (await registry.getSingleMetric(name)!.get()).values
        .filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
        .reduce((sum, v) => sum + v.value, 0),
  };
}

/** A RedisState for a test (not started): a silent logger, its own metrics unless given. */
export function redisStateFor(
  url: string,
  options: { prefix: string; secret: Buffer; leaseMs?: number; timeoutMs?: number; metrics?: ReturnType<typeof stateMetrics> },
): RedisState {
  return new RedisState({
    url,
    prefix: options.prefix,
    secret: options.secret,
    leaseMs: options.leaseMs ?? 5_000,
    timeoutMs: options.timeoutMs ?? 300,
    logger: pino({ level: 'silent' }),
    metrics: options.metrics ?? stateMetrics(),
  });
}
