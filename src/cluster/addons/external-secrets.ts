import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { addonNamespace, controllerResources, grantStatements, namespaceCapability } from './common';
import { declareAwsFlows } from '../../core/flows';
import { FxCapability } from '../../core/install-order';
import { chartLabels, platformLabels } from '../../core/tags';
import { WIRING } from '../../core/wiring';
import type { FxCluster } from '../cluster';

const SERVICE_ACCOUNT = 'external-secrets';

/**
 * External Secrets Operator with a Pod Identity role that reads only the platform's secrets
 * (`<platformName>/*` and whatever `grantRead` adds), and the `fx-secrets-manager`
 * ClusterSecretStore for Secrets Manager in the stack's region.
 *
 * Order: namespace, service account, chart (`wait`, provides the CRDs and the webhook), then the
 * ClusterSecretStore, which needs both.
 *
 * @internal
 */
export class ExternalSecretsAddon {
  public readonly namespace: eks.KubernetesManifest;
  public readonly serviceAccount: eks.ServiceAccount;
  public readonly chart: eks.HelmChart;
  public readonly clusterSecretStore: eks.KubernetesManifest;
  /** The ClusterSecretStore object, for tests and schema validation. */
  public readonly clusterSecretStoreObject: Record<string, any>;

  private readonly granted = new Set<secretsmanager.ISecret>();

  constructor(cluster: FxCluster) {
    const ns = WIRING.externalSecrets.namespace;
    const stack = Stack.of(cluster);
    const production = cluster.profile.isProduction;
    this.namespace = addonNamespace(cluster, 'ExternalSecretsNamespace', ns, 'external-secrets', 'restricted');
    this.serviceAccount = cluster.addPodIdentityServiceAccount('ExternalSecretsServiceAccount', {
      name: SERVICE_ACCOUNT, namespace: ns, needs: [namespaceCapability(ns)],
    });

    // Platform secrets by name prefix; the '-??????' suffix Secrets Manager appends is covered by '*'.
    const platformSecrets = stack.formatArn({
      service: 'secretsmanager', resource: 'secret', resourceName: `${cluster.platformName}/*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    grantStatements(this.serviceAccount, [new iam.PolicyStatement({
      sid: 'ReadPlatformSecrets',
      actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      resources: [platformSecrets],
    }),
    // Customer-managed keys of those secrets: decrypt only through Secrets Manager, only for them.
    new iam.PolicyStatement({
      sid: 'DecryptPlatformSecrets',
      actions: ['kms:Decrypt'],
      resources: [stack.formatArn({ service: 'kms', resource: 'key', resourceName: '*' })],
      conditions: {
        StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.${stack.urlSuffix}` },
        StringLike: { 'kms:EncryptionContext:SecretARN': platformSecrets },
      },
    })], 'External Secrets Operator reads the platform\'s own secrets by name prefix (<platformName>/*; secret ARNs end in a '
      + 'random suffix) and decrypts only through Secrets Manager for those secret ARNs (kms:ViaService and '
      + 'kms:EncryptionContext:SecretARN conditions); other secrets are granted one by one.');

    this.chart = cluster.addHelmChart('ExternalSecrets', {
      chart: cluster.versions.charts.externalSecrets,
      namespace: ns,
      release: 'external-secrets',
      createNamespace: false,
      wait: true,
      values: {
        installCRDs: true,
        replicaCount: production ? 2 : 1,
        commonLabels: chartLabels(cluster.platformName, 'external-secrets'),
        serviceAccount: { create: false, name: SERVICE_ACCOUNT },
        podDisruptionBudget: { enabled: production, minAvailable: 1 },
        resources: controllerResources('50m', '128Mi', '256Mi'),
        webhook: {
          replicaCount: production ? 2 : 1,
          podDisruptionBudget: { enabled: production, minAvailable: 1 },
          resources: controllerResources('25m', '64Mi', '128Mi'),
        },
        certController: { resources: controllerResources('25m', '64Mi', '256Mi') },
      },
      needs: [namespaceCapability(ns), FxCapability.POD_IDENTITY],
      provides: [FxCapability.EXTERNAL_SECRETS_CRDS, FxCapability.EXTERNAL_SECRETS_WEBHOOK],
    });
    this.chart.node.addDependency(this.serviceAccount);
    declareAwsFlows(this.chart, { namespace: ns, serviceAccount: SERVICE_ACCOUNT }, 'External Secrets (Secrets Manager)');

    this.clusterSecretStoreObject = {
      apiVersion: WIRING.externalSecrets.apiVersion,
      kind: 'ClusterSecretStore',
      metadata: {
        name: WIRING.externalSecrets.clusterSecretStore,
        labels: platformLabels(cluster.platformName, 'external-secrets'),
      },
      // No auth block: the controller's own Pod Identity credentials are used.
      spec: { provider: { aws: { service: 'SecretsManager', region: stack.region } } },
    };
    this.clusterSecretStore = cluster.addManifest('ClusterSecretStore', this.clusterSecretStoreObject);
    cluster.installAfter(this.clusterSecretStore, FxCapability.EXTERNAL_SECRETS_CRDS, FxCapability.EXTERNAL_SECRETS_WEBHOOK);
  }

  /** Lets the operator read one secret (and decrypt it with its customer-managed key, if any); once per secret. */
  public grantRead(secret: secretsmanager.ISecret): void {
    // Many services share one secret (the database credentials): grant each secret once.
    if (this.granted.has(secret)) return;
    this.granted.add(secret);
    secret.grantRead(this.serviceAccount);
  }
}
