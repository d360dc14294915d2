import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CfnParameter, Stack } from 'aws-cdk-lib';
import { FxCluster, FxDatabase } from '../src';
import { ENV, messageOf, testApp } from './util/fixtures';

/**
 * Deploy-time values where the library needs a value at synth (it names constructs or computes from
 * it): each fails naming the prop and why, never inside aws-cdk-lib or constructs.
 */

const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-input-tokens-'));
afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

const stackOf = (id: string) => new Stack(testApp(path.join(outdir, id)), id, { env: ENV });
const str = (stack: Stack, id = 'Value') => new CfnParameter(stack, id).valueAsString;

const CASES: [string, () => unknown, string][] = [
  ['a node group name from a parameter', () => {
    const stack = stackOf('NgNameToken');
    return new FxCluster(stack, 'Cluster', { nodeGroups: [{ name: str(stack) }] });
  }, "FxCluster at NgNameToken/Cluster: invalid nodeGroups[0].name '(a deploy-time token)'; allowed: a value known at synth: it names the node group's constructs and its fx.platform/node-group label"],
  ['a second node group name from a parameter', () => {
    const stack = stackOf('NgNameToken2');
    return new FxCluster(stack, 'Cluster', { nodeGroups: [{ name: 'system' }, { name: `batch-${str(stack)}` }] });
  }, "FxCluster at NgNameToken2/Cluster: invalid nodeGroups[1].name '(a deploy-time token)'; allowed: a value known at synth: it names the node group's constructs and its fx.platform/node-group label"],
  ...([
    ['addHelmChart', (c: FxCluster, id: string) => c.addHelmChart(id, { namespace: 'apps', chart: { chart: 'podinfo', repository: 'https://stefanprodan.github.io/podinfo', version: '6.7.1' } })],
    ['addManifest', (c: FxCluster, id: string) => c.addManifest(id, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'apps' } })],
    ['addPodIdentityServiceAccount', (c: FxCluster, id: string) => c.addPodIdentityServiceAccount(id, { name: 'worker', namespace: 'apps' })],
  ] as const).map(([method, call]): [string, () => unknown, string] => [`an ${method} id from a parameter`, () => {
    const stack = stackOf(`Id${method}`);
    const cluster = new FxCluster(stack, 'Cluster', {});
    return call(cluster, str(stack));
  }, `FxCluster at Id${method}/Cluster: invalid ${method} id '(a deploy-time token)'; allowed: a value known at synth: it is a construct id, and constructs cannot name a child after a deploy-time value`]),
  ['an addServiceRole id from a parameter', () => {
    const stack = stackOf('IdServiceRole');
    const database = new FxDatabase(stack, 'Database', { cluster: new FxCluster(stack, 'Cluster', {}) });
    return database.addServiceRole(str(stack), { name: 'orders' });
  }, "FxDatabase at IdServiceRole/Database: invalid addServiceRole id '(a deploy-time token)'; allowed: a value known at synth: it is a construct id, and constructs cannot name a child after a deploy-time value"],
];

describe('deploy-time values the library needs at synth', () => {
  test.each(CASES)('fails when %s', (_, run, message) => {
    expect(messageOf(run)).toBe(message);
  });
});
