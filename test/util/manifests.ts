import { Template } from 'aws-cdk-lib/assertions';

type Obj = Record<string, any>;

/** Placeholder for a CloudFormation intrinsic inside a manifest (the value is only known at deploy time). */
export const TOKEN = '${TOKEN}';

/**
 * A template string property (a literal, or an `Fn::Join` of strings and intrinsics) as one string,
 * each intrinsic replaced by `placeholder`. In JSON value position (after ':' ',' or '[') the
 * placeholder is quoted, so a joined JSON document still parses.
 */
export function joinedString(value: unknown, placeholder: string = TOKEN): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (!join) throw new Error(`not a string or Fn::Join: ${JSON.stringify(value).slice(0, 200)}`);
  let out = '';
  join[1].forEach((part, i) => {
    if (i > 0) out += join[0];
    out += typeof part === 'string' ? part : /[:,[]\s*$/.test(out) ? JSON.stringify(placeholder) : placeholder;
  });
  return out;
}

/**
 * Every Kubernetes object a synthesized stack applies through aws-eks-v2 manifests (cdk8s charts and
 * plain manifests alike), with intrinsics replaced by `placeholder`. Helm releases are not included.
 */
export function kubernetesObjectsOf(template: Template, placeholder: string = TOKEN): Obj[] {
  const manifests = template.findResources('Custom::AWSCDK-EKS-KubernetesResource');
  return Object.values(manifests).flatMap((r) => JSON.parse(joinedString(r.Properties.Manifest, placeholder)) as Obj[]);
}
