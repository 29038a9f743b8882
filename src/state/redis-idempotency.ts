/**
 * Idempotency keys in Redis: a claim is SET NX PX (sealed fingerprint), the outcome replaces it
 * for the window and is announced to claims waiting on other replicas. A claim whose first
 * replica died before settling resolves, when it expires, to an error that says the outcome is
 * unknown: never to a second submission. With Redis unreachable, claims fall back to this
 * process's store (a repeated submission then acts once per replica).
 */
import type { Redis } from 'ioredis';
import { InMemoryIdempotencyStore, type Claim, type IdempotencyStore, type StoredOutcome } from './idempotency.js';
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
}

export class RedisIdempotencyStore implements IdempotencyStore {
  private readonly local = new InMemoryIdempotencyStore();
  private readonly localKeys = new Set<string>();
  /** Claims waiting on this replica for an outcome, by Redis key. */
  private readonly settling = new Map<string, Set<(outcome: StoredOutcome) => void>>();

  constructor(private readonly options: RedisIdempotencyOptions) {}

  async claim(key: string, fingerprint: string, ttlMs: number): Promise<Claim> {
    const { commands, sealer, attempt } = this.options;
    const id = this.options.name(key);
    if (this.localKeys.has(key)) return this.local.claim(key, fingerprint, ttlMs);
    const claimed = await attempt('idempotency', () => commands.set(id, sealer.seal(JSON.stringify({ f: fingerprint }), id), 'PX', Math.max(1, ttlMs), 'NX'));
    if (claimed === undefined) {
      this.localKeys.add(key);
      return this.local.claim(key, fingerprint, ttlMs);
    }
    if (claimed === 'OK') return { first: true };
    let resolveOutcome!: (outcome: StoredOutcome) => void;
    const outcome = new Promise<StoredOutcome>((resolve) => (resolveOutcome = resolve));
    let waiting = this.settling.get(id);
    if (!waiting) this.settling.set(id, (waiting = new Set()));
    const timer = setTimeout(
      () =>
        finish({
          ok: false,
          error: {
            message:
              'The first submission with this key did not finish (its gateway replica stopped): whether SPP acted is unknown. Check the job before submitting again with a new clientMutationId.',
            extensions: { code: 'UPSTREAM_UNAVAILABLE' },
          },
        }),
      Math.max(1, ttlMs),
    );
    timer.unref();
    const finish = (settled: StoredOutcome) => {
      clearTimeout(timer);
      this.settling.get(id)?.delete(finish);
      if (this.settling.get(id)?.size === 0) this.settling.delete(id);
      resolveOutcome(settled);
    };
    waiting.add(finish);
    // Registered first, read second: an outcome settled in between is read here, one settled after is announced.
    const sealed = await attempt('idempotency', () => commands.get(id));
    const stored = sealed ? (JSON.parse(sealer.open(sealed, id) ?? '{}') as { f?: string; o?: StoredOutcome }) : {};
    if (stored.o) finish(stored.o);
    return { first: false, fingerprint: stored.f ?? fingerprint, outcome };
  }

  async settle(key: string, outcome: StoredOutcome, keepMs: number): Promise<void> {
    const { commands, sealer, attempt } = this.options;
    if (this.localKeys.delete(key)) return this.local.settle(key, outcome, keepMs);
    const id = this.options.name(key);
    const sealed = await attempt('idempotency', () => commands.get(id));
    const fingerprint = sealed ? (JSON.parse(sealer.open(sealed, id) ?? '{}') as { f?: string }).f : undefined;
    if (keepMs > 0) await attempt('idempotency', () => commands.set(id, sealer.seal(JSON.stringify({ f: fingerprint, o: outcome }), id), 'PX', keepMs));
    else await attempt('idempotency', () => commands.del(id));
    await attempt('idempotency', () => commands.publish(this.options.channel, `${id} ${sealer.seal(JSON.stringify(outcome), id)}`));
  }

  /** A message on the channel: `<redis key> <sealed outcome>`, settled on some replica. */
  onSettled(message: string): void {
    const space = message.indexOf(' ');
    const id = message.slice(0, space);
    const waiting = this.settling.get(id);
    const opened = waiting ? this.options.sealer.open(message.slice(space + 1), id) : null;
    if (waiting && opened !== null) for (const finish of [...waiting]) finish(JSON.parse(opened) as StoredOutcome);
  }
}
