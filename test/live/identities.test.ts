import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, CATALOG_OPERATOR, startHarness, type Harness } from '../support/harness.js';
import { ACTIVE_FILTER, ACTIVE_SPP_FILTER, EVENTS, LIVE_ENV, NEWEST_FIRST, collect, expectedEvents, received, sseClient, until, wsClient } from './support.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ sim: { size: 600 }, env: LIVE_ENV, auth: { mode: 'pass-through' } });
});
afterAll(() => h.close());

const basic = (user: { username: string; password: string }) => `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;

describe('identities', () => {
  it('gives two users with different SPP roles on the same filter each exactly what their role sees', async () => {
    const admin = wsClient(h, { authorization: basic(ADMIN) });
    const operator = sseClient(h, { authorization: basic(CATALOG_OPERATOR) });
    const adminEvents = collect(admin, EVENTS, { filter: ACTIVE_FILTER });
    const operatorEvents = collect(operator, EVENTS, { filter: ACTIVE_FILTER });
    await until(() => h.gateway.live.registry.size === 2, 'one poller per identity');
    await h.gateway.live.registry.nextPolls();

    const view = (user: string) => h.sim.list({ filter: ACTIVE_SPP_FILTER, sort: NEWEST_FIRST, user });
    const expected = { admin: [] as ReturnType<typeof expectedEvents>, operator: [] as ReturnType<typeof expectedEvents> };
    for (let i = 0; i < 6; i++) {
      const before = { admin: view('admin'), operator: view('catalog-operator') };
      h.sim.step({ insert: 4 });
      expected.admin.push(...expectedEvents(before.admin, view('admin'), (id) => h.sim.get(id)));
      expected.operator.push(...expectedEvents(before.operator, view('catalog-operator'), (id) => h.sim.get(id)));
      await h.gateway.live.registry.nextPolls();
      await until(() => adminEvents.data.length >= expected.admin.length && operatorEvents.data.length >= expected.operator.length);
    }
    await h.gateway.live.registry.nextPolls();
    expect(received(adminEvents)).toEqual(expected.admin);
    expect(received(operatorEvents)).toEqual(expected.operator);
    // The operator saw catalog sessions change, and nothing else; the admin saw more than that.
    const typeOf = (id: string) => h.sim.get(id)?.type;
    expect(expected.operator.length).toBeGreaterThan(0);
    expect(new Set(received(operatorEvents).map((e) => typeOf(e.sessionId)))).toEqual(new Set(['catalog']));
    expect(received(adminEvents).some((e) => typeOf(e.sessionId) !== 'catalog')).toBe(true);
    adminEvents.stop();
    operatorEvents.stop();
    await admin.dispose();
    operator.dispose();
  });
});
