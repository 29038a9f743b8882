/**
 * Chooses the shared state once, at start-up (server.ts): Redis with REDIS_URL, memory otherwise.
 */
import type { Logger } from 'pino';
import { InMemoryState } from './memory.js';
import { RedisState, type RedisStateOptions } from './redis.js';
import type { SharedState } from './types.js';

export type { SharedState, Lease, OnceOptions } from './types.js';
export { Sealer, keyHasher, deriveKey } from './sealing.js';

export async function createSharedState(options: Omit<RedisStateOptions, 'url'> & { redisUrl: string | undefined }): Promise<SharedState> {
  if (!options.redisUrl) return new InMemoryState();
  const state = new RedisState({ ...options, url: options.redisUrl });
  await state.start();
  return state;
}
