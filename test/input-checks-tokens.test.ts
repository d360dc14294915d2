import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CfnParameter, Stack } from 'aws-cdk-lib';
import { FxCluster } from '../src';
import { ENV, testApp } from './util/fixtures';

/**
 * Deploy-time values where the library needs a value at synth (it names constructs or computes from
 * it): each fails naming the prop and why, never inside aws-cdk-lib or constructs.
 */

const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-input-tokens-'));
afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

const stackOf = (id: string) => new Stack(testApp(path.join(outdir, id)), id, { env: ENV });
const str = (stack: Stack, id = 'Value') => new CfnParameter(stack, id).valueAsString;

function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (e) {
    return (e as Error).message;
  }
  return '(no error)';
}

const CASES: [string, () => unknown, string][] = [
  ['a node group name from a parameter', () => {
    const stack = stackOf('NgNameToken');
    return new FxCluster(stack, 'Cluster', { nodeGroups: [{ name: str(stack) }] });
  }, "FxCluster at NgNameToken/Cluster: invalid nodeGroups[0].name '(a deploy-time token)'; allowed: a value known at synth: it names the node group's constructs and its fx.platform/node-group label"],
  ['a second node group name from a parameter', () => {
    const stack = stackOf('NgNameToken2');
    return new FxCluster(stack, 'Cluster', { nodeGroups: [{ name: 'system' }, { name: `batch-${str(stack)}` }] });
  }, "FxCluster at NgNameToken2/Cluster: invalid nodeGroups[1].name '(a deploy-time token)'; allowed: a value known at synth: it names the node group's constructs and its fx.platform/node-group label"],
];

describe('deploy-time values the library needs at synth', () => {
  test.each(CASES)('fails when %s', (_, run, message) => {
    expect(messageOf(run)).toBe(message);
  });
});
