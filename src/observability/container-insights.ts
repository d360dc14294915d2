import { ArnFormat, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as xray from 'aws-cdk-lib/aws-xray';
import { Construct } from 'constructs';
import type { IFxCluster } from '../cluster';
import type { FxContainerInsightsOptions } from './props';
import { mergeValues } from '../cluster/addon-values';
import { check } from '../core/errors';
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

/** The log groups ELK's Fluent Bit writes (the CloudWatch agent alone writes `performance`). */
const FLUENT_BIT_LOG_GROUPS = ['application', 'host', 'dataplane'];
/** What a version override must look like (the form FxCluster's `managedAddonVersions` takes). */
const EKS_ADDON_VERSION = /^v\d+\.\d+\.\d+-eksbuild\.\d+$/;

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
  /** Exact add-on version (validated by `validateContainerInsights`). */
  readonly addonVersion: string;
  /** Configuration deep-merged over the library's (validated by `validateContainerInsights`). */
  readonly configuration?: { [key: string]: any };
}

/** The Container Insights log groups and their key. @internal */
export interface ContainerLogGroups {
  readonly logKey: kms.Key;
  readonly logGroups: logs.LogGroup[];
}

/**
 * The Container Insights log groups `names` of the cluster (`/aws/containerinsights/<cluster>/<name>`),
 * created first, with retention and a customer-managed key, so that no agent creates unencrypted,
 * never-expiring ones. Created under `scope` with the construct ids they have always had.
 *
 * @internal
 */
export function createContainerLogGroups(scope: Construct, cluster: IFxCluster, logRetention: logs.RetentionDays,
  names: string[] = CONTAINER_INSIGHTS_LOG_GROUPS): ContainerLogGroups {
  const stack = Stack.of(scope);
  const groupArns = logGroupArns(scope, cluster);
  const logKey = new kms.Key(scope, 'LogKey', {
    description: `Fx platform ${cluster.platformName}: encrypts the Container Insights log groups`,
    enableKeyRotation: true,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  logKey.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'AllowCloudWatchLogs',
    principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
    actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:DescribeKey'],
    resources: ['*'],
    conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': groupArns } },
  }));
  const logGroups = names.map((name) => new logs.LogGroup(scope, `${capitalize(name)}Logs`, {
    logGroupName: `${logGroupPrefix(cluster)}/${name}`,
    retention: logRetention,
    encryptionKey: logKey,
    // The agents write to these fixed names: never plain RETAIN (see FxProfileSettings.removalPolicy).
    removalPolicy: cluster.profile.settings.removalPolicy,
  }));
  return { logKey, logGroups };
}

/**
 * The log groups ELK's Fluent Bit writes to when Container Insights is off: application, host and
 * dataplane (not `performance`, which only the CloudWatch agent writes).
 *
 * @internal
 */
export function createFluentBitLogGroups(scope: Construct, cluster: IFxCluster, logRetention: logs.RetentionDays): ContainerLogGroups {
  return createContainerLogGroups(scope, cluster, logRetention, FLUENT_BIT_LOG_GROUPS);
}

/** What `FxContainerInsightsOptions` resolves to. @internal */
export interface ResolvedContainerInsights {
  readonly enabled: boolean;
  readonly addonVersion: string;
  readonly configuration?: { [key: string]: any };
}

/**
 * Validates `containerInsights` (`who` names FxObservability and its path): a boolean `enabled`, an
 * exact `eksbuild` version (or a token), a JSON object as configuration, and with ELK no
 * `containerLogs.enabled: true` (two Fluent Bits would ship every line twice). Options other than
 * `enabled` are rejected when it is false.
 *
 * @internal
 */
export function validateContainerInsights(who: string, cluster: IFxCluster, options: FxContainerInsightsOptions | undefined,
  elk: boolean): ResolvedContainerInsights {
  const o = options ?? {};
  const enabled = o.enabled ?? true;
  check(typeof enabled === 'boolean', who, 'containerInsights.enabled', enabled, 'true or false');
  if (!enabled) {
    const given = (['addonVersion', 'configuration'] as const).filter((k) => o[k] !== undefined).map((k) => `containerInsights.${k}`);
    check(given.length === 0, who, given.join(', '), 'set while containerInsights.enabled is false', 'add-on settings only when Container Insights is installed');
  }
  const addonVersion = o.addonVersion ?? cluster.versions.addons.cloudWatchObservability;
  if (o.addonVersion !== undefined) {
    check(typeof o.addonVersion === 'string' && (Token.isUnresolved(o.addonVersion) || EKS_ADDON_VERSION.test(o.addonVersion)), who,
      'containerInsights.addonVersion', o.addonVersion, 'an exact EKS add-on version such as v4.6.0-eksbuild.1');
  }
  const configuration = o.configuration;
  if (configuration !== undefined && !Token.isUnresolved(configuration)) {
    check(isPlainObject(configuration), who, 'containerInsights.configuration', configuration,
      'a JSON object of the add-on\'s configuration values (aws eks describe-addon-configuration)');
    checkJson(who, 'containerInsights.configuration', configuration);
    const containerLogs = configuration.containerLogs;
    check(!(elk && isPlainObject(containerLogs) && containerLogs.enabled === true), who, 'containerInsights.configuration.containerLogs.enabled',
      true, 'false or unset while elk is true (ELK\'s Fluent Bit ships the container logs; two agents would ship every line twice)');
  }
  return { enabled, addonVersion, configuration };
}

/** Every value under `value` is JSON (or a token): no undefined, functions, class instances or non-finite numbers. */
function checkJson(who: string, at: string, value: unknown): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean' || Token.isUnresolved(value)) return;
  if (typeof value === 'number') {
    check(Number.isFinite(value), who, at, value, 'JSON values: strings, finite numbers, booleans, null, arrays and objects');
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => checkJson(who, `${at}[${i}]`, v));
    return;
  }
  check(isPlainObject(value), who, at, describe(value), 'JSON values: strings, finite numbers, booleans, null, arrays and objects');
  for (const [k, v] of Object.entries(value as object)) checkJson(who, `${at}.${k}`, v);
}

/** The value as given where it prints as itself, else what it is (a function, a Date, ...). */
function describe(value: unknown): unknown {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object' && value !== null) return `a ${(value as object).constructor?.name ?? 'null-prototype object'}`;
  return value;
}

function hasToken(value: unknown): boolean {
  if (Token.isUnresolved(value)) return true;
  if (Array.isArray(value)) return value.some(hasToken);
  return isPlainObject(value) && Object.values(value).some(hasToken);
}

function isPlainObject(x: unknown): x is { [key: string]: any } {
  return x !== null && typeof x === 'object' && !Array.isArray(x) && Object.getPrototypeOf(x) === Object.prototype;
}

/**
 * CloudWatch Container Insights (enhanced observability) and X-Ray tracing through the EKS add-on
 * `amazon-cloudwatch-observability`: the CloudWatch agent DaemonSet collects node/pod metrics and
 * receives OTLP traces (gRPC 4317, HTTP 4318; its operator opens these Service ports because the
 * agent configuration lists them) that it exports to X-Ray; its Fluent Bit ships application, host
 * and dataplane logs (the add-on's kubernetes filter merges JSON log lines into fields). The four log
 * groups are created first (`createContainerLogGroups`). The agent's AWS access is a Pod Identity
 * role. Only created when `containerInsights.enabled` is not false.
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
    const groupArns = logGroupArns(scope, cluster);

    const groups = createContainerLogGroups(scope, cluster, props.logRetention);
    this.logKey = groups.logKey;
    this.logGroups = groups.logGroups;

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

    const configuration = mergeValues({
      agent: {
        config: {
          logs: { metrics_collected: { kubernetes: { enhanced_container_insights: true } } },
          traces: { traces_collected: { otlp: { grpc_endpoint: '0.0.0.0:4317', http_endpoint: '0.0.0.0:4318' } } },
        },
      },
      containerLogs: { enabled: props.containerLogs },
    }, props.configuration);
    this.addon = new eks.CfnAddon(scope, 'CloudWatchObservabilityAddon', {
      clusterName,
      addonName: CLOUDWATCH_ADDON,
      addonVersion: props.addonVersion,
      resolveConflicts: 'OVERWRITE',
      // A token in the user's configuration: toJsonString resolves it into valid JSON.
      configurationValues: hasToken(configuration) ? stack.toJsonString(configuration) : JSON.stringify(configuration),
      podIdentityAssociations: [{ serviceAccount: CLOUDWATCH_SERVICE_ACCOUNT, roleArn: this.role.roleArn }],
      preserveOnDelete: false,
    });
    this.addon.node.addDependency(...this.logGroups);
    cluster.installAfter(this.addon, FxCapability.NODES, FxCapability.POD_IDENTITY);

    // The agent reads this rule (xray:GetSamplingRules) for the traces it receives over OTLP.
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

function logGroupPrefix(cluster: IFxCluster): string {
  return `/aws/containerinsights/${cluster.cluster.clusterName}`;
}

function logGroupArns(scope: Construct, cluster: IFxCluster): string {
  return Stack.of(scope).formatArn({ service: 'logs', resource: 'log-group', resourceName: `${logGroupPrefix(cluster)}/*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
