import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnParameter, Duration, Fn, Size, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import {
  FxAddonName, FxAutoscalerExpander, FxCluster, FxClusterAutoscalerAddon, FxClusterProps, FxConsolidationPolicy, FxKarpenterAddon, FxNodeAutoscaler,
  FxNodeImage, FxProfile, FxProfileOverrides, FxTls, FxTraefikAddon, FxUpgradePolicy,
} from '../src';
import { ENV, importedClusterNetwork, messageOf, testApp } from './util/fixtures';
import { kubernetesObjectsOf } from './util/manifests';
import { nonInternetRangeOf } from '../src/core/errors';

/**
 * FxCluster input that EKS, EC2, Karpenter's schema or Helm would refuse at deploy time (or that
 * would never work), each with its exact message; and the deploy-time tokens and edge values around
 * each check, which pass. Most checks run before anything is built, so each case is a cheap cluster.
 */

const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-input-cluster-'));
afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

let app: App;
let n = 0;
beforeAll(() => {
  app = testApp(path.join(outdir, 'cases'));
});

const stackOf = (id: string) => new Stack(app, id, { env: ENV });
/** A stack in an app of its own, for tests that synthesize (a shared app would synthesize every case). */
const ownStack = (id: string) => new Stack(testApp(path.join(outdir, id)), id, { env: ENV });
const cluster = (id: string, props: FxClusterProps) => new FxCluster(stackOf(id), 'Cluster', props);
const nodeGroup = (id: string, group: object) => cluster(id, { nodeGroups: [{ name: 'a', ...group }] });
const karpenter = (id: string, pool: object, options: object = {}) =>
  cluster(id, { nodeAutoscaler: FxNodeAutoscaler.karpenter({ nodePools: [{ name: 'general', ...pool }], ...options }) });
const lab = (overrides: FxProfileOverrides) => FxProfile.custom(FxProfile.DEVELOPMENT, 'lab', overrides);
const zoneIn = (stack: Stack) => route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0EXAMPLE', zoneName: 'fx.example.com' });
const num = (stack: Stack, id: string) => new CfnParameter(stack, id, { type: 'Number' }).valueAsNumber;
const type = (name: string) => new ec2.InstanceType(name);
const taint = (key: string, effect: eks.TaintEffect = eks.TaintEffect.NO_SCHEDULE, value?: string) => ({ key, value, effect });

const CASES: [string, () => unknown, string][] = [
  // ---- Node groups: what the EKS node group API refuses
  ['an empty node group label value', () => nodeGroup('NgEmptyLabel', { labels: { team: '' } }),
    "FxCluster at NgEmptyLabel/Cluster: invalid nodeGroups[0].labels['team'] ''; allowed: a value of 1 to 63 characters (the EKS node group API refuses an empty label value)"],
  ['a node group label key over 63 characters with its prefix', () => nodeGroup('NgLongKey', { labels: { [`example.com/${'k'.repeat(52)}`]: 'x' } }),
    `FxCluster at NgLongKey/Cluster: invalid nodeGroups[0].labels 'example.com/${'k'.repeat(52)}'; allowed: a key of at most 63 characters in all, prefix included (the EKS node group limit)`],
  ['a node group taint key over 63 characters', () => nodeGroup('NgLongTaint', { taints: [taint(`example.com/${'t'.repeat(60)}`)] }),
    `FxCluster at NgLongTaint/Cluster: invalid nodeGroups[0].taints[0].key 'example.com/${'t'.repeat(60)}'; allowed: a key of at most 63 characters in all, prefix included (the EKS node group limit)`],
  ['51 node group taints', () => nodeGroup('NgTaints', { taints: Array.from({ length: 51 }, (_, i) => taint(`t${i}`)) }),
    "FxCluster at NgTaints/Cluster: invalid nodeGroups[0].taints '51 taints'; allowed: at most 50 taints (the EKS node group limit)"],
  ['the same taint key and effect twice', () => nodeGroup('NgTaintTwice', { taints: [taint('a', eks.TaintEffect.NO_SCHEDULE, 'x'), taint('a', eks.TaintEffect.NO_SCHEDULE, 'y')] }),
    "FxCluster at NgTaintTwice/Cluster: invalid nodeGroups[0].taints[1] 'a:NO_SCHEDULE'; allowed: each taint key and effect once (Kubernetes keeps one taint per key and effect)"],
  ['a taint effect that is not an eks.TaintEffect', () => nodeGroup('NgTaintEffect', { taints: [{ key: 'a', effect: 'NoSchedule' }] }),
    "FxCluster at NgTaintEffect/Cluster: invalid nodeGroups[0].taints[0].effect 'NoSchedule'; allowed: eks.TaintEffect.NO_SCHEDULE, PREFER_NO_SCHEDULE or NO_EXECUTE"],
  ['capacity blocks', () => nodeGroup('NgBlock', { capacityType: eks.CapacityType.CAPACITY_BLOCK }),
    "FxCluster at NgBlock/Cluster: invalid nodeGroups[0].capacityType 'CAPACITY_BLOCK'; allowed: eks.CapacityType.ON_DEMAND or eks.CapacityType.SPOT (CAPACITY_BLOCK needs a capacity reservation in the launch template, which the node group does not set)"],
  ['a capacity type in lowercase (JavaScript)', () => nodeGroup('NgSpotLower', { capacityType: 'spot' }),
    "FxCluster at NgSpotLower/Cluster: invalid nodeGroups[0].capacityType 'spot'; allowed: eks.CapacityType.ON_DEMAND or eks.CapacityType.SPOT (CAPACITY_BLOCK needs a capacity reservation in the launch template, which the node group does not set)"],
  ['a node image that is not an FxNodeImage', () => nodeGroup('NgImage', { image: 'WINDOWS' }),
    "FxCluster at NgImage/Cluster: invalid nodeGroups[0].image 'WINDOWS'; allowed: FxNodeImage.AL2023 or FxNodeImage.BOTTLEROCKET"],
  ['a GPU instance type', () => nodeGroup('NgGpu', { instanceTypes: [type('g5.xlarge')] }),
    "FxCluster at NgGpu/Cluster: invalid nodeGroups[0].instanceTypes 'g5.xlarge'; allowed: general-purpose Linux instance types such as m7i.large ('g5' is an accelerated family (GPU, Inferentia, Trainium, FPGA), which needs an accelerated AMI the node group does not select)"],
  ['a Trainium instance type', () => nodeGroup('NgTrn', { instanceTypes: [type('trn1.2xlarge')] }),
    "FxCluster at NgTrn/Cluster: invalid nodeGroups[0].instanceTypes 'trn1.2xlarge'; allowed: general-purpose Linux instance types such as m7i.large ('trn1' is an accelerated family (GPU, Inferentia, Trainium, FPGA), which needs an accelerated AMI the node group does not select)"],
  ['a Mac instance type', () => nodeGroup('NgMac', { instanceTypes: [type('mac2.metal')] }),
    "FxCluster at NgMac/Cluster: invalid nodeGroups[0].instanceTypes 'mac2.metal'; allowed: general-purpose Linux instance types such as m7i.large ('mac2' runs macOS only, which EKS nodes cannot)"],
  ['the same instance type twice for spot', () => nodeGroup('NgTwice', { capacityType: eks.CapacityType.SPOT, instanceTypes: [type('m5.large'), type('m5.large')] }),
    "FxCluster at NgTwice/Cluster: invalid nodeGroups[0].instanceTypes 'm5.large'; allowed: each instance type once"],
  ['only spot node groups', () => nodeGroup('NgOnlySpot', { capacityType: eks.CapacityType.SPOT, instanceTypes: [type('m5.large'), type('m6i.large')] }),
    'FxCluster at NgOnlySpot/Cluster: invalid nodeGroups ["a (spot)"]; allowed: at least one on-demand node group without a NoSchedule or NoExecute taint: the platform\'s controllers run there (spot groups are tainted)'],
  ['only NoExecute-tainted node groups', () => nodeGroup('NgOnlyTainted', { taints: [taint('dedicated', eks.TaintEffect.NO_EXECUTE, 'gpu')] }),
    'FxCluster at NgOnlyTainted/Cluster: invalid nodeGroups ["a (tainted)"]; allowed: at least one on-demand node group without a NoSchedule or NoExecute taint: the platform\'s controllers run there (spot groups are tainted)'],
  ['no node anywhere', () => nodeGroup('NgNoNodes', { minSize: 0, desiredSize: 0 }),
    'FxCluster at NgNoNodes/Cluster: invalid nodeGroups ["a: desiredSize 0"]; allowed: at least one untainted node group with a desiredSize of 1 or more: the platform\'s controllers, and the node autoscaler itself, need a node to start on'],
  ['a profile desired size that is a fraction', () => cluster('NgProfileDesired', { profile: lab({ nodeDesiredSize: 2.5 }) }),
    'FxCluster at NgProfileDesired/Cluster: invalid nodeGroups[0].desiredSize (from profile lab) 2.5; allowed: an integer of 0 or more'],
  ['a profile desired size of NaN', () => cluster('NgProfileNaN', { profile: lab({ nodeDesiredSize: NaN }) }),
    'FxCluster at NgProfileNaN/Cluster: invalid nodeGroups[0].desiredSize (from profile lab) NaN; allowed: an integer of 0 or more'],
  ['a disk size token in MiB', () => {
    const s = stackOf('NgDiskMiB');
    return new FxCluster(s, 'Cluster', { nodeGroups: [{ name: 'a', diskSize: Size.mebibytes(num(s, 'Disk')) }] });
  }, "FxCluster at NgDiskMiB/Cluster: invalid nodeGroups[0].diskSize '(a deploy-time token in a unit other than GiB)'; allowed: a deploy-time size as Size.gibibytes(<token>) (a token in another unit cannot be converted at synth)"],

  // ---- Network
  ['a multicast VPC block', () => cluster('VpcMulticast', { vpcCidr: '224.0.0.0/16' }),
    "FxCluster at VpcMulticast/Cluster: invalid vpcCidr '224.0.0.0/16'; allowed: a private (RFC 1918) or publicly routable block; 224.0.0.0/16 overlaps 224.0.0.0/4, which EC2 refuses for a VPC (this network, loopback, link-local, multicast or reserved)"],
  ['a loopback VPC block', () => cluster('VpcLoopback', { vpcCidr: '127.0.0.0/16' }),
    "FxCluster at VpcLoopback/Cluster: invalid vpcCidr '127.0.0.0/16'; allowed: a private (RFC 1918) or publicly routable block; 127.0.0.0/16 overlaps 127.0.0.0/8, which EC2 refuses for a VPC (this network, loopback, link-local, multicast or reserved)"],
  ['a link-local VPC block', () => cluster('VpcLinkLocal', { vpcCidr: '169.254.0.0/16' }),
    "FxCluster at VpcLinkLocal/Cluster: invalid vpcCidr '169.254.0.0/16'; allowed: a private (RFC 1918) or publicly routable block; 169.254.0.0/16 overlaps 169.254.0.0/16, which EC2 refuses for a VPC (this network, loopback, link-local, multicast or reserved)"],
  ['a NAT gateway count from a parameter', () => {
    const s = stackOf('NatToken');
    return new FxCluster(s, 'Cluster', { natGateways: num(s, 'Nat') });
  }, "FxCluster at NatToken/Cluster: invalid natGateways '(a deploy-time token)'; allowed: a value known at synth: the NAT gateways are created at synth, one per AZ up to this count"],
  ['a profile NAT gateway count from a parameter', () => {
    const s = stackOf('NatProfileToken');
    return new FxCluster(s, 'Cluster', { profile: lab({ natGateways: num(s, 'Nat') }) });
  }, "FxCluster at NatProfileToken/Cluster: invalid natGateways (from profile lab) '(a deploy-time token)'; allowed: a value known at synth: the NAT gateways are created at synth, one per AZ up to this count"],
  ['availability zones from a list parameter', () => {
    const s = stackOf('AzList');
    return new FxCluster(s, 'Cluster', { availabilityZones: new CfnParameter(s, 'Azs', { type: 'CommaDelimitedList' }).valueAsList });
  }, "FxCluster at AzList/Cluster: invalid availabilityZones '(a deploy-time token)'; allowed: 3 availability zone names known at synth such as ['us-east-1a', 'us-east-1b', 'us-east-1c'] (the subnets are laid out per zone at synth)"],
  ['availability zones from Fn.getAzs', () => cluster('AzGet', { availabilityZones: Fn.getAzs() }),
    "FxCluster at AzGet/Cluster: invalid availabilityZones '(a deploy-time token)'; allowed: 3 availability zone names known at synth such as ['us-east-1a', 'us-east-1b', 'us-east-1c'] (the subnets are laid out per zone at synth)"],
  ['41 endpoint allowlist blocks', () => cluster('Allow41', { endpointAllowlist: Array.from({ length: 41 }, (_, i) => `203.0.${i}.0/24`) }),
    "FxCluster at Allow41/Cluster: invalid endpointAllowlist '41 CIDR blocks'; allowed: at most 40 CIDR blocks (the EKS quota of public endpoint CIDR ranges per cluster)"],
  ['an endpoint allowlist block made only of reserved ranges', () => cluster('AllowReserved', { endpointAllowlist: ['224.0.0.0/3'] }),
    "FxCluster at AllowReserved/Cluster: invalid endpointAllowlist '224.0.0.0/3'; allowed: public internet ranges (224.0.0.0/3 is in the private or reserved range 224.0.0.0/4, which never reaches the public endpoint; in-VPC clients use the private endpoint)"],

  // ---- Enum-like props given as strings (JavaScript)
  ['an upgrade policy in other case', () => cluster('Upgrade', { upgradePolicy: 'Extended' as FxUpgradePolicy }),
    "FxCluster at Upgrade/Cluster: invalid upgradePolicy 'Extended'; allowed: FxUpgradePolicy.STANDARD or FxUpgradePolicy.EXTENDED"],
  ['an autoscaler expander that does not exist', () => cluster('Expander', { autoscalerExpander: 'priority' as FxAutoscalerExpander }),
    "FxCluster at Expander/Cluster: invalid autoscalerExpander 'priority'; allowed: an FxAutoscalerExpander: least-waste, most-pods, random, least-nodes"],
  ['a Kubernetes version from a parameter', () => {
    const s = stackOf('VersionToken');
    return new FxCluster(s, 'Cluster', { kubernetesVersion: new CfnParameter(s, 'Version').valueAsString });
  }, "FxCluster at VersionToken/Cluster: invalid kubernetesVersion '(a deploy-time token)'; allowed: a value known at synth: the add-on, chart and kubectl layer versions are chosen from it"],

  // ---- Add-ons and their props
  ['cluster-autoscaler added next to Karpenter', () => cluster('TwoScalers', { nodeAutoscaler: FxNodeAutoscaler.karpenter(), addons: { extra: [new FxClusterAutoscalerAddon()] } }),
    'FxCluster at TwoScalers/Cluster: invalid addons.extra ["cluster-autoscaler","karpenter"]; allowed: one node autoscaler: Karpenter or cluster-autoscaler, not both (set nodeAutoscaler instead)'],
  ['an add-on the cluster installs already', () => cluster('SecondTraefik', { addons: { extra: [new FxTraefikAddon({ replicas: 2 })] } }),
    "FxCluster at SecondTraefik/Cluster: invalid addons.extra[0] 'traefik'; allowed: an add-on the cluster does not install already (use addons.replace to swap a default add-on for your own)"],
  ['Karpenter added next to cluster-autoscaler', () => cluster('TwoScalersB', { addons: { extra: [new FxKarpenterAddon()] } }),
    'FxCluster at TwoScalersB/Cluster: invalid addons.extra ["cluster-autoscaler","karpenter"]; allowed: one node autoscaler: Karpenter or cluster-autoscaler, not both (set nodeAutoscaler instead)'],
  ['ingress replicas with Traefik removed', () => cluster('IngressGone', { addons: { remove: [FxAddonName.TRAEFIK] }, ingressReplicas: 3 }),
    'FxCluster at IngressGone/Cluster: invalid ingressReplicas 3; allowed: no ingressReplicas when the built-in Traefik is removed (set the options of your own FxTraefikAddon instead)'],
  ['an ingress rate limit with Traefik replaced', () => cluster('IngressReplaced', {
    addons: { replace: [new FxTraefikAddon({ replicas: 2 })] }, ingressRateLimit: { average: 10, burst: 20 },
  }), 'FxCluster at IngressReplaced/Cluster: invalid ingressRateLimit {"average":10,"burst":20}; allowed: no ingressRateLimit when the built-in Traefik is replaced (set the options of your own FxTraefikAddon instead)'],
  ['a backup retention with Velero off', () => cluster('VeleroOff', { velero: false, clusterBackupRetentionDays: 7 }),
    'FxCluster at VeleroOff/Cluster: invalid clusterBackupRetentionDays 7; allowed: no backup retention when the built-in Velero is turned off (velero: false) (set retentionDays of your own FxVeleroAddon instead)'],
  ['a backup retention with Velero removed', () => cluster('VeleroGone', { addons: { remove: [FxAddonName.VELERO] }, clusterBackupRetentionDays: 7 }),
    'FxCluster at VeleroGone/Cluster: invalid clusterBackupRetentionDays 7; allowed: no backup retention when the built-in Velero is removed (set retentionDays of your own FxVeleroAddon instead)'],
  ['a backup retention from a parameter', () => {
    const s = stackOf('VeleroToken');
    return new FxCluster(s, 'Cluster', { clusterBackupRetentionDays: num(s, 'Days') });
  }, "FxCluster at VeleroToken/Cluster: invalid clusterBackupRetentionDays '(a deploy-time token)'; allowed: a value known at synth: the backup schedule's ttl is written in hours (days x 24), which CloudFormation cannot compute"],
  ['profile add-on replicas from a parameter', () => {
    const s = stackOf('AddonReplicasToken');
    return new FxCluster(s, 'Cluster', { profile: lab({ addonReplicas: num(s, 'Replicas') }) });
  }, "FxCluster at AddonReplicasToken/Cluster: invalid addonReplicas (from profile lab) '(a deploy-time token)'; allowed: a value known at synth: each add-on chart enables its disruption budget only for more than one replica"],

  // ---- TLS
  ['a TLS domain from a parameter', () => {
    const s = stackOf('TlsToken');
    return FxTls.acm({ hostedZone: zoneIn(s), domainName: new CfnParameter(s, 'Domain').valueAsString });
  }, "FxTls: invalid acm.domainName '(a deploy-time token)'; allowed: a value known at synth: the hosts of the platform (dashboards, services) are derived from it and routes are checked against it"],
  ['a TLS domain over 64 characters', () => {
    const s = stackOf('TlsLong');
    return FxTls.letsEncrypt({ hostedZone: zoneIn(s), domainName: `${'a'.repeat(50)}.fx.example.com`, email: 'ops@example.com' });
  }, `FxTls: invalid letsEncrypt.domainName '${'a'.repeat(50)}.fx.example.com'; allowed: a domain name of at most 64 characters (the certificate's common name)`],
  ['tls on a cluster without Traefik', () => {
    const s = stackOf('TlsNoTraefik');
    return new FxCluster(s, 'Cluster', { tls: FxTls.acm({ hostedZone: zoneIn(s), domainName: 'fx.example.com' }), addons: { remove: [FxAddonName.TRAEFIK] } });
  }, "FxCluster at TlsNoTraefik/Cluster: invalid tls 'fx.example.com'; allowed: a cluster with Traefik: the certificate, load balancer and DNS records front it (keep the built-in traefik, add your own FxTraefikAddon in addons.extra, or leave tls unset)"],

  // ---- Karpenter NodePools: what the NodePool schema refuses, or pools that can never launch a node
  ['a pool of Graviton families on x86', () => karpenter('KpArch', { instanceFamilies: ['m7g', 'c7g'] }),
    "FxCluster at KpArch/Cluster: invalid nodeAutoscaler.nodePools[0].instanceFamilies 'm7g'; allowed: families of the pool's architectures (x86_64); m7g is arm64: add arm64 to nodeAutoscaler.nodePools[0].architectures or pick families of x86_64"],
  ['a pool of x86 families on arm64', () => karpenter('KpArchB', { instanceFamilies: ['m7i'], architectures: [ec2.InstanceArchitecture.ARM_64] }),
    "FxCluster at KpArchB/Cluster: invalid nodeAutoscaler.nodePools[0].instanceFamilies 'm7i'; allowed: families of the pool's architectures (arm64); m7i is x86_64: add x86_64 to nodeAutoscaler.nodePools[0].architectures or pick families of arm64"],
  ['a burstable family with sizes it does not have', () => karpenter('KpSizes', { instanceFamilies: ['t3'], instanceSizes: ['4xlarge', 'metal'] }),
    'FxCluster at KpSizes/Cluster: invalid nodeAutoscaler.nodePools[0].instanceSizes ["4xlarge","metal"]; allowed: sizes that family t3 has (burstable family \'t3\' has sizes nano to 2xlarge only, not \'4xlarge\')'],
  ['a size no EC2 family has', () => karpenter('KpOneX', { instanceSizes: ['1xlarge'] }),
    "FxCluster at KpOneX/Cluster: invalid nodeAutoscaler.nodePools[0].instanceSizes '1xlarge'; allowed: EC2 instance sizes such as medium, large, 2xlarge, metal"],
  ['a family twice', () => karpenter('KpTwice', { instanceFamilies: ['m7i', 'm7i'] }),
    "FxCluster at KpTwice/Cluster: invalid nodeAutoscaler.nodePools[0].instanceFamilies 'm7i'; allowed: each value once"],
  ['a Mac family', () => karpenter('KpMac', { instanceFamilies: ['mac2'], instanceSizes: ['metal'] }),
    "FxCluster at KpMac/Cluster: invalid nodeAutoscaler.nodePools[0].instanceFamilies 'mac2'; allowed: Linux instance families for EKS nodes (Mac instances run macOS only; high-memory u- families run on dedicated hosts)"],
  ['weight 0', () => karpenter('KpWeight0', { weight: 0 }),
    'FxCluster at KpWeight0/Cluster: invalid nodeAutoscaler.nodePools[0].weight 0; allowed: an integer from 1 to 100 (the NodePool schema)'],
  ['100 labels of the user\'s own', () => karpenter('KpLabels', { labels: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`l${i}`, 'x'])) }),
    "FxCluster at KpLabels/Cluster: invalid nodeAutoscaler.nodePools[0].labels '100 labels'; allowed: at most 99 labels (the NodePool schema allows 100, with the ones the platform adds)"],
  ['a memory limit that is not whole GiB', () => karpenter('KpMemory', { memoryLimit: Size.mebibytes(5000) }),
    "FxCluster at KpMemory/Cluster: invalid nodeAutoscaler.nodePools[0].memoryLimit '5000 MiB'; allowed: whole GiB (the NodePool and EC2NodeClass take GiB)"],
  ['a disk size that is not whole GiB', () => karpenter('KpDisk', { diskSize: Size.mebibytes(20500) }),
    "FxCluster at KpDisk/Cluster: invalid nodeAutoscaler.nodePools[0].diskSize '20500 MiB'; allowed: whole GiB (the NodePool and EC2NodeClass take GiB)"],
  ['an expiry longer than Go durations reach', () => karpenter('KpExpiry', { expireAfter: Duration.days(109500) }),
    "FxCluster at KpExpiry/Cluster: invalid nodeAutoscaler.nodePools[0].expireAfter '9460800000s'; allowed: at most 2562047 hours (the longest duration Karpenter can read)"],
  ['a consolidation policy that is not an FxConsolidationPolicy', () => karpenter('KpPolicy', { consolidationPolicy: 'Never' as FxConsolidationPolicy }),
    "FxCluster at KpPolicy/Cluster: invalid nodeAutoscaler.nodePools[0].consolidationPolicy 'Never'; allowed: FxConsolidationPolicy.WHEN_EMPTY or FxConsolidationPolicy.WHEN_EMPTY_OR_UNDERUTILIZED"],
  ['a capacity type in lowercase', () => karpenter('KpSpotLower', { capacityType: 'spot' }),
    "FxCluster at KpSpotLower/Cluster: invalid nodeAutoscaler.nodePools[0].capacityType 'spot'; allowed: ON_DEMAND or SPOT"],
  ['a taint effect that is not an eks.TaintEffect', () => karpenter('KpTaintEffect', { taints: [{ key: 'a', effect: 'BOGUS' }] }),
    "FxCluster at KpTaintEffect/Cluster: invalid nodeAutoscaler.nodePools[0].taints[0].effect 'BOGUS'; allowed: eks.TaintEffect.NO_SCHEDULE, PREFER_NO_SCHEDULE or NO_EXECUTE"],
  ['the same pool taint twice', () => karpenter('KpTaintTwice', { taints: [taint('a'), taint('a', eks.TaintEffect.NO_SCHEDULE, 'b')] }),
    "FxCluster at KpTaintTwice/Cluster: invalid nodeAutoscaler.nodePools[0].taints[1] 'a:NO_SCHEDULE'; allowed: each taint key and effect once (Kubernetes keeps one taint per key and effect)"],
  ['a memory limit token in MiB', () => {
    const s = stackOf('KpMemoryToken');
    return new FxCluster(s, 'Cluster', { nodeAutoscaler: FxNodeAutoscaler.karpenter({ nodePools: [{ name: 'general', memoryLimit: Size.mebibytes(num(s, 'Memory')) }] }) });
  }, "FxCluster at KpMemoryToken/Cluster: invalid nodeAutoscaler.nodePools[0].memoryLimit 'Size.mebibytes(<token>)'; allowed: a deploy-time value only as Size.gibibytes(<token>) (a token in another unit cannot be converted at synth)"],
  ['a Windows AMI alias', () => karpenter('KpWindows', {}, { nodeImageAlias: 'windows2022@latest' }),
    "FxCluster at KpWindows/Cluster: invalid nodeAutoscaler.nodeImageAlias 'windows2022@latest'; allowed: a Linux AMI alias (al2023@..., bottlerocket@...): the NodePools require kubernetes.io/os linux"],
  ['an AL2 AMI alias on a Kubernetes version AL2 has no AMI for', () => karpenter('KpAl2', {}, { nodeImageAlias: 'al2@v20251120' }),
    "FxCluster at KpAl2/Cluster: invalid nodeAutoscaler.nodeImageAlias 'al2@v20251120'; allowed: an alias with AMIs for Kubernetes 1.35: al2023@... or bottlerocket@... (there is no AL2 AMI for 1.33 and later)"],
  ['an AMI alias over 30 characters', () => karpenter('KpLongAlias', {}, { nodeImageAlias: 'bottlerocket@v1.50.0-1234567890ab' }),
    "FxCluster at KpLongAlias/Cluster: invalid nodeAutoscaler.nodeImageAlias 'bottlerocket@v1.50.0-1234567890ab'; allowed: an EKS AMI alias of at most 30 characters such as al2023@v20251120 or bottlerocket@v1.50.0"],
];

describe('FxCluster input refused at synth with the exact message', () => {
  test.each(CASES)('fails on %s', (_, run, message) => {
    n++;
    expect(messageOf(run)).toBe(message);
  });
});

describe('cluster methods called after construction', () => {
  let platform: FxCluster;
  beforeAll(() => {
    platform = cluster('Methods', { platformName: 'fx' });
  });
  const chart = { chart: 'podinfo', repository: 'https://stefanprodan.github.io/podinfo', version: '6.9.2' };

  test('a release a built-in add-on installs already', () => {
    expect(messageOf(() => platform.addHelmChart('MyTraefik', { chart: { ...chart, chart: 'traefik' }, namespace: 'traefik' }))).toBe(
      "FxCluster at Methods/Cluster: invalid addHelmChart(MyTraefik).release 'traefik/traefik'; allowed: a release name not installed in that namespace already (chart Traefik installs traefik/traefik)");
  });

  test('the same release twice, and the same chart id twice', () => {
    platform.addHelmChart('Podinfo', { chart, namespace: 'apps' });
    expect(messageOf(() => platform.addHelmChart('PodinfoAgain', { chart, namespace: 'apps' }))).toBe(
      "FxCluster at Methods/Cluster: invalid addHelmChart(PodinfoAgain).release 'apps/podinfo'; allowed: a release name not installed in that namespace already (chart Podinfo installs apps/podinfo)");
    expect(messageOf(() => platform.addHelmChart('Podinfo', { chart, namespace: 'other' }))).toBe(
      "FxCluster at Methods/Cluster: invalid addHelmChart id 'Podinfo'; allowed: an id not used by another chart of this cluster");
    // Another namespace, another release: both legal.
    expect(() => platform.addHelmChart('PodinfoStaging', { chart, namespace: 'staging' })).not.toThrow();
    expect(() => platform.addHelmChart('PodinfoBlue', { chart, namespace: 'apps', release: 'podinfo-blue' })).not.toThrow();
  });

  test('a chart name that is not a release name names the chart, and an empty chart name', () => {
    expect(messageOf(() => platform.addHelmChart('Slash', { chart: { ...chart, chart: 'bitnami/nginx' }, namespace: 'apps' }))).toBe(
      "FxCluster at Methods/Cluster: invalid addHelmChart(Slash).chart.chart (the release name by default) 'bitnami/nginx'; allowed: a Helm release name: "
      + 'lowercase letters, digits, - and ., at most 53 characters; set release when the chart name is not one');
    expect(messageOf(() => platform.addHelmChart('Empty', { chart: { ...chart, chart: '' }, namespace: 'apps', release: 'empty' }))).toBe(
      "FxCluster at Methods/Cluster: invalid addHelmChart(Empty).chart.chart ''; allowed: a chart name");
  });

  test('values that are not a plain object, and a timeout token in minutes', () => {
    expect(messageOf(() => platform.addHelmChart('MapValues', { chart, namespace: 'maps', values: new Map() as unknown as object }))).toBe(
      'FxCluster at Methods/Cluster: invalid addHelmChart(MapValues).values {}; allowed: an object of Helm values');
    const minutes = Duration.minutes(num(Stack.of(platform), 'HelmMinutes'));
    expect(messageOf(() => platform.addHelmChart('TokenTimeout', { chart, namespace: 'timeouts', timeout: minutes }))).toBe(
      "FxCluster at Methods/Cluster: invalid addHelmChart(TokenTimeout).timeout 'Duration.minutes(<token>)'; allowed: a deploy-time value only as "
      + 'Duration.seconds(<token>) (a token in another unit cannot be converted at synth)');
    const seconds = Duration.seconds(num(Stack.of(platform), 'HelmSeconds'));
    expect(() => platform.addHelmChart('SecondsTimeout', { chart, namespace: 'timeouts', timeout: seconds })).not.toThrow();
  });

  test('a service account with a pod identity twice (also one an add-on made), and a token name', () => {
    expect(messageOf(() => platform.addPodIdentityServiceAccount('MyVelero', { name: 'velero-server', namespace: 'velero' }))).toBe(
      "FxCluster at Methods/Cluster: invalid addPodIdentityServiceAccount(MyVelero).name 'velero/velero-server'; allowed: a service account without a pod "
      + 'identity already (VeleroServiceAccount has velero/velero-server; EKS allows one association per service account)');
    const name = new CfnParameter(Stack.of(platform), 'AccountName').valueAsString;
    expect(messageOf(() => platform.addPodIdentityServiceAccount('TokenName', { name, namespace: 'apps' }))).toBe(
      "FxCluster at Methods/Cluster: invalid addPodIdentityServiceAccount(TokenName).name '(a deploy-time token)'; allowed: a value known at synth: "
      + 'the ServiceAccount manifest and its pod identity association are written at synth');
    expect(() => platform.addPodIdentityServiceAccount('Reports', { name: 'reports', namespace: 'apps' })).not.toThrow();
  });
});

describe('add-ons built by the user are named by their own options', () => {
  test('values that are not a plain object, named with the cluster that installs the add-on', () => {
    expect(messageOf(() => cluster('TraefikValues', { addons: { replace: [new FxTraefikAddon({ values: [1] as unknown as object })] } }))).toBe(
      "FxCluster at TraefikValues/Cluster: invalid FxTraefikAddon.values [1]; allowed: a plain object of Helm values, deep-merged over the add-on's own (e.g. { resources: { limits: { memory: '1Gi' } } })");
    expect(messageOf(() => cluster('KarpenterValues', {
      nodeAutoscaler: FxNodeAutoscaler.karpenter(), addons: { replace: [new FxKarpenterAddon({ values: new Map([['a', 1]]) as unknown as object })] },
    }))).toBe(
      "FxCluster at KarpenterValues/Cluster: invalid FxKarpenterAddon.values 'a Map of 1 entries'; allowed: a plain object of Helm values, deep-merged over the add-on's own (e.g. { resources: { limits: { memory: '1Gi' } } })");
    expect(() => cluster('AutoscalerValues', { addons: { replace: [new FxClusterAutoscalerAddon({ values: { extraArgs: { v: 2 } } })] } })).not.toThrow();
  });
});

describe('an imported cluster', () => {
  test('interface endpoint subnet blocks are network addresses, each once', () => {
    const imported = (id: string, cidrs: string[]) => {
      const s = stackOf(id);
      return FxCluster.fromClusterAttributes(s, 'Shared', {
        clusterName: 'shared',
        clusterSecurityGroupId: 'sg-0123456789abcdef0',
        platformName: 'fx',
        ...importedClusterNetwork(s),
        interfaceEndpoints: [ec2.InterfaceVpcEndpointAwsService.SQS],
        interfaceEndpointSubnetCidrs: cidrs,
      });
    };
    expect(messageOf(() => imported('ImpHost', ['10.1.0.5/20']))).toBe(
      "FxCluster.fromClusterAttributes at ImpHost/Shared: invalid interfaceEndpointSubnetCidrs[0] '10.1.0.5/20'; allowed: a network address (host bits zero), e.g. 10.0.32.0/19 rather than 10.0.32.5/19");
    expect(messageOf(() => imported('ImpTwice', ['10.1.0.0/20', '10.1.0.0/20']))).toBe(
      "FxCluster.fromClusterAttributes at ImpTwice/Shared: invalid interfaceEndpointSubnetCidrs[1] '10.1.0.0/20'; allowed: each CIDR block once");
    expect(() => imported('ImpOk', ['10.1.0.0/20', '10.1.16.0/20'])).not.toThrow();
  });
});

describe('legal values and deploy-time tokens around the new checks', () => {
  test('edge values of node groups: 50 taints, 63-character keys, a Graviton group, a tainted group beside an open one', () => {
    expect(() => cluster('NgEdges', {
      nodeGroups: [
        { name: 'system', labels: { [`example.com/${'k'.repeat(51)}`]: 'v'.repeat(63) } },
        { name: 'batch', taints: Array.from({ length: 50 }, (_, i) => taint(`example.com/t${i}`, eks.TaintEffect.NO_EXECUTE)) },
        { name: 'spot', capacityType: eks.CapacityType.SPOT, instanceTypes: [type('m5.large'), type('m6i.large')] },
      ],
    })).not.toThrow();
    expect(() => cluster('NgGraviton', { nodeGroups: [{ name: 'arm', instanceTypes: [type('m7g.large')], image: FxNodeImage.BOTTLEROCKET }] })).not.toThrow();
  });

  test('profile node sizes from parameters are passed on as they are, none copied into another', () => {
    const s = ownStack('ProfileSizes');
    const [min, desired, max] = ['Min', 'Desired', 'Max'].map((id) => num(s, id));
    new FxCluster(s, 'Cluster', { profile: lab({ nodeMinSize: min, nodeDesiredSize: desired, nodeMaxSize: max }) });
    const onlyMax = ownStack('ProfileMax');
    new FxCluster(onlyMax, 'Cluster', { profile: lab({ nodeMaxSize: num(onlyMax, 'Max') }) });
    const template = Template.fromStack(s);
    template.hasResourceProperties('AWS::EKS::Nodegroup', { ScalingConfig: { MinSize: { Ref: 'Min' }, DesiredSize: { Ref: 'Desired' }, MaxSize: { Ref: 'Max' } } });
    Template.fromStack(onlyMax).hasResourceProperties('AWS::EKS::Nodegroup', { ScalingConfig: { MinSize: 2, DesiredSize: 2, MaxSize: { Ref: 'Max' } } });
  });

  test('Karpenter on a cluster named by a parameter, ingress replicas from a parameter, the S3 interface endpoint after the gateway', () => {
    const s = ownStack('Tokens');
    const fx = new FxCluster(s, 'Cluster', {
      clusterName: new CfnParameter(s, 'ClusterName').valueAsString,
      nodeAutoscaler: FxNodeAutoscaler.karpenter({ nodePools: [{ name: 'arm', instanceFamilies: ['m7g', 'c7g'], architectures: [ec2.InstanceArchitecture.ARM_64], weight: 1 }] }),
      ingressReplicas: num(s, 'IngressReplicas'),
      ingressRateLimit: { average: num(s, 'Average'), burst: 200 },
      interfaceEndpoints: [ec2.InterfaceVpcEndpointAwsService.S3],
      endpointAllowlist: ['8.0.0.0/5'],
    });
    const template = Template.fromStack(s);
    const traefik = Object.values(template.findResources('Custom::AWSCDK-EKS-HelmChart', { Properties: { Release: 'traefik' } }))[0];
    const values = JSON.stringify(traefik.Properties.Values);
    expect(values).toContain('{"Ref":"IngressReplicas"}');
    // A deploy-time count gets the budget that suits any count.
    expect(values).toContain('\\"podDisruptionBudget\\":{\\"enabled\\":true,\\"maxUnavailable\\":1}');
    const endpoints = template.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Interface' } });
    const gateway = Object.keys(template.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Gateway' } }))[0];
    expect(Object.values(endpoints)[0].DependsOn).toContain(gateway);
    // The Karpenter policy's conditions name the cluster by its parameter, resolved at deploy time.
    expect(JSON.stringify(template.toJSON())).toContain('"Ref":"ClusterName"');
    const pools = kubernetesObjectsOf(template, 'TOKEN').filter((o) => o.kind === 'NodePool');
    expect(pools.map((p) => p.spec.weight)).toEqual([1]);
    expect(fx.kubernetesVersion).toBe('1.35');
  });

  test('Karpenter pools mixing families whose sizes differ, both architectures, and 99 labels', () => {
    expect(() => karpenter('KpMixed', {
      instanceFamilies: ['t3', 'm7i', 'm7g'],
      instanceSizes: ['large', '4xlarge'],
      architectures: [ec2.InstanceArchitecture.X86_64, ec2.InstanceArchitecture.ARM_64],
      labels: Object.fromEntries(Array.from({ length: 99 }, (_, i) => [`l${i}`, 'x'])),
      expireAfter: Duration.hours(2562047),
      weight: 100,
    })).not.toThrow();
  });

  test('the reserved-range rule: inside a reserved range, or made only of reserved ranges; wider public blocks pass', () => {
    expect(nonInternetRangeOf('10.1.0.0/16')).toBe('10.0.0.0/8');
    expect(nonInternetRangeOf('224.0.0.0/3')).toBe('224.0.0.0/4');
    expect(nonInternetRangeOf('0.0.0.0/0')).toBeUndefined();
    expect(nonInternetRangeOf('8.0.0.0/5')).toBeUndefined();
    expect(nonInternetRangeOf('0.0.0.0/1')).toBeUndefined();
    expect(nonInternetRangeOf('203.0.113.0/24')).toBeUndefined();
  });

  test('every case above ran', () => {
    expect(n).toBe(CASES.length);
  });
});
