/**
 * Browser sessions: the backend-for-frontend pattern (IETF "OAuth 2.0 for Browser-Based
 * Applications"). The browser holds an HttpOnly cookie and never a credential; the gateway holds
 * the SPP session (pass-through) or acts as its service account (OIDC).
 *
 * The cookie is sealed (AES-256-GCM under a sub-key of SESSION_SECRET), not a lookup key: every
 * replica opens it without a round trip, and the browser cannot read or alter what is inside
 * (the SPP session id among it). It carries when the person signed in (the absolute lifetime,
 * SESSION_MAX_MS) and when the session was last used (the idle timeout, SESSION_IDLE_MS); the
 * gateway re-issues it at most once a minute while it is used, so the idle clock moves without a
 * write per request.
 *
 * Sign-out is a revocation every replica honours (./revocations.ts): the session's id is kept in
 * the shared state until the session could have ended anyway, and announced; a replica cut off
 * when it was announced, or started later, reads it. In pass-through mode sign-out also logs the
 * SPP session out, which SPP then refuses everywhere.
 *
 * Cookie attributes: `__Host-` prefix (no Domain, Path=/, Secure: no sibling host or path can
 * set or shadow it), HttpOnly, SameSite=Lax. Plain http://localhost (development) cannot carry
 * Secure cookies in every browser, so there the cookie is neither Secure nor `__Host-` prefixed.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { Sealer, type SharedState } from '../state/index.js';
import type { Role } from './caller.js';
import { Revocations } from './revocations.js';

export const SECURE_COOKIE = '__Host-spp-gateway-session';
export const LOCAL_COOKIE = 'spp-gateway-session';
const AAD = 'browser session';
const PREFIX = 'v1.';
/** The shared record of signed-out sessions (./revocations.ts). */
const REVOKED_SESSIONS = 'revoked browser sessions';
/** The cookie is re-issued (moving the idle clock) when it was last issued longer ago than this. */
const REFRESH_AFTER_MS = 60_000;

/** What a session cookie holds, sealed. */
export interface SessionContent {
  /** Random id: what a sign-out revokes. */
  id: string;
  /** How the person signed in: SPP credentials (pass-through) or the OIDC code flow. */
  via: 'spp' | 'oidc';
  /** Pass-through: the SPP session id. */
  spp?: string;
  /** Pass-through over several SPP servers (issue 21): the other servers' session ids, by name. */
  sppOn?: Record<string, string>;
  /** SPP user name or OIDC `sub`. */
  sub: string;
  /** Name or e-mail when known. */
  display?: string;
  /** SPP's user type (pass-through). */
  type?: string | null;
  roles: readonly Role[];
  /** Signed in at (ms). */
  at: number;
  /** Last issued (ms): the idle clock. */
  seen: number;
}

export interface SessionTimes {
  /** When the session ends unless used before (idle). */
  idleEndsAt: number;
  /** When it ends however used (absolute). */
  endsAt: number;
}

/** Whether the request reached the gateway as plain http on a loopback name (development): no Secure cookie. */
export function isPlainLocalhost(req: IncomingMessage): boolean {
  if ((req.socket as { encrypted?: boolean }).encrypted) return false;
  const proto = req.headers['x-forwarded-proto'];
  if (typeof proto === 'string' && proto.split(',')[0]!.trim().toLowerCase() === 'https') return false;
  const host = (req.headers.host ?? '').toLowerCase();
  return /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/.test(host);
}

/** The value of cookie `name` in a Cookie header (RFC 6265 §5.4), or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export class BrowserSessions {
  private readonly sealer: Sealer;
  private readonly revoked: Revocations;

  constructor(
    secret: Buffer,
    state: SharedState,
    readonly idleMs: number,
    readonly maxMs: number,
  ) {
    this.sealer = new Sealer(secret, 'browser sessions');
    this.revoked = new Revocations(state, REVOKED_SESSIONS, maxMs, 100_000);
  }

  /** Whether the request carries a session cookie at all (valid or not). */
  carried(headers: IncomingHttpHeaders): boolean {
    return this.rawCookie(headers) !== undefined;
  }

  /**
   * The session in the request's cookie: its content, 'ended' (expired, revoked, sealed by
   * another secret or altered), or undefined without a cookie.
   */
  read(headers: IncomingHttpHeaders, now = Date.now()): SessionContent | 'ended' | undefined {
    const content = this.opened(headers);
    if (content === undefined) return undefined;
    if (content === null || this.revoked.has(content.id)) return 'ended';
    const times = this.timesOf(content);
    if (now >= times.idleEndsAt || now >= times.endsAt) return 'ended';
    return content;
  }

  /**
   * The cookie's content whatever its times, or undefined without a cookie that opens: what a
   * sign-out revokes, since a session past its idle time may still feed a live view (see
   * Authenticator.signOut).
   */
  sealed(headers: IncomingHttpHeaders): SessionContent | undefined {
    return this.opened(headers) ?? undefined;
  }

  /**
   * For the cookie's session: a check of whether it was signed out since (on any replica) or
   * reached its absolute end (SESSION_MAX_MS, which no use extends); undefined without a cookie
   * that opens.
   */
  signOutCheck(headers: IncomingHttpHeaders): (() => boolean) | undefined {
    const content = this.opened(headers);
    if (!content) return undefined;
    const { endsAt } = this.timesOf(content);
    return () => this.revoked.has(content.id) || Date.now() >= endsAt;
  }

  /** The cookie's content as sealed; null for a cookie that does not open (another secret, altered), undefined without one. */
  private opened(headers: IncomingHttpHeaders): SessionContent | null | undefined {
    const raw = this.rawCookie(headers);
    if (raw === undefined) return undefined;
    const opened = raw.startsWith(PREFIX) ? this.sealer.open(raw.slice(PREFIX.length), AAD) : null;
    return opened === null ? null : (JSON.parse(opened) as SessionContent);
  }

  timesOf(content: SessionContent): SessionTimes {
    const endsAt = content.at + this.maxMs;
    return { idleEndsAt: Math.min(endsAt, content.seen + this.idleMs), endsAt };
  }

  /** A new session's content (signed in now). */
  start(fields: Omit<SessionContent, 'id' | 'at' | 'seen'>, now = Date.now()): SessionContent {
    return { ...fields, id: randomBytes(16).toString('base64url'), at: now, seen: now };
  }

  /** The Set-Cookie header value carrying `content` (its idle clock set to now). */
  cookie(req: IncomingMessage, content: SessionContent, now = Date.now()): string {
    const local = isPlainLocalhost(req);
    const sealed = PREFIX + this.sealer.seal(JSON.stringify({ ...content, seen: now }), AAD);
    const maxAge = Math.max(0, Math.round((content.at + this.maxMs - now) / 1000));
    return `${local ? LOCAL_COOKIE : SECURE_COOKIE}=${sealed}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${local ? '' : '; Secure'}`;
  }

  /** The re-issued cookie when the idle clock should move, else undefined. */
  refreshed(req: IncomingMessage, content: SessionContent, now = Date.now()): string | undefined {
    return now - content.seen >= REFRESH_AFTER_MS ? this.cookie(req, content, now) : undefined;
  }

  /** The Set-Cookie header value that removes the cookie. */
  cleared(req: IncomingMessage): string {
    const local = isPlainLocalhost(req);
    return `${local ? LOCAL_COOKIE : SECURE_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax${local ? '' : '; Secure'}`;
  }

  close(): void {
    this.revoked.close();
  }

  /** Settles once the shared record of sign-outs was read (or found unreachable) at start. */
  get firstRead(): Promise<void> {
    return this.revoked.firstRead;
  }

  /** Whether `content`'s session was signed out already (on any replica). */
  revokedAlready(content: SessionContent): boolean {
    return this.revoked.has(content.id);
  }

  /** Ends the session on every replica. */
  async revoke(content: SessionContent): Promise<void> {
    await this.revoked.revoke(content.id);
  }

  private rawCookie(headers: IncomingHttpHeaders): string | undefined {
    return cookieValue(headers.cookie, SECURE_COOKIE) ?? cookieValue(headers.cookie, LOCAL_COOKIE);
  }
}
