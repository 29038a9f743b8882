/**
 * Deterministic job-session history: same seed + same `now` + same size → identical records.
 *
 * Field names, kinds and value sets follow spp-api.md §2.3/§2.4 and the IBM sample record
 * (shared/seeds/jobsession-api.txt); values SPP does not document (indexStatus, retention
 * units, statistics resource types) are plausible stand-ins, flagged where chosen. Every
 * record has exactly the keys of SESSION_FIELDS (query.ts), in that order.
 *
 * Records are frozen: the store replaces a record when it changes (live mode) instead of
 * mutating it, so cached query results and cached JSON never go stale silently, and callers
 * of `list()`/`get()` cannot corrupt the data set.
 */
import type { SppJobSession, SppLinks, SppStatistic } from '../spp-api/types.js';

import { JOBS_BY_ID, RECORD_HREF_BASE, deepFreeze, pickJob, pickSubPolicyType, type JobDefinition } from './catalog.js';
import { intBetween, mulberry32, pick, type Rng } from './rng.js';
import { ACTIVE_STATUSES, FINISHED_STATUS_WEIGHTS, SUB_POLICY_DISPLAY, statusDisplayName } from './vocabulary.js';

export const IBM_SAMPLE_SESSION_ID = '1564688656142';

const DAY = 86_400_000;
const MINUTE = 60_000;
/** About two years of history, like the 4,877 sessions of the IBM page. */
export const HISTORY_MS = 730 * DAY;

// ---------------------------------------------------------------------------------------
// Building records

/** What changes over a session's life; everything else follows from the job. */
export interface SessionState {
  status: string;
  start: number;
  end: number | null;
  percent: number;
  numTasks: number;
  lastUpdate: number;
  /** Protection jobs only: counts for `properties.statistics[0]`. */
  stats: { total: number; success: number; failed: number; skipped: number; showSkipped: boolean } | null;
}

function jobSessionFilter(id: string): string {
  return encodeURIComponent(JSON.stringify([{ property: 'jobsessionId', value: id, op: '=' }]));
}

/**
 * Links named as the UI and sppclient use them (spp-api.md §2.3/§4): `log` already carries the
 * jobsessionId filter; action links have rel "action" and are only offered when they apply.
 */
export function sessionLinks(id: string, state: { active: boolean; expired: boolean; rerunnable: boolean; canceling?: boolean }): SppLinks {
  const self = `${RECORD_HREF_BASE}/api/endeavour/jobsession/${id}`;
  const filter = jobSessionFilter(id);
  const links: SppLinks = {
    self: { href: self, rel: 'self' },
    log: { href: `${RECORD_HREF_BASE}/api/endeavour/log/job?filter=${filter}`, rel: 'related' },
    diagnostics: { href: `${RECORD_HREF_BASE}/api/endeavour/log/job/download/diagnostics?filter=${filter}`, rel: 'download' },
    csv: { href: `${RECORD_HREF_BASE}/api/endeavour/log/job/download/csv?filter=${filter}`, rel: 'download' },
  };
  if (state.active) links.cancel = { href: `${self}?action=cancel`, rel: 'action' };
  // A session being canceled offers nothing until it settles (CANCELED).
  if (!state.active && !state.expired && !state.canceling) links.expire = { href: `${self}?action=expire`, rel: 'action' };
  if (state.rerunnable) links.rerun = { href: `${self}?action=rerun`, rel: 'action' };
  return links;
}

/** Builds a frozen record with SPP's field order (see SESSION_FIELDS). */
export function materializeSession(job: JobDefinition, subPolicyType: string | null, id: string, s: SessionState, now: number): SppJobSession {
  const active = ACTIVE_STATUSES.has(s.status);
  const canceling = s.status === 'CANCELING';
  const protection = job.type === 'protection';
  const succeeded = s.status === 'COMPLETED' || s.status === 'PARTIAL';
  const hasCatalog = protection && subPolicyType === 'BACKUP' && succeeded;
  let retention = 0;
  if (protection) {
    retention = subPolicyType === 'SPPARCHIVE' ? 365 : subPolicyType === 'SPPOFFLOAD' ? job.retentionDays * 4 : job.retentionDays;
  }
  const expiresAt = protection && succeeded && s.end !== null ? s.end + retention * DAY : null;
  const expired = expiresAt !== null && expiresAt <= now;
  const rerunnable = protection && (s.status === 'FAILED' || s.status === 'PARTIAL');
  // indexStatus values are not documented (spp-api.md §8 q.6); the IBM sample shows COMPLETED.
  let indexStatus: string;
  if (active || canceling) indexStatus = 'PENDING';
  else if (hasCatalog || (job.type === 'catalog' && s.status !== 'FAILED')) indexStatus = 'COMPLETED';
  else if (job.type === 'catalog' || (protection && s.status === 'FAILED')) indexStatus = 'FAILED';
  else indexStatus = 'NONE';

  let properties: SppJobSession['properties'] = null;
  if (s.stats && job.resource) {
    const st: SppStatistic = { resourceType: job.resource.type, total: s.stats.total, success: s.stats.success, failed: s.stats.failed };
    if (s.stats.showSkipped) st.skipped = s.stats.skipped;
    if (s.stats.failed > 0) {
      st.names = Array.from({ length: Math.min(s.stats.failed, 10) }, (_, i) => `${job.resource!.prefix}-${String(i * 7 + 3).padStart(3, '0')}`);
    }
    properties = { statistics: [st] };
  }

  const record: SppJobSession = {
    links: sessionLinks(id, { active, expired, rerunnable, canceling }),
    jobName: job.name,
    jobId: job.jobId,
    type: job.type,
    typeDisplayName: job.typeDisplayName,
    subType: job.subType,
    subTypeDisplayName: job.subTypeDisplayName,
    subPolicyType,
    subPolicyTypeDisplayName: subPolicyType === null ? null : (SUB_POLICY_DISPLAY[subPolicyType] ?? subPolicyType),
    serviceId: job.serviceId,
    displayName: null,
    start: s.start,
    end: s.end,
    duration: s.end === null ? null : s.end - s.start,
    status: s.status,
    statusDisplayName: statusDisplayName(s.status),
    indexStatus,
    description: '',
    results: active ? 'Started' : canceling ? 'Canceling' : statusDisplayName(s.status),
    properties,
    numTasks: s.numTasks,
    previousLastTask: 0,
    lastUpdate: s.lastUpdate,
    percent: s.percent,
    expiresAt,
    expirationTime: expiresAt,
    retention,
    retentionUnit: protection ? 'DAYS' : null,
    expired,
    hasCatalog,
    hasCondensed: false,
    wormProtected: subPolicyType === 'SPPARCHIVE',
    rerunnable,
    userUpdate: false,
    actions: [],
    statistics: null,
    policySnapshot: job.policySnapshot,
    id,
  };
  return deepFreeze(record);
}

/** Recovers the mutable state of a generated record (live mode progresses it). */
export function stateOf(record: SppJobSession): SessionState {
  const st = record.properties?.statistics?.[0];
  return {
    status: record.status,
    start: record.start,
    end: record.end ?? null,
    percent: record.percent ?? 0,
    numTasks: record.numTasks ?? 0,
    lastUpdate: record.lastUpdate ?? record.start,
    stats: st
      ? {
          total: st.total,
          success: st.success,
          failed: st.failed,
          skipped: st.skipped ?? st.total - st.success - st.failed,
          showSkipped: st.skipped !== undefined,
        }
      : null,
  };
}

function statsFor(rng: Rng, job: JobDefinition, status: string, percent: number): SessionState['stats'] {
  if (!job.resource) return null;
  const base = job.resource.count;
  const total = Math.max(1, base + intBetween(rng, -Math.ceil(base * 0.05), Math.ceil(base * 0.05)));
  let success = 0;
  let failed = 0;
  let skipped = 0;
  switch (status) {
    case 'COMPLETED':
      success = total;
      break;
    case 'PARTIAL':
      failed = total > 1 ? 1 + Math.floor(rng() * Math.min(3, total - 1)) : 1;
      skipped = total - failed > 1 && rng() < 0.3 ? 1 : 0;
      success = Math.max(0, total - failed - skipped);
      break;
    case 'FAILED':
      success = Math.floor(rng() * total * 0.3);
      failed = total - success;
      break;
    case 'CANCELED':
    case 'ABORTED':
    case 'STOPPED':
      success = Math.floor(rng() * total);
      skipped = total - success;
      break;
    case 'RUNNING':
      success = Math.floor((total * percent) / 100);
      break;
    default:
      break;
  }
  // SPPMon computes `skipped` as total − success − failed when SPP leaves it out, so it is
  // only ever left out where that identity holds (finished sessions).
  const showSkipped = ACTIVE_STATUSES.has(status) || rng() < 0.6;
  return { total, success, failed, skipped, showSkipped };
}

/** A finished session of `job` that started at `start` (ends no later than `now`). */
function finishedState(rng: Rng, job: JobDefinition, start: number, now: number): SessionState {
  const status = pick(rng, FINISHED_STATUS_WEIGHTS);
  const [minM, maxM] = job.durationMinutes;
  let duration = Math.floor((minM + rng() * (maxM - minM)) * MINUTE);
  if (status === 'CANCELED' || status === 'ABORTED' || status === 'STOPPED') duration = Math.floor(duration * 0.3);
  duration = Math.max(1_000, Math.min(duration, now - start - 1_000));
  const end = start + duration;
  const numTasks = job.resource ? Math.max(1, Math.min(job.resource.count, 50)) + intBetween(rng, 0, 3) : intBetween(rng, 1, 4);
  return {
    status,
    start,
    end,
    percent: 100,
    numTasks,
    lastUpdate: Math.min(now, end + intBetween(rng, 0, 2_000)),
    stats: statsFor(rng, job, status, 100),
  };
}

/** A session that is still going at `now` (only sessions near `now` are ever active). */
export function activeState(rng: Rng, job: JobDefinition, status: string, start: number, now: number): SessionState {
  const running = status === 'RUNNING';
  const percent = running ? intBetween(rng, 5, 95) : 0;
  return {
    status,
    start,
    end: null,
    percent,
    numTasks: running ? (job.resource ? Math.min(job.resource.count, 50) : intBetween(rng, 1, 4)) : 0,
    lastUpdate: running ? start + Math.floor((now - start) * rng()) : start,
    stats: statsFor(rng, job, status, percent),
  };
}

/**
 * The IBM page's sample record, exactly as shown, except `start`: the page's JSON shows a
 * truncated 1577881234 while its own prose says 1577881234123 (and end − duration agrees).
 */
export function ibmSampleSession(): SppJobSession {
  const job = JOBS_BY_ID.get('1003')!;
  const record: SppJobSession = {
    links: sessionLinks(IBM_SAMPLE_SESSION_ID, { active: false, expired: false, rerunnable: false }),
    jobName: 'Application Server Inventory',
    jobId: '1003',
    type: 'catalog',
    typeDisplayName: 'Catalog',
    subType: 'application',
    subTypeDisplayName: 'Application',
    subPolicyType: null,
    subPolicyTypeDisplayName: null,
    serviceId: 'serviceprovider.catalog.application',
    displayName: null,
    start: 1577881234123,
    end: 1577882234123,
    duration: 1000000,
    status: 'PARTIAL',
    statusDisplayName: 'Partial',
    indexStatus: 'COMPLETED',
    description: 'Autorun - 10.4.4.1 only',
    results: 'Started',
    properties: null,
    numTasks: 2,
    previousLastTask: 0,
    lastUpdate: 1577882235123,
    percent: 0,
    expiresAt: null,
    expirationTime: null,
    retention: 0,
    retentionUnit: null,
    expired: false,
    hasCatalog: false,
    hasCondensed: false,
    wormProtected: false,
    rerunnable: false,
    userUpdate: false,
    actions: [],
    statistics: null,
    policySnapshot: job.policySnapshot,
    id: IBM_SAMPLE_SESSION_ID,
  };
  return deepFreeze(record);
}

export interface GenerateOptions {
  seed: number;
  size: number;
  now: number;
}

const ACTIVE_PATTERN = ['RUNNING', 'RUNNING', 'PENDING', 'RUNNING', 'WAITING', 'RUNNING'] as const;

/**
 * `size` sessions (the IBM sample included) over the two years before `now`, sorted by start.
 * A handful of the newest are still active; ties on `start` are planted on purpose (SLA jobs
 * scheduled for the same minute start in the same millisecond) so that paging must tie-break.
 */
export function generateSessions(opts: GenerateOptions): SppJobSession[] {
  const { seed, size, now } = opts;
  if (size <= 0) return [];
  const rng = mulberry32(seed);
  const generated = size - 1;
  const activeCount = Math.min(ACTIVE_PATTERN.length, Math.floor(generated / 10));
  const doneCount = generated - activeCount;

  const doneFrom = now - HISTORY_MS;
  const doneTo = now - 2 * 60 * MINUTE;
  const starts: number[] = [];
  for (let i = 0; i < doneCount; i++) starts.push(Math.floor(doneFrom + rng() * (doneTo - doneFrom)));
  starts.sort((a, b) => a - b);
  for (let i = 1; i < starts.length; i++) if (rng() < 0.03) starts[i] = starts[i - 1]!;
  if (starts.length >= 10) {
    for (const q of [1, 2, 3]) {
      const i = Math.floor((starts.length * q) / 4);
      starts[i] = starts[i - 1]!;
      if (q === 2 && i + 1 < starts.length) starts[i + 1] = starts[i]!; // one triple
    }
  }
  const activeStarts: number[] = [];
  for (let i = 0; i < activeCount; i++) activeStarts.push(Math.floor(now - 90 * MINUTE + rng() * 90 * MINUTE));
  activeStarts.sort((a, b) => a - b);

  interface Draft {
    start: number;
    build: (id: string) => SppJobSession;
  }
  const drafts: Draft[] = [];
  for (const start of starts) {
    const job = pickJob(rng);
    const spt = pickSubPolicyType(rng, job);
    const state = finishedState(rng, job, start, now);
    drafts.push({ start, build: (id) => materializeSession(job, spt, id, state, now) });
  }
  activeStarts.forEach((start, i) => {
    const job = pickJob(rng);
    const spt = pickSubPolicyType(rng, job);
    const state = activeState(rng, job, ACTIVE_PATTERN[i]!, start, now);
    drafts.push({ start, build: (id) => materializeSession(job, spt, id, state, now) });
  });

  // SPP ids are 13-digit, epoch-ms-like digit strings (spp-api.md §2.3): derive them from
  // `start`, strictly increasing, never colliding with the sample's fixed id.
  const records: SppJobSession[] = [];
  const sample = ibmSampleSession();
  let sampleInserted = false;
  let prevId = 0;
  for (const d of drafts) {
    if (!sampleInserted && sample.start <= d.start) {
      records.push(sample);
      sampleInserted = true;
    }
    let id = Math.max(prevId + 1, d.start, 1_000_000_000_000);
    if (String(id) === IBM_SAMPLE_SESSION_ID) id++;
    prevId = id;
    records.push(d.build(String(id)));
  }
  if (!sampleInserted) records.push(sample);
  return records;
}

// ---------------------------------------------------------------------------------------
// Live mode transitions (used by the store's step())

/** A session just created by the scheduler: no progress yet. */
export function newLiveState(rng: Rng, job: JobDefinition, start: number): SessionState {
  const status = rng() < 0.3 ? 'PENDING' : 'RUNNING';
  const stats = statsFor(rng, job, status, 0);
  return { status, start, end: null, percent: 0, numTasks: status === 'RUNNING' ? 1 : 0, lastUpdate: start, stats };
}

const LIVE_OUTCOMES: ReadonlyArray<readonly [string, number]> = [
  ['COMPLETED', 75],
  ['PARTIAL', 15],
  ['FAILED', 10],
];

/**
 * One tick of an active session: PENDING/WAITING start running; RUNNING ones gain 10–40 %
 * and finish (COMPLETED/PARTIAL/FAILED, with end and duration) once they reach 100 %.
 */
export function advanceState(rng: Rng, job: JobDefinition, s: SessionState, now: number): SessionState {
  // SPP stamps every change: lastUpdate moves forward even when two changes share a millisecond.
  const lastUpdate = Math.max(now, s.lastUpdate + 1, s.start);
  if (s.status !== 'RUNNING') {
    const percent = intBetween(rng, 5, 30);
    const stats = s.stats ? { ...s.stats, success: Math.floor((s.stats.total * percent) / 100), showSkipped: true } : null;
    return { ...s, status: 'RUNNING', percent, numTasks: Math.max(1, s.numTasks), lastUpdate, stats };
  }
  const percent = s.percent + intBetween(rng, 10, 40);
  if (percent < 100) {
    const stats = s.stats ? { ...s.stats, success: Math.floor((s.stats.total * percent) / 100) } : null;
    return { ...s, percent, lastUpdate, stats };
  }
  const status = pick(rng, LIVE_OUTCOMES);
  let stats = s.stats;
  if (stats) {
    const total = stats.total;
    const failed = status === 'COMPLETED' ? 0 : status === 'PARTIAL' ? Math.min(total, 1 + Math.floor(rng() * 3)) : total;
    stats = { total, success: total - failed, failed, skipped: 0, showSkipped: true };
  }
  return { ...s, status, end: lastUpdate, percent: 100, lastUpdate, stats };
}

// ---------------------------------------------------------------------------------------
// Actions (spp-api.md §4): what a POST of an action link does to a session's state.

/** A manual start or a rerun: the new session runs at once (the scheduler's PENDING is skipped). */
export function startedState(rng: Rng, job: JobDefinition, start: number): SessionState {
  return { status: 'RUNNING', start, end: null, percent: 0, numTasks: 1, lastUpdate: start, stats: statsFor(rng, job, 'RUNNING', 0) };
}

/** Cancel moves a running, pending or waiting session to CANCELING at once (DOC-16, DOC-17b)... */
export function cancelingState(s: SessionState, now: number): SessionState {
  return { ...s, status: 'CANCELING', lastUpdate: Math.max(now, s.lastUpdate, s.start) };
}

/** ... and the next live step settles it as CANCELED (served as CANCELLED under that quirk). */
export function canceledState(s: SessionState, now: number): SessionState {
  const end = Math.max(now, s.lastUpdate, s.start);
  return { ...s, status: 'CANCELED', end, lastUpdate: end };
}
