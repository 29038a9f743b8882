/**
 * Revoked credentials every replica honours (sign-out of a browser session, deleteSession of a
 * createSession token): one mechanism for both (issue 22, item 12).
 *
 * A revocation is kept in the shared state for as long as the credential could still be used
 * (`ttlMs`) and announced. Each replica keeps what it heard in memory (checks stay synchronous
 * and survive a Redis outage) and reads the record at start and after every outage, which covers
 * a replica started later or cut off when the announcement went out. Redis may also come back
 * empty (no persistence): each replica then writes its own revocations of the credential's life
 * back and announces them again, so a sign-out made during the outage is not forgotten either.
 */
import { LRUCache } from 'lru-cache';
import type { SharedState } from '../state/index.js';

const RETRY_MS = 1_000;

export class Revocations {
  /** Everything revoked, heard or read. */
  private readonly known: LRUCache<string, true>;
  /** What this replica revoked: written back after an outage. */
  private readonly own: LRUCache<string, true>;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;
  /** Settles once the first read of the shared record was tried (whatever came of it). */
  readonly firstRead: Promise<void>;

  constructor(
    private readonly state: SharedState,
    /** The shared record's name; its announcements go to the channel of the same name. */
    private readonly name: string,
    private readonly ttlMs: number,
    max: number,
  ) {
    this.known = new LRUCache({ max, ttl: ttlMs });
    this.own = new LRUCache({ max, ttl: ttlMs });
    this.state.subscribe(name, (id) => this.known.set(id, true));
    // At start and whenever the shared state is reached again.
    this.state.onReconnect(() => void this.resync());
    this.firstRead = this.resync().catch(() => undefined);
  }

  has(id: string): boolean {
    return this.known.has(id);
  }

  /** Revokes `id` here at once, then for every replica (a Redis outage delays the others until it ends). */
  async revoke(id: string): Promise<void> {
    this.known.set(id, true);
    this.own.set(id, true);
    await this.state.remember(this.name, id, this.ttlMs);
    await this.state.publish(this.name, id);
  }

  /** Stops retrying a write-back (shutdown). */
  close(): void {
    clearTimeout(this.retry);
    this.closed = true;
  }

  /**
   * After an outage: this replica's revocations written back and announced, the others' read. The
   * reconnect notice can come before Redis takes commands again: until it does, tried again each second.
   */
  private async resync(): Promise<void> {
    clearTimeout(this.retry);
    let stored = true;
    for (const id of this.own.keys()) {
      stored = (await this.state.remember(this.name, id, this.ttlMs)) && stored;
      if (stored) await this.state.publish(this.name, id);
    }
    const loaded = stored && (await this.load());
    if (!loaded && !this.closed) {
      this.retry = setTimeout(() => void this.resync(), RETRY_MS);
      this.retry.unref();
    }
  }

  /** Reads the shared record; false when it could not be read. */
  private async load(): Promise<boolean> {
    const members = await this.state.members(this.name);
    for (const id of members ?? []) this.known.set(id, true);
    return members !== null;
  }
}
