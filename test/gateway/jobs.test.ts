import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, CATALOG_OPERATOR, startHarness, type Harness } from '../support/harness.js';

/** The answer as JSON: these tests assert whole shapes, errors included. */
const gql = (h: Harness, query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<{ status: number; body: any }> =>
  h.gql(query, variables, headers);

const HOUR = 3_600_000;
const jobCalls = (h: Harness) => h.sim.requests.filter((r) => r.path.startsWith('/api/endeavour/job') && !r.path.startsWith('/api/endeavour/jobsession'));

describe('jobs and their sessions', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it('lists job definitions with their last run and next schedule, as the simulator holds them', async () => {
    const { body } = await gql(
      h,
      `{ jobs(first: 50) { totalCount nodes { id jobId name type status statusRaw lastSessionStatus lastRunTime nextFireTime lastSessionDuration lastRun { sessionId start status } } } }`,
    );
    expect(body.errors).toBeUndefined();
    // SPP sorts strings by code unit: upper case before lower case.
    const jobs = h.sim.jobs().sort((a, b) => (a.name < b.name ? -1 : 1));
    expect(body.data.jobs.totalCount).toBe(jobs.length);
    expect(body.data.jobs.nodes.map((j: any) => j.jobId)).toEqual(jobs.map((j) => j.id));
    for (const [i, node] of body.data.jobs.nodes.entries()) {
      const job = jobs[i]!;
      const last = h.sim.get(String(job.lastrun!.sessionId))!;
      expect(node).toMatchObject({
        name: job.name,
        statusRaw: job.status,
        lastSessionStatus: last.status === 'CANCELLED' ? 'CANCELED' : last.status,
        lastRunTime: new Date(last.start).toISOString(),
        nextFireTime: job.nextFireTime === null ? null : new Date(job.nextFireTime!).toISOString(),
        lastRun: { sessionId: last.id, start: new Date(last.start).toISOString(), status: last.status },
      });
    }
  });

  it('pages jobs by next run with the unscheduled ones first, both directions, with exact pageInfo', async () => {
    const q = `query($first: Int, $after: String, $last: Int, $before: String) { jobs(first: $first, after: $after, last: $last, before: $before, orderBy: [{ field: NEXT_FIRE_TIME }]) { nodes { jobId nextFireTime } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`;
    const forward: string[] = [];
    let after: string | null = null;
    for (;;) {
      const { body } = await gql(h, q, { first: 4, after });
      forward.push(...body.data.jobs.nodes.map((n: any) => n.jobId));
      if (!body.data.jobs.pageInfo.hasNextPage) break;
      after = body.data.jobs.pageInfo.endCursor;
    }
    const expected = h.sim
      .jobs()
      .sort((a, b) => (a.nextFireTime ?? -1) - (b.nextFireTime ?? -1) || Number(a.id) - Number(b.id))
      .map((j) => j.id);
    expect(h.sim.jobs().filter((j) => j.nextFireTime === null).length).toBeGreaterThan(1);
    expect(forward).toEqual(expected);
    const backward: string[] = [];
    let before: string | null = null;
    for (;;) {
      const { body } = await gql(h, q, { last: 5, before });
      backward.unshift(...body.data.jobs.nodes.map((n: any) => n.jobId));
      if (!body.data.jobs.pageInfo.hasPreviousPage) break;
      before = body.data.jobs.pageInfo.startCursor;
    }
    expect(backward).toEqual(expected);
  });

  it('goes from a job to its sessions and from a session back to its job', async () => {
    const { body } = await gql(
      h,
      `{ job(id: "1005") { id jobId name sessions(first: 5, filter: { status: [COMPLETED] }) { totalCount nodes { sessionId jobId status job { jobId name } } } } }`,
    );
    expect(body.errors).toBeUndefined();
    const sessions = h.sim.list({
      filter: [
        { property: 'jobId', value: '1005', op: '=' },
        { property: 'status', value: 'COMPLETED', op: '=' },
      ],
      sort: [{ property: 'start', direction: 'DESC' }],
    });
    expect(body.data.job.sessions.totalCount).toBe(sessions.length);
    expect(body.data.job.sessions.nodes).toEqual(
      sessions.slice(0, 5).map((s) => ({ sessionId: s.id, jobId: '1005', status: 'COMPLETED', job: { jobId: '1005', name: 'vmware_Gold' } })),
    );
    const again = await gql(h, `query($id: ID!) { node(id: $id) { __typename ... on Job { jobId name } } }`, { id: body.data.job.id });
    expect(again.body.data.node).toEqual({ __typename: 'Job', jobId: '1005', name: 'vmware_Gold' });
  });

  it('resolves JobSession.job for a 1000-session page in one upstream request, an IN filter on the distinct job ids', async () => {
    h.resetUpstreamCalls();
    const { body } = await gql(h, `{ jobSessions(first: 1000) { nodes { jobId job { jobId name } } } }`);
    expect(body.errors).toBeUndefined();
    expect(body.data.jobSessions.nodes).toHaveLength(1000);
    for (const node of body.data.jobSessions.nodes) expect(node.job.jobId).toBe(node.jobId);
    const calls = jobCalls(h);
    expect(calls).toHaveLength(1);
    const distinct = new Set(body.data.jobSessions.nodes.map((n: any) => n.jobId));
    expect(calls[0]!.filter).toEqual([{ property: 'id', value: expect.arrayContaining([...distinct]), op: 'IN' }]);
    expect((calls[0]!.filter as any)[0].value).toHaveLength(distinct.size);
  });

  it('sends job filters and order to SPP as it expects them', async () => {
    h.resetUpstreamCalls();
    const { body } = await gql(
      h,
      `{ jobs(first: 10, filter: { name: "*_Gold", type: ["protection"] }, orderBy: [{ field: LAST_RUN_TIME, direction: DESC }]) { nodes { name } } }`,
    );
    const expected = h.sim
      .jobs()
      .filter((j) => j.name.endsWith('_Gold'))
      .sort((a, b) => b.lastRunTime! - a.lastRunTime!);
    expect(body.data.jobs.nodes.map((n: any) => n.name)).toEqual(expected.map((j) => j.name));
    expect(jobCalls(h)[0]).toMatchObject({
      filter: [
        { property: 'name', value: '*_Gold', op: '=' },
        { property: 'type', value: ['protection'], op: 'IN' },
      ],
      sort: [
        { property: 'lastRunTime', direction: 'DESC' },
        { property: 'id', direction: 'DESC' },
      ],
      query: { pageStartIndex: '0', pageSize: '11' },
    });
  });

  it('answers Job.lastRun from a session list of the same operation without reading it again', async () => {
    h.resetUpstreamCalls();
    const { body } = await gql(h, `{ jobSessions(first: 1000) { nodes { sessionId } } jobs(first: 50) { nodes { lastRun { sessionId jobName } } } }`);
    expect(body.errors).toBeUndefined();
    const listed = new Set(body.data.jobSessions.nodes.map((n: any) => n.sessionId));
    for (const job of body.data.jobs.nodes) expect(listed.has(job.lastRun.sessionId)).toBe(true);
    expect(h.upstreamCalls().filter((c) => JSON.stringify(c.filter ?? '').includes('"property":"id"'))).toHaveLength(0);
    // Without the list, the last runs are one IN read.
    h.resetUpstreamCalls();
    await gql(h, `{ jobs(first: 50) { nodes { lastRun { sessionId } } } }`);
    expect(h.upstreamCalls().filter((c) => c.path === '/api/endeavour/jobsession')).toHaveLength(1);
  });

  it('answers null for a job SPP does not know, and BAD_USER_INPUT for an id that is no job id', async () => {
    expect((await gql(h, `{ job(id: "999999") { name } }`)).body).toEqual({ data: { job: null } });
    const bad = await gql(h, `{ job(id: "vmware_Gold") { name } }`);
    expect(bad.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });
});

describe('dashboard counts', () => {
  let h: Harness;
  const NOW = Date.UTC(2026, 10, 1, 12, 0, 0);
  beforeAll(async () => {
    h = await startHarness({ sim: { clock: () => NOW } });
  });
  afterAll(() => h.close());

  it("reads SPP's statistics of the last 12 hours and agrees with the sessions the simulator holds", async () => {
    const { body } = await gql(h, `{ jobSessionStats { start end totalRuns successful failed warning running successPercent byStatus { key count } } }`);
    expect(body.errors).toBeUndefined();
    const window = h.sim.list().filter((s) => s.start >= NOW - 12 * HOUR);
    const count = (...statuses: string[]) => window.filter((s) => statuses.includes(s.status)).length;
    expect(window.length).toBeGreaterThan(0);
    expect(body.data.jobSessionStats).toMatchObject({
      start: new Date(NOW - 12 * HOUR).toISOString(),
      end: new Date(NOW).toISOString(),
      totalRuns: window.length,
      successful: count('COMPLETED'),
      failed: count('FAILED'),
      warning: count('PARTIAL', 'CANCELED', 'ABORTED'),
      running: count('RUNNING', 'PENDING', 'WAITING'),
    });
    expect(body.data.jobSessionStats.byStatus.find((b: any) => b.key === 'COMPLETED').count).toBe(count('COMPLETED'));
    const stats = h.sim.requests.filter((r) => r.path === '/api/endeavour/jobsession/stats');
    expect(stats.at(-1)!.filter).toEqual([
      { property: 'rangeunit', value: 'hour', op: '=' },
      { property: 'range', value: 12, op: '=' },
    ]);
  });

  it('narrows statistics by a session filter over days', async () => {
    const { body } = await gql(h, `{ jobSessionStats(range: { unit: DAY, value: 30 }, filter: { type: ["protection"] }) { totalRuns failed } }`);
    const window = h.sim.list().filter((s) => s.start >= NOW - 30 * 24 * HOUR && s.type === 'protection');
    expect(body.data.jobSessionStats).toEqual({ totalRuns: window.length, failed: window.filter((s) => s.status === 'FAILED').length });
    const bad = await gql(h, `{ jobSessionStats(range: { unit: DAY, value: 0 }) { totalRuns } }`);
    expect(bad.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('counts sessions per status with one one-record read each, in parallel, and matches the simulator', async () => {
    h.resetUpstreamCalls();
    const { body } = await gql(h, `{ jobSessionCounts(filter: { type: ["protection"] }) { status count } }`);
    expect(body.errors).toBeUndefined();
    const protection = h.sim.list().filter((s) => s.type === 'protection');
    for (const { status, count } of body.data.jobSessionCounts) expect(count).toBe(protection.filter((s) => s.status === status).length);
    expect(body.data.jobSessionCounts).toHaveLength(16);
    const calls = h.upstreamCalls();
    expect(calls).toHaveLength(16);
    for (const call of calls) expect(call.query.pageSize).toBe('1');
  });

  it("answers null with an error saying why when SPP's totals cannot be trusted (APAR IT45897), never a wrong number", async () => {
    h.sim.configure({ quirks: { totalAlwaysZero: true } });
    try {
      const { body } = await gql(h, `{ jobSessionCounts(filter: { status: [COMPLETED, HELD] }) { status count } }`);
      // HELD has no session: SPP's 0 agrees with the empty answer and is a true count.
      expect(body.data.jobSessionCounts).toEqual([
        { status: 'COMPLETED', count: null },
        { status: 'HELD', count: 0 },
      ]);
      expect(body.errors).toHaveLength(1);
      expect(body.errors[0].path).toEqual(['jobSessionCounts', 0, 'count']);
      expect(body.errors[0].extensions.code).toBe('UPSTREAM_ERROR');
      expect(body.errors[0].message).toMatch(/APAR IT45897/);
    } finally {
      h.sim.configure({ quirks: { totalAlwaysZero: false } });
    }
  });
});

describe('roles on jobs and logs', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ auth: { mode: 'pass-through' } });
  });
  afterAll(() => h.close());
  const asOperator = (query: string, variables?: Record<string, unknown>) => gql(h, query, variables, basic(CATALOG_OPERATOR));

  it('shows the catalog operator only catalog jobs, their sessions and logs', async () => {
    const { body } = await asOperator(`{ jobs(first: 50) { nodes { jobId type lastRun { sessionId log(first: 2) { nodes { sessionId } } } } } }`);
    expect(body.errors).toBeUndefined();
    expect(body.data.jobs.nodes.map((j: any) => j.jobId).sort()).toEqual(
      h.sim
        .jobs({ user: 'catalog-operator' })
        .map((j) => j.id)
        .sort(),
    );
    for (const job of body.data.jobs.nodes) {
      expect(job.type).toBe('catalog');
      for (const entry of job.lastRun.log.nodes) expect(entry.sessionId).toBe(job.lastRun.sessionId);
    }
  });

  it('refuses another job with FORBIDDEN and sees neither its sessions nor their logs', async () => {
    const job = await asOperator(`{ job(id: "1005") { name } }`);
    expect(job.body.data).toEqual({ job: null });
    expect(job.body.errors[0].extensions.code).toBe('FORBIDDEN');
    const protection = h.sim.list().find((s) => s.type === 'protection')!;
    const session = await asOperator(`{ jobSession(id: "${protection.id}") { log(first: 5) { nodes { message } } } }`);
    expect(session.body.data).toEqual({ jobSession: null });
    expect(session.body.errors[0].extensions.code).toBe('FORBIDDEN');
    // The admin's global id of an entry of that session finds nothing for the operator.
    const admin = await gql(
      h,
      `{ jobSession(id: "${protection.id}") { log(first: 1) { nodes { id message } } } }`,
      undefined,
      basic({ username: 'admin', password: 'admin-password' }),
    );
    const entry = admin.body.data.jobSession.log.nodes[0];
    const node = await asOperator(`query($id: ID!) { node(id: $id) { id } }`, { id: entry.id });
    expect(node.body).toEqual({ data: { node: null } });
    const counts = await asOperator(`{ jobSessionStats(range: { unit: DAY, value: 3650 }) { totalRuns } }`);
    expect(counts.body.data.jobSessionStats.totalRuns).toBe(h.sim.list({ user: 'catalog-operator' }).length);
    expect(JSON.stringify([job.body, session.body, node.body])).not.toMatch(/vmware|protection|XSB/);
  });
});
