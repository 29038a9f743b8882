/**
 * The Kubernetes manifests under deploy/kubernetes as the cluster would receive them: each
 * kustomization rendered by `kubectl kustomize` (kustomize built into kubectl), parsed into plain
 * objects. Without kubectl the tests that need it are skipped with the reason; under CI (CI=true,
 * where .ci/run installs it) its absence is a failure.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const KUBERNETES_DIR = `${ROOT}deploy/kubernetes`;

/** Every kustomization an operator applies or copies: the three overlays and the examples. */
export const KUSTOMIZATIONS = ['overlays/single', 'overlays/scaled', 'overlays/demo', 'examples/production', 'examples/external-redis'] as const;
export type Kustomization = (typeof KUSTOMIZATIONS)[number];

/** A rendered Kubernetes object: only what every object has is typed; the rest is read with care. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

function which(name: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
  return found && existsSync(found) ? found : undefined;
}

/** KUBECTL / YAMLLINT name the tool's path; set empty, they make the tests behave as on a machine without it. */
const tool = (variable: string, name: string): string | undefined => {
  const given = process.env[variable];
  if (given === undefined) return which(name);
  return given !== '' && existsSync(given) ? given : undefined;
};
export const kubectlPath = tool('KUBECTL', 'kubectl');
export const yamllintPath = tool('YAMLLINT', 'yamllint');
export const inCI = process.env.CI === 'true';

/** What `kubectl kustomize` prints for one kustomization directory (relative to deploy/kubernetes). */
export function renderYaml(dir: string): string {
  if (!kubectlPath) throw new Error('kubectl is not installed');
  return execFileSync(kubectlPath, ['kustomize', `${KUBERNETES_DIR}/${dir}`], {
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** The objects of a rendered kustomization, in kustomize's order. */
export function render(dir: string): K8sObject[] {
  return parseAllDocuments(renderYaml(dir)).map((doc, i) => {
    if (doc.errors.length > 0) throw new Error(`${dir}: document ${i} does not parse: ${doc.errors[0]!.message}`);
    const value = doc.toJS() as K8sObject;
    if (!value || typeof value.kind !== 'string' || typeof value.apiVersion !== 'string' || typeof value.metadata?.name !== 'string') {
      throw new Error(`${dir}: document ${i} is not a Kubernetes object (kind, apiVersion, metadata.name)`);
    }
    return value;
  });
}

export const nameOf = (o: K8sObject): string => `${o.kind}/${o.metadata.name}`;

/** A deep copy to mutate in a test without touching the rendered original. */
export const copy = <T>(value: T): T => structuredClone(value);
