/**
 * Event logs in Redis (see event-log.ts for the rules): a stream per log (ids from Redis, so
 * the same on every replica), a hash of the last version kept per subject, a sorted set of
 * watchers by expiry. Each operation is one script, so two replicas appending the same change at
 * once log it once. Entry values are sealed with the stream's key; subjects and versions are
 * HMACs. The keys expire `maxAgeMs` after the last append. With Redis unreachable, a log falls
 * back to this process's memory (a resume then works on this replica only).
 */
import type { Redis } from 'ioredis';
import { GAP, InMemoryEventLog, type EventLog, type EventLogBounds, type EventLogEntry, type EventLogInput } from './event-log.js';
import type { Sealer } from './sealing.js';

const NOW = `local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('zremrangebyscore', KEYS[3], '-inf', now - 1)`;

const NEWER = `local function newer(a, b)
  local am, an = string.match(a, '(%d+)-(%d+)')
  local bm, bn = string.match(b, '(%d+)-(%d+)')
  am, an, bm, bn = tonumber(am), tonumber(an), tonumber(bm), tonumber(bn)
  return am > bm or (am == bm and an > bn)
end`;

const INFO = `local function info(key)
  local fields = redis.call('xinfo', 'stream', key)
  local out = {}
  for i = 1, #fields, 2 do out[fields[i]] = fields[i + 1] end
  return out
end`;

/** KEYS: stream, versions, watchers. ARGV: watcher, maxEvents, maxAgeMs, watcherTtlMs, then (subject, version, value)*. */
const APPEND = `${NOW}
${NEWER}
${INFO}
if not redis.call('zscore', KEYS[3], ARGV[1]) and redis.call('zcard', KEYS[3]) == 0 then
  redis.call('xadd', KEYS[1], '*', 'g', '1')
end
redis.call('zadd', KEYS[3], now + tonumber(ARGV[4]), ARGV[1])
for i = 5, #ARGV, 3 do
  if redis.call('hget', KEYS[2], ARGV[i]) ~= ARGV[i + 1] then
    redis.call('hset', KEYS[2], ARGV[i], ARGV[i + 1])
    redis.call('xadd', KEYS[1], '*', 'v', ARGV[i + 2])
  end
end
-- The newest id a bound drops is remembered ('~' is no HMAC character): a cursor before it cannot resume.
local dropped = redis.call('hget', KEYS[2], '~dropped') or '0-0'
local excess = redis.call('xlen', KEYS[1]) - tonumber(ARGV[2])
if excess > 0 then
  local gone = redis.call('xrange', KEYS[1], '-', '+', 'COUNT', excess)
  dropped = gone[#gone][1]
  redis.call('xtrim', KEYS[1], 'MAXLEN', ARGV[2])
end
local minid = tostring(math.max(0, now - tonumber(ARGV[3]))) .. '-0'
local old = redis.call('xrevrange', KEYS[1], '(' .. minid, '-', 'COUNT', 1)
if #old > 0 and newer(old[1][1], dropped) then dropped = old[1][1] end
redis.call('xtrim', KEYS[1], 'MINID', minid)
redis.call('hset', KEYS[2], '~dropped', dropped)
local keep = math.max(tonumber(ARGV[3]), tonumber(ARGV[4]))
for i = 1, 3 do redis.call('pexpire', KEYS[i], keep) end
return info(KEYS[1])['last-generated-id']`;

/** KEYS: stream, versions (unused), watchers. ARGV: watcher. */
const LEAVE = `${NOW}
if redis.call('zrem', KEYS[3], ARGV[1]) == 1 and redis.call('zcard', KEYS[3]) == 0 and redis.call('exists', KEYS[1]) == 1 then
  redis.call('xadd', KEYS[1], '*', 'g', '1')
end
return 1`;

/** KEYS: stream, versions, watchers. ARGV: after. Returns {} for a gap, else {head, entries}. */
const READ = `${NOW}
${NEWER}
${INFO}
if redis.call('zcard', KEYS[3]) == 0 or redis.call('exists', KEYS[1]) == 0 then return {} end
if newer(redis.call('hget', KEYS[2], '~dropped') or '0-0', ARGV[1]) then return {} end
return {info(KEYS[1])['last-generated-id'], redis.call('xrange', KEYS[1], '(' .. ARGV[1], '+')}`;

/** KEYS: stream, versions (unused), watchers. ARGV: watcher, watcherTtlMs. The newest other watcher's last append, or nil. */
const WATCHED = `${NOW}
local top = redis.call('zrevrange', KEYS[3], 0, 1, 'WITHSCORES')
for i = 1, #top, 2 do
  if top[i] ~= ARGV[1] then return tostring(tonumber(top[i + 1]) - tonumber(ARGV[2])) end
end
return false`;

export interface RedisEventLogOptions {
  commands: Redis;
  /** The Redis key prefix of a log (prefixed, hashed name). */
  name: (log: string) => string;
  /** HMAC of subjects and versions. */
  hash: (text: string) => string;
  sealer: Sealer;
  attempt: <T>(operation: string, command: () => Promise<T>) => Promise<T | undefined>;
  bounds: EventLogBounds;
}

type Scripts = {
  appendEvents(...args: Array<string | number>): Promise<string>;
  leaveEvents(...args: Array<string | number>): Promise<number>;
  readEvents(...args: Array<string | number>): Promise<[] | [string, Array<[string, string[]]>]>;
  watchedEvents(...args: Array<string | number>): Promise<string | null>;
};

export class RedisEventLog implements EventLog {
  private readonly local: InMemoryEventLog;
  private readonly scripts: Scripts;

  constructor(private readonly options: RedisEventLogOptions) {
    this.local = new InMemoryEventLog(options.bounds);
    const { commands } = options;
    if (!('appendEvents' in commands)) {
      commands.defineCommand('appendEvents', { numberOfKeys: 3, lua: APPEND });
      commands.defineCommand('leaveEvents', { numberOfKeys: 3, lua: LEAVE });
      commands.defineCommand('readEvents', { numberOfKeys: 3, lua: READ });
      commands.defineCommand('watchedEvents', { numberOfKeys: 3, lua: WATCHED });
    }
    this.scripts = commands as unknown as Scripts;
  }

  private keys(log: string): [string, string, string] {
    const base = this.options.name(log);
    return [`${base}:s`, `${base}:v`, `${base}:w`];
  }

  async append(log: string, watcher: string, entries: readonly EventLogInput[]): Promise<string> {
    const { bounds, hash, sealer } = this.options;
    const keys = this.keys(log);
    const args = entries.flatMap((e) => [hash(e.subject), hash(e.version), sealer.seal(e.value, keys[0])]);
    const head = await this.options.attempt('event-log', () =>
      this.scripts.appendEvents(...keys, watcher, bounds.maxEvents, bounds.maxAgeMs, bounds.watcherTtlMs, ...args),
    );
    return head ?? this.local.append(log, watcher, entries);
  }

  async leave(log: string, watcher: string): Promise<void> {
    await this.local.leave(log, watcher);
    await this.options.attempt('event-log', () => this.scripts.leaveEvents(...this.keys(log), watcher));
  }

  async watchedUntil(log: string, watcher: string): Promise<number | null> {
    const answer = await this.options.attempt('event-log', () => this.scripts.watchedEvents(...this.keys(log), watcher, this.options.bounds.watcherTtlMs));
    if (answer === undefined) return this.local.watchedUntil(log, watcher);
    return answer === null ? null : Number(answer);
  }

  async read(log: string, after: string): Promise<{ entries: EventLogEntry[]; head: string } | 'gap'> {
    const keys = this.keys(log);
    const answer = await this.options.attempt('event-log', () => this.scripts.readEvents(...keys, after));
    if (answer === undefined) return this.local.read(log, after);
    if (answer.length === 0) return 'gap';
    const [head, raw] = answer;
    const entries: EventLogEntry[] = [];
    for (const [id, fields] of raw) {
      if (fields[0] === 'g') return 'gap';
      const value = this.options.sealer.open(fields[1] ?? '', keys[0]);
      // A value that does not open (another secret) cannot be resumed from; a gap entry (gapEntry) is a gap.
      if (value === null || value === GAP) return 'gap';
      entries.push({ id, value });
    }
    return { entries, head };
  }
}
