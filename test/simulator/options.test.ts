import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SimulatorConfigError, optionsFromEnv } from '../../src/simulator/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('optionsFromEnv', () => {
  it('returns nothing for an empty environment, so embedded and standalone defaults apply', () => {
    expect(optionsFromEnv({})).toEqual({});
    expect(optionsFromEnv({ SIM_PORT: '', SIM_SEED: '  ' })).toEqual({});
  });

  it('reads every SIM_* variable', () => {
    const o = optionsFromEnv({
      SIM_PORT: '9000',
      SIM_HOST: '127.0.0.1',
      SIM_SEED: '42',
      SIM_SIZE: '1000',
      SIM_NOW: '2024-06-30T12:00:00Z',
      SIM_LATENCY_MS: '25',
      SIM_JITTER_MS: '5.5',
      SIM_ERROR_RATE: '0.1',
      SIM_HANG_RATE: '0.01',
      SIM_DROP_RATE: '0.02',
      SIM_QUIRKS: 'total-zero, ignore-page-size,cancelled-spelling',
      SIM_SESSION_IDLE_MS: '60000',
      SIM_MAX_PAGE_SIZE: '5000',
      SIM_LIVE_INTERVAL_MS: '1000',
      SIM_LIVE_INSERT: '3',
      SIM_LIVE_EXPIRE: '1',
      SIM_USERS: 'alice:pw1,bob:pw2:catalog|maintenance',
    });
    expect(o).toEqual({
      port: 9000,
      host: '127.0.0.1',
      seed: 42,
      size: 1000,
      now: Date.UTC(2024, 5, 30, 12),
      latency: { fixedMs: 25, jitterMs: 5.5 },
      faults: { errorRate: 0.1, hangRate: 0.01, dropRate: 0.02 },
      quirks: { totalAlwaysZero: true, ignorePageSize: true, cancelledSpelling: true },
      sessionIdleMs: 60000,
      maxPageSize: 5000,
      live: { intervalMs: 1000, insertPerTick: 3, expirePerTick: 1 },
      users: [
        { username: 'alice', password: 'pw1' },
        { username: 'bob', password: 'pw2', allowedTypes: ['catalog', 'maintenance'] },
      ],
    });
  });

  it('lets flags override variables', () => {
    const o = optionsFromEnv({ SIM_PORT: '9000', SIM_SEED: '1' }, ['--port', '9100', '--seed=7', '--latency-ms', '10', '--quirks', 'total-zero']);
    expect(o).toEqual({ port: 9100, seed: 7, latency: { fixedMs: 10 }, quirks: { totalAlwaysZero: true } });
  });

  it.each([
    [{ SIM_PORT: 'abc' }, [], /^Invalid SIM_PORT \("abc"\): /],
    [{ SIM_PORT: '70000' }, [], /SIM_PORT/],
    [{ SIM_SIZE: '-1' }, [], /SIM_SIZE/],
    [{ SIM_ERROR_RATE: '1.5' }, [], /SIM_ERROR_RATE/],
    [{ SIM_LATENCY_MS: 'slow' }, [], /SIM_LATENCY_MS/],
    [{ SIM_QUIRKS: 'total-zero,bogus' }, [], /SIM_QUIRKS.*bogus/],
    [{ SIM_USERS: 'alice' }, [], /SIM_USERS/],
    [{ SIM_USERS: 'a:b,a:c' }, [], /SIM_USERS.*twice/],
    [{ SIM_MAX_PAGE_SIZE: '0' }, [], /SIM_MAX_PAGE_SIZE/],
    [{ SIM_NOW: 'yesterday' }, [], /SIM_NOW/],
    [{ SIM_LIVE_INSERT: '2' }, [], /SIM_LIVE_INSERT.*SIM_LIVE_INTERVAL_MS/],
    [{ SIM_ERROR_RATE: '0.6', SIM_DROP_RATE: '0.6' }, [], /must not exceed 1/],
    [{}, ['--port', 'x'], /^Invalid --port/],
    [{}, ['--nope'], /Invalid command line/],
    [{ SIM_TLS_KEY_FILE: '/nonexistent.pem', SIM_TLS_CERT_FILE: '/nonexistent.pem' }, [], /SIM_TLS_KEY_FILE.*ENOENT/],
  ])('rejects %j %j with one line naming the setting', (env, argv, message) => {
    let error: unknown;
    try {
      optionsFromEnv(env, argv);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SimulatorConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });
});

function runCli(args: string[], env: Record<string, string>, untilOutput?: RegExp): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/simulator/cli.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let signalled = false;
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (!signalled && untilOutput?.test(stdout)) {
        signalled = true;
        child.kill('SIGTERM');
      }
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('cli', () => {
  it('prints usage listing the variables with --help', async () => {
    const r = await runCli(['--help'], {});
    expect(r.code).toBe(0);
    for (const name of ['SIM_PORT', 'SIM_SEED', 'SIM_QUIRKS', 'SIM_USERS', '--latency-ms']) expect(r.stdout).toContain(name);
  });

  it('exits 1 with one line naming the invalid variable', async () => {
    const r = await runCli([], { SIM_SEED: 'x' });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/SIM_SEED/);
  });

  it('starts, prints the URL and users, and stops cleanly on SIGTERM', async () => {
    const r = await runCli(['--port', '0', '--host', '127.0.0.1', '--size', '50'], {}, /catalog-operator/);
    expect(r.stdout).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+/);
    expect(r.stdout).toMatch(/admin \/ admin-password/);
    expect(r.stdout).toMatch(/SIGTERM/);
    expect(r.code).toBe(0);
  });
});
