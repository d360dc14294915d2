import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ELK } from './config';
import type { IFxCluster } from '../../cluster';
import { clusterOidcProvider, trustServiceAccount } from '../../cluster/addons/external-secrets';

/**
 * The KMS key and S3 bucket of the Elasticsearch snapshot repository, created directly in `scope`
 * (construct ids `SnapshotKey`, `SnapshotBucket`).
 *
 * @internal
 */
export function createSnapshotBucket(scope: Construct, cluster: IFxCluster): { key: kms.Key; bucket: s3.Bucket } {
  const key = new kms.Key(scope, 'SnapshotKey', {
    description: `Fx platform ${cluster.platformName}: encrypts Elasticsearch snapshots`,
    enableKeyRotation: true,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  const bucket = new s3.Bucket(scope, 'SnapshotBucket', {
    encryption: s3.BucketEncryption.KMS,
    encryptionKey: key,
    bucketKeyEnabled: true,
    versioned: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    removalPolicy: RemovalPolicy.RETAIN,
    // Snapshot lifecycle deletes expired snapshots; old object versions only guard against accidents.
    lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(30), abortIncompleteMultipartUploadAfter: Duration.days(7) }],
  });
  Validations.of(bucket).acknowledge({
    id: 'AwsSolutions-S1',
    reason: 'Elasticsearch snapshot bucket: only the Elasticsearch IRSA role reads or writes it; object-level access is audited through '
      + 'CloudTrail data events rather than a second logging bucket.',
  });
  return { key, bucket };
}

/**
 * The Elasticsearch pods' AWS identity for the S3 snapshot repository: IRSA, not Pod Identity.
 * Elasticsearch 9.2's repository-s3 may only read a web-identity token under its config directory
 * and cannot read the Pod Identity token (Pod Identity arrives in Elasticsearch 9.6). The trust
 * anchor is the cluster's one OIDC provider (`FxCluster.openIdConnectProvider`, shared with the
 * namespaces' SecretStores). Created directly in `scope` (construct id `ElasticsearchSnapshotRole`).
 *
 * @internal
 */
export function createSnapshotIdentity(scope: Construct, fxCluster: IFxCluster, key: kms.Key, bucket: s3.Bucket): iam.Role {
  // Trusted only by the Elasticsearch service account's tokens (exact sub and aud), rendered without a CfnJson.
  const role = new iam.Role(scope, 'ElasticsearchSnapshotRole', {
    assumedBy: new iam.FederatedPrincipal(clusterOidcProvider(fxCluster).oidcProviderArn, {}, 'sts:AssumeRoleWithWebIdentity'),
    description: 'Fx platform: Elasticsearch S3 snapshot repository (IRSA)',
  });
  trustServiceAccount(role, fxCluster, ELK.namespace, ELK.esServiceAccount, true);
  role.addToPolicy(new iam.PolicyStatement({
    sid: 'SnapshotBucket',
    actions: ['s3:ListBucket', 's3:GetBucketLocation', 's3:ListBucketMultipartUploads', 's3:ListBucketVersions'],
    resources: [bucket.bucketArn],
  }));
  role.addToPolicy(new iam.PolicyStatement({
    sid: 'SnapshotObjects',
    actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
    resources: [bucket.arnForObjects('*')],
  }));
  key.grant(role, 'kms:Decrypt', 'kms:GenerateDataKey');
  const bucketId = Stack.of(scope).getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
  Validations.of(role.node.findChild('DefaultPolicy')).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/*]`,
    reason: 'Elasticsearch S3 snapshot repository: object actions on the keys of its own snapshot bucket only (Elasticsearch names the blobs).',
  });
  return role;
}
