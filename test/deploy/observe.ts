/**
 * The facts the consistency check needs from the code, taken from a running gateway: src/main.ts
 * started as its own process (as the image's `node dist/main.js`, here through tsx) with a
 * rendered container environment, asked for each path while it serves, then sent SIGTERM and
 * asked again while it drains.
 */
import { spawn } from 'node:child_process';
import { ROOT } from './manifests.js';
import type { GatewayFacts } from './consistency.js';

/** Variables of the test process that would leak into the gateway's configuration. */
const CONFIG_VARIABLES =
  /^(SIM_|SPP_|GATEWAY_|GRAPHQL_|PORT$|HOST$|CURSOR_SECRET$|SESSION_SECRET$|REDIS_|LOG_LEVEL$|NODE_ENV$|PAGE_|MAX_|SHUTDOWN_|METRICS_|OTEL_|CORS_|HTTP_|SUBSCRIPTION|PERSISTED_|ALLOW_|READY_|IDEMPOTENCY_|ACTION_|COMPRESSION_)/;

async function statusOf(url: string): Promise<number> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/**
 * Starts the gateway with `env` (on a free loopback port, its drain long enough to be observed),
 * waits until /readyz answers 200 (at most 30 s), records every path's status while serving and
 * while draining, and waits for the process to exit. Also returns its exit code.
 */
export async function observeGateway(env: Record<string, string>, paths: readonly string[]): Promise<GatewayFacts & { exitCode: number | null }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !CONFIG_VARIABLES.test(k)));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...base, ...env, PORT: '0', HOST: '127.0.0.1', METRICS_PORT: '0', SHUTDOWN_DRAIN_MS: '3000', LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    let output = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the gateway did not start within 30 s:\n${output}`)), 30_000);
      const read = (chunk: Buffer) => {
        output += String(chunk);
        // The start-up banner is a JSON log line, written even at LOG_LEVEL=silent.
        const m = /Gateway ready at (http:\/\/[^\s"]+)/.exec(output);
        if (m) {
          clearTimeout(timer);
          resolve(new URL(m[1]!).origin);
        }
      };
      child.stdout.on('data', read);
      child.stderr.on('data', read);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`the gateway exited with ${code} before it was ready:\n${output}`));
      });
    });
    // Ready once the embedded simulator (or SPP) answered: bounded by the same 30 s.
    for (let i = 0; i < 60 && (await statusOf(`${url}/readyz`)) !== 200; i++) await new Promise((r) => setTimeout(r, 500));
    const endpoints: GatewayFacts['endpoints'] = {};
    for (const path of paths) endpoints[path] = { serving: await statusOf(`${url}${path}`), draining: 0 };
    child.kill('SIGTERM');
    // The drain (3 s here) has begun: /readyz turns 503 at once while requests are still served.
    await new Promise((r) => setTimeout(r, 200));
    for (const path of paths) endpoints[path]!.draining = await statusOf(`${url}${path}`);
    return { endpoints, exitCode: await exited };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
