/**
 * The same walks end to end: GraphQL over HTTP to the gateway, the simulator upstream with
 * its quirks switched at random (total 0, pageSize ignored, a low page maximum), random
 * filters, orders and page sizes, forward and backward. Every walk returns exactly the
 * simulator's own filtered, ordered list, with exact pageInfo on every page.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { translateFilter } from '../../src/translate/filter.js';
import { translateOrder } from '../../src/translate/order.js';
import type { JobSessionFilter } from '../../src/__generated__/resolvers-types.js';
import { NOW, startHarness, type Harness } from '../support/harness.js';
import { orderArb, runs, STATUSES } from './arbitraries.js';

const DAY = 86_400_000;
let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());

/** Filters over the simulator's generated history: a window of days, sometimes narrowed. */
const filterArb: fc.Arbitrary<JobSessionFilter> = fc
  .record({
    daysAgo: fc.integer({ min: 0, max: 700 }),
    days: fc.integer({ min: 1, max: 12 }),
    status: fc.option(fc.uniqueArray(fc.constantFrom(...STATUSES), { minLength: 1, maxLength: 3 }), { nil: undefined }),
    type: fc.option(fc.uniqueArray(fc.constantFrom('protection', 'catalog', 'maintenance'), { minLength: 1, maxLength: 2 }), { nil: undefined }),
  })
  .map(({ daysAgo, days, status, type }) => ({
    start: { gte: NOW - (daysAgo + days) * DAY, lt: NOW - daysAgo * DAY },
    ...(status ? { status } : {}),
    ...(type ? { type } : {}),
  }));

const quirksArb = fc.record({
  totalAlwaysZero: fc.boolean(),
  ignorePageSize: fc.boolean(),
  maxPageSize: fc.oneof(fc.constant(10_000), fc.integer({ min: 3, max: 40 })),
});

const sizeArb = fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 1, max: 25 }) }, { weight: 1, arbitrary: fc.constantFrom('all' as const, 'half' as const) });

const PAGE = `query Walk($first: Int, $after: String, $last: Int, $before: String, $filter: JobSessionFilter, $orderBy: [JobSessionOrder!]) {
  jobSessions(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) {
    totalCount
    edges { node { sessionId } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

interface Connection {
  totalCount: number | null;
  edges: Array<{ node: { sessionId: string } }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

describe('walks through the gateway over the simulator (property-based)', () => {
  it("returns exactly the simulator's list, with exact pageInfo and a right-or-null totalCount, whatever quirks SPP shows", async () => {
    await fc.assert(
      fc.asyncProperty(filterArb, orderArb, quirksArb, sizeArb, fc.constantFrom('forward', 'backward'), async (filter, orderBy, quirks, sizing, direction) => {
        h.sim.configure({ quirks: { totalAlwaysZero: quirks.totalAlwaysZero, ignorePageSize: quirks.ignorePageSize }, maxPageSize: quirks.maxPageSize });
        const expected = h.sim.list({ filter: translateFilter(filter).filter, sort: translateOrder(orderBy) }).map((r) => r.id);
        // Pages that end exactly at the list's end are where an off-by-one in hasNextPage hides.
        const size = sizing === 'all' ? Math.max(1, expected.length) : sizing === 'half' ? Math.max(1, Math.ceil(expected.length / 2)) : sizing;
        const seen: string[] = [];
        let cursor: string | null = null;
        for (let page = 0; ; page++) {
          expect(page).toBeLessThanOrEqual(Math.ceil(expected.length / size));
          const variables: Record<string, unknown> =
            direction === 'forward' ? { first: size, after: cursor, filter, orderBy } : { last: size, before: cursor, filter, orderBy };
          const { status, body } = await h.gql<{ jobSessions: Connection }>(PAGE, variables);
          expect(status, JSON.stringify(body.errors)).toBe(200);
          const connection: Connection = body.data!.jobSessions;
          const ids = connection.edges.map((e) => e.node.sessionId);
          const at = seen.length;
          // This page is the next slice of the list from the walk's end, and pageInfo says exactly what lies beyond.
          const want = direction === 'forward' ? expected.slice(at, at + size) : expected.slice(Math.max(0, expected.length - at - size), expected.length - at);
          expect(ids).toEqual(want);
          const more = direction === 'forward' ? expected.length > at + size : expected.length - at - size > 0;
          const behind = cursor !== null;
          expect(connection.pageInfo).toMatchObject(
            direction === 'forward' ? { hasNextPage: more, hasPreviousPage: behind } : { hasPreviousPage: more, hasNextPage: behind },
          );
          if (connection.totalCount !== null) expect(connection.totalCount).toBe(expected.length);
          seen.push(...(direction === 'forward' ? ids : [...ids].reverse()));
          if (!more) break;
          cursor = direction === 'forward' ? connection.pageInfo.endCursor : connection.pageInfo.startCursor;
        }
        expect(direction === 'forward' ? seen : [...seen].reverse()).toEqual(expected);
      }),
      { numRuns: runs(25) },
    );
  });
});
