import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import {
  FxAddonName, FxCapability, FxCertManagerAddon, FxCluster, FxClusterProps, FxClusterAutoscalerAddon, FxEfsAddon, FxExternalSecretsAddon,
  FxKarpenterAddon, FxLoadBalancerControllerAddon, FxMetricsServerAddon, FxNodeAutoscaler, FxTls, FxTraefikAddon, FxVeleroAddon, IFxAddon,
  IFxCluster,
} from '../src';
import { ENV, testApp, testZone } from './util/fixtures';
import { checkValues, loadChartData } from './util/helm-values';
import { FxVersions } from '../src/core/versions';

/** Cluster props that depend on the stack (a hosted zone): the add-ons that only some clusters have by default. */
type PropsOf = (stack: Stack) => FxClusterProps;

function build(props: FxClusterProps | PropsOf = {}) {
  const stack = new Stack(testApp(), 'Platform', { env: ENV });
  const cluster = new FxCluster(stack, 'Cluster', { platformName: 'fx', ...(typeof props === 'function' ? props(stack) : props) });
  return { stack, cluster, template: Template.fromStack(stack) };
}
const KARPENTER: PropsOf = () => ({ nodeAutoscaler: FxNodeAutoscaler.karpenter() });
const LETS_ENCRYPT: PropsOf = (stack) => ({ tls: FxTls.letsEncrypt({ hostedZone: testZone(stack), domainName: 'fx.example.com', email: 'ops@example.com' }) });
const NONE: PropsOf = () => ({});
/** The versions table's chart of a chart name, for its values data. */
const pinned = (chart: string) => Object.values(FxVersions.forKubernetes(FxVersions.DEFAULT_KUBERNETES_VERSION, 'test').charts).find((c) => c.chart === chart)!;
const releases = (t: Template) => Object.values(t.findResources('Custom::AWSCDK-EKS-HelmChart')).map((r) => r.Properties);
const release = (t: Template, chart: string) => releases(t).find((p) => p.Chart === chart);

/** Name, chart, a replacement with options, one extra value the chart has (checked against its values data), and the cluster props. */
const BUILT_INS: [string, string, (o: any) => IFxAddon, string, unknown, PropsOf][] = [
  [FxAddonName.METRICS_SERVER, 'metrics-server', (o) => new FxMetricsServerAddon(o), 'replicas', 3, NONE],
  [FxAddonName.LOAD_BALANCER_CONTROLLER, 'aws-load-balancer-controller', (o) => new FxLoadBalancerControllerAddon(o), 'logLevel', 'debug', NONE],
  [FxAddonName.TRAEFIK, 'traefik', (o) => new FxTraefikAddon(o), 'priorityClassName', 'system-cluster-critical', NONE],
  [FxAddonName.CLUSTER_AUTOSCALER, 'cluster-autoscaler', (o) => new FxClusterAutoscalerAddon(o), 'priorityClassName', 'system-cluster-critical', NONE],
  [FxAddonName.VELERO, 'velero', (o) => new FxVeleroAddon(o), 'priorityClassName', 'system-cluster-critical', NONE],
  [FxAddonName.EXTERNAL_SECRETS, 'external-secrets', (o) => new FxExternalSecretsAddon(o), 'priorityClassName', 'system-cluster-critical', NONE],
  [FxAddonName.KARPENTER, 'karpenter', (o) => new FxKarpenterAddon(o), 'logLevel', 'debug', KARPENTER],
  [FxAddonName.CERT_MANAGER, 'cert-manager', (o) => new FxCertManagerAddon(o), 'podLabels', { 'fx-test': 'extra' }, LETS_ENCRYPT],
];

// One synthesis per cluster variant and case, shared by the add-ons of that variant (memoized): the
// default set, every built-in of the variant removed, every built-in replaced with its extra values and
// a version of its own. Each add-on's test still asserts only its own release.
const memo = new Map<string, ReturnType<typeof build>>();
function once(key: string, make: () => ReturnType<typeof build>): ReturnType<typeof build> {
  if (!memo.has(key)) memo.set(key, make());
  return memo.get(key)!;
}
const ofVariant = (props: PropsOf) => BUILT_INS.filter((b) => b[5] === props);
const variantName = (props: PropsOf) => props === KARPENTER ? 'karpenter' : props === LETS_ENCRYPT ? 'letsencrypt' : 'none';
/** The built-ins of a variant, and Traefik with the Load Balancer Controller (it needs the controller). */
function removalsOf(props: PropsOf): string[] {
  const names = ofVariant(props).map((b) => b[0]);
  return names.includes(FxAddonName.LOAD_BALANCER_CONTROLLER) ? [...new Set([...names, FxAddonName.TRAEFIK])] : names;
}
/** A distinct version per add-on, so a replacement applied to the wrong release shows. */
const versionOf = (name: string) => `9.9.${BUILT_INS.findIndex((b) => b[0] === name)}`;

describe.each(BUILT_INS)('built-in add-on %s', (name, chart, _make, key, value, props) => {
  const variant = variantName(props);
  test('is installed by default', () => {
    expect(release(once(`default ${variant}`, () => build(props)).template, chart)).toBeDefined();
  });
  test('can be removed', () => {
    const { template, cluster } = once(`remove ${variant}`, () => build((s) => ({
      ...props(s),
      // Traefik needs the Load Balancer Controller: removing the controller removes it too.
      addons: { remove: removalsOf(props) },
    })));
    expect(release(template, chart)).toBeUndefined();
    expect(cluster.findAddon(name)).toBeUndefined();
  });
  test('takes extra values (deep-merged, keys the chart has) and a chart version', () => {
    const extra = { [key]: value };
    // The extra values are keys of the pinned chart: a misspelled key would be reported here.
    expect(checkValues(extra, loadChartData(chart, pinned(chart).version)!)).toEqual([]);
    const { template } = once(`replace ${variant}`, () => build((s) => ({
      ...props(s),
      addons: { replace: ofVariant(props).map(([n, , make, k, v]) => make({ values: { [k]: v }, version: versionOf(n) })) },
    })));
    const p = release(template, chart);
    expect(p.Version).toBe(versionOf(name));
    // Deploy-time values (Fn::Join parts) sit inside JSON strings: a stand-in keeps the JSON parseable.
    const values = JSON.parse(typeof p.Values === 'string' ? p.Values : p.Values['Fn::Join'][1].map((x: unknown) => typeof x === 'string' ? x : 'TOKEN').join(''));
    expect(values[key]).toEqual(typeof value === 'object' ? expect.objectContaining(value as object) : value);
  });
});

test('the shared EFS file system and its efs-sc class are an add-on: removable, replaceable', () => {
  const storageClasses = (t: Template) => Object.values(t.findResources('Custom::AWSCDK-EKS-KubernetesResource'))
    .flatMap((r) => JSON.stringify(r.Properties.Manifest).match(/efs\.csi\.aws\.com|ebs\.csi\.aws\.com/g) ?? []);
  const byDefault = build();
  byDefault.template.resourceCountIs('AWS::EFS::FileSystem', 1);
  expect(byDefault.cluster.findAddon(FxAddonName.EFS)).toBeInstanceOf(FxEfsAddon);
  expect(byDefault.cluster.fileSystem).toBeDefined();
  expect(storageClasses(byDefault.template)).toContain('efs.csi.aws.com');

  const removed = build({ addons: { remove: [FxAddonName.EFS] } });
  removed.template.resourceCountIs('AWS::EFS::FileSystem', 0);
  expect(removed.cluster.fileSystem).toBeUndefined();
  expect(storageClasses(removed.template)).not.toContain('efs.csi.aws.com');
  expect(storageClasses(removed.template)).toContain('ebs.csi.aws.com');

  // A replacement with its own mount role: the file system trusts that role, the efs-sc class names it.
  const { stack, cluster, template } = build((s) => ({
    addons: { replace: [new FxEfsAddon({ clientRole: iam.Role.fromRoleArn(s, 'Mounts', 'arn:aws:iam::123456789012:role/efs-mounts') })] },
  }));
  template.resourceCountIs('AWS::EFS::FileSystem', 1);
  expect(JSON.stringify(template.findResources('AWS::EFS::FileSystem'))).toContain('arn:aws:iam::123456789012:role/efs-mounts');
  expect(stack.resolve(cluster.fileSystem!.fileSystemId)).toEqual({ Ref: expect.stringMatching(/^ClusterFileSystem/) });
});

test('the chart values data catches a misspelled extra key', () => {
  expect(checkValues({ priorityClassNme: 'system-cluster-critical' }, loadChartData('karpenter', pinned('karpenter').version)!))
    .toEqual(['unknown values key priorityClassNme (did you mean priorityClassName?)']);
});

test('the Load Balancer Controller is removed with what needs it, replaced with values', () => {
  expect(release(build({ addons: { remove: [FxAddonName.LOAD_BALANCER_CONTROLLER, FxAddonName.TRAEFIK] } }).template, 'aws-load-balancer-controller')).toBeUndefined();
  const t = build({ addons: { replace: [new FxLoadBalancerControllerAddon({ version: '3.5.1' })] } }).template;
  expect(release(t, 'aws-load-balancer-controller').Version).toBe('3.5.1');
});

test('fails when a removed add-on is still needed', () => {
  expect(() => build({ addons: { remove: [FxAddonName.LOAD_BALANCER_CONTROLLER] } })).toThrow(/Platform\/Cluster\/Resource\/chart-Traefik needs 'aws-load-balancer-controller' but nothing on this cluster provides it/);
});

test('fails when remove or replace names no default add-on', () => {
  expect(() => build({ addons: { remove: ['nginx'] } })).toThrow("FxCluster at Platform/Cluster: invalid addons.remove 'nginx'; allowed: names of default add-ons of this cluster: "
    + 'efs, metrics-server, aws-load-balancer-controller, traefik, external-secrets, cluster-autoscaler, velero');
  expect(() => build({ addons: { replace: [new UserAddon('nginx', [], [])] } })).toThrow(/invalid addons.replace 'nginx'/);
});

test('fails when an add-on does not provide what it declares', () => {
  expect(() => build({ addons: { extra: [new UserAddon('liar', [], ['crd:example.com'], false)] } }))
    .toThrow(/invalid addons\[liar\].provides 'crd:example.com'; allowed: capabilities the add-on's install\(\) registers a provider for/);
});

test('EKS managed add-on versions can be overridden, exact eksbuild versions only', () => {
  build({ managedAddonVersions: { coreDns: 'v1.13.2-eksbuild.1' } }).template.hasResourceProperties('AWS::EKS::Addon', { AddonName: 'coredns', AddonVersion: 'v1.13.2-eksbuild.1' });
  expect(() => build({ managedAddonVersions: { coreDns: 'latest' } })).toThrow(/invalid managedAddonVersions.coreDns 'latest'; allowed: an exact EKS add-on version/);
});

class UserAddon implements IFxAddon {
  public chart?: eks.HelmChart;
  constructor(public readonly name: string, public readonly needs: string[], public readonly provides: string[], private readonly honest = true) {}
  public install(cluster: IFxCluster, _scope: Construct): void {
    this.chart = cluster.addHelmChart(`User${this.name}`, {
      chart: { chart: this.name, repository: 'https://charts.example.com', version: '1.0.0' },
      namespace: 'user',
      needs: this.needs,
      provides: this.honest ? this.provides : [],
    });
  }
}

test('a user-written add-on takes part in install order exactly like a built-in', () => {
  const widgets = new UserAddon('widgets', [FxCapability.TRAEFIK_CRDS], ['crd:widgets.example.com']);
  const gadgets = new UserAddon('gadgets', ['crd:widgets.example.com'], []);
  const { stack, cluster, template } = build({ addons: { extra: [gadgets, widgets] } });
  const id = (c: Construct) => stack.getLogicalId(c.node.defaultChild as any);
  const dependsOn = (c: Construct) => template.toJSON().Resources[id(c)].DependsOn as string[];
  expect(dependsOn(widgets.chart!)).toEqual(expect.arrayContaining([id(cluster.traefik!)]));
  expect(dependsOn(gadgets.chart!)).toEqual(expect.arrayContaining([id(widgets.chart!)]));
  expect(cluster.addons.map((a) => a.name).slice(-2)).toEqual(['gadgets', 'widgets']);
});
