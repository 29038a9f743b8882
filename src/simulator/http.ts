/**
 * The simulator's request handler: routes, auth checks, faults, latency, and the jobsession
 * list/record responses (spp-api.md §1, §2, §5).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SppLinks, SppLoginResponse } from '../spp-api/types.js';
import type { SimulatorUser } from './auth.js';
import { forRole, sessionAction, sessionJson, startJob } from './actions.js';
import { errorBody, type HandlerContext } from './context.js';
import { JOBSESSION_PATH, defaultFaultBody, type SimFault } from './faults.js';
import { QueryParamError, compileFilters, normalizeSorts, pageWindow, parseIntParam, parseJsonArrayParam, sortSessions, type SimRecord } from './query.js';
import type { SimRequestLogEntry } from './types.js';
import { SPP_BUILD, SPP_VERSION } from './version.js';
import { JOB_FIELDS, startSchema } from './jobs.js';
import { JOBS_BY_ID } from './catalog.js';
import { IGNORED_LOG_FILTERS, LOG_FIELDS } from './logs.js';
import { sessionStats } from './stats.js';

export const SESSION_PATH = '/api/endeavour/session';
export const PING_PATH = '/api/lifecycle/ping';
export { SPP_VERSION } from './version.js';
/** "By default, the REST API splits the response body every 100 records" (DOC-17). */
export const DEFAULT_PAGE_SIZE = 100;

const JOBSESSION_RECORD = /^\/api\/endeavour\/jobsession\/([^/]+)\/?$/;
export const STATS_PATH = '/api/endeavour/jobsession/stats';
export const JOB_PATH = '/api/endeavour/job';
const JOB_RECORD = /^\/api\/endeavour\/job\/([^/]+)\/?$/;
export const LOG_PATH = '/api/endeavour/log/job';
const JOB_FIELD_SET: ReadonlySet<string> = new Set(JOB_FIELDS);
const LOG_FIELD_SET: ReadonlySet<string> = new Set(LOG_FIELDS);

function firstValues(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of params) if (!(k in out)) out[k] = v;
  return out;
}

function parsedOrRaw(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

export function createRequestHandler(ctx: HandlerContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(ctx, req, res).catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(errorBody('XSBInternalServerErrorException', `Simulator error: ${(error as Error).message}`));
      }
    });
  };
}

async function handle(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = req.method ?? 'GET';
  const url = new URL(req.url ?? '/', 'http://simulator.invalid');
  const path = url.pathname;
  // Only action POSTs have a body worth reading; every other body is drained so keep-alive
  // connections stay usable (login ignores its body).
  const body = method === 'POST' && (JOBSESSION_RECORD.test(path) || JOB_RECORD.test(path)) ? readBody(req) : (req.resume(), Promise.resolve(''));
  const params = url.searchParams;
  const entry: SimRequestLogEntry = { method, path, query: firstValues(params), status: 0, at: ctx.clock() };
  const rawFilter = params.get('filter');
  const rawSort = params.get('sort');
  if (rawFilter !== null) entry.filter = parsedOrRaw(rawFilter);
  if (rawSort !== null) entry.sort = parsedOrRaw(rawSort);
  const traceparent = req.headers.traceparent;
  if (typeof traceparent === 'string') entry.traceparent = traceparent;

  const send = (status: number, body?: string, headers: Record<string, string> = {}): void => {
    entry.status = status;
    ctx.log(entry);
    if (res.destroyed) return;
    if (body === undefined) {
      res.writeHead(status, headers);
      res.end();
      return;
    }
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers });
    res.end(body);
  };

  // JOB_PATH is a prefix of JOBSESSION_PATH: both the job and the session endpoints are lists.
  const isList = path.startsWith(JOB_PATH) || path.startsWith(LOG_PATH);
  // The fault is chosen on arrival so that failNext order follows request order, whatever the latency.
  const fault = ctx.faults.take(path, method);
  if (isList) {
    const { fixedMs, jitterMs } = ctx.settings.latency;
    const ms = fixedMs + (jitterMs > 0 ? ctx.rng() * jitterMs : 0);
    if (ms > 0 && !(await ctx.delay(ms))) return;
  }
  if (fault) {
    applyFault(ctx, fault, req, res, entry, send);
    return;
  }

  if (path === PING_PATH) {
    if (method !== 'GET' && method !== 'HEAD') return send(405, errorBody('XSBMethodNotAllowedException', `${method} is not supported on ${path}.`));
    return send(200, JSON.stringify({ version: SPP_VERSION, build: SPP_BUILD, productName: 'IBM Spectrum Protect Plus', simulator: true }));
  }

  if (path === SESSION_PATH) {
    if (method === 'POST') {
      const user = ctx.logins.authenticateBasic(req.headers.authorization);
      if (!user) {
        return send(401, errorBody('XSBAuthenticationException', 'Authentication failed: the user name or password is not valid.'));
      }
      entry.user = user.username;
      return send(200, JSON.stringify(loginResponse(ctx, req, user, ctx.logins.create(user))));
    }
    if (method === 'DELETE') {
      const auth = authenticate(ctx, req);
      if (!auth.ok) return send(401, auth.body);
      entry.user = auth.user.username;
      ctx.logins.delete(headerValue(req.headers['x-endeavour-sessionid'])!);
      return send(204);
    }
    return send(405, errorBody('XSBMethodNotAllowedException', `${method} is not supported on ${path}.`));
  }

  if (!path.startsWith('/api/')) {
    return send(404, errorBody('XSBObjectNotFoundException', `No resource at ${path}.`));
  }

  // Everything else under /api needs a session, checked before the route (as SPP does).
  const auth = authenticate(ctx, req);
  if (!auth.ok) return send(401, auth.body);
  const user = auth.user;
  entry.user = user.username;

  const visible = (type: unknown): boolean => user.allowedTypes === undefined || user.allowedTypes.includes(String(type));
  const getOnly = (): boolean => {
    if (method === 'GET') return true;
    send(405, errorBody('XSBMethodNotAllowedException', `${method} is not supported on ${path}.`));
    return false;
  };
  const answer = (body: () => string): void => {
    try {
      send(200, body());
    } catch (error) {
      if (error instanceof QueryParamError) return send(400, errorBody('XSBInvalidArgumentException', error.message));
      throw error;
    }
  };

  if (path === JOBSESSION_PATH || path === `${JOBSESSION_PATH}/`) {
    if (!getOnly()) return;
    return answer(() => {
      const filter = compileFilters(parseJsonArrayParam('filter', params.get('filter')));
      const sorts = normalizeSorts(parseJsonArrayParam('sort', params.get('sort')));
      const all = ctx.store.query({ filter, sorts, allowedTypes: user.allowedTypes, now: ctx.clock() });
      // APAR IT45897: affected builds report total 0 on jobsession.
      return listBody(ctx, req, params, JOBSESSION_PATH, 'sessions', all, ctx.settings.quirks.totalAlwaysZero, (r) => sessionJson(ctx, user, r));
    });
  }

  if (path === STATS_PATH || path === `${STATS_PATH}/`) {
    if (!getOnly()) return;
    return answer(() => {
      const filter = compileFilters(parseJsonArrayParam('filter', params.get('filter')));
      const now = ctx.clock();
      const sessions = ctx.store.query({ filter, sorts: normalizeSorts([]), allowedTypes: user.allowedTypes, now });
      return JSON.stringify(sessionStats(sessions, filter.range, now));
    });
  }

  const m = JOBSESSION_RECORD.exec(path);
  if (m) {
    if (method !== 'POST' && !getOnly()) return;
    const id = decodeSegment(m[1]!);
    const record = ctx.store.get(id);
    if (!record) return send(404, errorBody('XSBObjectNotFoundException', `Job session ${id} was not found.`));
    if (!visible(record.type)) {
      // Nobody shows SPP's exact 403 body (spp-api.md §1); this keeps the documented error shape.
      return send(403, errorBody('XSBAccessDeniedException', `User ${user.username} is not permitted to access job session ${id}.`));
    }
    if (method === 'POST') return sessionAction(ctx, user, record, params.get('action'), await body, send);
    return send(200, sessionJson(ctx, user, record));
  }

  if (path === JOB_PATH || path === `${JOB_PATH}/`) {
    if (!getOnly()) return;
    return answer(() => {
      const filter = compileFilters(parseJsonArrayParam('filter', params.get('filter')), JOB_FIELD_SET);
      // SPP's default order of jobs is undocumented; by name is what its UI shows [INF].
      const sorts = normalizeSorts(parseJsonArrayParam('sort', params.get('sort')), { property: 'name', direction: 'ASC' });
      const jobs = ctx.store.jobs(ctx.clock()).filter((j) => visible(j.type) && filter.test(j));
      return listBody(ctx, req, params, JOB_PATH, 'jobs', sortSessions(jobs, sorts), false, (r) => JSON.stringify(forRole(user, r)));
    });
  }

  const j = JOB_RECORD.exec(path);
  if (j) {
    if (method !== 'POST' && !getOnly()) return;
    const id = decodeSegment(j[1]!);
    const job = ctx.store.jobs(ctx.clock()).find((r) => r.id === id);
    if (!job) return send(404, errorBody('XSBObjectNotFoundException', `Job ${id} was not found.`));
    if (!visible(job.type)) return send(403, errorBody('XSBAccessDeniedException', `User ${user.username} is not permitted to access job ${id}.`));
    if (method === 'POST') return startJob(ctx, user, job, params, await body, send);
    if (params.get('schema') === 'true' && params.get('action') === 'start') {
      const schema = startSchema(JOBS_BY_ID.get(id)!);
      if (!schema) return send(404, errorBody('XSBObjectNotFoundException', `Job ${id} has no start schema.`));
      return send(200, JSON.stringify(schema));
    }
    return send(200, JSON.stringify(forRole(user, job)));
  }

  if (path === LOG_PATH || path === `${LOG_PATH}/`) {
    if (!getOnly()) return;
    return answer(() => {
      const raw = parseJsonArrayParam('filter', params.get('filter'));
      // messageId is accepted and silently not applied, as SPPMon found (spp-api.md §3, §8 q14).
      const filter = compileFilters(raw, LOG_FIELD_SET, IGNORED_LOG_FILTERS);
      const sorts = normalizeSorts(parseJsonArrayParam('sort', params.get('sort')), { property: 'logTime', direction: 'ASC' });
      const sessionIds = logSessionIds(raw);
      if (sessionIds === undefined) {
        // A real SPP would page through every log it holds; generating that would defeat the lazy logs.
        throw new QueryParamError('filter', 'The simulator answers log/job only with a jobsessionId filter (= or IN), as every SPP client sends.');
      }
      const entries: SimRecord[] = [];
      for (const id of sessionIds) {
        const session = ctx.store.get(id);
        // RBAC: the logs of sessions the user may not see are not there for them (as the session list).
        if (!session || !visible(session.type)) continue;
        for (const e of ctx.store.logs.entriesOf(session)) if (filter.test(e)) entries.push(e);
      }
      return listBody(
        ctx,
        req,
        params,
        LOG_PATH,
        'logs',
        sessionIds.length === 1 && isDefaultLogOrder(sorts) ? entries : sortSessions(entries, sorts),
        false,
        (r) => JSON.stringify(r),
      );
    });
  }

  return send(404, errorBody('XSBObjectNotFoundException', `No resource at ${path}.`));
}

/** An action's body, at most 64 KiB (the simulator's own bound). */
function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      if (text.length < 65_536) text += chunk;
    });
    req.on('end', () => resolve(text));
    req.on('error', () => resolve(''));
  });
}

type AuthResult = { ok: true; user: SimulatorUser } | { ok: false; body: string };

function authenticate(ctx: HandlerContext, req: IncomingMessage): AuthResult {
  // Node lower-cases header names, so `x-endeavour-sessionid` (PY2, ECX) works as well.
  const lookup = ctx.logins.touch(headerValue(req.headers['x-endeavour-sessionid']));
  if (lookup.ok) return lookup;
  return lookup.reason === 'missing'
    ? {
        ok: false,
        body: errorBody('XSBMissingSessionidException', 'The request has no X-Endeavour-Sessionid header. Log in with POST /api/endeavour/session first.'),
      }
    : { ok: false, body: errorBody('XSBSessionDoesNotExistException', 'The session does not exist or has expired. Log in again.') };
}

function applyFault(
  ctx: HandlerContext,
  fault: SimFault,
  req: IncomingMessage,
  res: ServerResponse,
  entry: SimRequestLogEntry,
  send: (status: number, body?: string, headers?: Record<string, string>) => void,
): void {
  switch (fault.kind) {
    case 'status': {
      const headers: Record<string, string> = {};
      if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
      send(fault.status, JSON.stringify(fault.body ?? defaultFaultBody(fault.status)), headers);
      return;
    }
    case 'hang':
      entry.status = 0;
      ctx.log(entry);
      ctx.hold(res);
      return;
    case 'drop':
      entry.status = 0;
      ctx.log(entry);
      req.socket.destroy();
      return;
  }
}

function baseUrl(ctx: HandlerContext, req: IncomingMessage): string {
  return `${ctx.protocol}://${req.headers.host ?? ctx.fallbackHost}`;
}

function loginResponse(ctx: HandlerContext, req: IncomingMessage, user: SimulatorUser, sessionid: string): SppLoginResponse {
  const userId = String(1000 + ctx.logins.allUsers().indexOf(user));
  return {
    sessionid,
    user: {
      links: { self: { href: `${baseUrl(ctx, req)}/api/security/user/${userId}`, rel: 'self' } },
      name: user.username,
      type: 'NATIVE_USER',
      typeDisplayName: 'Native User',
      id: userId,
    },
    demo: false,
  };
}

/**
 * `GET /api/endeavour/jobsession`: `{links, total, page, sessions}` with absolute paging links
 * that carry the whole query, which SPPMon re-reads when it follows nextPage (spp-api.md §2.2).
 */
function listBody<R extends SimRecord>(
  ctx: HandlerContext,
  req: IncomingMessage,
  params: URLSearchParams,
  path: string,
  recordsKey: string,
  all: readonly R[],
  totalZero: boolean,
  toJson: (record: R) => string,
): string {
  const { quirks, maxPageSize } = ctx.settings;
  const pageStartIndex = parseIntParam('pageStartIndex', params.get('pageStartIndex'), 0, 0);
  const pageSize = quirks.ignorePageSize ? DEFAULT_PAGE_SIZE : Math.min(parseIntParam('pageSize', params.get('pageSize'), DEFAULT_PAGE_SIZE, 1), maxPageSize);
  const page = all.slice(pageStartIndex, pageStartIndex + pageSize);
  const w = pageWindow(all.length, pageStartIndex, pageSize);

  const base = `${baseUrl(ctx, req)}${path}`;
  const href = (start: number): string => {
    const q = new URLSearchParams(params);
    q.set('pageStartIndex', String(start));
    // With the page-size quirk the server ignores pageSize, so it just echoes what it got.
    if (!quirks.ignorePageSize || !q.has('pageSize')) q.set('pageSize', String(pageSize));
    return `${base}?${q.toString()}`;
  };
  const links: SppLinks = { self: { href: href(pageStartIndex), rel: 'related' }, firstPage: { href: href(0), rel: 'related' } };
  if (w.prevStart !== undefined) links.prevPage = { href: href(w.prevStart), rel: 'related' };
  if (w.nextStart !== undefined) links.nextPage = { href: href(w.nextStart), rel: 'related' };
  links.lastPage = { href: href(w.lastStart), rel: 'related' };

  // APAR IT45897: affected builds report total 0; the links above still reflect the real count.
  const total = totalZero ? 0 : all.length;
  let records = '';
  for (let i = 0; i < page.length; i++) records += (i === 0 ? '' : ',') + toJson(page[i]!);
  return `{"links":${JSON.stringify(links)},"total":${total},"page":${w.page},"${recordsKey}":[${records}]}`;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The session ids a log request names (`jobsessionId` = or IN, as a number or a digit string); undefined when it names none. */
function logSessionIds(filters: readonly unknown[]): string[] | undefined {
  for (const f of filters) {
    if (typeof f !== 'object' || f === null) continue;
    const { property, value, op } = f as { property?: unknown; value?: unknown; op?: unknown };
    if (property !== 'jobsessionId') continue;
    const upper = typeof op === 'string' ? op.trim().toUpperCase() : '=';
    if ((upper === '=' || op === undefined || op === '') && (typeof value === 'string' || typeof value === 'number')) return [String(value)];
    if (upper === 'IN' && Array.isArray(value)) return [...new Set(value.map(String))];
  }
  return undefined;
}

/** A session's log is kept in (logTime, id) order already. */
function isDefaultLogOrder(sorts: readonly { property: string; direction: string }[]): boolean {
  return sorts.length === 1 && sorts[0]!.property === 'logTime' && sorts[0]!.direction === 'ASC';
}
