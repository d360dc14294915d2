import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Construct } from 'constructs';
import {
  FxCapability, FxCluster, FxDatabase, FxImage, FxMicroservice, FxNodeAutoscaler, FxObservability, FxProfile, FxServiceStacks, FxTls,
} from '../src';
import { ENV, testApp, testZone } from './util/fixtures';
import { keptLogicalIds, KUBERNETES_TYPES, oneStackLayout } from './util/layouts';

const SERVICES = ['orders-api', 'inventory-api', 'billing-api'];

function productionCluster(stack: Stack): FxCluster {
  return new FxCluster(stack, 'Cluster', {
    profile: FxProfile.PRODUCTION,
    platformName: 'fx',
    tls: FxTls.acm({ hostedZone: testZone(stack), domainName: 'fx.example.com' }),
    endpointAllowlist: ['203.0.113.0/24'],
    nodeAutoscaler: FxNodeAutoscaler.karpenter(),
  });
}

/** Paths of the stacks each stack depends on. */
function dependencyGraph(stacks: Stack[]): Record<string, string[]> {
  return Object.fromEntries(stacks.map((s) => [s.stackName, s.dependencies.map((d) => d.stackName).sort()]));
}

function kubernetesResources(stack: Stack): string[] {
  const t = Template.fromStack(stack).toJSON();
  return Object.entries(t.Resources as Record<string, any>).filter(([, r]) => KUBERNETES_TYPES.includes(r.Type)).map(([id]) => id);
}

describe('layouts', () => {
  test('(a) cluster, database, observability and service stacks: no cyclic reference, every stack after the cluster\'s', () => {
    const app = testApp();
    const clusterStack = new Stack(app, 'Cluster', { env: ENV });
    const cluster = productionCluster(clusterStack);
    const dataStack = new Stack(app, 'Data', { env: ENV });
    const database = new FxDatabase(dataStack, 'Database', { cluster, databaseName: 'orders' });
    const observabilityStack = new Stack(app, 'Observability', { env: ENV });
    const observability = new FxObservability(observabilityStack, 'Observability', { cluster, alarmEmails: ['ops@example.com'] });
    const services = new FxServiceStacks(app, 'Services', { env: ENV });
    for (const name of SERVICES) {
      new FxMicroservice(services.stackFor(name), name, {
        cluster,
        database,
        observability,
        serviceName: name,
        image: FxImage.fromRegistry(`ghcr.io/acme/${name}:1.0.0`),
        port: 8080,
        route: { host: `${name}.fx.example.com` },
      });
    }

    expect(() => app.synth()).not.toThrow();
    const platform = [clusterStack, dataStack, observabilityStack];
    const graph = dependencyGraph([...platform, ...services.stacks]);
    expect(graph.Cluster).toEqual([]);
    expect(graph.Data).toEqual(['Cluster']);
    expect(graph.Observability).toEqual(['Cluster']);
    expect(services.stacks.length).toBeGreaterThan(1);
    for (const s of services.stacks) expect(graph[s.stackName]).toEqual(['Cluster', 'Data', 'Observability']);

    // Each stack holds its own Kubernetes resources; the cluster's stack imports nothing.
    const clusterTemplate = JSON.stringify(Template.fromStack(clusterStack).toJSON());
    expect(clusterTemplate).not.toContain('Fn::ImportValue');
    for (const id of kubernetesResources(clusterStack)) expect(id).not.toMatch(/KubePrometheusStack|EckOperator|FluentBit|Grafana|Monitoring/);
    const observabilityIds = kubernetesResources(observabilityStack);
    for (const part of ['KubePrometheusStack', 'EckOperator', 'FluentBit', 'MonitoringNamespace', 'Elasticsearch', 'MonitoringAlertmanagerServiceAccount']) {
      expect({ part, found: observabilityIds.some((id) => id.includes(part)) }).toEqual({ part, found: true });
    }
    for (const s of [dataStack, ...services.stacks]) {
      expect(Object.keys(Template.fromStack(s).toJSON().Resources).length).toBeGreaterThan(0);
    }
    expect(kubernetesResources(dataStack)).toEqual([]);
    for (const s of services.stacks) expect(kubernetesResources(s).length).toBeGreaterThan(0);
  });

  test('(b) everything in one stack: every Helm release, manifest and retained resource keeps its logical ID', () => {
    const app = testApp();
    const stacks = oneStackLayout(app);
    const now = new Set(stacks.flatMap((s) => keptLogicalIds(s, Template.fromStack(s).toJSON())));
    const before = JSON.parse(fs.readFileSync(path.join(__dirname, 'data', 'layouts', 'one-stack-logical-ids.json'), 'utf-8')) as {
      logicalIds: string[]; removedSince: Record<string, string>;
    };
    const removed = Object.keys(before.removedSince);
    const expected = before.logicalIds.filter((x) => !removed.some((r) => { const [type, id] = r.split(' '); return x.endsWith(`/${id} ${type}`); }));
    expect(expected.length).toBeGreaterThan(80);
    expect(expected.filter((x) => !now.has(x))).toEqual([]);
  });

  test('(c) services spread by FxServiceStacks, cluster, database and observability in the platform stack', () => {
    const app = testApp();
    const platform = new Stack(app, 'Platform', { env: ENV });
    const cluster = productionCluster(platform);
    const database = new FxDatabase(platform, 'Database', { cluster, databaseName: 'orders' });
    const observability = new FxObservability(platform, 'Observability', { cluster, alarmEmails: ['ops@example.com'] });
    const services = new FxServiceStacks(app, 'Services', { env: ENV });
    for (const name of SERVICES) {
      new FxMicroservice(services.stackFor(name), name, {
        cluster, database, observability, serviceName: name, image: FxImage.fromRegistry(`ghcr.io/acme/${name}:1.0.0`), port: 8080,
      });
    }
    expect(() => app.synth()).not.toThrow();
    const graph = dependencyGraph([platform, ...services.stacks]);
    expect(graph.Platform).toEqual([]);
    for (const s of services.stacks) expect(graph[s.stackName]).toEqual(['Platform']);
    // The monitoring stack stays under the cluster, where it always was.
    expect(kubernetesResources(platform)).toContain('ClusterchartKubePrometheusStackBDD7BB8B');
  });
});

describe('install order across stacks', () => {
  function twoStacks() {
    const app = new App();
    const clusterStack = new Stack(app, 'Cluster', { env: ENV });
    const cluster = new FxCluster(clusterStack, 'Cluster', { platformName: 'fx' });
    const other = new Stack(app, 'Other', { env: ENV });
    return { app, clusterStack, cluster, other };
  }

  test('scopeFor keeps resources under the cluster in its stack and in the caller elsewhere', () => {
    const { cluster, clusterStack, other } = twoStacks();
    const here = new Construct(clusterStack, 'Here');
    const there = new Construct(other, 'There');
    expect(cluster.scopeFor(here)).toBe(cluster);
    expect(cluster.scopeFor(there)).toBe(there);
    const chart = cluster.addHelmChart('Extra', { chart: cluster.versions.charts.metricsServer, namespace: 'extra', scope: there });
    expect(chart.node.path).toBe('Other/There/Extra');
    const manifest = cluster.addManifestWithOptions('Objects', { scope: there, needs: [FxCapability.METRICS_API] }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } });
    expect(manifest.node.path).toBe('Other/There/Objects');
    const sa = cluster.addPodIdentityServiceAccount('Account', { name: 'extra-sa', namespace: 'extra', scope: there });
    expect(sa.node.path).toBe('Other/There/Account');
    const local = cluster.addManifestWithOptions('Local', { scope: here }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'y' } });
    expect(local.node.path).toBe('Cluster/Cluster/Resource/manifest-Local');
    expect(Stack.of(chart)).toBe(other);
  });

  test('fails when something in the cluster\'s stack needs a capability provided in another stack, in either order', () => {
    const message = "FxCluster at Cluster/Cluster: invalid needs of Cluster/Cluster/Resource/manifest-Consumer 'crd:example.com'; "
      + "allowed: capabilities provided in the cluster's stack Cluster; 'crd:example.com' is provided by Other/Provider in stack Other, "
      + "which deploys after the cluster's stack (it references the cluster): create Cluster/Cluster/Resource/manifest-Consumer in that stack "
      + "or a later one, or provide 'crd:example.com' in the cluster's stack";
    {
      const { cluster, other } = twoStacks();
      cluster.registerProvider(new Construct(other, 'Provider'), 'crd:example.com');
      expect(() => cluster.addManifestWithOptions('Consumer', { needs: ['crd:example.com'] }, { kind: 'x' })).toThrow(message);
    }
    {
      const { cluster, other } = twoStacks();
      cluster.addManifestWithOptions('Consumer', { needs: ['crd:example.com'] }, { kind: 'x' });
      expect(() => cluster.registerProvider(new Construct(other, 'Provider'), 'crd:example.com')).toThrow(message);
    }
  });

  test('fails when an FxMicroservice in the cluster\'s stack reports to an FxObservability in a later stack', () => {
    const app = testApp();
    const clusterStack = new Stack(app, 'Cluster', { env: ENV });
    const cluster = new FxCluster(clusterStack, 'Cluster', { platformName: 'fx' });
    const observability = new FxObservability(new Stack(app, 'Observability', { env: ENV }), 'Observability', { cluster, alarmEmails: ['ops@example.com'] });
    expect(() => new FxMicroservice(clusterStack, 'Orders', { cluster, observability, image: FxImage.fromRegistry('ghcr.io/acme/orders:1.0.0'), port: 8080 }))
      .toThrow(/^FxCluster at Cluster\/Cluster: invalid needs of Cluster\/Orders\/Manifest 'crd:monitoring.coreos.com'; allowed: capabilities provided in the cluster's stack Cluster; 'crd:monitoring.coreos.com' is provided by Observability\/Observability\/KubePrometheusStack in stack Observability/);
  });

  test('fails on a second FxObservability of the cluster, in another stack too', () => {
    const app = testApp();
    const cluster = new FxCluster(new Stack(app, 'Cluster', { env: ENV }), 'Cluster', { platformName: 'fx' });
    new FxObservability(new Stack(app, 'Observability', { env: ENV }), 'Observability', { cluster });
    expect(() => new FxObservability(new Stack(app, 'Again', { env: ENV }), 'Observability', { cluster })).toThrow(
      "FxObservability at Again/Observability: invalid cluster 'Cluster/Cluster'; allowed: a cluster without another FxObservability (one monitoring stack per cluster)");
  });

  test('fails when two stacks other than the cluster\'s would wait for each other', () => {
    const { app, cluster, other } = twoStacks();
    const third = new Stack(app, 'Third', { env: ENV });
    cluster.registerProvider(new Construct(other, 'A'), 'cap-a');
    cluster.registerProvider(new Construct(third, 'B'), 'cap-b');
    cluster.installAfter(new Construct(third, 'NeedsA'), 'cap-a');
    expect(() => cluster.installAfter(new Construct(other, 'NeedsB'), 'cap-b')).toThrow(
      "FxCluster at Cluster/Cluster: invalid needs of Other/NeedsB 'cap-b'; allowed: capabilities of stacks that do not wait for stack Other; "
      + "'cap-b' is provided by Third/B in stack Third, which already waits for it (Third -> Other): move one of them so that the stacks deploy in one order");
    // The same dependency inside one stack is fine.
    expect(() => cluster.installAfter(new Construct(third, 'AlsoNeedsB'), 'cap-b')).not.toThrow();
  });
});
