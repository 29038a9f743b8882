/**
 * Checks that SPP's answers have the shape the gateway relies on, and normalises the
 * few fields whose JSON type varies between builds (spp-api.md §8 q5: ids may arrive as
 * numbers; SPPMon stores them as INT). Everything else passes through untouched, so
 * fields this gateway does not know still reach clients through `raw`.
 *
 * A failure throws an ordinary Error, which the client turns into UPSTREAM_ERROR.
 */
import { z } from 'zod';
import type { SppJobSession, SppJobSessionList } from './types.js';

const digitsOrString = z.union([z.string(), z.number()]).transform(String);

const jobSession = z
  .looseObject({
    id: digitsOrString,
    jobId: digitsOrString.nullish().transform((v) => v ?? ''),
    jobName: z.string().nullish().transform((v) => v ?? ''),
    type: z.string().nullish().transform((v) => v ?? ''),
    status: z.string().nullish().transform((v) => v ?? 'UNKNOWN'),
    start: z.number(),
  });

const jobSessionList = z.looseObject({
  total: z.number().nullish().transform((v) => v ?? 0),
  sessions: z.array(jobSession),
});

export function parseJobSession(body: unknown): SppJobSession {
  return jobSession.parse(body) as SppJobSession;
}

export function parseJobSessionList(body: unknown): SppJobSessionList {
  return jobSessionList.parse(body) as SppJobSessionList;
}
