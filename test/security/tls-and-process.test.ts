import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ADMIN, NOW, startHarness } from '../support/harness.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { loadConfig } from '../../src/config.js';

const fixtures = new URL('../simulator/fixtures/', import.meta.url);
const key = readFileSync(new URL('selfsigned-test-only.key.pem', fixtures));
const cert = readFileSync(new URL('selfsigned-test-only.cert.pem', fixtures));
const root = fileURLToPath(new URL('../../', import.meta.url));
const LIST = '{ jobSessions(first: 2) { nodes { sessionId } } }';

describe('TLS to SPP', () => {
  it('verifies the certificate: refused without its CA, accepted with SPP_CA_FILE content, or with SPP_TLS_INSECURE', async () => {
    const strict = await startHarness({ sim: { tls: { key, cert }, size: 50 } });
    try {
      expect(strict.sim.url).toMatch(/^https:/);
      const { status, body } = await strict.gql(LIST);
      expect(status).toBe(503);
      expect(body.errors![0]!.extensions!.code).toBe('UPSTREAM_UNAVAILABLE');
    } finally {
      await strict.close();
    }
    const withCa = await startHarness({ sim: { tls: { key, cert }, size: 50 }, ca: cert });
    try {
      expect((await withCa.gql(LIST)).body.data.jobSessions.nodes).toHaveLength(2);
    } finally {
      await withCa.close();
    }
    const insecure = await startHarness({ sim: { tls: { key, cert }, size: 50 }, env: { SPP_TLS_INSECURE: 'true' } });
    try {
      expect((await insecure.gql(LIST)).body.data.jobSessions.nodes).toHaveLength(2);
    } finally {
      await insecure.close();
    }
  });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runGateway(env: Record<string, string>, onReady?: (url: string, child: ReturnType<typeof spawn>) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.stdout.on('data', (chunk) => {
      stdout += String(chunk);
      const match = /Gateway ready at (http:\/\/[^\s"]+)/.exec(stdout);
      if (match && onReady) {
        const ready = onReady;
        onReady = undefined;
        ready(match[1]!, child);
      }
    });
    child.stderr.on('data', (chunk) => (stderr += String(chunk)));
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('configuration errors', () => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    [
      'a URL without scheme',
      { SPP_URL: 'spp.example.com', SPP_USERNAME: 'a', SPP_PASSWORD: 'b', GATEWAY_TOKENS: 't' },
      /^Invalid SPP_URL \("spp\.example\.com"\): expected/,
    ],
    ['a non-numeric limit', { PAGE_MAX_SIZE: 'lots' }, /^Invalid PAGE_MAX_SIZE \("lots"\): expected a whole number/],
    [
      'a token list with an empty entry',
      { SPP_URL: 'https://spp.example.com', SPP_USERNAME: 'a', SPP_PASSWORD: 'b', GATEWAY_TOKENS: 'one,,two' },
      /^Invalid GATEWAY_TOKENS: expected comma-separated tokens with no empty entry$/,
    ],
    [
      'a service account open to nobody',
      { SPP_URL: 'https://spp.example.com', SPP_USERNAME: 'a', SPP_PASSWORD: 'b' },
      /^Invalid GATEWAY_TOKENS: required with SPP_USERNAME/,
    ],
    ['a boolean that is not one', { SPP_TLS_INSECURE: 'maybe' }, /^Invalid SPP_TLS_INSECURE \("maybe"\): expected true or false/],
    [
      'a page default above the maximum',
      { PAGE_DEFAULT_SIZE: '200', PAGE_MAX_SIZE: '100' },
      /^Invalid PAGE_DEFAULT_SIZE \(200\): must not exceed PAGE_MAX_SIZE \(100\)$/,
    ],
  ];
  for (const [name, env, message] of cases) {
    it(`refuses ${name} with one line naming the variable`, () => {
      expect(() => loadConfig(env)).toThrow(message);
    });
  }

  it('stops the start with one line when SPP_CA_FILE cannot be read', async () => {
    const run = await runGateway({ SPP_CA_FILE: '/nonexistent/ca.pem' });
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual(['Invalid SPP_CA_FILE ("/nonexistent/ca.pem"): cannot read it: ENOENT']);
    expect(run.stdout).not.toContain('Gateway ready');
  });

  it('never prints a secret in a configuration error', () => {
    expect(() => loadConfig({ CURSOR_SECRET: 'short-secret' })).toThrow(/^Invalid CURSOR_SECRET: expected at least 16 characters$/);
  });
});

describe('process lifecycle', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ now: NOW, size: 200, latency: { fixedMs: 700 } });
  });
  afterAll(() => sim.close());

  it('finishes in-flight requests on SIGTERM, logs the service account out of SPP, and exits 0', async () => {
    let inflight: Promise<Response> | undefined;
    const run = await runGateway(
      { SPP_URL: sim.url, SPP_USERNAME: ADMIN.username, SPP_PASSWORD: ADMIN.password, GATEWAY_ALLOW_ANONYMOUS: 'true', SPP_TLS_INSECURE: 'true' },
      (url, child) => {
        inflight = fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: LIST }) });
        setTimeout(() => child.kill('SIGTERM'), 300);
      },
    );
    const response = await inflight!;
    expect(response.status).toBe(200);
    expect(((await response.json()) as any).data.jobSessions.nodes).toHaveLength(2);
    expect(run.code).toBe(0);
    // The simulator logs a request once its response has gone out, which can be a moment after the child exited.
    const logouts = () => sim.requests.filter((r) => r.method === 'DELETE');
    for (let i = 0; i < 40 && logouts().length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(sim.requests.filter((r) => r.method === 'DELETE' && r.path === '/api/endeavour/session').map((r) => r.status)).toEqual([204]);
    // the start warned about the unverified certificate and the open door
    expect(run.stdout + run.stderr).toMatch(/SPP_TLS_INSECURE=true/);
    expect(run.stdout + run.stderr).toMatch(/GATEWAY_ALLOW_ANONYMOUS/);
  });
});
