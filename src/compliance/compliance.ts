import { Duration, RemovalPolicy, Resource, ResourceEnvironment, Stack, Token } from 'aws-cdk-lib';
import * as config from 'aws-cdk-lib/aws-config';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { CONFIG_RESOURCE_TYPES } from './config-resource-types';
import { acknowledgeComplianceFindings, acknowledgeNotificationRole } from './nag';
import { FxConfigRecording, FxConfigRecordingFrequency } from './recording';
import { FxComplianceRule } from './rules';
import type { IFxCluster } from '../cluster/contract';
import { claimAccountSingleton, checkSameEnvironment } from '../core/environment';
import { check, checkDurationToken, checkKnownAtSynth, editDistance, FxValidationError, trackConstruct } from '../core/errors';
import { tagPlatform } from '../core/tags';
import { FxVersions } from '../core/versions';
import { FxDatabase } from '../database/database';

const WHO = 'FxCompliance';
/** S3 keeps an object in STANDARD for at least 30 days before a lifecycle rule may move it to STANDARD_IA. */
const MIN_IA_TRANSITION_DAYS = 30;
const KUBERNETES_MINOR = /^1\.\d{2}$/;
/** The control-plane log types FxCluster enables, in the spelling eks-cluster-log-enabled expects. */
const CONTROL_PLANE_LOG_TYPES = 'api,audit,authenticator,controllerManager,scheduler';

/**
 * Resource types of an Fx platform: what FxCluster, FxDatabase, FxObservability and
 * FxMicroservice create. Global IAM types are included because a platform change to a role or
 * policy is as relevant as one to a bucket.
 */
const PLATFORM_RESOURCE_TYPES: config.ResourceType[] = [
  config.ResourceType.EKS_CLUSTER,
  config.ResourceType.EKS_ADDON,
  config.ResourceType.RDS_DB_INSTANCE,
  config.ResourceType.RDS_DB_SNAPSHOT,
  config.ResourceType.RDS_DB_CLUSTER_SNAPSHOT,
  config.ResourceType.RDS_DB_SUBNET_GROUP,
  config.ResourceType.EBS_VOLUME,
  config.ResourceType.EC2_VPC,
  config.ResourceType.EC2_SUBNET,
  config.ResourceType.EC2_SECURITY_GROUP,
  config.ResourceType.EC2_NAT_GATEWAY,
  config.ResourceType.EC2_FLOW_LOG,
  config.ResourceType.S3_BUCKET,
  config.ResourceType.S3_ACCOUNT_PUBLIC_ACCESS_BLOCK,
  config.ResourceType.IAM_ROLE,
  config.ResourceType.IAM_POLICY,
  config.ResourceType.KMS_KEY,
  config.ResourceType.SECRETS_MANAGER_SECRET,
  config.ResourceType.ELBV2_LOAD_BALANCER,
  config.ResourceType.ECR_REPOSITORY,
  config.ResourceType.EFS_FILE_SYSTEM,
  config.ResourceType.SNS_TOPIC,
  config.ResourceType.BACKUP_BACKUP_VAULT,
];

/** Properties of an FxCompliance. */
export interface FxComplianceProps {
  /** The platform's cluster: its name, profile, endpoint access and Kubernetes version shape the rules. */
  readonly cluster: IFxCluster;

  /**
   * The platform's database. With one, the RDS rules are part of the defaults.
   * @default - no RDS rules unless listed in `rules`
   */
  readonly database?: FxDatabase;

  /**
   * The AWS Config managed rules to deploy.
   * @default - `FxCompliance.defaultRules(cluster, database)`: every rule the platform promises
   */
  readonly rules?: FxComplianceRule[];

  /**
   * Whether FxCompliance creates the account's AWS Config recorder (with its delivery channel and
   * bucket) and what it records. An account has at most one recorder and one delivery channel per
   * region, and accounts under AWS Control Tower, Security Hub or an organization-wide Config setup
   * already have them: creating another fails the deploy. So the default uses the existing recorder
   * (rules and notifications only); pass `FxConfigRecording.PLATFORM_RESOURCES`,
   * `FxConfigRecording.ALL_SUPPORTED` or `FxConfigRecording.resourceTypes()` to create one in an
   * account that has none.
   * @default FxConfigRecording.EXISTING
   */
  readonly recording?: FxConfigRecording;

  /**
   * How often the recorder records changes.
   * @default - CONTINUOUS when the profile's `continuousConfigRecording` is set (production), DAILY otherwise
   */
  readonly recordingFrequency?: FxConfigRecordingFrequency;

  /**
   * Age at which delivered configuration history moves to S3 Standard-IA (at least 30 days, whole days).
   * @default Duration.days(90)
   */
  readonly deliveryTransitionAfter?: Duration;

  /**
   * Age at which delivered configuration history is deleted (after `deliveryTransitionAfter`).
   * @default - never: configuration history is kept for audits
   */
  readonly deliveryExpiration?: Duration;

  /**
   * Bucket receiving S3 server access logs of the delivery bucket, in this stack's account and region
   * (S3 delivers access logs there only).
   * @default - no server access logs (reads are audited through CloudTrail)
   */
  readonly serverAccessLogsBucket?: s3.IBucket;

  /**
   * SNS topic notified when a rule finds a resource NON_COMPLIANT: typically FxObservability's
   * `alarmTopic`. A KMS-encrypted topic's key is granted to EventBridge when it is a key of this app.
   * An imported topic must be of this stack's account and region.
   * @default - no notifications
   */
  readonly topic?: sns.ITopic;

  /**
   * Whether NON_COMPLIANT evaluations are published to `topic`.
   * @default - true when `topic` is given
   */
  readonly notifyNonCompliance?: boolean;

  /**
   * The oldest Kubernetes minor EKS_CLUSTER_SUPPORTED_VERSION accepts (e.g. `1.33`).
   * @default - the oldest minor in `FxVersions.SUPPORTED_KUBERNETES_VERSIONS`
   */
  readonly oldestSupportedKubernetesVersion?: string;
}

/**
 * Continuous compliance for an Fx platform: AWS Config managed rules for every security promise the
 * platform makes (EKS, RDS, EBS, S3, CloudWatch Logs, IAM, VPC flow logs), NON_COMPLIANT evaluations
 * sent to an SNS topic and, when `recording` asks for it, the account's AWS Config recorder with its
 * delivery channel and bucket (by default the account's existing recorder is used).
 *
 * cdk-nag proves the templates at synth time; FxCompliance keeps proving the deployed account
 * after day one, when consoles, scripts and other stacks make changes the templates never see.
 */
export class FxCompliance extends Construct {
  /**
   * The rules the platform promises for this cluster and database: the EKS, EBS, S3, CloudWatch
   * Logs, IAM and VPC rules; the endpoint rule when the cluster endpoint is private; the RDS rules
   * when a database is given, Multi-AZ only when that database runs Multi-AZ.
   *
   * @param cluster the platform's cluster
   * @param database the platform's database, if any
   */
  public static defaultRules(cluster: IFxCluster, database?: FxDatabase): FxComplianceRule[] {
    const R = FxComplianceRule;
    const rules: FxComplianceRule[] = [];
    if (endpointIsPrivate(cluster)) rules.push(R.EKS_ENDPOINT_NO_PUBLIC_ACCESS);
    rules.push(R.EKS_SECRETS_ENCRYPTED, R.EKS_CLUSTER_LOG_ENABLED, R.EKS_CLUSTER_SUPPORTED_VERSION);
    if (database) {
      rules.push(R.RDS_STORAGE_ENCRYPTED);
      if (runsMultiAz(database)) rules.push(R.RDS_MULTI_AZ_SUPPORT);
      rules.push(R.RDS_DB_INSTANCE_BACKUP_ENABLED, R.RDS_SNAPSHOTS_PUBLIC_PROHIBITED, R.RDS_INSTANCE_DELETION_PROTECTION_ENABLED);
    }
    rules.push(
      R.EBS_ENCRYPTED_VOLUMES,
      R.S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED,
      R.S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED,
      R.CLOUDWATCH_LOG_GROUP_ENCRYPTED,
      R.IAM_POLICY_NO_STATEMENTS_WITH_ADMIN_ACCESS,
      R.VPC_FLOW_LOGS_ENABLED,
    );
    return rules;
  }

  /** The rules deployed, in order. */
  public readonly selectedRules: FxComplianceRule[];
  /** The AWS Config rules, one per selected rule, in the same order. */
  public readonly configRules: config.ManagedRule[];
  /** Resource types the recorder records (empty when it records all supported types or is not ours). */
  public readonly recordedResourceTypes: string[];
  /** The configuration recorder, unless `FxConfigRecording.EXISTING`. */
  public readonly recorder?: config.CfnConfigurationRecorder;
  /** The role AWS Config records with, unless `FxConfigRecording.EXISTING`. */
  public readonly recorderRole?: iam.IRole;
  /** The delivery channel, unless `FxConfigRecording.EXISTING`. */
  public readonly deliveryChannel?: config.CfnDeliveryChannel;
  /** The bucket receiving configuration history and snapshots (retained), unless `FxConfigRecording.EXISTING`. */
  public readonly deliveryBucket?: s3.IBucket;
  /** The EventBridge rule sending NON_COMPLIANT evaluations to the topic, when notifications are on. */
  public readonly notificationRule?: events.Rule;
  /**
   * The role EventBridge publishes the notifications with (sns:Publish on the topic, and the topic
   * key's data-key actions when the topic's key is known), when notifications are on. For an imported
   * topic encrypted with a customer key, grant it `kms:GenerateDataKey*` and `kms:Decrypt` on that key.
   */
  public readonly notificationRole?: iam.IRole;

  constructor(scope: Construct, id: string, props: FxComplianceProps) {
    super(scope, id);
    trackConstruct(this);
    const cluster = props.cluster;
    const recording = props.recording ?? FxConfigRecording.EXISTING;
    // A class instance, not a plain object standing in for one (its mode would be read as a custom recorder).
    check(recording instanceof FxConfigRecording, WHO, 'recording', recording,
      'an FxConfigRecording: FxConfigRecording.EXISTING, PLATFORM_RESOURCES, ALL_SUPPORTED or resourceTypes([...])');
    const ownRecorder = recording._mode !== 'existing';
    const transitionAfter = props.deliveryTransitionAfter ?? Duration.days(90);
    const notify = props.notifyNonCompliance ?? props.topic !== undefined;
    const oldestVersion = props.oldestSupportedKubernetesVersion ?? FxVersions.SUPPORTED_KUBERNETES_VERSIONS[0];
    const rules = props.rules ?? FxCompliance.defaultRules(cluster, props.database);

    validateRules(rules, endpointIsPrivate(cluster));
    check(notify === false || props.topic !== undefined, WHO, 'notifyNonCompliance', notify,
      'false unless a topic is given (topic, e.g. FxObservability\'s alarmTopic)');
    check(KUBERNETES_MINOR.test(oldestVersion), WHO, 'oldestSupportedKubernetesVersion', oldestVersion, 'a Kubernetes minor such as 1.33');
    // Below the library's minimum the rule proves nothing; above the cluster's own minor it flags the platform's own cluster.
    const minor = (v: string) => Number(v.split('.')[1]);
    const clusterVersion = cluster.kubernetesVersion;
    check(Token.isUnresolved(oldestVersion) || !KUBERNETES_MINOR.test(clusterVersion)
      || (minor(oldestVersion) >= minor(FxVersions.MINIMUM_KUBERNETES_VERSION) && minor(oldestVersion) <= minor(clusterVersion)),
    WHO, 'oldestSupportedKubernetesVersion', oldestVersion,
    `a minor from ${FxVersions.MINIMUM_KUBERNETES_VERSION} (the oldest Fx supports) to ${clusterVersion} (the cluster's own, which the rule would otherwise flag)`);
    if (props.recordingFrequency !== undefined) {
      check(Object.values(FxConfigRecordingFrequency).includes(props.recordingFrequency), WHO, 'recordingFrequency', props.recordingFrequency,
        `an FxConfigRecordingFrequency: ${Object.values(FxConfigRecordingFrequency).join(', ')}`);
    }
    if (!ownRecorder) {
      const recorderOnly: Array<[string, unknown]> = [
        ['recordingFrequency', props.recordingFrequency],
        ['deliveryTransitionAfter', props.deliveryTransitionAfter?.toHumanString()],
        ['deliveryExpiration', props.deliveryExpiration?.toHumanString()],
        ['serverAccessLogsBucket', props.serverAccessLogsBucket?.node.path],
      ];
      for (const [prop, value] of recorderOnly) {
        check(value === undefined, WHO, prop, value, 'unset with FxConfigRecording.EXISTING (the existing recorder and its delivery channel are not ours)');
      }
    }
    if (props.topic) checkTopicEnvironment(this, props.topic);
    if (props.serverAccessLogsBucket) {
      checkResourceEnvironment(this, 'serverAccessLogsBucket', props.serverAccessLogsBucket.env, props.serverAccessLogsBucket.node.path,
        'S3 delivers server access logs only to a bucket of the source bucket\'s account and region');
    }
    if (recording._mode === 'custom') {
      check(recording._resourceTypes.length > 0, WHO, 'recording', 'FxConfigRecording.resourceTypes([])', 'at least one resource type');
      validateResourceTypes(recording._resourceTypes.map((t) => (t as config.ResourceType | undefined)?.complianceResourceType));
    }
    validateLifecycle(transitionAfter, props.deliveryExpiration);
    checkSameEnvironment(this, WHO, 'cluster', cluster);
    if (props.database && props.database.cluster !== cluster) {
      throw new FxValidationError(WHO, 'database', props.database.node.path,
        `a database of this construct's cluster ${cluster.node.path}, not of ${props.database.cluster.node.path} (its rules judge one platform)`);
    }
    if (ownRecorder) {
      claimAccountSingleton(this, WHO, 'recording', `FxConfigRecording (${recording._mode})`, 'AWS Config recorder',
        'give the others FxConfigRecording.EXISTING (rules and notifications only)');
    }

    this.selectedRules = rules;
    this.recordedResourceTypes = recordedTypes(recording, rules);

    if (ownRecorder) {
      const frequency = props.recordingFrequency
        ?? (cluster.profile.settings.continuousConfigRecording ? FxConfigRecordingFrequency.CONTINUOUS : FxConfigRecordingFrequency.DAILY);
      const bucket = this.createDeliveryBucket(transitionAfter, props.deliveryExpiration, props.serverAccessLogsBucket);
      const role = this.createRecorderRole(bucket);
      this.deliveryBucket = bucket;
      this.recorderRole = role;
      this.recorder = new config.CfnConfigurationRecorder(this, 'Recorder', {
        roleArn: role.roleArn,
        recordingGroup: recording._mode === 'all'
          ? { allSupported: true, includeGlobalResourceTypes: true }
          : {
            allSupported: false,
            includeGlobalResourceTypes: false,
            resourceTypes: this.recordedResourceTypes,
            recordingStrategy: { useOnly: 'INCLUSION_BY_RESOURCE_TYPES' },
          },
        recordingMode: { recordingFrequency: frequency },
      });
      // The bucket policy must exist before AWS Config checks that it may write to the bucket.
      this.recorder.node.addDependency(bucket);
      this.deliveryChannel = new config.CfnDeliveryChannel(this, 'DeliveryChannel', {
        s3BucketName: bucket.bucketName,
        configSnapshotDeliveryProperties: { deliveryFrequency: 'TwentyFour_Hours' },
      });
      // AWS Config creates a delivery channel only once a recorder exists.
      this.deliveryChannel.node.addDependency(this.recorder);
      acknowledgeComplianceFindings({ role, bucket, serverAccessLogs: props.serverAccessLogsBucket !== undefined });
    }

    this.configRules = this.createRules(rules, oldestVersion);

    if (notify) {
      const notification = this.notifyTopic(props.topic!, this.configRules);
      this.notificationRule = notification.rule;
      this.notificationRole = notification.role;
    }

    tagPlatform(this, cluster.platformName, 'compliance');
  }

  private createDeliveryBucket(transitionAfter: Duration, expiration: Duration | undefined, accessLogs: s3.IBucket | undefined): s3.Bucket {
    return new s3.Bucket(this, 'DeliveryBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: accessLogs ? 'config-delivery/' : undefined,
      lifecycleRules: [{
        id: 'ConfigHistory',
        transitions: [{ storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter }],
        noncurrentVersionTransitions: [{ storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter }],
        expiration,
        abortIncompleteMultipartUploadAfter: Duration.days(7),
      }],
    });
  }

  /**
   * The recorder role: AWS_ConfigRole (the AWS-documented policy for reading resource
   * configurations), and write access to its own prefix of the delivery bucket granted by the
   * bucket policy, with the checks AWS Config makes before delivering.
   */
  private createRecorderRole(bucket: s3.Bucket): iam.Role {
    const account = Stack.of(this).account;
    const role = new iam.Role(this, 'RecorderRole', {
      assumedBy: new iam.ServicePrincipal('config.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': account } },
      }),
      description: 'AWS Config recorder of the Fx platform',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWS_ConfigRole')],
    });
    bucket.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'ConfigBucketChecks',
      principals: [role],
      actions: ['s3:GetBucketAcl', 's3:ListBucket'],
      resources: [bucket.bucketArn],
    }));
    bucket.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'ConfigDelivery',
      principals: [role],
      actions: ['s3:PutObject'],
      resources: [bucket.arnForObjects(`AWSLogs/${account}/Config/*`)],
      conditions: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' } },
    }));
    return role;
  }

  private createRules(rules: FxComplianceRule[], oldestVersion: string): config.ManagedRule[] {
    const parent = new Construct(this, 'Rules');
    return rules.map((rule) => {
      const managed = new config.ManagedRule(parent, rule.identifier, {
        identifier: rule.identifier,
        description: `Fx platform: ${rule.description}.`,
        ruleScope: rule.periodic ? undefined : config.RuleScope.fromResources(rule.resourceTypes),
        maximumExecutionFrequency: rule.periodic ? config.MaximumExecutionFrequency.TWENTY_FOUR_HOURS : undefined,
        inputParameters: inputParameters(rule, oldestVersion),
      });
      // AWS Config refuses rules while the account has no recorder.
      if (this.recorder) managed.node.addDependency(this.recorder);
      return managed;
    });
  }

  private notifyTopic(topic: sns.ITopic, rules: config.ManagedRule[]): { rule: events.Rule; role: iam.Role } {
    const rule = new events.Rule(this, 'NonCompliant', {
      description: 'AWS Config found a resource NON_COMPLIANT with an Fx platform rule',
      eventPattern: {
        source: ['aws.config'],
        detailType: ['Config Rules Compliance Change'],
        detail: {
          messageType: ['ComplianceChangeNotification'],
          configRuleName: rules.map((r) => r.configRuleName),
          newEvaluationResult: { complianceType: ['NON_COMPLIANT'] },
        },
      },
    });
    const field = (path: string) => events.EventField.fromPath(path);
    // EventBridge publishes as a role of its own, not as the events.amazonaws.com service principal:
    // SNS and KMS then check the role's identity policy (sns:Publish on this topic, the topic key's
    // data-key actions through SNS), and neither the topic policy nor the key policy lets a service
    // in. A key policy statement for EventBridge could not be scoped: AWS documents that aws:SourceArn
    // and aws:SourceAccount are not supported in a KMS key policy for EventBridge delivery to an
    // encrypted topic (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
    // The trust is limited to rules of this account and region (the rule's own ARN would be a cycle:
    // the rule names the role).
    const stack = Stack.of(this);
    const role = new iam.Role(this, 'NotificationRole', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'events', resource: 'rule', resourceName: '*' }) },
        },
      }),
      description: 'EventBridge publishes Fx platform AWS Config non-compliance notifications to the alarm topic',
    });
    rule.addTarget(new targets.SnsTopic(topic, {
      role,
      message: events.RuleTargetInput.fromText(
        `AWS Config rule ${field('$.detail.configRuleName')} found ${field('$.detail.resourceType')} `
        + `${field('$.detail.resourceId')} NON_COMPLIANT in account ${field('$.account')}, region ${field('$.region')}.`,
      ),
    }));
    acknowledgeNotificationRole(role);
    return { rule, role };
  }
}

function validateRules(rules: FxComplianceRule[], privateEndpoint: boolean): void {
  const known = FxComplianceRule.known().map((r) => r.identifier);
  check(rules.length > 0, WHO, 'rules', [], 'at least one rule (omit rules for FxCompliance.defaultRules())');
  const seen = new Set<string>();
  rules.forEach((rule, i) => {
    // A plain object standing in for a rule (from JavaScript or a cast) has neither identifier nor scope.
    check(rule instanceof FxComplianceRule, WHO, `rules[${i}]`, rule,
      'an FxComplianceRule: a constant such as FxComplianceRule.EKS_SECRETS_ENCRYPTED, or FxComplianceRule.of(identifier)');
    checkKnownAtSynth(rule.identifier, WHO, `rules[${i}]`, 'the identifier chooses the rule, its scope and its parameters, and names its construct');
    check(rule.isKnown, WHO, `rules[${i}]`, rule.identifier, known.join(', '));
    check(!seen.has(rule.identifier), WHO, `rules[${i}]`, rule.identifier, 'each rule once');
    seen.add(rule.identifier);
    if (rule === FxComplianceRule.EKS_ENDPOINT_NO_PUBLIC_ACCESS) {
      check(privateEndpoint, WHO, `rules[${i}]`, rule.identifier,
        'only for a cluster created with privateEndpointOnly (this cluster has a public endpoint, the rule could never pass)');
    }
  });
}

function validateLifecycle(transitionAfter: Duration, expiration: Duration | undefined): void {
  // S3 lifecycle rules are in days.
  checkDurationToken(transitionAfter, WHO, 'deliveryTransitionAfter', 'days');
  if (expiration) checkDurationToken(expiration, WHO, 'deliveryExpiration', 'days');
  if (!transitionAfter.isUnresolved()) {
    const days = transitionAfter.toDays({ integral: false });
    check(Number.isInteger(days) && days >= MIN_IA_TRANSITION_DAYS, WHO, 'deliveryTransitionAfter', transitionAfter.toHumanString(),
      `whole days, at least ${MIN_IA_TRANSITION_DAYS} (S3 keeps objects ${MIN_IA_TRANSITION_DAYS} days in STANDARD before STANDARD_IA)`);
  }
  if (expiration && !expiration.isUnresolved() && !transitionAfter.isUnresolved()) {
    const days = expiration.toDays({ integral: false });
    check(Number.isInteger(days) && days > transitionAfter.toDays(), WHO, 'deliveryExpiration', expiration.toHumanString(),
      `whole days, more than deliveryTransitionAfter (${transitionAfter.toHumanString()})`);
  }
}

/** Whether an FxDatabase's primary runs Multi-AZ (its CloudFormation resource says, whatever chose it). */
function runsMultiAz(database: FxDatabase): boolean {
  const cfn = database.instance?.node.defaultChild;
  return cfn instanceof rds.CfnDBInstance && cfn.multiAz === true;
}

/** Every resource type AWS Config records, by its name in lowercase (names are case-sensitive; a wrong case is a typo). */
const CONFIG_TYPES = new Map(Object.entries(CONFIG_RESOURCE_TYPES)
  .flatMap(([service, names]) => names.split(' ').map((name) => `AWS::${service}::${name}`))
  .map((type) => [type.toLowerCase(), type]));
const RESOURCE_TYPE = /^AWS::([A-Za-z0-9]+)::[A-Za-z0-9]+$/;

/**
 * The types of `FxConfigRecording.resourceTypes`: types AWS Config records (`AWS::<Service>::<Type>`,
 * see config-resource-types.ts), each once (AWS Config reads the names case-sensitively; a type
 * given twice in another case is still given twice).
 */
function validateResourceTypes(types: (string | undefined)[]): void {
  const seen = new Map<string, number>();
  types.forEach((type, i) => {
    const prop = `recording.resourceTypes[${i}]`;
    check(typeof type === 'string', WHO, prop, type, "a config.ResourceType such as config.ResourceType.EKS_CLUSTER or config.ResourceType.of('AWS::EKS::Addon')");
    if (type === undefined || Token.isUnresolved(type)) return;
    const m = RESOURCE_TYPE.exec(type);
    const exact = CONFIG_TYPES.get(type.toLowerCase());
    const service = m ? CONFIG_RESOURCE_TYPES[m[1]] : undefined;
    const near = exact ?? (m ? nearestType(type) : undefined);
    const hint = near && near !== type ? `; did you mean ${near}?` : '';
    check(m !== null && service !== undefined, WHO, prop, type,
      `an AWS Config resource type AWS::<Service>::<Type> of a service AWS Config records (config.ResourceType)${hint}`);
    check(exact === type, WHO, prop, type, `a resource type AWS Config records (config.ResourceType): AWS::${m![1]} has no ${type.split('::')[2]}${hint}`);
    const first = seen.get(type.toLowerCase());
    check(first === undefined, WHO, prop, type, `each resource type once (it is recording.resourceTypes[${first}] already)`);
    seen.set(type.toLowerCase(), i);
  });
}

/** The resource type nearest to a misspelt one, when it is close enough to be a typo. */
function nearestType(type: string): string | undefined {
  const lower = type.toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(lower.length / 8)) + 1;
  for (const [candidate, name] of CONFIG_TYPES) {
    const d = editDistance(lower, candidate, bestDistance);
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  return best;
}


/**
 * An imported topic of another account or region: aws-cdk-lib cannot make this stack's EventBridge
 * rule target it (a topic of another stack is wired across environments by aws-cdk-lib itself).
 */
function checkTopicEnvironment(scope: Construct, topic: sns.ITopic): void {
  if (Resource.isOwnedResource(topic)) return;
  checkResourceEnvironment(scope, 'topic', topic.env, topic.topicArn,
    'aws-cdk-lib cannot make this stack\'s EventBridge rule target an imported topic of another account or region; give a topic of this environment');
}

/** A resource of another account or region than this stack's, where it must be in the same. */
function checkResourceEnvironment(scope: Construct, prop: string, env: ResourceEnvironment, value: string, why: string): void {
  const stack = Stack.of(scope);
  const differs = (a: string, b: string) => !Token.isUnresolved(a) && !Token.isUnresolved(b) && a !== b;
  const other = differs(env.account, stack.account) || differs(env.region, stack.region);
  if (!other) return;
  throw new FxValidationError(WHO, prop, Token.isUnresolved(value) ? `${env.account}/${env.region}` : value,
    `one in this stack's account and region (${stack.account}/${stack.region}): ${why}`);
}

function recordedTypes(recording: FxConfigRecording, rules: FxComplianceRule[]): string[] {
  if (recording._mode === 'all' || recording._mode === 'existing') return [];
  const base = recording._mode === 'custom' ? recording._resourceTypes : PLATFORM_RESOURCE_TYPES;
  const types = [...base, ...rules.flatMap((r) => r.resourceTypes)].map((t) => t.complianceResourceType);
  return [...new Set(types)];
}

function inputParameters(rule: FxComplianceRule, oldestVersion: string): Record<string, unknown> | undefined {
  switch (rule.identifier) {
    case FxComplianceRule.EKS_CLUSTER_LOG_ENABLED.identifier: return { logTypes: CONTROL_PLANE_LOG_TYPES };
    case FxComplianceRule.EKS_CLUSTER_SUPPORTED_VERSION.identifier: return { oldestVersionSupported: oldestVersion };
    default: return undefined;
  }
}

/** Whether the cluster's API server has no public endpoint (read from the EKS cluster resource aws-eks-v2 writes). */
function endpointIsPrivate(cluster: IFxCluster): boolean {
  const cfn = cluster.cluster.node.defaultChild as eks.CfnCluster | undefined;
  // An imported cluster has no CfnCluster here: its endpoint is not known to be private.
  if (cfn === undefined) return false;
  const vpcConfig = cfn.resourcesVpcConfig as eks.CfnCluster.ResourcesVpcConfigProperty;
  return vpcConfig.endpointPublicAccess === false;
}
