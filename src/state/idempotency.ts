/**
 * Idempotency of actions: a repeated submission acts once.
 *
 * A key names one submission (caller, mutation, clientMutationId; or, without a
 * clientMutationId, caller, mutation and input while the first is in flight). The first claim
 * acts; every later claim of the same key, concurrent or within the time its outcome is kept,
 * waits for and receives the first outcome without calling SPP (the caller decides how long an
 * outcome is kept: src/actions/actions.ts).
 *
 * The store sits behind this interface so that replicas can share it (issue 14: a Redis
 * implementation, chosen once at start-up); outcomes are therefore plain JSON.
 */
import { LRUCache } from 'lru-cache';

/** What a first submission produced: the payload, or the error a client saw (message and extensions). */
export type StoredOutcome = { ok: true; value: unknown } | { ok: false; error: { message: string; extensions: Record<string, unknown> } };

export type Claim =
  /** This caller is first: it acts, then settles the key. */
  | { first: true }
  /** Someone was first; `fingerprint` is their input's, `outcome` resolves when they settle. */
  | { first: false; fingerprint: string; outcome: Promise<StoredOutcome> };

export interface IdempotencyStore {
  /** Claims `key` atomically for at most `ttlMs` (a claim never settled expires then). */
  claim(key: string, fingerprint: string, ttlMs: number): Promise<Claim>;
  /** Records the first outcome; later claims get it for `keepMs` from now (0: only those already waiting). */
  settle(key: string, outcome: StoredOutcome, keepMs: number): Promise<void>;
}

interface Entry {
  fingerprint: string;
  outcome: Promise<StoredOutcome>;
  resolve: (outcome: StoredOutcome) => void;
}

/** The default store: one process's memory (bounded: the least recently used keys go first). */
export class InMemoryIdempotencyStore implements IdempotencyStore {
  private readonly entries: LRUCache<string, Entry>;

  constructor(maxEntries = 100_000) {
    this.entries = new LRUCache({ max: maxEntries, ttlAutopurge: false });
  }

  async claim(key: string, fingerprint: string, ttlMs: number): Promise<Claim> {
    const existing = this.entries.get(key);
    if (existing) return { first: false, fingerprint: existing.fingerprint, outcome: existing.outcome };
    let resolve: (outcome: StoredOutcome) => void = () => undefined;
    const outcome = new Promise<StoredOutcome>((r) => (resolve = r));
    this.entries.set(key, { fingerprint, outcome, resolve }, { ttl: Math.max(1, ttlMs) });
    return { first: true };
  }

  async settle(key: string, outcome: StoredOutcome, keepMs: number): Promise<void> {
    const entry = this.entries.get(key);
    if (!entry) return;
    entry.resolve(outcome);
    entry.outcome = Promise.resolve(outcome);
    if (keepMs <= 0) this.entries.delete(key);
    else this.entries.set(key, entry, { ttl: keepMs });
  }
}
