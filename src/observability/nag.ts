import { Stack, Token, Validations } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { IConstruct } from 'constructs';
import type { IFxCluster } from '../cluster';
import { acknowledgeCfnUtilsProvider, acknowledgeDeployTimeLambda, acknowledgeRoleInlinePolicy, acknowledgeServiceAccountRole } from '../cluster/nag';

/** The roles whose findings FxObservability acknowledges. @internal */
export interface ObservabilityRoles {
  readonly alertmanager: eks.ServiceAccount;
  readonly grafana: eks.ServiceAccount;
  /** The CloudWatch agent's role, when Container Insights is installed. */
  readonly cloudWatchAgent?: IConstruct;
}

/** The ELK resources whose NIST 800-53 R5 findings FxObservability acknowledges. @internal */
export interface ElkFindings {
  readonly fluentBit: eks.ServiceAccount;
  readonly snapshotRole: IConstruct;
  readonly snapshotBucket: IConstruct;
  readonly shipperSecret: IConstruct;
}

/**
 * cdk-nag (AwsSolutions) findings of FxObservability's roles, each acknowledged on the one role it
 * is about, naming the exact wildcard and why it cannot be narrower.
 *
 * @internal
 */
export function acknowledgeObservabilityFindings(cluster: IFxCluster, roles: ObservabilityRoles): void {
  const stack = Stack.of(cluster);
  // The ELK snapshot role's trust conditions are a CfnJson: its provider role appears after FxCluster's acknowledgements.
  acknowledgeCfnUtilsProvider(stack);
  const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
  const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
  const logGroups = `arn:<AWS::Partition>:logs:${region}:${account}:log-group`;
  // The role names the cluster by reference when the CfnCluster is in its stack; an imported cluster has
  // none (its name is a literal); one in another stack is an import, which no acknowledgement can name.
  const cfn = cluster.cluster.node.defaultChild as eks.CfnCluster | undefined;
  const agent = roles.cloudWatchAgent;
  const clusterRef = !agent ? undefined : cfn && Stack.of(cfn) === Stack.of(agent) ? `<${stack.getLogicalId(cfn)}>`
    : Token.isUnresolved(cluster.cluster.clusterName) ? undefined : cluster.cluster.clusterName;

  acknowledgeServiceAccountRole(roles.alertmanager);
  acknowledgeServiceAccountRole(roles.grafana);
  ack(roles.alertmanager.role, 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
    'Publishing to the KMS-encrypted alarm topic needs kms:GenerateDataKey* (the SNS publish grant); the statement names only the topic key.');

  ack(roles.grafana.role, 'AwsSolutions-IAM5[Resource::*]',
    'Grafana\'s read-only CloudWatch datasource: cloudwatch:GetMetricData/ListMetrics/DescribeAlarms*, ec2:Describe*, tag:GetResources and '
    + 'logs:DescribeLogGroups/StopQuery/GetQueryResults have no resource-level permissions; every action is read-only.');
  ack(roles.grafana.role, `AwsSolutions-IAM5[Resource::${logGroups}:*]`,
    'Grafana\'s CloudWatch datasource runs read-only Logs Insights queries on the log groups of this account and region.');

  if (!agent) return;
  acknowledgeRoleInlinePolicy(agent, 'the CloudWatch agent of Container Insights (Pod Identity)');
  ack(agent, 'AwsSolutions-IAM5[Resource::*]',
    'CloudWatch agent of Container Insights: cloudwatch:PutMetricData, ec2:DescribeVolumes/DescribeTags/DescribeInstances, '
    + 'logs:DescribeLogGroups and the X-Ray trace and sampling actions have no resource-level permissions (the actions of '
    + 'CloudWatchAgentServerPolicy, without its SSM and log-retention rights).');
  if (clusterRef === undefined) return;
  const insights = `${logGroups}:/aws/containerinsights/${clusterRef}/*`;
  const reason = 'Container Insights writes only to this cluster\'s log groups (/aws/containerinsights/<cluster>/...) and their '
    + 'streams, whose names the agents choose per node and pod.';
  ack(agent, `AwsSolutions-IAM5[Resource::${insights}]`, reason);
  ack(agent, `AwsSolutions-IAM5[Resource::${insights}:log-stream:*]`, reason);
}

function ack(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/**
 * The deploy-time lookup of the platform's ALB (an AwsCustomResource): its policy allows only
 * DescribeLoadBalancers, which has no resource-level permissions, and aws-cdk-lib's singleton
 * handler logs through the AWS managed basic execution policy.
 *
 * @internal
 */
export function acknowledgeLoadBalancerLookup(lookup: IConstruct): void {
  const policy = lookup.node.tryFindChild('CustomResourcePolicy');
  if (policy) {
    ack(policy, 'AwsSolutions-IAM5[Resource::*]',
      'Only elasticloadbalancing:DescribeLoadBalancers, which supports no resource-level permissions; it reads the platform ALB\'s ARN by name.');
  }
  if (policy) {
    ack(policy, 'NIST.800.53.R5-IAMNoInlinePolicy',
      'aws-cdk-lib writes each AwsCustomResource\'s statements inline on its own policy; this one allows one read-only action.');
  }
  const singleton = Stack.of(lookup).node.tryFindChild(AWS_CUSTOM_RESOURCE_SINGLETON);
  if (singleton) acknowledgeDeployTimeLambda(singleton, 'the aws-cdk-lib AwsCustomResource handler', true);
  const role = singleton?.node.tryFindChild('ServiceRole');
  if (role) {
    ack(role, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'aws-cdk-lib AwsCustomResource singleton handler: the AWS managed policy only lets it write its own logs; its API calls are granted '
      + 'per custom resource.');
  }
}

/** Construct id of aws-cdk-lib's AwsCustomResource singleton Lambda in the stack. */
const AWS_CUSTOM_RESOURCE_SINGLETON = 'AWS679f53fac002430cb0da5b7982bd2287';

/**
 * NIST 800-53 R5 findings on the generated Grafana admin secret (AwsSolutions-SMG4 is acknowledged
 * where it is created, with the same reason for rotation).
 *
 * @internal
 */
export function acknowledgeGrafanaAdminSecret(secret: IConstruct): void {
  ack(secret, 'NIST.800.53.R5-SecretsManagerRotationEnabled',
    'Grafana reads the admin password only when it initialises its database: a rotated secret would no longer match the stored '
    + 'login. Rotate through Grafana (grafana cli admin reset-admin-password) and update the secret together.');
  ack(secret, 'NIST.800.53.R5-SecretsManagerUsingKMSKey',
    'Encrypted with the account\'s aws/secretsmanager key; only the monitoring namespace\'s External Secrets store role has a read '
    + 'grant on it, and a customer key would add a key policy for one generated login.');
}

/**
 * NIST 800-53 R5 findings of the ELK stack: the inline grants of its two roles, the snapshot bucket
 * (itself the backup of Elasticsearch) and the log shipper's generated Elasticsearch password.
 *
 * @internal
 */
export function acknowledgeElkFindings(f: ElkFindings): void {
  acknowledgeServiceAccountRole(f.fluentBit);
  acknowledgeRoleInlinePolicy(f.snapshotRole, 'the Elasticsearch snapshot repository (IRSA; objects of its own bucket and its key)');
  const bucket = 'Elasticsearch snapshot bucket: it is the backup of the log indices (daily snapshots, kept by the snapshot lifecycle '
    + 'policy); KMS-encrypted with its own key, versioned, TLS-only, public access blocked, and only the snapshot role has a grant on it.';
  ack(f.snapshotBucket, 'NIST.800.53.R5-S3BucketReplicationEnabled',
    `${bucket} It is a second copy: Fluent Bit ships every log line to CloudWatch Logs as well. A copy in another region is an `
    + 'organization choice (S3 replication).');
  ack(f.snapshotBucket, 'NIST.800.53.R5-S3BucketLoggingEnabled',
    `${bucket} Object access is recorded by CloudTrail (management events; S3 data events where the account enables them).`);
  ack(f.shipperSecret, 'NIST.800.53.R5-SecretsManagerRotationEnabled',
    'Elasticsearch file-realm password of Fluent Bit: no Secrets Manager rotation function exists for an ECK file-realm user, and '
    + 'Fluent Bit reads it at start. Compensating: 32 random characters; its Elasticsearch role may only create documents in the '
    + 'fx-logs-* data streams; the logging NetworkPolicies admit only Fluent Bit, Kibana, the setup Job and the ECK operator to '
    + 'Elasticsearch. Rotate by updating the secret and restarting the DaemonSet.');
  ack(f.shipperSecret, 'NIST.800.53.R5-SecretsManagerUsingKMSKey',
    'Encrypted with the account\'s aws/secretsmanager key; only the logging namespace\'s External Secrets store role has a read grant on '
    + 'it, and a customer key would add a key policy for one generated password.');
}
