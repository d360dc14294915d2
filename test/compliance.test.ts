import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as config from 'aws-cdk-lib/aws-config';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import {
  FxCluster, FxCompliance, FxComplianceProps, FxComplianceRule, FxConfigRecording, FxConfigRecordingFrequency,
  FxDatabase, FxProfile, FxVersions,
} from '../src';
import { ENV, testApp } from './util/fixtures';

interface Scenario {
  readonly stack: Stack;
  readonly compliance: FxCompliance;
  readonly template: Template;
  readonly resources: Record<string, any>;
}

const CONFIG_RULE = 'AWS::Config::ConfigRule';
const RECORDER = 'AWS::Config::ConfigurationRecorder';
const CHANNEL = 'AWS::Config::DeliveryChannel';

// The platform defaults with a database in production, in order (public endpoint: no endpoint rule).
const PRODUCTION_DEFAULTS = [
  'EKS_SECRETS_ENCRYPTED', 'EKS_CLUSTER_LOG_ENABLED', 'EKS_CLUSTER_SUPPORTED_VERSION',
  'RDS_STORAGE_ENCRYPTED', 'RDS_MULTI_AZ_SUPPORT', 'DB_INSTANCE_BACKUP_ENABLED', 'RDS_SNAPSHOTS_PUBLIC_PROHIBITED',
  'RDS_INSTANCE_DELETION_PROTECTION_ENABLED',
  'ENCRYPTED_VOLUMES', 'S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED', 'S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED',
  'CLOUDWATCH_LOG_GROUP_ENCRYPTED', 'IAM_POLICY_NO_STATEMENTS_WITH_ADMIN_ACCESS', 'VPC_FLOW_LOGS_ENABLED',
];

// Source identifier -> the scope each rule must carry (undefined: periodic, AWS Config rejects a scope).
const EXPECTED_SCOPES: Record<string, string[] | undefined> = {
  EKS_ENDPOINT_NO_PUBLIC_ACCESS: undefined,
  EKS_SECRETS_ENCRYPTED: undefined,
  EKS_CLUSTER_LOG_ENABLED: ['AWS::EKS::Cluster'],
  EKS_CLUSTER_SUPPORTED_VERSION: ['AWS::EKS::Cluster'],
  RDS_STORAGE_ENCRYPTED: ['AWS::RDS::DBInstance'],
  RDS_MULTI_AZ_SUPPORT: ['AWS::RDS::DBInstance'],
  DB_INSTANCE_BACKUP_ENABLED: ['AWS::RDS::DBInstance'],
  RDS_SNAPSHOTS_PUBLIC_PROHIBITED: ['AWS::RDS::DBSnapshot', 'AWS::RDS::DBClusterSnapshot'],
  RDS_INSTANCE_DELETION_PROTECTION_ENABLED: ['AWS::RDS::DBInstance'],
  ENCRYPTED_VOLUMES: ['AWS::EC2::Volume'],
  S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED: ['AWS::S3::Bucket'],
  S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED: ['AWS::S3::Bucket'],
  CLOUDWATCH_LOG_GROUP_ENCRYPTED: undefined,
  IAM_POLICY_NO_STATEMENTS_WITH_ADMIN_ACCESS: ['AWS::IAM::Policy'],
  VPC_FLOW_LOGS_ENABLED: undefined,
  EC2_EBS_ENCRYPTION_BY_DEFAULT: undefined,
  RDS_SNAPSHOT_ENCRYPTED: ['AWS::RDS::DBSnapshot', 'AWS::RDS::DBClusterSnapshot'],
};

let outdir: string;
let metadata: string;
let prod: Scenario;
let existing: Scenario;
let privateCluster: Scenario;
let devCluster: FxCluster;
let topicKeyId: string;
let topicId: string;

function scenario(stack: Stack, compliance: FxCompliance): Scenario {
  const template = Template.fromStack(stack);
  return { stack, compliance, template, resources: template.toJSON().Resources };
}

function rulesById(s: Scenario): Record<string, any> {
  return Object.fromEntries(Object.values(s.template.findResources(CONFIG_RULE))
    .map((r: any) => [r.Properties.Source.SourceIdentifier, r]));
}

/** What is acknowledged on the construct itself (not on its children), as recorded in its metadata. */
function acknowledged(construct: IConstruct): string {
  return JSON.stringify(construct.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((m) => m.data));
}

function onlyId(s: Scenario, type: string, prefix = ''): string {
  const ids = Object.keys(s.template.findResources(type)).filter((id) => id.startsWith(prefix));
  expect(ids).toHaveLength(1);
  return ids[0];
}

beforeAll(() => {
  // Production platform in one stack with the AwsSolutions pack registered: the same synth proves
  // the template and the cdk-nag gate (synth throws on any unacknowledged error).
  outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-compliance-'));
  {
    const app = testApp(outdir);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const stack = new Stack(app, 'Platform', { env: ENV });
    const cluster = new FxCluster(stack, 'Cluster', { profile: FxProfile.PRODUCTION, platformName: 'fx-prod' });
    const database = new FxDatabase(stack, 'Database', { cluster, databaseName: 'orders' });
    // Stands in for FxObservability's alarmTopic: an SNS topic encrypted with a customer key.
    const key = new kms.Key(stack, 'AlarmTopicKey', { enableKeyRotation: true });
    const topic = new sns.Topic(stack, 'AlarmTopic', { masterKey: key, enforceSSL: true });
    const compliance = new FxCompliance(stack, 'Compliance', { cluster, database, topic, recording: FxConfigRecording.PLATFORM_RESOURCES });
    app.synth();
    metadata = fs.readFileSync(path.join(outdir, 'Platform.metadata.json'), 'utf8');
    prod = scenario(stack, compliance);
    topicKeyId = stack.getLogicalId(key.node.defaultChild as kms.CfnKey);
    topicId = stack.getLogicalId(topic.node.defaultChild as sns.CfnTopic);
  }
  // The other scenarios only read the cluster object, so each compliance stack is synthesized on its own.
  devCluster = new FxCluster(new Stack(testApp(), 'DevCluster', { env: ENV }), 'Cluster', { platformName: 'fx-dev' });
  const privateApp = testApp();
  const privateFx = new FxCluster(new Stack(privateApp, 'PrivateCluster', { env: ENV }), 'Cluster', {
    platformName: 'fx-private', privateEndpointOnly: true,
  });
  {
    const stack = new Stack(testApp(), 'Existing', { env: ENV });
    // No recording prop: the default must leave the account's recorder alone (one per account and region).
    existing = scenario(stack, new FxCompliance(stack, 'Compliance', { cluster: devCluster }));
  }
  {
    const stack = new Stack(testApp(), 'Private', { env: ENV });
    privateCluster = scenario(stack, new FxCompliance(stack, 'Compliance', {
      cluster: privateFx,
      recording: FxConfigRecording.ALL_SUPPORTED,
      deliveryTransitionAfter: Duration.days(30),
      deliveryExpiration: Duration.days(2555),
    }));
  }
});

afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

describe('recorder', () => {
  test('records the platform resource types and every type a scoped rule evaluates, continuously in production', () => {
    const props = prod.resources[onlyId(prod, RECORDER)].Properties;
    expect(props.RecordingGroup).toEqual({
      AllSupported: false,
      IncludeGlobalResourceTypes: false,
      RecordingStrategy: { UseOnly: 'INCLUSION_BY_RESOURCE_TYPES' },
      ResourceTypes: expect.arrayContaining([
        'AWS::EKS::Cluster', 'AWS::RDS::DBInstance', 'AWS::RDS::DBSnapshot', 'AWS::RDS::DBClusterSnapshot', 'AWS::EC2::Volume',
        'AWS::S3::Bucket', 'AWS::IAM::Policy', 'AWS::EC2::VPC', 'AWS::KMS::Key', 'AWS::SecretsManager::Secret',
      ]),
    });
    const types: string[] = props.RecordingGroup.ResourceTypes;
    expect(new Set(types).size).toBe(types.length);
    for (const scope of Object.values(EXPECTED_SCOPES)) for (const type of scope ?? []) expect(types).toContain(type);
    expect(props.RecordingMode).toEqual({ RecordingFrequency: 'CONTINUOUS' });
    expect(prod.compliance.recordedResourceTypes).toEqual(types);
  });

  test('records with a role AWS Config alone can assume, carrying AWS_ConfigRole', () => {
    const recorder = prod.resources[onlyId(prod, RECORDER)].Properties;
    const roleId = recorder.RoleARN['Fn::GetAtt'][0];
    expect(roleId).toMatch(/^ComplianceRecorderRole/);
    const role = prod.resources[roleId].Properties;
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([{
      Action: 'sts:AssumeRole',
      Effect: 'Allow',
      Principal: { Service: 'config.amazonaws.com' },
      Condition: { StringEquals: { 'aws:SourceAccount': ENV.account } },
    }]);
    expect(JSON.stringify(role.ManagedPolicyArns)).toContain(':iam::aws:policy/service-role/AWS_ConfigRole');
    // No identity policy: its only write access is the delivery bucket policy.
    expect(Object.values(prod.template.findResources('AWS::IAM::Policy'))
      .filter((p: any) => JSON.stringify(p.Properties.Roles).includes(roleId))).toHaveLength(0);
  });

  test('records every supported type, global types included, daily outside production', () => {
    const props = privateCluster.resources[onlyId(privateCluster, RECORDER)].Properties;
    expect(props.RecordingGroup).toEqual({ AllSupported: true, IncludeGlobalResourceTypes: true });
    expect(props.RecordingMode).toEqual({ RecordingFrequency: 'DAILY' });
    expect(privateCluster.compliance.recordedResourceTypes).toEqual([]);
  });

  test('records only the given types plus the rules\' types with FxConfigRecording.resourceTypes()', () => {
    const stack = new Stack(testApp(), 'Custom', { env: ENV });
    new FxCompliance(stack, 'Compliance', {
      cluster: devCluster,
      recording: FxConfigRecording.resourceTypes([config.ResourceType.LAMBDA_FUNCTION]),
      rules: [FxComplianceRule.EKS_CLUSTER_LOG_ENABLED, FxComplianceRule.VPC_FLOW_LOGS_ENABLED],
      recordingFrequency: FxConfigRecordingFrequency.CONTINUOUS,
    });
    Template.fromStack(stack).hasResourceProperties(RECORDER, {
      RecordingGroup: Match.objectLike({ ResourceTypes: ['AWS::Lambda::Function', 'AWS::EKS::Cluster'] }),
      RecordingMode: { RecordingFrequency: 'CONTINUOUS' },
    });
  });

  test('by default the existing recorder is used: no recorder, delivery channel, bucket or role, and the rules stay', () => {
    for (const type of [RECORDER, CHANNEL, 'AWS::S3::Bucket', 'AWS::IAM::Role']) existing.template.resourceCountIs(type, 0);
    expect(existing.compliance.recorder).toBeUndefined();
    expect(existing.compliance.deliveryBucket).toBeUndefined();
    const rules = Object.values(existing.template.findResources(CONFIG_RULE));
    expect(Object.keys(rulesById(existing))).toEqual(PRODUCTION_DEFAULTS.filter((id) => !id.startsWith('RDS') && !id.startsWith('DB_')));
    for (const rule of rules as any[]) expect(rule.DependsOn).toBeUndefined();
  });
});

describe('delivery', () => {
  test('the delivery channel writes daily snapshots to the delivery bucket, created after the recorder', () => {
    const channelId = onlyId(prod, CHANNEL);
    const channel = prod.resources[channelId];
    expect(channel.Properties).toEqual({
      S3BucketName: { Ref: onlyId(prod, 'AWS::S3::Bucket', 'ComplianceDeliveryBucket') },
      ConfigSnapshotDeliveryProperties: { DeliveryFrequency: 'TwentyFour_Hours' },
    });
    expect(channel.DependsOn).toContain(onlyId(prod, RECORDER));
  });

  test('the bucket is encrypted, versioned, private, TLS-only and retained, moving history to Standard-IA after 90 days', () => {
    const bucketId = onlyId(prod, 'AWS::S3::Bucket', 'ComplianceDeliveryBucket');
    const bucket = prod.resources[bucketId];
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.UpdateReplacePolicy).toBe('Retain');
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
    expect(bucket.Properties.LifecycleConfiguration.Rules).toEqual([{
      Id: 'ConfigHistory',
      Status: 'Enabled',
      Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 90 }],
      NoncurrentVersionTransitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 90 }],
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
    }]);
    // The recorder waits for the bucket and its policy (AWS Config checks write access on creation).
    expect(prod.resources[onlyId(prod, RECORDER)].DependsOn).toEqual(expect.arrayContaining([bucketId, `${bucketId.replace(/[0-9A-F]{8}$/, '')}Policy${''}`.slice(0, 0) || expect.stringMatching(/DeliveryBucketPolicy/)]));
  });

  test('the bucket policy denies plain HTTP and old TLS, and lets only the recorder role deliver to its prefix', () => {
    const bucketId = onlyId(prod, 'AWS::S3::Bucket', 'ComplianceDeliveryBucket');
    const roleArn = prod.resources[onlyId(prod, RECORDER)].Properties.RoleARN;
    const statements: any[] = Object.values(prod.template.findResources('AWS::S3::BucketPolicy'))
      .filter((p: any) => p.Properties.Bucket.Ref === bucketId)
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    expect(statements).toEqual(expect.arrayContaining([
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      expect.objectContaining({ Effect: 'Deny', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
      { Sid: 'ConfigBucketChecks', Effect: 'Allow', Principal: { AWS: roleArn }, Action: ['s3:GetBucketAcl', 's3:ListBucket'], Resource: { 'Fn::GetAtt': [bucketId, 'Arn'] } },
      {
        Sid: 'ConfigDelivery',
        Effect: 'Allow',
        Principal: { AWS: roleArn },
        Action: 's3:PutObject',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, `/AWSLogs/${ENV.account}/Config/*`]] },
        Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' } },
      },
    ]));
  });

  test('the delivery bucket keeps its logical id (renaming it would orphan the configuration history)', () => {
    expect(onlyId(prod, 'AWS::S3::Bucket', 'ComplianceDeliveryBucket')).toBe('ComplianceDeliveryBucket0110042B');
  });

  test('lifecycle transition and expiration follow the props', () => {
    const bucket = Object.values(privateCluster.template.findResources('AWS::S3::Bucket'))[0] as any;
    expect(bucket.Properties.LifecycleConfiguration.Rules[0]).toMatchObject({
      Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 30 }],
      ExpirationInDays: 2555,
    });
  });
});

describe('rules', () => {
  test('production with a database and a public endpoint gets every platform rule but the endpoint rule', () => {
    expect(prod.compliance.selectedRules.map((r) => r.identifier)).toEqual(PRODUCTION_DEFAULTS);
    expect(Object.keys(rulesById(prod)).sort()).toEqual([...PRODUCTION_DEFAULTS].sort());
  });

  test('each rule is the AWS managed rule with its identifier, scoped to its resource types unless periodic', () => {
    for (const s of [prod, existing, privateCluster]) {
      for (const [identifier, rule] of Object.entries(rulesById(s))) {
        expect(rule.Properties.Source).toEqual({ Owner: 'AWS', SourceIdentifier: identifier });
        const scope = EXPECTED_SCOPES[identifier];
        if (scope) {
          expect(rule.Properties.Scope).toEqual({ ComplianceResourceTypes: scope });
          expect(rule.Properties.MaximumExecutionFrequency).toBeUndefined();
        } else {
          expect(rule.Properties.Scope).toBeUndefined();
          expect(rule.Properties.MaximumExecutionFrequency).toBe('TwentyFour_Hours');
        }
      }
    }
  });

  test('every rule waits for the recorder (AWS Config refuses rules without one)', () => {
    const recorderId = onlyId(prod, RECORDER);
    for (const rule of Object.values(rulesById(prod))) expect(rule.DependsOn).toContain(recorderId);
  });

  test('EKS rules check all five control-plane log types and the oldest supported Kubernetes minor', () => {
    const rules = rulesById(prod);
    expect(rules.EKS_CLUSTER_LOG_ENABLED.Properties.InputParameters).toEqual({ logTypes: 'api,audit,authenticator,controllerManager,scheduler' });
    expect(rules.EKS_CLUSTER_SUPPORTED_VERSION.Properties.InputParameters)
      .toEqual({ oldestVersionSupported: FxVersions.SUPPORTED_KUBERNETES_VERSIONS[0] });
  });

  test('the endpoint rule is added for a private cluster; no database means no RDS rule; Multi-AZ only for a Multi-AZ database', () => {
    const ids = Object.keys(rulesById(privateCluster));
    expect(ids).toContain('EKS_ENDPOINT_NO_PUBLIC_ACCESS');
    expect(ids.filter((id) => id.startsWith('RDS') || id.startsWith('DB_'))).toEqual([]);
    const devWithDb = FxCompliance.defaultRules(devCluster, {} as FxDatabase).map((r) => r.identifier);
    expect(devWithDb).toContain('RDS_STORAGE_ENCRYPTED');
    expect(devWithDb).not.toContain('RDS_MULTI_AZ_SUPPORT');
  });

  test('FxComplianceRule.of returns the constant for a known identifier', () => {
    expect(FxComplianceRule.of('RDS_STORAGE_ENCRYPTED')).toBe(FxComplianceRule.RDS_STORAGE_ENCRYPTED);
    expect(FxComplianceRule.of('DB_INSTANCE_BACKUP_ENABLED')).toBe(FxComplianceRule.RDS_DB_INSTANCE_BACKUP_ENABLED);
    expect(FxComplianceRule.of('EKS_NOT_A_RULE').isKnown).toBe(false);
  });

  test('every known identifier is an aws-cdk-lib managed rule identifier or a documented AWS managed rule', () => {
    const cdkIdentifiers = new Set(Object.values(config.ManagedRuleIdentifiers));
    const documentedOnly = ['EKS_CLUSTER_LOG_ENABLED']; // docs.aws.amazon.com/config/latest/developerguide/eks-cluster-log-enabled.html
    for (const rule of FxComplianceRule.known()) {
      expect(cdkIdentifiers.has(rule.identifier) || documentedOnly.includes(rule.identifier)).toBe(true);
    }
    expect(Object.keys(EXPECTED_SCOPES).sort()).toEqual(FxComplianceRule.known().map((r) => r.identifier).sort());
    for (const rule of FxComplianceRule.known()) {
      expect(rule.resourceTypes.map((t) => t.complianceResourceType)).toEqual(EXPECTED_SCOPES[rule.identifier] ?? []);
      expect(rule.periodic).toBe(EXPECTED_SCOPES[rule.identifier] === undefined);
    }
  });
});

describe('notifications', () => {
  test('NON_COMPLIANT changes of our rules go to the topic with a readable message', () => {
    const rule = Object.values(prod.template.findResources('AWS::Events::Rule'))
      .find((r: any) => r.Properties.EventPattern?.source?.[0] === 'aws.config') as any;
    const ruleIds = Object.keys(prod.template.findResources(CONFIG_RULE));
    expect(rule.Properties.EventPattern).toEqual({
      'source': ['aws.config'],
      'detail-type': ['Config Rules Compliance Change'],
      'detail': {
        messageType: ['ComplianceChangeNotification'],
        configRuleName: expect.arrayContaining(ruleIds.map((id) => ({ Ref: id }))),
        newEvaluationResult: { complianceType: ['NON_COMPLIANT'] },
      },
    });
    expect(rule.Properties.EventPattern.detail.configRuleName).toHaveLength(ruleIds.length);
    expect(rule.Properties.State).toBe('ENABLED');
    expect(rule.Properties.Targets).toEqual([expect.objectContaining({
      Arn: { Ref: topicId },
      InputTransformer: expect.objectContaining({
        InputPathsMap: expect.objectContaining({ 'detail-configRuleName': '$.detail.configRuleName', 'detail-resourceId': '$.detail.resourceId' }),
        InputTemplate: expect.stringContaining('NON_COMPLIANT'),
      }),
    })]);
  });

  test('EventBridge publishes with a role of this account\'s rules: no service principal in the topic or key policy', () => {
    const rule = Object.values(prod.template.findResources('AWS::Events::Rule'))[0];
    const roleRef = rule.Properties.Targets[0].RoleArn;
    expect(roleRef).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^ComplianceNotificationRole[0-9A-F]{8}$/), 'Arn'] });
    expect(prod.compliance.notificationRole).toBeDefined();
    const role = prod.resources[roleRef['Fn::GetAtt'][0]];
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([{
      Action: 'sts:AssumeRole',
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Condition: {
        StringEquals: { 'aws:SourceAccount': '123456789012' },
        ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:us-east-1:123456789012:rule/*']] } },
      },
    }]);
    const policy = Object.values(prod.template.findResources('AWS::IAM::Policy'))
      .find((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleRef['Fn::GetAtt'][0] }]))!;
    expect(policy.Properties.PolicyDocument.Statement).toEqual(expect.arrayContaining([
      expect.objectContaining({ Action: 'sns:Publish', Resource: { Ref: topicId } }),
      expect.objectContaining({ Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Resource: { 'Fn::GetAtt': [topicKeyId, 'Arn'] } }),
    ]));
    const services = JSON.stringify([
      ...Object.values(prod.template.findResources('AWS::SNS::TopicPolicy')).map((p) => p.Properties.PolicyDocument),
      prod.resources[topicKeyId].Properties.KeyPolicy,
    ]);
    expect(services).not.toContain('events.amazonaws.com');
  });

  test('without a topic there is no notification rule', () => {
    existing.template.resourceCountIs('AWS::Events::Rule', 0);
    expect(existing.compliance.notificationRule).toBeUndefined();
    expect(existing.compliance.notificationRole).toBeUndefined();
  });
});

describe('cdk-nag', () => {
  test('AwsSolutions passes for the platform with FxCompliance (app.synth() throws on any unacknowledged error)', () => {
    expect(fs.existsSync(path.join(outdir, 'Platform.template.json'))).toBe(true);
    expect(metadata).toContain('AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWS_ConfigRole]');
    expect(metadata).toContain('AWS_ConfigRole is the AWS-documented policy for a recorder');
    expect(metadata).toContain('AWS Config delivery bucket: only the recorder role writes it');
  });

  test('the S3 server access log acknowledgement is dropped when a log bucket is given', () => {
    const stack = new Stack(testApp(), 'Logged', { env: ENV });
    const logs = new s3.Bucket(stack, 'AccessLogs');
    const compliance = new FxCompliance(stack, 'Compliance', { cluster: devCluster, recording: FxConfigRecording.PLATFORM_RESOURCES, serverAccessLogsBucket: logs });
    Template.fromStack(stack).hasResourceProperties('AWS::S3::Bucket', {
      LoggingConfiguration: { DestinationBucketName: { Ref: stack.getLogicalId(logs.node.defaultChild as s3.CfnBucket) }, LogFilePrefix: 'config-delivery/' },
    });
    expect(acknowledged(prod.compliance.deliveryBucket!)).toContain('AwsSolutions-S1');
    expect(acknowledged(compliance.deliveryBucket!)).not.toContain('AwsSolutions-S1');
  });
});

describe('bad input', () => {
  let n = 0;
  const attempt = (props: Partial<FxComplianceProps>) => () => {
    const stack = new Stack(testApp(), `Bad${++n}`, { env: ENV });
    return new FxCompliance(stack, 'Compliance', { cluster: devCluster, ...props });
  };

  test('fails when the rule list names a managed rule we do not know', () => {
    expect(attempt({ rules: [FxComplianceRule.EKS_SECRETS_ENCRYPTED, FxComplianceRule.VPC_FLOW_LOGS_ENABLED, FxComplianceRule.of('EKS_NOT_A_RULE')] }))
      .toThrow(/FxCompliance(?: at [^:]+)?: invalid rules\[2\] 'EKS_NOT_A_RULE'; allowed: EKS_ENDPOINT_NO_PUBLIC_ACCESS, EKS_SECRETS_ENCRYPTED, .*RDS_SNAPSHOT_ENCRYPTED$/);
  });
  test('fails when a rule is listed twice', () => {
    expect(attempt({ rules: [FxComplianceRule.EKS_SECRETS_ENCRYPTED, FxComplianceRule.of('EKS_SECRETS_ENCRYPTED')] }))
      .toThrow(/FxCompliance(?: at [^:]+)?: invalid rules\[1\] 'EKS_SECRETS_ENCRYPTED'; allowed: each rule once/);
  });
  test('fails when the endpoint rule is asked for a cluster with a public endpoint', () => {
    expect(attempt({ rules: [FxComplianceRule.EKS_ENDPOINT_NO_PUBLIC_ACCESS] }))
      .toThrow(/FxCompliance(?: at [^:]+)?: invalid rules\[0\] 'EKS_ENDPOINT_NO_PUBLIC_ACCESS'; allowed: only for a cluster created with privateEndpointOnly/);
  });
  test('fails when the rule list is empty', () => {
    expect(attempt({ rules: [] })).toThrow(/FxCompliance(?: at [^:]+)?: invalid rules \[\]; allowed: at least one rule/);
  });
  test('fails when the delivery bucket lifecycle is shorter than the Standard-IA minimum', () => {
    expect(attempt({ recording: FxConfigRecording.PLATFORM_RESOURCES, deliveryTransitionAfter: Duration.days(7) }))
      .toThrow(/FxCompliance(?: at [^:]+)?: invalid deliveryTransitionAfter '7 days'; allowed: whole days, at least 30 \(S3 keeps objects 30 days in STANDARD before STANDARD_IA\)/);
  });
  test('fails when the lifecycle transition is not a whole number of days', () => {
    expect(attempt({ recording: FxConfigRecording.PLATFORM_RESOURCES, deliveryTransitionAfter: Duration.hours(900) })).toThrow(/invalid deliveryTransitionAfter '37 days 12 hours'; allowed: whole days/);
  });
  test('fails when history would expire before it moves to Standard-IA', () => {
    const recording = FxConfigRecording.PLATFORM_RESOURCES;
    expect(attempt({ recording, deliveryTransitionAfter: Duration.days(60), deliveryExpiration: Duration.days(45) }))
      .toThrow(/FxCompliance(?: at [^:]+)?: invalid deliveryExpiration '45 days'; allowed: whole days, more than deliveryTransitionAfter \(60 days\)/);
  });
  test('fails when notifications are asked for without a topic', () => {
    expect(attempt({ notifyNonCompliance: true }))
      .toThrow(/FxCompliance(?: at [^:]+)?: invalid notifyNonCompliance true; allowed: false unless a topic is given/);
  });
  test('fails when the oldest supported Kubernetes version is not a minor', () => {
    expect(attempt({ oldestSupportedKubernetesVersion: 'v1.33.2' })).toThrow(/FxCompliance(?: at [^:]+)?: invalid oldestSupportedKubernetesVersion 'v1.33.2'/);
  });
  test('fails when delivery settings are given for an existing recorder', () => {
    expect(attempt({ recording: FxConfigRecording.EXISTING, deliveryTransitionAfter: Duration.days(60) }))
      .toThrow(/FxCompliance(?: at [^:]+)?: invalid deliveryTransitionAfter '60 days'; allowed: unset with FxConfigRecording.EXISTING/);
    expect(attempt({ recording: FxConfigRecording.EXISTING, recordingFrequency: FxConfigRecordingFrequency.DAILY }))
      .toThrow(/FxCompliance(?: at [^:]+)?: invalid recordingFrequency 'DAILY'/);
    // the default is the existing recorder: recorder settings without an explicit recording are refused too
    expect(attempt({ recordingFrequency: FxConfigRecordingFrequency.DAILY })).toThrow(/FxCompliance(?: at [^:]+)?: invalid recordingFrequency 'DAILY'; allowed: unset with FxConfigRecording.EXISTING/);
  });
  test('fails when a custom recording names no resource type', () => {
    expect(attempt({ recording: FxConfigRecording.resourceTypes([]) })).toThrow(/FxCompliance(?: at [^:]+)?: invalid recording .*; allowed: at least one resource type/);
  });
});
