/**
 * Integration-test harness: an in-process SPP simulator and a gateway, both on port 0, talked
 * to over real HTTP. Logs are captured (as JSON lines) so tests can check what is logged.
 */
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config.js';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/gateway.js';
import { createLogger } from '../../src/observability/logger.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';

export const ADMIN = { username: 'admin', password: 'admin-password' };
export const CATALOG_OPERATOR = { username: 'catalog-operator', password: 'catalog-password' };
/** A fixed "now" so generated data is the same in every run. */
export const NOW = Date.UTC(2026, 10, 1, 12, 0, 0);

export const basic = (user: { username: string; password: string }) => ({
  authorization: `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`,
});

export interface Harness {
  sim: Simulator;
  gateway: Gateway;
  logs: string[];
  /** POSTs a GraphQL operation; returns the HTTP status and the parsed body. */
  gql<T = any>(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: { data?: T; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> } }>;
  /** Upstream jobsession requests the simulator answered since the last reset. */
  upstreamCalls(): Simulator['requests'];
  resetUpstreamCalls(): void;
  close(): Promise<void>;
}

export interface HarnessOptions {
  sim?: SimulatorOptions;
  /** Gateway environment variables (knobs such as limits and timeouts). */
  env?: Record<string, string>;
  auth?: GatewayOptions['auth'];
  ca?: string | Buffer;
  /** As in front of the embedded simulator (CORS allows localhost origins by default). */
  embeddedSimulator?: boolean;
  spanExporter?: GatewayOptions['spanExporter'];
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const sim = await startSimulator({ seed: 1, now: NOW, ...options.sim });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  // Only the knobs come from this environment; who the gateway speaks as is `options.auth`.
  const { env } = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', CURSOR_SECRET: 'integration-test-cursor-secret', ...options.env });
  // A gateway that refuses to start (e.g. a bad manifest) leaves no simulator behind.
  const gateway = await createGateway({
    env,
    sppUrl: sim.url,
    auth: options.auth ?? { mode: 'service-account', serviceAccount: ADMIN, tokens: [], allowAnonymous: true },
    ...(options.ca ? { ca: options.ca } : {}),
    ...(options.embeddedSimulator ? { embeddedSimulator: true } : {}),
    ...(options.spanExporter ? { spanExporter: options.spanExporter } : {}),
    logger: createLogger(env.LOG_LEVEL, sink),
  }).catch(async (error: unknown) => {
    await sim.close();
    throw error;
  });
  const isJobSessionCall = (r: Simulator['requests'][number]) => r.path.startsWith('/api/endeavour/jobsession');
  return {
    sim,
    gateway,
    logs,
    async gql(query, variables, headers) {
      const response = await fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, body: withoutCost(await response.json()) as any };
    },
    upstreamCalls: () => sim.requests.filter(isJobSessionCall),
    resetUpstreamCalls: () => sim.clearRequests(),
    async close() {
      await gateway.stop();
      await sim.close();
    },
  };
}

/**
 * A GraphQL answer without `extensions.cost` (every answer carries where the caller's budget
 * stands, docs/security.md "Budgets"; test/security/budgets.test.ts asserts it), so that other
 * tests keep asserting the whole shape of what they are about.
 */
export function withoutCost(body: unknown): unknown {
  if (Array.isArray(body)) return body.map(withoutCost);
  if (!body || typeof body !== 'object' || !('extensions' in body)) return body;
  const { extensions, ...rest } = body as { extensions?: Record<string, unknown> };
  if (!extensions || !('cost' in extensions)) return body;
  const { cost: _cost, ...others } = extensions;
  return Object.keys(others).length > 0 ? { ...rest, extensions: others } : rest;
}
