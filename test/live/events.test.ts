import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
import { ACTIVE_FILTER, ACTIVE_SPP_FILTER, EVENTS, LIVE_ENV, NEWEST_FIRST, collect, expectedEvents, received, sseClient, until, wsClient } from './support.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ sim: { size: 600 }, env: LIVE_ENV });
});
afterAll(() => h.close());

const active = () => h.sim.list({ filter: ACTIVE_SPP_FILTER, sort: NEWEST_FIRST });

describe('jobSessionEvents', () => {
  it('delivers ADDED, CHANGED and REMOVED exactly as the simulator changed, in order, without duplicates, over WebSocket and SSE', async () => {
    const ws = wsClient(h);
    const sse = sseClient(h);
    const overWs = collect(ws, EVENTS, { filter: ACTIVE_FILTER });
    const overSse = collect(sse, EVENTS, { filter: ACTIVE_FILTER });
    // Both subscribers are on the feed once it has polled its baseline.
    await until(() => h.gateway.live.registry.size === 1);
    await h.gateway.live.registry.nextPolls();
    await h.gateway.live.registry.nextPolls();

    const expected: ReturnType<typeof expectedEvents> = [];
    for (const change of [{ insert: 3 }, { insert: 0 }, { insert: 2, expire: 2 }, { insert: 0 }, { insert: 0 }, { insert: 1 }, { insert: 0 }]) {
      const before = active();
      h.sim.step(change);
      expected.push(...expectedEvents(before, active(), (id) => h.sim.get(id)));
      await h.gateway.live.registry.nextPolls();
      await until(() => overWs.data.length >= expected.length && overSse.data.length >= expected.length, `${expected.length} events`);
    }
    // One more poll: nothing changed, so nothing more may arrive.
    await h.gateway.live.registry.nextPolls();
    const kinds = new Set(expected.map((e) => e.kind));
    expect([...kinds].sort()).toEqual(['ADDED', 'CHANGED', 'REMOVED']);
    expect(received(overWs)).toEqual(expected);
    expect(received(overSse)).toEqual(expected);
    expect(overWs.errors).toEqual([]);
    expect(overSse.errors).toEqual([]);
    overWs.stop();
    overSse.stop();
    await ws.dispose();
    sse.dispose();
    await until(() => h.gateway.live.registry.size === 0, 'the feed stops');
  });

  it('REMOVED carries a null session when SPP expired the session', async () => {
    // A filter whose matches are the oldest sessions, which the simulator expires first.
    const oldest = h.sim.list({ sort: [{ property: 'start', direction: 'ASC' }] }).slice(0, 5);
    const filter = { start: { lte: new Date(oldest.at(-1)!.start).toISOString() } };
    const ws = wsClient(h);
    const events = collect(ws, EVENTS, { filter });
    await until(() => h.gateway.live.registry.size === 1);
    await h.gateway.live.registry.nextPolls();
    const { expired } = h.sim.step({ insert: 0, expire: 2 });
    expect(expired).toEqual(oldest.slice(0, 2).map((s) => s.id));
    await h.gateway.live.registry.nextPolls();
    await until(() => events.data.length >= 2);
    await h.gateway.live.registry.nextPolls();
    expect(events.data.map((d: any) => ({ ...d.jobSessionEvents, at: typeof d.jobSessionEvents.at }))).toEqual(
      [...expired].sort().map((id) => ({
        kind: 'REMOVED',
        sessionId: id,
        session: null,
        previousStatus: h.sim.list().length > 0 ? oldest.find((s) => s.id === id)!.status : null,
        at: 'string',
      })),
    );
    events.stop();
    await ws.dispose();
  });

  it('since delivers first the changes made between a query and the subscription', async () => {
    const listed = await h.gql('query($f: JobSessionFilter) { jobSessions(first: 100, filter: $f) { nodes { sessionId lastUpdate } } }', { f: ACTIVE_FILTER });
    expect(listed.status).toBe(200);
    const nodes = listed.body.data.jobSessions.nodes as Array<{ sessionId: string; lastUpdate: string }>;
    const since = nodes
      .map((n) => n.lastUpdate)
      .sort()
      .at(-1)!;
    const before = active();
    expect(before.map((s) => s.id).sort()).toEqual(nodes.map((n) => n.sessionId).sort());
    h.sim.step({ insert: 2 });
    const after = active();

    const ws = wsClient(h);
    const late = collect(ws, EVENTS, { filter: ACTIVE_FILTER, since });
    // The catch-up: every session SPP changed after `since` (the filter's status condition can
    // change, so all of them), each once in its latest state: still active ones ADDED (started
    // after `since`) or CHANGED, the others REMOVED (they finished in the gap). Oldest first.
    const sinceMs = Date.parse(since);
    const activeNow = new Set(after.map((s) => s.id));
    const changedSince = h.sim
      .list()
      .filter((s) => s.lastUpdate! > sinceMs)
      .sort((a, b) => a.lastUpdate! - b.lastUpdate! || (a.id < b.id ? -1 : 1));
    expect(changedSince.some((s) => !activeNow.has(s.id))).toBe(true);
    await until(() => late.data.length >= changedSince.length, 'the catch-up');
    expect(late.data.map((d: any) => d.jobSessionEvents)).toEqual(
      changedSince.map((session) => ({
        kind: activeNow.has(session.id) ? (session.start > sinceMs ? 'ADDED' : 'CHANGED') : 'REMOVED',
        sessionId: session.id,
        at: new Date(session.lastUpdate!).toISOString(),
        previousStatus: null,
        session: { sessionId: session.id, status: session.status, percent: session.percent, lastUpdate: new Date(session.lastUpdate!).toISOString() },
      })),
    );
    // Then live changes follow, with no replayed event repeated.
    await h.gateway.live.registry.nextPolls();
    const count = late.data.length;
    const beforeStep = active();
    h.sim.step({ insert: 1 });
    const next = expectedEvents(beforeStep, active(), (id) => h.sim.get(id));
    await h.gateway.live.registry.nextPolls();
    await until(() => late.data.length >= count + next.length);
    expect(received(late).slice(count)).toEqual(next);
    late.stop();
    await ws.dispose();
  });
});

describe('jobSessionUpdated', () => {
  it('pushes the session now and at every change, then completes once it reaches a final status', async () => {
    const [id] = h.sim.step({ insert: 1 }).inserted;
    const ws = wsClient(h);
    const updates = collect(ws, 'subscription($id: ID!) { jobSessionUpdated(id: $id) { sessionId status percent end lastUpdate } }', { id });
    await until(() => updates.data.length === 1, 'the current state');
    const seen = [h.sim.get(id!)!];
    for (let i = 0; i < 20 && !updates.completed; i++) {
      h.sim.step({ insert: 0 });
      seen.push(h.sim.get(id!)!);
      await h.gateway.live.registry.nextPolls();
      await until(() => updates.data.length === seen.length || updates.completed);
    }
    await until(() => updates.completed, 'completion');
    expect(updates.data.map((d: any) => d.jobSessionUpdated)).toEqual(
      seen.map((s) => ({
        sessionId: s.id,
        status: s.status,
        percent: s.percent,
        end: s.end ? new Date(s.end).toISOString() : null,
        lastUpdate: new Date(s.lastUpdate!).toISOString(),
      })),
    );
    expect(['COMPLETED', 'PARTIAL', 'FAILED']).toContain(seen.at(-1)!.status);
    await ws.dispose();
  });

  it('fails with BAD_USER_INPUT for a session SPP does not know, and for an id that is not one', async () => {
    const ws = wsClient(h);
    const unknown = collect(ws, 'subscription { jobSessionUpdated(id: "999") { sessionId } }');
    const malformed = collect(ws, 'subscription { jobSessionUpdated(id: "not an id") { sessionId } }');
    await until(() => unknown.results.length > 0 && malformed.results.length > 0);
    expect(unknown.results[0]!.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect(unknown.results[0]!.errors![0]!.message).toMatch(/no job session with id 999/);
    expect(malformed.results[0]!.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    await ws.dispose();
  });

  it('is refused over plain HTTP with a message naming the transports', async () => {
    const response = await h.gql('subscription { jobSessionEvents { kind } }');
    expect(response.status).toBe(400);
    expect(response.body.errors![0]).toMatchObject({ extensions: { code: 'BAD_REQUEST' } });
    expect(response.body.errors![0]!.message).toMatch(/graphql-ws.*graphql-sse/);
  });
});
