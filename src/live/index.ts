/**
 * Live updates: the feeds behind `jobSessionEvents`, built once per gateway. Knows no transport:
 * src/transports/ hands subscribers in, this room polls SPP (feed.ts, shared through
 * registry.ts), diffs (events.ts) and queues events (queue.ts) for each subscriber
 * (service.ts), with its own metrics (metrics.ts).
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Env } from '../config.js';
import { JOB_SESSIONS } from '../lists/job-sessions.js';
import { createWindowReader, readWindow, type PageSizeMemory } from '../pagination/window.js';
import type { UpstreamIdentity } from '../upstream/session.js';
import type { SppClient } from '../upstream/spp-client.js';
import type { ServerHealth } from '../upstream/servers.js';
import { LiveMetrics } from './metrics.js';
import { InMemoryFeedRegistry } from './registry.js';
import { LiveService } from './service.js';
import { eventCursors } from './cursors.js';
import { CursorCodec } from '../pagination/cursor.js';
import type { SharedState } from '../state/index.js';

/** One SPP server as the feeds poll it (issue 21): its client, page-size memory and health. */
export interface LiveServer {
  name: string;
  spp: SppClient;
  pageSize: PageSizeMemory;
  health?: ServerHealth;
}

export function createLiveService(
  env: Env,
  deps: { servers: readonly LiveServer[]; registry: Registry; logger: Logger; state?: SharedState },
): { live: LiveService; metrics: LiveMetrics } {
  const byName = new Map(deps.servers.map((s) => [s.name, s]));
  const first = deps.servers[0]!;
  const metrics = new LiveMetrics(deps.registry);
  // Event cursors are signed like list cursors (the same CURSOR_SECRET, so they resume on any replica).
  const cursors = eventCursors(new CursorCodec(env.CURSOR_SECRET ? Buffer.from(env.CURSOR_SECRET, 'utf8') : randomBytes(32)));
  const feeds = new InMemoryFeedRegistry({
    // Resumable events (issue 20): every event passes through the shared log; a filter stays watched
    // SUBSCRIPTION_RESUME_MS after its last subscriber left, so a reconnect within it misses nothing.
    eventLog: deps.state?.eventLog({
      maxEvents: env.SUBSCRIPTION_RESUME_EVENTS,
      maxAgeMs: env.SUBSCRIPTION_RESUME_MS,
      watcherTtlMs: 2 * Math.max(env.SUBSCRIPTION_IDLE_POLL_MS, env.SUBSCRIPTION_MAX_BACKOFF_MS) + 5_000,
    }),
    cursorOf: (filter, id) => cursors.encode(filter, id),
    lingerMs: env.SUBSCRIPTION_RESUME_MS,
    window: env.SUBSCRIPTION_WINDOW,
    intervalMs: env.SUBSCRIPTION_POLL_MS,
    idleIntervalMs: env.SUBSCRIPTION_IDLE_POLL_MS,
    maxBackoffMs: env.SUBSCRIPTION_MAX_BACKOFF_MS,
    maxFeeds: env.SUBSCRIPTION_MAX_POLLERS,
    readerFor: (identity, server) => {
      const { spp, pageSize, health, name } = (server !== undefined ? byName.get(server) : undefined) ?? first;
      // Several replicas: each runs its own feed for its own subscribers (its own diff, replays
      // and history, so a replica that dies takes no one else's events with it), but their
      // polls share one upstream read per SUBSCRIPTION_POLL_MS slot through the shared state:
      // the first replica to poll in a slot reads SPP, the others read its answer. One process
      // has one feed per key, so the slot changes nothing there.
      // The first server keeps the key it had alone; the others' name their server (one identity
      // key may speak to several servers, e.g. a forwarded session id).
      const scope = name === first.name ? identity.key : `${identity.key}@${name}`;
      const slotted = (): UpstreamIdentity => ({
        key: `${scope} poll ${Math.floor(Date.now() / env.SUBSCRIPTION_POLL_MS)}`,
        sessionId: () => identity.sessionId(),
        renew: (stale) => identity.renew(stale),
      });
      // The page size SPP was seen to cap at is shared with queries (read when a feed starts).
      // Polls record the server's health (sppServers, spp_server_up): a server down is seen by its feeds too.
      const reader = createWindowReader(
        (params) => {
          const page = spp.listPage(slotted(), JOB_SESSIONS, params, { keepMs: env.SUBSCRIPTION_POLL_MS });
          return health ? health.track(page) : page;
        },
        pageSize,
        env.SPP_FANOUT_CONCURRENCY,
      );
      return (query, offset, count) => readWindow(reader, query, offset, count);
    },
    // Several servers: each poll names its server, as the upstream request series do (issue 21).
    onPoll: (outcome, _events, server) => metrics.polls.inc(deps.servers.length > 1 ? { outcome, server: server ?? first.name } : { outcome }),
    onSizeChange: (size) => metrics.pollers.set(size),
    logger: deps.logger,
  });
  const limits = { perCaller: env.SUBSCRIPTIONS_PER_IDENTITY, buffer: env.SUBSCRIPTION_BUFFER };
  const live = new LiveService(
    feeds,
    limits,
    metrics,
    cursors,
    deps.servers.map((s) => s.name),
  );
  return { live, metrics };
}
