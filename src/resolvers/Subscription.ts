import type { JobSessionEventResolvers, SubscriptionResolvers } from '../__generated__/resolvers-types.js';
import type { GatewayContext } from './context.js';
import { translateFilter } from '../translate/filter.js';
import { badUserInput, gatewayError, ErrorCode } from '../errors.js';
import { LiveFailure } from '../live/service.js';
import { jobSessionRefFrom } from './global-id.js';
import { statusOf } from './JobSession.js';

/**
 * The caller's upstream identity, without the per-request loaders and paginator of queries
 * (a subscription may live for hours: it holds only what it needs).
 */
function identityOf(context: GatewayContext) {
  const outcome = context.auth.authenticate(context.headers);
  if ('error' in outcome) throw outcome.error;
  return outcome.identity;
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
      const identity = identityOf(context);
      const { filter, empty } = translateFilter(args.filter);
      return live.service.jobSessionEvents(
        identity,
        context.consumer().key,
        empty ? null : filter,
        // A Last-Event-ID (SSE reconnect) takes over from the `since` the stream was first opened with.
        args.after || !live.resumeAfter ? { since: args.since ?? undefined, after: args.after ?? undefined } : { after: live.resumeAfter },
        live.connection,
      );
    },
    resolve: unwrap,
  },
  jobSessionUpdated: {
    subscribe(_parent, { id }, context) {
      const live = liveOf(context);
      const { id: sessionId, server } = jobSessionRefFrom(id);
      // Live feeds poll the first SPP server only (issue 21, not done for the others): never watch another server's namesake.
      if (server !== undefined && server !== context.servers[0]) {
        throw badUserInput(`Live updates cover the SPP server "${context.servers[0]}" only; this id is of "${server}".`, 'id');
      }
      return live.service.jobSessionUpdates(identityOf(context), context.consumer().key, sessionId, live.connection);
    },
    resolve: unwrap,
  },
};

export const JobSessionEvent: JobSessionEventResolvers = {
  cursor: (event) => event.cursor ?? '',
  previousStatus: (event) => (event.previousStatus === null ? null : statusOf(event.previousStatus)),
};
