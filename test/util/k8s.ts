import { spawnSync } from 'child_process';
import * as path from 'path';

/** Result of validating one Kubernetes object (see validate-k8s.mjs). */
export interface K8sValidationResult {
  readonly index: number;
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly name?: string;
  readonly errors: string[];
}

const SCRIPT = path.join(__dirname, 'validate-k8s.mjs');

/**
 * Validates Kubernetes objects (plain JSON, e.g. a cdk8s chart's toJson()) against the
 * kubernetes-models schemas, in a child node process because the models are ESM only.
 */
export function validateK8s(objects: unknown[]): K8sValidationResult[] {
  const run = spawnSync(process.execPath, [SCRIPT], { input: JSON.stringify(objects), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`validate-k8s.mjs failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout) as K8sValidationResult[];
}

/** The validation errors of every invalid object, as `Kind/name: error` lines (empty when all are valid). */
export function k8sErrors(objects: unknown[]): string[] {
  return validateK8s(objects).flatMap((r) => r.errors.map((e) => `${r.kind}/${r.name}: ${e}`));
}
