/**
 * The shared-state seam (docs/architecture.md#the-seams): what replicas of the gateway share, behind one
 * interface. `gateway.ts` chooses the implementation once: in memory (one process, the default)
 * or Redis (REDIS_URL). Feature code never asks which one it has.
 *
 * Contract common to both:
 * - Nothing here ever fails a request that SPP could answer: an implementation that cannot
 *   reach its store runs the work locally (and says so in its own logs and metrics).
 * - Values are strings; the Redis implementation seals every value and hashes every key, so
 *   callers may hand it secrets (SPP session ids) and identity keys.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { KeyValueCache } from '@apollo/utils.keyvaluecache';
import type { IdempotencyStore } from './idempotency.js';
import type { BudgetStore } from './budgets.js';
import type { EventLog, EventLogBounds } from './event-log.js';

export interface OnceOptions {
  /**
   * How long the answer is kept for later callers (the answer cache, SPP_CACHE_TTL_MS; a
   * shared login for its session's life). 0 keeps nothing: only callers at the same moment share.
   */
  keepMs: number;
  /** A kept answer equal to this is not taken (a session id SPP just refused). */
  reject?: string;
}

export interface Lease {
  /** Extends the lease by its ttl; false when it was lost (expired and taken by another holder). */
  renew(): Promise<boolean>;
  release(): Promise<void>;
}

export interface SharedState {
  /** `memory` or `redis`: for logs and the start-up banner, never for decisions. */
  readonly kind: 'memory' | 'redis';
  /**
   * Runs `compute` once for `key` among every caller asking at the same moment, on every
   * replica (single flight), and keeps its answer `keepMs`. A failure is not shared or kept.
   * In memory this is `compute()` itself: within one process the callers' own in-flight maps
   * and caches (SppClient, LoginSession) already share, at no cost.
   */
  once(key: string, compute: () => Promise<string>, options: OnceOptions): Promise<string>;
  /** Delivers `message` to every `subscribe`r of `channel` on every replica, this one included. */
  publish(channel: string, message: string): Promise<void>;
  subscribe(channel: string, handler: (message: string) => void): void;
  /**
   * A lease on `name` that one holder has at a time, for `ttlMs` unless renewed (per-identity
   * work that must run once per cluster, such as a live-updates poller). Null while another
   * holder has it. When the store is unreachable nobody gets one, and a holder's renew says it
   * lost it: two holders at once would be worse than none for a while (issue 22, item 12).
   */
  lease(name: string, ttlMs: number): Promise<Lease | null>;
  /**
   * Adds `member` to the durable set `set` for `ttlMs`: every replica's `members(set)` lists it
   * until then, including replicas started later or that missed a `publish` (revoked tokens).
   * False when the store could not be reached (nothing was recorded).
   */
  remember(set: string, member: string, ttlMs: number): Promise<boolean>;
  /** The members of `set` still alive; null when the store is unreachable. */
  members(set: string): Promise<string[] | null>;
  /** Calls `handler` each time the store is reached again (at start, after an outage): messages sent meanwhile were missed. */
  onReconnect(handler: () => void): void;
  /** Apollo's store of automatic persisted queries; undefined keeps Apollo's in-memory default. */
  persistedQueries(): KeyValueCache<string> | undefined;
  /** Where actions' idempotency keys live (src/state/idempotency.ts): a repeated submission acts once on any replica. */
  idempotency(): IdempotencyStore;
  /** Where consumers' cost budgets live (src/state/budgets.ts): one per consumer on every replica with Redis. */
  budgets(): BudgetStore;
  /** The logs resumable subscriptions read from (src/state/event-log.ts): on every replica the same ids. */
  eventLog(bounds: EventLogBounds): EventLog;
  close(): Promise<void>;
}

/**
 * Whether the request being served comes from a caller the gateway verified (src/identity/):
 * what a caller sends is stored in shared state only then (issue 22, item 3: anyone could fill
 * Redis with automatic persisted queries). Set by the HTTP front around each request.
 */
export const verifiedCaller = new AsyncLocalStorage<boolean>();
