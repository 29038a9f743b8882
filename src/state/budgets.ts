/**
 * Cost budgets (token buckets, token-bucket.ts) per consumer: in this process, or in Redis so
 * that a consumer has one budget for all replicas (redis-budget.ts).
 */
import { LRUCache } from 'lru-cache';
import { take, type BucketPolicy, type BucketState, type Taken } from './token-bucket.js';

export type { BucketPolicy, Taken } from './token-bucket.js';

export interface BudgetStore {
  /** Takes `cost` points from `key`'s bucket (0: reads it). Never fails: an unreachable shared store falls back to this process's buckets. */
  take(key: string, policy: BucketPolicy, cost: number): Promise<Taken>;
}

export class InMemoryBudgetStore implements BudgetStore {
  // Bounded: a bucket forgotten is a full bucket, the state of a consumer not seen for a while.
  private readonly buckets = new LRUCache<string, BucketState>({ max: 100_000 });

  async take(key: string, policy: BucketPolicy, cost: number): Promise<Taken> {
    return this.takeNow(key, policy, cost);
  }

  takeNow(key: string, policy: BucketPolicy, cost: number, now = Date.now()): Taken {
    const taken = take(this.buckets.get(key), policy, cost, now);
    this.buckets.set(key, taken.state);
    return taken;
  }
}
