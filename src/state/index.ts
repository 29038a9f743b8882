/**
 * The shared-state room: what replicas of the gateway share, behind one interface (types.ts),
 * in this process's memory (memory.ts) or in Redis (redis.ts, redis-idempotency.ts), with the
 * idempotency of actions (idempotency.ts) and the keys and sealing derived from SESSION_SECRET
 * (sealing.ts). Above the ground floor only: it imports nothing of the gateway's other rooms.
 * `createSharedState` chooses the implementation once, at start-up (gateway.ts): Redis with
 * REDIS_URL, memory otherwise.
 */
import { randomBytes } from 'node:crypto';
import type { Env } from '../config.js';
import { InMemoryState } from './memory.js';
import { RedisState, type RedisStateOptions } from './redis.js';
import type { SharedState } from './types.js';

export type { SharedState } from './types.js';
export { verifiedCaller } from './types.js';
export { Sealer, deriveKey } from './sealing.js';
export type { BudgetStore, BucketPolicy, Taken } from './budgets.js';

export async function createSharedState(
  env: Pick<Env, 'REDIS_URL' | 'REDIS_KEY_PREFIX' | 'REDIS_LEASE_MS' | 'REDIS_TIMEOUT_MS'>,
  options: Pick<RedisStateOptions, 'logger' | 'metrics'> & { secret: Buffer | undefined },
): Promise<SharedState> {
  if (!env.REDIS_URL) return new InMemoryState();
  const state = new RedisState({
    ...options,
    url: env.REDIS_URL,
    prefix: env.REDIS_KEY_PREFIX,
    // config.ts refuses REDIS_URL without SESSION_SECRET; memory never seals anything.
    secret: options.secret ?? randomBytes(32),
    leaseMs: env.REDIS_LEASE_MS,
    timeoutMs: env.REDIS_TIMEOUT_MS,
  });
  await state.start();
  return state;
}
export type { EventLog } from './event-log.js';
export { compareLogIds, gapEntry, headOf, isLogId } from './event-log.js';
