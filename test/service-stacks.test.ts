import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { FxImage, FxMicroservice, FxProfile, FxServiceStacks } from '../src';
import { clusterWithAddons, ENV, testApp } from './util/fixtures';

/** Where each service lands when `names` are placed in this order. */
function placement(names: string[], props: { stackCount?: number } = {}): Map<string, string> {
  const app = new App();
  const stacks = new FxServiceStacks(app, 'Svc', { env: ENV, ...props });
  return new Map(names.map((n) => [n, stacks.stackFor(n).stackName]));
}

const NAMES = Array.from({ length: 60 }, (_, i) => `team-${i}`);

describe('FxServiceStacks places services by name', () => {
  test('inserting or removing a service moves no other service to another stack', () => {
    const before = placement(NAMES);
    const inserted = placement([...NAMES.slice(0, 7), 'payments-api', ...NAMES.slice(7)]);
    const removed = placement(NAMES.filter((n) => n !== 'team-3'));
    for (const n of NAMES) {
      expect({ n, stack: inserted.get(n) }).toEqual({ n, stack: before.get(n) });
      if (n !== 'team-3') expect({ n, stack: removed.get(n) }).toEqual({ n, stack: before.get(n) });
    }
    // The order of the calls does not matter either.
    const reversed = placement([...NAMES].reverse());
    for (const n of NAMES) expect(reversed.get(n)).toBe(before.get(n));
  });

  test('spreads services over the slots and raising stackCount moves only some of them', () => {
    const ten = placement(NAMES);
    expect(new Set(ten.values()).size).toBeGreaterThanOrEqual(8);
    const eleven = placement(NAMES, { stackCount: 11 });
    const moved = NAMES.filter((n) => ten.get(n) !== eleven.get(n));
    // Rendezvous hashing: a moved service moves only into the new stack.
    for (const n of moved) expect(eleven.get(n)).toBe('Svc11');
    expect(moved.length).toBeLessThan(NAMES.length / 4);
  });

  test('services in their stacks reference the platform cluster; only used stacks exist', () => {
    const app = testApp();
    const platform = new Stack(app, 'Platform', { env: ENV });
    const cluster = clusterWithAddons(platform, FxProfile.DEVELOPMENT);
    const stacks = new FxServiceStacks(app, 'Teams', { env: ENV, stackCount: 50 });
    for (const name of ['orders', 'billing']) {
      new FxMicroservice(stacks.stackFor(name), name, { cluster, serviceName: name, image: FxImage.fromRegistry(`ghcr.io/acme/${name}:1.0.0`) });
    }
    expect(stacks.stacks.length).toBeLessThanOrEqual(2);
    const first = Template.fromStack(stacks.stacks[0]);
    expect(JSON.stringify(first.toJSON())).toContain('Fn::ImportValue');
    expect(stacks.stacks[0].dependencies).toContain(platform);
  });

  test('fails at synth, naming the stack, when a stack would hold more than servicesPerStack', () => {
    const app = new App();
    const stacks = new FxServiceStacks(app, 'Tight', { env: ENV, stackCount: 2, servicesPerStack: 3 });
    for (const n of NAMES.slice(0, 10)) stacks.stackFor(n);
    expect(() => app.synth()).toThrow(/FxServiceStacks at Tight: invalid stackCount 2; stack Tight\d would hold \d+ services \(more than servicesPerStack 3\)/);
  });

  test('fails when a name is placed twice, or the props are out of range', () => {
    const app = new App();
    const stacks = new FxServiceStacks(app, 'S', { env: ENV });
    stacks.stackFor('orders');
    expect(() => stacks.stackFor('orders')).toThrow(/FxServiceStacks at S: invalid stackFor\(serviceName\) 'orders'; allowed: a name not placed before/);
    expect(() => new FxServiceStacks(app, 'A', { env: ENV, stackCount: 0 })).toThrow(/FxServiceStacks(?: at [^:]+)?: invalid stackCount 0; allowed: an integer from 1 to 100/);
    expect(() => new FxServiceStacks(app, 'B', { env: ENV, stackNamePrefix: 'my_services' }))
      .toThrow(/invalid stackNamePrefix 'my_services'; allowed: a CloudFormation stack name prefix: a letter, then letters, digits and - \(no _\)/);
  });
});
