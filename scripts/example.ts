/**
 * `npm run example`: the SPP simulator in live mode (sessions start, progress and finish every
 * few seconds), the gateway over it in pass-through mode (people sign in with their SPP account,
 * and SPP's roles decide: `admin` cancels, the read-only `monitor` sees no Cancel), enforcing the
 * app's trusted documents, and the built job-monitor app on another origin (port 5173), so the
 * browser goes through CORS and the session cookie as in production. The app holds no credential.
 * SIM_SERVERS=3: three simulators (sim-1..3, seeds and sizes as `npm start` gives them) behind the
 * gateway as several SPP servers (SPP_SERVERS_FILE), so the app shows its server column, filter and tiles.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_USERS, optionsFromEnv, startSimulator, type Simulator } from '../src/simulator/index.js';
import './example-build.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const gatewayPort = process.env.PORT ?? '4000';
const appPort = Number(process.env.APP_PORT ?? '5173');
const gatewayUrl = `http://localhost:${gatewayPort}/graphql`;

const simOptions = optionsFromEnv({ SIM_LIVE_INTERVAL_MS: '3000', SIM_SIZE: '2000', ...process.env });
const count = Math.min(9, Math.max(1, Number(process.env.SIM_SERVERS ?? '1') || 1));
const sims: Simulator[] = [];
for (let i = 0; i < count; i++) {
  // As src/main.ts does for SIM_SERVERS: each site its own seed and size.
  const own = count === 1 ? {} : { seed: (simOptions.seed ?? 1) + i * 1_000, size: Math.max(1, Math.round((simOptions.size ?? 2000) / (i + 1))) };
  sims.push(await startSimulator({ ...simOptions, ...own, host: '127.0.0.1', port: 0 }));
}
// Several servers: a servers file without usernames (pass-through on every server).
const serversDir = count > 1 ? mkdtempSync(join(tmpdir(), 'spp-example-')) : undefined;
const upstream: Record<string, string> = { SPP_URL: sims[0]!.url };
if (serversDir) {
  const file = join(serversDir, 'servers.json');
  writeFileSync(file, JSON.stringify(sims.map((sim, i) => ({ name: `sim-${i + 1}`, url: sim.url }))));
  Object.assign(upstream, { SPP_URL: '', SPP_SERVERS_FILE: file });
}

const gateway = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
  cwd: root,
  stdio: 'inherit',
  env: {
    PERSISTED_DOCUMENTS_FILE: 'examples/job-monitor/src/gql/persisted-documents.json',
    ALLOW_ARBITRARY_OPERATIONS: 'false',
    // Seals the session cookies; a fresh one per run (sign in again after a restart).
    SESSION_SECRET: randomBytes(32).toString('hex'),
    ...process.env,
    // Pass-through: SPP_URL (or a servers file) without SPP_USERNAME.
    ...upstream,
    SPP_USERNAME: '',
    CORS_ORIGINS: `http://localhost:${appPort}`,
    PORT: gatewayPort,
  },
});
// Imported after the build: dist/ exists now.
const { serveApp } = await import('../examples/job-monitor/serve.mjs');
const app = await serveApp({ gatewayUrl, port: appPort, host: 'localhost' });
const users = (simOptions.users ?? DEFAULT_USERS).map((u) => `${u.username} / ${u.password}`).join(', ');
console.log(`Job monitor at ${app.url} (another origin than the gateway at ${gatewayUrl}); sign in as ${users}`);

const stop = (signal: NodeJS.Signals) => {
  gateway.kill(signal);
  void app.close();
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
gateway.on('exit', (code) => {
  void app.close();
  if (serversDir) rmSync(serversDir, { recursive: true, force: true });
  void Promise.all(sims.map((sim) => sim.close())).finally(() => process.exit(code ?? 0));
});
