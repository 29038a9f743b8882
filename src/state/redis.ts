/**
 * Shared state in Redis (REDIS_URL): what lets several replicas behind a load balancer act
 * as one gateway towards SPP.
 *
 * - Keys are `REDIS_KEY_PREFIX` + a kind + an HMAC of the caller's name (an identity key, an
 *   upstream path with its filter): nothing in a key says who asked what, and two gateways
 *   with different prefixes share one Redis without meeting.
 * - Values and pub/sub messages are sealed (AES-256-GCM, src/state/sealing.ts) with a sub-key of
 *   SESSION_SECRET, bound to their key: SPP session ids and answers are never stored in clear.
 * - Single flight across replicas (`once`): a lease (SET NX PX, the pattern of Redis's own
 *   SET documentation) elects the replica that calls SPP; the others join (counted in Redis)
 *   and wait for its notice on one pub/sub channel, at most REDIS_LEASE_MS, then read the kept
 *   answer, or run the work themselves. Taking-or-joining is one script, and the leader's
 *   release, the kept answer and the notice another, so a joined waiter cannot miss the answer;
 *   a leader nobody joined publishes nothing and, with no cache, stores nothing.
 * - Redis down or slow (no answer within REDIS_TIMEOUT_MS) never fails a request: every
 *   operation falls back to the per-process behaviour, the first failure is logged as a warning,
 *   `shared_state_degraded` turns 1 and `shared_state_errors_total` counts; the first success
 *   after it logs the recovery. ioredis reconnects by itself.
 */
import { randomBytes } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { InMemoryLRUCache, type KeyValueCache, type KeyValueCacheSetOptions } from '@apollo/utils.keyvaluecache';
import { verifiedCaller, type Lease, type OnceOptions, type SharedState } from './types.js';
import type { IdempotencyStore } from './idempotency.js';
import { RedisIdempotencyStore } from './redis-idempotency.js';
import { RedisBudgetStore } from './redis-budget.js';
import type { BudgetStore } from './budgets.js';
import { RedisEventLog } from './redis-event-log.js';
import type { EventLog, EventLogBounds } from './event-log.js';
import { keyHasher, Sealer } from './sealing.js';
import type { Counter, Gauge } from 'prom-client';

export interface StateMetrics {
  /** Redis operations that failed or timed out (each fell back to per-process behaviour). */
  errors: Counter<'operation'>;
  /** 1 while Redis is unreachable. */
  degraded: Gauge;
  /** Cross-replica single flights by outcome: led (called SPP), joined (another replica's answer), kept (stored answer), local (fallback). */
  flights: Counter<'outcome'>;
}

export interface RedisStateOptions {
  url: string;
  prefix: string;
  /** SESSION_SECRET. */
  secret: Buffer;
  /** How long a single-flight leader holds its lease and others wait for its answer. */
  leaseMs: number;
  /** Budget of one Redis command before falling back. */
  timeoutMs: number;
  logger: Logger;
  metrics: StateMetrics;
}

/**
 * Takes the lease, or joins the flight that holds it (counted, so that its leader keeps the
 * answer for the waiters). One script: a caller either joined before the leader finished, or
 * finds the lease gone and leads itself.
 */
const ACQUIRE = `
if redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return 1 end
redis.call('incr', KEYS[2])
redis.call('pexpire', KEYS[2], ARGV[2])
return 0`;
/**
 * Releases the leader's lease (if still its own), keeps the answer when one is given (the answer
 * cache), and notifies the callers that joined, if any: atomically. Returns how many joined.
 * The notice carries no answer: a large page crosses Redis only when someone reads it.
 */
const FINISH = `
if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('del', KEYS[1]) end
local joined = tonumber(redis.call('get', KEYS[3]) or '0')
redis.call('del', KEYS[3])
if ARGV[3] ~= '' then redis.call('set', KEYS[2], ARGV[3], 'PX', ARGV[4]) end
if joined > 0 and ARGV[5] ~= '' then redis.call('publish', ARGV[2], ARGV[5]) end
return joined`;
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** How long a registered persisted query stays in Redis (seconds): a day, renewed by re-registration. */
export const APQ_TTL_S = 86_400;

/** Resolved with '+' when the leader's answer is kept for reading, null when the waiter must run the work itself. */
type Waiter = (value: string | null) => void;

export class RedisState implements SharedState {
  readonly kind = 'redis' as const;
  private readonly commands: Redis;
  private readonly subscriber: Redis;
  private readonly hash: (name: string) => string;
  private readonly sealer: Sealer;
  private readonly prefix: string;
  private readonly flightChannel: string;
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly handlers = new Map<string, { name: string; handlers: Set<(message: string) => void> }>();
  /** Created on first use; told of outcomes announced by other replicas. */
  private idempotencyStore: RedisIdempotencyStore | undefined;
  private budgetStore: RedisBudgetStore | undefined;
  private readonly idempotencyChannel: string;
  private degraded = false;
  private closed = false;

  constructor(private readonly options: RedisStateOptions) {
    this.prefix = options.prefix;
    this.hash = keyHasher(options.secret, 'redis keys');
    this.sealer = new Sealer(options.secret, 'redis values');
    this.flightChannel = `${this.prefix}flight`;
    this.idempotencyChannel = `${this.prefix}idempotency`;
    const common: RedisOptions = {
      // Reconnect forever, at most every 2 s: Redis coming back is noticed without a restart.
      retryStrategy: (times) => Math.min(100 * times, 2_000),
      connectTimeout: Math.max(options.timeoutMs, 1_000),
      lazyConnect: true,
    };
    // Commands never queue while disconnected and never wait past the budget: they fall back at once.
    this.commands = new Redis(options.url, { ...common, enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: options.timeoutMs });
    this.commands.defineCommand('acquireFlight', { numberOfKeys: 2, lua: ACQUIRE });
    this.commands.defineCommand('finishFlight', { numberOfKeys: 3, lua: FINISH });
    this.commands.defineCommand('renewLease', { numberOfKeys: 1, lua: RENEW });
    this.commands.defineCommand('releaseLease', { numberOfKeys: 1, lua: RELEASE });
    // The subscriber keeps its subscriptions across reconnects (ioredis resubscribes).
    this.subscriber = new Redis(options.url, { ...common, maxRetriesPerRequest: null });
    this.subscriber.on('message', (channel: string, message: string) => this.onMessage(channel, message));
    for (const connection of [this.commands, this.subscriber]) {
      connection.on('error', (error: Error) => this.failed('connection', error));
      // A connection lost: waiters would never hear their answer; they run the work themselves now.
      connection.on('close', () => this.releaseWaiters());
    }
    // A Redis that came back empty gets this replica's idempotency records back (redis-idempotency.ts).
    this.commands.on('ready', () => void (this.recovered(), this.idempotencyStore?.recovered()));
  }

  /** Connects both connections within `timeoutMs`; a Redis that is down at start-up leaves the gateway degraded, not stopped. */
  async start(): Promise<void> {
    // Subscribed whatever the connect's outcome (issue 22): ioredis re-subscribes on reconnect only
    // channels it already holds, so a subscription chained after a failed connect never happened and a
    // Redis that came up later carried no notices. Queued offline, it is sent once Redis answers.
    const connect = Promise.all([this.commands.connect(), this.subscriber.connect()]);
    this.subscriber.subscribe(this.flightChannel, this.idempotencyChannel).catch((error: unknown) => this.failed('subscribe', error));
    const budget = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`no answer within ${Math.max(this.options.timeoutMs, 1_000)} ms`)), Math.max(this.options.timeoutMs, 1_000)).unref(),
    );
    try {
      await Promise.race([connect, budget]);
      this.options.logger.info(
        { prefix: this.prefix },
        'shared state: Redis connected; sessions, upstream single flight, answer cache and persisted queries are shared with every replica',
      );
    } catch (error) {
      connect.catch(() => undefined);
      this.failed('connect', error);
    }
  }

  async once(key: string, compute: () => Promise<string>, options: OnceOptions): Promise<string> {
    const id = this.hash(key);
    const answerKey = `${this.prefix}answer:${id}`;
    const leaseKey = `${this.prefix}lease:${id}`;
    const joinKey = `${this.prefix}joined:${id}`;
    if (options.keepMs > 0) {
      const kept = await this.attempt('get', () => this.commands.get(answerKey));
      const value = kept ? this.sealer.open(kept, answerKey) : null;
      if (value !== null && value !== options.reject) {
        this.options.metrics.flights.inc({ outcome: 'kept' });
        return value;
      }
    }
    // Waiting starts before the lease is tried: an answer published in between is not missed.
    const answer = this.waitFor(id);
    const token = randomBytes(12).toString('base64url');
    const acquired = await this.attempt('lease', () =>
      (this.commands as unknown as { acquireFlight(...args: Array<string | number>): Promise<number> }).acquireFlight(
        leaseKey,
        joinKey,
        token,
        this.options.leaseMs,
      ),
    );
    if (acquired !== 0) answer.cancel();
    if (acquired === undefined) {
      this.options.metrics.flights.inc({ outcome: 'local' });
      return compute();
    }
    if (acquired === 1) {
      this.options.metrics.flights.inc({ outcome: 'led' });
      let value: string;
      try {
        value = await compute();
      } catch (error) {
        void this.finish([leaseKey, answerKey, joinKey], token, id, null, 0);
        throw error;
      }
      void this.finish([leaseKey, answerKey, joinKey], token, id, value, options.keepMs);
      return value;
    }
    const notice = await answer.promise;
    const kept = notice === null ? undefined : await this.attempt('get', () => this.commands.get(answerKey));
    const published = kept ? this.sealer.open(kept, answerKey) : null;
    if (published !== null && published !== options.reject) {
      this.options.metrics.flights.inc({ outcome: 'joined' });
      return published;
    }
    this.options.metrics.flights.inc({ outcome: 'local' });
    return compute();
  }

  async publish(channel: string, message: string): Promise<void> {
    const name = `${this.prefix}channel:${this.hash(channel)}`;
    const sent = await this.attempt('publish', () => this.commands.publish(name, this.sealer.seal(message, name)));
    // Unreachable Redis: at least this replica hears it.
    if (sent === undefined) this.handlers.get(name)?.handlers.forEach((handler) => handler(message));
  }

  subscribe(channel: string, handler: (message: string) => void): void {
    const name = `${this.prefix}channel:${this.hash(channel)}`;
    let entry = this.handlers.get(name);
    if (!entry) {
      this.handlers.set(name, (entry = { name, handlers: new Set() }));
      this.subscriber.subscribe(name).catch((error: unknown) => this.failed('subscribe', error));
    }
    entry.handlers.add(handler);
  }

  eventLog(bounds: EventLogBounds): EventLog {
    const { commands, sealer } = this;
    const attempt = <T>(operation: string, command: () => Promise<T>) => this.attempt(operation, command);
    return new RedisEventLog({ commands, sealer, attempt, bounds, name: (log) => `${this.prefix}events:${this.hash(`events ${log}`)}`, hash: this.hash });
  }

  async lease(name: string, ttlMs: number): Promise<Lease | null> {
    const key = `${this.prefix}lease:${this.hash(`lease ${name}`)}`;
    const token = randomBytes(12).toString('base64url');
    const acquired = await this.attempt('lease', () => this.commands.set(key, token, 'PX', ttlMs, 'NX'));
    // Unreachable Redis: no lease (a per-process one could be a second holder, issue 22 item 12).
    if (acquired !== 'OK') return null;
    return {
      renew: async () => {
        const renewed = await this.attempt('lease', () =>
          (this.commands as unknown as { renewLease(k: string, t: string, ms: number): Promise<number> }).renewLease(key, token, ttlMs),
        );
        // Unreachable Redis: the lease may expire and be taken meanwhile, so the holder stops.
        return renewed === 1;
      },
      release: async () => {
        await this.attempt('lease', () => (this.commands as unknown as { releaseLease(k: string, t: string): Promise<number> }).releaseLease(key, token));
      },
    };
  }

  async remember(set: string, member: string, ttlMs: number): Promise<boolean> {
    const name = `${this.prefix}set:${this.hash(set)}`;
    const now = Date.now();
    const done = await this.attempt('set', () =>
      this.commands
        .multi()
        .zremrangebyscore(name, '-inf', now)
        .zadd(name, now + ttlMs, this.sealer.seal(member, name))
        .pexpire(name, ttlMs)
        .exec(),
    );
    return done !== undefined;
  }

  async members(set: string): Promise<string[] | null> {
    const name = `${this.prefix}set:${this.hash(set)}`;
    const sealed = await this.attempt('get', () => this.commands.zrangebyscore(name, Date.now(), '+inf'));
    return sealed === undefined ? null : sealed.map((entry) => this.sealer.open(entry, name)).filter((member): member is string => member !== null);
  }

  onReconnect(handler: () => void): void {
    // The subscriber's 'ready': at start and after every outage, once pub/sub delivers again.
    this.subscriber.on('ready', handler);
  }

  /**
   * Apollo's APQ store: a document registered on one replica runs on the others. Documents are
   * kept in this process too (bounded by size), so an unreachable Redis costs nothing for those
   * already seen. Only verified callers' documents reach Redis, and for APQ_TTL_S at most: an
   * unauthenticated caller could otherwise fill it until every shared write fails (issue 22, item 3).
   */
  persistedQueries(): KeyValueCache<string> {
    const local = new InMemoryLRUCache<string>();
    return {
      get: async (key) => {
        const here = await local.get(key);
        if (here !== undefined) return here;
        const name = `${this.prefix}apq:${this.hash(key)}`;
        const sealed = await this.attempt('apq', () => this.commands.get(name));
        const value = sealed ? this.sealer.open(sealed, name) : null;
        if (value === null) return undefined;
        await local.set(key, value);
        return value;
      },
      set: async (key, value, options?: KeyValueCacheSetOptions) => {
        await local.set(key, value, options);
        if (verifiedCaller.getStore() !== true) return;
        const name = `${this.prefix}apq:${this.hash(key)}`;
        const ttl = Math.min(Math.ceil(options?.ttl ?? APQ_TTL_S), APQ_TTL_S);
        await this.attempt('apq', () => this.commands.set(name, this.sealer.seal(value, name), 'EX', Math.max(1, ttl)));
      },
      delete: async (key) => {
        await local.delete(key);
        await this.attempt('apq', () => this.commands.del(`${this.prefix}apq:${this.hash(key)}`));
        return true;
      },
    };
  }

  /** Idempotency keys in Redis (redis-idempotency.ts): one store per gateway, told of outcomes settled on other replicas. */
  idempotency(): IdempotencyStore {
    this.idempotencyStore ??= new RedisIdempotencyStore({
      commands: this.commands,
      name: (key) => `${this.prefix}idempotency:${this.hash(key)}`,
      sealer: this.sealer,
      channel: this.idempotencyChannel,
      attempt: (operation, command) => this.attempt(operation, command),
    });
    if (this.commands.status === 'ready') void this.idempotencyStore.recovered(); // its epoch now, else at 'ready'
    return this.idempotencyStore;
  }

  /** Cost budgets in Redis (redis-budget.ts): one per consumer for all replicas, this process's own while Redis is down. */
  budgets(): BudgetStore {
    this.budgetStore ??= new RedisBudgetStore({
      commands: this.commands,
      name: (key) => `${this.prefix}budget:${this.hash(key)}`,
      attempt: (operation, command) => this.attempt(operation, command),
    });
    return this.budgetStore;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.releaseWaiters();
    // No QUIT: with Redis unreachable it would wait for a reconnection that shutdown must not wait for.
    this.commands.disconnect();
    this.subscriber.disconnect();
  }

  /**
   * Ends a flight. With a cache (keepMs) the answer is stored and the joined notified in one
   * script; without, the answer is sealed and stored (briefly) only when someone joined, then
   * announced: a replica alone pays one small script per upstream GET.
   */
  private async finish(keys: [string, string, string], token: string, id: string, value: string | null, keepMs: number): Promise<void> {
    const run = (sealed: string, ms: number, notice: string) =>
      this.attempt('publish', () =>
        (this.commands as unknown as { finishFlight(...args: Array<string | number>): Promise<number> }).finishFlight(
          ...keys,
          token,
          this.flightChannel,
          sealed,
          ms,
          notice,
        ),
      );
    if (value === null) {
      await run('', 0, `${id} -`);
      return;
    }
    if (keepMs > 0) {
      await run(this.sealer.seal(value, keys[1]), keepMs, `${id} +`);
      return;
    }
    const joined = await run('', 0, '');
    if (!joined) return;
    // Joined callers read it within moments of the notice (sent after it on this connection, so after it is stored).
    const briefly = Math.min(this.options.leaseMs, 5_000);
    void this.attempt('set', () => this.commands.set(keys[1], this.sealer.seal(value, keys[1]), 'PX', briefly));
    await this.attempt('publish', () => this.commands.publish(this.flightChannel, `${id} +`));
  }

  private waitFor(id: string): { promise: Promise<string | null>; cancel(): void } {
    let set = this.waiters.get(id);
    if (!set) this.waiters.set(id, (set = new Set()));
    let done: Waiter = () => undefined;
    const promise = new Promise<string | null>((resolve) => {
      const timer = setTimeout(() => finish(null), this.options.leaseMs);
      const finish: Waiter = (value) => {
        clearTimeout(timer);
        const waiting = this.waiters.get(id);
        waiting?.delete(finish);
        if (waiting?.size === 0) this.waiters.delete(id);
        resolve(value);
      };
      done = finish;
      set.add(finish);
    });
    return { promise, cancel: () => done(null) };
  }

  private onMessage(channel: string, message: string): void {
    if (channel === this.flightChannel) {
      const space = message.indexOf(' ');
      const id = message.slice(0, space);
      const waiting = this.waiters.get(id);
      if (!waiting) return;
      // '+': the answer is kept for the waiters to read; '-': the leader failed.
      const value = message.slice(space + 1) === '+' ? '+' : null;
      for (const waiter of [...waiting]) waiter(value);
      return;
    }
    if (channel === this.idempotencyChannel) {
      this.idempotencyStore?.onSettled(message);
      return;
    }
    const entry = this.handlers.get(channel);
    if (!entry) return;
    const value = this.sealer.open(message, channel);
    if (value !== null) entry.handlers.forEach((handler) => handler(value));
  }

  private releaseWaiters(): void {
    for (const waiting of [...this.waiters.values()]) for (const waiter of [...waiting]) waiter(null);
  }

  /** Runs one Redis command; undefined when Redis failed (logged once per outage, counted every time). */
  private async attempt<T>(operation: string, command: () => Promise<T>): Promise<T | undefined> {
    if (this.closed) return undefined;
    try {
      const result = await command();
      if (this.degraded) this.recovered();
      return result;
    } catch (error) {
      this.failed(operation, error);
      return undefined;
    }
  }

  private failed(operation: string, error: unknown): void {
    if (this.closed) return;
    this.options.metrics.errors.inc({ operation });
    if (this.degraded) return;
    this.degraded = true;
    this.options.metrics.degraded.set(1);
    this.options.logger.warn(
      { operation, err: { name: (error as Error)?.name, message: (error as Error)?.message } },
      'shared state: Redis is unreachable or slow; each replica works on its own (own SPP logins, single flight and cache) until it answers again',
    );
  }

  private recovered(): void {
    if (!this.degraded) return;
    this.degraded = false;
    this.options.metrics.degraded.set(0);
    this.options.logger.info('shared state: Redis answers again; replicas share sessions, single flight and cache again');
  }
}
