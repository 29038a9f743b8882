/**
 * SPP login sessions, and who the gateway speaks as when it calls SPP.
 *
 * SPP authenticates every call with `X-Endeavour-Sessionid`, obtained by
 * `POST /api/endeavour/session` with HTTP Basic and valid for 45 idle minutes
 * (docs/spp-api.md#sessions-and-login). A session provider hands out the current session id and, after
 * SPP answered 401, logs in again: once, however many requests are waiting for it.
 */

/** Who a request speaks as upstream. `key` separates caches and in-flight sharing between identities. */
export interface UpstreamIdentity {
  /** Opaque and non-secret: a keyed hash, never a password or a session id. */
  readonly key: string;
  /** The session id to send now (logs in when there is none yet). */
  sessionId(): Promise<string>;
  /**
   * Called after SPP answered 401 to `stale`. Resolves to a fresh session id to retry with,
   * or null when this identity cannot log in again (a forwarded session id).
   */
  renew(stale: string): Promise<string | null>;
}

/**
 * A session obtained with a username and password, shared by every request that speaks
 * as that user. Concurrent callers share one login (single flight); a renew for a session
 * that was already replaced returns the replacement without logging in again.
 *
 * The login function is given at each call rather than kept, so that a pass-through
 * caller's password lives only as long as that caller's request.
 */
export class LoginSession {
  private current: string | undefined;
  private pending: Promise<string> | undefined;

  sessionId(login: () => Promise<string>): Promise<string> {
    if (this.current !== undefined) return Promise.resolve(this.current);
    return this.loginOnce(login);
  }

  renew(stale: string, login: () => Promise<string>): Promise<string> {
    if (this.current !== undefined && this.current !== stale) return Promise.resolve(this.current);
    this.current = undefined;
    return this.loginOnce(login);
  }

  /** The session id currently held, if any (for logout). */
  peek(): string | undefined {
    return this.current;
  }

  private loginOnce(login: () => Promise<string>): Promise<string> {
    this.pending ??= login().then(
      (id) => {
        this.current = id;
        this.pending = undefined;
        return id;
      },
      (error: unknown) => {
        this.pending = undefined;
        throw error;
      },
    );
    return this.pending;
  }
}

/**
 * `login` is told the session id SPP just refused, if any: a login shared by several replicas
 * (src/state/) must not hand back that one.
 */
export function loginIdentity(key: string, session: LoginSession, login: (stale?: string) => Promise<string>): UpstreamIdentity {
  return {
    key,
    sessionId: () => session.sessionId(() => login()),
    renew: (stale) => session.renew(stale, () => login(stale)),
  };
}

/** A caller's own SPP session id, forwarded as is: SPP decides; it cannot be renewed here. */
export function forwardedSessionIdentity(key: string, sessionId: string): UpstreamIdentity {
  return {
    key,
    sessionId: () => Promise.resolve(sessionId),
    renew: () => Promise.resolve(null),
  };
}
