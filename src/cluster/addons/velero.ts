import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { addonNamespace, controllerResources, grantStatements, namespaceCapability } from './common';
import { check, checkKnownAtSynth, profileSuffix } from '../../core/errors';
import { FxCapability } from '../../core/install-order';
import { chartLabels, platformLabels } from '../../core/tags';
import { KubeSchedule, KubeScheduleManifest } from '../../k8s/crds.generated';
import { FxAddonOptions } from '../addon';
import { mergeValues } from '../addon-values';
import type { IFxCluster } from '../contract';

const NAMESPACE = 'velero';
const SERVICE_ACCOUNT = 'velero-server';
const STORAGE_LOCATION = 'default';
/** Daily at 03:00 UTC. */
export const VELERO_SCHEDULE = '0 3 * * *';

/**
 * Velero cluster backups: a retained, versioned, encrypted S3 bucket with public access blocked,
 * the AWS object-store plugin, CSI volume snapshots (the EBS VolumeSnapshotClass is labelled for
 * Velero, so volume snapshots are taken by the EBS CSI driver, not by Velero's role), and a daily
 * Schedule of all namespaces kept for the profile's retention.
 *
 * Order: namespace, service account, chart (`wait`, provides the Velero CRDs), then the Schedule.
 *
 * @internal
 */
export class VeleroAddon {
  public readonly bucket: s3.Bucket;
  public readonly namespace: eks.KubernetesManifest;
  public readonly serviceAccount: eks.ServiceAccount;
  public readonly chart: eks.HelmChart;
  public readonly scheduleObject: KubeScheduleManifest;
  public readonly schedule: eks.KubernetesManifest;

  /** @param fromProfile the profile's name when `retentionDays` is its default */
  constructor(cluster: IFxCluster, scope: Construct, retentionDays: number, options: FxAddonOptions = {}, fromProfile?: string,
    retentionProp = 'clusterBackupRetentionDays') {
    checkKnownAtSynth(retentionDays, 'FxCluster', `${retentionProp}${fromProfile ? `${profileSuffix(fromProfile)}` : ''}`,
      "the backup schedule's ttl is written in hours (days x 24), which CloudFormation cannot compute");
    check(Number.isInteger(retentionDays) && retentionDays >= 1 && retentionDays <= 3650, 'FxCluster',
      `${retentionProp}${fromProfile ? `${profileSuffix(fromProfile)}` : ''}`, retentionDays,
      'an integer number of days from 1 to 3650');
    const region = Stack.of(cluster).region;
    this.bucket = new s3.Bucket(scope, 'BackupBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      // Velero deletes expired backups; old object versions only guard against accidents.
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(30), abortIncompleteMultipartUploadAfter: Duration.days(7) }],
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'Velero backup bucket: only the Velero Pod Identity role reads or writes it; object-level access is audited through CloudTrail data events rather than a second logging bucket.',
    });

    this.namespace = addonNamespace(cluster, 'VeleroNamespace', NAMESPACE, 'velero', 'baseline');
    this.serviceAccount = cluster.addPodIdentityServiceAccount('VeleroServiceAccount', {
      name: SERVICE_ACCOUNT, namespace: NAMESPACE, needs: [namespaceCapability(NAMESPACE)],
    });
    // velero-plugin-for-aws object store permissions; volume snapshots go through CSI.
    grantStatements(this.serviceAccount, [new iam.PolicyStatement({
      sid: 'BackupObjects',
      actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
      resources: [this.bucket.arnForObjects('*')],
    }),
    new iam.PolicyStatement({
      sid: 'ListBackups',
      actions: ['s3:ListBucket'],
      resources: [this.bucket.bucketArn],
    })], 'Velero (velero-plugin-for-aws object store policy): object actions on the keys of its own backup bucket only.');

    const plugin = cluster.versions.images.veleroPluginForAws;
    const hardened = {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    };
    this.chart = cluster.addHelmChart('Velero', {
      chart: cluster.versions.charts.velero,
      version: options.version,
      namespace: NAMESPACE,
      release: 'velero',
      createNamespace: false,
      wait: true,
      values: mergeValues({
        labels: chartLabels(cluster.platformName, 'velero'),
        serviceAccount: { server: { create: false, name: SERVICE_ACCOUNT } },
        credentials: { useSecret: false },
        initContainers: [{
          name: 'velero-plugin-for-aws',
          image: `${plugin.repository}:${plugin.tag}`,
          imagePullPolicy: 'IfNotPresent',
          volumeMounts: [{ mountPath: '/target', name: 'plugins' }],
          securityContext: hardened,
          // It only copies the plugin binary into the shared volume.
          resources: controllerResources('10m', '32Mi', '128Mi'),
        }],
        // The image's user is named, not numeric: give a numeric one so runAsNonRoot can be verified.
        podSecurityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } },
        // With readOnlyRootFilesystem the chart mounts its own emptyDir at /tmp (plugins talk over unix
        // sockets there): a second /tmp mount would make the Deployment invalid (volumeMounts are keyed
        // by mountPath), so none is added here.
        containerSecurityContext: hardened,
        resources: controllerResources('100m', '256Mi', '1Gi'),
        // The pre-upgrade hook Job that applies Velero's CRDs.
        upgradeJobResources: controllerResources('50m', '64Mi', '256Mi'),
        snapshotsEnabled: false,
        deployNodeAgent: false,
        configuration: {
          backupStorageLocation: [{
            name: STORAGE_LOCATION,
            provider: 'aws',
            bucket: this.bucket.bucketName,
            default: true,
            config: { region },
          }],
          defaultSnapshotMoveData: false,
          // The Schedule snapshots volumes through CSI (the EBS VolumeSnapshotClass); without the
          // feature flag Velero skips CSI volumes and backups carry no volume data.
          features: 'EnableCSI',
          logFormat: 'json',
        },
      }, options.values),
      needs: [namespaceCapability(NAMESPACE), FxCapability.POD_IDENTITY, FxCapability.SNAPSHOT_CRDS],
      provides: [FxCapability.VELERO_CRDS],
    });
    this.chart.node.addDependency(this.serviceAccount);

    this.scheduleObject = KubeSchedule.manifest({
      metadata: { name: 'fx-daily', namespace: NAMESPACE, labels: platformLabels(cluster.platformName, 'velero') },
      spec: {
        schedule: VELERO_SCHEDULE,
        useOwnerReferencesInBackup: false,
        template: {
          includedNamespaces: ['*'],
          snapshotVolumes: true,
          storageLocation: STORAGE_LOCATION,
          ttl: `${retentionDays * 24}h0m0s`,
        },
      },
    });
    this.schedule = cluster.addManifest('VeleroSchedule', this.scheduleObject);
    cluster.installAfter(this.schedule, FxCapability.VELERO_CRDS, FxCapability.STORAGE_CLASSES);
  }
}

