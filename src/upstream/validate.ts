/**
 * Checks that SPP's answers have the shape the gateway relies on, and normalises the
 * few fields whose JSON type varies between builds (docs/spp-api.md#open-questions: ids may arrive as
 * numbers; SPPMon stores them as INT). Everything else passes through untouched, so
 * fields this gateway does not know still reach clients through `raw`.
 *
 * The check runs in place on the freshly parsed answer, field by field, rather than
 * through a schema library that copies each record: a 1000-session page is 11 answers and
 * 2 MB of JSON, and copying 40 keys per record was a tenth of the gateway's CPU (bench/).
 * A failure throws an ordinary Error, which the client turns into UPSTREAM_ERROR.
 */
import type { SppJob, SppJobLogEntry, SppJobSession, SppJobSessionStats, SppListPage, SppRecord } from '../spp-api/types.js';

function fail(what: string): never {
  throw new Error(`unexpected SPP answer: ${what}`);
}

function idOf(value: unknown, field: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return fail(`${field} is neither a string nor a number`);
}

function stringOr(value: unknown, fallback: string, field: string): string {
  if (value === null || value === undefined) return fallback;
  return typeof value === 'string' ? value : fail(`${field} is not a string`);
}

function normalise(value: unknown): SppJobSession {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('a session is not an object');
  const record = value as Record<string, unknown>;
  record.id = idOf(record.id, 'id');
  record.jobId = record.jobId === null || record.jobId === undefined ? '' : idOf(record.jobId, 'jobId');
  record.jobName = stringOr(record.jobName, '', 'jobName');
  record.type = stringOr(record.type, '', 'type');
  record.status = stringOr(record.status, 'UNKNOWN', 'status');
  if (typeof record.start !== 'number' || !Number.isFinite(record.start)) fail('start is not epoch milliseconds');
  return record as SppJobSession;
}

export function parseJobSession(body: unknown): SppJobSession {
  return normalise(body);
}

function objectOf(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`${what} is not an object`);
  return value as Record<string, unknown>;
}

const numberOrNull = (value: unknown, field: string): number | null => {
  if (value === null || value === undefined) return null;
  return typeof value === 'number' && Number.isFinite(value) ? value : fail(`${field} is not a number`);
};

/** One job definition (docs/spp-api.md#other-lists). */
export function parseJob(body: unknown): SppJob {
  const record = objectOf(body, 'a job');
  record.id = idOf(record.id, 'id');
  record.name = stringOr(record.name, '', 'name');
  record.lastRunTime = numberOrNull(record.lastRunTime, 'lastRunTime');
  record.nextFireTime = numberOrNull(record.nextFireTime, 'nextFireTime');
  return record as SppJob;
}

/** One job log entry (docs/spp-api.md#other-lists): `jobsessionId` arrives as a number and becomes a digit string. */
export function parseJobLogEntry(body: unknown): SppJobLogEntry {
  const record = objectOf(body, 'a log entry');
  record.id = idOf(record.id, 'id');
  record.jobsessionId = idOf(record.jobsessionId, 'jobsessionId');
  record.type = stringOr(record.type, 'UNKNOWN', 'type');
  if (typeof record.logTime !== 'number' || !Number.isFinite(record.logTime)) fail('logTime is not epoch milliseconds');
  return record as SppJobLogEntry;
}

/** `GET /api/endeavour/jobsession/stats`: every count a number (or absent). */
export function parseJobSessionStats(body: unknown): SppJobSessionStats {
  const record = objectOf(body, 'the statistics');
  for (const [key, value] of Object.entries(record)) if (value !== null && value !== undefined && typeof value !== 'number') fail(`${key} is not a number`);
  return record;
}

/** Any list answer: the records under `recordsKey`, each checked by `parse`; `total` a number (0 when absent). */
export function parseList<R extends SppRecord>(body: unknown, recordsKey: string, parse: (record: unknown) => R): SppListPage<R> {
  const list = objectOf(body, 'the list');
  const records = list[recordsKey];
  if (!Array.isArray(records)) fail(`${recordsKey} is not an array`);
  if (list.total !== null && list.total !== undefined && typeof list.total !== 'number') fail('total is not a number');
  for (const record of records) parse(record);
  return { total: (list.total as number | undefined) ?? 0, records: records as R[] };
}
