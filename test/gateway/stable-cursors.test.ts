import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
import type { SppSort } from '../../src/spp-api/types.js';

const PAGE = `query($first: Int, $after: String, $last: Int, $before: String, $orderBy: [JobSessionOrder!]) {
  jobSessions(first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy) {
    edges { node { sessionId } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  } }`;

interface Order {
  name: string;
  orderBy?: Array<{ field: string; direction: string }>;
  sort: SppSort[];
}

const ORDERS: Order[] = [
  {
    name: 'the default order (newest first)',
    sort: [
      { property: 'start', direction: 'DESC' },
      { property: 'id', direction: 'DESC' },
    ],
  },
  {
    name: 'oldest first',
    orderBy: [{ field: 'START', direction: 'ASC' }],
    sort: [
      { property: 'start', direction: 'ASC' },
      { property: 'id', direction: 'ASC' },
    ],
  },
  {
    name: 'job name, then newest first',
    orderBy: [
      { field: 'JOB_NAME', direction: 'ASC' },
      { field: 'START', direction: 'DESC' },
    ],
    sort: [
      { property: 'jobName', direction: 'ASC' },
      { property: 'start', direction: 'DESC' },
      { property: 'id', direction: 'DESC' },
    ],
  },
];

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ sim: { size: 700 } });
});
afterAll(() => h.close());

/**
 * Pages through the whole list while the simulator's live mode starts new sessions and
 * expires old ones between page requests; checks that every session that existed from
 * start to end was returned exactly once, in order.
 */
async function traverseWhileLive(order: Order, direction: 'forward' | 'backward') {
  const before = h.sim.list({ sort: order.sort }).map((s) => s.id);
  const seen: string[] = [];
  const expired = new Set<string>();
  let cursor: string | null = null;
  for (let pages = 0; pages < 100; pages++) {
    const variables: Record<string, unknown> =
      direction === 'forward' ? { first: 40, after: cursor, orderBy: order.orderBy } : { last: 40, before: cursor, orderBy: order.orderBy };
    const { body }: { body: any } = await h.gql(PAGE, variables);
    expect(body.errors).toBeUndefined();
    const ids: string[] = body.data.jobSessions.edges.map((e: any) => e.node.sessionId);
    if (direction === 'forward') seen.push(...ids);
    else seen.unshift(...ids);
    const info: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string; endCursor: string } = body.data.jobSessions.pageInfo;
    if (direction === 'forward' ? !info.hasNextPage : !info.hasPreviousPage) break;
    cursor = direction === 'forward' ? info.endCursor : info.startCursor;
    // Between two page requests: three sessions start, two old ones expire.
    for (const id of h.sim.step({ insert: 3, expire: 2 }).expired) expired.add(id);
  }
  const survivors = before.filter((id) => !expired.has(id));
  expect(expired.size).toBeGreaterThan(0);
  expect(new Set(seen).size).toBe(seen.length);
  expect(seen.filter((id) => survivors.includes(id))).toEqual(survivors);
}

describe('cursors over live data', () => {
  for (const order of ORDERS) {
    it(`pages forward through ${order.name} while sessions start and expire: every lasting session once, in order`, async () => {
      await traverseWhileLive(order, 'forward');
    });
    it(`pages backward through ${order.name} while sessions start and expire: every lasting session once, in order`, async () => {
      await traverseWhileLive(order, 'backward');
    });
  }

  it('reads one window when the cursor record has not moved, and finds it by keyset when it has', async () => {
    const first = await h.gql(PAGE, { first: 10 });
    const endCursor = first.body.data.jobSessions.pageInfo.endCursor;
    const expected = h.sim.list({ sort: ORDERS[0]!.sort }).map((s) => s.id);

    h.resetUpstreamCalls();
    const still = await h.gql(PAGE, { first: 10, after: endCursor });
    expect(still.body.data.jobSessions.edges.map((e: any) => e.node.sessionId)).toEqual(expected.slice(10, 20));
    expect(h.upstreamCalls()).toHaveLength(1);

    h.sim.step({ insert: 5, expire: 0 });
    h.resetUpstreamCalls();
    const moved = await h.gql(PAGE, { first: 10, after: endCursor });
    expect(moved.body.data.jobSessions.edges.map((e: any) => e.node.sessionId)).toEqual(expected.slice(10, 20));
    // the offset read, then in parallel one query per keyset level after the cursor
    // (start = x AND id < y; start < x) and one per level at or before it (start = x AND id >= y; start > x)
    const calls = h.upstreamCalls();
    expect(calls).toHaveLength(5);
    expect(calls.slice(1).map((c) => c.filter)).toEqual(
      expect.arrayContaining([
        [expect.objectContaining({ property: 'start', op: '=' }), expect.objectContaining({ property: 'id', op: '<' })],
        [expect.objectContaining({ property: 'start', op: '<' })],
        [expect.objectContaining({ property: 'start', op: '=' }), expect.objectContaining({ property: 'id', op: '>=' })],
        [expect.objectContaining({ property: 'start', op: '>' })],
      ]),
    );
    expect(moved.body.data.jobSessions.pageInfo.hasPreviousPage).toBe(true);

    // SPP's totals gave the page its new offsets, so the next page is a plain offset read again
    h.resetUpstreamCalls();
    const next = await h.gql(PAGE, { first: 10, after: moved.body.data.jobSessions.pageInfo.endCursor });
    expect(next.body.data.jobSessions.edges.map((e: any) => e.node.sessionId)).toEqual(expected.slice(20, 30));
    expect(h.upstreamCalls()).toHaveLength(1);
  });

  it('continues from where a deleted cursor record would have been', async () => {
    const sort = ORDERS[1]!.sort;
    const page1 = await h.gql(PAGE, { first: 5, orderBy: ORDERS[1]!.orderBy });
    const ids: string[] = page1.body.data.jobSessions.edges.map((e: any) => e.node.sessionId);
    // expire the five oldest: exactly the first page, cursor record included
    expect(h.sim.step({ insert: 0, expire: 5 }).expired).toEqual(ids);
    const next = await h.gql(PAGE, { first: 5, after: page1.body.data.jobSessions.pageInfo.endCursor, orderBy: ORDERS[1]!.orderBy });
    expect(next.body.data.jobSessions.edges.map((e: any) => e.node.sessionId)).toEqual(
      h.sim
        .list({ sort })
        .slice(0, 5)
        .map((s) => s.id),
    );
    // exact: nothing lies before the page any more
    expect(next.body.data.jobSessions.pageInfo.hasPreviousPage).toBe(false);
    // and backward from the first of the expired records, nothing remains either
    const back = await h.gql(PAGE, { last: 5, before: page1.body.data.jobSessions.pageInfo.startCursor, orderBy: ORDERS[1]!.orderBy });
    expect(back.body.data.jobSessions.edges).toEqual([]);
    expect(back.body.data.jobSessions.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: true });
  });
});
