/**
 * Who is calling, and as whom the gateway speaks to SPP for them.
 *
 * Two modes (README "Security"):
 * - service account (SPP_USERNAME + SPP_PASSWORD): the gateway logs in once and speaks as
 *   that account; callers prove they may use it with `Authorization: Bearer <token>`, the
 *   token being one of GATEWAY_TOKENS, or not at all when GATEWAY_ALLOW_ANONYMOUS=true.
 * - pass-through (SPP_URL without SPP_USERNAME): each caller brings an SPP identity and SPP's
 *   own roles decide what it sees: `Authorization: Basic` (the gateway logs in for that user
 *   and reuses the SPP session), `X-Endeavour-Sessionid` (forwarded), or a Bearer token from
 *   the `createSession` mutation.
 *
 * Identities are keyed by an HMAC of the credential under a per-process random key: the key
 * separates caches and in-flight sharing between callers, and no secret is kept in clear.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { LRUCache } from 'lru-cache';
import type { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { ErrorCode, unauthenticated, upstreamMisconfigured } from '../errors.js';
import type { SppClient } from '../upstream/spp-client.js';
import { forwardedSessionIdentity, LoginSession, loginIdentity, type UpstreamIdentity } from '../upstream/session.js';

export type AuthMode = 'service-account' | 'pass-through';

/**
 * Who is calling, for actions (src/actions/): `key` separates idempotency keys between callers
 * (a keyed hash, non-secret), `name` goes in audit lines (a user name, or a token's fingerprint,
 * never a credential). In service-account mode every caller speaks to SPP as the same account,
 * yet each gateway token is its own actor.
 */
export interface Actor {
  key: string;
  name: string;
  anonymous: boolean;
}

export type AuthOutcome = { identity: UpstreamIdentity; actor: Actor } | { error: GraphQLError };

export interface AuthenticatorOptions {
  mode: AuthMode;
  spp: SppClient;
  /** Service-account mode: the SPP account. */
  serviceAccount?: { username: string; password: string };
  /** Service-account mode: accepted bearer tokens (GATEWAY_TOKENS). */
  tokens?: string[];
  allowAnonymous?: boolean;
  /** SPP's idle session timeout (45 minutes, spp-api.md §1); cached sessions are dropped a minute before. */
  sppSessionIdleMs: number;
  /** Most pass-through users and gateway tokens held at once. */
  maxCachedSessions?: number;
  /** Where a rejected service account is reported (an operator's fault, so an error). */
  logger?: Logger;
  /** After SPP rejected the service account, callers fail fast for this long without another login attempt. */
  rejectionBackoffMs?: number;
}

export interface GatewaySessionInfo {
  token: string;
  expiresAt: number;
  user: { name: string; type: string | null };
}

interface TokenEntry {
  sppSessionId: string;
  user: { name: string; type: string | null };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest();

export class Authenticator {
  readonly mode: AuthMode;
  private readonly hmacKey = randomBytes(32);
  private readonly spp: SppClient;
  private readonly serviceSession = new LoginSession();
  private readonly serviceIdentity: UpstreamIdentity | undefined;
  private readonly tokenDigests: Buffer[];
  private readonly allowAnonymous: boolean;
  private readonly idleMs: number;
  /** Pass-through Basic users: HMAC(user, password) → their shared SPP session. */
  private readonly basicSessions: LRUCache<string, LoginSession>;
  /** Gateway session tokens from createSession: HMAC(token) → SPP session. */
  private readonly gatewayTokens: LRUCache<string, TokenEntry>;
  /** Each request's outcome, keyed by its headers object (one per request). */
  private readonly outcomes = new WeakMap<IncomingHttpHeaders, AuthOutcome>();
  private readonly logger: Logger | undefined;
  private readonly rejectionBackoffMs: number;
  /** When SPP last rejected the service account, and the error callers get meanwhile. */
  private rejection: { at: number; error: GraphQLError } | undefined;

  constructor(options: AuthenticatorOptions) {
    this.mode = options.mode;
    this.spp = options.spp;
    this.allowAnonymous = options.allowAnonymous ?? false;
    this.tokenDigests = (options.tokens ?? []).map(sha256);
    this.idleMs = options.sppSessionIdleMs;
    this.logger = options.logger;
    this.rejectionBackoffMs = options.rejectionBackoffMs ?? 10_000;
    const ttl = Math.max(1_000, options.sppSessionIdleMs - 60_000);
    const max = options.maxCachedSessions ?? 10_000;
    // updateAgeOnGet mirrors SPP's idle (not absolute) expiry: each use extends the session.
    this.basicSessions = new LRUCache({ max, ttl, updateAgeOnGet: true });
    this.gatewayTokens = new LRUCache({ max, ttl: options.sppSessionIdleMs, updateAgeOnGet: true });
    if (options.mode === 'service-account') {
      const account = options.serviceAccount;
      if (!account) throw new Error('service-account mode needs an SPP account');
      this.serviceIdentity = loginIdentity('service-account', this.serviceSession, () => this.serviceLogin(account));
    }
  }

  /**
   * The service account's login. SPP rejecting it (or answering 404 because SPP_URL points
   * elsewhere) is the operator's fault: callers get 503 UPSTREAM_MISCONFIGURED, never 401 (a
   * mobile app would sign its user out for the operator's typo). For rejectionBackoffMs no new
   * login is tried, so a wrong password does not lock the account with a login per request.
   */
  private async serviceLogin(account: { username: string; password: string }): Promise<string> {
    if (this.rejection && Date.now() - this.rejection.at < this.rejectionBackoffMs) throw this.rejection.error;
    try {
      const { sessionid } = await this.spp.login(account.username, account.password);
      if (this.rejection) this.logger?.info({ username: account.username }, 'SPP accepts the service account again');
      this.rejection = undefined;
      return sessionid;
    } catch (error) {
      const code = (error as GraphQLError).extensions?.code;
      if (code !== ErrorCode.UNAUTHENTICATED && code !== ErrorCode.FORBIDDEN && code !== ErrorCode.NOT_FOUND) throw error;
      this.logger?.error(
        { username: account.username, upstreamCode: code },
        code === ErrorCode.NOT_FOUND
          ? 'SPP has no login endpoint at SPP_URL: check that SPP_URL is SPP\'s base URL (https://spp.example.com); callers get 503 UPSTREAM_MISCONFIGURED'
          : 'SPP rejected the service account: check SPP_USERNAME and SPP_PASSWORD; callers get 503 UPSTREAM_MISCONFIGURED',
      );
      const misconfigured = upstreamMisconfigured(error);
      this.rejection = { at: Date.now(), error: misconfigured };
      throw misconfigured;
    }
  }

  /** Service-account mode: logs in if there is no session yet (readiness, start-up check). Pass-through: nothing to do. */
  async ensureServiceSession(): Promise<void> {
    if (this.serviceIdentity) await this.serviceIdentity.sessionId();
  }

  /**
   * Decides the caller's upstream identity from the request headers. Never calls SPP. The HTTP
   * layer (to key shared requests) and the context both ask: the answer is kept per request.
   */
  authenticate(headers: IncomingHttpHeaders): AuthOutcome {
    let outcome = this.outcomes.get(headers);
    if (!outcome) this.outcomes.set(headers, (outcome = this.decide(headers)));
    return outcome;
  }

  private decide(headers: IncomingHttpHeaders): AuthOutcome {
    const authorization = typeof headers.authorization === 'string' ? headers.authorization.trim() : '';
    const [scheme = '', credential = ''] = authorization.split(/\s+/, 2);
    return this.mode === 'service-account'
      ? this.authenticateForServiceAccount(scheme.toLowerCase(), credential)
      : this.authenticatePassThrough(scheme.toLowerCase(), credential, headers['x-endeavour-sessionid']);
  }

  /** createSession: logs the user in to SPP and returns a gateway token for it (pass-through mode). */
  async createSession(username: string, password: string): Promise<GatewaySessionInfo> {
    const login = await this.spp.login(username, password);
    const token = randomBytes(32).toString('base64url');
    const user = { name: typeof login.user?.name === 'string' ? login.user.name : username, type: typeof login.user?.type === 'string' ? login.user.type : null };
    this.gatewayTokens.set(this.keyOf('token', token), { sppSessionId: login.sessionid, user });
    return { token, expiresAt: Date.now() + this.idleMs, user };
  }

  /** deleteSession: forgets the token and logs its SPP session out. False when the token was unknown. */
  async deleteSession(headers: IncomingHttpHeaders): Promise<boolean> {
    const authorization = typeof headers.authorization === 'string' ? headers.authorization.trim() : '';
    const match = /^bearer\s+(\S+)$/i.exec(authorization);
    if (!match) return false;
    const key = this.keyOf('token', match[1]!);
    const entry = this.gatewayTokens.get(key);
    if (!entry) return false;
    this.gatewayTokens.delete(key);
    await this.spp.logout(entry.sppSessionId);
    return true;
  }

  /**
   * Logs the service account's SPP session out (shutdown), within `budgetMs`: an SPP that does
   * not answer must not keep the process alive (the logout is abandoned, SPP expires the session).
   */
  async close(budgetMs = 2_000): Promise<void> {
    const sessionId = this.serviceSession.peek();
    if (!sessionId) return;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => {
      timer = setTimeout(() => resolve('expired'), budgetMs);
      timer.unref();
    });
    const outcome = await Promise.race([this.spp.logout(sessionId), expired]);
    clearTimeout(timer);
    if (outcome === 'expired') this.logger?.warn({ budgetMs }, 'SPP did not answer the logout in time; the service account session is left to expire');
  }

  private authenticateForServiceAccount(scheme: string, credential: string): AuthOutcome {
    const identity = this.serviceIdentity!;
    if (scheme === 'bearer' && credential) {
      if (this.isGatewayToken(credential)) return { identity, actor: this.actorFor('token', credential, undefined) };
      return { error: unauthenticated('The bearer token is not valid for this gateway.') };
    }
    if (scheme) return { error: unauthenticated(`Unsupported authorization scheme: expected "Bearer <token>".`) };
    if (this.allowAnonymous) return { identity, actor: { key: 'anonymous', name: 'anonymous', anonymous: true } };
    return { error: unauthenticated('Authentication required: send "Authorization: Bearer <token>".') };
  }

  private authenticatePassThrough(scheme: string, credential: string, sessionHeader: string | string[] | undefined): AuthOutcome {
    if (scheme === 'basic' && credential) {
      const decoded = Buffer.from(credential, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon <= 0) return { error: unauthenticated('Malformed Basic credentials: expected base64("user:password").') };
      const username = decoded.slice(0, colon);
      const password = decoded.slice(colon + 1);
      const key = this.keyOf('basic', `${username}\u0000${password}`);
      let session = this.basicSessions.get(key);
      if (!session) {
        session = new LoginSession();
        this.basicSessions.set(key, session);
      }
      return {
        identity: loginIdentity(key, session, async () => (await this.spp.login(username, password)).sessionid),
        actor: { key, name: username, anonymous: false },
      };
    }
    if (scheme === 'bearer' && credential) {
      const key = this.keyOf('token', credential);
      const entry = this.gatewayTokens.get(key);
      if (!entry) return { error: unauthenticated('The bearer token is unknown or expired: log in again with createSession.') };
      return { identity: forwardedSessionIdentity(key, entry.sppSessionId), actor: { key, name: entry.user.name, anonymous: false } };
    }
    if (scheme) return { error: unauthenticated('Unsupported authorization scheme: expected "Basic" or "Bearer".') };
    const sessionId = typeof sessionHeader === 'string' ? sessionHeader.trim() : '';
    if (sessionId) {
      const key = this.keyOf('session', sessionId);
      return { identity: forwardedSessionIdentity(key, sessionId), actor: this.actorFor('session', sessionId, key) };
    }
    return { error: unauthenticated('Authentication required: send SPP credentials ("Authorization: Basic ..."), an SPP session ("X-Endeavour-Sessionid"), or a token from createSession ("Authorization: Bearer ...").') };
  }

  private isGatewayToken(token: string): boolean {
    const digest = sha256(token);
    // Compare against every configured token so the time taken does not tell which matched.
    let match = false;
    for (const expected of this.tokenDigests) match = timingSafeEqual(digest, expected) || match;
    return match;
  }

  /** An actor without a user name: named by a short fingerprint of its key (the HMAC, not the secret). */
  private actorFor(kind: 'token' | 'session', secret: string, key: string | undefined): Actor {
    const k = key ?? this.keyOf(kind, secret);
    return { key: k, name: `${kind === 'token' ? 'gateway-token' : 'spp-session'}:${k.slice(kind.length + 1, kind.length + 9)}`, anonymous: false };
  }

  private keyOf(kind: string, secret: string): string {
    return `${kind}:${createHmac('sha256', this.hmacKey).update(secret).digest('base64url')}`;
  }
}
