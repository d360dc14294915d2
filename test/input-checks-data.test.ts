import { App, CfnParameter, Duration, Size, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as config from 'aws-cdk-lib/aws-config';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import {
  FxCluster, FxCompliance, FxComplianceRule, FxConfigRecording, FxDatabase, FxDatabaseRestore, FxGithubDeployRole, FxObservability, FxProfile,
  FxProfileOverrides,
} from '../src';
import { clusterWithAddons, ENV, testApp } from './util/fixtures';
import { resolveElkSettings, thresholdText, validateBudget, validateProfileResources } from '../src/observability/validation';

/**
 * Input checks of the data constructs (FxDatabase and its service roles, FxObservability,
 * FxCompliance, FxGithubDeployRole): each bad input fails with its exact message, the legal values
 * and deploy-time tokens around it pass. One cluster is shared.
 */

let app: App;
let stack: Stack;
let fxCluster: FxCluster;
let n = 0;

beforeAll(() => {
  app = testApp();
  stack = new Stack(app, 'Data', { env: ENV });
  fxCluster = clusterWithAddons(stack, FxProfile.DEVELOPMENT);
});

/** A deploy-time number or string of a stack of its own. */
const num = (s: Stack) => new CfnParameter(s, `N${n++}`, { type: 'Number' }).valueAsNumber;
const str = (s: Stack) => new CfnParameter(s, `S${n++}`, { type: 'String' }).valueAsString;
const database = (id: string, props: object = {}) => new FxDatabase(stack, id, { cluster: fxCluster, ...props });
const cfn = (db: FxDatabase) => db.instance.node.defaultChild as rds.CfnDBInstance;

describe('FxDatabase', () => {
  test('deploy-time values that decide what is built are refused', () => {
    expect(() => database('ReplicaToken', { readReplicas: num(stack) })).toThrow(
      'FxDatabase at Data/ReplicaToken: invalid readReplicas \'(a deploy-time token)\'; allowed: a value known at synth: it is the number of replica instances built');
    expect(() => database('EngineToken', { engineVersion: str(stack) })).toThrow(
      'FxDatabase at Data/EngineToken: invalid engineVersion \'(a deploy-time token)\'; allowed: a value known at synth: the parameter group family and the settings checked are chosen from it');
  });

  test('durations and sizes of tokens in another unit than the one RDS reads', () => {
    const cases: [object, string][] = [
      [{ backupRetention: Duration.hours(num(stack)) }, "invalid backupRetention 'Duration.hours(<token>)'; allowed: a deploy-time value only as Duration.days(<token>)"],
      [{ dailyBackupRetention: Duration.hours(num(stack)) }, "invalid dailyBackupRetention 'Duration.hours(<token>)'; allowed: a deploy-time value only as Duration.days(<token>)"],
      [{ weeklyBackupRetention: Duration.hours(num(stack)) }, "invalid weeklyBackupRetention 'Duration.hours(<token>)'; allowed: a deploy-time value only as Duration.days(<token>)"],
      [{ monitoringInterval: Duration.minutes(num(stack)) }, "invalid monitoringInterval 'Duration.minutes(<token>)'; allowed: a deploy-time value only as Duration.seconds(<token>)"],
      [{ allocatedStorage: Size.mebibytes(num(stack)) }, "invalid allocatedStorage 'Size.mebibytes(<token>)'; allowed: a deploy-time value only as Size.gibibytes(<token>)"],
      [{ allocatedStorage: Size.tebibytes(num(stack)) }, "invalid allocatedStorage 'Size.tebibytes(<token>)'; allowed: a deploy-time value only as Size.gibibytes(<token>)"],
      [{ maxAllocatedStorage: Size.tebibytes(num(stack)) }, "invalid maxAllocatedStorage 'Size.tebibytes(<token>)'; allowed: a deploy-time value only as Size.gibibytes(<token>)"],
    ];
    cases.forEach(([props, message], i) => expect(() => database(`UnitToken${i}`, props)).toThrow(`FxDatabase at Data/UnitToken${i}: ${message}`));
  });

  test('tokens in the unit RDS reads pass to the template', () => {
    const s = new Stack(app, 'DbTokens', { env: ENV });
    const db = new FxDatabase(s, 'Database', {
      cluster: fxCluster,
      backupRetention: Duration.days(num(s)),
      dailyBackupRetention: Duration.days(num(s)),
      weeklyBackupRetention: Duration.days(num(s)),
      monitoringInterval: Duration.seconds(num(s)),
      allocatedStorage: Size.gibibytes(num(s)),
      maxAllocatedStorage: Size.gibibytes(num(s)),
    });
    expect(s.resolve(cfn(db).allocatedStorage)).toEqual({ Ref: expect.stringMatching(/^N/) });
    expect(s.resolve(cfn(db).maxAllocatedStorage)).toEqual({ Ref: expect.stringMatching(/^N/) });
    expect(s.resolve(cfn(db).backupRetentionPeriod)).toEqual({ Ref: expect.stringMatching(/^N/) });
    // A token allocation keeps the profile's limit (nothing is computed from it).
    const alone = new FxDatabase(s, 'Allocated', { cluster: fxCluster, allocatedStorage: Size.gibibytes(num(s)) });
    expect(cfn(alone).maxAllocatedStorage).toBe(100);
    // A literal limit with a token allocation, and the other way round: not compared.
    new FxDatabase(s, 'LiteralMax', { cluster: fxCluster, allocatedStorage: Size.gibibytes(num(s)), maxAllocatedStorage: Size.gibibytes(50) });
    new FxDatabase(s, 'LiteralDaily', { cluster: fxCluster, dailyBackupRetention: Duration.days(num(s)), weeklyBackupRetention: Duration.days(7) });
  });

  test('the default autoscaling limit follows a large allocation, and is left out above 64 TiB', () => {
    expect(cfn(database('Storage100')).maxAllocatedStorage).toBe(100);
    expect(cfn(database('Storage1000', { allocatedStorage: Size.gibibytes(1000) })).maxAllocatedStorage).toBe(1100);
    expect(cfn(database('Storage59578', { allocatedStorage: Size.gibibytes(59578) })).maxAllocatedStorage).toBe(65536);
    expect(cfn(database('Storage59579', { allocatedStorage: Size.gibibytes(59579) })).maxAllocatedStorage).toBeUndefined();
    expect(cfn(database('Storage64T', { allocatedStorage: Size.tebibytes(64) })).maxAllocatedStorage).toBeUndefined();
    expect(cfn(database('StorageGiven', { allocatedStorage: Size.gibibytes(1000), maxAllocatedStorage: Size.gibibytes(1100) })).maxAllocatedStorage).toBe(1100);
  });

  test('a given autoscaling limit RDS cannot take is refused', () => {
    expect(() => database('MaxImpossible', { allocatedStorage: Size.gibibytes(60000), maxAllocatedStorage: Size.tebibytes(64) })).toThrow(
      "FxDatabase at Data/MaxImpossible: invalid maxAllocatedStorage '65536 GiB'; allowed: no value with allocatedStorage 60000 GiB: RDS needs 10% above it (66000 GiB), more than its 65536 GiB; leave maxAllocatedStorage unset (storage autoscaling is then off)");
    expect(() => database('MaxLow', { allocatedStorage: Size.gibibytes(1000), maxAllocatedStorage: Size.gibibytes(1099) })).toThrow(
      "FxDatabase at Data/MaxLow: invalid maxAllocatedStorage '1099 GiB'; allowed: at least 10% above allocatedStorage (1000 GiB), i.e. 1100 GiB or more (RDS storage autoscaling's minimum)");
    expect(() => database('MaxHigh', { maxAllocatedStorage: Size.gibibytes(65537) })).toThrow(
      "FxDatabase at Data/MaxHigh: invalid maxAllocatedStorage '65537 GiB'; allowed: a whole number of GiB, at most 65536 GiB");
  });

  test('a profile autoscaling limit above 64 TiB is refused naming the profile', () => {
    const lab = FxProfile.custom(FxProfile.DEVELOPMENT, 'lab', { databaseMaxAllocatedStorage: Size.gibibytes(70000) });
    const s = new Stack(app, 'DbProfile', { env: ENV });
    const owner = new FxCluster(s, 'Cluster', { profile: lab });
    expect(() => new FxDatabase(s, 'Database', { cluster: owner })).toThrow(
      "FxDatabase at DbProfile/Database: invalid maxAllocatedStorage (from profile lab) '70000 GiB'; allowed: a whole number of GiB, at most 65536 GiB");
  });

  test('extension settings: known namespaces, and the real settings of pg_stat_statements and auto_explain', () => {
    const p = (id: string, parameters: object) => () => database(id, { parameters });
    expect(p('ParamTypo', { 'pg_stat_statments.track': 'all' })).toThrow(
      "FxDatabase at Data/ParamTypo: invalid parameters 'pg_stat_statments.track'; allowed: a server setting, or a setting of rds. or of an extension RDS configures by parameter (rds., pg_stat_statements., auto_explain., pgaudit., pg_hint_plan., pglogical., cron., pg_partman_bgw., pg_prewarm., pg_transport., pgtle., apg_plan_mgmt., pg_bigm., pg_similarity.); did you mean pg_stat_statements.?");
    expect(p('ParamFoo', { 'foo.bar': '1' })).toThrow(
      "FxDatabase at Data/ParamFoo: invalid parameters 'foo.bar'; allowed: a server setting, or a setting of rds. or of an extension RDS configures by parameter (rds., pg_stat_statements., auto_explain., pgaudit., pg_hint_plan., pglogical., cron., pg_partman_bgw., pg_prewarm., pg_transport., pgtle., apg_plan_mgmt., pg_bigm., pg_similarity.)");
    expect(p('ParamContrib', { 'pg_stat_statements.trak': 'all' })).toThrow(
      "FxDatabase at Data/ParamContrib: invalid parameters 'pg_stat_statements.trak'; allowed: a setting pg_stat_statements has: pg_stat_statements.max, pg_stat_statements.save, pg_stat_statements.track, pg_stat_statements.track_planning, pg_stat_statements.track_utility; did you mean pg_stat_statements.track?");
    expect(p('ParamContribValue', { 'pg_stat_statements.track': 'most' })).toThrow(
      "FxDatabase at Data/ParamContribValue: invalid parameters['pg_stat_statements.track'] 'most'; allowed: one of none, top, all");
    expect(p('ParamExplain', { 'auto_explain.log_min_duration': '30d' })).toThrow(
      "FxDatabase at Data/ParamExplain: invalid parameters['auto_explain.log_min_duration'] '30d'; allowed: a value from -1 to 2147483647 ms (30d is 2592000000 ms)");
    expect(p('ParamExplainName', { 'auto_explain.log_everything': '1' })).toThrow(
      "FxDatabase at Data/ParamExplainName: invalid parameters 'auto_explain.log_everything'; allowed: a setting auto_explain has: auto_explain.log_analyze,");
    database('ParamLegal', {
      parameters: {
        'pg_stat_statements.track': 'all',
        'pg_stat_statements.max': '10000',
        'auto_explain.log_min_duration': '5s',
        'auto_explain.sample_rate': '0.5',
        'pgaudit.log': 'ddl',
        'rds.logical_replication': '1',
        'cron.database_name': 'app',
        'pg_hint_plan.enable_hint': '1',
        'auto_explain.log_format': str(stack),
      },
    });
  });

  test('values with a unit are converted to the setting\'s unit for the range check', () => {
    const p = (id: string, parameters: object) => () => database(id, { parameters });
    expect(p('UnitHuge', { work_mem: '9999999GB' })).toThrow(
      "FxDatabase at Data/UnitHuge: invalid parameters['work_mem'] '9999999GB'; allowed: a value from 64 to 2147483647 kB (9999999GB is 10485758951424 kB)");
    expect(p('UnitSmall', { shared_buffers: '64kB' })).toThrow(
      "FxDatabase at Data/UnitSmall: invalid parameters['shared_buffers'] '64kB'; allowed: a value from 16 to 1073741823 8kB (64kB is 8 8kB)");
    expect(p('UnitKind', { statement_timeout: '5MB' })).toThrow(
      "FxDatabase at Data/UnitKind: invalid parameters['statement_timeout'] '5MB'; allowed: a number with a time unit (us, ms, s, min, h, d) or none (ms)");
    expect(p('UnitNone', { max_connections: '100kB' })).toThrow(
      "FxDatabase at Data/UnitNone: invalid parameters['max_connections'] '100kB'; allowed: a number without a unit (max_connections has none)");
    expect(p('UnitMemory', { idle_session_timeout: '1h', work_mem: '2s' })).toThrow(
      "FxDatabase at Data/UnitMemory: invalid parameters['work_mem'] '2s'; allowed: a number with a memory unit (B, kB, MB, GB, TB) or none (kB)");
    database('UnitLegal', {
      parameters: { work_mem: '2097151MB', maintenance_work_mem: '1GB', shared_buffers: '{DBInstanceClassMemory/32768}', statement_timeout: '1h', wal_buffers: '16MB', vacuum_cost_delay: '2.5ms' },
    });
  });

  test('instance sizes beyond the largest of their family are refused', () => {
    const type = (id: string, name: string) => () => database(id, { instanceType: new ec2.InstanceType(name) });
    expect(type('M7g24', 'm7g.24xlarge')).toThrow(
      "FxDatabase at Data/M7g24: invalid instanceType 'm7g.24xlarge'; allowed: a size the m7g family has: large to 16xlarge");
    expect(type('R6g32', 'r6g.32xlarge')).toThrow(
      "FxDatabase at Data/R6g32: invalid instanceType 'r6g.32xlarge'; allowed: a size the r6g family has: large to 16xlarge");
    expect(type('M6i48', 'm6i.48xlarge')).toThrow(
      "FxDatabase at Data/M6i48: invalid instanceType 'm6i.48xlarge'; allowed: a size the m6i family has: large to 32xlarge");
    for (const legal of ['m7g.16xlarge', 'm6i.32xlarge', 'm7i.48xlarge', 'r8g.48xlarge', 'm5.24xlarge', 'r7g.xlarge']) type(`Legal${legal.replace(/\./g, '')}`, legal)();
  });

  test('rotation every 4 hours to 1000 days, shown as given', () => {
    expect(() => database('Rotate3h', { rotationSchedule: Duration.hours(3) })).toThrow(
      "FxDatabase at Data/Rotate3h: invalid rotationSchedule '3 hours'; allowed: whole hours from 4 hours to 1000 days (Secrets Manager rotation)");
    expect(() => database('Rotate1001', { rotationSchedule: Duration.days(1001) })).toThrow(
      "FxDatabase at Data/Rotate1001: invalid rotationSchedule '1001 days'; allowed: whole hours from 4 hours to 1000 days (Secrets Manager rotation)");
    expect(() => database('RotateMinutes', { rotationSchedule: Duration.minutes(300 + 30) })).toThrow(
      "FxDatabase at Data/RotateMinutes: invalid rotationSchedule '5 hours 30 minutes'; allowed: whole hours from 4 hours to 1000 days (Secrets Manager rotation)");
    const db = database('Rotate4h', { rotationSchedule: Duration.hours(4) });
    const schedule = db.node.findChild('Rotation').node.defaultChild as secretsmanager.CfnRotationSchedule;
    expect(stack.resolve(schedule.rotationRules)).toEqual({ scheduleExpression: 'rate(4 hours)' });
    database('Rotate1000', { rotationSchedule: Duration.days(1000) });
  });

  test('service roles: rotation, reserved names and the users derived from a role name', () => {
    const db = database('Roles', { masterUsername: 'orders_iam' });
    expect(() => db.addServiceRole('Orders', { name: 'orders' })).toThrow(
      'FxDatabaseServiceRole at Data/Roles/ServiceRoles/Orders: invalid name \'orders\'; allowed: a role whose users (orders, orders_clone, orders_iam) are not the master user (orders_iam)');
    const clone = database('RolesClone', { masterUsername: 'orders_clone' });
    expect(() => clone.addServiceRole('Orders', { name: 'orders' })).toThrow(
      'FxDatabaseServiceRole at Data/RolesClone/ServiceRoles/Orders: invalid name \'orders\'; allowed: a role whose users (orders, orders_clone, orders_iam) are not the master user (orders_clone)');
    expect(() => db.addServiceRole('None', { name: 'none' })).toThrow(
      "FxDatabaseServiceRole at Data/Roles/ServiceRoles/None: invalid name 'none'; allowed: a role of its own: not the master user (orders_iam), a built-in role, starting with pg_ or rds, or ending with _clone or _iam");
    expect(() => db.addServiceRole('Fast', { name: 'fast', rotationSchedule: Duration.hours(2) })).toThrow(
      "FxDatabaseServiceRole at Data/Roles/ServiceRoles/Fast: invalid rotationSchedule '2 hours'; allowed: whole hours from 4 hours to 1000 days (Secrets Manager rotation)");
    const role = db.addServiceRole('Hourly', { name: 'hourly', rotationSchedule: Duration.hours(12) });
    const rotation = role.node.findChild('Rotation').node.defaultChild as secretsmanager.CfnRotationSchedule;
    expect(stack.resolve(rotation.rotationRules)).toEqual({ scheduleExpression: 'rate(12 hours)' });
    const daily = db.addServiceRole('Daily', { name: 'daily', rotationSchedule: Duration.days(1000) });
    expect(stack.resolve((daily.node.findChild('Rotation').node.defaultChild as secretsmanager.CfnRotationSchedule).rotationRules))
      .toEqual({ scheduleExpression: 'rate(1000 days)' });
    db.addServiceRole('Orders2', { name: 'orders2' });
  });

  test('master user none is reserved', () => {
    expect(() => database('MasterNone', { masterUsername: 'none' })).toThrow(
      "FxDatabase at Data/MasterNone: invalid masterUsername 'none'; allowed: a name that is not a PostgreSQL reserved word, a built-in role, or starting with pg_ or rds");
  });

  test('grantConnectAs takes one PostgreSQL role, no wildcard', () => {
    const db = database('Grants');
    const grantee = new iam.Role(stack, 'Grantee', { assumedBy: new iam.AccountRootPrincipal() });
    expect(() => db.grantConnectAs(grantee, '*')).toThrow(
      "FxDatabase at Data/Grants: invalid databaseUser '*'; allowed: a PostgreSQL role name: lowercase letters, digits and _, starting with a letter or _, at most 63 characters, not public or none (no wildcards)");
    expect(() => db.grantConnectAs(grantee, 'orders_*')).toThrow("invalid databaseUser 'orders_*'");
    expect(() => db.grantConnectAs(grantee, 'public')).toThrow("invalid databaseUser 'public'");
    db.grantConnectAs(grantee, 'orders_iam');
    db.grantConnectAs(grantee, str(stack));
    db.grantConnect(grantee);
  });

  test('restores: point in time within 35 days, DB snapshots only', () => {
    const old = new Date(Date.now() - 36 * 86_400_000);
    expect(() => database('RestoreOld', { restore: FxDatabaseRestore.toPointInTime('fx-orders', old) })).toThrow(
      `FxDatabase at Data/RestoreOld: invalid restore.restoreTime '${old.toISOString()}'; allowed: a moment within the last 35 days (the longest backup retention): after `);
    expect(() => database('RestoreCluster', { restore: FxDatabaseRestore.fromSnapshot('arn:aws:rds:us-east-1:123456789012:cluster-snapshot:orders') })).toThrow(
      "FxDatabase at Data/RestoreCluster: invalid restore.snapshotIdentifier 'arn:aws:rds:us-east-1:123456789012:cluster-snapshot:orders'; allowed: a DB snapshot: a DB cluster snapshot (cluster-snapshot:) restores a DB cluster, not a DB instance");
    database('RestoreRecent', { restore: FxDatabaseRestore.toPointInTime('fx-orders', new Date(Date.now() - 34 * 86_400_000)) });
    database('RestoreArn', { restore: FxDatabaseRestore.fromSnapshot('arn:aws:rds:us-east-1:123456789012:snapshot:orders') });
  });

  test('messages: a token threshold described, a name from the construct id says so', () => {
    expect(() => database('SlowToken', { slowQueryThreshold: Duration.seconds(num(stack)) })).toThrow(
      "FxDatabase at Data/SlowToken: invalid slowQueryThreshold 'Duration.seconds(<token>)'; allowed: a deploy-time value only as Duration.millis(<token>): log_min_duration_statement is in milliseconds");
    expect(() => database('1Db')).toThrow(
      "FxDatabase at Data/1Db: invalid name (from the construct id) '1-db'; allowed: lowercase letters, digits and -, starting with a letter, not ending with -, at most 40 characters");
    expect(() => database('Db1', { name: '1db' })).toThrow("FxDatabase at Data/Db1: invalid name '1db'; allowed:");
  });
});

const lab = (overrides: FxProfileOverrides) => FxProfile.custom(FxProfile.DEVELOPMENT, 'lab', overrides);
const observability = (id: string, props: object) => new FxObservability(new Stack(app, id, { env: ENV }), 'Observability', { cluster: fxCluster, ...props });
/** An FxObservability on a cluster of a profile of its own (`lab`). */
const profileObservability = (id: string, overrides: FxProfileOverrides) => {
  const s = new Stack(app, id, { env: ENV });
  return new FxObservability(s, 'Observability', { cluster: new FxCluster(s, 'Cluster', { profile: lab(overrides) }) });
};

describe('FxObservability', () => {
  test('the derived snapshot retention stays within 3650 days, and is never computed from a token', () => {
    expect(resolveElkSettings(FxProfile.DEVELOPMENT, { elasticsearchRetentionDays: 3650 }).snapshotRetentionDays).toBe(3650);
    expect(resolveElkSettings(FxProfile.DEVELOPMENT, { elasticsearchRetentionDays: 1000 }).snapshotRetentionDays).toBe(2000);
    const s = new Stack(app, 'ObsTokens', { env: ENV });
    expect(() => resolveElkSettings(FxProfile.DEVELOPMENT, { elasticsearchRetentionDays: num(s) })).toThrow(
      "FxObservability: invalid elasticsearchRetentionDays '(a deploy-time token)'; allowed: a value known at synth: the default snapshotRetentionDays is computed from it (twice it); with a deploy-time value, set snapshotRetentionDays too");
    expect(() => observability('ObsRetentionToken', { elk: true, elasticsearchRetentionDays: num(stack) })).toThrow(
      "FxObservability at ObsRetentionToken/Observability: invalid elasticsearchRetentionDays '(a deploy-time token)'; allowed: a value known at synth:");
    const both = resolveElkSettings(FxProfile.DEVELOPMENT, { elasticsearchRetentionDays: num(s), snapshotRetentionDays: num(s) });
    expect(both.snapshotRetentionDays).toEqual(expect.any(Number));
    resolveElkSettings(FxProfile.DEVELOPMENT, { elasticsearchRetentionDays: num(s), snapshotRetentionDays: 30 });
  });

  test('a token node count and a list token of e-mails are refused', () => {
    expect(() => observability('ObsNodesToken', { elk: true, elasticsearchNodes: num(stack) })).toThrow(
      "FxObservability at ObsNodesToken/Observability: invalid elasticsearchNodes '(a deploy-time token)'; allowed: a value known at synth: a single node or a cluster of several is built from it");
    const s = new Stack(app, 'ObsEmails', { env: ENV });
    const list = new CfnParameter(s, 'Emails', { type: 'CommaDelimitedList' }).valueAsList;
    expect(() => new FxObservability(s, 'Observability', { cluster: fxCluster, alarmEmails: list })).toThrow(
      "FxObservability at ObsEmails/Observability: invalid alarmEmails '(a deploy-time list)'; allowed: a list known at synth (each address is its own SNS subscription); its elements may be deploy-time values");
  });

  test('profile values are checked like props, and say so', () => {
    expect(() => profileObservability('ObsProfileStorage', { elkEnabled: true, elasticsearchStorage: Size.gibibytes(5) })).toThrow(
      "FxObservability at ObsProfileStorage/Observability: invalid elasticsearchStorage (from profile lab) '5 GiB'; allowed: at least 10 GiB (Elasticsearch stops allocating shards above 85% disk use)");
    expect(() => profileObservability('ObsProfileHeap', { elkEnabled: true, elasticsearchHeap: '4g', elasticsearchMemory: '2Gi' })).toThrow(
      "FxObservability at ObsProfileHeap/Observability: invalid elasticsearchHeap (from profile lab) '4g'; allowed: a heap below elasticsearchMemory (2Gi): the JVM needs memory beyond its heap (Elastic recommends at most half)");
    expect(() => profileObservability('ObsProfileHeapEqual', { elkEnabled: true, elasticsearchHeap: '2048M', elasticsearchMemory: '2Gi' })).toThrow(
      "invalid elasticsearchHeap (from profile lab) '2048M'; allowed: a heap below elasticsearchMemory (2Gi)");
    expect(() => profileObservability('ObsProfileNodes', { elkEnabled: true, elasticsearchNodes: 1, elasticsearchMinNodes: 3 })).toThrow(
      'FxObservability at ObsProfileNodes/Observability: invalid elasticsearchNodes (from profile lab) 1; allowed: at least 3 in lab (one per availability zone)');
    validateProfileResources(lab({ elasticsearchHeap: str(stack), elasticsearchMemory: '2Gi' }), true);
    validateProfileResources(lab({ elasticsearchHeap: '1g', elasticsearchMemory: str(stack) }), true);
    // A profile storage the user overrides is not used, so not refused.
    expect(resolveElkSettings(lab({ elasticsearchStorage: Size.gibibytes(5) }), { elasticsearchStorage: Size.gibibytes(10) }).storageGiB).toBe(10);
    expect(resolveElkSettings(lab({ elasticsearchStorage: Size.gibibytes(num(stack)) }), {}).storageGiB).toEqual(expect.any(Number));
    for (const heap of ['1G', '1g', '1024m', '1024M', '1048576k', '1048576K']) {
      validateProfileResources(lab({ elasticsearchHeap: heap, elasticsearchMemory: '2Gi' }), true);
    }
    expect(() => resolveElkSettings(lab({ elasticsearchMinNodes: 3 }), { elasticsearchNodes: 1 })).toThrow(
      'FxObservability: invalid elasticsearchNodes 1; allowed: at least 3 in lab (one per availability zone)');
  });

  test('deploy-time durations in the wrong unit are described, not printed as raw tokens', () => {
    expect(() => observability('ObsMetricsToken', { metricsRetention: Duration.millis(num(stack)) })).toThrow(
      "FxObservability at ObsMetricsToken/Observability: invalid metricsRetention 'Duration.millis(<token>)'; allowed: a deploy-time value only as Duration.days/hours/minutes/seconds(<token>)");
    expect(() => observability('ObsLatencyToken', { alarmThresholds: { targetResponseTime: Duration.millis(num(stack)) } })).toThrow(
      "FxObservability at ObsLatencyToken/Observability: invalid alarmThresholds.targetResponseTime 'Duration.millis(<token>)'; allowed: a deploy-time value only as Duration.seconds(<token>)");
  });

  test('a deploy-time latency threshold stays a token in the alarm description', () => {
    const s = new Stack(app, 'ObsAlarms', { env: ENV });
    const owner = new FxCluster(s, 'Cluster', {});
    const obs = new FxObservability(s, 'Observability', { cluster: owner, alarmThresholds: { targetResponseTime: Duration.seconds(num(s)) } });
    const db = new FxDatabase(s, 'Database', { cluster: owner });
    expect(() => obs.watchDatabase(db.instance, { readLatency: Duration.millis(num(s)) })).toThrow(
      "FxObservability at ObsAlarms/Observability: invalid watchDatabase.readLatency 'Duration.millis(<token>)'; allowed: a deploy-time value only as Duration.seconds(<token>)");
    obs.watchDatabase(db.instance, { readLatency: Duration.seconds(num(s)), writeLatency: Duration.millis(20) });
    const descriptions = s.node.findAll().filter((c): c is cloudwatch.CfnAlarm => c instanceof cloudwatch.CfnAlarm)
      .map((alarm) => JSON.stringify(s.resolve(alarm.alarmDescription)));
    const latency = descriptions.filter((d) => /latency|response time/.test(d));
    expect(latency.some((d) => d.includes('"Database read latency is at or above ",{"Ref":') && d.includes('" seconds ('))).toBe(true);
    expect(latency.some((d) => d.includes('"Database write latency is at or above 20 millis ('))).toBe(true);
    expect(s.resolve(thresholdText(Duration.seconds(num(s))))).toEqual({ 'Fn::Join': ['', [{ Ref: expect.any(String) }, ' seconds']] });
    expect(thresholdText(Duration.millis(1500))).toBe('1 second 500 millis');
    expect(descriptions.every((d) => !/e\+\d+/.test(d))).toBe(true);
  });

  test('a monthly budget AWS Budgets can read', () => {
    expect(() => observability('ObsBudgetTiny', { monthlyBudget: 1e-9 })).toThrow(
      'FxObservability at ObsBudgetTiny/Observability: invalid monthlyBudget 1e-9; allowed: an amount of USD of at least 0.01, written as a plain decimal (AWS Budgets)');
    expect(() => observability('ObsBudgetCent', { monthlyBudget: 0.009 })).toThrow(
      'FxObservability at ObsBudgetCent/Observability: invalid monthlyBudget 0.009; allowed: an amount of USD of at least 0.01, written as a plain decimal (AWS Budgets)');
    for (const amount of [0.01, 1, 99.99, 1e9]) validateBudget(amount, []);
    validateBudget(num(stack), []);
  });
});

describe('FxCompliance', () => {
  const compliance = (id: string, props: object) => new FxCompliance(new Stack(app, id, { env: ENV }), 'Compliance', { cluster: fxCluster, ...props });

  test('the Multi-AZ rule follows the database, not the profile', () => {
    const single = database('SingleAz', { multiAz: false });
    const multi = database('MultiAz', { multiAz: true });
    const ids = (db: FxDatabase) => FxCompliance.defaultRules(fxCluster, db).map((r) => r.identifier);
    expect(ids(single)).not.toContain(FxComplianceRule.RDS_MULTI_AZ_SUPPORT.identifier);
    expect(ids(multi)).toContain(FxComplianceRule.RDS_MULTI_AZ_SUPPORT.identifier);
    const s = new Stack(app, 'ProdCompliance', { env: ENV });
    const prod = new FxCluster(s, 'Cluster', { profile: FxProfile.PRODUCTION });
    expect(FxCompliance.defaultRules(prod, new FxDatabase(s, 'Database', { cluster: prod, multiAz: false })).map((r) => r.identifier))
      .not.toContain(FxComplianceRule.RDS_MULTI_AZ_SUPPORT.identifier);
    expect(FxCompliance.defaultRules(prod, new FxDatabase(s, 'Default', { cluster: prod })).map((r) => r.identifier))
      .toContain(FxComplianceRule.RDS_MULTI_AZ_SUPPORT.identifier);
  });

  test('recorded resource types: well formed, of a known service, each once', () => {
    const types = (list: config.ResourceType[]) => ({ recording: FxConfigRecording.resourceTypes(list) });
    expect(() => compliance('CompFoo', types([config.ResourceType.of('AWS::Foo::Bar')]))).toThrow(
      "FxCompliance at CompFoo/Compliance: invalid recording.resourceTypes[0] 'AWS::Foo::Bar'; allowed: an AWS Config resource type AWS::<Service>::<Type> of a service AWS Config records (config.ResourceType)");
    expect(() => compliance('CompMalformed', types([config.ResourceType.EKS_CLUSTER, config.ResourceType.of('EKS::Cluster')]))).toThrow(
      "FxCompliance at CompMalformed/Compliance: invalid recording.resourceTypes[1] 'EKS::Cluster'; allowed: an AWS Config resource type");
    expect(() => compliance('CompTwice', types([config.ResourceType.EKS_CLUSTER, config.ResourceType.of('AWS::EKS::Cluster')]))).toThrow(
      "FxCompliance at CompTwice/Compliance: invalid recording.resourceTypes[1] 'AWS::EKS::Cluster'; allowed: each resource type once");
    // The one recorder of the account: lifecycle durations as day tokens too.
    const ok = compliance('CompTypes', {
      ...types([config.ResourceType.EKS_CLUSTER, config.ResourceType.of('AWS::EC2::SubnetCidrBlock'), config.ResourceType.of(str(stack))]),
      deliveryTransitionAfter: Duration.days(num(stack)),
      deliveryExpiration: Duration.days(num(stack)),
    });
    expect(ok.recordedResourceTypes).toContain('AWS::EC2::SubnetCidrBlock');
  });

  test('delivery lifecycle tokens only in days', () => {
    const recording = FxConfigRecording.PLATFORM_RESOURCES;
    expect(() => compliance('CompHours', { recording, deliveryTransitionAfter: Duration.hours(num(stack)) })).toThrow(
      "FxCompliance at CompHours/Compliance: invalid deliveryTransitionAfter 'Duration.hours(<token>)'; allowed: a deploy-time value only as Duration.days(<token>) (a token in another unit cannot be converted at synth)");
    expect(() => compliance('CompExpHours', { recording, deliveryExpiration: Duration.hours(num(stack)) })).toThrow(
      "FxCompliance at CompExpHours/Compliance: invalid deliveryExpiration 'Duration.hours(<token>)'; allowed: a deploy-time value only as Duration.days(<token>)");
  });
});

describe('FxGithubDeployRole', () => {
  const role = (id: string, props: object) =>
    () => new FxGithubDeployRole(new Stack(app, id, { env: ENV }), 'Role', { repository: 'acme/fx', environments: ['prod'], ...props });

  test('list tokens and session durations that are not whole seconds', () => {
    const s = new Stack(app, 'RoleLists', { env: ENV });
    const list = new CfnParameter(s, 'Envs', { type: 'CommaDelimitedList' }).valueAsList;
    expect(() => new FxGithubDeployRole(s, 'Role', { repository: 'acme/fx', environments: list })).toThrow(
      "FxGithubDeployRole at RoleLists/Role: invalid environments '(a deploy-time list)'; allowed: a list known at synth (each entry is its own subject of the trust policy)");
    expect(() => new FxGithubDeployRole(s, 'Branches', { repository: 'acme/fx', branches: list })).toThrow(
      "FxGithubDeployRole at RoleLists/Branches: invalid branches '(a deploy-time list)'; allowed: a list known at synth");
    expect(role('RoleMillis', { maxSessionDuration: Duration.millis(3600500) })).toThrow(
      "FxGithubDeployRole at RoleMillis/Role: invalid maxSessionDuration '1 hour 500 millis'; allowed: whole seconds (IAM's MaxSessionDuration), 1 to 12 hours");
    expect(role('RoleShort', { maxSessionDuration: Duration.minutes(59) })).toThrow(
      "FxGithubDeployRole at RoleShort/Role: invalid maxSessionDuration '59 minutes'; allowed: 1 to 12 hours");
    role('RoleSeconds', { maxSessionDuration: Duration.seconds(3601), environments: [str(stack)] })();
    role('RoleTwelve', { maxSessionDuration: Duration.hours(12) })();
  });

  test('the trust policy fits IAM\'s 2048 characters', () => {
    const branches = Array.from({ length: 40 }, (_, i) => `release/${'x'.repeat(40)}-${i}`);
    expect(role('RoleBig', { branches })).toThrow(
      /^FxGithubDeployRole at RoleBig\/Role: invalid environments and branches '1 environments and 40 branches'; allowed: a trust policy within IAM's 2048 characters \(ACLSizePerRole\): these subjects make about \d{4}; use fewer or shorter environments and branches$/);
    expect(role('RoleBigEnvs', { environments: Array.from({ length: 60 }, (_, i) => `environment-${i}`) })).toThrow(
      "invalid environments and branches '60 environments and 0 branches'");
    role('RoleFits', { branches: branches.slice(0, 20) })();
  });

  test('owner, environment and branch names GitHub and git accept; qualifiers the bootstrap template takes', () => {
    const owner = 'an owner GitHub allows: letters, digits and single hyphens, not starting or ending with a hyphen, at most 39 characters';
    expect(role('OwnerDash', { repository: 'acme-/fx' })).toThrow(`FxGithubDeployRole at OwnerDash/Role: invalid repository 'acme-/fx'; allowed: ${owner}`);
    expect(role('OwnerDouble', { repository: 'ac--me/fx' })).toThrow(`FxGithubDeployRole at OwnerDouble/Role: invalid repository 'ac--me/fx'; allowed: ${owner}`);
    const env = 'e'.repeat(256);
    expect(role('EnvLong', { environments: [env] })).toThrow(
      `FxGithubDeployRole at EnvLong/Role: invalid environments[0] '${env}'; allowed: a GitHub environment name of at most 255 characters`);
    const git = 'allowed: a branch name git accepts: not starting with -, no part starting with . or ending with .lock, not ending with .';
    for (const [i, branch] of ['main.lock', '-main', 'release/.hidden', 'release/', 'main.', '..', 'a b', 'a:b', 'a@{b'].entries()) {
      expect(role(`Branch${i}`, { branches: [branch] })).toThrow(`FxGithubDeployRole at Branch${i}/Role: invalid branches[0] '${branch}'; allowed:`);
    }
    expect(role('BranchLock', { branches: ['main.lock'] })).toThrow(`FxGithubDeployRole at BranchLock/Role: invalid branches[0] 'main.lock'; ${git}`);
    expect(role('BranchHidden', { branches: ['release/.hidden'] })).toThrow(`FxGithubDeployRole at BranchHidden/Role: invalid branches[0] 'release/.hidden'; ${git}`);
    const qualifier = 'allowed: the bootstrap qualifier: up to 10 lowercase letters, digits or - (it is part of the bootstrap assets bucket name)';
    expect(role('QualifierDot', { cdkQualifier: 'my.q' })).toThrow(`FxGithubDeployRole at QualifierDot/Role: invalid cdkQualifier 'my.q'; ${qualifier}`);
    expect(role('QualifierUnderscore', { cdkQualifier: 'my_q' })).toThrow(`FxGithubDeployRole at QualifierUnderscore/Role: invalid cdkQualifier 'my_q'; ${qualifier}`);
    role('Legal', { repository: 'a-c-m-e/fx', environments: ['e'.repeat(255)], branches: ['release/1.x', 'feature/a.b', 'v1.lockfile'], cdkQualifier: 'my-q-1' })();
    role('LegalOwner', { repository: `${'a'.repeat(39)}/fx` })();
  });
});
