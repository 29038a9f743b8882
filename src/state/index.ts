/**
 * Chooses the shared state once, at start-up (server.ts): Redis with REDIS_URL, memory otherwise.
 */
import type { Logger } from 'pino';
import { InMemoryState } from './memory.js';
import { RedisState, type StateMetrics } from './redis.js';
import type { SharedState } from './types.js';

export type { SharedState, Lease, OnceOptions } from './types.js';
export { Sealer, keyHasher, deriveKey } from './sealing.js';

export async function createSharedState(options: {
  redisUrl: string | undefined;
  prefix: string;
  secret: Buffer;
  leaseMs: number;
  timeoutMs: number;
  logger: Logger;
  metrics: StateMetrics;
}): Promise<SharedState> {
  if (!options.redisUrl) return new InMemoryState();
  const state = new RedisState({ ...options, url: options.redisUrl });
  await state.start();
  return state;
}
