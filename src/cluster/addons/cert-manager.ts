import { Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { addonNamespace, addonReplicas, controllerResources, grantStatements, namespaceCapability } from './common';
import { FxCapability } from '../../core/install-order';
import { chartLabels, platformLabels } from '../../core/tags';
import { WIRING } from '../../core/wiring';
import { KubeObject } from '../../k8s/api.generated';
import { KubeCertificate, KubeClusterIssuer } from '../../k8s/crds.generated';
import { FxAddonOptions } from '../addon';
import { mergeValues } from '../addon-values';
import type { IFxCluster } from '../contract';
import { FxTls } from '../tls';

const NAMESPACE = 'cert-manager';
const SERVICE_ACCOUNT = 'cert-manager';
/** The ClusterIssuer of the Let's Encrypt path. */
export const CLUSTER_ISSUER = 'fx-letsencrypt';
const ACME_SERVERS = {
  production: 'https://acme-v02.api.letsencrypt.org/directory',
  staging: 'https://acme-staging-v02.api.letsencrypt.org/directory',
};

/**
 * cert-manager for the Let's Encrypt path: a ClusterIssuer solving DNS-01 challenges in the
 * platform's hosted zone with the controller's Pod Identity credentials, and the wildcard
 * Certificate (`<domain>`, `*.<domain>`) in the Traefik namespace that Traefik's default TLSStore
 * serves.
 *
 * Order: namespace, service account, chart (`wait`, CRDs and webhook), then the issuer and the
 * certificate, which also need the Traefik namespace.
 *
 * @internal
 */
export class CertManagerAddon {
  public readonly namespace: eks.KubernetesManifest;
  public readonly serviceAccount: eks.ServiceAccount;
  public readonly chart: eks.HelmChart;
  public readonly issuerObjects: KubeObject[];
  public readonly issuerManifest: eks.KubernetesManifest;

  constructor(cluster: IFxCluster, tls: FxTls, options: FxAddonOptions = {}) {
    const replicas = addonReplicas(cluster);
    const stack = Stack.of(cluster);
    const zone = tls.hostedZone;
    this.namespace = addonNamespace(cluster, 'CertManagerNamespace', NAMESPACE, 'cert-manager', 'restricted');
    this.serviceAccount = cluster.addPodIdentityServiceAccount('CertManagerServiceAccount', {
      name: SERVICE_ACCOUNT, namespace: NAMESPACE, needs: [namespaceCapability(NAMESPACE)],
    });
    // cert-manager's documented Route 53 policy, narrowed to TXT records of ACME challenges in one zone.
    grantStatements(this.serviceAccount, [new iam.PolicyStatement({
      sid: 'ChallengeRecords',
      actions: ['route53:ChangeResourceRecordSets'],
      resources: [zone.hostedZoneArn],
      conditions: {
        'ForAllValues:StringEquals': { 'route53:ChangeResourceRecordSetsRecordTypes': ['TXT'] },
        'ForAllValues:StringLike': {
          'route53:ChangeResourceRecordSetsNormalizedRecordNames': [`_acme-challenge.${tls.domainName}`, `_acme-challenge.*.${tls.domainName}`],
        },
      },
    }),
    new iam.PolicyStatement({
      sid: 'ReadZone',
      actions: ['route53:ListResourceRecordSets'],
      resources: [zone.hostedZoneArn],
    }),
    new iam.PolicyStatement({
      // Change ids are random; GetChange has no other resource type.
      sid: 'WaitForChanges',
      actions: ['route53:GetChange'],
      resources: [stack.formatArn({ service: 'route53', region: '', account: '', resource: 'change', resourceName: '*' })],
    })], 'cert-manager Route 53 DNS-01 policy: route53:GetChange has only change/* as resource (change ids are random); '
      + 'record changes are limited to the platform zone, TXT records and _acme-challenge names.');

    this.chart = cluster.addHelmChart('CertManager', {
      chart: cluster.versions.charts.certManager,
      version: options.version,
      namespace: NAMESPACE,
      release: 'cert-manager',
      createNamespace: false,
      wait: true,
      values: mergeValues({
        crds: { enabled: true, keep: true },
        replicaCount: replicas,
        podDisruptionBudget: { enabled: replicas > 1, minAvailable: 1 },
        serviceAccount: { create: false, name: SERVICE_ACCOUNT },
        resources: controllerResources('50m', '128Mi', '256Mi'),
        global: {
          commonLabels: chartLabels(cluster.platformName, 'cert-manager'),
          leaderElection: { namespace: NAMESPACE },
        },
        webhook: {
          replicaCount: replicas,
          podDisruptionBudget: { enabled: replicas > 1, minAvailable: 1 },
          resources: controllerResources('25m', '64Mi', '128Mi'),
        },
        cainjector: { resources: controllerResources('25m', '128Mi', '256Mi') },
        // The post-install Job that waits until the webhook answers.
        startupapicheck: { resources: controllerResources('10m', '32Mi', '64Mi') },
        // Check propagation against public resolvers: the VPC resolver may serve a private zone of the same name.
        dns01RecursiveNameservers: '1.1.1.1:53,8.8.8.8:53',
        dns01RecursiveNameserversOnly: true,
      }, options.values),
      needs: [namespaceCapability(NAMESPACE), FxCapability.POD_IDENTITY],
      provides: [FxCapability.CERT_MANAGER_CRDS, FxCapability.CERT_MANAGER_WEBHOOK],
    });
    this.chart.node.addDependency(this.serviceAccount);

    const labels = platformLabels(cluster.platformName, 'cert-manager');
    this.issuerObjects = [
      KubeClusterIssuer.manifest({
        metadata: { name: CLUSTER_ISSUER, labels },
        spec: {
          acme: {
            server: tls.staging ? ACME_SERVERS.staging : ACME_SERVERS.production,
            email: tls.email,
            privateKeySecretRef: { name: `${CLUSTER_ISSUER}-account-key` },
            solvers: [{
              selector: { dnsZones: [tls.domainName] },
              // No credentials: the controller's ambient (Pod Identity) credentials are used.
              dns01: { route53: { region: stack.region, hostedZoneID: zone.hostedZoneId } },
            }],
          },
        },
      }),
      KubeCertificate.manifest({
        metadata: { name: WIRING.traefik.certificateSecret, namespace: WIRING.traefik.namespace, labels },
        spec: {
          secretName: WIRING.traefik.certificateSecret,
          dnsNames: [tls.domainName, `*.${tls.domainName}`],
          issuerRef: { kind: 'ClusterIssuer', name: CLUSTER_ISSUER, group: 'cert-manager.io' },
          privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
          renewBefore: '720h',
        },
      }),
    ];
    this.issuerManifest = cluster.addManifest('LetsEncrypt', ...this.issuerObjects);
    cluster.installAfter(this.issuerManifest, FxCapability.CERT_MANAGER_CRDS, FxCapability.CERT_MANAGER_WEBHOOK,
      namespaceCapability(WIRING.traefik.namespace));
  }
}
