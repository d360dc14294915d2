// Evaluation of synthesized templates for secret scoping (issue 19): intrinsics resolved across stacks,
// the statements of every role, who can read a secret, web-identity trusts, the Kubernetes objects.
// Used by test/secret-scoping.test.ts and test/examples.test.ts.
import { ENV } from './fixtures';

export type Obj = Record<string, any>;
const REGION = ENV.region;
const ACCOUNT = ENV.account;

export interface Assembly {
  readonly stacks: Map<string, Obj>;
  readonly exports: Map<string, { stack: string; value: unknown }>;
}

/** A value of `stack`'s template with its intrinsics evaluated: ARNs for the resources whose Ref/GetAtt is an ARN. */
export function evaluate(a: Assembly, stack: string, v: unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => evaluate(a, stack, x));
  if (v === null || typeof v !== 'object') return v;
  const o = v as Obj;
  if ('Ref' in o) return refOf(a, stack, o.Ref);
  if ('Fn::GetAtt' in o) return attOf(a, stack, o['Fn::GetAtt'][0], o['Fn::GetAtt'][1]);
  if ('Fn::Join' in o) return (evaluate(a, stack, o['Fn::Join'][1]) as unknown[]).map(String).join(o['Fn::Join'][0]);
  if ('Fn::Select' in o) return (evaluate(a, stack, o['Fn::Select'][1]) as unknown[])[Number(o['Fn::Select'][0])];
  if ('Fn::Split' in o) return String(evaluate(a, stack, o['Fn::Split'][1])).split(o['Fn::Split'][0]);
  if ('Fn::ImportValue' in o) {
    const e = a.exports.get(String(evaluate(a, stack, o['Fn::ImportValue'])));
    if (!e) throw new Error(`no export ${JSON.stringify(o['Fn::ImportValue'])}`);
    return evaluate(a, e.stack, e.value);
  }
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, evaluate(a, stack, x)]));
}

function refOf(a: Assembly, stack: string, id: string): string {
  const pseudo: Obj = { 'AWS::Partition': 'aws', 'AWS::Region': REGION, 'AWS::AccountId': ACCOUNT, 'AWS::URLSuffix': 'amazonaws.com', 'AWS::StackName': stack };
  if (id in pseudo) return pseudo[id];
  const r = a.stacks.get(stack)!.Resources?.[id];
  if (!r) return `ref:${stack}.${id}`;
  if (r.Type === 'AWS::SecretsManager::Secret') return secretArn(r.Properties?.Name ?? `${stack}.${id}`);
  if (r.Type === 'AWS::SecretsManager::SecretTargetAttachment') return String(evaluate(a, stack, r.Properties.SecretId));
  if (r.Type === 'AWS::IAM::OIDCProvider') return `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.${REGION}.amazonaws.com/id/${stack}.${id}`;
  return `ref:${stack}.${id}`;
}

function attOf(a: Assembly, stack: string, id: string, attr: string): string {
  const r = a.stacks.get(stack)!.Resources?.[id];
  if (r?.Type === 'AWS::IAM::Role' && attr === 'Arn') return `arn:aws:iam::${ACCOUNT}:role/${stack}.${id}`;
  if (r?.Type === 'AWS::KMS::Key' && attr === 'Arn') return `arn:aws:kms:${REGION}:${ACCOUNT}:key/${stack}.${id}`;
  return `att:${stack}.${id}.${attr}`;
}

/** A secret's ARN: its name and the 6-character suffix Secrets Manager appends. */
export function secretArn(name: string): string {
  return `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-AbCdEf`;
}

/** IAM wildcard matching (`*` any run, `?` one character). */
export function matches(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(value);
}

export const list = (x: unknown): unknown[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
export const parsed = (doc: unknown): Obj => (typeof doc === 'string' ? JSON.parse(doc) : doc as Obj);

/** Every IAM role of the assembly (`<stack>.<logicalId>`) with the statements of every policy attached to it. */
export function rolePolicies(a: Assembly): Map<string, Obj[]> {
  const out = new Map<string, Obj[]>();
  const add = (role: string, doc: unknown) => out.set(role, [...(out.get(role) ?? []), ...list(parsed(doc)?.Statement) as Obj[]]);
  // Roles: [{ Ref: role }] evaluates to ref:<stack>.<logicalId> (in whichever stack the role lives).
  const roleKey = (ref: unknown): string => String(ref).replace(/^ref:/, '');
  for (const [stack, t] of a.stacks) {
    for (const [id, r] of Object.entries<Obj>(t.Resources ?? {})) {
      if (r.Type === 'AWS::IAM::Role') {
        if (!out.has(`${stack}.${id}`)) out.set(`${stack}.${id}`, []);
        for (const p of list(r.Properties?.Policies) as Obj[]) add(`${stack}.${id}`, evaluate(a, stack, p.PolicyDocument));
      }
      if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') {
        for (const ref of list(evaluate(a, stack, r.Properties.Roles))) add(roleKey(ref), evaluate(a, stack, r.Properties.PolicyDocument));
      }
    }
  }
  return out;
}

/** Whether the statements allow reading a secret (conditions ignored: a proof that a role cannot read errs on the safe side). */
export function canRead(statements: Obj[], arn: string): boolean {
  return statements.some((st) => st.Effect === 'Allow'
    && (st.NotAction !== undefined || list(st.Action).some((x) => matches(String(x), 'secretsmanager:GetSecretValue')))
    && (st.NotResource !== undefined || list(st.Resource).some((x) => matches(String(x), arn))));
}

/** The trust statements of a role that admit web identities, with their exact and wildcard subjects. */
export function webIdentityTrust(a: Assembly, role: string): Array<{ equals: string[]; like: string[]; aud: string[] }> {
  const [stack, id] = role.split('.');
  const doc = parsed(evaluate(a, stack, a.stacks.get(stack)!.Resources[id].Properties.AssumeRolePolicyDocument));
  return (list(doc.Statement) as Obj[])
    .filter((st) => st.Effect === 'Allow' && list(st.Action).includes('sts:AssumeRoleWithWebIdentity'))
    .map((st) => {
      const pick = (op: string, suffix: string): string[] => Object.entries<unknown>(st.Condition?.[op] ?? {})
        .filter(([k]) => k.endsWith(suffix)).flatMap(([, v]) => list(v).map(String));
      return { equals: pick('StringEquals', ':sub'), like: [...pick('StringLike', ':sub'), ...pick('ForAnyValue:StringLike', ':sub')], aud: pick('StringEquals', ':aud') };
    });
}

/** Every Kubernetes object applied by the assembly's manifests. */
export function kubernetesObjects(a: Assembly): Obj[] {
  const out: Obj[] = [];
  for (const [stack, t] of a.stacks) {
    for (const r of Object.values<Obj>(t.Resources ?? {})) {
      if (r.Type === 'Custom::AWSCDK-EKS-KubernetesResource') out.push(...list(JSON.parse(String(evaluate(a, stack, r.Properties.Manifest)))) as Obj[]);
    }
  }
  return out;
}

/** The role a namespace's SecretStore uses: store → service account of its namespace → role-arn annotation. */
export function storeRole(objects: Obj[], namespace: string, store: string): string {
  const s = objects.find((o) => o.kind === 'SecretStore' && o.metadata.namespace === namespace && o.metadata.name === store);
  if (!s) throw new Error(`no SecretStore ${namespace}/${store}`);
  const sa = objects.find((o) => o.kind === 'ServiceAccount' && o.metadata.namespace === namespace && o.metadata.name === s.spec.provider.aws.auth.jwt.serviceAccountRef.name);
  return String(sa?.metadata.annotations?.['eks.amazonaws.com/role-arn']).replace(/^arn:aws:iam::\d+:role\//, '');
}

/**
 * The findings of the scoping rules: every role that can read a secret it must not, and every
 * web-identity trust that does not name one exact service account with the STS audience.
 */
export function scopingProblems(a: Assembly, rules: { secret: string; readers: string[] }[]): string[] {
  const problems: string[] = [];
  for (const [role, statements] of rolePolicies(a)) {
    for (const rule of rules) {
      if (canRead(statements, rule.secret) && !rule.readers.includes(role)) problems.push(`${role} can read ${rule.secret}`);
    }
    for (const t of webIdentityTrust(a, role)) {
      if (t.like.length > 0 || t.equals.length !== 1 || !/^system:serviceaccount:[a-z0-9-]+:[a-z0-9-]+$/.test(t.equals[0])) {
        problems.push(`${role} trusts web identities other than one exact service account: ${JSON.stringify(t)}`);
      }
      if (t.aud.length !== 1 || t.aud[0] !== 'sts.amazonaws.com') problems.push(`${role} trusts audiences ${JSON.stringify(t.aud)}`);
    }
  }
  return problems;
}

