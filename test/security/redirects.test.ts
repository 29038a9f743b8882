/**
 * Issue 22: the SPP client follows no redirect. got follows them by default, and a 307 from SPP
 * (or a proxy in front of it) to another host sent the session id there, or re-sent an action's body.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, basic, startHarness, type Harness } from '../support/harness.js';

const LIST = '{ jobSessions(first: 5) { nodes { sessionId } } }';
const CANCEL = `mutation Cancel($input: CancelJobSessionInput!) { cancelJobSession(input: $input) { jobSession { sessionId } } }`;

let h: Harness;
let elsewhere: http.Server;
const arrived: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders }> = [];
let elsewhereHost: string;

beforeAll(async () => {
  // The host a redirect points at: it must never hear from the gateway.
  elsewhere = http.createServer((req, res) => {
    arrived.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"sessions":[],"total":0}');
  });
  await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
  elsewhereHost = `127.0.0.1:${(elsewhere.address() as AddressInfo).port}`;
  h = await startHarness({ sim: { size: 300 }, auth: { mode: 'pass-through' }, env: { SPP_RESPONSE_TIMEOUT_MS: '1500' } });
});
afterAll(async () => {
  await h?.close();
  await new Promise((resolve) => elsewhere.close(resolve));
});

const logged = () =>
  h.logs
    .map((l) => JSON.parse(l) as { msg?: string; upstream?: Record<string, unknown> })
    .filter((l) => l.msg === 'SPP answered with a redirect; not followed');

describe('redirects from SPP', () => {
  it.each([307, 308, 302])('follows a %i on a read nowhere: UPSTREAM_ERROR naming the location host, logged, one request to SPP', async (status) => {
    h.resetUpstreamCalls();
    arrived.length = 0;
    const before = logged().length;
    h.sim.failNext({ kind: 'redirect', status: status as 307, location: `http://${elsewhereHost}/api/endeavour/jobsession?pageSize=5` });
    const { status: httpStatus, body } = await h.gql(LIST, undefined, basic(ADMIN));
    expect(httpStatus).toBe(502);
    expect(body).toEqual({
      data: null,
      errors: [
        {
          message: `SPP answered with an error: HTTP ${status}, a redirect to ${elsewhereHost}, which the gateway does not follow.`,
          path: ['jobSessions'],
          locations: expect.any(Array),
          extensions: { code: 'UPSTREAM_ERROR' },
        },
      ],
    });
    expect(arrived).toEqual([]);
    expect(h.upstreamCalls().map((c) => c.status)).toEqual([status]);
    expect(logged().slice(before)).toEqual([
      expect.objectContaining({ upstream: expect.objectContaining({ name: 'Redirect', status, location: elsewhereHost, method: 'GET' }) }),
    ]);
  });

  it("sends an action's POST once and never re-sends it where a 307 points; the outcome is kept as uncertain", async () => {
    const target = h.sim.list({ user: 'admin' }).find((s) => s.links?.cancel !== undefined)!;
    expect(target).toBeDefined();
    arrived.length = 0;
    h.sim.clearRequests();
    h.sim.failNext({
      kind: 'redirect',
      status: 307,
      location: `http://${elsewhereHost}/api/endeavour/jobsession/${target.id}?action=cancel`,
      method: 'POST',
      path: `/api/endeavour/jobsession/${target.id}`,
    });
    const input = { id: target.id, catalogCompletedObjects: false, clientMutationId: 'redirected-cancel' };
    const first = await h.gql(CANCEL, { input }, basic(ADMIN));
    expect(first.body.errors).toEqual([
      {
        message: `SPP answered with an error: HTTP 307, a redirect to ${elsewhereHost}, which the gateway does not follow.`,
        path: ['cancelJobSession'],
        locations: expect.any(Array),
        extensions: { code: 'UPSTREAM_ERROR' },
      },
    ]);
    const again = await h.gql(CANCEL, { input }, basic(ADMIN));
    expect(again.body.errors).toEqual(first.body.errors);
    expect(arrived).toEqual([]);
    expect(h.sim.requests.filter((r) => r.method === 'POST' && r.path !== '/api/endeavour/session').map((r) => r.status)).toEqual([307]);
  });

  it('refuses a redirect on login too: the credentials go nowhere else', async () => {
    arrived.length = 0;
    h.sim.failNext({
      kind: 'redirect',
      status: 307,
      location: `http://${elsewhereHost}/api/endeavour/session`,
      method: 'POST',
      path: '/api/endeavour/session',
    });
    const other = { username: 'catalog-operator', password: 'catalog-password' };
    const { body } = await h.gql(LIST, undefined, basic(other));
    expect(body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_ERROR');
    expect(body.errors?.[0]?.message).toContain(elsewhereHost);
    expect(arrived).toEqual([]);
  });
});
