/**
 * Who is calling, and as whom the gateway speaks to SPP for them.
 *
 * Two modes (docs/security.md "Authentication modes"):
 * - service account (SPP_USERNAME + SPP_PASSWORD): the gateway logs in once and speaks as
 *   that account; callers prove they may use it with `Authorization: Bearer <token>`, the
 *   token being one of GATEWAY_TOKENS, or not at all when GATEWAY_ALLOW_ANONYMOUS=true.
 * - pass-through (SPP_URL without SPP_USERNAME): each caller brings an SPP identity and SPP's
 *   own roles decide what it sees: `Authorization: Basic` (the gateway logs in for that user
 *   and reuses the SPP session), `X-Endeavour-Sessionid` (forwarded), or a Bearer token from
 *   the `createSession` mutation.
 *
 * Identities are keyed by an HMAC of the credential under a key derived from SESSION_SECRET (a
 * per-process random key without it): the key separates caches and in-flight sharing between
 * callers, is the same on every replica, and no secret is kept in clear.
 *
 * createSession tokens are sealed, not looked up: the token is the SPP session id and user,
 * encrypted and authenticated (AES-256-GCM) with a sub-key of SESSION_SECRET. Every replica
 * and every restart with the same secret opens it, without asking Redis on each request (the
 * check stays synchronous, costs no round trip and keeps working while Redis is down), and the
 * caller cannot read the SPP session id inside. SPP stays the judge of expiry: a token lives as
 * long as its SPP session. deleteSession logs the session out at SPP (so no replica can use it
 * again), records the revocation in the shared state for the session's life and announces it,
 * so no replica serves a cached answer for it meanwhile; a replica started later, or that missed
 * the announcement while Redis was out of reach, reads the record (at start, on reconnecting).
 * A logout SPP did not confirm is an UPSTREAM_ERROR, never a silent true.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { deriveKey, Sealer, type SharedState } from '../state/index.js';
import type { IncomingHttpHeaders } from 'node:http';
import type { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { apiKeyCaller, type ApiKeys } from './api-keys.js';
import { BrowserSessions, type SessionContent } from './browser-sessions.js';
import { clientAddressOf, type AddressOf } from './client-address.js';
import { Revocations } from './revocations.js';
import type { OidcBearer } from './oidc.js';
import type { OidcLogin } from './oidc-login.js';
import { ANONYMOUS, ROLES, type Caller, type Role } from './caller.js';
import { ErrorCode, gatewayError, unauthenticated } from '../errors.js';
import type { UpstreamIdentity } from '../upstream/session.js';
import { SppLogins, type IdentityOn, type SignedIn, type SppServerAccess } from './spp-logins.js';

export type AuthMode = 'service-account' | 'pass-through';

/**
 * Who is calling, for actions (src/actions/): the Caller (./caller.ts). In service-account mode
 * every caller speaks to SPP as the same account, yet each gateway token is its own caller.
 */
export type Actor = Caller;

/**
 * A caller and its upstream identity on the first SPP server (`identity`) and on each
 * (`identityOn`, issue 21); `session` when a browser session cookie said who (./browser-sessions.ts).
 */
export type AuthOutcome = { identity: UpstreamIdentity; identityOn: IdentityOn; actor: Caller; session?: SessionContent } | { error: GraphQLError };

export interface AuthenticatorOptions {
  mode: AuthMode;
  /** The SPP servers, the first the default (issue 21); in service-account mode each with its account. */
  servers: readonly SppServerAccess[];
  /** Service-account mode: accepted bearer tokens (GATEWAY_TOKENS). */
  tokens?: string[];
  /** Service-account mode: named API keys (API_KEYS_FILE). */
  apiKeys?: ApiKeys;
  /** Roles of GATEWAY_TOKENS holders: operator with GATEWAY_ALLOW_MUTATIONS (deprecated), else viewer. */
  tokenRoles?: readonly Role[];
  allowAnonymous?: boolean;
  /** SPP's idle session timeout (45 minutes, docs/spp-api.md#sessions-and-login); cached sessions are dropped a minute before. */
  sppSessionIdleMs: number;
  /** Most pass-through users and gateway tokens held at once. */
  maxCachedSessions?: number;
  /** Where a rejected service account is reported (an operator's fault, so an error). */
  logger?: Logger;
  /** After SPP rejected the service account, callers fail fast for this long without another login attempt. */
  rejectionBackoffMs?: number;
  /** SESSION_SECRET: identity keys and sealed tokens that every replica (and restart) shares. Random per process without it. */
  secret?: Buffer;
  /** Where pass-through logins and token revocations are shared (src/state/). */
  state: SharedState;
  /** Service-account mode: bearer JWTs of the OIDC issuer. */
  oidc?: OidcBearer;
  /** Browser sessions: SESSION_IDLE_MS and SESSION_MAX_MS. */
  sessions?: { idleMs: number; maxMs: number };
  /** TRUSTED_PROXIES and TRUSTED_PROXY_HOPS: whose X-Forwarded-For names the client, and how many in a row (./client-address.ts); none by default. */
  trustedProxies?: { ranges: readonly string[]; hops: number };
}

export interface GatewaySessionInfo {
  token: string;
  expiresAt: number;
  user: { name: string; type: string | null };
}

/** What a createSession token holds, sealed. */
interface TokenContent {
  /** SPP session id (the first server's). */
  s: string;
  /** Issue 21: the other servers' SPP session ids, by server name. */
  o?: Record<string, string>;
  /** User name and type as SPP reported them. */
  n: string;
  t: string | null;
}

const TOKEN_PREFIX = 'v1.';
const TOKEN_AAD = 'gateway-token';
/** The shared record of createSession tokens signed out (./revocations.ts). */
const REVOKED_TOKENS = 'revoked tokens';

/** A pass-through SPP user: SPP's own roles decide what it may do, the gateway does not narrow them. */
const sppUser = (key: string, username: string): Caller => ({
  key,
  consumer: 'spp-user',
  kind: 'spp-user',
  subject: username,
  roles: ROLES,
  name: username,
  anonymous: false,
});

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/** The request's Authorization header, trimmed ('' without one). */
const authorizationOf = (headers: IncomingHttpHeaders): string => (typeof headers.authorization === 'string' ? headers.authorization.trim() : '');

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
const bearerOf = (authorization: string): string | undefined => {
  const [scheme, credential] = credentialsOf(authorization);
  return scheme === 'bearer' && credential !== '' ? credential : undefined;
};

/**
 * An Authorization header's scheme (lower case) and the credential after it, '' when absent
 * (RFC 9110 §11.4: one credential per header). Whatever follows the scheme is the credential:
 * `Bearer <token> <more>` is the credential "<token> <more>", which no check accepts.
 */
function credentialsOf(authorization: string): [string, string] {
  const match = /^(\S+)(?:\s+([\s\S]*))?$/.exec(authorization);
  return match ? [match[1]!.toLowerCase(), match[2] ?? ''] : ['', ''];
}

export class Authenticator {
  readonly mode: AuthMode;
  private readonly hmacKey: Buffer;
  private readonly sealer: Sealer;
  private readonly state: SharedState;
  private readonly logins: SppLogins;
  private readonly first: string;
  private readonly serviceIdentity: IdentityOn | undefined;
  private readonly tokenDigests: Buffer[];
  private readonly tokenRoles: readonly Role[];
  private readonly apiKeys: ApiKeys | undefined;
  private readonly allowAnonymous: boolean;
  private readonly idleMs: number;
  /** Identity keys of createSession tokens signed out with deleteSession (on any replica). */
  private readonly revoked: Revocations;
  /** Each request's outcome, keyed by its headers object (one per request). */
  private readonly outcomes = new WeakMap<IncomingHttpHeaders, AuthOutcome>();
  private readonly logger: Logger | undefined;
  readonly sessions: BrowserSessions;
  readonly bearerJwt: OidcBearer | undefined;
  /** Browser sign-in through the OIDC code flow (OIDC_ISSUER with OIDC_CLIENT_ID). */
  oidcLogin: OidcLogin | undefined;
  /** The client's address of a request: the TCP peer's, or behind TRUSTED_PROXIES the one they forwarded. */
  readonly clientAddress: AddressOf;

  constructor(options: AuthenticatorOptions) {
    this.mode = options.mode;
    this.allowAnonymous = options.allowAnonymous ?? false;
    this.tokenDigests = (options.tokens ?? []).map(sha256);
    this.tokenRoles = options.tokenRoles ?? ['viewer'];
    this.apiKeys = options.apiKeys;
    this.bearerJwt = options.oidc;
    this.idleMs = options.sppSessionIdleMs;
    this.logger = options.logger;
    this.clientAddress = clientAddressOf(options.trustedProxies?.ranges, options.trustedProxies?.hops, (peer) =>
      options.logger?.warn(
        { peer },
        'A request came with X-Forwarded-For, but TRUSTED_PROXIES is not set: anonymous callers are told apart by the TCP peer, and behind a proxy all of them share its budget and connection limit (docs/security.md "Budgets"). Said once.',
      ),
    );
    const max = options.maxCachedSessions ?? 10_000;
    // A logged-out SPP session is refused by SPP from then on; this only covers answers cached meanwhile.
    this.revoked = new Revocations(options.state, REVOKED_TOKENS, options.sppSessionIdleMs, max);
    const secret = options.secret ?? randomBytes(32);
    this.hmacKey = deriveKey(secret, 'identity keys');
    this.sealer = new Sealer(secret, 'gateway tokens');
    this.state = options.state;
    if (options.mode === 'service-account' && options.servers.some((s) => !s.serviceAccount)) throw new Error('service-account mode needs an SPP account');
    this.logins = new SppLogins(options.servers, {
      state: options.state,
      logger: options.logger,
      rejectionBackoffMs: options.rejectionBackoffMs ?? 10_000,
      basicTtlMs: Math.max(1_000, options.sppSessionIdleMs - 60_000),
      maxCachedSessions: max,
    });
    this.first = options.servers[0]!.name;
    this.serviceIdentity = this.logins.service;
    const times = options.sessions ?? { idleMs: 30 * 60_000, maxMs: 12 * 3_600_000 };
    this.sessions = new BrowserSessions(secret, this.state, times.idleMs, times.maxMs);
  }

  /**
   * Settles once the shared records of sign-outs were read at start (or found unreachable): a
   * replica started after a sign-out must not serve the signed-out credential meanwhile.
   */
  async revocationsRead(): Promise<void> {
    await Promise.all([this.revoked.firstRead, this.sessions.firstRead]);
  }

  /** Service-account mode: logs in to `server` (default: the first) if there is no session yet (readiness, start-up check). Pass-through: nothing to do. */
  async ensureServiceSession(server?: string): Promise<void> {
    await this.logins.ensureService(server);
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

  /**
   * `authenticate`, after the checks that need a round trip (an OIDC JWT's signing keys): the
   * front doors (HTTP, WebSocket, event stream) await this once, then everything reads the
   * request's caller synchronously.
   */
  async prepare(headers: IncomingHttpHeaders): Promise<AuthOutcome> {
    await this.bearerJwt?.prepare(headers);
    return this.authenticate(headers);
  }

  /** Whether the request's session cookie decides who the caller is: an explicit credential wins over a cookie the browser happens to send along. */
  private byCookie(headers: IncomingHttpHeaders, authorization: string): boolean {
    return !authorization && headers['x-endeavour-sessionid'] === undefined && this.sessions.carried(headers);
  }

  private decide(headers: IncomingHttpHeaders): AuthOutcome {
    const authorization = authorizationOf(headers);
    if (this.byCookie(headers, authorization)) return this.fromSession(headers);
    const [scheme, credential] = credentialsOf(authorization);
    return this.mode === 'service-account'
      ? this.authenticateForServiceAccount(scheme, credential)
      : this.authenticatePassThrough(scheme, credential, headers['x-endeavour-sessionid']);
  }

  /** createSession: logs the user in to SPP and returns a gateway token for it (pass-through mode). */
  async createSession(username: string, password: string): Promise<GatewaySessionInfo> {
    const { ids, user } = await this.logins.logIn(username, password);
    const content: TokenContent = { s: ids.first, n: user.name, t: user.type, ...(ids.others ? { o: ids.others } : {}) };
    const token = TOKEN_PREFIX + this.sealer.seal(JSON.stringify(content), TOKEN_AAD);
    return { token, expiresAt: Date.now() + this.idleMs, user };
  }

  /**
   * Whether the request's credentials are ones this gateway verified: a gateway token, a
   * createSession token it sealed, or Basic credentials SPP accepted already. Anonymous callers
   * and forwarded SPP session ids (accepted without asking SPP) are not.
   */
  verified(headers: IncomingHttpHeaders): boolean {
    const outcome = this.authenticate(headers);
    if ('error' in outcome || outcome.actor.anonymous) return false;
    // A session cookie is sealed by this gateway after a verified sign-in.
    if (outcome.session) return true;
    const [scheme, credential] = credentialsOf(authorizationOf(headers));
    if (this.mode === 'service-account') return scheme === 'bearer';
    if (scheme === 'bearer') return true;
    return scheme === 'basic' && this.logins.basicHeld(outcome.identity.key) && credential !== '';
  }

  /** POST /auth/login (pass-through): logs the user in to SPP; the SPP session goes into the sealed cookie, never to the browser. */
  async signIn(username: string, password: string): Promise<SessionContent> {
    const { ids, user } = await this.logins.logIn(username, password);
    return this.sessions.start({ via: 'spp', spp: ids.first, ...(ids.others ? { sppOn: ids.others } : {}), sub: user.name, type: user.type, roles: ROLES });
  }

  /**
   * POST /auth/logout: ends the cookie's session on every replica (and at SPP for a pass-through
   * one). False without a live session. A session past its idle time is revoked too: a
   * subscription opened with it runs on (its idle clock froze at connection, see signOutCheck),
   * and signing out is how the user ends it.
   */
  async signOut(headers: IncomingHttpHeaders): Promise<boolean> {
    const live = this.sessions.read(headers);
    const content = this.sessions.sealed(headers);
    if (content === undefined || (live === 'ended' && this.sessions.revokedAlready(content))) return false;
    await this.sessions.revoke(content);
    if (content.spp) await this.logins.logOut({ first: content.spp, ...(content.sppOn ? { others: content.sppOn } : {}) });
    return live !== 'ended';
  }

  private fromSession(headers: IncomingHttpHeaders): AuthOutcome {
    const content = this.sessions.read(headers);
    if (content === undefined || content === 'ended') return { error: unauthenticated('Your session has ended: sign in again.') };
    const caller: Caller = {
      key: this.keyOf('user', `${content.via}\u0000${content.sub}`),
      consumer: 'session',
      kind: 'session',
      subject: content.sub,
      ...(content.display ? { displayName: content.display } : {}),
      roles: content.roles,
      name: content.sub,
      anonymous: false,
    };
    if (content.spp) {
      const ids: SignedIn = { first: content.spp, ...(content.sppOn ? { others: content.sppOn } : {}) };
      return { ...this.on(this.logins.signedIn(this.keyOf('session', content.spp), ids)), actor: caller, session: content };
    }
    if (!this.serviceIdentity) return { error: unauthenticated('Your session has ended: sign in again.') };
    return { ...this.on(this.serviceIdentity), actor: caller, session: content };
  }

  /**
   * For a connection that outlives its request (a subscription): a check of whether the credential
   * in `headers` was signed out since (a browser session's sign-out or a createSession token's
   * deleteSession, on any replica), or undefined for a credential no sign-out ends. Sign-outs, and
   * a browser session's absolute end; not its idle time: a live view is use of the session that
   * the cookie's idle clock, frozen at connection, cannot see. The check reads memory only
   * (Revocations hears every replica); never calls SPP.
   */
  signOutCheck(headers: IncomingHttpHeaders): (() => boolean) | undefined {
    const authorization = authorizationOf(headers);
    if (this.byCookie(headers, authorization)) return this.sessions.signOutCheck(headers);
    const token = bearerOf(authorization);
    if (token === undefined || !token.startsWith(TOKEN_PREFIX)) return undefined;
    const key = this.keyOf('token', token);
    return () => this.revoked.has(key);
  }

  /** deleteSession: forgets the token and logs its SPP session out. False when the token was unknown. */
  async deleteSession(headers: IncomingHttpHeaders): Promise<boolean> {
    const token = bearerOf(authorizationOf(headers));
    if (token === undefined) return false;
    const key = this.keyOf('token', token);
    const content = this.openToken(token);
    if (!content || this.revoked.has(key)) return false;
    await this.revoked.revoke(key);
    if (!(await this.logins.logOut({ first: content.s, ...(content.o ? { others: content.o } : {}) }))) {
      throw gatewayError(
        ErrorCode.UPSTREAM_ERROR,
        'The token is signed out of the gateway, but SPP did not confirm ending its session: SPP ends it after its idle timeout (45 minutes by default).',
      );
    }
    return true;
  }

  /**
   * Logs the service account's SPP session out (shutdown), within `budgetMs`: an SPP that does
   * not answer must not keep the process alive (the logout is abandoned, SPP expires the session).
   */
  async close(budgetMs = 2_000): Promise<void> {
    this.apiKeys?.close();
    this.revoked.close();
    this.sessions.close();
    await this.logins.close(budgetMs);
  }

  /** An outcome's identities: on the first server and on each. */
  private on(identityOn: IdentityOn): { identity: UpstreamIdentity; identityOn: IdentityOn } {
    return { identity: identityOn(this.first), identityOn };
  }

  private authenticateForServiceAccount(scheme: string, credential: string): AuthOutcome {
    const identity = this.on(this.serviceIdentity!);
    if (scheme === 'bearer' && credential) {
      const apiKey = this.apiKeys?.find(credential);
      if (apiKey) return { ...identity, actor: apiKeyCaller(apiKey) };
      if (this.isGatewayToken(credential)) return { ...identity, actor: this.actorFor('token', credential, undefined) };
      const verified = this.bearerJwt?.tokenOf({ authorization: `Bearer ${credential}` }) ? this.bearerJwt.lookup(credential) : undefined;
      if (verified && 'error' in verified) return verified;
      if (verified) return { ...identity, actor: this.bearerJwt!.caller(verified.person, this.keyOf('user', `oidc\u0000${verified.person.sub}`)) };
      return { error: unauthenticated('The bearer token is not valid for this gateway.') };
    }
    if (scheme) return { error: unauthenticated(`Unsupported authorization scheme: expected "Bearer <token>".`) };
    if (this.allowAnonymous) return { ...identity, actor: ANONYMOUS };
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
      return { ...this.on(this.logins.basic(key, username, password)), actor: sppUser(key, username) };
    }
    if (scheme === 'bearer' && credential) {
      const key = this.keyOf('token', credential);
      const content = this.openToken(credential);
      if (!content || this.revoked.has(key)) return { error: unauthenticated('The bearer token is unknown or expired: log in again with createSession.') };
      return { ...this.on(this.logins.signedIn(key, { first: content.s, ...(content.o ? { others: content.o } : {}) })), actor: sppUser(key, content.n) };
    }
    if (scheme) return { error: unauthenticated('Unsupported authorization scheme: expected "Basic" or "Bearer".') };
    const sessionId = typeof sessionHeader === 'string' ? sessionHeader.trim() : '';
    if (sessionId) {
      const key = this.keyOf('session', sessionId);
      return { ...this.on(this.logins.forwarded(key, sessionId)), actor: this.actorFor('session', sessionId, key) };
    }
    return {
      error: unauthenticated(
        'Authentication required: send SPP credentials ("Authorization: Basic ..."), an SPP session ("X-Endeavour-Sessionid"), or a token from createSession ("Authorization: Bearer ...").',
      ),
    };
  }

  /** The content of a createSession token, or null when this gateway's SESSION_SECRET did not seal it. */
  private openToken(token: string): TokenContent | null {
    if (!token.startsWith(TOKEN_PREFIX)) return null;
    const opened = this.sealer.open(token.slice(TOKEN_PREFIX.length), TOKEN_AAD);
    if (opened === null) {
      this.logger?.info(
        'a createSession token did not open: it was sealed with another SESSION_SECRET (another gateway, or this one before a restart without SESSION_SECRET) or altered; the caller gets UNAUTHENTICATED and must log in again',
      );
      return null;
    }
    return JSON.parse(opened) as TokenContent;
  }

  private isGatewayToken(token: string): boolean {
    const digest = sha256(token);
    // Compare against every configured token so the time taken does not tell which matched.
    let match = false;
    for (const expected of this.tokenDigests) match = timingSafeEqual(digest, expected) || match;
    return match;
  }

  /** A caller without a user name: named by a short fingerprint of its key (the HMAC, not the secret). */
  private actorFor(kind: 'token' | 'session', secret: string, key: string | undefined): Caller {
    const k = key ?? this.keyOf(kind, secret);
    const fingerprint = k.slice(kind.length + 1, kind.length + 9);
    if (kind === 'token') {
      const name = `gateway-token:${fingerprint}`;
      return { key: k, consumer: `token:${fingerprint}`, kind: 'gateway-token', roles: this.tokenRoles, name, anonymous: false };
    }
    // Pass-through: SPP's own roles decide, the gateway does not narrow them.
    return { key: k, consumer: 'spp-user', kind: 'spp-user', roles: ROLES, name: `spp-session:${fingerprint}`, anonymous: false };
  }

  private keyOf(kind: string, secret: string): string {
    return `${kind}:${createHmac('sha256', this.hmacKey).update(secret).digest('base64url')}`;
  }
}
