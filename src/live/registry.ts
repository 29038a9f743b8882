/**
 * Where feeds live: the seam between subscription code and how pollers are shared.
 *
 * Feature code (src/live/service.ts) only calls `join` and the function it returns. The
 * registry below runs one Feed per key in this process, started by the first subscriber and
 * stopped (no further upstream call) when the last one leaves, and caps how many run
 * (SUBSCRIPTION_MAX_POLLERS). It is the only registry, with several replicas too: each replica
 * runs the feeds of its own subscribers (its own diff, replays and history, so a replica that
 * dies takes no one else's events with it), and what they share is the upstream read, one per
 * SUBSCRIPTION_POLL_MS slot through the shared state (the slotted reader in src/live/index.ts).
 */
import { gatewayError, ErrorCode } from '../errors.js';
import { Feed, type FeedListener, type FeedOptions, type FeedSpec, type JoinFrom } from './feed.js';

export interface FeedRegistry {
  /**
   * Adds `listener` to the feed of `spec.key`, starting it when it is the first. With `from`,
   * the listener first receives the changes after that instant, or (`'current'`) every session
   * in view as it is now. Returns the function that
   * removes the listener (and stops the feed when it was the last). Throws LIMIT_EXCEEDED when
   * a new feed would exceed the number of pollers allowed.
   */
  join(spec: FeedSpec, listener: FeedListener, from?: JoinFrom): () => void;
  /** Feeds running now. */
  readonly size: number;
  /** Resolves once every running feed has completed a poll that started after this call. */
  nextPolls(): Promise<void>;
  /** Stops every feed (shutdown). */
  close(): void;
}

export class InMemoryFeedRegistry implements FeedRegistry {
  private readonly feeds = new Map<string, Feed>();
  /** Feeds without listeners that keep watching for a while, so a client that reconnects resumes (SUBSCRIPTION_RESUME_MS). */
  private readonly lingering = new Map<Feed, NodeJS.Timeout>();
  /** Stopped feeds whose last poll is still under way: counted until it is over (no upstream call remains). */
  private readonly stopping = new Set<Feed>();

  constructor(private readonly options: FeedOptions & { maxFeeds: number; lingerMs?: number; onSizeChange?: (size: number) => void }) {}

  get size(): number {
    return this.feeds.size + this.stopping.size;
  }

  join(spec: FeedSpec, listener: FeedListener, from?: JoinFrom): () => void {
    let feed = this.feeds.get(spec.key);
    if (feed) this.keep(feed);
    if (!feed) {
      // A lingering feed gives way to a subscribed one.
      const idle = this.lingering.keys().next();
      if (this.feeds.size >= this.options.maxFeeds && !idle.done) this.remove(idle.value);
      if (this.feeds.size >= this.options.maxFeeds) {
        throw gatewayError(
          ErrorCode.LIMIT_EXCEEDED,
          `The gateway already polls SPP for ${this.feeds.size} distinct filters (SUBSCRIPTION_MAX_POLLERS): subscribe with a filter others already use, or try again later.`,
        );
      }
      const created: Feed = new Feed(spec, { ...this.options, onFatal: () => this.remove(created) });
      feed = created;
      this.feeds.set(spec.key, feed);
      this.options.onSizeChange?.(this.feeds.size);
      feed.start();
    }
    const joined = feed;
    joined.join(listener, from);
    let left = false;
    return () => {
      if (left) return;
      left = true;
      joined.leave(listener);
      if (joined.size > 0) return;
      if (!this.options.lingerMs) return this.remove(joined);
      const timer = setTimeout(() => this.remove(joined), this.options.lingerMs);
      timer.unref();
      this.lingering.set(joined, timer);
    };
  }

  nextPolls(): Promise<void> {
    return Promise.all([...this.feeds.values()].map((feed) => feed.nextPoll())).then(() => undefined);
  }

  close(): void {
    for (const timer of this.lingering.values()) clearTimeout(timer);
    this.lingering.clear();
    for (const feed of this.feeds.values()) feed.stop();
    this.feeds.clear();
    this.stopping.clear();
    this.options.onSizeChange?.(0);
  }

  private keep(feed: Feed): void {
    clearTimeout(this.lingering.get(feed));
    this.lingering.delete(feed);
  }

  private remove(feed: Feed): void {
    this.keep(feed);
    feed.stop();
    if (this.feeds.get(feed.spec.key) === feed) {
      this.feeds.delete(feed.spec.key);
      this.stopping.add(feed);
      this.options.onSizeChange?.(this.size);
      void feed.settled().then(() => {
        this.stopping.delete(feed);
        this.options.onSizeChange?.(this.size);
      });
    }
  }
}
