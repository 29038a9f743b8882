/**
 * Who is calling: authentication modes (auth.ts). Built once per gateway; the warnings at start
 * name what an operator opened up.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Env } from '../config.js';
import type { SharedState } from '../state/index.js';
import type { SppServerAccess } from './spp-logins.js';
import { ApiKeys } from './api-keys.js';
import { Authenticator, type AuthenticatorOptions } from './auth.js';
import { OidcLogin } from './oidc-login.js';
import { OidcBearer, parseRoleMap, type OidcSettings } from './oidc.js';

export { Authenticator } from './auth.js';

export type AuthSettings =
  { mode: 'service-account'; serviceAccount: { username: string; password: string }; tokens: string[]; allowAnonymous: boolean } | { mode: 'pass-through' };

export function createAuthenticator(
  env: Env,
  auth: AuthSettings,
  deps: { servers: readonly SppServerAccess[]; state: SharedState; secret: Buffer | undefined; logger: Logger },
): Authenticator {
  const { logger } = deps;
  if (!deps.secret && (auth.mode === 'pass-through' || env.OIDC_ISSUER)) {
    logger.warn(
      'SESSION_SECRET is not set: session cookies and createSession tokens are sealed with a random per-process key, so they do not survive a restart or work across replicas.',
    );
  }
  if (auth.mode === 'service-account' && env.GATEWAY_ALLOW_MUTATIONS) {
    logger.warn(
      'GATEWAY_ALLOW_MUTATIONS is deprecated (give API keys or OIDC roles the operator role instead): every GATEWAY_TOKENS holder is an operator and may start, cancel, rerun and expire jobs as the SPP service account (anonymous callers never may).',
    );
  }
  if (auth.mode === 'service-account' && auth.allowAnonymous) {
    logger.warn('GATEWAY_ALLOW_ANONYMOUS: callers need no token; anyone who reaches this port reads SPP job sessions as the service account.');
  }
  const apiKeys = auth.mode === 'service-account' && env.API_KEYS_FILE ? new ApiKeys(env.API_KEYS_FILE, logger.child({ component: 'api-keys' })) : undefined;
  const oidc =
    auth.mode === 'service-account' && env.OIDC_ISSUER ? new OidcBearer(oidcSettingsOf(env, env.OIDC_ISSUER), logger.child({ component: 'oidc' })) : undefined;
  const options: AuthenticatorOptions = {
    ...(apiKeys ? { apiKeys } : {}),
    ...(oidc ? { oidc } : {}),
    ...(auth.mode === 'service-account' ? { mode: auth.mode, tokens: auth.tokens, allowAnonymous: auth.allowAnonymous } : { mode: auth.mode }),
    ...(auth.mode === 'service-account' ? { tokenRoles: env.GATEWAY_ALLOW_MUTATIONS ? (['viewer', 'operator'] as const) : (['viewer'] as const) } : {}),
    // Service-account mode: each server's own account (SPP_SERVERS_FILE), else the one of SPP_USERNAME.
    servers: deps.servers.map((s) => (auth.mode === 'service-account' ? { ...s, serviceAccount: s.serviceAccount ?? auth.serviceAccount } : s)),
    state: deps.state,
    ...(deps.secret ? { secret: deps.secret } : {}),
    sppSessionIdleMs: env.SPP_SESSION_IDLE_MS,
    sessions: { idleMs: env.SESSION_IDLE_MS, maxMs: env.SESSION_MAX_MS },
    ...(env.TRUSTED_PROXIES ? { trustedProxies: { ranges: env.TRUSTED_PROXIES, hops: env.TRUSTED_PROXY_HOPS } } : {}),
    logger: logger.child({ component: 'auth' }),
  };
  const authenticator = new Authenticator(options);
  if (oidc && env.OIDC_CLIENT_ID) {
    const settings = {
      ...oidc.settings,
      clientId: env.OIDC_CLIENT_ID,
      scopes: env.OIDC_SCOPES,
      ...(env.OIDC_REDIRECT_URI ? { redirectUri: env.OIDC_REDIRECT_URI } : {}),
    };
    authenticator.oidcLogin = new OidcLogin(settings, deps.secret ?? randomBytes(32), authenticator.sessions, logger.child({ component: 'oidc' }));
  }
  return authenticator;
}

function oidcSettingsOf(env: Env, issuer: string): OidcSettings {
  return {
    issuer,
    audience: (env.OIDC_AUDIENCE ?? env.OIDC_CLIENT_ID)!,
    ...(env.OIDC_CLIENT_ID ? { clientId: env.OIDC_CLIENT_ID } : {}),
    ...(env.OIDC_CLIENT_SECRET ? { clientSecret: env.OIDC_CLIENT_SECRET } : {}),
    algorithms: env.OIDC_ALGORITHMS.split(','),
    clockSkewS: env.OIDC_CLOCK_SKEW_S,
    rolesClaim: env.OIDC_ROLES_CLAIM,
    roleMap: parseRoleMap(env.ROLE_MAP),
    jwksCooldownMs: env.OIDC_JWKS_COOLDOWN_MS,
  };
}
