import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, CATALOG_OPERATOR, basic, startHarness, type Harness } from '../support/harness.js';

const LIST = '{ jobSessions(first: 5) { nodes { sessionId type } } }';

describe('service-account mode with gateway tokens', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      auth: { mode: 'service-account', serviceAccount: ADMIN, tokens: ['token-one-0123456789', 'token-two-9876543210'], allowAnonymous: false },
    });
  });
  afterAll(() => h.close());

  it('answers a caller with one of the configured tokens', async () => {
    for (const token of ['token-one-0123456789', 'token-two-9876543210']) {
      const { status, body } = await h.gql(LIST, undefined, { authorization: `Bearer ${token}` });
      expect(status).toBe(200);
      expect(body.data.jobSessions.nodes).toHaveLength(5);
    }
  });

  it('refuses a missing, wrong or differently-schemed credential with UNAUTHENTICATED and HTTP 401, without calling SPP', async () => {
    h.resetUpstreamCalls();
    for (const headers of [
      {},
      { authorization: 'Bearer token-one-012345678' },
      { authorization: 'Bearer ' },
      basic(ADMIN),
      { authorization: 'Token token-one-0123456789' },
      // One credential per header: a valid token with more after it is not that token.
      { authorization: 'Bearer token-one-0123456789 token-two-9876543210' },
    ]) {
      const { status, body } = await h.gql(LIST, undefined, headers);
      expect(status).toBe(401);
      expect(body.data).toBeNull();
      expect(body.errors).toEqual([expect.objectContaining({ extensions: { code: 'UNAUTHENTICATED' } })]);
    }
    expect(h.upstreamCalls()).toHaveLength(0);
  });

  it('refuses createSession, which only pass-through mode offers', async () => {
    const { body } = await h.gql('mutation { createSession(username: "admin", password: "admin-password") { token } }', undefined, {
      authorization: 'Bearer token-one-0123456789',
    });
    expect(body.errors![0]!.extensions!.code).toBe('FORBIDDEN');
  });
});

describe('pass-through mode', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ auth: { mode: 'pass-through' } });
  });
  afterAll(() => h.close());

  const logins = () => h.sim.requests.filter((r) => r.method === 'POST' && r.path === '/api/endeavour/session');

  it('logs in once for a Basic caller and reuses the SPP session for later requests', async () => {
    h.sim.clearRequests();
    for (let i = 0; i < 3; i++) {
      const { status } = await h.gql(LIST, undefined, basic(ADMIN));
      expect(status).toBe(200);
    }
    expect(logins()).toHaveLength(1);
    expect(h.upstreamCalls().every((c) => c.user === 'admin')).toBe(true);
  });

  it('refuses a wrong password with UNAUTHENTICATED and HTTP 401', async () => {
    const { status, body } = await h.gql(LIST, undefined, basic({ username: 'admin', password: 'wrong' }));
    expect(status).toBe(401);
    expect(body.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    expect(JSON.stringify(body)).not.toContain('wrong');
  });

  it('refuses a request without credentials with UNAUTHENTICATED and HTTP 401', async () => {
    const { status, body } = await h.gql(LIST);
    expect(status).toBe(401);
    expect(body.errors![0]!.message).toMatch(/Authentication required/);
  });

  it('forwards a caller SPP session id as is, and refuses it once SPP has expired it', async () => {
    const login = await fetch(`${h.sim.url}/api/endeavour/session`, { method: 'POST', headers: basic(CATALOG_OPERATOR) });
    const { sessionid } = (await login.json()) as { sessionid: string };
    const ok = await h.gql(LIST, undefined, { 'x-endeavour-sessionid': sessionid });
    expect(ok.status).toBe(200);
    expect(new Set(ok.body.data.jobSessions.nodes.map((n: any) => n.type))).toEqual(new Set(['catalog']));
    h.sim.expireLoginSessions();
    const expired = await h.gql(LIST, undefined, { 'x-endeavour-sessionid': sessionid });
    expect(expired.status).toBe(401);
    expect(expired.body.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    expect(JSON.stringify(expired.body)).not.toContain(sessionid);
  });

  it('keeps a Basic caller working when SPP expires its session in the middle of traffic', async () => {
    await h.gql(LIST, undefined, basic(ADMIN));
    h.sim.clearRequests();
    const traffic = Array.from({ length: 6 }, (_, i) =>
      (async () => {
        if (i === 3) h.sim.expireLoginSessions();
        return h.gql(`{ jobSessions(first: ${i + 1}) { nodes { sessionId } } }`, undefined, basic(ADMIN));
      })(),
    );
    for (const r of await Promise.all(traffic)) expect(r.status).toBe(200);
    h.sim.expireLoginSessions();
    for (let i = 0; i < 3; i++) expect((await h.gql(LIST, undefined, basic(ADMIN))).status).toBe(200);
    expect(logins()).toHaveLength(2);
  });

  it('signs a user in with createSession; the token works as Bearer until deleteSession', async () => {
    const created = await h.gql(
      'mutation { createSession(username: "catalog-operator", password: "catalog-password") { token expiresAt user { name type } } }',
    );
    expect(created.status).toBe(200);
    const session = created.body.data.createSession;
    expect(session).toEqual({
      token: expect.stringMatching(/^v1\.[A-Za-z0-9_-]{60,}$/),
      expiresAt: expect.any(String),
      user: { name: 'catalog-operator', type: 'NATIVE_USER' },
    });
    const minutesLeft = (Date.parse(session.expiresAt) - Date.now()) / 60_000;
    expect(minutesLeft).toBeGreaterThan(40);
    expect(minutesLeft).toBeLessThanOrEqual(45);

    const bearer = { authorization: `Bearer ${session.token}` };
    const list = await h.gql(LIST, undefined, bearer);
    expect(list.status).toBe(200);
    expect(new Set(list.body.data.jobSessions.nodes.map((n: any) => n.type))).toEqual(new Set(['catalog']));

    h.sim.clearRequests();
    const deleted = await h.gql('mutation { deleteSession }', undefined, bearer);
    expect(deleted.body).toEqual({ data: { deleteSession: true } });
    expect(h.sim.requests.filter((r) => r.method === 'DELETE').map((r) => r.status)).toEqual([204]);
    const after = await h.gql(LIST, undefined, bearer);
    expect(after.status).toBe(401);
    expect((await h.gql('mutation { deleteSession }', undefined, bearer)).body).toEqual({ data: { deleteSession: false } });
  });

  it('refuses createSession with wrong credentials with UNAUTHENTICATED', async () => {
    const { status, body } = await h.gql('mutation { createSession(username: "admin", password: "nope") { token } }');
    expect(status).toBe(401);
    expect(body.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
  });
});

describe('isolation between identities', () => {
  let h: Harness;
  beforeAll(async () => {
    // The answer cache is on, so any cache or in-flight sharing across identities would show.
    h = await startHarness({ auth: { mode: 'pass-through' }, env: { SPP_CACHE_TTL_MS: '60000' }, sim: { latency: { fixedMs: 30 } } });
  });
  afterAll(() => h.close());

  it('never serves one user the data of another, even for identical queries at the same moment', async () => {
    const query = '{ jobSessions(first: 50) { totalCount nodes { sessionId type } } jobSession(id: "1564688656142") { type } }';
    const adminAll = h.sim.list({ user: 'admin' });
    const operatorAll = h.sim.list({ user: 'catalog-operator' });
    expect(operatorAll.length).toBeLessThan(adminAll.length);
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          h.gql(query, undefined, basic(i % 2 === 0 ? ADMIN : CATALOG_OPERATOR)).then((r) => ({ user: i % 2 === 0 ? 'admin' : 'operator', ...r })),
        ),
      );
      for (const { user, body } of answers) {
        expect(body.errors).toBeUndefined();
        const types = new Set(body.data.jobSessions.nodes.map((n: any) => n.type));
        if (user === 'admin') {
          expect(body.data.jobSessions.totalCount).toBe(adminAll.length);
          expect(types.size).toBeGreaterThan(1);
        } else {
          expect(body.data.jobSessions.totalCount).toBe(operatorAll.length);
          expect(types).toEqual(new Set(['catalog']));
        }
      }
    }
  });

  it('answers FORBIDDEN for a record the SPP role does not allow', async () => {
    const protection = h.sim.list({ user: 'admin' }).find((s) => s.type === 'protection')!;
    const asOperator = await h.gql(`{ jobSession(id: "${protection.id}") { sessionId } }`, undefined, basic(CATALOG_OPERATOR));
    expect(asOperator.body.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    expect(asOperator.body.data).toEqual({ jobSession: null });
    const asAdmin = await h.gql(`{ jobSession(id: "${protection.id}") { sessionId } }`, undefined, basic(ADMIN));
    expect(asAdmin.body).toEqual({ data: { jobSession: { sessionId: protection.id } } });
  });
});
