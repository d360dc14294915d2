import { App, Stack } from 'aws-cdk-lib';
import { ENV, testZone } from './fixtures';
import {
  FxCluster, FxCompliance, FxConfigRecording, FxDatabase, FxImage, FxMicroservice, FxNodeAutoscaler, FxObservability, FxProfile, FxTls,
} from '../../src';

/** Resource types whose logical ID must never change: a Helm release or manifest would be reinstalled. */
export const KUBERNETES_TYPES = ['Custom::AWSCDK-EKS-HelmChart', 'Custom::AWSCDK-EKS-KubernetesResource'];
const KEPT = ['Retain', 'Snapshot', 'RetainExceptOnCreate'];

/**
 * Everything in one stack, as the examples deploy it: a production cluster on the ACM path with
 * Karpenter, database, observability (with ELK), compliance and two services; and a development
 * cluster on the Let's Encrypt path (cert-manager, cluster-autoscaler) with one service.
 */
export function oneStackLayout(app: App): Stack[] {
  const prod = new Stack(app, 'Platform', { env: ENV });
  const cluster = new FxCluster(prod, 'Cluster', {
    profile: FxProfile.PRODUCTION,
    platformName: 'fx',
    tls: FxTls.acm({ hostedZone: testZone(prod), domainName: 'fx.example.com' }),
    endpointAllowlist: ['203.0.113.0/24'],
    nodeAutoscaler: FxNodeAutoscaler.karpenter(),
  });
  const database = new FxDatabase(prod, 'Database', { cluster, databaseName: 'orders' });
  const observability = new FxObservability(prod, 'Observability', { cluster, alarmEmails: ['ops@example.com'] });
  new FxCompliance(prod, 'Compliance', { cluster, database, topic: observability.alarmTopic, recording: FxConfigRecording.PLATFORM_RESOURCES });
  new FxMicroservice(prod, 'OrdersApi', {
    cluster,
    database,
    observability,
    serviceName: 'orders-api',
    image: FxImage.fromRegistry('ghcr.io/acme/orders:1.0.0'),
    port: 8000,
    route: { host: 'api.fx.example.com', pathPrefix: '/orders' },
  });
  new FxMicroservice(prod, 'InventoryApi', {
    cluster, observability, serviceName: 'inventory-api', image: FxImage.fromRegistry('ghcr.io/acme/inventory:1.0.0'), port: 8080,
  });

  const dev = new Stack(app, 'Dev', { env: ENV });
  const devCluster = new FxCluster(dev, 'Cluster', {
    profile: FxProfile.DEVELOPMENT,
    platformName: 'fxdev',
    tls: FxTls.letsEncrypt({ hostedZone: testZone(dev), domainName: 'fx.example.com', email: 'ops@example.com' }),
  });
  new FxMicroservice(dev, 'Web', {
    cluster: devCluster, serviceName: 'web', image: FxImage.fromRegistry('ghcr.io/acme/web:1.0.0'), port: 8080, route: { host: 'web.fx.example.com' },
  });
  return [prod, dev];
}

/** `<stack>/<logical id> <type>` of every Helm release, manifest and retained or snapshotted resource, sorted. */
export function keptLogicalIds(stack: Stack, template: { Resources?: Record<string, any> }): string[] {
  return Object.entries(template.Resources ?? {})
    .filter(([, r]) => KUBERNETES_TYPES.includes(r.Type) || KEPT.includes(r.DeletionPolicy) || KEPT.includes(r.UpdateReplacePolicy))
    .map(([id, r]) => `${stack.stackName}/${id} ${r.Type}`)
    .sort();
}
