// FxCluster alone, production profile, ACM TLS path for fx.example.com.
import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { FxCluster, FxProfile, FxTls } from '../../src';
import { EXAMPLE_ENV } from '../common';

export function createClusterExample(app: App): Stack {
  const stack = new Stack(app, 'FxClusterExample', { env: EXAMPLE_ENV });
  const admin = iam.Role.fromRoleName(stack, 'PlatformAdmin', 'platform-admin');
  // An existing public zone, imported without a lookup so the example synthesizes offline.
  const zone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', {
    hostedZoneId: 'Z0123456789EXAMPLE',
    zoneName: 'example.com',
  });

  new FxCluster(stack, 'Cluster', {
    profile: FxProfile.PRODUCTION,
    platformName: 'fx-example',
    admins: [admin],
    endpointAllowlist: ['203.0.113.0/24'],
    tls: FxTls.acm({ hostedZone: zone, domainName: 'fx.example.com' }),
  });
  return stack;
}
