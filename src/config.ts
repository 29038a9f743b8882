/**
 * The gateway's configuration, read from environment variables (the README lists each
 * with its default). Invalid values stop the start with one line naming the variable.
 */
import { z } from 'zod';

const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, { message: 'expected a whole number' })
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const bool = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['true', 'false', '1', '0', 'yes', 'no'].includes(v), { message: 'expected true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const httpUrl = z
  .string()
  .trim()
  .url({ message: 'expected an http(s) URL such as https://spp.example.com' })
  .refine((v) => /^https?:\/\//i.test(v), { message: 'expected an http:// or https:// URL' })
  .transform((v) => v.replace(/\/+$/, ''));

const tokenList = z
  .string()
  .transform((v) => v.split(','))
  .refine((list) => list.every((t) => t.trim().length > 0), { message: 'expected comma-separated tokens with no empty entry' })
  .transform((list) => list.map((t) => t.trim()));

const envSchema = z.object({
  NODE_ENV: z.string().default('development'),
  PORT: int(0, 65535).default(4000),
  HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  SPP_URL: httpUrl.optional(),
  SPP_USERNAME: z.string().min(1).optional(),
  SPP_PASSWORD: z.string().optional(),
  SPP_CA_FILE: z.string().min(1).optional(),
  SPP_TLS_INSECURE: bool.default(false),
  SPP_CONNECT_TIMEOUT_MS: int(1).default(5_000),
  SPP_RESPONSE_TIMEOUT_MS: int(1).default(30_000),
  SPP_RETRY_LIMIT: int(0, 10).default(2),
  SPP_MAX_RETRY_AFTER_MS: int(0).default(5_000),
  SPP_PAGE_SIZE_CAP: int(1, 100_000).default(100),
  SPP_FANOUT_CONCURRENCY: int(1, 64).default(12),
  SPP_MAX_SOCKETS: int(1, 1024).default(32),
  SPP_SESSION_IDLE_MS: int(60_000).default(45 * 60_000),
  SPP_CACHE_TTL_MS: int(0).default(0),
  SPP_CACHE_MAX_ENTRIES: int(1).default(500),

  PAGE_DEFAULT_SIZE: int(1).default(50),
  PAGE_MAX_SIZE: int(1).default(1000),
  CURSOR_SECRET: z.string().min(16, { message: 'expected at least 16 characters' }).optional(),

  GATEWAY_TOKENS: tokenList.optional(),
  GATEWAY_ALLOW_ANONYMOUS: bool.optional(),
  GRAPHQL_INTROSPECTION: bool.optional(),
  GRAPHQL_LANDING_PAGE: bool.optional(),
  MAX_DEPTH: int(1).default(12),
  MAX_ALIASES: int(0).default(30),
  MAX_COST: int(1).default(100_000),
  MAX_DOCUMENT_BYTES: int(100).default(20_000),
  MAX_BODY_BYTES: int(1_000).default(200_000),
  MAX_BATCH: int(1).default(10),
  SHUTDOWN_GRACE_MS: int(0).default(10_000),
  // Slow senders: see createGateway (src/server.ts) for why these values.
  HTTP_HEADERS_TIMEOUT_MS: int(1_000).default(10_000),
  HTTP_REQUEST_TIMEOUT_MS: int(1_000).default(30_000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: int(1_000).default(65_000),
});

export type Env = z.infer<typeof envSchema>;

export type AuthConfig =
  | {
      mode: 'service-account';
      /** Undefined in the embedded-simulator default: the simulator's admin is used. */
      serviceAccount: { username: string; password: string } | undefined;
      tokens: string[];
      allowAnonymous: boolean;
    }
  | { mode: 'pass-through' };

export interface GatewayConfig {
  env: Env;
  /** Where SPP is; undefined means "start the embedded simulator". */
  sppUrl: string | undefined;
  auth: AuthConfig;
  production: boolean;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment; throws a ConfigError whose message is one line naming the variable. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): GatewayConfig {
  // Empty strings mean "unset", as in most shells' `VAR= command`.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? 'environment');
    const given = cleaned[name];
    throw new ConfigError(`Invalid ${name}${given !== undefined && !/PASSWORD|TOKEN|SECRET/.test(name) ? ` (${JSON.stringify(given)})` : ''}: ${issue.message}`);
  }
  const env = parsed.data;
  if (env.SPP_USERNAME && env.SPP_PASSWORD === undefined) {
    throw new ConfigError('Invalid SPP_PASSWORD: required when SPP_USERNAME is set');
  }
  if (env.PAGE_DEFAULT_SIZE > env.PAGE_MAX_SIZE) {
    throw new ConfigError(`Invalid PAGE_DEFAULT_SIZE (${env.PAGE_DEFAULT_SIZE}): must not exceed PAGE_MAX_SIZE (${env.PAGE_MAX_SIZE})`);
  }
  if (env.HTTP_HEADERS_TIMEOUT_MS > env.HTTP_REQUEST_TIMEOUT_MS) {
    throw new ConfigError(`Invalid HTTP_HEADERS_TIMEOUT_MS (${env.HTTP_HEADERS_TIMEOUT_MS}): must not exceed HTTP_REQUEST_TIMEOUT_MS (${env.HTTP_REQUEST_TIMEOUT_MS})`);
  }
  return { env, sppUrl: env.SPP_URL, auth: authConfig(env), production: env.NODE_ENV === 'production' };
}

/**
 * The authentication mode follows from which variables are set (README "Security"):
 * - no SPP_URL: the embedded simulator, as its admin, open to anonymous callers unless
 *   GATEWAY_ALLOW_ANONYMOUS=false or GATEWAY_TOKENS say otherwise;
 * - SPP_URL + SPP_USERNAME: service account; callers need a GATEWAY_TOKENS token unless
 *   GATEWAY_ALLOW_ANONYMOUS=true. Neither set is refused: the safe default is closed.
 * - SPP_URL alone: pass-through, each caller brings its own SPP identity.
 */
function authConfig(env: Env): AuthConfig {
  const tokens = env.GATEWAY_TOKENS ?? [];
  if (!env.SPP_URL) {
    return { mode: 'service-account', serviceAccount: undefined, tokens, allowAnonymous: env.GATEWAY_ALLOW_ANONYMOUS ?? tokens.length === 0 };
  }
  if (env.SPP_USERNAME) {
    const allowAnonymous = env.GATEWAY_ALLOW_ANONYMOUS ?? false;
    if (tokens.length === 0 && !allowAnonymous) {
      throw new ConfigError('Invalid GATEWAY_TOKENS: required with SPP_USERNAME (service-account mode) unless GATEWAY_ALLOW_ANONYMOUS=true');
    }
    return { mode: 'service-account', serviceAccount: { username: env.SPP_USERNAME, password: env.SPP_PASSWORD ?? '' }, tokens, allowAnonymous };
  }
  if (env.GATEWAY_TOKENS || env.GATEWAY_ALLOW_ANONYMOUS) {
    throw new ConfigError(`Invalid ${env.GATEWAY_TOKENS ? 'GATEWAY_TOKENS' : 'GATEWAY_ALLOW_ANONYMOUS'}: only meaningful with SPP_USERNAME; without it the gateway is in pass-through mode and callers bring their own SPP credentials`);
  }
  return { mode: 'pass-through' };
}
