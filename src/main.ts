/**
 * `npm start`: the gateway. Without SPP_URL it first starts the embedded SPP simulator
 * (so a fresh clone answers queries with no appliance at hand) and speaks to it as the
 * simulator's admin user. With SPP_URL it speaks to that SPP.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, drainMsOf, loadConfig, type SppServerEntry } from './config.js';
import { createGateway, type Gateway, type GatewayOptions } from './gateway.js';
import { createLogger } from './observability/logger.js';
import { optionsFromEnv, startSimulator, type Simulator } from './simulator/index.js';

const DEFAULT_SIMULATOR_ADMIN = { username: 'admin', password: 'admin-password' };

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
      process.stderr.write(
        `Invalid SPP_CA_FILE (${JSON.stringify(env.SPP_CA_FILE)}): cannot read it: ${(error as NodeJS.ErrnoException).code ?? String(error)}\n`,
      );
      process.exit(1);
    }
  }
  if (env.SPP_TLS_INSECURE) logger.warn('SPP_TLS_INSECURE=true: the SPP certificate is NOT verified; anyone on the path can read and alter SPP traffic.');

  let simulator: Simulator | undefined;
  const simulators: Simulator[] = [];
  let sppUrl = config.sppUrl;
  let servers: GatewayOptions['servers'];
  let auth: GatewayOptions['auth'];
  if (config.servers) servers = serversFromFile(config.servers);
  if (config.auth.mode === 'pass-through') {
    auth = { mode: 'pass-through' };
  } else {
    let account = config.auth.serviceAccount;
    if (!sppUrl && !config.servers) {
      const simOptions = optionsFromEnv(process.env);
      // The embedded simulators listen on loopback only, on a free port unless SIM_PORT is set (one simulator).
      // SIM_SERVERS > 1 (issue 21): each its own seed and size, so the sites differ.
      for (let i = 0; i < env.SIM_SERVERS; i++) {
        const port = env.SIM_SERVERS === 1 && process.env.SIM_PORT ? simOptions.port : 0;
        const own =
          env.SIM_SERVERS === 1 ? {} : { seed: (simOptions.seed ?? 1) + i * 1_000, size: Math.max(1, Math.round((simOptions.size ?? 4877) / (i + 1))) };
        simulators.push(await startSimulator({ ...simOptions, ...own, host: '127.0.0.1', port }));
      }
      simulator = simulators[0]!;
      sppUrl = simulator.url;
      const admin = simOptions.users?.[0] ?? DEFAULT_SIMULATOR_ADMIN;
      account = { username: admin.username, password: admin.password };
      if (simulators.length > 1) servers = simulators.map((sim, i) => ({ name: `sim-${i + 1}`, url: sim.url }));
    }
    auth = { mode: 'service-account', serviceAccount: account!, tokens: config.auth.tokens, allowAnonymous: config.auth.allowAnonymous };
  }

  const gateway: Gateway = await createGateway({
    ...{ env, sppUrl: sppUrl ?? servers![0]!.url, auth, logger, embeddedSimulator: simulator !== undefined, ...(ca ? { ca } : {}) },
    ...(servers ? { servers } : {}),
  });
  // The banner is a log line like the others, always written (even at LOG_LEVEL=silent): with
  // PORT=0 it is the only place the port is told.
  logger.child({}, { level: 'info' }).info(
    {
      url: gateway.url,
      ...(servers ? { servers: servers.map((s) => ({ name: s.name, url: s.url })) } : {}),
      upstream: simulator ? { embeddedSimulator: simulator.url, user: auth.mode === 'service-account' ? auth.serviceAccount.username : undefined } : { sppUrl },
      authentication:
        auth.mode === 'pass-through'
          ? 'pass-through: callers send SPP credentials, an SPP session id, or a createSession token'
          : auth.allowAnonymous
            ? 'service account, open to anonymous callers (GATEWAY_ALLOW_ANONYMOUS)'
            : `service account; callers need "Authorization: Bearer <token>" (${[env.API_KEYS_FILE && 'an API key', env.OIDC_ISSUER && 'an OIDC token or a session cookie', auth.tokens.length > 0 && 'GATEWAY_TOKENS'].filter(Boolean).join(', ')})`,
      ...(gateway.metricsPort !== undefined ? { metricsPort: gateway.metricsPort } : {}),
    },
    `Gateway ready at ${gateway.url}`,
  );
  // Says whether SPP and the service account work; a gateway whose SPP is down still starts.
  void gateway.checkUpstream();

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: draining, then finishing in-flight requests');
    // Whatever holds the event loop (a socket, a timer, a pending logout), the process ends within
    // drain + grace + logout budget (+1 s for the rest): a supervisor must never find it hanging.
    const budgetMs = drainMsOf(env) + env.SHUTDOWN_GRACE_MS + env.SHUTDOWN_LOGOUT_MS + 1_000;
    const deadline = setTimeout(() => {
      logger.error({ budgetMs }, 'shutdown budget exceeded; exiting with work still open');
      process.exit(1);
    }, budgetMs);
    deadline.unref();
    void (async () => {
      try {
        await gateway.shutdown();
        for (const sim of simulators) await sim.close();
        logger.info('stopped');
        process.exit(0);
      } catch (error) {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      }
    })();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/** SPP_SERVERS_FILE's entries as the gateway takes them: CA files read, passwords already from their variables. */
function serversFromFile(entries: SppServerEntry[]): NonNullable<GatewayOptions['servers']> {
  return entries.map((e) => {
    let ca: Buffer | undefined;
    if (e.caFile) {
      try {
        ca = readFileSync(e.caFile);
      } catch (error) {
        throw new ConfigError(
          `Invalid SPP_SERVERS_FILE: server ${e.name}'s caFile ${JSON.stringify(e.caFile)} cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
        );
      }
    }
    return {
      ...{ name: e.name, url: e.url, tlsInsecure: e.tlsInsecure, labels: e.labels, ...(ca ? { ca } : {}) },
      ...(e.username ? { serviceAccount: { username: e.username, password: e.password ?? '' } } : {}),
    };
  });
}

main().catch((error: unknown) => {
  // A configuration found wrong while building the gateway (e.g. PERSISTED_DOCUMENTS_FILE) says so in its own words.
  process.stderr.write(error instanceof ConfigError ? `${error.message}\n` : `Failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
