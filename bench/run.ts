/**
 * `npm run bench`: the gateway beside a minimal baseline gateway and direct SPP REST calls,
 * on loopback, in one run, on workloads that cannot flatter it.
 *
 *   npm run bench               full run (about 5 minutes on 2 cores), writes bench/RESULTS.md
 *   npm run bench -- --smoke    every step with tiny durations (CI, under a minute); checks
 *                               that every measured request got a 2xx with a good body, prints
 *                               the tables, writes nothing. BENCH_SMOKE=1 does the same.
 *
 * Targets: the side by the side. Three targets, alternating in short rounds:
 * - **gateway**: this project (src/main.ts), NODE_ENV=production, defaults otherwise;
 * - **baseline**: bench/baseline/gateway.ts, Apollo Server + got, the same schema subset, no
 *   extras (pages of 100 in parallel, no sharing): the floor of this stack;
 * - **direct REST**: the request the gateway sends SPP, straight to the simulator.
 *
 * Workloads. Real users each have their own filters and cursors, so most workloads are
 * **distinct**: every request its own `start < X` bound (X counts down from the year 3000,
 * so every answer is the same page of data, but no two requests are the same), sent
 *   - as a variable of one operation ("variables", what real clients send), and
 *   - inlined as a literal ("literals": every request is also a new GraphQL document);
 * beside them the **same** query from every connection (sharing: a wall of identical
 * dashboards) and a **cursor walk** (each connection pages on with the last endCursor).
 *   1. overhead: 25 rows, SPP 20 ms, 1 connection: p50 minus direct REST p50;
 *   2. throughput: 25 rows, SPP 0 ms, 10 connections;
 *   3. deep pages: 1000 rows, SPP 0 ms, 10 connections, on fresh processes whose peak RSS
 *      (VmHWM) is this load's;
 *   4. deep latency: `first: 1000` vs `first: 25`, SPP 20 ms, 1 connection;
 *   5. cursor walk: 25 rows, SPP 0 ms, 10 connections;
 *   6. sharing: 200 simultaneous identical queries: upstream requests.
 * Upstream requests per request come from each gateway's own counter (the gateway's
 * /metrics, the baseline's counter endpoint), around its measured rounds only.
 *
 * Method: servers are child processes (bench/procs.ts), so the load generator (autocannon,
 * in this process) shares no event loop with what it measures; every side gets an unmeasured
 * warm-up (JIT, logins, sockets); rounds alternate (A B C, C B A, ...) and are pooled per
 * side, so drift on a noisy machine lands on every side. Everything shares the machine's
 * cores: ratios side by side are the figures, absolute numbers are not.
 */
import { RESULTS_FILE, writeResultsSection } from './results.js';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { burst, load, pool, problems, request, side, upstreamCounters, type LoadRun, type Side, type Stats, type Target } from './load.js';
import { cpuMsOf, rssOf, startBaseline, startGateway, startSimulator, stop, stopAll, type Server } from './procs.js';

const SMOKE = process.argv.includes('--smoke') || ['1', 'true', 'yes'].includes((process.env.BENCH_SMOKE ?? '').toLowerCase());

/** Seconds of warm-up per side, rounds per side, seconds per round. Smoke keeps every step at minimum size. */
const PLAN = SMOKE
  ? { warmS: 0, rounds: 1, roundS: 0.5, deepRoundS: 0.5, burst: 200, budgetS: 150 }
  : { warmS: 1, rounds: 3, roundS: 3, deepRoundS: 4, burst: 200, budgetS: 720 };

const TARGETS = {
  overheadP50Ms: 1,
  throughputVsBaseline: 1.2,
  deepVsBaseline: 3,
  deepLatencyRatio: 1.5,
  peakRssMb: 250,
  sharedCalls: 2,
};

const SIM_LATENCY_MS = 20;
const MANY = 10;
/** Requests (all answered) per side for upstream requests and CPU per request: this many at 1000 rows, four times as many at 25. */
const UPSTREAM_SAMPLE = SMOKE ? 4 : 40;

// ---------------------------------------------------------------------------------------
// Bounded run time and clean exits: whatever happens, the child servers go.

const started = Date.now();
const watchdog = setTimeout(() => {
  process.stderr.write(`bench: exceeded its ${PLAN.budgetS} s budget; stopping\n`);
  void stopAll().finally(() => process.exit(1));
}, PLAN.budgetS * 1000);
watchdog.unref();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`bench: ${signal}, stopping the servers\n`);
    void stopAll().finally(() => process.exit(130));
  });
}

const log = (line: string) => process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);

// ---------------------------------------------------------------------------------------
// Requests

/** A list view: the fields a table shows, and what it needs to page on. */
const FIELDS = 'nodes { sessionId jobName status start end duration } pageInfo { hasNextPage endCursor }';
/** Year 3000 in epoch ms: `start < FAR_FUTURE - i` keeps every session, so every i is the same page of data and a different request. */
const FAR_FUTURE = 32_503_680_000_000;
const VARIABLES_QUERY = (first: number) => `query Page($filter: JobSessionFilter) { jobSessions(first: ${first}, filter: $filter) { ${FIELDS} } }`;
const LITERAL_QUERY = (first: number, lt: number) => `{ jobSessions(first: ${first}, filter: {start: {lt: ${lt}}}) { ${FIELDS} } }`;
const SAME_QUERY = (first: number) => `{ jobSessions(first: ${first}) { ${FIELDS} } }`;
const WALK_QUERY = `query Walk($after: String, $filter: JobSessionFilter) { jobSessions(first: 25, after: $after, filter: $filter) { ${FIELDS} } }`;
const RUNNING_QUERY = '{ jobSessions(first: 20, filter: {status: [RUNNING, PENDING, HELD, CANCELING]}) { nodes { sessionId jobName status } } }';
const SORT = JSON.stringify([
  { property: 'start', direction: 'DESC' },
  { property: 'id', direction: 'DESC' },
]);

/** One counter for all distinct bounds of the run: no two requests anywhere share one. */
let bound = 0;
const nextBound = () => FAR_FUTURE - ++bound;

/** A GraphQL answer is good when it carries data and no errors (checked per response, so kept cheap). */
const graphqlOk = (body: string) => body.startsWith('{"data":{') && !body.includes('"errors":');

type Shape = 'variables' | 'literals' | 'same';

function graphql(server: Server, label: string, first: number, shape: Shape): Target {
  const base = {
    label,
    url: `${server.base}/graphql`,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    verify: graphqlOk,
  };
  if (shape === 'same') return { ...base, body: JSON.stringify({ query: SAME_QUERY(first) }) };
  if (shape === 'variables') {
    const query = VARIABLES_QUERY(first);
    return { ...base, body: JSON.stringify({ query }), nextBody: () => JSON.stringify({ query, variables: { filter: { start: { lt: nextBound() } } } }) };
  }
  return {
    ...base,
    body: JSON.stringify({ query: LITERAL_QUERY(first, FAR_FUTURE) }),
    nextBody: () => JSON.stringify({ query: LITERAL_QUERY(first, nextBound()) }),
  };
}

/** Each connection walks its own list (its own bound) page by page with the last endCursor; after 40 pages it starts a new list. */
function walk(server: Server, label: string): Target {
  interface Walker {
    lt?: number;
    after?: string | null;
    pages?: number;
  }
  return {
    label,
    url: `${server.base}/graphql`,
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    verify: graphqlOk,
    requests: [
      {
        setupRequest: (req, context) => {
          const c = context as Walker;
          if (c.lt === undefined || c.after === null || (c.pages ?? 0) >= 40) Object.assign(c, { lt: nextBound(), after: undefined, pages: 0 });
          return { ...req, body: JSON.stringify({ query: WALK_QUERY, variables: { after: c.after ?? null, filter: { start: { lt: c.lt } } } }) };
        },
        onResponse: (_status, body, context) => {
          const c = context as Walker;
          try {
            const info = (JSON.parse(body) as { data: { jobSessions: { pageInfo: { hasNextPage: boolean; endCursor: string | null } } } }).data.jobSessions
              .pageInfo;
            c.after = info.hasNextPage ? info.endCursor : null;
            c.pages = (c.pages ?? 0) + 1;
          } catch {
            c.after = null;
          }
        },
      },
    ],
  };
}

async function login(sim: Server): Promise<string> {
  const res = await request(`${sim.base}/api/endeavour/session`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from('admin:admin-password').toString('base64')}`, accept: 'application/json' },
  });
  const sessionid = (JSON.parse(res.body) as { sessionid?: string }).sessionid;
  if (res.status !== 200 || !sessionid) throw new Error(`simulator login failed: ${res.status} ${res.body.slice(0, 200)}`);
  return sessionid;
}

/** What the gateway sends SPP for a page of `first` (pageSize first + 1), with a distinct bound per request unless `same`. */
function direct(sim: Server, label: string, sessionId: string, first: number, same = false): Target {
  const path = (lt?: number) => {
    const search = new URLSearchParams({ pageStartIndex: '0', pageSize: String(first + 1) });
    if (lt !== undefined) search.set('filter', JSON.stringify([{ property: 'start', value: lt, op: '<' }]));
    search.set('sort', SORT);
    return `/api/endeavour/jobsession?${search.toString()}`;
  };
  return {
    label,
    url: `${sim.base}${path(same ? undefined : FAR_FUTURE)}`,
    method: 'GET',
    headers: { 'x-endeavour-sessionid': sessionId, accept: 'application/json' },
    verify: (body) => body.includes('"sessions":['),
    ...(same ? {} : { nextPath: () => path(nextBound()) }),
  };
}

// ---------------------------------------------------------------------------------------
// Measurement

/** How a side's upstream requests are counted: the gateway's /metrics, the baseline's counter, nothing for direct REST. */
type Counter = () => Promise<number>;
const gatewayCounter =
  (gw: Server): Counter =>
  async () =>
    (await upstreamCounters(gw.base)).jobsessionCalls;
const baselineCounter =
  (b: Server & { counter: string }): Counter =>
  async () =>
    (JSON.parse((await request(`${b.counter}/`)).body) as { upstreamRequests: number }).upstreamRequests;

interface Measured {
  label: string;
  latency: Stats;
  rps: number;
  requests: number;
  /** Upstream requests per measured request, when the side has a counter. */
  upstreamPerRequest: number | null;
  /** CPU ms the measured server process spent per answered request (user + system), when known. */
  cpuMsPerRequest: number | null;
}

/** Warm-up, then alternating rounds (A B C, C B A, ...), pooled per side. */
async function compare(
  sides: Array<{ side: Side; counter?: Counter; server?: Server; sample?: number }>,
  roundS = PLAN.roundS,
): Promise<Map<string, Measured>> {
  if (PLAN.warmS > 0) for (const s of sides) await load(s.side, { durationS: PLAN.warmS, label: `${s.side.label} (warm-up)` });
  const runs = new Map<string, LoadRun[]>(sides.map((s) => [s.side.label, []]));
  for (let round = 0; round < PLAN.rounds; round++) {
    for (const s of round % 2 === 0 ? sides : [...sides].reverse()) {
      runs.get(s.side.label)!.push(await load(s.side, { durationS: roundS }));
    }
  }
  // Requests still in flight when a timed round ends are processed (upstream calls, CPU) but
  // not counted as answered, which inflates per-request figures most on the slowest side; so
  // upstream requests and CPU per request are counted apart, over a fixed number of requests
  // that are all answered (autocannon needs at least one per connection).
  const perRequest = new Map<string, number | null>();
  const cpuPerRequest = new Map<string, number | null>();
  for (const s of sides) {
    if (!s.counter) {
      perRequest.set(s.side.label, null);
      cpuPerRequest.set(s.side.label, null);
      continue;
    }
    const amount = Math.max(s.sample ?? UPSTREAM_SAMPLE * 4, s.side.connectionsEach * s.side.targets.length);
    const before = await s.counter();
    const cpuBefore = s.server ? cpuMsOf(s.server.pid) : Number.NaN;
    const counted = await load(s.side, { amount, label: `${s.side.label} (upstream count)` });
    cpuPerRequest.set(s.side.label, s.server ? (cpuMsOf(s.server.pid) - cpuBefore) / counted.requests : null);
    perRequest.set(s.side.label, ((await s.counter()) - before) / counted.requests);
  }
  return new Map(
    sides.map((s) => {
      const p = pool(runs.get(s.side.label)!);
      const cpuMsPerRequest = cpuPerRequest.get(s.side.label)!;
      return [
        s.side.label,
        { label: s.side.label, latency: p.latency, rps: p.rps, requests: p.requests, upstreamPerRequest: perRequest.get(s.side.label)!, cpuMsPerRequest },
      ];
    }),
  );
}

interface Row {
  figure: string;
  measured: string;
  target: string;
  pass: boolean | null;
}

const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const signed = (n: number, digits = 2) => `${n >= 0 ? '+' : '−'}${fmt(Math.abs(n), digits)}`;
const verdict = (pass: boolean | null) => (pass === null ? '—' : pass ? 'PASS' : 'MISS');

const TABLE_HEADER = [
  '| side | requests | req/s | p50 ms | p99 ms | avg ms | upstream requests per request | server CPU ms per request | req/s vs baseline (same workload) | CPU per request vs baseline |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
];
function tableRows(results: Map<string, Measured>, baselineOf: (label: string) => string | undefined): string[] {
  return [...results.values()].map((m) => {
    const base = baselineOf(m.label);
    const ratio = base ? m.rps / results.get(base)!.rps : Number.NaN;
    const cpuRatio = base && m.cpuMsPerRequest !== null ? m.cpuMsPerRequest / results.get(base)!.cpuMsPerRequest! : Number.NaN;
    return `| ${m.label} | ${m.requests} | ${fmt(m.rps, 0)} | ${fmt(m.latency.p50)} | ${fmt(m.latency.p99)} | ${fmt(m.latency.avg)} | ${m.upstreamPerRequest === null ? '' : fmt(m.upstreamPerRequest, 2)} | ${m.cpuMsPerRequest === null ? '' : fmt(m.cpuMsPerRequest)} | ${base ? `${fmt(ratio)}×` : ''} | ${Number.isFinite(cpuRatio) ? `${fmt(cpuRatio)}×` : ''} |`;
  });
}
/** "gateway CPU ms per request ÷ baseline's" for one workload, as text. */
const cpuVs = (results: Map<string, Measured>, gw: string, base: string) => {
  const g = results.get(gw)!.cpuMsPerRequest ?? Number.NaN;
  const b = results.get(base)!.cpuMsPerRequest ?? Number.NaN;
  return `server CPU per request ${fmt(g)} vs ${fmt(b)} ms (${fmt(g / b)}×)`;
};
/** "gateway, variables" → "baseline, variables". */
const baselineLabel = (label: string) => (label.startsWith('gateway') ? label.replace(/^gateway/, 'baseline') : undefined);

// ---------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const rows: Row[] = [];
  const sections: string[] = [];
  const peaks: Array<{ name: string; hwmMb: number }> = [];
  const retire = async (server: Server) => {
    const mem = rssOf(server.pid);
    if (mem) peaks.push({ name: server.name, hwmMb: mem.hwmMb });
    await stop(server);
  };

  log(
    `${SMOKE ? 'SMOKE run (tiny durations; RESULTS.md not written)' : 'full run'} on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  const [sim20, sim0] = await Promise.all([startSimulator('sim-20ms', { latencyMs: SIM_LATENCY_MS }), startSimulator('sim-0ms', { latencyMs: 0 })]);
  const [gw20, base20, gw0, base0] = await Promise.all([
    startGateway('gateway (SPP 20 ms)', sim20),
    startBaseline('baseline (SPP 20 ms)', sim20),
    startGateway('gateway (SPP 0 ms)', sim0),
    startBaseline('baseline (SPP 0 ms)', sim0),
  ]);
  const [sid20, sid0] = await Promise.all([login(sim20), login(sim0)]);
  log('up: simulators, gateways and baselines for SPP 20 ms and 0 ms');

  // Sanity: gateway, baseline and direct REST answer the same sessions, and the gateway and the
  // baseline the same JSON, so both do the same work.
  for (const [sim, sid, gw, base] of [
    [sim20, sid20, gw20, base20],
    [sim0, sid0, gw0, base0],
  ] as const) {
    for (const first of [25, 1000]) {
      const body = JSON.stringify({ query: LITERAL_QUERY(first, FAR_FUTURE) });
      const [g, b, d] = await Promise.all([
        request(`${gw.base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }),
        request(`${base.base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }),
        request(direct(sim, 'direct', sid, first).url, { headers: { 'x-endeavour-sessionid': sid } }),
      ]);
      if (g.status !== 200 || !graphqlOk(g.body)) throw new Error(`${gw.name} first:${first}: ${g.status} ${g.body.slice(0, 300)}`);
      // Cursors differ (the gateway's are signed and carry keys), and the gateway adds the caller's
      // budget status (`extensions.cost`, written last); everything else is the same JSON.
      const withoutCursor = (text: string) =>
        text.replace(/"endCursor":"[^"]*"/, '"endCursor":"…"').replace(/,"extensions":\{"cost":\{[^{}]*\{[^{}]*\}\}\}/, '');
      if (withoutCursor(g.body) !== withoutCursor(b.body)) {
        const [x, y] = [withoutCursor(g.body), withoutCursor(b.body)];
        let at = 0;
        while (at < x.length && x[at] === y[at]) at++;
        throw new Error(
          `${gw.name} and ${base.name} answer first:${first} differently from character ${at}:\n${x.slice(Math.max(0, at - 100), at + 200)}\n${y.slice(Math.max(0, at - 100), at + 200)}`,
        );
      }
      const ids = (JSON.parse(d.body) as { sessions: Array<{ id: string }> }).sessions.slice(0, first).map((s) => String(s.id));
      const gwIds = (JSON.parse(g.body) as { data: { jobSessions: { nodes: Array<{ sessionId: string }> } } }).data.jobSessions.nodes.map((n) => n.sessionId);
      if (ids.join() !== gwIds.join()) throw new Error(`${gw.name} first:${first} does not match direct REST`);
    }
  }
  log("sanity ok: gateway and baseline answer the same JSON, with direct REST's sessions");

  // 1. Overhead --------------------------------------------------------------------------
  {
    log(`1. overhead: 25 rows, SPP ${SIM_LATENCY_MS} ms, 1 connection`);
    const results = await compare([
      { side: side('gateway, variables', [graphql(gw20, 'gw', 25, 'variables')], 1), counter: gatewayCounter(gw20), server: gw20 },
      { side: side('gateway, literals', [graphql(gw20, 'gw', 25, 'literals')], 1), counter: gatewayCounter(gw20), server: gw20 },
      { side: side('baseline, variables', [graphql(base20, 'base', 25, 'variables')], 1), counter: baselineCounter(base20), server: base20 },
      { side: side('baseline, literals', [graphql(base20, 'base', 25, 'literals')], 1), counter: baselineCounter(base20), server: base20 },
      { side: side('direct REST, distinct', [direct(sim20, 'direct', sid20, 25)], 1) },
    ]);
    const d = results.get('direct REST, distinct')!.latency;
    const over = (label: string) => results.get(label)!.latency.p50 - d.p50;
    rows.push({
      figure: `1. Overhead: 25 rows, SPP ${SIM_LATENCY_MS} ms, 1 connection, distinct (variables): p50 − direct REST p50`,
      measured: `${signed(over('gateway, variables'))} ms (literals ${signed(over('gateway, literals'))} ms; baseline ${signed(over('baseline, variables'))} / ${signed(over('baseline, literals'))} ms)`,
      target: `≤ ${TARGETS.overheadP50Ms} ms`,
      pass: over('gateway, variables') <= TARGETS.overheadP50Ms,
    });
    sections.push(
      `### 1. Overhead (25 rows, SPP latency ${SIM_LATENCY_MS} ms, 1 connection, distinct queries)`,
      '',
      ...TABLE_HEADER,
      ...tableRows(results, baselineLabel),
      '',
      ...[...results.values()]
        .filter((m) => !m.label.startsWith('direct'))
        .map((m) => `- ${m.label}: p50 ${signed(m.latency.p50 - d.p50)} ms, p99 ${signed(m.latency.p99 - d.p99)} ms over direct REST.`),
      '',
    );
  }

  // 2. Throughput, 25 rows ---------------------------------------------------------------
  {
    log(`2. throughput: 25 rows, SPP 0 ms, ${MANY} connections`);
    const results = await compare([
      { side: side('gateway, variables', [graphql(gw0, 'gw', 25, 'variables')], MANY), counter: gatewayCounter(gw0), server: gw0 },
      { side: side('gateway, literals', [graphql(gw0, 'gw', 25, 'literals')], MANY), counter: gatewayCounter(gw0), server: gw0 },
      { side: side('gateway, same query', [graphql(gw0, 'gw', 25, 'same')], MANY), counter: gatewayCounter(gw0), server: gw0 },
      { side: side('baseline, variables', [graphql(base0, 'base', 25, 'variables')], MANY), counter: baselineCounter(base0), server: base0 },
      { side: side('baseline, literals', [graphql(base0, 'base', 25, 'literals')], MANY), counter: baselineCounter(base0), server: base0 },
      { side: side('baseline, same query', [graphql(base0, 'base', 25, 'same')], MANY), counter: baselineCounter(base0), server: base0 },
      { side: side('direct REST, distinct', [direct(sim0, 'direct', sid0, 25)], MANY) },
      { side: side('direct REST, same URL', [direct(sim0, 'direct', sid0, 25, true)], MANY) },
    ]);
    const r = (label: string) => results.get(label)!.rps;
    rows.push({
      figure: `2. Throughput: 25 rows, SPP 0 ms, ${MANY} connections, distinct (variables): gateway ÷ baseline req/s`,
      measured: `${fmt(r('gateway, variables') / r('baseline, variables'))}× (${fmt(r('gateway, variables'), 0)} ÷ ${fmt(r('baseline, variables'), 0)}); literals ${fmt(r('gateway, literals') / r('baseline, literals'))}× (${fmt(r('gateway, literals'), 0)} ÷ ${fmt(r('baseline, literals'), 0)}); ${cpuVs(results, 'gateway, variables', 'baseline, variables')}, literals ${cpuVs(results, 'gateway, literals', 'baseline, literals')}`,
      target: `≥ ${TARGETS.throughputVsBaseline}×`,
      pass: r('gateway, variables') / r('baseline, variables') >= TARGETS.throughputVsBaseline,
    });
    rows.push({
      figure: `2. Sharing: same query on all ${MANY} connections, 25 rows, SPP 0 ms: gateway ÷ direct REST req/s`,
      measured: `${fmt(r('gateway, same query') / r('direct REST, same URL'))} (${fmt(r('gateway, same query'), 0)} ÷ ${fmt(r('direct REST, same URL'), 0)}); baseline ${fmt(r('baseline, same query') / r('direct REST, same URL'))}`,
      target: 'as good as before issue 8 (0.82 with 16 connections)',
      pass: null,
    });
    sections.push(`### 2. Throughput (25 rows, SPP latency 0 ms, ${MANY} connections)`, '', ...TABLE_HEADER, ...tableRows(results, baselineLabel), '');
  }

  // 3. Deep pages, on fresh processes (their peak RSS is this load's) -------------------
  {
    log(`3. deep pages: 1000 rows, SPP 0 ms, ${MANY} connections (fresh gateway and baseline)`);
    // Fresh processes, so that their peak RSS is this load's; smoke reuses the running ones (time).
    const [gw, base] = SMOKE ? [gw0, base0] : await Promise.all([startGateway('gateway (1000 rows)', sim0), startBaseline('baseline (1000 rows)', sim0)]);
    const startRss = { gw: rssOf(gw.pid)?.rssMb ?? Number.NaN, base: rssOf(base.pid)?.rssMb ?? Number.NaN };
    const results = await compare(
      [
        { side: side('gateway, variables', [graphql(gw, 'gw', 1000, 'variables')], MANY), counter: gatewayCounter(gw), server: gw, sample: UPSTREAM_SAMPLE },
        { side: side('gateway, literals', [graphql(gw, 'gw', 1000, 'literals')], MANY), counter: gatewayCounter(gw), server: gw, sample: UPSTREAM_SAMPLE },
        {
          side: side('baseline, variables', [graphql(base, 'base', 1000, 'variables')], MANY),
          counter: baselineCounter(base),
          server: base,
          sample: UPSTREAM_SAMPLE,
        },
        {
          side: side('baseline, literals', [graphql(base, 'base', 1000, 'literals')], MANY),
          counter: baselineCounter(base),
          server: base,
          sample: UPSTREAM_SAMPLE,
        },
        { side: side('direct REST, distinct (pageSize=1001)', [direct(sim0, 'direct', sid0, 1000)], MANY) },
      ],
      PLAN.deepRoundS,
    );
    const r = (label: string) => results.get(label)!.rps;
    const gwPeak = rssOf(gw.pid)?.hwmMb ?? Number.NaN;
    const basePeak = rssOf(base.pid)?.hwmMb ?? Number.NaN;
    rows.push({
      figure: `3. Deep pages: 1000 rows, SPP 0 ms, ${MANY} connections, distinct (variables): gateway ÷ baseline req/s`,
      measured: `${fmt(r('gateway, variables') / r('baseline, variables'))}× (${fmt(r('gateway, variables'), 1)} ÷ ${fmt(r('baseline, variables'), 1)}); literals ${fmt(r('gateway, literals') / r('baseline, literals'))}×; upstream requests per request ${fmt(results.get('gateway, variables')!.upstreamPerRequest ?? Number.NaN)} vs ${fmt(results.get('baseline, variables')!.upstreamPerRequest ?? Number.NaN)}; ${cpuVs(results, 'gateway, variables', 'baseline, variables')}, literals ${cpuVs(results, 'gateway, literals', 'baseline, literals')}`,
      target: `≥ ${TARGETS.deepVsBaseline}×`,
      pass: r('gateway, variables') / r('baseline, variables') >= TARGETS.deepVsBaseline,
    });
    rows.push({
      figure: `3. Peak RSS (VmHWM) under the 1000-row distinct load (variables, then literals)`,
      measured: `gateway ${fmt(gwPeak, 0)} MiB; baseline ${fmt(basePeak, 0)} MiB`,
      target: `≤ ${TARGETS.peakRssMb} MiB`,
      pass: gwPeak <= TARGETS.peakRssMb,
    });
    sections.push(
      `### 3. Deep pages (1000 rows, SPP latency 0 ms, ${MANY} connections, fresh processes)`,
      '',
      ...TABLE_HEADER,
      ...tableRows(results, baselineLabel),
      '',
      `- RSS at start ${fmt(startRss.gw, 0)} MiB (gateway), ${fmt(startRss.base, 0)} MiB (baseline); peak (VmHWM) after this load: ${fmt(gwPeak, 0)} MiB (gateway), ${fmt(basePeak, 0)} MiB (baseline).`,
      '',
    );
    if (!SMOKE) {
      await retire(gw);
      await retire(base);
    }
  }

  // 4. Deep latency ------------------------------------------------------------------------
  {
    log(`4. deep latency: first:1000 vs first:25, SPP ${SIM_LATENCY_MS} ms, 1 connection`);
    const results = await compare([
      {
        side: side('gateway, first: 1000', [graphql(gw20, 'gw', 1000, 'variables')], 1),
        counter: gatewayCounter(gw20),
        server: gw20,
        sample: UPSTREAM_SAMPLE / 2,
      },
      { side: side('gateway, first: 25', [graphql(gw20, 'gw', 25, 'variables')], 1), counter: gatewayCounter(gw20), server: gw20 },
      {
        side: side('baseline, first: 1000', [graphql(base20, 'base', 1000, 'variables')], 1),
        counter: baselineCounter(base20),
        server: base20,
        sample: UPSTREAM_SAMPLE / 2,
      },
      { side: side('baseline, first: 25', [graphql(base20, 'base', 25, 'variables')], 1), counter: baselineCounter(base20), server: base20 },
      { side: side('direct REST, pageSize=1001', [direct(sim20, 'direct', sid20, 1000)], 1) },
      { side: side('direct REST, pageSize=26', [direct(sim20, 'direct', sid20, 25)], 1) },
    ]);
    const p50 = (label: string) => results.get(label)!.latency.p50;
    const ratio = p50('gateway, first: 1000') / p50('gateway, first: 25');
    rows.push({
      figure: `4. Deep latency: p50 first:1000 ÷ p50 first:25, SPP ${SIM_LATENCY_MS} ms, 1 connection, distinct (variables)`,
      measured: `${fmt(ratio)} (${fmt(p50('gateway, first: 1000'), 1)} ÷ ${fmt(p50('gateway, first: 25'), 1)} ms); baseline ${fmt(p50('baseline, first: 1000') / p50('baseline, first: 25'))}; direct REST ${fmt(p50('direct REST, pageSize=1001') / p50('direct REST, pageSize=26'))}`,
      target: `≤ ${TARGETS.deepLatencyRatio}`,
      pass: ratio <= TARGETS.deepLatencyRatio,
    });
    sections.push(
      `### 4. Deep latency (SPP latency ${SIM_LATENCY_MS} ms, 1 connection, distinct queries with variables)`,
      '',
      ...TABLE_HEADER,
      ...tableRows(results, (label) => (label.startsWith('gateway') ? label.replace(/^gateway/, 'baseline') : undefined)),
      '',
    );
  }

  // 5. Cursor walk -------------------------------------------------------------------------
  {
    log(`5. cursor walk: 25 rows per page, SPP 0 ms, ${MANY} connections`);
    const results = await compare([
      { side: side('gateway, cursor walk', [walk(gw0, 'gw walk')], MANY), counter: gatewayCounter(gw0), server: gw0 },
      { side: side('baseline, cursor walk', [walk(base0, 'base walk')], MANY), counter: baselineCounter(base0), server: base0 },
    ]);
    const r = (label: string) => results.get(label)!.rps;
    rows.push({
      figure: `5. Cursor walk: 25 rows per page, SPP 0 ms, ${MANY} connections: gateway ÷ baseline req/s`,
      measured: `${fmt(r('gateway, cursor walk') / r('baseline, cursor walk'))}× (${fmt(r('gateway, cursor walk'), 0)} ÷ ${fmt(r('baseline, cursor walk'), 0)}); ${cpuVs(results, 'gateway, cursor walk', 'baseline, cursor walk')}`,
      target: 'reported',
      pass: null,
    });
    sections.push(
      `### 5. Cursor walk (each connection pages through its own list with the last endCursor, 25 rows per page, SPP latency 0 ms, ${MANY} connections)`,
      '',
      ...TABLE_HEADER,
      ...tableRows(results, baselineLabel),
      '',
      "- The gateway re-reads the cursor's own record with each page (pageStartIndex = its offset, pageSize 27) to check that it has not moved; the baseline trusts the offset.",
      '',
    );
  }

  // 6. Sharing ------------------------------------------------------------------------------
  {
    const n = PLAN.burst;
    log(`6. sharing: ${n} simultaneous identical running-jobs queries, SPP ${SIM_LATENCY_MS} ms`);
    sections.push(
      `### 6. Sharing (${n} simultaneous identical running-jobs queries on ${n} pre-opened connections, SPP latency ${SIM_LATENCY_MS} ms)`,
      '',
      '| side | answers OK | upstream requests | burst wall time ms |',
      '|---|---:|---:|---:|',
    );
    for (const [server, counter] of [
      [gw20, gatewayCounter(gw20)],
      [base20, baselineCounter(base20)],
    ] as const) {
      const target: Target = {
        label: server.name,
        url: `${server.base}/graphql`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: RUNNING_QUERY }),
        verify: graphqlOk,
      };
      const before = await counter();
      const result = await burst(target, n, `${server.base}/healthz`);
      const calls = (await counter()) - before;
      if (result.bad.length > 0) problems.push(`sharing ${server.name}: ${result.bad.length} bad answers, e.g. ${result.bad[0]}`);
      sections.push(`| ${server.name} | ${result.ok}/${n} | ${calls} | ${fmt(result.wallMs, 0)} |`);
      if (server === gw20)
        rows.push({
          figure: `6. Sharing: upstream requests for ${n} simultaneous identical queries`,
          measured: `${calls}`,
          target: `≤ ${TARGETS.sharedCalls}`,
          pass: calls <= TARGETS.sharedCalls,
        });
    }
    sections.push('');
  }

  for (const server of [gw20, base20, gw0, base0]) await retire(server);
  await stopAll();
  sections.push(
    '### Peak RSS (VmHWM) of every gateway process over its whole life',
    '',
    '| process | peak RSS MiB |',
    '|---|---:|',
    ...peaks.map((p) => `| ${p.name} | ${fmt(p.hwmMb, 0)} |`),
    '',
  );

  // Report ------------------------------------------------------------------------------
  const table = [
    '| figure | measured | target | result |',
    '|---|---|---|---|',
    ...rows.map((r) => `| ${r.figure} | ${r.measured} | ${r.target} | ${verdict(r.pass)} |`),
  ];
  process.stdout.write(`\n${table.join('\n')}\n\n${sections.join('\n')}\n`);

  if (problems.length > 0) {
    process.stderr.write(`\nbench: FAILED, requests that did not get a good answer:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
    return 1;
  }
  if (SMOKE) {
    log('smoke run OK: every measured request got a 2xx with a good body (RESULTS.md not written)');
    return 0;
  }
  const cpus = os.cpus();
  const machine = `${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${fmt(os.totalmem() / 2 ** 30, 1)} GiB RAM, ${os.type()} ${os.release()} ${os.arch()}, Node ${process.version}`;
  const md = [
    '# Benchmark results',
    '',
    `Produced by \`npm run bench\` (bench/run.ts) on ${new Date().toISOString().slice(0, 10)}, in ${fmt((Date.now() - started) / 1000, 0)} s.`,
    '',
    `Machine: ${machine}. Load average when the run started: ${startLoad}.`,
    '',
    process.env.BENCH_MACHINE_NOTE ? `${process.env.BENCH_MACHINE_NOTE}\n` : '',
    'Everything runs on this one machine over loopback: the load generator (autocannon, in the',
    'benchmark process), the SPP simulators, the gateways and the baselines, each its own process,',
    'so they compete for the same cores. Ratios measured side by side in alternating rounds are',
    'the figures; absolute numbers are not. Gateways run with NODE_ENV=production and default',
    'settings; the baseline is bench/baseline/gateway.ts (Apollo Server + got, the same schema',
    'subset, no extras, pages of 100 in parallel).',
    '',
    'Distinct: every request its own `start < X` filter bound (as a variable of one operation, or',
    'inlined as a literal, which also makes every request a new GraphQL document); the data is the',
    'same page every time, the request never is. Where the CPU goes: bench/PROFILES.md',
    '(`npm run bench:profile`).',
    '',
    '## Figures',
    '',
    ...table,
    '',
    '## Raw numbers',
    '',
    'Latencies are per-request response times measured by the load generator, pooled over',
    `${PLAN.rounds} alternating rounds of ${PLAN.roundS} s per side (${PLAN.deepRoundS} s for step 3) after ${PLAN.warmS} s of warm-up (nearest-rank percentiles);`,
    'req/s is requests over the measured time; upstream requests are counted by each gateway.',
    '',
    ...sections,
  ].join('\n');
  writeResultsSection('bench', '`npm run bench`, bench/run.ts', md);
  log(`wrote the "bench" section of ${fileURLToPath(RESULTS_FILE)}`);
  return 0;
}

const startLoad = os
  .loadavg()
  .map((l) => l.toFixed(1))
  .join(', ');

main().then(
  async (code) => {
    await stopAll();
    process.exit(code);
  },
  async (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    await stopAll();
    process.exit(1);
  },
);
