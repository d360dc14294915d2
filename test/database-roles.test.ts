import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { bundleIsFresh, bundleRoleHandler } from '../build-tools/bundle-role-handler';
import { FxCluster, FxDatabase, FxDatabaseServiceRole, FxProfile, FxServiceRoleRemoval } from '../src';
import { ENV, testApp } from './util/fixtures';

beforeAll(() => {
  if (!bundleIsFresh()) bundleRoleHandler();
});

interface Scenario {
  readonly stack: Stack;
  readonly database: FxDatabase;
  readonly orders: FxDatabaseServiceRole;
  readonly billing: FxDatabaseServiceRole;
  readonly consumer: iam.Role;
  readonly template: Template;
}

function build(outdir?: string, nag = false): Scenario {
  const app = testApp(outdir);
  if (nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = new Stack(app, 'Platform', { env: ENV });
  const cluster = new FxCluster(stack, 'Cluster', { profile: FxProfile.PRODUCTION, platformName: 'fx' });
  const database = new FxDatabase(stack, 'Database', { cluster, databaseName: 'shop' });
  const orders = database.addServiceRole('Orders', { name: 'orders' });
  const billing = database.addServiceRole('Billing', {
    name: 'billing', schema: 'invoices', iamAuth: false, removal: FxServiceRoleRemoval.DROP, rotationSchedule: Duration.days(7),
  });
  const consumer = new iam.Role(stack, 'Consumer', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') });
  orders.grantConnect(consumer);
  return { stack, database, orders, billing, consumer, template: Template.fromStack(stack) };
}

function logicalId(s: Scenario, construct: { node: { defaultChild?: unknown } } | unknown): string {
  return s.stack.getLogicalId((construct as any).node.defaultChild);
}

describe('FxDatabase.addServiceRole', () => {
  let s: Scenario;
  beforeAll(() => {
    s = build();
  });

  test('each role gets its own KMS-encrypted secret with the connection fields and the master ARN', () => {
    const keyId = s.stack.getLogicalId(s.database.key.node.defaultChild as any);
    s.template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'fx/database/database/roles/orders',
      KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
      GenerateSecretString: Match.objectLike({
        GenerateStringKey: 'password',
        PasswordLength: 32,
        SecretStringTemplate: Match.objectLike({ 'Fn::Join': Match.anyValue() }),
      }),
    });
    const secret = s.template.toJSON().Resources[logicalId(s, s.orders.node.findChild('Secret'))];
    const template = JSON.stringify(secret.Properties.GenerateSecretString.SecretStringTemplate);
    for (const field of ['engine', 'host', 'port', 'dbname', 'username', 'masterarn']) expect(template).toContain(`\\"${field}\\"`);
    expect(template).toContain('\\"username\\":\\"orders\\"');
    expect(template).toContain('\\"dbname\\":\\"shop\\"');
    expect(s.orders.secretName).toBe('fx/database/database/roles/orders');
  });

  test('secrets follow the removal policy: RETAIN keeps the secret on delete, DROP removes it', () => {
    const resources = s.template.toJSON().Resources;
    expect(resources[logicalId(s, s.orders.node.findChild('Secret'))].DeletionPolicy).toBe('RetainExceptOnCreate');
    expect(resources[logicalId(s, s.billing.node.findChild('Secret'))].DeletionPolicy).toBe('Delete');
  });

  test('each secret rotates with the hosted multi-user PostgreSQL rotation, after its role exists', () => {
    s.template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 3);
    const masterId = logicalId(s, s.database.credentialsSecret);
    s.template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      SecretId: { Ref: logicalId(s, s.orders.node.findChild('Secret')) },
      HostedRotationLambda: Match.objectLike({
        RotationType: 'PostgreSQLMultiUser',
        MasterSecretArn: { Ref: masterId },
        VpcSubnetIds: Match.anyValue(),
      }),
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
    });
    s.template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      SecretId: { Ref: logicalId(s, s.billing.node.findChild('Secret')) },
      RotationRules: { ScheduleExpression: 'rate(7 days)' },
    });
    const resources = s.template.toJSON().Resources;
    const rotationId = Object.keys(resources).find((id) => id.startsWith('DatabaseServiceRolesOrdersRotation'))!;
    expect(resources[rotationId].DependsOn).toContain(logicalId(s, s.orders));
  });

  test('the custom resource receives both secret ARNs, the names and the policy, and runs after the instance', () => {
    const instanceId = s.stack.getLogicalId(s.database.instance.node.defaultChild as any);
    s.template.hasResource('Custom::FxDatabaseServiceRole', {
      Properties: {
        ServiceToken: Match.anyValue(),
        MasterSecretArn: { Ref: logicalId(s, s.database.credentialsSecret) },
        SecretArn: { Ref: logicalId(s, s.orders.node.findChild('Secret')) },
        RoleName: 'orders',
        SchemaName: 'orders',
        DatabaseName: 'shop',
        IamAuth: 'true',
        Removal: 'RETAIN',
      },
      DependsOn: Match.arrayWith([instanceId]),
    });
    s.template.hasResourceProperties('Custom::FxDatabaseServiceRole', {
      RoleName: 'billing', SchemaName: 'invoices', IamAuth: 'false', Removal: 'DROP',
    });
  });

  test('one handler per database, bundled, in the private subnets, trusting the RDS CAs', () => {
    const functions = s.template.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: { NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem' } } },
    });
    expect(Object.keys(functions)).toHaveLength(1);
    const fn = Object.values(functions)[0] as any;
    expect(fn.Properties.Runtime).toBe('nodejs24.x');
    expect(fn.Properties.Handler).toBe('index.handler');
    expect(fn.Properties.VpcConfig.SubnetIds).toHaveLength(3);
    const privateSubnetIds = s.database.vpc.privateSubnets.map((subnet) => s.stack.resolve(subnet.subnetId));
    expect(fn.Properties.VpcConfig.SubnetIds).toEqual(privateSubnetIds);
  });

  test('the database admits the handler and the rotation functions on its port only', () => {
    const dbSg = s.stack.getLogicalId(s.database.securityGroup.node.defaultChild as any);
    const ingress = Object.values(s.template.findResources('AWS::EC2::SecurityGroupIngress', {
      Properties: { GroupId: { 'Fn::GetAtt': [dbSg, 'GroupId'] }, Description: Match.stringLikeRegexp('Service role') },
    })) as any[];
    expect(ingress.map((r) => r.Properties.Description).sort()).toEqual(['Service role handler', 'Service role rotation']);
    for (const rule of ingress) expect([rule.Properties.FromPort, rule.Properties.ToPort]).toEqual([5433, 5433]);
  });

  test('the handler may read exactly the master secret and the role secrets (by their name prefix)', () => {
    const policies = s.template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^DatabaseServiceRolesProviderHandlerServiceRole') }] },
    });
    const statements = Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    const secretResources = statements
      .filter((st: any) => [st.Action].flat().includes('secretsmanager:GetSecretValue'))
      .map((st: any) => s.stack.resolve(st.Resource));
    // Role secrets live in the services' stacks: a per-secret grant here would refer to each of them.
    const prefix = `${s.database.secretName}/roles/`;
    expect(secretResources).toEqual([
      { Ref: logicalId(s, s.database.credentialsSecret) },
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:secretsmanager:us-east-1:123456789012:secret:${prefix}*`]] },
    ]);
    expect([s.orders.secretName, s.billing.secretName]).toEqual([`${prefix}orders`, `${prefix}billing`]);
    const decrypt = statements.find((st: any) => st.Sid === 'DecryptServiceRoleSecrets');
    expect(decrypt.Condition.StringLike).toEqual({
      'kms:EncryptionContext:SecretARN': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:secretsmanager:us-east-1:123456789012:secret:${prefix}*`]] },
    });
  });

  test('grantConnect allows rds-db:connect as the role\'s IAM user only', () => {
    expect(s.orders.iamUsername).toBe('orders_iam');
    expect(s.billing.iamUsername).toBeUndefined();
    const instanceId = s.stack.getLogicalId(s.database.instance.node.defaultChild as any);
    s.template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: s.stack.getLogicalId(s.consumer.node.defaultChild as any) }],
      PolicyDocument: {
        Statement: [Match.objectLike({
          Action: 'rds-db:connect',
          Resource: {
            'Fn::Join': ['', Match.arrayWith([{ 'Fn::GetAtt': [instanceId, 'DbiResourceId'] }, '/orders_iam'])],
          },
        })],
      },
    });
  });

  test('AwsSolutions passes with the handler and provider findings acknowledged by name', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-roles-nag-'));
    try {
      // Template.fromStack synthesizes the app: with the pack registered, any unacknowledged error throws.
      expect(() => build(outdir, true)).not.toThrow();
      const metadata = fs.readFileSync(path.join(outdir, 'Platform.metadata.json'), 'utf8');
      expect(metadata).toContain('AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]');
      expect(metadata).toMatch(/AwsSolutions-IAM5\[Resource::<DatabaseServiceRolesProviderHandler[0-9A-F]{8}\.Arn>:\*\]/);
      expect(metadata).not.toMatch(/"AwsSolutions-IAM5"/);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe('bundle-role-handler', () => {
  test('--check fails for a missing bundle and passes once built; the licenses of every bundled package are shipped', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-role-bundle-'));
    try {
      expect(bundleIsFresh(outdir)).toBe(false);
      const packages = bundleRoleHandler(outdir);
      expect(bundleIsFresh(outdir)).toBe(true);
      expect(packages.some((p) => p.startsWith('pg@'))).toBe(true);
      const bundle = fs.readFileSync(path.join(outdir, 'index.js'), 'utf8');
      // The SDK comes from the Lambda runtime; the driver is inside.
      expect(bundle).toContain('require("@aws-sdk/client-secrets-manager")');
      expect(bundle).not.toMatch(/require\("pg"\)/);
      const licenses = fs.readFileSync(path.join(outdir, 'THIRD-PARTY-LICENSES.txt'), 'utf8');
      for (const p of packages) expect(licenses).toContain(p);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe('bad input', () => {
  function database(): FxDatabase {
    const stack = new Stack(testApp(), 'Platform', { env: ENV });
    const cluster = new FxCluster(stack, 'Cluster', { profile: FxProfile.DEVELOPMENT, platformName: 'fx' });
    return new FxDatabase(stack, 'Database', { cluster });
  }

  test.each([
    ['Orders', /invalid name 'Orders'/],
    ['1orders', /invalid name '1orders'/],
    ['orders-api', /invalid name 'orders-api'/],
    ['x'.repeat(58), /at most 57 characters/],
    ['fxadmin', /not the master user \(fxadmin\)/],
    ['pg_orders', /starting with pg_ or rds/],
    ['rds_iam', /built-in role/],
    ['orders_clone', /ending with _clone or _iam/],
    ['orders_iam', /ending with _clone or _iam/],
  ])('fails when the role name is %s', (name, message) => {
    expect(() => database().addServiceRole('Role', { name })).toThrow(message);
  });

  test.each([['public'], ['pg_catalog'], ['Invoices'], ['information_schema']])('fails when the schema is %s', (schema) => {
    expect(() => database().addServiceRole('Role', { name: 'orders', schema })).toThrow(/FxDatabaseServiceRole(?: at [^:]+)?: invalid schema/);
  });

  test('fails when two roles of a database share a name or a schema', () => {
    const db = database();
    db.addServiceRole('A', { name: 'orders' });
    expect(() => db.addServiceRole('B', { name: 'orders', schema: 'other' })).toThrow(/invalid name 'orders'.*not used by another/);
    expect(() => db.addServiceRole('C', { name: 'billing', schema: 'orders' })).toThrow(/invalid schema 'orders'.*not owned by another/);
  });

  test('fails when the rotation schedule is not 4 hours to 1000 days in whole hours', () => {
    expect(() => database().addServiceRole('Role', { name: 'orders', rotationSchedule: Duration.minutes(90) }))
      .toThrow(/invalid rotationSchedule '1 hour 30 minutes'/);
  });

  test('fails when grantConnect is asked of a role without IAM authentication', () => {
    const role = database().addServiceRole('Role', { name: 'orders', iamAuth: false });
    const grantee = new iam.Role(role, 'Grantee', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') });
    expect(() => role.grantConnect(grantee)).toThrow(/invalid iamAuth false/);
  });
});
