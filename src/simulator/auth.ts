/**
 * SPP login sessions (docs/spp-api.md#sessions-and-login): HTTP Basic on `POST /api/endeavour/session` yields a
 * 32-hex-digit session id that every later call sends as `X-Endeavour-Sessionid`.
 *
 * The 45-minute validity is treated as an *idle* timeout refreshed by each authenticated
 * request (IBM's "do nothing for 45 minutes and you will log out"; docs/spp-api.md#open-questions).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

export interface SimulatorUser {
  username: string;
  password: string;
  /** SPP RBAC stand-in: job `type`s this user may see; undefined = all */
  allowedTypes?: string[];
  /**
   * SPP RBAC stand-in for actions (start, cancel, rerun, expire): job `type`s this user may act
   * on; undefined = every type it may see. Action links are advertised only where it may act.
   */
  actionTypes?: string[];
}

/** May `user` act on a record of job `type`? (It must also see it.) */
export function mayAct(user: SimulatorUser, type: unknown): boolean {
  const t = String(type);
  if (user.allowedTypes !== undefined && !user.allowedTypes.includes(t)) return false;
  return user.actionTypes === undefined || user.actionTypes.includes(t);
}

export const DEFAULT_USERS: readonly SimulatorUser[] = [
  { username: 'admin', password: 'admin-password' },
  { username: 'catalog-operator', password: 'catalog-password', allowedTypes: ['catalog'] },
  // Sees every job and session, may act on none (a read-only monitoring role).
  { username: 'monitor', password: 'monitor-password', actionTypes: [] },
];

export const DEFAULT_SESSION_IDLE_MS = 45 * 60_000;

interface LoginSession {
  user: SimulatorUser;
  lastSeen: number;
}

export type SessionLookup = { ok: true; user: SimulatorUser } | { ok: false; reason: 'missing' | 'unknown' };

export class LoginSessions {
  private readonly sessions = new Map<string, LoginSession>();
  private readonly users: Map<string, SimulatorUser>;

  constructor(
    users: readonly SimulatorUser[],
    private readonly clock: () => number,
    public idleMs: number,
  ) {
    this.users = new Map(users.map((u) => [u.username, u]));
  }

  userNamed(name: string): SimulatorUser | undefined {
    return this.users.get(name);
  }

  allUsers(): SimulatorUser[] {
    return [...this.users.values()];
  }

  /** Checks an `Authorization: Basic …` header; returns the user or undefined. */
  authenticateBasic(header: string | undefined): SimulatorUser | undefined {
    if (header === undefined) return undefined;
    const match = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header);
    if (!match) return undefined;
    const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    const user = this.users.get(decoded.slice(0, colon));
    if (!user) return undefined;
    const given = Buffer.from(decoded.slice(colon + 1), 'utf8');
    const expected = Buffer.from(user.password, 'utf8');
    return given.length === expected.length && timingSafeEqual(given, expected) ? user : undefined;
  }

  create(user: SimulatorUser): string {
    if (this.sessions.size > 10_000) this.prune();
    const id = randomBytes(16).toString('hex');
    this.sessions.set(id, { user, lastSeen: this.clock() });
    return id;
  }

  /** Resolves a session id and refreshes its idle timer. */
  touch(sessionId: string | undefined): SessionLookup {
    if (sessionId === undefined || sessionId === '') return { ok: false, reason: 'missing' };
    const s = this.sessions.get(sessionId);
    if (!s) return { ok: false, reason: 'unknown' };
    const now = this.clock();
    if (now - s.lastSeen >= this.idleMs) {
      this.sessions.delete(sessionId);
      return { ok: false, reason: 'unknown' };
    }
    s.lastSeen = now;
    return { ok: true, user: s.user };
  }

  delete(sessionId: string): void {
    this.sessions.delete(sessionId);
  }

  clear(): void {
    this.sessions.clear();
  }

  private prune(): void {
    const now = this.clock();
    for (const [id, s] of this.sessions) if (now - s.lastSeen >= this.idleMs) this.sessions.delete(id);
  }
}
