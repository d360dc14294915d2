import { Size, SizeRoundingBehavior, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { Construct } from 'constructs';
import { FxNodeGroupOptions, FxNodeImage } from './nodegroup-options';
import { check, FxValidationError, profileSuffix } from '../core/errors';
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
  return list.map((g, i) => {
    const p = `nodeGroups[${i}]`;
    check(NAME.test(g.name), WHO, `${p}.name`, g.name, 'letters, digits, - and _, starting with a letter or digit, up to 63 characters');
    check(!seen.has(g.name), WHO, `${p}.name`, g.name, 'a name not used by another node group');
    seen.add(g.name);

    // A value the user did not set comes from the profile, and the message says so.
    const fromProfile = `${profileSuffix(profile.name)}`;
    const instanceTypes = g.instanceTypes ?? [s.nodeInstanceType];
    const typesProp = `${p}.instanceTypes${g.instanceTypes === undefined ? fromProfile : ''}`;
    const capacityType = g.capacityType ?? eks.CapacityType.ON_DEMAND;
    check(instanceTypes.length > 0, WHO, typesProp, [], 'at least one instance type');
    for (const t of instanceTypes) {
      const name = t.toString();
      // aws-cdk-lib's Nodegroup reads the architecture of every instance type at synth.
      if (Token.isUnresolved(name)) {
        throw new FxValidationError(WHO, typesProp, '(a deploy-time token)',
          "instance types known at synth such as new ec2.InstanceType('m7i.large') (the node group's AMI architecture is chosen from them)");
      }
      const problem = instanceTypeProblem(name);
      check(problem === undefined, WHO, typesProp, name, `an EC2 instance type such as m7i.large (${problem})`);
      check(isAtLeastT3Medium(name), WHO, typesProp, name,
        'instance types of at least t3.medium (2 vCPU, 4 GiB): burstable t*.medium or larger, other families .large or larger');
    }
    if (capacityType === eks.CapacityType.SPOT) {
      check(instanceTypes.length >= 2, WHO, typesProp, instanceTypes.map(String),
        'at least two instance types for a spot node group (spot capacity is reclaimed per instance pool)');
    }
    const archs = new Set(instanceTypes.map((t) => t.architecture));
    check(archs.size <= 1, WHO, typesProp, instanceTypes.map(String), 'instance types of a single CPU architecture');

    // What the user set is checked as given, before any default is derived from it.
    const known = (n: number | undefined): n is number => n !== undefined && !Token.isUnresolved(n);
    if (g.minSize !== undefined) check(Number.isInteger(g.minSize) && g.minSize >= 0, WHO, `${p}.minSize`, g.minSize, 'an integer of 0 or more');
    if (g.maxSize !== undefined) check(Number.isInteger(g.maxSize) && g.maxSize >= 1, WHO, `${p}.maxSize`, g.maxSize, 'an integer of at least 1');
    if (g.desiredSize !== undefined) check(Number.isInteger(g.desiredSize) && g.desiredSize >= 0, WHO, `${p}.desiredSize`, g.desiredSize, 'an integer of 0 or more');
    // Defaults are derived from the sizes that were given, but never from a deploy-time token (a
    // Number parameter): a token is passed on as it is and never copied into another size.
    // A profile that contradicts itself is its own fault, not a size the user set.
    if (g.minSize === undefined && g.maxSize === undefined) {
      check(!(s.nodeMaxSize < s.nodeMinSize), WHO, `nodeMaxSize${fromProfile}`, s.nodeMaxSize, `at least the profile's nodeMinSize (${s.nodeMinSize})`);
    }
    const minSize = g.minSize ?? (known(g.maxSize) ? Math.min(s.nodeMinSize, g.maxSize) : s.nodeMinSize);
    const maxSize = g.maxSize ?? (known(minSize) ? Math.max(s.nodeMaxSize, minSize) : s.nodeMaxSize);
    const desiredSize = g.desiredSize ?? (known(minSize) && known(maxSize)
      ? Math.min(Math.max(s.nodeDesiredSize, minSize), maxSize)
      : (known(minSize) ? minSize : undefined));
    const sizeProp = (name: 'minSize' | 'maxSize' | 'desiredSize') => `${p}.${name}${g[name] === undefined ? fromProfile : ''}`;
    check(Number.isInteger(minSize) && minSize >= 0, WHO, sizeProp('minSize'), minSize, 'an integer of 0 or more');
    check(Number.isInteger(maxSize) && maxSize >= 1 && (!known(minSize) || maxSize >= minSize), WHO, sizeProp('maxSize'), maxSize,
      `an integer of at least 1 and at least minSize (${minSize})`);
    if (desiredSize !== undefined) {
      check(Number.isInteger(desiredSize) && (!known(minSize) || desiredSize >= minSize) && (!known(maxSize) || desiredSize <= maxSize),
        WHO, g.desiredSize === undefined ? sizeProp('minSize') : `${p}.desiredSize`, g.desiredSize ?? minSize,
        `an integer between minSize and maxSize (${minSize}..${maxSize})`);
    }

    const diskSize = g.diskSize ?? Size.gibibytes(50);
    if (!diskSize.isUnresolved()) {
      const gib = diskSize.toGibibytes({ rounding: SizeRoundingBehavior.NONE });
      check(Number.isInteger(gib) && gib >= 20 && gib <= 16384, WHO, `${p}.diskSize`, Number.isInteger(gib) ? `${gib} GiB` : diskSize.toString(),
        'from 20 to 16384 GiB, in whole GiB (EBS volume sizes)');
    }

    for (const [j, taint] of (g.taints ?? []).entries()) {
      check(!!taint.key && !!taint.effect, WHO, `${p}.taints[${j}]`, taint, 'a taint with a key and an effect');
      check(isLabelKey(taint.key!), WHO, `${p}.taints[${j}].key`, taint.key,
        'a Kubernetes key: [prefix/]name, name up to 63 letters, digits, -, _ and . starting and ending alphanumeric');
      check(taint.value === undefined || isLabelValue(taint.value), WHO, `${p}.taints[${j}].value`, taint.value,
        'up to 63 letters, digits, -, _ and ., starting and ending alphanumeric');
    }
    for (const [key, value] of Object.entries(g.labels ?? {})) {
      check(isLabelKey(key), WHO, `${p}.labels`, key, 'Kubernetes label keys: [prefix/]name, name up to 63 letters, digits, -, _ and . starting and ending alphanumeric');
      const reserved = reservedNodeGroupLabelPrefix(key);
      check(reserved === undefined, WHO, `${p}.labels`, key,
        `a key without the ${reserved} prefix, which the EKS node group API refuses (kubernetes.io/, k8s.io/ and eks.amazonaws.com/ are reserved): use a domain of your own such as example.com/team`);
      check(isLabelValue(value), WHO, `${p}.labels['${key}']`, value, 'a label value: up to 63 letters, digits, -, _ and ., starting and ending alphanumeric');
    }
    // Spot capacity is tainted: only workloads that opt in (they tolerate SPOT_TAINT) land there, never
    // Prometheus, Elasticsearch or the controllers. The label lets opted-in workloads prefer it.
    const spot = capacityType === eks.CapacityType.SPOT;
    const taints = spot && !(g.taints ?? []).some((t) => t.key === SPOT_TAINT.key) ? [...(g.taints ?? []), SPOT_TAINT] : g.taints;
    const labels = spot ? { [SPOT_TAINT.key]: SPOT_TAINT.value, ...g.labels } : g.labels;
    return { ...g, instanceTypes, capacityType, minSize, desiredSize, maxSize, diskSize, taints, labels, image: g.image ?? FxNodeImage.AL2023 };
  });
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
