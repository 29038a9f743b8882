import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';

const RUNNING = '{ jobSessions(first: 20, filter: { status: [RUNNING, PENDING, HELD, CANCELING] }) { nodes { sessionId status percent } } }';

describe('single flight', () => {
  let h: Harness;
  beforeAll(async () => {
    // SPP answering in 2 s keeps the first request in flight while the others arrive, even on a
    // loaded machine (600 ms was not enough with the whole suite running on a shared 2-core machine).
    h = await startHarness({ sim: { latency: { fixedMs: 2_000 } } });
  });
  afterAll(() => h.close());

  const metric = async (name: string) => {
    const text = await (await fetch(h.gateway.url.replace('/graphql', '/metrics'))).text();
    return Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
  };

  it('sends identical upstream GETs in flight at the same moment once and shares the answer', async () => {
    await h.gql('{ jobSession(id: "1564688656142") { sessionId } }'); // logged in beforehand
    h.resetUpstreamCalls();
    // 2.5 s keeps the first upstream GET in flight until all 30 requests reached the gateway, even
    // on a machine loaded twelve times over (600 ms was not always enough there).
    h.sim.configure({ latency: { fixedMs: 2_500 } });
    onTestFinished(() => h.sim.configure({ latency: { fixedMs: 600 } }));
    const coalescedBefore = await metric('spp_upstream_coalesced_total');
    // 30 different GraphQL requests (each its own body: an undeclared variable, which GraphQL
    // ignores) that need the same SPP page; one document, so that a loaded machine parses and
    // validates once and all 30 arrive while the first upstream GET is in flight.
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => h.gql(RUNNING.replace('nodes { sessionId status percent }', 'nodes { sessionId }'), { request: i })),
    );
    const ids = answers.map((a) => JSON.stringify(a.body.data.jobSessions));
    expect(JSON.parse(ids[0]!).nodes.length).toBeGreaterThan(0);
    expect(new Set(ids).size).toBe(1);
    expect(h.upstreamCalls()).toHaveLength(1);
    expect((await metric('spp_upstream_coalesced_total')) - coalescedBefore).toBe(29);
  });

  it('executes identical GraphQL queries in flight at the same moment once and gives each the same answer', async () => {
    h.resetUpstreamCalls();
    const joinedBefore = await metric('graphql_requests_joined_total');
    const answers = await Promise.all(Array.from({ length: 20 }, () => h.gql(RUNNING)));
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(a.body).toEqual(answers[0]!.body);
    }
    expect(answers[0]!.body.data.jobSessions.nodes.length).toBeGreaterThan(0);
    expect(h.upstreamCalls()).toHaveLength(1);
    expect((await metric('graphql_requests_joined_total')) - joinedBefore).toBe(19);
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

describe('identical requests that must not be shared', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ auth: { mode: 'pass-through' }, sim: { latency: { fixedMs: 100 } } });
  });
  afterAll(() => h.close());

  it('executes identical mutations each on their own: every createSession gets its own token', async () => {
    const mutation = 'mutation { createSession(username: "admin", password: "admin-password") { token } }';
    const answers = await Promise.all(Array.from({ length: 5 }, () => h.gql(mutation)));
    const tokens = answers.map((a) => a.body.data.createSession.token);
    expect(new Set(tokens).size).toBe(5);
  });

  it('does not share a request without credentials', async () => {
    const answers = await Promise.all(Array.from({ length: 3 }, () => h.gql(RUNNING)));
    for (const a of answers) expect(a.status).toBe(401);
    const metrics = await (await fetch(h.gateway.url.replace('/graphql', '/metrics'))).text();
    expect(metrics).toMatch(/^graphql_requests_joined_total 0$/m);
  });
});
