/**
 * `npm run soak -- --minutes N` (or `--seconds N`): a long run of the gateway over the
 * simulator with a mixed workload while the simulator injects faults, reported per interval
 * (a minute by default) and judged at the end.
 *
 * - The gateway is its own process (bench/procs.ts), so its RSS, file descriptors and sockets
 *   are read from /proc and its heap and event-loop delay from its /metrics; the simulator
 *   runs in this process, so the soak drives its faults, its live changes and its restart.
 * - Workload (concurrent workers): distinct filters, deep pages (`last`, large `first`),
 *   cursor walks forward and backward checked for exactness, `jobSession` lookups, bad input.
 *   New capabilities (logs, jobs, subscriptions, actions) join as entries of OPERATIONS.
 * - Faults, in a cycle of eight slots: 5xx bursts, hangs, dropped connections with an expiry
 *   of SPP's login sessions, and a restart of the simulator on the same port. The list also
 *   changes all along (a session starts and the oldest expires every 2 s).
 * - Pass criteria (printed at the end; exit code 1 when one fails): no INTERNAL_SERVER_ERROR;
 *   no error but UPSTREAM_* for a request in flight during a fault (and none at all outside
 *   faults, bad-input requests excepted, which must get their own code); every cursor walk
 *   completes and is exact; RSS and file descriptors flat after warm-up (the first interval):
 *   at the end at most RSS_BOUND_MB and FD_BOUND above their lowest level after warm-up.
 *
 * All traffic is on 127.0.0.1.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startSimulator, type Simulator } from '../src/simulator/index.js';
import { ACTIVE_STATUSES } from '../src/simulator/vocabulary.js';
import { translateFilter } from '../src/translate/filter.js';
import { translateOrder } from '../src/translate/order.js';
import type { JobSessionFilter, JobSessionOrder } from '../src/__generated__/resolvers-types.js';
import { rssOf, startGateway, stopAll, type Server } from './procs.js';

const RSS_BOUND_MB = 64;
const FD_BOUND = 16;
/**
 * The gateway's upstream budgets in the soak: a hang costs seconds, not minutes, and a loaded
 * machine (the simulator shares this process with the load) still answers well within them.
 */
const GATEWAY_ENV = { SPP_RESPONSE_TIMEOUT_MS: '4000', SPP_CONNECT_TIMEOUT_MS: '1000', SPP_RETRY_LIMIT: '1', LOG_LEVEL: 'error' };
const NOW = Date.UTC(2026, 10, 1, 12, 0, 0);
const DAY = 86_400_000;

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string' },
    seconds: { type: 'string' },
    'report-seconds': { type: 'string' },
    workers: { type: 'string', default: '4' },
  },
});
const durationMs = args.seconds ? Number(args.seconds) * 1000 : Number(args.minutes ?? '10') * 60_000;
const reportMs = args['report-seconds'] ? Number(args['report-seconds']) * 1000 : Math.min(60_000, durationMs / 4);
const workers = Number(args.workers);
if (!(durationMs >= 10_000) || !(reportMs >= 1000) || !(workers >= 1)) {
  process.stderr.write('Usage: npm run soak -- --minutes N | --seconds N (at least 10 s) [--report-seconds S] [--workers W]\n');
  process.exit(2);
}

// ---------------------------------------------------------------------------------------
// Simulator, faults and live changes

let sim: Simulator;
let simPort = 0;
/**
 * Ids inserted or expired at any time (or brought back by a restart), and sessions that were
 * running when the list moved on (their end, duration and status change, so they move in
 * those orders): no walk can promise these exactly once, and none is judged on them.
 */
const touched = new Set<string>();
let upstreamCalls = 0;

async function startSim(): Promise<void> {
  sim = await startSimulator({ seed: 1, now: NOW, host: '127.0.0.1', port: simPort });
  simPort = sim.port;
}

function takeUpstreamCalls(): number {
  const n = sim.requests.filter((r) => r.path.startsWith('/api/endeavour/jobsession')).length;
  sim.clearRequests();
  return n;
}

/**
 * A fault window: requests in flight during it, or up to FAULT_GRACE_MS after, may fail with
 * UPSTREAM_*: a request that starts after a hang ends may still join (single flight) an
 * upstream call that hung, which takes the gateway's whole budget (2 attempts of 4 s) to fail.
 */
const windows: Array<{ kind: string; start: number; end: number }> = [];
const FAULT_GRACE_MS = 2 * Number(GATEWAY_ENV.SPP_RESPONSE_TIMEOUT_MS) + 1_000;
const inFault = (start: number, end: number) => windows.some((w) => start <= w.end + FAULT_GRACE_MS && end >= w.start);

type Slot = 'calm' | '5xx burst' | 'hangs' | 'drops + session expiry' | 'restart';
const CYCLE: Slot[] = ['calm', '5xx burst', 'calm', 'hangs', 'calm', 'drops + session expiry', 'calm', 'restart'];
const slotMs = Math.max(4_000, Math.min(15_000, durationMs / (CYCLE.length + 1)));

async function runSlot(slot: Slot): Promise<void> {
  const window = { kind: slot, start: Date.now(), end: Number.POSITIVE_INFINITY };
  if (slot !== 'calm') windows.push(window);
  switch (slot) {
    case 'calm':
      await sleep(slotMs);
      return;
    case '5xx burst':
      sim.configure({ faults: { errorRate: 0.5 } });
      await sleep(slotMs / 2);
      sim.configure({ faults: { errorRate: 0 } });
      break;
    case 'hangs':
      sim.configure({ faults: { hangRate: 0.05 } });
      await sleep(slotMs / 2);
      sim.configure({ faults: { hangRate: 0 } });
      break;
    case 'drops + session expiry':
      sim.configure({ faults: { dropRate: 0.1 } });
      sim.expireLoginSessions();
      await sleep(slotMs / 2);
      sim.configure({ faults: { dropRate: 0 } });
      break;
    case 'restart': {
      upstreamCalls += takeUpstreamCalls();
      await sim.close();
      await sleep(1_000);
      await startSim();
      // The new simulator regenerates the original data: every change since is undone.
      break;
    }
  }
  window.end = Date.now();
  await sleep(Math.max(0, slotMs - (window.end - window.start)));
}

// ---------------------------------------------------------------------------------------
// Requests and outcomes

interface Outcome {
  op: string;
  start: number;
  ms: number;
  status: number;
  codes: string[];
}

let gateway: Server;
let outcomes: Outcome[] = [];
/** Every outcome reported so far, kept for the final judgement. */
const judged: Outcome[] = [];
const failures: string[] = [];
let walksDone = 0;
let walksExact = 0;

async function post(op: string, body: string): Promise<{ outcome: Outcome; json: any }> {
  const start = Date.now();
  let status = 0;
  let json: any;
  try {
    const response = await fetch(`${gateway.base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(30_000),
    });
    status = response.status;
    const text = await response.text();
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  } catch (error) {
    json = { errors: [{ extensions: { code: `CLIENT_${(error as Error).name}` } }] };
  }
  const codes = ((json?.errors ?? []) as Array<{ extensions?: { code?: string } }>).map((e) => e.extensions?.code ?? 'NO_CODE');
  const outcome = { op, start, ms: Date.now() - start, status, codes };
  outcomes.push(outcome);
  return { outcome, json };
}

const gql = (op: string, query: string, variables: Record<string, unknown> = {}) => post(op, JSON.stringify({ query, variables }));

const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)]!;

function randomFilter(): JobSessionFilter {
  const filter: JobSessionFilter = {};
  const from = NOW - Math.floor(Math.random() * 700) * DAY;
  filter.start = { gte: from, lt: from + (5 + Math.floor(Math.random() * 40)) * DAY };
  if (Math.random() < 0.5) filter.status = [pick(['COMPLETED', 'FAILED', 'PARTIAL', 'RUNNING'] as const)];
  if (Math.random() < 0.3) filter.type = [pick(['protection', 'catalog', 'maintenance'])];
  if (Math.random() < 0.2) filter.jobName = pick(['vmware_*', '*Gold*', '*_sla']);
  return filter;
}

function randomOrder(): JobSessionOrder[] | undefined {
  return pick([
    undefined,
    [{ field: 'START', direction: 'ASC' }],
    [
      { field: 'JOB_NAME', direction: 'ASC' },
      { field: 'START', direction: 'DESC' },
    ],
    [{ field: 'STATUS', direction: 'DESC' }],
    [{ field: 'DURATION', direction: 'DESC' }],
  ] as const);
}

const PAGE = `query Page($first: Int, $after: String, $last: Int, $before: String, $filter: JobSessionFilter, $orderBy: [JobSessionOrder!]) {
  jobSessions(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) {
    edges { cursor node { sessionId jobName start status } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

/** A request that faults may fail: retried (as a client would) until it gets an answer without UPSTREAM_* errors. */
async function untilAnswered(op: string, variables: Record<string, unknown>): Promise<any> {
  for (let attempt = 0; attempt < 40; attempt++) {
    const { outcome, json } = await gql(op, PAGE, variables);
    if (outcome.status === 200 && outcome.codes.length === 0) return json.data.jobSessions;
    if (!outcome.codes.every((c) => c.startsWith('UPSTREAM_') || c.startsWith('CLIENT_'))) return undefined;
    await sleep(250);
  }
  return undefined;
}

/** A cursor walk to the end of a filtered list, checked against the simulator's own list. */
async function walk(direction: 'forward' | 'backward'): Promise<void> {
  const filter = randomFilter();
  const orderBy = randomOrder();
  const snapshot = sim.list({ filter: translateFilter(filter).filter, sort: translateOrder(orderBy) }).map((r) => r.id);
  const size = 10 + Math.floor(Math.random() * 40);
  const seen: string[] = [];
  let cursor: string | null = null;
  for (let pages = 0; ; pages++) {
    const variables = direction === 'forward' ? { first: size, after: cursor, filter, orderBy } : { last: size, before: cursor, filter, orderBy };
    const page = await untilAnswered(`walk ${direction}`, variables);
    if (!page || pages > 500) {
      failures.push(`a ${direction} walk (filter ${JSON.stringify(filter)}) stopped after ${pages} pages: a page never got an answer`);
      walksDone++;
      return;
    }
    const ids = page.edges.map((e: { node: { sessionId: string } }) => e.node.sessionId) as string[];
    seen.push(...(direction === 'forward' ? ids : ids.reverse()));
    const more = direction === 'forward' ? page.pageInfo.hasNextPage : page.pageInfo.hasPreviousPage;
    if (!more) break;
    cursor = direction === 'forward' ? page.pageInfo.endCursor : page.pageInfo.startCursor;
  }
  walksDone++;
  const ordered = direction === 'forward' ? seen : [...seen].reverse();
  // Judged once the walk is over: `touched` then holds every change made during it.
  const stable = snapshot.filter((id) => !touched.has(id));
  const returnedStable = ordered.filter((id) => stable.includes(id));
  const duplicates = returnedStable.length - new Set(returnedStable).size;
  if (duplicates === 0 && JSON.stringify(returnedStable) === JSON.stringify(stable)) walksExact++;
  else {
    const missing = stable.filter((id) => !returnedStable.includes(id));
    failures.push(
      `a ${direction} walk (filter ${JSON.stringify(filter)}, order ${JSON.stringify(orderBy)}) was not exact: ${duplicates} duplicates, ${returnedStable.length} of ${stable.length} stable records in order; missing ${missing.slice(0, 5).join(', ')}`,
    );
  }
}

interface BadInput {
  name: string;
  body: string;
  expect: string;
}

const BAD_INPUTS: BadInput[] = [
  {
    name: 'forged cursor',
    body: JSON.stringify({ query: '{ jobSessions(first: 5, after: "bm90LWEtY3Vyc29y.AAAA") { edges { cursor } } }' }),
    expect: 'BAD_USER_INPUT',
  },
  { name: 'negative first', body: JSON.stringify({ query: '{ jobSessions(first: -1) { edges { cursor } } }' }), expect: 'BAD_USER_INPUT' },
  { name: 'unknown field', body: JSON.stringify({ query: '{ jobSessions { edges { node { nope } } } }' }), expect: 'GRAPHQL_VALIDATION_FAILED' },
  { name: 'truncated JSON', body: '{"query":"{ jobSessions', expect: 'BAD_REQUEST' },
];

type Operation = () => Promise<void>;

const OPERATIONS: Array<{ weight: number; run: Operation }> = [
  {
    weight: 5,
    run: async () => {
      await gql(
        'distinct filter',
        'query F($f: JobSessionFilter) { jobSessions(first: 20, filter: $f) { totalCount edges { node { id jobName start status } } } }',
        { f: randomFilter() },
      );
    },
  },
  {
    weight: 2,
    run: async () => {
      await gql(
        'deep page',
        PAGE,
        Math.random() < 0.5 ? { last: 50, orderBy: randomOrder() } : { first: 500, orderBy: randomOrder(), filter: { start: { gte: NOW - 200 * DAY } } },
      );
    },
  },
  { weight: 1, run: () => walk('forward') },
  { weight: 1, run: () => walk('backward') },
  {
    weight: 3,
    run: async () => {
      const ids = sim.list({}).map((r) => r.id);
      await gql('jobSession lookup', 'query S($id: ID!) { jobSession(id: $id) { id jobName status start } }', { id: pick(ids) });
    },
  },
  {
    weight: 1,
    run: async () => {
      const bad = pick(BAD_INPUTS);
      const { outcome } = await post(`bad input: ${bad.name}`, bad.body);
      if (!outcome.codes.includes(bad.expect) && !inFault(outcome.start, outcome.start + outcome.ms)) {
        failures.push(`bad input "${bad.name}" got ${outcome.status} ${outcome.codes.join(',') || 'no error'}, expected ${bad.expect}`);
      }
    },
  },
];

// ---------------------------------------------------------------------------------------
// Measurements

interface Sample {
  at: number;
  rssMb: number;
  fds: number;
  sockets: number;
  heapMb: number;
  loopP99Ms: number;
}

function fdsOf(pid: number): { fds: number; sockets: number } {
  let fds = 0;
  let sockets = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    fds++;
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) sockets++;
    } catch {
      // closed meanwhile
    }
  }
  return { fds, sockets };
}

async function sample(): Promise<Sample> {
  let heapMb = Number.NaN;
  let loopP99Ms = Number.NaN;
  try {
    const text = await (await fetch(`${gateway.base}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
    const metric = (name: string) => Number(new RegExp(`^${name} ([0-9.e+-]+)`, 'm').exec(text)?.[1] ?? Number.NaN);
    heapMb = metric('nodejs_heap_size_used_bytes') / 2 ** 20;
    loopP99Ms = metric('nodejs_eventloop_lag_p99_seconds') * 1000;
  } catch {
    // reported as n/a
  }
  return { at: Date.now(), rssMb: rssOf(gateway.pid)?.rssMb ?? Number.NaN, ...fdsOf(gateway.pid), heapMb, loopP99Ms };
}

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

const samples: Sample[] = [];

function report(index: number, batch: Outcome[], calls: number, s: Sample): void {
  judged.push(...batch);
  const byOutcome = new Map<string, number>();
  for (const o of batch) {
    const key = o.codes.length === 0 ? (o.status === 200 ? 'ok' : `HTTP ${o.status}`) : [...new Set(o.codes)].sort().join('+');
    byOutcome.set(key, (byOutcome.get(key) ?? 0) + 1);
  }
  const latencies = batch.map((o) => o.ms).sort((a, b) => a - b);
  const outcomesText = [...byOutcome]
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  process.stdout.write(
    `| ${index} | ${batch.length} | ${outcomesText} | ${calls} | ${fmt(percentile(latencies, 50))} | ${fmt(percentile(latencies, 99))} | ${fmt(s.rssMb)} | ${fmt(s.heapMb)} | ${s.sockets} | ${s.fds} | ${fmt(s.loopP99Ms, 1)} |\n`,
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  await startSim();
  // The simulator runs in this process, not as a child: startGateway reads only its `base`.
  const upstream: Server = { name: 'simulator', pid: process.pid, base: sim.url, child: undefined as never, output: () => '' };
  gateway = await startGateway('gateway', upstream, { env: GATEWAY_ENV });
  process.stdout.write(
    `Soak: ${fmt(durationMs / 1000)} s, ${workers} workers, report every ${fmt(reportMs / 1000)} s, fault slots of ${fmt(slotMs / 1000)} s (${CYCLE.join(', ')}); gateway pid ${gateway.pid} at ${gateway.base}, simulator at ${sim.url}\n\n`,
  );
  process.stdout.write('| interval | requests | outcomes | upstream calls | p50 ms | p99 ms | RSS MB | heap MB | sockets | fds | loop p99 ms |\n');
  process.stdout.write('|---|---|---|---|---|---|---|---|---|---|---|\n');

  const started = Date.now();
  const end = started + durationMs;
  let running = true;

  const live = setInterval(() => {
    for (const r of sim.list({})) if (ACTIVE_STATUSES.has(r.status)) touched.add(r.id);
    const { inserted, expired } = sim.step({ insert: 1, expire: 1 });
    for (const id of [...inserted, ...expired]) touched.add(id);
  }, 2_000);

  const faults = (async () => {
    for (let i = 0; running; i++) {
      const slot = CYCLE[i % CYCLE.length]!;
      if (Date.now() + slotMs > end) break;
      await runSlot(slot);
    }
  })();

  const totalWeight = OPERATIONS.reduce((n, o) => n + o.weight, 0);
  const chooseOperation = () => {
    let r = Math.random() * totalWeight;
    for (const o of OPERATIONS) if ((r -= o.weight) < 0) return o.run;
    return OPERATIONS[0]!.run;
  };
  const load = Array.from({ length: workers }, async () => {
    while (running) await chooseOperation()();
  });

  let index = 0;
  while (Date.now() < end) {
    await sleep(Math.min(reportMs, end - Date.now()));
    const batch = outcomes;
    outcomes = [];
    const calls = upstreamCalls + takeUpstreamCalls();
    upstreamCalls = 0;
    const s = await sample();
    samples.push(s);
    report(++index, batch, calls, s);
  }
  running = false;
  clearInterval(live);
  await Promise.all([faults, ...load]);
  const tail = outcomes;

  // Judgement over every request of the run.
  const all = [...judged, ...tail];
  const internal = all.filter((o) => o.codes.includes('INTERNAL_SERVER_ERROR') || (o.status >= 500 && o.codes.length === 0));
  const unexpected = all.filter((o) => {
    if (o.op.startsWith('bad input')) return false;
    const during = inFault(o.start, o.start + o.ms);
    return o.codes.some((c) => !(during && (c.startsWith('UPSTREAM_') || c.startsWith('CLIENT_'))));
  });
  const afterWarmup = samples.slice(1);
  const last = samples.at(-1)!;
  const minRss = Math.min(...afterWarmup.map((s) => s.rssMb));
  const minFds = Math.min(...afterWarmup.map((s) => s.fds));
  const flat = afterWarmup.length === 0 || (last.rssMb - minRss <= RSS_BOUND_MB && last.fds - minFds <= FD_BOUND);

  const criteria: Array<[string, boolean, string]> = [
    ['no INTERNAL_SERVER_ERROR (nor a 5xx without a code)', internal.length === 0, `${internal.length} of ${all.length} requests`],
    [
      'no error but UPSTREAM_* during injected faults, none outside them (bad input gets its own code)',
      unexpected.length === 0 && !failures.some((f) => f.startsWith('bad input')),
      `${unexpected.length} unexpected${unexpected[0] ? `, e.g. ${unexpected[0].op}: ${unexpected[0].codes.join(',')}` : ''}`,
    ],
    ['every cursor walk complete and exact', walksExact === walksDone && walksDone > 0, `${walksExact} of ${walksDone} walks exact`],
    [
      `RSS and fds flat after warm-up (end ≤ lowest after the first interval + ${RSS_BOUND_MB} MB / + ${FD_BOUND})`,
      flat,
      afterWarmup.length === 0 ? 'one interval only' : `RSS ${fmt(minRss)} → ${fmt(last.rssMb)} MB, fds ${minFds} → ${last.fds}`,
    ],
  ];
  process.stdout.write(
    `\nFault windows: ${windows.length} (${[...new Set(windows.map((w) => w.kind))].join(', ')}); requests: ${all.length}; walks: ${walksDone}\n`,
  );
  process.stdout.write('\nPass criteria:\n');
  for (const [name, ok, detail] of criteria) process.stdout.write(`  ${ok ? 'PASS' : 'FAIL'}  ${name}: ${detail}\n`);
  for (const failure of failures.slice(0, 10)) process.stdout.write(`  - ${failure}\n`);
  const passed = criteria.every(([, ok]) => ok);
  process.stdout.write(`\nSoak ${passed ? 'passed' : 'FAILED'}.\n`);

  await stopAll();
  await sim.close();
  process.exit(passed ? 0 : 1);
}

main().catch(async (error: unknown) => {
  process.stderr.write(`Soak failed to run: ${error instanceof Error ? error.stack : String(error)}\n`);
  await stopAll();
  process.exit(1);
});
