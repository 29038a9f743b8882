/**
 * Event logs for resumable subscriptions (src/live/feed.ts): one append-only log per
 * (identity, filter), kept in the shared state so that a cursor means the same on every replica.
 *
 * - Entry ids are Redis stream ids (`<ms>-<n>`, increasing); the memory log makes the same.
 * - Every replica watching a filter appends what its poll found; an entry is kept only when its
 *   `version` differs from the last one kept for its `subject` (a session), so the same change
 *   seen by two replicas (they share one upstream read per poll slot) is logged once.
 * - The log is bounded by count (`maxEvents`) and age (`maxAgeMs`).
 * - Watchers: each feed appending to a log is recorded as watching it for `watcherTtlMs` (renewed
 *   by every poll). When the last watcher leaves (or its replica dies and its record expires) the
 *   log has a gap: nobody saw what SPP did meanwhile. A gap marker is logged when a watcher leaves
 *   last or arrives first.
 * - `read(after)` answers the entries after a cursor, or 'gap' when it cannot vouch that they are
 *   all: some were dropped (count, age), a gap marker lies after the cursor, or nobody watches now.
 */
import { randomUUID } from 'node:crypto';

export interface EventLogBounds {
  maxEvents: number;
  maxAgeMs: number;
  watcherTtlMs: number;
}

export interface EventLogInput {
  subject: string;
  version: string;
  value: string;
}

export interface EventLogEntry {
  id: string;
  value: string;
}

export interface EventLog {
  /** Appends the new entries, renews `watcher`; resolves to the log's head (newest id, `0-0` when empty). */
  append(log: string, watcher: string, entries: readonly EventLogInput[]): Promise<string>;
  /** `watcher` stopped watching `log`. */
  leave(log: string, watcher: string): Promise<void>;
  /** The entries after `after`, oldest first (gap markers excluded), or 'gap'. */
  read(log: string, after: string): Promise<{ entries: EventLogEntry[]; head: string } | 'gap'>;
  /**
   * When another watcher than `watcher`, still recorded, last appended to `log` (epoch ms): the
   * log holds the changes it saw up to then, whether that watcher still runs or its replica died
   * (its record outlives it by up to `watcherTtlMs`). Null when no other watcher is recorded.
   */
  watchedUntil(log: string, watcher: string): Promise<number | null>;
}

/** The value of a gap marker entry. */
export const GAP = '~gap';

/**
 * The log's head (its newest id) without appending, so without renewing a watcher record: a
 * read after an id newer than any. Null when a read would answer 'gap' (nobody watches).
 */
export async function headOf(log: EventLog, name: string): Promise<string | null> {
  const read = await log.read(name, `${Number.MAX_SAFE_INTEGER}-0`);
  return read === 'gap' ? null : read.head;
}

/**
 * An entry that marks a gap where the writer knows changes are missing (a reader across it gets
 * 'gap'). Its subject is unique, so the log never drops it as a repeat.
 */
export const gapEntry = (): EventLogInput => ({ subject: `${GAP}:${randomUUID()}`, version: GAP, value: GAP });

/** Orders two ids `<ms>-<n>`. */
export function compareLogIds(a: string, b: string): number {
  const [am = 0, an = 0] = a.split('-').map(Number);
  const [bm = 0, bn = 0] = b.split('-').map(Number);
  return am - bm || an - bn;
}

/** Whether `id` is a well-formed log id. */
export const isLogId = (id: string): boolean => /^\d{1,16}-\d{1,16}$/.test(id);

interface MemoryLog {
  entries: EventLogEntry[];
  /** The newest id ever dropped by a bound. */
  maxDropped: string;
  last: string;
  versions: Map<string, string>;
  watchers: Map<string, number>;
}

/** One process's logs (no REDIS_URL), with the same rules as the Redis logs. */
export class InMemoryEventLog implements EventLog {
  private readonly logs = new Map<string, MemoryLog>();

  constructor(
    private readonly bounds: EventLogBounds,
    private readonly clock: () => number = Date.now,
  ) {}

  async append(name: string, watcher: string, entries: readonly EventLogInput[]): Promise<string> {
    const now = this.clock();
    let log = this.logs.get(name);
    if (!log) this.logs.set(name, (log = { entries: [], maxDropped: '0-0', last: '0-0', versions: new Map(), watchers: new Map() }));
    this.expireWatchers(log, now);
    if (!log.watchers.has(watcher) && log.watchers.size === 0) this.add(log, GAP, now);
    log.watchers.set(watcher, now + this.bounds.watcherTtlMs);
    for (const entry of entries) {
      if (log.versions.get(entry.subject) === entry.version) continue;
      log.versions.set(entry.subject, entry.version);
      this.add(log, entry.value, now);
    }
    this.trim(log, now);
    return log.last;
  }

  async leave(name: string, watcher: string): Promise<void> {
    const log = this.logs.get(name);
    if (!log?.watchers.delete(watcher)) return;
    this.expireWatchers(log, this.clock());
    if (log.watchers.size === 0) {
      // Nobody watches: nothing can resume, so nothing need be kept but where the log stopped
      // (a cursor from before stays refused when someone watches again).
      this.add(log, GAP, this.clock());
      log.maxDropped = log.last;
      log.entries = [];
      log.versions.clear();
      if (this.logs.size > 10_000) this.forgetUnwatched();
    }
  }

  async read(name: string, after: string): Promise<{ entries: EventLogEntry[]; head: string } | 'gap'> {
    const now = this.clock();
    const log = this.logs.get(name);
    if (!log) return 'gap';
    this.expireWatchers(log, now);
    this.trim(log, now);
    if (log.watchers.size === 0 || compareLogIds(log.maxDropped, after) > 0) return 'gap';
    const entries = log.entries.filter((e) => compareLogIds(e.id, after) > 0);
    if (entries.some((e) => e.value === GAP)) return 'gap';
    return { entries, head: log.last };
  }

  async watchedUntil(name: string, watcher: string): Promise<number | null> {
    const log = this.logs.get(name);
    if (!log) return null;
    this.expireWatchers(log, this.clock());
    let until: number | null = null;
    for (const [other, expiry] of log.watchers) if (other !== watcher) until = Math.max(until ?? -Infinity, expiry - this.bounds.watcherTtlMs);
    return until;
  }

  private add(log: MemoryLog, value: string, now: number): void {
    const [ms = 0, n = 0] = log.last.split('-').map(Number);
    const id = now > ms ? `${now}-0` : `${ms}-${n + 1}`;
    log.last = id;
    log.entries.push({ id, value });
  }

  private trim(log: MemoryLog, now: number): void {
    let drop = Math.max(0, log.entries.length - this.bounds.maxEvents);
    while (drop < log.entries.length && compareLogIds(log.entries[drop]!.id, `${now - this.bounds.maxAgeMs}-0`) < 0) drop++;
    if (drop === 0) return;
    log.maxDropped = log.entries[drop - 1]!.id;
    log.entries.splice(0, drop);
  }

  /** Logs nobody watches hold only their last id: dropped when they pile up (a cursor of one then reads 'gap'). */
  private forgetUnwatched(): void {
    for (const [name, log] of this.logs) if (log.watchers.size === 0) this.logs.delete(name);
  }

  private expireWatchers(log: MemoryLog, now: number): void {
    for (const [watcher, until] of log.watchers) if (until < now) log.watchers.delete(watcher);
  }
}
