import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';

const RUNNING = '{ jobSessions(first: 20, filter: { status: [RUNNING, PENDING, HELD, CANCELING] }) { nodes { sessionId status percent } } }';

describe('single flight', () => {
  let h: Harness;
  beforeAll(async () => {
    // SPP answering in 150 ms keeps the first request in flight while the others arrive.
    h = await startHarness({ sim: { latency: { fixedMs: 150 } } });
  });
  afterAll(() => h.close());

  it('sends identical GETs in flight at the same moment once and shares the answer', async () => {
    await h.gql('{ jobSession(id: "1564688656142") { sessionId } }'); // logged in beforehand
    h.resetUpstreamCalls();
    const answers = await Promise.all(Array.from({ length: 30 }, () => h.gql(RUNNING)));
    const first = JSON.stringify(answers[0]!.body);
    expect(answers[0]!.body.data.jobSessions.nodes.length).toBeGreaterThan(0);
    for (const a of answers) expect(JSON.stringify(a.body)).toBe(first);
    expect(h.upstreamCalls()).toHaveLength(1);
    const metrics = await (await fetch(h.gateway.url.replace('/graphql', '/metrics'))).text();
    expect(metrics).toMatch(/^spp_upstream_coalesced_total 29$/m);
  });

  it('does not share a request after its answer came back (no cache by default)', async () => {
    h.resetUpstreamCalls();
    await h.gql(RUNNING);
    await h.gql(RUNNING);
    expect(h.upstreamCalls()).toHaveLength(2);
  });
});

describe('the answer cache (SPP_CACHE_TTL_MS)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { SPP_CACHE_TTL_MS: '300', SPP_CACHE_MAX_ENTRIES: '2' } });
  });
  afterAll(() => h.close());

  it('answers a repeated request from the cache until the time to live passes', async () => {
    h.resetUpstreamCalls();
    const a = await h.gql(RUNNING);
    const b = await h.gql(RUNNING);
    expect(b.body).toEqual(a.body);
    expect(h.upstreamCalls()).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 400));
    await h.gql(RUNNING);
    expect(h.upstreamCalls()).toHaveLength(2);
  });

  it('holds at most SPP_CACHE_MAX_ENTRIES answers, dropping the least recently used', async () => {
    const q = (n: number) => `{ jobSessions(first: ${n}) { nodes { sessionId } } }`;
    h.resetUpstreamCalls();
    await h.gql(q(1));
    await h.gql(q(2));
    await h.gql(q(3)); // evicts first: 1
    await h.gql(q(3));
    await h.gql(q(1));
    expect(h.upstreamCalls().map((c) => c.query.pageSize)).toEqual(['2', '3', '4', '2']);
  });
});
