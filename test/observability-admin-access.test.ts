import { App, CfnParameter, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { FxCluster, FxClusterProps, FxObservability, FxObservabilityProps, FxProfile, FxTls } from '../src';
import { kubernetesObjectsOf } from './util/manifests';

type Json = Record<string, any>;
const ENV = { account: '123456789012', region: 'us-east-1' };
const AZS = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
const ADMIN = '203.0.113.0/24';

interface Built { stack: Stack; observability: FxObservability; objects: Json[]; template: Template }

function build(profile: FxProfile, cluster: Partial<FxClusterProps>, props: Partial<FxObservabilityProps> = {}, tls: 'acm' | 'le' | 'none' = 'acm'): Built {
  const app = new App({ builtinCloudFormationValidation: false, context: { [`availability-zones:account=${ENV.account}:region=${ENV.region}`]: AZS } });
  const stack = new Stack(app, 'Platform', { env: ENV });
  const zone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z123456', zoneName: 'example.com' });
  const domain = {
    acm: { tls: FxTls.acm({ hostedZone: zone, domainName: 'fx.example.com' }) },
    le: { tls: FxTls.letsEncrypt({ hostedZone: zone, domainName: 'fx.example.com', email: 'ops@example.com' }) },
    none: {},
  }[tls];
  const fx = new FxCluster(stack, 'Cluster', { profile, platformName: 'fx', ...domain, ...cluster });
  // ELK (Kibana's route) only where a test looks at it: it doubles the synthesis.
  const observability = new FxObservability(stack, 'Observability', { cluster: fx, elk: false, ...props });
  const template = Template.fromStack(stack);
  return { stack, observability, template, objects: kubernetesObjectsOf(template, 'TOKEN') };
}

function find(objects: Json[], kind: string, name: string, namespace: string): Json | undefined {
  return objects.find((o) => o.kind === kind && o.metadata?.name === name && o.metadata?.namespace === namespace);
}

/** The manifest resource holding an object, by the object's kind/name/namespace. */
function manifestOf(template: Template, kind: string, name: string, namespace: string): string {
  const ids = Object.entries(template.findResources('Custom::AWSCDK-EKS-KubernetesResource')).filter(([, r]) => {
    const objects = kubernetesObjectsOf(Template.fromJSON({ Resources: { X: r } }), 'TOKEN');
    return find(objects, kind, name, namespace) !== undefined;
  }).map(([id]) => id);
  expect(ids).toHaveLength(1);
  return ids[0];
}

describe('Grafana and Kibana behind the admin allowlist (ACM path, production, endpoint allowlisted)', () => {
  let b: Built;
  beforeAll(() => {
    b = build(FxProfile.PRODUCTION, { endpointAllowlist: [ADMIN, '198.51.100.7/32'] }, { elk: true });
  });

  test('defaults to the cluster endpoint allowlist, checked on the last X-Forwarded-For entry the ALB appends', () => {
    expect(b.observability.adminCidrs).toEqual([ADMIN, '198.51.100.7/32']);
    for (const ns of ['monitoring', 'logging']) {
      expect(find(b.objects, 'Middleware', 'fx-admin-allowlist', ns)?.spec).toEqual({
        ipAllowList: { sourceRange: [ADMIN, '198.51.100.7/32'], ipStrategy: { depth: 1 } },
      });
    }
  });

  test('the allowlist is the first middleware of both routes and ships in the same manifest as the route', () => {
    const grafana = find(b.objects, 'IngressRoute', 'grafana', 'monitoring')!;
    expect(grafana.spec.routes[0].middlewares).toEqual([
      { name: 'fx-admin-allowlist', namespace: 'monitoring' },
      { name: 'fx-secure-headers', namespace: 'traefik' },
    ]);
    const kibana = find(b.objects, 'IngressRoute', 'kibana', 'logging')!;
    expect(kibana.spec.routes[0].middlewares).toEqual([
      { name: 'fx-admin-allowlist', namespace: 'logging' },
      { name: 'fx-secure-headers', namespace: 'traefik' },
    ]);
    expect(manifestOf(b.template, 'Middleware', 'fx-admin-allowlist', 'monitoring')).toBe(manifestOf(b.template, 'IngressRoute', 'grafana', 'monitoring'));
    expect(manifestOf(b.template, 'Middleware', 'fx-admin-allowlist', 'logging')).toBe(manifestOf(b.template, 'IngressRoute', 'kibana', 'logging'));
  });

  test('Traefik trusts X-Forwarded-For only from the VPC, so depth 1 is the address the ALB saw', () => {
    const traefik = Object.values(b.template.findResources('Custom::AWSCDK-EKS-HelmChart', { Properties: { Release: 'traefik' } }))[0];
    // The VPC's CIDR block, a deploy-time attribute of the VPC.
    expect(JSON.stringify(traefik.Properties.Values)).toMatch(/forwardedHeaders.{1,12}trustedIPs.{1,12}\[.{1,12}","?\{"Fn::GetAtt":\["ClusterNetwork[0-9A-F]{8}","CidrBlock"\]\}/);
  });
});

describe('admin allowlist choices', () => {
  test('adminCidrs replaces the default', () => {
    const b = build(FxProfile.PRODUCTION, { endpointAllowlist: [ADMIN] }, { adminCidrs: ['192.0.2.0/24'] });
    expect(find(b.objects, 'Middleware', 'fx-admin-allowlist', 'monitoring')?.spec.ipAllowList.sourceRange).toEqual(['192.0.2.0/24']);
    expect(b.observability.adminCidrs).toEqual(['192.0.2.0/24']);
  });

  test('behind the NLB (Let\'s Encrypt) the preserved client address itself is checked: no ipStrategy', () => {
    const b = build(FxProfile.DEVELOPMENT, { endpointAllowlist: [ADMIN] }, {}, 'le');
    expect(find(b.objects, 'Middleware', 'fx-admin-allowlist', 'monitoring')?.spec).toEqual({ ipAllowList: { sourceRange: [ADMIN] } });
    expect(find(b.objects, 'IngressRoute', 'grafana', 'monitoring')?.spec.entryPoints).toEqual(['websecure']);
  });

  test('a private endpoint defaults to the VPC CIDR, which no client of the internet-facing load balancer presents', () => {
    const b = build(FxProfile.PRODUCTION, { privateEndpointOnly: true });
    // The VPC CIDR (10.0.0.0/16) is the VPC's CidrBlock attribute in the template.
    expect(find(b.objects, 'Middleware', 'fx-admin-allowlist', 'monitoring')?.spec.ipAllowList.sourceRange).toEqual(['TOKEN']);
    const route = b.template.toJSON().Resources[manifestOf(b.template, 'Middleware', 'fx-admin-allowlist', 'monitoring')];
    expect(JSON.stringify(route.Properties.Manifest)).toMatch(/sourceRange.{1,12}\[.{1,12}","?\{"Fn::GetAtt":\["ClusterNetwork[0-9A-F]{8}","CidrBlock"\]\}/);
    expect(b.observability.adminCidrs).toHaveLength(1);
  });

  test('without a domain nothing is routed and there is no allowlist middleware', () => {
    const b = build(FxProfile.PRODUCTION, {}, {}, 'none');
    expect(b.objects.filter((o) => o.kind === 'Middleware' || o.kind === 'IngressRoute')
      .filter((o) => ['monitoring', 'logging'].includes(o.metadata.namespace))).toEqual([]);
    expect(b.observability.adminCidrs).toEqual([]);
  });

  test('development with an endpoint open to the world: the dashboards accept 0.0.0.0/0, with a warning', () => {
    const b = build(FxProfile.DEVELOPMENT, {});
    expect(find(b.objects, 'Middleware', 'fx-admin-allowlist', 'monitoring')?.spec.ipAllowList.sourceRange).toEqual(['0.0.0.0/0']);
    Annotations.fromStack(b.stack).hasWarning('/Platform/Observability', Match.stringLikeRegexp(
      "FxObservability: Grafana and Kibana accept 0\\.0\\.0\\.0/0 \\(the cluster's endpointAllowlist is unset\\); set adminCidrs to the operators' CIDR blocks"));
  });

  test('an explicit 0.0.0.0/0 is accepted with a warning', () => {
    const b = build(FxProfile.PRODUCTION, { endpointAllowlist: [ADMIN] }, { adminCidrs: ['0.0.0.0/0'] });
    expect(find(b.objects, 'Middleware', 'fx-admin-allowlist', 'monitoring')?.spec.ipAllowList.sourceRange).toEqual(['0.0.0.0/0']);
    Annotations.fromStack(b.stack).hasWarning('/Platform/Observability', Match.stringLikeRegexp(
      'adminCidrs includes 0\\.0\\.0\\.0/0: Grafana and Kibana are reachable from the whole internet behind their own logins only'));
  });

  test('deploy-time values pass unvalidated and stay tokens', () => {
    const app = new App({ builtinCloudFormationValidation: false, context: { [`availability-zones:account=${ENV.account}:region=${ENV.region}`]: AZS } });
    const withCluster = (id: string) => {
      const stack = new Stack(app, id, { env: ENV });
      const zone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z123456', zoneName: 'example.com' });
      const tls = FxTls.acm({ hostedZone: zone, domainName: 'fx.example.com' });
      return { stack, cluster: new FxCluster(stack, 'Cluster', { profile: FxProfile.PRODUCTION, platformName: id.toLowerCase(), endpointAllowlist: [ADMIN], tls }) };
    };
    const list = withCluster('List');
    const cidrs = new CfnParameter(list.stack, 'AdminCidrs', { type: 'CommaDelimitedList' });
    new FxObservability(list.stack, 'Observability', { cluster: list.cluster, elk: false, adminCidrs: cidrs.valueAsList });
    const middleware = find(kubernetesObjectsOf(Template.fromStack(list.stack), 'TOKEN'), 'Middleware', 'fx-admin-allowlist', 'monitoring');
    expect(middleware?.spec.ipAllowList.sourceRange).toBe('TOKEN');
    expect(JSON.stringify(Template.fromStack(list.stack).toJSON().Resources)).toContain('{"Ref":"AdminCidrs"}');

    const element = withCluster('Element');
    const one = new CfnParameter(element.stack, 'OneCidr', { type: 'String' });
    expect(() => new FxObservability(element.stack, 'Observability', { cluster: element.cluster, elk: false, adminCidrs: [one.valueAsString, '192.0.2.0/24'] }))
      .not.toThrow();
  });
});

describe('bad input', () => {
  const at = 'FxObservability at Platform/Observability';

  test('fails in production when the cluster endpoint is open to the world and adminCidrs is unset', () => {
    expect(() => build(FxProfile.PRODUCTION, {})).toThrow(
      `${at}: invalid adminCidrs (from the cluster's endpointAllowlist) ["0.0.0.0/0"]; allowed: the CIDR blocks of the operators who may open `
      + "Grafana and Kibana, such as ['203.0.113.0/24']: the cluster's public endpoint is open to 0.0.0.0/0, so the dashboards would be too "
      + '(profile production); set adminCidrs, or endpointAllowlist on the FxCluster');
  });

  test.each([
    [[], 'adminCidrs []', 'at least one IPv4 CIDR block such as 203.0.113.0/24'],
    [['203.0.113.0'], "adminCidrs[0] '203.0.113.0'", 'an IPv4 CIDR block such as 203.0.113.0/24'],
    [[ADMIN, '10.1.0.0/16'], "adminCidrs[1] '10.1.0.0/16'",
      'public internet ranges (10.1.0.0/16 is in the private or reserved range 10.0.0.0/8, which never reaches the internet-facing load '
      + 'balancer; from inside the VPC use kubectl port-forward)'],
    [[ADMIN, ADMIN], `adminCidrs[1] '${ADMIN}'`, 'each CIDR block once'],
  ])('fails on adminCidrs %j', (adminCidrs, what, allowed) => {
    expect(() => build(FxProfile.DEVELOPMENT, { endpointAllowlist: [ADMIN] }, { adminCidrs })).toThrow(`${at}: invalid ${what}; allowed: ${allowed}`);
  });

  test('a bad adminCidrs fails even when nothing is routed', () => {
    expect(() => build(FxProfile.DEVELOPMENT, {}, { adminCidrs: ['192.168.1.0/24'] }, 'none')).toThrow(`${at}: invalid adminCidrs[0] '192.168.1.0/24'`);
  });
});
