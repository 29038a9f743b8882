/**
 * Browser sign-in endpoints (docs/security.md "Browser sessions"): the session cookie's life
 * (src/identity/browser-sessions.ts) seen from HTTP.
 *
 * - `POST /auth/login` `{username, password}`: pass-through mode; signs in to SPP and sets the cookie.
 * - `POST /auth/logout`: ends the session on every replica and removes the cookie.
 * - `GET /auth/session`: who is signed in, their roles and when the session ends (or how one signs in).
 * - `GET /auth/oidc/login?returnTo=…` and `/auth/oidc/callback`: the OIDC code flow (src/identity/oidc-login.ts).
 *
 * Cross-site use of the cookie is refused (`admit`): a cookie-authenticated request with an
 * unsafe method, or an event stream, from an Origin that is neither the gateway's own nor in
 * CORS_ORIGINS gets 403 before anything runs. WebSocket upgrades are refused the same way by
 * the transports' origin check. Apollo's CSRF prevention stays on behind this.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GraphQLError } from 'graphql';
import { ErrorCode, httpStatusOf } from '../errors.js';
import type { Authenticator } from '../identity/index.js';
import type { SessionContent } from '../identity/browser-sessions.js';
import { OidcLoginError, originOf } from '../identity/oidc-login.js';
import { originAllowed } from '../transports/guard.js';
import { sendJsonResponse, type Route } from './handler.js';

const MAX_LOGIN_BYTES = 4_096;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface Refusal {
  code: ErrorCode;
  message: string;
}

const refuse = (res: ServerResponse, code: ErrorCode, message: string) =>
  sendJsonResponse(res, httpStatusOf[code], { errors: [{ message, extensions: { code } }] });

const crossSite = (req: IncomingMessage): Refusal => ({
  code: ErrorCode.FORBIDDEN,
  message: `Origin ${JSON.stringify(String(req.headers.origin).slice(0, 100))} may not use this gateway's session cookie (same origin only, or list it in CORS_ORIGINS).`,
});

async function readLogin(req: IncomingMessage): Promise<{ username: string; password: string } | string> {
  if (!/^application\/json\b/i.test(String(req.headers['content-type'] ?? ''))) return 'expected "Content-Type: application/json"';
  let text = '';
  for await (const chunk of req as AsyncIterable<Buffer>) {
    text += chunk.toString('utf8');
    if (text.length > MAX_LOGIN_BYTES) return `the body exceeds ${MAX_LOGIN_BYTES} bytes`;
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return 'the body is not JSON';
  }
  const { username, password } = (body ?? {}) as Record<string, unknown>;
  if (typeof username !== 'string' || username.length === 0 || typeof password !== 'string' || password.length === 0) {
    return 'expected {"username": "...", "password": "..."} with both non-empty';
  }
  return { username, password };
}

export function describeSession(auth: Authenticator, content: SessionContent) {
  const times = auth.sessions.timesOf(content);
  return {
    signedIn: true,
    via: content.via,
    user: { name: content.sub, ...(content.display ? { displayName: content.display } : {}), ...(content.type !== undefined ? { type: content.type } : {}) },
    roles: content.roles,
    idleExpiresAt: new Date(times.idleEndsAt).toISOString(),
    expiresAt: new Date(times.endsAt).toISOString(),
  };
}

/**
 * Where a finished OIDC sign-in may send the browser: a path on this gateway, or a URL on an
 * origin CORS_ORIGINS lists (never `*`): anything else would make the gateway an open redirect.
 */
export function safeReturnTo(req: IncomingMessage, given: string | null, origins: ReadonlyArray<string | RegExp>): string | undefined {
  if (given === null || given === '') return '/';
  if (given.startsWith('/') && !given.startsWith('//') && !given.startsWith('/\\')) return given;
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.origin === originOf(req)) return url.href;
  return origins.some((entry) => entry !== '*' && (typeof entry === 'string' ? entry === url.origin : entry.test(url.origin))) ? url.href : undefined;
}

const signInMethods = (auth: Authenticator) => ({ password: auth.mode === 'pass-through', oidc: auth.oidcLogin !== undefined });

export function createAuthRoutes(auth: Authenticator, origins: ReadonlyArray<string | RegExp>) {
  const routes = new Map<string, Route>([
    [
      '/auth/oidc/login',
      async (req, res, url) => {
        if (!auth.oidcLogin) return refuse(res, ErrorCode.NOT_FOUND, 'This gateway has no OIDC sign-in (OIDC_ISSUER and OIDC_CLIENT_ID are not set).');
        const returnTo = safeReturnTo(req, url.searchParams.get('returnTo'), origins);
        if (returnTo === undefined)
          return refuse(res, ErrorCode.BAD_USER_INPUT, 'returnTo must be a path on this gateway or a URL on an origin listed in CORS_ORIGINS.');
        try {
          const { location, cookie } = await auth.oidcLogin.start(req, returnTo);
          res.setHeader('set-cookie', cookie);
          res.setHeader('cache-control', 'no-store');
          res.writeHead(303, { location }).end();
        } catch (error) {
          if (!(error instanceof OidcLoginError)) throw error;
          sendJsonResponse(res, error.status, { errors: [{ message: error.message, extensions: { code: ErrorCode.UPSTREAM_UNAVAILABLE } }] });
        }
      },
    ],
    [
      '/auth/oidc/callback',
      async (req, res) => {
        if (!auth.oidcLogin) return refuse(res, ErrorCode.NOT_FOUND, 'This gateway has no OIDC sign-in (OIDC_ISSUER and OIDC_CLIENT_ID are not set).');
        try {
          const { session, returnTo, clearFlow } = await auth.oidcLogin.finish(req);
          res.setHeader('set-cookie', [clearFlow, auth.sessions.cookie(req, session)]);
          res.setHeader('cache-control', 'no-store');
          res.writeHead(303, { location: returnTo }).end();
        } catch (error) {
          if (!(error instanceof OidcLoginError)) throw error;
          const code = error.status === 403 ? ErrorCode.FORBIDDEN : error.status === 503 ? ErrorCode.UPSTREAM_UNAVAILABLE : ErrorCode.BAD_REQUEST;
          sendJsonResponse(res, error.status, { errors: [{ message: error.message, extensions: { code } }] });
        }
      },
    ],
    [
      '/auth/login',
      async (req, res) => {
        if (req.method !== 'POST') return refuse(res, ErrorCode.BAD_REQUEST, 'Sign in with POST /auth/login and a JSON body {"username", "password"}.');
        // Login CSRF: another site must not sign a browser in as someone else.
        if (!originAllowed(req, origins)) return refuse(res, ErrorCode.FORBIDDEN, crossSite(req).message);
        if (auth.mode !== 'pass-through') {
          return refuse(
            res,
            ErrorCode.BAD_REQUEST,
            'This gateway speaks to SPP as its service account: people sign in with OpenID Connect (GET /auth/oidc/login).',
          );
        }
        const login = await readLogin(req);
        if (typeof login === 'string') return refuse(res, ErrorCode.BAD_USER_INPUT, `Invalid sign-in: ${login}.`);
        let content: SessionContent;
        try {
          content = await auth.signIn(login.username, login.password);
        } catch (error) {
          const code = ((error as GraphQLError).extensions?.code as ErrorCode | undefined) ?? ErrorCode.UPSTREAM_ERROR;
          const message = code === ErrorCode.UNAUTHENTICATED ? 'SPP refused the user name or password.' : (error as GraphQLError).message;
          return refuse(res, httpStatusOf[code] ? code : ErrorCode.UPSTREAM_ERROR, message);
        }
        res.setHeader('set-cookie', auth.sessions.cookie(req, content));
        res.setHeader('cache-control', 'no-store');
        sendJsonResponse(res, 200, describeSession(auth, content));
      },
    ],
    [
      '/auth/logout',
      async (req, res) => {
        if (req.method !== 'POST') return refuse(res, ErrorCode.BAD_REQUEST, 'Sign out with POST /auth/logout.');
        if (!originAllowed(req, origins)) return refuse(res, ErrorCode.FORBIDDEN, crossSite(req).message);
        const signedOut = await auth.signOut(req.headers);
        res.setHeader('set-cookie', auth.sessions.cleared(req));
        res.setHeader('cache-control', 'no-store');
        sendJsonResponse(res, 200, { signedOut });
      },
    ],
    [
      '/auth/session',
      (req, res) => {
        // Asking does not move the idle clock: a page polling this must not keep a session alive.
        const content = auth.sessions.read(req.headers);
        res.setHeader('cache-control', 'no-store');
        if (content === undefined || content === 'ended') {
          return sendJsonResponse(res, 200, { signedIn: false, ...(content ? { ended: true } : {}), signIn: signInMethods(auth) });
        }
        sendJsonResponse(res, 200, describeSession(auth, content));
      },
    ],
  ]);

  /**
   * Before a GraphQL request or event stream: resolves the caller (a JWT needs an async check),
   * refuses cross-site use of the cookie, and moves the session's idle clock.
   */
  const admit = async (req: IncomingMessage, res: ServerResponse, eventStream: boolean): Promise<Refusal | undefined> => {
    const outcome = await auth.prepare(req.headers);
    if (!('session' in outcome) || !outcome.session) return undefined;
    if ((eventStream || !SAFE_METHODS.has(req.method ?? 'GET')) && !originAllowed(req, origins)) return crossSite(req);
    const refreshed = auth.sessions.refreshed(req, outcome.session);
    if (refreshed) res.setHeader('set-cookie', refreshed);
    return undefined;
  };
  return { routes, admit };
}
