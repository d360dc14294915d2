import { Annotations, ArnFormat, Duration, Size, SizeRoundingBehavior, Stack, Tags, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { controllerResources, grantStatements } from './common';
import { karpenterControllerPolicy } from './karpenter-policy';
import { check, checkSizeToken, FxValidationError, profileSuffix, tokenDescription } from '../../core/errors';
import { FxCapability } from '../../core/install-order';
import { instanceTypeProblem, isInstanceFamily, isInstanceSize } from '../../core/instance-types';
import { isDnsLabel, isLabelKey, isLabelValue } from '../../core/k8s-names';
import { FxProfile } from '../../core/profile';
import { chartLabels, platformLabels, TAG_PLATFORM } from '../../core/tags';
import { compareMinor } from '../../core/versions';
import { SPOT_TAINT } from '../../core/wiring';
import { KubeEC2NodeClass, KubeEC2NodeClassManifest, KubeNodePool, KubeNodePoolManifest } from '../../k8s/crds.generated';
import { mergeValues } from '../addon-values';
import type { IFxCluster } from '../contract';
import { isAtLeastT3Medium } from '../nodegroups';
import { FxConsolidationPolicy, FxKarpenterOptions, FxNodePoolOptions } from '../props';

const WHO = 'FxCluster';
const NAMESPACE = 'kube-system';
const SERVICE_ACCOUNT = 'karpenter';
/** Tag Karpenter's subnet selector looks for (value: the cluster name). */
export const DISCOVERY_TAG = 'karpenter.sh/discovery';
/** Capabilities the karpenter chart provides: its CRDs (installed from the chart's crds/ on first install). */
export const KARPENTER_CRDS = ['crd:karpenter.sh', 'crd:karpenter.k8s.aws'];
const FAMILY = /^[a-z][a-z0-9-]*$/;
const SIZE = /^(nano|micro|small|medium|large|metal|[0-9]*xlarge|metal-[0-9]+xl)$/;
const DEFAULT_ALIAS = 'al2023@latest';
/** Go's time.Duration tops out near 292 years: 2562047 hours. */
const MAX_GO_DURATION_HOURS = 2562047;

function checkOnce(values: string[], prop: string): void {
  const repeated = values.find((v, i) => values.indexOf(v) !== i);
  check(repeated === undefined, WHO, prop, repeated, 'each value once');
}

/** Construct id of aws-cdk-lib's AwsCustomResource singleton Lambda in the stack. */
const AWS_CUSTOM_RESOURCE_SINGLETON = 'AWS679f53fac002430cb0da5b7982bd2287';
const ALIAS = /^(al2023|bottlerocket|al2|windows2019|windows2022|windows2025)@(latest|v[0-9][0-9a-z.-]*)$/;
/**
 * Label domains Karpenter reserves for itself and Kubernetes (the NodePool CRD's CEL rules, which the
 * test validator does not run, and Karpenter's restricted label domains), and the domains it exempts.
 */
const RESTRICTED_LABEL_DOMAINS = ['karpenter.sh', 'karpenter.k8s.aws', 'kubernetes.io', 'k8s.io'];
const LABEL_DOMAIN_EXCEPTIONS = ['node.kubernetes.io', 'node-restriction.kubernetes.io', 'kops.k8s.io'];
const TAINT_EFFECT: Record<string, string> = { NO_SCHEDULE: 'NoSchedule', PREFER_NO_SCHEDULE: 'PreferNoSchedule', NO_EXECUTE: 'NoExecute' };

/**
 * The EventBridge events Karpenter 1.14.1 reads from its interruption queue: the rules of the
 * upstream getting-started CloudFormation template of that version, and the parsers under
 * `pkg/controllers/interruption/messages/` (scheduledchange, spotinterruption,
 * rebalancerecommendation, statechange, capacityreservationinterruption).
 */
export const INTERRUPTION_EVENTS: { readonly id: string; readonly source: string; readonly detailType: string }[] = [
  { id: 'ScheduledChangeRule', source: 'aws.health', detailType: 'AWS Health Event' },
  { id: 'SpotInterruptionRule', source: 'aws.ec2', detailType: 'EC2 Spot Instance Interruption Warning' },
  { id: 'RebalanceRule', source: 'aws.ec2', detailType: 'EC2 Instance Rebalance Recommendation' },
  { id: 'InstanceStateChangeRule', source: 'aws.ec2', detailType: 'EC2 Instance State-change Notification' },
  // Listed by the 1.14.1 template beside the four above: instances of an interrupted capacity reservation.
  { id: 'CapacityReservationInterruptionRule', source: 'aws.ec2', detailType: 'EC2 Capacity Reservation Instance Interruption Warning' },
];

/** A NodePool with every default applied. @internal */
export interface ResolvedNodePool {
  readonly name: string;
  readonly spot: boolean;
  readonly instanceFamilies: string[];
  readonly instanceSizes: string[];
  readonly architectures: string[];
  readonly cpuLimit: number;
  /** Undefined when the CPU limit is a deploy-time token and no memory limit is given: memory is then not limited. */
  readonly memoryLimitGib?: number;
  readonly consolidationPolicy: FxConsolidationPolicy;
  readonly consolidateAfter: string;
  readonly expireAfter: string;
  readonly labels: Record<string, string>;
  readonly taints: { key: string; value?: string; effect: string }[];
  readonly weight?: number;
  readonly diskGib: number;
}

/** Validates the NodePools of `options` and applies the profile's defaults. @internal */
export function resolveNodePools(options: FxKarpenterOptions, profile: FxProfile): ResolvedNodePool[] {
  const s = profile.settings;
  const pools: FxNodePoolOptions[] = options.nodePools ?? [
    { name: 'default' },
    { name: 'spot', capacityType: eks.CapacityType.SPOT },
  ];
  check(pools.length > 0, WHO, 'nodeAutoscaler.nodePools', [], 'at least one NodePool');
  const seen = new Set<string>();
  return pools.map((pool, i) => {
    const p = `nodeAutoscaler.nodePools[${i}]`;
    check(isDnsLabel(pool.name), WHO, `${p}.name`, pool.name, 'a DNS label (lowercase letters, digits, -)');
    check(!seen.has(pool.name), WHO, `${p}.name`, pool.name, 'a name not used by another NodePool');
    seen.add(pool.name);
    const capacityType = pool.capacityType ?? eks.CapacityType.ON_DEMAND;
    check(capacityType === eks.CapacityType.ON_DEMAND || capacityType === eks.CapacityType.SPOT, WHO, `${p}.capacityType`, capacityType,
      'ON_DEMAND or SPOT');
    const spot = capacityType === eks.CapacityType.SPOT;

    // A value the user did not set comes from the profile, and the message says so.
    const fromProfile = `${profileSuffix(profile.name)}`;
    const families = pool.instanceFamilies ?? s.karpenterInstanceFamilies;
    const sizes = pool.instanceSizes ?? s.karpenterInstanceSizes;
    const familiesProp = `${p}.instanceFamilies${pool.instanceFamilies === undefined ? fromProfile : ''}`;
    const sizesProp = `${p}.instanceSizes${pool.instanceSizes === undefined ? fromProfile : ''}`;
    check(families.length > 0, WHO, familiesProp, families, 'at least one EC2 instance family such as m7i');
    check(sizes.length > 0, WHO, sizesProp, sizes, 'at least one EC2 instance size such as large');
    for (const f of families) {
      check(FAMILY.test(f) && isInstanceFamily(f), WHO, familiesProp, f, 'EC2 instance families that exist, such as m7i, c7g, r6a (ec2.InstanceClass)');
    }
    for (const z of sizes) check(SIZE.test(z) && isInstanceSize(z), WHO, sizesProp, z, 'EC2 instance sizes such as medium, large, 2xlarge, metal');
    checkOnce(families, familiesProp);
    checkOnce(sizes, sizesProp);
    for (const f of families) {
      check(!f.startsWith('mac') && !f.startsWith('u-'), WHO, familiesProp, f,
        'Linux instance families for EKS nodes (Mac instances run macOS only; high-memory u- families run on dedicated hosts)');
      for (const z of sizes) {
        check(isAtLeastT3Medium(`${f}.${z}`), WHO, sizesProp, `${f}.${z}`,
          'instance types of at least t3.medium (2 vCPU, 4 GiB): burstable t*.medium or larger, other families .large or larger');
      }
      // Requirements are a cross product: a family none of whose sizes exists could never launch.
      const problems = sizes.map((z) => instanceTypeProblem(`${f}.${z}`));
      check(problems.some((x) => x === undefined), WHO, sizesProp, sizes, `sizes that family ${f} has (${problems[0]})`);
    }
    for (const z of sizes) {
      check(families.some((f) => instanceTypeProblem(`${f}.${z}`) === undefined), WHO, sizesProp, z, `a size one of the families ${families.join(', ')} has`);
    }
    check(!spot || families.length * sizes.length >= 2, WHO, `${p}.instanceFamilies`, families,
      'at least two instance types (families x sizes) for a spot NodePool (spot capacity is reclaimed per instance pool)');

    const archs = pool.architectures ?? s.karpenterArchitectures;
    const given = (value: unknown, prop: string) => `${p}.${prop}${value === undefined ? fromProfile : ''}`;
    check(archs.length > 0, WHO, given(pool.architectures, 'architectures'), archs, 'at least one CPU architecture');
    // The NodePool requires family AND architecture: a family of another architecture could never launch.
    for (const f of families) {
      const arch = new ec2.InstanceType(`${f}.large`).architecture;
      check(archs.includes(arch), WHO, familiesProp, f,
        `families of the pool's architectures (${archs.join(', ')}); ${f} is ${arch}: add ${arch} to ${p}.architectures or pick families of ${archs.join(', ')}`);
    }
    const cpuLimit = pool.cpuLimit ?? s.karpenterCpuLimit;
    check(Number.isInteger(cpuLimit) && cpuLimit >= 2, WHO, given(pool.cpuLimit, 'cpuLimit'), cpuLimit, 'an integer of at least 2 (vCPUs of one node)');
    // Deploy-time sizes are passed on as they are; a memory limit is derived only from a literal CPU limit.
    if (pool.memoryLimit) checkSizeToken(pool.memoryLimit, WHO, `${p}.memoryLimit`, 'gibibytes');
    if (pool.diskSize) checkSizeToken(pool.diskSize, WHO, `${p}.diskSize`, 'gibibytes');
    const memoryLimitGib = pool.memoryLimit ? gibibytes(pool.memoryLimit) : (Token.isUnresolved(cpuLimit) ? undefined : cpuLimit * 4);
    if (memoryLimitGib !== undefined) {
      // As given: 100 MiB, not the 0 GiB it floors to.
      const limit = pool.memoryLimit;
      const mib = limit && !limit.isUnresolved() ? limit.toMebibytes({ rounding: SizeRoundingBehavior.NONE }) : undefined;
      const shown = mib !== undefined && !Number.isInteger(mib / 1024) ? `${mib} MiB` : `${memoryLimitGib} GiB`;
      check(memoryLimitGib >= 4, WHO, `${p}.memoryLimit`, shown, 'at least 4 GiB (memory of one node)');
    }
    for (const [prop, size] of [['memoryLimit', pool.memoryLimit], ['diskSize', pool.diskSize]] as const) {
      const gib = size && !size.isUnresolved() ? size.toGibibytes({ rounding: SizeRoundingBehavior.NONE }) : undefined;
      if (gib !== undefined && !Number.isInteger(gib)) {
        throw new FxValidationError(WHO, `${p}.${prop}`, `${size!.toMebibytes({ rounding: SizeRoundingBehavior.NONE })} MiB`,
          'whole GiB (the NodePool and EC2NodeClass take GiB)');
      }
    }
    const consolidateAfter = pool.consolidateAfter ?? s.karpenterConsolidateAfter;
    const expireAfter = pool.expireAfter ?? s.karpenterExpireAfter;
    check(isWholeSeconds(consolidateAfter, 0), WHO, given(pool.consolidateAfter, 'consolidateAfter'), secondsText(consolidateAfter), 'whole seconds, 0 or more');
    check(isWholeSeconds(expireAfter, 3600), WHO, given(pool.expireAfter, 'expireAfter'), secondsText(expireAfter), 'whole seconds, at least 1 hour');
    check(expireAfter.isUnresolved() || expireAfter.toSeconds({ integral: false }) <= MAX_GO_DURATION_HOURS * 3600, WHO,
      given(pool.expireAfter, 'expireAfter'), secondsText(expireAfter), `at most ${MAX_GO_DURATION_HOURS} hours (the longest duration Karpenter can read)`);
    check(pool.consolidationPolicy === undefined || Object.values(FxConsolidationPolicy).includes(pool.consolidationPolicy), WHO,
      `${p}.consolidationPolicy`, pool.consolidationPolicy, 'FxConsolidationPolicy.WHEN_EMPTY or FxConsolidationPolicy.WHEN_EMPTY_OR_UNDERUTILIZED');
    check(pool.weight === undefined || (Number.isInteger(pool.weight) && pool.weight >= 1 && pool.weight <= 100), WHO,
      `${p}.weight`, pool.weight, 'an integer from 1 to 100 (the NodePool schema)');
    const diskGib = gibibytes(pool.diskSize ?? Size.gibibytes(50));
    check(diskGib >= 20 && diskGib <= 16384, WHO, `${p}.diskSize`, `${diskGib} GiB`, 'from 20 to 16384 GiB');

    const taintIds = new Set<string>();
    const taints = (pool.taints ?? []).map((t, j) => {
      check(!!t.key && !!t.effect, WHO, `${p}.taints[${j}]`, t, 'a taint with a key and an effect');
      check(TAINT_EFFECT[t.effect!] !== undefined, WHO, `${p}.taints[${j}].effect`, t.effect, 'eks.TaintEffect.NO_SCHEDULE, PREFER_NO_SCHEDULE or NO_EXECUTE');
      check(!taintIds.has(`${t.key}:${t.effect}`), WHO, `${p}.taints[${j}]`, `${t.key}:${t.effect}`,
        'each taint key and effect once (Kubernetes keeps one taint per key and effect)');
      taintIds.add(`${t.key}:${t.effect}`);
      check(isLabelKey(t.key!), WHO, `${p}.taints[${j}].key`, t.key,
        'a Kubernetes key: [prefix/]name, name up to 63 letters, digits, -, _ and . starting and ending alphanumeric');
      check(t.value === undefined || isLabelValue(t.value), WHO, `${p}.taints[${j}].value`, t.value,
        'up to 63 letters, digits, -, _ and ., starting and ending alphanumeric');
      return { key: t.key!, ...(t.value ? { value: t.value } : {}), effect: TAINT_EFFECT[t.effect!] ?? t.effect! };
    });
    // Same opt-in as spot node groups: only workloads tolerating the spot taint land on spot capacity.
    if (spot && !taints.some((t) => t.key === SPOT_TAINT.key)) {
      taints.push({ key: SPOT_TAINT.key, value: SPOT_TAINT.value, effect: TAINT_EFFECT[SPOT_TAINT.effect] });
    }
    for (const [key, value] of Object.entries(pool.labels ?? {})) {
      check(isLabelKey(key), WHO, `${p}.labels`, key, 'Kubernetes label keys: [prefix/]name, name up to 63 letters, digits, -, _ and . starting and ending alphanumeric');
      check(isLabelValue(value), WHO, `${p}.labels['${key}']`, value, 'a label value: up to 63 letters, digits, -, _ and ., starting and ending alphanumeric');
      const domain = key.includes('/') ? key.split('/')[0] : '';
      const restricted = RESTRICTED_LABEL_DOMAINS.some((d) => domain === d || domain.endsWith(`.${d}`))
        && !LABEL_DOMAIN_EXCEPTIONS.some((d) => domain === d || domain.endsWith(`.${d}`));
      check(!restricted, WHO, `${p}.labels`, key,
        `label keys outside the domains Karpenter reserves (${RESTRICTED_LABEL_DOMAINS.join(', ')})`);
    }
    const labels = { ...(spot ? { [SPOT_TAINT.key]: SPOT_TAINT.value } : {}), ...pool.labels, 'fx.platform/node-pool': pool.name };
    check(Object.keys(labels).length <= 100, WHO, `${p}.labels`, `${Object.keys(pool.labels ?? {}).length} labels`,
      `at most ${100 - (Object.keys(labels).length - Object.keys(pool.labels ?? {}).length)} labels (the NodePool schema allows 100, with the ones the platform adds)`);
    return {
      name: pool.name,
      spot,
      instanceFamilies: families,
      instanceSizes: sizes,
      architectures: archs.map((a) => (a === ec2.InstanceArchitecture.ARM_64 ? 'arm64' : 'amd64')),
      cpuLimit,
      memoryLimitGib,
      consolidationPolicy: pool.consolidationPolicy ?? FxConsolidationPolicy.WHEN_EMPTY_OR_UNDERUTILIZED,
      consolidateAfter: karpenterDuration(consolidateAfter, `${p}.consolidateAfter`),
      expireAfter: karpenterDuration(expireAfter, `${p}.expireAfter`),
      labels,
      taints,
      weight: pool.weight,
      diskGib,
    };
  });
}

/**
 * Karpenter as the node autoscaler: the controller (Pod Identity, least-privilege policy, on the
 * managed node groups only), the node role with its EC2_LINUX access entry, the interruption queue
 * fed by EventBridge rules, discovery tags on the private subnets and the cluster security group,
 * and the NodePools and EC2NodeClasses.
 *
 * Order: the chart needs Pod Identity and provides the Karpenter CRDs; the NodePools manifest waits
 * for them, the node access entry and the security group tag. On delete the NodePools go first while
 * the controller still runs, so Karpenter terminates its own instances before the chart, the cluster
 * and the VPC go.
 *
 * @internal
 */
export class KarpenterAddon {
  public readonly serviceAccount: eks.ServiceAccount;
  public readonly nodeRole: iam.Role;
  public readonly nodeAccess: eks.AccessEntry;
  public readonly queue: sqs.Queue;
  public readonly rules: events.Rule[];
  public readonly chart: eks.HelmChart;
  public readonly nodePools: eks.KubernetesManifest;
  /** Tags the EKS-created cluster security group with the discovery tag. */
  public readonly securityGroupTag: cr.AwsCustomResource;

  constructor(cluster: IFxCluster, parent: Construct, options: FxKarpenterOptions, values?: { [key: string]: any }) {
    const clusterName = cluster.clusterName;
    const scope = new Construct(parent, 'Karpenter');
    const pools = resolveNodePools(options, cluster.profile);
    const replicas = options.replicas ?? cluster.profile.settings.karpenterReplicas;
    check(Number.isInteger(replicas) && replicas >= 1 && replicas <= 5, WHO,
      `nodeAutoscaler.replicas${options.replicas === undefined ? `${profileSuffix(cluster.profile.name)}` : ''}`, replicas, 'an integer from 1 to 5');
    const alias = options.nodeImageAlias ?? DEFAULT_ALIAS;
    check(ALIAS.test(alias) && alias.length <= 30, WHO, 'nodeAutoscaler.nodeImageAlias', alias,
      'an EKS AMI alias of at most 30 characters such as al2023@v20251120 or bottlerocket@v1.50.0');
    check(!alias.startsWith('windows'), WHO, 'nodeAutoscaler.nodeImageAlias', alias,
      'a Linux AMI alias (al2023@..., bottlerocket@...): the NodePools require kubernetes.io/os linux');
    // EKS publishes no AL2 AMI for Kubernetes 1.33 and later (AL2 reached its end of support in November 2025).
    check(!alias.startsWith('al2@') || compareMinor(cluster.kubernetesVersion, '1.33') < 0, WHO, 'nodeAutoscaler.nodeImageAlias', alias,
      `an alias with AMIs for Kubernetes ${cluster.kubernetesVersion}: al2023@... or bottlerocket@... (there is no AL2 AMI for 1.33 and later)`);
    if (alias.endsWith('@latest')) {
      Annotations.of(cluster).addWarningV2('@fx/cluster:karpenter-ami-latest',
        `FxCluster: Karpenter nodes use ${alias}; pin nodeAutoscaler.nodeImageAlias to an AMI release so nodes change only when you choose`);
    }

    this.nodeRole = new iam.Role(scope, 'NodeRole', {
      description: `Fx platform ${cluster.platformName}: EC2 nodes launched by Karpenter`,
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      managedPolicies: NODE_POLICIES.map((p) => iam.ManagedPolicy.fromAwsManagedPolicyName(p)),
    });
    for (const p of NODE_POLICIES) {
      Validations.of(this.nodeRole).acknowledge({
        id: `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${p}]`,
        reason: 'Karpenter node role: EKS requires AmazonEKSWorkerNodePolicy to join, AmazonEKS_CNI_Policy for the VPC CNI on the '
          + 'node and AmazonEC2ContainerRegistryPullOnly to pull images. Pods cannot use these credentials (IMDSv2 hop limit 1).',
      });
    }
    this.nodeAccess = new eks.AccessEntry(scope, 'NodeAccess', {
      cluster: cluster.cluster,
      principal: this.nodeRole.roleArn,
      accessEntryType: eks.AccessEntryType.EC2_LINUX,
      accessPolicies: [],
    });

    this.queue = new sqs.Queue(scope, 'InterruptionQueue', {
      retentionPeriod: Duration.minutes(5),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    Validations.of(this.queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'Karpenter interruption queue: messages are short-lived notices (5-minute retention, as upstream); one that cannot be '
        + 'handled is stale by the time a dead-letter queue could be read.',
    });
    this.rules = INTERRUPTION_EVENTS.map((e) => new events.Rule(scope, e.id, {
      description: `Fx platform ${cluster.platformName}: ${e.detailType} to Karpenter`,
      eventPattern: { source: [e.source], detailType: [e.detailType] },
      targets: [{ bind: () => ({ arn: this.queue.queueArn, id: 'KarpenterInterruptionQueueTarget' }) }],
    }));
    this.allowEventsToQueue();

    this.tagSubnets(cluster, clusterName);
    this.securityGroupTag = this.tagClusterSecurityGroup(scope, cluster, clusterName);
    this.serviceAccount = cluster.addPodIdentityServiceAccount('KarpenterServiceAccount', { name: SERVICE_ACCOUNT, namespace: NAMESPACE });
    grantStatements(this.serviceAccount,
      karpenterControllerPolicy(scope, clusterName, cluster.cluster.clusterArn, this.nodeRole, this.queue),
      'Karpenter 1.14.1 reference controller policy: EC2 Describe, pricing and iam:ListInstanceProfiles have no resource-level '
      + 'permissions (region-conditioned); launch, tag and delete are limited by the kubernetes.io/cluster/<cluster>=owned and '
      + 'karpenter.sh/nodepool tags to resources Karpenter creates, whose ids are generated.');

    this.chart = cluster.addHelmChart('Karpenter', {
      chart: cluster.versions.charts.karpenter,
      version: options.version,
      namespace: NAMESPACE,
      release: 'karpenter',
      createNamespace: false,
      wait: true,
      values: mergeValues(this.values(cluster, replicas), values),
      needs: [FxCapability.POD_IDENTITY],
      provides: ['karpenter', ...KARPENTER_CRDS],
    });
    this.chart.node.addDependency(this.serviceAccount);

    const objects = pools.flatMap((pool) => [nodeClass(cluster, pool, clusterName, alias, this.nodeRole), nodePool(cluster.platformName, pool)]);
    this.nodePools = cluster.addManifest('KarpenterNodePools', ...objects);
    cluster.installAfter(this.nodePools, ...KARPENTER_CRDS);
    this.nodePools.node.addDependency(this.nodeAccess, this.securityGroupTag);
  }

  private values(cluster: IFxCluster, replicas: number): Record<string, unknown> {
    return {
      settings: { clusterName: cluster.cluster.clusterName, interruptionQueue: this.queue.queueName },
      serviceAccount: { create: false, name: SERVICE_ACCOUNT },
      replicas,
      // Karpenter never runs on capacity it manages: managed node group nodes only, never a NodePool's.
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{
              matchExpressions: [
                { key: 'eks.amazonaws.com/nodegroup', operator: 'Exists' },
                { key: 'karpenter.sh/nodepool', operator: 'DoesNotExist' },
              ],
            }],
          },
        },
      },
      controller: { resources: controllerResources('250m', '512Mi', '1Gi') },
      additionalLabels: chartLabels(cluster.platformName, 'karpenter'),
    };
  }

  /**
   * The events rules may send to the queue, and nothing else: the five rules above (aws:SourceArn)
   * of this account (aws:SourceAccount). Upstream allows events.amazonaws.com and sqs.amazonaws.com
   * without conditions; sqs.amazonaws.com is kept as upstream has it, limited to this account.
   */
  private allowEventsToQueue(): void {
    const account = Stack.of(this.queue).account;
    this.queue.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'EventBridgeInterruptionRules',
      principals: [new iam.ServicePrincipal('events.amazonaws.com')],
      actions: ['sqs:SendMessage'],
      resources: [this.queue.queueArn],
      conditions: {
        ArnEquals: { 'aws:SourceArn': this.rules.map((r) => r.ruleArn) },
        StringEquals: { 'aws:SourceAccount': account },
      },
    }));
    this.queue.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'SqsThisAccount',
      principals: [new iam.ServicePrincipal('sqs.amazonaws.com')],
      actions: ['sqs:SendMessage'],
      resources: [this.queue.queueArn],
      conditions: { StringEquals: { 'aws:SourceAccount': account } },
    }));
  }

  /**
   * Private subnets of a VPC this stack owns get `karpenter.sh/discovery=<cluster>`, which the
   * EC2NodeClasses select. Subnets of an imported VPC cannot be tagged here and are selected by id.
   */
  private tagSubnets(cluster: IFxCluster, clusterName: string): void {
    if (!(cluster.vpc instanceof ec2.Vpc)) return;
    for (const subnet of cluster.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnets) {
      Tags.of(subnet).add(DISCOVERY_TAG, clusterName);
    }
  }

  /**
   * EKS creates the cluster security group (the one managed nodes use), so CloudFormation cannot tag
   * it: one CreateTags call does, allowed on that group and that tag key only, undone on delete.
   */
  private tagClusterSecurityGroup(scope: Construct, cluster: IFxCluster, clusterName: string): cr.AwsCustomResource {
    const groupId = cluster.clusterSecurityGroup.securityGroupId;
    const stack = Stack.of(cluster);
    const tag = { Key: DISCOVERY_TAG, Value: clusterName };
    const resource = new cr.AwsCustomResource(scope, 'SecurityGroupDiscoveryTag', {
      onCreate: {
        service: 'EC2',
        action: 'createTags',
        parameters: { Resources: [groupId], Tags: [tag] },
        physicalResourceId: cr.PhysicalResourceId.of(`${groupId}/${DISCOVERY_TAG}`),
      },
      onUpdate: {
        service: 'EC2',
        action: 'createTags',
        parameters: { Resources: [groupId], Tags: [tag] },
        physicalResourceId: cr.PhysicalResourceId.of(`${groupId}/${DISCOVERY_TAG}`),
      },
      onDelete: { service: 'EC2', action: 'deleteTags', parameters: { Resources: [groupId], Tags: [{ Key: DISCOVERY_TAG }] } },
      policy: cr.AwsCustomResourcePolicy.fromStatements([new iam.PolicyStatement({
        actions: ['ec2:CreateTags', 'ec2:DeleteTags'],
        resources: [stack.formatArn({ service: 'ec2', resource: 'security-group', resourceName: groupId, arnFormat: ArnFormat.SLASH_RESOURCE_NAME })],
        conditions: { 'ForAllValues:StringEquals': { 'aws:TagKeys': [DISCOVERY_TAG] } },
      })]),
      installLatestAwsSdk: false,
    });
    const role = stack.node.tryFindChild(AWS_CUSTOM_RESOURCE_SINGLETON)?.node.tryFindChild('ServiceRole');
    if (role) {
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'aws-cdk-lib AwsCustomResource singleton handler: the AWS managed policy only lets it write its own logs; its API calls '
          + 'are granted per custom resource.',
      });
    }
    return resource;
  }
}

/** Managed policies of the Karpenter node role (upstream: the same plus AmazonSSMManagedInstanceCore). */
const NODE_POLICIES = ['AmazonEKSWorkerNodePolicy', 'AmazonEKS_CNI_Policy', 'AmazonEC2ContainerRegistryPullOnly'];

function nodePool(platformName: string, pool: ResolvedNodePool): KubeNodePoolManifest {
  return KubeNodePool.manifest({
    metadata: { name: pool.name, labels: platformLabels(platformName, 'karpenter') },
    spec: {
      template: {
        metadata: { labels: pool.labels },
        spec: {
          nodeClassRef: { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: pool.name },
          requirements: [
            { key: 'karpenter.sh/capacity-type', operator: 'In', values: [pool.spot ? 'spot' : 'on-demand'] },
            { key: 'karpenter.k8s.aws/instance-family', operator: 'In', values: pool.instanceFamilies },
            { key: 'karpenter.k8s.aws/instance-size', operator: 'In', values: pool.instanceSizes },
            { key: 'kubernetes.io/arch', operator: 'In', values: pool.architectures },
            { key: 'kubernetes.io/os', operator: 'In', values: ['linux'] },
          ],
          ...(pool.taints.length > 0 ? { taints: pool.taints } : {}),
          expireAfter: pool.expireAfter,
        },
      },
      disruption: {
        consolidationPolicy: pool.consolidationPolicy,
        consolidateAfter: pool.consolidateAfter,
        // At most a tenth of the pool is disrupted at once (at least one node).
        budgets: [{ nodes: '10%' }],
      },
      limits: { cpu: `${pool.cpuLimit}`, ...(pool.memoryLimitGib !== undefined ? { memory: `${pool.memoryLimitGib}Gi` } : {}) },
      ...(pool.weight !== undefined ? { weight: pool.weight } : {}),
    },
  });
}

function nodeClass(cluster: IFxCluster, pool: ResolvedNodePool, clusterName: string, alias: string, role: iam.IRole): KubeEC2NodeClassManifest {
  const ebs = (gib: number) => ({ volumeSize: `${gib}Gi`, volumeType: 'gp3', encrypted: true, deleteOnTermination: true });
  const bottlerocket = alias.startsWith('bottlerocket@');
  const subnets = cluster.vpc instanceof ec2.Vpc
    ? [{ tags: { [DISCOVERY_TAG]: clusterName } }]
    : cluster.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds.map((id) => ({ id }));
  return KubeEC2NodeClass.manifest({
    metadata: { name: pool.name, labels: platformLabels(cluster.platformName, 'karpenter') },
    spec: {
      role: role.roleName,
      amiSelectorTerms: [{ alias }],
      subnetSelectorTerms: subnets,
      securityGroupSelectorTerms: [{ tags: { [DISCOVERY_TAG]: clusterName } }],
      // As the managed node groups: IMDSv2 only, hop limit 1 (pods cannot reach the node role).
      metadataOptions: { httpEndpoint: 'enabled', httpProtocolIPv6: 'disabled', httpPutResponseHopLimit: 1, httpTokens: 'required' },
      blockDeviceMappings: bottlerocket
        ? [{ deviceName: '/dev/xvda', ebs: ebs(4) }, { deviceName: '/dev/xvdb', rootVolume: true, ebs: ebs(pool.diskGib) }]
        : [{ deviceName: '/dev/xvda', rootVolume: true, ebs: ebs(pool.diskGib) }],
      tags: { [TAG_PLATFORM]: cluster.platformName },
    },
  });
}

/** A duration in Karpenter's format (`30s`, `5m`, `720h`). */
/** Whole GiB of a size, floored; a deploy-time `Size.gibibytes(<token>)` as it is. */
function gibibytes(size: Size): number {
  return size.isUnresolved() ? size.toGibibytes() : size.toGibibytes({ rounding: SizeRoundingBehavior.FLOOR });
}

function karpenterDuration(d: Duration, prop: string): string {
  // A deploy-time duration keeps its own unit (Karpenter reads 30s, 5m, 720h); it is never converted.
  if (d.isUnresolved()) {
    for (const [unit, convert] of [['s', () => d.toSeconds()], ['m', () => d.toMinutes()], ['h', () => d.toHours()]] as const) {
      try {
        return `${convert()}${unit}`;
      } catch {
        // another unit
      }
    }
    throw new FxValidationError(WHO, prop, tokenDescription(d),
      'a deploy-time value only as Duration.seconds(), Duration.minutes() or Duration.hours() of a token');
  }
  const seconds = d.toSeconds();
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

function secondsText(d: Duration): string {
  return d.isUnresolved() ? d.toString() : `${d.toSeconds({ integral: false })}s`;
}

function isWholeSeconds(d: Duration, min: number): boolean {
  if (d.isUnresolved()) return true;
  const seconds = d.toSeconds({ integral: false });
  return Number.isInteger(seconds) && seconds >= min;
}
