/**
 * The shapes of SPP's job-session REST API, as SPP sends them.
 *
 * Field names are SPP's own. Sources: IBM's "Getting job session information" page
 * (its sample record is the simulator's IBM_SAMPLE_SESSION_ID) and docs/spp-api.md#the-session-record.
 * These are the codegen `mappers` targets: resolvers receive these raw objects
 * and translate them field by field, so nothing here is reshaped for GraphQL.
 */

/** A HATEOAS link as SPP writes it: `{href, rel, title?, schema?}` (docs/spp-api.md#the-session-record). */
export interface SppLink {
  href: string;
  rel?: string;
  title?: string;
  schema?: string;
}

export type SppLinks = Record<string, SppLink>;

/** One entry of `properties.statistics[]` (docs/spp-api.md#the-session-record; `skipped` may be missing). */
export interface SppStatistic {
  resourceType: string;
  total: number;
  success: number;
  failed: number;
  skipped?: number;
  names?: string[];
}

export interface SppSessionProperties {
  statistics?: SppStatistic[] | null;
  [key: string]: unknown;
}

export interface SppSourceMetadata {
  path?: string | null;
  name?: string | null;
  [key: string]: unknown;
}

export interface SppSource {
  href?: string | null;
  resourceType?: string | null;
  name?: string | null;
  id?: string | null;
  include?: boolean | null;
  metadata?: SppSourceMetadata | null;
  [key: string]: unknown;
}

export interface SppPolicySpec {
  source?: SppSource[] | null;
  /** SPP sends `retention` as a string ("3") and `maxtasks` in lower case. */
  option?: { retention?: string | number | null; maxtasks?: number | null; [key: string]: unknown } | null;
  notification?: unknown[] | null;
  applicationtype?: string | null;
  [key: string]: unknown;
}

export type SppPolicyOption = NonNullable<SppPolicySpec['option']>;

export interface SppPolicySnapshot {
  id: string;
  name: string;
  type?: string | null;
  subType?: string | null;
  serviceId?: string | null;
  version?: string | null;
  spec?: SppPolicySpec | null;
  description?: string | null;
  script?: unknown;
  [key: string]: unknown;
}

/** One job session record, `GET /api/endeavour/jobsession/{id}` (the bare object). */
export interface SppJobSession {
  id: string;
  links?: SppLinks;
  jobName: string;
  jobId: string;
  name?: string | null;
  type: string;
  typeDisplayName?: string | null;
  subType?: string | null;
  subTypeDisplayName?: string | null;
  subPolicyType?: string | null;
  subPolicyTypeDisplayName?: string | null;
  serviceId?: string | null;
  displayName?: string | null;
  /** Epoch milliseconds. */
  start: number;
  /** Epoch milliseconds; null while the session runs. */
  end?: number | null;
  /** Milliseconds. */
  duration?: number | null;
  status: string;
  statusDisplayName?: string | null;
  indexStatus?: string | null;
  description?: string | null;
  results?: string | null;
  properties?: SppSessionProperties | null;
  numTasks?: number | null;
  previousLastTask?: number | null;
  /** Epoch milliseconds. */
  lastUpdate?: number | null;
  percent?: number | null;
  /** Epoch milliseconds. */
  expiresAt?: number | null;
  expirationTime?: number | null;
  retention?: number | null;
  retentionUnit?: string | null;
  expired?: boolean | null;
  hasCatalog?: boolean | null;
  hasCondensed?: boolean | null;
  wormProtected?: boolean | null;
  rerunnable?: boolean | null;
  userUpdate?: boolean | null;
  actions?: unknown[] | null;
  statistics?: unknown;
  policySnapshot?: SppPolicySnapshot | null;
  [key: string]: unknown;
}

/** `GET /api/endeavour/jobsession` envelope. `total` is 0 on builds hit by APAR IT45897. */
export interface SppJobSessionList {
  links?: SppLinks;
  total: number;
  page?: number;
  sessions: SppJobSession[];
}

/**
 * Any record of an offset-paged SPP list: the paging engine needs only its `id` (a digit
 * string once validated) and the values of its sort keys.
 */
export interface SppRecord {
  id: string;
  [key: string]: unknown;
}

/** Any offset-paged SPP list answer: the records sit under a list-specific key (`sessions`, `logs`, `jobs`). */
export interface SppListPage<R extends SppRecord = SppRecord> {
  total: number;
  records: R[];
}

/** `lastrun` of a job definition (docs/spp-api.md#other-lists): a summary of its latest session; `start` is 0 when it never ran. */
export interface SppJobLastRun {
  sessionId?: string | null;
  jobName?: string | null;
  type?: string | null;
  subType?: string | null;
  serviceId?: string | null;
  start?: number | null;
  end?: number | null;
  duration?: number | null;
  status?: string | null;
  results?: string | null;
  properties?: unknown;
  numTasks?: number | null;
  lastUpdate?: number | null;
  percent?: number | null;
  [key: string]: unknown;
}

/** One job definition, `GET /api/endeavour/job/{id}` (docs/spp-api.md#other-lists, UI JobModel). */
export interface SppJob {
  id: string;
  name: string;
  description?: string | null;
  displayName?: string | null;
  tenantId?: number | string | null;
  policyId?: string | null;
  policyName?: string | null;
  type?: string | null;
  typeDisplayName?: string | null;
  subType?: string | null;
  subTypeDisplayName?: string | null;
  serviceId?: string | null;
  /** The definition's state (IDLE, PENDING, WAITING, RESOURCE ACTIVE, ACTIVE: docs/spp-api.md#other-lists), not a session status. */
  status?: string | null;
  statusDisplayName?: string | null;
  lastSessionStatus?: string | null;
  lastSessionStatusDisplayName?: string | null;
  /** Epoch milliseconds; null when the job never ran. */
  lastRunTime?: number | null;
  /** Epoch milliseconds; null when the job has no schedule. */
  nextFireTime?: number | null;
  /** Milliseconds. */
  lastSessionDuration?: number | null;
  lastrun?: SppJobLastRun | null;
  links?: SppLinks;
  [key: string]: unknown;
}

/** One job log entry, `GET /api/endeavour/log/job` (docs/spp-api.md#other-lists, UI JobLogModel). */
export interface SppJobLogEntry {
  id: string;
  /** SPP sends a number; validation makes it a digit string like every other id. */
  jobsessionId: string;
  jobsessionTaskId?: string | number | null;
  /** Epoch milliseconds. */
  logTime: number;
  /** INFO, WARN, ERROR, SUMMARY, DEBUG, DETAIL (docs/spp-api.md#other-lists). */
  type: string;
  category?: string | null;
  modName?: string | null;
  threadId?: string | null;
  message?: string | null;
  /** e.g. `CTGGA2384`. */
  messageId?: string | null;
  messageParams?: string[] | null;
  detail?: string | null;
  name?: string | null;
  [key: string]: unknown;
}

/**
 * `GET /api/endeavour/jobsession/stats` (docs/spp-api.md#other-lists, UI JobSessionStatsModel): the
 * window, the UI's groups and a count per status key.
 */
export interface SppJobSessionStats {
  start?: number | null;
  end?: number | null;
  successful?: number | null;
  failed?: number | null;
  /** PARTIAL + CANCELLED + ABORTED. */
  warning?: number | null;
  running?: number | null;
  totalRuns?: number | null;
  successPercent?: number | null;
  [status: string]: unknown;
}

/** SPP's filter object (docs/spp-api.md#filter-and-sort). A missing `op` means `=`. */
export type SppFilterOp = '=' | '<' | '>' | '<=' | '>=' | 'IN';

export interface SppFilter {
  property: string;
  /** `null` with `=` matches missing and null fields (MongoDB semantics; the keyset levels rely on it). */
  value: string | number | boolean | null | Array<string | number>;
  op?: SppFilterOp;
}

export interface SppSort {
  property: string;
  direction: 'ASC' | 'DESC';
}

/** SPP's error body (docs/spp-api.md#errors). */
export interface SppErrorBody {
  id: string;
  description: string;
  key?: string;
  log?: string;
  results?: unknown;
}

/** `POST /api/endeavour/session` answer. */
export interface SppLoginResponse {
  sessionid: string;
  user: { name: string; type?: string; [key: string]: unknown };
  [key: string]: unknown;
}
