/**
 * Callers with different roles who speak to SPP as one service account: whatever the gateway shares
 * between callers (identical queries in flight, one execution per subscription event) never lets
 * one caller's answer reach another with other roles (issue 22, items 3 and 6). `availableActions`
 * is what differs: a viewer sees none, an operator what SPP advertises.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/identity/api-keys.js';
import { ADMIN, startHarness, type Harness } from '../support/harness.js';
import { LIVE_ENV, collect, sseClient, until, wsClient } from '../live/support.js';

const VIEWER_KEY = 'viewer-key-shared-identity-0123456789';
const OPERATOR_KEY = 'operator-key-shared-identity-0123456789';
const SECOND_VIEWER_KEY = 'second-viewer-key-shared-identity-0123';
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const QUERY = '{ jobSessions(first: 30, filter: { status: [RUNNING, PENDING, WAITING] }) { nodes { sessionId availableActions } } }';
type Nodes = Array<{ sessionId: string; availableActions: string[] }>;

let h: Harness;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shared-identity-'));
  const file = join(dir, 'keys.yaml');
  const entry = (name: string, key: string, role: string) => `  - name: ${name}\n    sha256: ${sha256Hex(key)}\n    roles: [${role}]\n`;
  writeFileSync(
    file,
    `keys:\n${entry('dashboard', VIEWER_KEY, 'viewer')}${entry('ops-bot', OPERATOR_KEY, 'operator')}${entry('wallboard', SECOND_VIEWER_KEY, 'viewer')}`,
  );
  h = await startHarness({
    sim: { size: 300 },
    env: { ...LIVE_ENV, API_KEYS_FILE: file },
    auth: { mode: 'service-account', serviceAccount: ADMIN, tokens: [], allowAnonymous: false },
  });
});
afterAll(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

const metric = async (name: string) => {
  const text = await (await fetch(h.gateway.url.replace('/graphql', '/metrics'))).text();
  return Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
};

describe('one upstream identity, callers with different roles', () => {
  it('gives a viewer and an operator sending the same query at the same moment each their own availableActions, while each one’s identical requests still share one execution', async () => {
    await h.gql(QUERY, undefined, bearer(OPERATOR_KEY)); // logged in beforehand
    // SPP answering slowly keeps the first request of each caller in flight while the others arrive.
    h.sim.configure({ latency: { fixedMs: 1_500 } });
    const joinedBefore = await metric('graphql_requests_joined_total');
    const senders = [VIEWER_KEY, OPERATOR_KEY, VIEWER_KEY, OPERATOR_KEY, VIEWER_KEY, OPERATOR_KEY];
    const answers = await Promise.all(senders.map((key) => h.gql<{ jobSessions: { nodes: Nodes } }>(QUERY, undefined, bearer(key))));
    h.sim.configure({ latency: { fixedMs: 0 } });

    const cancellable = h.sim
      .list({ filter: [{ property: 'status', value: ['RUNNING', 'PENDING', 'WAITING'], op: 'IN' }] })
      .filter((s) => s.links?.cancel !== undefined);
    expect(cancellable.length).toBeGreaterThan(0);
    senders.forEach((key, i) => {
      const nodes = answers[i]!.body.data!.jobSessions.nodes;
      expect(answers[i]!.status).toBe(200);
      expect(nodes.length).toBeGreaterThan(0);
      if (key === VIEWER_KEY) expect(nodes.every((n) => n.availableActions.length === 0)).toBe(true);
      else expect(nodes.filter((n) => n.availableActions.includes('CANCEL')).length).toBeGreaterThan(0);
    });
    // Sharing still works within a caller: 2 of each caller's 3 requests joined its first.
    expect((await metric('graphql_requests_joined_total')) - joinedBefore).toBe(4);
  });

  it('gives subscribers with different roles on one feed and one document each their own availableActions in every event (WebSocket and SSE)', async () => {
    const EVENTS = 'subscription { jobSessionEvents(filter: { status: [RUNNING] }) { kind sessionId session { availableActions } } }';
    const viewerWs = wsClient(h, bearer(VIEWER_KEY));
    const operatorWs = wsClient(h, bearer(OPERATOR_KEY));
    const viewerSse = sseClient(h, bearer(SECOND_VIEWER_KEY));
    const operatorSse = sseClient(h, bearer(OPERATOR_KEY));
    // The viewer subscribes first: before the fix its execution answered for everyone on the feed.
    const subscribers = [collect(viewerWs, EVENTS), collect(operatorWs, EVENTS), collect(viewerSse, EVENTS), collect(operatorSse, EVENTS)];
    await expect
      .poll(async () => (await h.gateway.metrics.registry.getSingleMetric('live_subscriptions')!.get()).values[0]?.value, { timeout: 15_000 })
      .toBe(4);
    expect(h.gateway.live.registry.size).toBe(1);
    await h.gateway.live.registry.nextPolls();
    const { inserted } = h.sim.step({ insert: 3 });
    const running = inserted.filter((id) => h.sim.get(id)?.status === 'RUNNING');
    expect(running.length).toBeGreaterThan(0);
    await h.gateway.live.registry.nextPolls();
    await until(() => subscribers.every((s) => s.data.filter((d: any) => d.jobSessionEvents.kind === 'ADDED').length >= running.length), 'the ADDED events');

    const added = (i: number) =>
      subscribers[i]!.data.map((d: any) => d.jobSessionEvents).filter((e: any) => e.kind === 'ADDED' && running.includes(e.sessionId));
    for (const viewer of [0, 2]) expect(added(viewer)).toEqual(running.map((sessionId) => ({ kind: 'ADDED', sessionId, session: { availableActions: [] } })));
    for (const operator of [1, 3])
      expect(added(operator)).toEqual(running.map((sessionId) => ({ kind: 'ADDED', sessionId, session: { availableActions: ['CANCEL'] } })));
    for (const s of subscribers) s.stop();
    await Promise.all([viewerWs.dispose(), operatorWs.dispose()]);
    viewerSse.dispose();
    operatorSse.dispose();
  });
});
