import { Duration, Size } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { IFxCluster } from '../cluster';

/**
 * Thresholds of the platform's CloudWatch alarms. Every field defaults from the cluster's profile
 * (its `alarm*` settings; production is stricter than development).
 */
export interface FxAlarmThresholds {
  /**
   * Alarm when any node's CPU utilization (Container Insights `node_cpu_utilization`, Maximum) is above this percentage.
   * @default - the profile's `alarmNodeCpuPercent` (80 in production, 90 in development)
   */
  readonly nodeCpuPercent?: number;
  /**
   * Alarm when any node's memory utilization (`node_memory_utilization`, Maximum) is above this percentage.
   * @default - the profile's `alarmNodeMemoryPercent` (85 in production, 90 in development)
   */
  readonly nodeMemoryPercent?: number;
  /**
   * Alarm when any node's root filesystem (`node_filesystem_utilization`, Maximum) is fuller than this percentage.
   * @default - the profile's `alarmNodeDiskPercent` (80 in production, 85 in development)
   */
  readonly nodeDiskPercent?: number;
  /**
   * Alarm when some pod of the cluster has restarted its containers at least this many times
   * (`pod_number_of_container_restarts`, Maximum over all pods).
   * @default - the profile's `alarmPodRestarts` (5 in production, 10 in development)
   */
  readonly podRestarts?: number;
  /**
   * Alarm when at least this many nodes are failed (`cluster_failed_node_count`).
   * @default 1
   */
  readonly failedNodes?: number;
  /**
   * Alarm when the load balancers return at least this many 5xx responses (target and load balancer
   * 5xx, each alarmed on its own) in one 5-minute period.
   * @default - the profile's `alarmLoadBalancer5xxCount` (10 in production, 50 in development)
   */
  readonly loadBalancer5xxCount?: number;
  /**
   * Alarm when the load balancers' average target response time is above this.
   * @default - the profile's `alarmTargetResponseTime` (Duration.seconds(1) in production, Duration.seconds(2) in development)
   */
  readonly targetResponseTime?: Duration;
  /**
   * Number of consecutive 5-minute periods a threshold must be breached before an alarm fires.
   * @default - the profile's `alarmEvaluationPeriods` (2 in production, 3 in development)
   */
  readonly evaluationPeriods?: number;
}

/** Thresholds of the alarms `FxObservability.watchDatabase()` creates for one RDS instance. */
export interface FxDatabaseAlarmThresholds {
  /**
   * Alarm when CPU utilization is above this percentage.
   * @default - the profile's `alarmDatabaseCpuPercent` (80 in production, 90 in development)
   */
  readonly cpuPercent?: number;
  /**
   * Alarm when free storage falls below this.
   * @default - the profile's `alarmDatabaseFreeStorage` (Size.gibibytes(10) in production, Size.gibibytes(2) in development)
   */
  readonly freeStorage?: Size;
  /**
   * Alarm when the number of connections is above this.
   * @default - the profile's `alarmDatabaseConnections` (400 in production, 100 in development)
   */
  readonly connections?: number;
  /**
   * Alarm when the average read latency is above this.
   * @default - the profile's `alarmDatabaseReadLatency` (Duration.millis(20) in production, Duration.millis(50) in development)
   */
  readonly readLatency?: Duration;
  /**
   * Alarm when the average write latency is above this.
   * @default - the profile's `alarmDatabaseWriteLatency` (Duration.millis(20) in production, Duration.millis(50) in development)
   */
  readonly writeLatency?: Duration;
}

/**
 * Container Insights: the EKS add-on `amazon-cloudwatch-observability` (CloudWatch agent and its
 * Fluent Bit), with its Pod Identity role, its log groups and their key, and the X-Ray sampling rule.
 */
export interface FxContainerInsightsOptions {
  /**
   * Install Container Insights. When false, none of the above is created, and with it go: the OTLP
   * collector services export traces to (`otlpEndpoint` and `otlpHttpEndpoint` are undefined, so an
   * FxMicroservice given this observability gets no trace exporter and no OTLP egress), the X-Ray
   * sampling rule, and the CloudWatch alarms on Container Insights metrics (node CPU, memory and disk,
   * failed nodes, pod restarts; the load balancer alarms stay). `traceSamplingRate`, `logRetention`
   * (unless ELK is installed) and those alarms' `alarmThresholds` are then rejected. With ELK, the
   * application, host and dataplane log groups and their key stay: ELK's Fluent Bit ships container
   * logs to them as well as to Elasticsearch.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * Exact version of the EKS add-on, such as `v4.6.0-eksbuild.1` (`aws eks describe-addon-versions
   * --addon-name amazon-cloudwatch-observability`).
   * @default - the versions table's `cloudWatchObservability` for the cluster's Kubernetes minor
   */
  readonly addonVersion?: string;
  /**
   * The add-on's configuration values (a JSON object, see `aws eks describe-addon-configuration`),
   * deep-merged over the library's: objects merge key by key, arrays and other values replace. Keep
   * the agent's OTLP receivers on 4317 and 4318 (`agent.config.traces`): services are pointed at them.
   * With ELK, `containerLogs.enabled: true` is rejected (ELK's Fluent Bit ships the container logs).
   * @default - the library's: enhanced Container Insights, OTLP receivers on 4317 and 4318, and the
   * add-on's Fluent Bit on unless ELK is installed
   */
  readonly configuration?: { [key: string]: any };
}

/** Properties of FxObservability. */
export interface FxObservabilityProps {
  /** The cluster to observe; the monitoring stack is installed on it. */
  readonly cluster: IFxCluster;
  /**
   * E-mail addresses that receive every alarm (SNS subscriptions) and the budget notifications.
   * Each address must confirm its SNS subscription.
   * @default - no e-mail subscription (alarms still go to the SNS topic)
   */
  readonly alarmEmails?: string[];
  /**
   * Monthly AWS cost budget in USD; notifications at 80% and 100% of actual and 100% of forecast spend.
   * @default - no budget
   */
  readonly monthlyBudget?: number;
  /**
   * Secrets Manager secret whose value (plain text) is a Slack incoming-webhook URL; Alertmanager
   * then also notifies Slack of warning and critical alerts. Synced by External Secrets, never put
   * in the template. A secret whose value is written into the template is rejected.
   * @default - no Slack notifications
   */
  readonly slackWebhook?: secretsmanager.ISecret;
  /**
   * Secrets Manager secret whose value (plain text) is a PagerDuty Events API v2 routing key;
   * Alertmanager then pages for critical alerts. Synced by External Secrets, never put in the template.
   * @default - no PagerDuty notifications
   */
  readonly pagerDutyKey?: secretsmanager.ISecret;
  /**
   * IPv4 CIDR blocks of the operators allowed to open Grafana and Kibana through their routes (a
   * Traefik ipAllowList middleware that checks the real client address behind the platform's ALB or
   * NLB); every other client gets 403. Public internet ranges only: the routes are behind an
   * internet-facing load balancer. `['0.0.0.0/0']` opens them to everyone (a synth warning).
   * @default - the cluster's `endpointAllowlist`; with `privateEndpointOnly`, the VPC CIDR (no
   * internet client matches it: use `kubectl port-forward`). When the cluster's public endpoint is
   * open to 0.0.0.0/0, synth fails when the profile's `requireDashboardAllowlist` is set (production) and warns otherwise.
   */
  readonly adminCidrs?: string[];
  /**
   * Secrets Manager secret with JSON keys `username` and `password` for Grafana's admin login.
   * @default - a generated secret (user `admin`) with the profile's `removalPolicy` (removed with the stack in development, retained in production)
   */
  readonly grafanaAdminSecret?: secretsmanager.ISecret;
  /**
   * How long Prometheus keeps samples (whole hours, at least 2 hours). A deploy-time value is passed on in
   * the unit it is given in (`Duration.days(<token>)` becomes `<n>d`).
   * @default - the profile's metricsRetention
   */
  readonly metricsRetention?: Duration;
  /**
   * Size of each Prometheus volume (gp3). Prometheus also deletes old data at 85% of it.
   * @default - the profile's `prometheusStorage` (Size.gibibytes(100) in production, Size.gibibytes(30) in development)
   */
  readonly prometheusStorage?: Size;
  /**
   * Size of the Grafana volume (gp3).
   * @default Size.gibibytes(10)
   */
  readonly grafanaStorage?: Size;
  /**
   * Container Insights: whether to install it, its add-on version and configuration.
   * @default - installed at the versions table's version with the library's configuration
   */
  readonly containerInsights?: FxContainerInsightsOptions;
  /**
   * Retention of the Container Insights log groups (application, host, dataplane, performance).
   * With `containerInsights.enabled` false, only with ELK (for the groups its Fluent Bit ships to).
   * @default - the profile's logRetention
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Thresholds of the platform alarms. With `containerInsights.enabled` false there are no node and
   * pod alarms, and their thresholds are rejected.
   * @default - per profile, see FxAlarmThresholds
   */
  readonly alarmThresholds?: FxAlarmThresholds;
  /**
   * Fraction of requests the X-Ray sampling rule traces beyond the first request each second (0 to 1).
   * Rejected with `containerInsights.enabled` false (no agent, no sampling rule).
   * @default - the profile's `traceSamplingRate` (0.05 in production, 0.2 in development)
   */
  readonly traceSamplingRate?: number;
  /**
   * Install log search: the ECK operator, Elasticsearch, Kibana and Fluent Bit, which then ships
   * every container's logs to both CloudWatch Logs and Elasticsearch (instead of the Container
   * Insights add-on's own Fluent Bit).
   * @default - the profile's elkEnabled (true in production, false in development)
   */
  readonly elk?: boolean;
  /**
   * Elasticsearch nodes (each master-eligible and data): 1, or 3 and more (a 2-node cluster cannot
   * elect a master when one node is lost). At least the profile's `elasticsearchMinNodes` (production: 3, spread over the zones).
   * @default - the profile's elasticsearchNodes (3 in production, 1 in development)
   */
  readonly elasticsearchNodes?: number;
  /**
   * Size of each Elasticsearch node's gp3 volume (whole GiB, at least 10 GiB).
   * @default - the profile's `elasticsearchStorage` (Size.gibibytes(100) in production, Size.gibibytes(20) in development)
   */
  readonly elasticsearchStorage?: Size;
  /**
   * Days log data stays in Elasticsearch after its index rolls over (daily), 1 to 3650.
   * @default - the profile's elasticsearchRetentionDays (30 in production, 7 in development)
   */
  readonly elasticsearchRetentionDays?: number;
  /**
   * Days each daily Elasticsearch snapshot is kept in the S3 snapshot bucket, 1 to 3650 and at
   * least `elasticsearchRetentionDays` (a snapshot must outlive the data it backs up).
   * @default - twice elasticsearchRetentionDays
   */
  readonly snapshotRetentionDays?: number;
  /**
   * Kibana replicas (1 to 10).
   * @default - the profile's kibanaReplicas (2 in production, 1 in development)
   */
  readonly kibanaReplicas?: number;
}
