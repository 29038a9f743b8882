/**
 * What a poll of one filter saw, compared with the poll before: pure functions, unit-tested.
 *
 * A feed watches the newest `window` sessions of its filter (SPP's default order, start DESC
 * with the id as tie-breaker) plus the sessions it saw in a non-final status that have since
 * slid past the window's edge, so a long backup keeps reporting progress however many sessions
 * start after it. Between two polls:
 * - a session seen now and not before is ADDED when it lies ahead of the previous edge (it is
 *   new to the filter); one that only slid into the window because others left is not news;
 * - a session seen both times is CHANGED when SPP's `lastUpdate`, `status` or `percent` moved;
 * - a session seen before and not now is REMOVED when it should still be visible (it lies
 *   ahead of the new edge, or it was asked for by id): it left the filter, or SPP expired it.
 *   A finished session that slid past the edge merely left the window: no event.
 */
import type { SppJobSession, SppSort } from '../spp-api/types.js';
import { comparePositions, keysOf } from '../pagination/keyset.js';

export type JobSessionEventKind = 'ADDED' | 'CHANGED' | 'REMOVED';

/** The payload of `Subscription.jobSessionEvents` (codegen mapper of JobSessionEvent). */
export interface JobSessionEventValue {
  kind: JobSessionEventKind;
  sessionId: string;
  /** The session now; null only for REMOVED of a session SPP expired (deleted). */
  session: SppJobSession | null;
  /** SPP's status string before the change; null for ADDED and replayed changes. */
  previousStatus: string | null;
  /** Epoch ms: the session's lastUpdate, or when the gateway noticed an expiry. */
  at: number;
  /** The event's id in the shared event log (src/state/event-log.ts), when it came from there. */
  logId?: string;
  /** The signed cursor a client resumes after (`after`); set by the feed. */
  cursor?: string | undefined;
  /** The log id a resume continues after (the entry's own, or the head for replays); set by the feed. */
  position?: string;
  /** The SPP server of the session (issue 21), set for subscribers of several servers. */
  server?: string;
}

/**
 * Statuses after which SPP no longer changes a session (docs/spp-api.md#the-session-record). Everything else,
 * including states this gateway does not know, may still change and is watched.
 */
export const FINAL_STATUSES: ReadonlySet<string> = new Set(['COMPLETED', 'PARTIAL', 'FAILED', 'CANCELED', 'CANCELLED', 'ABORTED', 'STOPPED']);

export const isFinal = (session: SppJobSession): boolean => FINAL_STATUSES.has(String(session.status).toUpperCase());

/** What a feed remembers between polls. */
export interface WatchState {
  /** Every session in view after the last poll, by id. */
  seen: Map<string, SppJobSession>;
  /** The oldest session of a full window; null when the window held every match. */
  edge: SppJobSession | null;
}

/** One poll's upstream answers. */
export interface Observation {
  /** The newest sessions of the filter, in the watch order. */
  window: SppJobSession[];
  /** True when the window was full: older matching sessions may exist past its edge. */
  windowFull: boolean;
  /** Ids asked for by id (non-final sessions past the edge), and those of them that still match. */
  trackedAsked: readonly string[];
  tracked: SppJobSession[];
}

const position = (session: SppJobSession, sort: readonly SppSort[]) => ({ keys: keysOf(session, sort), id: session.id });

/** Whether `session` sorts at or before `edge` (inside a window whose last record is `edge`). */
export function insideEdge(session: SppJobSession, edge: SppJobSession | null, sort: readonly SppSort[]): boolean {
  return edge === null || comparePositions(position(session, sort), position(edge, sort), sort) <= 0;
}

/** Non-final sessions of `previous` that lie past the new window's edge: they are asked for by id. */
export function trackedPastEdge(previous: WatchState, window: SppJobSession[], windowFull: boolean, sort: readonly SppSort[]): string[] {
  if (!windowFull) return [];
  const edge = window[window.length - 1] ?? null;
  const inWindow = new Set(window.map((s) => s.id));
  const ids: string[] = [];
  for (const [id, session] of previous.seen) {
    if (!inWindow.has(id) && !isFinal(session) && !insideEdge(session, edge, sort)) ids.push(id);
  }
  return ids;
}

/** Sessions that were in view and should still be, but were not seen: they left the filter or expired. */
export function vanished(previous: WatchState, observation: Observation, sort: readonly SppSort[]): string[] {
  const now = new Set([...observation.window, ...observation.tracked].map((s) => s.id));
  const asked = new Set(observation.trackedAsked);
  const edge = observation.windowFull ? (observation.window[observation.window.length - 1] ?? null) : null;
  const ids: string[] = [];
  for (const [id, session] of previous.seen) {
    if (now.has(id)) continue;
    if (asked.has(id) || insideEdge(session, edge, sort)) ids.push(id);
  }
  return ids;
}

const changed = (a: SppJobSession, b: SppJobSession) => a.lastUpdate !== b.lastUpdate || a.status !== b.status || a.percent !== b.percent;

/**
 * The events between `previous` and `observation`, oldest change first (by `at`, then id), and
 * the state to keep. `lookedUp` holds the current record (or null: expired) of each vanished id.
 * Without a previous state (the first poll) nothing is news: the observation is the baseline.
 */
export function diff(
  previous: WatchState | undefined,
  observation: Observation,
  lookedUp: ReadonlyMap<string, SppJobSession | null>,
  noticedAt: number,
  sort: readonly SppSort[],
): { events: JobSessionEventValue[]; state: WatchState } {
  const seen = new Map<string, SppJobSession>();
  for (const session of [...observation.window, ...observation.tracked]) seen.set(session.id, session);
  const state: WatchState = { seen, edge: observation.windowFull ? (observation.window[observation.window.length - 1] ?? null) : null };
  if (!previous) return { events: [], state };

  const events: JobSessionEventValue[] = [];
  for (const session of seen.values()) {
    const before = previous.seen.get(session.id);
    if (before) {
      if (changed(before, session))
        events.push({ kind: 'CHANGED', sessionId: session.id, session, previousStatus: before.status, at: session.lastUpdate ?? noticedAt });
    } else if (insideEdge(session, previous.edge, sort)) {
      events.push({ kind: 'ADDED', sessionId: session.id, session, previousStatus: null, at: session.lastUpdate ?? session.start ?? noticedAt });
    }
  }
  for (const id of vanished(previous, observation, sort)) {
    const now = lookedUp.get(id) ?? null;
    const before = previous.seen.get(id)!;
    events.push({ kind: 'REMOVED', sessionId: id, session: now, previousStatus: before.status, at: now?.lastUpdate ?? noticedAt });
  }
  events.sort((a, b) => a.at - b.at || compareIds(a.sessionId, b.sessionId));
  return { events, state };
}

/**
 * The changes after `since` that the current state shows, for a subscriber that arrives late:
 * each session once, in its latest state (ADDED when it started after `since`, else CHANGED),
 * followed by what the feed's recent REMOVED events say. Oldest first.
 */
export function replay(state: WatchState, removedHistory: readonly JobSessionEventValue[], since: number): JobSessionEventValue[] {
  const events: JobSessionEventValue[] = [];
  for (const session of state.seen.values()) {
    const at = session.lastUpdate ?? session.start;
    if (typeof at === 'number' && at > since) {
      events.push({
        kind: typeof session.start === 'number' && session.start > since ? 'ADDED' : 'CHANGED',
        sessionId: session.id,
        session,
        previousStatus: null,
        at,
      });
    }
  }
  for (const removed of removedHistory) {
    if (removed.at > since && !state.seen.has(removed.sessionId)) events.push({ ...removed, previousStatus: null });
  }
  events.sort((a, b) => a.at - b.at || compareIds(a.sessionId, b.sessionId));
  return events;
}

/**
 * Filter properties SPP changes on a session during its life: a session can enter or leave a
 * filter only through these. Every other property (job, type, start, ...) is fixed at its start.
 */
export const MUTABLE_PROPERTIES: ReadonlySet<string> = new Set(['status', 'hasCatalog', 'lastUpdate', 'percent', 'end', 'duration', 'expired', 'expiresAt']);

/**
 * The catch-up of a subscriber that passed `since`: `changed` are the sessions SPP changed after
 * `since` that match the filter's fixed conditions (newest change first, as read), `matching`
 * the ids among them that match the whole filter now. A session that matches now is ADDED (it
 * started after `since`) or CHANGED; one that does not left the filter: REMOVED, with its
 * current state. Sessions the feed saw SPP delete after `since` follow as REMOVED with no
 * session. Each session once, oldest change first.
 */
export function catchUp(
  changed: readonly SppJobSession[],
  matching: ReadonlySet<string>,
  removedHistory: readonly JobSessionEventValue[],
  since: number,
): JobSessionEventValue[] {
  const events: JobSessionEventValue[] = [];
  const seen = new Set<string>();
  for (const session of changed) {
    if (seen.has(session.id)) continue;
    seen.add(session.id);
    const at = session.lastUpdate ?? session.start;
    if (matching.has(session.id)) {
      events.push({ kind: session.start > since ? 'ADDED' : 'CHANGED', sessionId: session.id, session, previousStatus: null, at });
    } else {
      events.push({ kind: 'REMOVED', sessionId: session.id, session, previousStatus: null, at });
    }
  }
  for (const removed of removedHistory) {
    if (removed.session === null && removed.at > since && !seen.has(removed.sessionId)) {
      seen.add(removed.sessionId);
      events.push({ ...removed, previousStatus: null });
    }
  }
  events.sort((a, b) => a.at - b.at || compareIds(a.sessionId, b.sessionId));
  return events;
}

/** SPP ids are digit strings of varying length: compare them as numbers. */
function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}
