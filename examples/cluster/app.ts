// FxCluster alone, production profile.
import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { FxCluster, FxProfile } from '../../src';
import { EXAMPLE_ENV } from '../common';

export function createClusterExample(app: App): Stack {
  const stack = new Stack(app, 'FxClusterExample', { env: EXAMPLE_ENV });
  const admin = iam.Role.fromRoleName(stack, 'PlatformAdmin', 'platform-admin');

  new FxCluster(stack, 'Cluster', {
    profile: FxProfile.PRODUCTION,
    platformName: 'fx-example',
    admins: [admin],
    endpointAllowlist: ['203.0.113.0/24'],
  });
  return stack;
}
