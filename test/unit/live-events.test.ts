import { describe, expect, it } from 'vitest';
import { catchUp, diff, replay, trackedPastEdge, vanished, type Observation, type WatchState } from '../../src/live/events.js';
import { EventQueue } from '../../src/live/queue.js';
import { WATCH_ORDER } from '../../src/live/feed.js';
import { canonicalFilter } from '../../src/live/service.js';
import type { SppJobSession } from '../../src/spp-api/types.js';

/** A session with start = id (so newest first is id DESC), as the simulator numbers them. */
const s = (id: number, status = 'RUNNING', percent = 10, lastUpdate = id): SppJobSession => ({
  id: String(id),
  start: id,
  status,
  percent,
  lastUpdate,
  jobName: 'j',
  jobId: '1',
  type: 'protection',
});

const state = (sessions: SppJobSession[], edge: SppJobSession | null): WatchState => ({ seen: new Map(sessions.map((x) => [x.id, x])), edge });
const observe = (window: SppJobSession[], windowFull: boolean, tracked: SppJobSession[] = [], trackedAsked: string[] = []): Observation => ({
  window,
  windowFull,
  tracked,
  trackedAsked,
});

describe('diff', () => {
  it('takes the first observation as the baseline: no events', () => {
    const { events, state: next } = diff(undefined, observe([s(3), s(2)], false), new Map(), 1000, WATCH_ORDER);
    expect(events).toEqual([]);
    expect([...next.seen.keys()]).toEqual(['3', '2']);
    expect(next.edge).toBeNull();
  });

  it('reports a new session as ADDED, a moved one as CHANGED with its previous status, a vanished one as REMOVED, oldest change first', () => {
    const before = state([s(3, 'PENDING', 0, 30), s(2, 'RUNNING', 50, 20), s(1, 'RUNNING', 90, 10)], null);
    const now = [s(4, 'RUNNING', 0, 45), s(3, 'RUNNING', 10, 40), s(2, 'RUNNING', 50, 20)];
    const { events } = diff(before, observe(now, false), new Map([['1', s(1, 'COMPLETED', 100, 35)]]), 1000, WATCH_ORDER);
    expect(events).toEqual([
      { kind: 'REMOVED', sessionId: '1', session: s(1, 'COMPLETED', 100, 35), previousStatus: 'RUNNING', at: 35 },
      { kind: 'CHANGED', sessionId: '3', session: now[1], previousStatus: 'PENDING', at: 40 },
      { kind: 'ADDED', sessionId: '4', session: now[0], previousStatus: null, at: 45 },
    ]);
  });

  it('reports an expired session as REMOVED with a null session, at the time it was noticed', () => {
    const { events } = diff(state([s(2), s(1)], null), observe([s(2)], false), new Map([['1', null]]), 777, WATCH_ORDER);
    expect(events).toEqual([{ kind: 'REMOVED', sessionId: '1', session: null, previousStatus: 'RUNNING', at: 777 }]);
  });

  it('does not report sessions that merely slid out of or into a full window', () => {
    // Window of 2: sessions 5 and 4 were newest; 6 starts, 4 slides out (finished), and when 6 then
    // leaves the filter, 4 slides back in.
    const before = state([s(5, 'COMPLETED'), s(4, 'COMPLETED')], s(4, 'COMPLETED'));
    const slidOut = diff(before, observe([s(6), s(5, 'COMPLETED')], true), new Map(), 0, WATCH_ORDER);
    expect(slidOut.events.map((e) => [e.kind, e.sessionId])).toEqual([['ADDED', '6']]);
    expect(vanished(before, observe([s(6), s(5, 'COMPLETED')], true), WATCH_ORDER)).toEqual([]);
    const slidIn = diff(slidOut.state, observe([s(5, 'COMPLETED'), s(4, 'COMPLETED')], true), new Map([['6', s(6, 'FAILED')]]), 0, WATCH_ORDER);
    expect(slidIn.events.map((e) => [e.kind, e.sessionId])).toEqual([['REMOVED', '6']]);
  });

  it('keeps watching a running session past the edge, by id, and reports it REMOVED when the id lookup no longer finds it', () => {
    const before = state([s(5, 'COMPLETED'), s(4, 'RUNNING', 40)], s(4));
    const window = [s(7), s(6)];
    expect(trackedPastEdge(before, window, true, WATCH_ORDER)).toEqual(['4']);
    const still = diff(before, observe(window, true, [s(4, 'RUNNING', 70, 50)], ['4']), new Map(), 0, WATCH_ORDER);
    expect(still.events.map((e) => [e.kind, e.sessionId])).toEqual([
      ['ADDED', '6'],
      ['ADDED', '7'],
      ['CHANGED', '4'],
    ]);
    const gone = observe(window, true, [], ['4']);
    expect(vanished(still.state, gone, WATCH_ORDER)).toEqual(['4']);
  });
});

describe('replay', () => {
  it('gives each session changed after since once, in its latest state, then recent removals, oldest first', () => {
    const current = state([{ ...s(9, 'RUNNING', 10, 95), start: 60 }, s(5, 'RUNNING', 60, 70), s(3, 'COMPLETED', 100, 30)], null);
    const removed = [
      { kind: 'REMOVED' as const, sessionId: '2', session: null, previousStatus: 'RUNNING', at: 80 },
      { kind: 'REMOVED' as const, sessionId: '1', session: null, previousStatus: 'RUNNING', at: 20 },
    ];
    expect(replay(current, removed, 50)).toEqual([
      { kind: 'CHANGED', sessionId: '5', session: current.seen.get('5'), previousStatus: null, at: 70 },
      { kind: 'REMOVED', sessionId: '2', session: null, previousStatus: null, at: 80 },
      { kind: 'ADDED', sessionId: '9', session: current.seen.get('9'), previousStatus: null, at: 95 },
    ]);
  });
});

describe('catchUp', () => {
  it('gives sessions that still match as ADDED or CHANGED, those that left the filter as REMOVED with their state, then deletions the feed saw; each once, oldest first', () => {
    const changed = [{ ...s(9, 'RUNNING', 10, 95), start: 60 }, s(7, 'COMPLETED', 100, 90), s(5, 'RUNNING', 60, 70), { ...s(5, 'RUNNING', 60, 70) }];
    const history = [
      { kind: 'REMOVED' as const, sessionId: '2', session: null, previousStatus: 'RUNNING', at: 80 },
      { kind: 'REMOVED' as const, sessionId: '1', session: null, previousStatus: 'RUNNING', at: 20 },
      { kind: 'REMOVED' as const, sessionId: '3', session: s(3, 'FAILED'), previousStatus: 'RUNNING', at: 85 },
    ];
    expect(catchUp(changed, new Set(['9', '5']), history, 50)).toEqual([
      { kind: 'CHANGED', sessionId: '5', session: changed[2], previousStatus: null, at: 70 },
      { kind: 'REMOVED', sessionId: '2', session: null, previousStatus: null, at: 80 },
      { kind: 'REMOVED', sessionId: '7', session: changed[1], previousStatus: null, at: 90 },
      { kind: 'ADDED', sessionId: '9', session: changed[0], previousStatus: null, at: 95 },
    ]);
  });
});

describe('EventQueue', () => {
  it('hands items over in order, ends after the queued ones, and calls onClose once', async () => {
    let closed = 0;
    const queue = new EventQueue<number>(
      10,
      () => undefined,
      () => closed++,
    );
    queue.push(1);
    queue.push(2);
    queue.end();
    const seen: number[] = [];
    for await (const item of queue) seen.push(item);
    expect(seen).toEqual([1, 2]);
    expect(closed).toBe(1);
    expect(queue.push(3)).toBe(false);
  });

  it('overflows past its bound: drops what it holds, ends, and reports once', async () => {
    let overflows = 0;
    let closed = 0;
    const queue = new EventQueue<number>(
      3,
      () => overflows++,
      () => closed++,
    );
    for (let i = 0; i < 3; i++) expect(queue.push(i)).toBe(true);
    expect(queue.push(3)).toBe(false);
    expect(queue.push(4)).toBe(false);
    expect([overflows, closed, queue.size]).toEqual([1, 1, 0]);
    expect(await queue.next()).toEqual({ value: undefined, done: true });
  });

  it('resolves a waiting pull with the next push, and return() ends a waiting pull', async () => {
    const queue = new EventQueue<string>(
      3,
      () => undefined,
      () => undefined,
    );
    const pending = queue.next();
    queue.push('a');
    expect(await pending).toEqual({ value: 'a', done: false });
    const waiting = queue.next();
    await queue.return();
    expect(await waiting).toEqual({ value: undefined, done: true });
  });
});

describe('canonicalFilter', () => {
  it('is the same for the same conditions in any order, and differs for different ones', () => {
    const a = canonicalFilter([
      { property: 'status', value: ['RUNNING', 'PENDING'], op: 'IN' },
      { property: 'type', value: ['catalog'], op: 'IN' },
    ]);
    const b = canonicalFilter([
      { property: 'type', value: ['catalog'], op: 'IN' },
      { property: 'status', value: ['PENDING', 'RUNNING'], op: 'IN' },
    ]);
    const c = canonicalFilter([{ property: 'status', value: ['RUNNING'], op: 'IN' }]);
    expect(a).toBe(b);
    expect(a).not.toBe(c);
  });
});
