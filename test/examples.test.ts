import * as fs from 'fs';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { createClusterExample } from '../examples/cluster/app';
import { exampleApp, EXAMPLE_ENV } from '../examples/common';
import { compareStatefulIds, LOGICAL_IDS_FILE, StatefulIds, statefulResources } from './util/logical-ids';
import { canRead, kubernetesObjects, Obj, rolePolicies, secretArn } from './util/secret-scoping';
import { servicePrincipals, unscopedServiceStatements } from './util/service-principals';
import { normalisedTemplate } from './util/snapshot';
import { createDevExample } from '../examples/dev/app';
import { createPlatformExample } from '../examples/platform/app';

interface Example { readonly stack: Stack; readonly template: Template; readonly snapshot: unknown }

/** Builds an example exactly as its CLI app does (cdk-nag registered: synth fails on any unacknowledged finding). */
function synthExample(create: (app: App) => Stack): Example {
  const app = exampleApp({ builtinCloudFormationValidation: false });
  const stack = create(app);
  app.synth();
  return { stack, template: Template.fromStack(stack), snapshot: normalisedTemplate(stack) };
}

// Every resource CloudFormation retains or snapshots keeps its logical id (test/data/logical-ids.json;
// the check itself is proven in test/logical-ids.test.ts).
const PINNED_IDS: StatefulIds = JSON.parse(fs.readFileSync(LOGICAL_IDS_FILE, 'utf8'));

test('every example stack has its pinned stateful resources', () => {
  expect(Object.keys(PINNED_IDS).sort()).toEqual(['FxClusterExample', 'FxDev', 'FxPlatform']);
  expect(Object.values(PINNED_IDS).every((ids) => Object.keys(ids).length > 0)).toBe(true);
  expect(Object.values(PINNED_IDS.FxPlatform)).toEqual(expect.arrayContaining(['AWS::RDS::DBInstance', 'AWS::S3::Bucket', 'AWS::EFS::FileSystem']));
});

/** The role handler of a database's service roles: the one principal that reads the master secret. */
const HANDLER_ROLE = /^[A-Za-z]*DatabaseServiceRolesProviderHandlerServiceRole/;

/** Logical ids of the roles whose policies can read a master secret (`<platform>/database/<name>`) of the template. */
function masterSecretReaders(template: Obj): string[] {
  const assembly = { stacks: new Map<string, Obj>([['S', template]]), exports: new Map() };
  const masters = Object.values<Obj>(template.Resources).filter((r) => r.Type === 'AWS::SecretsManager::Secret')
    .map((r) => String(r.Properties?.Name ?? '')).filter((n) => /\/database\/[^/]+$/.test(n));
  const policies = [...rolePolicies(assembly)];
  return masters.flatMap((name) => policies.filter(([, st]) => canRead(st, secretArn(name))).map(([role]) => role.split('.')[1])).sort();
}

test('the master-secret check sees the handler, and fails on any other role that can read it', () => {
  const template: Obj = {
    Resources: {
      Master: { Type: 'AWS::SecretsManager::Secret', Properties: { Name: 'fx/database/orders' } },
      DatabaseServiceRolesProviderHandlerServiceRoleA1: { Type: 'AWS::IAM::Role', Properties: {} },
      Greedy: { Type: 'AWS::IAM::Role', Properties: {} },
      HandlerPolicy: {
        Type: 'AWS::IAM::Policy',
        Properties: { Roles: [{ Ref: 'DatabaseServiceRolesProviderHandlerServiceRoleA1' }], PolicyDocument: { Statement: [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: { Ref: 'Master' } }] } },
      },
      GreedyPolicy: {
        Type: 'AWS::IAM::Policy',
        Properties: { Roles: [{ Ref: 'Greedy' }], PolicyDocument: { Statement: [{ Effect: 'Allow', Action: 'secretsmanager:Get*', Resource: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:fx/*' }] } },
      },
    },
  };
  expect(masterSecretReaders(template)).toEqual(['DatabaseServiceRolesProviderHandlerServiceRoleA1', 'Greedy']);
  expect(masterSecretReaders(template).filter((r) => !HANDLER_ROLE.test(r))).toEqual(['Greedy']);
});

/** Checks every example gets on its one synthesis: pinned logical ids and scoped service principals. */
function sharedChecks(example: () => Example, principals: string[]): void {
  test('stateful resources keep their logical ids (test/data/logical-ids.json)', () => {
    const { stack, template } = example();
    const name = stack.stackName;
    expect(compareStatefulIds({ [name]: PINNED_IDS[name] ?? {} }, { [name]: statefulResources(template.toJSON()) })).toEqual([]);
  });

  test('the service-principal walk sees every service let into a topic, key, queue or bucket policy', () => {
    expect(servicePrincipals(example().template.toJSON())).toEqual(principals);
  });

  test('every statement that lets a service in carries aws:SourceArn or aws:SourceAccount', () => {
    expect(unscopedServiceStatements(example().template.toJSON(), EXAMPLE_ENV.account)).toEqual([]);
  });

  test('no role but a database\'s service-role handler can read a master secret; each service reads its own role secret through its own store', () => {
    const { stack, template } = example();
    const assembly = { stacks: new Map<string, Obj>([[stack.stackName, template.toJSON()]]), exports: new Map() };
    const readers = masterSecretReaders(template.toJSON());
    expect(readers.filter((r) => !HANDLER_ROLE.test(r))).toEqual([]);
    // With a database, the walk does see the handler's read (so an empty list above proves something).
    if (Object.keys(template.findResources('AWS::RDS::DBInstance')).length > 0) expect(readers.some((r) => HANDLER_ROLE.test(r))).toBe(true);
    const objects = kubernetesObjects(assembly);
    const databaseSecrets = objects.filter((o) => o.kind === 'ExternalSecret' && String(o.metadata.name).endsWith('-database'));
    for (const es of databaseSecrets) {
      const ns = es.metadata.namespace;
      expect([es.spec.secretStoreRef, String(es.spec.data?.[0]?.remoteRef?.key ?? es.spec.dataFrom?.[0]?.extract?.key)]).toEqual([
        { kind: 'SecretStore', name: `${String(es.metadata.name).replace(/-database$/, '')}-secrets` },
        expect.stringMatching(new RegExp(`/database/[^/]+/roles/${String(es.metadata.name).replace(/-database$/, '').replace(/-/g, '_')}$`)),
      ]);
      expect(objects.filter((o) => o.kind === 'SecretStore' && o.metadata.namespace === ns).map((o) => o.metadata.name)).toEqual([es.spec.secretStoreRef.name]);
    }
    expect(objects.filter((o) => o.kind === 'ClusterSecretStore')).toEqual([]);
  });
}

const charts = (t: Template) => Object.values(t.findResources('Custom::AWSCDK-EKS-HelmChart')).map((r) => r.Properties.Chart).sort();

describe('example: cluster', () => {
  let ex: Example;
  beforeAll(() => { ex = synthExample(createClusterExample); });
  sharedChecks(() => ex, ['logs.us-east-1.amazonaws.com']);

  test('synthesizes the production cluster with its add-ons', () => {
    ex.template.resourceCountIs('AWS::EC2::NatGateway', 3);
    ex.template.hasResourceProperties('AWS::EKS::Cluster', { Version: '1.35' });
    expect(charts(ex.template)).toEqual(expect.arrayContaining(['aws-load-balancer-controller', 'traefik', 'external-secrets', 'metrics-server']));
  });

  test('matches the snapshot', () => {
    expect(ex.snapshot).toMatchSnapshot();
  });
});

describe('example: platform', () => {
  let ex: Example;
  beforeAll(() => { ex = synthExample(createPlatformExample); });
  sharedChecks(() => ex, ['budgets.amazonaws.com', 'cloudwatch.amazonaws.com', 'events.amazonaws.com', 'logs.us-east-1.amazonaws.com', 'sqs.amazonaws.com']);

  test('assembles cluster, databases, observability and two services', () => {
    // orders-api and inventory-api each have a database of their own.
    ex.template.resourceCountIs('AWS::RDS::DBInstance', 2);
    ex.template.hasResourceProperties('AWS::RDS::DBInstance', { MultiAZ: true });
    expect(charts(ex.template)).toEqual(expect.arrayContaining(['kube-prometheus-stack', 'traefik', 'external-secrets', 'karpenter']));
    ex.template.resourceCountIs('AWS::ECR::Repository', 2);
    // A small on-demand group for system pods; Karpenter launches application capacity (on-demand and spot).
    ex.template.resourceCountIs('AWS::EKS::Nodegroup', 1);
    expect(charts(ex.template)).not.toContain('cluster-autoscaler');
  });

  test('stays within CloudFormation limits', () => {
    expect(Object.keys(ex.template.toJSON().Resources).length).toBeLessThanOrEqual(500);
    expect(JSON.stringify(ex.template.toJSON()).length).toBeLessThan(1_000_000);
  });

  test('matches the snapshot', () => {
    expect(ex.snapshot).toMatchSnapshot();
  });
});

describe('example: dev', () => {
  let ex: Example;
  beforeAll(() => { ex = synthExample(createDevExample); });
  sharedChecks(() => ex, ['budgets.amazonaws.com', 'cloudwatch.amazonaws.com', 'logs.us-east-1.amazonaws.com']);

  test('is the cheap profile on the Let\'s Encrypt path', () => {
    ex.template.resourceCountIs('AWS::EC2::NatGateway', 1);
    ex.template.hasResourceProperties('AWS::RDS::DBInstance', { MultiAZ: false });
    expect(charts(ex.template)).toContain('cert-manager');
    expect(charts(ex.template)).not.toContain('eck-operator');
  });

  test('matches the snapshot', () => {
    expect(ex.snapshot).toMatchSnapshot();
  });
});
