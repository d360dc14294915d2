import { compareStatefulIds, statefulResources } from './util/logical-ids';

// Every resource of the example stacks that CloudFormation retains or snapshots (DeletionPolicy
// Retain, Snapshot or RetainExceptOnCreate; UpdateReplacePolicy Retain or Snapshot) keeps its logical
// id: a changed id replaces a database, bucket, key, log group or file system. The expected ids are
// committed data; a new stateful resource is added to them on purpose (test/util/logical-ids.ts).
// The examples are compared with test/data/logical-ids.json in test/examples.test.ts (one synthesis each);
// this file proves the check.
describe('the pin check', () => {
  const template = {
    Resources: {
      DatabaseF44359DD: { Type: 'AWS::RDS::DBInstance', DeletionPolicy: 'Snapshot', UpdateReplacePolicy: 'Snapshot' },
      BucketA: { Type: 'AWS::S3::Bucket', DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' },
      LogsB: { Type: 'AWS::Logs::LogGroup', DeletionPolicy: 'RetainExceptOnCreate' },
      ReplacedC: { Type: 'AWS::KMS::Key', DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Retain' },
      Function: { Type: 'AWS::Lambda::Function' },
      Deleted: { Type: 'AWS::SQS::Queue', DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' },
    },
  };

  test('selects what is retained or snapshotted on delete or replacement, nothing else', () => {
    expect(statefulResources(template)).toEqual({
      BucketA: 'AWS::S3::Bucket', DatabaseF44359DD: 'AWS::RDS::DBInstance', LogsB: 'AWS::Logs::LogGroup', ReplacedC: 'AWS::KMS::Key',
    });
  });

  test('fails on a renamed retained resource', () => {
    const { DatabaseF44359DD, ...rest } = template.Resources;
    const renamed = { Resources: { ...rest, DatabaseInstance1234ABCD: DatabaseF44359DD } };
    expect(compareStatefulIds({ FxPlatform: statefulResources(template) }, { FxPlatform: statefulResources(renamed) })).toEqual([
      'FxPlatform: stateful AWS::RDS::DBInstance DatabaseF44359DD is gone: a renamed construct id replaces the resource (keep the id, e.g. with overrideLogicalId)',
      'FxPlatform: new stateful AWS::RDS::DBInstance DatabaseInstance1234ABCD: add it to test/data/logical-ids.json on purpose (test/util/logical-ids.ts regenerates it)',
    ]);
  });

  test('fails on a changed type and on a missing stack', () => {
    const retyped = { Resources: { ...template.Resources, BucketA: { Type: 'AWS::EFS::FileSystem', DeletionPolicy: 'Retain' } } };
    expect(compareStatefulIds({ FxPlatform: statefulResources(template) }, { FxPlatform: statefulResources(retyped) })).toEqual([
      'FxPlatform: BucketA was AWS::S3::Bucket, is now AWS::EFS::FileSystem',
    ]);
    expect(compareStatefulIds({ FxDev: { LogsB: 'AWS::Logs::LogGroup' } }, {})).toEqual([
      'FxDev: stateful AWS::Logs::LogGroup LogsB is gone: a renamed construct id replaces the resource (keep the id, e.g. with overrideLogicalId)',
    ]);
  });
});
