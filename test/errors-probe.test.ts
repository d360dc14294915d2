import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnParameter, Duration, Size, Stack, Token } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import {
  FxAddonName, FxCluster, FxClusterProps, FxCompliance, FxDatabase, FxGithubDeployRole, FxImage, FxMetricsServerAddon, FxMicroservice,
  FxNodeAutoscaler, FxObservability, FxProbe, FxProfile, FxProfileOverrides, FxServiceStacks, FxTls, FxTraefikAddon, FxVeleroAddon, FxVolume,
} from '../src';
import { clusterWithAddons, ENV, importedClusterNetwork, testApp } from './util/fixtures';
import { instanceTypeProblem } from '../src/core/instance-types';

/**
 * Bad input across every construct, one case per class of the issue: each gets the exact message
 * (construct and path, prop, value as given, what is allowed). Validation throws in constructors, so
 * each case builds the cheapest construct that reaches its check; one cluster is shared.
 */

let app: App;
let stack: Stack;
let fxCluster: FxCluster;
let zone: route53.IHostedZone;
let repository: ecr.IRepository;
const image = FxImage.fromRegistry('ghcr.io/acme/api:1.0.0');
const lab = (overrides: FxProfileOverrides) => FxProfile.custom(FxProfile.DEVELOPMENT, 'lab', overrides);

const service = (id: string, props: object) => new FxMicroservice(stack, id, { cluster: fxCluster, image, ...props });
const cluster = (id: string, props: FxClusterProps) => new FxCluster(new Stack(app, id, { env: ENV }), 'Cluster', props);
const nodeGroup = (id: string, group: object) => cluster(id, { nodeGroups: [{ name: 'a', ...group }] });
const karpenter = (id: string, pool: object) => cluster(id, { nodeAutoscaler: FxNodeAutoscaler.karpenter({ nodePools: [{ name: 'general', ...pool }] }) });
const karpenterProfile = (id: string, overrides: FxProfileOverrides) =>
  cluster(id, { profile: lab(overrides), nodeAutoscaler: FxNodeAutoscaler.karpenter() });
const profileCluster = (id: string, overrides: FxProfileOverrides, props: FxClusterProps = {}) => cluster(id, { profile: lab(overrides), ...props });
const profileObservability = (id: string, overrides: FxProfileOverrides) =>
  new FxObservability(stack, id, { cluster: cluster(`${id}Cluster`, { profile: lab(overrides) }) });
const profileDatabase = (id: string, overrides: FxProfileOverrides) => {
  const owner = cluster(id, { profile: lab(overrides) });
  return new FxDatabase(owner.node.scope!, 'Database', { cluster: owner });
};
const database = (id: string, props: object) => new FxDatabase(stack, id, { cluster: fxCluster, ...props });
const observability = (id: string, props: object) => new FxObservability(new Stack(app, id, { env: ENV }), 'Observability', { cluster: fxCluster, ...props });
const deployRole = (id: string, props: object) =>
  new FxGithubDeployRole(new Stack(app, id, { env: ENV }), 'Role', { repository: 'acme/fx', environments: ['prod'], ...props });
const serviceStacks = (id: string, props: object) => new FxServiceStacks(app, id, { env: ENV, ...props });
const profileService = (id: string, overrides: FxProfileOverrides) => {
  const owner = cluster(id, { profile: lab(overrides) });
  return new FxMicroservice(owner.node.scope!, 'Service', { cluster: owner, image });
};
const importedCluster = (id: string, attrs: object) => {
  const owner = new Stack(app, id, { env: ENV });
  return FxCluster.fromClusterAttributes(owner, 'Shared', {
    clusterName: 'shared',
    clusterSecurityGroupId: 'sg-0123456789abcdef0',
    platformName: 'fx',
    ...importedClusterNetwork(owner),
    ...attrs,
  });
};
let secrets = 0;
const probeSecret = () => secretsmanager.Secret.fromSecretNameV2(stack, `ProbeSecret${secrets++}`, 'app/secret');
const compliance = (id: string, props: object) => new FxCompliance(new Stack(app, id, { env: ENV }), 'Compliance', { cluster: fxCluster, ...props });

/** The message of what `run` throws (a test failure when it throws nothing). */
function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('no error: the bad input was accepted');
}

/** Cloud assemblies of this file, removed after it. */
const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-errors-probe-'));
afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

beforeAll(() => {
  app = testApp(path.join(outdir, 'probe'));
  stack = new Stack(app, 'Probe', { env: ENV });
  fxCluster = clusterWithAddons(stack, FxProfile.DEVELOPMENT);
  zone = stack.node.findChild('Zone') as route53.IHostedZone;
  repository = ecr.Repository.fromRepositoryName(stack, 'Repo', 'orders');
  new FxMicroservice(stack, 'Taken', { cluster: fxCluster, image, route: { host: 'taken.fx.example.com' } });
});

const CASES: [string, () => unknown, string][] = [
  // ---- Kubernetes names and labels
  ['karpenter label value with a space', () => karpenter('KpLabelValue', { labels: { team: 'a b' } }),
    "FxCluster at KpLabelValue/Cluster: invalid nodeAutoscaler.nodePools[0].labels['team'] 'a b'; allowed: a label value: up to 63 letters, digits, -, _ and ., starting and ending alphanumeric"],
  ['karpenter label key with two slashes', () => karpenter('KpLabelKey', { labels: { 'a/b/c': 'x' } }),
    "FxCluster at KpLabelKey/Cluster: invalid nodeAutoscaler.nodePools[0].labels 'a/b/c'; allowed: Kubernetes label keys: [prefix/]name, name up to 63 letters, digits, -, _ and . starting and ending alphanumeric"],
  ['karpenter taint key with a space', () => karpenter('KpTaintKey', { taints: [{ key: 'bad key', effect: eks.TaintEffect.NO_SCHEDULE }] }),
    "FxCluster at KpTaintKey/Cluster: invalid nodeAutoscaler.nodePools[0].taints[0].key 'bad key'; allowed: a Kubernetes key: [prefix/]name, name up to 63 letters, digits, -, _ and . starting and ending alphanumeric"],
  ['karpenter taint value over 63 characters', () => karpenter('KpTaintValue', { taints: [{ key: 'team', value: 'x'.repeat(64), effect: eks.TaintEffect.NO_SCHEDULE }] }),
    "FxCluster at KpTaintValue/Cluster: invalid nodeAutoscaler.nodePools[0].taints[0].value 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'; allowed: up to 63 letters, digits, -, _ and ., starting and ending alphanumeric"],
  ['karpenter NodePool name in uppercase', () => karpenter('KpPoolName', { name: 'General' }),
    "FxCluster at KpPoolName/Cluster: invalid nodeAutoscaler.nodePools[0].name 'General'; allowed: a DNS label (lowercase letters, digits, -)"],
  ['node group label key with two slashes', () => nodeGroup('NgLabelKey', { labels: { 'a/b/c': 'x' } }),
    "FxCluster at NgLabelKey/Cluster: invalid nodeGroups[0].labels 'a/b/c'; allowed: Kubernetes label keys: [prefix/]name, name up to 63 letters, digits, -, _ and . starting and ending alphanumeric"],
  ['node group label value with a space', () => nodeGroup('NgLabelValue', { labels: { team: 'a b' } }),
    "FxCluster at NgLabelValue/Cluster: invalid nodeGroups[0].labels['team'] 'a b'; allowed: a label value: up to 63 letters, digits, -, _ and ., starting and ending alphanumeric"],
  ['node group name with a space', () => nodeGroup('NgName', { name: 'a b' }),
    "FxCluster at NgName/Cluster: invalid nodeGroups[0].name 'a b'; allowed: letters, digits, - and _, starting with a letter or digit, up to 63 characters"],
  ['service namespace kube-public', () => service('NsKubePublic', { namespace: 'kube-public' }),
    "FxMicroservice at Probe/NsKubePublic: invalid namespace 'kube-public'; allowed: a namespace of the service's own, not one of Kubernetes or of the platform's add-ons (kube-system, kube-public, kube-node-lease, default, traefik, external-secrets, monitoring, cert-manager, velero, karpenter, logging, elastic-system, amazon-cloudwatch)"],
  ['service namespace kube-node-lease', () => service('NsNodeLease', { namespace: 'kube-node-lease' }),
    "FxMicroservice at Probe/NsNodeLease: invalid namespace 'kube-node-lease'; allowed: a namespace of the service's own, not one of Kubernetes or of the platform's add-ons (kube-system, kube-public, kube-node-lease, default, traefik, external-secrets, monitoring, cert-manager, velero, karpenter, logging, elastic-system, amazon-cloudwatch)"],
  ['service namespace of the cert-manager add-on', () => service('NsCertManager', { namespace: 'cert-manager' }),
    "FxMicroservice at Probe/NsCertManager: invalid namespace 'cert-manager'; allowed: a namespace of the service's own, not one of Kubernetes or of the platform's add-ons (kube-system, kube-public, kube-node-lease, default, traefik, external-secrets, monitoring, cert-manager, velero, karpenter, logging, elastic-system, amazon-cloudwatch)"],
  ['service name in uppercase', () => service('UpperName', { serviceName: 'Orders' }),
    "FxMicroservice at Probe/UpperName: invalid serviceName 'Orders'; allowed: a DNS-1123 label of at most 40 characters (lowercase letters, digits, -)"],
  ['service name over 40 characters', () => service('LongName', { serviceName: 'a'.repeat(41) }),
    "FxMicroservice at Probe/LongName: invalid serviceName 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'; allowed: a DNS-1123 label of at most 40 characters (lowercase letters, digits, -)"],
  ['env name with a tab', () => service('EnvTab', { env: { 'A\tB': 'x' } }),
    "FxMicroservice at Probe/EnvTab: invalid env 'A\tB'; allowed: environment variable names: printable ASCII characters other than '=' (e.g. LOG_LEVEL or my.var)"],
  ['env name with an equals sign', () => service('EnvDash', { env: { 'A=B': 'x' } }),
    "FxMicroservice at Probe/EnvDash: invalid env 'A=B'; allowed: environment variable names: printable ASCII characters other than '=' (e.g. LOG_LEVEL or my.var)"],
  ['platformName starting with a dash', () => cluster('PlatformDash', { platformName: '-fx' }),
    "FxCluster at PlatformDash/Cluster: invalid platformName '-fx'; allowed: up to 40 letters, digits, -, _ and ., starting and ending with a letter or digit (a Kubernetes label value and a secret name prefix)"],
  ['platformName with a space', () => cluster('PlatformSpace', { platformName: 'Fx Platform' }),
    "FxCluster at PlatformSpace/Cluster: invalid platformName 'Fx Platform'; allowed: up to 40 letters, digits, -, _ and ., starting and ending with a letter or digit (a Kubernetes label value and a secret name prefix)"],
  ['deploy role platformName with a space', () => deployRole('RolePlatform', { platformName: 'Fx Platform' }),
    "FxGithubDeployRole at RolePlatform/Role: invalid platformName 'Fx Platform'; allowed: the cluster's platformName: up to 40 letters, digits, -, _ and ., starting and ending with a letter or digit"],
  ['clusterName with ! and _', () => cluster('ClusterNameBad', { clusterName: 'my_cluster!' }),
    "FxCluster at ClusterNameBad/Cluster: invalid clusterName 'my_cluster!'; allowed: up to 100 letters, digits, - and _, starting with a letter or digit"],
  // ---- int32 fields given as fractions, counts that allow nothing
  ['service port 8000.5', () => service('PortFraction', { port: 8000.5 }),
    'FxMicroservice at Probe/PortFraction: invalid port 8000.5; allowed: an integer from 1 to 65535'],
  ['cpu target 50.5 %', () => service('CpuFraction', { autoscaling: { cpuTargetPercent: 50.5 } }),
    'FxMicroservice at Probe/CpuFraction: invalid autoscaling.cpuTargetPercent 50.5; allowed: an integer percentage from 1 to 2147483647 (Kubernetes reads it as int32)'],
  ['cpu target 0 %', () => service('CpuZero', { autoscaling: { cpuTargetPercent: 0 } }),
    'FxMicroservice at Probe/CpuZero: invalid autoscaling.cpuTargetPercent 0; allowed: an integer percentage from 1 to 2147483647'],
  ['memory target 2^31 %', () => service('MemOver', { autoscaling: { memoryTargetPercent: 2 ** 31 } }),
    'FxMicroservice at Probe/MemOver: invalid autoscaling.memoryTargetPercent 2147483648; allowed: an integer percentage from 1 to 2147483647 (Kubernetes reads it as int32)'],
  ['canary weight 0.5 %', () => service('CanaryFraction', { route: { host: 'canary.fx.example.com', canary: { image, weight: 0.5 } } }),
    'FxMicroservice at Probe/CanaryFraction: invalid route.canary.weight 0.5; allowed: an integer percentage from 1 to 99'],
  ['canary weight 101 %', () => service('CanaryOver', { route: { host: 'canary2.fx.example.com', canary: { image, weight: 101 } } }),
    'FxMicroservice at Probe/CanaryOver: invalid route.canary.weight 101; allowed: an integer percentage from 1 to 99'],
  ['retry attempts 1.5', () => service('RetryFraction', { route: { host: 'retry.fx.example.com', retryAttempts: 1.5 } }),
    'FxMicroservice at Probe/RetryFraction: invalid route.retryAttempts 1.5; allowed: an integer from 0 to 10'],
  ['ingress replicas 2.5', () => cluster('IngressFraction', { ingressReplicas: 2.5 }),
    'FxCluster at IngressFraction/Cluster: invalid ingressReplicas 2.5; allowed: an integer from 1 to 20'],
  ['NAT gateways 1.5', () => cluster('NatFraction', { natGateways: 1.5 }),
    'FxCluster at NatFraction/Cluster: invalid natGateways 1.5; allowed: an integer from 1 to 3 (one per AZ at most; private subnets need egress)'],
  ['Velero retention 1.5 days', () => cluster('VeleroFraction', { clusterBackupRetentionDays: 1.5 }),
    'FxCluster at VeleroFraction/Cluster: invalid clusterBackupRetentionDays 1.5; allowed: an integer number of days from 1 to 3650'],
  ['karpenter weight 1.5', () => karpenter('KpWeight', { weight: 1.5 }),
    'FxCluster at KpWeight/Cluster: invalid nodeAutoscaler.nodePools[0].weight 1.5; allowed: an integer from 1 to 100 (the NodePool schema)'],
  ['karpenter cpuLimit 10.5', () => karpenter('KpCpu', { cpuLimit: 10.5 }),
    'FxCluster at KpCpu/Cluster: invalid nodeAutoscaler.nodePools[0].cpuLimit 10.5; allowed: an integer of at least 2 (vCPUs of one node)'],
  ['node group desiredSize 2.5', () => nodeGroup('NgDesired', { desiredSize: 2.5 }),
    'FxCluster at NgDesired/Cluster: invalid nodeGroups[0].desiredSize 2.5; allowed: an integer of 0 or more'],
  ['node group minSize 1.5', () => nodeGroup('NgMinFraction', { minSize: 1.5 }),
    'FxCluster at NgMinFraction/Cluster: invalid nodeGroups[0].minSize 1.5; allowed: an integer of 0 or more'],
  ['node group maxSize NaN: the prop the user set, as given', () => nodeGroup('NgMaxNaN', { maxSize: NaN }),
    'FxCluster at NgMaxNaN/Cluster: invalid nodeGroups[0].maxSize NaN; allowed: an integer of at least 1'],
  ['database port 5432.5', () => database('DbPortFraction', { port: 5432.5 }),
    'FxDatabase at Probe/DbPortFraction: invalid port 5432.5; allowed: an integer from 1150 to 65535'],
  ['database read replicas 1.5', () => database('DbReplicaFraction', { readReplicas: 1.5 }),
    'FxDatabase at Probe/DbReplicaFraction: invalid readReplicas 1.5; allowed: an integer from 0 to 5'],
  ['snapshot retention 1.5 days', () => observability('ObsSnapshotFraction', { elk: true, snapshotRetentionDays: 1.5 }),
    'FxObservability at ObsSnapshotFraction/Observability: invalid snapshotRetentionDays 1.5; allowed: an integer number of days from 1 to 3650'],
  ['Elasticsearch nodes 1.5', () => observability('ObsEsFraction', { elk: true, elasticsearchNodes: 1.5 }),
    'FxObservability at ObsEsFraction/Observability: invalid elasticsearchNodes 1.5; allowed: 1, or 3 to 50 (two master-eligible nodes cannot elect a master when one is lost)'],
  ['alarm pod restarts 1.5', () => observability('ObsRestarts', { alarmThresholds: { podRestarts: 1.5 } }),
    'FxObservability at ObsRestarts/Observability: invalid alarmThresholds.podRestarts 1.5; allowed: an integer of at least 1'],
  ['profile addonReplicas 0', () => profileCluster('ProfileAddonReplicas', { addonReplicas: 0 }),
    'FxCluster at ProfileAddonReplicas/Cluster: invalid addonReplicas (from profile lab) 0; allowed: an integer from 1 to 10 (replicas of each add-on controller)'],
  ['profile prometheusReplicas 1.5', () => profileObservability('ProfilePrometheus', { prometheusReplicas: 1.5 }),
    'FxObservability at Probe/ProfilePrometheus: invalid prometheusReplicas (from profile lab) 1.5; allowed: an integer from 1 to 10'],
  ['profile nodeMinSize -1: said to come from the profile', () => profileCluster('ProfileNodeMin', { nodeMinSize: -1 }),
    'FxCluster at ProfileNodeMin/Cluster: invalid nodeGroups[0].minSize (from profile lab) -1; allowed: an integer of 0 or more'],
  ['profile spot node group with the profile instance type', () => profileCluster('ProfileSpot', {}, { nodeGroups: [{ name: 'spot', capacityType: eks.CapacityType.SPOT }] }),
    'FxCluster at ProfileSpot/Cluster: invalid nodeGroups[0].instanceTypes (from profile lab) ["t3.medium"]; allowed: at least two instance types for a spot node group (spot capacity is reclaimed per instance pool)'],
  ['service stacks of 2.5 services', () => serviceStacks('StacksFraction', { servicesPerStack: 2.5 }),
    'FxServiceStacks at StacksFraction: invalid servicesPerStack 2.5; allowed: an integer from 1 to 40 (at up to 25 KB of template per service, more risks the 1 MB template limit)'],
  ['service stacks of 41 services', () => serviceStacks('StacksOver', { servicesPerStack: 41 }),
    'FxServiceStacks at StacksOver: invalid servicesPerStack 41; allowed: an integer from 1 to 40 (at up to 25 KB of template per service, more risks the 1 MB template limit)'],
  ['stack count 1.5', () => serviceStacks('StackCountFraction', { stackCount: 1.5 }),
    'FxServiceStacks at StackCountFraction: invalid stackCount 1.5; allowed: an integer from 1 to 100'],
  // ---- durations: zero, not whole seconds, overflowing
  ['karpenter consolidateAfter 1.5 s', () => karpenter('KpConsolidate', { consolidateAfter: Duration.millis(1500) }),
    "FxCluster at KpConsolidate/Cluster: invalid nodeAutoscaler.nodePools[0].consolidateAfter '1.5s'; allowed: whole seconds, 0 or more"],
  ['karpenter expireAfter in days of a token', () => karpenter('KpExpireToken', { expireAfter: Duration.days(Token.asNumber({ Ref: 'Days' })) }),
    "FxCluster at KpExpireToken/Cluster: invalid nodeAutoscaler.nodePools[0].expireAfter 'Duration.days(<token>)'; allowed: a deploy-time value only as Duration.seconds(), Duration.minutes() or Duration.hours() of a token"],
  ['database backup retention 36 hours', () => database('DbBackupHours', { backupRetention: Duration.hours(36) }),
    "FxDatabase at Probe/DbBackupHours: invalid backupRetention 'Duration.hours(36)'; allowed: 1 to 35 days, in whole days"],
  ['database slow query threshold of 30 days (int overflow)', () => database('DbSlowQuery', { slowQueryThreshold: Duration.days(30) }),
    "FxDatabase at Probe/DbSlowQuery: invalid slowQueryThreshold '2592000000 ms'; allowed: a whole number of milliseconds from 0 to 2147483647 (log_min_duration_statement is a PostgreSQL int)"],
  ['database rotation from a token', () => database('DbRotationToken', { rotationSchedule: Duration.days(Token.asNumber({ Ref: 'Rotation' })) }),
    "FxDatabase at Probe/DbRotationToken: invalid rotationSchedule 'Duration.days(<token>)'; allowed: a duration known at synth such as Duration.days(30) (Secrets Manager's schedule expression is written at synth)"],
  ['metrics retention 90 minutes', () => observability('ObsRetention', { metricsRetention: Duration.minutes(90) }),
    "FxObservability at ObsRetention/Observability: invalid metricsRetention '1 hour 30 minutes'; allowed: whole hours from 2 hours (one Prometheus block) to 3650 days"],
  ['target response time 0 ms', () => observability('ObsResponseTime', { alarmThresholds: { targetResponseTime: Duration.millis(0) } }),
    "FxObservability at ObsResponseTime/Observability: invalid alarmThresholds.targetResponseTime '0 millis'; allowed: from 1 ms to 300 s"],
  ['deploy role session 13 hours', () => deployRole('RoleSession', { maxSessionDuration: Duration.hours(13) }),
    "FxGithubDeployRole at RoleSession/Role: invalid maxSessionDuration '13 hours'; allowed: 1 to 12 hours"],
  ['deploy role session of a token in hours', () => deployRole('RoleSessionToken', { maxSessionDuration: Duration.hours(Token.asNumber({ Ref: 'Hours' })) }),
    "FxGithubDeployRole at RoleSessionToken/Role: invalid maxSessionDuration 'Duration.hours(<token>)'; allowed: a deploy-time value only as Duration.seconds(<token>) (a token in another unit cannot be converted at synth)"],
  ['node group disk of 30000 MiB (not whole GiB)', () => nodeGroup('NgDiskMiB', { diskSize: Size.mebibytes(30000) }),
    "FxCluster at NgDiskMiB/Cluster: invalid nodeGroups[0].diskSize 'Size.mebibytes(30000)'; allowed: from 20 to 16384 GiB, in whole GiB (EBS volume sizes)"],
  ['grafana storage 0 GiB: the value as given', () => observability('ObsGrafanaZero', { grafanaStorage: Size.gibibytes(0) }),
    "FxObservability at ObsGrafanaZero/Observability: invalid grafanaStorage '0 GiB'; allowed: whole GiB from 1 to 16384 (gp3 volume sizes)"],
  // ---- AWS vocabularies
  ['node group t3.metal (no such size in T)', () => nodeGroup('NgT3Metal', { instanceTypes: [new ec2.InstanceType('t3.metal')] }),
    "FxCluster at NgT3Metal/Cluster: invalid nodeGroups[0].instanceTypes 't3.metal'; allowed: an EC2 instance type such as m7i.large (burstable family 't3' has sizes nano to 2xlarge only, not 'metal')"],
  ['node group m7g.nano (nano only in T)', () => nodeGroup('NgNano', { instanceTypes: [new ec2.InstanceType('m7g.nano')] }),
    "FxCluster at NgNano/Cluster: invalid nodeGroups[0].instanceTypes 'm7g.nano'; allowed: an EC2 instance type such as m7i.large (size 'nano' exists only in burstable T families, not in 'm7g')"],
  ['node group mac2.large (Mac is metal only)', () => nodeGroup('NgMac', { instanceTypes: [new ec2.InstanceType('mac2.large')] }),
    "FxCluster at NgMac/Cluster: invalid nodeGroups[0].instanceTypes 'mac2.large'; allowed: an EC2 instance type such as m7i.large (Mac family 'mac2' has metal sizes only, not 'large')"],
  ['node group from a token instance type', () => nodeGroup('NgTokenType', { instanceTypes: [new ec2.InstanceType(Token.asString({ Ref: 'Type' }))] }),
    "FxCluster at NgTokenType/Cluster: invalid nodeGroups[0].instanceTypes '(a deploy-time token)'; allowed: instance types known at synth such as new ec2.InstanceType('m7i.large') (the node group's AMI architecture is chosen from them)"],
  ['karpenter family m9z', () => karpenter('KpFamily', { instanceFamilies: ['m9z'] }),
    "FxCluster at KpFamily/Cluster: invalid nodeAutoscaler.nodePools[0].instanceFamilies 'm9z'; allowed: EC2 instance families that exist, such as m7i, c7g, r6a (ec2.InstanceClass)"],
  ['karpenter family from the profile', () => karpenterProfile('KpProfileFamily', { karpenterInstanceFamilies: ['m9z'] }),
    "FxCluster at KpProfileFamily/Cluster: invalid nodeAutoscaler.nodePools[0].instanceFamilies (from profile lab) 'm9z'; allowed: EC2 instance families that exist, such as m7i, c7g, r6a (ec2.InstanceClass)"],
  ['database instance db.m9z.large', () => database('DbClass', { instanceType: new ec2.InstanceType('db.m9z.large') }),
    "FxDatabase at Probe/DbClass: invalid instanceType 'db.m9z.large'; allowed: the class without the 'db.' prefix (ec2.InstanceType 'm9z.large'): aws-cdk-lib adds it"],
  ['database engine 9.6', () => database('DbEngine', { engineVersion: '9.6' }),
    "FxDatabase at Probe/DbEngine: invalid engineVersion '9.6'; allowed: a PostgreSQL version of the versions table: 17.6"],
  ['database backup window of 10 minutes', () => database('DbWindowShort', { preferredBackupWindow: '03:00-03:10' }),
    "FxDatabase at Probe/DbWindowShort: invalid preferredBackupWindow '03:00-03:10'; allowed: a window of at least 30 minutes"],
  ['database backup window 25:00', () => database('DbWindowHour', { preferredBackupWindow: '25:00-26:00' }),
    "FxDatabase at Probe/DbWindowHour: invalid preferredBackupWindow '25:00-26:00'; allowed: a daily UTC window hh24:mi-hh24:mi such as 03:00-04:00"],
  ['database maintenance window with capital day', () => database('DbMaintenanceCase', { preferredMaintenanceWindow: 'Mon:03:00-Mon:04:00' }),
    "FxDatabase at Probe/DbMaintenanceCase: invalid preferredMaintenanceWindow 'Mon:03:00-Mon:04:00'; allowed: a weekly UTC window ddd:hh24:mi-ddd:hh24:mi such as sun:06:00-sun:07:00"],
  ['database maintenance window over the backup window', () => database('DbOverlap', { preferredBackupWindow: '03:00-04:00', preferredMaintenanceWindow: 'mon:03:30-mon:04:30' }),
    "FxDatabase at Probe/DbOverlap: invalid preferredMaintenanceWindow 'mon:03:30-mon:04:30'; allowed: a window that does not overlap the backup window 03:00-04:00"],
  ['database monitoring interval 7 s', () => database('DbMonitoring', { monitoringInterval: Duration.seconds(7) }),
    "FxDatabase at Probe/DbMonitoring: invalid monitoringInterval '7 seconds'; allowed: one of 1, 5, 10, 15, 30, 60 seconds"],
  ['database weekly backups of 3 days', () => database('DbWeekly', { weeklyBackupRetention: Duration.days(3) }),
    "FxDatabase at Probe/DbWeekly: invalid weeklyBackupRetention '3 days'; allowed: a whole number of days, at least dailyBackupRetention (7 days)"],
  ['database identifier with _', () => database('DbIdentifier', { instanceIdentifier: 'My_DB' }),
    "FxDatabase at Probe/DbIdentifier: invalid instanceIdentifier 'My_DB'; allowed: 1 to 63 lowercase letters, digits and -, starting with a letter, no -- and no trailing -"],
  ['database identifier with --', () => database('DbIdentifierDash', { instanceIdentifier: 'a--b' }),
    "FxDatabase at Probe/DbIdentifierDash: invalid instanceIdentifier 'a--b'; allowed: 1 to 63 lowercase letters, digits and -, starting with a letter, no -- and no trailing -"],
  ['database name with a space', () => database('DbNameSpace', { name: 'Orders DB' }),
    "FxDatabase at Probe/DbNameSpace: invalid name 'Orders DB'; allowed: lowercase letters, digits and -, starting with a letter, not ending with -, at most 40 characters"],
  ['database name with a dash', () => database('DbNameDash', { databaseName: 'orders-db' }),
    "FxDatabase at Probe/DbNameDash: invalid databaseName 'orders-db'; allowed: a PostgreSQL identifier: lowercase letters, digits and _, starting with a letter, at most 63 characters"],
  ['master user name starting with a digit', () => database('DbMaster', { masterUsername: '1x' }),
    "FxDatabase at Probe/DbMaster: invalid masterUsername '1x'; allowed: lowercase letters, digits and _, starting with a letter, at most 63 characters"],
  ['compliance oldest version 1.20', () => compliance('ComplianceOld', { oldestSupportedKubernetesVersion: '1.20' }),
    "FxCompliance at ComplianceOld/Compliance: invalid oldestSupportedKubernetesVersion '1.20'; allowed: a minor from 1.28 (the oldest Fx supports) to 1.35 (the cluster's own, which the rule would otherwise flag)"],
  ['compliance oldest version above the cluster', () => compliance('ComplianceNew', { oldestSupportedKubernetesVersion: '1.36' }),
    "FxCompliance at ComplianceNew/Compliance: invalid oldestSupportedKubernetesVersion '1.36'; allowed: a minor from 1.28 (the oldest Fx supports) to 1.35 (the cluster's own, which the rule would otherwise flag)"],
  ['compliance oldest version 1.x', () => compliance('ComplianceX', { oldestSupportedKubernetesVersion: '1.x' }),
    "FxCompliance at ComplianceX/Compliance: invalid oldestSupportedKubernetesVersion '1.x'; allowed: a Kubernetes minor such as 1.33"],
  ['compliance with no rules', () => compliance('ComplianceEmpty', { rules: [] }),
    'FxCompliance at ComplianceEmpty/Compliance: invalid rules []; allowed: at least one rule (omit rules for FxCompliance.defaultRules())'],
  ['managed add-on version latest', () => cluster('AddonLatest', { managedAddonVersions: { vpcCni: 'latest' } }),
    "FxCluster at AddonLatest/Cluster: invalid managedAddonVersions.vpcCni 'latest'; allowed: an exact EKS add-on version such as v1.20.4-eksbuild.2"],
  // ---- networks
  ['VPC CIDR /15', () => cluster('VpcWide', { vpcCidr: '10.0.0.0/15' }),
    "FxCluster at VpcWide/Cluster: invalid vpcCidr '10.0.0.0/15'; allowed: a /16 block (three /19 private subnets plus public and isolated /24s need all of it; a VPC is at most /16)"],
  ['ingress allowlist with host bits', () => cluster('IngressHostBits', { ingressIpAllowlist: ['203.0.113.5/24'] }),
    "FxCluster at IngressHostBits/Cluster: invalid ingressIpAllowlist '203.0.113.5/24'; allowed: network addresses (host bits zero), e.g. 203.0.113.0/24 rather than 203.0.113.5/24"],
  ['ingress allowlist twice the same block', () => cluster('IngressTwice', { ingressIpAllowlist: ['203.0.113.0/24', '203.0.113.0/24'] }),
    "FxCluster at IngressTwice/Cluster: invalid ingressIpAllowlist '203.0.113.0/24'; allowed: each CIDR block once"],
  ['interface endpoint twice', () => cluster('EndpointTwice', { interfaceEndpoints: [ec2.InterfaceVpcEndpointAwsService.ECR, ec2.InterfaceVpcEndpointAwsService.ECR] }),
    "FxCluster at EndpointTwice/Cluster: invalid interfaceEndpoints 'ecr.api'; allowed: each AWS service once (one interface endpoint per service and VPC)"],
  ['dashboard allowlist twice the same block', () => observability('ObsCidrTwice', { adminCidrs: ['203.0.113.0/24', '203.0.113.0/24'] }),
    "FxObservability at ObsCidrTwice/Observability: invalid adminCidrs[1] '203.0.113.0/24'; allowed: each CIDR block once"],
  ['alarm e-mail twice in two cases', () => observability('ObsEmailTwice', { alarmEmails: ['a@b.com', 'A@b.com'] }),
    "FxObservability at ObsEmailTwice/Observability: invalid alarmEmails[1] 'A@b.com'; allowed: each address once"],
  // ---- image references
  ['image with an empty path segment', () => service('ImgEmptySegment', { image: FxImage.fromRegistry('ghcr.io/acme//api:1') }),
    "FxImage.fromRegistry: invalid reference 'ghcr.io/acme//api:1'; allowed: a pinned image reference such as ghcr.io/acme/api:1.4.2 or nginx@sha256:<64 hex> (a path segment is empty)"],
  ['image with two tags', () => service('ImgTwoTags', { image: FxImage.fromRegistry('ghcr.io/acme/api:1:2') }),
    "FxImage.fromRegistry: invalid reference 'ghcr.io/acme/api:1:2'; allowed: a pinned image reference such as ghcr.io/acme/api:1.4.2 or nginx@sha256:<64 hex> (one tag at most)"],
  ['image with an uppercase path', () => service('ImgUpper', { image: FxImage.fromRegistry('ghcr.io/Acme/api:1') }),
    "FxImage.fromRegistry: invalid reference 'ghcr.io/Acme/api:1'; allowed: a pinned image reference such as ghcr.io/acme/api:1.4.2 or nginx@sha256:<64 hex> (path segment 'Acme' must be lowercase letters and digits separated by ., _, __ or -)"],
  ['image with a tag after the digest', () => service('ImgDigestTag', { image: FxImage.fromRegistry(`ghcr.io/acme/api@sha256:${'a'.repeat(64)}:1`) }),
    "FxImage.fromRegistry: invalid reference 'ghcr.io/acme/api@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:1'; allowed: a pinned image reference such as ghcr.io/acme/api:1.4.2 or nginx@sha256:<64 hex> ('sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:1' is not sha256:<64 lowercase hex characters>)"],
  ['image registry port 99999', () => service('ImgPort', { image: FxImage.fromRegistry('ghcr.io:99999/acme/api:1') }),
    "FxImage.fromRegistry: invalid reference 'ghcr.io:99999/acme/api:1'; allowed: a pinned image reference such as ghcr.io/acme/api:1.4.2 or nginx@sha256:<64 hex> (registry port 99999 is not from 1 to 65535)"],
  ['image given as a URL', () => service('ImgUrl', { image: FxImage.fromRegistry('https://ghcr.io/acme/api:1') }),
    "FxImage.fromRegistry: invalid reference 'https://ghcr.io/acme/api:1'; allowed: a pinned image reference such as ghcr.io/acme/api:1.4.2 or nginx@sha256:<64 hex> ('https:' is not a registry host[:port])"],
  ['image tag starting with -', () => service('ImgTagDash', { image: FxImage.fromRegistry('ghcr.io/acme/api:-x') }),
    "FxImage.fromRegistry: invalid reference 'ghcr.io/acme/api:-x'; allowed: a pinned image reference such as ghcr.io/acme/api:1.4.2 or nginx@sha256:<64 hex> (tag '-x' may use [A-Za-z0-9_.-], up to 128 characters)"],
  ['image with a leading space', () => service('ImgSpace', { image: FxImage.fromRegistry(' ghcr.io/acme/api:1') }),
    "FxImage.fromRegistry: invalid reference ' ghcr.io/acme/api:1'; allowed: a pinned image reference such as ghcr.io/acme/api:1.4.2 or nginx@sha256:<64 hex> (no spaces, not empty)"],
  ['ECR tag with a space', () => service('EcrSpace', { image: FxImage.fromEcr(repository, 'a b') }),
    "FxImage.fromEcr: invalid tagOrDigest 'a b'; allowed: a tag ([A-Za-z0-9_.-], up to 128 characters, not starting with . or -) or a sha256:<64 hex> digest"],
  ['ECR tag starting with :', () => service('EcrColon', { image: FxImage.fromEcr(repository, ':1') }),
    "FxImage.fromEcr: invalid tagOrDigest ':1'; allowed: a digest of the form sha256:<64 lowercase hex characters> or sha512:<128 lowercase hex characters>"],
  // ---- routes
  ['route host in uppercase', () => service('HostUpper', { route: { host: 'API.fx.example.com' } }),
    "FxMicroservice at Probe/HostUpper: invalid route.host 'API.fx.example.com'; allowed: a lowercase fully qualified host name such as api.example.com"],
  ['route path prefix without /', () => service('PathNoSlash', { route: { host: 'path.fx.example.com', pathPrefix: 'orders' } }),
    "FxMicroservice at Probe/PathNoSlash: invalid route.pathPrefix 'orders'; allowed: a path starting with '/' (no spaces or backticks)"],
  ['route rate limit of 1.5 per second', () => service('RateFraction', { route: { host: 'rate.fx.example.com', rateLimit: { average: 1.5, burst: 5 } } }),
    'FxMicroservice at Probe/RateFraction: invalid route.rateLimit.average 1.5; allowed: a positive integer (requests per second)'],
  ['route allowlist empty', () => service('AllowEmpty', { route: { host: 'allowempty.fx.example.com', ipAllowList: [] } }),
    'FxMicroservice at Probe/AllowEmpty: invalid route.ipAllowList []; allowed: at least one IPv4 CIDR block (leave it unset to allow every source)'],
  ['route host with a wildcard', () => service('WildHost', { route: { host: '*.fx.example.com' } }),
    "FxMicroservice at Probe/WildHost: invalid route.host '*.fx.example.com'; allowed: a host name without a wildcard (Traefik Host() matches exact names; list each host in additionalHosts)"],
  ['route additional host with a wildcard', () => service('WildHost2', { route: { host: 'wild2.fx.example.com', additionalHosts: ['*.api.fx.example.com'] } }),
    "FxMicroservice at Probe/WildHost2: invalid route.additionalHosts[0] '*.api.fx.example.com'; allowed: a host name without a wildcard (Traefik Host() matches exact names; list each host in additionalHosts)"],
  ['service quota cpu from the profile not a quantity', () => {
    const owner = cluster('QuotaProfile', { profile: lab({ serviceQuotaCpu: 'lots' }) });
    return new FxMicroservice(owner.node.scope!, 'Svc', { cluster: owner, image });
  }, "FxMicroservice at QuotaProfile/Svc: invalid quota.cpu (from profile lab) 'lots'; allowed: a positive Kubernetes quantity such as '4', '4000m', '8Gi'"],
  ['service quota memory from the profile zero', () => {
    const owner = cluster('QuotaProfileMem', { profile: lab({ serviceQuotaMemory: '0' }) });
    return new FxMicroservice(owner.node.scope!, 'Svc', { cluster: owner, image });
  }, "FxMicroservice at QuotaProfileMem/Svc: invalid quota.memory (from profile lab) '0'; allowed: a positive Kubernetes quantity such as '4', '4000m', '8Gi'"],
  ['endpoint allowlist host address', () => cluster('EndpointHost', { endpointAllowlist: ['203.0.113.5/24'] }),
    "FxCluster at EndpointHost/Cluster: invalid endpointAllowlist '203.0.113.5/24'; allowed: network addresses (host bits zero), e.g. 203.0.113.0/24 rather than 203.0.113.5/24"],
  ['endpoint allowlist twice the same block', () => cluster('AllowlistDup', { endpointAllowlist: ['203.0.113.0/24', '198.51.100.0/24', '203.0.113.0/24'] }),
    "FxCluster at AllowlistDup/Cluster: invalid endpointAllowlist '203.0.113.0/24'; allowed: each CIDR block once"],
  ['NAT gateways from the profile', () => profileCluster('NatProfile', { natGateways: 0 }),
    'FxCluster at NatProfile/Cluster: invalid natGateways (from profile lab) 0; allowed: an integer from 1 to 3 (one per AZ at most; private subnets need egress)'],
  ['route allowlist /33', () => service('AllowBad', { route: { host: 'allow.fx.example.com', ipAllowList: ['10.0.0.0/33'] } }),
    "FxMicroservice at Probe/AllowBad: invalid route.ipAllowList[0] '10.0.0.0/33'; allowed: an IPv4 CIDR block such as 203.0.113.0/24 (or an IPv4 address, an IPv6 address or CIDR block)"],
  ['route body limit -1', () => service('BodyNegative', { route: { host: 'body.fx.example.com', maxRequestBodyBytes: -1 } }),
    'FxMicroservice at Probe/BodyNegative: invalid route.maxRequestBodyBytes -1; allowed: an integer number of bytes from 1024 (1 KiB) to 104857600 (100 MiB)'],
  ['route forward auth over ftp', () => service('AuthFtp', { route: { host: 'auth.fx.example.com', forwardAuthUrl: 'ftp://auth.example.com' } }),
    "FxMicroservice at Probe/AuthFtp: invalid route.forwardAuthUrl 'ftp://auth.example.com'; allowed: an http(s) URL"],
  ['route circuit breaker that does not parse', () => service('BreakerParse', { route: { host: 'breaker.fx.example.com', circuitBreaker: 'NetworkErrorRatio(' } }),
    "FxMicroservice at Probe/BreakerParse: invalid route.circuitBreaker 'NetworkErrorRatio('; allowed: a Traefik circuit breaker expression: NetworkErrorRatio() or ResponseCodeRatio(from, to, from, to) compared with a float, LatencyAtQuantileMS(<float>) compared with integer ms, joined by &&, || and parentheses (expected ')', found the end)"],
  ['two services on one host and path', () => service('SecondOnHost', { route: { host: 'taken.fx.example.com' } }),
    "FxMicroservice at Probe/SecondOnHost: invalid route.host 'taken.fx.example.com'; allowed: a host and path prefix no other service on this cluster routes (taken.fx.example.com is routed to Probe/Taken)"],
  ['ACM domain outside its zone', () => FxTls.acm({ hostedZone: zone, domainName: 'other.com' }),
    "FxTls: invalid acm.domainName 'other.com'; allowed: the hosted zone's name fx.example.com or a name below it"],
  ['ACM domain in mixed case', () => FxTls.acm({ hostedZone: zone, domainName: 'FX.example.com' }),
    "FxTls: invalid acm.domainName 'FX.example.com'; allowed: a lowercase domain name ('fx.example.com'): route hosts and Kubernetes host names are lowercase"],
  ["Let's Encrypt without an e-mail address", () => FxTls.letsEncrypt({ hostedZone: zone, domainName: 'fx.example.com', email: 'nope' }),
    "FxTls: invalid letsEncrypt.email 'nope'; allowed: an e-mail address such as ops@example.com (Let's Encrypt sends expiry notices there)"],
  // ---- requests, probes, commands
  ['cpu request that is not a quantity', () => service('CpuWord', { resources: { cpuRequest: 'abc' } }),
    "FxMicroservice at Probe/CpuWord: invalid resources.cpuRequest 'abc'; allowed: a Kubernetes quantity such as '250m', '1', '512Mi'"],
  ['memory request in MB', () => service('MemMB', { resources: { memoryRequest: '512MB' } }),
    "FxMicroservice at Probe/MemMB: invalid resources.memoryRequest '512MB'; allowed: a Kubernetes quantity such as '250m', '1', '512Mi'"],
  ['empty command', () => service('CommandEmpty', { command: [] }),
    'FxMicroservice at Probe/CommandEmpty: invalid command []; allowed: a non-empty command (or leave it unset for the image ENTRYPOINT)'],
  ['metrics path without /', () => service('MetricsPath', { metricsPath: 'metrics' }),
    "FxMicroservice at Probe/MetricsPath: invalid metricsPath 'metrics'; allowed: a path starting with '/'"],
  // ---- GitHub
  ['repository with .git', () => deployRole('RepoGit', { repository: 'acme/fx.git' }),
    "FxGithubDeployRole at RepoGit/Role: invalid repository 'acme/fx.git'; allowed: a GitHub repository as 'owner/name' (no URL, no .git suffix)"],
  ['repository as a URL', () => deployRole('RepoUrl', { repository: 'https://github.com/acme/fx' }),
    "FxGithubDeployRole at RepoUrl/Role: invalid repository 'https://github.com/acme/fx'; allowed: a GitHub repository as 'owner/name' (no URL, no .git suffix)"],
  ['repository without owner', () => deployRole('RepoOwner', { repository: 'acme' }),
    "FxGithubDeployRole at RepoOwner/Role: invalid repository 'acme'; allowed: a GitHub repository as 'owner/name' (no URL, no .git suffix)"],
  ['environment with /', () => deployRole('EnvSlash', { environments: ['prod/x'] }),
    "FxGithubDeployRole at EnvSlash/Role: invalid environments[0] 'prod/x'; allowed: a GitHub environment name (no wildcards)"],
  ['CDK qualifier in uppercase', () => deployRole('QualifierUpper', { cdkQualifier: 'HNB659FDS' }),
    "FxGithubDeployRole at QualifierUpper/Role: invalid cdkQualifier 'HNB659FDS'; allowed: the bootstrap qualifier: up to 10 lowercase letters, digits or - (it is part of the bootstrap assets bucket name)"],
  ['service stacks prefix with _', () => serviceStacks('StacksUnderscore', { stackNamePrefix: 'Fx_Services' }),
    "FxServiceStacks at StacksUnderscore: invalid stackNamePrefix 'Fx_Services'; allowed: a CloudFormation stack name prefix: a letter, then letters, digits and - (no _), up to 125 characters"],
  // ---- values from the profile say so
  ['profile database instance type', () => profileDatabase('ProfileDbClass', { databaseInstanceType: new ec2.InstanceType('m9z.large') }),
    "FxDatabase at ProfileDbClass/Database: invalid instanceType (from profile lab) 'm9z.large'; allowed: an RDS instance class that exists: there is no instance family 'm9z'"],
  ['profile backup retention of 40 days', () => profileDatabase('ProfileDbBackup', { backupRetention: Duration.days(40) }),
    "FxDatabase at ProfileDbBackup/Database: invalid backupRetention (from profile lab) '40 days'; allowed: 1 to 35 days, in whole days"],
  ['profile database storage of 5 GiB', () => profileDatabase('ProfileDbStorage', { databaseAllocatedStorage: Size.gibibytes(5) }),
    "FxDatabase at ProfileDbStorage/Database: invalid allocatedStorage (from profile lab) '5 GiB'; allowed: 20 to 65536 GiB of gp3 storage"],
  ['profile karpenter cpuLimit 1', () => karpenterProfile('ProfileKpCpu', { karpenterCpuLimit: 1 }),
    'FxCluster at ProfileKpCpu/Cluster: invalid nodeAutoscaler.nodePools[0].cpuLimit (from profile lab) 1; allowed: an integer of at least 2 (vCPUs of one node)'],
  ['profile karpenter replicas 0', () => karpenterProfile('ProfileKpReplicas', { karpenterReplicas: 0 }),
    'FxCluster at ProfileKpReplicas/Cluster: invalid nodeAutoscaler.replicas (from profile lab) 0; allowed: an integer from 1 to 5'],
  ['profile karpenter expiry of 5 minutes', () => karpenterProfile('ProfileKpExpiry', { karpenterExpireAfter: Duration.minutes(5) }),
    "FxCluster at ProfileKpExpiry/Cluster: invalid nodeAutoscaler.nodePools[0].expireAfter (from profile lab) '300s'; allowed: whole seconds, at least 1 hour"],
  ['profile Velero retention 0 days', () => profileCluster('ProfileVelero', { clusterBackupRetentionDays: 0 }, { velero: true }),
    'FxCluster at ProfileVelero/Cluster: invalid clusterBackupRetentionDays (from profile lab) 0; allowed: an integer number of days from 1 to 3650'],
  ['profile ingress replicas 0', () => profileCluster('ProfileIngress', { ingressReplicas: 0 }),
    'FxCluster at ProfileIngress/Cluster: invalid ingressReplicas (from profile lab) 0; allowed: an integer from 1 to 20'],
  ['profile trace sampling rate 2', () => profileObservability('ProfileSampling', { traceSamplingRate: 2 }),
    'FxObservability at Probe/ProfileSampling: invalid traceSamplingRate (from profile lab) 2; allowed: a fraction from 0 to 1'],
  ['profile metrics retention of 30 minutes', () => profileObservability('ProfileRetention', { metricsRetention: Duration.minutes(30) }),
    "FxObservability at Probe/ProfileRetention: invalid metricsRetention (from profile lab) '30 minutes'; allowed: whole hours from 2 hours (one Prometheus block) to 3650 days"],
  ['profile Prometheus cpu request that is not a quantity', () => profileObservability('ProfilePromCpu', { prometheusCpuRequest: 'lots' }),
    "FxObservability at Probe/ProfilePromCpu: invalid prometheusCpuRequest (from profile lab) 'lots'; allowed: a positive Kubernetes quantity such as '500m', '2Gi'"],
  ['profile Prometheus memory limit below its request', () => profileObservability('ProfilePromMemory', { prometheusMemoryLimit: '512Mi' }),
    "FxObservability at Probe/ProfilePromMemory: invalid prometheusMemoryLimit (from profile lab) '512Mi'; allowed: at least prometheusMemoryRequest (1Gi)"],
  ['profile Elasticsearch heap that is not a JVM size', () => profileObservability('ProfileEsHeap', { elkEnabled: true, elasticsearchHeap: '1GB' }),
    "FxObservability at Probe/ProfileEsHeap: invalid elasticsearchHeap (from profile lab) '1GB'; allowed: a JVM heap size such as '1g' or '512m'"],

  // ---- second pass (issue 18): gaps found by an independent probe of 300+ inputs
  ['probe initial delay of 1.5 s (not whole seconds)', () => service('ProbeDelay', { probes: { liveness: FxProbe.http('/healthz', { initialDelay: Duration.millis(1500) }) } }),
    "FxMicroservice at Probe/ProbeDelay: invalid probes.liveness initialDelay '1 second 500 millis'; allowed: a whole number of seconds, 0 or more"],
  ['ConfigMap volume without files', () => service('EmptyConfigMap', { volumes: [FxVolume.configMap({ name: 'cfg', mountPath: '/cfg', files: {} })] }),
    'FxMicroservice at Probe/EmptyConfigMap: invalid volumes[0].files {}; allowed: at least one file (an empty ConfigMap mounts an empty directory)'],
  ['command with an empty executable', () => service('EmptyExecutable', { command: [''] }),
    "FxMicroservice at Probe/EmptyExecutable: invalid command[0] ''; allowed: an executable name or path (not empty)"],
  ['metrics path with a space', () => service('MetricsSpace', { metricsPath: '/me trics' }),
    "FxMicroservice at Probe/MetricsSpace: invalid metricsPath '/me trics'; allowed: a URL path without spaces, quotes or backticks"],
  ['egress CIDR with host bits', () => service('EgressHostBits', { egressCidrs: ['10.0.0.5/16'] }),
    "FxMicroservice at Probe/EgressHostBits: invalid egressCidrs[0] '10.0.0.5/16'; allowed: a network address (host bits zero), e.g. 203.0.113.0/24 rather than 203.0.113.5/24"],
  ['egress CIDR twice', () => service('EgressTwice', { egressCidrs: ['10.1.0.0/16', '10.1.0.0/16'] }),
    "FxMicroservice at Probe/EgressTwice: invalid egressCidrs[1] '10.1.0.0/16'; allowed: each CIDR block once (it is egressCidrs[0] already)"],
  ['egress CIDRs from a CommaDelimitedList parameter', () => service('EgressList', { egressCidrs: new CfnParameter(stack, 'EgressCidrs', { type: 'CommaDelimitedList' }).valueAsList }),
    "FxMicroservice at Probe/EgressList: invalid egressCidrs '(a deploy-time list, e.g. a CommaDelimitedList parameter)'; allowed: a list written at synth; each element may be a deploy-time string (e.g. [cidrParameter.valueAsString]), since each becomes its own NetworkPolicy rule"],
  ['secretEnv key also set in env', () => service('SecretEnvClash', { env: { API_KEY: 'x' }, secretEnv: [{ secret: probeSecret(), keys: ['API_KEY'] }] }),
    "FxMicroservice at Probe/SecretEnvClash: invalid secretEnv[0].keys[0] 'API_KEY'; allowed: a name not also set in env (env.API_KEY is set: one of them would be ignored)"],
  ['secretEnv key twice', () => service('SecretEnvTwice', { secretEnv: [{ secret: probeSecret(), keys: ['A'] }, { secret: probeSecret(), keys: ['A'] }] }),
    "FxMicroservice at Probe/SecretEnvTwice: invalid secretEnv[1].keys[0] 'A'; allowed: each environment variable once (it is secretEnv[0].keys[0] already)"],
  ['route additional host repeating the host', () => service('HostTwice', { route: { host: 'twice.fx.example.com', additionalHosts: ['twice.fx.example.com'] } }),
    "FxMicroservice at Probe/HostTwice: invalid route.additionalHosts[0] 'twice.fx.example.com'; allowed: each host once (it is route.host already)"],
  ['route allowlist with host bits', () => service('RouteHostBits', { route: { host: 'bits.fx.example.com', ipAllowList: ['203.0.113.5/24'] } }),
    "FxMicroservice at Probe/RouteHostBits: invalid route.ipAllowList[0] '203.0.113.5/24'; allowed: a network address (host bits zero), e.g. 203.0.113.0/24 rather than 203.0.113.5/24"],
  ['route allowlist twice the same block', () => service('RouteCidrTwice', { route: { host: 'dup.fx.example.com', ipAllowList: ['203.0.113.0/24', '203.0.113.0/24'] } }),
    "FxMicroservice at Probe/RouteCidrTwice: invalid route.ipAllowList[1] '203.0.113.0/24'; allowed: each CIDR block once (it is route.ipAllowList[0] already)"],
  ['profile serviceMinReplicas 0: said to come from the profile', () => profileService('ProfileMinReplicas', { serviceMinReplicas: 0 }),
    'FxMicroservice at ProfileMinReplicas/Service: invalid autoscaling.minReplicas (from profile lab) 0; allowed: an integer of at least 1'],
  ['profile serviceMaxReplicas below serviceMinReplicas', () => profileService('ProfileMaxReplicas', { serviceMinReplicas: 5, serviceMaxReplicas: 2 }),
    "FxMicroservice at ProfileMaxReplicas/Service: invalid serviceMaxReplicas (from profile lab) 2; allowed: at least the profile's serviceMinReplicas (5)"],
  ['profile alarm node CPU 150 %: said to come from the profile', () => profileObservability('ProfileAlarmCpu', { alarmNodeCpuPercent: 150 }),
    'FxObservability at Probe/ProfileAlarmCpu: invalid alarmThresholds.nodeCpuPercent (from profile lab) 150; allowed: a percentage above 0 and at most 100'],
  ['profile alarm evaluation periods 0', () => profileObservability('ProfileAlarmPeriods', { alarmEvaluationPeriods: 0 }),
    'FxObservability at Probe/ProfileAlarmPeriods: invalid alarmThresholds.evaluationPeriods (from profile lab) 0; allowed: an integer from 1 to 288 (5-minute periods, at most one day)'],
  ['profile Kibana replicas 0: said to come from the profile', () => profileObservability('ProfileKibana', { elkEnabled: true, kibanaReplicas: 0 }),
    'FxObservability at Probe/ProfileKibana: invalid kibanaReplicas (from profile lab) 0; allowed: an integer from 1 to 10'],
  ['profile elasticsearchMinNodes 0', () => profileObservability('ProfileEsMin', { elkEnabled: true, elasticsearchMinNodes: 0 }),
    'FxObservability at Probe/ProfileEsMin: invalid elasticsearchMinNodes (from profile lab) 0; allowed: an integer from 1 to 50'],
  ['profile database CPU alarm 101 %', () => {
    const owner = cluster('ProfileDbAlarm', { profile: lab({ alarmDatabaseCpuPercent: 101 }) });
    const o = new FxObservability(owner.node.scope!, 'Observability', { cluster: owner });
    return o.watchDatabase(new FxDatabase(owner.node.scope!, 'Database', { cluster: owner }).instance);
  },
  'FxObservability at ProfileDbAlarm/Observability: invalid watchDatabase.cpuPercent (from profile lab) 101; allowed: a percentage above 0 and at most 100'],
  ['database parameter with an empty value', () => database('DbEmptyParam', { parameters: { work_mem: '' } }),
    "FxDatabase at Probe/DbEmptyParam: invalid parameters['work_mem'] ''; allowed: a non-empty value (RDS refuses an empty parameter value; leave the setting out for its default)"],
  ['daily backups of 5 hours: the value as given', () => database('DbDailyHours', { dailyBackupRetention: Duration.hours(5) }),
    "FxDatabase at Probe/DbDailyHours: invalid dailyBackupRetention '5 hours'; allowed: a whole number of days, at least 1"],
  ['karpenter memoryLimit of 100 MiB: the value as given', () => karpenter('KpMemoryMiB', { memoryLimit: Size.mebibytes(100) }),
    "FxCluster at KpMemoryMiB/Cluster: invalid nodeAutoscaler.nodePools[0].memoryLimit '100 MiB'; allowed: at least 4 GiB (memory of one node)"],
  ['FxTraefikAddon replicas 0: its own option named', () => cluster('TraefikReplicas', { addons: { replace: [new FxTraefikAddon({ replicas: 0 })] } }),
    'FxCluster at TraefikReplicas/Cluster: invalid FxTraefikAddon.replicas 0; allowed: an integer from 1 to 20'],
  ['FxTraefikAddon burst below average', () => cluster('TraefikBurst', { addons: { replace: [new FxTraefikAddon({ rateLimit: { average: 10, burst: 5 } })] } }),
    'FxCluster at TraefikBurst/Cluster: invalid FxTraefikAddon.rateLimit.burst 5; allowed: at least FxTraefikAddon.rateLimit.average (10)'],
  ['FxVeleroAddon retentionDays 0', () => cluster('VeleroRetention', { addons: { replace: [new FxVeleroAddon({ retentionDays: 0 })] } }),
    'FxCluster at VeleroRetention/Cluster: invalid FxVeleroAddon.retentionDays 0; allowed: an integer number of days from 1 to 3650'],
  ['addons.remove naming an add-on twice', () => cluster('RemoveTwice', { addons: { remove: [FxAddonName.VELERO, FxAddonName.VELERO] } }),
    "FxCluster at RemoveTwice/Cluster: invalid addons.remove[1] 'velero'; allowed: each add-on once (it is addons.remove[0] already)"],
  ['add-on values that are not an object', () => cluster('ValuesString', { addons: { replace: [new FxMetricsServerAddon({ values: 'replicas: 2' as any })] } }),
    "FxCluster at ValuesString/Cluster: invalid FxMetricsServerAddon.values 'replicas: 2'; allowed: a plain object of Helm values, deep-merged over the add-on's own (e.g. { resources: { limits: { memory: '1Gi' } } })"],
  ['node group label in k8s.io', () => nodeGroup('NgLabelK8sIo', { labels: { 'k8s.io/team': 'x' } }),
    "FxCluster at NgLabelK8sIo/Cluster: invalid nodeGroups[0].labels 'k8s.io/team'; allowed: a key without the k8s.io/ prefix, which the EKS node group API refuses (kubernetes.io/, k8s.io/ and eks.amazonaws.com/ are reserved): use a domain of your own such as example.com/team"],
  ['node group label node-role.kubernetes.io', () => nodeGroup('NgLabelRole', { labels: { 'node-role.kubernetes.io/worker': '' } }),
    "FxCluster at NgLabelRole/Cluster: invalid nodeGroups[0].labels 'node-role.kubernetes.io/worker'; allowed: a key without the kubernetes.io/ prefix, which the EKS node group API refuses (kubernetes.io/, k8s.io/ and eks.amazonaws.com/ are reserved): use a domain of your own such as example.com/team"],
  ['node group label in eks.amazonaws.com', () => nodeGroup('NgLabelEks', { labels: { 'eks.amazonaws.com/capacityType': 'SPOT' } }),
    "FxCluster at NgLabelEks/Cluster: invalid nodeGroups[0].labels 'eks.amazonaws.com/capacityType'; allowed: a key without the eks.amazonaws.com/ prefix, which the EKS node group API refuses (kubernetes.io/, k8s.io/ and eks.amazonaws.com/ are reserved): use a domain of your own such as example.com/team"],
  ['node group label node-restriction.kubernetes.io', () => nodeGroup('NgLabelRestriction', { labels: { 'node-restriction.kubernetes.io/team': 'b' } }),
    "FxCluster at NgLabelRestriction/Cluster: invalid nodeGroups[0].labels 'node-restriction.kubernetes.io/team'; allowed: a key without the kubernetes.io/ prefix, which the EKS node group API refuses (kubernetes.io/, k8s.io/ and eks.amazonaws.com/ are reserved): use a domain of your own such as example.com/team"],
  ['compliance with a database of another cluster', () => {
    const other = cluster('ComplianceOtherDb', {});
    return compliance('ComplianceForeignDb', { database: new FxDatabase(other.node.scope!, 'Database', { cluster: other }) });
  },
  "FxCompliance at ComplianceForeignDb/Compliance: invalid database 'ComplianceOtherDb/Database'; allowed: a database of this construct's cluster Probe/Cluster, not of ComplianceOtherDb/Cluster (its rules judge one platform)"],
  ['deploy role environment twice', () => deployRole('RoleEnvTwice', { environments: ['prod', 'prod'] }),
    "FxGithubDeployRole at RoleEnvTwice/Role: invalid environments[1] 'prod'; allowed: each environment once (it is environments[0] already)"],
  ['deploy role branch twice', () => deployRole('RoleBranchTwice', { branches: ['main', 'main'] }),
    "FxGithubDeployRole at RoleBranchTwice/Role: invalid branches[1] 'main'; allowed: each branch once (it is branches[0] already)"],
  ['profile name with a space', () => FxProfile.custom(FxProfile.DEVELOPMENT, 'my lab', {}),
    "FxProfile: invalid name 'my lab'; allowed: up to 63 letters, digits, -, _ and ., starting and ending with a letter or digit (it becomes deployment.environment of every service)"],
  ['profile name empty', () => FxProfile.custom(FxProfile.DEVELOPMENT, '', {}),
    "FxProfile: invalid name ''; allowed: up to 63 letters, digits, -, _ and ., starting and ending with a letter or digit (it becomes deployment.environment of every service)"],
  ['profile nodeMaxSize below nodeMinSize', () => profileCluster('ProfileNodeMax', { nodeMinSize: 5, nodeMaxSize: 2 }),
    "FxCluster at ProfileNodeMax/Cluster: invalid nodeMaxSize (from profile lab) 2; allowed: at least the profile's nodeMinSize (5)"],
  ['kubernetesVersion given as an eks.KubernetesVersion', () => cluster('K8sVersionObject', { kubernetesVersion: eks.KubernetesVersion.of('1.33') as any }),
    "FxCluster at K8sVersionObject/Cluster: invalid kubernetesVersion 'eks.KubernetesVersion.of('1.33') (an object, not a string)'; allowed: a Kubernetes minor like 1.35"],
  ['imported cluster name with a space', () => importedCluster('ImportedName', { clusterName: 'shared eks' }),
    "FxCluster.fromClusterAttributes at ImportedName/Shared: invalid clusterName 'shared eks'; allowed: an EKS cluster name: up to 100 letters, digits, - and _, starting with a letter or digit"],
  ['imported cluster security group that is not an id', () => importedCluster('ImportedSg', { clusterSecurityGroupId: 'eks-cluster-sg' }),
    "FxCluster.fromClusterAttributes at ImportedSg/Shared: invalid clusterSecurityGroupId 'eks-cluster-sg'; allowed: a security group id such as sg-0123456789abcdef0 (the cluster security group EKS created)"],
  ['addHelmChart repository that is not a URL (after construction: the path is named)', () => fxCluster.addHelmChart('NoUrl', { chart: { repository: 'charts.example.com', chart: 'tool', version: '1.0.0' }, namespace: 'tools' }),
    "FxCluster at Probe/Cluster: invalid addHelmChart(NoUrl).chart.repository 'charts.example.com'; allowed: a chart repository URL: https://..., http://... or oci://..."],
  ['addHelmChart values that are a string', () => fxCluster.addHelmChart('StringValues', { chart: { repository: 'https://charts.example.com', chart: 'tool', version: '1.0.0' }, namespace: 'tools', values: 'replicas: 2' as any }),
    "FxCluster at Probe/Cluster: invalid addHelmChart(StringValues).values 'replicas: 2'; allowed: an object of Helm values"],
  ['addHelmChart timeout of 90.5 s (crashed inside aws-cdk-lib)', () => fxCluster.addHelmChart('HalfSecond', { chart: { repository: 'https://charts.example.com', chart: 'tool', version: '1.0.0' }, namespace: 'tools', timeout: Duration.millis(90500) }),
    "FxCluster at Probe/Cluster: invalid addHelmChart(HalfSecond).timeout '90.5s'; allowed: whole seconds from 60 to 780 (the kubectl handler Lambda stops at 900s; a release still waiting then stays pending-install and every retry fails)"],
  ['readReplicaInstanceType without read replicas', () => database('DbReplicaType', { readReplicaInstanceType: new ec2.InstanceType('m7g.large') }),
    "FxDatabase at Probe/DbReplicaType: invalid readReplicaInstanceType 'm7g.large'; allowed: set only with readReplicas of 1 or more (there is no replica to size)"],
  ['dashboard allowlist with host bits', () => observability('AdminHostBits', { adminCidrs: ['203.0.113.5/24'] }),
    "FxObservability at AdminHostBits/Observability: invalid adminCidrs[0] '203.0.113.5/24'; allowed: a network address (host bits zero), e.g. 203.0.113.0/24 rather than 203.0.113.5/24"],
  ['databaseRole without database', () => service('RoleNoDb', { databaseRole: { name: 'orders' } }),
    "FxMicroservice at Probe/RoleNoDb: invalid databaseRole 'orders'; allowed: set only together with database (the role is created in that database)"],
];

describe('bad input gets the exact message', () => {
  test.each(CASES)('fails when %s', (_, run, message) => {
    expect(messageOf(run)).toBe(message);
  });
});

describe('legal deploy-time tokens synthesize and are passed on as they are', () => {
  let template: Template;
  let json: string;
  beforeAll(() => {
    const tokens = new Stack(testApp(path.join(outdir, 'tokens')), 'Tokens', { env: ENV });
    const num = (id: string) => new CfnParameter(tokens, id, { type: 'Number' }).valueAsNumber;
    const cidrs = (id: string) => new CfnParameter(tokens, id, { type: 'CommaDelimitedList' }).valueAsList;
    const platform = new FxCluster(tokens, 'Cluster', {
      platformName: 'fx',
      tls: FxTls.acm({ hostedZone: route53.HostedZone.fromHostedZoneAttributes(tokens, 'Zone', { hostedZoneId: 'Z0EXAMPLE', zoneName: 'fx.example.com' }), domainName: 'fx.example.com' }),
      endpointAllowlist: cidrs('EndpointCidrs'),
      ingressIpAllowlist: cidrs('IngressCidrs'),
      nodeGroups: [{ name: 'system', maxSize: num('NodeMax'), diskSize: Size.gibibytes(num('NodeDiskGiB')) }],
      nodeAutoscaler: FxNodeAutoscaler.karpenter({
        nodePools: [{ name: 'general', cpuLimit: num('PoolCpu'), memoryLimit: Size.gibibytes(num('PoolMemoryGiB')), expireAfter: Duration.hours(num('PoolExpiryHours')) }],
      }),
    });
    const orders = ecr.Repository.fromRepositoryName(tokens, 'Orders', 'orders');
    new FxMicroservice(tokens, 'Api', {
      cluster: platform,
      image: FxImage.fromEcr(orders, new CfnParameter(tokens, 'ImageTag').valueAsString),
      autoscaling: { minReplicas: num('MinReplicas'), maxReplicas: num('MaxReplicas') },
      route: { host: 'api.fx.example.com', ipAllowList: cidrs('RouteCidrs') },
    });
    new FxDatabase(tokens, 'Database', {
      cluster: platform, backupRetention: Duration.days(num('BackupDays')), allocatedStorage: Size.gibibytes(num('StorageGiB')),
    });
    template = Template.fromStack(tokens);
    json = JSON.stringify(template.toJSON());
  });

  test('a node group maxSize token is never copied into minSize or desiredSize; its disk size stays a Ref', () => {
    template.hasResourceProperties('AWS::EKS::Nodegroup', { ScalingConfig: { MinSize: 2, DesiredSize: 2, MaxSize: { Ref: 'NodeMax' } } });
    expect(json).toContain('"VolumeSize":{"Ref":"NodeDiskGiB"}');
  });

  test('CommaDelimitedList parameters reach the endpoint allowlist and the allowlist middlewares', () => {
    template.hasResourceProperties('AWS::EKS::Cluster', { ResourcesVpcConfig: { PublicAccessCidrs: { Ref: 'EndpointCidrs' } } });
    for (const id of ['IngressCidrs', 'RouteCidrs']) expect(json).toContain(`{"Ref":"${id}"}`);
  });

  test('the image tag, replicas, NodePool limits and expiry, backups and storage are Refs of their parameters', () => {
    for (const id of ['ImageTag', 'MinReplicas', 'MaxReplicas', 'PoolCpu', 'PoolMemoryGiB', 'PoolExpiryHours']) expect(json).toContain(`{"Ref":"${id}"}`);
    template.hasResourceProperties('AWS::RDS::DBInstance', { BackupRetentionPeriod: { Ref: 'BackupDays' } });
    expect(json).toMatch(/"AllocatedStorage":\{"Fn::Join":\["",\[\{"Ref":"StorageGiB"\}\]\]\}|"AllocatedStorage":\{"Ref":"StorageGiB"\}/);
  });

  test('no token is lower-cased or formatted into a literal', () => {
    expect(json).not.toMatch(/\$\{token\[|#\{token\[|\$\{Token\[|#\{Token\[/);
    // An encoded number token formatted as a plain number (-1.888...e+289).
    expect(json).not.toMatch(/e\+289/);
  });
});

describe('edge values that stay legal', () => {
  test.each(['t3.nano', 't4g.2xlarge', 'm7i-flex.large', 'mac2-m2pro.metal', 'c7gn.metal', 'u-6tb1.112xlarge', 'm7g.medium'])(
    'instance type %s exists', (name) => expect(instanceTypeProblem(name)).toBeUndefined());

  test('a deploy role platformName of 40 characters', () => {
    expect(() => deployRole('RoleEdge', { platformName: 'a'.repeat(40) })).not.toThrow();
  });

  test('compliance oldest version at both ends of the allowed range', () => {
    expect(() => compliance('ComplianceLow', { oldestSupportedKubernetesVersion: '1.28' })).not.toThrow();
  });

  test('node group labels of domains of their own, and domains that only look like the reserved ones', () => {
    expect(() => nodeGroup('NgLabelsLegal', {
      labels: { 'example.com/x': 'y', 'kubernetes.io.example.com/team': 'b', 'myk8s.io/pool': 'a', 'team': 'payments', [`example.com/${'x'.repeat(51)}`]: 'z'.repeat(63) },
    })).not.toThrow();
  });

  test('egress CIDRs with a String parameter element, secretEnv of every key, a profile with serviceMaxReplicas = serviceMinReplicas', () => {
    expect(() => service('EgressParam', { egressCidrs: [new CfnParameter(stack, 'EgressCidr').valueAsString, '10.2.0.0/16'] })).not.toThrow();
    expect(() => service('SecretEnvAll', { secretEnv: [{ secret: probeSecret() }, { secret: probeSecret() }] })).not.toThrow();
    expect(() => profileService('ProfileReplicasEqual', { serviceMinReplicas: 3, serviceMaxReplicas: 3 })).not.toThrow();
  });

  test('add-on values and versions of a user-built add-on, and a database parameter', () => {
    expect(() => cluster('AddonValuesLegal', { addons: { replace: [new FxTraefikAddon({ replicas: 20, values: { logs: { general: { level: 'INFO' } } } })] } })).not.toThrow();
    expect(() => database('DbParamLegal', { parameters: { 'work_mem': '64MB', 'pg_stat_statements.track': 'all' } })).not.toThrow();
  });

  test('an ingress allowlist of 0.0.0.0/0 and a /32 host', () => {
    expect(() => cluster('IngressEdge', { ingressIpAllowlist: ['0.0.0.0/0', '198.51.100.7/32'] })).not.toThrow();
  });
});
