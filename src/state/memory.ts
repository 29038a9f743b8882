/**
 * Shared state of one process (no REDIS_URL): nothing leaves memory.
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { InMemoryLRUCache, type KeyValueCache } from '@apollo/utils.keyvaluecache';
import type { Lease, OnceOptions, SharedState } from './types.js';
import { InMemoryIdempotencyStore, type IdempotencyStore } from './idempotency.js';
import { InMemoryBudgetStore, type BudgetStore } from './budgets.js';
import { InMemoryEventLog, type EventLog, type EventLogBounds } from './event-log.js';

export class InMemoryState implements SharedState {
  readonly kind = 'memory' as const;
  private readonly bus = new EventEmitter().setMaxListeners(0);
  private readonly budgetStore = new InMemoryBudgetStore();
  private readonly leases = new Map<string, { token: string; until: number }>();
  private readonly sets = new Map<string, Map<string, number>>();
  private apq: KeyValueCache<string> | undefined;

  once(_key: string, compute: () => Promise<string>, _options: OnceOptions): Promise<string> {
    return compute();
  }

  async publish(channel: string, message: string): Promise<void> {
    this.bus.emit(channel, message);
  }

  subscribe(channel: string, handler: (message: string) => void): void {
    this.bus.on(channel, handler);
  }

  async lease(name: string, ttlMs: number): Promise<Lease | null> {
    const held = this.leases.get(name);
    if (held && held.until > Date.now()) return null;
    const token = randomBytes(8).toString('hex');
    this.leases.set(name, { token, until: Date.now() + ttlMs });
    return {
      renew: async () => {
        const current = this.leases.get(name);
        if (current?.token !== token) return false;
        current.until = Date.now() + ttlMs;
        return true;
      },
      release: async () => {
        if (this.leases.get(name)?.token === token) this.leases.delete(name);
      },
    };
  }

  async remember(set: string, member: string, ttlMs: number): Promise<boolean> {
    let members = this.sets.get(set);
    if (!members) this.sets.set(set, (members = new Map<string, number>()));
    const now = Date.now();
    for (const [name, until] of members) if (until <= now) members.delete(name);
    members.set(member, now + ttlMs);
    return true;
  }

  async members(set: string): Promise<string[] | null> {
    const now = Date.now();
    return [...(this.sets.get(set) ?? [])].filter(([, until]) => until > now).map(([name]) => name);
  }

  onReconnect(): void {
    // One process: nothing to miss.
  }

  /** Apollo's own default (an LRU bounded by size), made here so that the subscription transports share it with queries. */
  persistedQueries(): KeyValueCache<string> {
    return (this.apq ??= new InMemoryLRUCache<string>());
  }

  idempotency(): IdempotencyStore {
    return new InMemoryIdempotencyStore();
  }

  budgets(): BudgetStore {
    return this.budgetStore;
  }

  eventLog(bounds: EventLogBounds): EventLog {
    return new InMemoryEventLog(bounds);
  }

  async close(): Promise<void> {
    this.bus.removeAllListeners();
  }
}
