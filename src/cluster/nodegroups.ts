import { Size, SizeRoundingBehavior, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { Construct } from 'constructs';
import { FxNodeGroupOptions, FxNodeImage } from './nodegroup-options';
import { check, checkKnownAtSynth, FxValidationError, profileSuffix } from '../core/errors';
import { instanceTypeProblem } from '../core/instance-types';
import { isLabelKey, isLabelValue, reservedNodeGroupLabelPrefix } from '../core/k8s-names';
import { FxProfile } from '../core/profile';
import { SPOT_TAINT } from '../core/wiring';

const WHO = 'FxCluster';

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,62}$/;
const SMALL_SIZES = new Set(['nano', 'micro', 'small', 'medium']);

/**
 * Whether an instance type has at least 2 vCPU and 4 GiB. EC2 sizes are uniform across families:
 * `large` and up always qualify; `medium` only for burstable T families (t3/t3a/t4g.medium are
 * 2 vCPU / 4 GiB, whereas m6g/c6g.medium are 1 vCPU).
 */
export function isAtLeastT3Medium(instanceType: string): boolean {
  const [family, size] = instanceType.split('.');
  if (!family || !size) return false;
  if (!SMALL_SIZES.has(size)) return true;
  return size === 'medium' && /^t\d/.test(family);
}

/** Validates every node group and returns them with profile defaults applied. @internal */
export function resolveNodeGroups(groups: FxNodeGroupOptions[] | undefined, profile: FxProfile): FxNodeGroupOptions[] {
  const s = profile.settings;
  const list = groups ?? [{ name: 'default' }];
  check(list.length > 0, WHO, 'nodeGroups', [], 'at least one node group');
  const seen = new Set<string>();
  const resolved = list.map((g, i) => {
    const p = `nodeGroups[${i}]`;
    checkKnownAtSynth(g.name, WHO, `${p}.name`, 'it names the node group\'s constructs and its fx.platform/node-group label');
    check(NAME.test(g.name), WHO, `${p}.name`, g.name, 'letters, digits, - and _, starting with a letter or digit, up to 63 characters');
    check(!seen.has(g.name), WHO, `${p}.name`, g.name, 'a name not used by another node group');
    seen.add(g.name);

    // A value the user did not set comes from the profile, and the message says so.
    const fromProfile = `${profileSuffix(profile.name)}`;
    const instanceTypes = g.instanceTypes ?? [s.nodeInstanceType];
    const typesProp = `${p}.instanceTypes${g.instanceTypes === undefined ? fromProfile : ''}`;
    const capacityType = g.capacityType ?? eks.CapacityType.ON_DEMAND;
    check(CAPACITY_TYPES.has(capacityType), WHO, `${p}.capacityType`, capacityType,
      'eks.CapacityType.ON_DEMAND or eks.CapacityType.SPOT (CAPACITY_BLOCK needs a capacity reservation in the launch template, which the node group does not set)');
    check(g.image === undefined || IMAGES.has(g.image), WHO, `${p}.image`, g.image, 'FxNodeImage.AL2023 or FxNodeImage.BOTTLEROCKET');
    check(instanceTypes.length > 0, WHO, typesProp, [], 'at least one instance type');
    check(instanceTypes.length <= MAX_INSTANCE_TYPES, WHO, typesProp, `${instanceTypes.length} instance types`,
      `at most ${MAX_INSTANCE_TYPES} instance types (the EKS node group API limit with a launch template)`);
    const names = new Set<string>();
    for (const t of instanceTypes) {
      const name = t.toString();
      // aws-cdk-lib's Nodegroup reads the architecture of every instance type at synth.
      if (Token.isUnresolved(name)) {
        throw new FxValidationError(WHO, typesProp, '(a deploy-time token)',
          "instance types known at synth such as new ec2.InstanceType('m7i.large') (the node group's AMI architecture is chosen from them)");
      }
      const problem = instanceTypeProblem(name);
      check(problem === undefined, WHO, typesProp, name, `an EC2 instance type such as m7i.large (${problem})`);
      const unsupported = unsupportedNodeFamily(name);
      check(unsupported === undefined, WHO, typesProp, name, `general-purpose Linux instance types such as m7i.large (${unsupported})`);
      check(isAtLeastT3Medium(name), WHO, typesProp, name,
        'instance types of at least t3.medium (2 vCPU, 4 GiB): burstable t*.medium or larger, other families .large or larger');
      check(!names.has(name), WHO, typesProp, name, 'each instance type once');
      names.add(name);
    }
    if (capacityType === eks.CapacityType.SPOT) {
      check(instanceTypes.length >= 2, WHO, typesProp, instanceTypes.map(String),
        'at least two instance types for a spot node group (spot capacity is reclaimed per instance pool)');
    }
    const archs = new Set(instanceTypes.map((t) => t.architecture));
    check(archs.size <= 1, WHO, typesProp, instanceTypes.map(String), 'instance types of a single CPU architecture');

    const sizes = resolveSizes(g, p, profile);

    const diskSize = g.diskSize ?? Size.gibibytes(50);
    if (!diskSize.isUnresolved()) {
      const gib = diskSize.toGibibytes({ rounding: SizeRoundingBehavior.NONE });
      check(Number.isInteger(gib) && gib >= 20 && gib <= 16384, WHO, `${p}.diskSize`, Number.isInteger(gib) ? `${gib} GiB` : diskSize.toString(),
        'from 20 to 16384 GiB, in whole GiB (EBS volume sizes)');
    } else {
      checkTokenGibibytes(diskSize, `${p}.diskSize`);
    }

    checkNodeGroupTaints(g.taints ?? [], p);
    checkNodeGroupLabels(g.labels ?? {}, p);
    // Spot capacity is tainted: only workloads that opt in (they tolerate SPOT_TAINT) land there, never
    // Prometheus, Elasticsearch or the controllers. The label lets opted-in workloads prefer it.
    const spot = capacityType === eks.CapacityType.SPOT;
    const taints = spot && !(g.taints ?? []).some((t) => t.key === SPOT_TAINT.key) ? [...(g.taints ?? []), SPOT_TAINT] : g.taints;
    const labels = spot ? { [SPOT_TAINT.key]: SPOT_TAINT.value, ...g.labels } : g.labels;
    return { ...g, instanceTypes, capacityType, ...sizes, diskSize, taints, labels, image: g.image ?? FxNodeImage.AL2023 };
  });
  // The add-on controllers (and Karpenter or cluster-autoscaler themselves) tolerate no taint: they
  // need a node group without a NoSchedule or NoExecute taint (spot groups carry one) that has nodes.
  const repels = (t: eks.TaintSpec) => t.effect === eks.TaintEffect.NO_SCHEDULE || t.effect === eks.TaintEffect.NO_EXECUTE;
  const open = resolved.filter((g) => !(g.taints ?? []).some(repels));
  check(open.length > 0, WHO, 'nodeGroups', resolved.map((g) => `${g.name} (${g.capacityType === eks.CapacityType.SPOT ? 'spot' : 'tainted'})`),
    'at least one on-demand node group without a NoSchedule or NoExecute taint: the platform\'s controllers run there (spot groups are tainted)');
  const running = open.some((g) => Token.isUnresolved(g.desiredSize!) || g.desiredSize! > 0);
  const need = 'the platform\'s controllers, and the node autoscaler itself, need a node to start on';
  // No group's desiredSize was set: every one is the profile's nodeDesiredSize (raised to minSize).
  if (open.every((g) => list[resolved.indexOf(g)].desiredSize === undefined)) {
    check(running, WHO, `nodeDesiredSize${profileSuffix(profile.name)}`, s.nodeDesiredSize,
      `at least 1, or a desiredSize of 1 or more on an untainted node group: ${need}`);
  }
  check(running, WHO, 'nodeGroups', open.map((g) => `${g.name}: desiredSize ${g.desiredSize}`),
    `at least one untainted node group with a desiredSize of 1 or more: ${need}`);
  return resolved;
}

const CAPACITY_TYPES = new Set<string>([eks.CapacityType.ON_DEMAND, eks.CapacityType.SPOT]);
const IMAGES = new Set<FxNodeImage>([FxNodeImage.AL2023, FxNodeImage.BOTTLEROCKET]);
const TAINT_EFFECTS = new Set<string>([eks.TaintEffect.NO_SCHEDULE, eks.TaintEffect.PREFER_NO_SCHEDULE, eks.TaintEffect.NO_EXECUTE]);
/** The EKS node group API's limits (CreateNodegroup: instanceTypes with a launch template, Taint, labels). */
const MAX_INSTANCE_TYPES = 20;
const MAX_TAINTS = 50;
const MAX_KEY_LENGTH = 63;
const KEY_LENGTH = 'a key of at most 63 characters in all, prefix included (the EKS node group limit)';

/**
 * Why the node group's AMI (AL2023 or Bottlerocket, standard variant, Linux) cannot serve an
 * instance family: accelerated families need the NVIDIA or Neuron AMI variants, Mac instances run
 * macOS only, and high-memory `u-` types are dedicated-host metal.
 */
function unsupportedNodeFamily(name: string): string | undefined {
  const family = name.split('.')[0];
  if (/^(p\d|g\d|gr\d|inf\d|trn\d|dl\d|f\d|vt\d)/.test(family)) {
    return `'${family}' is an accelerated family (GPU, Inferentia, Trainium, FPGA), which needs an accelerated AMI the node group does not select`;
  }
  if (family.startsWith('mac')) return `'${family}' runs macOS only, which EKS nodes cannot`;
  if (family.startsWith('u-') || family.startsWith('u7')) return `'${family}' is a high-memory family on dedicated hosts`;
  return undefined;
}

/** A deploy-time size must be Size.gibibytes(<token>): its GiB are a number CloudFormation passes on. */
function checkTokenGibibytes(size: Size, prop: string): void {
  try {
    size.toGibibytes();
  } catch {
    throw new FxValidationError(WHO, prop, '(a deploy-time token in a unit other than GiB)',
      'a deploy-time size as Size.gibibytes(<token>) (a token in another unit cannot be converted at synth)');
  }
}

/**
 * Minimum, desired and maximum size: what the user set, checked as given, then the profile's
 * defaults derived from it. A deploy-time token (the user's or the profile's) is passed on as it is:
 * no arithmetic or comparison ever uses it, and it is never copied into another size, except that
 * an unset desiredSize starts at a token minSize (any other number could be outside the range).
 */
function resolveSizes(g: FxNodeGroupOptions, p: string, profile: FxProfile): { minSize: number; desiredSize: number; maxSize: number } {
  const s = profile.settings;
  const fromProfile = profileSuffix(profile.name);
  const known = (n: number | undefined): n is number => n !== undefined && !Token.isUnresolved(n);
  const integer = (n: number, min: number) => Token.isUnresolved(n) || (Number.isInteger(n) && n >= min);
  if (g.minSize !== undefined) check(integer(g.minSize, 0), WHO, `${p}.minSize`, g.minSize, 'an integer of 0 or more');
  if (g.maxSize !== undefined) check(integer(g.maxSize, 1), WHO, `${p}.maxSize`, g.maxSize, 'an integer of at least 1');
  if (g.desiredSize !== undefined) check(integer(g.desiredSize, 0), WHO, `${p}.desiredSize`, g.desiredSize, 'an integer of 0 or more');
  // The profile's own values, each named as coming from the profile.
  if (g.minSize === undefined) check(integer(s.nodeMinSize, 0), WHO, `${p}.minSize${fromProfile}`, s.nodeMinSize, 'an integer of 0 or more');
  if (g.maxSize === undefined) check(integer(s.nodeMaxSize, 1), WHO, `${p}.maxSize${fromProfile}`, s.nodeMaxSize, 'an integer of at least 1');
  if (g.desiredSize === undefined) check(integer(s.nodeDesiredSize, 0), WHO, `${p}.desiredSize${fromProfile}`, s.nodeDesiredSize, 'an integer of 0 or more');
  // A profile that contradicts itself is its own fault, not a size the user set.
  if (g.minSize === undefined && g.maxSize === undefined && known(s.nodeMaxSize) && known(s.nodeMinSize)) {
    check(!(s.nodeMaxSize < s.nodeMinSize), WHO, `nodeMaxSize${fromProfile}`, s.nodeMaxSize, `at least the profile's nodeMinSize (${s.nodeMinSize})`);
  }
  // Defaults follow what the user set (a given maxSize lowers the profile's minimum, a given minSize
  // raises its maximum), only where both numbers are known.
  const minSize = g.minSize ?? (known(g.maxSize) && known(s.nodeMinSize) ? Math.min(s.nodeMinSize, g.maxSize) : s.nodeMinSize);
  const maxSize = g.maxSize ?? (known(minSize) && known(s.nodeMaxSize) ? Math.max(s.nodeMaxSize, minSize) : s.nodeMaxSize);
  if (g.maxSize !== undefined && known(g.maxSize) && known(minSize)) {
    check(g.maxSize >= minSize, WHO, `${p}.maxSize`, g.maxSize, `an integer of at least 1 and at least minSize (${minSize}${g.minSize === undefined ? ', from the profile' : ''})`);
  }
  let desiredSize: number;
  if (g.desiredSize !== undefined) {
    desiredSize = g.desiredSize;
    check(!known(desiredSize) || ((!known(minSize) || desiredSize >= minSize) && (!known(maxSize) || desiredSize <= maxSize)), WHO, `${p}.desiredSize`,
      desiredSize, `an integer between minSize and maxSize (${range(minSize, maxSize)})`);
  } else if (!known(s.nodeDesiredSize)) {
    desiredSize = s.nodeDesiredSize;
  } else if (!known(minSize)) {
    desiredSize = minSize;
  } else {
    desiredSize = Math.max(s.nodeDesiredSize, minSize);
    if (known(maxSize)) desiredSize = Math.min(desiredSize, maxSize);
  }
  return { minSize, desiredSize, maxSize };
}

function range(min: number, max: number): string {
  const show = (n: number) => (Token.isUnresolved(n) ? 'a deploy-time value' : String(n));
  return `${show(min)}..${show(max)}`;
}

/** Taints as the EKS node group API takes them: at most 50, keys up to 63 characters, one per key and effect. */
function checkNodeGroupTaints(taints: eks.TaintSpec[], p: string): void {
  check(taints.length <= MAX_TAINTS, WHO, `${p}.taints`, `${taints.length} taints`, `at most ${MAX_TAINTS} taints (the EKS node group limit)`);
  const seen = new Set<string>();
  for (const [j, taint] of taints.entries()) {
    check(!!taint.key && !!taint.effect, WHO, `${p}.taints[${j}]`, taint, 'a taint with a key and an effect');
    if (Token.isUnresolved(taint.key) || Token.isUnresolved(taint.effect)) continue;
    check(TAINT_EFFECTS.has(taint.effect!), WHO, `${p}.taints[${j}].effect`, taint.effect,
      'eks.TaintEffect.NO_SCHEDULE, PREFER_NO_SCHEDULE or NO_EXECUTE');
    check(isLabelKey(taint.key!), WHO, `${p}.taints[${j}].key`, taint.key,
      'a Kubernetes key: [prefix/]name, name up to 63 letters, digits, -, _ and . starting and ending alphanumeric');
    check(taint.key!.length <= MAX_KEY_LENGTH, WHO, `${p}.taints[${j}].key`, taint.key, KEY_LENGTH);
    check(taint.value === undefined || Token.isUnresolved(taint.value) || isLabelValue(taint.value), WHO, `${p}.taints[${j}].value`, taint.value,
      'up to 63 letters, digits, -, _ and ., starting and ending alphanumeric');
    const id = `${taint.key}:${taint.effect}`;
    check(!seen.has(id), WHO, `${p}.taints[${j}]`, id, 'each taint key and effect once (Kubernetes keeps one taint per key and effect)');
    seen.add(id);
  }
}

/** Labels as the EKS node group API takes them: keys up to 63 characters, no reserved prefix, values of 1 to 63 characters. */
function checkNodeGroupLabels(labels: { [key: string]: string }, p: string): void {
  for (const [key, value] of Object.entries(labels)) {
    if (Token.isUnresolved(key)) continue;
    check(isLabelKey(key), WHO, `${p}.labels`, key,
      'Kubernetes label keys: [prefix/]name, name up to 63 letters, digits, -, _ and . starting and ending alphanumeric');
    check(key.length <= MAX_KEY_LENGTH, WHO, `${p}.labels`, key, KEY_LENGTH);
    const reserved = reservedNodeGroupLabelPrefix(key);
    check(reserved === undefined, WHO, `${p}.labels`, key,
      `a key without the ${reserved} prefix, which the EKS node group API refuses (kubernetes.io/, k8s.io/ and eks.amazonaws.com/ are reserved): use a domain of your own such as example.com/team`);
    if (Token.isUnresolved(value)) continue;
    check(isLabelValue(value), WHO, `${p}.labels['${key}']`, value, 'a label value: up to 63 letters, digits, -, _ and ., starting and ending alphanumeric');
    check(value !== '', WHO, `${p}.labels['${key}']`, value, 'a value of 1 to 63 characters (the EKS node group API refuses an empty label value)');
  }
}

/**
 * Creates one managed node group with its launch template: IMDSv2 required with hop limit 1 (pods
 * cannot reach the node role's credentials) and encrypted gp3 volumes.
 * @internal
 */
export function createNodeGroup(scope: Construct, cluster: eks.Cluster, g: FxNodeGroupOptions, subnets: ec2.SubnetSelection): eks.Nodegroup {
  const group = new Construct(scope, g.name);
  const bottlerocket = g.image === FxNodeImage.BOTTLEROCKET;
  const volume = (size: number) => ec2.BlockDeviceVolume.ebs(size, {
    encrypted: true,
    volumeType: ec2.EbsDeviceVolumeType.GP3,
    deleteOnTermination: true,
  });
  // A deploy-time size (Size.gibibytes(<Number parameter>)) is passed on as it is.
  const gib = g.diskSize!.toGibibytes();
  const launchTemplate = new ec2.LaunchTemplate(group, 'LaunchTemplate', {
    requireImdsv2: true,
    httpPutResponseHopLimit: 1,
    httpTokens: ec2.LaunchTemplateHttpTokens.REQUIRED,
    blockDevices: bottlerocket
      // Bottlerocket: small OS volume, containers and images on the data volume.
      ? [{ deviceName: '/dev/xvda', volume: volume(4) }, { deviceName: '/dev/xvdb', volume: volume(gib) }]
      : [{ deviceName: '/dev/xvda', volume: volume(gib) }],
  });
  const arm = g.instanceTypes![0].architecture === ec2.InstanceArchitecture.ARM_64;
  const amiType = bottlerocket
    ? (arm ? eks.NodegroupAmiType.BOTTLEROCKET_ARM_64 : eks.NodegroupAmiType.BOTTLEROCKET_X86_64)
    : (arm ? eks.NodegroupAmiType.AL2023_ARM_64_STANDARD : eks.NodegroupAmiType.AL2023_X86_64_STANDARD);

  return new eks.Nodegroup(group, 'Resource', {
    cluster,
    nodegroupName: g.name,
    subnets,
    amiType,
    instanceTypes: g.instanceTypes,
    capacityType: g.capacityType,
    minSize: g.minSize,
    desiredSize: g.desiredSize,
    maxSize: g.maxSize,
    labels: { 'fx.platform/node-group': g.name, ...g.labels },
    taints: g.taints,
    launchTemplateSpec: { id: launchTemplate.launchTemplateId!, version: launchTemplate.latestVersionNumber },
    enableNodeAutoRepair: true,
  });
}
