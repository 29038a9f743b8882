/**
 * deploy/kubernetes checked without a cluster (none can run here): every kustomization is
 * rendered with `kubectl kustomize`, every object validated against the Kubernetes OpenAPI
 * schemas (kubernetes-models, unknown fields included), every pod template held to the restricted
 * Pod Security Standard, the YAML linted, and the rendered manifests compared with the code:
 * src/config.ts parses the container's environment, and a gateway started with the demo overlay's
 * environment answers the probe paths.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { consistencyProblems, environmentOf, gatewayDeployment, shutdownBudgetMs, templateOf, type GatewayFacts } from './consistency.js';
import {
  KUBERNETES_DIR,
  KUSTOMIZATIONS,
  ROOT,
  copy,
  inCI,
  kubectlPath,
  nameOf,
  render,
  yamllintPath,
  type K8sObject,
  type Kustomization,
} from './manifests.js';
import { observeGateway } from './observe.js';
import { podsOf, restrictedViolations } from './pod-security.js';
import { schemaErrors, unknownFieldErrors, validationErrors } from './schema.js';

if (!kubectlPath)
  console.warn(
    `skipped: test/deploy/kubernetes.test.ts renders the manifests with kubectl (its built-in kustomize), and there is none on PATH; .ci/run installs it${inCI ? ' — and this is CI, so the CI check below fails' : ''}`,
  );
if (!yamllintPath)
  console.warn(
    `skipped: test/deploy/kubernetes.test.ts lints deploy/kubernetes with yamllint, and there is none on PATH (apt-get install yamllint)${inCI ? ' — and this is CI, so the CI check below fails' : ''}`,
  );

const rendered = new Map<Kustomization, K8sObject[]>();
const objectsOf = (k: Kustomization): K8sObject[] => {
  if (!rendered.has(k)) rendered.set(k, render(k));
  return rendered.get(k)!;
};
/** Kind/name with kustomize's hash suffix of generated ConfigMaps and Secrets removed. */
const shapeOf = (objects: K8sObject[]) => objects.map((o) => `${o.kind}/${o.metadata.name.replace(/-[a-z0-9]{10}$/, '')}`).sort();
const find = (objects: K8sObject[], kind: string, name?: string) =>
  objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name)) as any;
const configOf = (k: Kustomization) => {
  const objects = objectsOf(k);
  return loadConfig(environmentOf(objects, gatewayDeployment(objects)!).env);
};

describe.runIf(inCI)('the tools CI needs', () => {
  it('has kubectl and yamllint on PATH (.ci/run installs them)', () => {
    expect({ kubectl: kubectlPath !== undefined, yamllint: yamllintPath !== undefined }).toEqual({ kubectl: true, yamllint: true });
  });
});

describe.skipIf(!kubectlPath)('deploy/kubernetes, rendered by kubectl kustomize', () => {
  it('renders each overlay and example into the objects it is meant to hold', () => {
    const gateway = ['ConfigMap/spp-gateway-config', 'Deployment/spp-gateway', 'Service/spp-gateway'];
    const scaled = [
      ...gateway,
      'HorizontalPodAutoscaler/spp-gateway',
      'NetworkPolicy/spp-gateway',
      'NetworkPolicy/spp-gateway-redis',
      'PodDisruptionBudget/spp-gateway',
      'Service/spp-gateway-redis',
      'StatefulSet/spp-gateway-redis',
    ];
    expect(Object.fromEntries(KUSTOMIZATIONS.map((k) => [k, shapeOf(objectsOf(k))]))).toEqual({
      'overlays/single': gateway.sort(),
      'overlays/scaled': scaled.sort(),
      'overlays/demo': [...gateway, 'Secret/spp-gateway'].sort(),
      'examples/production': [...scaled, 'Ingress/spp-gateway', 'ServiceMonitor/spp-gateway'].sort(),
      'examples/external-redis': [...gateway, 'HorizontalPodAutoscaler/spp-gateway', 'NetworkPolicy/spp-gateway', 'PodDisruptionBudget/spp-gateway'].sort(),
    });
  });

  it.each(KUSTOMIZATIONS)('%s: every object validates against its Kubernetes schema, with no field the schema does not define', (k) => {
    expect(validationErrors(objectsOf(k))).toEqual([]);
  });

  it('rejects a deliberately wrong Deployment: a misspelt field, then one at another depth, and a malformed quantity', () => {
    const bad = copy(objectsOf('overlays/scaled'));
    const deployment = find(bad, 'Deployment', 'spp-gateway');
    const container = deployment.spec.template.spec.containers[0];
    container.readinesProbe = container.readinessProbe;
    delete container.readinessProbe;
    container.resources.limits.memory = 'half a gig';
    expect(unknownFieldErrors(bad)).toEqual([
      expect.stringMatching(
        /^Deployment\/spp-gateway: Object literal may only specify known properties, and '"readinesProbe"' does not exist in type 'IContainer'/,
      ),
    ]);
    expect(schemaErrors(bad)).toEqual([
      expect.stringMatching(/^Deployment\/spp-gateway: data\/spec\/template\/spec\/containers\/0\/resources\/limits\/memory must .*quantity/),
    ]);
    // TypeScript names one unknown field per object at a time: fixed, the next one shows.
    container.readinessProbe = container.readinesProbe;
    delete container.readinesProbe;
    deployment.spec.template.spec.terminationGracePeriod = 25;
    expect(unknownFieldErrors(bad)).toEqual([
      expect.stringMatching(
        /^Deployment\/spp-gateway: Object literal may only specify known properties, and '"terminationGracePeriod"' does not exist in type 'IPodSpec'/,
      ),
    ]);
    expect(validationErrors(bad)).toHaveLength(2);
  });

  it("needs the second check: kubernetes-models' validate() alone lets an unknown field through", () => {
    const bad = copy(objectsOf('overlays/single'));
    find(bad, 'Service').spec.sessionAfinity = 'ClientIP';
    expect(schemaErrors(bad)).toEqual([]);
    expect(unknownFieldErrors(bad)).toEqual([expect.stringMatching(/^Service\/spp-gateway: .*'"sessionAfinity"' does not exist in type 'IServiceSpec'/)]);
  });

  it('refuses an object of a kind it has no schema for', () => {
    const objects = [...copy(objectsOf('overlays/single')), { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }];
    expect(validationErrors(objects)).toEqual(['Widget/w: no schema for example.com/v1 Widget (add its model to test/deploy/schema.ts)']);
  });

  it.each(KUSTOMIZATIONS)('%s: every pod template meets the restricted Pod Security Standard', (k) => {
    const pods = podsOf(objectsOf(k));
    expect(pods.length).toBeGreaterThan(0);
    expect(pods.flatMap(({ owner, pod }) => restrictedViolations(pod).map((v) => ({ owner, ...v })))).toEqual([]);
  });

  it('finds the violations in a rendered pod template weakened on purpose', () => {
    const bad = copy(objectsOf('overlays/scaled'));
    const redis = find(bad, 'StatefulSet', 'spp-gateway-redis').spec.template.spec;
    redis.containers[0].securityContext.allowPrivilegeEscalation = true;
    redis.securityContext.runAsUser = 0;
    expect(podsOf(bad).flatMap(({ owner, pod }) => restrictedViolations(pod).map((v) => `${owner}: ${v.control} ${v.field}`))).toEqual([
      'StatefulSet/spp-gateway-redis: Privilege Escalation spec.containers[redis].securityContext.allowPrivilegeEscalation',
      'StatefulSet/spp-gateway-redis: Running as Non-root user spec.securityContext.runAsUser',
    ]);
  });

  it('single: one replica, a real SPP through a service account, state in memory, no Redis', () => {
    const objects = objectsOf('overlays/single');
    const config = configOf('overlays/single');
    expect(find(objects, 'Deployment').spec.replicas).toBe(1);
    expect({ sppUrl: config.sppUrl, mode: config.auth.mode, redis: config.env.REDIS_URL, production: config.production }).toEqual({
      sppUrl: 'https://spp.example.com',
      mode: 'service-account',
      redis: undefined,
      production: true,
    });
  });

  it('scaled: three replicas on one Redis StatefulSet with a volume, a disruption budget of one, an autoscaler from three', () => {
    const objects = objectsOf('overlays/scaled');
    const config = configOf('overlays/scaled');
    expect(find(objects, 'Deployment').spec.replicas).toBe(3);
    expect(config.env.REDIS_URL).toBe('redis://spp-gateway-redis:6379');
    const redis = find(objects, 'StatefulSet', 'spp-gateway-redis');
    expect(redis.spec.replicas).toBe(1);
    expect(redis.spec.volumeClaimTemplates.map((c: any) => [c.metadata.name, c.spec.resources.requests.storage])).toEqual([['data', '1Gi']]);
    expect(redis.spec.template.spec.containers[0].volumeMounts).toEqual([{ name: 'data', mountPath: '/data' }]);
    const gatewayLabels = templateOf(find(objects, 'Deployment')).metadata!.labels;
    expect(find(objects, 'PodDisruptionBudget').spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: gatewayLabels } });
    const hpa = find(objects, 'HorizontalPodAutoscaler').spec;
    expect({ target: hpa.scaleTargetRef, min: hpa.minReplicas, metric: hpa.metrics[0].resource }).toEqual({
      target: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'spp-gateway' },
      min: 3,
      metric: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
    });
    expect(hpa.maxReplicas).toBeGreaterThan(3);
    expect(find(objects, 'Deployment').spec.template.spec.containers[0].resources.requests.cpu, 'the HPA measures against a CPU request').toBe('500m');
  });

  it('scaled: only the gateway reaches Redis, and the gateway reaches only SPP, Redis and DNS', () => {
    const objects = objectsOf('overlays/scaled');
    const gatewayLabels = templateOf(find(objects, 'Deployment')).metadata!.labels;
    const redisLabels = find(objects, 'StatefulSet').spec.template.metadata.labels;
    expect(find(objects, 'NetworkPolicy', 'spp-gateway-redis').spec).toEqual({
      podSelector: { matchLabels: redisLabels },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [{ podSelector: { matchLabels: gatewayLabels } }], ports: [{ protocol: 'TCP', port: 6379 }] }],
      egress: [],
    });
    const sppHost = new URL(configOf('overlays/scaled').sppUrl!);
    expect(find(objects, 'NetworkPolicy', 'spp-gateway').spec).toEqual({
      podSelector: { matchLabels: gatewayLabels },
      policyTypes: ['Egress'],
      egress: [
        { to: [{ ipBlock: { cidr: expect.stringMatching(/\/32$/) } }], ports: [{ protocol: 'TCP', port: sppHost.protocol === 'https:' ? 443 : 80 }] },
        { to: [{ podSelector: { matchLabels: redisLabels } }], ports: [{ protocol: 'TCP', port: 6379 }] },
        {
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
      ],
    });
  });

  it('demo: the embedded simulator (no SPP_URL), open to anonymous callers, its Secret generated', () => {
    const config = configOf('overlays/demo');
    expect({ sppUrl: config.sppUrl, auth: config.auth }).toEqual({
      sppUrl: undefined,
      auth: { mode: 'service-account', serviceAccount: undefined, tokens: [], allowAnonymous: true },
    });
  });

  it('every gateway container runs read-only, and src/ writes no file that would need a writable volume', () => {
    const writes: string[] = [];
    const scan = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) scan(path);
        else if (entry.name.endsWith('.ts') && /\b(writeFile|appendFile|createWriteStream|mkdtemp|mkdir)(Sync)?\(/.test(readFileSync(path, 'utf8')))
          writes.push(path.slice(ROOT.length));
      }
    };
    scan(join(ROOT, 'src'));
    expect(writes, 'a file write in src/ needs an emptyDir mounted where it writes').toEqual([]);
    for (const k of KUSTOMIZATIONS) {
      const spec = templateOf(gatewayDeployment(objectsOf(k))!).spec as any;
      expect({ readOnly: spec.containers[0].securityContext.readOnlyRootFilesystem, volumes: spec.volumes }, k).toEqual({ readOnly: true, volumes: undefined });
    }
  });
});

describe.skipIf(!yamllintPath)('yamllint on deploy/kubernetes', () => {
  const lint = (path: string) =>
    new Promise<{ code: number; output: string }>((resolve) => {
      execFile(yamllintPath!, ['-c', `${KUBERNETES_DIR}/.yamllint.yaml`, '--strict', '-f', 'parsable', path], (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, output: stdout + stderr }),
      );
    });

  it('passes on every file, warnings included', async () => {
    expect(await lint(KUBERNETES_DIR)).toEqual({ code: 0, output: '' });
  });

  it('fails, with the line, on a file indented wrongly and using yes for true', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'yamllint-'));
    try {
      writeFileSync(join(dir, 'bad.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n   name: bad\ndata:\n  enabled: yes\n');
      const { code, output } = await lint(dir);
      expect(code).not.toBe(0);
      expect(output).toMatch(/bad\.yaml:4:4: \[error\] wrong indentation/);
      expect(output).toMatch(/bad\.yaml:6:12: \[error\] truthy value should be one of/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!kubectlPath)('the rendered manifests agree with the code', () => {
  let facts: GatewayFacts & { exitCode: number | null };

  beforeAll(async () => {
    // The probe paths of every kustomization, asked of a gateway started with the demo overlay's environment.
    const paths = new Set(['/readyz', '/healthz']);
    for (const k of KUSTOMIZATIONS) {
      const container = templateOf(gatewayDeployment(objectsOf(k))!).spec.containers[0]!;
      for (const probe of [container.startupProbe, container.readinessProbe, container.livenessProbe]) if (probe?.httpGet?.path) paths.add(probe.httpGet.path);
    }
    const demo = objectsOf('overlays/demo');
    facts = await observeGateway(environmentOf(demo, gatewayDeployment(demo)!).env, [...paths]);
  }, 60_000);

  it('observed a gateway whose /readyz answers 200 while serving and 503 while draining, /healthz 200 in both, and which then exits 0', () => {
    expect(facts).toEqual({ endpoints: { '/readyz': { serving: 200, draining: 503 }, '/healthz': { serving: 200, draining: 200 } }, exitCode: 0 });
  });

  it.each(KUSTOMIZATIONS)('%s: probes, ports, grace period, configuration and Secret references agree with the code', (k) => {
    expect(consistencyProblems(objectsOf(k), facts)).toEqual([]);
  });

  it('the grace period in every kustomization is above the shutdown budget computed from its ConfigMap (18 s)', () => {
    for (const k of KUSTOMIZATIONS) {
      expect(shutdownBudgetMs(configOf(k)), k).toBe(18_000);
      expect(templateOf(gatewayDeployment(objectsOf(k))!).spec.terminationGracePeriodSeconds! * 1_000, k).toBeGreaterThan(18_000);
    }
  });

  describe('fails when one side changes alone', () => {
    const mutated = (k: Kustomization, change: (objects: K8sObject[], container: any, pod: any) => void): string[] => {
      const objects = copy(objectsOf(k));
      const pod = templateOf(gatewayDeployment(objects)!).spec as any;
      change(
        objects,
        pod.containers.find((c: any) => c.name === 'gateway'),
        pod,
      );
      return consistencyProblems(objects, facts);
    };

    it('the readiness probe path in the manifest (/ready)', () => {
      expect(mutated('overlays/scaled', (_, c) => (c.readinessProbe.httpGet.path = '/ready'))).toEqual([
        'Deployment/spp-gateway: readinessProbe path /ready was not observed on the running gateway',
      ]);
    });

    it('the liveness probe moved to the readiness path, which would restart pods during every drain', () => {
      expect(mutated('overlays/single', (_, c) => (c.livenessProbe.httpGet.path = '/readyz'))).toEqual([
        'Deployment/spp-gateway: livenessProbe path /readyz answered 200 while serving and 503 while draining; the liveness endpoint answers 200 and 200',
      ]);
    });

    it('the readiness path on the code side: a gateway that no longer serves /readyz', () => {
      const moved: GatewayFacts = { endpoints: { ...facts.endpoints, '/readyz': { serving: 404, draining: 404 } } };
      expect(consistencyProblems(objectsOf('overlays/scaled'), moved)).toEqual([
        'Deployment/spp-gateway: startupProbe path /readyz answered 404 while serving and 404 while draining; the readiness endpoint answers 200 and 503',
        'Deployment/spp-gateway: readinessProbe path /readyz answered 404 while serving and 404 while draining; the readiness endpoint answers 200 and 503',
      ]);
    });

    it('the grace period in the manifest lowered to 15 s', () => {
      expect(mutated('overlays/scaled', (_, __, pod) => (pod.terminationGracePeriodSeconds = 15))).toEqual([
        'Deployment/spp-gateway: terminationGracePeriodSeconds 15 s is not above the shutdown budget of 18000 ms (SHUTDOWN_DRAIN_MS 5000 + SHUTDOWN_GRACE_MS 10000 + SHUTDOWN_LOGOUT_MS 2000 + 1000)',
      ]);
    });

    it('the shutdown budget raised in the ConfigMap (SHUTDOWN_GRACE_MS 20000) with the grace period left at 25 s', () => {
      expect(mutated('overlays/demo', (objects) => (find(objects, 'ConfigMap').data.SHUTDOWN_GRACE_MS = '20000'))).toEqual([
        'Deployment/spp-gateway: terminationGracePeriodSeconds 25 s is not above the shutdown budget of 28000 ms (SHUTDOWN_DRAIN_MS 5000 + SHUTDOWN_GRACE_MS 20000 + SHUTDOWN_LOGOUT_MS 2000 + 1000)',
      ]);
    });

    it('the drain removed from the ConfigMap is computed by drainMsOf (5 s in production), not assumed', () => {
      expect(mutated('overlays/single', (objects) => delete find(objects, 'ConfigMap').data.SHUTDOWN_DRAIN_MS)).toEqual([]);
      expect(mutated('overlays/single', (objects) => (find(objects, 'ConfigMap').data.NODE_ENV = 'development'))).toEqual([]);
      expect(
        mutated('overlays/single', (objects) => {
          const data = find(objects, 'ConfigMap').data;
          delete data.SHUTDOWN_DRAIN_MS;
          data.NODE_ENV = 'development';
        }),
      ).toEqual(['Deployment/spp-gateway: no drain (SHUTDOWN_DRAIN_MS 0): endpoints would still send requests to a closed port']);
    });

    it('the container port changed while PORT stays at its default (4000)', () => {
      expect(mutated('overlays/single', (_, c) => (c.ports[0].containerPort = 8080))).toEqual([
        'Deployment/spp-gateway: container port "http" is 8080, the gateway listens on PORT 4000',
        'Deployment/spp-gateway: startupProbe goes to port http (8080), the gateway listens on PORT 4000',
        'Deployment/spp-gateway: readinessProbe goes to port http (8080), the gateway listens on PORT 4000',
        'Deployment/spp-gateway: livenessProbe goes to port http (8080), the gateway listens on PORT 4000',
      ]);
    });

    it('SESSION_SECRET no longer referenced in the scaled overlay: config.ts refuses REDIS_URL without it', () => {
      expect(mutated('overlays/scaled', (_, c) => (c.env = c.env.filter((e: any) => e.name !== 'SESSION_SECRET')))).toEqual([
        "Deployment/spp-gateway: src/config.ts refuses the container's environment: Invalid SESSION_SECRET: required with REDIS_URL (every replica must use the same one)",
      ]);
    });

    it('CURSOR_SECRET referenced as optional in the scaled overlay, where config.ts requires it', () => {
      expect(mutated('overlays/scaled', (_, c) => (c.env.find((e: any) => e.name === 'CURSOR_SECRET').valueFrom.secretKeyRef.optional = true))).toEqual([
        'Deployment/spp-gateway: CURSOR_SECRET (Secret spp-gateway, key CURSOR_SECRET) is optional, but src/config.ts refuses to start without it: Invalid CURSOR_SECRET: required with REDIS_URL (every replica must use the same one)',
      ]);
    });

    it('a secret moved into the ConfigMap, and a ConfigMap key the code does not read', () => {
      expect(
        mutated('overlays/single', (objects, c) => {
          c.env = c.env.filter((e: any) => e.name !== 'CURSOR_SECRET');
          Object.assign(find(objects, 'ConfigMap').data, { CURSOR_SECRET: 'x'.repeat(32), SHUTDOWN_TIMEOUT_MS: '5000' });
        }),
      ).toEqual([
        'Deployment/spp-gateway: CURSOR_SECRET is a credential and comes from a ConfigMap; reference it from a Secret',
        'Deployment/spp-gateway: ConfigMap key SHUTDOWN_TIMEOUT_MS is not a variable src/config.ts reads',
      ]);
    });

    it("the ingress's read timeout against the gateway's upstream budget, SSE buffering, and the controller as a trusted proxy", () => {
      expect(
        mutated('examples/production', (objects) => {
          const notes = find(objects, 'Ingress').metadata.annotations;
          notes['nginx.ingress.kubernetes.io/proxy-read-timeout'] = '60';
          delete notes['nginx.ingress.kubernetes.io/proxy-buffering'];
        }),
      ).toEqual([
        'Ingress/spp-gateway: proxy-read-timeout 60 s is not above the longest upstream read (3 attempts of 30000 ms)',
        "Ingress/spp-gateway: proxy-buffering is not off: SSE events would wait in the controller's buffer",
      ]);
      expect(mutated('examples/production', (objects) => delete find(objects, 'ConfigMap').data.TRUSTED_PROXIES)).toEqual([
        "Ingress/spp-gateway: TRUSTED_PROXIES is not set: every client would be the controller's address to the gateway",
      ]);
      expect(mutated('examples/production', (objects) => (find(objects, 'ConfigMap').data.SPP_RESPONSE_TIMEOUT_MS = '60000'))).toEqual([
        'Ingress/spp-gateway: proxy-read-timeout 120 s is not above the longest upstream read (3 attempts of 60000 ms)',
        'Ingress/spp-gateway: proxy-send-timeout 120 s is not above the longest upstream read (3 attempts of 60000 ms)',
      ]);
    });

    it('the metrics port, the Prometheus annotation and the ServiceMonitor kept in step', () => {
      expect(
        mutated('examples/production', (objects) => {
          find(objects, 'ConfigMap').data.METRICS_PORT = '9100';
          find(objects, 'ServiceMonitor').spec.endpoints[0].port = 'prometheus';
        }),
      ).toEqual([
        'Deployment/spp-gateway: container port "metrics" is 9464, the gateway serves /metrics on METRICS_PORT 9100',
        'Deployment/spp-gateway: prometheus.io/port is 9464, /metrics is served on 9100',
        "ServiceMonitor/spp-gateway: port prometheus is not a port of the gateway's Service",
      ]);
    });
  });
});

// The names in KUSTOMIZATIONS are the directories: a new overlay or example is not forgotten.
describe('the list of kustomizations the tests render', () => {
  it('names every directory under deploy/kubernetes/overlays and deploy/kubernetes/examples', () => {
    const dirs = ['overlays', 'examples'].flatMap((top) => readdirSync(join(KUBERNETES_DIR, top)).map((d) => `${top}/${d}`));
    expect([...KUSTOMIZATIONS].sort()).toEqual(dirs.sort());
    expect(nameOf({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'x' } })).toBe('Service/x');
  });
});
