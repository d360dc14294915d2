import { Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as budgets from 'aws-cdk-lib/aws-budgets';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { acknowledgeLoadBalancerLookup } from './nag';
import { ResolvedAlarmThresholds, ResolvedDatabaseThresholds, thresholdSeconds, thresholdText } from './validation';
import type { IFxCluster } from '../cluster';
import { platformAlbName } from '../cluster/addons/dns';

const PERIOD = Duration.minutes(5);
const INSIGHTS = 'ContainerInsights';

interface AlarmSpec {
  readonly id: string;
  readonly metric: cloudwatch.IMetric;
  readonly threshold: number;
  readonly title: string;
  readonly description: string;
  readonly comparison?: cloudwatch.ComparisonOperator;
}

/**
 * The KMS-encrypted SNS topic every alarm, Alertmanager and the budget notify, with its key policy
 * letting CloudWatch alarms and AWS Budgets use the key, and HTTPS-only publishing.
 *
 * @internal
 */
export function createAlarmTopic(scope: Construct, platformName: string, emails: string[]): { key: kms.Key; topic: sns.Topic } {
  const stack = Stack.of(scope);
  const key = new kms.Key(scope, 'AlarmTopicKey', {
    description: `Fx platform ${platformName}: encrypts the alarm topic`,
    enableKeyRotation: true,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'AllowAlarmAndBudgetNotifications',
    principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com'), new iam.ServicePrincipal('budgets.amazonaws.com')],
    actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
    resources: ['*'],
    conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
  }));
  const topic = new sns.Topic(scope, 'AlarmTopic', {
    displayName: `${platformName} alarms`.slice(0, 100),
    masterKey: key,
    enforceSSL: true,
  });
  topic.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'AllowBudgetNotifications',
    principals: [new iam.ServicePrincipal('budgets.amazonaws.com')],
    actions: ['sns:Publish'],
    resources: [topic.topicArn],
    conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
  }));
  for (const email of emails) topic.addSubscription(new subscriptions.EmailSubscription(email));
  return { key, topic };
}

/** The platform's own ALB: its fixed name and the DNS name the cluster reads once the ALB exists. @internal */
export interface PlatformLoadBalancer {
  readonly name: string;
  readonly dnsName: string;
}

/** @internal */
export interface PlatformAlarmsProps {
  readonly clusterName: string;
  readonly topic: sns.ITopic;
  readonly thresholds: ResolvedAlarmThresholds;
  /** Whether Container Insights is installed: without it no node or pod metrics exist, and no alarm reads them. */
  readonly containerInsights: boolean;
  readonly dashboard: cloudwatch.Dashboard;
  /** The platform's ALB (ACM path); without one (no domain, or Let's Encrypt behind an NLB) there are no ALB alarms. */
  readonly loadBalancer?: PlatformLoadBalancer;
}

/**
 * The platform's ALB, on the ACM path only: there the Traefik Ingress makes the AWS Load Balancer
 * Controller create an ALB named `platformAlbName(cluster)`. Without a domain there is no Ingress, and
 * with Let's Encrypt Traefik sits behind an NLB, which has no 5xx or response-time metrics.
 *
 * @internal
 */
export function platformLoadBalancer(cluster: IFxCluster): PlatformLoadBalancer | undefined {
  if (!cluster.tls || cluster.tlsTerminatedByTraefik || cluster.loadBalancerDnsName === undefined) return undefined;
  return { name: platformAlbName(cluster), dnsName: cluster.loadBalancerDnsName };
}

/**
 * The `LoadBalancer` dimension (`app/<name>/<id>`) of the platform's ALB, read at deploy time.
 *
 * The AWS Load Balancer Controller creates the ALB from the Traefik Ingress, so its id is unknown at
 * synth, and a query over `AWS/ApplicationELB` would aggregate every ALB of the account and region.
 * The Ingress gives the ALB a fixed name; once the cluster has read the ALB's DNS name (so the ALB
 * exists), one DescribeLoadBalancers call by that name returns its ARN, whose `loadbalancer/` suffix
 * is the metric dimension. The DNS name is the physical id: a replaced ALB is looked up again.
 */
function loadBalancerDimension(scope: Construct, lb: PlatformLoadBalancer): string {
  const arnPath = 'LoadBalancers.0.LoadBalancerArn';
  const lookup = new cr.AwsCustomResource(scope, 'LoadBalancerLookup', {
    onUpdate: {
      service: 'ElasticLoadBalancingV2',
      action: 'describeLoadBalancers',
      parameters: { Names: [lb.name] },
      physicalResourceId: cr.PhysicalResourceId.of(lb.dnsName),
      outputPaths: [arnPath],
    },
    // DescribeLoadBalancers has no resource-level permissions.
    policy: cr.AwsCustomResourcePolicy.fromStatements([
      new iam.PolicyStatement({ actions: ['elasticloadbalancing:DescribeLoadBalancers'], resources: ['*'] }),
    ]),
    installLatestAwsSdk: false,
  });
  acknowledgeLoadBalancerLookup(lookup);
  return Fn.select(1, Fn.split('loadbalancer/', lookup.getResponseField(arnPath)));
}

/**
 * Cluster alarms from Container Insights (when installed) and, when the platform has its ALB, alarms
 * on that ALB only (its `LoadBalancer` dimension, see `loadBalancerDimension`), plus their dashboard
 * widgets (none when there is no alarm).
 *
 * @internal
 */
export function createPlatformAlarms(scope: Construct, props: PlatformAlarmsProps): cloudwatch.Alarm[] {
  const t = props.thresholds;
  // Maximum over the cluster-level series: any single node above the threshold breaches. No label:
  // a labelled metric would turn the alarm into a metric-math alarm.
  const insights = (metricName: string): cloudwatch.Metric => new cloudwatch.Metric({
    namespace: INSIGHTS, metricName, dimensionsMap: { ClusterName: props.clusterName }, statistic: cloudwatch.Stats.MAXIMUM, period: PERIOD,
  });
  const query = (expression: string, label: string): cloudwatch.MathExpression => new cloudwatch.MathExpression({
    expression, usingMetrics: {}, period: PERIOD, label,
  });
  const dimension = props.loadBalancer ? loadBalancerDimension(scope, props.loadBalancer) : undefined;
  const alb = (statistic: string, metricName: string): cloudwatch.Metric => new cloudwatch.Metric({
    namespace: 'AWS/ApplicationELB', metricName, dimensionsMap: { LoadBalancer: dimension! }, statistic, period: PERIOD,
  });

  const specs: AlarmSpec[] = !props.containerInsights ? [] : [
    {
      id: 'NodeCpuAlarm',
      metric: insights('node_cpu_utilization'),
      threshold: t.nodeCpuPercent,
      title: 'Node CPU % (max)',
      description: `A node's CPU utilization is at or above ${t.nodeCpuPercent}%`,
    },
    {
      id: 'NodeMemoryAlarm',
      metric: insights('node_memory_utilization'),
      threshold: t.nodeMemoryPercent,
      title: 'Node memory % (max)',
      description: `A node's memory utilization is at or above ${t.nodeMemoryPercent}%`,
    },
    {
      id: 'NodeDiskAlarm',
      metric: insights('node_filesystem_utilization'),
      threshold: t.nodeDiskPercent,
      title: 'Node disk % (max)',
      description: `A node's filesystem is at least ${t.nodeDiskPercent}% full`,
    },
    {
      id: 'FailedNodesAlarm',
      metric: insights('cluster_failed_node_count'),
      threshold: t.failedNodes,
      title: 'Failed nodes',
      description: `At least ${t.failedNodes} node(s) failed`,
    },
    {
      id: 'PodRestartsAlarm',
      metric: query(`SELECT MAX(pod_number_of_container_restarts) FROM SCHEMA(${INSIGHTS}, ClusterName, Namespace, PodName) `
        + `WHERE ClusterName = '${props.clusterName}'`, 'Container restarts (max per pod)'),
      threshold: t.podRestarts,
      title: 'Container restarts (max per pod)',
      description: `A pod restarted its containers at least ${t.podRestarts} times`,
    },
  ];
  if (dimension) {
    specs.push(
      {
        id: 'LoadBalancerTarget5xxAlarm',
        metric: alb(cloudwatch.Stats.SUM, 'HTTPCode_Target_5XX_Count'),
        threshold: t.loadBalancer5xxCount,
        title: 'Target 5xx (platform ALB)',
        description: `Targets behind the platform's load balancer returned at least ${t.loadBalancer5xxCount} 5xx in 5 minutes`,
      },
      {
        id: 'LoadBalancer5xxAlarm',
        metric: alb(cloudwatch.Stats.SUM, 'HTTPCode_ELB_5XX_Count'),
        threshold: t.loadBalancer5xxCount,
        title: 'Load balancer 5xx (platform ALB)',
        description: `The platform's load balancer returned at least ${t.loadBalancer5xxCount} 5xx of its own in 5 minutes`,
      },
      {
        id: 'TargetResponseTimeAlarm',
        metric: alb(cloudwatch.Stats.AVERAGE, 'TargetResponseTime'),
        threshold: thresholdSeconds(t.targetResponseTime),
        title: 'Target response time (s, platform ALB)',
        description: `Average target response time is at or above ${thresholdText(t.targetResponseTime)}`,
      },
    );
  }
  const alarms = specs.map((s) => alarm(scope, s, t.evaluationPeriods, props.topic));
  if (alarms.length === 0) return alarms;
  props.dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Platform alarms', alarms, width: 24, height: 4 }));
  props.dashboard.addWidgets(...specs.map(graph));
  return alarms;
}

/** @internal */
export function createDatabaseAlarms(scope: Construct, db: rds.IDatabaseInstance, t: ResolvedDatabaseThresholds,
  evaluationPeriods: number, topic: sns.ITopic, dashboard: cloudwatch.Dashboard): cloudwatch.Alarm[] {
  const opts = { period: PERIOD };
  const name = db.instanceIdentifier;
  const specs: AlarmSpec[] = [
    {
      id: 'CpuAlarm',
      metric: db.metricCPUUtilization({ ...opts, statistic: cloudwatch.Stats.AVERAGE }),
      threshold: t.cpuPercent,
      title: 'Database CPU %',
      description: `Database CPU is at or above ${t.cpuPercent}%`,
    },
    {
      id: 'FreeStorageAlarm',
      metric: db.metricFreeStorageSpace({ ...opts, statistic: cloudwatch.Stats.MINIMUM }),
      threshold: t.freeStorage.toBytes(),
      title: 'Database free storage',
      description: `Database free storage is below ${t.freeStorage.toBytes()} bytes`,
      comparison: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    },
    {
      id: 'ConnectionsAlarm',
      metric: db.metricDatabaseConnections({ ...opts, statistic: cloudwatch.Stats.MAXIMUM }),
      threshold: t.connections,
      title: 'Database connections',
      description: `Database connections are at or above ${t.connections}`,
    },
    {
      id: 'ReadLatencyAlarm',
      metric: db.metric('ReadLatency', { ...opts, statistic: cloudwatch.Stats.AVERAGE }),
      threshold: thresholdSeconds(t.readLatency),
      title: 'Database read latency (s)',
      description: `Database read latency is at or above ${thresholdText(t.readLatency)}`,
    },
    {
      id: 'WriteLatencyAlarm',
      metric: db.metric('WriteLatency', { ...opts, statistic: cloudwatch.Stats.AVERAGE }),
      threshold: thresholdSeconds(t.writeLatency),
      title: 'Database write latency (s)',
      description: `Database write latency is at or above ${thresholdText(t.writeLatency)}`,
    },
  ].map((s) => ({ ...s, description: `${s.description} (${name})` }));
  const alarms = specs.map((s) => alarm(scope, s, evaluationPeriods, topic));
  dashboard.addWidgets(...specs.map(graph));
  return alarms;
}

function alarm(scope: Construct, spec: AlarmSpec, evaluationPeriods: number, topic: sns.ITopic): cloudwatch.Alarm {
  const a = new cloudwatch.Alarm(scope, spec.id, {
    metric: spec.metric,
    threshold: spec.threshold,
    evaluationPeriods,
    comparisonOperator: spec.comparison ?? cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    // No data means no load balancer yet, no restarts or a quiet database: not a failure.
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription: spec.description,
  });
  a.addAlarmAction(new actions.SnsAction(topic));
  a.addOkAction(new actions.SnsAction(topic));
  return a;
}

function graph(spec: AlarmSpec): cloudwatch.GraphWidget {
  return new cloudwatch.GraphWidget({ title: spec.title, left: [spec.metric], leftAnnotations: [{ value: spec.threshold, label: 'alarm' }], width: 6 });
}

/**
 * A monthly cost budget: notifications at 80% and 100% of actual spend and 100% of forecast spend,
 * to the e-mail addresses (or the alarm topic when there are none).
 *
 * @internal
 */
export function createBudget(scope: Construct, amount: number, emails: string[], topic: sns.ITopic, platformName: string): budgets.CfnBudget {
  const subscribers = emails.length > 0
    ? emails.map((address) => ({ subscriptionType: 'EMAIL', address }))
    : [{ subscriptionType: 'SNS', address: topic.topicArn }];
  const notification = (notificationType: string, threshold: number) => ({
    notification: { notificationType, comparisonOperator: 'GREATER_THAN', threshold, thresholdType: 'PERCENTAGE' },
    subscribers,
  });
  return new budgets.CfnBudget(scope, 'Budget', {
    budget: {
      budgetName: `${platformName}-monthly`.slice(0, 100),
      budgetType: 'COST',
      timeUnit: 'MONTHLY',
      budgetLimit: { amount, unit: 'USD' },
    },
    notificationsWithSubscribers: [notification('ACTUAL', 80), notification('ACTUAL', 100), notification('FORECASTED', 100)],
  });
}
