/**
 * As whom the gateway speaks to each SPP server (issue 21). The Authenticator decides who the
 * caller is, once per request and for the whole gateway; this module turns that caller into one
 * SPP identity per server: the server's own service account, or the caller's own login there
 * (pass-through: the same credentials go to every server, whose directories are assumed to be the
 * same, and each server answers for itself).
 *
 * With one server (SPP_URL) everything here is keyed exactly as before issue 21, so shared logins
 * and revocations of replicas of either version agree.
 */
import type { GraphQLError } from 'graphql';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { ErrorCode, unauthenticated, upstreamMisconfigured } from '../errors.js';
import type { SharedState } from '../state/index.js';
import { forwardedSessionIdentity, LoginSession, loginIdentity, type UpstreamIdentity } from '../upstream/session.js';
import type { SppClient } from '../upstream/spp-client.js';

/** One SPP server as identities need it. */
export interface SppServerAccess {
  name: string;
  spp: SppClient;
  /** Service-account mode: this server's account. */
  serviceAccount?: { username: string; password: string };
}

/** The caller's identity on the named server. */
export type IdentityOn = (server: string) => UpstreamIdentity;

/** SPP session ids of one sign-in: the first server's, and the others' that accepted it. */
export interface SignedIn {
  first: string;
  others?: Readonly<Record<string, string>>;
}

interface ServerState extends SppServerAccess {
  session: LoginSession;
  service: UpstreamIdentity | undefined;
  /** When SPP last rejected the service account, and the error callers get meanwhile. */
  rejection: { at: number; error: GraphQLError } | undefined;
}

export interface SppLoginsOptions {
  state: SharedState;
  logger: Logger | undefined;
  rejectionBackoffMs: number;
  /** How long a pass-through Basic user's SPP session is kept (SPP's idle timeout less a minute). */
  basicTtlMs: number;
  maxCachedSessions: number;
}

export class SppLogins {
  private readonly servers: ServerState[];
  private readonly byName: Map<string, ServerState>;
  /** Pass-through Basic users: HMAC(user, password) (and server) → their shared SPP session. */
  private readonly basicSessions: LRUCache<string, LoginSession>;

  constructor(
    servers: readonly SppServerAccess[],
    private readonly options: SppLoginsOptions,
  ) {
    if (servers.length === 0) throw new Error('SppLogins needs at least one SPP server');
    this.servers = servers.map((s) => ({ ...s, session: new LoginSession(), service: undefined, rejection: undefined }));
    for (const server of this.servers) {
      const account = server.serviceAccount;
      if (account) server.service = loginIdentity('service-account', server.session, () => this.serviceLogin(server, account));
    }
    this.byName = new Map(this.servers.map((s) => [s.name, s]));
    // updateAgeOnGet mirrors SPP's idle (not absolute) expiry: each use extends the session.
    this.basicSessions = new LRUCache({ max: options.maxCachedSessions, ttl: options.basicTtlMs, updateAgeOnGet: true });
  }

  /** The first (default) server's client: sign-in, createSession. */
  get primary(): SppClient {
    return this.servers[0]!.spp;
  }

  /** The service account on each server; undefined in pass-through mode. */
  get service(): IdentityOn | undefined {
    if (!this.servers[0]!.service) return undefined;
    return (name) => this.named(name).service!;
  }

  /** Logs the service account in where it has no session yet (readiness); pass-through: nothing to do. */
  async ensureService(name = this.servers[0]!.name): Promise<void> {
    await this.named(name).service?.sessionId();
  }

  /** A pass-through Basic user: one SPP session per server, logged in on first use there and shared by every replica. */
  basic(key: string, username: string, password: string): IdentityOn {
    return (name) => {
      const server = this.named(name);
      const scoped = this.scoped(key, server);
      let session = this.basicSessions.get(scoped);
      if (!session) {
        session = new LoginSession();
        this.basicSessions.set(scoped, session);
      }
      const login = (stale?: string) =>
        this.options.state.once(`login ${scoped}`, async () => (await server.spp.login(username, password)).sessionid, {
          keepMs: this.options.basicTtlMs,
          ...(stale ? { reject: stale } : {}),
        });
      return loginIdentity(key, session, login);
    };
  }

  /** Whether a Basic user's SPP session on the first server is held (SPP accepted the password already). */
  basicHeld(key: string): boolean {
    return this.basicSessions.get(key)?.peek() !== undefined;
  }

  /** A forwarded X-Endeavour-Sessionid: the same id to every server; a server that does not know it refuses, for itself. */
  forwarded(key: string, sessionId: string): IdentityOn {
    return () => forwardedSessionIdentity(key, sessionId);
  }

  /** A createSession token's or session cookie's SPP sessions: each server gets its own; a server that refused the sign-in, UNAUTHENTICATED. */
  signedIn(key: string, ids: SignedIn): IdentityOn {
    return (name) => {
      const server = this.named(name);
      const id = server === this.servers[0] ? ids.first : ids.others?.[server.name];
      if (id !== undefined) return forwardedSessionIdentity(key, id);
      const refused = unauthenticated(
        `SPP server "${server.name}" did not accept this sign-in (its directory may not know the user): sign in again to read it.`,
      );
      return { key, sessionId: () => Promise.reject(refused), renew: () => Promise.resolve(null) };
    };
  }

  /**
   * Logs a user in to every server at once (sign-in, createSession). The first server decides:
   * its refusal is the caller's answer; another server's refusal only leaves that server out.
   */
  async logIn(username: string, password: string): Promise<{ ids: SignedIn; user: { name: string; type: string | null } }> {
    const [first, ...rest] = this.servers;
    const [login, ...others] = await Promise.allSettled([first!, ...rest].map((s) => s.spp.login(username, password)));
    if (login!.status === 'rejected') {
      // Sessions the other servers opened meanwhile are not kept: log them out.
      for (const [i, other] of others.entries()) if (other.status === 'fulfilled') void rest[i]!.spp.logout(other.value.sessionid);
      throw login!.reason;
    }
    const accepted: Record<string, string> = {};
    for (const [i, other] of others.entries()) {
      if (other.status === 'fulfilled') accepted[rest[i]!.name] = other.value.sessionid;
      else
        this.options.logger?.info(
          { server: rest[i]!.name, username },
          'an SPP server refused a sign-in the first server accepted: it is left out of that session',
        );
    }
    const { user } = login!.value;
    return {
      ids: { first: login!.value.sessionid, ...(rest.length > 0 ? { others: accepted } : {}) },
      user: { name: typeof user?.name === 'string' ? user.name : username, type: typeof user?.type === 'string' ? user.type : null },
    };
  }

  /** Logs a sign-in's sessions out everywhere; true when every server confirmed. */
  async logOut(ids: SignedIn): Promise<boolean> {
    const outcomes = await Promise.all([
      this.servers[0]!.spp.logout(ids.first),
      ...Object.entries(ids.others ?? {}).map(([name, id]) => this.byName.get(name)?.spp.logout(id) ?? Promise.resolve(true)),
    ]);
    return outcomes.every(Boolean);
  }

  /**
   * Logs the service accounts' SPP sessions out (shutdown), within `budgetMs`: an SPP that does
   * not answer must not keep the process alive (the logout is abandoned, SPP expires the session).
   */
  async close(budgetMs: number): Promise<void> {
    await Promise.all(
      this.servers.map(async (server) => {
        const sessionId = server.session.peek();
        if (!sessionId) return;
        let timer: NodeJS.Timeout | undefined;
        const expired = new Promise<'expired'>((resolve) => {
          timer = setTimeout(() => resolve('expired'), budgetMs);
          timer.unref();
        });
        const outcome = await Promise.race([server.spp.logout(sessionId), expired]);
        clearTimeout(timer);
        if (outcome === 'expired') {
          this.options.logger?.warn({ budgetMs, server: server.name }, 'SPP did not answer the logout in time; the service account session is left to expire');
        }
      }),
    );
  }

  /**
   * A service account's login. SPP rejecting it (or answering 404 because the URL points
   * elsewhere) is the operator's fault: callers get 503 UPSTREAM_MISCONFIGURED, never 401 (a
   * mobile app would sign its user out for the operator's typo). For rejectionBackoffMs no new
   * login is tried, so a wrong password does not lock the account with a login per request.
   */
  private async serviceLogin(server: ServerState, account: { username: string; password: string }): Promise<string> {
    const { logger } = this.options;
    if (server.rejection && Date.now() - server.rejection.at < this.options.rejectionBackoffMs) throw server.rejection.error;
    const where = this.servers.length > 1 ? { server: server.name } : {};
    try {
      const { sessionid } = await server.spp.login(account.username, account.password);
      if (server.rejection) logger?.info({ username: account.username, ...where }, 'SPP accepts the service account again');
      server.rejection = undefined;
      return sessionid;
    } catch (error) {
      const code = (error as GraphQLError).extensions?.code;
      if (code !== ErrorCode.UNAUTHENTICATED && code !== ErrorCode.FORBIDDEN && code !== ErrorCode.NOT_FOUND) throw error;
      const named = this.servers.length > 1 ? `SPP server "${server.name}" (SPP_SERVERS_FILE)` : undefined;
      logger?.error(
        { username: account.username, upstreamCode: code, ...where },
        code === ErrorCode.NOT_FOUND
          ? `SPP has no login endpoint at ${named ? `the url of ${named}` : 'SPP_URL'}: check that ${named ? 'it' : 'SPP_URL'} is SPP's base URL (https://spp.example.com); callers get 503 UPSTREAM_MISCONFIGURED`
          : `SPP rejected the service account: check ${named ? `the username and passwordEnv of ${named}` : 'SPP_USERNAME and SPP_PASSWORD'}; callers get 503 UPSTREAM_MISCONFIGURED`,
      );
      const misconfigured = upstreamMisconfigured(error);
      server.rejection = { at: Date.now(), error: misconfigured };
      throw misconfigured;
    }
  }

  private named(name: string): ServerState {
    const server = this.byName.get(name);
    // Server names come from the context, which refuses unknown ones first: this is the gateway's own fault.
    if (!server) throw new Error(`no SPP server named ${JSON.stringify(name)}`);
    return server;
  }

  /** The first server keeps the key it had with one server; the others' name themselves. */
  private scoped(key: string, server: ServerState): string {
    return server === this.servers[0] ? key : `${key}@${server.name}`;
  }
}
