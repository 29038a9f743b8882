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
import { badUserInput, gatewayError, serverFailure, ErrorCode } from '../errors.js';
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

/** One SPP server a subscriber watches, and the identity it speaks to that server as. */
export interface LiveSource {
  server: string;
  identity: UpstreamIdentity;
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
    /**
     * The SPP servers, in configuration order (issue 21). With more than one, every feed is keyed
     * by its server and subscribers of `jobSessionEvents` get cursors holding a position per server.
     */
    readonly servers: readonly string[] = ['default'],
  ) {}

  /** Whether feeds and cursors name their server (several SPP servers). */
  get multiServer(): boolean {
    return this.servers.length > 1;
  }

  /**
   * The events of `filter` (SPP filter objects; null: a filter that matches nothing, which
   * needs no poller) on each source's server, merged into one stream, counted against
   * `caller`'s limit as one subscription.
   */
  jobSessionEvents(
    sources: readonly LiveSource[],
    caller: string,
    filter: SppFilter[] | null,
    from: { since?: number | undefined; after?: string | undefined },
    connection: LiveConnection,
  ): AsyncIterableIterator<JobSessionEventValue | LiveFailure> {
    if (from.since !== undefined && from.after !== undefined) throw badUserInput('Pass "since" or "after", not both.', 'after');
    if (this.multiServer) return this.across(sources, caller, filter, from, connection);
    const { identity, server } = sources[0]!;
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
    queue.attach(() => this.registry.join(this.specOf(identity, filter, server), listener, after !== undefined ? { after } : from.since));
    return queue.iterator;
  }

  /**
   * Several servers: one feed per (server, identity, filter), their events interleaved as they
   * arrive (each server's in its own order). The subscriber remembers, per server, the log id
   * its deliveries continue after; every event's cursor carries all of them, so a resume on any
   * replica continues each server's log exactly after what this subscriber was handed. A server
   * whose position was not known yet (its feed had not polled) resumes live, from the new join.
   */
  private across(
    sources: readonly LiveSource[],
    caller: string,
    filter: SppFilter[] | null,
    from: { since?: number | undefined; after?: string | undefined },
    connection: LiveConnection,
  ): AsyncIterableIterator<JobSessionEventValue | LiveFailure> {
    const names = sources.map((s) => s.server);
    const resumed = from.after !== undefined && filter !== null ? this.cursors?.across.decode(filter, names, from.after) : undefined;
    const queue = this.open<JobSessionEventValue | LiveFailure>(caller, connection, (event) => {
      if (!(event instanceof LiveFailure) && event.cursor) connection.sent?.(event.cursor);
    });
    if (filter === null) return queue.iterator;
    const positions = new Map(resumed);
    // Servers whose position is the feed's head as it told it (no event yet, no cursor): a feed that
    // moves its head before any event (a takeover that logged a gap) moves it here too.
    const told = new Set<string>();
    const cursor = () => this.cursors?.across.encode(filter, names, positions);
    queue.attach(() => {
      const memberships: Array<() => void> = [];
      const leave = () => memberships.forEach((membership) => membership());
      try {
        for (const { server, identity } of sources) {
          const listener: FeedListener = {
            deliver: (events) => {
              for (const event of events) {
                if (event.position !== undefined) {
                  positions.set(server, event.position);
                  told.delete(server);
                }
                if (!queue.iterator.push({ ...event, server, cursor: cursor() })) return;
              }
            },
            // A refusal by one server (or its cursor expired) ends the stream, naming the server:
            // continuing without it would let the subscriber believe it sees every server.
            fail: (error) => {
              queue.iterator.push(new LiveFailure(serverFailure(server, error)));
              queue.iterator.end();
            },
            position: (head) => {
              if (positions.has(server) && !told.has(server)) return;
              positions.set(server, head);
              told.add(server);
            },
          };
          const at = resumed?.get(server);
          memberships.push(
            this.registry.join(this.specOf(identity, filter, server), listener, at !== undefined ? { after: at } : resumed ? undefined : from.since),
          );
        }
      } catch (error) {
        leave();
        throw error;
      }
      return leave;
    });
    return queue.iterator;
  }

  /**
   * The session `sessionId` now, then whenever it changes; ends after a final status or when SPP
   * expires it. Fails with BAD_USER_INPUT when the identity sees no such session.
   */
  jobSessionUpdates(
    { identity, server }: LiveSource,
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
    queue.attach(() => this.registry.join(this.specOf(identity, [{ property: 'id', value: [sessionId], op: 'IN' }], server), listener, 'current'));
    return queue.iterator;
  }

  /** One feed per (identity, filter), and per server when there are several (the key names it). */
  private specOf(identity: UpstreamIdentity, filter: SppFilter[], server: string) {
    const key = `${identity.key}\u0000${canonicalFilter(filter)}`;
    return { key: this.multiServer ? `${server}\u0000${key}` : key, identity, filter, server };
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
