/**
 * A subscription lives for hours: what its events carry below the session (`session.job` and its
 * `availableActions`) is read anew for every event, not kept from the first one (issue 22, item 9).
 * One subscriber per transport, each with its own document (so none executes for another).
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, startHarness, type Harness } from '../support/harness.js';
import { LIVE_ENV, collect, sseClient, until, wsClient } from './support.js';

const TOKEN = 'integration-token-for-fresh-nested-data';
const auth = { authorization: `Bearer ${TOKEN}` };
const events = (name: string) => `subscription ${name}($filter: JobSessionFilter) {
  jobSessionEvents(filter: $filter) { kind sessionId session { status job { jobId status availableActions lastRun { sessionId status } } } }
}`;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    sim: { size: 300 },
    auth: { mode: 'service-account', serviceAccount: ADMIN, tokens: [TOKEN], allowAnonymous: false },
    env: { ...LIVE_ENV, GATEWAY_ALLOW_MUTATIONS: 'true' },
  });
});
afterAll(() => h.close());

/** A raw multipart subscription (Apollo's protocol): the payloads received so far. */
function multipart(body: unknown) {
  const url = new URL(h.gateway.url);
  const out = { text: '', data: [] as any[] };
  const req = request(
    {
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'multipart/mixed;subscriptionSpec="1.0", application/json', ...auth },
    },
    (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        out.text += chunk;
        out.data = out.text
          .split('\r\n--graphql')
          .map((part) => part.split('\r\n\r\n')[1])
          .filter((json): json is string => json !== undefined && json.trim().startsWith('{'))
          .map((json) => JSON.parse(json) as { payload?: { data?: unknown } })
          .filter((part) => part.payload?.data)
          .map((part) => part.payload!.data);
      });
    },
  );
  req.on('error', () => undefined);
  req.end(JSON.stringify(body));
  return { out, close: () => void req.destroy() };
}

describe('nested data of long-lived subscriptions', () => {
  it("shows a job's new state in each event on every transport (WebSocket, SSE, multipart): ACTIVE while its session runs, startable again once it settled", async () => {
    const job = h.sim.jobs().find((j) => j.links?.start !== undefined && j.status !== 'ACTIVE')!;
    const filter = { jobId: [job.id] };
    const ws = wsClient(h, auth);
    const sse = sseClient(h, auth);
    const overWs = collect(ws, events('OverWs'), { filter });
    const overSse = collect(sse, events('OverSse'), { filter });
    const overMultipart = multipart({ query: events('OverMultipart'), variables: { filter } });
    await until(() => h.gateway.live.registry.size === 1, 'one feed');
    await expect
      .poll(async () => (await h.gateway.metrics.registry.getSingleMetric('live_subscriptions')!.get()).values[0]?.value, { timeout: 15_000 })
      .toBe(3);
    await h.gateway.live.registry.nextPolls();
    await h.gateway.live.registry.nextPolls();
    const all = () => [overWs.data, overSse.data, overMultipart.out.data];

    // 1: the job starts a session (ADDED): the job is busy, nothing to do on it.
    const started = await h.gql(
      `mutation($input: StartJobInput!) { startJob(input: $input) { jobSession { sessionId } } }`,
      { input: { jobId: job.id } },
      auth,
    );
    const sessionId = started.body.data.startJob.jobSession.sessionId as string;
    await h.gateway.live.registry.nextPolls();
    await until(() => all().every((d) => d.length >= 1), 'the ADDED event');
    // 2: the session is canceled (CHANGED to CANCELING): the job stays busy until it settles.
    await h.gql(`mutation($input: CancelJobSessionInput!) { cancelJobSession(input: $input) { jobSession { status } } }`, { input: { id: sessionId } }, auth);
    await h.gateway.live.registry.nextPolls();
    await until(() => all().every((d) => d.length >= 2), 'the CANCELING event');
    // 3: the simulator settles it (CHANGED to CANCELED): the job is idle and startable again.
    h.sim.step();
    await h.gateway.live.registry.nextPolls();
    await until(() => all().every((d) => d.length >= 3), 'the CANCELED event');

    const settled = h.sim.jobs().find((j) => j.id === job.id)!;
    expect(settled.status).not.toBe('ACTIVE');
    const event = (kind: string, status: string, jobStatus: string, actions: string[]) => ({
      jobSessionEvents: {
        kind,
        sessionId,
        session: { status, job: { jobId: job.id, status: jobStatus, availableActions: actions, lastRun: { sessionId, status } } },
      },
    });
    const expected = [
      event('ADDED', 'RUNNING', 'ACTIVE', []),
      event('CHANGED', 'CANCELING', 'ACTIVE', []),
      event('CHANGED', 'CANCELED', settled.status!, ['START']),
    ];
    expect(overWs.data).toEqual(expected);
    expect(overSse.data).toEqual(expected);
    expect(overMultipart.out.data).toEqual(expected);
    overWs.stop();
    overSse.stop();
    overMultipart.close();
    await ws.dispose();
    sse.dispose();
  });
});
