/**
 * The soak's subscribers and how they are judged (bench/soak.ts).
 *
 * - Transports: each is one small client (subscribe with a sink, close). graphql-ws and
 *   graphql-sse today; multipart HTTP subscriptions join as one more entry of TRANSPORTS.
 * - A subscriber watches the sessions that started after its birth (`start >= birth`), so only
 *   sessions the soak creates (live inserts, reruns) are in its filter and its matches fit the
 *   gateway's poll window. It lives through several connected intervals: subscribe (on a replica
 *   and transport in turn), receive, disconnect (by its own choice, or because its replica was
 *   killed), and resume on the next replica from the `cursor` of the last event it processed
 *   (issue 20): graphql-ws with the `after` argument, graphql-sse with the `Last-Event-ID` header
 *   an EventSource sends. A resume the gateway refuses with CURSOR_EXPIRED (nobody watched the
 *   filter meanwhile, or the log was lost with a Redis restart) starts afresh: without a position,
 *   and judged as a new subscriber.
 * - The simulator's own change log: the state (status, percent, lastUpdate; or absent) of every
 *   session that started after the soak began, recorded whenever it may change (before and after
 *   each live step and restart, and every SNAPSHOT_MS for actions' effects), with the time.
 * - Judgement, per connected interval: every event is a state the session really had, later in
 *   its log than the state last delivered to this subscriber, in this interval or an earlier one
 *   it resumed from (nothing repeated, not even at a resume, nothing out of order, nothing
 *   invented); and every change logged between LEAD_MS after the subscription
 *   and LAG_MS before it ended reached the subscriber in that interval (as itself or as a later
 *   state: the gateway polls, so changes between two polls arrive as the newest one; nothing
 *   else may be missing).
 */
import WebSocket from 'ws';
import { createClient as createWsClient } from 'graphql-ws';
import { createClient as createSseClient } from 'graphql-sse';
import type { Simulator } from '../src/simulator/index.js';
import { translateFilter } from '../src/translate/filter.js';

export const SNAPSHOT_MS = 200;
/** Time a new subscription may take to make its first poll (its baseline): changes before are not promised. */
const LEAD_MS = 4_000;
/** Time a change may take to reach a connected subscriber: a poll every SUBSCRIPTION_POLL_MS, a hung poll's whole budget, a backoff. */
const LAG_MS = 12_000;
/** A poll every 250 ms that may take a few seconds on a loaded machine. */
const POLL_GRACE_MS = 3_000;

interface Sink {
  next(data: any): void;
  /** The subscription ended without being asked to (an error, a closed connection, a completion). */
  ended(reason: string): void;
}

interface Transport {
  name: string;
  /** Subscribes at the gateway `base` (http://127.0.0.1:port), resuming after the event cursor `after` when given; returns the close. */
  subscribe(base: string, query: string, variables: Record<string, unknown>, headers: Record<string, string>, sink: Sink, after?: string): () => void;
}

/** An Error, a list of GraphQL errors, or a WebSocket close event (code and reason). */
function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (Array.isArray(error)) return JSON.stringify(error).slice(0, 200);
  const event = error as { code?: number; reason?: string; message?: string; constructor?: { name?: string } };
  if (event && typeof event.code === 'number') return `close ${event.code}${event.reason ? ` ${event.reason}` : ''}`;
  if (event && typeof event.message === 'string') return `${event.constructor?.name ?? 'error'} ${event.message}`;
  return `${event?.constructor?.name ?? typeof error} ${JSON.stringify(error)?.slice(0, 100)}`;
}

export const TRANSPORTS: Transport[] = [
  {
    name: 'graphql-ws',
    subscribe(base, query, variables, headers, sink, after) {
      const client = createWsClient({
        url: `${base.replace(/^http/, 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        lazy: true,
        connectionParams: headers,
      });
      const stop = client.subscribe(
        { query, variables: { ...variables, ...(after ? { after } : {}) } },
        {
          next: (result) => (result.errors ? sink.ended(`errors ${JSON.stringify(result.errors).slice(0, 200)}`) : sink.next(result.data)),
          error: (error) => sink.ended(`error ${describe(error)}`),
          complete: () => sink.ended('complete'),
        },
      );
      return () => {
        stop();
        void client.dispose();
      };
    },
  },
  {
    name: 'graphql-sse',
    subscribe(base, query, variables, headers, sink, after) {
      // As a reconnecting EventSource resumes: the last `id:` it saw, in Last-Event-ID.
      const client = createSseClient({ url: `${base}/graphql`, retryAttempts: 0, headers: { ...headers, ...(after ? { 'last-event-id': after } : {}) } });
      const stop = client.subscribe(
        { query, variables },
        {
          next: (result) => (result.errors ? sink.ended(`errors ${JSON.stringify(result.errors).slice(0, 200)}`) : sink.next(result.data)),
          error: (error) => sink.ended(`error ${describe(error)}`),
          complete: () => sink.ended('complete'),
        },
      );
      return () => {
        stop();
        client.dispose();
      };
    },
  },
];

const EVENTS = `subscription Events($filter: JobSessionFilter, $after: String) {
  jobSessionEvents(filter: $filter, after: $after) { kind sessionId at cursor session { sessionId status percent lastUpdate start } }
}`;

const stateOf = (s: { status: string; percent?: number | null; lastUpdate?: number | string | null } | null) =>
  s ? `${s.status}|${s.percent ?? ''}|${typeof s.lastUpdate === 'string' ? Date.parse(s.lastUpdate) : (s.lastUpdate ?? '')}` : 'absent';

// ---------------------------------------------------------------------------------------
// The simulator's change log

interface LogEntry {
  state: string;
  t: number;
}
/** Per session id (sessions that started after the soak began), its states in order. */
const changeLog = new Map<string, { start: number; entries: LogEntry[] }>();
let logFrom = 0;
/** When the simulator went down for a restart: a change just before it may have been seen by no poll. */
const simulatorDowns: number[] = [];
export const simulatorDown = (at: number): void => void simulatorDowns.push(at);

export function startChangeLog(from: number): void {
  logFrom = from;
}

/** Records the current state of every logged session; call before and after anything that changes them. */
export function snapshot(sim: Simulator | undefined): void {
  if (!sim) return;
  const now = Date.now();
  const present = new Set<string>();
  for (const s of sim.list({ filter: translateFilter({ start: { gte: logFrom } }).filter })) {
    present.add(s.id);
    const record = changeLog.get(s.id) ?? { start: s.start, entries: [] };
    changeLog.set(s.id, record);
    const state = stateOf(s);
    if (record.entries.at(-1)?.state !== state) record.entries.push({ state, t: now });
  }
  for (const [id, record] of changeLog) {
    if (!present.has(id) && record.entries.at(-1)?.state !== 'absent') record.entries.push({ state: 'absent', t: now });
  }
}

// ---------------------------------------------------------------------------------------
// Subscribers

interface Interval {
  transport: string;
  replica: number;
  from: number;
  to: number;
  ended: string;
  /** Resumed after the cursor of the subscriber's last event; false: a fresh start (the first, or after CURSOR_EXPIRED). */
  resumed: boolean;
  events: Array<{ id: string; state: string; cursor: string; r: number }>;
}

interface Subscriber {
  name: string;
  birth: number;
  intervals: Interval[];
}

const subscribers: Subscriber[] = [];
let counter = 0;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const between = (lo: number, hi: number) => lo + Math.random() * (hi - lo);

/**
 * One subscriber loop: subscribers of `lifeMs`, each connected in intervals of `connectedMs`
 * with pauses between, on the replicas and transports in turn, until `running()` is false.
 */
export async function subscriberLoop(opts: {
  replicas: () => string[];
  headers: Record<string, string>;
  running: () => boolean;
  lifeMs: number;
  connectedMs: [number, number];
  slot: number;
}): Promise<void> {
  while (opts.running()) {
    const subscriber: Subscriber = { name: `subscriber ${++counter}`, birth: Date.now(), intervals: [] };
    subscribers.push(subscriber);
    let after: string | undefined;
    for (let i = 0; opts.running() && Date.now() - subscriber.birth < opts.lifeMs; i++) {
      const replicas = opts.replicas();
      const replica = (opts.slot + counter + i) % replicas.length;
      const transport = TRANSPORTS[(opts.slot + i) % TRANSPORTS.length]!;
      const interval: Interval = {
        transport: transport.name,
        replica,
        from: Date.now(),
        to: Number.NaN,
        ended: 'closed by the subscriber',
        resumed: after !== undefined,
        events: [],
      };
      subscriber.intervals.push(interval);
      let done: (reason: string) => void = () => undefined;
      const ended = new Promise<string>((resolve) => (done = resolve));
      const close = transport.subscribe(
        replicas[replica]!,
        EVENTS,
        { filter: { start: { gte: subscriber.birth } } },
        opts.headers,
        {
          next: (data: { jobSessionEvents: { sessionId: string; cursor: string; session: Parameters<typeof stateOf>[0] } }) => {
            const e = data.jobSessionEvents;
            interval.events.push({ id: e.sessionId, state: stateOf(e.session), cursor: e.cursor, r: Date.now() });
          },
          ended: (reason) => done(reason),
        },
        after,
      );
      const stay = between(...opts.connectedMs);
      const reason = await Promise.race([ended, sleep(stay).then(() => undefined)]);
      interval.to = Date.now();
      if (reason !== undefined) interval.ended = reason;
      close();
      // Resume after the last event processed: the events after it come first, none twice. A
      // cursor the gateway no longer keeps events after (CURSOR_EXPIRED) is given up: start afresh.
      if (interval.ended.includes('CURSOR_EXPIRED')) after = undefined;
      else after = interval.events.at(-1)?.cursor ?? after;
      await sleep(between(500, 2_000));
    }
  }
}

export interface LiveVerdict {
  subscribers: number;
  intervals: number;
  judgedIntervals: number;
  events: number;
  promised: number;
  lost: string[];
  repeated: string[];
  /** Intervals that resumed after an event cursor, and those of them the gateway refused with CURSOR_EXPIRED. */
  resumes: number;
  expiredResumes: number;
  unknown: string[];
  endedBy: Map<string, number>;
  transports: Map<string, number>;
}

/** Judges every connected interval that has ended (see the file comment). */
export function judgeLive(): LiveVerdict {
  const verdict: LiveVerdict = {
    subscribers: subscribers.length,
    intervals: 0,
    judgedIntervals: 0,
    events: 0,
    promised: 0,
    lost: [],
    repeated: [],
    resumes: 0,
    expiredResumes: 0,
    unknown: [],
    endedBy: new Map(),
    transports: new Map(),
  };
  for (const subscriber of subscribers) {
    /** The index in the change log of the state last delivered to this subscriber (since its last fresh start), per session. */
    let delivered = new Map<string, number>();
    for (const interval of subscriber.intervals) {
      if (!Number.isFinite(interval.to)) continue;
      verdict.intervals++;
      if (interval.resumed) {
        verdict.resumes++;
        if (interval.ended.includes('CURSOR_EXPIRED')) verdict.expiredResumes++;
      } else delivered = new Map();
      verdict.events += interval.events.length;
      const reason = interval.ended.replace(/\d+/g, 'N').slice(0, 60);
      verdict.endedBy.set(reason, (verdict.endedBy.get(reason) ?? 0) + 1);
      verdict.transports.set(interval.transport, (verdict.transports.get(interval.transport) ?? 0) + 1);
      const reachedInInterval = new Map<string, number>();
      for (const event of interval.events) {
        const entries = changeLog.get(event.id)?.entries ?? [];
        const previous = delivered.get(event.id) ?? -1;
        const previousHere = reachedInInterval.get(event.id) ?? -1;
        const index = entries.findIndex((entry, k) => k > previous && entry.state === event.state);
        const where = `${subscriber.name} (${interval.transport}, replica ${interval.replica}): session ${event.id} state ${event.state}`;
        const received = new Date(event.r).toISOString().slice(11, 23);
        if (index >= 0) {
          delivered.set(event.id, index);
          reachedInInterval.set(event.id, index);
        } else if (entries.some((entry, k) => k > previousHere && k <= previous && entry.state === event.state))
          verdict.repeated.push(`${where} delivered before the resume, and again after it (received ${received})`);
        else if (entries.some((entry) => entry.state === event.state))
          verdict.repeated.push(`${where} delivered again or out of order while connected (received ${received})`);
        else verdict.unknown.push(`${where}, which the simulator never had`);
      }
      if (interval.to - interval.from < LEAD_MS + LAG_MS) continue;
      verdict.judgedIntervals++;
      for (const [id, record] of changeLog) {
        if (record.start < subscriber.birth) continue;
        // Created moments before the simulator went away and gone with it: nobody could see it, so its removal is no news either.
        const [first, second] = record.entries;
        if (first && second?.state === 'absent' && simulatorDowns.some((down) => first.t <= down && first.t > down - POLL_GRACE_MS)) continue;
        record.entries.forEach((entry, k) => {
          if (entry.t < interval.from + LEAD_MS || entry.t > interval.to - LAG_MS) return;
          // Made in the last moments before the simulator went away: no poll may have seen it (its removal by the restart still counts).
          if (entry.state !== 'absent' && simulatorDowns.some((down) => entry.t <= down && entry.t > down - POLL_GRACE_MS)) return;
          // An absent session nobody had seen (created and removed unseen) is no news to this subscriber.
          if (entry.state === 'absent' && k === 0) return;
          verdict.promised++;
          if ((reachedInInterval.get(id) ?? -1) < k) {
            verdict.lost.push(
              `${subscriber.name} (${interval.transport}, replica ${interval.replica}, connected ${new Date(interval.from).toISOString().slice(11, 19)}–${new Date(interval.to).toISOString().slice(11, 19)}): session ${id} became ${entry.state} at ${new Date(entry.t).toISOString().slice(11, 19)} and that (or a later state) never arrived`,
            );
          }
        });
      }
    }
  }
  return verdict;
}
