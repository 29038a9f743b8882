import type { JobSessionEventResolvers, SubscriptionResolvers } from '../__generated__/resolvers-types.js';
import type { GatewayContext } from './context.js';
import { translateFilter } from '../translate/filter.js';
import { badUserInput, gatewayError, ErrorCode } from '../errors.js';
import { LiveFailure, type LiveSource } from '../live/service.js';
import type { JobSessionEventValue } from '../live/events.js';
import type { SppJobSession } from '../spp-api/types.js';
import { jobSessionRefFrom } from './global-id.js';
import { statusOf } from './JobSession.js';

/**
 * The caller's upstream identity on each of `servers`, without the per-request loaders and
 * paginator of queries (a subscription may live for hours: it holds only what it needs).
 */
function sourcesOf(context: GatewayContext, servers: readonly string[]): LiveSource[] {
  const outcome = context.auth.authenticate(context.headers);
  if ('error' in outcome) throw outcome.error;
  return servers.map((server) => ({ server, identity: outcome.identityOn(server) }));
}

/** The servers named (default: all), each known to this gateway. */
function serversOf(context: GatewayContext, names: readonly string[] | null | undefined): readonly string[] {
  if (!names) return context.servers;
  const unique = [...new Set(names)];
  if (unique.length === 0) throw badUserInput('Argument "servers" must name at least one SPP server (see sppServers), or be left out for all.', 'servers');
  for (const name of unique) {
    if (!context.servers.includes(name)) {
      throw badUserInput(
        `Unknown SPP server ${JSON.stringify(name)}: this gateway reads ${context.servers.map((s) => JSON.stringify(s)).join(', ')} (see sppServers).`,
        'servers',
      );
    }
  }
  return unique;
}

function liveOf(context: GatewayContext): NonNullable<GatewayContext['live']> {
  if (!context.live) {
    throw gatewayError(
      ErrorCode.BAD_REQUEST,
      'Subscriptions are served over WebSocket (graphql-ws), Server-Sent Events (graphql-sse, "Accept: text/event-stream") or multipart HTTP ("Accept: multipart/mixed;subscriptionSpec=1.0") at this same URL, not over plain HTTP.',
    );
  }
  return context.live;
}

/** Payloads are the feed's values, or a LiveFailure that ends the stream with its error. */
function unwrap<T>(payload: T | LiveFailure): T {
  if (payload instanceof LiveFailure) throw payload.error;
  return payload;
}

export const Subscription: SubscriptionResolvers = {
  jobSessionEvents: {
    subscribe(_parent, args, context) {
      const live = liveOf(context);
      const sources = sourcesOf(context, serversOf(context, args.servers));
      const { filter, empty } = translateFilter(args.filter);
      return live.service.jobSessionEvents(
        sources,
        context.consumer().key,
        empty ? null : filter,
        // A Last-Event-ID (SSE reconnect) takes over from the `since` the stream was first opened with.
        args.after || !live.resumeAfter ? { since: args.since ?? undefined, after: args.after ?? undefined } : { after: live.resumeAfter },
        live.connection,
      );
    },
    // Several servers: the session's server travels with the event (JobSession.server, global ids).
    resolve: (payload: JobSessionEventValue | LiveFailure, _args: unknown, context: GatewayContext) => {
      const event = unwrap(payload);
      return event.server !== undefined ? { ...event, session: context.adopt(event.server, { session: event.session }).session } : event;
    },
  },
  jobSessionUpdated: {
    subscribe(_parent, { id }, context) {
      const live = liveOf(context);
      const { id: sessionId, server } = jobSessionRefFrom(id);
      // The id's server polls it, and no other (an id without one: the first server's).
      if (server !== undefined && !context.servers.includes(server)) {
        throw badUserInput(
          `Unknown SPP server ${JSON.stringify(server)} in this id: this gateway reads ${context.servers.map((s) => JSON.stringify(s)).join(', ')}.`,
          'id',
        );
      }
      const [source] = sourcesOf(context, [server ?? context.servers[0]!]);
      return live.service.jobSessionUpdates(source!, context.consumer().key, sessionId, live.connection);
    },
    resolve: (payload: SppJobSession | LiveFailure, { id }: { id: string }, context: GatewayContext) => {
      const session = unwrap(payload);
      return context.multiServer ? context.adopt(jobSessionRefFrom(id).server ?? context.servers[0]!, { session }).session : session;
    },
  },
};

export const JobSessionEvent: JobSessionEventResolvers = {
  cursor: (event) => event.cursor ?? '',
  server: (event, _args, context) => context.serverView(event.server ?? context.servers[0]!),
  previousStatus: (event) => (event.previousStatus === null ? null : statusOf(event.previousStatus)),
};
