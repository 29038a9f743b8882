/**
 * `jobs`, `jobSessionCounts` and `jobSessionStats` over several SPP servers (issue 21), over real
 * HTTP: three in-process simulators with different data, one gateway in pass-through mode. The
 * expected figures are computed from the simulators' own records.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createGateway, type Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/observability/logger.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { sessionStats, STATS_KEYS } from '../../src/simulator/stats.js';
import { ADMIN, NOW, basic, startHarness, withoutCost } from '../support/harness.js';

const NAMES = ['athens', 'berlin', 'cairo'] as const;
const SIMS: Record<(typeof NAMES)[number], SimulatorOptions> = {
  athens: { seed: 1, size: 70, now: NOW },
  berlin: { seed: 2, size: 45, now: NOW },
  cairo: { seed: 3, size: 55, now: NOW },
};

/** A window wide enough to hold every simulated session (the oldest is from 2020). */
const ALL_TIME = { unit: 'DAY', value: 10_000 } as const;

const JOBS = `query Jobs($first: Int, $after: String, $servers: [String!]) {
  jobs(first: $first, after: $after, servers: $servers) {
    totalCount
    edges { node { id jobId name server { name } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

const COUNTS = `query Counts($filter: JobSessionFilter, $servers: [String!]) {
  jobSessionCounts(filter: $filter, servers: $servers) { status count byServer { server { name } count } }
}`;

const STATS = `query Stats($range: RecentRange, $servers: [String!]) {
  jobSessionStats(range: $range, servers: $servers) {
    server { name } totalRuns successful failed warning running successPercent byStatus { key count } raw
    byServer { server { name } totalRuns successful failed warning running successPercent byStatus { key count } }
  }
}`;

let sims: Map<string, Simulator>;
let gateway: Gateway;

async function post(query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...basic(ADMIN) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as any };
}

async function gql(query: string, variables: Record<string, unknown> = {}) {
  const { status, body } = await post(query, variables);
  return { status, body: withoutCost(body) as any };
}

/** What the gateway charged for an operation (extensions.cost, issue 19). */
const costOf = async (query: string, variables: Record<string, unknown> = {}): Promise<number> =>
  (await post(query, variables)).body.extensions.cost.requestedQueryCost as number;

const clear = () => {
  for (const sim of sims.values()) sim.clearRequests();
};
/** Per server (configuration order), the requests whose path is `path`, optionally only those matching `keep`. */
const calls = (path: string, keep: (query: Record<string, string>) => boolean = () => true) =>
  NAMES.map((name) => sims.get(name)!.requests.filter((r) => r.path === path && keep(r.query)).length);

/** A server's sessions in one state, counted from the simulator's records (`CANCELLED` is the enum's CANCELED). */
const countOf = (server: string, status: string) =>
  sims
    .get(server)!
    .list()
    .filter((s) => (s.status === 'CANCELLED' ? 'CANCELED' : s.status) === status).length;

/** A server's statistics as SPP computes them, in the schema's shape. */
function statsOf(server: string) {
  const answer = sessionStats(sims.get(server)!.list(), { unit: 'day', amount: ALL_TIME.value }, NOW) as Record<string, unknown>;
  const s = (key: string): number => {
    expect(typeof answer[key]).toBe('number');
    return answer[key] as number;
  };
  return {
    server: { name: server },
    totalRuns: s('totalRuns'),
    successful: s('successful'),
    failed: s('failed'),
    warning: s('warning'),
    running: s('running'),
    successPercent: s('successPercent'),
    byStatus: STATS_KEYS.map((key) => ({ key, count: s(key) })),
  };
}

/** The sum of servers' statistics: every count added, successPercent from the sums. */
function sumOf(parts: ReturnType<typeof statsOf>[]) {
  const add = (pick: (p: ReturnType<typeof statsOf>) => number) => parts.reduce((sum, p) => sum + pick(p), 0);
  const totalRuns = add((p) => p.totalRuns);
  const successful = add((p) => p.successful);
  return {
    server: null,
    totalRuns,
    successful,
    failed: add((p) => p.failed),
    warning: add((p) => p.warning),
    running: add((p) => p.running),
    successPercent: Math.round((successful * 100) / totalRuns),
    byStatus: STATS_KEYS.map((key, i) => ({ key, count: add((p) => p.byStatus[i]!.count) })),
  };
}

beforeAll(async () => {
  sims = new Map();
  for (const name of NAMES) sims.set(name, await startSimulator(SIMS[name]));
  const { env } = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', CURSOR_SECRET: 'integration-test-cursor-secret', SPP_RETRY_LIMIT: '0' });
  gateway = await createGateway({
    env,
    sppUrl: sims.get('athens')!.url,
    servers: NAMES.map((name) => ({ name, url: sims.get(name)!.url })),
    auth: { mode: 'pass-through' },
    logger: createLogger(env.LOG_LEVEL),
  });
});

afterAll(async () => {
  await gateway?.stop();
  for (const sim of sims?.values() ?? []) await sim.close();
});

describe('jobs over several SPP servers', () => {
  it('pages three servers’ jobs as one list by name, then server, then id, with the exact total and one upstream request per server per page', async () => {
    // The three simulators hold jobs of the same names and ids: every name ties, and (server, id) decides.
    const want = [...sims]
      .flatMap(([server, sim]) => sim.jobs().map((j) => ({ server, id: j.id, name: j.name })))
      .sort(
        (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) || (a.server < b.server ? -1 : a.server > b.server ? 1 : 0) || Number(a.id) - Number(b.id),
      )
      .map((j) => `${j.server}/${j.id}`);
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      clear();
      const { body } = await gql(JOBS, { first: 10, after });
      expect(body.errors).toBeUndefined();
      const connection = body.data.jobs;
      // totalCount reads one record per server: counted apart from the page's reads.
      expect(calls('/api/endeavour/job', (q) => q.pageSize !== '1')).toEqual([1, 1, 1]);
      expect(calls('/api/endeavour/job', (q) => q.pageSize === '1')).toEqual([1, 1, 1]);
      expect(connection.totalCount).toBe(NAMES.reduce((sum, name) => sum + sims.get(name)!.jobs().length, 0));
      seen.push(...connection.edges.map((e: any) => `${e.node.server.name}/${e.node.jobId}`));
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    expect(want.length).toBe(42);
    expect(seen).toEqual(want);
  });

  it('gives each server’s job its own global id, so the same SPP job id on two servers is two objects', async () => {
    const { body } = await gql(JOBS, { first: 3 });
    const first = body.data.jobs.edges.map((e: any) => e.node);
    expect(first.map((n: any) => [n.jobId, n.server.name])).toEqual([
      [first[0].jobId, 'athens'],
      [first[0].jobId, 'berlin'],
      [first[0].jobId, 'cairo'],
    ]);
    expect(new Set(first.map((n: any) => n.id)).size).toBe(3);
  });

  it('reads only the servers named in `servers`, and refuses an unknown name or an empty list before any upstream call', async () => {
    clear();
    const { body } = await gql(JOBS, { first: 100, servers: ['berlin'] });
    expect(body.errors).toBeUndefined();
    expect(body.data.jobs.totalCount).toBe(sims.get('berlin')!.jobs().length);
    expect(new Set(body.data.jobs.edges.map((e: any) => e.node.server.name))).toEqual(new Set(['berlin']));
    expect(calls('/api/endeavour/job')).toEqual([0, 2, 0]);
    clear();
    for (const servers of [['zurich'], []]) {
      const refused = await gql(JOBS, { first: 5, servers });
      expect(refused.body.data).toBeNull();
      expect(refused.body.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) })]);
      expect(refused.body.errors[0].message).toContain(servers.length ? '"zurich"' : 'at least one SPP server');
    }
    expect(calls('/api/endeavour/job')).toEqual([0, 0, 0]);
  });
});

describe('jobSessionCounts over several SPP servers', () => {
  it('sums each state’s count over the servers, with each server’s own count, one upstream request per server and state', async () => {
    clear();
    const { body } = await gql(COUNTS);
    expect(body.errors).toBeUndefined();
    const counts = body.data.jobSessionCounts;
    expect(counts.length).toBe(16);
    expect(counts).toEqual(
      counts.map((c: any) => ({
        status: c.status,
        count: NAMES.reduce((sum, name) => sum + countOf(name, c.status), 0),
        byServer: NAMES.map((name) => ({ server: { name }, count: countOf(name, c.status) })),
      })),
    );
    // Not all zero: the simulators' states are counted.
    expect(counts.find((c: any) => c.status === 'COMPLETED').count).toBe(58 + 35 + 40);
    expect(calls('/api/endeavour/jobsession', (q) => q.pageSize === '1')).toEqual([16, 16, 16]);
    expect(calls('/api/endeavour/jobsession')).toEqual([16, 16, 16]);
  });

  it('counts only the servers named in `servers`', async () => {
    clear();
    const { body } = await gql(COUNTS, { filter: { status: ['COMPLETED', 'FAILED'] }, servers: ['cairo', 'athens'] });
    expect(body).toEqual({
      data: {
        jobSessionCounts: ['COMPLETED', 'FAILED'].map((status) => ({
          status,
          count: countOf('athens', status) + countOf('cairo', status),
          byServer: ['athens', 'cairo'].map((name) => ({ server: { name }, count: countOf(name, status) })),
        })),
      },
    });
    expect(calls('/api/endeavour/jobsession')).toEqual([2, 0, 2]);
  });
});

describe('jobSessionStats over several SPP servers', () => {
  it('sums the servers’ statistics, recomputes successPercent from the sums, and shows each server’s own', async () => {
    clear();
    const { body } = await gql(STATS, { range: ALL_TIME });
    expect(body.errors).toBeUndefined();
    const { raw, ...stats } = body.data.jobSessionStats;
    const parts = NAMES.map(statsOf);
    expect(stats).toEqual({ ...sumOf(parts), byServer: parts });
    expect(stats.totalRuns).toBe(70 + 45 + 55);
    // `raw` of a sum: each server's own answer.
    expect(raw.map((r: any) => [r.server, r.stats.totalRuns])).toEqual([
      ['athens', 70],
      ['berlin', 45],
      ['cairo', 55],
    ]);
    expect(calls('/api/endeavour/jobsession/stats')).toEqual([1, 1, 1]);
  });

  it('reads one server when `servers` names one: its figures, with the server set', async () => {
    clear();
    const { body } = await gql(STATS, { range: ALL_TIME, servers: ['berlin'] });
    expect(body.errors).toBeUndefined();
    const { raw, ...stats } = body.data.jobSessionStats;
    expect(stats).toEqual({ ...statsOf('berlin'), byServer: [statsOf('berlin')] });
    expect(raw.totalRuns).toBe(45);
    expect(calls('/api/endeavour/jobsession/stats')).toEqual([0, 1, 0]);
  });
});

describe('one server stopped', () => {
  it('answers from the others with an error naming it: jobs without its records, counts null with byServer of the others, stats summed over the others', async () => {
    const cairo = sims.get('cairo')!;
    const port = cairo.port;
    await cairo.close();
    try {
      const jobs = await gql(`{ jobs(first: 50) { edges { node { server { name } } } } }`);
      expect(jobs.status).toBe(200);
      expect(jobs.body.errors).toEqual([
        expect.objectContaining({ path: ['jobs'], extensions: expect.objectContaining({ code: 'UPSTREAM_UNAVAILABLE', server: 'cairo' }) }),
      ]);
      const servers = jobs.body.data.jobs.edges.map((e: any) => e.node.server.name);
      expect(servers.length).toBe(28);
      expect(new Set(servers)).toEqual(new Set(['athens', 'berlin']));

      const counts = await gql(COUNTS, { filter: { status: ['COMPLETED', 'FAILED'] } });
      expect(counts.body.data.jobSessionCounts).toEqual(
        ['COMPLETED', 'FAILED'].map((status) => ({
          status,
          count: null,
          byServer: NAMES.map((name) => ({ server: { name }, count: name === 'cairo' ? null : countOf(name, status) })),
        })),
      );
      const paths = counts.body.errors.map((e: any) => e.path.join('.')).sort();
      expect(paths).toEqual([
        'jobSessionCounts.0.byServer.2.count',
        'jobSessionCounts.0.count',
        'jobSessionCounts.1.byServer.2.count',
        'jobSessionCounts.1.count',
      ]);
      for (const error of counts.body.errors) {
        expect(error.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', server: 'cairo' });
        expect(error.message).toContain('cairo');
      }

      const stats = await gql(STATS, { range: ALL_TIME });
      expect(stats.status).toBe(200);
      const { raw: _raw, ...summed } = stats.body.data.jobSessionStats;
      const parts = ['athens', 'berlin'].map(statsOf);
      expect(summed).toEqual({ ...sumOf(parts), byServer: parts });
      expect(stats.body.errors).toEqual([
        expect.objectContaining({ path: ['jobSessionStats'], extensions: expect.objectContaining({ code: 'UPSTREAM_UNAVAILABLE', server: 'cairo' }) }),
      ]);
    } finally {
      sims.set('cairo', await startSimulator({ ...SIMS.cairo, port }));
    }
  });
});

describe('the cost of reading several servers', () => {
  it('charges one upstream read per server read: all three without `servers`, the distinct names with it', async () => {
    const jobs = `query($servers: [String!]) { jobs(first: 10, servers: $servers) { nodes { name } } }`;
    // 1 + servers × 10 (a read each) + 10 jobs × 1
    expect(await costOf(jobs)).toBe(1 + 3 * 10 + 10);
    expect(await costOf(jobs, { servers: ['berlin'] })).toBe(1 + 10 + 10);
    expect(await costOf(jobs, { servers: ['berlin', 'berlin', 'cairo'] })).toBe(1 + 2 * 10 + 10);
    const sessions = `query($servers: [String!]) { jobSessions(first: 10, servers: $servers) { nodes { sessionId } } }`;
    expect(await costOf(sessions)).toBe(1 + 3 * 10 + 10);
    const counts = `query($servers: [String!]) { jobSessionCounts(servers: $servers) { status count } }`;
    // One server: 1 + 10 states (estimated) × (1 + a read of 10); each server read pays it.
    expect(await costOf(counts, { servers: ['athens'] })).toBe(1 + 10 * (1 + 10));
    expect(await costOf(counts)).toBe(3 * (1 + 10 * (1 + 10)));
    const stats = `query($servers: [String!]) { jobSessionStats(servers: $servers) { totalRuns } }`;
    expect(await costOf(stats, { servers: ['athens'] })).toBe(1);
    expect(await costOf(stats)).toBe(3);
  });
});

describe('a one-server gateway', () => {
  it('answers counts and stats with one byServer entry, its server set, and the upstream calls of before', async () => {
    const h = await startHarness({ sim: { size: 40 } });
    try {
      h.sim.clearRequests();
      const stats = await h.gql(`{ jobSessionStats(range: { unit: DAY, value: 10000 }) { server { name } totalRuns byServer { server { name } totalRuns } } }`);
      const total = h.sim.list().length;
      expect(stats.body).toEqual({
        data: { jobSessionStats: { server: { name: 'default' }, totalRuns: total, byServer: [{ server: { name: 'default' }, totalRuns: total }] } },
      });
      expect(h.sim.requests.filter((r) => r.path === '/api/endeavour/jobsession/stats').length).toBe(1);
      h.sim.clearRequests();
      const counts = await h.gql(`{ jobSessionCounts(filter: { status: [COMPLETED] }) { status count byServer { server { name } count } } }`);
      const completed = h.sim.list().filter((s) => s.status === 'COMPLETED').length;
      expect(counts.body).toEqual({
        data: { jobSessionCounts: [{ status: 'COMPLETED', count: completed, byServer: [{ server: { name: 'default' }, count: completed }] }] },
      });
      expect(h.sim.requests.filter((r) => r.path === '/api/endeavour/jobsession').length).toBe(1);
    } finally {
      await h.close();
    }
  });
});
