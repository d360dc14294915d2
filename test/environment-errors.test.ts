// Failures aws-cdk-lib would report late and in its own words, said first by Fx: a construct in
// another account or region than the cluster it uses, and a second account-wide singleton (AWS
// Config recorder, GitHub OIDC provider) in the same account and region.
import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import {
  FxCluster, FxCompliance, FxConfigRecording, FxDatabase, FxGithubDeployRole, FxImage, FxMicroservice, FxObservability, FxProfile,
} from '../src';
import { ENV, testApp } from './util/fixtures';

const OTHER_REGION = { account: ENV.account, region: 'eu-west-1' };
const OTHER_ACCOUNT = { account: '210987654321', region: ENV.region };

let app: App;
let cluster: FxCluster;

beforeAll(() => {
  app = testApp();
  app.node.setContext(`availability-zones:account=${OTHER_REGION.account}:region=${OTHER_REGION.region}`, ['eu-west-1a', 'eu-west-1b', 'eu-west-1c']);
  const platform = new Stack(app, 'Platform', { env: ENV });
  cluster = new FxCluster(platform, 'Cluster', { profile: FxProfile.DEVELOPMENT, platformName: 'fx' });
});

describe('constructs in another account or region than their cluster', () => {
  test('FxMicroservice in another region', () => {
    const stack = new Stack(app, 'ServicesEu', { env: OTHER_REGION });
    expect(() => new FxMicroservice(stack, 'Orders', { cluster, image: FxImage.fromRegistry('ghcr.io/acme/orders:1.0.0') })).toThrow(
      "FxMicroservice at ServicesEu/Orders: invalid cluster 'Platform/Cluster'; allowed: a construct in this stack's account and region "
      + '123456789012/eu-west-1 (Platform/Cluster is in 123456789012/us-east-1; CloudFormation cannot reference another account or region: '
      + 'deploy this construct beside it)');
  });

  test('FxDatabase in another account', () => {
    const stack = new Stack(app, 'DataOther', { env: OTHER_ACCOUNT });
    expect(() => new FxDatabase(stack, 'Database', { cluster, databaseName: 'orders' })).toThrow(
      /^FxDatabase at DataOther\/Database: invalid cluster 'Platform\/Cluster'; allowed: a construct in this stack's account and region 210987654321\/us-east-1 \(Platform\/Cluster is in 123456789012\/us-east-1;/);
  });

  test('FxObservability and FxCompliance in another region', () => {
    const stack = new Stack(app, 'OpsEu', { env: OTHER_REGION });
    expect(() => new FxObservability(stack, 'Observability', { cluster })).toThrow(
      /^FxObservability at OpsEu\/Observability: invalid cluster 'Platform\/Cluster'; allowed: a construct in this stack's account and region 123456789012\/eu-west-1/);
    expect(() => new FxCompliance(stack, 'Compliance', { cluster })).toThrow(
      /^FxCompliance at OpsEu\/Compliance: invalid cluster 'Platform\/Cluster'; allowed: a construct in this stack's account and region 123456789012\/eu-west-1/);
  });

  test('an environment-agnostic stack on a pinned cluster fails in the library\'s words; the same environment passes', () => {
    // aws-cdk-lib refuses a reference between an environment-agnostic and a pinned stack only when it resolves it.
    const agnostic = new Stack(app, 'Agnostic');
    expect(() => new FxMicroservice(agnostic, 'Orders', { cluster, image: FxImage.fromRegistry('ghcr.io/acme/orders:1.0.0') })).toThrow(
      "FxMicroservice at Agnostic/Orders: invalid cluster 'Platform/Cluster'; allowed: a construct in a stack of the same environment: this service's stack Agnostic "
      + 'is in an environment-agnostic stack, Platform/Cluster in 123456789012/us-east-1 (give stack Agnostic an env with the account and region, e.g. env: { account, region })');
    const same = new Stack(app, 'ServicesUs', { env: ENV });
    expect(() => new FxMicroservice(same, 'Billing', { cluster, image: FxImage.fromRegistry('ghcr.io/acme/billing:1.0.0') })).not.toThrow();
  });
});

describe('one per account and region', () => {
  test('a second FxCompliance creating the AWS Config recorder in the same account and region', () => {
    const a = new Stack(app, 'ComplianceA', { env: ENV });
    new FxCompliance(a, 'Compliance', { cluster, recording: FxConfigRecording.PLATFORM_RESOURCES });
    const b = new Stack(app, 'ComplianceB', { env: ENV });
    expect(() => new FxCompliance(b, 'Compliance', { cluster, recording: FxConfigRecording.ALL_SUPPORTED })).toThrow(
      "FxCompliance at ComplianceB/Compliance: invalid recording 'FxConfigRecording (all)'; allowed: one AWS Config recorder per account and "
      + 'region: ComplianceA/Compliance already creates it in 123456789012/us-east-1; give the others FxConfigRecording.EXISTING (rules and notifications only)');
    // The existing recorder may be used by any number of them.
    expect(() => new FxCompliance(b, 'Rules', { cluster, recording: FxConfigRecording.EXISTING })).not.toThrow();
  });

  test('a second GitHub OIDC provider in the same account, in any region (IAM is global); an agnostic stack is not judged', () => {
    const other = new App();
    new FxGithubDeployRole(new Stack(other, 'DeployA', { env: ENV }), 'Github', { repository: 'o/a', createOidcProvider: true });
    expect(() => new FxGithubDeployRole(new Stack(other, 'DeployB', { env: ENV }), 'Github', { repository: 'o/b', createOidcProvider: true })).toThrow(
      'FxGithubDeployRole at DeployB/Github: invalid createOidcProvider true; allowed: one GitHub OIDC provider per account (IAM is global): '
      + 'DeployA/Github already creates it in 123456789012; leave createOidcProvider unset on the others (they use the provider at the well-known ARN)');
    expect(() => new FxGithubDeployRole(new Stack(other, 'DeployC', { env: ENV }), 'Github', { repository: 'o/c' })).not.toThrow();
    expect(() => new FxGithubDeployRole(new Stack(other, 'DeployEu', { env: OTHER_REGION }), 'Github', { repository: 'o/d', createOidcProvider: true }))
      .toThrow(/^FxGithubDeployRole at DeployEu\/Github: invalid createOidcProvider true; allowed: one GitHub OIDC provider per account \(IAM is global\): DeployA\/Github/);
    expect(() => new FxGithubDeployRole(new Stack(other, 'DeployOther', { env: OTHER_ACCOUNT }), 'Github', { repository: 'o/f', createOidcProvider: true })).not.toThrow();
    expect(() => new FxGithubDeployRole(new Stack(other, 'DeployAny'), 'Github', { repository: 'o/e', createOidcProvider: true })).not.toThrow();
  });
});

describe('availability zones of the stack', () => {
  const clusterIn = (zones: string[]) => () => {
    const stack = new Stack(testApp(), 'Platform', { env: ENV });
    return new FxCluster(stack, 'Cluster', { profile: FxProfile.DEVELOPMENT, platformName: 'fx', availabilityZones: zones });
  };

  test('zones of another region', () => {
    expect(clusterIn(['eu-west-1a', 'eu-west-1b', 'eu-west-1c'])).toThrow(
      'FxCluster at Platform/Cluster: invalid availabilityZones ["eu-west-1a","eu-west-1b","eu-west-1c"]; allowed: zones of the stack\'s region '
      + 'us-east-1 (us-east-1a, us-east-1b, ...); eu-west-1a is not one');
  });

  test('a zone of the region the account does not have (not in the availability-zones context)', () => {
    expect(clusterIn(['us-east-1a', 'us-east-1b', 'us-east-1f'])).toThrow(
      'FxCluster at Platform/Cluster: invalid availabilityZones ["us-east-1a","us-east-1b","us-east-1f"]; allowed: zones the stack\'s account has '
      + '(us-east-1a, us-east-1b, us-east-1c, from the availability-zones context); us-east-1f is not one');
  });

  test('the stack\'s own zones pass', () => {
    expect(clusterIn(['us-east-1c', 'us-east-1a', 'us-east-1b'])).not.toThrow();
  });
});

describe('admins', () => {
  test('the same role, or the same role ARN, twice', () => {
    const stack = new Stack(testApp(), 'Platform', { env: ENV });
    const ops = new iam.Role(stack, 'Ops', { assumedBy: new iam.AccountRootPrincipal() });
    expect(() => new FxCluster(stack, 'Cluster', { profile: FxProfile.DEVELOPMENT, platformName: 'fx', admins: [ops, ops] })).toThrow(
      "FxCluster at Platform/Cluster: invalid admins[1] 'Platform/Ops'; allowed: each role once (it is admins[0] already)");
    const other = new Stack(testApp(), 'Platform', { env: ENV });
    const a = iam.Role.fromRoleArn(other, 'A', 'arn:aws:iam::123456789012:role/ops');
    const b = iam.Role.fromRoleArn(other, 'B', 'arn:aws:iam::123456789012:role/ops');
    expect(() => new FxCluster(other, 'Cluster', { profile: FxProfile.DEVELOPMENT, platformName: 'fx', admins: [a, b] })).toThrow(
      "FxCluster at Platform/Cluster: invalid admins[1] 'arn:aws:iam::123456789012:role/ops'; allowed: each role once (it is admins[0] already)");
    const fine = new Stack(testApp(), 'Platform', { env: ENV });
    expect(() => new FxCluster(fine, 'Cluster', {
      profile: FxProfile.DEVELOPMENT,
      platformName: 'fx',
      admins: [iam.Role.fromRoleArn(fine, 'A', 'arn:aws:iam::123456789012:role/ops'), iam.Role.fromRoleArn(fine, 'B', 'arn:aws:iam::123456789012:role/dev')],
    })).not.toThrow();
  });
});
