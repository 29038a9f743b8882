/**
 * `npm run bench:profile`: where the gateway's CPU goes on the distinct-query workload.
 *
 * Starts the simulator (SPP latency 0 ms) and, per workload, a gateway under
 * `node --cpu-prof`; loads it with distinct queries (every request its own `start < X`
 * literal, 10 connections) for a few seconds, stops it (the profile is written on exit) and
 * prints the self time per function and per package. Profiles land in bench/profiles/
 * (not committed); open them in Chrome DevTools for the call tree.
 *
 *   npm run bench:profile [-- --seconds 6 --rows 25,1000 --shape literals|variables --target gateway|baseline]
 */
import { readdirSync, readFileSync, mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { load, side, type Target } from './load.js';
import { cpuMsOf, startBaseline, startGateway, startSimulator, stop, stopAll } from './procs.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
};
const SECONDS = Number(arg('seconds', '6'));
const ROWS = arg('rows', '25,1000').split(',').map(Number);
/** `literals` (every request a new document) or `variables` (one operation, a new filter value each time). */
const SHAPE = arg('shape', 'literals');
/** `gateway` or `baseline` (bench/baseline/gateway.ts), to compare where each spends its time. */
const TARGET = arg('target', 'gateway');
const DIR = fileURLToPath(new URL('./profiles/', import.meta.url));
const FAR_FUTURE = 32_503_680_000_000;
const FIELDS = 'nodes { sessionId jobName status start end duration } pageInfo { hasNextPage endCursor }';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

/** Self time per function and per package, in % of the profile's samples. */
function summarise(file: string, lastS: number, top = 22): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
    startTime: number;
    endTime: number;
  };
  // Only the measured load and the shutdown after it: start-up (module loading) is not the request path.
  const from = profile.endTime - lastS * 1e6;
  const hits = new Map<number, number>();
  let t = profile.startTime;
  let total = 0;
  profile.samples.forEach((id, i) => {
    t += profile.timeDeltas[i] ?? 0;
    if (t < from) return;
    hits.set(id, (hits.get(id) ?? 0) + 1);
    total++;
  });
  const idle = profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').reduce((s, n) => s + (hits.get(n.id) ?? 0), 0);
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  for (const node of profile.nodes) {
    const n = hits.get(node.id) ?? 0;
    if (n === 0 || node.callFrame.functionName === '(idle)') continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(src|bench)\//, '$1/');
    const pkg =
      /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url)?.[1] ??
      (url.includes('/src/')
        ? 'gateway src/'
        : url.startsWith('node:')
          ? 'node: core'
          : url === ''
            ? functionName.startsWith('(')
              ? functionName
              : 'V8 builtins (JSON.parse, ...)'
            : 'other');
    const key = `${functionName || '(anonymous)'} ${where ? `${where}:${lineNumber + 1}` : ''}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + n);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + n);
  }
  // Inclusive time per function: a node's samples and its subtree's, counted once per stack
  // even when the function recurses.
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const inclusive = new Map<string, number>();
  const keyOf = (n: ProfileNode) =>
    `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(src|bench)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
  const walk = (id: number, open: Set<string>): number => {
    const n = nodes.get(id)!;
    const key = keyOf(n);
    const mine = open.has(key);
    if (!mine) open.add(key);
    let sum = n.callFrame.functionName === '(idle)' ? 0 : (hits.get(id) ?? 0);
    for (const child of n.children ?? []) sum += walk(child, open);
    if (!mine) {
      open.delete(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + sum);
    }
    return sum;
  };
  walk(profile.nodes[0]!.id, new Set());
  const busy = total - idle;
  const pct = (n: number) => `${((100 * n) / busy).toFixed(1).padStart(5)} %`;
  const rows = (m: Map<string, number>, k: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([name, n]) => `  ${pct(n)}  ${name}`);
  return [
    `busy samples ${busy} of ${total} (${((100 * busy) / total).toFixed(0)} % of wall time); shares below are of busy time`,
    'by package:',
    ...rows(byPackage, 14),
    'by function (self):',
    ...rows(byFunction, top),
    'by function (inclusive, gateway and library frames):',
    ...rows(
      new Map(
        [...inclusive].filter(
          ([k]) =>
            !/^\((root|program|garbage)|^(processTicksAndRejections|runMicrotasks|emit|listOnTimeout|processTimers|onStreamRead|Module\.|socketOnData|parserOnIncoming|parserOnHeadersComplete|parserOnBody|parserOnMessageComplete|(anonymous) :0)/.test(
              k,
            ),
        ),
      ),
      top + 10,
    ),
  ].join('\n');
}

async function main() {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  const sim = await startSimulator('sim-0ms', { latencyMs: 0 });
  for (const rows of ROWS) {
    const dir = `${DIR}rows-${rows}`;
    const nodeArgs = ['--cpu-prof', `--cpu-prof-dir=${dir}`];
    const gw =
      TARGET === 'baseline' ? await startBaseline(`baseline profile ${rows}`, sim, nodeArgs) : await startGateway(`gw profile ${rows}`, sim, { nodeArgs });
    const query = `query Page($filter: JobSessionFilter) { jobSessions(first: ${rows}, filter: $filter) { ${FIELDS} } }`;
    let i = 0;
    const target: Target = {
      label: `distinct first:${rows}`,
      url: `${gw.base}/graphql`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      nextBody: () =>
        SHAPE === 'variables'
          ? JSON.stringify({ query, variables: { filter: { start: { lt: FAR_FUTURE - ++i } } } })
          : JSON.stringify({ query: `{ jobSessions(first: ${rows}, filter: {start: {lt: ${FAR_FUTURE - ++i}}}) { ${FIELDS} } }` }),
      verify: (body) => body.startsWith('{"data":{'),
    };
    await load(side('warm', [target], 4), { durationS: 1 });
    const cpuBefore = cpuMsOf(gw.pid);
    const run = await load(side(target.label, [target], 10), { durationS: SECONDS });
    const cpuPerRequest = (cpuMsOf(gw.pid) - cpuBefore) / run.requests;
    const stopping = Date.now();
    await stop(gw, 10_000);
    const lastS = SECONDS + (Date.now() - stopping) / 1000;
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    process.stdout.write(
      `\n## ${TARGET}, first: ${rows}, distinct ${SHAPE}, 10 connections, SPP 0 ms: ${(run.requests / run.durationS).toFixed(0)} req/s, ${cpuPerRequest.toFixed(2)} ms of ${TARGET} CPU per request, ${run.non2xx + run.errors + run.mismatches} bad\n`,
    );
    process.stdout.write(file ? `${summarise(`${dir}/${file}`, lastS)}\n` : `no profile written in ${dir}\n`);
  }
  await stopAll();
}

main().then(
  () => process.exit(0),
  async (error: unknown) => {
    process.stderr.write(`profile: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    await stopAll();
    process.exit(1);
  },
);
