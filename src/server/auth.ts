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
import { unauthenticated } from '../errors.js';
import type { SppClient } from '../upstream/spp-client.js';
import { forwardedSessionIdentity, LoginSession, loginIdentity, type UpstreamIdentity } from '../upstream/session.js';

export type AuthMode = 'service-account' | 'pass-through';

export type AuthOutcome = { identity: UpstreamIdentity } | { error: GraphQLError };

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

  constructor(options: AuthenticatorOptions) {
    this.mode = options.mode;
    this.spp = options.spp;
    this.allowAnonymous = options.allowAnonymous ?? false;
    this.tokenDigests = (options.tokens ?? []).map(sha256);
    this.idleMs = options.sppSessionIdleMs;
    const ttl = Math.max(1_000, options.sppSessionIdleMs - 60_000);
    const max = options.maxCachedSessions ?? 10_000;
    // updateAgeOnGet mirrors SPP's idle (not absolute) expiry: each use extends the session.
    this.basicSessions = new LRUCache({ max, ttl, updateAgeOnGet: true });
    this.gatewayTokens = new LRUCache({ max, ttl: options.sppSessionIdleMs, updateAgeOnGet: true });
    if (options.mode === 'service-account') {
      const account = options.serviceAccount;
      if (!account) throw new Error('service-account mode needs an SPP account');
      this.serviceIdentity = loginIdentity('service-account', this.serviceSession, async () => (await this.spp.login(account.username, account.password)).sessionid);
    }
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

  /** Logs the service account's SPP session out (shutdown). */
  async close(): Promise<void> {
    const sessionId = this.serviceSession.peek();
    if (sessionId) await this.spp.logout(sessionId);
  }

  private authenticateForServiceAccount(scheme: string, credential: string): AuthOutcome {
    const identity = this.serviceIdentity!;
    if (scheme === 'bearer' && credential) {
      if (this.isGatewayToken(credential)) return { identity };
      return { error: unauthenticated('The bearer token is not valid for this gateway.') };
    }
    if (scheme) return { error: unauthenticated(`Unsupported authorization scheme: expected "Bearer <token>".`) };
    if (this.allowAnonymous) return { identity };
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
      return { identity: loginIdentity(key, session, async () => (await this.spp.login(username, password)).sessionid) };
    }
    if (scheme === 'bearer' && credential) {
      const key = this.keyOf('token', credential);
      const entry = this.gatewayTokens.get(key);
      if (!entry) return { error: unauthenticated('The bearer token is unknown or expired: log in again with createSession.') };
      return { identity: forwardedSessionIdentity(key, entry.sppSessionId) };
    }
    if (scheme) return { error: unauthenticated('Unsupported authorization scheme: expected "Basic" or "Bearer".') };
    const sessionId = typeof sessionHeader === 'string' ? sessionHeader.trim() : '';
    if (sessionId) return { identity: forwardedSessionIdentity(this.keyOf('session', sessionId), sessionId) };
    return { error: unauthenticated('Authentication required: send SPP credentials ("Authorization: Basic ..."), an SPP session ("X-Endeavour-Sessionid"), or a token from createSession ("Authorization: Bearer ...").') };
  }

  private isGatewayToken(token: string): boolean {
    const digest = sha256(token);
    // Compare against every configured token so the time taken does not tell which matched.
    let match = false;
    for (const expected of this.tokenDigests) match = timingSafeEqual(digest, expected) || match;
    return match;
  }

  private keyOf(kind: string, secret: string): string {
    return `${kind}:${createHmac('sha256', this.hmacKey).update(secret).digest('base64url')}`;
  }
}
