import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, startHarness, type Harness } from '../support/harness.js';
import { LIVE_ENV, collect, sseClient, until, wsClient } from '../live/support.js';

const TOKEN = 'integration-token-for-live-actions';
const EVENTS = `subscription Events($filter: JobSessionFilter) {
  jobSessionEvents(filter: $filter) { kind sessionId previousStatus session { sessionId jobId status availableActions } }
}`;

describe('actions seen by subscribers', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      sim: { size: 300 },
      auth: { mode: 'service-account', serviceAccount: ADMIN, tokens: [TOKEN], allowAnonymous: false },
      env: { ...LIVE_ENV, GATEWAY_ALLOW_MUTATIONS: 'true' },
    });
  });
  afterAll(() => h.close());

  it('pushes a session started by startJob as ADDED, and its cancel as CHANGED to CANCELING, over WebSocket and SSE', async () => {
    const job = h.sim.jobs().find((j) => j.links?.start !== undefined)!;
    const auth = { authorization: `Bearer ${TOKEN}` };
    const ws = wsClient(h, { authorization: `Bearer ${TOKEN}` });
    const sse = sseClient(h, auth);
    const overWs = collect(ws, EVENTS, { filter: { jobId: [job.id] } });
    const overSse = collect(sse, EVENTS, { filter: { jobId: [job.id] } });
    await until(() => h.gateway.live.registry.size === 1, 'one feed');
    await h.gateway.live.registry.nextPolls();
    await h.gateway.live.registry.nextPolls();

    const started = await h.gql(
      `mutation($input: StartJobInput!) { startJob(input: $input) { jobSession { sessionId } } }`,
      { input: { jobId: job.id } },
      auth,
    );
    const sessionId = started.body.data.startJob.jobSession.sessionId as string;
    await h.gateway.live.registry.nextPolls();
    const added = { kind: 'ADDED', sessionId, previousStatus: null, session: { sessionId, jobId: job.id, status: 'RUNNING', availableActions: ['CANCEL'] } };
    await until(() => overWs.data.length >= 1 && overSse.data.length >= 1, 'the ADDED event');

    await h.gql(`mutation($input: CancelJobSessionInput!) { cancelJobSession(input: $input) { jobSession { status } } }`, { input: { id: sessionId } }, auth);
    await h.gateway.live.registry.nextPolls();
    const changed = { kind: 'CHANGED', sessionId, previousStatus: 'RUNNING', session: { sessionId, jobId: job.id, status: 'CANCELING', availableActions: [] } };
    await until(() => overWs.data.length >= 2 && overSse.data.length >= 2, 'the CHANGED event');

    expect(overWs.data.map((d: any) => d.jobSessionEvents)).toEqual([added, changed]);
    expect(overSse.data.map((d: any) => d.jobSessionEvents)).toEqual([added, changed]);
    overWs.stop();
    overSse.stop();
    await ws.dispose();
    sse.dispose();
  });

  it('never runs a mutation over a subscription transport: neither an event-stream GET nor a WebSocket acts', async () => {
    h.sim.step({ insert: 5 });
    const target = h.sim.list({ user: 'admin' }).find((s) => s.links?.cancel !== undefined)!;
    const auth = { authorization: `Bearer ${TOKEN}` };
    const mutation = `mutation { cancelJobSession(input: { id: "${target.id}" }) { jobSession { status } } }`;
    h.resetUpstreamCalls();
    const url = `${h.gateway.url}?query=${encodeURIComponent(mutation)}`;
    const forged = await fetch(url, { headers: { ...auth, accept: 'text/event-stream' } });
    expect(forged.status).toBe(400);
    expect(await forged.text()).toContain('CSRF prevention');
    const get = await fetch(url, { headers: { ...auth, accept: 'text/event-stream', 'apollo-require-preflight': 'true' } });
    expect(get.status).toBe(400);
    expect(await get.text()).toContain('Mutations are not accepted over a subscription transport');
    const ws = wsClient(h, auth);
    const overWs = collect(ws, mutation);
    await until(() => overWs.errors.length > 0 || overWs.results.length > 0, 'the refusal');
    expect(JSON.stringify(overWs.errors)).toContain('Mutations are not accepted over a subscription transport');
    await ws.dispose();
    expect(h.sim.requests.filter((r) => r.method === 'POST' && r.path !== '/api/endeavour/session')).toEqual([]);
    expect(h.sim.get(target.id)!.status).toBe(target.status);
  });
});
