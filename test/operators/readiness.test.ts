/**
 * /readyz against a real simulator that goes down and comes back, the drain on shutdown,
 * and a wrong service-account password (the gateway's fault, never the caller's).
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createGateway, type Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/observability/logger.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { ADMIN, NOW, withoutCost } from '../support/harness.js';

const LIST = JSON.stringify({ query: '{ jobSessions(first: 1) { totalCount } }' });

interface Setup {
  sim: Simulator;
  gateway: Gateway;
  logs: string[];
}

const open: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of open.splice(0)) await close().catch(() => undefined);
});

async function setup(env: Record<string, string>, password = ADMIN.password): Promise<Setup> {
  const sim = await startSimulator({ seed: 1, now: NOW, size: 20, host: '127.0.0.1' });
  const logs: string[] = [];
  const sink = new Writable({ write: (chunk, _e, done) => (logs.push(String(chunk)), done()) });
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', CURSOR_SECRET: 'readiness-test-cursor-secret', ...env });
  const gateway = await createGateway({
    env: config.env,
    sppUrl: sim.url,
    auth: { mode: 'service-account', serviceAccount: { username: ADMIN.username, password }, tokens: [], allowAnonymous: true },
    logger: createLogger('info', sink),
  });
  open.push(async () => {
    await gateway.stop();
    await sim.close();
  });
  return { sim, gateway, logs };
}

const base = (gateway: Gateway) => gateway.url.replace(/\/graphql$/, '');
const readyz = async (gateway: Gateway) => {
  const response = await fetch(`${base(gateway)}/readyz`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};
const graphql = async (gateway: Gateway) => {
  const response = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: LIST });
  return { status: response.status, body: withoutCost(await response.json()) as any };
};

describe('/readyz', () => {
  it('is 200 while SPP answers, 503 with a reason when SPP is down, and 200 again when it is back; /healthz stays 200', async () => {
    const { sim, gateway } = await setup({ READY_MAX_AGE_MS: '0' });
    expect(await readyz(gateway)).toEqual({ status: 200, body: { status: 'ready', checkedAt: expect.any(String) } });

    const port = sim.port;
    await sim.close();
    expect(await readyz(gateway)).toEqual({ status: 503, body: { status: 'not ready', reason: 'SPP is unreachable', code: 'UPSTREAM_UNAVAILABLE' } });
    expect((await fetch(`${base(gateway)}/healthz`)).status).toBe(200);

    const again = await startSimulator({ seed: 1, now: NOW, size: 20, host: '127.0.0.1', port });
    open.push(() => again.close());
    expect((await readyz(gateway)).status).toBe(200);
  });

  it('probes SPP at most once per READY_MAX_AGE_MS however often it is asked', async () => {
    const { sim, gateway } = await setup({ READY_MAX_AGE_MS: '60000' });
    const answers = await Promise.all(Array.from({ length: 5 }, () => readyz(gateway)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect((await readyz(gateway)).status).toBe(200);
    expect(sim.requests.filter((r) => r.path === '/api/lifecycle/ping')).toHaveLength(1);
    expect(sim.requests.filter((r) => r.method === 'POST' && r.path === '/api/endeavour/session')).toHaveLength(1);
  });

  it('turns 503 for the drain period on shutdown while GraphQL is still served, then the port closes', async () => {
    const { gateway } = await setup({ SHUTDOWN_DRAIN_MS: '2000', READY_MAX_AGE_MS: '0' });
    expect((await readyz(gateway)).status).toBe(200);
    const stopping = gateway.shutdown();
    expect(await readyz(gateway)).toEqual({ status: 503, body: { status: 'not ready', reason: expect.stringMatching(/^draining/) } });
    const served = await graphql(gateway);
    expect(served.status).toBe(200);
    expect(served.body.data.jobSessions.totalCount).toBe(20);
    await stopping;
    await expect(fetch(`${base(gateway)}/healthz`)).rejects.toThrow();
  });

  it('defaults the drain to 5 s in production and none in development', async () => {
    const { drainMsOf } = await import('../../src/config.js');
    expect(drainMsOf(loadConfig({ NODE_ENV: 'production' }).env)).toBe(5_000);
    expect(drainMsOf(loadConfig({}).env)).toBe(0);
    expect(drainMsOf(loadConfig({ SHUTDOWN_DRAIN_MS: '1500' }).env)).toBe(1_500);
  });
});

describe('a service account SPP rejects', () => {
  it('answers callers 503 UPSTREAM_MISCONFIGURED (never 401), logs an error, and tries no second login within the backoff', async () => {
    const { sim, gateway, logs } = await setup({}, 'a-typo-in-the-password');
    for (let i = 0; i < 3; i++) {
      const { status, body } = await graphql(gateway);
      expect(status).toBe(503);
      expect(body).toEqual({
        data: null,
        errors: [
          {
            message: expect.stringMatching(/^The gateway's SPP service account was rejected .* Your own credentials are not in question\.$/),
            locations: expect.any(Array),
            path: ['jobSessions'],
            extensions: { code: 'UPSTREAM_MISCONFIGURED' },
          },
        ],
      });
    }
    expect(sim.requests.filter((r) => r.method === 'POST' && r.path === '/api/endeavour/session')).toHaveLength(1);
    const errors = logs.map((line) => JSON.parse(line)).filter((entry) => entry.level === 50);
    expect(errors).toEqual([
      expect.objectContaining({
        component: 'auth',
        username: 'admin',
        msg: expect.stringMatching(/SPP rejected the service account: check SPP_USERNAME and SPP_PASSWORD/),
      }),
    ]);
    expect(logs.join('')).not.toContain('a-typo-in-the-password');
  });

  it('is reported at start and by /readyz, while the gateway keeps running (/healthz 200)', async () => {
    const { gateway, logs } = await setup({ READY_MAX_AGE_MS: '0' }, 'wrong');
    expect(await gateway.checkUpstream()).toBe(false);
    expect(logs.map((l) => JSON.parse(l)).some((e) => e.level === 50 && /SPP refuses the gateway: fix SPP_URL, SPP_USERNAME or SPP_PASSWORD/.test(e.msg))).toBe(
      true,
    );
    expect(await readyz(gateway)).toEqual({
      status: 503,
      body: { status: 'not ready', reason: "SPP rejected the gateway's service account (or SPP_URL does not point at SPP)", code: 'UPSTREAM_MISCONFIGURED' },
    });
    expect((await fetch(`${base(gateway)}/healthz`)).status).toBe(200);
  });

  it('says at start that SPP is down without refusing to start', async () => {
    const { sim, gateway, logs } = await setup({ READY_MAX_AGE_MS: '0' });
    await sim.close();
    expect(await gateway.checkUpstream()).toBe(false);
    expect(logs.map((l) => JSON.parse(l)).some((e) => e.level === 40 && /SPP is not answering yet/.test(e.msg) && e.reason === 'SPP is unreachable')).toBe(
      true,
    );
  });

  it('logs a good start as such', async () => {
    const { gateway, logs } = await setup({});
    expect(await gateway.checkUpstream()).toBe(true);
    expect(logs.some((l) => /SPP answered and the service account is logged in/.test(l))).toBe(true);
  });
});

describe('SPP_URL', () => {
  it('accepts a URL ending in /api (SPP examples write it both ways) and calls SPP at /api once', async () => {
    const env = { SPP_USERNAME: 'a', SPP_PASSWORD: 'b', GATEWAY_TOKENS: 't' };
    expect(loadConfig({ ...env, SPP_URL: 'https://spp.example.com/api' }).sppUrl).toBe('https://spp.example.com');
    expect(loadConfig({ ...env, SPP_URL: 'https://spp.example.com/api/' }).sppUrl).toBe('https://spp.example.com');
    expect(loadConfig({ ...env, SPP_URL: 'https://spp.example.com/spp/' }).sppUrl).toBe('https://spp.example.com/spp');
  });

  it('pointing somewhere without SPP login is UPSTREAM_MISCONFIGURED too, with a log line saying what to check', async () => {
    const sim = await startSimulator({ seed: 1, now: NOW, size: 5, host: '127.0.0.1' });
    const logs: string[] = [];
    const sink = new Writable({ write: (chunk, _e, done) => (logs.push(String(chunk)), done()) });
    const gateway = await createGateway({
      env: loadConfig({ PORT: '0', HOST: '127.0.0.1' }).env,
      sppUrl: `${sim.url}/not-spp`,
      auth: { mode: 'service-account', serviceAccount: ADMIN, tokens: [], allowAnonymous: true },
      logger: createLogger('info', sink),
    });
    open.push(async () => {
      await gateway.stop();
      await sim.close();
    });
    const { status, body } = await graphql(gateway);
    expect(status).toBe(503);
    expect(body.errors[0].extensions.code).toBe('UPSTREAM_MISCONFIGURED');
    expect(logs.some((l) => /SPP has no login endpoint at SPP_URL/.test(l))).toBe(true);
  });
});
