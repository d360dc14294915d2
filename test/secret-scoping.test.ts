// Issue 19 items 1 and 2, proven on a synthesized platform: every service has its own database role and a
// SecretStore of its own namespace, whose IAM role reads only that service's secrets; nothing in the
// cluster can read the master secret. The checks evaluate the synthesized templates (intrinsics resolved
// across stacks), not the constructs that produced them.
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { bundleIsFresh, bundleRoleHandler } from '../build-tools/bundle-role-handler';
import { FxCapability, FxCluster, FxDatabase, FxImage, FxVersions, FxMicroservice, FxObservability, FxProfile, FxServiceStacks } from '../src';
import { clusterWithAddons, ENV, testApp } from './util/fixtures';
import { checkCustomObject, loadChartData } from './util/helm-values';

type Obj = Record<string, any>;
const REGION = ENV.region;
const ACCOUNT = ENV.account;

interface Assembly {
  readonly stacks: Map<string, Obj>;
  readonly exports: Map<string, { stack: string; value: unknown }>;
}

/** A value of `stack`'s template with its intrinsics evaluated: ARNs for the resources whose Ref/GetAtt is an ARN. */
function evaluate(a: Assembly, stack: string, v: unknown): unknown {
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
function secretArn(name: string): string {
  return `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-AbCdEf`;
}

/** IAM wildcard matching (`*` any run, `?` one character). */
function matches(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(value);
}

const list = (x: unknown): unknown[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
const parsed = (doc: unknown): Obj => (typeof doc === 'string' ? JSON.parse(doc) : doc as Obj);

/** Every IAM role of the assembly (`<stack>.<logicalId>`) with the statements of every policy attached to it. */
function rolePolicies(a: Assembly): Map<string, Obj[]> {
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
function canRead(statements: Obj[], arn: string): boolean {
  return statements.some((st) => st.Effect === 'Allow'
    && (st.NotAction !== undefined || list(st.Action).some((x) => matches(String(x), 'secretsmanager:GetSecretValue')))
    && (st.NotResource !== undefined || list(st.Resource).some((x) => matches(String(x), arn))));
}

/** The trust statements of a role that admit web identities, with their exact and wildcard subjects. */
function webIdentityTrust(a: Assembly, role: string): Array<{ equals: string[]; like: string[]; aud: string[] }> {
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
function kubernetesObjects(a: Assembly): Obj[] {
  const out: Obj[] = [];
  for (const [stack, t] of a.stacks) {
    for (const r of Object.values<Obj>(t.Resources ?? {})) {
      if (r.Type === 'Custom::AWSCDK-EKS-KubernetesResource') out.push(...list(JSON.parse(String(evaluate(a, stack, r.Properties.Manifest)))) as Obj[]);
    }
  }
  return out;
}

/** The role a namespace's SecretStore uses: store → service account of its namespace → role-arn annotation. */
function storeRole(objects: Obj[], namespace: string, store: string): string {
  const s = objects.find((o) => o.kind === 'SecretStore' && o.metadata.namespace === namespace && o.metadata.name === store);
  if (!s) throw new Error(`no SecretStore ${namespace}/${store}`);
  const sa = objects.find((o) => o.kind === 'ServiceAccount' && o.metadata.namespace === namespace && o.metadata.name === s.spec.provider.aws.auth.jwt.serviceAccountRef.name);
  return String(sa?.metadata.annotations?.['eks.amazonaws.com/role-arn']).replace(/^arn:aws:iam::\d+:role\//, '');
}

/**
 * The findings of the scoping rules: every role that can read a secret it must not, and every
 * web-identity trust that does not name one exact service account with the STS audience.
 */
function scopingProblems(a: Assembly, rules: { secret: string; readers: string[] }[]): string[] {
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

interface Platform {
  readonly assembly: Assembly;
  readonly database: FxDatabase;
  readonly a: FxMicroservice;
  readonly b: FxMicroservice;
  readonly partnerKey: secretsmanager.ISecret;
  readonly cluster: FxCluster;
}

function synthPlatform(): Platform {
  const app = testApp();
  const stack = new Stack(app, 'FxPlatform', { env: ENV });
  const cluster = clusterWithAddons(stack, FxProfile.PRODUCTION, { endpointAllowlist: ['203.0.113.0/24'] });
  const database = new FxDatabase(stack, 'Database', { cluster, databaseName: 'shop' });
  const observability = new FxObservability(stack, 'Observability', { cluster, alarmEmails: ['ops@example.com'] });
  const partnerKey = new secretsmanager.Secret(stack, 'PartnerKey', { secretName: 'fx/partners/orders' });
  const services = new FxServiceStacks(app, 'FxServices', { env: ENV, stackCount: 2 });
  const a = new FxMicroservice(services.stackFor('orders'), 'Orders', {
    cluster,
    database,
    observability,
    serviceName: 'orders',
    image: FxImage.fromRegistry('ghcr.io/fx/orders:1.0.0'),
    secretEnv: [{ secret: partnerKey, keys: ['token'] }],
  });
  const b = new FxMicroservice(services.stackFor('billing'), 'Billing', {
    cluster,
    database,
    observability,
    serviceName: 'billing',
    image: FxImage.fromRegistry('ghcr.io/fx/billing:1.0.0'),
  });
  const cloud = app.synth();
  const stacks = new Map(cloud.stacks.map((s) => [s.stackName, s.template as Obj]));
  const exports = new Map<string, { stack: string; value: unknown }>();
  for (const [name, t] of stacks) {
    for (const out of Object.values<Obj>(t.Outputs ?? {})) if (out.Export) exports.set(String(out.Export.Name), { stack: name, value: out.Value });
  }
  return { assembly: { stacks, exports }, database, a, b, partnerKey, cluster };
}

let p: Platform;
let objects: Obj[];
const roleSecret = (service: string) => secretArn(`${p.database.secretName}/roles/${service}`);
const master = () => secretArn(p.database.secretName);
const roleOf = (service: FxMicroservice) => `${Stack.of(service).stackName}.${Stack.of(service).getLogicalId(service.role.node.defaultChild as any)}`;
const handlerRole = () => [...rolePolicies(p.assembly).keys()].find((r) => r.startsWith('FxPlatform.DatabaseServiceRolesProviderHandlerServiceRole'))!;

beforeAll(() => {
  if (!bundleIsFresh()) bundleRoleHandler();
  p = synthPlatform();
  objects = kubernetesObjects(p.assembly);
});

describe('secrets scoped per namespace', () => {
  test('each service\'s ExternalSecrets name its own secrets through the SecretStore of its own namespace', () => {
    for (const [ns, expected] of [['orders', [roleSecret('orders'), secretArn('fx/partners/orders')]], ['billing', [roleSecret('billing')]]] as const) {
      const externalSecrets = objects.filter((o) => o.kind === 'ExternalSecret' && o.metadata.namespace === ns);
      expect(externalSecrets.map((e) => e.spec.secretStoreRef)).toEqual(externalSecrets.map(() => ({ kind: 'SecretStore', name: `${ns}-secrets` })));
      const keys = externalSecrets.flatMap((e) => [
        ...(e.spec.data ?? []).map((d: Obj) => d.remoteRef.key),
        ...(e.spec.dataFrom ?? []).map((d: Obj) => d.extract.key),
      ]);
      expect([...new Set(keys)].map((k) => secretArn(k)).sort()).toEqual([...expected].sort());
    }
  });

  test('every SecretStore and ExternalSecret validates against the CRDs of the pinned External Secrets chart', () => {
    const data = loadChartData('external-secrets', FxVersions.default().charts.externalSecrets.version)!;
    const crds = data.crds.map((crd) => ({ crd, source: `${data.name} ${data.version}` }));
    const eso = objects.filter((o) => String(o.apiVersion).startsWith('external-secrets.io/'));
    expect(eso.length).toBeGreaterThanOrEqual(8);
    for (const o of eso) expect({ object: `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`, ...checkCustomObject(o, crds) }).toEqual(expect.objectContaining({ checked: true, errors: [] }));
    // The checker is live: a ClusterSecretStore-only field on a namespaced store fails.
    const store = JSON.parse(JSON.stringify(eso.find((o) => o.kind === 'SecretStore')));
    store.spec.provider.aws.auth.jwt.serviceAccountRef.nmae = 'x';
    expect(checkCustomObject(store, crds).errors.length).toBeGreaterThan(0);
  });

  test('no ClusterSecretStore exists, and every store names a service account of its own namespace', () => {
    expect(objects.filter((o) => o.kind === 'ClusterSecretStore')).toEqual([]);
    const stores = objects.filter((o) => o.kind === 'SecretStore');
    expect(stores.map((s) => `${s.metadata.namespace}/${s.metadata.name}`).sort())
      .toEqual(['billing/billing-secrets', 'logging/fx-secrets', 'monitoring/fx-secrets', 'orders/orders-secrets']);
    for (const s of stores) {
      expect(s.apiVersion).toBe('external-secrets.io/v1');
      expect(s.spec.provider.aws.auth.jwt.serviceAccountRef).toEqual({ name: s.metadata.name });
      const sa = objects.find((o) => o.kind === 'ServiceAccount' && o.metadata.namespace === s.metadata.namespace && o.metadata.name === s.metadata.name);
      expect(sa?.automountServiceAccountToken).toBe(false);
    }
  });

  test('the role behind namespace A\'s store reads A\'s secrets only: not B\'s, not the master secret', () => {
    const ordersRole = storeRole(objects, 'orders', 'orders-secrets');
    const billingRole = storeRole(objects, 'billing', 'billing-secrets');
    expect(ordersRole).toBe(roleOf(p.a));
    expect(billingRole).toBe(roleOf(p.b));
    const policies = rolePolicies(p.assembly);
    expect(canRead(policies.get(ordersRole)!, roleSecret('orders'))).toBe(true);
    expect(canRead(policies.get(ordersRole)!, secretArn('fx/partners/orders'))).toBe(true);
    expect(canRead(policies.get(ordersRole)!, roleSecret('billing'))).toBe(false);
    expect(canRead(policies.get(ordersRole)!, master())).toBe(false);
    expect(canRead(policies.get(billingRole)!, roleSecret('orders'))).toBe(false);
    expect(canRead(policies.get(billingRole)!, secretArn('fx/partners/orders'))).toBe(false);
    expect(canRead(policies.get(billingRole)!, master())).toBe(false);
  });

  test('store roles trust exactly their namespace\'s store service account (and the service\'s pods through Pod Identity)', () => {
    const trust = (role: string) => webIdentityTrust(p.assembly, role);
    expect(trust(roleOf(p.a))).toEqual([{ equals: ['system:serviceaccount:orders:orders-secrets'], like: [], aud: ['sts.amazonaws.com'] }]);
    expect(trust(roleOf(p.b))).toEqual([{ equals: ['system:serviceaccount:billing:billing-secrets'], like: [], aud: ['sts.amazonaws.com'] }]);
    expect(trust(storeRole(objects, 'monitoring', 'fx-secrets'))).toEqual([{ equals: ['system:serviceaccount:monitoring:fx-secrets'], like: [], aud: ['sts.amazonaws.com'] }]);
    expect(trust(storeRole(objects, 'logging', 'fx-secrets'))).toEqual([{ equals: ['system:serviceaccount:logging:fx-secrets'], like: [], aud: ['sts.amazonaws.com'] }]);
    const snapshots = [...rolePolicies(p.assembly).keys()].find((r) => r.startsWith('FxPlatform.ObservabilityElasticsearchSnapshotRole'))!;
    expect(trust(snapshots)).toEqual([{ equals: ['system:serviceaccount:logging:fx-elasticsearch'], like: [], aud: ['sts.amazonaws.com'] }]);
    // One OIDC provider for the cluster, shared by every IRSA trust.
    const providers = Object.values<Obj>(p.assembly.stacks.get('FxPlatform')!.Resources).filter((r) => r.Type === 'AWS::IAM::OIDCProvider');
    expect(providers.map((r) => r.Properties.ClientIdList)).toEqual([['sts.amazonaws.com']]);
  });

  test('the service role keeps its Pod Identity trust beside the store\'s web identity', () => {
    const [stack, id] = roleOf(p.a).split('.');
    const doc = JSON.parse(String(evaluate(p.assembly, stack, p.assembly.stacks.get(stack)!.Resources[id].Properties.AssumeRolePolicyDocument)));
    expect(doc.Statement.map((st: Obj) => [st.Principal.Service ?? 'web identity', st.Action])).toEqual([
      ['pods.eks.amazonaws.com', ['sts:AssumeRole', 'sts:TagSession']],
      ['web identity', 'sts:AssumeRoleWithWebIdentity'],
    ]);
  });

  test('grants to a service land in its role\'s inline policy; store reads alone open no AWS egress for its pods', () => {
    const app = testApp();
    const stack = new Stack(app, 'P', { env: ENV });
    const cluster = clusterWithAddons(stack, FxProfile.DEVELOPMENT, { endpointAllowlist: ['203.0.113.0/24'] });
    const key = new secretsmanager.Secret(stack, 'Key');
    const reader = new FxMicroservice(stack, 'Reader', { cluster, serviceName: 'reader', image: FxImage.fromRegistry('ghcr.io/fx/r:1'), secretEnv: [{ secret: key }] });
    const writer = new FxMicroservice(stack, 'Writer', { cluster, serviceName: 'writer', image: FxImage.fromRegistry('ghcr.io/fx/w:1') });
    const bucket = new s3.Bucket(stack, 'Bucket');
    bucket.grantRead(writer);
    expect(reader.hasAwsPermissions()).toBe(false);
    expect(writer.hasAwsPermissions()).toBe(true);
    const template = Template.fromStack(stack);
    const resources = template.toJSON().Resources;
    const policies = (svc: FxMicroservice) => (resources[stack.getLogicalId(svc.role.node.defaultChild as any)].Properties.Policies as Obj[])
      .map((x) => x.PolicyName);
    expect(policies(reader)).toEqual(['SecretStoreRead']);
    expect(policies(writer)).toEqual(['Grants']);
    expect(Object.keys(template.findResources('AWS::IAM::Policy')).filter((k) => /^(Reader|Writer)/.test(k))).toEqual([]);
  });

  test('a service that syncs no secret gets no SecretStore and no web-identity trust', () => {
    const app = testApp();
    const stack = new Stack(app, 'P', { env: ENV });
    const cluster = clusterWithAddons(stack, FxProfile.DEVELOPMENT, { endpointAllowlist: ['203.0.113.0/24'] });
    const svc = new FxMicroservice(stack, 'Plain', { cluster, serviceName: 'plain', image: FxImage.fromRegistry('ghcr.io/fx/plain:1') });
    const kinds = svc.chart.toJson().map((o: Obj) => o.kind);
    expect(kinds).not.toContain('SecretStore');
    expect(kinds).not.toContain('ExternalSecret');
    const trust = stack.resolve((svc.role.node.defaultChild as any).assumeRolePolicyDocument);
    expect(JSON.stringify(trust)).not.toContain('AssumeRoleWithWebIdentity');
  });

  test('fails when a service syncing secrets runs on a cluster whose OIDC issuer is unknown (imported)', () => {
    const stack = new Stack(testApp(), 'Services', { env: ENV });
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-0123456789abcdef0',
      availabilityZones: ['us-east-1a', 'us-east-1b'],
      vpcCidrBlock: '10.1.0.0/16',
      privateSubnetIds: ['subnet-0a', 'subnet-0b'],
      privateSubnetIpv4CidrBlocks: ['10.1.0.0/20', '10.1.16.0/20'],
    });
    const kubectlProvider = eks.KubectlProvider.fromKubectlProviderAttributes(stack, 'Kubectl', {
      serviceToken: 'arn:aws:lambda:us-east-1:123456789012:function:kubectl', role: iam.Role.fromRoleArn(stack, 'KubectlRole', 'arn:aws:iam::123456789012:role/kubectl'),
    });
    const cluster = FxCluster.fromClusterAttributes(stack, 'Cluster', {
      clusterName: 'shared-eks',
      vpc,
      clusterSecurityGroupId: 'sg-0123456789abcdef0',
      kubectlProvider,
      platformName: 'fx',
      installedCapabilities: [
        FxCapability.NODES, FxCapability.POD_IDENTITY, FxCapability.EXTERNAL_SECRETS_CRDS, FxCapability.EXTERNAL_SECRETS_WEBHOOK,
      ],
    });
    const key = secretsmanager.Secret.fromSecretNameV2(stack, 'Key', 'fx/partners/orders');
    expect(() => new FxMicroservice(stack, 'Orders', { cluster, image: FxImage.fromRegistry('ghcr.io/acme/orders:1.0.0'), secretEnv: [{ secret: key }] }))
      .toThrow("FxCluster at Services/Orders: invalid cluster 'Services/Cluster'; allowed: a cluster FxCluster creates: IRSA trusts (namespace SecretStores, "
        + 'Elasticsearch snapshots) need its OIDC issuer, which an imported cluster does not expose');
  });

  test('no role but the service role handler can read the master secret; each secret has only its namespace\'s reader', () => {
    const keyOf = (ns: string) => String(objects.find((o) => o.kind === 'ExternalSecret' && o.metadata.namespace === ns)!.spec.data[0].remoteRef.key);
    const readersOf = (arn: string) => [...rolePolicies(p.assembly)].filter(([, st]) => canRead(st, arn)).map(([r]) => r).sort();
    expect(readersOf(master())).toEqual([handlerRole()]);
    expect(readersOf(roleSecret('orders'))).toEqual([handlerRole(), roleOf(p.a)].sort());
    expect(readersOf(roleSecret('billing'))).toEqual([handlerRole(), roleOf(p.b)].sort());
    // Platform secrets (by ARN in their ExternalSecrets): only their own namespace's store role.
    expect(readersOf(keyOf('monitoring'))).toEqual([storeRole(objects, 'monitoring', 'fx-secrets')]);
    expect(readersOf(keyOf('logging'))).toEqual([storeRole(objects, 'logging', 'fx-secrets')]);
    expect(scopingProblems(p.assembly, [
      { secret: master(), readers: [handlerRole()] },
      { secret: roleSecret('orders'), readers: [handlerRole(), roleOf(p.a)] },
      { secret: roleSecret('billing'), readers: [handlerRole(), roleOf(p.b)] },
      { secret: secretArn('fx/partners/orders'), readers: [roleOf(p.a)] },
    ])).toEqual([]);
  });

  test('the checker fails on a policy granting <platform>/* and on a trust by subject pattern', () => {
    const stacks = new Map([...p.assembly.stacks].map(([k, v]) => [k, JSON.parse(JSON.stringify(v))]));
    const bad: Assembly = { stacks, exports: p.assembly.exports };
    const [stack, id] = roleOf(p.b).split('.');
    const role = stacks.get(stack)!.Resources[id];
    role.Properties.Policies.push({
      PolicyName: 'Bad',
      PolicyDocument: { Statement: [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:fx/*` }] },
    });
    const trust = JSON.parse(String(evaluate(bad, stack, role.Properties.AssumeRolePolicyDocument)));
    const web = trust.Statement.find((st: Obj) => st.Action === 'sts:AssumeRoleWithWebIdentity');
    web.Condition = { StringLike: { [`${Object.keys(web.Condition.StringEquals)[0]}`]: 'system:serviceaccount:*:*' }, StringEquals: { 'x:aud': 'sts.amazonaws.com' } };
    role.Properties.AssumeRolePolicyDocument = trust;
    expect(scopingProblems(bad, [
      { secret: master(), readers: [handlerRole()] },
      { secret: roleSecret('orders'), readers: [handlerRole(), roleOf(p.a)] },
    ])).toEqual([
      `${roleOf(p.b)} can read ${master()}`,
      `${roleOf(p.b)} can read ${roleSecret('orders')}`,
      `${roleOf(p.b)} trusts web identities other than one exact service account: {"equals":[],"like":["system:serviceaccount:*:*"],"aud":["sts.amazonaws.com"]}`,
    ]);
  });

  test('the External Secrets Operator\'s own role is granted nothing, and a grant to it is refused', () => {
    const platform = p.assembly.stacks.get('FxPlatform')!;
    const association = Object.values<Obj>(platform.Resources)
      .find((r) => r.Type === 'AWS::EKS::PodIdentityAssociation' && r.Properties.Namespace === 'external-secrets')!;
    const controllerRole = `FxPlatform.${association.Properties.RoleArn['Fn::GetAtt'][0]}`;
    expect(rolePolicies(p.assembly).get(controllerRole)).toEqual([]);
    expect(platform.Resources[association.Properties.RoleArn['Fn::GetAtt'][0]].Properties.ManagedPolicyArns).toBeUndefined();
    expect(() => p.cluster.grantExternalSecretRead(p.partnerKey)).toThrow(
      /FxCluster: invalid grantExternalSecretRead 'FxPlatform\/PartnerKey'; allowed: no grant to the External Secrets Operator \(its own role reads nothing\): secrets are read by the SecretStore of the namespace that syncs them/);
  });
});

describe('a database role per service', () => {
  test('each service has its own role, in its own stack; the database stack holds no per-service resource', () => {
    expect(p.a.databaseRole?.username).toBe('orders');
    expect(p.b.databaseRole?.username).toBe('billing');
    // Six resources per service (DESIGN: at most 6), whichever stack the two services landed in.
    const perService = ['AWS::EKS::PodIdentityAssociation', 'AWS::IAM::Role', 'AWS::SecretsManager::RotationSchedule', 'AWS::SecretsManager::Secret',
      'Custom::AWSCDK-EKS-KubernetesResource', 'Custom::FxDatabaseServiceRole'];
    const stacks = [p.a, p.b].map((s) => Stack.of(s).stackName);
    for (const name of new Set(stacks)) {
      const services = stacks.filter((x) => x === name).length;
      const types = Object.values<Obj>(p.assembly.stacks.get(name)!.Resources).map((r) => r.Type).sort();
      expect(types).toEqual(perService.flatMap((t) => Array(services).fill(t)));
    }
    const platform = JSON.stringify(p.assembly.stacks.get('FxPlatform'));
    expect(platform).not.toContain('Fn::ImportValue');
    expect(Object.values<Obj>(p.assembly.stacks.get('FxPlatform')!.Resources).filter((r) => r.Type === 'Custom::FxDatabaseServiceRole')).toEqual([]);
  });

  test('IAM database authentication only as the service\'s own <role>_iam user', () => {
    const statements = rolePolicies(p.assembly).get(roleOf(p.a))!;
    const connect = statements.filter((st) => list(st.Action).includes('rds-db:connect'));
    expect(connect.map((st) => String(st.Resource).replace(/dbuser:.*\//, 'dbuser:<instance>/'))).toEqual([`arn:aws:rds-db:${REGION}:${ACCOUNT}:dbuser:<instance>/orders_iam`]);
  });

  test('the role name is derived from the service name and validated', () => {
    const app = testApp();
    const stack = new Stack(app, 'P', { env: ENV });
    const cluster = clusterWithAddons(stack, FxProfile.DEVELOPMENT, { endpointAllowlist: ['203.0.113.0/24'] });
    const database = new FxDatabase(stack, 'Database', { cluster, databaseName: 'shop' });
    const svc = new FxMicroservice(stack, 'Api', { cluster, database, serviceName: 'order-api', image: FxImage.fromRegistry('ghcr.io/fx/api:1') });
    expect(svc.databaseRole?.username).toBe('order_api');
    expect(() => new FxMicroservice(stack, 'Rds', { cluster, database, serviceName: 'rds-proxy', image: FxImage.fromRegistry('ghcr.io/fx/api:1') }))
      .toThrow(/FxDatabaseServiceRole at P\/Rds\/DatabaseRole: invalid name 'rds_proxy'; allowed: a role of its own: not the master user/);
    const named = new FxMicroservice(stack, 'Named', {
      cluster, database, serviceName: 'rds-named', image: FxImage.fromRegistry('ghcr.io/fx/api:1'), databaseRole: { name: 'named', schema: 'named_data' },
    });
    expect(named.databaseRole?.username).toBe('named');
  });
});
