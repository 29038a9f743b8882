/**
 * HTTP caching of GET queries (docs/consumers.md "HTTP caching"): Cache-Control from the schema's
 * @cacheControl hints and the resolvers' dynamic ones, `private` for every caller with credentials,
 * a strong ETag and If-None-Match answered with 304 and no body, no-store for POST, mutations,
 * errors and partial results, and a Vary that names what the answer depends on.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, basic, startHarness, withoutCost, type Harness } from '../support/harness.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  raw: Buffer;
}

/** A GET through node:http (fetch would hide a 304's missing body and the raw Vary). */
function get(h: Harness, query: string, headers: Record<string, string> = {}, variables?: Record<string, unknown>): Promise<Answer> {
  const url = new URL(h.gateway.url);
  url.searchParams.set('query', query);
  if (variables) url.searchParams.set('variables', JSON.stringify(variables));
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', headers: { 'apollo-require-preflight': 'true', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, raw: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const varyOf = (answer: Answer) =>
  String(answer.headers.vary ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);

const SESSION =
  'query Session($id: ID!) { jobSession(id: $id) { sessionId status policySnapshot { name spec { source { name } } } statistics { total } links { name } } }';

async function sessionIds(h: Harness): Promise<{ finished: string; running: string }> {
  const ids = async (status: string) => {
    const answer = await h.gql<{ jobSessions: { nodes: Array<{ sessionId: string }> } }>(
      `{ jobSessions(first: 1, filter: { status: [${status}] }) { nodes { sessionId } } }`,
    );
    const id = answer.body.data?.jobSessions.nodes[0]?.sessionId;
    if (!id) throw new Error(`the simulator has no ${status} session`);
    return id;
  };
  return { finished: await ids('COMPLETED'), running: await ids('RUNNING') };
}

describe('HTTP caching of GET queries, anonymous callers (service account, GATEWAY_ALLOW_ANONYMOUS)', () => {
  let h: Harness;
  let ids: { finished: string; running: string };
  beforeAll(async () => {
    h = await startHarness({
      sim: { size: 300 },
      auth: { mode: 'service-account', serviceAccount: ADMIN, tokens: ['caching-test-token'], allowAnonymous: true },
      env: { COMPRESSION_THRESHOLD_BYTES: '100' },
    });
    ids = await sessionIds(h);
  });
  afterAll(() => h?.close());

  it('caches a finished session publicly for 60 seconds, with a strong ETag and the Vary of every GraphQL answer', async () => {
    const answer = await get(h, SESSION, {}, { id: ids.finished });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.raw.toString()).data.jobSession).toMatchObject({ sessionId: ids.finished, status: 'COMPLETED' });
    expect(answer.headers['cache-control']).toBe('max-age=60, public');
    expect(answer.headers.etag).toMatch(/^"[A-Za-z0-9_-]{43}"$/);
    expect(varyOf(answer)).toEqual(expect.arrayContaining(['accept', 'authorization', 'x-endeavour-sessionid', 'cookie']));
  });

  it('answers a repeat with If-None-Match with 304, no body, and the same ETag and Cache-Control; a changed tag gets the answer again', async () => {
    const first = await get(h, SESSION, {}, { id: ids.finished });
    const etag = String(first.headers.etag);
    const repeat = await get(h, SESSION, { 'if-none-match': etag }, { id: ids.finished });
    expect(repeat.status).toBe(304);
    expect(repeat.raw.length).toBe(0);
    expect(repeat.headers.etag).toBe(etag);
    expect(repeat.headers['cache-control']).toBe('max-age=60, public');
    expect(repeat.headers['content-type']).toBeUndefined();
    // A list of tags and the weak form match too (If-None-Match compares weakly).
    expect((await get(h, SESSION, { 'if-none-match': `"other", W/${etag}` }, { id: ids.finished })).status).toBe(304);
    const other = await get(h, SESSION, { 'if-none-match': '"not-this-answer"' }, { id: ids.finished });
    expect(other.status).toBe(200);
    expect(withoutCost(JSON.parse(other.raw.toString()))).toEqual(withoutCost(JSON.parse(first.raw.toString())));
  });

  it('tags a compressed answer with its coding, and its tag revalidates the same answer asked for uncompressed', async () => {
    const gzip = await get(h, SESSION, { 'accept-encoding': 'gzip' }, { id: ids.finished });
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(gzip.headers.etag).toMatch(/^"[A-Za-z0-9_-]{43}-gzip"$/);
    expect(varyOf(gzip)).toContain('accept-encoding');
    const plain = await get(h, SESSION, {}, { id: ids.finished });
    expect(String(gzip.headers.etag)).toBe(String(plain.headers.etag).replace(/"$/, '-gzip"'));
    const revalidated = await get(h, SESSION, { 'if-none-match': String(gzip.headers.etag) }, { id: ids.finished });
    expect(revalidated.status).toBe(304);
    expect(revalidated.raw.length).toBe(0);
  });

  it('never caches a running session, session lists, counts or statistics (no-store), though a GET still carries an ETag', async () => {
    const running = await get(h, SESSION, {}, { id: ids.running });
    expect(JSON.parse(running.raw.toString()).data.jobSession.status).toBe('RUNNING');
    expect(running.headers['cache-control']).toBe('no-store');
    expect(running.headers.etag).toMatch(/^"/);
    for (const query of [
      '{ jobSessions(first: 2, filter: { status: [COMPLETED] }) { nodes { sessionId } } }',
      '{ jobSessionCounts { status count } }',
      '{ jobSessionStats { totalRuns } }',
      '{ jobSession(id: "999999999") { sessionId } }',
    ]) {
      const answer = await get(h, query);
      expect({ query, status: answer.status, cacheControl: answer.headers['cache-control'] }).toEqual({ query, status: 200, cacheControl: 'no-store' });
    }
  });

  it('caches job definitions for 30 seconds, but not once a live field of the job (status, last run, schedule) is asked for', async () => {
    const definitions = await get(h, '{ jobs(first: 3) { totalCount nodes { id name type description } pageInfo { hasNextPage } } }');
    expect(definitions.headers['cache-control']).toBe('max-age=30, public');
    const jobId = JSON.parse(definitions.raw.toString()).data.jobs.nodes[0].id as string;
    expect((await get(h, 'query($id: ID!) { job(id: $id) { name } }', {}, { id: jobId })).headers['cache-control']).toBe('max-age=30, public');
    expect((await get(h, 'query($id: ID!) { node(id: $id) { id ... on Job { name } } }', {}, { id: jobId })).headers['cache-control']).toBe(
      'max-age=30, public',
    );
    for (const field of ['status', 'lastRunTime', 'nextFireTime', 'availableActions', 'lastRun { sessionId }']) {
      const answer = await get(h, `query($id: ID!) { job(id: $id) { name ${field} } }`, {}, { id: jobId });
      expect({ field, cacheControl: answer.headers['cache-control'] }).toEqual({ field, cacheControl: 'no-store' });
    }
  });

  it('keeps a finished session reached through node() for 60 seconds, and the smallest age wins when fields are combined', async () => {
    const global = JSON.parse((await get(h, SESSION.replace('sessionId status', 'id sessionId status'), {}, { id: ids.finished })).raw.toString()).data
      .jobSession.id as string;
    expect((await get(h, 'query($id: ID!) { node(id: $id) { id } }', {}, { id: global })).headers['cache-control']).toBe('max-age=60, public');
    const both = await get(h, 'query($id: ID!) { jobSession(id: $id) { sessionId job { name } } }', {}, { id: ids.finished });
    expect(both.headers['cache-control']).toBe('max-age=30, public');
  });

  it('marks every answer to a caller with credentials private, never public', async () => {
    const answer = await get(h, SESSION, { authorization: 'Bearer caching-test-token' }, { id: ids.finished });
    expect(answer.status).toBe(200);
    expect(answer.headers['cache-control']).toBe('max-age=60, private');
    const jobs = await get(h, '{ jobs(first: 1) { nodes { name } } }', { authorization: 'Bearer caching-test-token' });
    expect(jobs.headers['cache-control']).toBe('max-age=30, private');
  });

  it('never stores POST answers, partial results, errors or mutations', async () => {
    const post = await fetch(h.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: SESSION, variables: { id: ids.finished } }),
    });
    expect(post.status).toBe(200);
    expect(post.headers.get('cache-control')).toBe('no-store');
    expect(post.headers.get('etag')).toBeNull();

    const partial = await get(h, `query($id: ID!) { jobSession(id: $id) { sessionId } node(id: "not-a-global-id") { id } }`, {}, { id: ids.finished });
    const body = JSON.parse(partial.raw.toString());
    expect(body.data.jobSession.sessionId).toBe(ids.finished);
    expect(body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(partial.headers['cache-control']).toBe('no-store');

    // The field is nullable: data with an UNAUTHENTICATED error (200 by the GraphQL-over-HTTP spec), still never stored.
    const refused = await get(h, SESSION, { authorization: 'Bearer wrong-token' }, { id: ids.finished });
    expect(JSON.parse(refused.raw.toString()).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(refused.headers['cache-control']).toBe('no-store');

    const invalid = await get(h, '{ jobSession { sessionId } }');
    expect(invalid.status).toBe(400);
    expect(invalid.headers['cache-control']).toBe('no-store');

    const mutation = await get(h, 'mutation { deleteSession }');
    expect(mutation.status).toBe(405);
    expect(mutation.headers['cache-control']).toBe('no-store');
  });
});

describe('HTTP caching in pass-through mode (each caller its own SPP identity)', () => {
  let h: Harness;
  let finished: string;
  beforeAll(async () => {
    h = await startHarness({ sim: { size: 100 }, auth: { mode: 'pass-through' } });
    const answer = await h.gql('{ jobSessions(first: 1, filter: { status: [COMPLETED] }) { nodes { sessionId } } }', undefined, basic(ADMIN));
    finished = answer.body.data.jobSessions.nodes[0].sessionId as string;
  });
  afterAll(() => h?.close());

  it('marks a finished session private for the caller who read it, and answers a request without credentials no-store', async () => {
    const answer = await get(h, SESSION, basic(ADMIN), { id: finished });
    expect(answer.status).toBe(200);
    expect(answer.headers['cache-control']).toBe('max-age=60, private');
    const repeat = await get(h, SESSION, { ...basic(ADMIN), 'if-none-match': String(answer.headers.etag) }, { id: finished });
    expect(repeat.status).toBe(304);
    const anonymous = await get(h, SESSION, {}, { id: finished });
    expect(JSON.parse(anonymous.raw.toString()).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(anonymous.headers['cache-control']).toBe('no-store');
  });
});

describe('Vary where CORS allows a list of origins', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ sim: { size: 20 }, embeddedSimulator: true });
  });
  afterAll(() => h?.close());

  it('names Origin beside the headers every GraphQL answer varies on, with or without an Origin in the request', async () => {
    for (const headers of [{ origin: 'http://localhost:5173' }, {}] as Array<Record<string, string>>) {
      const answer = await get(h, '{ jobs(first: 1) { nodes { name } } }', headers);
      expect(answer.status).toBe(200);
      expect(varyOf(answer)).toEqual(expect.arrayContaining(['origin', 'accept', 'authorization', 'x-endeavour-sessionid', 'cookie']));
    }
  });
});

describe('HTTP_CACHE_HINTS=false', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ sim: { size: 100 }, env: { HTTP_CACHE_HINTS: 'false' } });
  });
  afterAll(() => h?.close());

  it('answers even a finished session no-store, and still revalidates it with its ETag', async () => {
    const { finished } = await sessionIds(h);
    const answer = await get(h, SESSION, {}, { id: finished });
    expect(answer.status).toBe(200);
    expect(answer.headers['cache-control']).toBe('no-store');
    const repeat = await get(h, SESSION, { 'if-none-match': String(answer.headers.etag) }, { id: finished });
    expect(repeat.status).toBe(304);
  });
});

describe('an authenticated caller asking what an anonymous caller has in flight (service account: one upstream identity)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      sim: { size: 50, latency: { fixedMs: 400 } },
      auth: { mode: 'service-account', serviceAccount: ADMIN, tokens: ['caching-test-token'], allowAnonymous: true },
    });
    await h.gql('{ jobs(first: 1) { totalCount } }'); // logged in beforehand
  });
  afterAll(() => h?.close());

  it('gets a private answer of its own, while the anonymous one is public (identical requests are shared per consumer only)', async () => {
    const metric = async () => {
      const text = await (await fetch(new URL('/metrics', h.gateway.url))).text();
      return Number(/^graphql_requests_joined_total (\d+)$/m.exec(text)?.[1] ?? Number.NaN);
    };
    const joinedBefore = await metric();
    const query = '{ jobs(first: 2) { nodes { name } } }';
    const anonymous = get(h, query);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const withToken = await get(h, query, { authorization: 'Bearer caching-test-token' });
    expect((await anonymous).headers['cache-control']).toBe('max-age=30, public');
    expect(withToken.headers['cache-control']).toBe('max-age=30, private');
    expect(withoutCost(JSON.parse(withToken.raw.toString()))).toEqual(withoutCost(JSON.parse((await anonymous).raw.toString())));
    expect((await metric()) - joinedBefore).toBe(0);
  });
});
