import { Stack, Token, Validations } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { IConstruct } from 'constructs';
import type { FxCluster } from '../cluster';

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
