import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Feed, type FeedListener, type FeedOptions } from '../../src/live/feed.js';
import { startSimulator } from '../../src/simulator/index.js';
import { GAP, headOf, InMemoryEventLog, type EventLog, type EventLogInput } from '../../src/state/event-log.js';
import { unauthenticated, upstreamError, upstreamUnavailable } from '../../src/errors.js';
import type { SppJobSession } from '../../src/spp-api/types.js';
import type { UpstreamIdentity } from '../../src/upstream/session.js';

const identity: UpstreamIdentity = { key: 'test', sessionId: async () => 's', renew: async () => null };
const session = (id: number, status: string): SppJobSession => ({
  id: String(id),
  start: id,
  status,
  percent: 0,
  lastUpdate: id,
  jobName: 'j',
  jobId: '1',
  type: 'catalog',
});

/** A feed over a scripted SPP: each read answers the next scripted outcome (the last repeats). */
function scriptedFeed(script: Array<SppJobSession[] | Error>) {
  const reads: number[] = [];
  let i = 0;
  const feed = new Feed(
    { key: 'k', identity, filter: [] },
    {
      window: 10,
      intervalMs: 100,
      idleIntervalMs: 1_000,
      maxBackoffMs: 800,
      readerFor: () => async () => {
        reads.push(Date.now());
        const outcome = script[Math.min(i++, script.length - 1)]!;
        if (outcome instanceof Error) throw outcome;
        return { records: outcome };
      },
    },
  );
  return { feed, reads };
}

const gaps = (reads: number[]) => reads.slice(1).map((t, i) => t - reads[i]!);

describe('Feed scheduling', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());

  it('polls every interval while a watched session runs, every idle interval when none does', async () => {
    const { feed, reads } = scriptedFeed([[session(1, 'RUNNING')], [session(1, 'RUNNING')], [session(1, 'COMPLETED')]]);
    feed.start();
    await vi.advanceTimersByTimeAsync(3_300);
    feed.stop();
    expect(gaps(reads)).toEqual([100, 100, 1_000, 1_000, 1_000]);
  });

  it('backs off while SPP fails (doubling up to the bound) and resumes the interval once it answers', async () => {
    const down = upstreamUnavailable();
    const { feed, reads } = scriptedFeed([[session(1, 'RUNNING')], down, down, down, down, [session(1, 'RUNNING')]]);
    feed.start();
    await vi.advanceTimersByTimeAsync(2_500);
    feed.stop();
    expect(gaps(reads).slice(0, 6)).toEqual([100, 200, 400, 800, 800, 100]);
  });

  it('ends every listener with UNAUTHENTICATED when SPP refuses the identity, and stops', async () => {
    const { feed, reads } = scriptedFeed([[session(1, 'RUNNING')], unauthenticated('SPP did not accept the session: log in again.')]);
    const failed: string[] = [];
    const listener: FeedListener = { deliver: () => undefined, fail: (error) => failed.push(String(error.extensions.code)) };
    feed.join(listener);
    feed.start();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(failed).toEqual(['UNAUTHENTICATED']);
    expect(reads).toHaveLength(2);
  });

  it('makes no request after stop()', async () => {
    const { feed, reads } = scriptedFeed([[session(1, 'RUNNING')]]);
    feed.start();
    await vi.advanceTimersByTimeAsync(250);
    const count = reads.length;
    feed.stop();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(reads).toHaveLength(count);
  });
});

describe('Feed catch-up from `since`', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());

  it('does not send again a change its catch-up showed when the next poll reports it (SPP changed between the baseline and the catch-up)', async () => {
    const before = { ...session(1, 'RUNNING'), percent: 10, lastUpdate: 1 };
    const after = { ...session(1, 'RUNNING'), percent: 50, lastUpdate: 5 };
    const later = { ...session(1, 'COMPLETED'), percent: 100, lastUpdate: 9 };
    // Reads in order: the baseline poll, the catch-up, then polls.
    const { feed } = scriptedFeed([[before], [after], [after], [later]]);
    const batches: Array<Array<{ kind: string; sessionId: string; at: number }>> = [];
    const listener: FeedListener = {
      deliver: (events) => void batches.push(events.map((e) => ({ kind: e.kind, sessionId: e.sessionId, at: e.at }))),
      fail: () => undefined,
    };
    feed.start();
    await vi.advanceTimersByTimeAsync(10);
    feed.join(listener, 0);
    await vi.advanceTimersByTimeAsync(250);
    feed.stop();
    expect(batches).toEqual([[{ kind: 'ADDED', sessionId: '1', at: 5 }], [{ kind: 'CHANGED', sessionId: '1', at: 9 }]]);
  });
});

/** Starts `feed`, waits for its first poll and the one after, and stops it (no upstream call left). */
async function firstTwoPolls(feed: Feed): Promise<void> {
  const first = feed.nextPoll();
  feed.start();
  await first;
  await feed.nextPoll();
  feed.stop();
  await feed.settled();
}

describe('Feed taking over a log whose watcher died', () => {
  it('gives a listener that asked for the current state the change its catch-up found after the baseline, and nothing its replay showed', async () => {
    const log = new InMemoryEventLog({ maxEvents: 1_000, maxAgeMs: 60_000, watcherTtlMs: 60_000 });
    await log.append('k', 'a watcher that died', []);
    const before = { ...session(1, 'RUNNING'), percent: 10, lastUpdate: 10 };
    const after = { ...session(1, 'RUNNING'), percent: 50, lastUpdate: 20 };
    // Reads in order: the baseline, the catch-up (SPP changed in between), then polls.
    const reads = [[before], [after]];
    const feed = new Feed(
      { key: 'k', identity, filter: [] },
      {
        window: 10,
        intervalMs: 20,
        idleIntervalMs: 20,
        maxBackoffMs: 100,
        readerFor: () => async () => ({ records: reads.shift() ?? [after] }),
        eventLog: log,
        cursorOf: (_filter, id) => id,
      },
    );
    const batches: Array<Array<{ kind: string; at: number }>> = [];
    feed.join({ deliver: (events) => void batches.push(events.map((e) => ({ kind: e.kind, at: e.at }))), fail: () => undefined }, 'current');
    await firstTwoPolls(feed);
    expect(batches).toEqual([[{ kind: 'ADDED', at: 10 }], [{ kind: 'CHANGED', at: 20 }]]);
  });

  it('gives a cursor resumed on it the sessions SPP added after the dead watcher last polled, each once', async () => {
    const sim = await startSimulator({ seed: 5, size: 20 });
    const log = new InMemoryEventLog({ maxEvents: 1_000, maxAgeMs: 60_000, watcherTtlMs: 60_000 });
    const options = (eventLog: EventLog): FeedOptions => ({
      window: 100,
      intervalMs: 40,
      idleIntervalMs: 40,
      maxBackoffMs: 200,
      readerFor: () => async (query, offset, count) => ({ records: sim.list({ filter: query.filter, sort: query.sort }).slice(offset, offset + count) }),
      eventLog,
      cursorOf: (_filter, id) => id,
    });
    const collected = () => {
      const events: Array<{ kind: string; sessionId: string; cursor: string | undefined }> = [];
      const listener: FeedListener = {
        deliver: (batch) => void events.push(...batch.map((e) => ({ kind: e.kind, sessionId: e.sessionId, cursor: e.cursor }))),
        fail: () => undefined,
      };
      return { events, listener };
    };
    try {
      // Replica A's feed; it dies without leaving the log (SIGKILL): its watcher record stays.
      const dying: EventLog = {
        append: (...a) => log.append(...a),
        read: (...a) => log.read(...a),
        watchedUntil: (...a) => log.watchedUntil(...a),
        leave: async () => undefined,
      };
      const a = new Feed({ key: 'k', identity, filter: [] }, options(dying));
      const onA = collected();
      a.join(onA.listener);
      const baseline = a.nextPoll();
      a.start();
      await baseline;
      const [seenOnA] = sim.step({ insert: 1 }).inserted;
      await a.nextPoll();
      expect(onA.events.filter((e) => e.kind === 'ADDED').map((e) => e.sessionId)).toEqual([seenOnA]);
      a.stop();
      await a.settled();

      // While nobody polls, SPP adds two sessions; replica B's new feed takes the log over.
      const missed = sim.step({ insert: 2 }).inserted;
      const b = new Feed({ key: 'k', identity, filter: [] }, options(log));
      const onB = collected();
      b.join(onB.listener, { after: onA.events.at(-1)!.cursor! });
      const takeover = b.nextPoll();
      b.start();
      await takeover;
      await b.nextPoll();
      b.stop();
      await b.settled();
      // The two sessions added while nobody polled are reported, each once (as added, or as changed
      // when one started in the very millisecond of A's last poll); the one A delivered is not added again.
      const reported = onB.events.filter((e) => e.kind !== 'REMOVED').map((e) => e.sessionId);
      expect(missed.map((id) => reported.filter((r) => r === id).length)).toEqual([1, 1]);
      expect(onB.events.filter((e) => e.kind === 'ADDED' && e.sessionId === seenOnA)).toEqual([]);
      const keys = onB.events.map((e) => `${e.kind} ${e.sessionId} ${e.cursor}`);
      expect(new Set(keys).size).toBe(keys.length);
    } finally {
      await sim.close();
    }
  });

  /** A feed taking over `log` (another watcher recorded) over a scripted SPP, cursors = log ids. */
  const takeover = (log: EventLog, reader: FeedOptions['readerFor'], window = 10) =>
    new Feed(
      { key: 'k', identity, filter: [] },
      { window, intervalMs: 20, idleIntervalMs: 20, maxBackoffMs: 100, readerFor: reader, eventLog: log, cursorOf: (_filter, id) => id },
    );
  const listening = () => {
    const batches: string[][] = [];
    const failed: string[] = [];
    /** Where a resume of this listener would continue: the last position the feed told it, or its last event's cursor. */
    const at: string[] = [];
    const listener: FeedListener = {
      deliver: (events) => {
        batches.push(events.map((e) => `${e.kind} ${e.sessionId} ${e.session?.status ?? '-'}`));
        for (const e of events) if (e.cursor) at.push(e.cursor);
      },
      fail: (error) => void failed.push(String(error.extensions.code)),
      position: (head) => void at.push(head),
    };
    return { batches, failed, at, listener };
  };
  const seen = ({ batches, failed }: ReturnType<typeof listening>) => ({ batches, failed });
  const bounds = { maxEvents: 1_000, maxAgeMs: 60_000, watcherTtlMs: 60_000 };
  const running = { ...session(1, 'RUNNING'), percent: 10, lastUpdate: 10 };
  const completed = { ...session(1, 'COMPLETED'), percent: 100, lastUpdate: 20 };
  const changedEntry = {
    subject: '1',
    // As the feed writes a change's version (feed.ts versionOf): the same state is the same change, whoever saw it.
    version: 'in 20 COMPLETED 100',
    value: JSON.stringify({ kind: 'CHANGED', sessionId: '1', session: completed, previousStatus: 'RUNNING', at: 20 }),
  };
  const second = { ...session(2, 'COMPLETED'), percent: 100, lastUpdate: 30 };
  const addedEntry = {
    subject: '2',
    version: 'in 30 COMPLETED 100',
    value: JSON.stringify({ kind: 'ADDED', sessionId: '2', session: second, previousStatus: null, at: 30 }),
  };

  it('delivers a change the other watcher, still running, logged between the baseline and the catch-up (the log drops this feed’s own report of it)', async () => {
    const log = new InMemoryEventLog(bounds);
    await log.append('k', 'replica B', []);
    let reads = 0;
    const feed = takeover(log, () => async () => {
      reads++;
      // The baseline sees it running; replica B then polls and logs its completion.
      if (reads === 1) return { records: [running] };
      if (reads === 2) await log.append('k', 'replica B', [changedEntry]);
      return { records: [completed] };
    });
    const a = listening();
    feed.join(a.listener, 'current');
    await firstTwoPolls(feed);
    expect(seen(a)).toEqual({ batches: [['ADDED 1 RUNNING'], ['CHANGED 1 COMPLETED']], failed: [] });
  });

  it('replays to a listener joining during the first poll once, after that poll, without repeating the catch-up', async () => {
    const log = new InMemoryEventLog(bounds);
    await log.append('k', 'a watcher that died', []);
    const b = listening();
    let reads = 0;
    const feed: Feed = takeover(log, () => async () => {
      // The second read is the catch-up: the baseline's state is known, the poll is not over.
      if (++reads === 2) feed.join(b.listener, 'current');
      return { records: [running] };
    });
    await firstTwoPolls(feed);
    expect(seen(b)).toEqual({ batches: [['ADDED 1 RUNNING']], failed: [] });
  });

  it('refuses a cursor from before it (CURSOR_EXPIRED) when more sessions changed since the other watcher than one read holds', async () => {
    const log = new InMemoryEventLog(bounds);
    const before = await log.append('k', 'a watcher that died', []);
    const now = Date.now();
    const changed = [1, 2, 3].map((i) => ({ ...session(i, 'COMPLETED'), start: now + i, lastUpdate: now + 1_000 + i }));
    const feed = takeover(
      log,
      () => async (query, offset, count) => {
        const ids = query.filter.find((f) => f.property === 'id')?.value as string[] | undefined;
        const by = query.sort[0]!.property as 'lastUpdate' | 'start';
        const records = changed.filter((r) => !ids || ids.includes(r.id)).sort((x, y) => y[by] - x[by]);
        return { records: records.slice(offset, offset + count) };
      },
      2,
    );
    const resumed = listening();
    feed.join(resumed.listener, { after: before });
    await firstTwoPolls(feed);
    // Its resume found nothing in the log yet (an empty delivery); the catch-up it counted on is short.
    expect(seen(resumed)).toEqual({ batches: [[]], failed: ['CURSOR_EXPIRED'] });
  });

  it('starts from its baseline when the catch-up read fails, delivers later changes, and refuses a cursor from before it', async () => {
    const log = new InMemoryEventLog(bounds);
    const before = await log.append('k', 'a watcher that died', []);
    let reads = 0;
    const feed = takeover(log, () => async () => {
      reads++;
      if (reads === 2) throw upstreamError('HTTP 400');
      return { records: [reads === 1 ? running : completed] };
    });
    const live = listening();
    const resumed = listening();
    feed.join(live.listener);
    feed.join(resumed.listener, { after: before });
    await firstTwoPolls(feed);
    expect(seen(live)).toEqual({ batches: [['CHANGED 1 COMPLETED']], failed: [] });
    // Its resume found nothing in the log yet (an empty delivery); the catch-up it counted on is short.
    expect(seen(resumed)).toEqual({ batches: [[]], failed: ['CURSOR_EXPIRED'] });
    expect(reads).toBeGreaterThanOrEqual(3);
  });

  it('when it logs a gap, still delivers what the running watcher logged meanwhile, and leaves its listeners positions past the gap', async () => {
    const log = new InMemoryEventLog(bounds);
    const start = await log.append('k', 'replica B', []);
    let reads = 0;
    const feed = takeover(log, () => async () => {
      reads++;
      if (reads === 1) return { records: [running] };
      if (reads === 2) {
        // Replica B logs the completion; this feed's catch-up read is refused.
        await log.append('k', 'replica B', [changedEntry]);
        throw upstreamError('HTTP 400');
      }
      return { records: [completed] };
    });
    const live = listening();
    const current = listening();
    feed.join(live.listener);
    feed.join(current.listener, 'current');
    await firstTwoPolls(feed);
    expect(seen(live)).toEqual({ batches: [['CHANGED 1 COMPLETED']], failed: [] });
    expect(seen(current)).toEqual({ batches: [['ADDED 1 RUNNING'], ['CHANGED 1 COMPLETED']], failed: [] });
    // Neither missed anything: a resume from where each stands continues, it is not refused.
    for (const { at } of [live, current]) expect(await log.read('k', at.at(-1)!)).toEqual({ entries: [], head: expect.any(String) });
    // The live listener was told the head it started at, then learnt the gap's position from the
    // carried change itself, not before it: a cursor of the gap handed out first would have skipped it.
    expect(live.at).toEqual([start, expect.not.stringMatching(`^${start}$`)]);
  });

  it('ends a resumer that joined before the first poll with CURSOR_EXPIRED when the log it resumed in lapsed while SPP was away', async () => {
    // The other watcher's record lapses (30 ms) while this feed backs off from a failed catch-up.
    const log = new InMemoryEventLog({ ...bounds, watcherTtlMs: 30 });
    const before = await log.append('k', 'a watcher that died', []);
    let reads = 0;
    const feed = takeover(log, () => async () => {
      reads++;
      if (reads === 2) throw upstreamUnavailable();
      return { records: [reads < 3 ? running : completed] };
    });
    const resumed = listening();
    feed.join(resumed.listener, { after: before });
    await firstTwoPolls(feed);
    expect(seen(resumed)).toEqual({ batches: [[]], failed: ['CURSOR_EXPIRED'] });
  });

  it('logs no gap when it is stopped while it prepares one', async () => {
    const inner = new InMemoryEventLog(bounds);
    const before = await inner.append('k', 'replica B', []);
    let reads = 0;
    // The read before the gap is where stop() lands: the subscribers left meanwhile.
    const log: EventLog = {
      append: (...a) => inner.append(...a),
      leave: (...a) => inner.leave(...a),
      watchedUntil: (...a) => inner.watchedUntil(...a),
      read: (...a) => {
        if (reads >= 2) feed.stop();
        return inner.read(...a);
      },
    };
    const feed: Feed = takeover(log, () => async () => {
      if (++reads === 2) throw upstreamError('HTTP 400');
      return { records: [running] };
    });
    const first = feed.nextPoll();
    feed.start();
    await first;
    await feed.settled();
    expect(await inner.read('k', before)).toEqual({ entries: [], head: before });
  });

  it('tries the catch-up again with the next poll when SPP is briefly away, and logs no gap', async () => {
    const log = new InMemoryEventLog(bounds);
    const before = await log.append('k', 'a watcher that died', []);
    let reads = 0;
    const feed = takeover(log, () => async () => {
      reads++;
      if (reads === 2) throw upstreamUnavailable();
      return { records: [reads < 4 ? running : completed] };
    });
    const resumed = listening();
    feed.join(resumed.listener, { after: before });
    await firstTwoPolls(feed);
    expect(seen(resumed)).toEqual({ batches: [[], ['CHANGED 1 COMPLETED']], failed: [] });
    expect(await log.read('k', before)).not.toBe('gap');
  });

  it('does not deliver again to a resumer the entries its own read found past the feed’s head', async () => {
    const log = new InMemoryEventLog(bounds);
    let reads = 0;
    const feed = takeover(log, () => async () => ({ records: [reads++ === 0 ? running : completed] }));
    const first = feed.nextPoll();
    feed.start();
    await first;
    const head = (await headOf(log, 'k'))!;
    // Another replica logs the completion before this feed polls again; a subscriber resumes here from the head.
    await log.append('k', 'replica Y', [changedEntry]);
    const resumed = listening();
    feed.join(resumed.listener, { after: head });
    await feed.nextPoll();
    await feed.nextPoll();
    feed.stop();
    await feed.settled();
    expect(seen(resumed)).toEqual({ batches: [['CHANGED 1 COMPLETED']], failed: [] });
  });

  /** `inner` with hooks on its appends and reads (numbered from 1), which may act or throw before passing the call on. */
  function hooked(
    inner: InMemoryEventLog,
    hooks: {
      append?: (n: number, entries: readonly EventLogInput[], go: () => Promise<string>) => Promise<string>;
      read?: (n: number, go: () => ReturnType<EventLog['read']>) => ReturnType<EventLog['read']>;
    },
  ): EventLog {
    let appends = 0;
    let reads = 0;
    return {
      append: (name, watcher, entries) =>
        hooks.append ? hooks.append(++appends, entries, () => inner.append(name, watcher, entries)) : inner.append(name, watcher, entries),
      read: (name, after) => (hooks.read ? hooks.read(++reads, () => inner.read(name, after)) : inner.read(name, after)),
      leave: (...a) => inner.leave(...a),
      watchedUntil: (...a) => inner.watchedUntil(...a),
    };
  }
  const failingFirst = async (n: number, _entries: readonly EventLogInput[], go: () => Promise<string>) => {
    if (n === 1) throw new Error('Redis timed out');
    return go();
  };

  it('takes its first poll again, catch-up included, when logging it failed: an early resumer gets the catch-up', async () => {
    const inner = new InMemoryEventLog(bounds);
    const before = await inner.append('k', 'a watcher that died', []);
    const added = { ...session(5, 'COMPLETED'), start: Date.now() + 1_000_000, lastUpdate: Date.now() + 1_000_000 };
    const feed = takeover(hooked(inner, { append: failingFirst }), () => async () => ({ records: [added] }));
    const resumed = listening();
    feed.join(resumed.listener, { after: before });
    await firstTwoPolls(feed);
    expect(seen(resumed)).toEqual({ batches: [[], ['ADDED 5 COMPLETED']], failed: [] });
  });

  it('logs its gap on the next try when writing it failed, and ends the early resumer then', async () => {
    const inner = new InMemoryEventLog(bounds);
    const before = await inner.append('k', 'a watcher that died', []);
    let reads = 0;
    const feed = takeover(hooked(inner, { append: failingFirst }), () => async () => {
      if (++reads % 2 === 0) throw upstreamError('HTTP 400');
      return { records: [running] };
    });
    const resumed = listening();
    feed.join(resumed.listener, { after: before });
    await firstTwoPolls(feed);
    expect(seen(resumed)).toEqual({ batches: [[]], failed: ['CURSOR_EXPIRED'] });
    expect(await inner.read('k', before)).toBe('gap');
  });

  it('keeps the entries it carries across its gap when the read after it fails, and delivers them with the next poll', async () => {
    const inner = new InMemoryEventLog(bounds);
    await inner.append('k', 'replica B', []);
    const log = hooked(inner, { read: (n, go) => (n === 3 ? Promise.reject(new Error('Redis timed out')) : go()) });
    let reads = 0;
    const feed = takeover(log, () => async () => {
      reads++;
      if (reads === 1) return { records: [running] };
      if (reads === 2) {
        await inner.append('k', 'replica B', [changedEntry]);
        throw upstreamError('HTTP 400');
      }
      return { records: [completed] };
    });
    const live = listening();
    feed.join(live.listener);
    const first = feed.nextPoll();
    feed.start();
    await first;
    await feed.nextPoll();
    await feed.nextPoll();
    feed.stop();
    await feed.settled();
    expect(seen(live)).toEqual({ batches: [['CHANGED 1 COMPLETED']], failed: [] });
  });

  it('tells its live listeners their position when an early resumer set its head', async () => {
    const inner = new InMemoryEventLog(bounds);
    const start = await inner.append('k', 'replica B', []);
    const feed = takeover(inner, () => async (query) => ({ records: query.sort[0]!.property === 'lastUpdate' ? [] : [running] }));
    const live = listening();
    const resumed = listening();
    feed.join(live.listener);
    feed.join(resumed.listener, { after: start });
    await firstTwoPolls(feed);
    expect(live.at).toEqual([start]);
  });

  it('does not send a carried entry to a resumer whose cursor is already past it', async () => {
    const inner = new InMemoryEventLog(bounds);
    await inner.append('k', 'replica B', []);
    const late = listening();
    let gapped = false;
    let joined = false;
    const log = hooked(inner, {
      append: async (_n, entries, go) => {
        if (gapped && !joined) {
          joined = true;
          // Replica B polls again after the gap; a client of B that got that entry reconnects here.
          const afterIt = await inner.append('k', 'replica B', [addedEntry]);
          feed.join(late.listener, { after: afterIt });
        }
        if (entries[0]?.value === GAP) gapped = true;
        return go();
      },
    });
    let reads = 0;
    const feed: Feed = takeover(log, () => async () => {
      reads++;
      if (reads === 1) return { records: [running] };
      if (reads === 2) {
        await inner.append('k', 'replica B', [changedEntry]);
        throw upstreamError('HTTP 400');
      }
      return { records: [completed, second] };
    });
    await firstTwoPolls(feed);
    expect(late.batches.flat()).not.toContain('CHANGED 1 COMPLETED');
    expect(late.failed).toEqual([]);
  });
});
