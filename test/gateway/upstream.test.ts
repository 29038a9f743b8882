import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, startHarness, type Harness } from '../support/harness.js';

const LIST = '{ jobSessions(first: 5) { nodes { sessionId } } }';
const SECRET_MARKERS = [ADMIN.password, 'XSB', 'Virgo', 'controller', 'x-endeavour-sessionid', 'stack', '127.0.0.1'];

function expectNoLeak(body: unknown) {
  const text = JSON.stringify(body);
  for (const marker of SECRET_MARKERS) expect(text).not.toContain(marker);
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { SPP_RESPONSE_TIMEOUT_MS: '400', SPP_CONNECT_TIMEOUT_MS: '400' } });
});
afterAll(() => h.close());
afterEach(() => h.sim.configure({ faults: { errorRate: 0, hangRate: 0, dropRate: 0 }, latency: { fixedMs: 0, jitterMs: 0 } }));

describe('upstream failures', () => {
  it('retries a 503 that asks to wait with Retry-After, and answers', async () => {
    h.resetUpstreamCalls();
    h.sim.failNext({ kind: 'status', status: 503, retryAfterSeconds: 0 });
    const { status, body } = await h.gql(LIST);
    expect(status).toBe(200);
    expect(body.data.jobSessions.nodes).toHaveLength(5);
    expect(h.upstreamCalls().map((c) => c.status)).toEqual([503, 200]);
  });

  it('retries a dropped connection once and answers', async () => {
    h.resetUpstreamCalls();
    h.sim.failNext({ kind: 'drop' });
    const { status, body } = await h.gql(LIST);
    expect(status).toBe(200);
    expect(body.data.jobSessions.nodes).toHaveLength(5);
    expect(h.upstreamCalls().map((c) => c.status)).toEqual([0, 200]);
  });

  it('gives up after the retry budget with UPSTREAM_UNAVAILABLE and HTTP 503, leaking nothing', async () => {
    h.resetUpstreamCalls();
    h.sim.failNext(...Array.from({ length: 3 }, () => ({ kind: 'status' as const, status: 503, retryAfterSeconds: 0 })));
    const { status, body } = await h.gql(LIST);
    expect(status).toBe(503);
    expect(body.errors![0]!.extensions!.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(body.data).toEqual(null);
    expect(h.upstreamCalls()).toHaveLength(3);
    expectNoLeak(body);
  });

  it('does not retry a 500: UPSTREAM_ERROR and HTTP 502, leaking nothing', async () => {
    h.resetUpstreamCalls();
    h.sim.failNext({ kind: 'status', status: 500 });
    const { status, body } = await h.gql(LIST);
    expect(status).toBe(502);
    expect(body.errors).toEqual([
      { message: 'SPP answered with an error: HTTP 500.', path: ['jobSessions'], locations: expect.any(Array), extensions: { code: 'UPSTREAM_ERROR' } },
    ]);
    expect(h.upstreamCalls()).toHaveLength(1);
    expectNoLeak(body);
  });

  it('answers UPSTREAM_TIMEOUT and HTTP 504 when SPP hangs past the response budget', async () => {
    h.sim.failNext({ kind: 'hang' });
    const { status, body } = await h.gql(LIST);
    expect(status).toBe(504);
    expect(body.errors![0]!.extensions!.code).toBe('UPSTREAM_TIMEOUT');
    expectNoLeak(body);
    // and the gateway is still fine afterwards
    expect((await h.gql(LIST)).status).toBe(200);
  });

  it('logs in again once when SPP expired the session, and no request fails', async () => {
    await h.gql(LIST);
    h.sim.clearRequests();
    h.sim.expireLoginSessions();
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => h.gql(`{ jobSessions(first: ${i + 1}) { nodes { sessionId } } }`)));
    for (const [i, r] of results.entries()) {
      expect(r.status).toBe(200);
      expect(r.body.data.jobSessions.nodes).toHaveLength(i + 1);
    }
    const logins = h.sim.requests.filter((r) => r.method === 'POST' && r.path === '/api/endeavour/session');
    expect(logins).toHaveLength(1);
  });
});

describe('an unreachable SPP', () => {
  it('answers UPSTREAM_UNAVAILABLE and HTTP 503', async () => {
    const down = await startHarness();
    const url = down.sim.url;
    await down.sim.close();
    try {
      const { status, body } = await down.gql(LIST);
      expect(status).toBe(503);
      expect(body.errors![0]!.extensions!.code).toBe('UPSTREAM_UNAVAILABLE');
      expect(JSON.stringify(body)).not.toContain(url);
    } finally {
      await down.gateway.stop();
    }
  });
});
