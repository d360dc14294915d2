import { Names, Validations } from 'aws-cdk-lib';
import * as budgets from 'aws-cdk-lib/aws-budgets';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as xray from 'aws-cdk-lib/aws-xray';
import { Construct } from 'constructs';
import { resolveAdminAccess } from './admin-access';
import { createAlarmTopic, createBudget, createDatabaseAlarms, createPlatformAlarms, platformLoadBalancer } from './alarms';
import { ContainerInsights, createFluentBitLogGroups, OTLP_GRPC_ENDPOINT, OTLP_HTTP_ENDPOINT, validateContainerInsights } from './container-insights';
import { ElkStack } from './elk/elk';
import { acknowledgeElkFindings, acknowledgeGrafanaAdminSecret, acknowledgeObservabilityFindings } from './nag';
import { ALERTMANAGER_SERVICE_ACCOUNT_ID, MonitoringStack, NAMESPACE_CAPABILITY as MONITORING_NAMESPACE } from './prometheus-stack';
import { FxDatabaseAlarmThresholds, FxObservabilityProps } from './props';
import {
  prometheusRetention, resolveAlarmThresholds, resolveDatabaseThresholds, ResolvedAlarmThresholds, resolveElkSettings, validateBudget,
  validateEmails, validateProfileReplicas, validateProfileResources, validateRetention, validateSamplingRate, validateSecretReference,
  validateVolume, WHO,
} from './validation';
import type { IFxCluster } from '../cluster';
import { IFxWorkloadObservability } from '../core/contracts';
import { checkSameEnvironment } from '../core/environment';
import { atConstruct, check, profileSuffix, trackConstruct } from '../core/errors';
import { isDnsLabel } from '../core/k8s-names';
import { tagPlatform } from '../core/tags';

/** The alarm thresholds of Container Insights metrics (no such alarm without it). */
const INSIGHTS_THRESHOLDS = ['nodeCpuPercent', 'nodeMemoryPercent', 'nodeDiskPercent', 'failedNodes', 'podRestarts'] as const;

/**
 * Observability of an FxCluster: metrics, dashboards and alerts in the cluster (kube-prometheus-stack
 * with Prometheus, Alertmanager and Grafana), Container Insights metrics and logs in CloudWatch,
 * traces in X-Ray, CloudWatch alarms to an encrypted SNS topic, and a monthly cost budget.
 * `containerInsights: { enabled: false }` leaves out Container Insights and what depends on it (the
 * OTLP collector, the X-Ray sampling rule, the node and pod alarms; see FxContainerInsightsOptions).
 *
 * Pass it to each FxMicroservice (`observability`): services get the OTLP endpoint in their
 * environment and a request-rate/errors/duration Grafana dashboard. Call `watchDatabase()` for each
 * database to alarm on it.
 *
 * Grafana (and Kibana with ELK) is served on `grafana.<domain>` (`kibana.<domain>`) through Traefik
 * when the cluster has a domain, only to the operators' `adminCidrs` (a Traefik ipAllowList; by
 * default the cluster's endpoint allowlist) and behind Grafana's own login (admin credentials from
 * Secrets Manager; sign-up and anonymous access off); without a domain, reach it with
 * `kubectl port-forward`.
 */
export class FxObservability extends Construct implements IFxWorkloadObservability {
  /** OTLP/gRPC endpoint of the in-cluster CloudWatch agent (traces go to X-Ray); undefined without Container Insights. */
  public readonly otlpEndpoint?: string;
  /** OTLP/HTTP endpoint of the same agent, for SDKs that export over HTTP; undefined without Container Insights. */
  public readonly otlpHttpEndpoint?: string;
  /** The KMS-encrypted SNS topic every alarm and Alertmanager notify. */
  public readonly alarmTopic: sns.ITopic;
  /** The key encrypting the alarm topic. */
  public readonly alarmTopicKey: kms.IKey;
  /** The platform's CloudWatch dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;
  /**
   * The platform alarms: node CPU, memory, disk, failed nodes and pod restarts (with Container
   * Insights), load balancer 5xx and latency (with the platform's ALB).
   */
  public readonly alarms: cloudwatch.IAlarm[];
  /** The kube-prometheus-stack Helm release (provides the prometheus-operator CRDs). */
  public readonly prometheusStack: eks.HelmChart;
  /** The Container Insights EKS add-on, unless `containerInsights.enabled` is false. */
  public readonly containerInsightsAddon?: eks.CfnAddon;
  /**
   * The Container Insights log groups: application, host, dataplane and performance; with
   * Container Insights off, application, host and dataplane when ELK ships to them, else none.
   */
  public readonly logGroups: logs.ILogGroup[];
  /** The key encrypting the Container Insights log groups, when there are any. */
  public readonly logKey?: kms.IKey;
  /** The X-Ray sampling rule, unless `containerInsights.enabled` is false. */
  public readonly samplingRule?: xray.CfnSamplingRule;
  /** Secrets Manager secret with Grafana's admin `username` and `password`. */
  public readonly grafanaAdminSecret: secretsmanager.ISecret;
  /** Host name of Grafana when the cluster has a domain. */
  public readonly grafanaHost?: string;
  /** The monthly cost budget, when `monthlyBudget` is set. */
  public readonly budget?: budgets.CfnBudget;
  /** The ECK operator Helm release (provides the `k8s.elastic.co` CRDs), when ELK is installed. */
  public readonly eckOperator?: eks.HelmChart;
  /** The manifest with the Elasticsearch and Kibana resources, when ELK is installed. */
  public readonly elasticsearch?: eks.KubernetesManifest;
  /** The Fluent Bit release shipping logs to CloudWatch Logs and Elasticsearch, when ELK is installed. */
  public readonly logShipper?: eks.HelmChart;
  /** The manifest of the Job that applies the lifecycle and snapshot policies and the Kibana dashboard, when ELK is installed. */
  public readonly elasticsearchSetup?: eks.KubernetesManifest;
  /** The retained, KMS-encrypted S3 bucket of the Elasticsearch snapshot repository, when ELK is installed. */
  public readonly snapshotBucket?: s3.IBucket;
  /** The key encrypting the snapshot bucket, when ELK is installed. */
  public readonly snapshotKey?: kms.IKey;
  /** Host name of Kibana when ELK is installed and the cluster has a domain. */
  public readonly kibanaHost?: string;
  /**
   * CIDR blocks allowed to reach the Grafana and Kibana routes (`adminCidrs`, or its default from the
   * cluster's endpoint allowlist); empty when the cluster has no domain and nothing is routed.
   */
  public readonly adminCidrs: string[];

  /** The cluster this stack observes (services reporting to it must run on it). */
  public readonly cluster: IFxCluster;
  private readonly thresholds: ResolvedAlarmThresholds;
  private readonly monitoring: MonitoringStack;
  private readonly watched = new Set<string>();

  constructor(scope: Construct, id: string, props: FxObservabilityProps) {
    super(scope, id);
    trackConstruct(this);
    const cluster = props.cluster;
    check(cluster !== undefined && cluster !== null, WHO, 'cluster', cluster, 'an FxCluster');
    checkSameEnvironment(this, WHO, 'cluster', cluster);
    // In the cluster's stack its service account is under the cluster; in another stack, the namespace is registered.
    check(!cluster.node.tryFindChild(ALERTMANAGER_SERVICE_ACCOUNT_ID) && !cluster.hasCapability(MONITORING_NAMESPACE), WHO, 'cluster', cluster.node.path,
      'a cluster without another FxObservability (one monitoring stack per cluster)');
    const settings = cluster.profile.settings;
    const emails = props.alarmEmails ?? [];
    const logRetention = props.logRetention ?? settings.logRetention;
    const traceSamplingRate = props.traceSamplingRate ?? settings.traceSamplingRate;
    const elk = props.elk ?? settings.elkEnabled;
    const insights = validateContainerInsights(WHO, cluster, props.containerInsights, elk);
    if (!insights.enabled) {
      const unused = [
        ...(props.traceSamplingRate !== undefined ? ['traceSamplingRate'] : []),
        ...(props.logRetention !== undefined && !elk ? ['logRetention'] : []),
        ...INSIGHTS_THRESHOLDS.filter((k) => props.alarmThresholds?.[k] !== undefined).map((k) => `alarmThresholds.${k}`),
      ];
      check(unused.length === 0, WHO, unused.join(', '), 'set while containerInsights.enabled is false',
        'Container Insights settings only when it is installed (logRetention also with elk, for the log groups ELK ships to)');
    }

    validateEmails(emails);
    validateRetention(logRetention);
    const fromProfile = (given: unknown, prop: string) => (given === undefined ? `${prop}${profileSuffix(cluster.profile.name)}` : prop);
    validateSamplingRate(traceSamplingRate, fromProfile(props.traceSamplingRate, 'traceSamplingRate'));
    const retention = prometheusRetention(props.metricsRetention ?? settings.metricsRetention, fromProfile(props.metricsRetention, 'metricsRetention'));
    const prometheusStorageGiB = validateVolume(fromProfile(props.prometheusStorage, 'prometheusStorage'),
      props.prometheusStorage ?? settings.prometheusStorage);
    const grafanaStorageGiB = props.grafanaStorage ? validateVolume('grafanaStorage', props.grafanaStorage) : 10;
    validateProfileReplicas(cluster.profile, 'prometheusReplicas');
    validateProfileReplicas(cluster.profile, 'alertmanagerReplicas');
    validateProfileResources(cluster.profile, elk);
    this.thresholds = resolveAlarmThresholds(cluster.profile, props.alarmThresholds);
    if (props.monthlyBudget !== undefined) validateBudget(props.monthlyBudget, emails);
    if (props.slackWebhook) validateSecretReference('slackWebhook', props.slackWebhook, 'Slack webhook URL');
    if (props.pagerDutyKey) validateSecretReference('pagerDutyKey', props.pagerDutyKey, 'PagerDuty routing key');
    const elkProps = {
      elasticsearchNodes: props.elasticsearchNodes,
      elasticsearchStorage: props.elasticsearchStorage,
      elasticsearchRetentionDays: props.elasticsearchRetentionDays,
      snapshotRetentionDays: props.snapshotRetentionDays,
      kibanaReplicas: props.kibanaReplicas,
    };
    const elkGiven = Object.entries(elkProps).filter(([, v]) => v !== undefined).map(([k]) => k);
    check(elk || elkGiven.length === 0, WHO, elkGiven.join(', '), 'set while elk is false', 'ELK settings only when elk is true (or the profile enables ELK)');
    const elkSettings = elk ? resolveElkSettings(cluster.profile, elkProps) : undefined;
    const adminAccess = resolveAdminAccess(cluster, props.adminCidrs, this);
    this.adminCidrs = adminAccess.cidrs;
    this.cluster = cluster;
    tagPlatform(this, cluster.platformName, 'observability');

    const { key, topic } = createAlarmTopic(this, cluster.platformName, emails);
    this.alarmTopicKey = key;
    this.alarmTopic = topic;
    this.grafanaAdminSecret = props.grafanaAdminSecret ?? this.createGrafanaAdminSecret();

    this.monitoring = new MonitoringStack({
      cluster,
      scope: this,
      alarmTopic: topic,
      grafanaAdminSecret: this.grafanaAdminSecret,
      slackWebhook: props.slackWebhook,
      pagerDutyKey: props.pagerDutyKey,
      retention,
      prometheusStorageGiB,
      grafanaStorageGiB,
      adminAccess,
    });
    this.prometheusStack = this.monitoring.chart;
    this.grafanaHost = this.monitoring.grafanaHost;

    const agent = insights.enabled ? new ContainerInsights(this, {
      cluster, logRetention, traceSamplingRate, containerLogs: !elk, addonVersion: insights.addonVersion, configuration: insights.configuration,
    }) : undefined;
    // Without the agent, ELK's Fluent Bit still ships to the application, host and dataplane groups.
    const groups = agent ?? (elkSettings ? createFluentBitLogGroups(this, cluster, logRetention) : undefined);
    this.containerInsightsAddon = agent?.addon;
    this.logGroups = groups?.logGroups ?? [];
    this.logKey = groups?.logKey;
    this.samplingRule = agent?.samplingRule;
    this.otlpEndpoint = agent ? OTLP_GRPC_ENDPOINT : undefined;
    this.otlpHttpEndpoint = agent ? OTLP_HTTP_ENDPOINT : undefined;
    if (elkSettings) {
      const stack = new ElkStack(this, { cluster, ...elkSettings, logGroups: this.logGroups, adminAccess });
      this.eckOperator = stack.operator;
      this.elasticsearch = stack.elasticsearch;
      this.logShipper = stack.fluentBit;
      this.elasticsearchSetup = stack.setup;
      this.snapshotBucket = stack.snapshotBucket;
      this.snapshotKey = stack.snapshotKey;
      this.kibanaHost = stack.kibanaHost;
      acknowledgeElkFindings({
        fluentBit: stack.fluentBitServiceAccount,
        snapshotRole: stack.elasticsearchRole,
        snapshotBucket: stack.snapshotBucket,
        shipperSecret: stack.shipperSecret,
      });
    }

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: Names.uniqueResourceName(this, { maxLength: 255, separator: '-' }),
    });
    this.alarms = createPlatformAlarms(this, {
      clusterName: cluster.cluster.clusterName,
      topic,
      thresholds: this.thresholds,
      containerInsights: insights.enabled,
      dashboard: this.dashboard,
      loadBalancer: platformLoadBalancer(cluster),
    });

    if (props.monthlyBudget !== undefined) {
      this.budget = createBudget(this, props.monthlyBudget, emails, topic, cluster.platformName);
    }

    acknowledgeObservabilityFindings(cluster, {
      alertmanager: this.monitoring.alertmanagerServiceAccount,
      grafana: this.monitoring.grafanaServiceAccount,
      cloudWatchAgent: agent?.role,
    });
  }

  /**
   * The request-rate/errors/duration Grafana dashboard of one service: a ConfigMap in the service's
   * namespace that FxMicroservice puts into its own manifest.
   *
   * @param namespace the service's namespace
   * @param serviceName the service's Kubernetes Service name
   */
  public serviceDashboard(namespace: string, serviceName: string): { [key: string]: any } {
    check(isDnsLabel(namespace), WHO, 'serviceDashboard.namespace', namespace, 'a DNS label (lowercase letters, digits, -)');
    check(isDnsLabel(serviceName), WHO, 'serviceDashboard.serviceName', serviceName, 'a DNS label (lowercase letters, digits, -)');
    return this.monitoring.serviceDashboardConfigMap(namespace, serviceName);
  }

  /**
   * Alarms on an RDS instance (CPU, free storage, connections, read and write latency) to the alarm
   * topic, and adds its graphs to the dashboard.
   *
   * @param database the instance, e.g. FxDatabase's `instance`
   * @param thresholds overrides of the profile's thresholds
   */
  public watchDatabase(database: rds.IDatabaseInstance, thresholds?: FxDatabaseAlarmThresholds): cloudwatch.IAlarm[] {
    const id = `Database${Names.nodeUniqueId(database.node)}`;
    const resolved = atConstruct(this, () => {
      check(!this.watched.has(id), WHO, 'watchDatabase.database', database.node.path, 'each database once');
      return resolveDatabaseThresholds(this.cluster.profile, thresholds);
    });
    this.watched.add(id);
    return createDatabaseAlarms(new Construct(this, id), database, resolved, this.thresholds.evaluationPeriods, this.alarmTopic, this.dashboard);
  }

  private createGrafanaAdminSecret(): secretsmanager.Secret {
    // No fixed name: External Secrets reads it by ARN, and a generated name never collides with what
    // a rolled-back or destroyed stack left behind.
    const secret = new secretsmanager.Secret(this, 'GrafanaAdminSecret', {
      description: `Fx platform ${this.cluster.platformName}: Grafana admin login`,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ username: 'admin' }),
        generateStringKey: 'password',
        passwordLength: 32,
        excludePunctuation: true,
      },
      removalPolicy: this.cluster.profile.settings.removalPolicy,
    });
    acknowledgeGrafanaAdminSecret(secret);
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'Grafana reads the admin password only when it initialises its database, so a rotated secret would no longer match '
        + 'the stored login. Rotate through Grafana (grafana cli admin reset-admin-password) and update the secret together.',
    });
    return secret;
  }
}
