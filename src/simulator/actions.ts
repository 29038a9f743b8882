/** Simulated SPP actions: cancel, rerun and expire a job session; start a job (spp-api.md §4). */
import type { SppJob, SppJobSession, SppRecord } from '../spp-api/types.js';
import { mayAct, type SimulatorUser } from './auth.js';
import { JOBS_BY_ID } from './catalog.js';
import { errorBody, type HandlerContext, type Send } from './context.js';

/** A record as `user` reads it: without the action links of types its role may not act on. */
export function forRole<R extends SppRecord & { type?: unknown; links?: SppJobSession['links'] }>(user: SimulatorUser, record: R): R {
  if (mayAct(user, record.type) || !record.links) return record;
  return { ...record, links: Object.fromEntries(Object.entries(record.links).filter(([, link]) => link.rel !== 'action')) };
}

export function sessionJson(ctx: HandlerContext, user: SimulatorUser, record: SppJobSession): string {
  // Records of types the user may act on are served from the store's serialisation cache.
  return mayAct(user, record.type) ? ctx.store.toJson(record) : JSON.stringify(forRole(user, record));
}

/** The action body: a JSON object, `{}` when empty (the UI posts `{}` for actions without parameters, spp-api.md §4). */
function actionBody(text: string): Record<string, unknown> | undefined {
  if (text.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const ACTION_VERBS: Record<string, string> = { cancel: 'canceled', rerun: 'run again', expire: 'expired', start: 'started' };

/** Refusals SPP's roles make (403) and those the object's state makes (409 [INF]: SPP's status code for these is not documented, spp-api.md §8 q9). */
function refuseRole(send: Send, user: SimulatorUser, action: string, what: string): void {
  send(403, errorBody('XSBAccessDeniedException', `User ${user.username} is not permitted to ${action} ${what}.`));
}

/**
 * `POST /api/endeavour/jobsession/{id}?action=cancel|rerun|expire` (spp-api.md §4): 201 with
 * the updated session. Cancel takes `{"catalogCompletedObjects": true|false}`; an action the
 * session does not advertise now (its state) is refused with 409.
 */
export function sessionAction(ctx: HandlerContext, user: SimulatorUser, record: SppJobSession, action: string | null, text: string, send: Send): void {
  if (action === null || !(action in ACTION_VERBS) || action === 'start') {
    return send(400, errorBody('XSBInvalidArgumentException', `Unknown action ${JSON.stringify(action)} on a job session: expected cancel, rerun or expire.`));
  }
  const body = actionBody(text);
  if (body === undefined) return send(400, errorBody('XSBInvalidArgumentException', 'The request body must be a JSON object.'));
  if (!mayAct(user, record.type)) return refuseRole(send, user, action, `job session ${record.id}`);
  const now = ctx.clock();
  const conflict = () =>
    send(409, errorBody('XSBInvalidStateException', `Job session ${record.id} cannot be ${ACTION_VERBS[action]} while its status is ${record.status}.`));
  if (action === 'cancel') {
    if (body.catalogCompletedObjects !== undefined && typeof body.catalogCompletedObjects !== 'boolean') {
      return send(400, errorBody('XSBInvalidArgumentException', 'catalogCompletedObjects must be true or false.'));
    }
    const updated = ctx.store.cancel(record.id, now);
    return updated ? send(201, sessionJson(ctx, user, updated)) : conflict();
  }
  if (action === 'rerun') {
    const done = ctx.store.rerun(record.id, now);
    return done ? send(201, sessionJson(ctx, user, done.original)) : conflict();
  }
  const expired = ctx.store.expire(record.id);
  return expired ? send(201, JSON.stringify(expired)) : conflict();
}

/**
 * `POST /api/endeavour/job/{id}?action=start&actionname=start` with `{"actionname": value}` when
 * the job's start link has a schema (spp-api.md §4): a new RUNNING session; the answer is the
 * job JSON without the new session's id (clients poll livejobsessions for it).
 */
export function startJob(ctx: HandlerContext, user: SimulatorUser, job: SppJob, params: URLSearchParams, text: string, send: Send): void {
  if (params.get('action') !== 'start') {
    return send(400, errorBody('XSBInvalidArgumentException', `Unknown action ${JSON.stringify(params.get('action'))} on a job: expected start.`));
  }
  const body = actionBody(text);
  if (body === undefined) return send(400, errorBody('XSBInvalidArgumentException', 'The request body must be a JSON object.'));
  if (!mayAct(user, job.type)) return refuseRole(send, user, 'start', `job ${job.id}`);
  if (!job.links?.start) return send(409, errorBody('XSBInvalidStateException', `Job ${job.id} is already running.`));
  const definition = JOBS_BY_ID.get(job.id)!;
  let subPolicyType: string | null = null;
  if (definition.subPolicyTypes) {
    const values = definition.subPolicyTypes.map(([value]) => value);
    // Without an actionname the first value is taken [INF].
    const given = body.actionname ?? values[0];
    if (typeof given !== 'string' || !values.includes(given)) {
      return send(400, errorBody('XSBInvalidArgumentException', `actionname ${JSON.stringify(given)} is not valid for job ${job.id}.`));
    }
    subPolicyType = given;
  }
  const now = ctx.clock();
  ctx.store.start(definition, subPolicyType, now);
  const updated = ctx.store.jobs(now).find((r) => r.id === job.id)!;
  send(201, JSON.stringify(forRole(user, updated)));
}
