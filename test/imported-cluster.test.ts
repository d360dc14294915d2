import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { FxCapability, FxCluster, FxClusterAttributes, FxCompliance, FxImage, FxMetricsServerAddon, FxMicroservice, FxObservability } from '../src';
import { ENV, IMPORTED_KUBECTL, importedClusterNetwork, testApp } from './util/fixtures';

const SERVICE_TOKEN = IMPORTED_KUBECTL.serviceToken;

function importedStack(attrs: Partial<FxClusterAttributes> | ((stack: Stack) => Partial<FxClusterAttributes>) = {}) {
  const stack = new Stack(testApp(), 'Services', { env: ENV });
  const { vpc, kubectlProvider } = importedClusterNetwork(stack);
  const cluster = FxCluster.fromClusterAttributes(stack, 'Cluster', {
    clusterName: 'shared-eks',
    vpc,
    clusterSecurityGroupId: 'sg-0123456789abcdef0',
    kubectlProvider,
    platformName: 'fx',
    installedCapabilities: [FxCapability.NODES, FxCapability.POD_IDENTITY],
    addons: [new FxMetricsServerAddon({ values: { replicas: 3 } })],
    ...(typeof attrs === 'function' ? attrs(stack) : attrs),
  });
  return { stack, cluster };
}

describe('imported cluster', () => {
  test('carries an FxMicroservice and an Fx add-on, both through the imported kubectl provider', () => {
    const { stack, cluster } = importedStack();
    new FxMicroservice(stack, 'Orders', { cluster, image: FxImage.fromRegistry('ghcr.io/acme/orders:1.0.0'), port: 8080 });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::EKS::Cluster', 0);
    t.hasResourceProperties('Custom::AWSCDK-EKS-HelmChart', {
      ServiceToken: SERVICE_TOKEN, ClusterName: 'shared-eks', Chart: 'metrics-server', Values: Match.stringLikeRegexp('"replicas":3'),
    });
    const manifests = Object.values(t.findResources('Custom::AWSCDK-EKS-KubernetesResource'));
    expect(manifests.length).toBeGreaterThan(0);
    for (const m of manifests) expect(m.Properties).toMatchObject({ ServiceToken: SERVICE_TOKEN, ClusterName: 'shared-eks' });
    t.hasResourceProperties('AWS::EKS::PodIdentityAssociation', { ClusterName: 'shared-eks' });
    expect(cluster.clusterName).toBe('shared-eks');
    expect(cluster.hasCapability(FxCapability.METRICS_API)).toBe(true);
  });

  test('creates a kubectl provider from kubectlProviderOptions', () => {
    const stack = new Stack(testApp(), 'S', { env: ENV });
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-1', availabilityZones: ['us-east-1a'], privateSubnetIds: ['subnet-1'] });
    const layer = { layerVersionArn: 'arn:aws:lambda:us-east-1:123456789012:layer:kubectl:1' } as any;
    const cluster = FxCluster.fromClusterAttributes(stack, 'Cluster', {
      clusterName: 'other',
      vpc,
      clusterSecurityGroupId: 'sg-1',
      kubectlProviderOptions: { kubectlLayer: layer },
      platformName: 'fx',
      addons: [new FxMetricsServerAddon()],
    });
    expect(cluster.cluster.kubectlProvider).toBeInstanceOf(eks.KubectlProvider);
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', { Description: 'onEvent handler for EKS kubectl resource provider' });
  });

  test('fails when no kubectl provider is given, or both', () => {
    expect(() => importedStack({ kubectlProvider: undefined }))
      .toThrow("FxCluster.fromClusterAttributes at Services/Cluster: invalid kubectlProvider 'neither kubectlProvider nor kubectlProviderOptions'; allowed: exactly one of kubectlProvider (an existing provider) and kubectlProviderOptions (a new one in this stack)");
    expect(() => importedStack({ kubectlProviderOptions: { kubectlLayer: {} as any } }))
      .toThrow(/invalid kubectlProvider 'both kubectlProvider and kubectlProviderOptions'/);
  });

  test('fails when a required attribute is missing', () => {
    expect(() => importedStack({ clusterSecurityGroupId: '' }))
      .toThrow("FxCluster.fromClusterAttributes at Services/Cluster: invalid clusterSecurityGroupId ''; allowed: the imported cluster's clusterSecurityGroupId (required)");
    expect(() => importedStack({ clusterName: undefined as any })).toThrow(/invalid clusterName \(undefined\); allowed: the imported cluster's clusterName \(required\)/);
  });

  test('fails when something needs a capability the imported cluster does not have', () => {
    const { stack, cluster } = importedStack({ installedCapabilities: [FxCapability.NODES] });
    new FxMicroservice(stack, 'Orders', { cluster, image: FxImage.fromRegistry('ghcr.io/acme/orders:1.0.0'), port: 8080 });
    expect(() => testSynth(stack)).toThrow(/needs 'pod-identity' but nothing on this cluster provides it/);
  });

  test('fails to grant External Secrets access without the add-on or a role', () => {
    const { stack, cluster } = importedStack();
    const secret = { node: { path: 'Services/Secret' } } as any;
    expect(() => cluster.grantExternalSecretRead(secret)).toThrow(/invalid grantExternalSecretRead 'Services\/Secret'; allowed: a cluster Services\/Cluster with the 'external-secrets' add-on installed/);
    void stack;
  });

  test('carries FxObservability and FxCompliance, which read no CfnCluster from it', () => {
    const oidc = 'arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE';
    const { stack, cluster } = importedStack((s) => ({
      openIdConnectProvider: iam.OidcProviderNative.fromOidcProviderArn(s, 'Oidc', oidc),
      installedCapabilities: [FxCapability.NODES, FxCapability.POD_IDENTITY, FxCapability.STORAGE_CLASSES,
        FxCapability.EXTERNAL_SECRETS_CRDS, FxCapability.EXTERNAL_SECRETS_WEBHOOK],
    }));
    expect(cluster.cluster.node.defaultChild).toBeUndefined();
    const observability = new FxObservability(stack, 'Observability', { cluster, alarmEmails: ['ops@example.com'] });
    new FxCompliance(stack, 'Compliance', { cluster, topic: observability.alarmTopic });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('Custom::AWSCDK-EKS-HelmChart', { ServiceToken: SERVICE_TOKEN, ClusterName: 'shared-eks', Chart: 'kube-prometheus-stack' });
    t.hasResourceProperties('AWS::EKS::Addon', { ClusterName: 'shared-eks', AddonName: 'amazon-cloudwatch-observability' });
    // Its endpoint is not known to be private: the endpoint rule is not selected.
    expect(Object.keys(t.findResources('AWS::Config::ConfigRule')).length).toBeGreaterThan(0);
    t.resourcePropertiesCountIs('AWS::Config::ConfigRule', { Source: { Owner: 'AWS', SourceIdentifier: 'EKS_ENDPOINT_NO_PUBLIC_ACCESS' } }, 0);
  });
});

function testSynth(stack: Stack): void {
  (stack.node.root as any).synth();
}
