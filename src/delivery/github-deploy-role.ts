import { Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledgeDeployRoleFindings } from './nag';
import { claimAccountSingleton } from '../core/environment';
import { check, checkDurationToken, FxValidationError, trackConstruct } from '../core/errors';
import { isLabelValue } from '../core/k8s-names';
import { TAG_COMPONENT, TAG_PLATFORM, tagPlatform } from '../core/tags';

const GITHUB_OIDC_URL = 'https://token.actions.githubusercontent.com';
const GITHUB_OIDC_HOST = 'token.actions.githubusercontent.com';
const STS_AUDIENCE = 'sts.amazonaws.com';
const NAME = 'FxGithubDeployRole';
/** What `docker push` (and the `docker pull` of layers it skips) needs on a repository. */
const ECR_PUSH_ACTIONS = ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:CompleteLayerUpload', 'ecr:GetDownloadUrlForLayer',
  'ecr:InitiateLayerUpload', 'ecr:PutImage', 'ecr:UploadLayerPart'];
/** The `fx:component` tag of everything an FxMicroservice creates, its ECR repository included. */
const SERVICE_COMPONENT = 'microservice';
/** A GitHub user or organization name: letters, digits and single hyphens, no hyphen first or last, at most 39. */
const GITHUB_OWNER = /^(?=.{1,39}$)[A-Za-z0-9]+(-[A-Za-z0-9]+)*$/;
/** IAM's default limit of a role trust policy (ACLSizePerRole), in characters without whitespace. */
const TRUST_POLICY_LIMIT = 2048;

/** Props of `FxGithubDeployRole`. */
export interface FxGithubDeployRoleProps {
  /** The GitHub repository allowed to deploy, as `owner/name`. */
  readonly repository: string;
  /**
   * GitHub environments whose jobs may assume the role. Environments carry protection rules
   * (required reviewers, branch restrictions), so they are the default gate.
   *
   * @default ['production']
   */
  readonly environments?: string[];
  /**
   * Branches whose jobs may assume the role without an environment. Leave empty to require an environment.
   *
   * @default - none
   */
  readonly branches?: string[];
  /**
   * The account's GitHub OIDC provider, when it is not the one at the well-known ARN
   * `arn:<partition>:iam::<account>:oidc-provider/token.actions.githubusercontent.com`. It must be
   * GitHub's (issuer `token.actions.githubusercontent.com`) and of this stack's account.
   * Cannot be combined with `createOidcProvider`.
   *
   * @default - the provider at the well-known ARN (or a new one with `createOidcProvider`)
   */
  readonly oidcProvider?: iam.IOidcProvider;
  /**
   * Whether this construct creates the GitHub OIDC provider. An account has at most one provider per
   * URL: creating it fails where any other stack or tool (a previous deploy role, Control Tower
   * customizations, a console setup) already made it, so creating is an explicit choice for an account
   * that has none yet.
   *
   * @default false - use the account's existing provider
   */
  readonly createOidcProvider?: boolean;
  /**
   * Qualifier of the CDK bootstrap stack whose roles the deploy role may assume.
   *
   * @default 'hnb659fds' (the CDK default)
   */
  readonly cdkQualifier?: string;
  /**
   * Longest session the workflow gets.
   *
   * @default Duration.hours(1)
   */
  readonly maxSessionDuration?: Duration;
  /**
   * Platform name for the `fx:platform` tag. It is also the platform whose service repositories the role
   * may push to (those tagged `fx:platform` with this name): give the cluster's `platformName`.
   *
   * @default - the stack name
   */
  readonly platformName?: string;
}

/**
 * A role that GitHub Actions assumes through OIDC to run `cdk deploy`, with no long-lived keys.
 *
 * The trust policy admits only the given repository's jobs in the given environments (or branches).
 * The role itself can assume the CDK bootstrap roles of this account and region, which is exactly
 * what the CDK CLI needs (CloudFormation runs with the bootstrap execution role), and push images to
 * the platform's service repositories: the ECR repositories of this account and region tagged
 * `fx:platform` = `platformName` and `fx:component` = `microservice` (every FxMicroservice repository
 * carries both tags; the role cannot tag repositories). `ecr:GetAuthorizationToken`, which has no
 * resource, is its only `*`.
 */
export class FxGithubDeployRole extends Construct {
  /** The role workflows assume (`aws-actions/configure-aws-credentials` `role-to-assume`). */
  public readonly role: iam.Role;
  /** The GitHub OIDC provider trusted by the role. */
  public readonly oidcProvider: iam.IOidcProvider;

  constructor(scope: Construct, id: string, props: FxGithubDeployRoleProps) {
    super(scope, id);
    trackConstruct(this);
    const stack = Stack.of(this);
    const environments = props.environments ?? ['production'];
    const branches = props.branches ?? [];
    const qualifier = props.cdkQualifier ?? 'hnb659fds';
    const maxSession = props.maxSessionDuration ?? Duration.hours(1);

    // A CommaDelimitedList parameter: each entry is its own trust policy subject, written at synth.
    for (const [prop, list] of [['environments', environments], ['branches', branches]] as const) {
      if (Token.isUnresolved(list)) {
        throw new FxValidationError(NAME, prop, '(a deploy-time list)', 'a list known at synth (each entry is its own subject of the trust policy)');
      }
    }
    // As GitHub's OIDC `sub` claim spells it: no URL, no `.git` suffix (the claim never has one).
    const [owner, name] = props.repository.split('/');
    check(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/.test(props.repository) && !/\.git$/i.test(props.repository)
      && !/^\.+$/.test(name ?? ''), NAME, 'repository', props.repository,
    "a GitHub repository as 'owner/name' (no URL, no .git suffix)");
    check(GITHUB_OWNER.test(owner), NAME, 'repository', props.repository,
      'an owner GitHub allows: letters, digits and single hyphens, not starting or ending with a hyphen, at most 39 characters');
    check(environments.length + branches.length > 0, NAME, 'environments', environments, 'at least one environment or branch');
    environments.forEach((env, i) => {
      check(/^[A-Za-z0-9._ -]+$/.test(env) && !env.includes('*'), NAME, `environments[${i}]`, env, 'a GitHub environment name (no wildcards)');
      check(env.length <= 255, NAME, `environments[${i}]`, env, 'a GitHub environment name of at most 255 characters');
      check(environments.indexOf(env) === i, NAME, `environments[${i}]`, env, `each environment once (it is environments[${environments.indexOf(env)}] already)`);
    });
    branches.forEach((branch, i) =>
      check(branches.indexOf(branch) === i, NAME, `branches[${i}]`, branch, `each branch once (it is branches[${branches.indexOf(branch)}] already)`));
    branches.forEach((branch, i) =>
      check(/^[A-Za-z0-9._/-]+$/.test(branch) && !branch.startsWith('refs/') && !branch.startsWith('/') && !branch.endsWith('/')
        && !branch.includes('//') && !branch.includes('..'), NAME, `branches[${i}]`, branch,
      "a branch name such as 'main' or 'release/1.x' (no wildcards; without 'refs/heads/', which the trust adds)"));
    // What `git check-ref-format --branch` refuses besides: a leading -, a part starting with . or ending with .lock, a trailing .
    branches.forEach((branch, i) =>
      check(!branch.startsWith('-') && !branch.endsWith('.') && !branch.split('/').some((part) => part.startsWith('.') || part.endsWith('.lock')),
        NAME, `branches[${i}]`, branch, 'a branch name git accepts: not starting with -, no part starting with . or ending with .lock, not ending with .'));
    // git refuses a branch named HEAD (the name of the checked-out commit).
    branches.forEach((branch, i) =>
      check(branch !== 'HEAD', NAME, `branches[${i}]`, branch, 'a branch name git accepts: not HEAD (git refuses it as a branch name)'));
    // The bootstrap template takes [A-Za-z0-9_-]{1,10}, but the qualifier is part of its assets bucket's name (lowercase, no _).
    check(/^[a-z0-9-]{1,10}$/.test(qualifier), NAME, 'cdkQualifier', qualifier,
      'the bootstrap qualifier: up to 10 lowercase letters, digits or - (it is part of the bootstrap assets bucket name)');
    // A deploy-time duration is IAM's MaxSessionDuration in seconds; aws-cdk-lib's iam.Role would compare the
    // token with its 1..12 hour range at synth, so it is set on the CfnRole instead and IAM checks it.
    const deployTimeSession = maxSession.isUnresolved();
    if (deployTimeSession) {
      checkDurationToken(maxSession, NAME, 'maxSessionDuration', 'seconds');
    } else {
      const sessionSeconds = maxSession.toMilliseconds() / 1000;
      check(Number.isInteger(sessionSeconds), NAME, 'maxSessionDuration', maxSession.toHumanString(), 'whole seconds (IAM\'s MaxSessionDuration), 1 to 12 hours');
      check(sessionSeconds >= 3600 && sessionSeconds <= 43200, NAME, 'maxSessionDuration', maxSession.toHumanString(), '1 to 12 hours');
    }

    const createProvider = props.createOidcProvider ?? false;
    check(!(createProvider && props.oidcProvider), NAME, 'createOidcProvider', createProvider,
      'false (or unset) when oidcProvider is given: the account has one provider for GitHub');

    if (props.oidcProvider) checkGithubProvider(props.oidcProvider, stack);
    if (createProvider) {
      claimAccountSingleton(this, NAME, 'createOidcProvider', createProvider, 'GitHub OIDC provider',
        'leave createOidcProvider unset on the others (they use the provider at the well-known ARN)', false);
    }
    this.oidcProvider = props.oidcProvider ?? (createProvider
      ? new iam.OidcProviderNative(this, 'Provider', { url: GITHUB_OIDC_URL, clientIds: [STS_AUDIENCE] })
      : iam.OidcProviderNative.fromOidcProviderArn(this, 'Provider',
        `arn:${stack.partition}:iam::${stack.account}:oidc-provider/${GITHUB_OIDC_HOST}`));

    const subjects = [
      ...environments.map((env) => `repo:${props.repository}:environment:${env}`),
      ...branches.map((branch) => `repo:${props.repository}:ref:refs/heads/${branch}`),
    ];
    checkTrustPolicySize(subjects, environments.length, branches.length);
    this.role = new iam.Role(this, 'Resource', {
      description: `GitHub Actions deploy role for ${props.repository} (assumes the CDK bootstrap roles only)`,
      maxSessionDuration: deployTimeSession ? undefined : maxSession,
      assumedBy: new iam.WebIdentityPrincipal(this.oidcProvider.oidcProviderArn, {
        // Exact subjects only (no wildcards): a fork or another branch never matches.
        StringEquals: { [`${GITHUB_OIDC_HOST}:aud`]: STS_AUDIENCE, [`${GITHUB_OIDC_HOST}:sub`]: subjects },
      }),
    });
    if (deployTimeSession) (this.role.node.defaultChild as iam.CfnRole).maxSessionDuration = maxSession.toSeconds();
    this.role.addToPolicy(new iam.PolicyStatement({
      sid: 'AssumeCdkBootstrapRoles',
      actions: ['sts:AssumeRole', 'sts:TagSession'],
      resources: ['deploy', 'file-publishing', 'image-publishing', 'lookup'].map((kind) =>
        `arn:${stack.partition}:iam::${stack.account}:role/cdk-${qualifier}-${kind}-role-${stack.account}-${stack.region}`),
    }));
    const platformName = props.platformName ?? stack.stackName;
    // The tag value FxCluster writes on the platform's repositories: a name FxCluster refuses matches none.
    check(Token.isUnresolved(platformName) || (isLabelValue(platformName) && platformName !== '' && platformName.length <= 40), NAME,
      props.platformName === undefined ? 'platformName (from the stack name)' : 'platformName', platformName,
      "the cluster's platformName: up to 40 letters, digits, -, _ and ., starting and ending with a letter or digit");
    this.role.addToPolicy(new iam.PolicyStatement({
      sid: 'EcrLogin',
      actions: ['ecr:GetAuthorizationToken'],
      // The registry login has no resource-level permission.
      resources: ['*'],
    }));
    this.role.addToPolicy(new iam.PolicyStatement({
      sid: 'PushServiceRepositories',
      actions: ECR_PUSH_ACTIONS,
      // Repository names are generated by CloudFormation: the platform's service repositories are told by their tags.
      resources: [stack.formatArn({ service: 'ecr', resource: 'repository', resourceName: '*' })],
      conditions: {
        StringEquals: { [`aws:ResourceTag/${TAG_PLATFORM}`]: platformName, [`aws:ResourceTag/${TAG_COMPONENT}`]: SERVICE_COMPONENT },
      },
    }));

    acknowledgeDeployRoleFindings(this.role);
    acknowledgePushFindings(this.role, stack);
    tagPlatform(this, platformName, 'delivery');
  }
}

/** An OIDC provider's ARN: its account and the issuer it names (`oidc-provider/<issuer>`). */
const OIDC_PROVIDER_ARN = /^arn:[^:]+:iam::(\d{12}):oidc-provider\/(.+)$/;

/**
 * A given provider must be GitHub's, in this account: the trust conditions are keyed by GitHub's
 * issuer (`token.actions.githubusercontent.com:sub`), and a role trusts providers of its own account only.
 */
function checkGithubProvider(provider: iam.IOidcProvider, stack: Stack): void {
  const arn = provider.oidcProviderArn;
  const parsed = Token.isUnresolved(arn) ? null : OIDC_PROVIDER_ARN.exec(arn);
  const issuer = Token.isUnresolved(provider.oidcProviderIssuer) ? parsed?.[2] : provider.oidcProviderIssuer;
  if (issuer !== undefined) {
    check(issuer.replace(/^https:\/\//, '') === GITHUB_OIDC_HOST, NAME, 'oidcProvider', Token.isUnresolved(arn) ? issuer : arn,
      `GitHub's OIDC provider (issuer ${GITHUB_OIDC_HOST}): the trust policy's conditions are keyed by that issuer, and no other provider's tokens carry them`);
  }
  if (parsed && !Token.isUnresolved(stack.account)) {
    check(parsed[1] === stack.account, NAME, 'oidcProvider', arn,
      `a provider of this stack's account (${stack.account}): a role trusts only OIDC providers of its own account`);
  }
}

/**
 * The trust policy as IAM stores it (minified JSON, with the longest partition; account ids have
 * 12 digits) must fit IAM's default limit.
 */
function checkTrustPolicySize(subjects: string[], environments: number, branches: number): void {
  if (subjects.some((subject) => Token.isUnresolved(subject))) return;
  const policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{
      Effect: 'Allow',
      Principal: { Federated: `arn:aws-us-gov:iam::123456789012:oidc-provider/${GITHUB_OIDC_HOST}` },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringEquals: { [`${GITHUB_OIDC_HOST}:aud`]: STS_AUDIENCE, [`${GITHUB_OIDC_HOST}:sub`]: subjects } },
    }],
  });
  check(policy.length <= TRUST_POLICY_LIMIT, NAME, 'environments and branches', `${environments} environments and ${branches} branches`,
    `a trust policy within IAM's ${TRUST_POLICY_LIMIT} characters (ACLSizePerRole): these subjects make about ${policy.length}; `
    + 'use fewer or shorter environments and branches');
}

/** cdk-nag findings of the two ECR statements: both wildcards are the narrowest IAM allows. */
function acknowledgePushFindings(role: iam.Role, stack: Stack): void {
  const policy = role.node.tryFindChild('DefaultPolicy');
  if (!policy) return;
  const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
  const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
  Validations.of(policy).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'ecr:GetAuthorizationToken (the registry login before docker push) has no resource-level permission; it is the only action on *.',
  });
  Validations.of(policy).acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecr:${region}:${account}:repository/*]`,
    reason: 'Service repositories have CloudFormation-generated names: the push statement matches the repositories of this account and '
      + 'region by their fx:platform and fx:component=microservice tags (aws:ResourceTag condition), which the role cannot change.',
  });
}
