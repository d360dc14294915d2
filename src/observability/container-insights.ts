import { ArnFormat, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as xray from 'aws-cdk-lib/aws-xray';
import { Construct } from 'constructs';
import type { IFxCluster } from '../cluster';
import { FxCapability } from '../core/install-order';

/** EKS add-on name, namespace and service account of Container Insights. */
export const CLOUDWATCH_ADDON = 'amazon-cloudwatch-observability';
export const CLOUDWATCH_NAMESPACE = 'amazon-cloudwatch';
export const CLOUDWATCH_SERVICE_ACCOUNT = 'cloudwatch-agent';
/** The agent's Service (created by its operator) and the OTLP ports opened by the agent configuration below. */
export const OTLP_GRPC_ENDPOINT = `http://cloudwatch-agent.${CLOUDWATCH_NAMESPACE}:4317`;
export const OTLP_HTTP_ENDPOINT = `http://cloudwatch-agent.${CLOUDWATCH_NAMESPACE}:4318`;
/** The log groups Container Insights writes, per cluster. */
export const CONTAINER_INSIGHTS_LOG_GROUPS = ['application', 'host', 'dataplane', 'performance'];

/** @internal */
export interface ContainerInsightsProps {
  readonly cluster: IFxCluster;
  readonly logRetention: logs.RetentionDays;
  readonly traceSamplingRate: number;
  /**
   * Whether the add-on's Fluent Bit ships container, host and dataplane logs. False when the ELK
   * part's Fluent Bit feeds the same log groups (one node agent for CloudWatch and Elasticsearch).
   */
  readonly containerLogs: boolean;
}

/**
 * CloudWatch Container Insights (enhanced observability) and X-Ray tracing through the EKS add-on
 * `amazon-cloudwatch-observability`: the CloudWatch agent DaemonSet collects node/pod metrics and
 * receives OTLP traces (gRPC 4317, HTTP 4318; its operator opens these Service ports because the
 * agent configuration lists them) that it exports to X-Ray; its Fluent Bit ships application, host
 * and dataplane logs (the add-on's kubernetes filter merges JSON log lines into fields). The four log
 * groups are created first, with retention and a customer-managed key, so the agents never create
 * unencrypted, never-expiring ones. The agent's AWS access is a Pod Identity role.
 *
 * @internal
 */
export class ContainerInsights {
  public readonly logKey: kms.Key;
  public readonly logGroups: logs.LogGroup[];
  public readonly role: iam.Role;
  public readonly addon: eks.CfnAddon;
  public readonly samplingRule: xray.CfnSamplingRule;

  constructor(scope: Construct, props: ContainerInsightsProps) {
    const stack = Stack.of(scope);
    const cluster = props.cluster;
    const clusterName = cluster.cluster.clusterName;
    const prefix = `/aws/containerinsights/${clusterName}`;
    const groupArns = stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: `${prefix}/*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });

    this.logKey = new kms.Key(scope, 'LogKey', {
      description: `Fx platform ${cluster.platformName}: encrypts the Container Insights log groups`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.logKey.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AllowCloudWatchLogs',
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:DescribeKey'],
      resources: ['*'],
      conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': groupArns } },
    }));
    this.logGroups = CONTAINER_INSIGHTS_LOG_GROUPS.map((name) => new logs.LogGroup(scope, `${capitalize(name)}Logs`, {
      logGroupName: `${prefix}/${name}`,
      retention: props.logRetention,
      encryptionKey: this.logKey,
      // The agent writes to these fixed names: never plain RETAIN (see FxProfileSettings.removalPolicy).
      removalPolicy: cluster.profile.settings.removalPolicy,
    }));

    this.role = new iam.Role(scope, 'CloudWatchAgentRole', {
      assumedBy: new iam.SessionTagsPrincipal(new iam.ServicePrincipal('pods.eks.amazonaws.com')),
      description: 'Fx platform: CloudWatch agent and Fluent Bit of Container Insights (EKS Pod Identity)',
    });
    // A narrowed copy of CloudWatchAgentServerPolicy: log writes only to this cluster's Container
    // Insights groups, no retention changes, no SSM parameters (the configuration is inline).
    this.role.addToPolicy(new iam.PolicyStatement({
      sid: 'WriteContainerInsightsLogs',
      actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
      resources: [groupArns, `${groupArns}:log-stream:*`],
    }));
    this.role.addToPolicy(new iam.PolicyStatement({
      sid: 'MetricsTracesAndLookups',
      actions: [
        'cloudwatch:PutMetricData', 'logs:DescribeLogGroups', 'ec2:DescribeVolumes', 'ec2:DescribeTags', 'ec2:DescribeInstances',
        'xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets', 'xray:GetSamplingStatisticSummaries',
      ],
      resources: ['*'],
    }));

    const configuration = {
      agent: {
        config: {
          logs: { metrics_collected: { kubernetes: { enhanced_container_insights: true } } },
          traces: { traces_collected: { otlp: { grpc_endpoint: '0.0.0.0:4317', http_endpoint: '0.0.0.0:4318' } } },
        },
      },
      containerLogs: { enabled: props.containerLogs },
    };
    this.addon = new eks.CfnAddon(scope, 'CloudWatchObservabilityAddon', {
      clusterName,
      addonName: CLOUDWATCH_ADDON,
      addonVersion: cluster.versions.addons.cloudWatchObservability,
      resolveConflicts: 'OVERWRITE',
      configurationValues: JSON.stringify(configuration),
      podIdentityAssociations: [{ serviceAccount: CLOUDWATCH_SERVICE_ACCOUNT, roleArn: this.role.roleArn }],
      preserveOnDelete: false,
    });
    this.addon.node.addDependency(...this.logGroups);
    cluster.installAfter(this.addon, FxCapability.NODES, FxCapability.POD_IDENTITY);

    this.samplingRule = new xray.CfnSamplingRule(scope, 'TraceSamplingRule', {
      samplingRule: {
        ruleName: Names.uniqueResourceName(scope, { maxLength: 32, separator: '-' }),
        priority: 9000,
        fixedRate: props.traceSamplingRate,
        reservoirSize: 1,
        serviceName: '*',
        serviceType: '*',
        host: '*',
        httpMethod: '*',
        urlPath: '*',
        resourceArn: '*',
        version: 1,
      },
    });
  }
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
