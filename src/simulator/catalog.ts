/**
 * The simulator's job catalogue: each job name has one stable jobId, type, sub-type, policy
 * snapshot and weight in the history. Shared by the session generator, the job list and logs.
 */
import type { SppPolicySnapshot } from '../spp-api/types.js';
import { pick, type Rng } from './rng.js';

/**
 * Base of the hrefs *inside* records (`links`, `policySnapshot.spec.source[].href`).
 * Fixed rather than the server's own URL so that data is byte-identical across ports and
 * hosts (determinism, cached JSON); `.invalid` guarantees nobody follows them by accident.
 * The paging links of the list envelope, by contrast, use the request's Host header.
 */
export const RECORD_HREF_BASE = 'https://spp.example.invalid';

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

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
