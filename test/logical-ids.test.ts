import * as fs from 'fs';
import { compareStatefulIds, exampleStatefulIds, LOGICAL_IDS_FILE, StatefulIds, statefulResources } from './util/logical-ids';

// Every resource of the example stacks that CloudFormation retains or snapshots (DeletionPolicy
// Retain, Snapshot or RetainExceptOnCreate; UpdateReplacePolicy Retain or Snapshot) keeps its logical
// id: a changed id replaces a database, bucket, key, log group or file system. The expected ids are
// committed data; a new stateful resource is added to them on purpose (test/util/logical-ids.ts).
const expected: StatefulIds = JSON.parse(fs.readFileSync(LOGICAL_IDS_FILE, 'utf8'));

describe('stateful resources of the examples keep their logical ids', () => {
  let actual: StatefulIds;
  beforeAll(() => { actual = exampleStatefulIds(); });

  test('every example stack is pinned, each with its stateful resources', () => {
    expect(Object.keys(actual).sort()).toEqual(['FxClusterExample', 'FxDev', 'FxPlatform']);
    expect(Object.values(expected).every((ids) => Object.keys(ids).length > 0)).toBe(true);
    expect(Object.values(expected.FxPlatform)).toEqual(expect.arrayContaining(['AWS::RDS::DBInstance', 'AWS::S3::Bucket', 'AWS::EFS::FileSystem']));
  });

  test('the logical ids match test/data/logical-ids.json', () => {
    expect(compareStatefulIds(expected, actual)).toEqual([]);
  });
});

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
