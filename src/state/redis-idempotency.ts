/**
 * Idempotency keys in Redis. A claim is two keys:
 * - the record, SET NX PX for the claim's life (sealed fingerprint), replaced by the outcome for
 *   the window when the first submission settles, and announced to claims waiting on other replicas;
 * - a liveness key the claiming replica renews while its submission runs (ALIVE_MS). A replica
 *   that died mid-submission (issue 22, item 2) stops renewing it: waiting duplicates learn within
 *   ALIVE_MS that the outcome is unknown, and every later retry within the record's life gets the
 *   same answer, never a second submission.
 * Nothing here falls back to this process's memory: a claim Redis cannot answer is refused
 * (UPSTREAM_UNAVAILABLE, nothing done), since a local claim could act a second time for a key
 * another replica holds (issue 22, item 8).
 *
 * A Redis that restarts without persistence comes back empty: a retry would then find no record
 * and act a second time (seen in the soak's Redis restarts). So each replica keeps a copy of the
 * records it wrote (`mirror`), and an epoch key tells a Redis that lost its memory: its value
 * changes when a replica that knew the old one finds it gone. A replica that sees a new epoch
 * (at its reconnect, or at a claim) writes its copies back (SET NX, for their remaining life), and
 * every claim is refused for RESTORE_MS after a loss, while the replicas reconnect and restore.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { ErrorCode, gatewayError } from '../errors.js';
import type { Claim, IdempotencyStore, StoredOutcome } from './idempotency.js';
import type { Sealer } from './sealing.js';

export interface RedisIdempotencyOptions {
  commands: Redis;
  /** The Redis key of an idempotency key (prefixed, hashed). */
  name: (key: string) => string;
  sealer: Sealer;
  /** The pub/sub channel outcomes are announced on. */
  channel: string;
  /** Runs one Redis command; undefined when Redis failed (src/state/redis.ts). */
  attempt: <T>(operation: string, command: () => Promise<T>) => Promise<T | undefined>;
  /** How long a claim stays alive without its replica renewing it (default ALIVE_MS). */
  aliveMs?: number;
  /** How long claims are refused after Redis lost its memory (default RESTORE_MS). */
  restoreMs?: number;
}

/** How long claims are refused after Redis lost its memory: longer than a replica's reconnect (every 2 s at most, src/state/redis.ts) and restore. */
export const RESTORE_MS = 5_000;
/** Records a replica keeps a copy of (its own claims and outcomes within their life): a few hundred bytes each. */
const MIRROR_MAX = 50_000;

/** A claiming replica renews its liveness key every third of this; waiting duplicates give up on it this long after it stopped. */
export const ALIVE_MS = 10_000;

/** What a duplicate learns when the first submission's replica stopped before settling. */
export const OUTCOME_UNKNOWN: StoredOutcome = {
  ok: false,
  error: {
    message:
      'The first submission with this key did not finish (its gateway replica stopped): whether SPP acted is unknown. Check the job before submitting again with a new clientMutationId.',
    extensions: { code: ErrorCode.UPSTREAM_UNAVAILABLE },
  },
};

const restoring = () =>
  gatewayError(
    ErrorCode.UPSTREAM_UNAVAILABLE,
    "The gateway's shared state (Redis) restarted and lost its record of recent submissions; the gateway is restoring it: nothing was done. Try again in a few seconds.",
  );

const unreachable = () =>
  gatewayError(
    ErrorCode.UPSTREAM_UNAVAILABLE,
    "The gateway's shared state (Redis) does not answer, so it cannot make sure this submission acts once: nothing was done. Try again shortly.",
  );

/**
 * The epoch (KEYS[3]) as this replica should know it. Missing: a fresh Redis, or one that lost its
 * memory; it is created as `id|created|lost`, lost = 1 when the caller knew an epoch (ARGV[1]).
 * ARGV: known epoch ('' for none), a new id.
 */
const EPOCH = `
local epoch = redis.call('get', KEYS[3])
if not epoch then
  local t = redis.call('time')
  epoch = ARGV[2] .. '|' .. (tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)) .. '|' .. (ARGV[1] == '' and '0' or '1')
  redis.call('set', KEYS[3], epoch)
end`;

/**
 * Claims the record and marks it alive, atomically, in the epoch the caller knows: else -1 and
 * the epoch (the caller restores and asks again); -2 while claims are refused after a loss.
 * KEYS: record, alive, epoch. ARGV: known epoch, new id, sealed claim, ttl, alive ms, restore ms.
 */
const CLAIM = `${EPOCH}
if epoch ~= ARGV[1] then return {-1, epoch} end
local _, _, created, lost = string.find(epoch, '|(%d+)|(%d)$')
local t = redis.call('time')
if lost == '1' and tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(created) < tonumber(ARGV[6]) then return {-2} end
if not redis.call('set', KEYS[1], ARGV[3], 'PX', ARGV[4], 'NX') then return {0} end
redis.call('set', KEYS[2], '1', 'PX', ARGV[5])
return {1}`;

/** KEYS: epoch. ARGV: known epoch, a new id. Returns the epoch. */
const SYNC = `${EPOCH.replaceAll('KEYS[3]', 'KEYS[1]')}
return epoch`;

export class RedisIdempotencyStore implements IdempotencyStore {
  /** Claims waiting on this replica for an outcome, by Redis key. */
  private readonly settling = new Map<string, Set<(outcome: StoredOutcome) => void>>();
  /** This replica's claims in flight: their liveness renewals. */
  private readonly renewals = new Map<string, NodeJS.Timeout>();
  private readonly aliveMs: number;
  private readonly restoreMs: number;
  /** Copies of the records this replica wrote, by Redis key, until they expire there. */
  private readonly mirror = new LRUCache<string, { value: string; until: number }>({ max: MIRROR_MAX });
  /** The epoch of Redis's memory this replica knows; undefined before its first answer. */
  private epoch: string | undefined;
  private readonly epochKey: string;

  constructor(private readonly options: RedisIdempotencyOptions) {
    this.aliveMs = options.aliveMs ?? ALIVE_MS;
    this.restoreMs = options.restoreMs ?? RESTORE_MS;
    this.epochKey = `${options.channel}:epoch`;
    options.commands.defineCommand('claimIdempotency', { numberOfKeys: 3, lua: CLAIM });
    options.commands.defineCommand('syncIdempotency', { numberOfKeys: 1, lua: SYNC });
  }

  /** Redis answers again (a connect or reconnect): if it lost its memory meanwhile, write this replica's records back. */
  async recovered(): Promise<void> {
    const epoch = await this.options.attempt('idempotency', () =>
      (this.options.commands as unknown as { syncIdempotency(...args: string[]): Promise<string> }).syncIdempotency(
        this.epochKey,
        this.epoch ?? '',
        randomUUID(),
      ),
    );
    if (epoch !== undefined) await this.adopt(epoch);
  }

  private async adopt(epoch: string): Promise<void> {
    const lost = this.epoch !== undefined && this.epoch !== epoch;
    this.epoch = epoch;
    if (!lost) return;
    const { commands, attempt } = this.options;
    const now = Date.now();
    for (const [id, { value, until }] of this.mirror.entries()) {
      if (until > now) await attempt('idempotency', () => commands.set(id, value, 'PX', until - now, 'NX'));
    }
    // Claims still running here are alive: a duplicate must wait for their outcome, not call it unknown.
    for (const id of this.renewals.keys()) await attempt('idempotency', () => commands.set(`${id}:alive`, '1', 'PX', this.aliveMs));
  }

  async claim(key: string, fingerprint: string, ttlMs: number): Promise<Claim> {
    const { commands, sealer, attempt } = this.options;
    const id = this.options.name(key);
    const alive = `${id}:alive`;
    // A record gone between a failed SET NX and the read was settled with nothing kept (a refusal): claim again.
    for (let round = 0; round < 4; round++) {
      const sealed = sealer.seal(JSON.stringify({ f: fingerprint }), id);
      const answer = await attempt('idempotency', () =>
        (commands as unknown as { claimIdempotency(...args: Array<string | number>): Promise<[number, string?]> }).claimIdempotency(
          id,
          alive,
          this.epochKey,
          this.epoch ?? '',
          randomUUID(),
          sealed,
          Math.max(1, ttlMs),
          this.aliveMs,
          this.restoreMs,
        ),
      );
      if (answer === undefined) throw unreachable();
      const [claimed, epoch] = answer;
      if (claimed === -1) {
        await this.adopt(epoch ?? '');
        continue;
      }
      if (claimed === -2) throw restoring();
      if (claimed === 1) {
        this.mirror.set(id, { value: sealed, until: Date.now() + Math.max(1, ttlMs) });
        const timer = setInterval(() => void attempt('idempotency', () => commands.pexpire(alive, this.aliveMs)), Math.max(1, Math.floor(this.aliveMs / 3)));
        timer.unref();
        this.renewals.set(id, timer);
        return { first: true };
      }
      const { outcome, finish, cancel } = this.waiter(id, ttlMs);
      // Registered first, read second: an outcome settled in between is read here, one settled after is announced.
      const stored = await this.read(id);
      if (stored === undefined) {
        cancel();
        throw unreachable();
      }
      if (stored === null) {
        cancel();
        continue;
      }
      if (stored.o) finish(stored.o);
      else this.watch(id, finish);
      return { first: false, fingerprint: stored.f ?? fingerprint, outcome };
    }
    throw unreachable();
  }

  async settle(key: string, outcome: StoredOutcome, keepMs: number): Promise<void> {
    const { commands, sealer, attempt } = this.options;
    const id = this.options.name(key);
    clearInterval(this.renewals.get(id));
    this.renewals.delete(id);
    const stored = await this.read(id);
    // Redis unreachable: the fingerprint this replica claimed with, from its copy.
    const fingerprint = stored === undefined ? this.mirroredFingerprint(id) : stored?.f;
    if (keepMs > 0) {
      const value = sealer.seal(JSON.stringify({ f: fingerprint, o: outcome }), id);
      this.mirror.set(id, { value, until: Date.now() + keepMs });
      await attempt('idempotency', () => commands.set(id, value, 'PX', keepMs));
    } else {
      this.mirror.delete(id);
      await attempt('idempotency', () => commands.del(id));
    }
    await attempt('idempotency', () => commands.publish(this.options.channel, `${id} ${sealer.seal(JSON.stringify(outcome), id)}`));
    // Last: a duplicate that sees the claim dead reads the record again, and finds the outcome.
    await attempt('idempotency', () => commands.del(`${id}:alive`));
  }

  /** A message on the channel: `<redis key> <sealed outcome>`, settled on some replica. */
  onSettled(message: string): void {
    const space = message.indexOf(' ');
    const id = message.slice(0, space);
    const waiting = this.settling.get(id);
    const opened = waiting ? this.options.sealer.open(message.slice(space + 1), id) : null;
    if (waiting && opened !== null) for (const finish of [...waiting]) finish(JSON.parse(opened) as StoredOutcome);
  }

  private mirroredFingerprint(id: string): string | undefined {
    const copy = this.mirror.get(id);
    const opened = copy ? this.options.sealer.open(copy.value, id) : null;
    return opened === null ? undefined : (JSON.parse(opened) as { f?: string }).f;
  }

  /** The record: its fingerprint and outcome; null when there is none; undefined when Redis failed. */
  private async read(id: string): Promise<{ f?: string; o?: StoredOutcome } | null | undefined> {
    const sealed = await this.options.attempt('idempotency', () => this.options.commands.get(id));
    if (sealed === undefined) return undefined;
    if (sealed === null) return null;
    return JSON.parse(this.options.sealer.open(sealed, id) ?? '{}') as { f?: string; o?: StoredOutcome };
  }

  private waiter(id: string, ttlMs: number) {
    let resolveOutcome!: (outcome: StoredOutcome) => void;
    const outcome = new Promise<StoredOutcome>((resolve) => (resolveOutcome = resolve));
    let waiting = this.settling.get(id);
    if (!waiting) this.settling.set(id, (waiting = new Set()));
    // The claim's whole life at most (the record expires then).
    const timer = setTimeout(() => finish(OUTCOME_UNKNOWN), Math.max(1, ttlMs));
    timer.unref();
    let done = false;
    const finish = (settled: StoredOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      this.settling.get(id)?.delete(finish);
      if (this.settling.get(id)?.size === 0) this.settling.delete(id);
      resolveOutcome(settled);
    };
    waiting.add(finish);
    return { outcome, finish, cancel: () => finish(OUTCOME_UNKNOWN) };
  }

  /**
   * Follows a claim in flight on another replica: when its liveness key has expired (the replica
   * stopped renewing it) and the record still holds no outcome, the outcome is unknown.
   */
  private watch(id: string, finish: (outcome: StoredOutcome) => void): void {
    const { commands, attempt } = this.options;
    const check = async () => {
      if (!this.settling.get(id)?.has(finish)) return;
      const left = await attempt('idempotency', () => commands.pttl(`${id}:alive`));
      if (left !== undefined && left > 0) return void setTimeout(() => void check(), left + 50).unref();
      const stored = await this.read(id);
      if (stored?.o) return finish(stored.o);
      // Redis unreachable: look again shortly (the waiter's own timer bounds this).
      if (left === undefined || stored === undefined) return void setTimeout(() => void check(), this.aliveMs / 2).unref();
      finish(OUTCOME_UNKNOWN);
    };
    void check();
  }
}
