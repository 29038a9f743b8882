/**
 * `npm start` under a supervisor: SIGTERM goes to the npm process (what a process manager
 * signals), and the gateway must stop: port freed, service account logged out, within
 * SHUTDOWN_GRACE_MS plus the logout budget even when SPP hangs and a request never ends.
 * `npm run simulator` likewise stops on SIGTERM and SIGINT, freeing its port.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { ADMIN, NOW } from '../support/harness.js';
import { startProcess, type Started } from '../support/processes.js';

/** `npm start` on a free port, ready once its banner is printed and /readyz answers 200. */
const npmStart = (env: Record<string, string>): Promise<Started> =>
  startProcess({ npm: 'start', env: { PORT: '0', HOST: '127.0.0.1', ...env }, banner: 'gateway', timeoutMs: 30_000 });

/** Resolves true when something accepts a connection on the port. */
const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

const logouts = (sim: Simulator) => sim.requests.filter((r) => r.method === 'DELETE' && r.path === '/api/endeavour/session');

describe('SIGTERM to the npm start process', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ now: NOW, size: 50, host: '127.0.0.1' });
  });
  afterAll(() => sim.close());

  const env = () => ({
    SPP_URL: sim.url,
    SPP_USERNAME: ADMIN.username,
    SPP_PASSWORD: ADMIN.password,
    GATEWAY_ALLOW_ANONYMOUS: 'true',
    LOG_LEVEL: 'info',
    SHUTDOWN_GRACE_MS: '1000',
    SHUTDOWN_LOGOUT_MS: '1000',
  });

  it('stops the gateway: the port is freed and the service account is logged out of SPP', async () => {
    sim.clearRequests();
    const gateway = await npmStart(env());
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ jobSessions(first: 1) { totalCount } }' }),
    });
    expect(response.status).toBe(200);
    expect(await listening(gateway.port)).toBe(true);

    gateway.child.kill('SIGTERM');
    const exit = await gateway.exited;
    expect(exit.code, gateway.output()).toBe(0);
    expect(await listening(gateway.port)).toBe(false);
    for (let i = 0; i < 40 && logouts(sim).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(logouts(sim).map((r) => r.status)).toEqual([204]);
    expect(gateway.output()).toMatch(/"msg":"stopped"/);
  });

  it('starts with a JSON banner line and says that SPP and the service account work', async () => {
    const gateway = await npmStart(env());
    try {
      const lines = () => gateway.logs();
      expect(lines().find((l) => typeof l.msg === 'string' && l.msg.startsWith('Gateway ready at'))).toMatchObject({
        level: 30,
        url: gateway.url,
        upstream: { sppUrl: sim.url },
        authentication: 'service account, open to anonymous callers (GATEWAY_ALLOW_ANONYMOUS)',
      });
      for (let i = 0; i < 100 && !lines().some((l) => l.msg === 'SPP answered and the service account is logged in'); i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(lines().map((l) => l.msg)).toContain('SPP answered and the service account is logged in');
    } finally {
      gateway.child.kill('SIGTERM');
      await gateway.exited;
    }
  });

  it('ends within its budget when SPP hangs the logout and a request never finishes', async () => {
    sim.clearRequests();
    const gateway = await npmStart(env());
    const ok = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ jobSessions(first: 1) { totalCount } }' }),
    });
    expect(ok.status).toBe(200);
    // The next page read and the logout are never answered.
    sim.failNext({ kind: 'hang' }, { kind: 'hang', path: '/api/endeavour/session' });
    const hanging = fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ jobSessions(first: 2) { totalCount } }' }),
    }).catch((error: unknown) => error);
    for (let i = 0; i < 100 && !sim.requests.some((r) => r.path === '/api/endeavour/jobsession' && r.status === 0); i++)
      await new Promise((r) => setTimeout(r, 20));

    gateway.child.kill('SIGTERM');
    const exit = await gateway.exited;
    // 0: the process ended by its own path (drain, grace, abandoned logout), not by the budget's exit(1).
    expect(exit.code, gateway.output()).toBe(0);
    expect(gateway.output()).toMatch(/SPP did not answer the logout in time/);
    expect(gateway.output()).not.toMatch(/shutdown budget exceeded/);
    expect(await listening(gateway.port)).toBe(false);
    await hanging;
  });
});

describe('SIGTERM and SIGINT to the npm run simulator process', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`stops the simulator on ${signal}: exit code 0 and the port is freed`, async () => {
      const simulator = await startProcess({
        npm: 'simulator',
        env: { SIM_PORT: '0', SIM_HOST: '127.0.0.1', SIM_SIZE: '20' },
        banner: 'simulator',
        timeoutMs: 30_000,
      });
      const ping = await fetch(new URL('/api/lifecycle/ping', simulator.url));
      expect(ping.status).toBe(200);
      expect(await listening(simulator.port)).toBe(true);

      const exit = await simulator.stop(signal);
      expect(exit, simulator.output()).toEqual({ code: 0, signal: null });
      expect(simulator.output()).toContain(`spp-simulator: ${signal}, shutting down`);
      expect(await listening(simulator.port)).toBe(false);
    });
  }
});
