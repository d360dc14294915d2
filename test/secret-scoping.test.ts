// Issue 19 items 1 and 2, proven on a synthesized platform: every service has its own database role and a
// SecretStore of its own namespace, whose IAM role reads only that service's secrets; nothing in the
// cluster can read the master secret. The checks evaluate the synthesized templates (intrinsics resolved
// across stacks), not the constructs that produced them.
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { bundleIsFresh, bundleRoleHandler } from '../build-tools/bundle-role-handler';
import { FxCapability, FxCluster, FxDatabase, FxImage, FxVersions, FxMicroservice, FxObservability, FxProfile, FxServiceStacks } from '../src';
import { clusterWithAddons, ENV, importedClusterNetwork, testApp } from './util/fixtures';
import { checkCustomObject, loadChartData } from './util/helm-values';
import { Assembly, canRead, evaluate, kubernetesObjects, list, Obj, rolePolicies, scopingProblems, secretArn, storeRole, webIdentityTrust } from './util/secret-scoping';

const REGION = ENV.region;
const ACCOUNT = ENV.account;

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
    const { vpc, kubectlProvider } = importedClusterNetwork(stack);
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
