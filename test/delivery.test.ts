import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnParameter, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FxCluster, FxGithubDeployRole, FxGithubDeployRoleProps, FxImage, FxMicroservice, FxProfile } from '../src';
import { testApp } from './util/fixtures';

const ENV = { account: '123456789012', region: 'us-east-1' };

function synth(props: FxGithubDeployRoleProps, configure?: (stack: Stack) => Partial<FxGithubDeployRoleProps>): Template {
  const app = new App({ builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'Deploy', { env: ENV });
  new FxGithubDeployRole(stack, 'Github', { ...props, ...configure?.(stack) });
  return Template.fromStack(stack);
}

describe('FxGithubDeployRole', () => {
  let template: Template;
  beforeAll(() => {
    template = synth({ repository: 'fx-orleans/platform' });
  });

  test('uses the account\'s existing GitHub OIDC provider by default (one per account)', () => {
    template.resourceCountIs('AWS::IAM::OIDCProvider', 0);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({
          Principal: {
            Federated: {
              'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::123456789012:oidc-provider/token.actions.githubusercontent.com']],
            },
          },
        })],
      },
    });
  });

  test('creates the GitHub OIDC provider for the STS audience when asked to', () => {
    const t = synth({ repository: 'fx-orleans/platform', createOidcProvider: true });
    t.resourceCountIs('AWS::IAM::OIDCProvider', 1);
    t.hasResourceProperties('AWS::IAM::OIDCProvider', {
      Url: 'https://token.actions.githubusercontent.com',
      ClientIdList: ['sts.amazonaws.com'],
    });
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Federated: { Ref: Match.stringLikeRegexp('^GithubProvider') } } })] },
    });
  });

  test('trusts only the repository production environment', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      MaxSessionDuration: 3600,
      AssumeRolePolicyDocument: {
        Statement: [{
          Action: 'sts:AssumeRoleWithWebIdentity',
          Effect: 'Allow',
          Principal: { Federated: Match.anyValue() },
          Condition: {
            StringEquals: {
              'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
              'token.actions.githubusercontent.com:sub': ['repo:fx-orleans/platform:environment:production'],
            },
          },
        }],
      },
    });
  });

  test('may only assume the CDK bootstrap roles of its account and region (and push images, below)', () => {
    const policies = template.findResources('AWS::IAM::Policy');
    const statements = Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements.map((st) => st.Sid)).toEqual(['AssumeCdkBootstrapRoles', 'EcrLogin', 'PushServiceRepositories']);
    expect(statements[0].Action).toEqual(['sts:AssumeRole', 'sts:TagSession']);
    const resources = JSON.stringify(statements[0].Resource);
    for (const kind of ['deploy', 'file-publishing', 'image-publishing', 'lookup']) {
      expect(resources).toContain(`:role/cdk-hnb659fds-${kind}-role-123456789012-us-east-1`);
    }
    expect(resources).not.toContain('*');
  });

  test('pushes images only to the platform\'s service repositories (tag condition); the registry login is the only *', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
    const push = ['ecr:PutImage', 'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload'];
    for (const st of statements) {
      const actions: string[] = [st.Action].flat();
      if (actions.some((a) => push.includes(a))) expect([st.Resource].flat()).not.toContain('*');
      if ([st.Resource].flat().includes('*')) expect(actions).toEqual(['ecr:GetAuthorizationToken']);
    }
    expect(statements.find((st) => st.Sid === 'PushServiceRepositories')).toEqual({
      Sid: 'PushServiceRepositories',
      Effect: 'Allow',
      Action: ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:CompleteLayerUpload', 'ecr:GetDownloadUrlForLayer',
        'ecr:InitiateLayerUpload', 'ecr:PutImage', 'ecr:UploadLayerPart'],
      Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecr:us-east-1:123456789012:repository/*']] },
      // The default platform name is the stack name.
      Condition: { StringEquals: { 'aws:ResourceTag/fx:platform': 'Deploy', 'aws:ResourceTag/fx:component': 'microservice' } },
    });
  });

  test('the push condition matches the tags of an FxMicroservice repository of the same platform, and AwsSolutions passes', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-deploy-push-'));
    try {
      const app = testApp(outdir);
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      const stack = new Stack(app, 'Platform', { env: ENV });
      const cluster = new FxCluster(stack, 'Cluster', { profile: FxProfile.DEVELOPMENT, platformName: 'shop' });
      new FxMicroservice(stack, 'Orders', {
        cluster, serviceName: 'orders', image: FxImage.fromAsset(path.join(__dirname, '..', 'examples', 'services'), { file: 'orders-api/Dockerfile' }),
      });
      new FxGithubDeployRole(stack, 'Github', { repository: 'o/r', platformName: 'shop' });
      // Synthesizing runs the pack: an unacknowledged finding on the ECR statements would throw.
      const t = Template.fromStack(stack);
      const [repository] = Object.values(t.findResources('AWS::ECR::Repository'));
      const tags = Object.fromEntries(repository.Properties.Tags.map((tag: { Key: string; Value: string }) => [tag.Key, tag.Value]));
      const push = Object.values(t.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement)
        .find((st) => st.Sid === 'PushServiceRepositories');
      for (const [key, value] of Object.entries<string>(push.Condition.StringEquals)) {
        expect(tags[key.replace('aws:ResourceTag/', '')]).toBe(value);
      }
      expect(push.Condition.StringEquals['aws:ResourceTag/fx:platform']).toBe('shop');
      expect(fs.readFileSync(path.join(outdir, 'Platform.metadata.json'), 'utf8'))
        .toContain('AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecr:us-east-1:123456789012:repository/*]');
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });

  test('tags its resources with the platform and version', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      Tags: Match.arrayWith([{ Key: 'fx:component', Value: 'delivery' }, { Key: 'fx:platform', Value: 'Deploy' }]),
    });
  });

  test('adds branch subjects and reuses an existing provider', () => {
    const t = synth({ repository: 'o/r', environments: ['staging'], branches: ['main'], maxSessionDuration: Duration.hours(2) }, (stack) => ({
      oidcProvider: iam.OidcProviderNative.fromOidcProviderArn(stack, 'Existing', 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com'),
    }));
    t.resourceCountIs('AWS::IAM::OIDCProvider', 0);
    t.hasResourceProperties('AWS::IAM::Role', {
      MaxSessionDuration: 7200,
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({
          Principal: { Federated: 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com' },
          Condition: { StringEquals: Match.objectLike({ 'token.actions.githubusercontent.com:sub': ['repo:o/r:environment:staging', 'repo:o/r:ref:refs/heads/main'] }) },
        })],
      },
    });
  });

  test('a deploy-time session duration in seconds reaches the role as its parameter (IAM checks the range)', () => {
    let seconds: number | undefined;
    const t = synth({ repository: 'o/r', environments: ['prod'] }, (stack) => {
      seconds = new CfnParameter(stack, 'SessionSeconds', { type: 'Number' }).valueAsNumber;
      return { maxSessionDuration: Duration.seconds(seconds) };
    });
    expect(seconds).toBeDefined();
    t.hasResourceProperties('AWS::IAM::Role', { MaxSessionDuration: { Ref: 'SessionSeconds' } });
  });

  test.each([
    [{ repository: 'platform' }, /FxGithubDeployRole(?: at [^:]+)?: invalid repository 'platform'; allowed: a GitHub repository as 'owner\/name'/],
    [{ repository: 'o/r', environments: [] }, /invalid environments \[\]; allowed: at least one environment or branch/],
    [{ repository: 'o/r', environments: ['prod*'] }, /invalid environments\[0\] 'prod\*'; allowed: a GitHub environment name/],
    [{ repository: 'o/r', branches: ['feature/*'] }, /invalid branches\[0\] 'feature\/\*'/],
    [{ repository: 'o/r', branches: ['refs/heads/main'] }, /invalid branches\[0\] 'refs\/heads\/main'; allowed: a branch name such as 'main' .*without 'refs\/heads\/'/],
    [{ repository: 'o/r', branches: ['main', '../x'] }, /invalid branches\[1\] '..\/x'/],
    [{ repository: 'fx-orleans/platform.git' }, /invalid repository 'fx-orleans\/platform.git'; allowed: a GitHub repository as 'owner\/name' \(no URL, no .git suffix\)/],
    [{ repository: 'https://github.com/fx-orleans/platform' }, /invalid repository 'https:\/\/github.com\/fx-orleans\/platform'/],
    [{ repository: 'git@github.com:fx-orleans/platform' }, /invalid repository 'git@github.com:fx-orleans\/platform'/],
    [{ repository: 'o/r', cdkQualifier: 'not.valid' }, /invalid cdkQualifier 'not.valid'/],
    [{ repository: 'o/r', maxSessionDuration: Duration.hours(24) }, /invalid maxSessionDuration '1 day'; allowed: 1 to 12 hours/],
  ])('fails when props are %j', (props, message) => {
    expect(() => synth(props as FxGithubDeployRoleProps)).toThrow(message);
  });

  test('fails when an existing provider is given and creating one is asked for', () => {
    expect(() => synth({ repository: 'o/r', createOidcProvider: true }, (stack) => ({
      oidcProvider: iam.OidcProviderNative.fromOidcProviderArn(stack, 'Existing', 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com'),
    }))).toThrow(/FxGithubDeployRole(?: at [^:]+)?: invalid createOidcProvider true; allowed: false \(or unset\) when oidcProvider is given/);
  });
});
