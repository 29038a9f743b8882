/**
 * The session data set, its quirk-dependent view, and the query cache.
 *
 * The simulator is the upstream of throughput benchmarks, so a list request must not re-filter
 * and re-sort 4,877 records: the filtered + sorted result is cached per (visibility, filter,
 * sort) and each record's JSON is serialised once. Any change to the data (live step) or to
 * how records read (the CANCELLED quirk) drops both caches.
 */
import type { SppJobSession, SppSort } from '../spp-api/types.js';
import { advanceState, canceledState, cancelingState, materializeSession, newLiveState, startedState, stateOf } from './generator.js';
import { JOBS_BY_ID, pickJob, pickSubPolicyType, type JobDefinition } from './catalog.js';
import type { Rng } from './rng.js';
import { ACTIVE_STATUSES, statusDisplayName } from './vocabulary.js';
import { rangeCutoff, sortSessions, type CompiledFilter } from './query.js';
import { LogBook } from './logs.js';
import { buildJobs, latestSessions } from './jobs.js';
import type { SppJob } from '../spp-api/types.js';

export interface StoreQuery {
  filter: CompiledFilter;
  sorts: readonly SppSort[];
  /** SPP RBAC stand-in: only these job types are visible; undefined = all. */
  allowedTypes?: readonly string[] | undefined;
  /** For the `rangeunit`/`range` window. */
  now: number;
}

const MAX_CACHED_QUERIES = 256;

export class SessionStore {
  /** Canonical records (CANCELED spelling), kept sorted by (start, id): inserts always go last. */
  private records: SppJobSession[];
  private view: { records: SppJobSession[]; byId: Map<string, SppJobSession> } | undefined;
  private readonly results = new Map<string, SppJobSession[]>();
  private readonly json = new WeakMap<SppJobSession, string>();
  private cancelledSpelling = false;
  private maxId: number;
  private maxStart: number;
  private latest: ReturnType<typeof latestSessions> | undefined;
  /** Job logs: generated lazily for finished sessions, grown by `step` for active ones. */
  readonly logs: LogBook;

  constructor(
    records: SppJobSession[],
    private readonly rng: Rng,
    seed = 1,
  ) {
    this.records = [...records].sort((a, b) => a.start - b.start || Number(a.id) - Number(b.id));
    this.maxId = this.records.reduce((m, r) => Math.max(m, Number(r.id)), 0);
    this.maxStart = this.records.reduce((m, r) => Math.max(m, r.start), 0);
    this.logs = new LogBook(seed);
    for (const r of this.records) if (ACTIVE_STATUSES.has(r.status)) this.logs.track(r);
  }

  /** The job definitions as served at `now`, consistent with the current sessions (jobs.ts). */
  jobs(now: number): SppJob[] {
    this.latest ??= latestSessions(this.records);
    return buildJobs(this.latest, now);
  }

  /** Serve CANCELED as "CANCELLED" (the UI/stats spelling, spp-api.md §2.4) — filters see it too. */
  setCancelledSpelling(on: boolean): void {
    if (on === this.cancelledSpelling) return;
    this.cancelledSpelling = on;
    this.invalidate();
  }

  get size(): number {
    return this.records.length;
  }

  /** Records as served (quirks applied), in (start, id) order. */
  all(): readonly SppJobSession[] {
    return this.currentView().records;
  }

  get(id: string): SppJobSession | undefined {
    return this.currentView().byId.get(id);
  }

  /** The full ordered result a list request pages through. */
  query(q: StoreQuery): SppJobSession[] {
    const visibility = q.allowedTypes === undefined ? '*' : [...q.allowedTypes].sort().join('\u0001');
    const key = `${visibility}\u0000${q.filter.key}\u0000${JSON.stringify(q.sorts)}`;
    let result = this.results.get(key);
    if (result === undefined) {
      const allowed = q.allowedTypes === undefined ? undefined : new Set(q.allowedTypes);
      const matching = this.currentView().records.filter((r) => (allowed === undefined || allowed.has(r.type)) && q.filter.test(r));
      result = sortSessions(matching, q.sorts);
      if (this.results.size >= MAX_CACHED_QUERIES) {
        const oldest = this.results.keys().next();
        if (!oldest.done) this.results.delete(oldest.value);
      }
      this.results.set(key, result);
    }
    // The time window moves with the clock, so it is applied after the cache.
    if (q.filter.range) {
      const cutoff = rangeCutoff(q.filter.range, q.now);
      return result.filter((r) => r.start >= cutoff);
    }
    return result;
  }

  /** `JSON.stringify(record)`, computed once per record version. */
  toJson(record: SppJobSession): string {
    let s = this.json.get(record);
    if (s === undefined) {
      s = JSON.stringify(record);
      this.json.set(record, s);
    }
    return s;
  }

  /**
   * One live-mode tick at `now`: progress the active sessions, insert `insert` new ones
   * (ids and starts strictly above every existing one), expire the `expire` oldest by start.
   */
  step(now: number, opts: { insert?: number; expire?: number } = {}): { inserted: string[]; expired: string[] } {
    const insert = Math.max(0, Math.floor(opts.insert ?? 1));
    const expire = Math.max(0, Math.floor(opts.expire ?? 0));

    for (let i = 0; i < this.records.length; i++) {
      const r = this.records[i]!;
      const canceling = r.status === 'CANCELING';
      if (!ACTIVE_STATUSES.has(r.status) && !canceling) continue;
      const job = JOBS_BY_ID.get(r.jobId);
      if (!job) continue;
      const next = canceling ? canceledState(stateOf(r), now) : advanceState(this.rng, job, stateOf(r), now);
      this.records[i] = materializeSession(job, r.subPolicyType ?? null, r.id, next, now);
      this.logs.advance(this.records[i]!);
    }

    const inserted: string[] = [];
    for (let i = 0; i < insert; i++) {
      const job = pickJob(this.rng);
      const spt = pickSubPolicyType(this.rng, job);
      inserted.push(this.insert(job, spt, now, (start) => newLiveState(this.rng, job, start)).id);
    }

    const expired = this.records.splice(0, Math.min(expire, this.records.length)).map((r) => r.id);
    for (const id of expired) this.logs.forget(id);
    this.invalidate();
    return { inserted, expired };
  }

  // -------------------------------------------------------------------------------------
  // Actions (spp-api.md §4). Each returns the record SPP answers with; the HTTP layer checks
  // visibility, role and the advertised link first.

  /** `POST job/{id}?action=start`: a new RUNNING session of the job (of `subPolicyType` for an SLA). */
  start(job: JobDefinition, subPolicyType: string | null, now: number): SppJobSession {
    const record = this.insert(job, subPolicyType, now, (start) => startedState(this.rng, job, start));
    this.invalidate();
    return this.get(record.id)!;
  }

  /** `POST jobsession/{id}?action=cancel`: RUNNING/PENDING/WAITING → CANCELING; undefined when the state does not allow it. */
  cancel(id: string, now: number): SppJobSession | undefined {
    const i = this.indexOf(id);
    const r = i < 0 ? undefined : this.records[i]!;
    const job = r && JOBS_BY_ID.get(r.jobId);
    if (!r || !job || !ACTIVE_STATUSES.has(r.status)) return undefined;
    this.records[i] = materializeSession(job, r.subPolicyType ?? null, r.id, cancelingState(stateOf(r), now), now);
    this.invalidate();
    return this.get(id);
  }

  /** `POST jobsession/{id}?action=rerun`: a new RUNNING session of the same job and sub-policy; the original is answered. */
  rerun(id: string, now: number): { original: SppJobSession; created: SppJobSession } | undefined {
    const r = this.records[this.indexOf(id)];
    const job = r && JOBS_BY_ID.get(r.jobId);
    if (!r || !job || !r.rerunnable) return undefined;
    const created = this.start(job, r.subPolicyType ?? null, now);
    return { original: this.get(id)!, created };
  }

  /** `POST jobsession/{id}?action=expire`: the session and its log are gone; answers the session as it was, `expired: true`. */
  expire(id: string): SppJobSession | undefined {
    const i = this.indexOf(id);
    const r = i < 0 ? undefined : this.records[i]!;
    if (!r || r.links?.expire === undefined) return undefined;
    const last = this.get(id)!;
    this.records.splice(i, 1);
    this.logs.forget(id);
    this.invalidate();
    return { ...last, expired: true, links: { self: last.links!.self! } };
  }

  private indexOf(id: string): number {
    return this.records.findIndex((r) => r.id === id);
  }

  /** A new session at `now` (ids and starts strictly above every existing one, so it goes last). */
  private insert(job: JobDefinition, subPolicyType: string | null, now: number, state: (start: number) => ReturnType<typeof stateOf>): SppJobSession {
    const start = Math.max(Math.floor(now), this.maxStart + 1);
    const id = Math.max(this.maxId + 1, start, 1_000_000_000_000);
    const record = materializeSession(job, subPolicyType, String(id), state(start), now);
    this.records.push(record);
    this.logs.track(record);
    this.maxId = id;
    this.maxStart = start;
    return record;
  }

  private invalidate(): void {
    this.view = undefined;
    this.latest = undefined;
    this.results.clear();
  }

  private currentView(): { records: SppJobSession[]; byId: Map<string, SppJobSession> } {
    if (this.view === undefined) {
      const records = this.cancelledSpelling
        ? this.records.map((r) =>
            r.status === 'CANCELED' ? Object.freeze({ ...r, status: 'CANCELLED', statusDisplayName: statusDisplayName('CANCELLED') }) : r,
          )
        : this.records;
      this.view = { records, byId: new Map(records.map((r) => [r.id, r])) };
    }
    return this.view;
  }
}
