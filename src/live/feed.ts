/**
 * One poller: the changes of one filter as one identity sees them, shared by every subscriber
 * of that pair whatever their selection sets.
 *
 * A poll reads through the list engine as `Query.jobSessions` does (`readWindow` of
 * src/pagination/window.ts over the same SPP client: single flight, re-login on 401, page-size
 * handling) and costs SPP:
 * - one list request: the newest `window` sessions of the filter (start DESC), always;
 * - one more, only when sessions the feed saw in a non-final status have slid past the
 *   window's edge: those ids (`id IN [...]`, with the filter);
 * - one more, only when sessions vanished from view: those ids without the filter, to tell
 *   "left the filter" (the session is sent with the REMOVED event) from "expired" (null).
 * What a subscriber can miss is stated in docs/live-updates.md ("What a poll costs, and what a subscriber can miss"): a finished session that
 * changes again once it lies past the window, and intermediate states between two polls.
 *
 * Polls never overlap: the next one is scheduled when the previous one is over, every
 * `intervalMs` while a watched session runs and every `idleIntervalMs` otherwise. Upstream
 * failures back off exponentially up to `maxBackoffMs` and resume; nothing is emitted for a
 * failed poll, so subscribers see neither duplicates nor invented events. A refusal of the
 * identity itself (UNAUTHENTICATED after the client's own re-login, FORBIDDEN) ends the feed
 * with that error.
 */
import type { GraphQLError } from 'graphql';
import type { SppFilter, SppJobSession, SppSort } from '../spp-api/types.js';
import type { UpstreamIdentity } from '../upstream/session.js';
import type { ListQuery } from '../pagination/window.js';
import { randomUUID } from 'node:crypto';
import { ErrorCode, gatewayError } from '../errors.js';
import { compareLogIds, gapEntry, headOf, type EventLog } from '../state/index.js';
import {
  catchUp,
  diff,
  isFinal,
  MUTABLE_PROPERTIES,
  replay,
  trackedPastEdge,
  vanished,
  type JobSessionEventValue,
  type Observation,
  type WatchState,
} from './events.js';

/** SPP's own order for job sessions (newest first), with the id as tie-breaker (src/translate/order.ts). */
export const WATCH_ORDER: readonly SppSort[] = [
  { property: 'start', direction: 'DESC' },
  { property: 'id', direction: 'DESC' },
];

export interface FeedSpec {
  /** Identity key + filter fingerprint: one feed per key in the process. */
  key: string;
  identity: UpstreamIdentity;
  filter: SppFilter[];
  /** The SPP server polled (issue 21); undefined: the gateway's only (first) server. */
  server?: string;
}

export interface FeedListener {
  /** A batch of events, oldest first (possibly empty for a replay that found nothing). */
  deliver(events: readonly JobSessionEventValue[]): void;
  /** The feed ended with an error (the identity was refused); no more deliveries follow. */
  fail(error: GraphQLError): void;
  /**
   * The log id this listener's deliveries continue after, once the feed knows it (at join, or at
   * the feed's first poll; again if the feed moves it before delivering anything, as a takeover
   * that logs a gap does): a subscriber of several servers keeps it as that server's position in
   * its cursors, so a resume is exact for a server that had no event yet.
   */
  position?(head: string): void;
}

export interface FeedTiming {
  intervalMs: number;
  idleIntervalMs: number;
  maxBackoffMs: number;
}

/**
 * Reads records [offset, offset + count) of one job-session list query as `identity`: the list
 * engine's `readWindow` over the SPP client, as queries read (wired in gateway.ts).
 */
export type SessionWindowReader = (query: ListQuery, offset: number, count: number) => Promise<{ records: SppJobSession[] }>;

export interface FeedOptions extends FeedTiming {
  /** How many of the newest sessions of the filter each poll reads. */
  window: number;
  /** The list engine's window reading, speaking to SPP as `identity`. */
  readerFor(identity: UpstreamIdentity, server: string | undefined): SessionWindowReader;
  clock?: () => number;
  /** Called after each poll with its outcome ('ok', 'failed'), how many events it found, and the server polled (the spec's). */
  onPoll?(outcome: 'ok' | 'failed', events: number, server: string | undefined): void;
  /** Called when the feed ends on its own (a fatal upstream refusal). */
  onFatal?(): void;
  logger?: { warn(obj: object, msg: string): void };
  /** The shared event log every event passes through (resumable subscriptions); none: events carry no log id. */
  eventLog?: EventLog;
  /** The signed cursor of a log id for this feed's filter (src/live/cursors.ts). */
  cursorOf?(filter: readonly SppFilter[], id: string): string;
}

/** Where a listener starts: the current view, the changes after an instant, or the log entries after a log id. */
export type JoinFrom = number | 'current' | { after: string };

export const cursorExpired = () =>
  gatewayError(
    ErrorCode.CURSOR_EXPIRED,
    'The events after this cursor are no longer kept (SUBSCRIPTION_RESUME_EVENTS / SUBSCRIPTION_RESUME_MS), or nobody watched this filter meanwhile: refetch the list, then subscribe again without "after".',
  );

/** REMOVED events kept for `since` replays (a removed session is no longer in the state). */
const REMOVED_HISTORY = 1_000;

export class Feed {
  private readonly listeners = new Set<FeedListener>();
  /** Listeners that asked for the current state before the first poll: served once the baseline exists. */
  private readonly pendingReplays = new Set<FeedListener>();
  /** Listeners catching up from `since`: live batches wait here until the catch-up is delivered. */
  private readonly catchingUp = new Map<FeedListener, JobSessionEventValue[]>();
  /**
   * What a `since` catch-up showed, per listener: it read SPP directly, so a later poll (or another
   * replica's, through the log) may report a change it already showed; that is not sent again.
   * An entry goes when a newer event of its session passes; at most a window's worth per listener.
   */
  private readonly shownByCatchUp = new Map<FeedListener, Map<string, number>>();
  private readonly removed: JobSessionEventValue[] = [];
  private readonly read: SessionWindowReader;
  private readonly clock: () => number;
  private state: WatchState | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;
  private pollWaiters: Array<() => void> = [];
  /** The newest log id this feed delivered (or saw at its baseline); null before its first poll. */
  private head: string | null = null;
  /** Whether a poll completed: before, a replay waits for it (the first poll may still add its catch-up). */
  private observed = false;
  /** Listeners resumed from a cursor before the first poll completed: a takeover's catch-up is their missed changes. */
  private readonly resumedEarly = new Set<FeedListener>();
  /** Resumers whose log read went past this feed's head: the log id up to which they have every entry already. */
  private readonly resumedTo = new Map<FeedListener, string>();
  /** What another watcher logged before this feed's gap (see markGap): delivered with the next poll. */
  private carried: JobSessionEventValue[] = [];
  /** The poll running now, if any: its upstream request may still be on its way after `stop`. */
  private inFlight: Promise<void> | undefined;
  /** This feed, as a watcher of its log (a replica may run one feed per key). */
  private readonly watcher = randomUUID();

  constructor(
    readonly spec: FeedSpec,
    private readonly options: FeedOptions,
  ) {
    this.read = options.readerFor(spec.identity, spec.server);
    this.clock = options.clock ?? Date.now;
  }

  get size(): number {
    return this.listeners.size;
  }

  /** Starts polling now. */
  start(): void {
    this.schedule(0);
  }

  /**
   * Adds a listener. With `from: 'current'`, it first receives every session in view as it is
   * now (once the first poll has run); with an instant, the changes SPP made after it (one or
   * two upstream requests, see `changesSince`); then every later batch, with nothing repeated
   * that the first delivery already showed in a newer state.
   */
  join(listener: FeedListener, from?: JoinFrom): void {
    this.listeners.add(listener);
    if (typeof from !== 'object' && this.head !== null) listener.position?.(this.head);
    if (from === undefined) return;
    if (typeof from === 'object') {
      if (!this.observed) this.resumedEarly.add(listener);
      this.catchingUp.set(listener, []);
      void this.resume(listener, from.after);
      return;
    }
    if (from === 'current') {
      if (this.state && this.observed) listener.deliver(this.stamped(replay(this.state, this.removed, -1)));
      else this.pendingReplays.add(listener);
      return;
    }
    this.catchingUp.set(listener, []);
    void this.catchUp(listener, from);
  }

  leave(listener: FeedListener): void {
    this.listeners.delete(listener);
    this.pendingReplays.delete(listener);
    this.catchingUp.delete(listener);
    this.shownByCatchUp.delete(listener);
    this.resumedEarly.delete(listener);
    this.resumedTo.delete(listener);
  }

  /** Stops polling; a poll in flight is discarded. */
  stop(): void {
    // Leaves the log once a poll in flight is over: an append after leaving would renew the record.
    const log = this.options.eventLog;
    if (!this.stopped && log)
      void this.settled()
        .then(() => log.leave(this.spec.key, this.watcher))
        .catch(() => undefined);
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.releaseWaiters();
  }

  /** Resolves once no poll of this feed is under way (after `stop`: no upstream call of it remains). */
  settled(): Promise<void> {
    return this.inFlight ?? Promise.resolve();
  }

  /** Resolves when the next poll (one starting after this call) is over, or the feed stops. */
  nextPoll(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    // A poll in flight took its waiters when it started (it may have read SPP before the
    // caller's change): this one waits for the poll after it.
    return new Promise((resolve) => this.pollWaiters.push(resolve));
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void (this.inFlight = this.poll()), delay);
    this.timer.unref?.();
  }

  private async poll(): Promise<void> {
    this.timer = undefined;
    const waiters = this.pollWaiters;
    this.pollWaiters = [];
    try {
      const observation = this.state ? await this.observe() : await this.firstObservation();
      // The log id this poll's entries follow: a replay made now is stamped with it, not with the
      // head after them, so that its cursor never skips the entries delivered after it.
      const before = this.head;
      const events = await this.logged(observation);
      if (this.stopped) return;
      this.observed = true;
      this.resumedEarly.clear();
      this.failures = 0;
      this.options.onPoll?.('ok', events.length, this.spec.server);
      for (const event of events) {
        if (event.kind !== 'REMOVED') continue;
        this.removed.push(event);
        if (this.removed.length > REMOVED_HISTORY) this.removed.splice(0, this.removed.length - REMOVED_HISTORY);
      }
      // A listener replayed now gets of this poll's events (a takeover's catch-up) only what is newer than its replay.
      const replayed = new Map<FeedListener, Map<string, number>>();
      for (const listener of this.pendingReplays) {
        const shown = this.stamped(replay(this.state!, this.removed, -1), before);
        listener.deliver(shown);
        replayed.set(listener, new Map(shown.map((e) => [e.sessionId, e.at])));
      }
      this.pendingReplays.clear();
      if (events.length > 0) {
        for (const listener of [...this.listeners]) {
          const inReplay = replayed.get(listener);
          if (inReplay) {
            const newer = newerThan(events, inReplay);
            if (newer.length > 0) listener.deliver(newer);
            continue;
          }
          const waiting = this.catchingUp.get(listener);
          if (waiting) waiting.push(...events);
          else {
            const fresh = this.notShown(listener, this.notResumed(listener, events));
            if (fresh.length > 0) listener.deliver(fresh);
          }
        }
      }
      const running = [...this.state!.seen.values()].some((s) => !isFinal(s));
      this.schedule(running ? this.options.intervalMs : this.options.idleIntervalMs);
    } catch (error) {
      if (this.stopped) return;
      // A first poll that failed after its baseline (the log, the catch-up, a gap) is taken again
      // whole: kept, its baseline would make the next poll a plain one and skip the takeover.
      if (!this.observed) this.state = undefined;
      this.options.onPoll?.('failed', 0, this.spec.server);
      const code = (error as GraphQLError).extensions?.code;
      if (code === ErrorCode.UNAUTHENTICATED || code === ErrorCode.FORBIDDEN) {
        for (const listener of [...this.listeners]) listener.fail(error as GraphQLError);
        this.stop();
        this.options.onFatal?.();
        return;
      }
      this.failures++;
      const delay = Math.min(this.options.maxBackoffMs, this.options.intervalMs * 2 ** this.failures);
      this.options.logger?.warn({ code, failures: this.failures, retryInMs: delay }, 'live poll failed; backing off');
      this.schedule(delay);
    } finally {
      for (const resolve of waiters) resolve();
    }
  }

  /**
   * The first poll: the baseline, and when another watcher kept this filter's log, the changes
   * SPP made since that watcher last polled. That watcher may be on a replica that died: its
   * record outlives it by up to watcherTtlMs, so no gap is logged, and without this catch-up a
   * cursor resumed here would silently miss what changed in between. The log keeps each change
   * once (a watcher still running reports the same). Sessions deleted meanwhile stay unknown.
   */
  private async firstObservation(): Promise<JobSessionEventValue[]> {
    const log = this.options.eventLog;
    const until = log ? await log.watchedUntil(this.spec.key, this.watcher) : null;
    if (until === null || !log) return this.observe();
    // This feed's listeners continue from the log's head before the baseline read: an entry the
    // other watcher appends meanwhile reaches them (this feed's own report of it is then dropped by
    // the log as a repeat), and so do the catch-up's entries. Read, not appended: this feed has
    // observed nothing yet, and its watcher record would tell a third poller it had.
    if (this.head === null) {
      const head = await headOf(log, this.spec.key);
      if (head !== null) this.startAt(head);
    }
    const baseline = await this.observe();
    try {
      // Read with a margin of a poll interval and a second (SPP's clock, Redis's and this process's
      // differ a little); a session started before `until` is a change, not an addition.
      const { events: changes, complete } = await this.changesSince(until - this.options.intervalMs - 1_000, until);
      // More changes than one read holds: the oldest are unknown, so a resume from before is refused.
      if (!complete) await this.markGap(log, 'more changes than SUBSCRIPTION_WINDOW since the last watcher polled');
      return [...baseline, ...changes];
    } catch (error) {
      const code = (error as GraphQLError).extensions?.code;
      // A refusal of the caller, or SPP briefly away: the next poll takes the baseline again and
      // catches up then (poll drops a first poll's baseline; the head was read, not appended, so
      // nothing is claimed meanwhile).
      if (typeof code === 'string' && RETRIED_CATCH_UP.has(code)) throw error;
      // SPP answered the baseline but refused the catch-up (e.g. a build without the lastUpdate
      // filter): carry on from the baseline, and refuse resumes across what is unknown.
      await this.markGap(log, `the catch-up read failed (${typeof code === 'string' ? code : 'error'})`);
      return baseline;
    }
  }

  /**
   * Logs a gap: a cursor from before it resumes with CURSOR_EXPIRED, never silently short. A
   * listener that resumed already (before this first poll) was counting on the catch-up: it ends
   * the same way.
   */
  private async markGap(log: EventLog, why: string): Promise<void> {
    if (this.stopped) return;
    this.options.logger?.warn({ server: this.spec.server }, `live takeover: ${why}; resumes from before this poller refused`);
    // What the other watcher logged since this feed's head would be hidden behind the gap: its
    // listeners get it with this poll, stamped with the gap's position. (An entry that watcher
    // appends between this read and the gap is the one change a takeover can still miss.)
    const before = this.head === null ? 'gap' : await log.read(this.spec.key, this.head);
    if (this.stopped) return;
    // Each keeps its log id, so a resumer already past it (see notResumed) is not sent it again.
    if (before !== 'gap') this.carried.push(...before.entries.map((entry) => ({ ...(JSON.parse(entry.value) as JobSessionEventValue), logId: entry.id })));
    const gap = await log.append(this.spec.key, this.watcher, [gapEntry()]);
    // Listeners continue after the gap: their view starts at this feed's baseline, and a cursor of
    // the old head would be refused for nothing they missed. With carried entries, they learn the
    // new position from those (stamped with it) when they are delivered, not before: a cursor of
    // the gap handed out earlier would skip them.
    if (this.carried.length === 0) this.startAt(gap);
    else this.head = gap;
    this.expireEarlyResumers();
  }

  /** Ends the listeners that resumed before the first poll (CURSOR_EXPIRED): what they resumed from is no longer whole. */
  private expireEarlyResumers(): void {
    for (const listener of this.resumedEarly) {
      this.leave(listener);
      listener.fail(cursorExpired());
    }
  }

  /** Reads SPP (one to three requests, see the header) and diffs against the last poll. */
  private async observe(): Promise<JobSessionEventValue[]> {
    const { filter } = this.spec;
    const size = this.options.window;
    const window = await this.read({ filter, sort: [...WATCH_ORDER] }, 0, size);
    const windowFull = window.records.length >= size;
    const previous = this.state;
    const trackedAsked = previous ? trackedPastEdge(previous, window.records, windowFull, WATCH_ORDER) : [];
    const tracked = trackedAsked.length > 0 ? await this.byIds(trackedAsked, filter) : [];
    const observation: Observation = { window: window.records, windowFull, trackedAsked, tracked };
    const gone = previous ? vanished(previous, observation, WATCH_ORDER) : [];
    const lookedUp = new Map<string, SppJobSession | null>(gone.map((id) => [id, null]));
    if (gone.length > 0) for (const session of await this.byIds(gone, [])) lookedUp.set(session.id, session);
    const { events, state } = diff(previous, observation, lookedUp, this.clock(), WATCH_ORDER);
    this.state = state;
    return events;
  }

  /**
   * A late subscriber's catch-up: the sessions SPP changed after `since` among those matching the
   * filter's fixed conditions (the newest `window` changes: one request), and which of them match
   * the whole filter now (a second request, only when the filter has conditions that change).
   * If SPP fails, the feed's own view is replayed instead, and the failure logged.
   */
  private async catchUp(listener: FeedListener, since: number): Promise<void> {
    let events: JobSessionEventValue[];
    try {
      events = (await this.changesSince(since)).events;
    } catch (error) {
      this.options.logger?.warn({ code: (error as GraphQLError).extensions?.code }, "live catch-up failed; replaying the poller's own view");
      if (!this.state) await this.nextPoll();
      events = this.state ? replay(this.state, this.removed, since) : [];
    }
    events = this.stamped(events);
    const waiting = this.catchingUp.get(listener);
    if (!waiting || this.stopped) return;
    this.catchingUp.delete(listener);
    // Live batches that arrived meanwhile: only what is newer than the catch-up's view.
    const shown = new Map(events.map((e) => [e.sessionId, e.at]));
    if (shown.size > 0) this.shownByCatchUp.set(listener, shown);
    listener.deliver([...events, ...this.notShown(listener, waiting)]);
  }

  /** A live batch without what the listener's catch-up already showed (as new or newer). */
  private notShown(listener: FeedListener, events: JobSessionEventValue[]): JobSessionEventValue[] {
    const shown = this.shownByCatchUp.get(listener);
    if (!shown) return events;
    const later = newerThan(events, shown);
    for (const e of later) shown.delete(e.sessionId);
    if (shown.size === 0) this.shownByCatchUp.delete(listener);
    return later;
  }

  /**
   * The changes SPP made after `since`; a session started after `addedAfter` is ADDED. `complete`
   * is false when the read came back full: older changes may be missing.
   */
  private async changesSince(since: number, addedAfter = since): Promise<{ events: JobSessionEventValue[]; complete: boolean }> {
    const { filter } = this.spec;
    const fixed = filter.filter((f) => !MUTABLE_PROPERTIES.has(f.property));
    const changed = await this.read(
      {
        filter: [...fixed, { property: 'lastUpdate', value: since, op: '>' }],
        sort: [
          { property: 'lastUpdate', direction: 'DESC' },
          { property: 'id', direction: 'DESC' },
        ],
      },
      0,
      this.options.window,
    );
    const ids = changed.records.map((s) => s.id);
    const matching = fixed.length === filter.length || ids.length === 0 ? new Set(ids) : new Set((await this.byIds(ids, filter)).map((s) => s.id));
    // Bounded like a poll: the newest `window` changes and at most `window` deletions.
    const events = catchUp(changed.records, matching, this.removed.slice(-this.options.window), addedAfter);
    return { events, complete: changed.records.length < this.options.window };
  }

  /**
   * A poll's events through the shared log: appended (the log keeps each change once, whichever
   * replica saw it), then the log's entries after this feed's head are what its listeners get, so
   * every replica delivers the same events with the same ids. The first poll only records the head.
   */
  private async logged(events: JobSessionEventValue[]): Promise<JobSessionEventValue[]> {
    const log = this.options.eventLog;
    if (!log) return events;
    // A stopped feed appends nothing (see stop): the next feed would take it for another replica's.
    if (this.stopped) return [];
    const inputs = events.map((e) => ({ subject: e.sessionId, version: versionOf(e), value: JSON.stringify(e) }));
    const head = await log.append(this.spec.key, this.watcher, inputs);
    if (this.head === null) {
      this.startAt(head);
      return [];
    }
    const carried = this.stamped(this.carried);
    const read = await log.read(this.spec.key, this.head);
    this.carried = []; // only now: a read that fails leaves them for the next poll
    if (read === 'gap') {
      // More changes than the log keeps between two polls: this poll's own view, stamped with the head.
      this.head = head;
      // A resume made before the first poll counted on the log from its cursor on: it is short now.
      if (!this.observed) this.expireEarlyResumers();
      return [...carried, ...this.stamped(events)];
    }
    this.head = read.head;
    return [...carried, ...read.entries.map((entry) => this.parsed(entry.id, entry.value))];
  }

  /** The log id this feed's deliveries continue after, once known: its listeners learn it too. */
  private startAt(head: string): void {
    this.head = head;
    for (const listener of this.listeners) listener.position?.(head);
  }

  /** A resuming listener: the log's entries after `after`, then the live batches that are newer. */
  private async resume(listener: FeedListener, after: string): Promise<void> {
    const log = this.options.eventLog;
    let read = log ? await log.read(this.spec.key, after) : 'gap';
    // A baseline recorded while reading: read again so nothing between the two heads is skipped.
    for (let i = 0; i < 3 && log && read !== 'gap' && this.head !== null && compareLogIds(this.head, read.head) > 0; i++) {
      read = await log.read(this.spec.key, after);
    }
    const waiting = this.catchingUp.get(listener);
    if (!waiting || this.stopped) return;
    this.catchingUp.delete(listener);
    if (read === 'gap') return listener.fail(cursorExpired());
    // The feed's first poll starts from what the resumer has seen, so nothing after it is lost;
    // its other listeners learn that position too.
    if (this.head === null) this.startAt(read.head);
    const events = read.entries.map((entry) => this.parsed(entry.id, entry.value));
    const last = events.at(-1)?.logId ?? after;
    // Another watcher logged past this feed's head: its next poll reads those entries again.
    if (this.head !== null && compareLogIds(last, this.head) > 0) this.resumedTo.set(listener, last);
    listener.deliver([...events, ...waiting.filter((e) => e.logId === undefined || compareLogIds(e.logId, last) > 0)]);
  }

  /** A live batch without the log entries a resumer's own read delivered already (see resume). */
  private notResumed(listener: FeedListener, events: JobSessionEventValue[]): JobSessionEventValue[] {
    const to = this.resumedTo.get(listener);
    if (to === undefined) return events;
    if (this.head !== null && compareLogIds(this.head, to) >= 0) this.resumedTo.delete(listener);
    return events.filter((e) => e.logId === undefined || compareLogIds(e.logId, to) > 0);
  }

  private parsed(id: string, value: string): JobSessionEventValue {
    const event = JSON.parse(value) as JobSessionEventValue;
    return { ...event, logId: id, position: id, cursor: this.options.cursorOf?.(this.spec.filter, id) };
  }

  /** Events not from the log (replays, catch-ups): the cursor of `at` (the head), from which a resume continues. */
  private stamped(events: JobSessionEventValue[], at: string | null = this.head): JobSessionEventValue[] {
    if (!this.options.eventLog || !this.options.cursorOf) return events;
    const position = at ?? '0-0';
    const cursor = this.options.cursorOf(this.spec.filter, position);
    return events.map((e) => ({ ...e, position, cursor }));
  }

  private async byIds(ids: string[], filter: SppFilter[]): Promise<SppJobSession[]> {
    const result = await this.read({ filter: [...filter, { property: 'id', value: ids, op: 'IN' }], sort: [...WATCH_ORDER] }, 0, ids.length);
    return result.records;
  }

  private releaseWaiters(): void {
    const waiters = this.pollWaiters;
    this.pollWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** Errors after which a takeover's catch-up is tried again with the next poll; any other refusal logs a gap. */
const RETRIED_CATCH_UP = new Set<string>([ErrorCode.UNAUTHENTICATED, ErrorCode.FORBIDDEN, ErrorCode.UPSTREAM_UNAVAILABLE, ErrorCode.UPSTREAM_TIMEOUT]);

/** The events newer than what `shown` (session id → instant) showed of their session. */
const newerThan = (events: JobSessionEventValue[], shown: ReadonlyMap<string, number>) =>
  events.filter((e) => !(e.at <= (shown.get(e.sessionId) ?? -Infinity)));

/** What makes two sightings of a session the same change: its state, whoever saw it. */
function versionOf(event: JobSessionEventValue): string {
  const s = event.session;
  return event.kind === 'REMOVED' ? `out ${s ? `${s.lastUpdate} ${s.status}` : 'gone'}` : `in ${s?.lastUpdate} ${s?.status} ${s?.percent}`;
}
