import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';

/** The answer as JSON: these tests assert whole shapes, errors included. */
const gql = (h: Harness, query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<{ status: number; body: any }> =>
  h.gql(query, variables, headers);

const LOG = `query($id: ID!, $first: Int, $after: String, $last: Int, $before: String, $filter: JobLogFilter, $orderBy: [JobLogOrder!]) {
  jobSession(id: $id) {
    log(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) {
      totalCount
      edges { cursor node { entryId sessionId type typeRaw messageId message logTime } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  } }`;

const FINISHED = ['COMPLETED', 'PARTIAL', 'FAILED'];

let h: Harness;
let t = Date.UTC(2026, 10, 2, 8, 0, 0);
beforeAll(async () => {
  h = await startHarness({ sim: { size: 400, clock: () => t } });
});
afterAll(() => h.close());

const logCalls = () => h.sim.requests.filter((r) => r.path === '/api/endeavour/log/job');

describe('JobSession.log', () => {
  it("reads a running session's log forward while live mode appends entries: every entry exactly once, in order", async () => {
    t += 1_000;
    const [id] = h.sim.step({ insert: 1, expire: 0 }).inserted;
    const seen: string[] = [];
    let after: string | null = null;
    let steps = 0;
    for (let page = 0; page < 200; page++) {
      const { body } = await gql(h, LOG, { id, first: 4, after });
      expect(body.errors).toBeUndefined();
      const log = body.data.jobSession.log;
      for (const edge of log.edges) seen.push(edge.node.entryId);
      if (page > 0) expect(log.pageInfo.hasPreviousPage).toBe(true);
      after = log.pageInfo.endCursor ?? after;
      const running = !FINISHED.includes(h.sim.get(id!)!.status);
      if (!log.pageInfo.hasNextPage && !running) break;
      // The session goes on between page reads: its log grows at the end.
      if (running && page % 2 === 1) {
        t += 5_000;
        h.sim.step({ insert: 0 });
        steps++;
      }
    }
    expect(steps).toBeGreaterThan(1);
    const final = h.sim.logOf(id!).map((e) => e.id);
    expect(seen).toEqual(final);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('reads a growing log backward from its end: every entry that existed exactly once, newest last', async () => {
    t += 1_000;
    const [id] = h.sim.step({ insert: 1 }).inserted;
    t += 5_000;
    h.sim.step({ insert: 0 });
    const existing = h.sim.logOf(id!).map((e) => e.id);
    const seen: string[] = [];
    let before: string | null = null;
    for (let page = 0; page < 200; page++) {
      const { body } = await gql(h, LOG, { id, last: 3, before });
      expect(body.errors).toBeUndefined();
      const log = body.data.jobSession.log;
      seen.unshift(...log.edges.map((e: any) => e.node.entryId));
      if (!log.pageInfo.hasPreviousPage) break;
      before = log.pageInfo.startCursor;
      t += 5_000;
      h.sim.step({ insert: 0 });
    }
    expect(seen).toEqual(existing);
  });

  it('reads a growing log newest first: the entries that arrive go before the cursor, every older entry comes once (keyset re-alignment)', async () => {
    t += 1_000;
    const [id] = h.sim.step({ insert: 1 }).inserted;
    t += 5_000;
    h.sim.step({ insert: 0 });
    const existing = h.sim
      .logOf(id!)
      .map((e) => e.id)
      .reverse();
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 200; page++) {
      const { body } = await gql(h, LOG, { id, first: 3, after, orderBy: [{ field: 'LOG_TIME', direction: 'DESC' }] });
      expect(body.errors).toBeUndefined();
      const log = body.data.jobSession.log;
      seen.push(...log.edges.map((e: any) => e.node.entryId));
      if (!log.pageInfo.hasNextPage) break;
      after = log.pageInfo.endCursor;
      t += 5_000;
      h.sim.step({ insert: 0 });
    }
    expect(h.sim.logOf(id!).length).toBeGreaterThan(existing.length);
    expect(seen).toEqual(existing);
  });

  it('sends type and logTime filters to SPP with the session condition, and applies messageId itself (SPP ignores it)', async () => {
    const session = h.sim.list().find((s) => s.status === 'FAILED' && s.type === 'protection')!;
    const all = h.sim.logOf(session.id);
    const from = all[Math.floor(all.length / 3)]!.logTime;
    h.resetUpstreamCalls();
    const { body } = await gql(h, LOG, { id: session.id, first: 1000, filter: { type: ['ERROR', 'WARN'], logTime: { gte: from } } });
    expect(body.errors).toBeUndefined();
    const expected = all.filter((e) => ['ERROR', 'WARN'].includes(e.type) && e.logTime >= from);
    expect(body.data.jobSession.log.edges.map((e: any) => e.node.entryId)).toEqual(expected.map((e) => e.id));
    expect(body.data.jobSession.log.totalCount).toBe(expected.length);
    expect(logCalls()).toHaveLength(1);
    expect(logCalls()[0]!.filter).toEqual([
      { property: 'jobsessionId', value: session.id, op: '=' },
      { property: 'type', value: ['ERROR', 'WARN'], op: 'IN' },
      { property: 'logTime', value: from, op: '>=' },
    ]);
    expect(logCalls()[0]!.sort).toEqual([
      { property: 'logTime', direction: 'ASC' },
      { property: 'id', direction: 'ASC' },
    ]);

    h.resetUpstreamCalls();
    const byMessage: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 50; page++) {
      const r = await gql(h, LOG, { id: session.id, first: 2, after, filter: { messageId: ['CTGGA2402', 'CTGGA2401'] } });
      expect(r.body.errors).toBeUndefined();
      const log = r.body.data.jobSession.log;
      byMessage.push(...log.edges.map((e: any) => e.node.entryId));
      for (const e of log.edges) expect(['CTGGA2402', 'CTGGA2401']).toContain(e.node.messageId);
      if (!log.pageInfo.hasNextPage) break;
      after = log.pageInfo.endCursor;
    }
    expect(byMessage).toEqual(all.filter((e) => e.messageId === 'CTGGA2402' || e.messageId === 'CTGGA2401').map((e) => e.id));
    expect(byMessage.length).toBeGreaterThan(1);
    for (const call of logCalls()) expect(JSON.stringify(call.filter)).not.toContain('messageId');
  });

  it("orders by type then time, and refuses a cursor of another session's log", async () => {
    const [a, b] = h.sim.list().filter((s) => s.type === 'catalog' && FINISHED.includes(s.status));
    const { body } = await gql(h, LOG, {
      id: a!.id,
      first: 100,
      orderBy: [
        { field: 'TYPE', direction: 'ASC' },
        { field: 'LOG_TIME', direction: 'DESC' },
      ],
    });
    const types = body.data.jobSession.log.edges.map((e: any) => e.node.typeRaw);
    expect(types).toEqual([...types].sort());
    const other = await gql(h, LOG, {
      id: b!.id,
      first: 1,
      after: body.data.jobSession.log.pageInfo.endCursor,
      orderBy: [
        { field: 'TYPE', direction: 'ASC' },
        { field: 'LOG_TIME', direction: 'DESC' },
      ],
    });
    expect(other.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(other.body.errors[0].message).toMatch(/cursor from a log query/);
  });

  it("counts a session's entries per type from SPP's totals, in parallel one-record reads", async () => {
    const session = h.sim.list().find((s) => s.status === 'PARTIAL' && s.type === 'protection')!;
    const all = h.sim.logOf(session.id);
    h.resetUpstreamCalls();
    const { body } = await gql(h, `{ jobSession(id: "${session.id}") { logCounts { type count } } }`);
    expect(body.errors).toBeUndefined();
    const expected = ['INFO', 'WARN', 'ERROR', 'SUMMARY', 'DEBUG', 'DETAIL'].map((type) => ({ type, count: all.filter((e) => e.type === type).length }));
    expect(body.data.jobSession.logCounts).toEqual(expected);
    expect(logCalls()).toHaveLength(6);
    for (const call of logCalls()) expect(call.query.pageSize).toBe('1');
  });

  it('counts UNKNOWN as the whole log minus the known types', async () => {
    const session = h.sim.list().find((s) => s.status === 'FAILED' && s.type === 'protection')!;
    const all = h.sim.logOf(session.id);
    const { body } = await gql(h, `{ jobSession(id: "${session.id}") { logCounts(types: [ERROR, UNKNOWN]) { type count } } }`);
    expect(body).toEqual({
      data: {
        jobSession: {
          logCounts: [
            { type: 'ERROR', count: all.filter((e) => e.type === 'ERROR').length },
            { type: 'UNKNOWN', count: 0 },
          ],
        },
      },
    });
  });

  it('finds a log entry again by its global id', async () => {
    const session = h.sim.list().find((s) => s.type === 'catalog')!;
    const { body } = await gql(h, `{ jobSession(id: "${session.id}") { log(first: 2) { nodes { id entryId message } } } }`);
    const entry = body.data.jobSession.log.nodes[1];
    const again = await gql(h, `query($id: ID!) { node(id: $id) { __typename ... on JobLogEntry { id entryId message } } }`, { id: entry.id });
    expect(again.body.data.node).toEqual({ __typename: 'JobLogEntry', ...entry });
  });
});

describe('JobSession.log on a build that ignores pageSize', () => {
  it('reads a 1000-entry page of a long log whole and in order, learning the cap of 100', async () => {
    const q = await startHarness({ sim: { quirks: { ignorePageSize: true } } });
    try {
      const session = q.sim.list().find((s) => s.jobName === 'office365_Silver' && s.status === 'COMPLETED')!;
      const all = q.sim.logOf(session.id);
      expect(all.length).toBeGreaterThan(1000);
      const { body } = await gql(q, LOG, { id: session.id, first: 1000 });
      expect(body.errors).toBeUndefined();
      expect(body.data.jobSession.log.edges.map((e: any) => e.node.entryId)).toEqual(all.slice(0, 1000).map((e) => e.id));
      expect(body.data.jobSession.log.pageInfo.hasNextPage).toBe(true);
      const next = await gql(q, LOG, { id: session.id, first: 1000, after: body.data.jobSession.log.pageInfo.endCursor });
      expect(next.body.data.jobSession.log.edges.map((e: any) => e.node.entryId)).toEqual(all.slice(1000, 2000).map((e) => e.id));
    } finally {
      await q.close();
    }
  });
});
