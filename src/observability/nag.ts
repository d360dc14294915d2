import { Stack, Token, Validations } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { IConstruct } from 'constructs';
import type { FxCluster } from '../cluster';
import { acknowledgeCfnUtilsProvider, acknowledgeDeployTimeLambda } from '../cluster/nag';

/** The roles whose findings FxObservability acknowledges. @internal */
export interface ObservabilityRoles {
  readonly alertmanager: IConstruct;
  readonly grafana: IConstruct;
  readonly cloudWatchAgent: IConstruct;
}

/**
 * cdk-nag (AwsSolutions) findings of FxObservability's roles, each acknowledged on the one role it
 * is about, naming the exact wildcard and why it cannot be narrower.
 *
 * @internal
 */
export function acknowledgeObservabilityFindings(cluster: FxCluster, roles: ObservabilityRoles): void {
  const stack = Stack.of(cluster);
  // The ELK snapshot role's trust conditions are a CfnJson: its provider role appears after FxCluster's acknowledgements.
  acknowledgeCfnUtilsProvider(stack);
  const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
  const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
  const logGroups = `arn:<AWS::Partition>:logs:${region}:${account}:log-group`;
  const clusterRef = `<${stack.getLogicalId(cluster.cluster.node.defaultChild as eks.CfnCluster)}>`;

  ack(roles.alertmanager, 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
    'Publishing to the KMS-encrypted alarm topic needs kms:GenerateDataKey* (the SNS publish grant); the statement names only the topic key.');

  ack(roles.grafana, 'AwsSolutions-IAM5[Resource::*]',
    'Grafana\'s read-only CloudWatch datasource: cloudwatch:GetMetricData/ListMetrics/DescribeAlarms*, ec2:Describe*, tag:GetResources and '
    + 'logs:DescribeLogGroups/StopQuery/GetQueryResults have no resource-level permissions; every action is read-only.');
  ack(roles.grafana, `AwsSolutions-IAM5[Resource::${logGroups}:*]`,
    'Grafana\'s CloudWatch datasource runs read-only Logs Insights queries on the log groups of this account and region.');

  ack(roles.cloudWatchAgent, 'AwsSolutions-IAM5[Resource::*]',
    'CloudWatch agent of Container Insights: cloudwatch:PutMetricData, ec2:DescribeVolumes/DescribeTags/DescribeInstances, '
    + 'logs:DescribeLogGroups and the X-Ray trace and sampling actions have no resource-level permissions (the actions of '
    + 'CloudWatchAgentServerPolicy, without its SSM and log-retention rights).');
  const insights = `${logGroups}:/aws/containerinsights/${clusterRef}/*`;
  const reason = 'Container Insights writes only to this cluster\'s log groups (/aws/containerinsights/<cluster>/...) and their '
    + 'streams, whose names the agents choose per node and pod.';
  ack(roles.cloudWatchAgent, `AwsSolutions-IAM5[Resource::${insights}]`, reason);
  ack(roles.cloudWatchAgent, `AwsSolutions-IAM5[Resource::${insights}:log-stream:*]`, reason);
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
    'Encrypted with the account\'s aws/secretsmanager key; only the External Secrets Operator\'s role may read it (IAM), and a customer '
    + 'key would add a key policy for one generated login.');
}
