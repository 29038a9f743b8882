import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';

const PAGE = `query($first: Int, $after: String, $last: Int, $before: String, $filter: JobSessionFilter) {
  jobSessions(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
    totalCount nodes { sessionId status statusRaw } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  } }`;
const NEWEST_FIRST = [
  { property: 'start', direction: 'DESC' as const },
  { property: 'id', direction: 'DESC' as const },
];

describe('SPP answering total 0 (APAR IT45897)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ sim: { quirks: { totalAlwaysZero: true } } });
  });
  afterAll(() => h.close());

  it('reports totalCount null instead of a wrong 0, and pages exactly by the records', async () => {
    const expected = h.sim.list({ sort: NEWEST_FIRST }).map((s) => s.id);
    const first = await h.gql(PAGE, { first: 30 });
    expect(first.body.data.jobSessions.totalCount).toBeNull();
    expect(first.body.data.jobSessions.nodes.map((n: any) => n.sessionId)).toEqual(expected.slice(0, 30));
    expect(first.body.data.jobSessions.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });

    const tail = await h.gql(PAGE, { last: 30 });
    expect(tail.body.data.jobSessions.nodes.map((n: any) => n.sessionId)).toEqual(expected.slice(-30));
    expect(tail.body.data.jobSessions.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });

    // and paging on from the tail's start cursor (which has no offset) finds the records before it
    const before = await h.gql(PAGE, { last: 30, before: tail.body.data.jobSessions.pageInfo.startCursor });
    expect(before.body.data.jobSessions.nodes.map((n: any) => n.sessionId)).toEqual(expected.slice(-60, -30));
  });

  it('still answers totalCount 0 for a filter that matches nothing', async () => {
    const { body } = await h.gql(PAGE, { filter: { jobName: 'nothing-matches-this' } });
    expect(body.data.jobSessions.totalCount).toBe(0);
    expect(body.data.jobSessions.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null });
  });
});

describe('SPP ignoring pageSize (always 100 records)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ sim: { quirks: { ignorePageSize: true } } });
  });
  afterAll(() => h.close());

  it('returns exactly the asked number and exact pageInfo across pages', async () => {
    const expected = h.sim.list({ sort: NEWEST_FIRST }).map((s) => s.id);
    const seen: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 4; i++) {
      const { body }: { body: any } = await h.gql(PAGE, { first: 7, after });
      expect(body.data.jobSessions.nodes).toHaveLength(7);
      seen.push(...body.data.jobSessions.nodes.map((n: any) => n.sessionId));
      expect(body.data.jobSessions.pageInfo.hasNextPage).toBe(true);
      after = body.data.jobSessions.pageInfo.endCursor;
    }
    expect(seen).toEqual(expected.slice(0, 28));
    const big = await h.gql(PAGE, { first: 250 });
    expect(big.body.data.jobSessions.nodes.map((n: any) => n.sessionId)).toEqual(expected.slice(0, 250));
  });
});

describe('SPP spelling CANCELED as CANCELLED', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ sim: { quirks: { cancelledSpelling: true } } });
  });
  afterAll(() => h.close());

  it('reads CANCELLED as CANCELED, keeps the raw value, and finds them with a CANCELED filter', async () => {
    const cancelled = h.sim.list({ sort: NEWEST_FIRST }).filter((s) => s.status === 'CANCELLED');
    expect(cancelled.length).toBeGreaterThan(0);
    const { body } = await h.gql(PAGE, { first: 1000, filter: { status: ['CANCELED'] } });
    expect(body.data.jobSessions.nodes).toEqual(cancelled.map((s) => ({ sessionId: s.id, status: 'CANCELED', statusRaw: 'CANCELLED' })));
    expect(h.upstreamCalls().at(-1)!.filter).toEqual([{ property: 'status', value: ['CANCELED', 'CANCELLED'], op: 'IN' }]);
  });
});
