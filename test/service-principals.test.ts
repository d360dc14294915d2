import { App, ArnFormat, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Obj, unscopedServiceStatements } from './util/service-principals';

// The examples are walked in test/examples.test.ts (one synthesis per example); the check itself is proven here.
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
