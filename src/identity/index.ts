/**
 * Who is calling: authentication modes (auth.ts). Built once per gateway; the warnings at start
 * name what an operator opened up.
 */
import type { Logger } from 'pino';
import type { Env } from '../config.js';
import type { SharedState } from '../state/index.js';
import type { SppClient } from '../upstream/spp-client.js';
import type { SppServer } from '../upstream/servers.js';
import { Authenticator, type AuthenticatorOptions } from './auth.js';

export { Authenticator } from './auth.js';

export type AuthSettings =
  { mode: 'service-account'; serviceAccount: { username: string; password: string }; tokens: string[]; allowAnonymous: boolean } | { mode: 'pass-through' };

export function createAuthenticator(
  env: Env,
  auth: AuthSettings,
  deps: { spp: SppClient; state: SharedState; secret: Buffer | undefined; logger: Logger },
): Authenticator {
  const { logger } = deps;
  if (!deps.secret && auth.mode === 'pass-through') {
    logger.warn(
      'SESSION_SECRET is not set: createSession tokens are sealed with a random per-process key, so they do not survive a restart or work across replicas.',
    );
  }
  if (auth.mode === 'service-account' && env.GATEWAY_ALLOW_MUTATIONS) {
    logger.warn(
      'GATEWAY_ALLOW_MUTATIONS: every bearer-token holder may start, cancel, rerun and expire jobs as the SPP service account (anonymous callers never may).',
    );
  }
  if (auth.mode === 'service-account' && auth.allowAnonymous) {
    logger.warn('GATEWAY_ALLOW_ANONYMOUS: callers need no token; anyone who reaches this port reads SPP job sessions as the service account.');
  }
  const options: AuthenticatorOptions = {
    ...auth,
    spp: deps.spp,
    state: deps.state,
    ...(deps.secret ? { secret: deps.secret } : {}),
    sppSessionIdleMs: env.SPP_SESSION_IDLE_MS,
    logger: logger.child({ component: 'auth' }),
  };
  return new Authenticator(options);
}

/**
 * One Authenticator per SPP server (issue 21): each logs in to its own server, with its own
 * service account (or, in pass-through mode, the caller's credentials); the first also decides
 * who the caller is for the gateway (tokens, sessions, roles).
 */
export function createServerAuthenticators<S extends SppServer>(
  env: Env,
  auth: AuthSettings,
  servers: readonly (S & { serviceAccount?: { username: string; password: string } })[],
  deps: { state: SharedState; secret: Buffer | undefined; logger: Logger },
): Array<S & { auth: Authenticator }> {
  return servers.map((server, i) => {
    const own: AuthSettings = auth.mode === 'service-account' && server.serviceAccount ? { ...auth, serviceAccount: server.serviceAccount } : auth;
    // Start-up warnings are the gateway's, said once (by the first server's authenticator).
    const logger = i === 0 ? deps.logger : deps.logger.child({ server: server.name }, { level: 'error' });
    return { ...server, auth: createAuthenticator(env, own, { ...deps, spp: server.spp, logger }) };
  });
}
