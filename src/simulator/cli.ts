/**
 * Standalone simulator: `npm run simulator` (also the docker-compose service).
 * Configuration comes from SIM_* variables and flags (options.ts); `--help` lists them.
 */
import { CLI_DEFAULT_HOST, CLI_DEFAULT_PORT, SimulatorConfigError, USAGE, optionsFromEnv } from './options.js';
import { DEFAULT_USERS } from './auth.js';
import { startSimulator } from './server.js';

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let options;
  try {
    options = optionsFromEnv(process.env, argv);
  } catch (error) {
    if (error instanceof SimulatorConfigError) {
      process.stderr.write(`spp-simulator: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  options.port ??= CLI_DEFAULT_PORT;
  options.host ??= CLI_DEFAULT_HOST;

  // Signal handlers go in before the (asynchronous) start so that an early SIGTERM from a
  // supervisor still shuts down cleanly instead of killing the process mid-start.
  let stopSignal: NodeJS.Signals | undefined;
  let wake: (() => void) | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    stopSignal ??= signal;
    wake?.();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const sim = await startSimulator(options);
  const users = options.users ?? DEFAULT_USERS;
  const lines = [
    `SPP simulator listening on ${sim.url} (bound to ${options.host}:${sim.port})`,
    `  sessions: ${sim.list().length}, seed ${options.seed ?? 1}${options.live ? `, live every ${options.live.intervalMs} ms` : ''}`,
    '  users:',
    ...users.map((u) => `    ${u.username} / ${u.password}  (${u.allowedTypes ? `types: ${u.allowedTypes.join(', ')}` : 'all types'})`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);

  if (stopSignal === undefined) await new Promise<void>((resolve) => (wake = resolve));
  process.stdout.write(`spp-simulator: ${stopSignal}, shutting down\n`);
  await sim.close();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`spp-simulator: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
