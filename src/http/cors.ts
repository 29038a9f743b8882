/**
 * Cross-origin access for browser apps on their own origin (the `cors` package, which speaks
 * node:http). A preflight (`OPTIONS` with `Access-Control-Request-Method`) is answered here
 * with 204; other requests get the `Access-Control-Allow-*` headers and go on.
 *
 * CSRF prevention (Apollo's) stays on and the two work together: a cross-origin POST of
 * `application/json`, or one with `apollo-require-preflight`, is preflighted by the browser,
 * and only allowed origins pass the preflight; simple requests without those stay refused.
 *
 * Which origins (docs/configuration.md, docs/security.md "Browsers (CORS)"): CORS_ORIGINS when set; otherwise none in
 * production and in front of a real SPP (same-origin only), and localhost origins in front of
 * the embedded simulator (development). `*` is refused with credentials (config.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import cors from 'cors';

export interface CorsSettings {
  /** Allowed origins: exact strings, `*`, or patterns; empty: same-origin only (no headers at all). */
  origins: Array<string | RegExp>;
  credentials: boolean;
  maxAgeSeconds: number;
}

/** Any port on the loopback names a browser uses in development. */
export const LOCALHOST_ORIGINS = [/^https?:\/\/localhost(:\d+)?$/, /^https?:\/\/127\.0\.0\.1(:\d+)?$/, /^https?:\/\/\[::1\](:\d+)?$/];

const ALLOWED_HEADERS = [
  'Content-Type',
  'Authorization',
  'X-Endeavour-Sessionid',
  'Apollo-Require-Preflight',
  'X-Apollo-Operation-Name',
  'X-Request-Id',
  // Apollo Client names the app with these: logs and metrics name it too (docs/security.md "Budgets").
  'Apollographql-Client-Name',
  'Apollographql-Client-Version',
  'Traceparent',
  'Tracestate',
];

export type CorsHandler = (req: IncomingMessage, res: ServerResponse) => Promise<'answered' | 'continue'>;

export function corsSettingsFor(
  env: { CORS_ORIGINS?: string[] | undefined; CORS_CREDENTIALS: boolean; CORS_MAX_AGE_S: number },
  embeddedSimulator: boolean,
  production: boolean,
): CorsSettings {
  const origins = env.CORS_ORIGINS ?? (embeddedSimulator && !production ? LOCALHOST_ORIGINS : []);
  return { origins, credentials: env.CORS_CREDENTIALS, maxAgeSeconds: env.CORS_MAX_AGE_S };
}

export function createCorsHandler(settings: CorsSettings): CorsHandler | undefined {
  if (settings.origins.length === 0) return undefined;
  const middleware = cors({
    origin: settings.origins.includes('*') ? '*' : settings.origins,
    credentials: settings.credentials,
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: ALLOWED_HEADERS,
    // A browser app reads where its budget stands (docs/security.md "Budgets") as any other client.
    exposedHeaders: ['X-Request-Id', 'WWW-Authenticate', 'RateLimit', 'RateLimit-Policy', 'Retry-After'],
    maxAge: settings.maxAgeSeconds,
    // The preflight is answered here (204); it never reaches GraphQL.
    preflightContinue: false,
    optionsSuccessStatus: 204,
  });
  // With static options the middleware decides synchronously: it either calls next (headers
  // set, go on) or ends the response (a preflight, answered).
  return (req, res) =>
    new Promise((resolve, reject) => {
      let next = false;
      middleware(req, res, (error?: unknown) => {
        next = true;
        if (error) reject(error instanceof Error ? error : new Error(JSON.stringify(error)));
        else resolve('continue');
      });
      if (next) return;
      if (res.writableEnded) resolve('answered');
      else res.once('finish', () => resolve('answered'));
    });
}
