import type { JobResolvers, JobStatus } from '../__generated__/resolvers-types.js';
import type { SppJob } from '../spp-api/types.js';
import { toGlobalId } from './global-id.js';
import { linksOf, num, statusOf } from './JobSession.js';
import { readJobSessions } from '../lists/job-sessions.js';
import { availableActions } from '../actions/links.js';

const JOB_STATUSES = new Set<string>(['IDLE', 'PENDING', 'WAITING', 'RESOURCE_ACTIVE', 'ACTIVE']);

/** A definition's state → the enum: `RESOURCE ACTIVE` (sppclient) reads as RESOURCE_ACTIVE, anything unknown as UNKNOWN. */
export function jobStatusOf(raw: string | null | undefined): JobStatus {
  const normal = (raw ?? '').trim().toUpperCase().replace(/\s+/g, '_');
  return JOB_STATUSES.has(normal) ? (normal as JobStatus) : 'UNKNOWN';
}

/** SPP writes 0 for "never" (sppclient's joblist.py: `lastrun.start == 0`). */
const instant = (v: unknown): number | null => {
  const n = num(v);
  return n === null || n <= 0 ? null : n;
};

export const Job: JobResolvers = {
  id: (j, _args, context) => toGlobalId('Job', j.id, context.multiServer ? context.serverOf(j) : undefined),
  server: (j, _args, context) => context.serverView(context.serverOf(j)),
  jobId: (j) => j.id,
  status: (j) => jobStatusOf(j.status),
  statusRaw: (j) => j.status ?? null,
  policyId: (j) => (j.policyId === null || j.policyId === undefined ? null : String(j.policyId)),
  lastSessionStatus: (j) => (j.lastSessionStatus ? statusOf(j.lastSessionStatus) : null),
  lastRunTime: (j) => instant(j.lastRunTime),
  nextFireTime: (j) => instant(j.nextFireTime),
  lastSessionDuration: (j) => num(j.lastSessionDuration),
  lastRun(j, _args, context) {
    const id = j.lastrun?.sessionId;
    return id ? context.upstream(context.serverOf(j)).loaders.jobSessionInBatch.load(String(id)) : null;
  },
  sessions: (j, args, context) => readJobSessions(context.upstream(context.serverOf(j)), { ...args, filter: { ...args.filter, jobId: [j.id] } }),
  links: (j) => linksOf(j.links),
  availableActions: (j, _args, context) => (context.actions.mayAct(context.caller().actor) ? availableActions(j.links) : []),
  raw: (j: SppJob) => j,
};
