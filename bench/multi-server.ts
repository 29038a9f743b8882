/**
 * `npm run bench:servers` (issue 21): a 25-row jobSessions page over three SPP servers against
 * the same page over one, side by side in one run, SPP latency 20 ms each. Reports p50/p95 of
 * each and the upstream list reads per page. Short: 3 × 60 pages per setup, interleaved so
 * both see the same machine. The simulators run as processes of their own (as SPP appliances
 * would: their CPU is not the gateway's); both gateways run in this process, on loopback.
 */
import { Writable } from 'node:stream';
import { loadConfig } from '../src/config.js';
import { createGateway, type Gateway } from '../src/gateway.js';
import { createLogger } from '../src/observability/logger.js';
import { startSimulator, stopAll } from './procs.js';

const LATENCY_MS = Number(process.env.BENCH_SPP_LATENCY_MS ?? 20);
const PAGES = Number(process.env.BENCH_PAGES ?? 60);
const ROUNDS = 3;
const QUERY = `query($after: String) { jobSessions(first: 25, after: $after) { edges { cursor node { id sessionId start status } } pageInfo { hasNextPage endCursor } } }`;

const silent = createLogger('silent', new Writable({ write: (_c, _e, done) => done() }));
const { env } = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', CURSOR_SECRET: 'bench-cursor-secret-bench-cursor' });
const sims = await Promise.all([1, 2, 3].map((i) => startSimulator(`sim-${i}`, { latencyMs: LATENCY_MS })));
const auth = { mode: 'service-account' as const, serviceAccount: { username: 'admin', password: 'admin-password' }, tokens: [], allowAnonymous: true };
const one = await createGateway({ env, sppUrl: sims[0]!.base, auth, logger: silent });
const three = await createGateway({ env, sppUrl: sims[0]!.base, servers: sims.map((s, i) => ({ name: `site-${i + 1}`, url: s.base })), auth, logger: silent });

async function page(gateway: Gateway, after: string | null): Promise<{ ms: number; next: string | null }> {
  const started = performance.now();
  const response = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: QUERY, variables: { after } }),
  });
  const body = (await response.json()) as { data?: { jobSessions: { pageInfo: { hasNextPage: boolean; endCursor: string | null } } }; errors?: unknown };
  const ms = performance.now() - started;
  if (!body.data) throw new Error(`no data: ${JSON.stringify(body.errors)}`);
  const info = body.data.jobSessions.pageInfo;
  return { ms, next: info.hasNextPage ? info.endCursor : null };
}

/** GETs of the job-session list so far, from the gateway's own upstream metric. */
async function listReads(gateway: Gateway): Promise<number> {
  const metric = await gateway.metrics.registry.getSingleMetric('spp_upstream_requests_total')?.get();
  return (metric?.values ?? []).filter((v) => v.labels.endpoint === 'jobsession').reduce((sum, v) => sum + v.value, 0);
}
const times: Record<'one server' | 'three servers', number[]> = { 'one server': [], 'three servers': [] };
const reads: Record<'one server' | 'three servers', number[]> = { 'one server': [], 'three servers': [] };
// Warm-up: logins, sockets, JIT.
for (const g of [one, three]) for (let i = 0, a: string | null = null; i < 5; i++) a = (await page(g, a)).next;
for (let round = 0; round < ROUNDS; round++) {
  const cursors: Record<string, string | null> = { 'one server': null, 'three servers': null };
  for (let i = 0; i < PAGES; i++) {
    for (const [name, g] of [
      ['one server', one],
      ['three servers', three],
    ] as const) {
      const before = await listReads(g);
      const { ms, next } = await page(g, cursors[name] ?? null);
      times[name].push(ms);
      reads[name].push((await listReads(g)) - before);
      cursors[name] = next;
    }
  }
}

const pct = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((values.length * p) / 100))]!;
const rows = (Object.keys(times) as Array<keyof typeof times>).map((name) => ({
  setup: name,
  pages: times[name].length,
  'p50 ms': pct(times[name], 50).toFixed(2),
  'p95 ms': pct(times[name], 95).toFixed(2),
  'upstream list reads per page (max)': Math.max(...reads[name]),
}));
console.log(`SPP latency ${LATENCY_MS} ms, 25-row pages, walking forward (${ROUNDS} walks of ${PAGES} pages each)`);
console.table(rows);
console.log(`p50 difference: ${(pct(times['three servers'], 50) - pct(times['one server'], 50)).toFixed(2)} ms`);
await one.stop();
await three.stop();
await stopAll();
