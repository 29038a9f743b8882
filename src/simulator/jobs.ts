/**
 * Job definitions (`GET /api/endeavour/job`, `/job/{id}`; spp-api.md §4), derived from the
 * generator's JOBS and the session data so that they always agree with the sessions:
 * every session's `jobId` is a job; `lastrun`, `lastRunTime`, `lastSessionStatus` and
 * `lastSessionDuration` describe the job's newest session by `start`; `nextFireTime` is the
 * next slot of the job's schedule after "now" (recovery jobs have no schedule: null).
 *
 * Values SPP does not document are flagged [INF]: the definition's `status` is `ACTIVE`
 * while a session of the job is active (ECX's value), `PENDING` when it waits for its
 * schedule, `IDLE` without one (sppclient treats PENDING and IDLE as "not running").
 */
import type { SppJob, SppJobSession, SppLinks } from '../spp-api/types.js';
import { JOBS, RECORD_HREF_BASE, deepFreeze, type JobDefinition } from './catalog.js';
import { ACTIVE_STATUSES, statusDisplayName } from './vocabulary.js';

/** Top-level fields of a job record, in SPP's order (UI JobModel); the simulator's filterable properties. */
export const JOB_FIELDS: readonly string[] = [
  'id',
  'name',
  'description',
  'displayName',
  'tenantId',
  'policyId',
  'policyName',
  'type',
  'typeDisplayName',
  'subType',
  'subTypeDisplayName',
  'serviceId',
  'status',
  'statusDisplayName',
  'lastSessionStatus',
  'lastSessionStatusDisplayName',
  'lastRunTime',
  'nextFireTime',
  'lastSessionDuration',
  'lastrun',
  'triggerIds',
  'triggerData',
  'trigger',
  'spec',
  'script',
  'statistics',
  'actions',
  'links',
];

const HOUR = 3_600_000;

/**
 * Schedules [INF]: inventories every 6 h, maintenance and SLA backups daily, each at its own
 * minute past the hour (phase), recovery jobs on demand only.
 */
function scheduleOf(job: JobDefinition): { everyMs: number; phaseMs: number } | null {
  if (job.type === 'recovery') return null;
  const phaseMs = (Number(job.jobId) % 60) * 60_000;
  return { everyMs: job.type === 'catalog' ? 6 * HOUR : 24 * HOUR, phaseMs };
}

export function nextFireTime(job: JobDefinition, now: number): number | null {
  const schedule = scheduleOf(job);
  if (!schedule) return null;
  const { everyMs, phaseMs } = schedule;
  return Math.floor((now - phaseMs) / everyMs) * everyMs + everyMs + phaseMs;
}

/**
 * `start` is an action link (rel "action") offered only while no session of the job is active
 * or being canceled [INF]; it carries a `schema` when the start takes an `actionname` (an SLA's
 * sub-policies, spp-api.md §4), else the href's `actionname=start` is the whole request.
 */
function jobLinks(job: JobDefinition, busy: boolean): SppLinks {
  const self = `${RECORD_HREF_BASE}/api/endeavour/job/${job.jobId}`;
  const filter = encodeURIComponent(JSON.stringify([{ property: 'jobId', value: job.jobId, op: '=' }]));
  const links: SppLinks = { self: { href: self, rel: 'self' } };
  if (!busy) {
    links.start = { href: `${self}?action=start&actionname=start`, rel: 'action' };
    if (job.subPolicyTypes) links.start.schema = `${self}?action=start&actionname=start&schema=true`;
  }
  links.jobsessions = { href: `${RECORD_HREF_BASE}/api/endeavour/jobsession?filter=${filter}`, rel: 'related' };
  links.livejobsessions = { href: `${RECORD_HREF_BASE}/api/endeavour/jobsession?filter=${filter}&live=true`, rel: 'related' };
  return links;
}

const SUB_POLICY_NAMES: Readonly<Record<string, string>> = { BACKUP: 'Backup', REPLICATION: 'Replication', SPPOFFLOAD: 'Offload', SPPARCHIVE: 'Archive' };

/**
 * The start schema (`GET` of `links.start.schema`): `{id, name, displayName, version,
 * parameter: {actionname: {values: [{name, value}]}}}` as sppclient's JobAPI.run and the UI's
 * JobSchemaModel read it. The values are the SLA's sub-policies [INF: the real values are
 * storage-workflow ids]; null for a job whose start takes no parameter.
 */
export function startSchema(job: JobDefinition): unknown {
  if (!job.subPolicyTypes) return null;
  return {
    id: 'start',
    name: 'start',
    displayName: 'Start',
    version: '1.0',
    parameter: { actionname: { values: job.subPolicyTypes.map(([value]) => ({ name: SUB_POLICY_NAMES[value] ?? value, value })) } },
  };
}

/** The newest session (by start, then id) and whether one is active, per job id: one pass over the sessions. */
export function latestSessions(sessions: readonly SppJobSession[]): Map<string, { latest: SppJobSession; active: boolean }> {
  const out = new Map<string, { latest: SppJobSession; active: boolean }>();
  for (const s of sessions) {
    const seen = out.get(s.jobId);
    // A session being canceled keeps its job busy until it settles.
    const active = ACTIVE_STATUSES.has(s.status) || s.status === 'CANCELING' || (seen?.active ?? false);
    if (!seen || s.start > seen.latest.start || (s.start === seen.latest.start && Number(s.id) > Number(seen.latest.id))) {
      out.set(s.jobId, { latest: s, active });
    } else if (active !== seen.active) {
      out.set(s.jobId, { latest: seen.latest, active });
    }
  }
  return out;
}

export function materializeJob(job: JobDefinition, last: { latest: SppJobSession; active: boolean } | undefined, now: number): SppJob {
  const s = last?.latest;
  const status = last?.active ? 'ACTIVE' : scheduleOf(job) ? 'PENDING' : 'IDLE';
  const record: SppJob = {
    id: job.jobId,
    name: job.name,
    description: '',
    displayName: job.name,
    tenantId: 1000,
    policyId: job.jobId,
    policyName: job.type === 'protection' ? job.name.slice(job.name.indexOf('_') + 1) : job.name,
    type: job.type,
    typeDisplayName: job.typeDisplayName,
    subType: job.subType,
    subTypeDisplayName: job.subTypeDisplayName,
    serviceId: job.serviceId,
    status,
    statusDisplayName: status === 'ACTIVE' ? 'Active' : status === 'PENDING' ? 'Pending' : 'Idle',
    lastSessionStatus: s?.status ?? null,
    lastSessionStatusDisplayName: s ? statusDisplayName(s.status) : null,
    lastRunTime: s?.start ?? null,
    nextFireTime: nextFireTime(job, now),
    lastSessionDuration: s?.duration ?? null,
    // sppclient's joblist.py reads `lastrun.start == 0` as "never ran".
    lastrun: s
      ? {
          sessionId: s.id,
          jobName: s.jobName,
          type: s.type,
          subType: s.subType ?? null,
          serviceId: s.serviceId ?? null,
          start: s.start,
          end: s.end ?? null,
          duration: s.duration ?? null,
          status: s.status,
          results: s.results ?? null,
          properties: s.properties ?? null,
          numTasks: s.numTasks ?? null,
          lastUpdate: s.lastUpdate ?? null,
          percent: s.percent ?? null,
          policySnapshot: s.policySnapshot ?? null,
        }
      : { start: 0 },
    triggerIds: scheduleOf(job) ? [`${job.jobId}0`] : [],
    triggerData: scheduleOf(job)
      ? [{ triggerId: `${job.jobId}0`, triggerInfo: { frequency: job.type === 'catalog' ? 6 : 1, type: job.type === 'catalog' ? 'HOURLY' : 'DAILY' } }]
      : [],
    trigger: null,
    spec: job.policySnapshot.spec ?? null,
    script: null,
    statistics: null,
    actions: [],
    links: jobLinks(job, last?.active ?? false),
  };
  return deepFreeze(record);
}

/** Every job definition as served at `now`, in id order. */
export function buildJobs(latest: ReadonlyMap<string, { latest: SppJobSession; active: boolean }>, now: number): SppJob[] {
  return JOBS.map((job) => materializeJob(job, latest.get(job.jobId), now));
}
