/**
 * Cache hints that depend on the record, not on the schema (the static ones are `@cacheControl`
 * in schema/schema.graphql). The root fields named in DYNAMIC_ROOT_FIELDS have no static hint
 * there: their resolvers report an age on every call, and the answer's age is the smallest of
 * these reports and the static hints (src/graphql/cache-policy.ts).
 */
import type { JobSessionStatus } from '../__generated__/resolvers-types.js';
import type { CacheHints } from './context.js';

/** Root fields whose resolvers report the age of what they return. */
export const DYNAMIC_ROOT_FIELDS: ReadonlySet<string> = new Set(['jobSession', 'node']);

/**
 * A finished session changes no more until SPP expires it (by retention or `expireJobSession`):
 * a minute bounds how long a client may show one that was expired meanwhile, and ETags make the
 * revalidation after it cheap. A running (waiting, paused, ...) session changes every poll.
 */
export const FINISHED_SESSION_MAX_AGE_S = 60;
/** Job definitions change when an operator edits them, rarely; their live fields carry `maxAge: 0` in the SDL. */
export const JOB_MAX_AGE_S = 30;

const FINISHED: ReadonlySet<JobSessionStatus> = new Set(['COMPLETED', 'PARTIAL', 'FAILED', 'CANCELED', 'STOPPED', 'ABORTED']);

/** Whether a session is in a final state (UNKNOWN is not: a state this gateway does not know may be live). */
export const isFinished = (status: JobSessionStatus): boolean => FINISHED.has(status);

/** The age of the answer of a field that returned this session (or nothing: null). */
export function hintSession(hints: CacheHints, status: JobSessionStatus | null): void {
  hints.restrict(status !== null && isFinished(status) ? FINISHED_SESSION_MAX_AGE_S : 0);
}

/** The age of the answer of a field that returned a job definition (null: nothing, which may appear). */
export function hintJob(hints: CacheHints, found: boolean): void {
  hints.restrict(found ? JOB_MAX_AGE_S : 0);
}
