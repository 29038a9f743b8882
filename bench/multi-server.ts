/**
 * `npm run bench:servers` (issue 21): a 25-row jobSessions page over three SPP servers against
 * the same page over one, side by side in one run, SPP latency 20 ms. Target: the three-server
 * p50 within 2 ms of the one-server p50, and one upstream list read per server per page.
 *
 * How it is fair on a small shared machine (2 cores here):
 * - The three simulated sites run in ONE child process (bench/sim-sites.ts), and the one-server
 *   gateway reads site 1 of that same process: both setups see the same upstream processes.
 * - Latency is a deadline: each site answers 20 ms after the request arrived, its own CPU work
 *   (0.3-0.5 ms a list read, measured: its cached order sliced, 26 sessions written as JSON) done inside those 20 ms, as
 *   an appliance works on its own CPUs. Before, three simulator processes waited 20 ms on a timer
 *   and then did their work; woken at the same moment, they competed with the gateway for the
 *   two cores. The deadline runs from each request's arrival, stamped before any site's handler
 *   runs, and is kept to within about 0.05 ms (bench/sim-sites.ts says how and why).
 * - "The sites alone" is the floor under any gateway on this machine, measured in every run:
 *   one list read against three in parallel with Node's own HTTP client, bodies read, then
 *   bodies JSON-parsed as any gateway must. What the three-server page costs beyond the parsed
 *   reads' difference is the gateway's own work (its HTTP client, the merge, the larger answer).
 * - Both gateways run in this process with the load generator, one request at a time, and pages
 *   alternate between the setups (which goes first alternates too), so both see the same noise.
 * - Several short rounds; each round's p50 difference is reported, and the figure is their
 *   median with the spread, after a warm-up (logins, sockets, JIT).
 * Upstream requests are counted by the sites themselves, per site and per page, outside the
 * timings: exactly one per server per page (a list read; no login, no ping), or the run fails.
 */
import { Agent, get as httpGet } from 'node:http';
import { Writable } from 'node:stream';
import { loadConfig } from '../src/config.js';
import { createGateway, type Gateway } from '../src/gateway.js';
import { createLogger } from '../src/observability/logger.js';
import { startSites, stopAll } from './procs.js';

const LATENCY_MS = Number(process.env.BENCH_SPP_LATENCY_MS ?? 20);
const PAGES = Number(process.env.BENCH_PAGES ?? 40);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const QUERY = `query($after: String) { jobSessions(first: 25, after: $after) { edges { cursor node { id sessionId start status } } pageInfo { hasNextPage endCursor } } }`;

const silent = createLogger('silent', new Writable({ write: (_c, _e, done) => done() }));
const { env } = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', CURSOR_SECRET: 'bench-cursor-secret-bench-cursor' });
const sites = await startSites(3, LATENCY_MS);
const auth = { mode: 'service-account' as const, serviceAccount: { username: 'admin', password: 'admin-password' }, tokens: [], allowAnonymous: true };
const one = await createGateway({ env, sppUrl: sites.bases[0]!, auth, logger: silent });
const three = await createGateway({
  env,
  sppUrl: sites.bases[0]!,
  servers: sites.bases.map((url, i) => ({ name: `site-${i + 1}`, url })),
  auth,
  logger: silent,
});
const setups = [
  { name: 'one server', gateway: one, expected: [1, 0, 0] },
  { name: 'three servers', gateway: three, expected: [1, 1, 1] },
] as const;

async function page(gateway: Gateway, after: string | null): Promise<{ ms: number; next: string | null }> {
  const started = performance.now();
  const response = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: QUERY, variables: { after } }),
  });
  const body = (await response.json()) as {
    data?: { jobSessions: { edges: unknown[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };
    errors?: unknown;
  };
  const ms = performance.now() - started;
  if (!body.data || body.errors || body.data.jobSessions.edges.length !== 25) throw new Error(`not a 25-row page: ${JSON.stringify(body).slice(0, 500)}`);
  const info = body.data.jobSessions.pageInfo;
  return { ms, next: info.hasNextPage ? info.endCursor : null };
}

// The sites alone, without a gateway: one list read against three in parallel with Node's own
// HTTP client (keep-alive, as the gateway's), bodies read; then the same, each body JSON-parsed.
// Their differences are what three answers cost on this machine before any gateway work (the
// transport floor), and with the parse that any gateway must do.
const basic = `Basic ${Buffer.from('admin:admin-password').toString('base64')}`;
const sessionIds = await Promise.all(
  sites.bases.map(
    async (base) =>
      ((await (await fetch(`${base}/api/endeavour/session`, { method: 'POST', headers: { authorization: basic } })).json()) as { sessionid: string }).sessionid,
  ),
);
const SORT = encodeURIComponent(
  JSON.stringify([
    { property: 'start', direction: 'DESC' },
    { property: 'id', direction: 'DESC' },
  ]),
);
const agents = sites.bases.map(() => new Agent({ keepAlive: true, noDelay: true }));
function read(k: number, path: string, parse: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = httpGet(`${sites.bases[k]}${path}`, { agent: agents[k], headers: { 'x-endeavour-sessionid': sessionIds[k]! } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (parse) JSON.parse(text);
        resolve();
      });
    });
    request.on('error', reject);
  });
}
async function direct(count: number, offset: number, parse: boolean): Promise<number> {
  const started = performance.now();
  await Promise.all(sites.bases.slice(0, count).map((_, k) => read(k, `/api/endeavour/jobsession?pageStartIndex=${offset}&pageSize=26&sort=${SORT}`, parse)));
  return performance.now() - started;
}
const directTimes = { read: { one: [] as number[], three: [] as number[] }, parsed: { one: [] as number[], three: [] as number[] } };

const pct = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((values.length * p) / 100))]!;
const median = (values: number[]) => pct(values, 50);

// Warm-up: logins, sockets, JIT.
for (const { gateway } of setups) for (let i = 0, a: string | null = null; i < 10; i++) a = (await page(gateway, a)).next;

const times: number[][][] = setups.map(() => []); // [setup][round][page]
const wrongReads: string[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const cursors: Array<string | null> = setups.map(() => null);
  setups.forEach((_, s) => times[s]!.push([]));
  for (let i = 0; i < PAGES; i++) {
    const order = (i + round) % 2 === 0 ? [0, 1] : [1, 0];
    for (const s of order) {
      const before = await sites.counts();
      const { ms, next } = await page(setups[s]!.gateway, cursors[s]!);
      const after = await sites.counts();
      const lists = after.lists.map((n, k) => n - before.lists[k]!);
      const all = after.all.map((n, k) => n - before.all[k]!);
      if (lists.join() !== setups[s]!.expected.join() || all.join() !== setups[s]!.expected.join()) {
        wrongReads.push(`${setups[s]!.name}, round ${round + 1}, page ${i + 1}: list reads ${lists.join('/')}, requests ${all.join('/')}`);
      }
      times[s]![round]!.push(ms);
      cursors[s] = next;
    }
    for (const kind of ['read', 'parsed'] as const) {
      const first = (i + round) % 2 === 0 ? 1 : 3;
      for (const count of [first, 4 - first]) directTimes[kind][count === 1 ? 'one' : 'three'].push(await direct(count, i * 25, kind === 'parsed'));
    }
  }
}

const rounds = times[0]!.map((_, r) => {
  const [p1, p3] = setups.map((_, s) => median(times[s]![r]!));
  return { round: r + 1, 'one server p50 ms': p1!.toFixed(2), 'three servers p50 ms': p3!.toFixed(2), 'difference ms': (p3! - p1!).toFixed(2) };
});
const differences = rounds.map((r) => Number(r['difference ms']));
const pooled = setups.map((setup, s) => {
  const all = times[s]!.flat();
  return {
    setup: setup.name,
    pages: all.length,
    'p50 ms': pct(all, 50).toFixed(2),
    'p95 ms': pct(all, 95).toFixed(2),
    'list reads per page per site': setup.expected.join('/'),
  };
});
const load = (await import('node:os')).loadavg().map((l) => l.toFixed(1));
console.log(
  `SPP latency ${LATENCY_MS} ms (a deadline from arrival), 25-row pages walking forward, ${ROUNDS} rounds of ${PAGES} pages per setup, load average ${load.join(', ')}`,
);
console.table(rounds);
console.table(pooled);
const alone = (kind: 'read' | 'parsed') => {
  const [one, three] = [pct(directTimes[kind].one, 50), pct(directTimes[kind].three, 50)];
  return { text: `one list read ${one.toFixed(2)} ms, three in parallel ${three.toFixed(2)} ms (+${(three - one).toFixed(2)})`, difference: three - one };
};
const [bodiesRead, parsed] = [alone('read'), alone('parsed')];
console.log(`the sites alone (no gateway, node:http), p50: bodies read: ${bodiesRead.text}; bodies JSON-parsed: ${parsed.text}`);
console.log(
  `p50 difference, median of the rounds: ${median(differences).toFixed(2)} ms (rounds ${Math.min(...differences).toFixed(2)} to ${Math.max(...differences).toFixed(2)} ms); target ≤ 2 ms; beyond the parsed reads' difference (the gateway's own): ${(median(differences) - parsed.difference).toFixed(2)} ms`,
);
console.log(
  wrongReads.length === 0
    ? 'upstream requests: exactly one per server per page (a list read; no login, no other request), every page'
    : `pages with other upstream requests than one list read per server:\n${wrongReads.join('\n')}`,
);
for (const agent of agents) agent.destroy();
await one.stop();
await three.stop();
await stopAll();
if (wrongReads.length > 0) process.exitCode = 1;
