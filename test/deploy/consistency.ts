/**
 * What the rendered manifests must agree on with the code, checked against the code itself:
 * the container's environment is parsed by src/config.ts's loadConfig (so defaults such as PORT
 * and rules such as "REDIS_URL needs SESSION_SECRET" come from there, never restated here), and
 * the probe paths are judged by what a running gateway answered on them (`GatewayFacts`, see
 * observeGateway in kubernetes.test.ts): a readiness path answers 200 while serving and 503 while
 * draining after SIGTERM; a liveness path answers 200 in both.
 *
 * `consistencyProblems` is a pure function of the rendered objects and those facts, so a test
 * can change one side only (a probe path, the grace period, a ConfigMap value) and see it fail.
 */
import { ConfigError, drainMsOf, loadConfig, type GatewayConfig } from '../../src/config.js';
import { optionsFromEnv } from '../../src/simulator/index.js';
import { nameOf, type K8sObject } from './manifests.js';

/** What a running gateway answered on each path, while serving and while draining after SIGTERM. */
export interface GatewayFacts {
  endpoints: Record<string, { serving: number; draining: number }>;
}

/** Example Secret values (what docs/kubernetes.md step 2 creates) for keys no rendered Secret holds. */
const SAMPLE_SECRET_VALUES: Record<string, string> = {
  SPP_USERNAME: 'svc-gateway',
  GATEWAY_TOKENS: 'token-for-the-job-monitor,token-for-the-dashboards',
  REDIS_URL: 'rediss://:redis-password@redis.example.com:6380',
};
const sampleSecret = (key: string): string => SAMPLE_SECRET_VALUES[key] ?? `sample-${key.toLowerCase()}-`.padEnd(48, 'x');

/** Variables whose values are credentials: they belong in a Secret, never in a ConfigMap or a literal value. */
const CREDENTIAL = /PASSWORD|TOKEN|SECRET/;

interface Probe {
  httpGet?: { path?: string; port?: number | string };
}
interface ContainerSpec {
  name: string;
  ports?: { name?: string; containerPort: number }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  env?: {
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean }; configMapKeyRef?: { name: string; key: string } };
  }[];
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
}
interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: { containers: ContainerSpec[]; terminationGracePeriodSeconds?: number };
}

export interface SecretReference {
  variable: string;
  secret: string;
  key: string;
  optional: boolean;
}

export interface GatewayEnvironment {
  /** The variables as the container sees them (ConfigMap, then `env`, which wins), Secret values filled in. */
  env: Record<string, string>;
  /** Which variables come from which ConfigMap keys. */
  fromConfigMap: Map<string, string>;
  secretRefs: SecretReference[];
  problems: string[];
}

const decode = (value: string) => Buffer.from(value, 'base64').toString('utf8');

/** The gateway's Deployment (its container is named "gateway"), or undefined. */
export function gatewayDeployment(objects: readonly K8sObject[]): K8sObject | undefined {
  return objects.find((o) => o.kind === 'Deployment' && templateOf(o).spec.containers.some((c) => c.name === 'gateway'));
}

export const templateOf = (o: K8sObject): PodTemplate => (o.spec as { template: PodTemplate }).template;
const gatewayContainer = (o: K8sObject): ContainerSpec => templateOf(o).spec.containers.find((c) => c.name === 'gateway')!;

/** The container's environment as the kubelet would build it from the rendered objects. */
export function environmentOf(objects: readonly K8sObject[], deployment: K8sObject): GatewayEnvironment {
  const container = gatewayContainer(deployment);
  const env: Record<string, string> = {};
  const fromConfigMap = new Map<string, string>();
  const secretRefs: SecretReference[] = [];
  const problems: string[] = [];
  const secretValue = (secret: string, key: string): string | undefined => {
    const object: (K8sObject & { data?: Record<string, string>; stringData?: Record<string, string> }) | undefined = objects.find(
      (o) => o.kind === 'Secret' && o.metadata.name === secret,
    );
    if (!object) return sampleSecret(key);
    const value = object.stringData?.[key] ?? (object.data?.[key] !== undefined ? decode(object.data[key]) : undefined);
    if (value === undefined) problems.push(`${nameOf(deployment)}: Secret ${secret} (rendered) has no key ${key}`);
    return value;
  };
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) {
      const map: (K8sObject & { data?: Record<string, string> }) | undefined = objects.find(
        (o) => o.kind === 'ConfigMap' && o.metadata.name === source.configMapRef!.name,
      );
      if (!map) {
        problems.push(`${nameOf(deployment)}: envFrom names ConfigMap ${source.configMapRef.name}, which is not rendered`);
        continue;
      }
      for (const [key, value] of Object.entries(map.data ?? {})) {
        env[key] = value;
        fromConfigMap.set(key, map.metadata.name);
      }
    }
    if (source.secretRef)
      problems.push(`${nameOf(deployment)}: envFrom secretRef ${source.secretRef.name}: reference each key by name, so the keys the gateway needs are checked`);
  }
  for (const entry of container.env ?? []) {
    fromConfigMap.delete(entry.name);
    const ref = entry.valueFrom?.secretKeyRef;
    if (ref) {
      secretRefs.push({ variable: entry.name, secret: ref.name, key: ref.key, optional: ref.optional === true });
      const value = secretValue(ref.name, ref.key);
      if (value !== undefined) env[entry.name] = value;
    } else if (entry.value !== undefined) {
      env[entry.name] = entry.value;
    }
  }
  return { env, fromConfigMap, secretRefs, problems };
}

/** loadConfig's verdict, as a value. */
function tryLoad(env: Record<string, string>): { config: GatewayConfig } | { error: string } {
  try {
    return { config: loadConfig(env) };
  } catch (error) {
    if (error instanceof ConfigError) return { error: error.message };
    throw error;
  }
}

/** A container port given by number or by name. */
function resolvePort(container: ContainerSpec, port: number | string | undefined): number | undefined {
  if (typeof port === 'number') return port;
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

/** The shutdown budget src/main.ts gives itself: drain + grace + logout + 1 s (README "Shutdown"). */
export const shutdownBudgetMs = (config: GatewayConfig): number => drainMsOf(config.env) + config.env.SHUTDOWN_GRACE_MS + config.env.SHUTDOWN_LOGOUT_MS + 1_000;

/** The Kubernetes default when terminationGracePeriodSeconds is not set. */
const DEFAULT_GRACE_SECONDS = 30;

/** Every disagreement between the rendered objects and the code; empty when they agree. */
export function consistencyProblems(objects: readonly K8sObject[], facts: GatewayFacts): string[] {
  const deployment = gatewayDeployment(objects);
  if (!deployment) return ['no Deployment with a container named "gateway"'];
  const where = nameOf(deployment);
  const container = gatewayContainer(deployment);
  const template = templateOf(deployment);
  const { env, fromConfigMap, secretRefs, problems } = environmentOf(objects, deployment);

  const loaded = tryLoad(env);
  if ('error' in loaded) return [...problems, `${where}: src/config.ts refuses the container's environment: ${loaded.error}`];
  const { config } = loaded;
  const configKeys = new Set(Object.keys(config.env));

  // ---- configuration: every ConfigMap key is read, credentials come from Secrets ------------
  for (const key of fromConfigMap.keys()) {
    if (key.startsWith('SIM_')) {
      if (config.sppUrl) problems.push(`${where}: ConfigMap key ${key} configures the embedded simulator, which does not run with SPP_URL`);
      else if (JSON.stringify(optionsFromEnv({ [key]: env[key] })) === JSON.stringify(optionsFromEnv({})))
        problems.push(`${where}: ConfigMap key ${key} changes nothing the simulator reads`);
    } else if (!configKeys.has(key)) {
      problems.push(`${where}: ConfigMap key ${key} is not a variable src/config.ts reads`);
    }
    if (CREDENTIAL.test(key)) problems.push(`${where}: ${key} is a credential and comes from a ConfigMap; reference it from a Secret`);
  }
  for (const entry of container.env ?? []) {
    if (CREDENTIAL.test(entry.name) && !entry.valueFrom?.secretKeyRef) problems.push(`${where}: ${entry.name} is a credential and is not read from a Secret`);
  }

  // ---- Secrets: every key the gateway requires is referenced, and not optional ---------------
  for (const ref of secretRefs) {
    const { [ref.variable]: _removed, ...without } = env;
    const verdict = tryLoad(without);
    const required = 'error' in verdict && verdict.error.startsWith(`Invalid ${ref.variable}`);
    if (required && ref.optional)
      problems.push(
        `${where}: ${ref.variable} (Secret ${ref.secret}, key ${ref.key}) is optional, but src/config.ts refuses to start without it: ${verdict.error}`,
      );
  }

  // ---- ports -------------------------------------------------------------------------------
  const port = config.env.PORT;
  const httpPort = container.ports?.find((p) => p.name === 'http')?.containerPort;
  if (httpPort !== port) problems.push(`${where}: container port "http" is ${httpPort}, the gateway listens on PORT ${port}`);
  const metricsPort = config.env.METRICS_PORT;
  if (metricsPort !== undefined) {
    const declared = container.ports?.find((p) => p.name === 'metrics')?.containerPort;
    if (declared !== metricsPort)
      problems.push(`${where}: container port "metrics" is ${declared}, the gateway serves /metrics on METRICS_PORT ${metricsPort}`);
  }
  const annotations = template.metadata?.annotations ?? {};
  if (annotations['prometheus.io/scrape'] === 'true') {
    const scrapePort = Number(annotations['prometheus.io/port']);
    if (scrapePort !== (metricsPort ?? port))
      problems.push(`${where}: prometheus.io/port is ${annotations['prometheus.io/port']}, /metrics is served on ${metricsPort ?? port}`);
    if ((annotations['prometheus.io/path'] ?? '/metrics') !== '/metrics')
      problems.push(`${where}: prometheus.io/path is ${annotations['prometheus.io/path']}, the gateway serves /metrics`);
  }

  // ---- probes: paths judged by what the running gateway answered ------------------------------
  const probe = (kind: 'startupProbe' | 'readinessProbe' | 'livenessProbe', expected: { serving: number; draining: number }, meaning: string) => {
    const get = container[kind]?.httpGet;
    if (!get?.path) return problems.push(`${where}: no HTTP ${kind}`);
    const probePort = resolvePort(container, get.port);
    if (probePort !== port) problems.push(`${where}: ${kind} goes to port ${String(get.port)} (${probePort}), the gateway listens on PORT ${port}`);
    const seen = facts.endpoints[get.path];
    if (!seen) return problems.push(`${where}: ${kind} path ${get.path} was not observed on the running gateway`);
    if (seen.serving !== expected.serving || seen.draining !== expected.draining) {
      problems.push(
        `${where}: ${kind} path ${get.path} answered ${seen.serving} while serving and ${seen.draining} while draining; ${meaning} answers ${expected.serving} and ${expected.draining}`,
      );
    }
    return undefined;
  };
  probe('startupProbe', { serving: 200, draining: 503 }, 'the readiness endpoint');
  probe('readinessProbe', { serving: 200, draining: 503 }, 'the readiness endpoint');
  probe('livenessProbe', { serving: 200, draining: 200 }, 'the liveness endpoint');

  // ---- shutdown: the kubelet waits longer than the gateway's own budget ----------------------
  const graceSeconds = template.spec.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
  const budget = shutdownBudgetMs(config);
  if (graceSeconds * 1_000 <= budget) {
    problems.push(
      `${where}: terminationGracePeriodSeconds ${graceSeconds} s is not above the shutdown budget of ${budget} ms (SHUTDOWN_DRAIN_MS ${drainMsOf(config.env)} + SHUTDOWN_GRACE_MS ${config.env.SHUTDOWN_GRACE_MS} + SHUTDOWN_LOGOUT_MS ${config.env.SHUTDOWN_LOGOUT_MS} + 1000)`,
    );
  }
  if (drainMsOf(config.env) === 0) problems.push(`${where}: no drain (SHUTDOWN_DRAIN_MS 0): endpoints would still send requests to a closed port`);

  // ---- Services, Ingresses, ServiceMonitors reach the ports that exist -----------------------
  const podLabels = template.metadata?.labels ?? {};
  const services = objects.filter((o) => o.kind === 'Service');
  const gatewayServices = services.filter((s) => {
    const selector = (s.spec as { selector?: Record<string, string> }).selector ?? {};
    return Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => podLabels[k] === v);
  });
  if (gatewayServices.length === 0) problems.push(`${where}: no Service selects the gateway's pods`);
  for (const service of gatewayServices) {
    for (const p of (service.spec as { ports: { name?: string; port: number; targetPort?: number | string }[] }).ports) {
      if (resolvePort(container, p.targetPort ?? p.port) === undefined && typeof p.targetPort !== 'number')
        problems.push(`${nameOf(service)}: port ${p.name ?? p.port} targets ${String(p.targetPort)}, which the gateway container does not declare`);
    }
  }
  const servicePortNames = new Map(
    services.map((s) => [s.metadata.name, new Set((s.spec as { ports: { name?: string; port: number }[] }).ports.flatMap((p) => [p.name, p.port]))]),
  );
  for (const ingress of objects.filter((o) => o.kind === 'Ingress')) {
    for (const rule of (
      ingress.spec as { rules?: { http?: { paths: { backend: { service?: { name: string; port: { name?: string; number?: number } } } }[] } }[] }
    ).rules ?? []) {
      for (const path of rule.http?.paths ?? []) {
        const backend = path.backend.service;
        if (!backend) continue;
        if (!servicePortNames.get(backend.name)?.has(backend.port.name ?? backend.port.number))
          problems.push(`${nameOf(ingress)}: backend ${backend.name}:${backend.port.name ?? backend.port.number} is not a rendered Service port`);
        else if (backend.port.name === 'metrics') problems.push(`${nameOf(ingress)}: routes to the metrics port`);
      }
    }
  }
  // ingress-nginx: a read may wait on SPP for every attempt (the retries of SPP_RETRY_LIMIT) of
  // SPP_RESPONSE_TIMEOUT_MS; the controller must not cut it off first. SSE needs no buffering.
  const longestReadS = ((config.env.SPP_RETRY_LIMIT + 1) * config.env.SPP_RESPONSE_TIMEOUT_MS) / 1_000;
  for (const ingress of objects.filter((o) => o.kind === 'Ingress')) {
    const notes = ingress.metadata.annotations ?? {};
    for (const name of ['proxy-read-timeout', 'proxy-send-timeout']) {
      const seconds = Number(notes[`nginx.ingress.kubernetes.io/${name}`] ?? 60);
      if (!(seconds > longestReadS))
        problems.push(
          `${nameOf(ingress)}: ${name} ${seconds} s is not above the longest upstream read (${config.env.SPP_RETRY_LIMIT + 1} attempts of ${config.env.SPP_RESPONSE_TIMEOUT_MS} ms)`,
        );
    }
    if (notes['nginx.ingress.kubernetes.io/proxy-buffering'] !== 'off')
      problems.push(`${nameOf(ingress)}: proxy-buffering is not off: SSE events would wait in the controller's buffer`);
    // Behind the controller every client's TCP peer is a controller pod: without TRUSTED_PROXIES all
    // anonymous callers would share one budget and one caller's connection limit (docs/security.md "Budgets").
    if (!config.env.TRUSTED_PROXIES)
      problems.push(`${nameOf(ingress)}: TRUSTED_PROXIES is not set: every client would be the controller's address to the gateway`);
  }
  for (const monitor of objects.filter((o) => o.kind === 'ServiceMonitor')) {
    for (const endpoint of (monitor.spec as { endpoints: { port?: string; path?: string }[] }).endpoints) {
      if (!gatewayServices.some((s) => servicePortNames.get(s.metadata.name)?.has(endpoint.port)))
        problems.push(`${nameOf(monitor)}: port ${endpoint.port} is not a port of the gateway's Service`);
      if ((endpoint.path ?? '/metrics') !== '/metrics') problems.push(`${nameOf(monitor)}: path ${endpoint.path}, the gateway serves /metrics`);
    }
  }

  // ---- Redis: REDIS_URL names a rendered Service (or a Redis outside the cluster) -------------
  if (config.env.REDIS_URL) {
    const url = new URL(config.env.REDIS_URL);
    const service = services.find((s) => s.metadata.name === url.hostname);
    if (service) {
      const urlPort = Number(url.port || 6379);
      if (!(service.spec as { ports: { port: number }[] }).ports.some((p) => p.port === urlPort))
        problems.push(`${where}: REDIS_URL port ${urlPort} is not a port of Service ${service.metadata.name}`);
    } else if (!url.hostname.includes('.')) {
      problems.push(`${where}: REDIS_URL names ${url.hostname}, which is neither a rendered Service nor a fully qualified host`);
    }
  }
  return problems;
}
