import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnParameter, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { FxAddonName, FxCapability, FxCluster, FxImage, FxMicroservice, FxObservability, FxProfile, FxTls } from '../src';
import { clusterWithAddons, ENV, importedClusterNetwork, testApp, testZone } from './util/fixtures';
import { atConstruct, check, FxValidationError, nonInternetRangeOf, isIpv4Network, trackConstruct } from '../src/core/errors';
import { InstallOrder } from '../src/core/install-order';

/** Cloud assemblies of this file's apps, removed after it. */
const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-errors-'));
afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

class Outer extends Construct {
  constructor(scope: Construct, id: string, port: number) {
    super(scope, id);
    trackConstruct(this);
    new Inner(this, 'Inner', port);
  }
}
class Inner extends Construct {
  constructor(scope: Construct, id: string, port: number) {
    super(scope, id);
    validatePort(port);
  }
}
function validatePort(port: number): void {
  check(Number.isInteger(port) && port > 0, 'Outer', 'port', port, 'an integer from 1 to 65535');
}

describe('FxValidationError', () => {
  test('names the path of the tracked construct whose constructor raised it, from any depth', () => {
    const stack = new Stack(new App({ outdir: path.join(outdir, 'outer') }), 'Platform');
    const services = new Construct(stack, 'Services');
    expect(() => new Outer(services, 'Orders', 0)).toThrow('Outer at Platform/Services/Orders: invalid port 0; allowed: an integer from 1 to 65535');
    // A second instance: its own path, not the first one's.
    expect(() => new Outer(services, 'Billing', -1)).toThrow(/^Outer at Platform\/Services\/Billing: invalid port -1/);
  });

  test('outside a tracked constructor there is no path', () => {
    expect(() => validatePort(0)).toThrow(/^Outer: invalid port 0/);
  });

  test('a method called after construction names the construct it was called on; other errors pass unchanged', () => {
    const stack = new Stack(new App({ outdir: path.join(outdir, 'later') }), 'Platform');
    const scope = new Construct(stack, 'Observability');
    expect(() => atConstruct(scope, () => validatePort(0))).toThrow('Outer at Platform/Observability: invalid port 0; allowed: an integer from 1 to 65535');
    // Raised inside another tracked constructor: that path stays.
    expect(() => atConstruct(scope, () => new Outer(stack, 'Orders', 0))).toThrow(/^Outer at Platform\/Orders: invalid port 0/);
    expect(() => atConstruct(scope, () => { throw new Error('boom'); })).toThrow(/^boom$/);
    expect(atConstruct(scope, () => 42)).toBe(42);
  });

  test('prints the value as given: NaN and Infinity, not null', () => {
    expect(new FxValidationError('X', 'replicas', NaN, 'an integer').message).toBe('X: invalid replicas NaN; allowed: an integer');
    expect(new FxValidationError('X', 'replicas', Infinity, 'an integer').message).toContain('invalid replicas Infinity;');
    expect(new FxValidationError('X', 'name', undefined, 'a name').message).toContain('invalid name (undefined);');
  });
});

describe('CIDR helpers', () => {
  test.each([['10.0.0.0/16', true], ['10.0.0.5/16', false], ['0.0.0.0/0', true], ['192.168.1.128/25', true], ['192.168.1.129/25', false], ['x', false]])(
    'isIpv4Network(%s) = %s', (cidr, expected) => expect(isIpv4Network(cidr)).toBe(expected));
  test.each([['203.0.113.0/24', undefined], ['0.0.0.0/0', undefined], ['10.1.0.0/16', '10.0.0.0/8'], ['172.20.0.0/16', '172.16.0.0/12'],
    ['169.254.170.23/32', '169.254.0.0/16'], ['127.0.0.1/32', '127.0.0.0/8'], ['100.100.0.0/16', '100.64.0.0/10'], ['224.0.0.1/32', '224.0.0.0/4']])(
    'nonInternetRangeOf(%s) = %s', (cidr, expected) => expect(nonInternetRangeOf(cidr)).toBe(expected));
});

describe('errors of the Fx constructs name their construct path', () => {
  const env = { account: '123456789012', region: 'us-east-1' };
  const context = { 'availability-zones:account=123456789012:region=us-east-1': ['us-east-1a', 'us-east-1b', 'us-east-1c'] };

  test('FxCluster, raised in a helper below the constructor', () => {
    const stack = new Stack(new App({ context, outdir: path.join(outdir, 'cluster') }), 'Platform', { env });
    expect(() => new FxCluster(stack, 'Cluster', { vpcCidr: '10.0.0.0/24' }))
      .toThrow(/^FxCluster at Platform\/Cluster: invalid vpcCidr '10.0.0.0\/24'; allowed: a \/16 block/);
    expect(() => new FxCluster(stack, 'Other', { nodeGroups: [{ name: 'a', instanceTypes: [new ec2.InstanceType('m9z.large')] }] }))
      .toThrow(/^FxCluster at Platform\/Other: invalid nodeGroups\[0\]\.instanceTypes 'm9z.large'/);
  });

  test('FxMicroservice among many: the one whose props are wrong', () => {
    const stack = new Stack(new App({ context, builtinCloudFormationValidation: false, outdir: path.join(outdir, 'services') }), 'Platform', { env });
    const cluster = new FxCluster(stack, 'Cluster');
    const services = new Construct(stack, 'Services');
    const image = FxImage.fromRegistry('ghcr.io/acme/api:1.0.0');
    new FxMicroservice(services, 'Billing', { cluster, image, serviceName: 'billing' });
    expect(() => new FxMicroservice(services, 'Orders', { cluster, image, serviceName: 'orders', port: 0 }))
      .toThrow(/^FxMicroservice at Platform\/Services\/Orders: invalid port 0; allowed: /);
  });
});

describe('a needed capability nobody provides names the construct, the prop and the fix', () => {
  const image = FxImage.fromRegistry('ghcr.io/acme/api:1.0.0');
  /** Every validation message of the tree (what synthesis reports), without the cost of synthesizing. */
  const messages = (scope: Construct): string[] => scope.node.findAll().flatMap((c) => c.node.validate());

  let stack: Stack;
  beforeAll(() => {
    stack = new Stack(testApp(path.join(outdir, 'platform')), 'Platform', { env: ENV });
    const cluster = clusterWithAddons(stack, FxProfile.DEVELOPMENT, { addons: { remove: [FxAddonName.EXTERNAL_SECRETS] } });
    new FxMicroservice(stack, 'Billing', { cluster, image, secretEnv: [{ secret: secretsmanager.Secret.fromSecretNameV2(stack, 'Jwt', 'fx/jwt') }] });
  });

  test("FxMicroservice 'route' with Traefik removed: the imported cluster's tls has no Traefik to front", () => {
    const s = new Stack(testApp(path.join(outdir, 'routed')), 'Routed', { env: ENV });
    const { vpc, kubectlProvider } = importedClusterNetwork(s);
    const cluster = FxCluster.fromClusterAttributes(s, 'Cluster', {
      clusterName: 'shared-eks',
      vpc,
      clusterSecurityGroupId: 'sg-0123456789abcdef0',
      kubectlProvider,
      platformName: 'fx',
      tls: FxTls.acm({ hostedZone: testZone(s), domainName: 'fx.example.com' }),
      installedCapabilities: [FxCapability.NODES, FxCapability.POD_IDENTITY],
    });
    new FxMicroservice(s, 'Orders', { cluster, image, route: { host: 'api.fx.example.com' } });
    expect(messages(s.node.findChild('Orders'))).toEqual([
      "FxCluster.fromClusterAttributes at Routed/Cluster: Routed/Orders/Manifest needs 'crd:traefik.io' but nothing on this cluster provides it "
      + "(needed by FxMicroservice at Routed/Orders: prop 'route'); install the 'traefik' add-on (FxTraefikAddon), or list 'crd:traefik.io' "
      + 'in installedCapabilities if the cluster already has it',
    ]);
  });

  test('a cluster whose tls has no Traefik to front fails (the certificate and records would never be made)', () => {
    const s = new Stack(testApp(path.join(outdir, 'notraefik')), 'NoTraefik', { env: ENV });
    expect(() => clusterWithAddons(s, FxProfile.DEVELOPMENT, { addons: { remove: [FxAddonName.TRAEFIK] } })).toThrow(
      "FxCluster at NoTraefik/Cluster: invalid tls 'fx.example.com'; allowed: a cluster with Traefik: the certificate, load balancer and DNS records "
      + 'front it (keep the built-in traefik, add your own FxTraefikAddon in addons.extra, or leave tls unset)');
  });

  test("FxMicroservice 'secretEnv' with External Secrets removed", () => {
    const reason = "(needed by FxMicroservice at Platform/Billing: prop 'secretEnv', 'database' or 'route.basicAuth', which External Secrets syncs)";
    expect(messages(stack.node.findChild('Billing'))).toEqual(['crd:external-secrets.io', 'webhook:external-secrets'].map((capability) =>
      `FxCluster at Platform/Cluster: Platform/Billing/Manifest needs '${capability}' but nothing on this cluster provides it ${reason}; `
      + `add-on 'external-secrets' was removed by addons.remove of FxCluster at Platform/Cluster: keep it, or install an add-on that provides '${capability}' (addons.replace or addons.extra)`));
  });

  test('FxObservability on an imported cluster without storage classes: what installs them, or installedCapabilities', () => {
    const s = new Stack(testApp(path.join(outdir, 'shared')), 'Shared', { env: ENV });
    const { vpc, kubectlProvider } = importedClusterNetwork(s);
    const cluster = FxCluster.fromClusterAttributes(s, 'Cluster', {
      clusterName: 'shared-eks',
      vpc,
      clusterSecurityGroupId: 'sg-0123456789abcdef0',
      kubectlProvider,
      platformName: 'fx',
      installedCapabilities: [FxCapability.NODES, FxCapability.POD_IDENTITY],
      openIdConnectProvider: iam.OidcProviderNative.fromOidcProviderArn(s, 'Oidc', 'arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE'),
    });
    new FxObservability(s, 'Observability', { cluster, alarmEmails: ['ops@example.com'] });
    const secrets = "(needed by FxObservability at Shared/Observability: the Grafana admin secret and props 'slackWebhook' and 'pagerDutyKey', which External Secrets syncs)";
    expect(messages(s)).toEqual([
      ...['crd:external-secrets.io', 'webhook:external-secrets'].map((capability) => 'FxCluster.fromClusterAttributes at Shared/Cluster: '
        + `Shared/Cluster/Resource/manifest-MonitoringSecrets needs '${capability}' but nothing on this cluster provides it ${secrets}; `
        + `install the 'external-secrets' add-on (FxExternalSecretsAddon), or list '${capability}' in installedCapabilities if the cluster already has it`),
      "FxCluster.fromClusterAttributes at Shared/Cluster: Shared/Cluster/Resource/chart-KubePrometheusStack needs 'storage-classes' "
      + "but nothing on this cluster provides it (needed by FxObservability at Shared/Observability: prop 'prometheusStorage' and the other volumes, "
      + "on the gp3 StorageClass); install the storage classes (FxCluster installs them), or list 'storage-classes' in installedCapabilities if the cluster already has it",
    ]);
  });

  test('a consumer created outside any Fx construct: the registry names what installs the capability', () => {
    const root = new Construct(undefined as any, 'Root');
    const order = new InstallOrder('FxCluster');
    const rule = new Construct(root, 'Rule');
    order.require(rule, FxCapability.PROMETHEUS_OPERATOR_CRDS);
    expect(rule.node.validate()).toEqual(["FxCluster: Root/Rule needs 'crd:monitoring.coreos.com' but nothing on this cluster provides it; "
      + 'install an FxObservability on this cluster (its kube-prometheus-stack installs the Prometheus operator CRDs)']);
    const custom = new Construct(root, 'Custom');
    order.require(custom, 'crd:example.com');
    expect(custom.node.validate()).toEqual(["FxCluster: Root/Custom needs 'crd:example.com' but nothing on this cluster provides it; "
      + "install an add-on whose provides lists 'crd:example.com' (IFxAddon) or a resource registered with registerProvider"]);
  });
});

describe('deploy-time values in messages', () => {
  test('are described, never printed as their encoding', () => {
    const stack = new Stack();
    const text = new CfnParameter(stack, 'Text').valueAsString;
    const count = new CfnParameter(stack, 'Count', { type: 'Number' }).valueAsNumber;
    const cidrs = new CfnParameter(stack, 'Cidrs', { type: 'CommaDelimitedList' }).valueAsList;
    const message = (value: unknown) => new FxValidationError('FxX', 'p', value, 'x').message;
    expect(message(text)).toBe("FxX: invalid p '(a deploy-time token)'; allowed: x");
    expect(message(count)).toBe("FxX: invalid p '(a deploy-time token)'; allowed: x");
    expect(message(`ghcr.io/Acme/${text}`)).toBe("FxX: invalid p 'ghcr.io/Acme/<token>'; allowed: x");
    expect(message({ errorRatio: count, host: `a.${text}` })).toBe('FxX: invalid p {"errorRatio":"<token>","host":"a.<token>"}; allowed: x');
    expect(message([cidrs[0], '10.0.0.0/8'])).toBe('FxX: invalid p ["<token>","10.0.0.0/8"]; allowed: x');
    // Literal values as given.
    expect(message(NaN)).toBe('FxX: invalid p NaN; allowed: x');
    expect(message({ a: 1, b: 'Token' })).toBe('FxX: invalid p {"a":1,"b":"Token"}; allowed: x');
  });
});
