/**
 * The event logs of resumable subscriptions (src/state/event-log.ts), with the same contract in
 * memory and in a real redis-server: a change seen by two watchers is kept once, with one id for
 * both; a cursor reads exactly what came after it; a dropped entry, a gap in watching or an
 * unknown log answer 'gap', never a silent hole.
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { RedisState } from '../../src/state/redis.js';
import { InMemoryState } from '../../src/state/memory.js';
import { gapEntry, headOf, type EventLog, type EventLogBounds } from '../../src/state/event-log.js';
import { redisServerPath, redisStateFor, startRedis, warnIfNoRedis, type RedisServer } from '../support/redis.js';

warnIfNoRedis('test/state/event-log.test.ts');

const BOUNDS: EventLogBounds = { maxEvents: 5, maxAgeMs: 60_000, watcherTtlMs: 60_000 };
const change = (subject: string, version: string) => ({ subject, version, value: JSON.stringify({ subject, version }) });
const values = (read: Awaited<ReturnType<EventLog['read']>>) => (read === 'gap' ? 'gap' : read.entries.map((e) => JSON.parse(e.value) as unknown));

let redis: RedisServer | undefined;
const states: RedisState[] = [];
afterAll(async () => {
  for (const state of states) await state.close();
  await redis?.stop();
});

async function redisLogs(): Promise<[EventLog, EventLog]> {
  redis ??= await startRedis();
  const make = async () => {
    const state = redisStateFor(redis!.url, {
      prefix: `event-log-test-${states.length}:`.replace(/-\d+:$/, ':'),
      secret: Buffer.from('event-log-test-session-secret-0123456789'),
      timeoutMs: 1_000,
    });
    await state.start();
    states.push(state);
    return state.eventLog(BOUNDS);
  };
  return [await make(), await make()];
}

const kinds: Array<[string, () => Promise<[EventLog, EventLog]>]> = [
  [
    'in memory',
    async () => {
      const log = new InMemoryState().eventLog(BOUNDS);
      return [log, log];
    },
  ],
];
if (redisServerPath) kinds.push(['in Redis, from two replicas', redisLogs]);

describe.each(kinds)('event logs %s', (_kind, open) => {
  it('keeps a change seen by two watchers once, with the same id for both, and reads exactly what follows a cursor', async () => {
    const [a, b] = await open();
    const log = `log ${Math.random()}`;
    const start = await a.append(log, 'A', []);
    await b.append(log, 'B', []);
    await a.append(log, 'A', [change('1', 'v1'), change('2', 'v1')]);
    await b.append(log, 'B', [change('1', 'v1'), change('2', 'v1'), change('1', 'v2')]);
    await a.append(log, 'A', [change('1', 'v2')]);
    const fromA = await a.read(log, start);
    const fromB = await b.read(log, start);
    expect(values(fromA)).toEqual([
      { subject: '1', version: 'v1' },
      { subject: '2', version: 'v1' },
      { subject: '1', version: 'v2' },
    ]);
    expect(fromB).toEqual(fromA);
    if (fromA === 'gap') return;
    expect(values(await b.read(log, fromA.entries[0]!.id))).toEqual([
      { subject: '2', version: 'v1' },
      { subject: '1', version: 'v2' },
    ]);
    expect(await a.read(log, fromA.head)).toEqual({ entries: [], head: fromA.head });
  });

  it("answers 'gap' past the count bound, after the last watcher left, and for a log nobody keeps", async () => {
    const [a, b] = await open();
    const log = `log ${Math.random()}`;
    const start = await a.append(log, 'A', []);
    const head = await a.append(log, 'A', [change('1', 'v1')]);
    await a.append(
      log,
      'A',
      ['2', '3', '4', '5', '6'].map((s) => change(s, 'v1')),
    );
    // Five kept: the entry after `start` was dropped, the ones after `head` were not.
    expect(await b.read(log, start)).toBe('gap');
    expect(values(await b.read(log, head))).toHaveLength(5);
    // Nobody watches any more: what SPP does now is seen by no one.
    await a.leave(log, 'A');
    expect(await b.read(log, head)).toBe('gap');
    // Watched again: cursors from before the gap still cannot resume.
    const again = await b.append(log, 'B', []);
    expect(await a.read(log, head)).toBe('gap');
    expect(await a.read(log, again)).toEqual({ entries: [], head: again });
    expect(await a.read(`never ${Math.random()}`, '1-0')).toBe('gap');
  });

  it("answers 'gap' across a gap entry a watcher logged (changes it knows are missing), and reads on after it", async () => {
    const [a, b] = await open();
    const log = `log ${Math.random()}`;
    const before = await a.append(log, 'A', [change('1', 'v1')]);
    const marked = await b.append(log, 'B', [gapEntry()]);
    await a.append(log, 'A', [change('2', 'v1')]);
    expect(await b.read(log, before)).toBe('gap');
    expect(values(await a.read(log, marked))).toEqual([{ subject: '2', version: 'v1' }]);
  });

  it('answers its head without an append (headOf), and null once nobody watches', async () => {
    const [a, b] = await open();
    const log = `log ${Math.random()}`;
    await a.append(log, 'A', []);
    const head = await a.append(log, 'A', [change('1', 'v1')]);
    expect(await headOf(b, log)).toBe(head);
    await a.leave(log, 'A');
    expect(await headOf(b, log)).toBeNull();
  });

  it('tells a watcher when another one, still recorded, last appended (none: null), whether or not that one still runs', async () => {
    const [a, b] = await open();
    const log = `log ${Math.random()}`;
    expect(await b.watchedUntil(log, 'B')).toBeNull();
    const before = Date.now();
    await a.append(log, 'A', []);
    const after = Date.now();
    // Its own appends do not count; A's last one does, until A leaves.
    expect(await a.watchedUntil(log, 'A')).toBeNull();
    const until = await b.watchedUntil(log, 'B');
    expect(until).not.toBeNull();
    expect(until!).toBeGreaterThanOrEqual(before - 5);
    expect(until!).toBeLessThanOrEqual(after + 5);
    await a.leave(log, 'A');
    expect(await b.watchedUntil(log, 'B')).toBeNull();
  });
});

describe.skipIf(!redisServerPath)('event logs in Redis', () => {
  it('store no event in clear and name no log in clear', async () => {
    const [a] = await redisLogs();
    await a.append('identity-key-xyz {"property":"status"}', 'A', [change('1234567', 'RUNNING 50')]);
    const client = new Redis(redis!.url);
    try {
      const keys = await client.keys('*');
      expect(keys.join(' ')).not.toMatch(/identity-key-xyz|status/);
      const streams = keys.filter((k) => k.endsWith(':s'));
      expect(streams.length).toBeGreaterThan(0);
      const raw = JSON.stringify(await Promise.all(streams.map((k) => client.xrange(k, '-', '+'))));
      expect(raw).not.toMatch(/1234567|RUNNING/);
    } finally {
      client.disconnect();
    }
  });
});
