/**
 * One subscriber's events on their way to its socket: an AsyncIterator with a bound.
 *
 * The transports pull the next event only once the previous one was written to the socket
 * (graphql-ws awaits `ws.send`'s callback, graphql-sse awaits `res.write`'s), so events pile
 * up here exactly when a client reads slower than changes arrive. Past `bound` waiting events
 * the queue drops what it holds, ends, and calls `onOverflow` once: the transport disconnects
 * that client with a close reason (docs/live-updates.md "Security and limits") instead of buffering without limit.
 */
export class EventQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private waiting: ((result: IteratorResult<T>) => void) | undefined;
  /** No more pushes; the iteration ends once the queued items are pulled. */
  private ending = false;
  private closed = false;

  constructor(
    private readonly bound: number,
    private readonly onOverflow: () => void,
    /** Called once when the iteration is over, however it ended (the subscriber leaves its feed). */
    private readonly onClose: () => void,
    /** Called with each item as the transport takes it (the item about to be sent). */
    private readonly onTake?: (item: T) => void,
  ) {}

  /** Queues `item`; false when the queue is closed or just overflowed. */
  push(item: T): boolean {
    if (this.ending || this.closed) return false;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      this.onTake?.(item);
      resolve({ value: item, done: false });
      return true;
    }
    if (this.items.length >= this.bound) {
      this.items.length = 0;
      this.close();
      this.onOverflow();
      return false;
    }
    this.items.push(item);
    return true;
  }

  /** Ends the iteration after the items already queued. */
  end(): void {
    this.ending = true;
    if (this.items.length === 0) this.close();
  }

  get size(): number {
    return this.items.length;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) {
      const value = this.items.shift()!;
      if (this.items.length === 0 && this.ending) this.close();
      this.onTake?.(value);
      return Promise.resolve({ value, done: false });
    }
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<T>> {
    this.items.length = 0;
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    const resolve = this.waiting;
    this.waiting = undefined;
    resolve?.({ value: undefined, done: true });
    this.onClose();
  }
}
