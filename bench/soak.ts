/**
 * `npm run soak -- --minutes N` (or `--seconds N`): a long run of the gateway over the
 * simulator with a mixed workload while the simulator injects faults, reported per interval
 * (a minute by default) and judged at the end.
 *
 * - Two gateway replicas, each its own process (bench/procs.ts), share state through a real
 *   redis-server (test/support/redis.ts); requests go to them in turn, as a load balancer would
 *   send them. Each replica's RSS, file descriptors and sockets are read from /proc, its heap and
 *   event-loop delay from its /metrics; the simulator runs in this process, so the soak drives
 *   its faults, its live changes and its restart, and reads its request log and its data.
 * - Workload (concurrent workers): distinct filters, deep pages (`last`, large `first`),
 *   cursor walks forward and backward checked for exactness, `jobSession` lookups, bad input,
 *   job log walks checked against the simulator's log (bench/soak-actions.ts). Beside them an
 *   action every second (cancel or rerun, with a `clientMutationId` sent to both replicas at
 *   once, or without one) and SUBSCRIBERS subscribers that subscribe, receive, disconnect and
 *   resume on every transport and replica in turn (bench/soak-live.ts).
 * - Faults, in a cycle of twelve slots (every other one calm): 5xx bursts, a replica SIGKILLed
 *   and started again, hangs, a Redis restart (SIGKILL, empty on return), dropped connections
 *   with an expiry of SPP's login sessions, and a restart of the simulator on the same port. The
 *   list also changes all along (a session starts, running ones progress and the oldest expires
 *   every 2 s).
 * - Pass criteria (printed at the end; exit code 1 when one fails): no INTERNAL_SERVER_ERROR;
 *   no error but UPSTREAM_* (or a refused connection to a killed replica) for a request in flight
 *   during a fault (and none at all outside faults, bad-input requests excepted, which must get
 *   their own code, and actions SPP refuses, which get theirs); every cursor walk and job log walk
 *   completes and is exact; no event lost or repeated for a connected subscriber, none the
 *   simulator never had; no action submitted twice (counted at the simulator); RSS and file
 *   descriptors flat per replica process after its warm-up: at the end at most RSS_BOUND_MB and
 *   FD_BOUND above their lowest level after it.
 *
 * All traffic is on 127.0.0.1.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { startSimulator, type Simulator } from '../src/simulator/index.js';
import { ACTIVE_STATUSES } from '../src/simulator/vocabulary.js';
import { translateFilter } from '../src/translate/filter.js';
import { translateOrder } from '../src/translate/order.js';
import type { JobSessionFilter, JobSessionOrder } from '../src/__generated__/resolvers-types.js';
import { rssOf, startGateway, stopAll, type Server } from './procs.js';
import { redisServerPath, startRedis, type RedisServer } from '../test/support/redis.js';
import { judgeLive, simulatorDown, snapshot, SNAPSHOT_MS, startChangeLog, subscriberLoop, TRANSPORTS } from './soak-live.js';
import { act, harvestPosts, judgeActions, judgeLogs, logWalk, type Answer } from './soak-actions.js';

const RSS_BOUND_MB = 64;
const FD_BOUND = 16;
/**
 * The gateway's upstream budgets in the soak: a hang costs seconds, not minutes, and a loaded
 * machine (the simulator shares this process with the load) still answers well within them.
 */
const SOAK_TOKEN = 'soak-token-0123456789abcdef';
const AUTH = { authorization: `Bearer ${SOAK_TOKEN}` };
const GATEWAY_ENV = {
  SPP_RESPONSE_TIMEOUT_MS: '4000',
  SPP_CONNECT_TIMEOUT_MS: '1000',
  SPP_RETRY_LIMIT: '1',
  LOG_LEVEL: 'error',
  // Two replicas share state through one real redis-server (the same keys on both).
  SESSION_SECRET: 'soak-session-secret-0123456789abcdef',
  REDIS_KEY_PREFIX: 'soak:',
  // Subscribers see each live step as its own change, and come back quickly after a fault.
  SUBSCRIPTION_POLL_MS: '250',
  SUBSCRIPTION_IDLE_POLL_MS: '250',
  SUBSCRIPTION_MAX_BACKOFF_MS: '2000',
  // A started job's new session is looked for briefly: a soak action should not hold a worker for 10 s.
  ACTION_SESSION_WAIT_MS: '2000',
  // Callers present a token (actions are refused to anonymous callers) and may act.
  GATEWAY_TOKENS: SOAK_TOKEN,
  GATEWAY_ALLOW_MUTATIONS: 'true',
};
const REPLICAS = 2;
/** Concurrent subscribers, each living SUBSCRIBER_LIFE_MS in connected intervals. */
const SUBSCRIBERS = 4;
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
/** True while the simulator restarts: the old one is closed, the new one not yet listening. */
let simDown = false;

async function startSim(): Promise<void> {
  sim = await startSimulator({ seed: 1, now: NOW, host: '127.0.0.1', port: simPort });
  simPort = sim.port;
}

function takeUpstreamCalls(): number {
  harvestPosts(sim.requests);
  const n = sim.requests.filter((r) => r.path.startsWith('/api/endeavour/jobsession')).length;
  sim.clearRequests();
  return n;
}

let redis: RedisServer;
/** The replicas as a load balancer sees them: a killed one is replaced in its slot by its restart. */
const gateways: Server[] = [];
let roundRobin = 0;

function startReplica(slot: number): Promise<Server> {
  const upstream: Server = { name: 'simulator', pid: process.pid, base: sim.url, child: undefined as never, output: () => '' };
  return startGateway(`replica ${slot}`, upstream, { env: { ...GATEWAY_ENV, REDIS_URL: redis.url } });
}

/**
 * A fault window: requests in flight during it, or up to FAULT_GRACE_MS after, may fail with
 * UPSTREAM_*: a request that starts after a hang ends may still join (single flight) an
 * upstream call that hung, which takes the gateway's whole budget (2 attempts of 4 s) to fail.
 */
const windows: Array<{ kind: string; start: number; end: number }> = [];
const FAULT_GRACE_MS = 2 * Number(GATEWAY_ENV.SPP_RESPONSE_TIMEOUT_MS) + 1_000;
const inFault = (start: number, end: number) => windows.some((w) => start <= w.end + FAULT_GRACE_MS && end >= w.start);

type Slot = 'calm' | '5xx burst' | 'hangs' | 'drops + session expiry' | 'restart' | 'redis restart' | 'replica kill';
const CYCLE: Slot[] = [
  'calm',
  '5xx burst',
  'calm',
  'replica kill',
  'calm',
  'hangs',
  'calm',
  'redis restart',
  'calm',
  'drops + session expiry',
  'calm',
  'restart',
];
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
      snapshot(sim);
      // No live steps and no change log while it is down: nobody could see a change made then.
      simDown = true;
      simulatorDown(Date.now());
      const before = new Set(sim.list({}).map((r) => r.id));
      await sim.close();
      await sleep(1_000);
      await startSim();
      // The new simulator regenerates the original data: every change since is undone, and
      // whatever the soak created (live inserts, reruns) is gone: no walk is judged on those.
      const after = new Set(sim.list({}).map((r) => r.id));
      for (const id of before) if (!after.has(id)) touched.add(id);
      for (const id of after) if (!before.has(id)) touched.add(id);
      simDown = false;
      snapshot(sim);
      break;
    }
    case 'redis restart':
      await redis.kill();
      await sleep(1_000);
      await redis.start();
      break;
    case 'replica kill': {
      // SIGKILL, no goodbye: its subscribers' connections break, requests in flight fail; a new process takes its place.
      // Always the last one: the first lives the whole run, so its RSS and fds are judged over every fault.
      const slot = gateways.length - 1;
      const victim = gateways[slot]!;
      const exited = new Promise((resolve) => victim.child.once('exit', resolve));
      victim.child.kill('SIGKILL');
      await exited;
      await sleep(1_000);
      gateways[slot] = await startReplica(slot);
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

let outcomes: Outcome[] = [];
/** Every outcome reported so far, kept for the final judgement. */
const judged: Outcome[] = [];
const failures: string[] = [];
let walksDone = 0;
let walksExact = 0;

async function post(op: string, body: string, replica?: number): Promise<{ outcome: Outcome; json: any }> {
  const start = Date.now();
  let status = 0;
  let json: any;
  const gateway = gateways[replica ?? roundRobin++ % gateways.length]!;
  try {
    const response = await fetch(`${gateway.base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...AUTH },
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

const gql = (op: string, query: string, variables: Record<string, unknown> = {}, replica?: number) => post(op, JSON.stringify({ query, variables }), replica);
const answer = async (op: string, query: string, variables: Record<string, unknown>, replica?: number): Promise<Answer> => {
  const { outcome, json } = await gql(op, query, variables, replica);
  return { status: outcome.status, codes: outcome.codes, json };
};

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
  { weight: 1, run: () => logWalk(sim, answer, touched) },
];

/** Actions have their own worker, at a pace: each acts on a session of its own, and the simulator has only so many. */
async function actionLoop(running: () => boolean): Promise<void> {
  for (let i = 0; running(); i++) {
    await act(() => sim, answer, i % 2 === 0, touched);
    await sleep(1_000);
  }
}

// ---------------------------------------------------------------------------------------
// Measurements

interface Sample {
  at: number;
  replica: number;
  pid: number;
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

async function sample(replica: number): Promise<Sample> {
  const gateway = gateways[replica]!;
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
  let fds = { fds: Number.NaN, sockets: Number.NaN };
  try {
    fds = fdsOf(gateway.pid);
  } catch {
    // killed meanwhile
  }
  return { at: Date.now(), replica, pid: gateway.pid, rssMb: rssOf(gateway.pid)?.rssMb ?? Number.NaN, ...fds, heapMb, loopP99Ms };
}

const loadavg = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
/** What an action may be answered when SPP refuses it (the session finished meanwhile, or a duplicate arrived while the first was in flight): not an error of the gateway. */
const ACTION_REFUSALS = new Set(['ACTION_NOT_AVAILABLE', 'CONFLICT']);

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

const samples: Sample[] = [];

function report(index: number, batch: Outcome[], calls: number, all: Sample[]): void {
  judged.push(...batch);
  const s = all[0]!;
  const each = (f: (x: Sample) => string) => all.map(f).join(' / ');
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
    `| ${index} | ${batch.length} | ${outcomesText} | ${calls} | ${fmt(percentile(latencies, 50))} | ${fmt(percentile(latencies, 99))} | ${each((x) => fmt(x.rssMb))} | ${each((x) => fmt(x.heapMb))} | ${each((x) => String(x.sockets))} | ${each((x) => String(x.fds))} | ${fmt(s.loopP99Ms, 1)} |\n`,
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (!redisServerPath) {
    process.stderr.write('skipped: the soak needs redis-server (apt-get install redis-server, or REDIS_SERVER_PATH); none was found\n');
    process.exit(1);
  }
  redis = await startRedis();
  await startSim();
  for (let slot = 0; slot < REPLICAS; slot++) gateways.push(await startReplica(slot));
  process.stdout.write(
    `Soak: ${fmt(durationMs / 1000)} s, ${workers} workers, ${SUBSCRIBERS} subscribers (${TRANSPORTS.map((t) => t.name).join(', ')}), an action every second, report every ${fmt(reportMs / 1000)} s, fault slots of ${fmt(slotMs / 1000)} s (${CYCLE.join(', ')}); replicas ${gateways.map((g) => `pid ${g.pid} at ${g.base}`).join(', ')}, redis-server at ${redis.url}, simulator at ${sim.url}; load average ${loadavg()}\n\n`,
  );
  process.stdout.write(
    '| interval | requests | outcomes | upstream calls | p50 ms | p99 ms | RSS MB (per replica) | heap MB | sockets | fds | loop p99 ms (replica 0) |\n',
  );
  process.stdout.write('|---|---|---|---|---|---|---|---|---|---|---|\n');

  const started = Date.now();
  const end = started + durationMs;
  let running = true;
  startChangeLog(started);
  snapshot(sim);

  const live = setInterval(() => {
    if (simDown) return;
    snapshot(sim);
    for (const r of sim.list({})) if (ACTIVE_STATUSES.has(r.status)) touched.add(r.id);
    const { inserted, expired } = sim.step({ insert: 1, expire: 1 });
    for (const id of [...inserted, ...expired]) touched.add(id);
    snapshot(sim);
  }, 2_000);
  // Actions change sessions between steps: their effects are logged within SNAPSHOT_MS.
  const snapshots = setInterval(() => simDown || snapshot(sim), SNAPSHOT_MS);

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
  const isRunning = () => running;
  const subscribing = Array.from({ length: SUBSCRIBERS }, (_, slot) =>
    subscriberLoop({
      replicas: () => gateways.map((g) => g.base),
      headers: AUTH,
      running: isRunning,
      // Short enough that a subscriber's matches (live inserts and reruns, about one a second) stay within the poll window.
      lifeMs: Math.min(60_000, durationMs / 2),
      connectedMs: [Math.min(20_000, durationMs / 4), Math.min(40_000, durationMs / 2)],
      slot,
    }),
  );
  const acting = actionLoop(isRunning);

  let index = 0;
  while (Date.now() < end) {
    await sleep(Math.min(reportMs, end - Date.now()));
    const batch = outcomes;
    outcomes = [];
    const calls = upstreamCalls + takeUpstreamCalls();
    upstreamCalls = 0;
    const now = await Promise.all(gateways.map((_, replica) => sample(replica)));
    samples.push(...now);
    report(++index, batch, calls, now);
  }
  running = false;
  clearInterval(live);
  await Promise.all([faults, ...load, ...subscribing, acting]);
  clearInterval(snapshots);
  snapshot(sim);
  harvestPosts(sim.requests);
  const tail = outcomes;

  // Judgement over every request of the run.
  const all = [...judged, ...tail];
  const internal = all.filter((o) => o.codes.includes('INTERNAL_SERVER_ERROR') || (o.status >= 500 && o.codes.length === 0));
  const unexpected = all.filter((o) => {
    if (o.op.startsWith('bad input')) return false;
    const during = inFault(o.start, o.start + o.ms);
    const allowed = (c: string) =>
      (during && (c.startsWith('UPSTREAM_') || c.startsWith('CLIENT_'))) ||
      (o.op.includes('clientMutationId') && ACTION_REFUSALS.has(c)) ||
      (o.op.includes('session gone') && c === 'NOT_FOUND');
    return o.codes.some((c) => !allowed(c));
  });
  // Flat per process (a restarted replica is a new one), after its warm-up: JIT, logins, caches
  // filling. Two replicas under tsx take about a minute to level off; a short run judges its second half.
  const warmupMs = Math.max(reportMs, Math.min(durationMs / 2, 120_000));
  const flatness = [...new Set(samples.map((s) => s.pid))].map((pid) => {
    const own = samples.filter((s) => s.pid === pid && Number.isFinite(s.rssMb));
    const afterWarmup = own.filter((s) => s.at >= own[0]!.at + warmupMs);
    const last = own.at(-1);
    if (!last || afterWarmup.length < 2) return { pid, judged: false, flat: true, text: `pid ${pid}: ${own.length} samples, not judged` };
    const minRss = Math.min(...afterWarmup.map((s) => s.rssMb));
    const minFds = Math.min(...afterWarmup.map((s) => s.fds));
    const flat = last.rssMb - minRss <= RSS_BOUND_MB && last.fds - minFds <= FD_BOUND;
    return { pid, judged: true, flat, text: `pid ${pid} (replica ${last.replica}): RSS ${fmt(minRss)} → ${fmt(last.rssMb)} MB, fds ${minFds} → ${last.fds}` };
  });
  const liveVerdict = judgeLive();
  const actions = judgeActions(
    (from, to) =>
      windows
        .filter((w) => from <= w.end + FAULT_GRACE_MS && to >= w.start)
        .map((w) => `${w.kind} ${new Date(w.start).toISOString().slice(11, 19)}–${Number.isFinite(w.end) ? new Date(w.end).toISOString().slice(11, 19) : '…'}`)
        .join(', ') || 'no fault',
  );
  const logs = judgeLogs();

  const criteria: Array<[string, boolean, string]> = [
    ['no INTERNAL_SERVER_ERROR (nor a 5xx without a code)', internal.length === 0, `${internal.length} of ${all.length} requests`],
    [
      'no error but UPSTREAM_* during injected faults, none outside them (bad input gets its own code; an action SPP refuses, its refusal)',
      unexpected.length === 0 && !failures.some((f) => f.startsWith('bad input')),
      `${unexpected.length} unexpected${unexpected[0] ? `, e.g. ${unexpected[0].op}: ${unexpected[0].codes.join(',')}` : ''}`,
    ],
    ['every cursor walk complete and exact', walksExact === walksDone && walksDone > 0, `${walksExact} of ${walksDone} walks exact`],
    ['every job log walk complete and exact', logs.exact === logs.walks && logs.walks > 0, `${logs.exact} of ${logs.walks} log walks exact`],
    [
      'no event lost or repeated for a connected subscriber (and none the simulator never had)',
      liveVerdict.lost.length === 0 && liveVerdict.repeated.length === 0 && liveVerdict.unknown.length === 0 && liveVerdict.promised > 0,
      `${liveVerdict.subscribers} subscribers, ${liveVerdict.intervals} connected intervals (${[...liveVerdict.transports].map(([t, n]) => `${t} ${n}`).join(', ')}), ${liveVerdict.judgedIntervals} long enough to judge; ${liveVerdict.events} events; ${liveVerdict.promised} logged changes promised, ${liveVerdict.lost.length} lost (in ${new Set(liveVerdict.lost.map((l) => l.split(': session')[0])).size} intervals), ${liveVerdict.repeated.length} repeated (while connected or at a resume), ${liveVerdict.unknown.length} unknown; ${liveVerdict.resumes} resumes by event cursor (${liveVerdict.expiredResumes} refused with CURSOR_EXPIRED, then started afresh); intervals ended by: ${[...liveVerdict.endedBy].map(([r, n]) => `${r} ${n}`).join('; ')}`,
    ],
    [
      'no action submitted twice (SPP saw at most one POST that acted or may have, and none after it)',
      actions.twice.length === 0 && actions.submissions > 0,
      `${actions.submissions} submissions (${actions.keyed} with clientMutationId, each sent to both replicas at once), ${actions.actedOnce} acted once, ${actions.twice.length} twice`,
    ],
    [
      `RSS and fds flat per replica process after its warm-up (${fmt(warmupMs / 1000)} s from its first sample; end ≤ lowest after it + ${RSS_BOUND_MB} MB / + ${FD_BOUND})`,
      flatness.every((f) => f.flat),
      flatness.map((f) => f.text).join('; '),
    ],
  ];
  process.stdout.write(
    `\nFault windows: ${windows.length} (${[...new Set(windows.map((w) => w.kind))].join(', ')}); requests: ${all.length}; walks: ${walksDone}; load average at end ${loadavg()}\n`,
  );
  const byOp = new Map<string, Map<string, number>>();
  for (const o of all) {
    const m = byOp.get(o.op) ?? new Map<string, number>();
    const key = o.codes.length === 0 ? String(o.status) : [...new Set(o.codes)].sort().join('+');
    m.set(key, (m.get(key) ?? 0) + 1);
    byOp.set(o.op, m);
  }
  process.stdout.write('\nOutcomes by operation:\n');
  for (const [op, m] of [...byOp].sort()) process.stdout.write(`  ${op}: ${[...m].map(([k, n]) => `${k} ${n}`).join(', ')}\n`);
  process.stdout.write('\nPass criteria:\n');
  for (const [name, ok, detail] of criteria) process.stdout.write(`  ${ok ? 'PASS' : 'FAIL'}  ${name}: ${detail}\n`);
  for (const failure of [
    ...failures.slice(0, 10),
    ...logs.failures.slice(0, 5),
    ...liveVerdict.lost.slice(0, 5),
    ...liveVerdict.repeated.slice(0, 5),
    ...liveVerdict.unknown.slice(0, 5),
    ...actions.twice.slice(0, 5),
  ])
    process.stdout.write(`  - ${failure}\n`);
  const passed = criteria.every(([, ok]) => ok);
  process.stdout.write(`\nSoak ${passed ? 'passed' : 'FAILED'}.\n`);

  await stopAll();
  await sim.close();
  await redis.stop();
  process.exit(passed ? 0 : 1);
}

// Interrupted: the replicas and redis-server go too (procs' exit hook covers the replicas only on exit).
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`soak: ${signal}, stopping the replicas and redis-server\n`);
    void Promise.allSettled([stopAll(), redis?.stop()]).finally(() => process.exit(130));
  });
}

main().catch(async (error: unknown) => {
  process.stderr.write(`Soak failed to run: ${error instanceof Error ? error.stack : String(error)}\n`);
  await stopAll();
  await redis?.stop();
  process.exit(1);
});
