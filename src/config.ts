/**
 * The gateway's configuration, read from environment variables (docs/configuration.md lists
 * each with its default). Invalid values stop the start with one line naming the variable.
 */
import { readFileSync } from 'node:fs';
import proxyaddr from 'proxy-addr';
import { parse as parseYaml } from 'yaml';
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
  // SPP's own examples write the base URL with and without `/api`; the client adds `/api` itself,
  // so a trailing `/api` is dropped rather than turned into `/api/api/...` (every call a 404).
  .transform((v) => v.replace(/\/+$/, '').replace(/\/api$/i, ''));

const originList = z
  .string()
  .transform((v) => v.split(',').map((o) => o.trim()))
  .refine((list) => list.every((o) => o === '*' || /^https?:\/\/[^/\s]+$/i.test(o)), {
    message: 'expected "*" or comma-separated origins such as https://monitor.example.com (scheme and host, no path)',
  });

const tokenList = z
  .string()
  .transform((v) => v.split(','))
  .refine((list) => list.every((t) => t.trim().length > 0), { message: 'expected comma-separated tokens with no empty entry' })
  .transform((list) => list.map((t) => t.trim()));

/**
 * TRUSTED_PROXIES in proxy-addr's syntax (Express's "trust proxy"): addresses, CIDR ranges, and the
 * names loopback, linklocal and uniquelocal. Each entry is compiled here so that a typo stops the
 * start with its name, instead of silently trusting nothing (or everything).
 */
const proxyList = z
  .string()
  .transform((v) => v.split(',').map((entry) => entry.trim()))
  .superRefine((list, ctx) => {
    for (const entry of list) {
      try {
        if (entry === '') throw new Error('empty');
        proxyaddr.compile(entry);
      } catch {
        ctx.addIssue({
          code: 'custom',
          message: `expected comma-separated addresses, CIDR ranges such as 10.0.0.0/8, or loopback, linklocal, uniquelocal; ${JSON.stringify(entry)} is none of them`,
        });
        return;
      }
    }
  });

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
  // The whole window in one request (IBM's own clients ask 1000 to 10000); a lower cap of SPP is learned from its answers.
  SPP_PAGE_SIZE_CAP: int(1, 100_000).default(10_000),
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
  // Actions (docs/security.md "Actions"): service-account mode acts only when this is true.
  GATEWAY_ALLOW_MUTATIONS: bool.default(false),
  IDEMPOTENCY_WINDOW_MS: int(0, 24 * 3_600_000).default(10 * 60_000),
  // How long startJob/rerunJobSession look for the session they created (IBM's client: 5 polls 2 s apart).
  ACTION_SESSION_WAIT_MS: int(0, 60_000).default(10_000),
  GRAPHQL_INTROSPECTION: bool.optional(),
  GRAPHQL_LANDING_PAGE: bool.optional(),
  // Parsed, validated documents kept (estimated heap MiB); 0 turns the cache off.
  GRAPHQL_DOCUMENT_CACHE_MB: int(0, 1024).default(16),
  MAX_DEPTH: int(1).default(12),
  MAX_ALIASES: int(0).default(30),
  MAX_COST: int(1).default(100_000),
  MAX_DOCUMENT_BYTES: int(100).default(20_000),
  MAX_BODY_BYTES: int(1_000).default(200_000),
  MAX_BATCH: int(1).default(10),
  SHUTDOWN_GRACE_MS: int(0).default(10_000),
  SHUTDOWN_DRAIN_MS: int(0).optional(),
  SHUTDOWN_LOGOUT_MS: int(0).default(2_000),

  CORS_ORIGINS: originList.optional(),
  CORS_CREDENTIALS: bool.default(true),
  CORS_MAX_AGE_S: int(0, 86_400).default(600),

  READY_MAX_AGE_MS: int(0).default(10_000),

  PERSISTED_DOCUMENTS_FILE: z.string().min(1).optional(),
  ALLOW_ARBITRARY_OPERATIONS: bool.optional(),

  METRICS_TOKEN: z.string().min(16, { message: 'expected at least 16 characters' }).optional(),
  METRICS_PORT: int(0, 65535).optional(),

  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().trim().url({ message: 'expected an http(s) URL such as http://otel-collector:4318' }).optional(),
  OTEL_SERVICE_NAME: z.string().min(1).default('spp-jobsession-gateway'),

  COMPRESSION_THRESHOLD_BYTES: int(0).default(4_096),

  // Issue 20 (a consumer's toolkit): GET /schema.graphql where introspection is off needs `Authorization: Bearer <SCHEMA_TOKEN>`.
  SCHEMA_TOKEN: z.string().min(16, { message: 'expected at least 16 characters' }).optional(),
  // The schema's @cacheControl hints become Cache-Control on GET answers; false: every answer no-store, no per-field hook.
  HTTP_CACHE_HINTS: bool.default(true),

  // Live updates (docs/live-updates.md).
  SUBSCRIPTION_POLL_MS: int(10).default(2_000),
  SUBSCRIPTION_IDLE_POLL_MS: int(10).default(6_000),
  SUBSCRIPTION_MAX_BACKOFF_MS: int(10).default(60_000),
  SUBSCRIPTION_WINDOW: int(1, 10_000).default(100),
  SUBSCRIPTION_BUFFER: int(1).default(1_000),
  SUBSCRIPTIONS_PER_CONNECTION: int(1).default(100),
  SUBSCRIPTIONS_PER_IDENTITY: int(1).default(10_000),
  SUBSCRIPTION_MAX_POLLERS: int(1).default(1_000),
  SUBSCRIPTION_MAX_CONNECTIONS: int(1).default(10_000),
  SUBSCRIPTION_ALLOWED_ORIGINS: tokenList.optional(),
  // Issue 20 (multipart subscriptions, resumable events): docs/live-updates.md.
  SUBSCRIPTION_HEARTBEAT_MS: int(10).default(5_000),
  SUBSCRIPTION_RESUME_EVENTS: int(1, 1_000_000).default(10_000),
  SUBSCRIPTION_RESUME_MS: int(1_000).default(300_000),

  // Several replicas (docs/operations.md "Running several replicas").
  REDIS_URL: z
    .string()
    .trim()
    .refine((v) => /^rediss?:\/\/[^\s]+$/i.test(v), { message: 'expected a redis:// or rediss:// URL such as redis://redis:6379' })
    .optional(),
  REDIS_KEY_PREFIX: z.string().trim().min(1).default('spp-gw:'),
  REDIS_TIMEOUT_MS: int(1).default(500),
  REDIS_LEASE_MS: int(100).default(10_000),
  SESSION_SECRET: z.string().min(32, { message: 'expected at least 32 characters' }).optional(),
  // Issue 19 (know your callers): API keys, OIDC, browser sessions (docs/security.md).
  API_KEYS_FILE: z.string().trim().min(1).optional(),
  OIDC_ISSUER: z.url({ message: 'expected the issuer URL, e.g. https://keycloak.example.com/realms/spp' }).optional(),
  OIDC_CLIENT_ID: z.string().trim().min(1).optional(),
  OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  OIDC_AUDIENCE: z.string().trim().min(1).optional(),
  OIDC_ROLES_CLAIM: z
    .string()
    .trim()
    .regex(/^[^.\s]+(\.[^.\s]+)*$/, { message: 'expected a claim name or a dotted path such as realm_access.roles' })
    .default('roles'),
  ROLE_MAP: z
    .string()
    .trim()
    .regex(/^[^=,\s]+=(viewer|operator)(\s*,\s*[^=,\s]+=(viewer|operator))*$/, {
      message: 'expected claim-value=role pairs such as spp-operators=operator,spp-viewers=viewer',
    })
    .optional(),
  OIDC_ALGORITHMS: z
    .string()
    .trim()
    .regex(/^(RS|PS|ES)(256|384|512)(,(RS|PS|ES)(256|384|512)|,EdDSA)*$|^EdDSA(,(RS|PS|ES)(256|384|512)|,EdDSA)*$/, {
      message: 'expected a comma list of asymmetric JWS algorithms such as RS256,ES256 ("none" and HMAC are never accepted)',
    })
    .default('RS256,PS256,ES256,EdDSA'),
  OIDC_CLOCK_SKEW_S: int(0, 300).default(30),
  // A token signed with an unknown key fetches the issuer's keys again, at most this often.
  OIDC_JWKS_COOLDOWN_MS: int(0, 3_600_000).default(30_000),
  OIDC_REDIRECT_URI: z.url().optional(),
  OIDC_SCOPES: z
    .string()
    .trim()
    .regex(/(^|\s)openid(\s|$)/, { message: 'expected space-separated scopes including openid' })
    .default('openid profile email'),
  SESSION_IDLE_MS: int(60_000).default(30 * 60_000),
  SESSION_MAX_MS: int(60_000).default(12 * 3_600_000),
  // Slow senders: see createGateway (src/gateway.ts) for why these values.
  HTTP_HEADERS_TIMEOUT_MS: int(1_000).default(10_000),
  HTTP_REQUEST_TIMEOUT_MS: int(1_000).default(30_000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: int(1_000).default(65_000),

  // Issue 19: a cost budget per consumer (docs/security.md "Budgets"). QUOTA_POINTS=0 turns budgets off.
  QUOTA_POINTS: int(0).default(100_000),
  QUOTA_RESTORE_PER_S: int(0).default(5_000),
  SUBSCRIPTION_CONNECTIONS_PER_CALLER: int(1).default(100),
  // Behind a proxy or an ingress, the client is the address its X-Forwarded-For names (docs/security.md "Budgets").
  TRUSTED_PROXIES: proxyList.optional(),
  // How many proxies stand in a row before the gateway (a cloud load balancer before ingress-nginx: 2).
  TRUSTED_PROXY_HOPS: int(1, 10).default(1),

  // Issue 21: several SPP servers in one graph (docs/multi-server.md).
  SPP_SERVERS_FILE: z.string().min(1).optional(),
  READY_SERVERS: z.enum(['any', 'all']).default('any'),
  SIM_SERVERS: int(1, 9).default(1),
});

export type Env = z.infer<typeof envSchema>;

/** How long /readyz answers 503 before the gateway stops accepting: load balancers need a few probes to notice. */
export const drainMsOf = (env: Env): number => env.SHUTDOWN_DRAIN_MS ?? (env.NODE_ENV === 'production' ? 5_000 : 0);

/**
 * Trusted documents: with a manifest, production runs only its operations unless
 * ALLOW_ARBITRARY_OPERATIONS=true; development runs anything unless it says false.
 * Without a manifest, anything runs (under the query limits).
 */
export const allowArbitraryOf = (env: Env): boolean => env.ALLOW_ARBITRARY_OPERATIONS ?? !(env.PERSISTED_DOCUMENTS_FILE && env.NODE_ENV === 'production');
/** Issue 20: whether introspection (and GET /schema.graphql without SCHEMA_TOKEN) is allowed. */
export const introspectionOf = (env: Env): boolean => env.GRAPHQL_INTROSPECTION ?? env.NODE_ENV !== 'production';

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
  /** Where SPP is; undefined means "start the embedded simulator" (or SPP_SERVERS_FILE's servers). */
  sppUrl: string | undefined;
  /** SPP_SERVERS_FILE's servers, passwords read from the variables they name (issue 21). */
  servers?: SppServerEntry[];
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
    throw new ConfigError(
      `Invalid ${name}${given !== undefined && !/PASSWORD|TOKEN|SECRET|REDIS_URL/.test(name) ? ` (${JSON.stringify(given)})` : ''}: ${issue.message}`,
    );
  }
  const env = parsed.data;
  if (env.SPP_USERNAME && env.SPP_PASSWORD === undefined) {
    throw new ConfigError('Invalid SPP_PASSWORD: required when SPP_USERNAME is set');
  }
  if (env.PAGE_DEFAULT_SIZE > env.PAGE_MAX_SIZE) {
    throw new ConfigError(`Invalid PAGE_DEFAULT_SIZE (${env.PAGE_DEFAULT_SIZE}): must not exceed PAGE_MAX_SIZE (${env.PAGE_MAX_SIZE})`);
  }
  if (env.CORS_ORIGINS?.includes('*') && env.CORS_CREDENTIALS) {
    throw new ConfigError('Invalid CORS_ORIGINS ("*"): any origin cannot be combined with credentials; list the origins, or set CORS_CREDENTIALS=false');
  }
  if (env.ALLOW_ARBITRARY_OPERATIONS === false && !env.PERSISTED_DOCUMENTS_FILE) {
    throw new ConfigError('Invalid ALLOW_ARBITRARY_OPERATIONS: false needs PERSISTED_DOCUMENTS_FILE, the operations that may run');
  }
  if (env.SUBSCRIPTION_BUFFER < 2 * env.SUBSCRIPTION_WINDOW) {
    // One poll can bring about two windows of events at once (sessions added and removed): a smaller buffer would cut off readers that keep up.
    throw new ConfigError(`Invalid SUBSCRIPTION_BUFFER (${env.SUBSCRIPTION_BUFFER}): must be at least twice SUBSCRIPTION_WINDOW (${env.SUBSCRIPTION_WINDOW})`);
  }
  if (env.REDIS_URL) {
    // Replicas must agree on these keys: a cursor or a token from one must work on the others.
    for (const name of ['CURSOR_SECRET', 'SESSION_SECRET'] as const) {
      if (!env[name]) throw new ConfigError(`Invalid ${name}: required with REDIS_URL (every replica must use the same one)`);
    }
  }
  if (env.SESSION_IDLE_MS > env.SESSION_MAX_MS) {
    throw new ConfigError(`Invalid SESSION_IDLE_MS (${env.SESSION_IDLE_MS}): must not exceed SESSION_MAX_MS (${env.SESSION_MAX_MS})`);
  }
  if (env.OIDC_ISSUER && !env.OIDC_CLIENT_ID && !env.OIDC_AUDIENCE) {
    throw new ConfigError('Invalid OIDC_ISSUER: needs OIDC_CLIENT_ID or OIDC_AUDIENCE (the audience bearer tokens must name)');
  }
  if (env.HTTP_HEADERS_TIMEOUT_MS > env.HTTP_REQUEST_TIMEOUT_MS) {
    throw new ConfigError(
      `Invalid HTTP_HEADERS_TIMEOUT_MS (${env.HTTP_HEADERS_TIMEOUT_MS}): must not exceed HTTP_REQUEST_TIMEOUT_MS (${env.HTTP_REQUEST_TIMEOUT_MS})`,
    );
  }
  if (env.SPP_SERVERS_FILE) {
    if (env.SPP_URL || env.SPP_USERNAME)
      throw new ConfigError('Invalid SPP_SERVERS_FILE: set either SPP_SERVERS_FILE or SPP_URL (with SPP_USERNAME), not both');
    const servers = loadServersFile(env.SPP_SERVERS_FILE, cleaned);
    return { env, sppUrl: undefined, servers, auth: serversAuthConfig(env, servers), production: env.NODE_ENV === 'production' };
  }
  return { env, sppUrl: env.SPP_URL, auth: authConfig(env), production: env.NODE_ENV === 'production' };
}

/** One SPP server of SPP_SERVERS_FILE (issue 21). */
export interface SppServerEntry {
  /** What `servers:` arguments, global ids and errors call it. */
  name: string;
  url: string;
  username?: string;
  /** From the variable the entry's `passwordEnv` names: never from the file. */
  password?: string;
  caFile?: string;
  tlsInsecure: boolean;
  labels: Record<string, string>;
}

const serverEntrySchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, { message: 'expected a name of letters, digits, ".", "_" or "-" (at most 63)' }),
    url: httpUrl,
    username: z.string().min(1).optional(),
    passwordEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'expected the name of an environment variable' })
      .optional(),
    caFile: z.string().min(1).optional(),
    tlsInsecure: z.boolean().default(false),
    labels: z.record(z.string(), z.string()).default({}),
  })
  .strict();

/** Reads SPP_SERVERS_FILE (YAML or JSON, a top-level array); a ConfigError names the entry and what is wrong. */
function loadServersFile(path: string, source: Record<string, string | undefined>): SppServerEntry[] {
  const fail = (why: string) => new ConfigError(`Invalid SPP_SERVERS_FILE (${JSON.stringify(path)}): ${why}`);
  let parsed: unknown;
  try {
    // YAML 1.2 is a superset of JSON: one parser reads both.
    parsed = parseYaml(readFileSync(path, 'utf8'));
  } catch (error) {
    throw fail(
      (error as NodeJS.ErrnoException).code
        ? `cannot read it: ${(error as NodeJS.ErrnoException).code}`
        : `not YAML or JSON: ${(error as Error).message.split('\n')[0]}`,
    );
  }
  if (!Array.isArray(parsed) || parsed.length === 0) throw fail('expected a non-empty list of servers ({ name, url, ... }) at the top level');
  const names = new Set<string>();
  return parsed.map((raw, i) => {
    const entry = serverEntrySchema.safeParse(raw);
    if (!entry.success) {
      const issue = entry.error.issues[0]!;
      throw fail(`entry ${i + 1}${issue.path.length > 0 ? ` field ${issue.path.join('.')}` : ''}: ${issue.message}`);
    }
    const { passwordEnv, ...server } = entry.data;
    if (names.has(server.name)) throw fail(`entry ${i + 1}: the name ${JSON.stringify(server.name)} is used twice`);
    names.add(server.name);
    if (server.username && !passwordEnv) throw fail(`entry ${i + 1} (${server.name}): username needs passwordEnv, the variable that holds its password`);
    if (passwordEnv && source[passwordEnv] === undefined) throw fail(`entry ${i + 1} (${server.name}): the variable ${passwordEnv} (passwordEnv) is not set`);
    return { ...server, ...(passwordEnv ? { password: source[passwordEnv] } : {}) };
  });
}

/** Every server with a username: service accounts; none: pass-through; a mix is refused. */
function serversAuthConfig(env: Env, servers: SppServerEntry[]): AuthConfig {
  const withAccount = servers.filter((s) => s.username).length;
  if (withAccount === 0) return authConfig({ ...env, SPP_URL: servers[0]!.url });
  if (withAccount !== servers.length) {
    throw new ConfigError('Invalid SPP_SERVERS_FILE: give every server a username (service accounts) or none (pass-through), not some');
  }
  return authConfig({ ...env, SPP_URL: servers[0]!.url, SPP_USERNAME: servers[0]!.username, SPP_PASSWORD: servers[0]!.password });
}

/**
 * The authentication mode follows from which variables are set (docs/security.md "Authentication modes"):
 * - no SPP_URL: the embedded simulator, as its admin, open to anonymous callers unless
 *   GATEWAY_ALLOW_ANONYMOUS=false or GATEWAY_TOKENS say otherwise;
 * - SPP_URL + SPP_USERNAME: service account; callers need a GATEWAY_TOKENS token unless
 *   GATEWAY_ALLOW_ANONYMOUS=true. Neither set is refused: the safe default is closed.
 * - SPP_URL alone: pass-through, each caller brings its own SPP identity.
 */
function authConfig(env: Env): AuthConfig {
  const tokens = env.GATEWAY_TOKENS ?? [];
  if (!env.SPP_URL) {
    const named = tokens.length > 0 || env.API_KEYS_FILE !== undefined || env.OIDC_ISSUER !== undefined;
    return { mode: 'service-account', serviceAccount: undefined, tokens, allowAnonymous: env.GATEWAY_ALLOW_ANONYMOUS ?? !named };
  }
  if (env.SPP_USERNAME) {
    const allowAnonymous = env.GATEWAY_ALLOW_ANONYMOUS ?? false;
    if (tokens.length === 0 && !allowAnonymous && !env.API_KEYS_FILE && !env.OIDC_ISSUER) {
      throw new ConfigError(
        'Invalid GATEWAY_TOKENS: required with SPP_USERNAME (service-account mode) unless API_KEYS_FILE, OIDC_ISSUER or GATEWAY_ALLOW_ANONYMOUS=true',
      );
    }
    return { mode: 'service-account', serviceAccount: { username: env.SPP_USERNAME, password: env.SPP_PASSWORD ?? '' }, tokens, allowAnonymous };
  }
  if (env.API_KEYS_FILE || env.OIDC_ISSUER) {
    throw new ConfigError(
      `Invalid ${env.API_KEYS_FILE ? 'API_KEYS_FILE' : 'OIDC_ISSUER'}: needs SPP_USERNAME and SPP_PASSWORD, the service account the gateway reads and acts as for these callers (SPP knows neither API keys nor OIDC)`,
    );
  }
  if (env.GATEWAY_TOKENS || env.GATEWAY_ALLOW_ANONYMOUS) {
    throw new ConfigError(
      `Invalid ${env.GATEWAY_TOKENS ? 'GATEWAY_TOKENS' : 'GATEWAY_ALLOW_ANONYMOUS'}: only meaningful with SPP_USERNAME; without it the gateway is in pass-through mode and callers bring their own SPP credentials`,
    );
  }
  return { mode: 'pass-through' };
}
