/**
 * How many requests a page costs SPP (issue 8): the whole window in one request on an SPP
 * that honours `pageSize`; on a build that caps pages, the first answer teaches the cap and
 * the rest of the window is read at that size, with every later window split at it from the
 * start. Counted at the simulator, through real HTTP.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
import { CACHE_MAX_RECORDS } from '../../src/upstream/spp-client.js';

const PAGE = `query($first: Int, $after: String, $last: Int, $before: String) {
  jobSessions(first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { sessionId } } pageInfo { hasNextPage hasPreviousPage endCursor }
  } }`;
const NEWEST_FIRST = [
  { property: 'start', direction: 'DESC' as const },
  { property: 'id', direction: 'DESC' as const },
];

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function page(harness: Harness, variables: Record<string, unknown>) {
  const { status, body } = await harness.gql(PAGE, variables);
  expect(body.errors).toBeUndefined();
  expect(status).toBe(200);
  return body.data.jobSessions as {
    edges: Array<{ cursor: string; node: { sessionId: string } }>;
    pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string };
  };
}

/** The (pageStartIndex, pageSize) of each upstream jobsession call, in the order SPP received them. */
const windows = (harness: Harness) => harness.upstreamCalls().map((c) => [Number(c.query.pageStartIndex), Number(c.query.pageSize)]);
const byStart = (calls: number[][]) => [...calls].sort((a, b) => a[0]! - b[0]!);

describe('upstream requests per page', () => {
  it('costs one request for first: 1000, last: 1000 and a 1000-session page after a cursor on an SPP that honours pageSize', async () => {
    h = await startHarness();
    const expected = h.sim.list({ sort: NEWEST_FIRST }).map((s) => s.id);
    const first = await page(h, { first: 1000 });
    expect(first.edges.map((e) => e.node.sessionId)).toEqual(expected.slice(0, 1000));
    expect(first.pageInfo.hasNextPage).toBe(true);
    expect(windows(h)).toEqual([[0, 1001]]);

    h.resetUpstreamCalls();
    const next = await page(h, { first: 1000, after: first.pageInfo.endCursor });
    expect(next.edges.map((e) => e.node.sessionId)).toEqual(expected.slice(1000, 2000));
    expect(next.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
    // the cursor's own record, the page, and the one record that tells hasNextPage
    expect(windows(h)).toEqual([[999, 1002]]);

    h.resetUpstreamCalls();
    const last = await page(h, { last: 1000 });
    expect(last.edges.map((e) => e.node.sessionId)).toEqual(expected.slice(-1000));
    expect(windows(h)).toEqual([[0, 1001]]);
  });

  it('on a build that ignores pageSize, learns 100 from the first answer, reads the rest at 100, and splits later pages from the start', async () => {
    h = await startHarness({ sim: { quirks: { ignorePageSize: true } } });
    const expected = h.sim.list({ sort: NEWEST_FIRST }).map((s) => s.id);
    const first = await page(h, { first: 1000 });
    expect(first.edges.map((e) => e.node.sessionId)).toEqual(expected.slice(0, 1000));
    expect(first.pageInfo.hasNextPage).toBe(true);
    const calls = windows(h);
    expect(calls[0]).toEqual([0, 1001]);
    expect(byStart(calls.slice(1))).toEqual([...Array.from({ length: 9 }, (_, i) => [100 * (i + 1), 100]), [1000, 1]]);
    expect(h.logs.some((line) => line.includes('caps pages at 100'))).toBe(true);

    h.resetUpstreamCalls();
    const next = await page(h, { first: 1000, after: first.pageInfo.endCursor });
    expect(next.edges.map((e) => e.node.sessionId)).toEqual(expected.slice(1000, 2000));
    expect(byStart(windows(h))).toEqual([...Array.from({ length: 10 }, (_, i) => [999 + 100 * i, 100]), [1999, 2]]);
  });

  it('on an SPP with a lower maximum than asked, learns it from the clamped answer', async () => {
    h = await startHarness({ sim: { maxPageSize: 300 }, env: { SPP_PAGE_SIZE_CAP: '5000' } });
    const expected = h.sim.list({ sort: NEWEST_FIRST }).map((s) => s.id);
    const first = await page(h, { first: 1000 });
    expect(first.edges.map((e) => e.node.sessionId)).toEqual(expected.slice(0, 1000));
    const calls = windows(h);
    expect(calls[0]).toEqual([0, 1001]);
    expect(byStart(calls.slice(1))).toEqual([
      [300, 300],
      [600, 300],
      [900, 101],
    ]);
  });

  it('never asks more than SPP_PAGE_SIZE_CAP at once, splitting a larger window into parallel requests', async () => {
    h = await startHarness({ env: { SPP_PAGE_SIZE_CAP: '100' } });
    const expected = h.sim.list({ sort: NEWEST_FIRST }).map((s) => s.id);
    const result = await page(h, { first: 1000 });
    expect(result.edges.map((e) => e.node.sessionId)).toEqual(expected.slice(0, 1000));
    expect(byStart(windows(h))).toEqual([...Array.from({ length: 10 }, (_, i) => [100 * i, 100]), [1000, 1]]);
  });
});

describe('the upstream answer cache (SPP_CACHE_TTL_MS)', () => {
  it('holds at most CACHE_MAX_RECORDS records, however few entries that makes', async () => {
    h = await startHarness({ env: { SPP_CACHE_TTL_MS: '60000', SPP_CACHE_MAX_ENTRIES: '500' } });
    const bounded = (i: number) => ({ first: 1000, filter: { start: { lt: 32_503_680_000_000 - i } } });
    const QUERY = `query($first: Int, $filter: JobSessionFilter) { jobSessions(first: $first, filter: $filter) { nodes { sessionId } } }`;
    for (let i = 0; i < Math.ceil(CACHE_MAX_RECORDS / 1001) + 1; i++) {
      const { body } = await h.gql(QUERY, bounded(i));
      expect(body.data.jobSessions.nodes).toHaveLength(1000);
    }
    h.resetUpstreamCalls();
    // the newest page is still cached, the oldest was evicted to stay under the bound
    await h.gql(QUERY, bounded(Math.ceil(CACHE_MAX_RECORDS / 1001)));
    expect(h.upstreamCalls()).toHaveLength(0);
    await h.gql(QUERY, bounded(0));
    expect(h.upstreamCalls()).toHaveLength(1);
  });
});
