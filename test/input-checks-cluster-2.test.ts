import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnParameter, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as cdk8s from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import {
  FxAccessLevel, FxAutoscalerExpander, FxCluster, FxClusterAutoscalerAddon, FxClusterProps, FxNodeAutoscaler, FxProfile, FxTls, IFxAddon, IFxCluster,
} from '../src';
import { ENV, messageOf, testApp, testZone } from './util/fixtures';

/**
 * More FxCluster input refused at synth with its exact message (repeated principals, ids and names,
 * manifests kubectl cannot apply, sizes no EC2 family has, add-on needs, environment-agnostic stacks),
 * and the legal values and tokens around each check, which pass.
 */

const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-input-cluster-2-'));
afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

let app: App;
let n = 0;
beforeAll(() => {
  app = testApp(path.join(outdir, 'cases'));
});

const stackOf = (id: string, env: { account: string; region: string } = ENV) => new Stack(app, id, { env });
const cluster = (id: string, props: FxClusterProps = {}) => new FxCluster(stackOf(id), 'Cluster', props);
const types = (...names: string[]) => names.map((t) => new ec2.InstanceType(t));
const nodeGroup = (id: string, ...names: string[]) => cluster(id, { nodeGroups: [{ name: 'a', instanceTypes: types(...names) }] });
const armPool = (id: string, instanceFamilies: string[], instanceSizes: string[]) => cluster(id, {
  nodeAutoscaler: FxNodeAutoscaler.karpenter({ nodePools: [{ name: 'arm', instanceFamilies, instanceSizes, architectures: [ec2.InstanceArchitecture.ARM_64] }] }),
});
const lab = (overrides: object) => FxProfile.custom(FxProfile.DEVELOPMENT, 'lab', overrides);
const configMap = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' } });

/** Messages of the construct validations of everything in the stack, without synthesizing it. */
function validationErrors(stack: Stack): string[] {
  return stack.node.findAll().flatMap((c: IConstruct) => c.node.validate());
}

/** An add-on of the user's that needs `needs` and installs one ConfigMap, or nothing. */
class NeedyAddon implements IFxAddon {
  public readonly provides: string[] = [];
  constructor(public readonly name: string, public readonly needs: string[], private readonly installs: boolean) {}
  public install(fx: IFxCluster, _scope: Construct): void {
    if (this.installs) fx.addManifest(`${this.name}-config`, configMap(this.name));
  }
}

/** An add-on of the user's that provides a capability through a ConfigMap. */
class ProviderAddon implements IFxAddon {
  public readonly needs: string[] = [];
  public manifest?: IConstruct;
  constructor(public readonly name: string, public readonly provides: string[]) {}
  public install(fx: IFxCluster, _scope: Construct): void {
    this.manifest = fx.addManifestWithOptions(`${this.name}-config`, { provides: this.provides }, configMap(this.name));
  }
}

/** An ingress of the user's named traefik: it provides Traefik's capabilities but does not read the cluster's tls. */
class OwnIngressAddon extends ProviderAddon {
  constructor() {
    super('traefik', ['crd:traefik.io', 'traefik:shared-middlewares']);
  }
}

const CASES: [string, () => unknown, string][] = [
  // ---- Access entries: one per principal
  ['two admin roles of one deploy-time ARN', () => {
    const s = stackOf('AdminToken');
    const arn = new CfnParameter(s, 'AdminArn').valueAsString;
    return new FxCluster(s, 'Cluster', { admins: [iam.Role.fromRoleArn(s, 'A', arn), iam.Role.fromRoleArn(s, 'B', arn)] });
  }, "FxCluster at AdminToken/Cluster: invalid admins[1] 'AdminToken/B'; allowed: each role once (it is admins[0] already)"],

  // ---- Instance types: the sizes of each family
  ['m7i.metal (m7i has metal-24xl and metal-48xl)', () => nodeGroup('M7iMetal', 'm7i.metal'),
    "FxCluster at M7iMetal/Cluster: invalid nodeGroups[0].instanceTypes 'm7i.metal'; allowed: an EC2 instance type such as m7i.large (family 'm7i' has sizes "
    + "large, xlarge, 2xlarge, 4xlarge, 8xlarge, 12xlarge, 16xlarge, 24xlarge, 48xlarge, metal-24xl, metal-48xl, not 'metal')"],
  ['m5.48xlarge', () => nodeGroup('M5Huge', 'm5.48xlarge'),
    "FxCluster at M5Huge/Cluster: invalid nodeGroups[0].instanceTypes 'm5.48xlarge'; allowed: an EC2 instance type such as m7i.large (family 'm5' has sizes "
    + "large, xlarge, 2xlarge, 4xlarge, 8xlarge, 12xlarge, 16xlarge, 24xlarge, metal, not '48xlarge')"],
  ['a Karpenter pool of c7g.48xlarge', () => armPool('C7gHuge', ['c7g'], ['48xlarge']),
    'FxCluster at C7gHuge/Cluster: invalid nodeAutoscaler.nodePools[0].instanceSizes ["48xlarge"]; allowed: sizes that family c7g has (family \'c7g\' has sizes '
    + "medium, large, xlarge, 2xlarge, 4xlarge, 8xlarge, 12xlarge, 16xlarge, metal, not '48xlarge')"],
  ['21 instance types in one node group', () => nodeGroup('Types21', ...['m5', 'm5a', 'm5d', 'm5n', 'm6i', 'm6a', 'm7i', 'm7a', 'c5', 'c5a', 'c6i', 'c6a', 'c7i',
    'c7a', 'r5', 'r5a', 'r6i', 'r6a', 'r7i', 'r7a', 'm6id'].map((f) => `${f}.large`)),
  "FxCluster at Types21/Cluster: invalid nodeGroups[0].instanceTypes '21 instance types'; allowed: at most 20 instance types (the EKS node group API limit with a launch template)"],

  // ---- Profile sizes named as the profile's
  ['a profile whose nodeDesiredSize is 0', () => cluster('ProfileNoNodes', { profile: lab({ nodeDesiredSize: 0, nodeMinSize: 0 }) }),
    'FxCluster at ProfileNoNodes/Cluster: invalid nodeDesiredSize (from profile lab) 0; allowed: at least 1, or a desiredSize of 1 or more on an untainted node group: '
    + "the platform's controllers, and the node autoscaler itself, need a node to start on"],

  // ---- Names unique per account and region, DNS records per zone
  ['the same clusterName twice in one account and region', () => {
    cluster('NameFirst', { clusterName: 'platform-eks' });
    return cluster('NameSecond', { clusterName: 'platform-eks' });
  }, "FxCluster at NameSecond/Cluster: invalid clusterName 'platform-eks'; allowed: a name no other FxCluster in the same account and region has "
    + '(NameFirst/Cluster has it: EKS cluster names are unique per account and region)'],
  ['the same clusterName twice in one environment-agnostic stack', () => {
    const s = new Stack(app, 'NameAgnostic');
    const zones = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
    new FxCluster(s, 'Blue', { clusterName: 'agnostic-eks', availabilityZones: zones });
    return new FxCluster(s, 'Green', { clusterName: 'agnostic-eks', availabilityZones: zones });
  }, "FxCluster at NameAgnostic/Green: invalid clusterName 'agnostic-eks'; allowed: a name no other FxCluster in the same account and region has "
    + '(NameAgnostic/Blue has it: EKS cluster names are unique per account and region)'],
  ['one TLS domain of one zone for two clusters of a stack', () => {
    const s = stackOf('TlsTwice');
    const tls = FxTls.acm({ hostedZone: testZone(s), domainName: 'shop.fx.example.com' });
    new FxCluster(s, 'Blue', { tls });
    return new FxCluster(s, 'Green', { tls });
  }, "FxCluster at TlsTwice/Green: invalid tls 'shop.fx.example.com'; allowed: a domain no other FxCluster of the stack serves in the same hosted zone "
    + '(TlsTwice/Blue writes its DNS records: the shop.fx.example.com and *.shop.fx.example.com records would be written twice)'],

  // ---- A stack without an env
  ['an environment-agnostic stack without availabilityZones', () => new FxCluster(new Stack(app, 'Agnostic'), 'Cluster'),
    'FxCluster at Agnostic/Cluster: invalid availabilityZones (undefined); allowed: 3 availability zones: stack Agnostic has no account and region (env), '
    + "so only 2 deploy-time zones are known; give the stack an env such as { account: '123456789012', region: 'us-east-1' } (the zones are then looked up), "
    + 'or set availabilityZones'],

  // ---- Add-ons
  ['a cluster-autoscaler expander that is not an FxAutoscalerExpander', () => cluster('AddonExpander', {
    addons: { replace: [new FxClusterAutoscalerAddon({ expander: 'priority' as FxAutoscalerExpander })] },
  }), "FxCluster at AddonExpander/Cluster: invalid FxClusterAutoscalerAddon.expander 'priority'; allowed: an FxAutoscalerExpander: least-waste, most-pods, random, least-nodes"],
  ['tls with an own add-on named traefik', () => {
    const s = stackOf('TlsOwnIngress');
    return new FxCluster(s, 'Cluster', { tls: FxTls.acm({ hostedZone: testZone(s), domainName: 'own.fx.example.com' }), addons: { replace: [new OwnIngressAddon()] } });
  }, "FxCluster at TlsOwnIngress/Cluster: invalid tls 'own.fx.example.com'; allowed: a cluster whose 'traefik' add-on is an FxTraefikAddon, which creates the "
    + "certificate, load balancer and DNS records of tls (the 'traefik' add-on given is a OwnIngressAddon): install an FxTraefikAddon, or leave tls unset and front your own ingress"],
];

describe('FxCluster input refused at synth with the exact message', () => {
  test.each(CASES)('fails on %s', (_, run, message) => {
    n++;
    expect(messageOf(run)).toBe(message);
  });
});

describe('cluster methods called after construction', () => {
  let platform: FxCluster;
  let stack: Stack;
  beforeAll(() => {
    platform = cluster('Methods', { platformName: 'fx' });
    stack = Stack.of(platform);
  });
  const chart = { chart: 'podinfo', repository: 'https://stefanprodan.github.io/podinfo', version: '6.9.2' };

  test('grantAccess: the same role and level twice; another level, an admin role and a new role pass', () => {
    const dev = iam.Role.fromRoleArn(stack, 'Dev', 'arn:aws:iam::123456789012:role/dev');
    platform.grantAccess(dev, ['apps'], FxAccessLevel.VIEW);
    expect(messageOf(() => platform.grantAccess(dev, ['batch'], FxAccessLevel.VIEW))).toBe(
      "FxCluster at Methods/Cluster: invalid grantAccess.role 'arn:aws:iam::123456789012:role/dev'; allowed: each role once per access level "
      + '(it has view access to apps already): list all its namespaces in one grantAccess call');
    const sameArn = iam.Role.fromRoleArn(stack, 'DevAgain', 'arn:aws:iam::123456789012:role/dev');
    expect(messageOf(() => platform.grantAccess(sameArn, ['batch'], FxAccessLevel.VIEW))).toMatch(/invalid grantAccess.role 'arn:aws:iam::123456789012:role\/dev'/);
    const token = iam.Role.fromRoleArn(stack, 'TokenRole', new CfnParameter(stack, 'RoleArn').valueAsString);
    platform.grantAccess(token, ['apps'], FxAccessLevel.EDIT);
    expect(messageOf(() => platform.grantAccess(token, ['apps'], FxAccessLevel.EDIT))).toBe(
      "FxCluster at Methods/Cluster: invalid grantAccess.role 'Methods/TokenRole'; allowed: each role once per access level "
      + '(it has edit access to apps already): list all its namespaces in one grantAccess call');
    expect(messageOf(() => platform.grantAccess(dev, ['apps'], 'view' as unknown as FxAccessLevel))).toBe(
      "FxCluster at Methods/Cluster: invalid grantAccess.level 'view'; allowed: FxAccessLevel.VIEW, FxAccessLevel.EDIT or FxAccessLevel.ADMIN");
    expect(() => platform.grantAccess(dev, ['batch'], FxAccessLevel.EDIT)).not.toThrow();
    expect(() => platform.grantAccess(iam.Role.fromRoleArn(stack, 'Ops', 'arn:aws:iam::123456789012:role/ops'), ['apps', 'batch'], FxAccessLevel.ADMIN)).not.toThrow();
  });

  test('pod identity service accounts: 1-character names, a token namespace, an id twice; 2 characters pass', () => {
    expect(messageOf(() => platform.addPodIdentityServiceAccount('OneName', { name: 'a', namespace: 'apps' }))).toBe(
      "FxCluster at Methods/Cluster: invalid addPodIdentityServiceAccount(OneName).name 'a'; allowed: at least 2 characters: aws-cdk-lib's "
      + 'eks.ServiceAccount refuses 1-character names (Kubernetes and EKS allow them)');
    expect(messageOf(() => platform.addPodIdentityServiceAccount('OneNs', { name: 'reader', namespace: 'a' }))).toBe(
      "FxCluster at Methods/Cluster: invalid addPodIdentityServiceAccount(OneNs).namespace 'a'; allowed: at least 2 characters: aws-cdk-lib's "
      + 'eks.ServiceAccount refuses 1-character names (Kubernetes and EKS allow them)');
    const namespace = new CfnParameter(stack, 'AccountNamespace').valueAsString;
    expect(messageOf(() => platform.addPodIdentityServiceAccount('TokenNs', { name: 'reader', namespace }))).toBe(
      "FxCluster at Methods/Cluster: invalid addPodIdentityServiceAccount(TokenNs).namespace '(a deploy-time token)'; allowed: a value known at synth: "
      + 'the ServiceAccount manifest and its pod identity association are written at synth');
    expect(() => platform.addPodIdentityServiceAccount('Reader', { name: 'ab', namespace: 'cd' })).not.toThrow();
    expect(messageOf(() => platform.addPodIdentityServiceAccount('Reader', { name: 'writer', namespace: 'cd' }))).toBe(
      "FxCluster at Methods/Cluster: invalid addPodIdentityServiceAccount id 'Reader'; allowed: an id not used by another construct in Methods/Cluster "
      + '(Methods/Cluster/Reader exists)');
  });

  test('manifests: an id twice, no objects, objects kubectl cannot apply; a List and a token name pass', () => {
    platform.addManifest('Config', configMap('config'));
    expect(messageOf(() => platform.addManifest('Config', configMap('other')))).toBe(
      "FxCluster at Methods/Cluster: invalid addManifest id 'Config'; allowed: an id not used by another construct in Methods/Cluster/Resource "
      + '(Methods/Cluster/Resource/manifest-Config exists)');
    expect(messageOf(() => platform.addManifest('Nothing'))).toBe(
      'FxCluster at Methods/Cluster: invalid addManifest(Nothing) []; allowed: at least one Kubernetes object (kubectl apply refuses an empty manifest)');
    // Objects are checked when the app is validated (synth), once complete.
    const problems = (id: string, ...objects: object[]) => platform.addManifest(id, ...objects).node.validate();
    expect(problems('EmptyObject', {})).toEqual([
      "FxCluster at Methods/Cluster: invalid addManifest(EmptyObject)[0].apiVersion (undefined); allowed: an API version such as 'v1' or 'apps/v1'",
    ]);
    expect(problems('NoKind', configMap('x'), { apiVersion: 'v1', metadata: { name: 'y' } })).toEqual([
      "FxCluster at Methods/Cluster: invalid addManifest(NoKind)[1].kind (undefined); allowed: a kind such as 'ConfigMap'",
    ]);
    expect(problems('Generated', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'cfg-' } })).toEqual([
      'FxCluster at Methods/Cluster: invalid addManifest(Generated)[0].metadata.name (undefined); allowed: a name (kubectl apply needs one; it does not create from generateName)',
    ]);
    expect(problems('NotObject', 'kind: ConfigMap' as unknown as object)).toEqual([
      "FxCluster at Methods/Cluster: invalid addManifest(NotObject)[0] 'kind: ConfigMap'; allowed: a Kubernetes object: { apiVersion, kind, metadata: { name } }",
    ]);
    expect(problems('List', { apiVersion: 'v1', kind: 'List', items: [configMap('listed')] })).toEqual([]);
    const name = new CfnParameter(stack, 'ConfigName').valueAsString;
    expect(problems('TokenName', configMap(name), { apiVersion: new CfnParameter(stack, 'Api').valueAsString, kind: 'Widget', metadata: { name: 'w' } })).toEqual([]);
  });

  test('cdk8s charts: an id twice and an empty chart', () => {
    const charts = new cdk8s.App();
    const chartOf = (id: string, objects: number) => {
      const c = new cdk8s.Chart(charts, id);
      for (let i = 0; i < objects; i++) new cdk8s.ApiObject(c, `o${i}`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${id}-${i}` } });
      return c;
    };
    platform.addCdk8sChart('Objects', chartOf('objects', 1));
    expect(messageOf(() => platform.addCdk8sChart('Objects', chartOf('again', 1)))).toBe(
      "FxCluster at Methods/Cluster: invalid addCdk8sChart id 'Objects'; allowed: an id not used by another construct in Methods/Cluster/Resource "
      + '(Methods/Cluster/Resource/Objects exists)');
    expect(messageOf(() => platform.addCdk8sChart('Empty', chartOf('empty', 0)))).toBe(
      "FxCluster at Methods/Cluster: invalid addCdk8sChart(Empty).chart 'empty'; allowed: a chart with at least one Kubernetes object (kubectl apply refuses an empty manifest)");
  });

  test('Helm chart versions: pre-release with build metadata passes; a dangling + fails', () => {
    expect(() => platform.addHelmChart('Rc', { chart: { ...chart, version: '1.2.3-rc.1+build.5' }, namespace: 'rc' })).not.toThrow();
    expect(() => platform.addHelmChart('Build', { chart: { ...chart, version: 'v6.9.2+20251201' }, namespace: 'build' })).not.toThrow();
    expect(messageOf(() => platform.addHelmChart('Dangling', { chart: { ...chart, version: '1.2.3+' }, namespace: 'dangling' }))).toBe(
      "FxCluster at Methods/Cluster: invalid addHelmChart(Dangling).version '1.2.3+'; allowed: an exact chart version such as 3.13.1 (no ranges, no latest)");
  });
});

describe('add-ons of the user: what they need is installed first', () => {
  test('a need nobody provides fails validation; a provided need orders the add-on\'s resources after its provider', () => {
    const s = new Stack(testApp(path.join(outdir, 'needs')), 'Needs', { env: ENV });
    const provider = new ProviderAddon('provider', ['crd:example.com']);
    const fx = new FxCluster(s, 'Cluster', {
      addons: {
        extra: [new NeedyAddon('installs', ['crd:example.org'], true), new NeedyAddon('nothing', ['crd:example.net'], false),
          new NeedyAddon('ordered', ['crd:example.com'], true), provider],
      },
    });
    expect(validationErrors(s).filter((m) => /example\.(org|net|com)/.test(m))).toEqual([
      "FxCluster at Needs/Cluster: add-on 'nothing' needs 'crd:example.net' but nothing on this cluster provides it; install an add-on whose provides lists "
      + "'crd:example.net' (IFxAddon) or a resource registered with registerProvider",
      "FxCluster at Needs/Cluster: Needs/Cluster/Resource/manifest-installs-config needs 'crd:example.org' but nothing on this cluster provides it; install an "
      + "add-on whose provides lists 'crd:example.org' (IFxAddon) or a resource registered with registerProvider",
    ]);
    const ordered = fx.cluster.node.findChild('manifest-ordered-config');
    expect(ordered.node.dependencies).toContain(provider.manifest);
  });
});

describe('legal values around the new checks', () => {
  test('real sizes of the families pass, in node groups and Karpenter pools, newer families and sizes included', () => {
    expect(() => nodeGroup('SizesOk', 'm7i.metal-48xl', 'm7i.48xlarge', 'm8i.metal-96xl', 'c8id.large', 'm5.24xlarge', 'm5.metal')).not.toThrow();
    expect(() => armPool('ArmSizesOk', ['c7g', 'm8g'], ['16xlarge', 'metal', '48xlarge'])).not.toThrow();
    expect(() => cluster('X86SizesOk', { nodeAutoscaler: FxNodeAutoscaler.karpenter({ nodePools: [{ name: 'big', instanceFamilies: ['m8i'], instanceSizes: ['metal-96xl'] }] }) }))
      .not.toThrow();
  });

  test('20 instance types in one node group', () => {
    expect(() => nodeGroup('Types20', ...['m5', 'm5a', 'm5d', 'm5n', 'm6i', 'm6a', 'm7i', 'm7a', 'c5', 'c5a', 'c6i', 'c6a', 'c7i', 'c7a', 'r5', 'r5a', 'r6i', 'r6a', 'r7i',
      'r7a'].map((f) => `${f}.large`))).not.toThrow();
  });

  test('one clusterName in two regions, a deploy-time name twice, one domain in two zones or two stacks; an agnostic stack with zones', () => {
    cluster('RegionA', { clusterName: 'regional-eks' });
    expect(() => new FxCluster(stackOf('RegionB', { account: ENV.account, region: 'eu-west-1' }), 'Cluster', { clusterName: 'regional-eks' })).not.toThrow();
    const s = stackOf('TokenNames');
    const name = new CfnParameter(s, 'Name').valueAsString;
    new FxCluster(s, 'Blue', { clusterName: name });
    expect(() => new FxCluster(s, 'Green', { clusterName: name })).not.toThrow();
    const zones = stackOf('TwoZones');
    const zone = (id: string, hostedZoneId: string) => FxTls.acm({
      hostedZone: route53.HostedZone.fromHostedZoneAttributes(zones, id, { hostedZoneId, zoneName: 'fx.example.com' }), domainName: 'two.fx.example.com',
    });
    new FxCluster(zones, 'Public', { tls: zone('PublicZone', 'Z0PUBLIC') });
    expect(() => new FxCluster(zones, 'Other', { tls: zone('OtherZone', 'Z0OTHER') })).not.toThrow();
    // Stacks of one app may be alternatives, deployed one at a time.
    const other = stackOf('TwoZonesToo');
    const publicZone = route53.HostedZone.fromHostedZoneAttributes(other, 'Zone', { hostedZoneId: 'Z0PUBLIC', zoneName: 'fx.example.com' });
    expect(() => new FxCluster(other, 'Public', { tls: FxTls.acm({ hostedZone: publicZone, domainName: 'two.fx.example.com' }) })).not.toThrow();
    expect(() => new FxCluster(new Stack(app, 'AgnosticZones'), 'Cluster', { availabilityZones: ['us-east-1a', 'us-east-1b', 'us-east-1c'] })).not.toThrow();
  });

  test('every case above ran', () => {
    expect(n).toBe(CASES.length);
  });
});
