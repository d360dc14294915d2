import { CfnResource, Duration, Size, SizeRoundingBehavior, Stack, Token, Tokenization } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { FxAlarmThresholds, FxDatabaseAlarmThresholds } from './props';
import { check, checkKnownAtSynth, checkSizeToken, FxValidationError, isEmail, profileSuffix, tokenDescription } from '../core/errors';
import { explainNeeds, FxCapability } from '../core/install-order';
import { isQuantity, quantityValue } from '../core/k8s-names';
import { FxProfile } from '../core/profile';

export const WHO = 'FxObservability';

// What makes FxObservability need each capability: a need nobody provides names the cause.
explainNeeds(WHO, {
  [FxCapability.NODES]: 'its monitoring pods',
  [FxCapability.POD_IDENTITY]: 'the AWS access of Grafana, Alertmanager, Container Insights and Fluent Bit',
  [FxCapability.STORAGE_CLASSES]: "prop 'prometheusStorage' and the other volumes, on the gp3 StorageClass",
  [FxCapability.TRAEFIK_CRDS]: 'the Grafana and Kibana routes (the cluster has a domain)',
  [FxCapability.TRAEFIK_MIDDLEWARES]: 'the Grafana and Kibana routes (the cluster has a domain)',
  [FxCapability.PROMETHEUS_OPERATOR_CRDS]: "prop 'elk', the Fluent Bit ServiceMonitor",
  [FxCapability.EXTERNAL_SECRETS_CRDS]: "the Grafana admin secret and props 'slackWebhook' and 'pagerDutyKey', which External Secrets syncs",
  [FxCapability.EXTERNAL_SECRETS_WEBHOOK]: "the Grafana admin secret and props 'slackWebhook' and 'pagerDutyKey', which External Secrets syncs",
});

// Practical address check (local@domain.tld); SNS and Budgets reject anything stranger anyway.
// A PagerDuty integration/routing key is 32 lowercase alphanumerics: a secret *named* like that is
// almost certainly the key itself pasted where the secret belongs.
const PAGERDUTY_KEY = /^[a-z0-9]{32}$/;
const RETENTION_VALUES = new Set(Object.values(logs.RetentionDays).filter((v) => typeof v === 'number') as number[]);
/** AWS Budgets accepts at most 10 e-mail subscribers per notification. */
export const MAX_BUDGET_EMAILS = 10;

/** Thresholds with every default filled in. @internal */
export interface ResolvedAlarmThresholds {
  readonly nodeCpuPercent: number;
  readonly nodeMemoryPercent: number;
  readonly nodeDiskPercent: number;
  readonly podRestarts: number;
  readonly failedNodes: number;
  readonly loadBalancer5xxCount: number;
  readonly targetResponseTime: Duration;
  readonly evaluationPeriods: number;
}

/** @internal */
export interface ResolvedDatabaseThresholds {
  readonly cpuPercent: number;
  readonly freeStorage: Size;
  readonly connections: number;
  readonly readLatency: Duration;
  readonly writeLatency: Duration;
}

/** @internal */
export function validateEmails(emails: string[]): void {
  // A CommaDelimitedList parameter: its addresses cannot be counted or subscribed one by one at synth.
  if (Token.isUnresolved(emails)) {
    throw new FxValidationError(WHO, 'alarmEmails', '(a deploy-time list)',
      'a list known at synth (each address is its own SNS subscription); its elements may be deploy-time values');
  }
  const seen = new Set<string>();
  emails.forEach((email, i) => {
    check(typeof email === 'string' && isEmail(email), WHO, `alarmEmails[${i}]`, email, 'an e-mail address such as ops@example.com');
    check(!seen.has(email.toLowerCase()), WHO, `alarmEmails[${i}]`, email, 'each address once');
    seen.add(email.toLowerCase());
  });
}

/** @internal */
export function validateRetention(retention: logs.RetentionDays): void {
  check(RETENTION_VALUES.has(retention), WHO, 'logRetention', retention,
    `a retention CloudWatch Logs supports (logs.RetentionDays): ${[...RETENTION_VALUES].sort((a, b) => a - b).join(', ')} days`);
}

/** Prometheus' `retention` string for a Duration (`30d`, or `36h` when not whole days). @internal */
export function prometheusRetention(retention: Duration, prop = 'metricsRetention'): string {
  if (retention.isUnresolved()) {
    // Prometheus reads a unit suffix, so a deploy-time number is passed on in the unit it was given in.
    const units: [string, () => number][] = [['d', () => retention.toDays()], ['h', () => retention.toHours()], ['m', () => retention.toMinutes()], ['s', () => retention.toSeconds()]];
    for (const [suffix, read] of units) {
      try {
        return `${Tokenization.stringifyNumber(read())}${suffix}`;
      } catch {
        // another unit
      }
    }
    throw new FxValidationError(WHO, prop, tokenDescription(retention), 'a deploy-time value only as Duration.days/hours/minutes/seconds(<token>)');
  }
  const seconds = retention.toSeconds();
  check(seconds >= 7200 && seconds <= 3650 * 86400 && seconds % 3600 === 0, WHO, prop, retention.toHumanString(),
    'whole hours from 2 hours (one Prometheus block) to 3650 days');
  return seconds % 86400 === 0 ? `${seconds / 86400}d` : `${seconds / 3600}h`;
}

/** @internal */
export function validateVolume(prop: string, size: Size): number {
  if (size.isUnresolved()) {
    // A deploy-time size reaches the Helm values and manifests as `<token>Gi` (CloudFormation joins it in); only
    // gibibytes can be passed on without converting the unknown number.
    try {
      return size.toGibibytes({ rounding: SizeRoundingBehavior.NONE });
    } catch {
      throw new FxValidationError(WHO, prop, tokenDescription(size), 'a deploy-time value only as Size.gibibytes(<token>) (whole GiB of a gp3 volume)');
    }
  }
  const gib = size.toGibibytes({ rounding: SizeRoundingBehavior.NONE });
  check(Number.isInteger(gib) && gib >= 1 && gib <= 16384, WHO, prop,
    Number.isInteger(gib) ? `${gib} GiB` : `${size.toMebibytes({ rounding: SizeRoundingBehavior.NONE })} MiB`,
    'whole GiB from 1 to 16384 (gp3 volume sizes)');
  return gib;
}

/**
 * Replicas of a monitoring component from the profile (`prometheusReplicas`, `alertmanagerReplicas`):
 * Helm writes them into an int32 `replicas`.
 *
 * @internal
 */
export function validateProfileReplicas(profile: FxProfile, setting: 'prometheusReplicas' | 'alertmanagerReplicas'): number {
  const replicas = profile.settings[setting];
  check(Number.isInteger(replicas) && replicas >= 1 && replicas <= 10, WHO, `${setting}${profileSuffix(profile.name)}`, replicas, 'an integer from 1 to 10');
  return replicas;
}

/**
 * Requests and limits the profile sets on Prometheus (always) and Elasticsearch and Kibana (with ELK):
 * Kubernetes quantities, the memory limit at least the request, the JVM heap a `-Xmx` size.
 *
 * @internal
 */
export function validateProfileResources(profile: FxProfile, elk: boolean): void {
  const s = profile.settings;
  const prop = (name: string) => `${name}${profileSuffix(profile.name)}`;
  const quantities: [string, string][] = [['prometheusCpuRequest', s.prometheusCpuRequest], ['prometheusMemoryRequest', s.prometheusMemoryRequest],
    ['prometheusMemoryLimit', s.prometheusMemoryLimit]];
  if (elk) quantities.push(['elasticsearchMemory', s.elasticsearchMemory], ['elasticsearchCpuRequest', s.elasticsearchCpuRequest], ['kibanaCpuRequest', s.kibanaCpuRequest]);
  for (const [name, value] of quantities) {
    check(isQuantity(value) && quantityValue(value) > 0, WHO, prop(name), value, "a positive Kubernetes quantity such as '500m', '2Gi'");
  }
  check(quantityValue(s.prometheusMemoryLimit) >= quantityValue(s.prometheusMemoryRequest), WHO, prop('prometheusMemoryLimit'), s.prometheusMemoryLimit,
    `at least prometheusMemoryRequest (${s.prometheusMemoryRequest})`);
  if (elk) {
    const heap = JVM_SIZE.exec(s.elasticsearchHeap);
    check(heap !== null, WHO, prop('elasticsearchHeap'), s.elasticsearchHeap, "a JVM heap size such as '1g' or '512m'");
    // Compared only when both are known at synth.
    if (heap && !Token.isUnresolved(s.elasticsearchMemory)) {
      const bytes = Number(heap[1]) * JVM_UNITS[heap[2].toLowerCase()];
      check(bytes < quantityValue(s.elasticsearchMemory), WHO, prop('elasticsearchHeap'), s.elasticsearchHeap,
        `a heap below elasticsearchMemory (${s.elasticsearchMemory}): the JVM needs memory beyond its heap (Elastic recommends at most half)`);
    }
  }
}

/** A JVM `-Xmx` size: a number and a k, m or g suffix (either case). */
const JVM_SIZE = /^([1-9]\d*)([kKmMgG])$/;
const JVM_UNITS: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** @internal */
export function validateSamplingRate(rate: number, prop = 'traceSamplingRate'): void {
  check(Number.isFinite(rate) && rate >= 0 && rate <= 1, WHO, prop, rate, 'a fraction from 0 to 1');
}

/** @internal */
export function validateBudget(amount: number, emails: string[]): void {
  check(Number.isFinite(amount) && amount > 0 && amount <= 1e9, WHO, 'monthlyBudget', amount, 'a positive amount of USD');
  // AWS Budgets reads the amount as a plain decimal ([0-9]*.)?[0-9]+: no exponent, and cents at least.
  check(amount >= 0.01 && /^([0-9]*\.)?[0-9]+$/.test(String(amount)), WHO, 'monthlyBudget', amount,
    'an amount of USD of at least 0.01, written as a plain decimal (AWS Budgets)');
  check(emails.length <= MAX_BUDGET_EMAILS, WHO, 'alarmEmails', emails,
    `at most ${MAX_BUDGET_EMAILS} addresses when monthlyBudget is set (AWS Budgets' limit per notification)`);
}

/** The alarm thresholds of a profile, overridden by the user's, validated. @internal */
export function resolveAlarmThresholds(profile: FxProfile, given: FxAlarmThresholds = {}): ResolvedAlarmThresholds {
  const s = profile.settings;
  const t: ResolvedAlarmThresholds = {
    nodeCpuPercent: given.nodeCpuPercent ?? s.alarmNodeCpuPercent,
    nodeMemoryPercent: given.nodeMemoryPercent ?? s.alarmNodeMemoryPercent,
    nodeDiskPercent: given.nodeDiskPercent ?? s.alarmNodeDiskPercent,
    podRestarts: given.podRestarts ?? s.alarmPodRestarts,
    failedNodes: given.failedNodes ?? 1,
    loadBalancer5xxCount: given.loadBalancer5xxCount ?? s.alarmLoadBalancer5xxCount,
    targetResponseTime: given.targetResponseTime ?? s.alarmTargetResponseTime,
    evaluationPeriods: given.evaluationPeriods ?? s.alarmEvaluationPeriods,
  };
  // A threshold the user did not set is the profile's: the message says so.
  const at = (key: keyof FxAlarmThresholds) => `alarmThresholds.${key}${given[key] === undefined && key !== 'failedNodes' ? `${profileSuffix(profile.name)}` : ''}`;
  percent(at('nodeCpuPercent'), t.nodeCpuPercent);
  percent(at('nodeMemoryPercent'), t.nodeMemoryPercent);
  percent(at('nodeDiskPercent'), t.nodeDiskPercent);
  count(at('podRestarts'), t.podRestarts);
  count(at('failedNodes'), t.failedNodes);
  count(at('loadBalancer5xxCount'), t.loadBalancer5xxCount);
  latency(at('targetResponseTime'), t.targetResponseTime, 300_000);
  check(Number.isInteger(t.evaluationPeriods) && t.evaluationPeriods >= 1 && t.evaluationPeriods <= 288, WHO,
    at('evaluationPeriods'), t.evaluationPeriods, 'an integer from 1 to 288 (5-minute periods, at most one day)');
  return t;
}

/** @internal */
export function resolveDatabaseThresholds(profile: FxProfile, given: FxDatabaseAlarmThresholds = {}): ResolvedDatabaseThresholds {
  const s = profile.settings;
  const t: ResolvedDatabaseThresholds = {
    cpuPercent: given.cpuPercent ?? s.alarmDatabaseCpuPercent,
    freeStorage: given.freeStorage ?? s.alarmDatabaseFreeStorage,
    connections: given.connections ?? s.alarmDatabaseConnections,
    readLatency: given.readLatency ?? s.alarmDatabaseReadLatency,
    writeLatency: given.writeLatency ?? s.alarmDatabaseWriteLatency,
  };
  const at = (key: keyof FxDatabaseAlarmThresholds) => `watchDatabase.${key}${given[key] === undefined ? `${profileSuffix(profile.name)}` : ''}`;
  percent(at('cpuPercent'), t.cpuPercent);
  // The alarm threshold is in bytes: a deploy-time size passes only in bytes (another unit cannot be converted at synth).
  checkSizeToken(t.freeStorage, WHO, at('freeStorage'), 'bytes');
  if (!t.freeStorage.isUnresolved()) {
    const bytes = t.freeStorage.toBytes();
    check(bytes >= 2 ** 20 && bytes <= 64 * 2 ** 40, WHO, at('freeStorage'), `${bytes} bytes`, 'from 1 MiB to 64 TiB (the RDS storage maximum)');
  }
  count(at('connections'), t.connections);
  latency(at('readLatency'), t.readLatency, 10_000);
  latency(at('writeLatency'), t.writeLatency, 10_000);
  return t;
}

/**
 * Rejects secrets that are a plain string in disguise: a secret whose value is written into the
 * template (`SecretValue.unsafePlainText`, a literal `secretStringValue` or `secretObjectValue`), or
 * an imported secret whose *name* is the webhook URL or the routing key itself.
 *
 * @internal
 */
export function validateSecretReference(prop: string, secret: secretsmanager.ISecret, what: string): void {
  const allowed = `a Secrets Manager secret that holds the ${what} (create it outside the template, or generate it), never the ${what} itself`;
  const cfn = secret.node.defaultChild;
  if (cfn instanceof CfnResource && cfn.cfnResourceType === 'AWS::SecretsManager::Secret') {
    const resolved = Stack.of(secret).resolve((cfn as secretsmanager.CfnSecret).secretString);
    // A dynamic reference ({{resolve:...}}) or a generated value is fine; a literal string is the secret in clear text.
    const literal = typeof resolved === 'string' && !resolved.startsWith('{{resolve:');
    check(!literal, WHO, prop, `secret ${secret.node.path} with its value in the template`, allowed);
  }
  const name = secretNameOf(secret);
  if (name !== undefined && !Token.isUnresolved(name)) {
    check(!/^https?:|hooks\.slack\.com/i.test(name) && !PAGERDUTY_KEY.test(name), WHO, prop, redact(name), allowed);
  }
}

function secretNameOf(secret: secretsmanager.ISecret): string | undefined {
  try {
    return secret.secretName;
  } catch {
    return undefined;
  }
}

/** The first characters of something that may be a credential, so errors never print it whole. */
function redact(value: string): string {
  return value.length <= 12 ? '***' : `${value.slice(0, 12)}***`;
}

function percent(prop: string, value: number): void {
  check(Number.isFinite(value) && value > 0 && value <= 100, WHO, prop, value, 'a percentage above 0 and at most 100');
}

function count(prop: string, value: number): void {
  check(Number.isInteger(value) && value >= 1, WHO, prop, value, 'an integer of at least 1');
  check(value <= INT32_MAX, WHO, prop, value, `an integer from 1 to ${INT32_MAX}`);
}

/** Largest Kubernetes/PromQL-side int32 count. */
const INT32_MAX = 2 ** 31 - 1;

/**
 * The seconds of a deploy-time Duration: only a `Duration.seconds(<token>)` converts without
 * arithmetic on the token (aws-cdk-lib refuses to convert other units of a token).
 */
function deployTimeSeconds(prop: string, value: Duration): number {
  try {
    return value.toSeconds();
  } catch {
    throw new FxValidationError(WHO, prop, tokenDescription(value), 'a deploy-time value only as Duration.seconds(<token>)');
  }
}

/**
 * An alarm latency threshold in words for an alarm description: as given, or for a deploy-time
 * value its seconds as a token in the string (CloudFormation joins the number in).
 *
 * @internal
 */
export function thresholdText(value: Duration): string {
  return value.isUnresolved() ? `${Tokenization.stringifyNumber(value.toSeconds())} seconds` : value.toHumanString();
}

/** Seconds of an alarm latency threshold, keeping a deploy-time value a token. @internal */
export function thresholdSeconds(value: Duration): number {
  return value.isUnresolved() ? value.toSeconds() : value.toMilliseconds({ integral: false }) / 1000;
}

function latency(prop: string, value: Duration, maxMillis: number): void {
  if (value.isUnresolved()) {
    deployTimeSeconds(prop, value);
    return;
  }
  const ms = value.toMilliseconds({ integral: false });
  check(ms >= 1 && ms <= maxMillis, WHO, prop, value.toHumanString(), `from 1 ms to ${maxMillis / 1000} s`);
}

/** Resolved ELK settings. @internal */
export interface ResolvedElkSettings {
  readonly nodes: number;
  readonly storageGiB: number;
  readonly retentionDays: number;
  readonly snapshotRetentionDays: number;
  readonly kibanaReplicas: number;
}

/** ELK props: the profile's defaults, overridden by the user's, validated. @internal */
export function resolveElkSettings(profile: FxProfile, given: {
  elasticsearchNodes?: number;
  elasticsearchStorage?: Size;
  elasticsearchRetentionDays?: number;
  snapshotRetentionDays?: number;
  kibanaReplicas?: number;
}): ResolvedElkSettings {
  const s = profile.settings;
  const nodes = given.elasticsearchNodes ?? s.elasticsearchNodes;
  const retentionDays = given.elasticsearchRetentionDays ?? s.elasticsearchRetentionDays;
  const kibanaReplicas = given.kibanaReplicas ?? s.kibanaReplicas;
  const from = (key: keyof typeof given) => `${key}${given[key] === undefined ? `${profileSuffix(profile.name)}` : ''}`;
  check(Number.isInteger(s.elasticsearchMinNodes) && s.elasticsearchMinNodes >= 1 && s.elasticsearchMinNodes <= 50, WHO,
    `elasticsearchMinNodes${profileSuffix(profile.name)}`, s.elasticsearchMinNodes, 'an integer from 1 to 50');
  check(Number.isInteger(nodes) && (nodes === 1 || (nodes >= 3 && nodes <= 50)), WHO, from('elasticsearchNodes'), nodes,
    '1, or 3 to 50 (two master-eligible nodes cannot elect a master when one is lost)');
  checkKnownAtSynth(nodes, WHO, from('elasticsearchNodes'), 'a single node or a cluster of several is built from it');
  check(nodes >= s.elasticsearchMinNodes, WHO, from('elasticsearchNodes'), nodes, `at least ${s.elasticsearchMinNodes} in ${s.name} (one per availability zone)`);
  // The same rules for the profile's default as for the prop.
  const storageProp = from('elasticsearchStorage');
  const storageGiB = validateVolume(storageProp, given.elasticsearchStorage ?? s.elasticsearchStorage);
  check(storageGiB >= 10, WHO, storageProp, `${storageGiB} GiB`, 'at least 10 GiB (Elasticsearch stops allocating shards above 85% disk use)');
  days(from('elasticsearchRetentionDays'), retentionDays);
  if (given.snapshotRetentionDays === undefined) {
    checkKnownAtSynth(retentionDays, WHO, from('elasticsearchRetentionDays'),
      'the default snapshotRetentionDays is computed from it (twice it); with a deploy-time value, set snapshotRetentionDays too');
  }
  // Snapshots outlive the indices twice over by default, within the 3650 days allowed.
  const snapshotRetentionDays = given.snapshotRetentionDays ?? Math.min(retentionDays * 2, MAX_DAYS);
  days('snapshotRetentionDays', snapshotRetentionDays);
  if (!Token.isUnresolved(retentionDays)) {
    check(snapshotRetentionDays >= retentionDays, WHO, 'snapshotRetentionDays', snapshotRetentionDays,
      `at least elasticsearchRetentionDays (${retentionDays}): a snapshot must outlive the data it backs up`);
  }
  check(Number.isInteger(kibanaReplicas) && kibanaReplicas >= 1 && kibanaReplicas <= 10, WHO, from('kibanaReplicas'), kibanaReplicas, 'an integer from 1 to 10');
  return { nodes, storageGiB, retentionDays, snapshotRetentionDays, kibanaReplicas };
}

const MAX_DAYS = 3650;

function days(prop: string, value: number): void {
  check(Number.isInteger(value) && value >= 1 && value <= MAX_DAYS, WHO, prop, value, 'an integer number of days from 1 to 3650');
}
