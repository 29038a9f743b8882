/**
 * Browser sign-in through the OIDC authorization-code flow (`openid-client`), with PKCE (S256),
 * `state` and `nonce`. The flow's secrets (code verifier, state, nonce, where to return) travel
 * in a short-lived sealed cookie, so any replica can finish a flow another began. At the end the
 * person gets the same session cookie as an SPP sign-in (browser-sessions.ts); the provider's
 * tokens never reach the browser and are not kept: in OIDC mode the gateway speaks to SPP as its
 * service account, and the person's roles (from the ID token and userinfo claims) decide.
 */
import type { IncomingMessage } from 'node:http';
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import type { Logger } from 'pino';
import { Sealer } from '../state/index.js';
import { cookieValue, isPlainLocalhost, type BrowserSessions, type SessionContent } from './browser-sessions.js';
import { rolesOf, type OidcSettings } from './oidc.js';

const FLOW_COOKIE_SECURE = '__Host-spp-gateway-oidc';
const FLOW_COOKIE_LOCAL = 'spp-gateway-oidc';
const FLOW_AAD = 'oidc flow';
/** A person has this long to sign in at the provider. */
const FLOW_TTL_S = 600;

interface Flow {
  verifier: string;
  state: string;
  nonce: string;
  returnTo: string;
  redirectUri: string;
  at: number;
}

export class OidcLoginError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class OidcLogin {
  private config: Promise<client.Configuration> | undefined;
  private readonly sealer: Sealer;

  constructor(
    private readonly settings: OidcSettings & { clientId: string; redirectUri?: string; scopes: string },
    secret: Buffer,
    private readonly sessions: BrowserSessions,
    private readonly logger: Logger,
  ) {
    this.sealer = new Sealer(secret, 'oidc flows');
  }

  private configuration(): Promise<client.Configuration> {
    const issuer = new URL(this.settings.issuer);
    // Plain http only for a provider on this machine (development, tests); anything else must be https.
    const loopback = issuer.protocol === 'http:' && /^(localhost|127\.0\.0\.1|\[::1\])$/.test(issuer.hostname);
    this.config ??= client
      .discovery(issuer, this.settings.clientId, this.settings.clientSecret, undefined, loopback ? { execute: [client.allowInsecureRequests] } : {})
      .catch((error: unknown) => {
        this.config = undefined;
        throw error;
      });
    return this.config;
  }

  /** Where to send the browser, and the flow cookie to set. */
  async start(req: IncomingMessage, returnTo: string): Promise<{ location: string; cookie: string }> {
    const config = await this.configuration().catch((error: unknown) => {
      this.logger.error({ err: error, issuer: this.settings.issuer }, 'the OIDC issuer cannot be discovered: browser sign-in is unavailable');
      throw new OidcLoginError(503, 'The identity provider (OIDC_ISSUER) cannot be reached: try again later.');
    });
    const verifier = client.randomPKCECodeVerifier();
    const flow: Flow = {
      verifier,
      state: client.randomState(),
      nonce: client.randomNonce(),
      returnTo,
      redirectUri: this.settings.redirectUri ?? `${originOf(req)}/auth/oidc/callback`,
      at: Date.now(),
    };
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: flow.redirectUri,
      scope: this.settings.scopes,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: flow.state,
      nonce: flow.nonce,
    });
    const local = isPlainLocalhost(req);
    const sealed = this.sealer.seal(JSON.stringify(flow), FLOW_AAD);
    // SameSite=Lax: the provider's redirect back is a top-level GET, which carries it.
    const cookie = `${local ? FLOW_COOKIE_LOCAL : FLOW_COOKIE_SECURE}=${sealed}; Path=/; Max-Age=${FLOW_TTL_S}; HttpOnly; SameSite=Lax${local ? '' : '; Secure'}`;
    return { location: url.href, cookie };
  }

  /** Finishes the flow at the callback: the person's session, and where to return. */
  async finish(req: IncomingMessage): Promise<{ session: SessionContent; returnTo: string; clearFlow: string }> {
    const local = isPlainLocalhost(req);
    const clearFlow = `${local ? FLOW_COOKIE_LOCAL : FLOW_COOKIE_SECURE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax${local ? '' : '; Secure'}`;
    const raw = cookieValue(req.headers.cookie, local ? FLOW_COOKIE_LOCAL : FLOW_COOKIE_SECURE);
    const opened = raw ? this.sealer.open(raw, FLOW_AAD) : null;
    const flow = opened ? (JSON.parse(opened) as Flow) : undefined;
    if (!flow || Date.now() - flow.at > FLOW_TTL_S * 1000) throw new OidcLoginError(400, 'This sign-in was not started here or took too long: start again.');
    const config = await this.configuration();
    const current = new URL(req.url ?? '/', flow.redirectUri);
    let claims: Record<string, unknown>;
    try {
      const tokens = await client.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: flow.verifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      });
      const idClaims = tokens.claims()!;
      // Providers put roles in the ID token, the userinfo answer or only the access token (Keycloak's
      // mappers choose): all three are read. The access token came straight from the provider's
      // token endpoint over the connection openid-client checked, so its claims are taken as sent.
      const userinfo = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub).catch(() => ({}));
      let accessClaims: Record<string, unknown> = {};
      try {
        accessClaims = decodeJwt(tokens.access_token);
      } catch {
        // An opaque access token: nothing to read.
      }
      claims = { ...accessClaims, ...userinfo, ...idClaims };
    } catch (error) {
      this.logger.info({ err: error }, 'an OIDC sign-in was refused');
      throw new OidcLoginError(400, 'The identity provider did not confirm this sign-in: start again.');
    }
    const roles = rolesOf(claims, this.settings.rolesClaim, this.settings.roleMap);
    const sub = String(claims.sub);
    if (roles.length === 0) throw new OidcLoginError(403, `"${sub}" has no role on this gateway (its ${this.settings.rolesClaim} claim).`);
    const display = [claims.name, claims.email, claims.preferred_username].find((v): v is string => typeof v === 'string' && v !== '');
    return { session: this.sessions.start({ via: 'oidc', sub, ...(display ? { display } : {}), roles }), returnTo: flow.returnTo, clearFlow };
  }
}

/** The gateway's origin as the browser sees it (behind a proxy, X-Forwarded-Proto says https). */
export function originOf(req: IncomingMessage): string {
  const forwarded = req.headers['x-forwarded-proto'];
  const proto = typeof forwarded === 'string' ? forwarded.split(',')[0]!.trim() : (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  return `${proto === 'https' ? 'https' : 'http'}://${req.headers.host ?? 'localhost'}`;
}
