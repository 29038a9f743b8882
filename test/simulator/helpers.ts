import type { SppErrorBody, SppJobSession, SppJobSessionList } from '../../src/spp-api/types.js';
import type { Simulator } from '../../src/simulator/index.js';

export const ADMIN = { username: 'admin', password: 'admin-password' } as const;
export const CATALOG_OPERATOR = { username: 'catalog-operator', password: 'catalog-password' } as const;

export function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

export async function login(sim: Simulator, user: { username: string; password: string } = ADMIN): Promise<string> {
  const res = await fetch(`${sim.url}/api/endeavour/session`, { method: 'POST', headers: { authorization: basic(user.username, user.password) } });
  if (res.status !== 200) throw new Error(`login failed: ${res.status}`);
  const body = (await res.json()) as { sessionid: string };
  return body.sessionid;
}

export interface ListQuery {
  pageStartIndex?: number | string;
  pageSize?: number | string;
  filter?: unknown;
  sort?: unknown;
}

/** Builds `/api/endeavour/jobsession?...`; filter/sort objects are JSON-encoded, strings sent as is. */
export function listPath(q: ListQuery = {}): string {
  const p = new URLSearchParams();
  if (q.pageStartIndex !== undefined) p.set('pageStartIndex', String(q.pageStartIndex));
  if (q.pageSize !== undefined) p.set('pageSize', String(q.pageSize));
  if (q.filter !== undefined) p.set('filter', typeof q.filter === 'string' ? q.filter : JSON.stringify(q.filter));
  if (q.sort !== undefined) p.set('sort', typeof q.sort === 'string' ? q.sort : JSON.stringify(q.sort));
  const s = p.toString();
  return `/api/endeavour/jobsession${s ? `?${s}` : ''}`;
}

export async function getJson<T>(
  sim: Simulator,
  path: string,
  sessionId: string | undefined,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const h: Record<string, string> = { accept: 'application/json', ...headers };
  if (sessionId !== undefined) h['X-Endeavour-Sessionid'] = sessionId;
  const res = await fetch(`${sim.url}${path}`, { headers: h });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, headers: res.headers };
}

export async function list(sim: Simulator, sessionId: string, q: ListQuery = {}): Promise<SppJobSessionList> {
  const r = await getJson<SppJobSessionList>(sim, listPath(q), sessionId);
  if (r.status !== 200) throw new Error(`list failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export async function listError(sim: Simulator, sessionId: string, q: ListQuery): Promise<{ status: number; body: SppErrorBody }> {
  return getJson<SppErrorBody>(sim, listPath(q), sessionId);
}

export const ids = (sessions: readonly SppJobSession[]): string[] => sessions.map((s) => s.id);
