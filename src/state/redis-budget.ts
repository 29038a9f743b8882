/**
 * Cost budgets in Redis: one bucket per consumer for every replica. Taking is one Lua script
 * (atomic: two replicas taking at the same moment cannot both spend the same points), on
 * Redis's own clock (TIME), so replicas whose clocks differ still agree. The arithmetic is
 * token-bucket.ts's. With Redis unreachable, each replica falls back to its own buckets
 * (a consumer then has one budget per replica) until Redis answers again.
 */
import type { Redis } from 'ioredis';
import { InMemoryBudgetStore, type BucketPolicy, type BudgetStore, type Taken } from './budgets.js';
import { outcome } from './token-bucket.js';

/** KEYS[1]: the bucket; ARGV: points, restore per second, cost. Returns allowed (0/1), available, now (ms). */
export const TAKE_BUDGET = `
local points = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local held = redis.call('HMGET', KEYS[1], 'a', 't')
local available = points
if held[1] then
  available = math.min(points, tonumber(held[1]) + math.max(0, now - tonumber(held[2])) * rate / 1000)
end
local allowed = 0
-- As take() in token-bucket.ts: a rounding short of the cost is enough (summed fractional refills).
if cost <= available + 1e-9 then
  available = math.max(0, available - cost)
  allowed = 1
end
redis.call('HSET', KEYS[1], 'a', tostring(available), 't', tostring(now))
local full = 1000
if rate > 0 then full = math.ceil((points - available) * 1000 / rate) + 1000 end
redis.call('PEXPIRE', KEYS[1], full)
return {allowed, tostring(available)}`;

export interface RedisBudgetOptions {
  commands: Redis;
  /** The Redis key of a consumer's bucket (prefixed, hashed). */
  name: (key: string) => string;
  /** Runs one Redis command; undefined when Redis failed (src/state/redis.ts). */
  attempt: <T>(operation: string, command: () => Promise<T>) => Promise<T | undefined>;
}

export class RedisBudgetStore implements BudgetStore {
  private readonly local = new InMemoryBudgetStore();

  constructor(private readonly options: RedisBudgetOptions) {
    options.commands.defineCommand('takeBudget', { numberOfKeys: 1, lua: TAKE_BUDGET });
  }

  async take(key: string, policy: BucketPolicy, cost: number): Promise<Taken> {
    const commands = this.options.commands as unknown as { takeBudget(...args: Array<string | number>): Promise<[number, string]> };
    const answer = await this.options.attempt('budget', () => commands.takeBudget(this.options.name(key), policy.points, policy.restorePerSecond, cost));
    if (answer === undefined) return this.local.take(key, policy, cost);
    return outcome(answer[0] === 1, Number(answer[1]), cost, policy, Date.now());
  }
}
