/**
 * `npm run bench:cache-control`: what HTTP cache hints cost per request (issue 20). Apollo's
 * cache-control plugin was disabled because its hook runs for every resolved field; measured here
 * it cost 1.29x the CPU per request (25 rows) and 1.41x (1000 rows), so the gateway reads the
 * schema's @cacheControl hints from the document instead (src/graphql/cache-policy.ts), and this
 * compares that with HTTP_CACHE_HINTS=false (no hints at all). Two gateways over one
 * simulator (SPP 0 ms), hints on and hints off, in alternating rounds (A B, B A, ...), on distinct
 * 25-row and 1000-row pages (every request its own filter bound, 10 connections): requests per
 * second, p50, and the gateway process's CPU per request. Ratios side by side are the figures.
 *
 *   npm run bench:cache-control               3 rounds of 3 s per side and page size
 *   npm run bench:cache-control -- --smoke    1 round of 0.5 s (checks that it runs)
 */
import { load, pool, problems, type LoadRun, type Target } from './load.js';
import { cpuMsOf, startGateway, startSimulator, stopAll, type Server } from './procs.js';

const SMOKE = process.argv.includes('--smoke');
const PLAN = SMOKE ? { rounds: 1, roundS: 0.5, warmS: 0.3 } : { rounds: 3, roundS: 3, warmS: 1 };
const CONNECTIONS = 10;
const FAR_FUTURE = 32_503_680_000_000;
let bound = 0;

const watchdog = setTimeout(() => {
  process.stderr.write('bench:cache-control: over its 300 s budget; stopping\n');
  void stopAll().finally(() => process.exit(1));
}, 300_000);
watchdog.unref();

function page(server: Server, label: string, first: number): Target {
  const query = `query Page($filter: JobSessionFilter) { jobSessions(first: ${first}, filter: $filter) { nodes { sessionId jobName status start end duration } pageInfo { hasNextPage endCursor } } }`;
  const body = () => JSON.stringify({ query, variables: { filter: { start: { lt: FAR_FUTURE - ++bound } } } });
  return {
    label,
    url: `${server.base}/graphql`,
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: body(),
    nextBody: body,
    verify: (text) => text.startsWith('{"data":{') && !text.includes('"errors":'),
  };
}

try {
  const sim = await startSimulator('sim', { latencyMs: 0 });
  const sides = {
    'hints on': await startGateway('hints on', sim),
    'hints off': await startGateway('hints off', sim, { env: { HTTP_CACHE_HINTS: 'false' } }),
  };
  const names = Object.keys(sides) as Array<keyof typeof sides>;
  const rows: string[] = [];
  for (const first of [25, 1000]) {
    const runs = new Map<string, LoadRun[]>(names.map((name) => [name, []]));
    const cpu = new Map<string, number>(names.map((name) => [name, 0]));
    for (const name of names) await load({ label: name, targets: [page(sides[name], name, first)], connectionsEach: CONNECTIONS }, { durationS: PLAN.warmS });
    for (let round = 0; round < PLAN.rounds; round++) {
      for (const name of round % 2 === 0 ? names : [...names].reverse()) {
        const before = cpuMsOf(sides[name].pid);
        runs.get(name)!.push(await load({ label: name, targets: [page(sides[name], name, first)], connectionsEach: CONNECTIONS }, { durationS: PLAN.roundS }));
        cpu.set(name, cpu.get(name)! + cpuMsOf(sides[name].pid) - before);
      }
    }
    const figures = names.map((name) => {
      const pooled = pool(runs.get(name)!);
      return { name, rps: pooled.rps, p50: pooled.latency.p50, cpuMs: cpu.get(name)! / Math.max(1, pooled.requests) };
    });
    const [on, off] = figures as [(typeof figures)[number], (typeof figures)[number]];
    for (const f of figures) rows.push(`| ${first} rows | ${f.name} | ${f.rps.toFixed(0)} | ${f.p50.toFixed(2)} | ${f.cpuMs.toFixed(3)} |`);
    rows.push(
      `| ${first} rows | **on / off** | **${(on.rps / off.rps).toFixed(3)}** | **${(on.p50 / off.p50).toFixed(3)}** | **${(on.cpuMs / off.cpuMs).toFixed(3)}** |`,
    );
  }
  console.log(`\nApollo's cache-control plugin, ${PLAN.rounds} round(s) of ${PLAN.roundS} s per side, ${CONNECTIONS} connections, SPP 0 ms\n`);
  console.log('| page | gateway | req/s | p50 ms | CPU ms/request |\n|---|---|---|---|---|');
  console.log(rows.join('\n'));
  if (problems.length > 0) {
    console.error(`\nproblems:\n${problems.join('\n')}`);
    process.exitCode = 1;
  }
} finally {
  await stopAll();
}
