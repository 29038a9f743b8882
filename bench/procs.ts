/**
 * Child servers for the benchmark: the SPP simulator and gateways, each its own `node`
 * process so that the load generator (this process) does not share an event loop with
 * what it measures.
 *
 * - Started as `node --import tsx <entry>` rather than through the `tsx` CLI: the CLI runs
 *   the program in a grandchild, and the pid we hold must be the process that serves, for
 *   /proc/<pid>/status (RSS) and for a clean kill.
 * - Every port is chosen by the kernel (PORT=0 / SIM_PORT=0) and read back from the banner
 *   the server prints (test/support/processes.ts, shared with the tests), so there is no
 *   probe-then-bind race; everything binds 127.0.0.1.
 * - Every child is tracked: `stopAll` ends them (SIGTERM, then SIGKILL after a grace), and an
 *   `exit` hook SIGKILLs whatever is left when this process ends by any path that runs JS.
 *   For paths that do not (SIGKILL of the benchmark), bench/orphan-guard.mjs makes each
 *   child exit when its stdin pipe from us closes.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { startProcess, type Banner } from '../test/support/processes.js';

const GUARD = new URL('./orphan-guard.mjs', import.meta.url).href;

export interface Server {
  name: string;
  pid: number;
  /** e.g. http://127.0.0.1:41234 (no trailing slash, no path) */
  base: string;
  child: ChildProcess;
  /** The last lines the child printed (for error messages). */
  output(): string;
}

const children = new Set<ChildProcess>();

process.on('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

const GC_ON_SIGNAL = new URL('./gc-on-signal.mjs', import.meta.url).href;

async function startServer(
  name: string,
  entry: string,
  env: Record<string, string>,
  banner: Banner,
  timeoutMs: number,
  nodeArgs: string[] = [],
): Promise<Server> {
  // stdin stays a pipe from us: the orphan guard ends the child when it closes. Compiled JavaScript
  // (dist/, as deployed) runs without tsx, which costs about 40 MiB of RSS.
  const started = await startProcess({ name, entry, env, banner, timeoutMs, nodeArgs, imports: [GUARD], stdin: 'pipe' });
  const { child } = started;
  children.add(child);
  child.once('exit', () => children.delete(child));
  const base = new URL(started.url).origin;
  if (!base.startsWith('http://127.0.0.1:')) throw new Error(`${name} is not on 127.0.0.1: ${base}`);
  return { name, pid: child.pid!, base, child, output: () => started.lines().slice(-30).join('\n') };
}

export interface SimulatorSettings {
  latencyMs: number;
}

export function startSimulator(name: string, settings: SimulatorSettings): Promise<Server> {
  return startServer(
    name,
    'src/simulator/cli.ts',
    {
      SIM_HOST: '127.0.0.1',
      SIM_PORT: '0',
      SIM_SEED: '1',
      SIM_LATENCY_MS: String(settings.latencyMs),
      SIM_JITTER_MS: '0',
    },
    'simulator',
    60_000,
  );
}

/** bench/sim-sites.ts: `count` simulated SPP sites in one process, latency as a deadline from each request's arrival. */
export interface Sites {
  server: Server;
  /** One base URL per site (no trailing slash). */
  bases: string[];
  /** Per site: job-session list GETs, and requests of any kind, answered so far. */
  counts(): Promise<{ lists: number[]; all: number[] }>;
}

export async function startSites(count: number, latencyMs: number): Promise<Sites> {
  const server = await startServer(
    'sites',
    'bench/sim-sites.ts',
    { BENCH_SITES: String(count), BENCH_SPP_LATENCY_MS: String(latencyMs) },
    (line) => /^Sites ready: (http:\/\/\S+)/.exec(line)?.[1],
    60_000,
  );
  const urls = /^Sites ready: (.*)$/m.exec(server.output())?.[1]?.split(' ') ?? [];
  const [control, ...bases] = urls.map((u) => new URL(u).origin);
  if (!control || bases.length !== count || !bases.every((b) => b.startsWith('http://127.0.0.1:')))
    throw new Error(`sites printed no addresses:\n${server.output()}`);
  return { server, bases, counts: async () => (await (await fetch(control)).json()) as { lists: number[]; all: number[] } };
}

export interface GatewaySettings {
  pageSizeCap?: number;
  fanoutConcurrency?: number;
  cacheTtlMs?: number;
  /** Lets `forceGc` run a full collection in this gateway (memory figure only). */
  gcOnSignal?: boolean;
  /** Extra `node` flags, e.g. `--cpu-prof` (bench/profile.ts). */
  nodeArgs?: string[];
  /** More gateway variables (the soak's shorter upstream timeouts). */
  env?: Record<string, string>;
  /** Run dist/main.js (`npm run build` first) with plain `node`, as deployed, instead of src/main.ts under tsx. */
  deployed?: boolean;
}

export function startGateway(name: string, upstream: Server, settings: GatewaySettings = {}): Promise<Server> {
  return startServer(
    name,
    settings.deployed ? 'dist/main.js' : 'src/main.ts',
    {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'warn',
      SPP_URL: upstream.base,
      SPP_USERNAME: 'admin',
      SPP_PASSWORD: 'admin-password',
      GATEWAY_ALLOW_ANONYMOUS: 'true',
      // The load generator is one consumer: its budget refills faster than any load, so budgets run (and cost what they cost) but never refuse.
      QUOTA_RESTORE_PER_S: '1000000000',
      // Fixed so that no "random per-process key" warning is printed; any 16+ characters do.
      CURSOR_SECRET: 'bench-cursor-secret-0123456789abcdef',
      // The gateway's own defaults unless a step asks otherwise.
      ...(settings.pageSizeCap !== undefined ? { SPP_PAGE_SIZE_CAP: String(settings.pageSizeCap) } : {}),
      ...(settings.fanoutConcurrency !== undefined ? { SPP_FANOUT_CONCURRENCY: String(settings.fanoutConcurrency) } : {}),
      ...(settings.cacheTtlMs !== undefined ? { SPP_CACHE_TTL_MS: String(settings.cacheTtlMs) } : {}),
      ...settings.env,
    },
    'gateway',
    60_000,
    [...(settings.nodeArgs ?? []), ...(settings.gcOnSignal ? ['--expose-gc', '--import', GC_ON_SIGNAL] : [])],
  );
}

/** Ends one child: SIGTERM (graceful shutdown), SIGKILL if it is still there after `graceMs`. */
export async function stop(server: Server, graceMs = 3_000): Promise<void> {
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((child) => stop({ name: '', pid: child.pid!, base: '', child, output: () => '' })));
}

/** Asks a gateway started with `gcOnSignal` for a full GC and gives it time to finish. */
export async function forceGc(server: Server): Promise<void> {
  server.child.kill('SIGUSR2');
  await new Promise((resolve) => setTimeout(resolve, 1_000));
}

/** Resident set now and its high-water mark, in MB, from /proc/<pid>/status (Linux). */
export function rssOf(pid: number): { rssMb: number; hwmMb: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

/** The baseline gateway (bench/baseline/gateway.ts): Apollo Server + got, no extras; NODE_ENV=production like the gateway (graphql-js's development checks alone cost it about 4 % of CPU). */
export async function startBaseline(name: string, upstream: Server, nodeArgs: string[] = []): Promise<Server & { counter: string }> {
  const server = await startServer(
    name,
    'bench/baseline/gateway.ts',
    { NODE_ENV: 'production', HOST: '127.0.0.1', PORT: '0', SPP_URL: upstream.base },
    (line) => /^Baseline ready at (http:\/\/\S+)/.exec(line)?.[1],
    60_000,
    nodeArgs,
  );
  const counter = /counter (http:\/\/127\.0\.0\.1:\d+)/.exec(server.output())?.[1];
  if (!counter) throw new Error(`${name} printed no counter address:\n${server.output()}`);
  return { ...server, counter };
}

/**
 * CPU time (user + system) a process has used, in ms, from /proc/<pid>/stat (Linux; clock
 * ticks of 10 ms). CPU per request is the figure that survives a shared machine: other
 * tenants slow a process down but do not add to its own CPU time.
 */
export function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at state, field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return Number.NaN;
  }
}
