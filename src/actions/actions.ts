/**
 * Acting on jobs (docs/security.md "Actions"): start, cancel, rerun and expire, the riskiest operations
 * this gateway carries, since they change production backups. Every submission goes through
 * `submit`, which
 * - refuses callers who may not act (anonymous; callers without the operator role),
 * - acts once per submission: a repeated clientMutationId of the same caller within
 *   IDEMPOTENCY_WINDOW_MS, or the same input while the first is in flight and DOUBLE_SUBMIT_MS
 *   after (a double-click), receives the first outcome without calling SPP (./idempotency.ts);
 *   refusals, after which nothing happened at SPP, are not kept beyond the submission,
 * - writes one audit line (./audit.ts).
 * Each action reads its object fresh (never a cached, shared or DataLoader answer: a stale record
 * offers a stale action), checks that SPP advertises the action (./links.ts) and only then sends
 * one POST, never retried (SppClient.act).
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import type { JobAction } from '../__generated__/resolvers-types.js';
import { actionConflict, actionNotAvailable, badUserInput, ErrorCode, forbidden, gatewayError, isDeliberate, upstreamError } from '../errors.js';
import type { Actor } from '../identity/auth.js';
import { auditNameOf, isOperator, roleOf } from '../identity/caller.js';
import { clientOf, type Consumer } from '../identity/consumer.js';
import type { SppClient } from '../upstream/spp-client.js';
import type { UpstreamIdentity } from '../upstream/session.js';
import type { SppErrorBody, SppJob, SppJobSession } from '../spp-api/types.js';
import { parseJob, parseJobSession, parseList } from '../upstream/validate.js';
import { audit } from './audit.js';
import type { IdempotencyStore, StoredOutcome } from '../state/idempotency.js';
import { actionLink, apiPathOf, availableActions } from './links.js';

export interface ActionsOptions {
  spp: SppClient;
  /** With several SPP servers (issue 21): the one these actions reach; it is part of idempotency keys and audit lines. */
  server?: string;
  store: IdempotencyStore;
  /** IDEMPOTENCY_WINDOW_MS */
  windowMs: number;
  /** ACTION_SESSION_WAIT_MS */
  sessionWaitMs: number;
}

/** Who submits, as the request's context knows it. */
export interface Submitter {
  requestId: string;
  logger: Logger;
  /** For `apollographql-client-name` and `-version`. */
  headers: IncomingHttpHeaders;
  /** Who the request is charged to (src/identity/consumer.ts). */
  consumer(): Consumer;
  /** The caller's upstream identity and actor; throws UNAUTHENTICATED without valid credentials. */
  caller(): { identity: UpstreamIdentity; actor: Actor };
}

export interface StartJobResult {
  job: SppJob;
  jobSession: SppJobSession | null;
}
export interface RerunResult {
  jobSession: SppJobSession;
  newJobSession: SppJobSession | null;
}

/** A submission still in flight keeps its key this long at most (a hung SPP ends sooner: SPP_RESPONSE_TIMEOUT_MS). */
const IN_FLIGHT_TTL_MS = 5 * 60_000;
/**
 * Without a clientMutationId, the same input from the same caller is one submission while in
 * flight and this long after (a double-click's second click may arrive after the first finished).
 */
export const DOUBLE_SUBMIT_MS = 5_000;
/** Between looks for a new session: IBM's client polls every 2 s; the first look is at once. */
const POLL_DELAYS_MS = [0, 250, 500, 1_000, 2_000];

/** Codes of SPP's definite refusals of an action (its 4xx answers): SPP did not act. */
const REFUSALS: ReadonlySet<string> = new Set([ErrorCode.CONFLICT, ErrorCode.FORBIDDEN, ErrorCode.NOT_FOUND, ErrorCode.UNAUTHENTICATED]);

interface StartSchema {
  values: Array<{ name: string; value: string }>;
}

export class Actions {
  constructor(private readonly options: ActionsOptions) {}

  startJob(who: Submitter, input: { clientMutationId?: string | null; jobId: string; actionName?: string | null }): Promise<StartJobResult> {
    return this.submit(who, 'START', input.jobId, input, async (identity, reachSpp, sppActed) => {
      const path = `endeavour/job/${encodeURIComponent(input.jobId)}`;
      const job = await this.options.spp.readFresh(identity, path, parseJob);
      if (!job) throw gatewayError(ErrorCode.NOT_FOUND, `SPP has no job ${input.jobId}.`);
      const link = this.advertised(job.links, 'START', `job ${input.jobId}`);
      const body = await this.startBody(identity, link, input.actionName ?? undefined);
      reachSpp();
      const answer = await this.post(identity, link.href, body, 'START', `job ${input.jobId}`);
      sppActed();
      const started = tryParse(answer, parseJob) ?? job;
      // The newest session before the start (ids may arrive as numbers, docs/spp-api.md#open-questions).
      const last = job.lastrun?.sessionId as unknown;
      const baseline = typeof last === 'string' || typeof last === 'number' ? { id: String(last), start: Number(job.lastrun?.start ?? 0) } : undefined;
      return { job: started, jobSession: await this.findNewSession(identity, job.id, baseline) };
    });
  }

  cancelJobSession(who: Submitter, input: { clientMutationId?: string | null; id: string; catalogCompletedObjects: boolean }): Promise<SppJobSession> {
    return this.submit(who, 'CANCEL', input.id, input, async (identity, reachSpp, sppActed) => {
      const session = await this.readSession(identity, input.id);
      const link = this.advertised(session.links, 'CANCEL', `job session ${input.id}`);
      reachSpp();
      const answer = await this.post(identity, link.href, { catalogCompletedObjects: input.catalogCompletedObjects }, 'CANCEL', `job session ${input.id}`);
      sppActed();
      // SPP answers 201 with the updated session (IBM's REST API reference, docs/spp-api.md#acting-on-jobs); read it when the answer is not one.
      return tryParse(answer, parseJobSession) ?? (await this.readSession(identity, input.id));
    });
  }

  rerunJobSession(who: Submitter, input: { clientMutationId?: string | null; id: string }): Promise<RerunResult> {
    return this.submit(who, 'RERUN', input.id, input, async (identity, reachSpp, sppActed) => {
      const session = await this.readSession(identity, input.id);
      const link = this.advertised(session.links, 'RERUN', `job session ${input.id}`);
      const baseline = (await this.newestSessions(identity, session.jobId))[0];
      reachSpp();
      const answer = await this.post(identity, link.href, {}, 'RERUN', `job session ${input.id}`);
      sppActed();
      const updated = tryParse(answer, parseJobSession) ?? session;
      return { jobSession: updated, newJobSession: await this.findNewSession(identity, session.jobId, baseline) };
    });
  }

  expireJobSession(who: Submitter, input: { clientMutationId?: string | null; id: string }): Promise<SppJobSession> {
    return this.submit(who, 'EXPIRE', input.id, input, async (identity, reachSpp, sppActed) => {
      const session = await this.readSession(identity, input.id);
      const link = this.advertised(session.links, 'EXPIRE', `job session ${input.id}`);
      reachSpp();
      const answer = await this.post(identity, link.href, {}, 'EXPIRE', `job session ${input.id}`);
      sppActed();
      return tryParse(answer, parseJobSession) ?? { ...session, expired: true };
    });
  }

  /**
   * The safety rules every action shares. `perform` calls `reachSpp()` right before its POST:
   * an error before that point changed nothing at SPP; one after it might have (a timeout), so
   * it is kept as the first outcome and a retry with the same key does not act again. It calls
   * `sppActed()` once SPP answered 2xx: no error after that (a follow-up read SPP refused) frees the key.
   */
  private async submit<T>(
    who: Submitter,
    action: JobAction,
    objectId: string,
    input: { clientMutationId?: string | null },
    perform: (identity: UpstreamIdentity, reachSpp: () => void, sppActed: () => void) => Promise<T>,
  ): Promise<T> {
    const { identity, actor } = who.caller();
    const clientMutationId = input.clientMutationId ?? undefined;
    const client = clientOf(who.headers);
    const server = this.options.server;
    const line = {
      ...{
        actor: auditNameOf(actor),
        role: roleOf(actor),
        consumer: actor.consumer,
        action,
        objectId,
        requestId: who.requestId,
        ...(server !== undefined ? { server } : {}),
      },
      ...(client.name ? { client: client.name } : {}),
      ...(client.version ? { clientVersion: client.version } : {}),
      ...(clientMutationId !== undefined ? { clientMutationId } : {}),
    };
    const refusal = this.refusal(actor);
    if (refusal) {
      audit(who.logger, { ...line, outcome: 'refused', code: ErrorCode.FORBIDDEN });
      throw refusal;
    }
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([action, input]))
      .digest('base64url');
    // Without a clientMutationId, identical submissions are one while the first is in flight (a double-click).
    const scope = server !== undefined ? `${actor.key}\u0000${server}` : actor.key;
    const key = clientMutationId !== undefined ? `${scope}\u0000${action}\u0000id:${clientMutationId}` : `${scope}\u0000${action}\u0000input:${fingerprint}`;
    const keepMs = clientMutationId !== undefined ? this.options.windowMs : Math.min(DOUBLE_SUBMIT_MS, this.options.windowMs);
    const claim = await this.options.store.claim(key, fingerprint, Math.max(keepMs, IN_FLIGHT_TTL_MS)).catch((error: unknown) => {
      // The store could not say whether this is a repeat (shared state unreachable): nothing is done.
      audit(who.logger, { ...line, outcome: 'refused', code: isDeliberate(error) ? String(error.extensions.code) : ErrorCode.INTERNAL_SERVER_ERROR });
      throw error;
    });
    if (!claim.first) {
      if (claim.fingerprint !== fingerprint) {
        audit(who.logger, { ...line, outcome: 'refused', code: ErrorCode.IDEMPOTENCY_KEY_REUSED });
        throw gatewayError(
          ErrorCode.IDEMPOTENCY_KEY_REUSED,
          `clientMutationId ${JSON.stringify(clientMutationId)} was already used for a different ${action.toLowerCase()} within the idempotency window: send a new clientMutationId for a new submission.`,
          { details: { argumentName: 'clientMutationId' } },
        );
      }
      const first = await claim.outcome;
      audit(who.logger, { ...line, outcome: 'replayed', ...(first.ok ? {} : { code: String(first.error.extensions.code) }) });
      if (first.ok) return first.value as T;
      throw revive(first);
    }
    let reached = false;
    let acted = false;
    try {
      const value = await perform(
        identity,
        () => (reached = true),
        () => (acted = true),
      );
      await this.options.store.settle(key, { ok: true, value }, keepMs);
      audit(who.logger, { ...line, outcome: 'ok' });
      return value;
    } catch (error) {
      const deliberate = isDeliberate(error) ? error : upstreamError('the action could not be completed', error);
      const code = String(deliberate.extensions.code);
      // A refusal (before SPP was asked, or SPP's own 4xx) changed nothing: waiting duplicates get
      // it, then the key is free. An uncertain failure (5xx, no answer) is kept as the first
      // outcome, so a retry with the same key cannot act a second time.
      // Once SPP answered 2xx it acted: a later failure (a follow-up read refused) is never a refusal (issue 22, item 4).
      const nothingHappened = !reached || (REFUSALS.has(code) && !acted);
      await this.options.store.settle(
        key,
        { ok: false, error: { message: deliberate.message, extensions: { ...deliberate.extensions } } },
        nothingHappened ? 0 : keepMs,
      );
      audit(who.logger, { ...line, outcome: nothingHappened ? 'refused' : 'failed', code });
      throw deliberate;
    }
  }

  /**
   * Whether this gateway acts for the caller at all. `availableActions` is empty when it does not,
   * so a UI's buttons match what a mutation would do (found by the job monitor, issue 13: an
   * anonymous caller saw CANCEL, and its click was FORBIDDEN).
   */
  mayAct(actor: Actor): boolean {
    return this.refusal(actor) === undefined;
  }

  /**
   * Anonymous callers never act; otherwise the caller's role decides (operator acts, viewer reads).
   * Pass-through callers carry both roles: SPP's own roles decide for them.
   */
  private refusal(actor: Actor): GraphQLError | undefined {
    if (actor.anonymous) return forbidden('Anonymous callers cannot act on jobs: authenticate first.');
    if (isOperator(actor)) return undefined;
    if (actor.kind === 'gateway-token') {
      return forbidden('This gateway does not act on jobs: it speaks to SPP as one service account for every caller, and GATEWAY_ALLOW_MUTATIONS is not true.');
    }
    return forbidden(
      `${actor.consumer === 'anonymous' ? 'This caller' : `"${actor.name}"`} has the viewer role, which reads only: starting, cancelling, rerunning and expiring need the operator role.`,
    );
  }

  private advertised(links: SppJob['links'], action: JobAction, what: string) {
    const link = actionLink(links, action);
    if (!link || apiPathOf(link.href) === undefined) throw actionNotAvailable(action, what, availableActions(links));
    return link;
  }

  private async readSession(identity: UpstreamIdentity, id: string): Promise<SppJobSession> {
    const session = await this.options.spp.readFresh(identity, `endeavour/jobsession/${encodeURIComponent(id)}`, parseJobSession);
    if (!session) throw gatewayError(ErrorCode.NOT_FOUND, `SPP has no job session ${id}.`);
    return session;
  }

  /**
   * The start's body (docs/spp-api.md#acting-on-jobs): with a schema, `{"actionname": value}` of the schema's
   * values (the caller's, by name or value, else the first); without one the link's own
   * `actionname` is the whole request, and no other name is valid.
   */
  private async startBody(identity: UpstreamIdentity, link: { href: string; schema?: string }, given: string | undefined): Promise<Record<string, string>> {
    if (link.schema) {
      const path = apiPathOf(link.schema);
      const schema = path ? await this.options.spp.readFresh(identity, path, parseStartSchema) : null;
      if (schema && schema.values.length > 0) {
        if (given === undefined) return { actionname: schema.values[0]!.value };
        const match = schema.values.find((v) => v.name === given || v.value === given);
        if (match) return { actionname: match.value };
        throw badUserInput(
          `Argument "actionName" must be one of ${schema.values.map((v) => JSON.stringify(v.name)).join(', ')} for this job, got ${JSON.stringify(given)}.`,
          'actionName',
        );
      }
    }
    const own = new URL(link.href, 'https://spp.invalid').searchParams.get('actionname') ?? 'start';
    if (given !== undefined && given !== own) {
      throw badUserInput(`Argument "actionName" must be ${JSON.stringify(own)} (or omitted) for this job, got ${JSON.stringify(given)}.`, 'actionName');
    }
    return {};
  }

  /** The one POST, and what its answer means in the gateway's vocabulary (never SPP's body). */
  private async post(identity: UpstreamIdentity, href: string, body: unknown, action: JobAction, what: string): Promise<unknown> {
    const uncertain = (code: ErrorCode, happened: string, cause: unknown) =>
      gatewayError(
        code,
        `SPP ${happened} to the ${action.toLowerCase()} of ${what}: it may or may not have acted. Check ${what} before submitting again; the same clientMutationId will not act twice.`,
        { cause },
      );
    let answer: { status: number; body: unknown };
    try {
      answer = await this.options.spp.act(identity, apiPathOf(href)!, body);
    } catch (error) {
      const code = (error as GraphQLError).extensions?.code;
      if (code === ErrorCode.UPSTREAM_TIMEOUT || code === ErrorCode.UPSTREAM_UNAVAILABLE) throw uncertain(code, 'gave no answer', error);
      throw error;
    }
    const { status } = answer;
    if (status >= 500) {
      const code = status === 503 ? ErrorCode.UPSTREAM_UNAVAILABLE : status === 504 ? ErrorCode.UPSTREAM_TIMEOUT : ErrorCode.UPSTREAM_ERROR;
      throw uncertain(code, `answered HTTP ${status}`, { status });
    }
    if (status >= 200 && status < 300) return answer.body;
    const reason = reasonOf(answer.body);
    if (status === 401) throw gatewayError(ErrorCode.UNAUTHENTICATED, 'SPP did not accept the session: log in again. Nothing was done.');
    if (status === 403) throw forbidden(`SPP's roles do not allow your SPP user to ${action.toLowerCase()} ${what}.`, { status });
    if (status === 404) throw gatewayError(ErrorCode.NOT_FOUND, `SPP has no ${what} (any more).`, { cause: { status } });
    if (status === 400 || status === 409 || status === 412) throw actionConflict(action.toLowerCase(), what, reason, { status });
    throw upstreamError(`HTTP ${status} to the ${action.toLowerCase()} of ${what}`, { status });
  }

  /** The job's newest sessions, newest first (the documented list, not a cached answer). */
  private async newestSessions(identity: UpstreamIdentity, jobId: string): Promise<SppJobSession[]> {
    const search = new URLSearchParams({
      pageStartIndex: '0',
      pageSize: '5',
      filter: JSON.stringify([{ property: 'jobId', value: jobId, op: '=' }]),
      sort: JSON.stringify([{ property: 'start', direction: 'DESC' }]),
    });
    const page = await this.options.spp.readFresh(identity, `endeavour/jobsession?${search.toString()}`, (body) =>
      parseList(body, 'sessions', parseJobSession),
    );
    return page?.records ?? [];
  }

  /**
   * The session an action created: SPP's answer does not name it, so, as IBM's sppclient does,
   * look at the job's sessions for a bounded time (ACTION_SESSION_WAIT_MS) for one newer than
   * the newest before the action. Null when none appeared in time (or reading failed).
   */
  private async findNewSession(identity: UpstreamIdentity, jobId: string, baseline: { id: string; start: number } | undefined): Promise<SppJobSession | null> {
    const deadline = Date.now() + this.options.sessionWaitMs;
    if (this.options.sessionWaitMs <= 0) return null;
    for (let attempt = 0; ; attempt++) {
      const delay = POLL_DELAYS_MS[Math.min(attempt, POLL_DELAYS_MS.length - 1)]!;
      if (Date.now() + delay > deadline) return null;
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      // SPP acted already: nothing here may turn the outcome into an error. A read still running at
      // the deadline (with its retries, up to SPP_RESPONSE_TIMEOUT_MS each) is not waited for (issue 22, item 10).
      const sessions = await untilDeadline(
        this.newestSessions(identity, jobId).catch(() => []),
        deadline,
      );
      const created = sessions.find(
        (s) => !baseline || (s.id !== baseline.id && (s.start > baseline.start || (s.start === baseline.start && idAfter(s.id, baseline.id)))),
      );
      if (created) return created;
    }
  }
}

/** `work`'s value, or [] once `deadline` (epoch ms) has passed. */
async function untilDeadline<T>(work: Promise<T[]>, deadline: number): Promise<T[]> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T[]>((resolve) => (timer = setTimeout(() => resolve([]), Math.max(0, deadline - Date.now()))));
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** SPP ids are digit strings (epoch-ms-like, docs/spp-api.md#the-session-record): compared as numbers, else as text. */
function idAfter(a: string, b: string): boolean {
  return /^\d+$/.test(a) && /^\d+$/.test(b) ? BigInt(a) > BigInt(b) : a > b;
}

function parseStartSchema(body: unknown): StartSchema {
  const values = (body as { parameter?: { actionname?: { values?: unknown } } } | null)?.parameter?.actionname?.values;
  if (!Array.isArray(values)) return { values: [] };
  return {
    values: values
      .filter((v): v is { name?: unknown; value: unknown } => typeof v === 'object' && v !== null && 'value' in v)
      .map((v) => ({ value: String(v.value), name: typeof v.name === 'string' ? v.name : String(v.value) })),
  };
}

function tryParse<T>(body: unknown, parse: (body: unknown) => T): T | undefined {
  if (body === null || body === undefined) return undefined;
  try {
    return parse(body);
  } catch {
    return undefined;
  }
}

/**
 * SPP's reason for a refusal: its error body's `description` (docs/spp-api.md#errors), one line, at most
 * 200 characters, without URLs. The body itself never reaches a client.
 */
export function reasonOf(body: unknown): string | undefined {
  const description = (body as SppErrorBody | null)?.description;
  if (typeof description !== 'string') return undefined;
  const text = description
    .replace(/https?:\/\/\S+/g, '[url]')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/\.$/, '');
  if (text === '') return undefined;
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}

/** A stored failure as the error the first submission threw. */
function revive(outcome: Extract<StoredOutcome, { ok: false }>): GraphQLError {
  const { code, http: _http, ...details } = outcome.error.extensions as { code: ErrorCode; http?: unknown };
  return gatewayError(code, outcome.error.message, { details });
}
