/**
 * Deterministic job-session history: same seed + same `now` + same size → identical records.
 *
 * Field names, kinds and value sets follow docs/spp-api.md#the-session-record and the IBM sample record
 * of IBM's "Getting job session information" page; values SPP does not document (indexStatus, retention
 * units, statistics resource types) are plausible stand-ins, flagged where chosen. Every
 * record has exactly the keys of SESSION_FIELDS (query.ts), in that order.
 *
 * Records are frozen: the store replaces a record when it changes (live mode) instead of
 * mutating it, so cached query results and cached JSON never go stale silently, and callers
 * of `list()`/`get()` cannot corrupt the data set.
 */
import type { SppJobSession, SppLinks, SppPolicySnapshot, SppStatistic } from '../spp-api/types.js';

/**
 * Base of the hrefs *inside* records (`links`, `policySnapshot.spec.source[].href`).
 * Fixed rather than the server's own URL so that data is byte-identical across ports and
 * hosts (determinism, cached JSON); `.invalid` guarantees nobody follows them by accident.
 * The paging links of the list envelope, by contrast, use the request's Host header.
 */
export const RECORD_HREF_BASE = 'https://spp.example.invalid';

export const IBM_SAMPLE_SESSION_ID = '1564688656142';

const DAY = 86_400_000;
const MINUTE = 60_000;
/** About two years of history, like the 4,877 sessions of the IBM page. */
export const HISTORY_MS = 730 * DAY;

/** mulberry32: tiny, fast, good enough for test data, and identical on every platform. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Rng = () => number;

function pick<T>(rng: Rng, weighted: ReadonlyArray<readonly [T, number]>): T {
  let total = 0;
  for (const [, w] of weighted) total += w;
  let r = rng() * total;
  for (const [v, w] of weighted) {
    r -= w;
    if (r < 0) return v;
  }
  return weighted[weighted.length - 1]![0];
}

function intBetween(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

// ---------------------------------------------------------------------------------------
// Status vocabulary (docs/spp-api.md#the-session-record)

export const ACTIVE_STATUSES: ReadonlySet<string> = new Set(['RUNNING', 'PENDING', 'WAITING']);

const STATUS_DISPLAY: Readonly<Record<string, string>> = {
  RUNNING: 'Running',
  PENDING: 'Pending',
  WAITING: 'Waiting',
  HELD: 'Held',
  COMPLETED: 'Completed',
  PARTIAL: 'Partial',
  FAILED: 'Failed',
  CANCELED: 'Canceled',
  CANCELLED: 'Cancelled',
  ABORTED: 'Aborted',
  STOPPED: 'Stopped',
};

export function statusDisplayName(status: string): string {
  return STATUS_DISPLAY[status] ?? status.charAt(0) + status.slice(1).toLowerCase();
}

/** Mostly successful history; CANCELED is the doc spelling (the UI's CANCELLED is a quirk). */
const FINISHED_STATUS_WEIGHTS: ReadonlyArray<readonly [string, number]> = [
  ['COMPLETED', 800],
  ['PARTIAL', 80],
  ['FAILED', 70],
  ['CANCELED', 20],
  ['ABORTED', 15],
  ['STOPPED', 15],
];

const SUB_POLICY_DISPLAY: Readonly<Record<string, string>> = {
  BACKUP: 'Backup',
  REPLICATION: 'Replication',
  SPPOFFLOAD: 'Offload',
  SPPARCHIVE: 'Archive',
};

// ---------------------------------------------------------------------------------------
// Job definitions: each job name has one stable jobId and one type/subType/serviceId.

export interface JobDefinition {
  readonly jobId: string;
  readonly name: string;
  readonly type: string;
  readonly typeDisplayName: string;
  readonly subType: string;
  readonly subTypeDisplayName: string;
  readonly serviceId: string;
  /** Relative frequency in the history. */
  readonly weight: number;
  /** Protection jobs run one session per sub-policy (backup, replication, offload, archive). */
  readonly subPolicyTypes: ReadonlyArray<readonly [string, number]> | null;
  /** Retention in days of a backup of this SLA (protection jobs only). */
  readonly retentionDays: number;
  /** `properties.statistics[].resourceType` and how many resources the job protects. */
  readonly resource: { readonly type: string; readonly prefix: string; readonly count: number } | null;
  readonly durationMinutes: readonly [number, number];
  readonly policySnapshot: SppPolicySnapshot;
}

function snapshot(
  jobId: string,
  name: string,
  type: string,
  subType: string,
  serviceId: string,
  source: { path: string; resourceType: string; id: string; name: string },
  applicationtype: string | null,
): SppPolicySnapshot {
  return {
    id: jobId,
    name,
    type,
    subType,
    serviceId,
    version: null,
    spec: {
      source: [
        {
          href: `${RECORD_HREF_BASE}/api/${source.path}/${source.id}`,
          resourceType: source.resourceType,
          name: source.name,
          id: source.id,
          include: true,
          metadata: { path: ':', name: source.name },
        },
      ],
      option: { retention: '3', maxtasks: 50 },
      notification: [],
      applicationtype,
    },
    description: '',
    script: null,
  };
}

/** The policy snapshot of the IBM sample record, verbatim (its href points at localhost:8082 on the page). */
function ibmSampleSnapshot(): SppPolicySnapshot {
  return {
    id: '1003',
    name: 'Application Server Inventory',
    type: 'catalog',
    subType: 'application',
    serviceId: 'serviceprovider.catalog.application',
    version: null,
    spec: {
      source: [
        {
          href: 'http://localhost:8082/api/appserver/1001',
          resourceType: 'appserver',
          name: '10.4.4.1',
          id: '1001',
          include: true,
          metadata: { path: ':', name: '10.4.4.1' },
        },
      ],
      option: { retention: '3', maxtasks: 50 },
      notification: [],
      applicationtype: 'oracle',
    },
    description: '',
    script: null,
  };
}

interface JobInput {
  jobId: string;
  name: string;
  type: 'protection' | 'catalog' | 'maintenance' | 'recovery';
  subType: string;
  subTypeDisplayName: string;
  serviceId: string;
  weight: number;
  subPolicyTypes?: ReadonlyArray<readonly [string, number]>;
  retentionDays?: number;
  resource?: { type: string; prefix: string; count: number };
  durationMinutes: readonly [number, number];
  source: { path: string; resourceType: string; id: string; name: string };
  applicationtype: string | null;
}

const TYPE_DISPLAY: Readonly<Record<JobInput['type'], string>> = {
  protection: 'Protection',
  catalog: 'Catalog',
  maintenance: 'Maintenance',
  recovery: 'Recovery',
};

const VM_POLICIES = [
  ['BACKUP', 80],
  ['REPLICATION', 10],
  ['SPPOFFLOAD', 7],
  ['SPPARCHIVE', 3],
] as const;
const DB_POLICIES = [
  ['BACKUP', 85],
  ['REPLICATION', 10],
  ['SPPOFFLOAD', 5],
] as const;
const BACKUP_ONLY = [['BACKUP', 1]] as const;

const JOB_INPUTS: JobInput[] = [
  {
    jobId: '1001',
    name: 'Hypervisor Inventory',
    type: 'catalog',
    subType: 'hypervisor',
    subTypeDisplayName: 'Hypervisor',
    serviceId: 'serviceprovider.catalog.hypervisor',
    weight: 700,
    durationMinutes: [1, 25],
    source: { path: 'hypervisor', resourceType: 'hypervisor', id: '1001', name: 'vcenter01.example.invalid' },
    applicationtype: null,
  },
  {
    jobId: '1002',
    name: 'Storage Server Inventory',
    type: 'catalog',
    subType: 'storage',
    subTypeDisplayName: 'Storage',
    serviceId: 'serviceprovider.catalog.storage',
    weight: 360,
    durationMinutes: [1, 10],
    source: { path: 'storage', resourceType: 'storage', id: '2001', name: 'vsnap01.example.invalid' },
    applicationtype: null,
  },
  {
    jobId: '1003',
    name: 'Application Server Inventory',
    type: 'catalog',
    subType: 'application',
    subTypeDisplayName: 'Application',
    serviceId: 'serviceprovider.catalog.application',
    weight: 360,
    durationMinutes: [1, 20],
    source: { path: 'appserver', resourceType: 'appserver', id: '1001', name: '10.4.4.1' },
    applicationtype: 'oracle',
  },
  {
    jobId: '1004',
    name: 'Maintenance',
    type: 'maintenance',
    subType: 'maintenance',
    subTypeDisplayName: 'Maintenance',
    serviceId: 'serviceprovider.maintenance',
    weight: 700,
    durationMinutes: [2, 20],
    source: { path: 'site', resourceType: 'site', id: '1000', name: 'Primary' },
    applicationtype: null,
  },
  {
    jobId: '1005',
    name: 'vmware_Gold',
    type: 'protection',
    subType: 'vmware',
    subTypeDisplayName: 'VMware',
    serviceId: 'serviceprovider.protection.hypervisor',
    weight: 900,
    subPolicyTypes: VM_POLICIES,
    retentionDays: 30,
    resource: { type: 'vm', prefix: 'vm-gold', count: 42 },
    durationMinutes: [10, 180],
    source: { path: 'hypervisor', resourceType: 'hypervisor', id: '1001', name: 'vcenter01.example.invalid' },
    applicationtype: 'vmware',
  },
  {
    jobId: '1006',
    name: 'vmware_Silver',
    type: 'protection',
    subType: 'vmware',
    subTypeDisplayName: 'VMware',
    serviceId: 'serviceprovider.protection.hypervisor',
    weight: 600,
    subPolicyTypes: VM_POLICIES,
    retentionDays: 14,
    resource: { type: 'vm', prefix: 'vm-silver', count: 120 },
    durationMinutes: [15, 240],
    source: { path: 'hypervisor', resourceType: 'hypervisor', id: '1001', name: 'vcenter01.example.invalid' },
    applicationtype: 'vmware',
  },
  {
    jobId: '1007',
    name: 'hyperv_Bronze',
    type: 'protection',
    subType: 'hyperv',
    subTypeDisplayName: 'Hyper-V',
    serviceId: 'serviceprovider.protection.hypervisor',
    weight: 350,
    subPolicyTypes: VM_POLICIES,
    retentionDays: 7,
    resource: { type: 'vm', prefix: 'hv-bronze', count: 18 },
    durationMinutes: [5, 90],
    source: { path: 'hypervisor', resourceType: 'hypervisor', id: '1002', name: 'hyperv01.example.invalid' },
    applicationtype: 'hyperv',
  },
  {
    jobId: '1008',
    name: 'catalog_Silver',
    type: 'protection',
    subType: 'catalog',
    subTypeDisplayName: 'Catalog',
    serviceId: 'serviceprovider.protection.catalog',
    weight: 300,
    subPolicyTypes: BACKUP_ONLY,
    retentionDays: 14,
    resource: { type: 'catalog', prefix: 'spp-catalog', count: 1 },
    durationMinutes: [2, 15],
    source: { path: 'site', resourceType: 'site', id: '1000', name: 'Primary' },
    applicationtype: null,
  },
  {
    jobId: '1009',
    name: 'sql_Gold',
    type: 'protection',
    subType: 'sql',
    subTypeDisplayName: 'SQL',
    serviceId: 'serviceprovider.protection.application',
    weight: 500,
    subPolicyTypes: DB_POLICIES,
    retentionDays: 30,
    resource: { type: 'database', prefix: 'sqldb', count: 24 },
    durationMinutes: [5, 60],
    source: { path: 'application/sql/instance', resourceType: 'applicationinstance', id: '3001', name: 'SQLSRV01\\MSSQLSERVER' },
    applicationtype: 'sql',
  },
  {
    jobId: '1010',
    name: 'oracle_Gold',
    type: 'protection',
    subType: 'oracle',
    subTypeDisplayName: 'Oracle',
    serviceId: 'serviceprovider.protection.application',
    weight: 300,
    subPolicyTypes: DB_POLICIES,
    retentionDays: 30,
    resource: { type: 'database', prefix: 'oradb', count: 6 },
    durationMinutes: [10, 90],
    source: { path: 'application/oracle/instance', resourceType: 'applicationinstance', id: '3002', name: 'ORCL' },
    applicationtype: 'oracle',
  },
  {
    jobId: '1011',
    name: 'office365_Silver',
    type: 'protection',
    subType: 'office365',
    subTypeDisplayName: 'Office 365',
    serviceId: 'serviceprovider.protection.application',
    weight: 250,
    subPolicyTypes: BACKUP_ONLY,
    retentionDays: 14,
    resource: { type: 'mailbox', prefix: 'user', count: 350 },
    durationMinutes: [20, 200],
    source: { path: 'application/office365/instance', resourceType: 'applicationinstance', id: '3003', name: 'example.onmicrosoft.com' },
    applicationtype: 'office365',
  },
  {
    jobId: '1012',
    name: 'db2_Bronze',
    type: 'protection',
    subType: 'db2',
    subTypeDisplayName: 'Db2',
    serviceId: 'serviceprovider.protection.application',
    weight: 120,
    subPolicyTypes: DB_POLICIES,
    retentionDays: 7,
    resource: { type: 'database', prefix: 'db2db', count: 4 },
    durationMinutes: [5, 45],
    source: { path: 'application/db2/instance', resourceType: 'applicationinstance', id: '3004', name: 'db2inst1' },
    applicationtype: 'db2',
  },
  {
    jobId: '1013',
    name: 'vmware_Restore',
    type: 'recovery',
    subType: 'vmware',
    subTypeDisplayName: 'VMware',
    serviceId: 'serviceprovider.recovery.hypervisor',
    weight: 40,
    durationMinutes: [5, 60],
    source: { path: 'hypervisor', resourceType: 'hypervisor', id: '1001', name: 'vcenter01.example.invalid' },
    applicationtype: 'vmware',
  },
  {
    jobId: '1014',
    name: 'sql_Restore',
    type: 'recovery',
    subType: 'sql',
    subTypeDisplayName: 'SQL',
    serviceId: 'serviceprovider.recovery.application',
    weight: 30,
    durationMinutes: [5, 40],
    source: { path: 'application/sql/instance', resourceType: 'applicationinstance', id: '3001', name: 'SQLSRV01\\MSSQLSERVER' },
    applicationtype: 'sql',
  },
];

export const JOBS: readonly JobDefinition[] = JOB_INPUTS.map((j) =>
  deepFreeze({
    jobId: j.jobId,
    name: j.name,
    type: j.type,
    typeDisplayName: TYPE_DISPLAY[j.type],
    subType: j.subType,
    subTypeDisplayName: j.subTypeDisplayName,
    serviceId: j.serviceId,
    weight: j.weight,
    subPolicyTypes: j.subPolicyTypes ?? null,
    retentionDays: j.retentionDays ?? 0,
    resource: j.resource ?? null,
    durationMinutes: j.durationMinutes,
    // Job 1003's sessions share the IBM sample's snapshot, so the sample looks like one of its runs.
    policySnapshot: j.jobId === '1003' ? ibmSampleSnapshot() : snapshot(j.jobId, j.name, j.type, j.subType, j.serviceId, j.source, j.applicationtype),
  }),
);

export const JOBS_BY_ID: ReadonlyMap<string, JobDefinition> = new Map(JOBS.map((j) => [j.jobId, j]));
const JOB_WEIGHTS: ReadonlyArray<readonly [JobDefinition, number]> = JOBS.map((j) => [j, j.weight] as const);

export function pickJob(rng: Rng): JobDefinition {
  return pick(rng, JOB_WEIGHTS);
}

export function pickSubPolicyType(rng: Rng, job: JobDefinition): string | null {
  return job.subPolicyTypes ? pick(rng, job.subPolicyTypes) : null;
}

// ---------------------------------------------------------------------------------------
// Building records

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

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
 * Links named as the UI and sppclient use them (docs/spp-api.md#the-session-record): `log` already carries the
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
  // indexStatus values are not documented (docs/spp-api.md#open-questions); the IBM sample shows COMPLETED.
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

  // SPP ids are 13-digit, epoch-ms-like digit strings (docs/spp-api.md#the-session-record): derive them from
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
// Actions (docs/spp-api.md#acting-on-jobs): what a POST of an action link does to a session's state.

/** A manual start or a rerun: the new session runs at once (the scheduler's PENDING is skipped). */
export function startedState(rng: Rng, job: JobDefinition, start: number): SessionState {
  return { status: 'RUNNING', start, end: null, percent: 0, numTasks: 1, lastUpdate: start, stats: statsFor(rng, job, 'RUNNING', 0) };
}

/** Cancel moves a running, pending or waiting session to CANCELING at once (IBM's REST API reference)... */
export function cancelingState(s: SessionState, now: number): SessionState {
  return { ...s, status: 'CANCELING', lastUpdate: Math.max(now, s.lastUpdate, s.start) };
}

/** ... and the next live step settles it as CANCELED (served as CANCELLED under that quirk). */
export function canceledState(s: SessionState, now: number): SessionState {
  const end = Math.max(now, s.lastUpdate, s.start);
  return { ...s, status: 'CANCELED', end, lastUpdate: end };
}
