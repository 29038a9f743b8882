import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, basic, CATALOG_OPERATOR, startHarness, type Harness } from '../support/harness.js';
import { toGlobalId } from '../../src/resolvers/global-id.js';
import type { SppJobSession } from '../../src/spp-api/types.js';

/** The answer as JSON: these tests assert whole shapes, errors included. */
const gql = (h: Harness, query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<{ status: number; body: any }> =>
  h.gql(query, variables, headers);

const MONITOR = { username: 'monitor', password: 'monitor-password' };
const ADMIN_AUTH = basic(ADMIN);

const CANCEL = `mutation Cancel($input: CancelJobSessionInput!) {
  cancelJobSession(input: $input) { clientMutationId jobSession { id sessionId status statusRaw availableActions } }
}`;
const START = `mutation Start($input: StartJobInput!) {
  startJob(input: $input) { clientMutationId job { id jobId availableActions } jobSession { id sessionId jobId status subPolicyType availableActions } }
}`;
const RERUN = `mutation Rerun($input: RerunJobSessionInput!) {
  rerunJobSession(input: $input) { clientMutationId jobSession { id sessionId } newJobSession { id sessionId jobId status subPolicyType } }
}`;
const EXPIRE = `mutation Expire($input: ExpireJobSessionInput!) {
  expireJobSession(input: $input) { clientMutationId expiredJobSessionId jobSession { id sessionId expired } }
}`;

/** The action POSTs SPP received (logins are POSTs too, and are not actions). */
const actionPosts = (h: Harness) => h.sim.requests.filter((r) => r.method === 'POST' && r.path !== '/api/endeavour/session');
const upstreamOf = (h: Harness) => h.sim.requests.filter((r) => r.path !== '/api/endeavour/session').map((r) => `${r.method} ${r.path}`);
const auditLines = (h: Harness) =>
  h.logs
    .map((l) => JSON.parse(l))
    .filter((l) => l.audit)
    .map((l) => l.audit);

/** Sessions as admin sees them, by what actions they advertise. */
function sessions(h: Harness, test: (s: SppJobSession) => boolean): SppJobSession[] {
  return h.sim.list({ user: 'admin' }).filter(test);
}
/** At least two cancelable sessions (of `type`): live steps add new sessions until there are. */
function running(h: Harness, type?: string): SppJobSession[] {
  for (let i = 0; ; i++) {
    const found = sessions(h, (s) => s.links?.cancel !== undefined && (type === undefined || s.type === type));
    if (found.length >= 2 || i === 20) return found;
    h.sim.step({ insert: 10 });
  }
}

describe('actions in pass-through mode: SPP roles decide', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ sim: { size: 600 }, auth: { mode: 'pass-through' }, env: { SPP_RESPONSE_TIMEOUT_MS: '1500' } });
  });
  afterAll(() => h.close());

  it('cancels a running session: one read and one POST, 201 with the session now CANCELING, CANCELED after the next live step', async () => {
    const target = running(h, 'protection')[0]!;
    h.resetUpstreamCalls();
    const { status, body } = await gql(h, CANCEL, { input: { id: target.id, clientMutationId: 'c-1' } }, ADMIN_AUTH);
    expect(status).toBe(200);
    expect(body).toEqual({
      data: {
        cancelJobSession: {
          clientMutationId: 'c-1',
          jobSession: { id: toGlobalId('JobSession', target.id), sessionId: target.id, status: 'CANCELING', statusRaw: 'CANCELING', availableActions: [] },
        },
      },
    });
    expect(upstreamOf(h)).toEqual([`GET /api/endeavour/jobsession/${target.id}`, `POST /api/endeavour/jobsession/${target.id}`]);
    expect(actionPosts(h)[0]).toMatchObject({ query: { action: 'cancel' }, status: 201, user: 'admin' });
    h.sim.step({ insert: 0 });
    expect(h.sim.get(target.id)!.status).toBe('CANCELED');
  });

  it('answers a repeated clientMutationId with the first result and calls SPP once, concurrent or later', async () => {
    const target = running(h, 'protection')[0]!;
    h.resetUpstreamCalls();
    const input = { id: toGlobalId('JobSession', target.id), clientMutationId: 'double-click-1' };
    const [a, b] = await Promise.all([gql(h, CANCEL, { input }, ADMIN_AUTH), gql(h, CANCEL, { input }, ADMIN_AUTH)]);
    const later = await gql(h, CANCEL, { input }, ADMIN_AUTH);
    expect(a.body.data.cancelJobSession.jobSession.status).toBe('CANCELING');
    expect(b.body).toEqual(a.body);
    expect(later.body).toEqual(a.body);
    expect(actionPosts(h)).toHaveLength(1);
    expect(
      auditLines(h)
        .filter((l) => l.clientMutationId === 'double-click-1')
        .map((l) => l.outcome)
        .sort(),
    ).toEqual(['ok', 'replayed', 'replayed']);
  });

  it('acts once on a double-click without a clientMutationId', async () => {
    const target = running(h, 'protection')[0]!;
    h.resetUpstreamCalls();
    const input = { id: target.id };
    const [a, b] = await Promise.all([gql(h, CANCEL, { input }, ADMIN_AUTH), gql(h, CANCEL, { input }, ADMIN_AUTH)]);
    expect(b.body).toEqual(a.body);
    expect(a.body.data.cancelJobSession.jobSession.status).toBe('CANCELING');
    expect(actionPosts(h)).toHaveLength(1);
  });

  it('refuses a clientMutationId reused for another input, without calling SPP', async () => {
    const [first, second] = running(h, 'protection');
    await gql(h, CANCEL, { input: { id: first!.id, clientMutationId: 'reused' } }, ADMIN_AUTH);
    h.resetUpstreamCalls();
    const { body } = await gql(h, CANCEL, { input: { id: second!.id, clientMutationId: 'reused' } }, ADMIN_AUTH);
    expect(body.errors[0].extensions.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(body.errors[0].message).toContain('"reused"');
    expect(upstreamOf(h)).toEqual([]);
    expect(h.sim.get(second!.id)!.status).not.toBe('CANCELING');
  });

  it('keys clientMutationIds per caller: the same id from another SPP user acts on its own', async () => {
    const catalog = running(h, 'catalog')[0]!;
    const operator = await gql(h, CANCEL, { input: { id: catalog.id, clientMutationId: 'shared-id' } }, basic(CATALOG_OPERATOR));
    const backup = running(h, 'protection')[0]!;
    const admin = await gql(h, CANCEL, { input: { id: backup.id, clientMutationId: 'shared-id' } }, ADMIN_AUTH);
    expect(operator.body.data.cancelJobSession.jobSession).toMatchObject({ sessionId: catalog.id, status: 'CANCELING' });
    expect(admin.body.data.cancelJobSession.jobSession).toMatchObject({ sessionId: backup.id, status: 'CANCELING' });
  });

  it('refuses an action SPP does not advertise on the session, listing what it does, with one read and no POST', async () => {
    const done = sessions(h, (s) => s.status === 'COMPLETED' && s.links?.expire !== undefined && s.links?.rerun === undefined)[0]!;
    h.resetUpstreamCalls();
    const { status, body } = await gql(h, CANCEL, { input: { id: done.id } }, ADMIN_AUTH);
    expect(status).toBe(409);
    expect(body.errors).toEqual([
      {
        message: `SPP does not offer CANCEL on job session ${done.id} now; available: EXPIRE. SPP was not asked.`,
        path: ['cancelJobSession'],
        locations: expect.any(Array),
        extensions: { code: 'ACTION_NOT_AVAILABLE', action: 'CANCEL', available: ['EXPIRE'] },
      },
    ]);
    expect(upstreamOf(h)).toEqual([`GET /api/endeavour/jobsession/${done.id}`]);
  });

  it("turns SPP's state refusal into CONFLICT with SPP's reason, never its body", async () => {
    const target = running(h, 'protection')[0]!;
    h.sim.failNext({
      kind: 'status',
      status: 409,
      method: 'POST',
      path: `/api/endeavour/jobsession/${target.id}`,
      body: { id: 'XSBInvalidStateException', description: `Job session ${target.id} is already finishing. See https://spp.example.invalid/help.` },
    });
    const { status, body } = await gql(h, CANCEL, { input: { id: target.id } }, ADMIN_AUTH);
    expect(status).toBe(409);
    expect(body.errors[0].extensions).toEqual({ code: 'CONFLICT', action: 'cancel', reason: `Job session ${target.id} is already finishing. See [url]` });
    expect(body.errors[0].message).toBe(`SPP refused to cancel job session ${target.id}: Job session ${target.id} is already finishing. See [url].`);
    expect(JSON.stringify(body)).not.toContain('XSBInvalidStateException');
  });

  it('never retries an action: a 503 and a timeout each cost one POST, and the same clientMutationId does not act again', async () => {
    const [a, b] = running(h, 'protection');
    h.resetUpstreamCalls();
    h.sim.failNext({ kind: 'status', status: 503, method: 'POST', path: `/api/endeavour/jobsession/${a!.id}` });
    const unavailable = await gql(h, CANCEL, { input: { id: a!.id, clientMutationId: 'retry-503' } }, ADMIN_AUTH);
    expect(unavailable.body.errors[0].extensions.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(unavailable.body.errors[0].message).toContain('it may or may not have acted');
    h.sim.failNext({ kind: 'hang', method: 'POST', path: `/api/endeavour/jobsession/${b!.id}` });
    const timeout = await gql(h, CANCEL, { input: { id: b!.id, clientMutationId: 'retry-timeout' } }, ADMIN_AUTH);
    expect(timeout.body.errors[0].extensions.code).toBe('UPSTREAM_TIMEOUT');
    const again = await gql(h, CANCEL, { input: { id: b!.id, clientMutationId: 'retry-timeout' } }, ADMIN_AUTH);
    expect(again.body.errors[0]).toEqual(timeout.body.errors[0]);
    expect(actionPosts(h).map((r) => r.path)).toEqual([`/api/endeavour/jobsession/${a!.id}`, `/api/endeavour/jobsession/${b!.id}`]);
  });

  it('does not keep a refusal: after SPP refused, the same clientMutationId asks again and acts', async () => {
    const target = running(h, 'protection')[0]!;
    h.sim.failNext({ kind: 'status', status: 409, method: 'POST', path: `/api/endeavour/jobsession/${target.id}` });
    h.resetUpstreamCalls();
    const refused = await gql(h, CANCEL, { input: { id: target.id, clientMutationId: 'refused-then-ok' } }, ADMIN_AUTH);
    expect(refused.body.errors[0].extensions.code).toBe('CONFLICT');
    const retried = await gql(h, CANCEL, { input: { id: target.id, clientMutationId: 'refused-then-ok' } }, ADMIN_AUTH);
    expect(retried.body.data.cancelJobSession.jobSession.status).toBe('CANCELING');
    expect(actionPosts(h).map((r) => r.status)).toEqual([409, 201]);
  });

  it("maps SPP's 403 and 404 to the action's POST to FORBIDDEN and NOT_FOUND, without SPP's body", async () => {
    const [a, b] = running(h, 'protection');
    for (const [target, status, code] of [
      [a!, 403, 'FORBIDDEN'],
      [b!, 404, 'NOT_FOUND'],
    ] as const) {
      h.sim.failNext({
        kind: 'status',
        status,
        method: 'POST',
        path: `/api/endeavour/jobsession/${target.id}`,
        body: { id: 'XSBSecretException', description: 'internal detail' },
      });
      const { status: http, body } = await gql(h, CANCEL, { input: { id: target.id } }, ADMIN_AUTH);
      expect(http).toBe(status);
      expect(body.errors[0].extensions).toEqual({ code });
      expect(JSON.stringify(body)).not.toMatch(/XSBSecretException|internal detail/);
    }
  });

  it("maps SPP's role refusal to FORBIDDEN: the catalog operator cannot cancel a backup", async () => {
    const backup = running(h, 'protection')[0]!;
    h.resetUpstreamCalls();
    const { status, body } = await gql(h, CANCEL, { input: { id: backup.id } }, basic(CATALOG_OPERATOR));
    expect(status).toBe(403);
    expect(body.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(actionPosts(h)).toHaveLength(0);
    expect(h.sim.get(backup.id)!.status).toBe(backup.status);
  });

  it('shows a read-only SPP role no actions, and refuses its mutations without a POST', async () => {
    const target = running(h, 'protection')[0]!;
    const read = await gql(h, `query($id: ID!) { jobSession(id: $id) { availableActions } }`, { id: target.id }, basic(MONITOR));
    const asAdmin = await gql(h, `query($id: ID!) { jobSession(id: $id) { availableActions } }`, { id: target.id }, ADMIN_AUTH);
    expect(read.body.data.jobSession.availableActions).toEqual([]);
    expect(asAdmin.body.data.jobSession.availableActions).toEqual(['CANCEL']);
    h.resetUpstreamCalls();
    const { body } = await gql(h, CANCEL, { input: { id: target.id } }, basic(MONITOR));
    expect(body.errors[0].extensions).toMatchObject({ code: 'ACTION_NOT_AVAILABLE', available: [] });
    expect(actionPosts(h)).toHaveLength(0);
  });

  it('maps an unknown session to NOT_FOUND and a malformed id to BAD_USER_INPUT, without a POST', async () => {
    h.resetUpstreamCalls();
    const missing = await gql(h, CANCEL, { input: { id: '999999' } }, ADMIN_AUTH);
    expect(missing.body.errors[0].extensions.code).toBe('NOT_FOUND');
    const malformed = await gql(h, CANCEL, { input: { id: 'not an id' } }, ADMIN_AUTH);
    expect(malformed.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'input.id' });
    expect(actionPosts(h)).toHaveLength(0);
  });

  it("starts an SLA job with its schema's default actionname and returns the new RUNNING session, seen by jobSessions too", async () => {
    const job = h.sim.jobs().find((j) => j.type === 'protection' && j.links?.start?.schema !== undefined)!;
    h.resetUpstreamCalls();
    const { body } = await gql(h, START, { input: { jobId: job.id, clientMutationId: 's-1' } }, ADMIN_AUTH);
    expect(body.errors).toBeUndefined();
    const created = body.data.startJob.jobSession;
    expect(body.data.startJob).toEqual({
      clientMutationId: 's-1',
      job: { id: toGlobalId('Job', job.id), jobId: job.id, availableActions: [] },
      jobSession: {
        id: toGlobalId('JobSession', created.sessionId),
        sessionId: created.sessionId,
        jobId: job.id,
        status: 'RUNNING',
        subPolicyType: 'BACKUP',
        availableActions: ['CANCEL'],
      },
    });
    expect(upstreamOf(h)).toEqual([
      `GET /api/endeavour/job/${job.id}`,
      `GET /api/endeavour/job/${job.id}`,
      `POST /api/endeavour/job/${job.id}`,
      'GET /api/endeavour/jobsession',
    ]);
    expect(actionPosts(h)[0]!.query).toMatchObject({ action: 'start' });
    const listed = await gql(
      h,
      `query($f: JobSessionFilter) { jobSessions(first: 1, filter: $f) { nodes { sessionId status } } }`,
      { f: { jobId: [job.id] } },
      ADMIN_AUTH,
    );
    expect(listed.body.data.jobSessions.nodes).toEqual([{ sessionId: created.sessionId, status: 'RUNNING' }]);
  });

  it('starts an SLA job with a named actionname, and refuses an unknown one listing the valid names, without a POST', async () => {
    const job = h.sim.jobs().find((j) => j.type === 'protection' && j.links?.start?.schema !== undefined && j.status !== 'ACTIVE')!;
    h.resetUpstreamCalls();
    const unknown = await gql(h, START, { input: { jobId: job.id, actionName: 'Platinum' } }, ADMIN_AUTH);
    expect(unknown.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'actionName' });
    expect(unknown.body.errors[0].message).toMatch(/^Argument "actionName" must be one of "Backup", .*got "Platinum"\.$/);
    expect(actionPosts(h)).toHaveLength(0);
    const named = await gql(h, START, { input: { jobId: job.id, actionName: 'Replication' } }, ADMIN_AUTH);
    expect(named.body.data.startJob.jobSession).toMatchObject({ status: 'RUNNING', subPolicyType: 'REPLICATION' });
  });

  it('starts a job without a schema; a running job offers no START', async () => {
    const job = h.sim.jobs().find((j) => j.links?.start !== undefined && j.links.start.schema === undefined)!;
    const started = await gql(h, START, { input: { jobId: toGlobalId('Job', job.id), actionName: 'start' } }, ADMIN_AUTH);
    expect(started.body.data.startJob.jobSession).toMatchObject({ jobId: job.id, status: 'RUNNING' });
    h.resetUpstreamCalls();
    const again = await gql(h, START, { input: { jobId: job.id } }, ADMIN_AUTH);
    expect(again.body.errors[0].extensions).toMatchObject({ code: 'ACTION_NOT_AVAILABLE', available: [] });
    expect(actionPosts(h)).toHaveLength(0);
  });

  it('reruns a failed session: a new RUNNING session of the same job and sub-policy', async () => {
    const failed = sessions(h, (s) => s.links?.rerun !== undefined && !h.sim.jobs().find((j) => j.id === s.jobId && j.status === 'ACTIVE'))[0]!;
    h.resetUpstreamCalls();
    const { body } = await gql(h, RERUN, { input: { id: failed.id } }, ADMIN_AUTH);
    expect(body.errors).toBeUndefined();
    expect(body.data.rerunJobSession.jobSession).toEqual({ id: toGlobalId('JobSession', failed.id), sessionId: failed.id });
    expect(body.data.rerunJobSession.newJobSession).toMatchObject({ jobId: failed.jobId, status: 'RUNNING', subPolicyType: failed.subPolicyType });
    expect(body.data.rerunJobSession.newJobSession.sessionId).not.toBe(failed.id);
    expect(actionPosts(h)).toHaveLength(1);
  });

  it('expires a finished session: SPP forgets it and its log', async () => {
    const done = sessions(h, (s) => s.status === 'COMPLETED' && s.links?.expire !== undefined)[1]!;
    expect(h.sim.logOf(done.id).length).toBeGreaterThan(0);
    const { body } = await gql(h, EXPIRE, { input: { id: done.id, clientMutationId: 'e-1' } }, ADMIN_AUTH);
    expect(body).toEqual({
      data: {
        expireJobSession: {
          clientMutationId: 'e-1',
          expiredJobSessionId: toGlobalId('JobSession', done.id),
          jobSession: { id: toGlobalId('JobSession', done.id), sessionId: done.id, expired: true },
        },
      },
    });
    expect(h.sim.get(done.id)).toBeUndefined();
    expect(h.sim.logOf(done.id)).toEqual([]);
  });

  it('writes one audit line per action with the actor, action, object, outcome and request id, and nothing secret', async () => {
    const target = running(h, 'protection')[0]!;
    const before = auditLines(h).length;
    await gql(h, CANCEL, { input: { id: target.id, clientMutationId: 'audited' } }, ADMIN_AUTH);
    const lines = auditLines(h).slice(before);
    expect(lines).toEqual([
      { actor: 'admin', consumer: 'admin', action: 'CANCEL', objectId: target.id, outcome: 'ok', requestId: expect.any(String), clientMutationId: 'audited' },
    ]);
    const text = h.logs.join('\n');
    expect(text).not.toContain(ADMIN.password);
    expect(text).not.toContain(ADMIN_AUTH.authorization.split(' ')[1]);
  });

  it('never runs a mutation from a GET, nor from a form post (CSRF)', async () => {
    const target = running(h, 'protection')[0]!;
    h.resetUpstreamCalls();
    const query = `mutation { cancelJobSession(input: { id: "${target.id}" }) { jobSession { status } } }`;
    const get = await fetch(`${h.gateway.url}?query=${encodeURIComponent(query)}`, { headers: { ...ADMIN_AUTH, 'apollo-require-preflight': 'true' } });
    expect(get.status).toBe(405);
    const form = await fetch(h.gateway.url, { method: 'POST', headers: { ...ADMIN_AUTH, 'content-type': 'text/plain' }, body: JSON.stringify({ query }) });
    expect(form.status).toBe(400);
    expect(upstreamOf(h)).toEqual([]);
    expect(h.sim.get(target.id)!.status).toBe(target.status);
  });
});

describe('actions in service-account mode', () => {
  const TOKEN = 'integration-token-for-actions';
  let closed: Harness;
  let open: Harness;
  beforeAll(async () => {
    const auth = { mode: 'service-account' as const, serviceAccount: ADMIN, tokens: [TOKEN], allowAnonymous: true };
    closed = await startHarness({ sim: { size: 300 }, auth });
    open = await startHarness({ sim: { size: 300 }, auth, env: { GATEWAY_ALLOW_MUTATIONS: 'true', ACTION_SESSION_WAIT_MS: '0' } });
  });
  afterAll(async () => {
    await closed.close();
    await open.close();
  });

  it('refuses mutations by default with FORBIDDEN, before any upstream call', async () => {
    const target = running(closed)[0]!;
    closed.resetUpstreamCalls();
    const { status, body } = await gql(closed, CANCEL, { input: { id: target.id } }, { authorization: `Bearer ${TOKEN}` });
    expect(status).toBe(403);
    expect(body.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(body.errors[0].message).toContain('GATEWAY_ALLOW_MUTATIONS');
    expect(upstreamOf(closed)).toEqual([]);
    expect(auditLines(closed).at(-1)).toMatchObject({ actor: expect.stringMatching(/^gateway-token:/), outcome: 'refused', code: 'FORBIDDEN' });
  });

  it('advertises no actions to callers it would refuse: anonymous ones, and everyone while GATEWAY_ALLOW_MUTATIONS is off', async () => {
    const read = `query($id: ID!, $job: ID!) { jobSession(id: $id) { availableActions } job(id: $job) { availableActions } }`;
    const target = running(open)[0]!;
    const job = open.sim.jobs().find((j) => j.links?.start !== undefined)!;
    const token = { authorization: `Bearer ${TOKEN}` };
    expect((await gql(open, read, { id: target.id, job: job.id }, token)).body.data).toEqual({
      jobSession: { availableActions: ['CANCEL'] },
      job: { availableActions: ['START'] },
    });
    expect((await gql(open, read, { id: target.id, job: job.id })).body.data).toEqual({ jobSession: { availableActions: [] }, job: { availableActions: [] } });
    const closedJob = closed.sim.jobs().find((j) => j.links?.start !== undefined)!;
    expect((await gql(closed, read, { id: running(closed)[0]!.id, job: closedJob.id }, token)).body.data).toEqual({
      jobSession: { availableActions: [] },
      job: { availableActions: [] },
    });
  });

  it('acts for a token holder with GATEWAY_ALLOW_MUTATIONS=true, never for an anonymous caller', async () => {
    const target = running(open)[0]!;
    open.resetUpstreamCalls();
    const anonymous = await gql(open, CANCEL, { input: { id: target.id } });
    expect(anonymous.body.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(upstreamOf(open)).toEqual([]);
    const allowed = await gql(open, CANCEL, { input: { id: target.id } }, { authorization: `Bearer ${TOKEN}` });
    expect(allowed.body.data.cancelJobSession.jobSession.status).toBe('CANCELING');
    expect(actionPosts(open)).toHaveLength(1);
  });

  it('returns the started job with jobSession null when the session is not looked for (ACTION_SESSION_WAIT_MS=0)', async () => {
    const job = open.sim.jobs().find((j) => j.links?.start !== undefined)!;
    open.resetUpstreamCalls();
    const { body } = await gql(open, START, { input: { jobId: job.id } }, { authorization: `Bearer ${TOKEN}` });
    expect(body.data.startJob).toMatchObject({ job: { jobId: job.id, availableActions: [] }, jobSession: null });
    expect(upstreamOf(open).filter((c) => c.startsWith('GET /api/endeavour/jobsession'))).toEqual([]);
    expect(open.sim.list({ filter: [{ property: 'jobId', value: job.id, op: '=' }] }).some((s) => s.status === 'RUNNING')).toBe(true);
  });
});

describe('actions and the upstream answer cache', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ sim: { size: 300 }, auth: { mode: 'pass-through' }, env: { SPP_CACHE_TTL_MS: '60000' } });
  });
  afterAll(() => h.close());

  it('reads the object fresh for every action: a cached RUNNING session never lets a second cancel through', async () => {
    const target = running(h)[0]!;
    const read = `query($id: ID!) { jobSession(id: $id) { status availableActions } }`;
    expect((await gql(h, read, { id: target.id }, ADMIN_AUTH)).body.data.jobSession.availableActions).toEqual(['CANCEL']);
    h.resetUpstreamCalls();
    // Answered from the cache: no upstream call.
    expect((await gql(h, read, { id: target.id }, ADMIN_AUTH)).body.data.jobSession.status).toBe(target.status);
    expect(upstreamOf(h)).toEqual([]);
    const first = await gql(h, CANCEL, { input: { id: target.id, clientMutationId: 'fresh-1' } }, ADMIN_AUTH);
    const second = await gql(h, CANCEL, { input: { id: target.id, clientMutationId: 'fresh-2' } }, ADMIN_AUTH);
    expect(first.body.data.cancelJobSession.jobSession.status).toBe('CANCELING');
    expect(second.body.errors[0].extensions).toMatchObject({ code: 'ACTION_NOT_AVAILABLE', available: [] });
    expect(upstreamOf(h)).toEqual([
      `GET /api/endeavour/jobsession/${target.id}`,
      `POST /api/endeavour/jobsession/${target.id}`,
      `GET /api/endeavour/jobsession/${target.id}`,
    ]);
  });
});

describe('looking for the session a start created', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ sim: { size: 300 }, auth: { mode: 'pass-through' }, env: { ACTION_SESSION_WAIT_MS: '600' } });
  });
  afterAll(() => h.close());

  it('gives up after ACTION_SESSION_WAIT_MS with jobSession null when the session cannot be read, and the start still happened once', async () => {
    const job = h.sim.jobs().find((j) => j.links?.start !== undefined)!;
    // Every read of the session list fails (500 is not retried): the start itself is untouched.
    h.sim.failNext(...Array.from({ length: 20 }, () => ({ kind: 'status' as const, status: 500, method: 'GET', path: '/api/endeavour/jobsession' })));
    h.resetUpstreamCalls();
    const { body } = await gql(h, START, { input: { jobId: job.id, clientMutationId: 'slow-1' } }, ADMIN_AUTH);
    expect(body.errors).toBeUndefined();
    expect(body.data.startJob).toMatchObject({ clientMutationId: 'slow-1', job: { jobId: job.id }, jobSession: null });
    const polls = upstreamOf(h).filter((c) => c === 'GET /api/endeavour/jobsession');
    expect(polls.length).toBeGreaterThanOrEqual(1);
    expect(polls.length).toBeLessThanOrEqual(4);
    expect(actionPosts(h)).toHaveLength(1);
    expect(auditLines(h).at(-1)).toMatchObject({ action: 'START', objectId: job.id, outcome: 'ok' });
  });
});
