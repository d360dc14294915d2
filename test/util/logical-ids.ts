// The logical ids of the example stacks' stateful resources: everything CloudFormation retains or
// snapshots on delete or replacement. A changed id is a replacement (a new database, bucket, key or
// cluster, the old one orphaned or deleted), so the ids are pinned in test/data/logical-ids.json.
//
// Regenerate the list after adding a stateful resource on purpose (never to accept a rename):
//   npx ts-node --transpile-only --project test/tsconfig.json test/util/logical-ids.ts
import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { createClusterExample } from '../../examples/cluster/app';
import { exampleApp } from '../../examples/common';
import { createDevExample } from '../../examples/dev/app';
import { createPlatformExample } from '../../examples/platform/app';

/** The committed list: stack name → logical id → resource type. */
export type StatefulIds = Record<string, Record<string, string>>;

export const LOGICAL_IDS_FILE = path.resolve(__dirname, '..', 'data', 'logical-ids.json');

/** Every example app, as its CLI entry point builds it. */
export const EXAMPLES: ReadonlyArray<(app: App) => Stack> = [createClusterExample, createDevExample, createPlatformExample];

const KEPT_ON_DELETE = new Set(['Retain', 'Snapshot', 'RetainExceptOnCreate']);
const KEPT_ON_REPLACE = new Set(['Retain', 'Snapshot']);

/** The resources of a template CloudFormation keeps (or snapshots) on delete or replacement, by logical id. */
export function statefulResources(template: { Resources?: Record<string, any> }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [id, resource] of Object.entries(template.Resources ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    if (KEPT_ON_DELETE.has(resource.DeletionPolicy) || KEPT_ON_REPLACE.has(resource.UpdateReplacePolicy)) out[id] = resource.Type;
  }
  return out;
}

/** The stateful resources of every example stack. */
export function exampleStatefulIds(): StatefulIds {
  const out: StatefulIds = {};
  for (const create of EXAMPLES) {
    const app = exampleApp({ builtinCloudFormationValidation: false });
    const stack = create(app);
    const assembly = app.synth();
    out[stack.stackName] = statefulResources(assembly.getStackByName(stack.stackName).template);
  }
  return out;
}

/** What differs from the committed list, one sentence per resource. */
export function compareStatefulIds(expected: StatefulIds, actual: StatefulIds): string[] {
  const problems: string[] = [];
  for (const stack of [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort()) {
    const want = expected[stack] ?? {};
    const got = actual[stack] ?? {};
    for (const [id, type] of Object.entries(want)) {
      if (got[id] === undefined) {
        problems.push(`${stack}: stateful ${type} ${id} is gone: a renamed construct id replaces the resource (keep the id, e.g. with overrideLogicalId)`);
      } else if (got[id] !== type) {
        problems.push(`${stack}: ${id} was ${type}, is now ${got[id]}`);
      }
    }
    for (const [id, type] of Object.entries(got)) {
      if (want[id] === undefined) {
        problems.push(`${stack}: new stateful ${type} ${id}: add it to test/data/logical-ids.json on purpose (test/util/logical-ids.ts regenerates it)`);
      }
    }
  }
  return problems;
}

if (require.main === module) {
  fs.writeFileSync(LOGICAL_IDS_FILE, JSON.stringify(exampleStatefulIds(), null, 2) + '\n');
  console.log(`wrote ${path.relative(process.cwd(), LOGICAL_IDS_FILE)}`);
}
