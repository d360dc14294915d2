import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnParameter, Duration, RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import * as config from 'aws-cdk-lib/aws-config';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import {
  FxCluster, FxCompliance, FxComplianceRule, FxConfigRecording, FxDatabase, FxDatabaseRestore, FxGithubDeployRole, FxObservability, FxProfile,
} from '../src';
import { clusterWithAddons, ENV, messageOf, testApp } from './util/fixtures';

/**
 * A second pass over bad inputs of the data constructs (FxDatabase, FxObservability, FxCompliance,
 * FxGithubDeployRole): what crashed at synth or deployed into a failure now fails with its exact
 * message; the legal values and deploy-time tokens around each check pass. One cluster is shared;
 * the few tests that synthesize have an app of their own.
 */

const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-input-data-2-'));
afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

let app: App;
let stack: Stack;
let fxCluster: FxCluster;
let n = 0;
beforeAll(() => {
  app = testApp(path.join(outdir, 'cases'));
  stack = new Stack(app, 'Data', { env: ENV });
  fxCluster = clusterWithAddons(stack, FxProfile.DEVELOPMENT);
});

/** A stack in an app of its own, for tests that synthesize. */
const ownStack = (id: string) => new Stack(testApp(path.join(outdir, id)), id, { env: ENV });
const str = (s: Stack) => new CfnParameter(s, `S${n++}`, { type: 'String' }).valueAsString;
const database = (id: string, props: object = {}) => new FxDatabase(stack, id, { cluster: fxCluster, ...props });
const params = (id: string, parameters: object) => database(id, { parameters });
const type = (name: string) => new ec2.InstanceType(name);
/** An FxCompliance in a stack of its own; `props` may build what it needs in that stack. */
const compliance = (id: string, props: object | ((s: Stack) => object)) => {
  const s = new Stack(app, id, { env: ENV });
  return new FxCompliance(s, 'Compliance', { cluster: fxCluster, ...(typeof props === 'function' ? props(s) : props) });
};
/** An FxGithubDeployRole of acme/fx in a stack of its own; `props` may build what it needs in that stack. */
const deployRole = (id: string, props: object | ((s: Stack) => object)) => {
  const s = new Stack(app, id, { env: ENV });
  return new FxGithubDeployRole(s, 'Role', { repository: 'acme/fx', ...(typeof props === 'function' ? props(s) : props) });
};
const provider = (s: Stack, arn: string) => iam.OidcProviderNative.fromOidcProviderArn(s, 'Provider', arn);
const recorded = (...types: (config.ResourceType | string)[]) =>
  ({ recording: FxConfigRecording.resourceTypes(types.map((t) => (typeof t === 'string' ? config.ResourceType.of(t) : t))) });

const CLASSES = 'a comma-separated list of pgaudit classes (read, write, function, role, ddl, misc, misc_set, all, none), each optionally excluded with a leading - (e.g. \'all, -misc\')';
const LIBRARIES = 'a comma-separated list of libraries RDS for PostgreSQL preloads: auto_explain, orafce, pgaudit, pglogical, pg_bigm, pg_cron, '
  + 'pg_hint_plan, pg_overexplain, pg_prewarm, pg_similarity, pg_stat_monitor, pg_stat_statements, pg_tle, pg_transport, plprofiler, plrust';

const CASES: [string, () => unknown, string][] = [
  // ---- FxDatabase parameters
  ['a deploy-time parameter name', () => params('ParamNameToken', { [str(stack)]: '1' }),
    "FxDatabase at Data/ParamNameToken: invalid parameters '(a deploy-time token)'; allowed: a value known at synth: each name is a key of the parameter group, written at synth (its value may be a deploy-time value)"],
  ['port, which RDS sets from the instance', () => params('ParamPort', { port: '5432' }),
    "FxDatabase at Data/ParamPort: invalid parameters['port'] '5432'; allowed: no value here: RDS sets it from the instance's port (the port prop)"],
  ['a deploy-time port, not printed as a token', () => params('ParamPortToken', { port: str(stack) }),
    "FxDatabase at Data/ParamPortToken: invalid parameters['port'] '(a deploy-time token)'; allowed: no value here: RDS sets it from the instance's port (the port prop)"],
  ['a deploy-time slow-query setting, not printed as a token', () => params('ParamOwnedToken', { log_min_duration_statement: str(stack) }),
    "FxDatabase at Data/ParamOwnedToken: invalid parameters['log_min_duration_statement'] '(a deploy-time token)'; allowed: no value here: the construct sets it from slowQueryThreshold"],
  ['listen_addresses, fixed by RDS', () => params('ParamListen', { listen_addresses: '*' }),
    "FxDatabase at Data/ParamListen: invalid parameters['listen_addresses'] '*'; allowed: no value here: RDS fixes where the server listens"],
  ['data_directory, fixed by RDS', () => params('ParamDataDir', { data_directory: '/tmp' }),
    "FxDatabase at Data/ParamDataDir: invalid parameters['data_directory'] '/tmp'; allowed: no value here: RDS fixes the server's files and directories"],
  ['ssl turned off', () => params('ParamSsl', { ssl: '0' }),
    "FxDatabase at Data/ParamSsl: invalid parameters['ssl'] '0'; allowed: on or '1' (TLS is required for every connection)"],
  ['a value with a trailing line break', () => params('ParamNewline', { work_mem: '4MB\n' }),
    "FxDatabase at Data/ParamNewline: invalid parameters['work_mem'] '4MB\n'; allowed: a value without leading or trailing whitespace or line breaks (the parameter group keeps them, and the server reads them as part of the value)"],
  ['a value with a leading space', () => params('ParamSpace', { 'pgaudit.log': ' ddl' }),
    "FxDatabase at Data/ParamSpace: invalid parameters['pgaudit.log'] ' ddl'; allowed: a value without leading or trailing whitespace or line breaks"],
  ['an unknown preload library', () => params('ParamPreload', { shared_preload_libraries: 'pg_stat_statements,timescaledb' }),
    `FxDatabase at Data/ParamPreload: invalid parameters['shared_preload_libraries'] 'pg_stat_statements,timescaledb'; allowed: ${LIBRARIES} (not 'timescaledb')`],
  ['a misspelt preload library', () => params('ParamPreloadTypo', { shared_preload_libraries: 'pg_stat_statement' }),
    `FxDatabase at Data/ParamPreloadTypo: invalid parameters['shared_preload_libraries'] 'pg_stat_statement'; allowed: ${LIBRARIES} (pg_stat_statement: did you mean pg_stat_statements?)`],
  ['a pgaudit class that does not exist', () => params('AuditClass', { 'pgaudit.log': 'read, writes' }),
    `FxDatabase at Data/AuditClass: invalid parameters['pgaudit.log'] 'read, writes'; allowed: ${CLASSES}`],
  ['a pgaudit level pgaudit refuses', () => params('AuditLevel', { 'pgaudit.log_level': 'error' }),
    "FxDatabase at Data/AuditLevel: invalid parameters['pgaudit.log_level'] 'error'; allowed: one of debug5, debug4, debug3, debug2, debug1, info, notice, warning, log (pgaudit refuses error, fatal and panic)"],
  ['a pgaudit boolean that is not one', () => params('AuditBool', { 'pgaudit.log_catalog': 'maybe' }),
    "FxDatabase at Data/AuditBool: invalid parameters['pgaudit.log_catalog'] 'maybe'; allowed: a boolean: 1 or 0 (on, off, true, false)"],
  ['a pgaudit setting that does not exist', () => params('AuditName', { 'pgaudit.log_relations': '1' }),
    "FxDatabase at Data/AuditName: invalid parameters 'pgaudit.log_relations'; allowed: a setting pgaudit has: pgaudit.log, pgaudit.log_catalog, pgaudit.log_client, pgaudit.log_level, pgaudit.log_parameter, pgaudit.log_parameter_max_size, pgaudit.log_relation, pgaudit.log_rows, pgaudit.log_statement, pgaudit.log_statement_once, pgaudit.role; did you mean pgaudit.log_relation?"],
  ['a pgaudit size that is not a number', () => params('AuditSize', { 'pgaudit.log_parameter_max_size': '1MB' }),
    "FxDatabase at Data/AuditSize: invalid parameters['pgaudit.log_parameter_max_size'] '1MB'; allowed: a whole number from 0 to 2147483647 (bytes; 0 logs every parameter whole)"],

  // ---- FxDatabase instance classes RDS does not have
  ['an m6g size that does not exist', () => database('M6g10', { instanceType: type('m6g.10xlarge') }),
    "FxDatabase at Data/M6g10: invalid instanceType 'm6g.10xlarge'; allowed: a size the m6g family has: large to 16xlarge (large, xlarge, 2xlarge, 4xlarge, 8xlarge, 12xlarge, 16xlarge; RDS has no metal sizes)"],
  ['an m5 size that does not exist', () => database('M53', { instanceType: type('m5.3xlarge') }),
    "FxDatabase at Data/M53: invalid instanceType 'm5.3xlarge'; allowed: a size the m5 family has: large to 24xlarge (large, xlarge, 2xlarge, 4xlarge, 8xlarge, 12xlarge, 16xlarge, 24xlarge; RDS has no metal sizes)"],
  ['m7i has no 32xlarge', () => database('M7i32', { instanceType: type('m7i.32xlarge') }),
    "FxDatabase at Data/M7i32: invalid instanceType 'm7i.32xlarge'; allowed: a size the m7i family has: large to 48xlarge (large, xlarge, 2xlarge, 4xlarge, 8xlarge, 12xlarge, 16xlarge, 24xlarge, 48xlarge; RDS has no metal sizes)"],
  ['a metal size (EC2 has it, RDS does not)', () => database('M7iMetal', { instanceType: type('m7i.metal-24xl') }),
    "FxDatabase at Data/M7iMetal: invalid instanceType 'm7i.metal-24xl'; allowed: a size the m7i family has: large to 48xlarge"],
  ['x2idn starts at 16xlarge', () => database('X2idnLarge', { instanceType: type('x2idn.large') }),
    "FxDatabase at Data/X2idnLarge: invalid instanceType 'x2idn.large'; allowed: a size the x2idn family has: 16xlarge to 32xlarge (16xlarge, 24xlarge, 32xlarge; RDS has no metal sizes)"],
  ['a replica class that does not exist', () => database('ReplicaClass', { readReplicas: 1, readReplicaInstanceType: type('r6g.10xlarge') }),
    "FxDatabase at Data/ReplicaClass: invalid readReplicaInstanceType 'r6g.10xlarge'; allowed: a size the r6g family has: large to 16xlarge"],

  // ---- FxDatabase: plain objects in place of its classes and enums, restores
  ['a plain object as the instance type', () => database('FakeType', { instanceType: { name: 'm7g.large' } }),
    'FxDatabase at Data/FakeType: invalid instanceType {"name":"m7g.large"}; allowed: an ec2.InstanceType such as new ec2.InstanceType(\'m7g.large\')'],
  ['a plain object as the restore', () => database('FakeRestore', { restore: { type: 'SNAPSHOT', source: 'snap' } }),
    'FxDatabase at Data/FakeRestore: invalid restore {"type":"SNAPSHOT","source":"snap"}; allowed: an FxDatabaseRestore: FxDatabaseRestore.fromSnapshot(), toPointInTime() or toLatestRestorableTime()'],
  ['a plain object as the removal policy', () => database('FakeRemoval', { removalPolicy: { name: 'x' } }),
    'FxDatabase at Data/FakeRemoval: invalid removalPolicy {"name":"x"}; allowed: a RemovalPolicy: destroy, retain, snapshot, retain-on-update-or-delete'],

  // ---- FxCompliance
  ['a rule identifier known only at deploy time', () => compliance('RuleToken', { rules: [FxComplianceRule.of(str(stack))] }),
    "FxCompliance at RuleToken/Compliance: invalid rules[0] '(a deploy-time token)'; allowed: a value known at synth: the identifier chooses the rule, its scope and its parameters, and names its construct"],
  ['a plain object as a rule', () => compliance('FakeRule', { rules: [{ identifier: 'EKS_SECRETS_ENCRYPTED' }] }),
    'FxCompliance at FakeRule/Compliance: invalid rules[0] {"identifier":"EKS_SECRETS_ENCRYPTED"}; allowed: an FxComplianceRule: a constant such as FxComplianceRule.EKS_SECRETS_ENCRYPTED, or FxComplianceRule.of(identifier)'],
  ['a plain object as the recording', () => compliance('FakeRecording', { recording: { _mode: 'all' } }),
    'FxCompliance at FakeRecording/Compliance: invalid recording {"_mode":"all"}; allowed: an FxConfigRecording: FxConfigRecording.EXISTING, PLATFORM_RESOURCES, ALL_SUPPORTED or resourceTypes([...])'],
  ['a recording frequency that is not one', () => compliance('FakeFrequency', { recording: FxConfigRecording.PLATFORM_RESOURCES, recordingFrequency: 'HOURLY' }),
    "FxCompliance at FakeFrequency/Compliance: invalid recordingFrequency 'HOURLY'; allowed: an FxConfigRecordingFrequency: CONTINUOUS, DAILY"],
  ['a plain object as a resource type', () => compliance('FakeType', { recording: FxConfigRecording.resourceTypes([{ name: 'x' } as never]) }),
    "FxCompliance at FakeType/Compliance: invalid recording.resourceTypes[0] (undefined); allowed: a config.ResourceType such as config.ResourceType.EKS_CLUSTER or config.ResourceType.of('AWS::EKS::Addon')"],
  ['a type AWS Config does not record, of a service it does', () => compliance('TypeFoo', recorded('AWS::EC2::FooBar')),
    "FxCompliance at TypeFoo/Compliance: invalid recording.resourceTypes[0] 'AWS::EC2::FooBar'; allowed: a resource type AWS Config records (config.ResourceType): AWS::EC2 has no FooBar"],
  ['a type in the wrong case', () => compliance('TypeCase', recorded('AWS::EC2::instance')),
    "FxCompliance at TypeCase/Compliance: invalid recording.resourceTypes[0] 'AWS::EC2::instance'; allowed: a resource type AWS Config records (config.ResourceType): AWS::EC2 has no instance; did you mean AWS::EC2::Instance?"],
  ['a service in the wrong case', () => compliance('ServiceCase', recorded('AWS::ec2::Instance')),
    "FxCompliance at ServiceCase/Compliance: invalid recording.resourceTypes[0] 'AWS::ec2::Instance'; allowed: an AWS Config resource type AWS::<Service>::<Type> of a service AWS Config records (config.ResourceType); did you mean AWS::EC2::Instance?"],
  ['a misspelt type', () => compliance('TypeTypo', recorded('AWS::EKS::Clustr')),
    "FxCompliance at TypeTypo/Compliance: invalid recording.resourceTypes[0] 'AWS::EKS::Clustr'; allowed: a resource type AWS Config records (config.ResourceType): AWS::EKS has no Clustr; did you mean AWS::EKS::Cluster?"],
  ['a node group (AWS Config does not record them)', () => compliance('TypeNodegroup', recorded('AWS::EKS::Nodegroup')),
    "FxCompliance at TypeNodegroup/Compliance: invalid recording.resourceTypes[0] 'AWS::EKS::Nodegroup'; allowed: a resource type AWS Config records (config.ResourceType): AWS::EKS has no Nodegroup"],
  ['a type given twice', () => compliance('TypeTwice', recorded(config.ResourceType.EC2_INSTANCE, 'AWS::EKS::Cluster', 'AWS::EC2::Instance')),
    "FxCompliance at TypeTwice/Compliance: invalid recording.resourceTypes[2] 'AWS::EC2::Instance'; allowed: each resource type once (it is recording.resourceTypes[0] already)"],
  ['an imported topic of another region', () => compliance('TopicRegion', (s: Stack) => ({ topic: sns.Topic.fromTopicArn(s, 'Topic', 'arn:aws:sns:eu-west-1:123456789012:alarms') })),
    "FxCompliance at TopicRegion/Compliance: invalid topic 'arn:aws:sns:eu-west-1:123456789012:alarms'; allowed: one in this stack's account and region (123456789012/us-east-1): aws-cdk-lib cannot make this stack's EventBridge rule target an imported topic of another account or region; give a topic of this environment"],
  ['an imported topic of another account', () => compliance('TopicAccount', (s: Stack) => ({ topic: sns.Topic.fromTopicArn(s, 'Topic', 'arn:aws:sns:us-east-1:999999999999:alarms') })),
    "FxCompliance at TopicAccount/Compliance: invalid topic 'arn:aws:sns:us-east-1:999999999999:alarms'; allowed: one in this stack's account and region (123456789012/us-east-1):"],
  ['a server access logs bucket of another region', () => compliance('LogsRegion', (s: Stack) => ({
    recording: FxConfigRecording.PLATFORM_RESOURCES, serverAccessLogsBucket: s3.Bucket.fromBucketAttributes(s, 'Logs', { bucketName: 'logs', region: 'eu-west-1' }),
  })), "FxCompliance at LogsRegion/Compliance: invalid serverAccessLogsBucket 'LogsRegion/Logs'; allowed: one in this stack's account and region (123456789012/us-east-1): S3 delivers server access logs only to a bucket of the source bucket's account and region"],
  ['a server access logs bucket of another account', () => compliance('LogsAccount', (s: Stack) => ({
    recording: FxConfigRecording.PLATFORM_RESOURCES, serverAccessLogsBucket: s3.Bucket.fromBucketAttributes(s, 'Logs', { bucketName: 'logs', account: '999999999999' }),
  })), "FxCompliance at LogsAccount/Compliance: invalid serverAccessLogsBucket 'LogsAccount/Logs'; allowed: one in this stack's account and region"],

  // ---- FxGithubDeployRole
  ['an OIDC provider that is not GitHub\'s', () => deployRole('ProviderGitlab', (s: Stack) => ({ oidcProvider: provider(s, 'arn:aws:iam::123456789012:oidc-provider/gitlab.com') })),
    "FxGithubDeployRole at ProviderGitlab/Role: invalid oidcProvider 'arn:aws:iam::123456789012:oidc-provider/gitlab.com'; allowed: GitHub's OIDC provider (issuer token.actions.githubusercontent.com): the trust policy's conditions are keyed by that issuer, and no other provider's tokens carry them"],
  ['GitHub\'s provider with an enterprise issuer', () => deployRole('ProviderEnterprise', (s: Stack) => ({
    oidcProvider: provider(s, 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com/acme'),
  })), "FxGithubDeployRole at ProviderEnterprise/Role: invalid oidcProvider 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com/acme'; allowed: GitHub's OIDC provider"],
  ['GitHub\'s provider of another account', () => deployRole('ProviderAccount', (s: Stack) => ({
    oidcProvider: provider(s, 'arn:aws:iam::999999999999:oidc-provider/token.actions.githubusercontent.com'),
  })), "FxGithubDeployRole at ProviderAccount/Role: invalid oidcProvider 'arn:aws:iam::999999999999:oidc-provider/token.actions.githubusercontent.com'; allowed: a provider of this stack's account (123456789012): a role trusts only OIDC providers of its own account"],
  ['a branch named HEAD', () => deployRole('BranchHead', { branches: ['main', 'HEAD'] }),
    "FxGithubDeployRole at BranchHead/Role: invalid branches[1] 'HEAD'; allowed: a branch name git accepts: not HEAD (git refuses it as a branch name)"],
];

describe('each bad input fails with its own message', () => {
  test.each(CASES)('%s', (_name, run, message) => {
    expect(messageOf(run)).toContain(message);
  });
});

describe('FxDatabase: what passes', () => {
  test('parameter values known at deploy time, legal pgaudit, preload and ssl values', () => {
    params('ParamValueToken', { 'work_mem': str(stack), 'pgaudit.log': str(stack), 'shared_preload_libraries': str(stack), 'ssl': str(stack) });
    params('AuditLegal', {
      'pgaudit.log': 'all, -misc,-MISC_SET',
      'pgaudit.log_level': 'NOTICE',
      'pgaudit.log_catalog': 'off',
      'pgaudit.log_parameter_max_size': '0',
      'pgaudit.role': 'rds_pgaudit',
      'pgaudit.log_statement_once': '1',
    });
    params('AuditNone', { 'pgaudit.log': 'none' });
    params('PreloadLegal', { shared_preload_libraries: 'pg_stat_statements, pgaudit,pg_cron' });
    params('SslOn', { ssl: 'on' });
    params('SslOne', { ssl: '1' });
  });

  test('every size RDS for PostgreSQL offers in each family', () => {
    const legal = ['m6g.large', 'm6g.16xlarge', 'm5.24xlarge', 'm6i.32xlarge', 'm7i.48xlarge', 'm7i.24xlarge', 'r8g.48xlarge', 'x2idn.16xlarge',
      'x2iedn.xlarge', 'x2iedn.32xlarge', 'r6idn.large', 'r5b.8xlarge', 't4g.micro', 't3.2xlarge'];
    const messages = legal.map((name) => messageOf(() => database(`Legal${name.replace(/[.-]/g, '')}`, { instanceType: type(name) })));
    expect(messages).toEqual(legal.map(() => '(no error)'));
  });

  test('a weekly retention of 1 day, not below the daily one; an RDS removal policy; a restore without a name', () => {
    database('Weekly1', { dailyBackupRetention: Duration.days(1), weeklyBackupRetention: Duration.days(1) });
    expect(messageOf(() => database('Weekly0', { dailyBackupRetention: Duration.days(1), weeklyBackupRetention: Duration.hours(12) }))).toBe(
      "FxDatabase at Data/Weekly0: invalid weeklyBackupRetention '12 hours'; allowed: a whole number of days, at least dailyBackupRetention (1 days)");
    database('RemovalRetain', { removalPolicy: RemovalPolicy.RETAIN });
    database('RestoreUnnamed', { restore: FxDatabaseRestore.fromSnapshot('orders-before') });
    // The name of the database inside the snapshot: the secret carries it (nothing is created).
    const named = database('RestoreNamed', { databaseName: 'orders', restore: FxDatabaseRestore.fromSnapshot('orders-before') });
    expect(named.databaseName).toBe('orders');
  });

  test('grantConnectAs takes a role name with $ after the first character', () => {
    const db = database('GrantsDollar');
    const grantee = new iam.Role(stack, 'DollarGrantee', { assumedBy: new iam.AccountRootPrincipal() });
    db.grantConnectAs(grantee, 'orders$1');
    db.grantConnectAs(grantee, '_a$');
    expect(messageOf(() => db.grantConnectAs(grantee, '$orders'))).toBe(
      "FxDatabase at Data/GrantsDollar: invalid databaseUser '$orders'; allowed: a PostgreSQL role name: lowercase letters, digits and _, starting with a letter or _, at most 63 characters, not public or none (no wildcards); $ is allowed after the first character");
  });

  test('a deploy-time parameter value reaches the template', () => {
    const s = ownStack('DbParamSynth');
    const db = new FxDatabase(s, 'Database', { cluster: new FxCluster(s, 'Cluster', {}), parameters: { work_mem: str(s) } });
    const group = db.node.findChild('Parameters').node.defaultChild as rds.CfnDBParameterGroup;
    expect(s.resolve(group.parameters)).toEqual(expect.objectContaining({ work_mem: { Ref: expect.stringMatching(/^S/) } }));
  });
});

describe('FxCompliance: what passes', () => {
  test('resource types AWS Config records, including those aws-cdk-lib has no constant for, and a deploy-time type', () => {
    const types = ['AWS::EKS::Addon', 'AWS::EC2::SubnetCidrBlock', 'AWS::Bedrock::Guardrail', config.ResourceType.S3_BUCKET, str(stack)];
    const own = compliance('TypesLegal', recorded(...types));
    expect(own.recordedResourceTypes).toEqual(expect.arrayContaining(['AWS::EKS::Addon', 'AWS::EC2::SubnetCidrBlock', 'AWS::Bedrock::Guardrail']));
  });

  test('a topic and a logs bucket of this environment, imported or of another stack', () => {
    compliance('TopicHere', (s: Stack) => ({ topic: sns.Topic.fromTopicArn(s, 'Topic', 'arn:aws:sns:us-east-1:123456789012:alarms') }));
    compliance('TopicToken', (s: Stack) => ({ topic: sns.Topic.fromTopicArn(s, 'Topic', str(s)) }));
    const elsewhere = new Stack(app, 'TopicStack', { env: ENV });
    compliance('TopicOwned', { topic: new sns.Topic(elsewhere, 'Topic') });
    // The account's one recorder: in an app of its own.
    const own = ownStack('LogsHere');
    new FxCompliance(own, 'Compliance', {
      cluster: new FxCluster(own, 'Cluster', {}), recording: FxConfigRecording.PLATFORM_RESOURCES, serverAccessLogsBucket: s3.Bucket.fromBucketName(own, 'Logs', 'logs'),
    });
  });

  test('a known rule by identifier', () => {
    compliance('RuleOf', { rules: [FxComplianceRule.of('EKS_SECRETS_ENCRYPTED')] });
  });
});

describe('FxGithubDeployRole: what passes', () => {
  test('GitHub\'s provider of this account, imported or deploy-time; branches that only contain HEAD', () => {
    deployRole('ProviderHere', (s: Stack) => ({ oidcProvider: provider(s, 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com') }));
    deployRole('ProviderToken', (s: Stack) => ({ oidcProvider: provider(s, str(s)) }));
    const elsewhere = new Stack(app, 'ProviderStack', { env: ENV });
    const own = new iam.OidcProviderNative(elsewhere, 'Github', { url: 'https://token.actions.githubusercontent.com', clientIds: ['sts.amazonaws.com'] });
    deployRole('ProviderOwned', { oidcProvider: own });
    deployRole('BranchesLegal', { branches: ['HEADS', 'feature/HEAD', 'head'] });
  });
});

describe('FxObservability', () => {
  test('a deploy-time free-storage threshold is described like every other size token, and passes in bytes', () => {
    const s = new Stack(app, 'ObsFreeStorage', { env: ENV });
    const owner = new FxCluster(s, 'Cluster', {});
    const obs = new FxObservability(s, 'Observability', { cluster: owner });
    const db = new FxDatabase(s, 'Database', { cluster: owner });
    const token = new CfnParameter(s, 'FreeStorage', { type: 'Number' }).valueAsNumber;
    expect(messageOf(() => obs.watchDatabase(db.instance, { freeStorage: Size.gibibytes(token) }))).toBe(
      "FxObservability at ObsFreeStorage/Observability: invalid watchDatabase.freeStorage 'Size.gibibytes(<token>)'; allowed: a deploy-time value only as Size.bytes(<token>) (a token in another unit cannot be converted at synth)");
    obs.watchDatabase(db.instance, { freeStorage: Size.bytes(token) });
  });

  test('a profile volume the message names the profile of', () => {
    const s = new Stack(app, 'ObsProfileVolume', { env: ENV });
    const owner = new FxCluster(s, 'Cluster', { profile: FxProfile.custom(FxProfile.DEVELOPMENT, 'lab', { prometheusStorage: Size.mebibytes(1536) }) });
    expect(messageOf(() => new FxObservability(s, 'Observability', { cluster: owner }))).toBe(
      "FxObservability at ObsProfileVolume/Observability: invalid prometheusStorage (from profile lab) '1536 MiB'; allowed: whole GiB from 1 to 16384 (gp3 volume sizes)");
  });
});
