/**
 * The one way tests and benchmarks start a gateway or the simulator as a real process:
 * `node [nodeArgs] --import tsx [--import …] <entry>`, or an npm script (`npm start`,
 * `npm run simulator`) as a supervisor would run it. Every port is the kernel's choice
 * (PORT=0 / SIM_PORT=0) and is read back from the banner the program prints, so there is no
 * probe-then-bind race:
 * - the gateway's banner is a pino JSON line whose `msg` starts with "Gateway ready at" and
 *   that carries `url` (src/main.ts; written even at LOG_LEVEL=silent);
 * - the simulator's is "SPP simulator listening on <url> (bound to …)" (src/simulator/cli.ts).
 * A gateway is then waited for until `/readyz` answers 200 (unless `readyz: false`, for a
 * test that expects 503). Start-up fails with everything the child printed when it exits
 * early or is not ready in time; the child is killed then, and any child still running when
 * this process exits is killed too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Variables of this process that would configure the child (a developer's own PORT or
 * SPP_URL, vitest's NODE_OPTIONS): never inherited; the caller's `env` sets what it needs.
 */
const CONFIG =
  /^(SIM_|SPP_|GATEWAY_|GRAPHQL_|PORT$|HOST$|CURSOR_|SESSION_SECRET$|REDIS_|LOG_LEVEL$|NODE_ENV$|PAGE_|MAX_|SHUTDOWN_|CORS_|READY_|METRICS_|OTEL_|PERSISTED_|ALLOW_|SUBSCRIPTION|BENCH_|NODE_OPTIONS$|QUOTA_|OIDC_|API_KEYS_|ROLE_MAP$|SCHEMA_TOKEN$|HTTP_CACHE_HINTS$)/;

/** What the program prints when it listens: the gateway's JSON banner, the simulator's line, or a matcher returning the URL. */
export type Banner = 'gateway' | 'simulator' | ((line: string) => string | undefined);

export interface StartOptions {
  /** A TypeScript entry run as `node [nodeArgs] --import tsx [--import each of imports] <entry>` (a compiled `.js` entry without tsx, as deployed); or `npm` below. */
  entry?: string;
  /** An npm script run through npm (`'start'` → `npm start`, `'simulator'` → `npm run simulator`). */
  npm?: string;
  /** `node` flags before the loader (e.g. `--expose-gc`, `--cpu-prof`). */
  nodeArgs?: string[];
  /** Modules preloaded after tsx (`--import`), e.g. the benchmarks' orphan guard. */
  imports?: string[];
  /** The child's configuration; added to this process's environment minus anything that configures a gateway or simulator. */
  env?: Record<string, string>;
  banner: Banner;
  /** Wait until `/readyz` answers 200 (default: true for the gateway banner, false otherwise). */
  readyz?: boolean;
  /** For banner and readiness together (default 60 s). */
  timeoutMs?: number;
  /** 'pipe' keeps the child's stdin open (the benchmarks' orphan guard exits when it closes). */
  stdin?: 'ignore' | 'pipe';
  /** Names the process in errors (default: the entry or npm script). */
  name?: string;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Started {
  child: ChildProcess;
  /** As the banner prints it, e.g. http://127.0.0.1:41234/graphql (gateway) or http://127.0.0.1:41235 (simulator). */
  url: string;
  port: number;
  /** Everything printed on stdout and stderr so far (the last 4 MB). */
  output(): string;
  /** The same, line by line. */
  lines(): string[];
  /** The lines that are JSON objects (the gateway's log records), parsed. */
  logs(): Array<Record<string, unknown>>;
  exited: Promise<Exit>;
  /** Sends `signal` (default SIGTERM) unless the child has ended, and waits for the exit; SIGKILL after `killAfterMs`. */
  stop(signal?: NodeJS.Signals, killAfterMs?: number): Promise<Exit>;
}

const OUTPUT_CAP = 4 * 1024 * 1024;
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function gatewayBanner(line: string): string | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const record = JSON.parse(line) as { msg?: unknown; url?: unknown };
    return typeof record.msg === 'string' && record.msg.startsWith('Gateway ready at') && typeof record.url === 'string' ? record.url : undefined;
  } catch {
    return undefined;
  }
}

const simulatorBanner = (line: string): string | undefined => /^SPP simulator listening on (\S+) \(bound to /.exec(line)?.[1];

const parsed = (line: string): Array<Record<string, unknown>> => {
  if (!line.startsWith('{')) return [];
  try {
    return [JSON.parse(line) as Record<string, unknown>];
  } catch {
    return [];
  }
};

async function readyzAnswers(url: string): Promise<boolean> {
  try {
    const response = await fetch(new URL('/readyz', url), { signal: AbortSignal.timeout(5_000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

export function startProcess(options: StartOptions): Promise<Started> {
  const { entry, npm } = options;
  if ((entry === undefined) === (npm === undefined)) throw new Error('startProcess: give exactly one of entry and npm');
  const name = options.name ?? entry ?? `npm run ${npm}`;
  const match = options.banner === 'gateway' ? gatewayBanner : options.banner === 'simulator' ? simulatorBanner : options.banner;
  const waitReadyz = options.readyz ?? options.banner === 'gateway';
  const timeoutMs = options.timeoutMs ?? 60_000;

  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !CONFIG.test(key)));
  const [command, args] =
    npm !== undefined
      ? ['npm', npm === 'start' ? ['start'] : ['run', npm]]
      : [
          process.execPath,
          [
            ...(options.nodeArgs ?? []),
            ...(entry!.endsWith('.js') ? [] : ['--import', 'tsx']),
            ...(options.imports ?? []).flatMap((m) => ['--import', m]),
            entry!,
          ],
        ];
  const child = spawn(command, args, { cwd: ROOT, env: { ...inherited, ...options.env }, stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'] });
  running.add(child);

  let text = '';
  const output = (): string => text;
  const lines = (): string[] => text.split('\n').filter((line) => line !== '');
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );
  const stop = async (signal: NodeJS.Signals = 'SIGTERM', killAfterMs = 30_000): Promise<Exit> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    const exit = await exited;
    clearTimeout(timer);
    return exit;
  };

  return new Promise<Started>((resolve, reject) => {
    let settled = false;
    const fail = (reason: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      reject(new Error(`${name} ${reason}:\n${text}`));
    };
    const timer = setTimeout(() => fail(`was not ready within ${timeoutMs} ms`), timeoutMs);
    // 'exit' can come before the last lines are read: wait for the pipes to close (briefly: a
    // grandchild may hold them) so that the error carries what the process said last.
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    void exited.then(async ({ code, signal }) => {
      await Promise.race([closed, new Promise((r) => setTimeout(r, 1_000))]);
      fail(`exited (${signal ?? code}) before it was ready`);
    });

    const ready = async (url: string): Promise<void> => {
      if (waitReadyz) while (!settled && !(await readyzAnswers(url))) await new Promise((r) => setTimeout(r, 50));
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const port = Number(new URL(url).port);
      resolve({ child, url, port, output, lines, logs: () => lines().flatMap(parsed), exited, stop });
    };

    let found = false;
    const collect = (stream: NodeJS.ReadableStream, banner: boolean): void => {
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
        text += `${line}\n`;
        if (text.length > OUTPUT_CAP) text = text.slice(-OUTPUT_CAP / 2);
        if (!banner || found) return;
        const url = match(line);
        if (url === undefined) return;
        found = true;
        void ready(url);
      });
    };
    collect(child.stdout!, true);
    collect(child.stderr!, false);
  });
}
