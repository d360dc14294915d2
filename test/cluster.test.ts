import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnParameter, Size, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Construct } from 'constructs';
import { FxAccessLevel, FxCapability, FxCluster, FxClusterProps, FxNodeImage, FxProfile, FxUpgradePolicy, FxVersions } from '../src';
import { k8sErrors } from './util/k8s';
import { isAtLeastT3Medium } from '../src/cluster/nodegroups';
import { InstallOrder } from '../src/core/install-order';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const AZS = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
const ROW = FxVersions.forKubernetes(FxVersions.DEFAULT_KUBERNETES_VERSION);

interface Scenario {
  readonly app: App;
  readonly stack: Stack;
  readonly cluster: FxCluster;
  readonly template: Template;
}

function newStack(appProps: { outdir?: string } = {}): { app: App; stack: Stack } {
  const app = new App({
    builtinCloudFormationValidation: false,
    outdir: appProps.outdir,
    context: { [`availability-zones:account=${ACCOUNT}:region=${REGION}`]: AZS },
  });
  const stack = new Stack(app, 'Platform', { env: { account: ACCOUNT, region: REGION } });
  return { app, stack };
}

function build(props: FxClusterProps = {}, extra?: (cluster: FxCluster, stack: Stack) => void): Scenario {
  const { app, stack } = newStack();
  const cluster = new FxCluster(stack, 'Cluster', props);
  extra?.(cluster, stack);
  return { app, stack, cluster, template: Template.fromStack(stack) };
}

function attempt(props: FxClusterProps): () => void {
  return () => new FxCluster(newStack().stack, 'Cluster', props);
}

function logicalIds(template: Template, type: string, props: object): string[] {
  return Object.keys(template.findResources(type, { Properties: Match.objectLike(props) }));
}

function dependsOn(template: Template, logicalId: string): string[] {
  return (template.toJSON().Resources[logicalId].DependsOn ?? []) as string[];
}

const t = (name: string) => new ec2.InstanceType(name);

let dev: Scenario;
let prod: Scenario;
let privateImported: Scenario;

beforeAll(() => {
  dev = build();
  prod = build({
    profile: FxProfile.PRODUCTION,
    platformName: 'fx-prod',
    endpointAllowlist: ['203.0.113.0/24', '198.51.100.7/32'],
    upgradePolicy: FxUpgradePolicy.EXTENDED,
    interfaceEndpoints: [ec2.InterfaceVpcEndpointAwsService.ECR],
    nodeGroups: [
      { name: 'system' },
      {
        name: 'spot',
        capacityType: eks.CapacityType.SPOT,
        instanceTypes: [t('m5.large'), t('m5a.large')],
        minSize: 0,
        desiredSize: 1,
        maxSize: 6,
        labels: { workload: 'batch' },
        taints: [{ key: 'spot', value: 'true', effect: eks.TaintEffect.NO_SCHEDULE }],
        diskSize: Size.gibibytes(100),
        image: FxNodeImage.BOTTLEROCKET,
      },
    ],
  }, (cluster, stack) => {
    cluster.grantAccess(iam.Role.fromRoleName(stack, 'Dev', 'developers'), ['orders', 'payments'], FxAccessLevel.VIEW);
    cluster.addPodIdentityServiceAccount('OrdersSa', { name: 'orders-api', namespace: 'orders' });
  });
  const imported = newStack();
  const vpc = ec2.Vpc.fromVpcAttributes(imported.stack, 'Vpc', {
    vpcId: 'vpc-1234',
    availabilityZones: AZS.slice(0, 2),
    privateSubnetIds: ['subnet-a', 'subnet-b'],
    publicSubnetIds: ['subnet-c', 'subnet-d'],
  });
  const importedCluster = new FxCluster(imported.stack, 'Cluster', {
    vpc,
    privateEndpointOnly: true,
    kubernetesVersion: '1.34',
    admins: [iam.Role.fromRoleName(imported.stack, 'Admin', 'platform-admin')],
  });
  privateImported = { ...imported, cluster: importedCluster, template: Template.fromStack(imported.stack) };
});

describe('network', () => {
  test('creates public, private and isolated subnets in each of 3 AZs', () => {
    const subnets = Object.values(dev.template.findResources('AWS::EC2::Subnet')) as any[];
    expect(subnets).toHaveLength(9);
    for (const type of ['Public', 'Private', 'Isolated']) {
      const ofType = subnets.filter((s) => s.Properties.Tags.some((tag: any) => tag.Key === 'aws-cdk:subnet-type' && tag.Value === type));
      expect(new Set(ofType.map((s) => s.Properties.AvailabilityZone))).toEqual(new Set(AZS));
    }
    expect(subnets.every((s) => s.Properties.MapPublicIpOnLaunch !== true)).toBe(true);
  });

  test('tags subnets for public and internal load balancers', () => {
    dev.template.resourcePropertiesCountIs('AWS::EC2::Subnet',
      { Tags: Match.arrayWith([{ Key: 'kubernetes.io/role/elb', Value: '1' }]) }, 3);
    dev.template.resourcePropertiesCountIs('AWS::EC2::Subnet',
      { Tags: Match.arrayWith([{ Key: 'kubernetes.io/role/internal-elb', Value: '1' }]) }, 3);
  });

  test('has 1 NAT gateway in development and 3 in production', () => {
    dev.template.resourceCountIs('AWS::EC2::NatGateway', 1);
    prod.template.resourceCountIs('AWS::EC2::NatGateway', 3);
  });

  test('sends all VPC flow logs to a KMS-encrypted log group with profile retention', () => {
    dev.template.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
    const [flowLogs] = logicalIds(dev.template, 'AWS::EC2::FlowLog', {});
    const groupRef = dev.template.toJSON().Resources[flowLogs].Properties.LogGroupName.Ref;
    const group = dev.template.toJSON().Resources[groupRef];
    expect(group.Properties.RetentionInDays).toBe(30);
    expect(group.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/LogKey/), 'Arn'] });
    expect(group.DeletionPolicy).toBe('Retain');
    prod.template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365, KmsKeyId: Match.anyValue() });
  });

  test('adds an S3 gateway endpoint, and interface endpoints on request', () => {
    dev.template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.s3']] },
      VpcEndpointType: 'Gateway',
    });
    dev.template.resourceCountIs('AWS::EC2::VPCEndpoint', 1);
    prod.template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      ServiceName: 'com.amazonaws.us-east-1.ecr.api', VpcEndpointType: 'Interface', PrivateDnsEnabled: true,
    });
  });

  test('uses an imported VPC without creating network resources', () => {
    privateImported.template.resourceCountIs('AWS::EC2::VPC', 0);
    privateImported.template.resourceCountIs('AWS::EC2::NatGateway', 0);
    privateImported.template.hasResourceProperties('AWS::EKS::Cluster', {
      ResourcesVpcConfig: Match.objectLike({ SubnetIds: ['subnet-a', 'subnet-b'] }),
    });
  });
});

describe('control plane', () => {
  test('warns at synth when the public endpoint has no allowlist, and not when it has one', () => {
    Annotations.fromStack(dev.stack).hasWarning('*', Match.stringLikeRegexp('public Kubernetes API endpoint is open to 0.0.0.0/0'));
    expect(Annotations.fromStack(prod.stack).findWarning('*', Match.stringLikeRegexp('open to 0.0.0.0/0'))).toEqual([]);
  });

  test('runs the default Kubernetes version with all five log types', () => {
    dev.template.hasResourceProperties('AWS::EKS::Cluster', {
      Version: '1.35',
      Logging: { ClusterLogging: { EnabledTypes: ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'].map((type) => ({ Type: type })) } },
      AccessConfig: { AuthenticationMode: 'API' },
    });
    expect(dev.cluster.kubernetesVersion).toBe('1.35');
  });

  test('pre-creates the control-plane log group with retention and encryption; a failed first create removes it', () => {
    // Its name is fixed by EKS: development deletes it with the stack, production keeps it except
    // when the stack's first create rolls back (a retry would otherwise fail with AlreadyExists).
    dev.template.hasResource('AWS::Logs::LogGroup', {
      Properties: { LogGroupName: Match.stringLikeRegexp('^/aws/eks/.+/cluster$'), RetentionInDays: 30, KmsKeyId: Match.anyValue() },
      DeletionPolicy: 'Delete',
    });
    prod.template.hasResource('AWS::Logs::LogGroup', {
      Properties: { LogGroupName: Match.stringLikeRegexp('^/aws/eks/.+/cluster$') },
      DeletionPolicy: 'RetainExceptOnCreate',
    });
  });

  test('envelope-encrypts secrets with a rotating customer key', () => {
    dev.template.hasResourceProperties('AWS::EKS::Cluster', {
      EncryptionConfig: [{ Provider: { KeyArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('SecretsKey'), 'Arn'] } }, Resources: ['secrets'] }],
    });
    dev.template.hasResource('AWS::KMS::Key', {
      Properties: { EnableKeyRotation: true, Description: Match.stringLikeRegexp('Kubernetes Secrets') },
      DeletionPolicy: 'Retain',
    });
    const keys = Object.values(dev.template.findResources('AWS::KMS::Key')) as any[];
    expect(keys.every((k) => k.Properties.EnableKeyRotation === true)).toBe(true);
  });

  test('serves the API publicly to the allowlist and privately', () => {
    dev.template.hasResourceProperties('AWS::EKS::Cluster', {
      ResourcesVpcConfig: Match.objectLike({ EndpointPublicAccess: true, EndpointPrivateAccess: true }),
    });
    prod.template.hasResourceProperties('AWS::EKS::Cluster', {
      ResourcesVpcConfig: Match.objectLike({ PublicAccessCidrs: ['203.0.113.0/24', '198.51.100.7/32'] }),
    });
  });

  test('can serve the API on the private endpoint only, with kubectl in the VPC', () => {
    privateImported.template.hasResourceProperties('AWS::EKS::Cluster', {
      ResourcesVpcConfig: Match.objectLike({ EndpointPublicAccess: false, EndpointPrivateAccess: true }),
    });
    privateImported.template.hasResourceProperties('AWS::Lambda::Function', {
      Layers: Match.anyValue(),
      VpcConfig: Match.objectLike({ SubnetIds: ['subnet-a', 'subnet-b'] }),
    });
  });

  test('sets the upgrade policy: standard by default, extended on request', () => {
    dev.template.hasResourceProperties('AWS::EKS::Cluster', { UpgradePolicy: { SupportType: 'STANDARD' } });
    prod.template.hasResourceProperties('AWS::EKS::Cluster', { UpgradePolicy: { SupportType: 'EXTENDED' } });
  });

  test('uses the kubectl layer of the cluster minor, or the one given', () => {
    dev.template.resourceCountIs('AWS::Lambda::LayerVersion', 2); // kubectl + awscli
    privateImported.template.hasResourceProperties('AWS::EKS::Cluster', { Version: '1.34' });
    const { stack } = newStack();
    const layer = lambda.LayerVersion.fromLayerVersionArn(stack, 'Layer', 'arn:aws:lambda:us-east-1:123456789012:layer:kubectl:1');
    new FxCluster(stack, 'Cluster', { kubectlLayer: layer });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', { Layers: Match.arrayWith(['arn:aws:lambda:us-east-1:123456789012:layer:kubectl:1']) });
    template.resourceCountIs('AWS::Lambda::LayerVersion', 1); // awscli only
  });

  test('gives admins cluster-admin access entries', () => {
    privateImported.template.hasResourceProperties('AWS::EKS::AccessEntry', {
      PrincipalArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::123456789012:role/platform-admin']] },
      AccessPolicies: [{ AccessScope: { Type: 'cluster' }, PolicyArn: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('/AmazonEKSClusterAdminPolicy$')])] } }],
    });
  });

  test('grants namespace-scoped view access to other roles', () => {
    prod.template.hasResourceProperties('AWS::EKS::AccessEntry', {
      PrincipalArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::123456789012:role/developers']] },
      AccessPolicies: [{ AccessScope: { Type: 'namespace', Namespaces: ['orders', 'payments'] }, PolicyArn: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('/AmazonEKSViewPolicy$')])] } }],
    });
  });

  test('tags resources with the platform, component and library version', () => {
    prod.template.hasResourceProperties('AWS::EKS::Cluster', {
      Tags: Match.arrayWith([{ Key: 'fx:component', Value: 'cluster' }, { Key: 'fx:platform', Value: 'fx-prod' }]),
    });
    dev.template.hasResourceProperties('AWS::EC2::VPC', { Tags: Match.arrayWith([{ Key: 'fx:platform', Value: 'Platform' }]) });
  });
});

describe('node groups', () => {
  test('development: one on-demand t3.medium group of 2 across the private subnets', () => {
    dev.template.resourceCountIs('AWS::EKS::Nodegroup', 1);
    dev.template.hasResourceProperties('AWS::EKS::Nodegroup', {
      NodegroupName: 'default',
      CapacityType: 'ON_DEMAND',
      InstanceTypes: ['t3.medium'],
      AmiType: 'AL2023_x86_64_STANDARD',
      ScalingConfig: { MinSize: 2, DesiredSize: 2, MaxSize: 4 },
      Labels: { 'fx.platform/node-group': 'default' },
    });
    const [group] = Object.values(dev.template.findResources('AWS::EKS::Nodegroup')) as any[];
    expect(group.Properties.Subnets).toHaveLength(3);
  });

  test('production: t3.large x3 plus a labelled, tainted spot group', () => {
    prod.template.hasResourceProperties('AWS::EKS::Nodegroup', {
      NodegroupName: 'system',
      CapacityType: 'ON_DEMAND',
      InstanceTypes: ['t3.large'],
      ScalingConfig: { MinSize: 3, DesiredSize: 3, MaxSize: 9 },
    });
    prod.template.hasResourceProperties('AWS::EKS::Nodegroup', {
      NodegroupName: 'spot',
      CapacityType: 'SPOT',
      InstanceTypes: ['m5.large', 'm5a.large'],
      AmiType: 'BOTTLEROCKET_x86_64',
      ScalingConfig: { MinSize: 0, DesiredSize: 1, MaxSize: 6 },
      Labels: { 'fx.platform/node-group': 'spot', 'fx.platform/capacity': 'spot', 'workload': 'batch' },
      // The platform's spot taint is added to the user's own: only workloads that opt in tolerate it.
      Taints: [{ Key: 'spot', Value: 'true', Effect: 'NO_SCHEDULE' }, { Key: 'fx.platform/capacity', Value: 'spot', Effect: 'NO_SCHEDULE' }],
    });
  });

  test('on-demand groups carry no spot taint', () => {
    const groups = Object.values(prod.template.findResources('AWS::EKS::Nodegroup')) as any[];
    for (const g of groups.filter((x) => x.Properties.CapacityType === 'ON_DEMAND')) {
      expect(JSON.stringify(g.Properties.Taints ?? [])).not.toContain('fx.platform/capacity');
    }
  });

  test('launch templates require IMDSv2 with hop limit 1 and encrypted gp3 volumes', () => {
    dev.template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        MetadataOptions: Match.objectLike({ HttpTokens: 'required', HttpPutResponseHopLimit: 1 }),
        BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: Match.objectLike({ Encrypted: true, VolumeType: 'gp3', VolumeSize: 50 }) }],
      }),
    });
    prod.template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        BlockDeviceMappings: [
          { DeviceName: '/dev/xvda', Ebs: Match.objectLike({ Encrypted: true, VolumeType: 'gp3', VolumeSize: 4 }) },
          { DeviceName: '/dev/xvdb', Ebs: Match.objectLike({ Encrypted: true, VolumeType: 'gp3', VolumeSize: 100 }) },
        ],
      }),
    });
    const groups = Object.values(prod.template.findResources('AWS::EKS::Nodegroup')) as any[];
    expect(groups.every((g) => g.Properties.LaunchTemplate?.Id)).toBe(true);
  });

  test('knows which instance types reach t3.medium', () => {
    expect(['t3.medium', 't4g.medium', 'm5.large', 'c7g.xlarge', 'm6i.metal'].every(isAtLeastT3Medium)).toBe(true);
    expect(['t3.small', 't3.micro', 'm6g.medium', 'c6g.medium', 'a1.medium'].some(isAtLeastT3Medium)).toBe(false);
  });
});

describe('EKS add-ons', () => {
  const expected: Array<[string, string]> = [
    ['vpc-cni', ROW.addons.vpcCni],
    ['coredns', ROW.addons.coreDns],
    ['kube-proxy', ROW.addons.kubeProxy],
    ['eks-pod-identity-agent', ROW.addons.podIdentityAgent],
    ['aws-ebs-csi-driver', ROW.addons.ebsCsiDriver],
    ['aws-efs-csi-driver', ROW.addons.efsCsiDriver],
    ['snapshot-controller', ROW.addons.snapshotController],
  ];

  test.each(expected)('installs %s at the table version %s', (name, version) => {
    expect(logicalIds(dev.template, 'AWS::EKS::Addon', { AddonName: name, AddonVersion: version })).toHaveLength(1);
  });

  test('installs exactly these add-ons, with the 1.34 row on a 1.34 cluster', () => {
    dev.template.resourceCountIs('AWS::EKS::Addon', expected.length);
    const row = FxVersions.forKubernetes('1.34');
    privateImported.template.hasResourceProperties('AWS::EKS::Addon', { AddonName: 'kube-proxy', AddonVersion: row.addons.kubeProxy });
  });

  test('vpc-cni enforces network policies and uses prefix delegation', () => {
    const [id] = logicalIds(dev.template, 'AWS::EKS::Addon', { AddonName: 'vpc-cni' });
    const config = JSON.parse(dev.template.toJSON().Resources[id].Properties.ConfigurationValues);
    expect(config).toEqual({ enableNetworkPolicy: 'true', env: { ENABLE_PREFIX_DELEGATION: 'true', WARM_PREFIX_TARGET: '1' } });
  });

  test.each([
    ['aws-ebs-csi-driver', 'ebs-csi-controller-sa', 'AmazonEBSCSIDriverPolicy'],
    ['aws-efs-csi-driver', 'efs-csi-controller-sa', 'AmazonEFSCSIDriverPolicy'],
  ])('%s gets a Pod Identity role for %s', (addonName, serviceAccount, policy) => {
    const [id] = logicalIds(dev.template, 'AWS::EKS::Addon', { AddonName: addonName });
    const props = dev.template.toJSON().Resources[id].Properties;
    expect(props.PodIdentityAssociations[0]).toEqual({ ServiceAccount: serviceAccount, RoleArn: { 'Fn::GetAtt': [expect.any(String), 'Arn'] } });
    // EBS: the controller only; EFS: the node plugin too (IAM-authenticated mounts, see the storage tests).
    expect(props.PodIdentityAssociations.map((a: any) => a.ServiceAccount)).toEqual(
      addonName === 'aws-efs-csi-driver' ? [serviceAccount, 'efs-csi-node-sa'] : [serviceAccount]);
    const role = dev.template.toJSON().Resources[props.PodIdentityAssociations[0].RoleArn['Fn::GetAtt'][0]];
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: ['sts:AssumeRole', 'sts:TagSession'], Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' } },
    ]);
    expect(JSON.stringify(role.Properties.ManagedPolicyArns)).toContain(`policy/service-role/${policy}`);
  });

  test('networking add-ons precede nodes; the rest follow them', () => {
    const [nodegroup] = logicalIds(dev.template, 'AWS::EKS::Nodegroup', {});
    for (const name of ['vpc-cni', 'kube-proxy', 'eks-pod-identity-agent']) {
      const [addon] = logicalIds(dev.template, 'AWS::EKS::Addon', { AddonName: name });
      expect(dependsOn(dev.template, nodegroup)).toContain(addon);
    }
    for (const name of ['coredns', 'aws-ebs-csi-driver', 'aws-efs-csi-driver', 'snapshot-controller']) {
      const [addon] = logicalIds(dev.template, 'AWS::EKS::Addon', { AddonName: name });
      expect(dependsOn(dev.template, addon)).toContain(nodegroup);
    }
  });

  test('installs metrics-server from the versions table after the nodes', () => {
    const [id] = logicalIds(dev.template, 'Custom::AWSCDK-EKS-HelmChart', {
      Chart: 'metrics-server',
      Version: ROW.charts.metricsServer.version,
      Repository: ROW.charts.metricsServer.repository,
      Namespace: 'kube-system',
      Wait: true,
    });
    expect(id).toBeDefined();
    const values = JSON.parse(dev.template.toJSON().Resources[id].Properties.Values);
    expect(values).toMatchObject({ replicas: 1, podDisruptionBudget: { enabled: false } });
    const [nodegroup] = logicalIds(dev.template, 'AWS::EKS::Nodegroup', {});
    expect(dependsOn(dev.template, id)).toContain(nodegroup);
    prod.template.hasResourceProperties('Custom::AWSCDK-EKS-HelmChart', {
      Chart: 'metrics-server', Values: Match.serializedJson(Match.objectLike({ replicas: 2, podDisruptionBudget: { enabled: true, minAvailable: 1 } })),
    });
  });
});

describe('storage', () => {
  const objects = (s: Scenario) => s.cluster.storageChart.toJson() as any[];
  const byName = (s: Scenario, kind: string, name: string) => objects(s).find((o) => o.kind === kind && o.metadata.name === name);

  test('gp3 is the encrypted, expandable default StorageClass', () => {
    expect(byName(dev, 'StorageClass', 'gp3')).toMatchObject({
      apiVersion: 'storage.k8s.io/v1',
      metadata: { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' }, labels: { 'fx.platform/component': 'storage' } },
      provisioner: 'ebs.csi.aws.com',
      parameters: { type: 'gp3', encrypted: 'true' },
      reclaimPolicy: 'Delete',
      allowVolumeExpansion: true,
      volumeBindingMode: 'WaitForFirstConsumer',
    });
    expect(byName(prod, 'StorageClass', 'gp3').reclaimPolicy).toBe('Retain');
  });

  test('efs-sc provisions one access point per volume on the shared file system', () => {
    expect(byName(dev, 'StorageClass', 'efs-sc')).toMatchObject({
      provisioner: 'efs.csi.aws.com',
      parameters: { provisioningMode: 'efs-ap', directoryPerms: '700', fileSystemId: expect.any(String) },
    });
    const [manifest] = logicalIds(dev.template, 'Custom::AWSCDK-EKS-KubernetesResource', { Manifest: Match.anyValue() })
      .filter((id) => JSON.stringify(dev.template.toJSON().Resources[id].Properties.Manifest).includes('efs-sc'));
    expect(JSON.stringify(dev.template.toJSON().Resources[manifest].Properties.Manifest)).toContain('{"Ref":"ClusterFileSystem');
  });

  test('has a default EBS VolumeSnapshotClass', () => {
    expect(byName(dev, 'VolumeSnapshotClass', 'ebs-snapshots')).toMatchObject({
      apiVersion: 'snapshot.storage.k8s.io/v1',
      driver: 'ebs.csi.aws.com',
      deletionPolicy: 'Delete',
      metadata: { annotations: { 'snapshot.storage.kubernetes.io/is-default-class': 'true' } },
    });
    expect(byName(prod, 'VolumeSnapshotClass', 'ebs-snapshots').deletionPolicy).toBe('Retain');
  });

  test('every storage object validates against the Kubernetes schemas', () => {
    expect(objects(dev)).toHaveLength(3);
    expect(k8sErrors([...objects(dev), ...objects(prod)])).toEqual([]);
  });

  test('the schema check catches a bad object', () => {
    expect(k8sErrors([{ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'x' }, provisioner: 'p', reclaimPolicy: 'Keep' }]))
      .toEqual([expect.stringMatching(/StorageClass\/x: .*reclaimPolicy/)]);
  });

  test('storage objects are applied in one manifest after the CSI drivers and snapshot controller', () => {
    const manifests = logicalIds(dev.template, 'Custom::AWSCDK-EKS-KubernetesResource', {})
      .filter((id) => JSON.stringify(dev.template.toJSON().Resources[id].Properties.Manifest).includes('VolumeSnapshotClass'));
    expect(manifests).toHaveLength(1);
    for (const name of ['aws-ebs-csi-driver', 'aws-efs-csi-driver', 'snapshot-controller']) {
      const [addon] = logicalIds(dev.template, 'AWS::EKS::Addon', { AddonName: name });
      expect(dependsOn(dev.template, manifests[0])).toContain(addon);
    }
    const mountTargets = logicalIds(dev.template, 'AWS::EFS::MountTarget', {});
    expect(mountTargets).toHaveLength(3);
    expect(dependsOn(dev.template, manifests[0])).toEqual(expect.arrayContaining(mountTargets));
  });

  test('the EFS file system is encrypted, backed up, retained and reachable only from the cluster', () => {
    dev.template.hasResource('AWS::EFS::FileSystem', {
      Properties: Match.objectLike({ Encrypted: true, BackupPolicy: { Status: 'ENABLED' } }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    const [sg] = logicalIds(dev.template, 'AWS::EC2::SecurityGroup', { GroupDescription: Match.stringLikeRegexp('EFS') });
    const sgProps = dev.template.toJSON().Resources[sg].Properties;
    expect(sgProps.SecurityGroupIngress ?? []).toEqual([]);
    const ingress = Object.values(dev.template.findResources('AWS::EC2::SecurityGroupIngress', {
      Properties: { GroupId: { 'Fn::GetAtt': [sg, 'GroupId'] } },
    })) as any[];
    expect(ingress.map((i) => i.Properties)).toEqual([expect.objectContaining({
      IpProtocol: 'tcp',
      FromPort: 2049,
      ToPort: 2049,
      SourceSecurityGroupId: { 'Fn::GetAtt': [expect.stringMatching(/^Cluster/), 'ClusterSecurityGroupId'] },
    })]);
    dev.template.hasResourceProperties('AWS::EFS::FileSystem', {
      FileSystemPolicy: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('EFS volumes can mount: iam mount option, node plugin role with ClientMount in both policies', () => {
    expect(byName(dev, 'StorageClass', 'efs-sc').mountOptions).toEqual(['tls', 'iam']);
    const [addon] = Object.values(dev.template.findResources('AWS::EKS::Addon', { Properties: { AddonName: 'aws-efs-csi-driver' } })) as any[];
    const node = addon.Properties.PodIdentityAssociations.find((a: any) => a.ServiceAccount === 'efs-csi-node-sa');
    expect(node).toBeDefined();
    const roleId = node.RoleArn['Fn::GetAtt'][0];
    const [fileSystem] = Object.values(dev.template.findResources('AWS::EFS::FileSystem')) as any[];
    const allow = fileSystem.Properties.FileSystemPolicy.Statement
      .find((st: any) => st.Effect === 'Allow' && ([] as string[]).concat(st.Action).includes('elasticfilesystem:ClientMount'));
    expect(allow).toMatchObject({ Principal: { AWS: { 'Fn::GetAtt': [roleId, 'Arn'] } }, Condition: { Bool: { 'elasticfilesystem:AccessedViaMountTarget': 'true' } } });
    const policies = Object.values(dev.template.findResources('AWS::IAM::Policy')) as any[];
    const own = policies.filter((p) => p.Properties.Roles.some((r: any) => r.Ref === roleId)).flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(own).toEqual([expect.objectContaining({ Action: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'], Effect: 'Allow' })]);
  });
});

describe('identity and install order', () => {
  test('addPodIdentityServiceAccount creates a Pod Identity role, association and service account', () => {
    const account = prod.cluster.node.findChild('OrdersSa') as eks.ServiceAccount;
    expect(account.role).toBeDefined();
    prod.template.hasResourceProperties('AWS::EKS::PodIdentityAssociation', { Namespace: 'orders', ServiceAccount: 'orders-api' });
    prod.template.resourcePropertiesCountIs('AWS::EKS::Addon', { AddonName: 'eks-pod-identity-agent' }, 1);
    const [association] = logicalIds(prod.template, 'AWS::EKS::PodIdentityAssociation', {});
    const [agent] = logicalIds(prod.template, 'AWS::EKS::Addon', { AddonName: 'eks-pod-identity-agent' });
    expect(dependsOn(prod.template, association)).toContain(agent);
  });

  test('every IAM policy lists specific actions', () => {
    for (const s of [dev, prod, privateImported]) {
      const json = s.template.toJSON().Resources as Record<string, any>;
      const statements = Object.values(json).flatMap((r) => [
        ...(r.Type === 'AWS::IAM::Policy' ? r.Properties.PolicyDocument.Statement : []),
        ...(r.Type === 'AWS::IAM::Role' ? (r.Properties.Policies ?? []).flatMap((p: any) => p.PolicyDocument.Statement) : []),
      ]);
      expect(statements.length).toBeGreaterThan(0);
      const actions = statements.flatMap((st: any) => [st.Action].flat());
      expect(actions.filter((a: string) => a === '*' || a.endsWith(':*'))).toEqual([]);
    }
  });

  test('install order wires providers and consumers whichever registers first', () => {
    const root = new Construct(undefined as any, 'Root');
    const order = new InstallOrder('FxCluster');
    const early = new Construct(root, 'Early');
    const provider = new Construct(root, 'Traefik');
    const late = new Construct(root, 'Late');
    order.require(early, FxCapability.TRAEFIK_CRDS);
    order.provide(provider, FxCapability.TRAEFIK_CRDS);
    order.require(late, FxCapability.TRAEFIK_CRDS);
    expect(early.node.dependencies).toEqual([provider]);
    expect(late.node.dependencies).toEqual([provider]);
    expect(order.providersOf(FxCapability.TRAEFIK_CRDS)).toEqual([provider]);
    expect(early.node.validate()).toEqual([]);
  });

  test('fails synthesis when a needed capability has no provider', () => {
    const root = new Construct(undefined as any, 'Root');
    const order = new InstallOrder('FxCluster');
    const route = new Construct(root, 'Route');
    order.require(route, FxCapability.TRAEFIK_CRDS);
    expect(route.node.validate()).toEqual([expect.stringMatching(/Route needs 'crd:traefik.io' but nothing on this cluster provides it/)]);
  });

  test('addHelmChart pins the table version and orders after what it needs', () => {
    const { stack } = newStack();
    const cluster = new FxCluster(stack, 'Cluster');
    // Traefik and ESO are installed by FxCluster itself; an operator it does not install shows the mechanism.
    const crds = cluster.addHelmChart('EckOperator', { chart: cluster.versions.charts.eckOperator, namespace: 'elastic-system', provides: ['crd:k8s.elastic.co'] });
    const stackObjects = cluster.addManifest('Elastic', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'logging' } });
    cluster.installAfter(stackObjects, 'crd:k8s.elastic.co');
    expect(crds.version).toBe(ROW.charts.eckOperator.version);
    expect(stackObjects.node.dependencies).toContain(crds);
    expect(cluster.hasCapability('crd:k8s.elastic.co')).toBe(true);
    expect(cluster.hasCapability(FxCapability.TRAEFIK_CRDS)).toBe(true);
    expect(cluster.hasCapability(FxCapability.CERT_MANAGER_CRDS)).toBe(false);
  });
});

describe('stateful resources', () => {
  // Renaming a construct id replaces the resource: for these that is data loss or a new cluster.
  test.each([
    ['AWS::EKS::Cluster', 'Cluster9EE0221C'],
    ['AWS::EC2::VPC', 'ClusterNetwork758EA5A7'],
    ['AWS::KMS::Key', 'ClusterSecretsKey462B29B5'],
    ['AWS::KMS::Key', 'ClusterNetworkLogKeyCF9BA70C'],
    ['AWS::Logs::LogGroup', 'ClusterNetworkFlowLogs839012C3'],
    ['AWS::Logs::LogGroup', 'ClusterControlPlaneLogsDCEEB876'],
    ['AWS::EFS::FileSystem', 'ClusterFileSystemCC3072DE'],
  ])('keep their logical ids: %s %s', (type, id) => {
    expect(dev.template.toJSON().Resources[id]?.Type).toBe(type);
  });
});

describe('cdk-nag', () => {
  test('AwsSolutions reports no unacknowledged error on a stack with only FxCluster', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-nag-'));
    const { app, stack } = newStack({ outdir });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    new FxCluster(stack, 'Cluster', { profile: FxProfile.PRODUCTION, admins: [iam.Role.fromRoleName(stack, 'Admin', 'admin')] });
    expect(() => app.synth()).not.toThrow();
    const metadata = fs.readFileSync(path.join(outdir, 'Platform.metadata.json'), 'utf8');
    expect(metadata).toContain('AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonEKSClusterPolicy]');
    fs.rmSync(outdir, { recursive: true, force: true });
  });
});

describe('bad input', () => {
  test('fails when the Kubernetes version is below 1.28', () => {
    expect(attempt({ kubernetesVersion: '1.27' })).toThrow(/FxCluster(?: at [^:]+)?: invalid kubernetesVersion '1.27'; allowed: 1.28 or newer/);
  });
  test('fails when the Kubernetes version is not in the table', () => {
    expect(attempt({ kubernetesVersion: '1.30' })).toThrow(/FxCluster(?: at [^:]+)?: invalid kubernetesVersion '1.30'; allowed: a minor in the versions table/);
  });
  test('fails when the Kubernetes version is not a version', () => {
    expect(attempt({ kubernetesVersion: 'latest' })).toThrow(/FxCluster(?: at [^:]+)?: invalid kubernetesVersion 'latest'/);
  });
  test('fails when minSize is greater than maxSize', () => {
    expect(attempt({ nodeGroups: [{ name: 'a', minSize: 5, maxSize: 3 }] })).toThrow(/FxCluster(?: at [^:]+)?: invalid nodeGroups\[0\].maxSize 3; allowed: an integer of at least 1 and at least minSize \(5\)/);
  });
  test('fails when desiredSize is below minSize', () => {
    expect(attempt({ nodeGroups: [{ name: 'a', minSize: 2, desiredSize: 1, maxSize: 4 }] })).toThrow(/invalid nodeGroups\[0\].desiredSize 1; allowed: an integer between minSize and maxSize \(2..4\)/);
  });
  test('fails when desiredSize is above maxSize', () => {
    expect(attempt({ nodeGroups: [{ name: 'a', minSize: 1, desiredSize: 5, maxSize: 4 }] })).toThrow(/invalid nodeGroups\[0\].desiredSize 5/);
  });
  test('fails when an instance type is smaller than t3.medium', () => {
    expect(attempt({ nodeGroups: [{ name: 'a', instanceTypes: [t('t3.small')] }] })).toThrow(/FxCluster(?: at [^:]+)?: invalid nodeGroups\[0\].instanceTypes 't3.small'; allowed: instance types of at least t3.medium/);
  });
  test('fails when a medium instance type has a single vCPU', () => {
    expect(attempt({ nodeGroups: [{ name: 'a' }, { name: 'b', instanceTypes: [t('m6g.medium')] }] })).toThrow(/invalid nodeGroups\[1\].instanceTypes 'm6g.medium'/);
  });
  test('fails when an instance type family or size does not exist', () => {
    expect(attempt({ nodeGroups: [{ name: 'a', instanceTypes: [t('m9z.large')] }] }))
      .toThrow(/FxCluster(?: at [^:]+)?: invalid nodeGroups\[0\].instanceTypes 'm9z.large'; allowed: an EC2 instance type such as m7i.large \(there is no instance family 'm9z'\)/);
    expect(attempt({ nodeGroups: [{ name: 'a', instanceTypes: [t('m5.huge')] }] })).toThrow(/\(there is no size 'huge'\)/);
    expect(attempt({ nodeGroups: [{ name: 'a', instanceTypes: [t('m5large')] }] })).toThrow(/\(it is not '<family>.<size>'\)/);
  });
  test('a maxSize token is passed on and never copied into minSize or desiredSize', () => {
    const { stack } = newStack();
    const max = new CfnParameter(stack, 'MaxNodes', { type: 'Number' }).valueAsNumber;
    new FxCluster(stack, 'Cluster', { nodeGroups: [{ name: 'app', maxSize: max }] });
    const [group] = Object.values(Template.fromStack(stack).findResources('AWS::EKS::Nodegroup')) as any[];
    expect(group.Properties.ScalingConfig).toEqual({ MaxSize: { Ref: 'MaxNodes' }, MinSize: 2, DesiredSize: 2 });
  });
  test('a desiredSize token is accepted with literal bounds', () => {
    const { stack } = newStack();
    const desired = new CfnParameter(stack, 'Nodes', { type: 'Number' }).valueAsNumber;
    new FxCluster(stack, 'Cluster', { nodeGroups: [{ name: 'app', minSize: 1, maxSize: 5, desiredSize: desired }] });
    const [group] = Object.values(Template.fromStack(stack).findResources('AWS::EKS::Nodegroup')) as any[];
    expect(group.Properties.ScalingConfig).toEqual({ MaxSize: 5, MinSize: 1, DesiredSize: { Ref: 'Nodes' } });
  });
  test('fails when a taint or node label key or value is not valid for Kubernetes', () => {
    expect(attempt({ nodeGroups: [{ name: 'a', taints: [{ key: 'bad key', value: 'x', effect: eks.TaintEffect.NO_SCHEDULE }] }] }))
      .toThrow(/FxCluster(?: at [^:]+)?: invalid nodeGroups\[0\].taints\[0\].key 'bad key'; allowed: a Kubernetes key/);
    expect(attempt({ nodeGroups: [{ name: 'a', taints: [{ key: 'team', value: 'x'.repeat(64), effect: eks.TaintEffect.NO_SCHEDULE }] }] }))
      .toThrow(/invalid nodeGroups\[0\].taints\[0\].value 'x{64}'; allowed: up to 63/);
    expect(attempt({ nodeGroups: [{ name: 'a', labels: { 'example.com/Team Name': 'x' } }] })).toThrow(/invalid nodeGroups\[0\].labels 'example.com\/Team Name'/);
    expect(attempt({ nodeGroups: [{ name: 'a', labels: { team: '-payments' } }] })).toThrow(/invalid nodeGroups\[0\].labels\['team'\] '-payments'/);
  });
  test('fails when platformName (given, or from the stack name) is not a label value', () => {
    expect(attempt({ platformName: 'fx platform' })).toThrow(/FxCluster(?: at [^:]+)?: invalid platformName 'fx platform'; allowed: up to 40 letters/);
    expect(attempt({ platformName: 'p'.repeat(41) })).toThrow(/invalid platformName 'p{41}'/);
    const app = new App({ context: { [`availability-zones:account=${ACCOUNT}:region=${REGION}`]: AZS } });
    const stack = new Stack(app, 'A'.repeat(20) + '-' + 'B'.repeat(30), { env: { account: ACCOUNT, region: REGION } });
    expect(() => new FxCluster(stack, 'Cluster')).toThrow(/invalid platformName \(from the stack name\) 'A{20}-B{30}'; .*set platformName when the stack name does not fit/);
  });
  test('fails when a Helm release name is not valid', () => {
    expect(() => dev.cluster.addHelmChart('BadRelease', { chart: dev.cluster.versions.charts.traefik, namespace: 'traefik', release: 'My_Release' }))
      .toThrow(/invalid addHelmChart\(BadRelease\).release 'My_Release'; allowed: a Helm release name/);
    expect(() => dev.cluster.addHelmChart('LongRelease', { chart: dev.cluster.versions.charts.traefik, namespace: 'traefik', release: 'r'.repeat(54) }))
      .toThrow(/invalid addHelmChart\(LongRelease\).release 'r{54}'/);
  });
  test('fails when logRetention is not a value CloudWatch Logs supports', () => {
    expect(attempt({ logRetention: 45 as logs.RetentionDays })).toThrow(/FxCluster(?: at [^:]+)?: invalid logRetention 45; allowed: a retention CloudWatch Logs supports \(logs.RetentionDays\): 1, 3, 5, 7/);
    expect(attempt({ logRetention: logs.RetentionDays.TWO_WEEKS })).not.toThrow();
  });
  test('fails when node group names repeat', () => {
    expect(attempt({ nodeGroups: [{ name: 'a' }, { name: 'a' }] })).toThrow(/invalid nodeGroups\[1\].name 'a'; allowed: a name not used by another node group/);
  });
  test('fails when a node group name is not valid', () => {
    expect(attempt({ nodeGroups: [{ name: 'bad name!' }] })).toThrow(/invalid nodeGroups\[0\].name 'bad name!'/);
  });
  test('fails when a spot group has fewer than two instance types', () => {
    expect(attempt({ nodeGroups: [{ name: 's', capacityType: eks.CapacityType.SPOT, instanceTypes: [t('m5.large')] }] }))
      .toThrow(/invalid nodeGroups\[0\].instanceTypes \["m5.large"\]; allowed: at least two instance types for a spot node group/);
  });
  test('fails when a node group mixes CPU architectures', () => {
    expect(attempt({ nodeGroups: [{ name: 's', instanceTypes: [t('m5.large'), t('m7g.large')] }] })).toThrow(/allowed: instance types of a single CPU architecture/);
  });
  test('fails when the disk is smaller than 20 GiB', () => {
    expect(attempt({ nodeGroups: [{ name: 's', diskSize: Size.gibibytes(10) }] })).toThrow(/invalid nodeGroups\[0\].diskSize '10 GiB'; allowed: from 20 to 16384 GiB/);
  });
  test('fails when the node group list is empty', () => {
    expect(attempt({ nodeGroups: [] })).toThrow(/invalid nodeGroups \[\]; allowed: at least one node group/);
  });
  test('fails when an allowlist entry is not a CIDR', () => {
    expect(attempt({ endpointAllowlist: ['203.0.113.0/24', 'office.example.com'] })).toThrow(/FxCluster(?: at [^:]+)?: invalid endpointAllowlist 'office.example.com'; allowed: IPv4 CIDR blocks/);
  });
  test('fails when an allowlist prefix is out of range', () => {
    expect(attempt({ endpointAllowlist: ['10.0.0.0/33'] })).toThrow(/invalid endpointAllowlist '10.0.0.0\/33'/);
  });
  test('fails when an allowlist is given for a private-only endpoint', () => {
    expect(attempt({ privateEndpointOnly: true, endpointAllowlist: ['10.0.0.0/8'] })).toThrow(/invalid endpointAllowlist \["10.0.0.0\/8"\]; allowed: no allowlist when privateEndpointOnly/);
  });
  test('fails when an imported VPC has private subnets in fewer than 2 AZs', () => {
    const { stack } = newStack();
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-1', availabilityZones: ['us-east-1a'], privateSubnetIds: ['subnet-1'] });
    expect(() => new FxCluster(stack, 'Cluster', { vpc })).toThrow(/FxCluster(?: at [^:]+)?: invalid vpc.privateSubnets '1 subnet\(s\) in us-east-1a'; allowed: private subnets in at least 2 availability zones/);
  });
  test('fails when NAT gateways are outside 1..3', () => {
    expect(attempt({ natGateways: 0 })).toThrow(/invalid natGateways 0; allowed: an integer from 1 to 3/);
    expect(attempt({ natGateways: 4 })).toThrow(/invalid natGateways 4/);
  });
  test('fails when the VPC CIDR is not a /16 block (the subnet layout needs all of it)', () => {
    expect(attempt({ vpcCidr: '10.0.0.0/24' })).toThrow(/invalid vpcCidr '10.0.0.0\/24'; allowed: a \/16 block/);
    // /17 and /18 passed the old check and then failed inside aws-cdk-lib's subnet allocation.
    expect(attempt({ vpcCidr: '10.0.0.0/17' })).toThrow(/FxCluster(?: at [^:]+)?: invalid vpcCidr '10.0.0.0\/17'; allowed: a \/16 block/);
    expect(attempt({ vpcCidr: '10.0.0.0/18' })).toThrow(/invalid vpcCidr '10.0.0.0\/18'/);
  });
  test('fails when the VPC CIDR is not a network address or not a CIDR', () => {
    expect(attempt({ vpcCidr: '10.0.0.5/16' })).toThrow(/FxCluster(?: at [^:]+)?: invalid vpcCidr '10.0.0.5\/16'; allowed: a network address \(host bits zero\), e.g. 10.0.0.0\/16/);
    expect(attempt({ vpcCidr: '10.1.2.3/16' })).toThrow(/e.g. 10.1.0.0\/16/);
    expect(attempt({ vpcCidr: 'ten' })).toThrow(/invalid vpcCidr 'ten'; allowed: an IPv4 CIDR block/);
  });
  test('fails when the VPC CIDR is a deploy-time token (subnets are computed at synth)', () => {
    const { stack } = newStack();
    const cidr = new CfnParameter(stack, 'Cidr', { type: 'String' }).valueAsString;
    expect(() => new FxCluster(stack, 'Cluster', { vpcCidr: cidr })).toThrow(/invalid vpcCidr '\(a deploy-time token\)'; allowed: a literal IPv4 CIDR block/);
  });
  test('fails when an interface endpoint is given twice', () => {
    const { ECR, STS } = ec2.InterfaceVpcEndpointAwsService;
    expect(attempt({ interfaceEndpoints: [ECR, STS, ECR] }))
      .toThrow(/invalid interfaceEndpoints 'ecr.api'; allowed: each AWS service once/);
  });
  test('fails when the public endpoint allowlist names private or reserved ranges', () => {
    expect(attempt({ endpointAllowlist: ['203.0.113.0/24', '10.20.0.0/16'] }))
      .toThrow(/FxCluster(?: at [^:]+)?: invalid endpointAllowlist '10.20.0.0\/16'; allowed: public internet ranges \(10.20.0.0\/16 is in the private or reserved range 10.0.0.0\/8/);
    expect(attempt({ endpointAllowlist: ['192.168.1.0/24'] })).toThrow(/range 192.168.0.0\/16/);
    expect(attempt({ endpointAllowlist: ['100.64.0.0/10'] })).toThrow(/range 100.64.0.0\/10/);
    // A block made only of reserved ranges (multicast 224.0.0.0/4 and future use 240.0.0.0/4) is refused too.
    expect(attempt({ endpointAllowlist: ['224.0.0.0/3'] })).toThrow(/'224.0.0.0\/3'; allowed: public internet ranges \(224.0.0.0\/3 is in the private or reserved range 224.0.0.0\/4/);
    // A wider block that also holds public addresses is public, like 0.0.0.0/0.
    expect(attempt({ endpointAllowlist: ['8.0.0.0/5'] })).not.toThrow();
  });
  test('fails when new-VPC options come with an existing VPC', () => {
    const { stack } = newStack();
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-1', availabilityZones: AZS.slice(0, 2), privateSubnetIds: ['s-1', 's-2'] });
    expect(() => new FxCluster(stack, 'Cluster', { vpc, natGateways: 2 })).toThrow(/invalid vpc .*allowed: either an existing vpc or the options of a new one/);
  });
  test('fails when the cluster name is not valid', () => {
    expect(attempt({ clusterName: '-cluster' })).toThrow(/invalid clusterName '-cluster'/);
  });
  test('fails when a Helm chart version is a range', () => {
    expect(() => dev.cluster.addHelmChart('Bad', { chart: dev.cluster.versions.charts.traefik, namespace: 'traefik', version: '^41.0.0' }))
      .toThrow(/invalid addHelmChart\(Bad\).version '\^41.0.0'; allowed: an exact chart version/);
  });
  test('fails when a Helm timeout leaves no margin under the 15-minute handler', () => {
    const { Duration } = jest.requireActual('aws-cdk-lib');
    expect(() => dev.cluster.addHelmChart('Slow', { chart: dev.cluster.versions.charts.velero, namespace: 'velero', timeout: Duration.minutes(20) }))
      .toThrow(/invalid addHelmChart\(Slow\).timeout '1200s'; allowed: whole seconds from 60 to 780 \(the kubectl handler Lambda stops at 900s/);
    // 15 minutes (the Lambda's own limit) is refused too: the release would die in Lambda, pending-install.
    expect(() => dev.cluster.addHelmChart('AtLimit', { chart: dev.cluster.versions.charts.velero, namespace: 'velero', timeout: Duration.minutes(15) }))
      .toThrow(/invalid addHelmChart\(AtLimit\).timeout '900s'/);
  });
  test('fails when access is granted without namespaces', () => {
    const role = iam.Role.fromRoleName(dev.stack, 'NoNs', 'no-namespaces');
    expect(() => dev.cluster.grantAccess(role, [], FxAccessLevel.EDIT)).toThrow(/invalid grantAccess.namespaces \[\]; allowed: at least one namespace/);
    expect(() => dev.cluster.grantAccess(role, ['Orders'], FxAccessLevel.EDIT)).toThrow(/invalid grantAccess.namespaces 'Orders'/);
    // Called after construction: the error names the cluster that was called.
    expect(() => dev.cluster.grantAccess(role, ['Orders'], FxAccessLevel.EDIT))
      .toThrow(`FxCluster at ${dev.cluster.node.path}: invalid grantAccess.namespaces 'Orders'; allowed: DNS labels (lowercase letters, digits, -)`);
  });
  test('fails when a service account name is not a DNS name', () => {
    expect(() => dev.cluster.addPodIdentityServiceAccount('BadSa', { name: 'Orders_API', namespace: 'orders' }))
      .toThrow(/invalid addPodIdentityServiceAccount\(BadSa\).name 'Orders_API'/);
  });
  test('fails when the kubectl layer package of the minor is not installed', () => {
    jest.isolateModules(() => {
      jest.doMock('@aws-cdk/lambda-layer-kubectl-v36', () => {
        throw new Error("Cannot find module '@aws-cdk/lambda-layer-kubectl-v36'");
      });
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const isolated = require('../src') as typeof import('../src');
      expect(() => new isolated.FxCluster(newStack().stack, 'Cluster', { kubernetesVersion: '1.36' }))
        .toThrow(/FxCluster(?: at [^:]+)?: invalid kubernetesVersion '1.36'; allowed: a version whose kubectl layer is installed: run `npm install @aws-cdk\/lambda-layer-kubectl-v36` or pass kubectlLayer/);
    });
  });
  test('fails when the kubectl layer package lacks the layer class', () => {
    jest.isolateModules(() => {
      jest.doMock('@aws-cdk/lambda-layer-kubectl-v34', () => ({}));
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const isolated = require('../src') as typeof import('../src');
      expect(() => new isolated.FxCluster(newStack().stack, 'Cluster', { kubernetesVersion: '1.34' }))
        .toThrow(/invalid kubernetesVersion '1.34'; allowed: a version whose kubectl layer package exports KubectlV34Layer/);
    });
  });
  test('fails when a capability name is not valid', () => {
    expect(() => dev.cluster.installAfter(dev.cluster.storageManifest, 'CRD Traefik')).toThrow(/FxCluster(?: at [^:]+)?: invalid capability 'CRD Traefik'/);
  });
});
