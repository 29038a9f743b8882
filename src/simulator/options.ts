/**
 * Simulator settings from environment variables and command-line flags, shared by the
 * standalone CLI (`npm run simulator`, the docker-compose service) and the gateway's
 * embedded mode. Flags override variables; empty variables count as unset (as with
 * `VAR= command` or a blank docker-compose entry). Invalid values throw a
 * SimulatorConfigError whose message is one line naming the variable or flag.
 *
 * Only what is set is returned: `port`/`host` defaults differ between the standalone CLI
 * (8090 on 0.0.0.0, see cli.ts) and the embedded mode (any free port on 127.0.0.1).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { SimulatorUser } from './auth.js';
import type { SimulatorOptions, SimulatorQuirks } from './types.js';

export class SimulatorConfigError extends Error {
  override name = 'SimulatorConfigError';
}

export const CLI_DEFAULT_PORT = 8090;
export const CLI_DEFAULT_HOST = '0.0.0.0';

const QUIRK_NAMES: Readonly<Record<string, keyof SimulatorQuirks>> = {
  'total-zero': 'totalAlwaysZero',
  'ignore-page-size': 'ignorePageSize',
  'cancelled-spelling': 'cancelledSpelling',
};

interface Setting {
  env: string;
  flag: string;
  arg: string;
  help: string;
}

const SETTINGS = {
  port: { env: 'SIM_PORT', flag: 'port', arg: 'N', help: `TCP port (standalone default ${CLI_DEFAULT_PORT}; 0 = any free port)` },
  host: { env: 'SIM_HOST', flag: 'host', arg: 'ADDR', help: `listen address (standalone default ${CLI_DEFAULT_HOST})` },
  seed: { env: 'SIM_SEED', flag: 'seed', arg: 'N', help: 'data generator seed (default 1)' },
  size: { env: 'SIM_SIZE', flag: 'size', arg: 'N', help: 'number of job sessions (default 4877)' },
  now: { env: 'SIM_NOW', flag: 'now', arg: 'MS|ISO', help: 'instant the generated history ends at (default: start time)' },
  latency: {
    env: 'SIM_LATENCY_MS',
    flag: 'latency-ms',
    arg: 'MS',
    help: 'fixed latency added to list and record responses: jobsession, job, log/job (default 0)',
  },
  jitter: { env: 'SIM_JITTER_MS', flag: 'jitter-ms', arg: 'MS', help: 'random extra latency, 0..MS (default 0)' },
  errorRate: { env: 'SIM_ERROR_RATE', flag: 'error-rate', arg: '0..1', help: 'fraction of jobsession requests answered 500/503 (default 0)' },
  hangRate: { env: 'SIM_HANG_RATE', flag: 'hang-rate', arg: '0..1', help: 'fraction of jobsession requests never answered (default 0)' },
  dropRate: { env: 'SIM_DROP_RATE', flag: 'drop-rate', arg: '0..1', help: 'fraction of jobsession requests whose socket is destroyed (default 0)' },
  quirks: { env: 'SIM_QUIRKS', flag: 'quirks', arg: 'LIST', help: `comma list of ${Object.keys(QUIRK_NAMES).join(', ')}` },
  idle: { env: 'SIM_SESSION_IDLE_MS', flag: 'session-idle-ms', arg: 'MS', help: 'login session idle timeout (default 2700000 = 45 min)' },
  maxPageSize: { env: 'SIM_MAX_PAGE_SIZE', flag: 'max-page-size', arg: 'N', help: 'larger pageSize values are clamped to this (default 10000)' },
  liveInterval: { env: 'SIM_LIVE_INTERVAL_MS', flag: 'live-interval-ms', arg: 'MS', help: 'live mode: insert/progress sessions every MS (default off)' },
  liveInsert: { env: 'SIM_LIVE_INSERT', flag: 'live-insert', arg: 'N', help: 'live mode: sessions inserted per tick (default 1)' },
  liveExpire: { env: 'SIM_LIVE_EXPIRE', flag: 'live-expire', arg: 'N', help: 'live mode: oldest sessions removed per tick (default 0)' },
  users: {
    env: 'SIM_USERS',
    flag: 'users',
    arg: 'LIST',
    help: 'name:password[:type1|type2],... (default admin:admin-password,catalog-operator:catalog-password:catalog, and monitor:monitor-password who acts on nothing)',
  },
  tlsKey: { env: 'SIM_TLS_KEY_FILE', flag: 'tls-key-file', arg: 'PATH', help: 'PEM private key: serve HTTPS (needs the cert too)' },
  tlsCert: { env: 'SIM_TLS_CERT_FILE', flag: 'tls-cert-file', arg: 'PATH', help: 'PEM certificate for HTTPS' },
} satisfies Record<string, Setting>;

type SettingKey = keyof typeof SETTINGS;

export const USAGE = [
  'Usage: npm run simulator -- [flags]   (or: tsx src/simulator/cli.ts [flags])',
  '',
  'IBM Spectrum Protect Plus job-session REST simulator. Every flag has an environment',
  'variable; flags win over variables.',
  '',
  ...Object.values(SETTINGS).map((s: Setting) => `  --${`${s.flag} ${s.arg}`.padEnd(24)} ${s.env.padEnd(22)} ${s.help}`),
  `  --${'help'.padEnd(24)} ${''.padEnd(22)} print this text`,
].join('\n');

function fail(name: string, raw: string, expected: string): never {
  throw new SimulatorConfigError(`Invalid ${name} (${JSON.stringify(raw)}): ${expected}`);
}

function parseInteger(name: string, raw: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const t = raw.trim();
  if (!/^-?\d+$/.test(t)) fail(name, raw, 'expected a whole number');
  const n = Number(t);
  if (!Number.isSafeInteger(n) || n < min || n > max) fail(name, raw, `expected a whole number from ${min} to ${max}`);
  return n;
}

function parseNumber(name: string, raw: string, min: number, max: number): number {
  const t = raw.trim();
  const n = t === '' ? Number.NaN : Number(t);
  if (!Number.isFinite(n) || n < min || n > max) fail(name, raw, `expected a number from ${min} to ${max}`);
  return n;
}

function parseNow(name: string, raw: string): number {
  const t = raw.trim();
  if (/^\d+$/.test(t)) return parseInteger(name, t, 0);
  const ms = Date.parse(t);
  if (Number.isNaN(ms)) fail(name, raw, 'expected epoch milliseconds or an ISO 8601 date');
  return ms;
}

function parseQuirks(name: string, raw: string): SimulatorQuirks {
  const quirks: SimulatorQuirks = {};
  for (const token of raw
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '')) {
    const key = QUIRK_NAMES[token];
    if (!key) fail(name, raw, `unknown quirk "${token}"; expected a comma list of ${Object.keys(QUIRK_NAMES).join(', ')}`);
    quirks[key] = true;
  }
  return quirks;
}

/** `name:password[:type1|type2],...`; passwords cannot contain ':' or ','. */
export function parseUsers(name: string, raw: string): SimulatorUser[] {
  const users: SimulatorUser[] = [];
  const entries = raw.split(',').map((e) => e.trim());
  for (const e of entries) {
    const parts = e.split(':');
    if (parts.length < 2 || parts.length > 3 || !parts[0] || !parts[1]) {
      fail(name, raw, 'expected name:password[:type1|type2] entries separated by commas');
    }
    if (users.some((u) => u.username === parts[0])) fail(name, raw, `user "${parts[0]}" is listed twice`);
    const user: SimulatorUser = { username: parts[0], password: parts[1] };
    if (parts.length === 3) {
      const types = parts[2]!
        .split('|')
        .map((t) => t.trim())
        .filter((t) => t !== '');
      if (types.length === 0) fail(name, raw, `user "${parts[0]}" has an empty type list`);
      user.allowedTypes = types;
    }
    users.push(user);
  }
  return users;
}

function readPem(name: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    return fail(name, path, `cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

/**
 * Reads SIM_* variables from `env` and, when given, flags from `argv` (without the node and
 * script entries; `--help` is the caller's business and rejected here like any unknown flag).
 */
export function optionsFromEnv(env: NodeJS.ProcessEnv, argv: string[] = []): SimulatorOptions {
  let flags: Record<string, string | undefined>;
  try {
    const parsed = parseArgs({
      args: argv,
      options: Object.fromEntries(Object.values(SETTINGS).map((s: Setting) => [s.flag, { type: 'string' as const }])),
      strict: true,
      allowPositionals: false,
    });
    flags = parsed.values;
  } catch (error) {
    throw new SimulatorConfigError(`Invalid command line: ${(error as Error).message.split('\n')[0]}`);
  }

  /** The raw value and the name to blame: the flag when given, else the variable. */
  const get = (key: SettingKey): [string, string] | undefined => {
    const s = SETTINGS[key];
    const flag = flags[s.flag];
    if (flag !== undefined) return [`--${s.flag}`, flag];
    const v = env[s.env];
    if (v !== undefined && v.trim() !== '') return [s.env, v];
    return undefined;
  };

  const options: SimulatorOptions = {};
  let v: [string, string] | undefined;
  if ((v = get('port'))) options.port = parseInteger(v[0], v[1], 0, 65535);
  if ((v = get('host'))) {
    if (v[1].trim() === '') fail(v[0], v[1], 'expected a host name or IP address');
    options.host = v[1].trim();
  }
  if ((v = get('seed'))) options.seed = parseInteger(v[0], v[1], -2147483648, 4294967295);
  if ((v = get('size'))) options.size = parseInteger(v[0], v[1], 0, 1_000_000);
  if ((v = get('now'))) options.now = parseNow(v[0], v[1]);

  const latency: NonNullable<SimulatorOptions['latency']> = {};
  if ((v = get('latency'))) latency.fixedMs = parseNumber(v[0], v[1], 0, 600_000);
  if ((v = get('jitter'))) latency.jitterMs = parseNumber(v[0], v[1], 0, 600_000);
  if (Object.keys(latency).length > 0) options.latency = latency;

  const faults: NonNullable<SimulatorOptions['faults']> = {};
  if ((v = get('errorRate'))) faults.errorRate = parseNumber(v[0], v[1], 0, 1);
  if ((v = get('hangRate'))) faults.hangRate = parseNumber(v[0], v[1], 0, 1);
  if ((v = get('dropRate'))) faults.dropRate = parseNumber(v[0], v[1], 0, 1);
  if (Object.keys(faults).length > 0) {
    const sum = (faults.errorRate ?? 0) + (faults.hangRate ?? 0) + (faults.dropRate ?? 0);
    if (sum > 1) {
      throw new SimulatorConfigError(`Invalid fault rates: SIM_ERROR_RATE + SIM_HANG_RATE + SIM_DROP_RATE is ${sum}, must not exceed 1`);
    }
    options.faults = faults;
  }

  if ((v = get('quirks'))) options.quirks = parseQuirks(v[0], v[1]);
  if ((v = get('idle'))) options.sessionIdleMs = parseInteger(v[0], v[1], 1);
  if ((v = get('maxPageSize'))) options.maxPageSize = parseInteger(v[0], v[1], 1);

  const interval = get('liveInterval');
  const insert = get('liveInsert');
  const expire = get('liveExpire');
  if (interval) {
    options.live = { intervalMs: parseInteger(interval[0], interval[1], 1) };
    if (insert) options.live.insertPerTick = parseInteger(insert[0], insert[1], 0, 10_000);
    if (expire) options.live.expirePerTick = parseInteger(expire[0], expire[1], 0, 10_000);
  } else if (insert || expire) {
    const which = (insert ?? expire)!;
    fail(which[0], which[1], `only meaningful with ${SETTINGS.liveInterval.env} / --${SETTINGS.liveInterval.flag}`);
  }

  if ((v = get('users'))) options.users = parseUsers(v[0], v[1]);

  const key = get('tlsKey');
  const cert = get('tlsCert');
  if (key && cert) options.tls = { key: readPem(key[0], key[1]), cert: readPem(cert[0], cert[1]) };
  else if (key || cert) {
    const which = (key ?? cert)!;
    fail(which[0], which[1], 'HTTPS needs both SIM_TLS_KEY_FILE and SIM_TLS_CERT_FILE');
  }
  return options;
}
