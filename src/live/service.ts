/**
 * What the Subscription resolvers call: turns a subscription into a bounded event queue fed
 * by the shared feed of (identity, filter), and enforces the per-identity limit.
 *
 * Transport-agnostic: the graphql-ws and graphql-sse adapters (src/transports/) hand in a
 * `LiveConnection`, which is told when one of its subscribers reads too slowly.
 */
import type { GraphQLError } from 'graphql';
import type { SppFilter, SppJobSession } from '../spp-api/types.js';
import type { UpstreamIdentity } from '../upstream/session.js';
import { badUserInput, gatewayError, ErrorCode } from '../errors.js';
import { isFinal, type JobSessionEventValue } from './events.js';
import { EventQueue } from './queue.js';
import type { FeedListener } from './feed.js';
import type { FeedRegistry } from './registry.js';
import type { LiveMetrics } from './metrics.js';
import { canonicalFilter, type EventCursors } from './cursors.js';

/** The connection a subscription runs on, as the transport sees it. */
export interface LiveConnection {
  /** A subscriber of this connection has more than the allowed events waiting: close the connection. */
  slowConsumer(waiting: number): void;
  /** The cursor of the event the transport is about to send (SSE writes it as the event's `id:`). */
  sent?(cursor: string): void;
}

/** A terminal error travelling through the event queue: the resolver throws it, the stream ends. */
export class LiveFailure {
  constructor(readonly error: GraphQLError) {}
}

export interface LiveLimits {
  /**
   * Subscriptions one caller may hold at once (SUBSCRIPTIONS_PER_IDENTITY): each gateway token,
   * user, session or anonymous address, even when all speak to SPP as one service account.
   */
  perCaller: number;
  /** Events waiting for one subscriber before its connection is closed (SUBSCRIPTION_BUFFER). */
  buffer: number;
}

export class LiveService {
  /** Subscriptions held, by caller (a consumer key, src/identity/consumer.ts). */
  private readonly perCaller = new Map<string, number>();

  constructor(
    readonly registry: FeedRegistry,
    private readonly limits: LiveLimits,
    private readonly metrics: LiveMetrics,
    /** Signs and reads event cursors (`after`). */
    readonly cursors?: EventCursors,
  ) {}

  /**
   * The events of `filter` (SPP filter objects; null: a filter that matches nothing, which
   * needs no poller) for `identity`, counted against `caller`'s limit.
   */
  jobSessionEvents(
    identity: UpstreamIdentity,
    caller: string,
    filter: SppFilter[] | null,
    from: { since?: number | undefined; after?: string | undefined },
    connection: LiveConnection,
  ): AsyncIterableIterator<JobSessionEventValue | LiveFailure> {
    if (from.since !== undefined && from.after !== undefined) throw badUserInput('Pass "since" or "after", not both.', 'after');
    // Checked before anything runs: a cursor of another filter is the caller's mistake.
    const after = from.after !== undefined && filter !== null ? this.cursors?.decode(filter, from.after) : undefined;
    const queue = this.open<JobSessionEventValue | LiveFailure>(caller, connection, (event) => {
      if (!(event instanceof LiveFailure) && event.cursor) connection.sent?.(event.cursor);
    });
    if (filter === null) return queue.iterator;
    const listener: FeedListener = {
      deliver: (events) => {
        for (const event of events) if (!queue.iterator.push(event)) return;
      },
      fail: (error) => {
        queue.iterator.push(new LiveFailure(error));
        queue.iterator.end();
      },
    };
    queue.attach(() => this.registry.join(this.specOf(identity, filter), listener, after !== undefined ? { after } : from.since));
    return queue.iterator;
  }

  /**
   * The session `sessionId` now, then whenever it changes; ends after a final status or when SPP
   * expires it. Fails with BAD_USER_INPUT when the identity sees no such session.
   */
  jobSessionUpdates(
    identity: UpstreamIdentity,
    caller: string,
    sessionId: string,
    connection: LiveConnection,
  ): AsyncIterableIterator<SppJobSession | LiveFailure> {
    const queue = this.open<SppJobSession | LiveFailure>(caller, connection);
    let first = true;
    const listener: FeedListener = {
      deliver: (events) => {
        if (first) {
          first = false;
          if (events.length === 0) {
            queue.iterator.push(new LiveFailure(badUserInput(`SPP has no job session with id ${sessionId} that this identity can see.`, 'id')));
            queue.iterator.end();
            return;
          }
        }
        for (const event of events) {
          if (event.session === null) return queue.iterator.end();
          if (!queue.iterator.push(event.session)) return;
          if (isFinal(event.session)) return queue.iterator.end();
        }
      },
      fail: (error) => {
        queue.iterator.push(new LiveFailure(error));
        queue.iterator.end();
      },
    };
    queue.attach(() => this.registry.join(this.specOf(identity, [{ property: 'id', value: [sessionId], op: 'IN' }]), listener, 'current'));
    return queue.iterator;
  }

  private specOf(identity: UpstreamIdentity, filter: SppFilter[]) {
    return { key: `${identity.key}\u0000${canonicalFilter(filter)}`, identity, filter };
  }

  /** A queue counted against the caller's limit; `attach` hands it the feed membership to end with it. */
  private open<T>(caller: string, connection: LiveConnection, onTake?: (item: T) => void): { iterator: EventQueue<T>; attach(join: () => () => void): void } {
    const held = this.perCaller.get(caller) ?? 0;
    if (held >= this.limits.perCaller) {
      this.metrics.refused.inc({ limit: 'per-caller' });
      throw gatewayError(
        ErrorCode.LIMIT_EXCEEDED,
        `This caller already holds ${held} subscriptions, the most allowed (SUBSCRIPTIONS_PER_IDENTITY): end one before starting another.`,
      );
    }
    this.perCaller.set(caller, held + 1);
    this.metrics.subscriptions.inc();
    let leave: (() => void) | undefined;
    let closed = false;
    const iterator: EventQueue<T> = new EventQueue<T>(
      this.limits.buffer,
      () => {
        this.metrics.slowConsumerDisconnects.inc();
        connection.slowConsumer(this.limits.buffer);
      },
      () => {
        closed = true;
        leave?.();
        this.metrics.subscriptions.dec();
        const count = (this.perCaller.get(caller) ?? 1) - 1;
        if (count > 0) this.perCaller.set(caller, count);
        else this.perCaller.delete(caller);
      },
      onTake,
    );
    return {
      iterator,
      attach: (join) => {
        let membership: () => void;
        try {
          membership = join();
        } catch (error) {
          void iterator.return();
          throw error;
        }
        // The queue may have ended already (a synchronous replay that failed): leave at once.
        if (closed) membership();
        else leave = membership;
      },
    };
  }
}

export { canonicalFilter } from './cursors.js';
