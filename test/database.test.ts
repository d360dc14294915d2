import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnElement, CfnParameter, Duration, RemovalPolicy, Size, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FxCluster, FxDatabase, FxDatabaseProps, FxDatabaseRestore, FxImage, FxMicroservice, FxProfile, FxVersions } from '../src';
import { clusterWithAddons, ENV, testApp } from './util/fixtures';
import { checkHelmValues } from './util/helm-values';
import { k8sErrors } from './util/k8s';
import { PG_SETTINGS } from '../src/database/pg-settings.generated';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const AZS = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
const COPY_VAULT_ARN = `arn:aws:backup:us-west-2:${ACCOUNT}:backup-vault:fx-dr`;

interface Scenario {
  readonly stack: Stack;
  readonly cluster: FxCluster;
  readonly database: FxDatabase;
  readonly template: Template;
  readonly resources: Record<string, any>;
}

function newStack(outdir?: string): { app: App; stack: Stack } {
  const app = new App({
    builtinCloudFormationValidation: false,
    outdir,
    context: { [`availability-zones:account=${ACCOUNT}:region=${REGION}`]: AZS },
  });
  const stack = new Stack(app, 'Platform', { env: { account: ACCOUNT, region: REGION } });
  return { app, stack };
}

function scenario(stack: Stack, cluster: FxCluster, database: FxDatabase): Scenario {
  const template = Template.fromStack(stack);
  return { stack, cluster, database, template, resources: template.toJSON().Resources };
}

/** The single resource of a type whose logical id starts with `prefix`. */
function only(s: Scenario, type: string, prefix: string): { id: string; resource: any } {
  const found = Object.entries(s.template.findResources(type)).filter(([id]) => id.startsWith(prefix));
  expect(found).toHaveLength(1);
  return { id: found[0][0], resource: found[0][1] };
}

const ref = (id: string) => ({ Ref: id });
const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
const t = (name: string) => new ec2.InstanceType(name);

// Logical ids of stateful resources: renaming any of them replaces (or orphans) data.
const PINNED = {
  instance: 'DatabaseF44359DD',
  key: 'DatabaseKey5E5D9547',
  secret: 'DatabaseSecret3B817195',
  backupVault: 'DatabaseBackupVaultED8CBFE1',
  backupVaultKey: 'DatabaseBackupVaultKeyCE1296BB',
  postgresqlLogs: 'DatabasePostgresqlLogs0EEFD61B',
  upgradeLogs: 'DatabaseUpgradeLogsA548C373',
};

let dev: Scenario;
let prod: Scenario;
interface Restores {
  readonly stack: Stack;
  readonly template: Template;
  readonly resources: Record<string, any>;
  readonly fromSnapshot: FxDatabase;
  readonly pointInTime: FxDatabase;
  readonly latest: FxDatabase;
}
let restores: Restores;
let badStack: Stack;
let badCluster: FxCluster;
let prodBadCluster: FxCluster;
let workloadRole: iam.Role;

beforeAll(() => {
  {
    const { stack } = newStack();
    const cluster = new FxCluster(stack, 'Cluster');
    const database = new FxDatabase(stack, 'Database', { cluster, databaseName: 'orders' });
    workloadRole = new iam.Role(stack, 'Workload', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') });
    database.grantConnect(workloadRole);
    dev = scenario(stack, cluster, database);
  }
  {
    const { stack } = newStack();
    const cluster = new FxCluster(stack, 'Cluster', { profile: FxProfile.PRODUCTION, platformName: 'fx-prod' });
    const database = new FxDatabase(stack, 'Database', {
      cluster,
      databaseName: 'orders',
      readReplicas: 1,
      readReplicaInstanceType: t('r7g.large'),
      rotationSchedule: Duration.days(7),
      slowQueryThreshold: Duration.millis(250),
      parameters: { shared_preload_libraries: 'pg_stat_statements', log_connections: '0' },
      backupCopyVault: backup.BackupVault.fromBackupVaultArn(stack, 'DrVault', COPY_VAULT_ARN),
    });
    prod = scenario(stack, cluster, database);
  }
  {
    const { stack } = newStack();
    const cluster = new FxCluster(stack, 'Cluster');
    const fromSnapshot = new FxDatabase(stack, 'FromSnapshot', {
      cluster, databaseName: 'orders', restore: FxDatabaseRestore.fromSnapshot('rds:platform-database-2026-11-20-03-10'), readReplicas: 1,
    });
    const pointInTime = new FxDatabase(stack, 'PointInTime', {
      cluster, databaseName: 'orders', restore: FxDatabaseRestore.toPointInTime('platform-database', new Date('2026-11-20T09:30:00.000Z')),
    });
    const latest = new FxDatabase(stack, 'Latest', {
      cluster, databaseName: 'orders', restore: FxDatabaseRestore.toLatestRestorableTime('platform-database'),
    });
    const template = Template.fromStack(stack);
    restores = { stack, template, resources: template.toJSON().Resources, fromSnapshot, pointInTime, latest };
  }
  badStack = newStack().stack;
  badCluster = new FxCluster(badStack, 'Cluster');
  prodBadCluster = new FxCluster(badStack, 'ProdCluster', { profile: FxProfile.PRODUCTION });
});

describe('instance', () => {
  test('runs PostgreSQL from the versions table on a Graviton class per profile', () => {
    for (const [s, cls] of [[dev, 'db.t4g.medium'], [prod, 'db.m7g.large']] as const) {
      s.template.hasResourceProperties('AWS::RDS::DBInstance', {
        Engine: 'postgres', EngineVersion: s.cluster.versions.postgresEngineVersion, DBInstanceClass: cls, DBName: 'orders',
      });
    }
    expect(dev.cluster.versions.postgresEngineVersion).toBe('17.6');
  });

  test('is Multi-AZ in production only', () => {
    expect(dev.resources[PINNED.instance].Properties.MultiAZ).toBe(false);
    expect(prod.resources[PINNED.instance].Properties.MultiAZ).toBe(true);
  });

  test('lives in the isolated subnets and is not publicly accessible', () => {
    const { resource } = only(dev, 'AWS::RDS::DBSubnetGroup', 'DatabaseSubnetGroup');
    expect(resource.Properties.SubnetIds).toEqual([1, 2, 3].map((i) => ref(`ClusterNetworkIsolatedSubnet${i}${isolatedSuffix(dev, i)}`)));
    expect(dev.resources[PINNED.instance].Properties.PubliclyAccessible).toBe(false);
    expect(dev.database.databaseCidrs).toHaveLength(3);
  });

  test('uses gp3 storage with autoscaling up to a maximum per profile', () => {
    expect(dev.resources[PINNED.instance].Properties).toMatchObject({ StorageType: 'gp3', AllocatedStorage: '20', MaxAllocatedStorage: 100 });
    expect(prod.resources[PINNED.instance].Properties).toMatchObject({ StorageType: 'gp3', AllocatedStorage: '100', MaxAllocatedStorage: 1024 });
  });

  test('encrypts storage with its own rotating, retained customer key', () => {
    expect(dev.resources[PINNED.instance].Properties).toMatchObject({ StorageEncrypted: true, KmsKeyId: arnOf(PINNED.key) });
    expect(dev.resources[PINNED.key]).toMatchObject({ Properties: { EnableKeyRotation: true }, DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    expect(dev.database.key).not.toBe(dev.cluster.secretsKey);
  });

  test('forces TLS and logs slow statements and connections in its parameter group', () => {
    dev.template.hasResourceProperties('AWS::RDS::DBParameterGroup', {
      Family: 'postgres17',
      Parameters: { 'rds.force_ssl': '1', 'log_min_duration_statement': '1000', 'log_connections': '1', 'log_disconnections': '1' },
    });
    prod.template.hasResourceProperties('AWS::RDS::DBParameterGroup', {
      Parameters: { 'rds.force_ssl': '1', 'log_min_duration_statement': '250', 'shared_preload_libraries': 'pg_stat_statements', 'log_connections': '0' },
    });
    const { id } = only(dev, 'AWS::RDS::DBParameterGroup', 'DatabaseParameters');
    expect(dev.resources[PINNED.instance].Properties.DBParameterGroupName).toEqual(ref(id));
  });

  test('exports postgresql and upgrade logs into encrypted log groups with profile retention and removal (never plain Retain: the name is fixed)', () => {
    expect(dev.resources[PINNED.instance].Properties.EnableCloudwatchLogsExports).toEqual(['postgresql', 'upgrade']);
    for (const [s, days, deletion] of [[dev, 30, 'Delete'], [prod, 365, 'RetainExceptOnCreate']] as const) {
      for (const [logicalId, type] of [[PINNED.postgresqlLogs, 'postgresql'], [PINNED.upgradeLogs, 'upgrade']]) {
        expect(s.resources[logicalId]).toMatchObject({
          Properties: { LogGroupName: `/aws/rds/instance/${s.database.instanceIdentifier}/${type}`, RetentionInDays: days, KmsKeyId: arnOf(PINNED.key) },
          DeletionPolicy: deletion,
        });
      }
      expect(s.resources[PINNED.instance].DependsOn).toEqual(expect.arrayContaining([PINNED.postgresqlLogs, PINNED.upgradeLogs]));
    }
    dev.template.resourceCountIs('Custom::LogRetention', 0);
  });

  test('lets CloudWatch Logs use the key only for RDS log groups', () => {
    const statements = dev.resources[PINNED.key].Properties.KeyPolicy.Statement as any[];
    const logs = statements.find((s) => s.Sid === 'AllowCloudWatchLogs');
    expect(logs.Principal).toEqual({ Service: 'logs.us-east-1.amazonaws.com' });
    expect(JSON.stringify(logs.Condition)).toContain(':log-group:/aws/rds/instance/*');
  });

  test('encrypts Performance Insights with the key and runs enhanced monitoring', () => {
    const props = dev.resources[PINNED.instance].Properties;
    expect(props).toMatchObject({
      EnablePerformanceInsights: true, PerformanceInsightsKMSKeyId: arnOf(PINNED.key), PerformanceInsightsRetentionPeriod: 7, MonitoringInterval: 60,
    });
    const roleId = props.MonitoringRoleArn['Fn::GetAtt'][0];
    expect(dev.resources[roleId].Properties.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({ Service: 'monitoring.rds.amazonaws.com' });
  });

  test('enables IAM authentication', () => {
    expect(dev.resources[PINNED.instance].Properties.EnableIAMDatabaseAuthentication).toBe(true);
  });

  test('has deletion protection and a final snapshot by default', () => {
    for (const s of [dev, prod]) {
      expect(s.resources[PINNED.instance]).toMatchObject({ Properties: { DeletionProtection: true }, DeletionPolicy: 'Snapshot', UpdateReplacePolicy: 'Snapshot' });
    }
  });

  test('keeps automated backups per profile for point-in-time recovery, copies tags and upgrades minor versions in its windows', () => {
    expect(dev.resources[PINNED.instance].Properties).toMatchObject({
      BackupRetentionPeriod: 7,
      PreferredBackupWindow: '03:00-04:00',
      PreferredMaintenanceWindow: 'sun:06:00-sun:07:00',
      CopyTagsToSnapshot: true,
      AutoMinorVersionUpgrade: true,
      AllowMajorVersionUpgrade: false,
      DeleteAutomatedBackups: false,
    });
    expect(prod.resources[PINNED.instance].Properties.BackupRetentionPeriod).toBe(35);
  });

  test('listens on a non-default port and has a fixed identifier under the platform name', () => {
    expect(dev.resources[PINNED.instance].Properties).toMatchObject({ Port: '5433', DBInstanceIdentifier: 'platform-database' });
    expect(prod.database.instanceIdentifier).toBe('fx-prod-database');
    expect(dev.database.databasePort).toBe(5433);
  });

  test('tags its resources with the platform and component', () => {
    expect(dev.resources[PINNED.instance].Properties.Tags).toEqual(expect.arrayContaining([
      { Key: 'fx:component', Value: 'database' }, { Key: 'fx:platform', Value: 'Platform' },
    ]));
  });
});

describe('credentials', () => {
  test('generates credentials in Secrets Manager under the platform prefix, encrypted with the key', () => {
    const secret = dev.resources[PINNED.secret].Properties;
    expect(secret.Name).toBe('Platform/database/database');
    expect(secret.KmsKeyId).toEqual(arnOf(PINNED.key));
    expect(JSON.parse(secret.GenerateSecretString.SecretStringTemplate)).toEqual({ username: 'fxadmin', dbname: 'orders' });
    expect(secret.GenerateSecretString.GenerateStringKey).toBe('password');
    for (const c of ['@', ':', '/', '?', '#', '%', ' ']) expect(secret.GenerateSecretString.ExcludeCharacters).toContain(c);
    expect(prod.database.secretName).toBe('fx-prod/database/database');
  });

  test('attaches the secret to the instance so it carries host and port, and hands that out', () => {
    const { id } = only(dev, 'AWS::SecretsManager::SecretTargetAttachment', 'DatabaseSecretAttachment');
    expect(dev.resources[id].Properties).toEqual({ SecretId: ref(PINNED.secret), TargetId: ref(PINNED.instance), TargetType: 'AWS::RDS::DBInstance' });
    expect(dev.stack.resolve(dev.database.credentialsSecret.secretArn)).toEqual(ref(id));
    expect(dev.resources[PINNED.instance].Properties.MasterUserPassword['Fn::Join'][1]).toContainEqual(ref(PINNED.secret));
  });

  test('rotates the password with hosted rotation in the private subnets on the configured schedule', () => {
    const { id: attachment } = only(dev, 'AWS::SecretsManager::SecretTargetAttachment', 'DatabaseSecretAttachment');
    const { resource } = only(dev, 'AWS::SecretsManager::RotationSchedule', 'DatabaseRotation');
    expect(resource.Properties).toMatchObject({
      SecretId: ref(attachment),
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
      HostedRotationLambda: { RotationType: 'PostgreSQLSingleUser', KmsKeyArn: arnOf(PINNED.key) },
    });
    expect(JSON.stringify(resource.Properties.HostedRotationLambda.VpcSubnetIds)).toMatch(/ClusterNetworkPrivateSubnet1/);
    expect(JSON.stringify(resource.Properties.HostedRotationLambda.VpcSubnetIds)).not.toMatch(/Isolated/);
    expect([dev.template.toJSON().Transform].flat()).toContain('AWS::SecretsManager-2024-09-16');
    prod.template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', { RotationRules: { ScheduleExpression: 'rate(7 days)' } });
  });

  test('grantConnect gives rds-db:connect on the master user of this instance only', () => {
    const policies = Object.values(dev.template.findResources('AWS::IAM::Policy')) as any[];
    const policy = policies.find((p) => p.Properties.Roles.some((r: any) => r.Ref?.startsWith('Workload')));
    expect(policy.Properties.PolicyDocument.Statement).toEqual([{
      Action: 'rds-db:connect',
      Effect: 'Allow',
      Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:rds-db:${REGION}:${ACCOUNT}:dbuser:`, { 'Fn::GetAtt': [PINNED.instance, 'DbiResourceId'] }, '/fxadmin']] },
    }]);
  });
});

describe('network', () => {
  function rulesInto(s: Scenario, groupId: string): any[] {
    return (Object.values(s.template.findResources('AWS::EC2::SecurityGroupIngress')) as any[])
      .filter((r) => r.Properties.GroupId['Fn::GetAtt']?.[0] === groupId).map((r) => r.Properties);
  }

  test('admits the database port from the cluster security group exactly once, and otherwise only the rotation function', () => {
    const { id: sg, resource } = only(dev, 'AWS::EC2::SecurityGroup', 'DatabaseSecurityGroup');
    expect(resource.Properties.SecurityGroupIngress).toBeUndefined();
    const rules = rulesInto(dev, sg);
    const clusterSg = dev.stack.resolve(dev.cluster.clusterSecurityGroup.securityGroupId);
    const fromCluster = rules.filter((r) => JSON.stringify(r.SourceSecurityGroupId) === JSON.stringify(clusterSg));
    expect(fromCluster).toEqual([expect.objectContaining({ IpProtocol: 'tcp', FromPort: 5433, ToPort: 5433 })]);
    const others = rules.filter((r) => !fromCluster.includes(r));
    expect(others).toEqual([expect.objectContaining({ FromPort: 5433, ToPort: 5433, SourceSecurityGroupId: { 'Fn::GetAtt': [expect.stringMatching(/^DatabaseRotationSecurityGroup/), 'GroupId'] } })]);
    expect(rules.some((r) => r.CidrIp !== undefined)).toBe(false);
  });

  test('lets nothing out of the database and only HTTPS and the database port out of the rotation function', () => {
    const { resource } = only(dev, 'AWS::EC2::SecurityGroup', 'DatabaseSecurityGroup');
    expect(resource.Properties.SecurityGroupEgress).toEqual([expect.objectContaining({ CidrIp: '255.255.255.255/32', Description: 'Disallow all traffic' })]);
    const { resource: rotation } = only(dev, 'AWS::EC2::SecurityGroup', 'DatabaseRotationSecurityGroup');
    expect(rotation.Properties.SecurityGroupEgress).toEqual([expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 })]);
    const { resource: egress } = only(dev, 'AWS::EC2::SecurityGroupEgress', 'DatabaseRotationSecurityGroup');
    expect(egress.Properties).toMatchObject({ FromPort: 5433, ToPort: 5433, DestinationSecurityGroupId: { 'Fn::GetAtt': [expect.stringMatching(/^DatabaseSecurityGroup/), 'GroupId'] } });
  });

  test('falls back to private subnets in an imported VPC without isolated subnets', () => {
    const { stack } = newStack();
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-1234',
      vpcCidrBlock: '10.1.0.0/16',
      availabilityZones: AZS.slice(0, 2),
      privateSubnetIds: ['subnet-a', 'subnet-b'],
      privateSubnetIpv4CidrBlocks: ['10.1.0.0/19', '10.1.32.0/19'],
    });
    const cluster = new FxCluster(stack, 'Cluster', { vpc, kubernetesVersion: '1.34' });
    const database = new FxDatabase(stack, 'Database', { cluster });
    Template.fromStack(stack).hasResourceProperties('AWS::RDS::DBSubnetGroup', { SubnetIds: ['subnet-a', 'subnet-b'] });
    expect(database.databaseCidrs).toEqual(['10.1.0.0/19', '10.1.32.0/19']);
  });
});

describe('AWS Backup', () => {
  test('backs up daily and weekly with retention per profile into its vault', () => {
    for (const [s, daily, weekly] of [[dev, 7, 35], [prod, 35, 365]] as const) {
      const { resource } = only(s, 'AWS::Backup::BackupPlan', 'DatabaseBackupPlan');
      const vault = { 'Fn::GetAtt': [PINNED.backupVault, 'BackupVaultName'] };
      expect(resource.Properties.BackupPlan.BackupPlanRule).toEqual([
        expect.objectContaining({ RuleName: 'Daily', ScheduleExpression: 'cron(0 5 * * ? *)', Lifecycle: { DeleteAfterDays: daily }, TargetBackupVault: vault }),
        expect.objectContaining({ RuleName: 'Weekly', ScheduleExpression: 'cron(0 5 ? * SAT *)', Lifecycle: { DeleteAfterDays: weekly }, TargetBackupVault: vault }),
      ]);
    }
  });

  test('selects the instance', () => {
    const { resource } = only(dev, 'AWS::Backup::BackupSelection', 'DatabaseBackupPlanSelection');
    expect(JSON.stringify(resource.Properties.BackupSelection.Resources)).toContain(`:db:",{"Ref":"${PINNED.instance}"}`);
  });

  test('encrypts the vault with its own retained key and retains the vault except when its first create rolls back', () => {
    expect(dev.resources[PINNED.backupVault]).toMatchObject({
      Properties: { EncryptionKeyArn: arnOf(PINNED.backupVaultKey) }, DeletionPolicy: 'RetainExceptOnCreate', UpdateReplacePolicy: 'Retain',
    });
    expect(dev.resources[PINNED.backupVaultKey]).toMatchObject({ Properties: { EnableKeyRotation: true }, DeletionPolicy: 'Retain' });
  });

  test('blocks deleting recovery points in production', () => {
    expect(dev.resources[PINNED.backupVault].Properties.AccessPolicy).toBeUndefined();
    expect(prod.resources[PINNED.backupVault].Properties.AccessPolicy.Statement).toEqual([
      expect.objectContaining({ Effect: 'Deny', Action: expect.arrayContaining(['backup:DeleteRecoveryPoint']) }),
    ]);
  });

  test('copies every recovery point to the cross-region vault when one is given', () => {
    const { resource } = only(prod, 'AWS::Backup::BackupPlan', 'DatabaseBackupPlan');
    const rules = resource.Properties.BackupPlan.BackupPlanRule as any[];
    expect(rules.map((r) => r.CopyActions)).toEqual([
      [{ DestinationBackupVaultArn: COPY_VAULT_ARN, Lifecycle: { DeleteAfterDays: 35 } }],
      [{ DestinationBackupVaultArn: COPY_VAULT_ARN, Lifecycle: { DeleteAfterDays: 365 } }],
    ]);
    const { resource: devPlan } = only(dev, 'AWS::Backup::BackupPlan', 'DatabaseBackupPlan');
    expect(devPlan.Properties.BackupPlan.BackupPlanRule.every((r: any) => r.CopyActions === undefined)).toBe(true);
  });
});

describe('read replica', () => {
  test('replicates the primary with the same security group, port, key and settings', () => {
    const { resource } = only(prod, 'AWS::RDS::DBInstance', 'DatabaseReplica1');
    expect(resource.Properties).toMatchObject({
      SourceDBInstanceIdentifier: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:rds:${REGION}:${ACCOUNT}:db:`, ref(PINNED.instance)]] },
      DBInstanceClass: 'db.r7g.large',
      DBInstanceIdentifier: 'fx-prod-database-replica1',
      Engine: 'postgres',
      Port: '5433',
      MultiAZ: true,
      StorageEncrypted: true,
      KmsKeyId: arnOf(PINNED.key),
      EnableIAMDatabaseAuthentication: true,
      EnablePerformanceInsights: true,
      DeletionProtection: true,
      VPCSecurityGroups: [{ 'Fn::GetAtt': [expect.stringMatching(/^DatabaseSecurityGroup/), 'GroupId'] }],
    });
    for (const key of ['BackupRetentionPeriod', 'DBName', 'MasterUsername', 'MasterUserPassword', 'PreferredBackupWindow']) {
      expect(resource.Properties[key]).toBeUndefined();
    }
    expect(prod.database.readReplicas).toHaveLength(1);
    expect(dev.database.readReplicas).toHaveLength(0);
    dev.template.resourceCountIs('AWS::RDS::DBInstance', 1);
  });
});

describe('restore', () => {
  const instance = (prefix: string) => {
    const found = Object.entries(restores.template.findResources('AWS::RDS::DBInstance')).filter(([id]) => id.startsWith(prefix) && !id.includes('Replica'));
    expect(found).toHaveLength(1);
    return found[0][1].Properties;
  };
  const inherited = ['KmsKeyId', 'StorageEncrypted', 'MasterUsername', 'DBName'];

  test('restores from a snapshot with a new password from its own secret', () => {
    const props = instance('FromSnapshot');
    expect(props).toMatchObject({ DBSnapshotIdentifier: 'rds:platform-database-2026-11-20-03-10', DBInstanceIdentifier: 'platform-from-snapshot', Port: '5433' });
    for (const key of inherited) expect(props[key]).toBeUndefined();
    expect(JSON.stringify(props.MasterUserPassword)).toMatch(/FromSnapshotSecret.*SecretString:password/);
    expect(props.PerformanceInsightsKMSKeyId).toEqual(arnOf(Object.keys(restores.template.findResources('AWS::KMS::Key')).find((k) => k.startsWith('FromSnapshotKey'))!));
    expect(restores.fromSnapshot.secretName).toBe('Platform/database/from-snapshot');
  });

  test('restores to a point in time of a source instance', () => {
    const props = instance('PointInTime');
    expect(props).toMatchObject({ SourceDBInstanceIdentifier: 'platform-database', RestoreTime: '2026-11-20T09:30:00Z', BackupRetentionPeriod: 7 });
    expect(props.UseLatestRestorableTime).toBeUndefined();
    for (const key of [...inherited, 'DBSnapshotIdentifier']) expect(props[key]).toBeUndefined();
    expect(JSON.stringify(props.MasterUserPassword)).toMatch(/PointInTimeSecret/);
  });

  test('restores to the latest restorable time', () => {
    const props = instance('Latest');
    expect(props).toMatchObject({ SourceDBInstanceIdentifier: 'platform-database', UseLatestRestorableTime: true });
    expect(props.RestoreTime).toBeUndefined();
    for (const key of inherited) expect(props[key]).toBeUndefined();
  });

  test('keeps every protection on a restored database', () => {
    for (const prefix of ['FromSnapshot', 'PointInTime', 'Latest']) {
      const [, res] = Object.entries(restores.template.findResources('AWS::RDS::DBInstance')).find(([id]) => id.startsWith(prefix) && !id.includes('Replica'))! as [string, any];
      expect(res).toMatchObject({ DeletionPolicy: 'Snapshot', Properties: { DeletionProtection: true, EnableIAMDatabaseAuthentication: true, StorageType: 'gp3' } });
    }
    restores.template.resourceCountIs('AWS::Backup::BackupPlan', 3);
    restores.template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 3);
  });

  test('a replica of a restored database inherits the restored key', () => {
    const [, replica] = Object.entries(restores.template.findResources('AWS::RDS::DBInstance')).find(([id]) => id.startsWith('FromSnapshotReplica1'))! as [string, any];
    expect(replica.Properties.KmsKeyId).toBeUndefined();
    expect(JSON.stringify(replica.Properties.SourceDBInstanceIdentifier)).toMatch(/FromSnapshot/);
  });
});

describe('handles', () => {
  test('exposes metrics of the primary for alarms', () => {
    const metrics = {
      CPUUtilization: dev.database.metricCpuUtilization(),
      FreeStorageSpace: dev.database.metricFreeStorageSpace(),
      DatabaseConnections: dev.database.metricDatabaseConnections(),
      FreeableMemory: dev.database.metricFreeableMemory(),
      ReadLatency: dev.database.metricReadLatency(),
      WriteLatency: dev.database.metricWriteLatency(),
    };
    for (const [name, metric] of Object.entries(metrics)) {
      expect(metric.namespace).toBe('AWS/RDS');
      expect(metric.metricName).toBe(name);
      expect(dev.stack.resolve(metric.dimensions)).toEqual({ DBInstanceIdentifier: ref(PINNED.instance) });
    }
    expect(metrics.FreeStorageSpace.statistic).toBe('Minimum');
  });

  test('the deletion protection opt-out in production works when the removal policy is explicit', () => {
    const { stack } = newStack();
    const cluster = new FxCluster(stack, 'Cluster', { profile: FxProfile.PRODUCTION });
    new FxDatabase(stack, 'Database', { cluster, deletionProtection: false, removalPolicy: RemovalPolicy.DESTROY });
    const res = Template.fromStack(stack).toJSON().Resources;
    expect(res[PINNED.instance]).toMatchObject({ Properties: { DeletionProtection: false }, DeletionPolicy: 'Delete' });
    expect(res[PINNED.key].DeletionPolicy).toBe('Retain');
  });
});

describe('logical ids', () => {
  test('keep the instance, keys, secret, vault and log groups where they are', () => {
    const expected: Record<string, string> = {
      [PINNED.instance]: 'AWS::RDS::DBInstance',
      [PINNED.key]: 'AWS::KMS::Key',
      [PINNED.secret]: 'AWS::SecretsManager::Secret',
      [PINNED.backupVault]: 'AWS::Backup::BackupVault',
      [PINNED.backupVaultKey]: 'AWS::KMS::Key',
      [PINNED.postgresqlLogs]: 'AWS::Logs::LogGroup',
      [PINNED.upgradeLogs]: 'AWS::Logs::LogGroup',
    };
    for (const s of [dev, prod]) {
      for (const [id, type] of Object.entries(expected)) expect(s.resources[id]?.Type).toBe(type);
    }
  });
});

describe('cdk-nag', () => {
  function nag(profile: FxProfile, build: (stack: Stack, cluster: FxCluster) => void): string {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-db-nag-'));
    try {
      const { app, stack } = newStack(outdir);
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      const cluster = new FxCluster(stack, 'Cluster', { profile });
      build(stack, cluster);
      expect(() => app.synth()).not.toThrow();
      return fs.readFileSync(path.join(outdir, 'Platform.metadata.json'), 'utf8');
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  }

  test('AwsSolutions passes for FxCluster + FxDatabase in production with no RDS rule acknowledged', () => {
    const metadata = nag(FxProfile.PRODUCTION, (stack, cluster) => {
      new FxDatabase(stack, 'Database', { cluster, databaseName: 'orders', readReplicas: 1 });
    });
    expect(metadata).not.toMatch(/AwsSolutions-RDS\d/);
    expect(metadata).toContain('AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]');
    expect(metadata).toContain('AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]');
  });

  test('the gate catches an RDS finding (the default port 5432) instead of hiding it', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-db-nag-'));
    try {
      const { app, stack } = newStack(outdir);
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      new FxDatabase(stack, 'Database', { cluster: new FxCluster(stack, 'Cluster', { profile: FxProfile.PRODUCTION }), port: 5432 });
      expect(() => app.synth()).toThrow(/AwsSolutions-RDS11/);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });

  test('AwsSolutions passes for a single-AZ development database restored from a snapshot, with the reasons recorded', () => {
    const metadata = nag(FxProfile.DEVELOPMENT, (stack, cluster) => {
      new FxDatabase(stack, 'Database', { cluster, restore: FxDatabaseRestore.fromSnapshot('orders-before-migration') });
    });
    expect(metadata).toContain('AwsSolutions-RDS3');
    expect(metadata).toContain('Single-AZ by explicit choice');
    expect(metadata).toContain('AwsSolutions-RDS2');
  });
});

describe('bad input', () => {
  let n = 0;
  const attempt = (props: Partial<FxDatabaseProps>, cluster?: FxCluster) =>
    () => new FxDatabase(badStack, `Bad${++n}`, { cluster: cluster ?? badCluster, ...props });

  test('fails when the database name is not a PostgreSQL identifier', () => {
    expect(attempt({ databaseName: 'Orders-DB' })).toThrow(/FxDatabase(?: at [^:]+)?: invalid databaseName 'Orders-DB'; allowed: a PostgreSQL identifier/);
  });
  test('fails when the database name is longer than 63 characters', () => {
    expect(attempt({ databaseName: 'a'.repeat(64) })).toThrow(/FxDatabase(?: at [^:]+)?: invalid databaseName 'a{64}'/);
  });
  test('fails when the database name is a reserved word', () => {
    expect(attempt({ databaseName: 'select' })).toThrow(/FxDatabase(?: at [^:]+)?: invalid databaseName 'select'; allowed: a name that is not a PostgreSQL reserved word/);
  });
  test('fails when the database name is a system database', () => {
    expect(attempt({ databaseName: 'postgres' })).toThrow(/invalid databaseName 'postgres'/);
  });
  test('fails when the master user name is reserved by RDS', () => {
    expect(attempt({ masterUsername: 'rdsadmin' })).toThrow(/FxDatabase(?: at [^:]+)?: invalid masterUsername 'rdsadmin'/);
  });
  test('fails when backup retention is above 35 days', () => {
    expect(attempt({ backupRetention: Duration.days(40) })).toThrow(/FxDatabase(?: at [^:]+)?: invalid backupRetention '40 days'; allowed: 1 to 35 days/);
  });
  test('fails when backup retention is zero', () => {
    expect(attempt({ backupRetention: Duration.days(0) })).toThrow(/invalid backupRetention '0 days'; allowed: 1 to 35 days/);
  });
  test('fails when allocated storage is below 20 GiB', () => {
    expect(attempt({ allocatedStorage: Size.gibibytes(10) })).toThrow(/FxDatabase(?: at [^:]+)?: invalid allocatedStorage '10 GiB'; allowed: 20 to 65536 GiB/);
  });
  test('fails when the storage maximum is below the allocated storage', () => {
    expect(attempt({ allocatedStorage: Size.gibibytes(200), maxAllocatedStorage: Size.gibibytes(100) }))
      .toThrow(/FxDatabase(?: at [^:]+)?: invalid maxAllocatedStorage '100 GiB'; allowed: at least 10% above allocatedStorage \(200 GiB\), i.e. 220 GiB or more/);
  });
  test('fails when the engine version is not in the versions table', () => {
    expect(attempt({ engineVersion: '16.1' })).toThrow(/FxDatabase(?: at [^:]+)?: invalid engineVersion '16.1'; allowed: a PostgreSQL version of the versions table: 17.6/);
  });
  test('fails when the instance class is not offered by RDS for PostgreSQL', () => {
    expect(attempt({ instanceType: t('c6g.large') })).toThrow(/FxDatabase(?: at [^:]+)?: invalid instanceType 'c6g.large'; allowed: an instance class RDS for PostgreSQL offers/);
    expect(attempt({ instanceType: t('t4g.nano') })).toThrow(/invalid instanceType 't4g.nano'/);
    expect(attempt({ readReplicas: 1, readReplicaInstanceType: t('m7g.medium') })).toThrow(/invalid readReplicaInstanceType 'm7g.medium'/);
  });
  test('fails when deletion protection is turned off in production without an explicit removal policy', () => {
    expect(attempt({ deletionProtection: false }, prodBadCluster))
      .toThrow(/FxDatabase(?: at [^:]+)?: invalid deletionProtection false; allowed: false in production only together with an explicit removalPolicy/);
  });
  test('allows turning deletion protection off in development (the final snapshot stays)', () => {
    expect(attempt({ deletionProtection: false })).not.toThrow();
  });
  test('fails when a parameter turns off rds.force_ssl', () => {
    expect(attempt({ parameters: { 'rds.force_ssl': '0' } })).toThrow(/FxDatabase(?: at [^:]+)?: invalid parameters\['rds.force_ssl'\] '0'; allowed: '1'/);
  });
  test('fails when the monitoring interval is not one RDS supports', () => {
    expect(attempt({ monitoringInterval: Duration.seconds(45) })).toThrow(/FxDatabase(?: at [^:]+)?: invalid monitoringInterval '45 seconds'; allowed: one of 1, 5, 10, 15, 30, 60 seconds/);
  });
  test('fails when the rotation schedule is shorter than 4 hours', () => {
    expect(attempt({ rotationSchedule: Duration.hours(3) })).toThrow(/FxDatabase(?: at [^:]+)?: invalid rotationSchedule '3 hours'; allowed: whole hours from 4 hours to 1000 days/);
  });
  test('fails when the maintenance window overlaps the backup window', () => {
    expect(attempt({ preferredMaintenanceWindow: 'tue:03:30-tue:04:30' }))
      .toThrow(/FxDatabase(?: at [^:]+)?: invalid preferredMaintenanceWindow 'tue:03:30-tue:04:30'; allowed: a window that does not overlap the backup window 03:00-04:00/);
  });
  test('fails when the backup window is malformed', () => {
    expect(attempt({ preferredBackupWindow: '3am-4am' })).toThrow(/FxDatabase(?: at [^:]+)?: invalid preferredBackupWindow '3am-4am'/);
  });
  test('fails when there are too many read replicas', () => {
    expect(attempt({ readReplicas: 6 })).toThrow(/FxDatabase(?: at [^:]+)?: invalid readReplicas 6; allowed: an integer from 0 to 5/);
  });
  test('fails when the port is outside what RDS for PostgreSQL accepts', () => {
    expect(attempt({ port: 80 })).toThrow(/FxDatabase(?: at [^:]+)?: invalid port 80; allowed: an integer from 1150 to 65535/);
  });
  test('fails when the weekly backup retention is shorter than the daily one', () => {
    expect(attempt({ dailyBackupRetention: Duration.days(14), weeklyBackupRetention: Duration.days(7) }))
      .toThrow(/FxDatabase(?: at [^:]+)?: invalid weeklyBackupRetention '7 days'; allowed: a whole number of days, at least dailyBackupRetention \(14 days\)/);
  });
  test('fails when the name is not a DNS-style name', () => {
    expect(attempt({ name: 'Orders_DB' })).toThrow(/FxDatabase(?: at [^:]+)?: invalid name 'Orders_DB'/);
  });
  test('fails when the snapshot identifier is malformed', () => {
    expect(attempt({ restore: FxDatabaseRestore.fromSnapshot('my snapshot') })).toThrow(/FxDatabase(?: at [^:]+)?: invalid restore.snapshotIdentifier 'my snapshot'/);
  });
  test('fails when the restore time is in the future', () => {
    const future = new Date(Date.now() + 86_400_000);
    expect(attempt({ restore: FxDatabaseRestore.toPointInTime('platform-database', future) })).toThrow(/FxDatabase(?: at [^:]+)?: invalid restore.restoreTime '.*'; allowed: a moment in the past/);
  });
  test('fails when the restore time is not a date', () => {
    expect(attempt({ restore: FxDatabaseRestore.toPointInTime('platform-database', new Date('yesterday')) })).toThrow(/invalid restore.restoreTime 'Invalid Date'/);
  });
  test('fails when a point-in-time restore names the database itself as its source', () => {
    expect(attempt({ name: 'orders', restore: FxDatabaseRestore.toLatestRestorableTime('platform-orders') }))
      .toThrow(/FxDatabase(?: at [^:]+)?: invalid restore.sourceInstanceIdentifier 'platform-orders'; allowed: an instance other than this database's own/);
  });
  test('fails when the source instance identifier is not an RDS identifier', () => {
    expect(attempt({ restore: FxDatabaseRestore.toLatestRestorableTime('Prod_DB') })).toThrow(/invalid restore.sourceInstanceIdentifier 'Prod_DB'/);
  });
});

/** The hash suffix of an isolated subnet's logical id. */
function isolatedSuffix(s: Scenario, i: number): string {
  const id = Object.keys(s.template.findResources('AWS::EC2::Subnet')).find((k) => k.startsWith(`ClusterNetworkIsolatedSubnet${i}Subnet`))!;
  return id.slice(`ClusterNetworkIsolatedSubnet${i}`.length);
}

describe('FxDatabase credentials delivered to a workload through External Secrets', () => {
  let objects: Array<Record<string, any>>;
  let db: FxDatabase;
  let outdir: string;
  let template: Template;
  let stack: Stack;
  let api: FxMicroservice;
  let worker: FxMicroservice;
  beforeAll(() => {
    outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-db-es-'));
    stack = new Stack(testApp(outdir), 'Wired', { env: ENV });
    const cluster = clusterWithAddons(stack, FxProfile.PRODUCTION);
    db = new FxDatabase(stack, 'Orders', { cluster, databaseName: 'orders' });
    api = new FxMicroservice(stack, 'Api', { cluster, database: db, image: FxImage.fromRegistry('ghcr.io/acme/api:1.0.0') });
    worker = new FxMicroservice(stack, 'Worker', { cluster, database: db, image: FxImage.fromRegistry('ghcr.io/acme/worker:1.0.0') });
    objects = api.chart.toJson();
    template = Template.fromStack(stack); // also writes the assembly for check-helm-values
  });
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  test("the ExternalSecret reads the service's own database role secret through its namespace's SecretStore", () => {
    const es = objects.find((o) => o.kind === 'ExternalSecret')!;
    expect(es.apiVersion).toBe('external-secrets.io/v1');
    expect(es.spec.secretStoreRef).toEqual({ kind: 'SecretStore', name: 'api-secrets' });
    expect(objects.filter((o) => o.kind === 'SecretStore').map((o) => `${o.metadata.namespace}/${o.metadata.name}`)).toEqual(['api/api-secrets']);
    expect(objects.filter((o) => o.kind === 'ClusterSecretStore')).toEqual([]);
    expect(es.spec.refreshInterval).toBe('5m');
    expect(es.spec.data).toEqual(['username', 'password', 'host', 'port', 'dbname'].map((p) => ({
      secretKey: p, remoteRef: { key: `${db.secretName}/roles/api`, property: p },
    })));
    expect(Object.keys(es.spec.target.template.data).sort()).toEqual(['DATABASE_URL', 'PGDATABASE', 'PGHOST', 'PGPASSWORD', 'PGPORT', 'PGSSLMODE', 'PGUSER']);
    expect(es.spec.target).toMatchObject({ name: 'api-database', creationPolicy: 'Owner' });
  });

  test("each service's own role reads only its own role secret, in one statement; the operator's role reads nothing", () => {
    const resources = template.toJSON().Resources as Record<string, any>;
    const roleSecretOf = (service: string): string => {
      const found = Object.entries(template.findResources('AWS::SecretsManager::Secret'))
        .filter(([, r]) => r.Properties.Name === `${db.secretName}/roles/${service}`).map(([id]) => id);
      expect(found).toEqual([expect.stringMatching(new RegExp(`^${service === 'api' ? 'Api' : 'Worker'}DatabaseRoleSecret[0-9A-F]{8}$`))]);
      return found[0];
    };
    /** Secrets Manager read statements of a role: its inline policies and any AWS::IAM::Policy attached to it. */
    const secretReads = (roleId: string): Array<Record<string, any>> => [
      ...(resources[roleId].Properties.Policies ?? []).flatMap((p: any) => p.PolicyDocument.Statement),
      ...Object.values(template.findResources('AWS::IAM::Policy'))
        .filter((p) => JSON.stringify(p.Properties.Roles).includes(`"${roleId}"`)).flatMap((p) => p.Properties.PolicyDocument.Statement),
    ].filter((st) => JSON.stringify(st.Action).includes('secretsmanager:'));
    for (const [service, name] of [[api, 'api'], [worker, 'worker']] as const) {
      const roleId = stack.getLogicalId(service.role.node.defaultChild as CfnElement);
      expect(secretReads(roleId)).toEqual([
        { Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Effect: 'Allow', Resource: { Ref: roleSecretOf(name) } },
      ]);
    }
    // The operator's own role (Pod Identity of external-secrets/external-secrets) reads no secret at all.
    const controller = Object.values(template.findResources('AWS::EKS::PodIdentityAssociation'))
      .find((r) => r.Properties.Namespace === 'external-secrets' && r.Properties.ServiceAccount === 'external-secrets')!;
    expect(secretReads(controller.Properties.RoleArn['Fn::GetAtt'][0])).toEqual([]);
  });

  test('the ExternalSecret validates against the schema the pinned external-secrets chart serves', () => {
    expect(k8sErrors(objects.filter((o) => o.kind === 'ExternalSecret'))).toEqual([]);
    const run = checkHelmValues(outdir);
    expect(run.stdout).toMatch(/ 0 errors/);
    expect(run.status).toBe(0);
  });
});

describe('synth-time validation (issue 18)', () => {
  let n = 0;
  /** The message a database with these props throws (undefined when it builds), and its path. */
  const attempt = (props: Partial<FxDatabaseProps>): { path: string; error?: string } => {
    const id = `Issue18Db${++n}`;
    try {
      new FxDatabase(badStack, id, { cluster: badCluster, name: `issue-${n}`, ...props });
      return { path: `Platform/${id}` };
    } catch (e) {
      return { path: `Platform/${id}`, error: (e as Error).message };
    }
  };
  const expectError = (props: Partial<FxDatabaseProps>, prop: string, value: string, allowed: string) => {
    const { path: at, error } = attempt(props);
    expect(error).toBe(`FxDatabase at ${at}: invalid ${prop} ${value}; allowed: ${allowed}`);
  };

  test('fails when the RDS instance family or size does not exist', () => {
    expectError({ instanceType: t('m9z.large') }, 'instanceType', "'m9z.large'", "an RDS instance class that exists: there is no instance family 'm9z'");
    expectError({ instanceType: t('m7g.huge') }, 'instanceType', "'m7g.huge'", "an RDS instance class that exists: there is no size 'huge'");
    expectError({ readReplicas: 1, readReplicaInstanceType: t('r7g') }, 'readReplicaInstanceType', "'r7g'", "an RDS instance class that exists: it is not 'db.<family>.<size>'");
    expectError({ instanceType: t('db.m7g.large') }, 'instanceType', "'db.m7g.large'", "the class without the 'db.' prefix (ec2.InstanceType 'm7g.large'): aws-cdk-lib adds it");
    expect(attempt({ instanceType: t('r8g.2xlarge') }).error).toBeUndefined();
  });

  test('fails when Performance Insights retention is not 7, a multiple of 31 up to 713, or 731 days', () => {
    const allowed = '7, a multiple of 31 up to 713 (1 to 23 months), or 731 days (rds.PerformanceInsightRetention)';
    expectError({ performanceInsightRetention: 30 as rds.PerformanceInsightRetention }, 'performanceInsightRetention', '30', allowed);
    expectError({ performanceInsightRetention: 744 as rds.PerformanceInsightRetention }, 'performanceInsightRetention', '744', allowed);
    const { DEFAULT, MONTHS_23, LONG_TERM } = rds.PerformanceInsightRetention;
    for (const ok of [DEFAULT, MONTHS_23, LONG_TERM]) {
      expect(attempt({ performanceInsightRetention: ok }).error).toBeUndefined();
    }
  });

  test('fails when the log retention is not a CloudWatch Logs retention', () => {
    const allowed = `a retention CloudWatch Logs supports (logs.RetentionDays): ${(Object.values(RetentionDays).filter((r) => typeof r === 'number') as number[]).sort((a, b) => a - b).join(', ')} days`;
    expectError({ logRetention: 10 as RetentionDays }, 'logRetention', '10', allowed);
    expectError({ logRetention: 0.5 as RetentionDays }, 'logRetention', '0.5', allowed);
    expect(attempt({ logRetention: RetentionDays.TWO_YEARS }).error).toBeUndefined();
  });

  test('fails when the storage autoscaling maximum is less than 10% above the allocated storage', () => {
    expectError({ allocatedStorage: Size.gibibytes(100), maxAllocatedStorage: Size.gibibytes(105) }, 'maxAllocatedStorage', "'105 GiB'",
      "at least 10% above allocatedStorage (100 GiB), i.e. 110 GiB or more (RDS storage autoscaling's minimum)");
    expectError({ allocatedStorage: Size.gibibytes(1000), maxAllocatedStorage: Size.gibibytes(1099) }, 'maxAllocatedStorage', "'1099 GiB'",
      "at least 10% above allocatedStorage (1000 GiB), i.e. 1100 GiB or more (RDS storage autoscaling's minimum)");
    expect(attempt({ allocatedStorage: Size.gibibytes(1000), maxAllocatedStorage: Size.gibibytes(1100) }).error).toBeUndefined();
  });

  test('fails when the slow-query threshold overflows log_min_duration_statement or is not whole milliseconds', () => {
    const allowed = 'a whole number of milliseconds from 0 to 2147483647 (log_min_duration_statement is a PostgreSQL int)';
    expectError({ slowQueryThreshold: Duration.days(30) }, 'slowQueryThreshold', "'2592000000 ms'", allowed);
    expectError({ slowQueryThreshold: Duration.millis(0.5) }, 'slowQueryThreshold', "'0.5 ms'", allowed);
    expect(attempt({ slowQueryThreshold: Duration.millis(0) }).error).toBeUndefined();
  });

  test('fails when a parameter is malformed, removed from the engine version, or set by the construct itself', () => {
    expectError({ parameters: { 'Work Mem': '64MB' } }, 'parameters', "'Work Mem'",
      'PostgreSQL setting names: lowercase letters, digits and _, optionally <extension>. or rds. first (e.g. work_mem, pg_stat_statements.track)');
    expectError({ parameters: { wal_keep_segments: '64' } }, 'parameters', "'wal_keep_segments'", 'settings PostgreSQL 17 knows: wal_keep_segments was removed in 13; use wal_keep_size');
    expectError({ parameters: { old_snapshot_threshold: '60' } }, 'parameters', "'old_snapshot_threshold'", 'settings PostgreSQL 17 knows: old_snapshot_threshold was removed in 17; use nothing (removed)');
    expectError({ parameters: { log_min_duration_statement: '5' } }, "parameters['log_min_duration_statement']", "'5'", 'no value here: the construct sets it from slowQueryThreshold');
    expect(attempt({ parameters: { 'work_mem': '65536', 'pg_stat_statements.track': 'all', 'rds.log_retention_period': '4320' } }).error).toBeUndefined();
  });

  test('every PostgreSQL major of the versions table has its server settings (npx projen pg-settings)', () => {
    const majors = new Set(FxVersions.SUPPORTED_KUBERNETES_VERSIONS.map((k) => FxVersions.forKubernetes(k).postgresEngineVersion.split('.')[0]));
    for (const major of majors) {
      expect(Object.keys(PG_SETTINGS[major] ?? {}).length).toBeGreaterThan(300);
    }
  });

  test('fails when a parameter is not a setting of the engine version, or its value is not one the setting takes', () => {
    expectError({ parameters: { work_memm: '64MB' } }, 'parameters', "'work_memm'",
      'a setting PostgreSQL 17 has (pg_settings); did you mean work_mem?, or an <extension>. or rds. setting');
    expectError({ parameters: { shared_buffer: '1024' } }, 'parameters', "'shared_buffer'",
      'a setting PostgreSQL 17 has (pg_settings); did you mean shared_buffers?, or an <extension>. or rds. setting');
    expectError({ parameters: { block_size: '16384' } }, 'parameters', "'block_size'", 'a setting that can be changed: block_size is fixed when PostgreSQL is built');
    expectError({ parameters: { log_statement: 'everything' } }, "parameters['log_statement']", "'everything'", 'one of none, ddl, mod, all');
    expectError({ parameters: { log_connections: 'sometimes' } }, "parameters['log_connections']", "'sometimes'", 'a boolean: 1 or 0 (on, off, true, false)');
    expectError({ parameters: { work_mem: 'lots' } }, "parameters['work_mem']", "'lots'",
      'a number, optionally with a unit (kB, MB, GB, ms, s, min, h, d), or an RDS formula such as {DBInstanceClassMemory/32768}');
    expectError({ parameters: { max_connections: '0' } }, "parameters['max_connections']", "'0'", 'a value from 1 to 262143');
    expect(attempt({
      parameters: {
        shared_buffers: '{DBInstanceClassMemory/32768}',
        max_connections: 'LEAST({DBInstanceClassMemory/9531392},5000)',
        log_statement: 'ddl',
        log_connections: '1',
        timezone: 'UTC',
        datestyle: 'iso, mdy',
        work_mem: '64MB',
        statement_timeout: '30s',
      },
    }).error).toBeUndefined();
  });

  test('legal deploy-time tokens pass', () => {
    const ms = new CfnParameter(badStack, 'SlowMs', { type: 'Number' }).valueAsNumber;
    expect(attempt({ slowQueryThreshold: Duration.millis(ms) }).error).toBeUndefined();
    const seconds = new CfnParameter(badStack, 'SlowSeconds', { type: 'Number' }).valueAsNumber;
    const { path: at, error } = attempt({ slowQueryThreshold: Duration.seconds(seconds) });
    expect(error).toMatch(new RegExp(`^FxDatabase at ${at}: invalid slowQueryThreshold 'Duration\\.seconds\\(<token>\\)'; allowed: a deploy-time value only as Duration.millis\\(<token>\\)`));
    const instanceType = new ec2.InstanceType(new CfnParameter(badStack, 'Class').valueAsString);
    expect(attempt({ instanceType }).error).toBeUndefined();
    const workMem = new CfnParameter(badStack, 'WorkMem').valueAsString;
    expect(attempt({ parameters: { work_mem: workMem, log_statement: workMem } }).error).toBeUndefined();
  });
});
