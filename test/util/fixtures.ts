import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { FxCluster, FxClusterProps, FxObservability, FxProfile, FxTls } from '../../src';

/** The fixed account and region of every test stack (nothing is looked up). */
export const ENV = { account: '123456789012', region: 'us-east-1' };

/**
 * An App for unit tests: pinned AZs, no built-in CloudFormation validation (costly per synth), and
 * assets referenced where they are instead of copied into each assembly (the kubectl layer alone is
 * 37 MB, and every cluster synthesis would copy it; `cdk synth` and conformance still stage them).
 */
export function testApp(outdir?: string): App {
  return new App({
    outdir,
    builtinCloudFormationValidation: false,
    context: {
      [`availability-zones:account=${ENV.account}:region=${ENV.region}`]: ['us-east-1a', 'us-east-1b', 'us-east-1c'],
      [cxapi.DISABLE_ASSET_STAGING_CONTEXT]: true,
    },
  });
}

/** The platform's hosted zone, imported without a lookup. */
export function testZone(stack: Stack): route53.IHostedZone {
  return route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0EXAMPLE', zoneName: 'fx.example.com' });
}

/** A cluster on the ACM TLS path (the default add-ons installed), in `stack`. */
export function clusterWithAddons(stack: Stack, profile: FxProfile, props: Partial<FxClusterProps> = {}): FxCluster {
  return new FxCluster(stack, 'Cluster', {
    profile,
    platformName: 'fx',
    tls: FxTls.acm({ hostedZone: testZone(stack), domainName: 'fx.example.com' }),
    ...props,
  });
}

/** The kubectl handler of an EKS cluster created elsewhere (imported-cluster tests). */
export const IMPORTED_KUBECTL = {
  serviceToken: 'arn:aws:lambda:us-east-1:123456789012:function:kubectl-provider',
  handlerRole: 'arn:aws:iam::123456789012:role/kubectl-handler',
};

/**
 * What `FxCluster.fromClusterAttributes` needs besides names: the VPC of a cluster created elsewhere
 * (two private subnets in 10.1.0.0/16) and its kubectl provider, imported without lookups.
 */
export function importedClusterNetwork(stack: Stack): { vpc: ec2.IVpc; kubectlProvider: eks.IKubectlProvider } {
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    vpcCidrBlock: '10.1.0.0/16',
    privateSubnetIds: ['subnet-0a', 'subnet-0b'],
    privateSubnetIpv4CidrBlocks: ['10.1.0.0/20', '10.1.16.0/20'],
  });
  const kubectlProvider = eks.KubectlProvider.fromKubectlProviderAttributes(stack, 'Kubectl', {
    serviceToken: IMPORTED_KUBECTL.serviceToken, role: iam.Role.fromRoleArn(stack, 'KubectlRole', IMPORTED_KUBECTL.handlerRole),
  });
  return { vpc, kubectlProvider };
}

/** One synthesized observability setup: its app, stack, cluster, FxObservability and template. */
export interface ObservabilityScenario {
  readonly app: App;
  readonly stack: Stack;
  readonly cluster: FxCluster;
  readonly observability: FxObservability;
  readonly template: Template;
}

/** The message of what `run` throws, or `(no error)`: a table of bad inputs compares it with the exact message. */
export function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (e) {
    return (e as Error).message;
  }
  return '(no error)';
}
