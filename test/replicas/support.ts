/**
 * Gateway replicas as real processes (`node --import tsx src/main.ts`), as a load balancer
 * would see them: each its own port, memory and Redis connections.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { withoutCost } from '../support/harness.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
/** The caller's own gateway variables never leak into a replica's environment. */
const CONFIG =
  /^(SIM_|SPP_|GATEWAY_|GRAPHQL_|PORT$|HOST$|CURSOR_SECRET$|SESSION_SECRET$|REDIS_|LOG_LEVEL$|NODE_ENV$|PAGE_|MAX_|SHUTDOWN_|CORS_|READY_|METRICS_|OTEL_|PERSISTED_|ALLOW_|SUBSCRIPTION|QUOTA_)/;

export interface Replica {
  url: string;
  child: ChildProcess;
  output(): string;
  gql<T = any>(
    query: string,
    headers?: Record<string, string>,
    variables?: Record<string, unknown>,
  ): Promise<{ status: number; body: { data?: T; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> } }>;
  metric(name: string): Promise<number>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
}

export function startReplica(env: Record<string, string>): Promise<Replica> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !CONFIG.test(k)));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { ...base, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stderr.on('data', (chunk: Buffer) => (out += String(chunk)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the replica did not become ready\n${out}`));
    }, 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the replica exited (${code})\n${out}`));
    });
    child.stdout.on('data', (chunk: Buffer) => {
      const before = out;
      out += String(chunk);
      const match = /Gateway ready at (http:\/\/[^\s"]+)/.exec(out);
      if (!match || /Gateway ready at/.test(before)) return;
      clearTimeout(timer);
      const url = match[1]!;
      resolve({
        url,
        child,
        output: () => out,
        async gql(query, headers, variables) {
          const response = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...headers },
            body: JSON.stringify({ query, variables }),
          });
          return { status: response.status, body: withoutCost(await response.json()) as any };
        },
        async metric(name) {
          const text = await (await fetch(url.replace('/graphql', '/metrics'))).text();
          const escaped = name.replace(/[{}"=]/g, (c) => `\\${c}`);
          return Number(new RegExp(`^${escaped} (\\d+(?:\\.\\d+)?)$`, 'm').exec(text)?.[1] ?? 0);
        },
        async stop() {
          if (child.exitCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}

/** Polls `check` until it is true (at most `ms`); no timing is asserted, only the outcome. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 20_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}
