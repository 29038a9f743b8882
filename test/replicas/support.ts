/**
 * Gateway replicas as real processes (`node --import tsx src/main.ts`), as a load balancer
 * would see them: each its own port, memory and Redis connections.
 */
import type { ChildProcess } from 'node:child_process';
import { startProcess } from '../support/processes.js';
import { ADMIN, withoutCost } from '../support/harness.js';

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

export async function startReplica(env: Record<string, string>): Promise<Replica> {
  const started = await startProcess({
    entry: 'src/main.ts',
    env: { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    banner: 'gateway',
    name: 'the replica',
  });
  const { url, child } = started;
  return {
    url,
    child,
    output: () => started.output(),
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
      await started.stop();
    },
  };
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

/**
 * The environment every replica of one test shares: SPP with the admin service account, one Redis
 * under the test's own key prefix, and the cursor and session secrets replicas must agree on.
 */
export function replicaEnv(name: string, sppUrl: string, redisUrl: string): Record<string, string> {
  return {
    SPP_URL: sppUrl,
    SPP_USERNAME: ADMIN.username,
    SPP_PASSWORD: ADMIN.password,
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: `${name}-test:`,
    CURSOR_SECRET: `${name}-replicas-cursor-secret`,
    SESSION_SECRET: `${name}-replicas-session-secret-0123456789`,
  };
}
