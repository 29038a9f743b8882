import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';

const PAGE = `
  query Page($first: Int, $after: String, $last: Int, $before: String, $filter: JobSessionFilter, $orderBy: [JobSessionOrder!]) {
    jobSessions(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) {
      totalCount
      edges { cursor node { sessionId } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }`;

interface PageResult {
  totalCount: number | null;
  edges: Array<{ cursor: string; node: { sessionId: string } }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

let h: Harness;
let expectedIds: string[];

async function page(variables: Record<string, unknown>): Promise<PageResult> {
  const { status, body } = await h.gql<{ jobSessions: PageResult }>(PAGE, variables);
  expect(body.errors).toBeUndefined();
  expect(status).toBe(200);
  return body.data!.jobSessions;
}

beforeAll(async () => {
  h = await startHarness();
  expectedIds = h.sim
    .list({
      sort: [
        { property: 'start', direction: 'DESC' },
        { property: 'id', direction: 'DESC' },
      ],
    })
    .map((s) => s.id);
});
afterAll(() => h.close());

describe('jobSessions paging', () => {
  it('traverses the whole data set forward with an odd page size: every session once, in the simulator order', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const result: PageResult = await page({ first: 97, after });
      seen.push(...result.edges.map((e) => e.node.sessionId));
      pages++;
      expect(result.pageInfo.hasPreviousPage).toBe(after !== null);
      if (!result.pageInfo.hasNextPage) break;
      after = result.pageInfo.endCursor;
    }
    expect(seen).toEqual(expectedIds);
    expect(pages).toBe(Math.ceil(4877 / 97));
  });

  it('traverses the whole data set backward with another page size: every session once, in the simulator order', async () => {
    const seen: string[] = [];
    let before: string | null = null;
    for (;;) {
      const result: PageResult = await page({ last: 113, before });
      seen.unshift(...result.edges.map((e) => e.node.sessionId));
      expect(result.pageInfo.hasNextPage).toBe(before !== null);
      if (!result.pageInfo.hasPreviousPage) break;
      before = result.pageInfo.startCursor;
    }
    expect(seen).toEqual(expectedIds);
  });

  it('returns 50 sessions newest first when neither first nor last is given', async () => {
    const result = await page({});
    expect(result.edges.map((e) => e.node.sessionId)).toEqual(expectedIds.slice(0, 50));
    expect(result.totalCount).toBe(4877);
    expect(result.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
  });

  it('pages backward from the end with last and no before', async () => {
    const result = await page({ last: 7 });
    expect(result.edges.map((e) => e.node.sessionId)).toEqual(expectedIds.slice(-7));
    expect(result.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
  });

  it('answers an empty result with null cursors and no next or previous page', async () => {
    const result = await page({ filter: { jobName: 'no such job *' } });
    expect(result).toEqual({
      totalCount: 0,
      edges: [],
      pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
    });
  });

  it('reports exactly one page when everything fits', async () => {
    const all = h.sim.list({ filter: [{ property: 'jobName', value: 'Storage Server Inventory', op: '=' }] });
    expect(all.length).toBeGreaterThan(0);
    const result = await page({ first: all.length, filter: { jobName: 'Storage Server Inventory' } });
    expect(result.edges).toHaveLength(all.length);
    expect(result.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });
    const more = await page({ first: all.length - 1, filter: { jobName: 'Storage Server Inventory' } });
    expect(more.pageInfo.hasNextPage).toBe(true);
  });

  it('returns nothing after the last cursor, and nothing before the first', async () => {
    const last = await page({ last: 1 });
    const afterLast = await page({ first: 10, after: last.pageInfo.endCursor });
    expect(afterLast.edges).toEqual([]);
    expect(afterLast.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true, startCursor: null, endCursor: null });

    const first = await page({ first: 1 });
    const beforeFirst = await page({ last: 10, before: first.pageInfo.startCursor });
    expect(beforeFirst.edges).toEqual([]);
    expect(beforeFirst.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: false, startCursor: null, endCursor: null });
  });

  it('returns the sessions between two cursors with first, after and before together', async () => {
    const ten = await page({ first: 10 });
    const between = await page({ first: 20, after: ten.edges[1]!.cursor, before: ten.edges[6]!.cursor });
    expect(between.edges.map((e) => e.node.sessionId)).toEqual(expectedIds.slice(2, 6));
    expect(between.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
  });

  it('asks SPP for exactly the window needed: one more record than asked, at the right offset', async () => {
    const first = await page({ first: 25 });
    h.resetUpstreamCalls();
    await page({ first: 25, after: first.pageInfo.endCursor });
    const calls = h.upstreamCalls();
    expect(calls).toHaveLength(1);
    // The cursor's own record (offset 24) is re-read to check it has not moved, plus one extra to know hasNextPage.
    expect(calls[0]!.query).toMatchObject({ pageStartIndex: '24', pageSize: '27' });
    expect(calls[0]!.sort).toEqual([
      { property: 'start', direction: 'DESC' },
      { property: 'id', direction: 'DESC' },
    ]);
  });

  it('reads a window of 1000 in one upstream request, the extra record for hasNextPage included', async () => {
    h.resetUpstreamCalls();
    const result = await page({ first: 1000 });
    expect(result.edges.map((e) => e.node.sessionId)).toEqual(expectedIds.slice(0, 1000));
    expect(result.pageInfo.hasNextPage).toBe(true);
    expect(h.upstreamCalls().map((c) => c.query)).toEqual([expect.objectContaining({ pageStartIndex: '0', pageSize: '1001' })]);
  });
});

describe('jobSessions bad input', () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['a negative first', { first: -1 }, /"first" must be a non-negative integer, got -1/],
    ['first over the maximum', { first: 1001 }, /"first" must be at most 1000, got 1001/],
    ['last over the maximum', { last: 5000 }, /"last" must be at most 1000, got 5000/],
    ['both first and last', { first: 1, last: 1 }, /either "first" or "last"/],
    ['a malformed cursor', { after: 'not-a-cursor' }, /"after" is not a valid cursor/],
    ['a malformed before cursor', { last: 2, before: 'eyJ4IjoxfQ.AAAA' }, /"before" is not a valid cursor/],
  ];
  for (const [name, variables, message] of cases) {
    it(`refuses ${name} with BAD_USER_INPUT and HTTP 400, without calling SPP`, async () => {
      h.resetUpstreamCalls();
      const { status, body } = await h.gql(PAGE, variables);
      expect(status).toBe(400);
      expect(body.errors).toHaveLength(1);
      expect(body.errors![0]!.message).toMatch(message);
      expect(body.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
      expect(h.upstreamCalls()).toHaveLength(0);
    });
  }

  it('refuses a cursor made for another filter or orderBy, without calling SPP', async () => {
    const running = await page({ first: 2, filter: { status: ['COMPLETED'] } });
    h.resetUpstreamCalls();
    for (const variables of [
      { first: 2, after: running.pageInfo.endCursor },
      { first: 2, after: running.pageInfo.endCursor, filter: { status: ['COMPLETED'] }, orderBy: [{ field: 'START', direction: 'ASC' }] },
    ]) {
      const { status, body } = await h.gql(PAGE, variables);
      expect(status).toBe(400);
      expect(body.errors![0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
      expect(body.errors![0]!.message).toMatch(/another filter or orderBy/);
    }
    expect(h.upstreamCalls()).toHaveLength(0);
  });

  it('refuses orderBy naming a field twice', async () => {
    const { status, body } = await h.gql(PAGE, { orderBy: [{ field: 'START' }, { field: 'START', direction: 'DESC' }] });
    expect(status).toBe(400);
    expect(body.errors![0]!.message).toMatch(/START more than once/);
  });
});
