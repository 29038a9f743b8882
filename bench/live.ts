/**
 * `npm run bench:live`: live updates under load. 1,000 then 5,000 subscribers spread over 10
 * filters, over graphql-ws (100 subscriptions per WebSocket), against a gateway process that
 * polls the SPP simulator while it changes.
 *
 * Figures:
 * - upstream requests per filter per poll interval (target: one), from the simulator's own
 *   request log, with the polls the gateway reports (/metrics) beside them;
 * - fan-out latency from poll to client: from the moment a poll's request reached SPP to the
 *   moment a subscriber in this process holds the event (p50/p99 over every event received);
 * - gateway RSS with the subscribers connected (target: under 300 MiB at 5,000).
 *
 * The simulator runs in this process (its request log and the subscribers' receipts compare on
 * one clock) and is stepped once per poll interval: one new session each time, running ones
 * progress and finish. The subscribers run in a worker thread of this process, the gateway in
 * its own process (so that its RSS is its own). Results replace the "Live updates" section of bench/RESULTS.md.
 * `-- --smoke` runs 100 subscribers for a few seconds and writes nothing.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeResultsSection } from './results.js';
import { startProcess } from '../test/support/processes.js';
import os from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { startSimulator } from '../src/simulator/index.js';
import { translateFilter } from '../src/translate/filter.js';
import { canonicalFilter } from '../src/live/service.js';
import type { JobSessionFilter } from '../src/__generated__/resolvers-types.js';

const smoke = process.argv.includes('--smoke');
const POLL_MS = 1_000;
const MEASURE_INTERVALS = smoke ? 3 : 12;
const SCENARIOS = smoke ? [100] : [1_000, 5_000];
const PER_CONNECTION = 100;

const FILTERS: JobSessionFilter[] = [
  { status: ['RUNNING', 'PENDING', 'WAITING'] },
  { type: ['protection'] },
  { type: ['catalog'] },
  { type: ['maintenance'] },
  { type: ['recovery'] },
  { jobName: 'vmware_*' },
  { subType: ['sql'] },
  { status: ['FAILED', 'PARTIAL'] },
  {},
  { type: ['protection'], status: ['RUNNING'] },
];
const QUERY =
  'subscription($filter: JobSessionFilter) { jobSessionEvents(filter: $filter) { kind sessionId at session { sessionId status percent lastUpdate } } }';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const keyOf = (filter: JobSessionFilter) => canonicalFilter(translateFilter(filter).filter);
const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;

function rssMb(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

async function startGateway(sppUrl: string): Promise<{ child: ChildProcess; url: string }> {
  // --expose-gc with bench/gc-on-signal.mjs: SIGUSR2 runs a full GC, so RSS is also read at a settled point.
  const { child, url } = await startProcess({
    entry: 'src/main.ts',
    name: 'the gateway',
    nodeArgs: ['--expose-gc'],
    imports: [new URL('./gc-on-signal.mjs', import.meta.url).href],
    env: {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'warn',
      SPP_URL: sppUrl,
      SPP_USERNAME: 'admin',
      SPP_PASSWORD: 'admin-password',
      GATEWAY_ALLOW_ANONYMOUS: 'true',
      // The load generator is one consumer: its budget refills faster than any load, so budgets run (and cost what they cost) but never refuse.
      QUOTA_RESTORE_PER_S: '1000000000',
      CURSOR_SECRET: 'bench-cursor-secret-0123456789abcdef',
      SUBSCRIPTION_POLL_MS: String(POLL_MS),
      SUBSCRIPTION_IDLE_POLL_MS: String(POLL_MS),
      SUBSCRIPTIONS_PER_CONNECTION: String(PER_CONNECTION),
    },
    banner: 'gateway',
  });
  return { child, url };
}

async function settledRss(child: ChildProcess): Promise<number> {
  child.kill('SIGUSR2');
  await sleep(1_000);
  return rssMb(child.pid!).rss;
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(url.replace(/\/graphql$/, '/metrics'))).text();
  let sum = 0;
  for (const match of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'gm'))) sum += Number(match[1]);
  return sum;
}

interface Figures {
  subscribers: number;
  connections: number;
  polls: number;
  requests: number;
  requestsPerFilterPerInterval: number;
  intervals: number;
  events: number;
  latency: { p50: number; p99: number; max: number };
  /** Gateway RSS at the end of the measured traffic. */
  rss: number;
  /** The same, after a full GC with the subscribers still connected. */
  rssSettled: number;
  /** RSS of the same gateway before any subscriber connected (after its first request and a full GC). */
  rssIdle: number;
  connectMs: number;
}

/**
 * The subscribers run in a worker thread: their message parsing must not delay the simulator's
 * answers (the simulator shares this thread with the stepping and the measurement). Both threads
 * read the same clock.
 */
type ToWorker = { type: 'measure'; on: boolean } | { type: 'close' };
type FromWorker = { type: 'receipts'; receipts: Array<[number, number]> } | { type: 'closed' } | { type: 'error'; message: string };

function startSubscribers(wsUrl: string, subscribers: number): Worker {
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}); })`;
  return new Worker(boot, { eval: true, workerData: { wsUrl, subscribers } });
}

/** The worker's side: open the subscribers, note when each event arrives while measuring. */
function runSubscribers(): void {
  const { wsUrl, subscribers } = workerData as { wsUrl: string; subscribers: number };
  const port = parentPort!;
  let measuring = false;
  let receipts: Array<[number, number]> = [];
  const clients: Client[] = [];
  const stops: Array<() => void> = [];
  for (let c = 0; c * PER_CONNECTION < subscribers; c++) {
    const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false, onNonLazyError: () => undefined });
    clients.push(client);
    for (let i = c * PER_CONNECTION; i < Math.min(subscribers, (c + 1) * PER_CONNECTION); i++) {
      const filterIndex = i % FILTERS.length;
      stops.push(
        client.subscribe(
          { query: QUERY, variables: { filter: FILTERS[filterIndex]! } },
          {
            next: () => {
              if (measuring) receipts.push([filterIndex, Date.now()]);
            },
            error: (error) => port.postMessage({ type: 'error', message: String((error as Error)?.message ?? error) } satisfies FromWorker),
            complete: () => undefined,
          },
        ),
      );
    }
  }
  port.on('message', (message: ToWorker) => {
    if (message.type === 'measure') {
      measuring = message.on;
      if (!message.on) {
        port.postMessage({ type: 'receipts', receipts } satisfies FromWorker);
        receipts = [];
      }
      return;
    }
    for (const stop of stops) stop();
    void Promise.all(clients.map(async (c) => c.dispose())).then(() => port.postMessage({ type: 'closed' } satisfies FromWorker));
  });
}

function nextMessage<T extends FromWorker['type']>(worker: Worker, type: T): Promise<Extract<FromWorker, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: FromWorker) => {
      if (message.type === 'error') return reject(new Error(`subscriber: ${message.message}`));
      if (message.type !== type) return;
      worker.off('message', onMessage);
      resolve(message as Extract<FromWorker, { type: T }>);
    };
    worker.on('message', onMessage);
  });
}

async function scenario(subscribers: number): Promise<Figures> {
  const sim = await startSimulator({ seed: 1, host: '127.0.0.1', port: 0 });
  const gateway = await startGateway(sim.url);
  const wsUrl = gateway.url.replace(/^http/, 'ws');
  try {
    // One query first, so that the idle figure includes a warmed-up gateway.
    await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ jobSessions(first: 25) { nodes { sessionId } } }' }),
    });
    const rssIdle = await settledRss(gateway.child);
    const started = Date.now();
    const worker = startSubscribers(wsUrl, subscribers);
    worker.on('error', (error) => {
      throw error;
    });
    for (let i = 0; (await metric(gateway.url, 'live_subscriptions')) < subscribers; i++) {
      if (i > 600) throw new Error('subscribers did not all connect within a minute');
      await sleep(100);
    }
    const connectMs = Date.now() - started;
    if ((await metric(gateway.url, 'live_pollers')) !== FILTERS.length) throw new Error('expected one poller per filter');

    // Warm-up, then measure while the simulator changes once per interval.
    await sleep(POLL_MS * 2);
    const isList = (r: (typeof sim.requests)[number]) => r.path.startsWith('/api/endeavour/jobsession');
    const requestsBefore = sim.requests.filter(isList).length;
    const pollsBefore = await metric(gateway.url, 'live_polls_total');
    worker.postMessage({ type: 'measure', on: true } satisfies ToWorker);
    const measureStart = Date.now();
    for (let i = 0; i < MEASURE_INTERVALS; i++) {
      sim.step({ insert: 1 });
      await sleep(POLL_MS);
    }
    const elapsed = Date.now() - measureStart;
    const receiptsMessage = nextMessage(worker, 'receipts');
    worker.postMessage({ type: 'measure', on: false } satisfies ToWorker);
    const { receipts } = await receiptsMessage;
    const requests = sim.requests.filter(isList).length - requestsBefore;
    const polls = (await metric(gateway.url, 'live_polls_total')) - pollsBefore;
    const rss = rssMb(gateway.child.pid!).rss;
    const rssSettled = await settledRss(gateway.child);

    // Each event against the latest window request of its filter that reached SPP before it arrived.
    const arrivals = new Map<string, number[]>();
    for (const request of sim.requests) {
      if (request.path !== '/api/endeavour/jobsession' || !Array.isArray(request.filter)) continue;
      const key = canonicalFilter(request.filter as never);
      let list = arrivals.get(key);
      if (!list) arrivals.set(key, (list = []));
      list.push(request.at);
    }
    const keys = FILTERS.map(keyOf);
    const latencies: number[] = [];
    for (const [filterIndex, receivedAt] of receipts) {
      const list = arrivals.get(keys[filterIndex]!) ?? [];
      let at: number | undefined;
      for (let j = list.length - 1; j >= 0; j--) {
        if (list[j]! <= receivedAt) {
          at = list[j];
          break;
        }
      }
      if (at !== undefined) latencies.push(receivedAt - at);
    }
    latencies.sort((a, b) => a - b);

    const closed = nextMessage(worker, 'closed');
    worker.postMessage({ type: 'close' } satisfies ToWorker);
    await closed;
    await worker.terminate();
    const intervals = elapsed / POLL_MS;
    return {
      subscribers,
      connections: Math.ceil(subscribers / PER_CONNECTION),
      polls,
      requests,
      intervals,
      requestsPerFilterPerInterval: requests / intervals / FILTERS.length,
      events: receipts.length,
      latency: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? NaN },
      rss,
      rssSettled,
      rssIdle,
      connectMs,
    };
  } finally {
    gateway.child.kill('SIGTERM');
    await new Promise((resolve) => gateway.child.once('exit', resolve));
    await sim.close();
  }
}

async function main(): Promise<void> {
  const began = Date.now();
  const results: Figures[] = [];
  for (const subscribers of SCENARIOS) {
    const figures = await scenario(subscribers);
    results.push(figures);
    console.log(JSON.stringify(figures));
  }
  if (smoke) return;
  const cpu = os.cpus()[0]?.model.split(' ').slice(0, 2).join(' ') ?? 'unknown CPU';
  const row = (f: Figures) =>
    `| ${f.subscribers.toLocaleString('en')} | ${f.connections} | ${f.requestsPerFilterPerInterval.toFixed(2)} (${f.requests} requests, ${f.polls} polls in ${f.intervals.toFixed(1)} intervals: ${(f.requests / f.polls).toFixed(2)} per poll) | ${f.events.toLocaleString('en')} | ${f.latency.p50.toFixed(0)} / ${f.latency.p99.toFixed(0)} ms | ${f.rss.toFixed(0)} MiB; ${f.rssSettled.toFixed(0)} MiB after a full GC (${f.rssIdle.toFixed(0)} MiB before the subscribers) |`;
  const section = [
    '## Live updates',
    '',
    `Produced by \`npm run bench:live\` (bench/live.ts) on ${new Date().toISOString().slice(0, 10)}, in ${Math.round((Date.now() - began) / 1000)} s;`,
    `${cpu}, ${os.cpus().length} cores, Node ${process.version}. The gateway is its own process (NODE_ENV=production,`,
    `SUBSCRIPTION_POLL_MS=${POLL_MS}); the SPP simulator (4,877 sessions, stepped once per interval: one new session,`,
    'running ones progress and finish) runs in the benchmark process, every subscriber (graphql-ws, 100 subscriptions',
    `per WebSocket) in a worker thread of it. Subscribers are spread evenly over ${FILTERS.length} filters; ${MEASURE_INTERVALS} intervals are measured after all are connected.`,
    '',
    '| subscribers | WebSockets | upstream requests per filter per interval (target 1) | events delivered | fan-out latency p50 / p99, poll to client | gateway RSS at the end of the traffic (target < 300 MiB at 5,000) |',
    '|---:|---:|---|---:|---|---:|',
    ...results.map(row),
    '',
    '- The next poll of a filter starts an interval after the previous one ended, so a filter polls slightly less than',
    '  once per interval.',
    '- A poll is one request (the newest 100 sessions of the filter); a poll in which sessions left the filter adds',
    '  one request (their current state, for REMOVED), and one in which watched running sessions slid past the window',
    '  adds one (their ids): hence slightly more than one request per poll while sessions finish.',
    '- RSS at the end of the traffic includes garbage not yet collected (it moved between 234 and 296 MiB at 5,000 in',
    '  runs of the same code); after a full GC with every subscriber still connected it is what they hold.',
    '- The p99 is the tail of a burst: a poll of the unfiltered filter brings about 20 events to each of its',
    '  subscribers (500 at 5,000), so the gateway writes thousands of messages in turn, and the last wait.',
    "- Latency runs from the moment the poll's request reached SPP to the moment a subscriber in the benchmark process",
    "  holds the event: SPP's answer, the diff, one GraphQL execution per event and document (shared by the",
    "  subscribers of a filter), one message per subscriber on its socket, and the client's parsing, all on two cores.",
    '',
  ].join('\n');
  writeResultsSection('live', '`npm run bench:live`, bench/live.ts', section);
  console.log('bench/RESULTS.md: "Live updates" section written');
}

if (isMainThread) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
} else {
  runSubscribers();
}
