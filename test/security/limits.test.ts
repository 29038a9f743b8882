import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, withoutCost, type Harness } from '../support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { MAX_DEPTH: '6', MAX_ALIASES: '4', MAX_COST: '3000', MAX_DOCUMENT_BYTES: '2000', MAX_BATCH: '3' } });
});
afterAll(() => h.close());

async function post(body: string, headers: Record<string, string> = {}) {
  const response = await fetch(h.gateway.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: response.status, body: (await response.json()) as any };
}

function expectRefused(result: { status: number; body: any }, status: number, code: string, message: RegExp) {
  expect(result.status).toBe(status);
  expect(result.body.errors).toHaveLength(1);
  expect(result.body.errors[0].extensions.code).toBe(code);
  expect(result.body.errors[0].message).toMatch(message);
  expect(h.upstreamCalls()).toHaveLength(0);
}

describe('query limits', () => {
  it('accepts a query at the depth limit and refuses one level deeper, before any upstream call', async () => {
    // jobSessions(1) edges(2) node(3) policySnapshot(4) spec(5) applicationType(6); source(6) name(7)
    const atLimit = '{ jobSessions(first: 1) { edges { node { policySnapshot { spec { applicationType } } } } } }';
    const over = '{ jobSessions(first: 1) { edges { node { policySnapshot { spec { source { name } } } } } } }';
    expect((await h.gql(atLimit)).status).toBe(200);
    h.resetUpstreamCalls();
    expectRefused(await h.gql(over), 400, 'GRAPHQL_VALIDATION_FAILED', /depth limit of 6 exceeded, found 7/);
  });

  it('accepts 4 aliases and refuses 5', async () => {
    const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: jobSession(id: "1564688656142") { jobName }`).join(' ')} }`;
    expect((await h.gql(aliases(4))).status).toBe(200);
    h.resetUpstreamCalls();
    expectRefused(await h.gql(aliases(5)), 400, 'GRAPHQL_VALIDATION_FAILED', /Aliases limit of 4 exceeded, found 5/);
  });

  it('costs a connection by first × what each session selects: under the limit passes, over is refused', async () => {
    // each session: edge 1 + node 1 + statistics list 1 + 10 × 1 = 13; the connection adds 1, and 10 for its upstream read
    const query = (first: number) => `{ jobSessions(first: ${first}) { edges { node { sessionId statistics { total } } } } }`;
    expect((await h.gql(query(229))).status).toBe(200);
    h.resetUpstreamCalls();
    expectRefused(await h.gql(query(230)), 400, 'QUERY_TOO_COMPLEX', /costs 3001, above the limit of 3000/);
  });

  it('counts first from variables too', async () => {
    h.resetUpstreamCalls();
    const result = await h.gql('query($n: Int) { jobSessions(first: $n) { nodes { statistics { total } links { href } } } }', { n: 1000 });
    expectRefused(result, 400, 'QUERY_TOO_COMPLEX', /above the limit of 3000/);
  });

  it('reuses a cost across filter values, never across page sizes', async () => {
    const query = 'query($n: Int, $f: JobSessionFilter) { jobSessions(first: $n, filter: $f) { nodes { statistics { total } } } }';
    for (let i = 0; i < 3; i++) expect((await h.gql(query, { n: 10, f: { start: { lt: 32_503_680_000_000 - i } } })).status).toBe(200);
    h.resetUpstreamCalls();
    expectRefused(await h.gql(query, { n: 1000, f: { start: { lt: 32_503_680_000_000 } } }), 400, 'QUERY_TOO_COMPLEX', /above the limit of 3000/);
  });

  it('refuses a document larger than the limit with HTTP 413', async () => {
    const padding = ' '.repeat(2000);
    expect((await h.gql(`{ jobSession(id: "1564688656142") { jobName } }${' '.repeat(1900)}`)).status).toBe(200);
    h.resetUpstreamCalls();
    expectRefused(
      await h.gql(`{ jobSession(id: "1564688656142") { jobName } }${padding}`),
      413,
      'PAYLOAD_TOO_LARGE',
      /GraphQL document is \d+ bytes; at most 2000/,
    );
  });

  it('accepts 3 batched operations and refuses 4', async () => {
    const op = { query: '{ jobSession(id: "1564688656142") { jobName } }' };
    const ok = await post(JSON.stringify([op, op, op]));
    expect(ok.status).toBe(200);
    // Each operation of a batch is charged on its own (docs/security.md "Budgets").
    expect(ok.body.map((answer: any) => answer.extensions.cost.requestedQueryCost)).toEqual([1, 1, 1]);
    expect(withoutCost(ok.body)).toEqual(Array.from({ length: 3 }, () => ({ data: { jobSession: { jobName: 'Application Server Inventory' } } })));
    h.resetUpstreamCalls();
    expectRefused(await post(JSON.stringify([op, op, op, op])), 400, 'BAD_REQUEST', /at most 3 operations, got 4/);
  });
});

describe('malformed requests', () => {
  it('answers malformed JSON with BAD_REQUEST and HTTP 400, and keeps serving', async () => {
    h.resetUpstreamCalls();
    expectRefused(await post('{"query": "{ jobSessions { totalCount } }"'), 400, 'BAD_REQUEST', /not valid JSON/);
    expectRefused(await post(''), 400, 'BAD_REQUEST', /body is empty/);
    expect((await h.gql('{ jobSessions(first: 1) { totalCount } }')).status).toBe(200);
  });

  it('answers a wrong variable type with BAD_USER_INPUT naming the variable', async () => {
    h.resetUpstreamCalls();
    expectRefused(
      await h.gql('query($n: Int) { jobSessions(first: $n) { totalCount } }', { n: 'ten' }),
      400,
      'BAD_USER_INPUT',
      /Variable "\$n" got invalid value "ten"/,
    );
    expectRefused(
      await h.gql('query($f: JobSessionFilter) { jobSessions(filter: $f) { totalCount } }', { f: { status: ['DONE'] } }),
      400,
      'BAD_USER_INPUT',
      /Value "DONE" does not exist in "JobSessionStatus" enum/,
    );
  });

  it('answers a syntax error with GRAPHQL_PARSE_FAILED and an unknown field with GRAPHQL_VALIDATION_FAILED', async () => {
    h.resetUpstreamCalls();
    expectRefused(await h.gql('{ jobSessions( }'), 400, 'GRAPHQL_PARSE_FAILED', /Syntax Error/);
    expectRefused(await h.gql('{ jobSessions { password } }'), 400, 'GRAPHQL_VALIDATION_FAILED', /Cannot query field "password"/);
  });

  it('refuses a bare GET without a preflight header (CSRF prevention)', async () => {
    const response = await fetch(`${h.gateway.url}?query=${encodeURIComponent('{ jobSessions(first: 1) { totalCount } }')}`);
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/CSRF/);
    const allowed = await fetch(`${h.gateway.url}?query=${encodeURIComponent('{ jobSessions(first: 1) { totalCount } }')}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    expect(allowed.status).toBe(200);
  });

  it('answers an unknown path with 404 and /healthz with 200', async () => {
    const base = h.gateway.url.replace(/\/graphql$/, '');
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
  });
});
