import { Template } from 'aws-cdk-lib/assertions';

type Obj = Record<string, any>;

/** Placeholder for a CloudFormation intrinsic inside a manifest (the value is only known at deploy time). */
export const TOKEN = '${TOKEN}';

function joinManifest(manifest: unknown): string {
  if (typeof manifest === 'string') return manifest;
  const join = (manifest as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (!join) throw new Error(`unexpected Manifest property: ${JSON.stringify(manifest).slice(0, 200)}`);
  let out = '';
  for (const part of join[1]) {
    if (typeof part === 'string') {
      out += part;
    } else {
      // in value position (after ':' ',' or '[') an intrinsic stands for a whole JSON value
      out += /[:,[]\s*$/.test(out) ? JSON.stringify(TOKEN) : TOKEN;
    }
  }
  return out;
}

/**
 * Every Kubernetes object a synthesized stack applies through aws-eks-v2 manifests (cdk8s charts and
 * plain manifests alike), with intrinsics replaced by TOKEN. Helm releases are not included.
 */
export function kubernetesObjectsOf(template: Template): Obj[] {
  const manifests = template.findResources('Custom::AWSCDK-EKS-KubernetesResource');
  return Object.values(manifests).flatMap((r) => JSON.parse(joinManifest(r.Properties.Manifest)) as Obj[]);
}
