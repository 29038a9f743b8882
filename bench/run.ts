/**
 * `npm run bench`: the gateway against direct SPP REST calls on loopback, in one run.
 *
 *   npm run bench               full run (a few minutes), writes bench/RESULTS.md
 *   npm run bench -- --smoke    every step with tiny durations (CI); checks that every
 *                               measured request got a 2xx with a good body, prints the
 *                               table, writes nothing. BENCH_SMOKE=1 does the same.
 *
 * Five figures (targets in TARGETS below):
 * 1. overhead: gateway p50/p99 minus direct REST p50/p99 for a 25-session page, 2 connections,
 *    simulator latency 20 ms;
 * 2. throughput: gateway req/s ÷ direct REST req/s for the same page, 16 connections,
 *    simulator latency 0; as asked (one query on every connection, where single flight
 *    shares upstream calls) and with a distinct equivalent query per connection;
 * 3. deep page: p50 of `first: 1000` (SPP_PAGE_SIZE_CAP=100: 11 upstream pages) ÷ p50 of
 *    `first: 25`, 1 connection, simulator latency 20 ms, for the default fan-out, a fan-out
 *    wide enough for one wave, and fan-out 1 (sequential paging) for contrast;
 * 4. coalescing: upstream jobsession calls for 200 simultaneous identical "running jobs"
 *    queries, single flight only and with SPP_CACHE_TTL_MS=1000;
 * 5. memory: gateway RSS after 100,000 requests vs after 10,000 (each after a forced full
 *    GC), and peak RSS (VmHWM) of every gateway.
 *
 * Method, and why:
 * - Servers are child processes (bench/procs.ts): the load generator must not share an
 *   event loop with the servers it measures. One simulator per latency setting (20 ms, 0 ms)
 *   and one gateway per configuration, each on a kernel-chosen 127.0.0.1 port.
 * - Gateway and direct REST are measured in alternating short rounds (A/B, then B/A, ...)
 *   and each side's rounds are pooled: drift on a noisy 2-core machine (thermal, other
 *   tenants, GC, JIT warming) lands on both sides instead of biasing the difference.
 * - Latencies are the fractional-millisecond response times autocannon measures per request
 *   (its own histogram rounds to whole ms, too coarse for a 2 ms budget), pooled over rounds.
 * - Each side gets an unmeasured warm-up first (JIT, the gateway's SPP login, keep-alive
 *   sockets), so the figures describe the steady state.
 * - The direct REST request is exactly what the gateway sends SPP for `first: 25`:
 *   pageStartIndex=0, pageSize=26 (one extra record to know hasNextPage), sort start DESC,
 *   id DESC, with the same session header.
 */
import os from 'node:os';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { burst, delta, fanLoop, load, pool, problems, request, side, stats, upstreamCounters, type LoadRun, type Side, type Stats, type Target } from './load.js';
import { forceGc, rssOf, startGateway, startSimulator, stop, stopAll, type Server } from './procs.js';

const SMOKE = process.argv.includes('--smoke') || ['1', 'true', 'yes'].includes((process.env.BENCH_SMOKE ?? '').toLowerCase());

/** Durations (s), rounds and amounts. Smoke keeps the shape of every step at minimum size. */
const PLAN = SMOKE
  ? {
      overhead: { connections: 2, warmS: 0, rounds: 1, roundS: 1 },
      throughput: { connections: 16, warmS: 0, rounds: 1, roundS: 1 },
      deep: { connections: 1, warmS: 0, rounds: 1, roundS: 1, floorS: 1 },
      coalesce: { n: 200 },
      memory: { connections: 16, first: 500, total: 1_500 },
      budgetS: 120,
    }
  : {
      overhead: { connections: 2, warmS: 2, rounds: 4, roundS: 4 },
      throughput: { connections: 16, warmS: 1, rounds: 2, roundS: 4 },
      deep: { connections: 1, warmS: 1, rounds: 2, roundS: 3, floorS: 3 },
      coalesce: { n: 200 },
      memory: { connections: 16, first: 10_000, total: 100_000 },
      budgetS: 540,
    };

const TARGETS = {
  overheadP50Ms: 2,
  throughputRatio: 0.5,
  deepRatio: 1.6,
  coalescedCalls: 2,
  /** "No growth": RSS after 100k requests within 10 % of RSS after 10k. */
  rssGrowth: 0.1,
};

const SIM_LATENCY_MS = 20;
const PAGE_SIZE_CAP = 100;
/** ceil((1000 + 1) / 100) = 11 upstream pages for `first: 1000`: one wave needs 11. */
const ONE_WAVE_FANOUT = Math.ceil((1000 + 1) / PAGE_SIZE_CAP);
/** The gateway's SPP_FANOUT_CONCURRENCY default (src/config.ts). */
const DEFAULT_FANOUT = 12;

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

const PAGE_FIELDS = 'edges { cursor node { sessionId jobName status start end duration } } pageInfo { hasNextPage endCursor }';
const pageQuery = (first: number) => `{ jobSessions(first: ${first}) { ${PAGE_FIELDS} } }`;
/**
 * Year 3000 (epoch ms): `start < FAR_FUTURE + i` keeps every session, so the answer is the
 * same page, but each i is a different upstream request. Used where several connections
 * must not be joined by the gateway's single flight: identical queries in flight at the
 * same moment share one upstream call, and a request that joins one already under way
 * finishes early, which would flatter the gateway's latency and throughput.
 */
const FAR_FUTURE = 32_503_680_000_000;
const pageQueryBefore = (first: number, lt: number) => `{ jobSessions(first: ${first}, filter: {start: {lt: ${lt}}}) { ${PAGE_FIELDS} } }`;
const RUNNING_QUERY = '{ jobSessions(first: 20, filter: {status: [RUNNING, PENDING, HELD, CANCELING]}) { nodes { sessionId jobName status percent } } }';
const SORT = JSON.stringify([
  { property: 'start', direction: 'DESC' },
  { property: 'id', direction: 'DESC' },
]);

/** A GraphQL answer is good when it carries data and no errors (checked per response, so kept cheap). */
const graphqlOk = (body: string) => body.startsWith('{"data":{') && !body.includes('"errors":');

function graphql(gateway: Server, label: string, query: string): Target {
  return {
    label,
    url: `${gateway.base}/graphql`,
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query }),
    verify: graphqlOk,
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

/** What the gateway sends SPP (same parameters, same order): pageStartIndex, pageSize, [filter], sort. */
function direct(sim: Server, label: string, sessionId: string, pageSize: number, opts: { startIndex?: number; lt?: number } = {}): Target {
  const search = new URLSearchParams({ pageStartIndex: String(opts.startIndex ?? 0), pageSize: String(pageSize) });
  if (opts.lt !== undefined) search.set('filter', JSON.stringify([{ property: 'start', value: opts.lt, op: '<' }]));
  search.set('sort', SORT);
  return {
    label,
    url: `${sim.base}/api/endeavour/jobsession?${search.toString()}`,
    method: 'GET',
    headers: { 'x-endeavour-sessionid': sessionId, accept: 'application/json' },
    verify: (body) => body.includes('"sessions":['),
  };
}

/** One request, checked; returns the parsed JSON. */
async function once<T>(target: Target): Promise<T> {
  const res = await request(target.url, { method: target.method, headers: target.headers, body: target.body });
  if (res.status !== 200 || !target.verify(res.body)) throw new Error(`${target.label}: unexpected answer ${res.status} ${res.body.slice(0, 300)}`);
  return JSON.parse(res.body) as T;
}

// ---------------------------------------------------------------------------------------
// Measurement building blocks

/** Alternating rounds of several sides (A B, B A, A B ...), pooled per side. */
async function interleaved(sides: Side[], opts: { warmS: number; rounds: number; roundS: number }): Promise<Map<string, LoadRun[]>> {
  if (opts.warmS > 0) for (const s of sides) await load(s, { durationS: opts.warmS, label: `${s.label} (warm-up)` });
  const runs = new Map<string, LoadRun[]>(sides.map((s) => [s.label, []]));
  for (let round = 0; round < opts.rounds; round++) {
    const order = round % 2 === 0 ? sides : [...sides].reverse();
    for (const s of order) runs.get(s.label)!.push(await load(s, { durationS: opts.roundS }));
  }
  return runs;
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

function latencyRow(label: string, s: Stats, rps?: number): string {
  return `| ${label} | ${s.n} | ${fmt(s.p50)} | ${fmt(s.p99)} | ${fmt(s.avg)} | ${fmt(s.min)} | ${fmt(s.max)} | ${rps === undefined ? '' : fmt(rps, 0)} |`;
}
const LATENCY_HEADER = ['| target | requests | p50 ms | p99 ms | avg ms | min ms | max ms | req/s |', '|---|---:|---:|---:|---:|---:|---:|---:|'];

// ---------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const rows: Row[] = [];
  const raw: string[] = [];
  const gateways: Server[] = [];
  const peaks = new Map<string, number>();
  /** Stops a gateway when its steps are done, keeping its peak RSS. */
  const retire = async (gw: Server) => {
    const mem = rssOf(gw.pid);
    if (mem) peaks.set(gw.name, mem.hwmMb);
    await stop(gw);
  };

  log(`${SMOKE ? 'SMOKE run (tiny durations; RESULTS.md not written)' : 'full run'} on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`);
  log('starting simulators (20 ms and 0 ms latency)');
  const [sim20, sim0] = await Promise.all([startSimulator('sim-20ms', { latencyMs: SIM_LATENCY_MS }), startSimulator('sim-0ms', { latencyMs: 0 })]);
  log('starting gateways');
  const [gwMain, gwWave, gwSeq, gwCache, gwTput, gwMem] = await Promise.all([
    startGateway('gw default (20 ms SPP)', sim20),
    startGateway('gw fan-out 6 (20 ms SPP)', sim20, { fanoutConcurrency: 6 }),
    startGateway('gw fan-out 1 (20 ms SPP)', sim20, { fanoutConcurrency: 1 }),
    startGateway('gw cache 1000 ms (20 ms SPP)', sim20, { cacheTtlMs: 1000 }),
    startGateway('gw default (0 ms SPP, throughput)', sim0),
    startGateway('gw default (0 ms SPP, memory)', sim0, { gcOnSignal: true }),
  ]);
  gateways.push(gwMain, gwWave, gwSeq, gwCache, gwTput, gwMem);
  log(`up: ${[sim20, sim0, ...gateways].map((s) => `${s.name} pid ${s.pid} ${s.base}`).join('; ')}`);

  // Sanity: the answers are what the figures claim to measure (also logs the gateways in).
  const [sid20, sid0] = await Promise.all([login(sim20), login(sim0)]);
  type Page = { data: { jobSessions: { edges: Array<{ node: { sessionId: string } }>; pageInfo: { hasNextPage: boolean } } } };
  type Nodes = { data: { jobSessions: { nodes: Array<{ status: string }> } } };
  const idsOf = (page: Page) => page.data.jobSessions.edges.map((e) => e.node.sessionId).join();
  for (const [sim, sid, gws] of [
    [sim20, sid20, [gwMain, gwWave, gwSeq, gwCache]],
    [sim0, sid0, [gwTput, gwMem]],
  ] as const) {
    const rest = await once<{ sessions: Array<{ id: string }> }>(direct(sim, 'direct REST', sid, 26));
    const restFiltered = await once<{ sessions: Array<{ id: string }> }>(direct(sim, 'direct REST filtered', sid, 26, { lt: FAR_FUTURE }));
    const want = rest.sessions.slice(0, 25).map((s) => String(s.id)).join();
    if (rest.sessions.length !== 26 || restFiltered.sessions.map((s) => String(s.id)).join() !== rest.sessions.map((s) => String(s.id)).join()) {
      throw new Error(`${sim.name}: the direct REST pages are not the expected 26 sessions`);
    }
    for (const gw of gws) {
      const page = await once<Page>(graphql(gw, `${gw.name} first:25`, pageQuery(25)));
      const filtered = await once<Page>(graphql(gw, `${gw.name} first:25 filtered`, pageQueryBefore(25, FAR_FUTURE)));
      if (idsOf(page) !== want || idsOf(filtered) !== want || !page.data.jobSessions.pageInfo.hasNextPage) {
        throw new Error(`${gw.name}: first:25 does not match the direct REST page`);
      }
    }
  }
  for (const gw of [gwMain, gwWave, gwSeq]) {
    const deep = await once<Page>(graphql(gw, `${gw.name} first:1000`, pageQuery(1000)));
    if (deep.data.jobSessions.edges.length !== 1000) throw new Error(`${gw.name}: first:1000 answered ${deep.data.jobSessions.edges.length} edges`);
  }
  // The running-jobs query only on a gateway not used for figure 4, so that 4 starts cold.
  const running = await once<Nodes>(graphql(gwTput, 'running jobs', RUNNING_QUERY));
  if (!running.data.jobSessions.nodes.every((n) => ['RUNNING', 'PENDING', 'HELD', 'CANCELING'].includes(n.status))) throw new Error('running-jobs query returned other states');
  log(`sanity ok (running-jobs query: ${running.data.jobSessions.nodes.length} sessions)`);

  // 1. Overhead ---------------------------------------------------------------------------
  // Two connections, each with its own query (the plain page, and the same page behind a
  // `start < year 3000` filter), on both sides: with one shared query the two connections
  // fall into lockstep and single flight answers both with one upstream call.
  {
    const p = PLAN.overhead;
    log(`1. overhead: ${p.rounds} × 2 rounds of ${p.roundS} s, ${p.connections} connections, SPP latency ${SIM_LATENCY_MS} ms`);
    const gwSide = side('gateway first:25', Array.from({ length: p.connections }, (_, i) => graphql(gwMain, 'gateway', i === 0 ? pageQuery(25) : pageQueryBefore(25, FAR_FUTURE + i))));
    const restSide = side('direct REST pageSize=26', Array.from({ length: p.connections }, (_, i) => direct(sim20, 'direct', sid20, 26, i === 0 ? {} : { lt: FAR_FUTURE + i })));
    const before = await upstreamCounters(gwMain.base);
    const runs = await interleaved([gwSide, restSide], p);
    const after = await upstreamCounters(gwMain.base);
    const g = pool(runs.get(gwSide.label)!);
    const d = pool(runs.get(restSide.label)!);
    const perRound = runs.get(gwSide.label)!.map((r, i) => stats(r.latencies).p50 - stats(runs.get(restSide.label)![i]!.latencies).p50);
    const up = delta(after, before);
    const overheadP50 = g.latency.p50 - d.latency.p50;
    const overheadP99 = g.latency.p99 - d.latency.p99;
    const upstreamAvgMs = (up.upstreamSeconds / up.upstreamTimed) * 1000;
    rows.push({
      figure: `1. Overhead, 25-session page: gateway p50 − direct REST p50 (${p.connections} conn., SPP ${SIM_LATENCY_MS} ms)`,
      measured: `${signed(overheadP50)} ms (p99 ${signed(overheadP99)} ms)`,
      target: `≤ ${TARGETS.overheadP50Ms} ms`,
      pass: overheadP50 <= TARGETS.overheadP50Ms,
    });
    raw.push(
      `### 1. Overhead (${p.rounds} alternating rounds × ${p.roundS} s per side, ${p.connections} connections each with its own query, SPP latency ${SIM_LATENCY_MS} ms)`,
      '',
      ...LATENCY_HEADER,
      latencyRow('gateway `first: 25`', g.latency, g.rps),
      latencyRow('direct REST `pageSize=26`', d.latency, d.rps),
      '',
      `- Overhead p50 ${signed(overheadP50)} ms, p99 ${signed(overheadP99)} ms, avg ${signed(g.latency.avg - d.latency.avg)} ms; per-round p50 differences: ${perRound.map((x) => signed(x)).join(', ')} ms.`,
      `- Upstream during the gateway rounds (warm-up included): ${up.jobsessionCalls} jobsession calls, ${up.coalesced} coalesced, for ${g.requests} measured gateway requests.`,
      // Where the average overhead goes, from the gateway's own upstream timer (got request,
      // JSON parse, validation): "client" = that timer minus the direct REST time,
      // "GraphQL/HTTP" = the gateway's response time minus that timer.
      `- Breakdown of the average: SPP as timed inside the gateway ${fmt(upstreamAvgMs)} ms vs ${fmt(d.latency.avg)} ms direct (upstream client, JSON parse, validation: ${signed(upstreamAvgMs - d.latency.avg)} ms); the rest of the gateway (HTTP, GraphQL parse/validate/execute, cursors, serialisation): ${signed(g.latency.avg - upstreamAvgMs)} ms.`,
      '',
    );
  }

  // 3. Deep page --------------------------------------------------------------------------
  {
    const p = PLAN.deep;
    log(`3. deep page: first:1000 vs first:25, ${p.connections} connection, ${p.rounds} × 2 rounds of ${p.roundS} s per configuration`);
    raw.push(`### 3. Deep page (SPP_PAGE_SIZE_CAP=${PAGE_SIZE_CAP}, 1 connection, SPP latency ${SIM_LATENCY_MS} ms, ${p.rounds} alternating rounds × ${p.roundS} s per query)`, '', ...LATENCY_HEADER);
    const notes: string[] = [];
    for (const [gw, fanout, role] of [
      [gwMain, DEFAULT_FANOUT, `default: ${ONE_WAVE_FANOUT} upstream requests in one wave`],
      [gwWave, 6, 'two waves, for contrast'],
      [gwSeq, 1, 'sequential, for contrast'],
    ] as const) {
      const deep = side(`fan-out ${fanout}: first:1000`, [graphql(gw, 'deep', pageQuery(1000))], p.connections);
      const page = side(`fan-out ${fanout}: first:25`, [graphql(gw, 'page', pageQuery(25))], p.connections);
      const before = await upstreamCounters(gw.base);
      const runs = await interleaved([deep, page], p);
      const after = await upstreamCounters(gw.base);
      const dp = pool(runs.get(deep.label)!);
      const pg = pool(runs.get(page.label)!);
      const ratio = dp.latency.p50 / pg.latency.p50;
      const up = delta(after, before);
      rows.push({
        figure: `3. Deep page: p50 first:1000 ÷ p50 first:25, SPP_FANOUT_CONCURRENCY=${fanout} (${role})`,
        measured: `${fmt(ratio)} (${fmt(dp.latency.p50, 1)} ms ÷ ${fmt(pg.latency.p50, 1)} ms)`,
        target: fanout === 1 ? 'contrast (~10 expected)' : `≤ ${TARGETS.deepRatio}`,
        pass: fanout === 1 ? null : ratio <= TARGETS.deepRatio,
      });
      raw.push(latencyRow(`fan-out ${fanout} (${role}): \`first: 1000\``, dp.latency, dp.rps), latencyRow(`fan-out ${fanout} (${role}): \`first: 25\``, pg.latency, pg.rps));
      notes.push(`- Fan-out ${fanout}: p50 ratio ${fmt(ratio)}, avg ratio ${fmt(dp.latency.avg / pg.latency.avg)}; ${up.jobsessionCalls} upstream jobsession calls for ${dp.requests + pg.requests} measured requests (+ warm-up).`);
    }
    // The floor: the same 11 upstream pages fetched directly, all at once, vs the one page
    // behind `first: 25`. What the gateway adds on top of this is its own work.
    const chunks = Array.from({ length: ONE_WAVE_FANOUT }, (_, i) => direct(sim20, 'chunk', sid20, Math.min(PAGE_SIZE_CAP, 1001 - i * PAGE_SIZE_CAP), { startIndex: i * PAGE_SIZE_CAP }));
    const floorDeep = await fanLoop(`direct REST: ${ONE_WAVE_FANOUT} pages at once`, chunks, p.floorS);
    const floorPage = await fanLoop('direct REST: pageSize=26', [direct(sim20, 'page', sid20, 26)], p.floorS);
    const fd = stats(floorDeep.latencies);
    const fp = stats(floorPage.latencies);
    raw.push(
      latencyRow(`direct REST floor: the ${ONE_WAVE_FANOUT} upstream pages at once (wall time of each round)`, fd, floorDeep.requests / floorDeep.durationS),
      latencyRow('direct REST floor: `pageSize=26`', fp, floorPage.requests / floorPage.durationS),
      '',
      ...notes,
      `- Direct-REST floor (no gateway): ${ONE_WAVE_FANOUT} pages at once take p50 ${fmt(fd.p50, 1)} ms, ${fmt(fd.p50 / fp.p50)}× one 26-record page (${fmt(fp.p50, 1)} ms): the simulator's own cost of producing 1001 records over ${ONE_WAVE_FANOUT} concurrent requests.`,
      '',
    );
    await retire(gwWave);
    await retire(gwSeq);
  }

  // 4. Coalescing -------------------------------------------------------------------------
  {
    const n = PLAN.coalesce.n;
    log(`4. coalescing: ${n} simultaneous running-jobs queries, SPP latency ${SIM_LATENCY_MS} ms`);
    raw.push(`### 4. Coalescing (${n} simultaneous identical running-jobs queries on ${n} pre-opened connections, SPP latency ${SIM_LATENCY_MS} ms)`, '', '| configuration | answers OK | upstream jobsession calls | coalesced | cache hits | burst wall time ms |', '|---|---:|---:|---:|---:|---:|');
    for (const [gw, label] of [
      [gwMain, 'single flight only (SPP_CACHE_TTL_MS=0)'],
      [gwCache, 'single flight + SPP_CACHE_TTL_MS=1000'],
    ] as const) {
      const before = await upstreamCounters(gw.base);
      const result = await burst(graphql(gw, label, RUNNING_QUERY), n, `${gw.base}/healthz`);
      const up = delta(await upstreamCounters(gw.base), before);
      if (result.bad.length > 0) problems.push(`coalescing ${label}: ${result.bad.length} bad answers, e.g. ${result.bad[0]}`);
      rows.push({
        figure: `4. Coalescing: upstream calls for ${n} simultaneous running-jobs queries, ${label}`,
        measured: `${up.jobsessionCalls}`,
        target: `≤ ${TARGETS.coalescedCalls}`,
        pass: up.jobsessionCalls <= TARGETS.coalescedCalls,
      });
      raw.push(`| ${label} | ${result.ok}/${n} | ${up.jobsessionCalls} | ${up.coalesced} | ${up.cacheHits} | ${fmt(result.wallMs, 0)} |`);
    }
    raw.push('');
    await retire(gwCache);
    await retire(gwMain);
  }

  // 2. Throughput -------------------------------------------------------------------------
  // As asked: all connections send the same query. Identical requests in flight together
  // share one upstream call (single flight), which the direct REST side cannot do, so the
  // same is also measured with a distinct (equivalent) query per connection: that one is
  // the gateway's per-request cost.
  {
    const p = PLAN.throughput;
    log(`2. throughput: ${p.rounds} × 4 rounds of ${p.roundS} s, ${p.connections} connections, SPP latency 0 ms`);
    const gwSame = side('gateway, same query', [graphql(gwTput, 'gateway', pageQuery(25))], p.connections);
    const restSame = side('direct REST, same URL', [direct(sim0, 'direct', sid0, 26)], p.connections);
    const gwDistinct = side('gateway, query per connection', Array.from({ length: p.connections }, (_, i) => graphql(gwTput, 'gateway', pageQueryBefore(25, FAR_FUTURE + i))));
    const restDistinct = side('direct REST, URL per connection', Array.from({ length: p.connections }, (_, i) => direct(sim0, 'direct', sid0, 26, { lt: FAR_FUTURE + i })));
    const sides = [gwSame, restSame, gwDistinct, restDistinct];
    const counters: Array<{ label: string; calls: number; coalesced: number }> = [];
    // Upstream counters around the gateway sides only: run the rounds by hand.
    if (p.warmS > 0) for (const s of sides) await load(s, { durationS: p.warmS, label: `${s.label} (warm-up)` });
    const runs = new Map<string, LoadRun[]>(sides.map((s) => [s.label, []]));
    for (let round = 0; round < p.rounds; round++) {
      for (const s of round % 2 === 0 ? sides : [...sides].reverse()) {
        const before = s.label.startsWith('gateway') ? await upstreamCounters(gwTput.base) : undefined;
        runs.get(s.label)!.push(await load(s, { durationS: p.roundS }));
        if (before) {
          const up = delta(await upstreamCounters(gwTput.base), before);
          counters.push({ label: s.label, calls: up.jobsessionCalls, coalesced: up.coalesced });
        }
      }
    }
    const pooled = new Map(sides.map((s) => [s.label, pool(runs.get(s.label)!)]));
    const ratioSame = pooled.get(gwSame.label)!.rps / pooled.get(restSame.label)!.rps;
    const ratioDistinct = pooled.get(gwDistinct.label)!.rps / pooled.get(restDistinct.label)!.rps;
    rows.push({
      figure: `2. Throughput: gateway req/s ÷ direct REST req/s, 25-session page, same query on all ${p.connections} conn. (SPP 0 ms)`,
      measured: `${fmt(ratioSame)} (${fmt(pooled.get(gwSame.label)!.rps, 0)} ÷ ${fmt(pooled.get(restSame.label)!.rps, 0)} req/s)`,
      target: `≥ ${TARGETS.throughputRatio}`,
      pass: ratioSame >= TARGETS.throughputRatio,
    });
    rows.push({
      figure: `2. Throughput, as above with a distinct equivalent query per connection (no single flight)`,
      measured: `${fmt(ratioDistinct)} (${fmt(pooled.get(gwDistinct.label)!.rps, 0)} ÷ ${fmt(pooled.get(restDistinct.label)!.rps, 0)} req/s)`,
      target: `≥ ${TARGETS.throughputRatio}`,
      pass: ratioDistinct >= TARGETS.throughputRatio,
    });
    const upFor = (label: string) => {
      const mine = counters.filter((c) => c.label === label);
      return { calls: mine.reduce((sum, c) => sum + c.calls, 0), coalesced: mine.reduce((sum, c) => sum + c.coalesced, 0) };
    };
    raw.push(
      `### 2. Throughput (${p.rounds} alternating rounds × ${p.roundS} s per side, ${p.connections} connections, SPP latency 0 ms)`,
      '',
      ...LATENCY_HEADER,
      ...sides.map((s) => latencyRow(s.label, pooled.get(s.label)!.latency, pooled.get(s.label)!.rps)),
      '',
      ...sides.map((s) => `- ${s.label}: per-round req/s ${runs.get(s.label)!.map((r) => fmt(r.requests / r.durationS, 0)).join(', ')}.`),
      ...[gwSame, gwDistinct].map((s) => {
        const u = upFor(s.label);
        return `- ${s.label}: ${u.calls} upstream jobsession calls and ${u.coalesced} coalesced for ${pooled.get(s.label)!.requests} gateway requests.`;
      }),
      '',
    );
    await retire(gwTput);
  }

  // 5. Memory -----------------------------------------------------------------------------
  // Sampled at three points (10 %, 55 %, 100 % of the requests), each after a forced full GC
  // (bench/gc-on-signal.mjs), so that the comparison is between settled states; the RSS
  // just before that GC is reported too. A leak shows as V8 heap that survives a full GC
  // growing with the request count.
  {
    const p = PLAN.memory;
    log(`5. memory: ${p.total} requests (RSS after ${p.first}, ${(p.first + p.total) / 2} and ${p.total}), ${p.connections} connections, SPP latency 0 ms`);
    const gw = side('gateway first:25 (memory)', [graphql(gwMem, 'gateway', pageQuery(25))], p.connections);
    const startMem = rssOf(gwMem.pid);
    const points: Array<{ served: number; rssBeforeGcMb: number; rssMb: number; heapUsedMb: number }> = [];
    const runs: LoadRun[] = [];
    const mid = Math.round((p.first + p.total) / 2);
    let served = 0;
    for (const upTo of [p.first, mid, p.total]) {
      runs.push(await load(gw, { amount: upTo - served }));
      served += runs[runs.length - 1]!.requests;
      await new Promise((resolve) => setTimeout(resolve, 500));
      const rssBeforeGcMb = rssOf(gwMem.pid)!.rssMb;
      await forceGc(gwMem);
      points.push({ served, rssBeforeGcMb, rssMb: rssOf(gwMem.pid)!.rssMb, heapUsedMb: (await upstreamCounters(gwMem.base)).heapUsedMb });
    }
    const at1 = points[0]!;
    const at2 = points[points.length - 1]!;
    const growth = at2.rssMb / at1.rssMb - 1;
    rows.push({
      figure: `5. Memory: gateway RSS after ${p.total.toLocaleString('en-US')} requests vs after ${p.first.toLocaleString('en-US')} (after a full GC)`,
      measured: `${fmt(at1.rssMb, 1)} → ${fmt(at2.rssMb, 1)} MB (${signed(growth * 100, 1)} %); V8 heap ${fmt(at1.heapUsedMb, 1)} → ${fmt(at2.heapUsedMb, 1)} MB`,
      target: `no growth (≤ +${TARGETS.rssGrowth * 100} %)`,
      pass: growth <= TARGETS.rssGrowth,
    });
    peaks.set(gwMem.name, rssOf(gwMem.pid)!.hwmMb);
    await stop(gwMem);
    const [peakName, peakMb] = [...peaks.entries()].reduce((a, b) => (b[1] > a[1] ? b : a));
    rows.push({ figure: '5. Memory: peak RSS (VmHWM) of any gateway during the run', measured: `${fmt(peakMb, 1)} MB (${peakName})`, target: 'reported', pass: null });
    const all = runs.flatMap((r) => r.latencies);
    raw.push(
      `### 5. Memory (${p.connections} connections, SPP latency 0 ms, 25-session page; RSS from /proc/<pid>/status; V8 heap used from /metrics)`,
      '',
      '| point | requests served | RSS MB before GC | RSS MB after full GC | V8 heap used MB after full GC |',
      '|---|---:|---:|---:|---:|',
      `| after start-up and sanity check | 1 | ${fmt(startMem?.rssMb ?? Number.NaN, 1)} | | |`,
      ...points.map((pt) => `| after ${pt.served.toLocaleString('en-US')} | ${pt.served} | ${fmt(pt.rssBeforeGcMb, 1)} | ${fmt(pt.rssMb, 1)} | ${fmt(pt.heapUsedMb, 1)} |`),
      '',
      `- Memory-run throughput: ${fmt(served / runs.reduce((s, r) => s + r.durationS, 0), 0)} req/s; latency p50 ${fmt(stats(all).p50)} ms, p99 ${fmt(stats(all).p99)} ms.`,
      `- Peak RSS (VmHWM) per gateway: ${[...peaks.entries()].map(([name, mb]) => `${name} ${fmt(mb, 1)} MB`).join('; ')}.`,
      '',
    );
  }

  await stopAll();

  // Report ------------------------------------------------------------------------------
  const order = (r: Row) => Number(/^(\d)/.exec(r.figure)?.[1] ?? 9);
  rows.sort((a, b) => order(a) - order(b));
  const table = ['| figure | measured | target | result |', '|---|---|---|---|', ...rows.map((r) => `| ${r.figure} | ${r.measured} | ${r.target} | ${verdict(r.pass)} |`)];
  const rawOrdered = reorderRaw(raw);
  process.stdout.write(`\n${table.join('\n')}\n\n${rawOrdered.join('\n')}\n`);

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
    `Machine: ${machine}.`,
    '',
    'Everything runs on this one machine over loopback: the load generator (autocannon, in the',
    'benchmark process), the SPP simulator(s) and the gateway(s), each its own process, so the',
    'servers compete with the load generator for the same cores. Ratios and differences measured',
    'side by side in alternating rounds are the meaningful figures; absolute numbers are not.',
    'Gateways run with NODE_ENV=production, LOG_LEVEL=warn.',
    '',
    '## Figures',
    '',
    ...table,
    '',
    '## Raw numbers',
    '',
    'Latencies are per-request response times measured by the load generator, pooled over',
    'rounds (nearest-rank percentiles); req/s is requests over the measured time.',
    '',
    ...rawOrdered,
  ].join('\n');
  const file = fileURLToPath(new URL('./RESULTS.md', import.meta.url));
  writeFileSync(file, `${md}\n`);
  log(`wrote ${file}`);
  return 0;
}

/** The raw sections were collected in execution order (1, 3, 4, 2, 5); present them 1–5. */
function reorderRaw(lines: string[]): string[] {
  const sections: Array<{ n: number; lines: string[] }> = [];
  for (const line of lines) {
    const heading = /^### (\d)\./.exec(line);
    if (heading) sections.push({ n: Number(heading[1]), lines: [] });
    sections[sections.length - 1]?.lines.push(line);
  }
  return sections.sort((a, b) => a.n - b.n).flatMap((s) => s.lines);
}

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
