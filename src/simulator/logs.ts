/**
 * Job logs (`GET /api/endeavour/log/job`, spp-api.md §4): deterministic, generated lazily.
 *
 * A finished session's log is a pure function of the seed and the session record: it is
 * generated when first asked for and kept in a small LRU, so the 4,877-session history
 * costs no memory until someone reads logs (a protection session of 350 mailboxes has
 * about 2,000 entries; an inventory a handful).
 *
 * A session that is active (at start-up or inserted by live mode) keeps an explicit,
 * growing log instead: each live step appends the lines of the resources processed since
 * (and the summary when the session finishes), with `logTime` never going backwards, so a
 * reader paging through a running session's log sees entries arrive at its end.
 *
 * Message ids (CTGGA…), the categories and the line texts are plausible stand-ins modelled
 * on SPPMon's allow-list and the UI's JobLogModel [INF]: SPP does not document them.
 * Entry ids are `sessionId × 4096 + sequence` (unique, increasing within a session, and
 * below 2^53 for any 13-digit session id), so a session's log holds at most 4,096 entries.
 */
import type { SppJobLogEntry, SppJobSession } from '../spp-api/types.js';
import { JOBS_BY_ID, type JobDefinition } from './catalog.js';
import { ACTIVE_STATUSES } from './vocabulary.js';
import { mulberry32, type Rng } from './rng.js';
import { SPP_BUILD } from './version.js';

/** Top-level fields of a log entry, in SPP's order (UI JobLogModel); the filterable properties, except `messageId`. */
export const LOG_FIELDS: readonly string[] = [
  'id',
  'jobsessionId',
  'jobsessionTaskId',
  'logTime',
  'type',
  'category',
  'modName',
  'threadId',
  'message',
  'messageId',
  'messageParams',
  'detail',
  'name',
];

/** SPPMon: `messageId IN [...]` on this endpoint "does NOT work yet, nothing filtered" (spp-api.md §3). */
export const IGNORED_LOG_FILTERS: ReadonlySet<string> = new Set(['messageId']);

export const MAX_LOG_ENTRIES = 4096;
const MAX_CACHED_LOGS = 32;

interface Line {
  type: 'INFO' | 'WARN' | 'ERROR' | 'SUMMARY' | 'DEBUG' | 'DETAIL';
  messageId: string;
  template: string;
  params: string[];
  detail?: string;
  task?: number;
}

const FAILURES = [
  'the snapshot could not be created (timeout after 600 s)',
  'the vSnap server refused the connection',
  'the application is not in a consistent state',
  'the credentials of the application server are not valid',
];
const SKIPS = ['the resource is excluded by a tag', 'the resource was not found in the last inventory', 'the resource is powered off'];

function format(template: string, params: readonly string[]): string {
  return template.replace(/\{(\d+)\}/g, (_, i: string) => params[Number(i)] ?? '');
}

function sessionRng(seed: number, sessionId: string): Rng {
  return mulberry32((Math.imul(seed, 0x9e3779b9) ^ Number(sessionId.slice(-9))) >>> 0);
}

function resourceNames(job: JobDefinition): { type: string; names: (k: number) => string } {
  if (job.resource) {
    const { type, prefix } = job.resource;
    return { type, names: (k) => `${prefix}-${String(k).padStart(3, '0')}` };
  }
  const type = job.type === 'maintenance' ? 'task' : job.type === 'catalog' ? 'host' : 'object';
  return { type, names: (k) => `${job.subType}-${type}-${k + 1}` };
}

/** How many resources (steps) the session covers, and which fail or are skipped when it finishes. */
function plan(job: JobDefinition, session: SppJobSession, rng: Rng): { total: number; failed: Set<number>; skipped: Set<number> } {
  const stat = session.properties?.statistics?.[0];
  const total = stat ? stat.total : 2 + Math.floor(rng() * 7);
  const failedCount = stat ? stat.failed : session.status === 'FAILED' ? 1 : 0;
  const skippedCount = stat ? (stat.skipped ?? Math.max(0, stat.total - stat.success - stat.failed)) : session.status === 'PARTIAL' ? 1 : 0;
  const failed = new Set<number>();
  // The record's `statistics.names` lists failed resources as i*7+3 (generator.ts): the log names the same ones.
  for (let i = 0; failed.size < Math.min(failedCount, total) && i < total * 8; i++) failed.add((i * 7 + 3) % total);
  for (let k = 0; failed.size < Math.min(failedCount, total); k++) failed.add(k);
  const skipped = new Set<number>();
  for (let k = total - 1; k >= 0 && skipped.size < skippedCount; k--) if (!failed.has(k)) skipped.add(k);
  return { total, failed, skipped };
}

function openingLines(job: JobDefinition, session: SppJobSession): Line[] {
  return [
    {
      type: 'INFO',
      messageId: 'CTGGA2399',
      template: 'Starting job for policy {0} (ID:{1}). id -> {2}. IBM Spectrum Protect Plus version {3}.',
      params: [job.name, job.jobId, session.id, SPP_BUILD],
    },
    {
      type: 'INFO',
      messageId: 'CTGGA0071',
      template: 'Job options: maxtasks = {0}, retention = {1} {2}.',
      params: ['50', String(session.retention ?? 0), String(session.retentionUnit ?? 'DAYS')],
    },
    { type: 'DEBUG', messageId: 'CTGGA2406', template: 'Job {0} runs on service {1}.', params: [job.name, job.serviceId] },
  ];
}

function resourceLines(job: JobDefinition, rng: Rng, k: number, outcome: 'success' | 'failed' | 'skipped'): Line[] {
  const { type, names } = resourceNames(job);
  const name = names(k);
  const task = k + 1;
  const lines: Line[] = [{ type: 'INFO', messageId: 'CTGGA2384', template: 'Processing {0} {1}.', params: [type, name], task }];
  if (outcome === 'skipped') {
    lines.push({
      type: 'WARN',
      messageId: 'CTGGA2411',
      template: '{0} {1} was skipped: {2}.',
      params: [type, name, SKIPS[Math.floor(rng() * SKIPS.length)]!],
      task,
    });
    return lines;
  }
  if (rng() < 0.7)
    lines.push({
      type: 'DETAIL',
      messageId: 'CTGGA2386',
      template: '{0} {1}: snapshot {2} created.',
      params: [type, name, `snap-${Math.floor(rng() * 1e6)}`],
      task,
    });
  if (type === 'mailbox') {
    for (const folder of ['Inbox', 'Sent Items', 'Calendar']) {
      lines.push({
        type: 'DETAIL',
        messageId: 'CTGGA2388',
        template: 'Mailbox {0}: folder {1}, {2} items.',
        params: [name, folder, String(Math.floor(rng() * 5000))],
        task,
      });
    }
  }
  if (rng() < 0.5)
    lines.push({
      type: 'DEBUG',
      messageId: 'CTGGA2390',
      template: '{0} {1}: transferred {2} MB in {3} s.',
      params: [type, name, String(Math.floor(rng() * 20_000)), String(1 + Math.floor(rng() * 600))],
      task,
    });
  if (outcome === 'failed') {
    const reason = FAILURES[Math.floor(rng() * FAILURES.length)]!;
    lines.push({
      type: 'ERROR',
      messageId: 'CTGGA2402',
      template: 'Processing of {0} {1} failed: {2}.',
      params: [type, name, reason],
      detail: `com.ibm.spp.jobs.TaskFailedException: ${reason}`,
      task,
    });
  } else {
    lines.push({ type: 'INFO', messageId: 'CTGGA2385', template: '{0} {1} completed successfully.', params: [type, name], task });
  }
  return lines;
}

function closingLines(job: JobDefinition, session: SppJobSession, total: number, failed: number, skipped: number): Line[] {
  const duration = session.duration ?? 0;
  const lines: Line[] = [
    {
      type: 'SUMMARY',
      messageId: 'CTGGA2398',
      template: 'Resources: {0} total, {1} succeeded, {2} failed, {3} skipped.',
      params: [String(total), String(total - failed - skipped), String(failed), String(skipped)],
    },
  ];
  if (session.status === 'FAILED')
    lines.push({
      type: 'ERROR',
      messageId: 'CTGGA2405',
      template: 'Job {0} failed: {1} of {2} resources failed.',
      params: [job.name, String(failed), String(total)],
    });
  // The canonical spelling, so that a log reads the same with or without the CANCELLED quirk (logs are cached by session).
  const status = session.status === 'CANCELLED' ? 'CANCELED' : session.status;
  lines.push({
    type: 'SUMMARY',
    messageId: 'CTGGA2401',
    template: 'Job {0} finished with status {1} in {2} s.',
    params: [job.name, status, String(Math.round(duration / 1000))],
  });
  return lines;
}

function entry(session: SppJobSession, job: JobDefinition, seq: number, logTime: number, line: Line): SppJobLogEntry {
  return Object.freeze({
    id: String(Number(session.id) * MAX_LOG_ENTRIES + seq),
    // SPP sends the session id as a number here (spp-api.md §4).
    jobsessionId: Number(session.id) as unknown as string,
    jobsessionTaskId: line.task === undefined ? null : line.task,
    logTime,
    type: line.type,
    category: job.type === 'protection' ? 'Backup' : job.type === 'catalog' ? 'Inventory' : job.type === 'recovery' ? 'Restore' : 'Maintenance',
    modName: job.subType,
    threadId: `pool-3-thread-${(line.task ?? 0) % 16}`,
    message: format(line.template, line.params),
    messageId: line.messageId,
    messageParams: Object.freeze([...line.params]) as string[],
    detail: line.detail ?? null,
    name: job.name,
  });
}

/** A log that grows while its session runs (live mode). */
interface LiveLog {
  entries: SppJobLogEntry[];
  rng: Rng;
  total: number;
  failed: Set<number>;
  skipped: Set<number>;
  /** Resources whose lines were written. */
  written: number;
  closed: boolean;
}

export class LogBook {
  private readonly cached = new Map<string, readonly SppJobLogEntry[]>();
  private readonly live = new Map<string, LiveLog>();

  constructor(private readonly seed: number) {}

  /** The session's log in (logTime, id) order: what `log/job` pages through for it. */
  entriesOf(session: SppJobSession): readonly SppJobLogEntry[] {
    const live = this.live.get(session.id);
    if (live) return live.entries;
    const hit = this.cached.get(session.id);
    if (hit) {
      this.cached.delete(session.id);
      this.cached.set(session.id, hit);
      return hit;
    }
    const generated = this.generate(session);
    if (this.cached.size >= MAX_CACHED_LOGS) this.cached.delete(this.cached.keys().next().value!);
    this.cached.set(session.id, generated);
    return generated;
  }

  /** Starts an explicit log for an active session, covering what it processed up to `lastUpdate`. */
  track(session: SppJobSession): void {
    const job = JOBS_BY_ID.get(session.jobId);
    if (!job || this.live.has(session.id)) return;
    const rng = sessionRng(this.seed, session.id);
    const { total, failed, skipped } = plan(job, session, rng);
    const log: LiveLog = { entries: [], rng, total, failed, skipped, written: 0, closed: false };
    this.live.set(session.id, log);
    this.append(log, job, session, openingLines(job, session), session.start);
    this.advance(session);
  }

  /** Appends the lines of what the session did since the last call (all of it, and the summary, once it finished). */
  advance(session: SppJobSession): void {
    const log = this.live.get(session.id);
    const job = JOBS_BY_ID.get(session.jobId);
    if (!log || !job || log.closed) return;
    const finished = !ACTIVE_STATUSES.has(session.status);
    const stat = session.properties?.statistics?.[0];
    const processed = finished ? log.total : stat ? Math.min(log.total, stat.success + stat.failed) : Math.floor((log.total * (session.percent ?? 0)) / 100);
    const at = session.lastUpdate ?? session.start;
    const lines: Line[] = [];
    for (; log.written < processed; log.written++) {
      const k = log.written;
      // While running, every resource so far succeeded (the record's statistics say so); failures show at the end.
      const outcome = !finished ? 'success' : log.skipped.has(k) ? 'skipped' : log.failed.has(k) ? 'failed' : 'success';
      lines.push(...resourceLines(job, log.rng, k, outcome));
    }
    if (finished) {
      const failed = stat?.failed ?? log.failed.size;
      const skipped = stat ? (stat.skipped ?? 0) : log.skipped.size;
      lines.push(...closingLines(job, session, log.total, failed, skipped));
      log.closed = true;
    }
    this.append(log, job, session, lines, at);
  }

  /** A session was removed (expired): its log goes with it. */
  forget(sessionId: string): void {
    this.live.delete(sessionId);
    this.cached.delete(sessionId);
  }

  private append(log: LiveLog, job: JobDefinition, session: SppJobSession, lines: readonly Line[], at: number): void {
    const last = log.entries[log.entries.length - 1]?.logTime ?? session.start;
    const time = Math.max(last, at);
    for (const line of lines) {
      if (log.entries.length >= MAX_LOG_ENTRIES) return;
      log.entries.push(entry(session, job, log.entries.length, time, line));
    }
  }

  /** The whole log of a finished session, its times spread over [start, end]. */
  private generate(session: SppJobSession): readonly SppJobLogEntry[] {
    const job = JOBS_BY_ID.get(session.jobId);
    if (!job) return [];
    const rng = sessionRng(this.seed, session.id);
    const { total, failed, skipped } = plan(job, session, rng);
    const lines = openingLines(job, session);
    for (let k = 0; k < total; k++) lines.push(...resourceLines(job, rng, k, skipped.has(k) ? 'skipped' : failed.has(k) ? 'failed' : 'success'));
    lines.push(...closingLines(job, session, total, failed.size, skipped.size));
    // Keep the closing lines when a log would overflow: they are what a UI shows first.
    const kept = lines.length <= MAX_LOG_ENTRIES ? lines : [...lines.slice(0, MAX_LOG_ENTRIES - 3), ...lines.slice(-3)];
    const end = session.end ?? session.lastUpdate ?? session.start;
    const span = Math.max(0, end - session.start);
    const last = Math.max(1, kept.length - 1);
    return Object.freeze(kept.map((line, i) => entry(session, job, i, session.start + Math.floor((span * i) / last), line)));
  }
}
