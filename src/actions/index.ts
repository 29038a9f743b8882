/**
 * Everything that changes SPP (actions.ts): advertised links (links.ts), idempotency through the
 * shared state, audit lines (audit.ts). Never retried, shared, cached or redirected.
 */
import type { Env } from '../config.js';
import type { SharedState } from '../state/index.js';
import type { SppClient } from '../upstream/spp-client.js';
import { Actions } from './actions.js';

export { Actions } from './actions.js';

export function createActions(env: Env, deps: { spp: SppClient; state: SharedState; server?: string }): Actions {
  return new Actions({
    spp: deps.spp,
    // Shared by every replica with REDIS_URL (src/state/).
    store: deps.state.idempotency(),
    ...(deps.server !== undefined ? { server: deps.server } : {}),
    windowMs: env.IDEMPOTENCY_WINDOW_MS,
    sessionWaitMs: env.ACTION_SESSION_WAIT_MS,
  });
}
