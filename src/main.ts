/**
 * `npm start`: the gateway. Without SPP_URL it first starts the embedded SPP simulator
 * (so a fresh clone answers queries with no appliance at hand) and speaks to it as the
 * simulator's admin user. With SPP_URL it speaks to that SPP.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig } from './config.js';
import { createGateway, type Gateway } from './server.js';
import { createLogger } from './server/logger.js';
import { optionsFromEnv, startSimulator, type Simulator } from './simulator/index.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const { env } = config;
  const logger = createLogger(env.LOG_LEVEL);

  let ca: Buffer | undefined;
  if (env.SPP_CA_FILE) {
    try {
      ca = readFileSync(env.SPP_CA_FILE);
    } catch (error) {
      process.stderr.write(`Invalid SPP_CA_FILE (${JSON.stringify(env.SPP_CA_FILE)}): cannot read it: ${(error as NodeJS.ErrnoException).code ?? String(error)}\n`);
      process.exit(1);
    }
  }
  if (env.SPP_TLS_INSECURE) logger.warn('SPP_TLS_INSECURE=true: the SPP certificate is NOT verified; anyone on the path can read and alter SPP traffic.');

  let simulator: Simulator | undefined;
  let sppUrl = config.sppUrl;
  let serviceAccount = env.SPP_USERNAME ? { username: env.SPP_USERNAME, password: env.SPP_PASSWORD ?? '' } : undefined;
  if (!sppUrl) {
    const simOptions = optionsFromEnv(process.env);
    simulator = await startSimulator({ ...simOptions, host: '127.0.0.1', port: simOptions.port ?? 0 });
    sppUrl = simulator.url;
    const admin = simOptions.users?.[0] ?? { username: 'admin', password: 'admin-password' };
    serviceAccount ??= { username: admin.username, password: admin.password };
    logger.info({ simulator: simulator.url }, 'SPP_URL is not set: started the embedded SPP simulator');
  }
  if (!serviceAccount) {
    process.stderr.write('Invalid SPP_USERNAME: required with SPP_URL (the service account the gateway logs in to SPP with)\n');
    process.exit(1);
  }

  const gateway: Gateway = await createGateway({ env, sppUrl, serviceAccount, logger, ...(ca ? { ca } : {}) });
  process.stdout.write(`Gateway ready at ${gateway.url}\n`);
  process.stdout.write(simulator ? `Embedded SPP simulator at ${simulator.url} (user ${serviceAccount.username})\n` : `Upstream SPP at ${sppUrl}\n`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    const deadline = setTimeout(() => {
      logger.error('shutdown deadline passed; exiting with requests still open');
      process.exit(1);
    }, env.SHUTDOWN_GRACE_MS + 5_000);
    deadline.unref();
    void (async () => {
      await gateway.stop();
      await simulator?.close();
      logger.info('stopped');
      process.exit(0);
    })();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`Failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
