/**
 * Composes the simulator: generated data + store, login sessions, faults, the HTTP(S) server,
 * and the in-process control surface that tests and the gateway's embedded mode use.
 */
import { createServer as createHttpServer, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { SppJobSession } from '../spp-api/types.js';
import { DEFAULT_SESSION_IDLE_MS, DEFAULT_USERS, LoginSessions } from './auth.js';
import { FaultInjector, type SimFault } from './faults.js';
import { generateSessions } from './generator.js';
import { mulberry32 } from './rng.js';
import type { HandlerContext, HandlerSettings } from './context.js';
import { createRequestHandler } from './http.js';
import { compileFilters, normalizeSorts } from './query.js';
import { SessionStore } from './store.js';
import type { SimRequestLogEntry, Simulator, SimulatorOptions } from './types.js';

export const DEFAULT_SEED = 1;
/** The IBM page's example total. */
export const DEFAULT_SIZE = 4877;
export const DEFAULT_MAX_PAGE_SIZE = 10_000;
export const DEFAULT_HOST = '127.0.0.1';
/**
 * The request log keeps at most this many entries (the oldest half is dropped when it
 * overflows) so that a long benchmark or a standalone instance does not grow without bound.
 */
export const REQUEST_LOG_LIMIT = 100_000;

function checkNonNegative(name: string, v: number | undefined, integer = false): void {
  if (v === undefined) return;
  if (!Number.isFinite(v) || v < 0 || (integer && !Number.isInteger(v))) {
    throw new RangeError(`SimulatorOptions.${name} must be a ${integer ? 'whole ' : ''}number >= 0, got ${String(v)}`);
  }
}

function checkOptions(o: Pick<SimulatorOptions, 'latency' | 'faults' | 'sessionIdleMs' | 'maxPageSize'>): void {
  checkNonNegative('latency.fixedMs', o.latency?.fixedMs);
  checkNonNegative('latency.jitterMs', o.latency?.jitterMs);
  for (const k of ['errorRate', 'hangRate', 'dropRate'] as const) {
    const v = o.faults?.[k];
    checkNonNegative(`faults.${k}`, v);
    if (v !== undefined && v > 1) throw new RangeError(`SimulatorOptions.faults.${k} must be at most 1, got ${v}`);
  }
  if (o.sessionIdleMs !== undefined && !(o.sessionIdleMs > 0)) throw new RangeError('SimulatorOptions.sessionIdleMs must be > 0');
  if (o.maxPageSize !== undefined && !(Number.isInteger(o.maxPageSize) && o.maxPageSize >= 1)) {
    throw new RangeError('SimulatorOptions.maxPageSize must be a whole number >= 1');
  }
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  checkOptions(options);
  checkNonNegative('size', options.size, true);
  const clock = options.clock ?? Date.now;
  const seed = options.seed ?? DEFAULT_SEED;
  const now = options.now ?? clock();
  const store = new SessionStore(generateSessions({ seed, size: options.size ?? DEFAULT_SIZE, now }), mulberry32(seed ^ 0x9e3779b9), seed);
  const logins = new LoginSessions(options.users ?? DEFAULT_USERS, clock, options.sessionIdleMs ?? DEFAULT_SESSION_IDLE_MS);
  // Separate streams so that turning faults or jitter on does not change live-mode data.
  const faults = new FaultInjector({ ...options.faults }, mulberry32(seed ^ 0x85ebca6b));
  const settings: HandlerSettings = {
    maxPageSize: options.maxPageSize ?? DEFAULT_MAX_PAGE_SIZE,
    latency: { fixedMs: options.latency?.fixedMs ?? 0, jitterMs: options.latency?.jitterMs ?? 0 },
    quirks: {
      totalAlwaysZero: options.quirks?.totalAlwaysZero ?? false,
      ignorePageSize: options.quirks?.ignorePageSize ?? false,
      cancelledSpelling: options.quirks?.cancelledSpelling ?? false,
    },
  };
  store.setCancelledSpelling(settings.quirks.cancelledSpelling);

  const requests: SimRequestLogEntry[] = [];
  const sockets = new Set<Socket>();
  const held = new Set<ServerResponse>();
  const timers = new Map<NodeJS.Timeout, (ok: boolean) => void>();
  let closing = false;
  const host = options.host ?? DEFAULT_HOST;
  const protocol = options.tls ? 'https' : 'http';
  let port = 0;

  const ctx: HandlerContext = {
    store,
    logins,
    faults,
    clock,
    settings,
    rng: mulberry32(seed ^ 0xc2b2ae35),
    protocol,
    get fallbackHost() {
      return `${urlHost(host)}:${port}`;
    },
    log: (entry) => {
      if (requests.push(entry) > REQUEST_LOG_LIMIT) requests.splice(0, REQUEST_LOG_LIMIT / 2);
    },
    hold: (res) => {
      held.add(res);
      res.on('close', () => held.delete(res));
    },
    delay: (ms) =>
      new Promise<boolean>((resolve) => {
        if (closing) return resolve(false);
        const t = setTimeout(() => {
          timers.delete(t);
          resolve(!closing);
        }, ms);
        timers.set(t, resolve);
      }),
  };

  const handle = createRequestHandler(ctx);
  let lastArrival = 0;
  let pending = 0;
  const handler = (req: Parameters<typeof handle>[0], res: ServerResponse) => {
    lastArrival = Date.now();
    pending++;
    res.once('close', () => pending--);
    return handle(req, res);
  };
  const server: Server = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, handler) : createHttpServer(handler);
  // Benchmarks drive many keep-alive requests per connection; keep idle sockets a while.
  server.keepAliveTimeout = 65_000;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const url = `${protocol}://${urlHost(host)}:${port}`;

  const step: Simulator['step'] = (opts) => store.step(clock(), opts);

  let liveTimer: NodeJS.Timeout | undefined;
  if (options.live) {
    const { intervalMs, insertPerTick = 1, expirePerTick = 0 } = options.live;
    if (!(intervalMs > 0)) throw new RangeError('SimulatorOptions.live.intervalMs must be > 0');
    liveTimer = setInterval(() => step({ insert: insertPerTick, expire: expirePerTick }), intervalMs);
    liveTimer.unref();
  }

  let closed: Promise<void> | undefined;

  return {
    url,
    port,
    requests,
    clearRequests: () => {
      requests.length = 0;
    },
    async quiet(quietMs = 100, timeoutMs = 10_000) {
      for (const until = Date.now() + timeoutMs; Date.now() < until; await new Promise((r) => setTimeout(r, 20))) {
        if (pending === 0 && Date.now() - lastArrival >= quietMs) return true;
      }
      return false;
    },
    list(params = {}) {
      let allowedTypes: string[] | undefined;
      if (params.user !== undefined) {
        const user = logins.userNamed(params.user);
        if (!user) throw new Error(`Simulator.list: unknown user "${params.user}"`);
        allowedTypes = user.allowedTypes;
      }
      const filter = compileFilters(params.filter ?? []);
      const sorts = normalizeSorts(params.sort ?? []);
      return [...store.query({ filter, sorts, allowedTypes, now: clock() })];
    },
    get: (id: string): SppJobSession | undefined => store.get(id),
    jobs(params = {}) {
      const user = params.user === undefined ? undefined : logins.userNamed(params.user);
      if (params.user !== undefined && !user) throw new Error(`Simulator.jobs: unknown user "${params.user}"`);
      return store.jobs(clock()).filter((j) => user?.allowedTypes === undefined || user.allowedTypes.includes(String(j.type)));
    },
    logOf(sessionId: string) {
      const session = store.get(sessionId);
      return session ? store.logs.entriesOf(session) : [];
    },
    step,
    configure(opts) {
      checkOptions(opts);
      if (opts.latency) settings.latency = { ...settings.latency, ...opts.latency };
      if (opts.faults) faults.rates = { ...faults.rates, ...opts.faults };
      if (opts.quirks) {
        settings.quirks = { ...settings.quirks, ...opts.quirks };
        store.setCancelledSpelling(settings.quirks.cancelledSpelling);
      }
      if (opts.sessionIdleMs !== undefined) logins.idleMs = opts.sessionIdleMs;
      if (opts.maxPageSize !== undefined) settings.maxPageSize = opts.maxPageSize;
    },
    failNext: (...list: SimFault[]) => faults.enqueue(list),
    expireLoginSessions: () => logins.clear(),
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing = true;
        if (liveTimer) clearInterval(liveTimer);
        for (const [t, resolveDelay] of timers) {
          clearTimeout(t);
          resolveDelay(false);
        }
        timers.clear();
        server.close(() => resolve());
        for (const res of held) res.destroy();
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
      });
      return closed;
    },
  };
}
