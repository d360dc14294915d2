import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as cdk8s from 'cdk8s';
import { Construct } from 'constructs';
import { platformLabels } from '../core/tags';
import { KubeStorageClass } from '../k8s/api.generated';

/** Names of the StorageClasses and VolumeSnapshotClass every FxCluster has. */
export const STORAGE_CLASS_GP3 = 'gp3';
export const STORAGE_CLASS_EFS = 'efs-sc';
export const VOLUME_SNAPSHOT_CLASS_EBS = 'ebs-snapshots';

/** @internal */
export interface SharedFileSystemProps {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly clusterSecurityGroup: ec2.ISecurityGroup;
  /** The identity of IAM-authenticated mounts (the EFS CSI node plugin's role). */
  readonly clientRole: iam.IRole;
}

/**
 * The cluster's shared EFS file system: encrypted at rest and in transit, in the private subnets,
 * NFS open only to the cluster security group (which EKS attaches to every managed node), daily
 * AWS Backup, and retained when the stack is deleted.
 *
 * @internal
 */
export function createSharedFileSystem(scope: Construct, id: string, props: SharedFileSystemProps): efs.FileSystem {
  const securityGroup = new ec2.SecurityGroup(scope, `${id}SecurityGroup`, {
    vpc: props.vpc,
    description: 'Fx platform: NFS to the shared EFS file system from cluster nodes only',
    allowAllOutbound: false,
  });
  const fileSystem = new efs.FileSystem(scope, id, {
    vpc: props.vpc,
    vpcSubnets: props.subnets,
    securityGroup,
    encrypted: true,
    enableAutomaticBackups: true,
    performanceMode: efs.PerformanceMode.GENERAL_PURPOSE,
    throughputMode: efs.ThroughputMode.ELASTIC,
    lifecyclePolicy: efs.LifecyclePolicy.AFTER_30_DAYS,
    allowAnonymousAccess: false,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  fileSystem.connections.allowDefaultPortFrom(props.clusterSecurityGroup, 'NFS from EKS cluster nodes');
  fileSystem.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'DenyUnencryptedTransport',
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite', 'elasticfilesystem:ClientRootAccess'],
    // In a file system policy '*' is the file system itself (its own ARN would be a circular reference).
    resources: ['*'],
    conditions: { Bool: { 'aws:SecureTransport': 'false' } },
  }));
  // Mounts use the `iam` option (efs-sc mountOptions): the node plugin's role may mount and write
  // through a mount target, in both the identity and the file system policy (with a policy
  // present, EFS requires ClientMount for any mount; ClientRootAccess is not needed with access points).
  const clientActions = ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'];
  fileSystem.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'MountFromClusterNodes',
    principals: [new iam.ArnPrincipal(props.clientRole.roleArn)],
    actions: clientActions,
    resources: ['*'],
    conditions: { Bool: { 'elasticfilesystem:AccessedViaMountTarget': 'true' } },
  }));
  props.clientRole.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: clientActions,
    resources: [fileSystem.fileSystemArn],
    conditions: { Bool: { 'elasticfilesystem:AccessedViaMountTarget': 'true' } },
  }));
  return fileSystem;
}

/** @internal */
export interface StorageChartProps {
  readonly platformName: string;
  /** The shared file system of the efs-sc class; none: no efs-sc class. */
  readonly fileSystem?: efs.IFileSystem;
  readonly retainVolumes: boolean;
}

/**
 * The cluster's storage objects in one cdk8s chart: gp3 (encrypted, expandable, the default
 * StorageClass), efs-sc (one EFS access point per volume) and the EBS VolumeSnapshotClass.
 *
 * @internal
 */
export function createStorageChart(props: StorageChartProps): cdk8s.Chart {
  const reclaimPolicy = props.retainVolumes ? 'Retain' : 'Delete';
  const chart = new cdk8s.Chart(new cdk8s.App(), 'fx-storage', {
    labels: platformLabels(props.platformName, 'storage'),
  });
  new KubeStorageClass(chart, 'Gp3', {
    metadata: {
      name: STORAGE_CLASS_GP3,
      annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' },
    },
    provisioner: 'ebs.csi.aws.com',
    parameters: { type: 'gp3', encrypted: 'true', fsType: 'ext4' },
    reclaimPolicy,
    allowVolumeExpansion: true,
    volumeBindingMode: 'WaitForFirstConsumer',
  });
  if (props.fileSystem) {
    new KubeStorageClass(chart, 'Efs', {
      metadata: { name: STORAGE_CLASS_EFS },
      provisioner: 'efs.csi.aws.com',
      parameters: {
        provisioningMode: 'efs-ap',
        fileSystemId: props.fileSystem.fileSystemId,
        directoryPerms: '700',
        gidRangeStart: '50000',
        gidRangeEnd: '60000',
        basePath: '/dynamic',
      },
      // tls: encrypted in transit (the file system policy denies anything else); iam: the mount
      // authenticates as the node plugin's role, which the file system policy allows to mount.
      mountOptions: ['tls', 'iam'],
      reclaimPolicy,
      allowVolumeExpansion: true,
      volumeBindingMode: 'Immediate',
    });
  }
  // snapshot.storage.k8s.io comes with the EKS snapshot-controller add-on: no chart data, hence no
  // generated type (the only untyped object, allowlisted in test/k8s-types.test.ts).
  new cdk8s.ApiObject(chart, 'EbsSnapshots', {
    apiVersion: 'snapshot.storage.k8s.io/v1',
    kind: 'VolumeSnapshotClass',
    metadata: {
      name: VOLUME_SNAPSHOT_CLASS_EBS,
      annotations: { 'snapshot.storage.kubernetes.io/is-default-class': 'true' },
      // Velero's CSI backups snapshot volumes with the class carrying this label.
      labels: { 'velero.io/csi-volumesnapshot-class': 'true' },
    },
    driver: 'ebs.csi.aws.com',
    deletionPolicy: reclaimPolicy,
  } as cdk8s.ApiObjectProps);
  return chart;
}
