/**
 * Cache hints that depend on the record, not on the schema (the static ones are `@cacheControl`
 * in schema/schema.graphql). Apollo's cache-control plugin gives every field without a hint an
 * age of 0, so a hint set here can only lengthen the life of the field that returned the record.
 */
import type { GraphQLResolveInfo } from 'graphql';
import { maybeCacheControlFromInfo } from '@apollo/cache-control-types';
import type { JobSessionStatus } from '../__generated__/resolvers-types.js';

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

/** The age of an answer of the field that returned this session (or nothing: null). */
export function hintSession(info: GraphQLResolveInfo, status: JobSessionStatus | null): void {
  maybeCacheControlFromInfo(info)?.setCacheHint({ maxAge: status !== null && isFinished(status) ? FINISHED_SESSION_MAX_AGE_S : 0 });
}

/** The age of an answer of the field that returned a job definition. */
export function hintJob(info: GraphQLResolveInfo): void {
  maybeCacheControlFromInfo(info)?.setCacheHint({ maxAge: JOB_MAX_AGE_S });
}
