/**
 * The container setup (Dockerfile, .dockerignore, docker-compose.yml) checked without a
 * Docker engine: the files are parsed, their settings are fed to the same parsers the
 * programs use (loadConfig, optionsFromEnv), and the healthcheck commands are run with
 * this Node against the simulator and gateway started as processes with the compose settings.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { drainMsOf, loadConfig } from '../src/config.js';
import { DEFAULT_USERS, optionsFromEnv } from '../src/simulator/index.js';
import { startProcess, type Started } from './support/processes.js';
import { redisServerPath, startRedis, warnIfNoRedis, type RedisServer } from './support/redis.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string): string => readFileSync(`${root}${path}`, 'utf8');

// ---- docker-compose.yml ---------------------------------------------------------------

type Env = Record<string, string>;

interface ComposeService {
  build?: string | { context?: string; dockerfile?: string };
  image?: string;
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | number | { target?: number | string; published?: number | string })[];
  healthcheck?: { test?: string | string[]; disable?: boolean };
  stop_grace_period?: string;
  depends_on?: string[] | Record<string, { condition?: string }>;
  profiles?: string[];
  volumes?: string[];
}

// merge: the replicas of the scale profile share one definition through a YAML merge key, as Compose reads it.
const compose = parse(read('docker-compose.yml'), { merge: true }) as { services?: Record<string, ComposeService> };
const services = compose.services ?? {};
const SIMULATOR = 'spp-simulator';
const GATEWAY = 'gateway';

function service(name: string): ComposeService {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no service "${name}"`);
  return s;
}

/** The environment as the container sees it (map or KEY=VALUE list syntax). */
function environmentOf(name: string): Env {
  const raw = service(name).environment ?? {};
  if (Array.isArray(raw)) {
    return Object.fromEntries(
      raw.map((entry) => {
        const eq = entry.indexOf('=');
        return eq < 0 ? [entry, ''] : [entry.slice(0, eq), entry.slice(eq + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

/** Published and container ports (short "HOST:CONTAINER" or long syntax). */
function portsOf(name: string): { published: number; target: number }[] {
  return (service(name).ports ?? []).map((p) => {
    if (typeof p === 'object') return { published: Number(p.published), target: Number(p.target) };
    const parts = String(p).split('/')[0]!.split(':');
    const target = Number(parts[parts.length - 1]);
    const published = parts.length >= 2 ? Number(parts[parts.length - 2]) : Number.NaN;
    return { published, target };
  });
}

function commandOf(name: string): string[] | undefined {
  const c = service(name).command;
  return typeof c === 'string' ? c.trim().split(/\s+/) : c;
}

/** The healthcheck as argv (CMD form) or a shell line (CMD-SHELL / string form). */
function healthcheckArgv(name: string): string[] {
  const hc = service(name).healthcheck;
  if (!hc || hc.disable || hc.test === undefined) throw new Error(`service "${name}" has no healthcheck`);
  const test = hc.test;
  if (typeof test === 'string') return ['sh', '-c', test];
  if (test[0] === 'NONE') throw new Error(`service "${name}" disables its healthcheck`);
  if (test[0] === 'CMD-SHELL') return ['sh', '-c', test.slice(1).join(' ')];
  if (test[0] === 'CMD') return test.slice(1);
  return test;
}

const gatewayEnv = environmentOf(GATEWAY);
const simulatorEnv = environmentOf(SIMULATOR);

// ---- Dockerfile -----------------------------------------------------------------------

interface Instruction {
  keyword: string;
  args: string;
}

/** Instructions with line continuations joined and comments (parser directives included) dropped. */
function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending = '';
  for (const line of text.split(/\r?\n/)) {
    if (/^\s*#/.test(line)) continue;
    if (pending === '' && line.trim() === '') continue;
    const continued = /\\\s*$/.test(line);
    pending += `${continued ? line.replace(/\\\s*$/, '') : line} `;
    if (continued) continue;
    const m = /^\s*(\S+)\s*(.*?)\s*$/.exec(pending);
    if (m) instructions.push({ keyword: m[1]!.toUpperCase(), args: m[2]! });
    pending = '';
  }
  return instructions;
}

/** Stages: each starts at a FROM. */
function stagesOf(instructions: Instruction[]): { image: string; alias: string | undefined; body: Instruction[] }[] {
  const stages: { image: string; alias: string | undefined; body: Instruction[] }[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const words = ins.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      const as = words.findIndex((w) => w.toUpperCase() === 'AS');
      stages.push({ image: words[0] ?? '', alias: as >= 0 ? words[as + 1] : undefined, body: [] });
    } else {
      stages[stages.length - 1]?.body.push(ins);
    }
  }
  return stages;
}

/** Exec-form (JSON array) arguments, e.g. of CMD or HEALTHCHECK ... CMD. */
function execForm(args: string): string[] {
  const value: unknown = JSON.parse(args);
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new Error(`not an exec-form array: ${args}`);
  return value;
}

const dockerfile = parseDockerfile(read('Dockerfile'));
const stages = stagesOf(dockerfile);
const finalStage = stages[stages.length - 1];
const lastOf = (keyword: string): Instruction | undefined => finalStage?.body.filter((i) => i.keyword === keyword).at(-1);

/** The HEALTHCHECK instruction's command as argv. */
function imageHealthcheckArgv(): string[] {
  const hc = lastOf('HEALTHCHECK');
  if (!hc) throw new Error('the final Dockerfile stage has no HEALTHCHECK');
  const m = /^(?:--\S+\s+)*CMD\s+(.*)$/s.exec(hc.args);
  if (!m) throw new Error(`unexpected HEALTHCHECK form: ${hc.args}`);
  const cmd = m[1]!.trim();
  return cmd.startsWith('[') ? execForm(cmd) : ['sh', '-c', cmd];
}

// ---- running healthcheck commands -----------------------------------------------------

/** Runs a `node ...` healthcheck command with this Node; resolves to its exit code. */
function runNodeCommand(argv: string[], env: Env = {}): Promise<number> {
  expect(argv[0], 'the healthcheck runs node (the slim image has no curl or wget)').toBe('node');
  return new Promise((resolve) => {
    execFile(process.execPath, argv.slice(1), { env: { ...process.env, ...env }, timeout: 15_000 }, (error) => {
      if (!error) return resolve(0);
      resolve(typeof error.code === 'number' ? error.code : -1);
    });
  });
}

/** A port nothing listens on (bound, read, released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Starts `node --import tsx <entry>` with `env` (the variables of this process that would
 * configure it left out); resolves once the banner is printed (and, for the gateway, /readyz answers).
 */
const start = (entry: string, env: Env, banner: 'gateway' | 'simulator'): Promise<Started> => startProcess({ entry, env, banner, timeoutMs: 30_000 });

// ---- tests ----------------------------------------------------------------------------

describe('docker-compose.yml', () => {
  it('defines the spp-simulator and gateway services, both built from the Dockerfile in this directory', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining([SIMULATOR, GATEWAY]));
    for (const name of [SIMULATOR, GATEWAY]) {
      const build = service(name).build;
      const context = typeof build === 'string' ? build : build?.context;
      const file = typeof build === 'object' ? (build.dockerfile ?? 'Dockerfile') : 'Dockerfile';
      expect(context, `${name} build context`).toMatch(/^\.\/?$/);
      expect(file, `${name} Dockerfile`).toBe('Dockerfile');
    }
  });

  it('runs the compiled standalone simulator in the spp-simulator service and the image default (the gateway) in the gateway service', () => {
    expect(commandOf(SIMULATOR)).toEqual(['node', 'dist/simulator/cli.js']);
    // dist/ is tsc's output for src/ (tsconfig.build.json), so the entry point must exist there.
    const build = JSON.parse(read('tsconfig.build.json')) as { compilerOptions?: { rootDir?: string; outDir?: string } };
    expect(build.compilerOptions).toMatchObject({ rootDir: 'src', outDir: 'dist' });
    expect(existsSync(`${root}src/simulator/cli.ts`), 'src/simulator/cli.ts exists').toBe(true);
    const gatewayCommand = commandOf(GATEWAY);
    if (gatewayCommand !== undefined) expect(gatewayCommand).toEqual(['node', 'dist/main.js']);
  });

  it('gives the simulator only SIM_* variables that optionsFromEnv reads, and they parse', () => {
    const names = Object.keys(simulatorEnv);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(name, 'simulator variable').toMatch(/^SIM_[A-Z_]+$/);
    const withAll = optionsFromEnv(simulatorEnv);
    for (const name of names) {
      const { [name]: _dropped, ...without } = simulatorEnv;
      let withoutIt;
      try {
        withoutIt = optionsFromEnv(without);
      } catch {
        continue; // another setting depends on it (e.g. SIM_LIVE_INSERT on SIM_LIVE_INTERVAL_MS): it is read
      }
      expect(withoutIt, `${name} changes the simulator's options, so optionsFromEnv reads it`).not.toEqual(withAll);
    }
  });

  it('publishes the simulator on 8090, the port its SIM_PORT makes it listen on', () => {
    const { port } = optionsFromEnv(simulatorEnv);
    expect(port).toBe(8090);
    expect(portsOf(SIMULATOR)).toContainEqual({ published: 8090, target: port });
  });

  it('gives the gateway only variables src/config.ts reads, and loadConfig accepts them', () => {
    for (const [name, value] of Object.entries(gatewayEnv)) {
      expect(value, `${name} is not empty (loadConfig treats empty as unset)`).not.toBe('');
      expect(value, `${name} has no $ (Compose would interpolate it)`).not.toContain('$');
    }
    const config = loadConfig(gatewayEnv);
    for (const name of Object.keys(gatewayEnv)) {
      expect(Object.keys(config.env), `${name} is a variable the gateway's config schema reads`).toContain(name);
    }
    expect(config.env.PORT).toBe(4000);
    expect(config.sppUrl).toBe('http://spp-simulator:8090');
    expect(config.env.SPP_USERNAME).toBe('admin');
    expect(config.production).toBe(true);
    expect(config.env.GATEWAY_ALLOW_ANONYMOUS).toBe(true);
    expect(config.auth, 'service-account mode, open to anonymous callers').toMatchObject({ mode: 'service-account', allowAnonymous: true });
    expect(config.env.GRAPHQL_INTROSPECTION).toBe(true);
    expect(config.env.GRAPHQL_LANDING_PAGE).toBe(true);
    expect(config.env.CURSOR_SECRET, 'CURSOR_SECRET says it is for development').toMatch(/dev/i);
  });

  it('gives the gateway a stop_grace_period above its whole shutdown budget (drain + grace + logout + 1 s)', () => {
    const { env } = loadConfig(gatewayEnv);
    const budgetMs = drainMsOf(env) + env.SHUTDOWN_GRACE_MS + env.SHUTDOWN_LOGOUT_MS + 1_000;
    const period = /^(\d+)(ms|s|m)$/.exec(service(GATEWAY).stop_grace_period ?? '');
    expect(period, 'stop_grace_period is set, e.g. 20s').not.toBeNull();
    const periodMs = Number(period![1]) * { ms: 1, s: 1_000, m: 60_000 }[period![2] as 'ms' | 's' | 'm'];
    expect(periodMs).toBeGreaterThan(budgetMs);
    expect(drainMsOf(env), 'the gateway drains before it stops accepting').toBeGreaterThan(0);
  });

  it('publishes the gateway on 4000, the port its PORT makes it listen on', () => {
    const { env } = loadConfig(gatewayEnv);
    expect(env.PORT).toBe(4000);
    expect(env.HOST, 'the gateway listens on all interfaces inside its container').toBe('0.0.0.0');
    expect(portsOf(GATEWAY)).toContainEqual({ published: 4000, target: env.PORT });
  });

  it('points the gateway at the simulator by its service name and the port its SIM_PORT sets, over plain HTTP', () => {
    const url = new URL(loadConfig(gatewayEnv).sppUrl ?? '');
    expect(url.hostname).toBe(SIMULATOR);
    expect(Object.keys(services)).toContain(url.hostname);
    expect(Number(url.port)).toBe(optionsFromEnv(simulatorEnv).port);
    expect(optionsFromEnv(simulatorEnv).tls, 'the simulator serves plain HTTP').toBeUndefined();
    expect(url.protocol).toBe('http:');
  });

  it('logs the gateway in with a user the simulator accepts', () => {
    const users = optionsFromEnv(simulatorEnv).users ?? DEFAULT_USERS;
    const { env } = loadConfig(gatewayEnv);
    expect(users.map((u) => ({ username: u.username, password: u.password }))).toContainEqual({
      username: env.SPP_USERNAME,
      password: env.SPP_PASSWORD,
    });
  });

  it('starts the gateway only once the simulator is healthy', () => {
    const dependsOn = service(GATEWAY).depends_on;
    expect(Array.isArray(dependsOn), 'depends_on needs the long form to carry a condition').toBe(false);
    expect((dependsOn as Record<string, { condition?: string }> | undefined)?.[SIMULATOR]?.condition).toBe('service_healthy');
  });

  it('health-checks both services with node against their own ports', () => {
    const sim = healthcheckArgv(SIMULATOR).join(' ');
    expect(sim).toContain(`:${optionsFromEnv(simulatorEnv).port}/api/lifecycle/ping`);
    const gw = healthcheckArgv(GATEWAY).join(' ');
    expect(gw).toContain(`:${loadConfig(gatewayEnv).env.PORT}/readyz`);
    expect(healthcheckArgv(SIMULATOR)[0]).toBe('node');
    expect(healthcheckArgv(GATEWAY)[0]).toBe('node');
  });
});

describe('the healthcheck commands, run against the compose settings started as processes', () => {
  // The services' own entry points (src/ through tsx rather than dist/), with the compose
  // environments; only ports, listen addresses and the simulator's URL are changed.
  let simulator: Started;
  let gateway: Started;

  beforeAll(async () => {
    simulator = await start('src/simulator/cli.ts', { ...simulatorEnv, SIM_PORT: '0', SIM_HOST: '127.0.0.1', SIM_SIZE: '20' }, 'simulator');
    gateway = await start('src/main.ts', { ...gatewayEnv, PORT: '0', HOST: '127.0.0.1', SPP_URL: simulator.url, LOG_LEVEL: 'silent' }, 'gateway');
  }, 60_000);

  afterAll(async () => {
    await gateway?.stop();
    await simulator?.stop();
  });

  /** The compose healthcheck with its port swapped for the test process's. */
  function retargeted(argv: string[], from: number, to: number): string[] {
    const joined = argv.join('\u0000');
    expect(joined, `the healthcheck addresses port ${from}`).toContain(`:${from}/`);
    return joined.split(`:${from}/`).join(`:${to}/`).split('\u0000');
  }

  it("compose's simulator healthcheck passes against the running simulator and fails when nothing listens", async () => {
    const argv = healthcheckArgv(SIMULATOR);
    const simPort = optionsFromEnv(simulatorEnv).port ?? Number.NaN;
    expect(await runNodeCommand(retargeted(argv, simPort, simulator.port))).toBe(0);
    expect(await runNodeCommand(retargeted(argv, simPort, await freePort()))).not.toBe(0);
  });

  it("compose's gateway healthcheck passes against the running gateway and fails when nothing listens", async () => {
    const argv = healthcheckArgv(GATEWAY);
    const port = loadConfig(gatewayEnv).env.PORT;
    expect(await runNodeCommand(retargeted(argv, port, gateway.port))).toBe(0);
    expect(await runNodeCommand(retargeted(argv, port, await freePort()))).not.toBe(0);
  });

  it("the image's HEALTHCHECK passes against the running gateway on the container's PORT and fails when nothing listens", async () => {
    const argv = imageHealthcheckArgv();
    expect(argv.join(' ')).toContain('/readyz');
    expect(await runNodeCommand(argv, { PORT: String(gateway.port) })).toBe(0);
    expect(await runNodeCommand(argv, { PORT: String(await freePort()) })).not.toBe(0);
  });

  it("the image's HEALTHCHECK fails against the simulator, which has no /readyz", async () => {
    expect(await runNodeCommand(imageHealthcheckArgv(), { PORT: String(simulator.port) })).not.toBe(0);
  });

  it("the gateway started with the compose settings serves anonymous callers job sessions read from the simulator with compose's credentials", async () => {
    const res = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ jobSessions(first: 2) { edges { node { id } } } }' }),
    });
    const body = (await res.json()) as { data?: { jobSessions?: { edges?: unknown[] } }; errors?: unknown };
    expect(body.errors).toBeUndefined();
    expect(res.status).toBe(200);
    expect(body.data?.jobSessions?.edges).toHaveLength(2);
  });
});

describe('Dockerfile', () => {
  it('is a multi-stage build', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
  });

  it('builds on a currently supported Node LTS (24), while the code keeps Node 20 in engines', () => {
    for (const stage of stages.filter((s) => !stages.some((other) => other.alias?.toLowerCase() === s.image.toLowerCase()))) {
      expect(stage.image).toMatch(/^(?:docker\.io\/)?(?:library\/)?node:24-/);
    }
    const pkg = JSON.parse(read('package.json')) as { engines?: { node?: string } };
    expect(pkg.engines?.node).toBe('>=20');
  });

  it('keeps build and development tools out of the runtime dependencies', () => {
    const pkg = JSON.parse(read('package.json')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
      scripts: Record<string, string>;
    };
    for (const tool of ['tsx', 'typescript', 'vitest', '@graphql-codegen/cli']) {
      expect(Object.keys(pkg.dependencies), `${tool} is not a runtime dependency`).not.toContain(tool);
      expect(Object.keys(pkg.devDependencies)).toContain(tool);
    }
    // npm start (development, from a fresh clone) execs node, so SIGTERM to npm reaches the gateway.
    expect(pkg.scripts.start).toBe('exec node --import tsx src/main.ts');
  });

  it('builds on Node 20 or later official images', () => {
    const aliases = new Set(stages.map((s) => s.alias?.toLowerCase()).filter(Boolean));
    const bases = stages.map((s) => s.image).filter((image) => !aliases.has(image.toLowerCase()));
    expect(bases.length).toBeGreaterThan(0);
    for (const image of bases) {
      const m = /^(?:docker\.io\/)?(?:library\/)?node:(\d+)(?:[.-]|$)/.exec(image);
      expect(m, `${image} is an official node image with a major version tag`).not.toBeNull();
      expect(Number(m![1]), `${image} major version`).toBeGreaterThanOrEqual(20);
    }
  });

  it('compiles in an earlier stage and ships only dist/, schema/ and production dependencies', () => {
    const body = finalStage?.body ?? [];
    const runs = body.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    expect(
      runs.some((r) => /\bnpm ci\b/.test(r) && /--omit[= ]dev\b/.test(r)),
      'final stage runs npm ci --omit=dev',
    ).toBe(true);
    expect(
      runs.some((r) => /\bnpm (run )?build\b|\btsc\b/.test(r)),
      'the final stage does not compile',
    ).toBe(false);
    const copies = body.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    expect(
      copies.some((c) => /--from=\S+/.test(c) && /\bdist\b/.test(c)),
      'dist/ comes from the build stage',
    ).toBe(true);
    expect(
      copies.some((c) => /\bschema\b/.test(c)),
      'schema/ is copied (read at run time)',
    ).toBe(true);
    expect(
      copies.some((c) => /\bsrc\b/.test(c)),
      'src/ stays out of the final image',
    ).toBe(false);
    const builder = stages.slice(0, -1).flatMap((s) => s.body);
    expect(
      builder.some((i) => i.keyword === 'RUN' && /\bnpm run build\b/.test(i.args)),
      'an earlier stage runs npm run build',
    ).toBe(true);
  });

  it('puts dist/ and schema/ side by side, where src/graphql/apollo.ts looks for the schema', () => {
    expect(read('src/graphql/apollo.ts'), 'the schema is read relative to the compiled module').toMatch(
      /new URL\(\s*'\.\.\/\.\.\/schema\/schema\.graphql',\s*import\.meta\.url\s*\)/,
    );
    const workdir = lastOf('WORKDIR')?.args;
    expect(workdir, 'the final stage sets a WORKDIR').toBeDefined();
    const copies = (finalStage?.body ?? []).filter((i) => i.keyword === 'COPY').map((i) => i.args.split(/\s+/).filter((w) => !w.startsWith('--')));
    const destOf = (source: RegExp) => copies.find((words) => words.slice(0, -1).some((w) => source.test(w)))?.at(-1);
    const resolve = (dest: string | undefined) =>
      dest === undefined ? undefined : (dest.startsWith('/') ? dest : `${workdir}/${dest.replace(/^\.\//, '')}`).replace(/\/+$/, '');
    expect(resolve(destOf(/(^|\/)dist\/?$/))).toBe(`${workdir}/dist`);
    expect(resolve(destOf(/(^|\/)schema\/?$/))).toBe(`${workdir}/schema`);
  });

  it('runs as a non-root user in production mode', () => {
    const user = lastOf('USER')?.args;
    expect(user, 'the final stage sets USER').toBeDefined();
    expect(user!.split(':')[0], 'the final USER is not root').not.toMatch(/^(root|0)$/);
    const env = (finalStage?.body ?? []).filter((i) => i.keyword === 'ENV').map((i) => i.args);
    expect(env.some((e) => /\bNODE_ENV[= ]production\b/.test(e))).toBe(true);
  });

  it('starts the compiled gateway by default, so a compose command can run the simulator instead', () => {
    const cmd = lastOf('CMD');
    expect(cmd, 'the final stage has a CMD').toBeDefined();
    expect(execForm(cmd!.args)).toEqual(['node', 'dist/main.js']);
    expect(existsSync(`${root}src/main.ts`), 'src/main.ts exists').toBe(true);
    expect(lastOf('ENTRYPOINT'), 'no ENTRYPOINT wraps the command').toBeUndefined();
    expect(lastOf('EXPOSE')?.args.split(/\s+/)).toContain('4000');
  });
});

describe('.dockerignore', () => {
  const ignored = read('.dockerignore')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

  it('keeps local node_modules, dist, coverage and .git out of the build context', () => {
    for (const entry of ['node_modules', 'dist', 'coverage', '.git']) expect(ignored).toContain(entry);
  });

  it('keeps what the build copies in the build context', () => {
    const copied = dockerfile
      .filter((i) => i.keyword === 'COPY' && !/--from=/.test(i.args))
      .flatMap((i) =>
        i.args
          .split(/\s+/)
          .filter((w) => !w.startsWith('--'))
          .slice(0, -1),
      );
    expect(copied).toEqual(expect.arrayContaining(['package-lock.json', 'src', 'schema']));
    for (const path of copied) {
      const top = path.replace(/^\.\//, '').split('/')[0]!;
      expect(ignored, `${path} is not ignored`).not.toContain(top);
      expect(
        ignored.some((pattern) => !pattern.startsWith('!') && !/[*?]/.test(pattern) && path.startsWith(`${pattern}/`)),
        `${path} is not under an ignored directory`,
      ).toBe(false);
    }
    expect(
      ignored.some((p) => /__generated__/.test(p) && !p.startsWith('!')),
      'the committed codegen output is sent',
    ).toBe(false);
  });
});

// ---- profile "scale" ------------------------------------------------------------------

const REPLICAS = ['gateway-1', 'gateway-2'];
const SCALE = ['redis', ...REPLICAS, 'load-balancer'];
warnIfNoRedis('test/compose.test.ts (the scale profile started as processes)');

describe('docker-compose.yml, profile "scale": Redis, two gateway replicas, a load balancer', () => {
  it('puts Redis, both replicas and the load balancer in the scale profile only, and leaves the default services outside it', () => {
    for (const name of SCALE) expect(service(name).profiles, name).toEqual(['scale']);
    for (const name of [SIMULATOR, GATEWAY]) expect(service(name).profiles, name).toBeUndefined();
  });

  it('runs Redis without persistence and health-checks it', () => {
    expect(service('redis').image).toMatch(/^(redis|valkey\/valkey):\d/);
    expect(commandOf('redis')).toEqual(['redis-server', '--save', '', '--appendonly', 'no']);
    expect(healthcheckArgv('redis')).toEqual(['redis-cli', 'ping']);
  });

  it('builds both replicas from the Dockerfile with settings loadConfig accepts: the same Redis and the same secrets, pass-through mode', () => {
    const envs = REPLICAS.map(environmentOf);
    expect(envs[1]).toEqual(envs[0]);
    for (const [i, name] of REPLICAS.entries()) {
      const build = service(name).build;
      expect(typeof build === 'object' ? build.context : build, name).toMatch(/^\.\/?$/);
      const config = loadConfig(envs[i]);
      for (const key of Object.keys(envs[i]!)) expect(Object.keys(config.env), `${key} is read by src/config.ts`).toContain(key);
      expect(new URL(config.env.REDIS_URL!).hostname).toBe('redis');
      expect(config.auth.mode).toBe('pass-through');
      expect(config.env.SESSION_SECRET, 'SESSION_SECRET says it is for development').toMatch(/dev/i);
      expect(config.env.CURSOR_SECRET, 'CURSOR_SECRET says it is for development').toMatch(/dev/i);
      expect(new URL(config.sppUrl!).hostname).toBe(SIMULATOR);
      expect(service(name).depends_on).toMatchObject({ redis: { condition: 'service_healthy' }, [SIMULATOR]: { condition: 'service_healthy' } });
      expect(healthcheckArgv(name).join(' ')).toContain(`:${config.env.PORT}/readyz`);
      expect(portsOf(name), 'replicas are reached through the load balancer only').toEqual([]);
    }
  });

  it("sends the load balancer's traffic to both replicas on the port their PORT sets, WebSocket upgrades and unbuffered SSE included", () => {
    const mount = (service('load-balancer').volumes ?? []).find((v) => v.includes('/etc/nginx/conf.d/'));
    expect(mount).toBeDefined();
    const file = mount!.split(':')[0]!.replace(/^\.\//, '');
    const conf = read(file);
    for (const name of REPLICAS) expect(conf).toContain(`server ${name}:${loadConfig(environmentOf(name)).env.PORT}`);
    expect(conf).toMatch(/proxy_set_header Upgrade \$http_upgrade;/);
    expect(conf).toMatch(/proxy_buffering off;/);
    expect(conf, 'a request that reached a gateway is never sent to the other').toMatch(/proxy_next_upstream error;/);
    const listen = Number(/listen (\d+);/.exec(conf)?.[1]);
    expect(portsOf('load-balancer')).toContainEqual({ published: 4100, target: listen });
    expect(service('load-balancer').depends_on).toMatchObject({ 'gateway-1': { condition: 'service_healthy' }, 'gateway-2': { condition: 'service_healthy' } });
  });
});

describe.skipIf(!redisServerPath)('the scale profile started as processes: Redis and both replicas with their compose settings', () => {
  let redis: RedisServer;
  let simulator: Started;
  const replicas: Started[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    simulator = await start('src/simulator/cli.ts', { ...environmentOf(SIMULATOR), SIM_PORT: '0', SIM_HOST: '127.0.0.1', SIM_SIZE: '20' }, 'simulator');
    for (const name of REPLICAS) {
      replicas.push(
        await start(
          'src/main.ts',
          { ...environmentOf(name), PORT: '0', HOST: '127.0.0.1', SPP_URL: simulator.url, REDIS_URL: redis.url, LOG_LEVEL: 'silent' },
          'gateway',
        ),
      );
    }
  }, 90_000);

  afterAll(async () => {
    for (const replica of replicas) await replica.stop();
    await simulator?.stop();
    await redis?.stop();
  });

  it("passes each replica's compose healthcheck", async () => {
    for (const [i, name] of REPLICAS.entries()) {
      const port = loadConfig(environmentOf(name)).env.PORT;
      const argv = healthcheckArgv(name).join('\u0000').split(`:${port}/`).join(`:${replicas[i]!.port}/`).split('\u0000');
      expect(await runNodeCommand(argv)).toBe(0);
    }
  });

  it('accepts on the second replica a createSession token the first issued', async () => {
    const users = optionsFromEnv(environmentOf(SIMULATOR)).users ?? DEFAULT_USERS;
    const post = async (url: string, query: string, headers: Record<string, string> = {}) =>
      (await (
        await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query }) })
      ).json()) as any;
    const created = await post(replicas[0]!.url, `mutation { createSession(username: "${users[0]!.username}", password: "${users[0]!.password}") { token } }`);
    const token = created.data.createSession.token as string;
    const read = await post(replicas[1]!.url, '{ jobSessions(first: 2) { nodes { sessionId } } }', { authorization: `Bearer ${token}` });
    expect(read.errors).toBeUndefined();
    expect(read.data.jobSessions.nodes).toHaveLength(2);
  });
});
