/**
 * `npm run example`: the gateway over the embedded simulator in live mode (sessions start,
 * progress and finish every few seconds), enforcing the app's trusted documents, and the built
 * job-monitor app on another origin (port 5173), so the browser goes through CORS as in production.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import './example-build.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const gatewayPort = process.env.PORT ?? '4000';
const appPort = Number(process.env.APP_PORT ?? '5173');
const gatewayUrl = `http://localhost:${gatewayPort}/graphql`;
// The app's token (handed to it in config.json): the gateway is closed to anonymous callers, and
// acts on jobs (Cancel, Rerun, Expire) for token holders, since anonymous callers never act.
const token = process.env.GATEWAY_TOKEN ?? randomBytes(24).toString('hex');

const gateway = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
  cwd: root,
  stdio: 'inherit',
  env: {
    SIM_LIVE_INTERVAL_MS: '3000',
    SIM_SIZE: '2000',
    PERSISTED_DOCUMENTS_FILE: 'examples/job-monitor/src/gql/persisted-documents.json',
    ALLOW_ARBITRARY_OPERATIONS: 'false',
    GATEWAY_ALLOW_MUTATIONS: 'true',
    ...process.env,
    GATEWAY_TOKENS: token,
    GATEWAY_ALLOW_ANONYMOUS: 'false',
    PORT: gatewayPort,
  },
});
// Imported after the build: dist/ exists now.
const { serveApp } = await import('../examples/job-monitor/serve.mjs');
const app = await serveApp({ gatewayUrl, token, port: appPort, host: 'localhost' });
console.log(`Job monitor at ${app.url} (another origin than the gateway at ${gatewayUrl})`);

const stop = (signal: NodeJS.Signals) => {
  gateway.kill(signal);
  void app.close();
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
gateway.on('exit', (code) => {
  void app.close();
  process.exit(code ?? 0);
});
