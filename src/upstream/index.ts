/**
 * The upstream room: the one got client for SPP (spp-client.ts), its sessions (session.ts) and
 * the validation of its answers (validate.ts). Imports nothing above it: what it reports to
 * (metrics) and shares through (state) are interfaces handed in.
 */
import type { Logger } from 'pino';
import type { Env } from '../config.js';
import type { SharedState } from '../state/index.js';
import { SppClient, type SppClientOptions, type UpstreamMetrics } from './spp-client.js';

export { SppClient, type UpstreamMetrics } from './spp-client.js';

/** An SPP client with the per-server settings of the environment (SPP_*). */
export function createSppClient(
  env: Env,
  baseUrl: string,
  deps: {
    ca: string | Buffer | undefined;
    metrics: UpstreamMetrics;
    shared: SharedState;
    sharedScope?: string;
    logger: Logger;
    extend?: SppClientOptions['extend'];
  },
): SppClient {
  return new SppClient({
    metrics: deps.metrics,
    shared: deps.shared,
    ...(deps.sharedScope ? { sharedScope: deps.sharedScope } : {}),
    baseUrl,
    connectTimeoutMs: env.SPP_CONNECT_TIMEOUT_MS,
    responseTimeoutMs: env.SPP_RESPONSE_TIMEOUT_MS,
    retryLimit: env.SPP_RETRY_LIMIT,
    maxRetryAfterMs: env.SPP_MAX_RETRY_AFTER_MS,
    maxSockets: env.SPP_MAX_SOCKETS,
    ca: deps.ca,
    tlsInsecure: env.SPP_TLS_INSECURE,
    cacheTtlMs: env.SPP_CACHE_TTL_MS,
    cacheMaxEntries: env.SPP_CACHE_MAX_ENTRIES,
    logger: deps.logger,
    ...(deps.extend ? { extend: deps.extend } : {}),
  });
}
