/**
 * Validation of rendered objects against the Kubernetes OpenAPI schemas, as packaged by
 * `kubernetes-models` (and `@kubernetes-models/prometheus-operator` for the ServiceMonitor CRD).
 *
 * Two checks, because the package's `validate()` alone is not strict: its JSON schemas (compiled
 * with ajv) check types, required fields, enums and formats such as quantities, but accept any
 * unknown field (the OpenAPI schemas have no `additionalProperties: false`), so a misspelt
 * `readinesProbe` would pass and the API server would drop it. The package's TypeScript
 * interfaces are generated from the same OpenAPI definitions, so the second check compiles every
 * object as an object literal of its interface: TypeScript's excess-property check rejects every
 * field the schema does not define, at any depth (the first one of each object: once it is fixed,
 * the next one shows).
 */
import ts from 'typescript';
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { ROOT, nameOf, type K8sObject } from './manifests.js';

interface Model {
  validate(): void;
}

/** Every kind the manifests use: the model class and the module its TypeScript interface comes from. */
const MODELS: Record<string, { model: new (data: never) => Model; module: string }> = {
  'v1/ConfigMap': { model: ConfigMap, module: 'kubernetes-models/v1/ConfigMap' },
  'v1/Secret': { model: Secret, module: 'kubernetes-models/v1/Secret' },
  'v1/Service': { model: Service, module: 'kubernetes-models/v1/Service' },
  'apps/v1/Deployment': { model: Deployment, module: 'kubernetes-models/apps/v1/Deployment' },
  'apps/v1/StatefulSet': { model: StatefulSet, module: 'kubernetes-models/apps/v1/StatefulSet' },
  'autoscaling/v2/HorizontalPodAutoscaler': { model: HorizontalPodAutoscaler, module: 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler' },
  'networking.k8s.io/v1/Ingress': { model: Ingress, module: 'kubernetes-models/networking.k8s.io/v1/Ingress' },
  'networking.k8s.io/v1/NetworkPolicy': { model: NetworkPolicy, module: 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy' },
  'policy/v1/PodDisruptionBudget': { model: PodDisruptionBudget, module: 'kubernetes-models/policy/v1/PodDisruptionBudget' },
  'monitoring.coreos.com/v1/ServiceMonitor': {
    model: ServiceMonitor,
    module: '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor',
  },
};

const modelOf = (o: K8sObject) => MODELS[`${o.apiVersion}/${o.kind}`];

/** The schema check of kubernetes-models alone (types, required fields, enums, formats): one message per failing object. */
export function schemaErrors(objects: readonly K8sObject[]): string[] {
  const errors: string[] = [];
  for (const o of objects) {
    const entry = modelOf(o);
    if (!entry) {
      errors.push(`${nameOf(o)}: no schema for ${o.apiVersion} ${o.kind} (add its model to test/deploy/schema.ts)`);
      continue;
    }
    try {
      new entry.model(structuredClone(o) as never).validate();
    } catch (error) {
      errors.push(`${nameOf(o)}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return errors;
}

/** Fields the schema does not define (and any type the interfaces reject), found by the TypeScript compiler. */
export function unknownFieldErrors(objects: readonly K8sObject[]): string[] {
  const known = objects.filter((o) => modelOf(o));
  const imports = [...new Set(known.map((o) => `import type { I${o.kind} } from '${modelOf(o)!.module}';`))];
  const header = [...imports, 'export {};'];
  // One object per line, so a diagnostic's line names its object.
  const lines = known.map((o, i) => `const o${i}: I${o.kind} = ${JSON.stringify(o)};`);
  const fileName = `${ROOT}test/deploy/__rendered-manifests__.ts`;
  const text = [...header, ...lines, ''].join('\n');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: [],
    lib: ['lib.es2022.d.ts'],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, language, onError, create) =>
    name === fileName ? ts.createSourceFile(name, text, language, true) : getSourceFile(name, language, onError, create);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === fileName || fileExists(name);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => (name === fileName ? text : readFile(name));
  const program = ts.createProgram([fileName], options, host);
  const source = program.getSourceFile(fileName)!;
  const diagnostics = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
  return diagnostics.map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, ' ');
    if (d.start === undefined) return message;
    const { line, character } = source.getLineAndCharacterOfPosition(d.start);
    const object = known[line - header.length];
    if (!object) return message;
    const lineText = lines[line - header.length]!;
    const at = lineText.slice(Math.max(0, character - 60), character + 40);
    return `${nameOf(object)}: ${message} (at …${at}…)`;
  });
}

/** Both checks: empty when every object is valid and has no field its schema does not define. */
export function validationErrors(objects: readonly K8sObject[]): string[] {
  return [...schemaErrors(objects), ...unknownFieldErrors(objects)];
}
