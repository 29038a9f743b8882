/**
 * `npm run bench:memory`: the deployed gateway's memory (`node dist/main.js`, after `npm run build`)
 * under the 1000-row distinct load of bench/run.ts (figure 3), with and without each memory
 * setting, side by side in one run.
 *
 * For each variant, on a fresh gateway process over one simulator (SPP 0 ms, its own process):
 * RSS idle after start (5 s after the ready line), then the load (10 connections, every request
 * its own `start < X` bound: as variables, then as literals, `--seconds` each), peak RSS (VmHWM)
 * and RSS after it. With `--snapshots DIR` the first variant also writes heap snapshots before
 * and after the load, and one in the middle of it (`--heapsnapshot-signal`), summarised by
 * bench/heap-summary.ts.
 *
 *   npm run bench:memory -- [--seconds 10] [--only name,name] [--snapshots /tmp/heap]
 *
 * Needs `npm run build` first. Writes nothing; prints a table.
 */
import { existsSync, readdirSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import os from 'node:os';
import { load, problems, side, type Target } from './load.js';
import { ROOT } from '../test/support/processes.js';
import { cpuMsOf, rssOf, startGateway, startSimulator, stop, stopAll, type Server } from './procs.js';

const { values: args } = parseArgs({
  options: { seconds: { type: 'string', default: '10' }, only: { type: 'string' }, snapshots: { type: 'string' } },
});
const SECONDS = Number(args.seconds);
const CONNECTIONS = 10;
const FAR_FUTURE = 32_503_680_000_000;
const FIELDS = 'nodes { sessionId jobName status start end duration } pageInfo { hasNextPage endCursor }';
const VARIABLES_QUERY = `query Page($filter: JobSessionFilter) { jobSessions(first: 1000, filter: $filter) { ${FIELDS} } }`;
const LITERAL_QUERY = (lt: number) => `{ jobSessions(first: 1000, filter: {start: {lt: ${lt}}}) { ${FIELDS} } }`;
let bound = 0;
const nextBound = () => FAR_FUTURE - ++bound;
const graphqlOk = (body: string) => body.startsWith('{"data":{') && !body.includes('"errors":');

interface Variant {
  name: string;
  nodeArgs: string[];
  env?: Record<string, string>;
}

/** What is compared: the defaults, the Kubernetes manifest's heap limit, and a smaller young generation. */
const VARIANTS: Variant[] = [
  { name: 'defaults', nodeArgs: [] },
  { name: 'old 320 (k8s)', nodeArgs: ['--max-old-space-size=320'] },
  { name: 'semi 4', nodeArgs: ['--max-semi-space-size=4'] },
  { name: 'semi 4 + old 320', nodeArgs: ['--max-semi-space-size=4', '--max-old-space-size=320'] },
  { name: 'semi 8 + old 320', nodeArgs: ['--max-semi-space-size=8', '--max-old-space-size=320'] },
  { name: 'semi 2 + old 160', nodeArgs: ['--max-semi-space-size=2', '--max-old-space-size=160'] },
];

function targets(gw: Server, shape: 'variables' | 'literals'): Target {
  const base = {
    label: shape,
    url: `${gw.base}/graphql`,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    verify: graphqlOk,
  };
  return shape === 'variables'
    ? {
        ...base,
        body: JSON.stringify({ query: VARIABLES_QUERY }),
        nextBody: () => JSON.stringify({ query: VARIABLES_QUERY, variables: { filter: { start: { lt: nextBound() } } } }),
      }
    : { ...base, body: JSON.stringify({ query: LITERAL_QUERY(FAR_FUTURE) }), nextBody: () => JSON.stringify({ query: LITERAL_QUERY(nextBound()) }) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const fmt = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? 'n/a' : n.toFixed(0));

/** Asks the gateway for a heap snapshot (it runs with --heapsnapshot-signal=SIGUSR2) and waits for the file. */
async function snapshot(gw: Server, dir: string, label: string): Promise<void> {
  const before = new Set(readdirSync(dir));
  gw.child.kill('SIGUSR2');
  for (let i = 0; i < 240; i++) {
    await sleep(500);
    const fresh = readdirSync(dir).filter((f) => !before.has(f) && f.endsWith('.heapsnapshot'));
    // The file is written in place; its size stops changing when it is complete.
    if (fresh.length > 0) {
      const rss = rssOf(gw.pid);
      await sleep(3_000);
      process.stdout.write(`  heap snapshot ${label}: ${join(dir, fresh[0]!)} (RSS then ${fmt(rss?.rssMb)} MiB)\n`);
      return;
    }
  }
  process.stdout.write(`  heap snapshot ${label}: none appeared in ${dir}\n`);
}

async function main(): Promise<void> {
  if (!existsSync(join(ROOT, 'dist/main.js'))) throw new Error('dist/main.js is missing: run `npm run build` first');
  const chosen = args.only ? VARIANTS.filter((v) => args.only!.split(',').includes(v.name)) : VARIANTS;
  // Snapshots pause the gateway for seconds (its requests time out): they get a process of their own, not in the comparison.
  if (args.snapshots) chosen.unshift({ name: 'defaults, heap snapshots (not comparable)', nodeArgs: [] });
  const sim = await startSimulator('simulator', { latencyMs: 0 });
  process.stdout.write(
    `Memory of node dist/main.js, 1000-row distinct load (${CONNECTIONS} connections, ${SECONDS} s variables + ${SECONDS} s literals); ${os.cpus().length} cores, load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} at start, Node ${process.version}\n`,
  );
  const rows: string[] = [];
  for (const [i, variant] of chosen.entries()) {
    const dir = args.snapshots && i === 0 ? args.snapshots : undefined;
    if (dir) mkdirSync(dir, { recursive: true });
    const gw = await startGateway(`gateway (${variant.name})`, sim, {
      deployed: true,
      nodeArgs: [...variant.nodeArgs, ...(dir ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`] : [])],
      env: { LOG_LEVEL: 'warn', ...variant.env },
    });
    await sleep(5_000);
    const idle = rssOf(gw.pid);
    if (dir) await snapshot(gw, dir, 'idle');
    let requests = 0;
    let bad = 0;
    const cpuBefore = cpuMsOf(gw.pid);
    // While the load runs: the largest JS heap (committed and used) and external memory the gateway reports.
    const most = { heapTotal: 0, heapUsed: 0, external: 0 };
    let sampling = false;
    const sampler = setInterval(() => {
      if (sampling) return;
      sampling = true;
      fetch(`${gw.base}/metrics`, { signal: AbortSignal.timeout(10_000) })
        .then((r) => r.text())
        .then((text) => {
          const metric = (name: string) => Number(new RegExp(`^${name} ([0-9.e+-]+)`, 'm').exec(text)?.[1] ?? 0) / 2 ** 20;
          most.heapTotal = Math.max(most.heapTotal, metric('nodejs_heap_size_total_bytes'));
          most.heapUsed = Math.max(most.heapUsed, metric('nodejs_heap_size_used_bytes'));
          most.external = Math.max(most.external, metric('nodejs_external_memory_bytes'));
        })
        .catch(() => undefined)
        .finally(() => (sampling = false));
    }, 500);
    for (const shape of ['variables', 'literals'] as const) {
      // With snapshots, one more in the middle of the first load: what the requests in flight hold.
      const during = dir && shape === 'variables' ? sleep((SECONDS * 1000) / 2).then(() => snapshot(gw, dir, 'during the load')) : undefined;
      const run = await load(side(shape, [targets(gw, shape)], CONNECTIONS), { durationS: SECONDS });
      await during;
      requests += run.requests;
      bad += run.non2xx + run.errors + run.timeouts + run.mismatches;
    }
    clearInterval(sampler);
    const peak = rssOf(gw.pid);
    const cpuPerRequest = (cpuMsOf(gw.pid) - cpuBefore) / requests;
    await sleep(2_000);
    const after = rssOf(gw.pid);
    if (dir) await snapshot(gw, dir, 'after load');
    rows.push(
      `| ${variant.name} | \`${variant.nodeArgs.join(' ') || '(none)'}\` | ${fmt(idle?.rssMb)} | ${fmt(peak?.hwmMb)} | ${fmt(after?.rssMb)} | ${fmt(most.heapTotal)} / ${fmt(most.heapUsed)} / ${fmt(most.external)} | ${requests} | ${cpuPerRequest.toFixed(1)} | ${bad} |`,
    );
    process.stdout.write(`${rows.at(-1)}\n`);
    await stop(gw);
  }
  await stop(sim);
  process.stdout.write(
    `\n| variant | node flags | idle RSS MiB | peak RSS (VmHWM) MiB | RSS 2 s after MiB | largest heap committed / used / external MiB (sampled) | requests | gateway CPU ms per request | bad |\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n${rows.join('\n')}\n`,
  );
  for (const problem of problems) process.stdout.write(`problem: ${problem}\n`);
  process.stdout.write(
    `load average at end: ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}\n`,
  );
}

main().then(
  () => process.exit(0),
  async (error: unknown) => {
    console.error(error);
    await stopAll();
    process.exit(1);
  },
);
