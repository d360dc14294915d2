import { App, ArnFormat, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { createClusterExample } from '../examples/cluster/app';
import { exampleApp, EXAMPLE_ENV } from '../examples/common';
import { createDevExample } from '../examples/dev/app';
import { createPlatformExample } from '../examples/platform/app';

type Obj = Record<string, any>;

/** The resource policies in which a service principal may be let in, and where their document is. */
const POLICY_DOCUMENT: Record<string, string> = {
  'AWS::SNS::TopicPolicy': 'PolicyDocument',
  'AWS::KMS::Key': 'KeyPolicy',
  'AWS::SQS::QueuePolicy': 'PolicyDocument',
  'AWS::S3::BucketPolicy': 'PolicyDocument',
};

/** The global condition keys that tie a service's request to our own resource or account (confused deputy). */
const SOURCE_KEYS = ['aws:sourcearn', 'aws:sourceaccount'];

function conditionKeys(statement: Obj): string[] {
  return Object.values<Obj>(statement.Condition ?? {}).flatMap((byKey) => Object.keys(byKey).map((k) => k.toLowerCase()));
}

/**
 * The one documented exception: CloudWatch Logs uses a KMS key in the name of a log group, and AWS
 * documents the key policy statement for it with the `kms:EncryptionContext:aws:logs:arn` condition
 * (the log group's ARN is the encryption context of every call), not with aws:SourceArn/SourceAccount
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html). That condition
 * is the source ARN in all but name; it passes only when it names log groups of this account.
 */
function logsEncryptionContextOfAccount(type: string, service: string, statement: Obj, account: string): boolean {
  if (type !== 'AWS::KMS::Key' || !/^logs\.[a-z0-9-]+\.amazonaws\.com$/.test(service)) return false;
  const context = Object.values<Obj>(statement.Condition ?? {}).map((byKey) => byKey['kms:EncryptionContext:aws:logs:arn']).filter((v) => v !== undefined);
  if (context.length === 0) return false;
  const text = JSON.stringify(context);
  return text.includes(':logs:') && (text.includes(`:${account}:`) || text.includes('AWS::AccountId'));
}

/**
 * Every `Allow` statement of a topic, key, queue or bucket policy whose principal includes an AWS
 * service and that carries neither aws:SourceArn nor aws:SourceAccount (any operator), as
 * `<type> <logical id> <service>: <actions>`.
 */
function unscopedServiceStatements(template: Obj, account: string): string[] {
  const found: string[] = [];
  for (const [id, resource] of Object.entries<Obj>(template.Resources ?? {})) {
    const field = POLICY_DOCUMENT[resource.Type];
    const document = field ? resource.Properties?.[field] : undefined;
    if (!document) continue;
    const statements: Obj[] = Array.isArray(document.Statement) ? document.Statement : [document.Statement];
    for (const statement of statements) {
      if (statement.Effect !== 'Allow' || statement.Principal?.Service === undefined) continue;
      const services: unknown[] = [statement.Principal.Service].flat();
      const scoped = conditionKeys(statement).some((k) => SOURCE_KEYS.includes(k));
      for (const service of services) {
        const name = typeof service === 'string' ? service : JSON.stringify(service);
        if (scoped || logsEncryptionContextOfAccount(resource.Type, name, statement, account)) continue;
        found.push(`${resource.Type} ${id} ${name}: ${[statement.Action].flat().join(',')}`);
      }
    }
  }
  return found.sort();
}

/** Every service principal let in by one of those policies (scoped or not), to prove the walk sees them. */
function servicePrincipals(template: Obj): string[] {
  const seen = new Set<string>();
  for (const resource of Object.values<Obj>(template.Resources ?? {})) {
    const field = POLICY_DOCUMENT[resource.Type];
    for (const statement of [resource.Properties?.[field]?.Statement ?? []].flat()) {
      if (statement.Effect === 'Allow' && statement.Principal?.Service) [statement.Principal.Service].flat().forEach((s: unknown) => seen.add(String(s)));
    }
  }
  return [...seen].sort();
}

describe.each([
  ['platform', createPlatformExample, ['budgets.amazonaws.com', 'cloudwatch.amazonaws.com', 'events.amazonaws.com', 'logs.us-east-1.amazonaws.com', 'sqs.amazonaws.com']],
  ['dev', createDevExample, ['budgets.amazonaws.com', 'cloudwatch.amazonaws.com', 'logs.us-east-1.amazonaws.com']],
  ['cluster', createClusterExample, ['logs.us-east-1.amazonaws.com']],
])('service principals in resource policies: %s example', (_name, create, expected) => {
  let template: Obj;
  beforeAll(() => {
    template = Template.fromStack(create(exampleApp({ builtinCloudFormationValidation: false }))).toJSON();
  });

  test('the walk sees every service the example lets into a topic, key, queue or bucket policy', () => {
    expect(servicePrincipals(template)).toEqual(expected);
  });

  test('every statement that lets a service in carries aws:SourceArn or aws:SourceAccount', () => {
    expect(unscopedServiceStatements(template, EXAMPLE_ENV.account)).toEqual([]);
  });
});

describe('the service principal check', () => {
  function fixture(): Obj {
    const stack = new Stack(new App({ builtinCloudFormationValidation: false }), 'Fixture', { env: { account: '123456789012', region: 'us-east-1' } });
    const key = new kms.Key(stack, 'Key');
    const topic = new sns.Topic(stack, 'Topic', { masterKey: key });
    // EventBridge let into the topic and its key with no condition at all (what targets.SnsTopic does without a role).
    topic.grantPublish(new iam.ServicePrincipal('events.amazonaws.com'));
    const queue = new sqs.Queue(stack, 'Queue');
    queue.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('events.amazonaws.com')],
      actions: ['sqs:SendMessage'],
      resources: [queue.queueArn],
      conditions: { ArnEquals: { 'aws:SourceArn': 'arn:aws:events:us-east-1:123456789012:rule/x' } },
    }));
    const bucket = new s3.Bucket(stack, 'Bucket');
    bucket.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('config.amazonaws.com')],
      actions: ['s3:PutObject'],
      resources: [bucket.arnForObjects('*')],
    }));
    // CloudWatch Logs with an encryption context of another account's log groups does not pass.
    const logKey = new kms.Key(stack, 'LogKey');
    logKey.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('logs.us-east-1.amazonaws.com')],
      actions: ['kms:Encrypt*'],
      resources: ['*'],
      conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': 'arn:aws:logs:us-east-1:999999999999:log-group:*' } },
    }));
    const ownLogKey = new kms.Key(stack, 'OwnLogKey');
    ownLogKey.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('logs.us-east-1.amazonaws.com')],
      actions: ['kms:Encrypt*'],
      resources: ['*'],
      conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) } },
    }));
    return Template.fromStack(stack).toJSON();
  }

  test('fails on unconditioned topic, key and bucket statements and on a log key of another account', () => {
    const t = fixture();
    const id = (prefix: string, type: string) => Object.keys(t.Resources).find((k) => k.startsWith(prefix) && t.Resources[k].Type === type)!;
    expect(unscopedServiceStatements(t, '123456789012')).toEqual([
      `AWS::KMS::Key ${id('Key', 'AWS::KMS::Key')} events.amazonaws.com: kms:Decrypt,kms:GenerateDataKey*`,
      `AWS::KMS::Key ${id('LogKey', 'AWS::KMS::Key')} logs.us-east-1.amazonaws.com: kms:Encrypt*`,
      `AWS::S3::BucketPolicy ${id('BucketPolicy', 'AWS::S3::BucketPolicy')} config.amazonaws.com: s3:PutObject`,
      `AWS::SNS::TopicPolicy ${id('TopicPolicy', 'AWS::SNS::TopicPolicy')} events.amazonaws.com: sns:Publish`,
    ]);
  });
});
