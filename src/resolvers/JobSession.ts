import type { JobSessionResolvers, JobSessionStatus, JobSessionStatisticResolvers } from '../__generated__/resolvers-types.js';
import type { SppJobSession, SppLinks } from '../spp-api/types.js';
import { toGlobalId } from './global-id.js';
import { JOB_LOG, LOG_TYPES, logCount, translateLogFilter, translateLogOrder } from '../lists/job-log.js';
import { trustedCount } from '../lists/counts.js';
import { availableActions } from '../actions/links.js';

/** Every state SPP can report (UNKNOWN excluded: it stands for the states this gateway does not know). */
export const SESSION_STATUSES: readonly JobSessionStatus[] = [
  'RUNNING',
  'PENDING',
  'HELD',
  'WAITING',
  'PAUSING',
  'PAUSED',
  'STOPPING',
  'STOPPED',
  'CANCELING',
  'CANCELED',
  'SUSPENDING',
  'SUSPENDED',
  'FAILED',
  'PARTIAL',
  'COMPLETED',
  'ABORTED',
];
const KNOWN_STATUSES = new Set<JobSessionStatus>([...SESSION_STATUSES, 'UNKNOWN']);

/**
 * SPP's status string → the enum. `CANCELLED` (the UI/stats spelling, docs/spp-api.md#the-session-record)
 * reads as `CANCELED`; anything else unknown reads as UNKNOWN rather than failing the
 * query, since new SPP releases add states (the raw value stays in `statusRaw`).
 */
export function statusOf(raw: string | null | undefined): JobSessionStatus {
  const upper = (raw ?? '').toUpperCase();
  if (upper === 'CANCELLED') return 'CANCELED';
  return KNOWN_STATUSES.has(upper as JobSessionStatus) ? (upper as JobSessionStatus) : 'UNKNOWN';
}

export function linksOf(links: SppLinks | undefined | null) {
  return Object.entries(links ?? {})
    .filter(([, link]) => link && typeof link.href === 'string')
    .map(([name, link]) => ({ name, href: link.href, rel: link.rel ?? null, title: link.title ?? null }));
}

export const int = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? Math.trunc(v) : null);
export const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export const JobSession: JobSessionResolvers = {
  id: (s, _args, context) => toGlobalId('JobSession', s.id, context.multiServer ? context.serverOf(s) : undefined),
  server: (s, _args, context) => context.serverView(context.serverOf(s)),
  sessionId: (s) => s.id,
  jobId: (s) => String(s.jobId),
  status: (s) => statusOf(s.status),
  statusRaw: (s) => s.status,
  start: (s) => s.start,
  end: (s) => num(s.end),
  duration: (s) => num(s.duration),
  lastUpdate: (s) => num(s.lastUpdate),
  expiresAt: (s) => num(s.expiresAt),
  expirationTime: (s) => num(s.expirationTime),
  percent: (s) => num(s.percent),
  numTasks: (s) => int(s.numTasks),
  previousLastTask: (s) => int(s.previousLastTask),
  retention: (s) => int(s.retention),
  statistics: (s) => (Array.isArray(s.properties?.statistics) ? s.properties.statistics : []),
  properties: (s) => s.properties ?? null,
  actions: (s) => s.actions ?? null,
  links: (s) => linksOf(s.links),
  availableActions: (s, _args, context) => (context.actions.mayAct(context.caller().actor) ? availableActions(s.links) : []),
  policySnapshot: (s) => s.policySnapshot ?? null,
  job: (s, _args, context) => (s.jobId ? context.upstream(context.serverOf(s)).loaders.jobInBatch.load(String(s.jobId)) : null),
  log(s, args, context) {
    const { filter, empty, local } = translateLogFilter(s.id, args.filter);
    return context
      .upstream(context.serverOf(s))
      .paginator.page(JOB_LOG, args, { filter, sort: translateLogOrder(args.orderBy), empty, ...(local ? { local } : {}) });
  },
  logCounts(s, { types }, context) {
    const { paginator } = context.upstream(context.serverOf(s));
    return [...new Set(types ?? LOG_TYPES)].map((type) => ({
      type,
      count: () => trustedCount(logCount(paginator, s.id, type), `${type} log entries`),
    }));
  },
  raw: (s: SppJobSession) => s,
};

export const JobSessionStatistic: JobSessionStatisticResolvers = {
  total: (s) => int(s.total) ?? 0,
  success: (s) => int(s.success) ?? 0,
  failed: (s) => int(s.failed) ?? 0,
  // SPPMon's rule when SPP omits `skipped` (docs/spp-api.md#the-session-record).
  skipped: (s) => int(s.skipped) ?? Math.max(0, (int(s.total) ?? 0) - (int(s.success) ?? 0) - (int(s.failed) ?? 0)),
  names: (s) => (Array.isArray(s.names) ? s.names.map(String) : null),
};
