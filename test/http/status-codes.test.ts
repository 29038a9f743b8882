/**
 * The GraphQL-over-HTTP spec's status table (https://graphql.github.io/graphql-over-http/draft/),
 * for both media types a client can ask for, through real HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, withoutCost, type Harness } from '../support/harness.js';

const GRAPHQL_RESPONSE = 'application/graphql-response+json';
const JSON_TYPE = 'application/json';

let h: Harness;
let passThrough: Harness;
beforeAll(async () => {
  [h, passThrough] = await Promise.all([startHarness({ sim: { size: 50 } }), startHarness({ sim: { size: 10 }, auth: { mode: 'pass-through' } })]);
});
afterAll(async () => {
  await Promise.all([h.close(), passThrough.close()]);
});

async function post(url: string, body: string, accept: string | undefined) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(accept ? { accept } : {}) }, body });
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    wwwAuthenticate: response.headers.get('www-authenticate'),
    body: withoutCost(await response.json()) as any,
  };
}

const query = (text: string, variables?: unknown, operationName?: string) => JSON.stringify({ query: text, variables, operationName });

interface Row {
  name: string;
  body: string;
  /** Expected status with application/graphql-response+json, and with application/json. */
  statuses: [number, number];
  code?: string;
  data?: 'none' | 'null' | 'present';
  passThrough?: boolean;
}

const table: Row[] = [
  { name: 'JSON parsing failure', body: '{"query": "{ jobSessions', statuses: [400, 400], code: 'BAD_REQUEST', data: 'none' },
  { name: 'invalid parameters (query is not a string)', body: JSON.stringify({ query: 1 }), statuses: [400, 400], code: 'BAD_REQUEST', data: 'none' },
  { name: 'document parsing failure', body: query('{ jobSessions('), statuses: [400, 200], code: 'GRAPHQL_PARSE_FAILED', data: 'none' },
  { name: 'document validation failure', body: query('{ noSuchField }'), statuses: [400, 200], code: 'GRAPHQL_VALIDATION_FAILED', data: 'none' },
  {
    name: 'operation cannot be determined',
    body: query('query A { jobSessions(first: 1) { totalCount } } query B { jobSessions(first: 1) { totalCount } }'),
    statuses: [400, 200],
    code: 'OPERATION_RESOLUTION_FAILURE',
    data: 'none',
  },
  {
    name: 'variable coercion failure',
    body: query('query Q($n: Int) { jobSessions(first: $n) { totalCount } }', { n: 'ten' }),
    statuses: [400, 200],
    code: 'BAD_USER_INPUT',
    data: 'none',
  },
  {
    name: 'field error with partial data',
    body: query('{ a: jobSessions(first: 1) { nodes { sessionId } } b: jobSession(id: "nope") { sessionId } }'),
    statuses: [200, 200],
    code: 'BAD_USER_INPUT',
    data: 'present',
  },
  {
    name: 'the whole operation failed (no credentials): data null',
    body: query('{ jobSessions(first: 1) { totalCount } }'),
    statuses: [401, 200],
    code: 'UNAUTHENTICATED',
    data: 'null',
    passThrough: true,
  },
  { name: 'success', body: query('{ jobSessions(first: 1) { totalCount } }'), statuses: [200, 200], data: 'present' },
];

describe('status codes per the GraphQL-over-HTTP spec', () => {
  for (const row of table) {
    for (const [index, accept] of [GRAPHQL_RESPONSE, JSON_TYPE].entries()) {
      it(`answers ${row.statuses[index]} for ${row.name} with Accept: ${accept}`, async () => {
        const target = row.passThrough ? passThrough : h;
        const response = await post(target.gateway.url, row.body, accept);
        expect(response.status).toBe(row.statuses[index]);
        if (row.code) expect(response.body.errors?.[0]?.extensions?.code).toBe(row.code);
        else expect(response.body.errors).toBeUndefined();
        if (row.data === 'none') expect(response.body).not.toHaveProperty('data');
        if (row.data === 'null') expect(response.body.data).toBeNull();
        if (row.data === 'present') expect(response.body.data).toEqual(expect.any(Object));
        // A malformed request is answered before media types are negotiated; everything else in the type asked for.
        if (row.code !== 'BAD_REQUEST') expect(response.type).toContain(accept);
        if (response.status === 401) expect(response.wwwAuthenticate).toMatch(/^Basic realm="spp-jobsession-gateway", Bearer/);
        else expect(response.wwwAuthenticate).toBeNull();
      });
    }
  }

  it('keeps the partial data of the issue example: data.a filled, data.b null, HTTP 200', async () => {
    const response = await post(h.gateway.url, table[6]!.body, GRAPHQL_RESPONSE);
    expect(response.status).toBe(200);
    expect(response.body.data).toEqual({ a: { nodes: [{ sessionId: expect.any(String) }] }, b: null });
    expect(response.body.errors).toHaveLength(1);
    expect(response.body.errors[0].path).toEqual(['b']);
  });

  it('answers clients that send no Accept (or */*) in application/graphql-response+json, with its status codes', async () => {
    for (const accept of [undefined, '*/*']) {
      const response = await post(h.gateway.url, query('{ noSuchField }'), accept);
      expect(response.type).toContain(GRAPHQL_RESPONSE);
      expect(response.status).toBe(400);
    }
  });

  it('prefers application/graphql-response+json when a client accepts both, as Apollo Client does', async () => {
    const response = await post(h.gateway.url, query('{ noSuchField }'), `${GRAPHQL_RESPONSE},${JSON_TYPE};q=0.9`);
    expect(response.type).toContain(GRAPHQL_RESPONSE);
    expect(response.status).toBe(400);
  });

  it('challenges a 401 in service-account mode with WWW-Authenticate: Bearer', async () => {
    const closed = await startHarness({
      sim: { size: 5 },
      auth: { mode: 'service-account', serviceAccount: { username: 'admin', password: 'admin-password' }, tokens: ['a-gateway-token'], allowAnonymous: false },
    });
    try {
      const response = await post(closed.gateway.url, query('{ jobSessions(first: 1) { totalCount } }'), GRAPHQL_RESPONSE);
      expect(response.status).toBe(401);
      expect(response.wwwAuthenticate).toBe('Bearer realm="spp-jobsession-gateway"');
    } finally {
      await closed.close();
    }
  });
});
