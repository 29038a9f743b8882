/**
 * Load generation and measurement helpers: autocannon runs that keep every response time
 * (so rounds can be pooled into one distribution), correctness counters, a burst of
 * simultaneous requests, and the gateway's Prometheus counters.
 */
import http from 'node:http';
import autocannon from 'autocannon';

/** What one target of a comparison is asked, as autocannon needs it. */
export interface Target {
  label: string;
  /** Full URL, always http://127.0.0.1:... */
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  /**
   * A new body for every request (distinct queries): each request its own filter bound or
   * cursor, so nothing the gateway shares between identical requests can flatter it.
   */
  nextBody?: () => string;
  /** A new path (with query string) for every request: direct REST with a distinct filter each time. */
  nextPath?: () => string;
  /** autocannon request definitions, for sequences such as a cursor walk (each connection its own context). */
  requests?: autocannon.Request[];
  /** True when a 2xx body is the expected answer (GraphQL: data and no errors). */
  verify: (body: string) => boolean;
}

export interface LoadRun {
  label: string;
  /** Response times in ms (fractional, from process.hrtime in autocannon), 2xx only. */
  latencies: number[];
  requests: number;
  durationS: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  mismatches: number;
}

/** Problems seen by any run: every measured request must be a 2xx with a good body. */
export const problems: string[] = [];

function check(run: LoadRun): LoadRun {
  // Problems are counted per autocannon run, before runs of a side are merged.
  const bad = run.non2xx + run.errors + run.timeouts + run.mismatches;
  if (bad > 0) problems.push(`${run.label}: ${run.non2xx} non-2xx, ${run.errors} errors, ${run.timeouts} timeouts, ${run.mismatches} bad bodies`);
  return run;
}

export function assertLoopback(url: string): void {
  if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(url)) throw new Error(`refusing to load a non-loopback target: ${url}`);
}

/**
 * One side of a comparison: one or more targets loaded at the same time, `connectionsEach`
 * connections per target. Several targets let each connection send its own query, so the
 * gateway's single flight cannot join them (see run.ts, figure 1).
 */
export interface Side {
  label: string;
  targets: Target[];
  connectionsEach: number;
}

export function side(label: string, targets: Target[], connectionsEach = 1): Side {
  return { label, targets, connectionsEach };
}

/** Loads every target of a side at once for `durationS` (or `amount` requests in all) and merges the runs. */
export async function load(s: Side, opts: { durationS?: number; amount?: number; label?: string }): Promise<LoadRun> {
  const share = opts.amount === undefined ? undefined : Math.ceil(opts.amount / s.targets.length);
  const runs = await Promise.all(
    s.targets.map((t) =>
      cannon(t, {
        connections: s.connectionsEach,
        ...(opts.durationS !== undefined ? { durationS: opts.durationS } : {}),
        ...(share !== undefined ? { amount: share } : {}),
        label: opts.label ?? s.label,
      }),
    ),
  );
  if (runs.length === 1) return runs[0]!;
  return {
    label: opts.label ?? s.label,
    latencies: runs.flatMap((r) => r.latencies),
    requests: runs.reduce((sum, r) => sum + r.requests, 0),
    // The runs overlap in time: the side lasted as long as its longest run.
    durationS: Math.max(...runs.map((r) => r.durationS)),
    non2xx: runs.reduce((sum, r) => sum + r.non2xx, 0),
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
    timeouts: runs.reduce((sum, r) => sum + r.timeouts, 0),
    mismatches: runs.reduce((sum, r) => sum + r.mismatches, 0),
  };
}

/** One autocannon run, bounded by `durationS` or by `amount` requests. */
function cannon(target: Target, opts: { connections: number; durationS?: number; amount?: number; label?: string }): Promise<LoadRun> {
  assertLoopback(target.url);
  const latencies: number[] = [];
  return new Promise<LoadRun>((resolve, reject) => {
    const instance = autocannon(
      {
        url: target.url,
        method: target.method,
        headers: target.headers,
        ...(target.body !== undefined ? { body: target.body } : {}),
        ...(target.requests
          ? { requests: target.requests }
          : target.nextBody
            ? { requests: [{ setupRequest: (req: autocannon.Request) => ({ ...req, body: target.nextBody!() }) }] }
            : target.nextPath
              ? { requests: [{ setupRequest: (req: autocannon.Request) => ({ ...req, path: target.nextPath!() }) }] }
              : {}),
        connections: opts.connections,
        pipelining: 1,
        // `amount` wins over `duration` when both are given (autocannon's rule).
        ...(opts.amount !== undefined ? { amount: opts.amount } : { duration: opts.durationS ?? 1 }),
        timeout: 10,
        // autocannon hands over the body it accumulated as a string.
        verifyBody: (body) => target.verify(String(body ?? '')),
      },
      (error: unknown, result: autocannon.Result) => {
        if (error) return reject(error instanceof Error ? error : new Error(JSON.stringify(error)));
        resolve(
          check({
            label: opts.label ?? target.label,
            latencies,
            requests: result.requests.total,
            durationS: result.duration,
            non2xx: result.non2xx,
            errors: result.errors,
            timeouts: result.timeouts,
            mismatches: result.mismatches,
          }),
        );
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    });
  });
}

export interface Stats {
  n: number;
  p50: number;
  p99: number;
  avg: number;
  min: number;
  max: number;
}

export function stats(values: number[]): Stats {
  if (values.length === 0) return { n: 0, p50: Number.NaN, p99: Number.NaN, avg: Number.NaN, min: Number.NaN, max: Number.NaN };
  const sorted = Float64Array.from(values).sort();
  // Nearest-rank percentile.
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
  let sum = 0;
  for (const v of sorted) sum += v;
  return { n: sorted.length, p50: at(50), p99: at(99), avg: sum / sorted.length, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

/** Several runs of one target pooled: all latencies, total requests over total time. */
export function pool(runs: LoadRun[]): { latency: Stats; requests: number; durationS: number; rps: number } {
  const latencies = runs.flatMap((r) => r.latencies);
  const requests = runs.reduce((s, r) => s + r.requests, 0);
  const durationS = runs.reduce((s, r) => s + r.durationS, 0);
  return { latency: stats(latencies), requests, durationS, rps: durationS > 0 ? requests / durationS : Number.NaN };
}

/** A plain HTTP request (no retries), for set-up, sanity checks and /metrics. */
export function request(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; agent?: http.Agent } = {},
): Promise<{ status: number; body: string }> {
  assertLoopback(url);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: init.method ?? 'GET', headers: init.headers, agent: init.agent, timeout: 15_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: ${url}`)));
    req.on('error', reject);
    req.end(init.body);
  });
}

/** Sums the samples of one Prometheus metric whose labels include all of `labels`. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    const labelText = line[name.length] === '{' ? line.slice(name.length + 1, line.indexOf('}')) : '';
    if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export interface UpstreamCounters {
  jobsessionCalls: number;
  coalesced: number;
  cacheHits: number;
  /** spp_upstream_request_duration_seconds sum and count for jobsession: SPP as the gateway sees it (request, JSON parse and validation). */
  upstreamSeconds: number;
  upstreamTimed: number;
  heapUsedMb: number;
}

export async function upstreamCounters(gatewayBase: string): Promise<UpstreamCounters> {
  const { status, body } = await request(`${gatewayBase}/metrics`);
  if (status !== 200) throw new Error(`GET /metrics answered ${status}`);
  return {
    jobsessionCalls: metricValue(body, 'spp_upstream_requests_total', { endpoint: 'jobsession' }),
    coalesced: metricValue(body, 'spp_upstream_coalesced_total'),
    cacheHits: metricValue(body, 'spp_upstream_cache_hits_total'),
    upstreamSeconds: metricValue(body, 'spp_upstream_request_duration_seconds_sum', { endpoint: 'jobsession' }),
    upstreamTimed: metricValue(body, 'spp_upstream_request_duration_seconds_count', { endpoint: 'jobsession' }),
    heapUsedMb: metricValue(body, 'nodejs_heap_size_used_bytes') / 2 ** 20,
  };
}

export function delta(after: UpstreamCounters, before: UpstreamCounters): Omit<UpstreamCounters, 'heapUsedMb'> {
  return {
    jobsessionCalls: after.jobsessionCalls - before.jobsessionCalls,
    coalesced: after.coalesced - before.coalesced,
    cacheHits: after.cacheHits - before.cacheHits,
    upstreamSeconds: after.upstreamSeconds - before.upstreamSeconds,
    upstreamTimed: after.upstreamTimed - before.upstreamTimed,
  };
}

/**
 * `n` identical requests sent at the same moment. The `n` sockets are opened first (a
 * round of /healthz on a keep-alive agent) so that the burst measures the gateway, not TCP
 * handshakes spread over the burst.
 */
export async function burst(target: Target, n: number, healthUrl: string): Promise<{ ok: number; bad: string[]; wallMs: number }> {
  assertLoopback(target.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: n, maxFreeSockets: n });
  try {
    await Promise.all(Array.from({ length: n }, () => request(healthUrl, { agent })));
    const started = performance.now();
    const answers = await Promise.all(
      Array.from({ length: n }, () => request(target.url, { method: target.method, headers: target.headers, body: target.body, agent })),
    );
    const wallMs = performance.now() - started;
    const bad = answers.filter((a) => a.status !== 200 || !target.verify(a.body)).map((a) => `${a.status} ${a.body.slice(0, 200)}`);
    return { ok: answers.length - bad.length, bad, wallMs };
  } finally {
    agent.destroy();
  }
}

/**
 * Repeatedly sends all `targets` at once and waits for every answer, for `durationS`; the
 * latency recorded is each round's wall time (the slowest answer). With one target this is
 * a plain one-connection loop. Used as the direct-REST floor of the gateway's fan-out.
 */
export async function fanLoop(label: string, targets: Target[], durationS: number): Promise<LoadRun> {
  for (const t of targets) assertLoopback(t.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: targets.length });
  const latencies: number[] = [];
  let requests = 0;
  let bad = 0;
  let errors = 0;
  const t0 = performance.now();
  try {
    while (performance.now() - t0 < durationS * 1000) {
      const start = performance.now();
      const answers = await Promise.all(
        targets.map((t) =>
          request(t.url, { method: t.method, headers: t.headers, body: t.body, agent }).then(
            (a) => a.status === 200 && t.verify(a.body),
            () => null,
          ),
        ),
      );
      latencies.push(performance.now() - start);
      requests += answers.length;
      bad += answers.filter((ok) => ok === false).length;
      errors += answers.filter((ok) => ok === null).length;
      if (errors > 0) break;
    }
  } finally {
    agent.destroy();
  }
  return check({ label, latencies, requests, durationS: (performance.now() - t0) / 1000, non2xx: 0, errors, timeouts: 0, mismatches: bad });
}
