import { App, Stack } from 'aws-cdk-lib';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { FxCluster, FxClusterProps, FxProfile, FxTls } from '../../src';

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
