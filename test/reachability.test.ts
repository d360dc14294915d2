import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { exampleApp } from '../examples/common';
import { kubernetesObjectsOf } from './util/manifests';
import { DeclaredFlow, flowsOfAssembly, networkFromTemplate } from '../build-tools/conformance/flows';
import {
  checkFlows, describeFlow, NetworkContext, Obj, PodSpecInput, ReachabilityModel,
} from '../build-tools/conformance/reachability';
import { createDevExample } from '../examples/dev/app';
import { createPlatformExample } from '../examples/platform/app';
import { FxCluster, FxImage, FxMicroservice } from '../src';
import { FxFlow } from '../src/core/flows';
import { WIRING } from '../src/core/wiring';
import { ES_SELECTOR, FLUENT_BIT_SELECTOR, OPERATOR_SELECTOR } from '../src/observability/elk/common';
import { ELK } from '../src/observability/elk/config';
import { ALERTMANAGER_SERVICE_ACCOUNT, GRAFANA_SERVICE_ACCOUNT } from '../src/observability/prometheus-stack';

const NET: NetworkContext = {
  vpcCidr: '10.0.0.0/16',
  podSubnetCidrs: ['10.0.32.0/19'],
  apiServerIps: ['10.0.32.5'],
  awsEndpointIps: ['52.94.0.10'],
};

const ns = (name: string, labels: Record<string, string> = {}): Obj => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
const deployment = (namespace: string, name: string, labels: Record<string, string>, extra: Obj = {}): Obj => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace },
  spec: { template: { metadata: { labels }, spec: { containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }] }], ...extra } } },
});
const policy = (namespace: string, name: string, spec: Obj): Obj => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec });
const denyAll = (namespace: string): Obj => policy(namespace, 'deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });

function pod(model: ReachabilityModel, namespace: string, name: string) {
  const p = model.pods.find((x) => x.namespace === namespace && x.name === name);
  if (!p) throw new Error(`no pod ${namespace}/${name}`);
  return p;
}

describe('reachability model', () => {
  const base = [ns('a'), ns('b', { team: 'blue' }), deployment('a', 'client', { app: 'client' }), deployment('b', 'server', { app: 'server', tier: 'api' })];

  test('without policies everything is allowed; default deny closes both directions', () => {
    const open = new ReachabilityModel(base, NET);
    expect(open.allowed(pod(open, 'a', 'client'), { pod: pod(open, 'b', 'server') }, 8080).allowed).toBe(true);
    const closedIngress = new ReachabilityModel([...base, denyAll('b')], NET);
    const v = closedIngress.allowed(pod(closedIngress, 'a', 'client'), { pod: pod(closedIngress, 'b', 'server') }, 8080);
    expect(v).toMatchObject({ allowed: false, reason: expect.stringMatching(/ingress of b\/server/) });
    const closedEgress = new ReachabilityModel([...base, denyAll('a')], NET);
    expect(closedEgress.allowed(pod(closedEgress, 'a', 'client'), { pod: pod(closedEgress, 'b', 'server') }, 8080).reason).toMatch(/egress of a\/client/);
    // an ingress-only policy (implicit policyTypes) leaves egress open
    const implicit = new ReachabilityModel([...base, policy('a', 'ingress-only', { podSelector: {}, ingress: [] })], NET);
    expect(implicit.allowed(pod(implicit, 'a', 'client'), { ip: '198.51.100.7' }, 443).allowed).toBe(true);
  });

  test('a flow needs the caller\'s egress and the callee\'s ingress', () => {
    const egress = policy('a', 'out', { podSelector: { matchLabels: { app: 'client' } }, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'b' } } }] }] });
    const ingress = policy('b', 'in', { podSelector: { matchLabels: { app: 'server' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'a' } }, podSelector: { matchLabels: { app: 'client' } } }], ports: [{ port: 8080 }] }] });
    const onlyEgress = new ReachabilityModel([...base, denyAll('a'), denyAll('b'), egress], NET);
    expect(onlyEgress.allowed(pod(onlyEgress, 'a', 'client'), { pod: pod(onlyEgress, 'b', 'server') }, 8080).allowed).toBe(false);
    const both = new ReachabilityModel([...base, denyAll('a'), denyAll('b'), egress, ingress], NET);
    expect(both.allowed(pod(both, 'a', 'client'), { pod: pod(both, 'b', 'server') }, 8080).allowed).toBe(true);
    expect(both.allowed(pod(both, 'a', 'client'), { pod: pod(both, 'b', 'server') }, 9090).allowed).toBe(false);
  });

  test('namespaceSelector and podSelector in one peer must both match; in two peers either does', () => {
    const objects = [...base, deployment('a', 'other', { app: 'other' }), denyAll('b')];
    const together = new ReachabilityModel([...objects, policy('b', 'in', {
      podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'a' } }, podSelector: { matchLabels: { app: 'client' } } }] }],
    })], NET);
    expect(together.allowed(pod(together, 'a', 'client'), { pod: pod(together, 'b', 'server') }, 8080).allowed).toBe(true);
    expect(together.allowed(pod(together, 'a', 'other'), { pod: pod(together, 'b', 'server') }, 8080).allowed).toBe(false);
    const apart = new ReachabilityModel([...objects, policy('b', 'in', {
      podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'a' } } }, { podSelector: { matchLabels: { app: 'client' } } }] }],
    })], NET);
    expect(apart.allowed(pod(apart, 'a', 'other'), { pod: pod(apart, 'b', 'server') }, 8080).allowed).toBe(true);
    // a podSelector alone means the policy's own namespace
    const own = new ReachabilityModel([...objects, policy('b', 'in', { podSelector: {}, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }] }] })], NET);
    expect(own.allowed(pod(own, 'a', 'client'), { pod: pod(own, 'b', 'server') }, 8080).allowed).toBe(false);
    // namespace labels other than the name, and matchExpressions
    const expr = new ReachabilityModel([...base, denyAll('a'), policy('a', 'out', {
      podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: { matchLabels: { team: 'blue' } }, podSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['api'] }, { key: 'legacy', operator: 'DoesNotExist' }] } }] }],
    })], NET);
    expect(expr.allowed(pod(expr, 'a', 'client'), { pod: pod(expr, 'b', 'server') }, 8080).allowed).toBe(true);
    const notIn = new ReachabilityModel([...base, denyAll('a'), policy('a', 'out', {
      podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: {}, podSelector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['api'] }] } }] }],
    })], NET);
    expect(notIn.allowed(pod(notIn, 'a', 'client'), { pod: pod(notIn, 'b', 'server') }, 8080).allowed).toBe(false);
  });

  test('named ports resolve on the destination pod; endPort ranges', () => {
    const named = (port: string | number, endPort?: number) => new ReachabilityModel([...base, denyAll('b'), policy('b', 'in', {
      podSelector: {}, ingress: [{ ports: [{ protocol: 'TCP', port, ...(endPort ? { endPort } : {}) }] }],
    })], NET);
    const http = named('http');
    expect(http.allowed(pod(http, 'a', 'client'), { pod: pod(http, 'b', 'server') }, 8080).allowed).toBe(true);
    expect(http.allowed(pod(http, 'a', 'client'), { pod: pod(http, 'b', 'server') }, 8081).allowed).toBe(false);
    const wrong = named('metrics');
    expect(wrong.allowed(pod(wrong, 'a', 'client'), { pod: pod(wrong, 'b', 'server') }, 8080).allowed).toBe(false);
    const range = named(8000, 8100);
    expect(range.allowed(pod(range, 'a', 'client'), { pod: pod(range, 'b', 'server') }, 8080).allowed).toBe(true);
    expect(range.allowed(pod(range, 'a', 'client'), { pod: pod(range, 'b', 'server') }, 8101).allowed).toBe(false);
    expect(range.allowed(pod(range, 'a', 'client'), { pod: pod(range, 'b', 'server') }, 8080, 'UDP').allowed).toBe(false);
  });

  test('ipBlock with except', () => {
    const m = new ReachabilityModel([...base, denyAll('a'), policy('a', 'out', {
      podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.0.0/16', '10.0.0.0/8'] } }], ports: [{ protocol: 'TCP', port: 443 }] }],
    })], NET);
    const client = pod(m, 'a', 'client');
    expect(m.allowed(client, { ip: '52.94.0.10' }, 443).allowed).toBe(true);
    expect(m.allowed(client, { ip: '169.254.169.254' }, 443).allowed).toBe(false);
    expect(m.allowed(client, { ip: '10.1.2.3' }, 443).allowed).toBe(false);
    expect(m.allowed(client, { ip: '52.94.0.10' }, 80).allowed).toBe(false);
  });

  test('the union of policies: any one rule of any selecting policy allows', () => {
    const m = new ReachabilityModel([...base, denyAll('b'),
      policy('b', 'p1', { podSelector: { matchLabels: { app: 'nobody' } }, ingress: [{}] }),
      policy('b', 'p2', { podSelector: { matchLabels: { tier: 'api' } }, ingress: [{ ports: [{ port: 9999 }] }, { ports: [{ port: 8080 }] }] })], NET);
    expect(m.allowed(pod(m, 'a', 'client'), { pod: pod(m, 'b', 'server') }, 8080).allowed).toBe(true);
    expect(m.allowed(pod(m, 'a', 'client'), { pod: pod(m, 'b', 'server') }, 8081).allowed).toBe(false);
  });

  test('Service traffic is judged after translation to endpoints and target port; a ClusterIP rule allows nothing', () => {
    const svc: Obj = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'server', namespace: 'b' }, spec: { selector: { app: 'server' }, ports: [{ port: 80, targetPort: 'http' }] } };
    const toPods = new ReachabilityModel([...base, svc, denyAll('a'), denyAll('b'),
      policy('a', 'out', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: 'server' } } }], ports: [{ port: 8080 }] }] }),
      policy('b', 'in', { podSelector: {}, ingress: [{ ports: [{ port: 'http' }] }] })], NET);
    expect(toPods.allowed(pod(toPods, 'a', 'client'), { service: { namespace: 'b', name: 'server' } }, 80).allowed).toBe(true);
    // a rule naming the Service port (80) does not admit the translated flow to 8080
    const toPort80 = new ReachabilityModel([...base, svc, denyAll('a'),
      policy('a', 'out', { podSelector: {}, policyTypes: ['Egress'], egress: [{ ports: [{ port: 80 }] }] })], NET);
    expect(toPort80.allowed(pod(toPort80, 'a', 'client'), { service: { namespace: 'b', name: 'server' } }, 80).allowed).toBe(false);
    const toClusterIp = new ReachabilityModel([...base, svc, denyAll('a'),
      policy('a', 'out', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '172.20.0.0/16' } }] }] })], NET);
    expect(toClusterIp.allowed(pod(toClusterIp, 'a', 'client'), { service: { namespace: 'b', name: 'server' } }, 80).allowed).toBe(false);
    expect(toClusterIp.allowed(pod(toClusterIp, 'a', 'client'), { ip: '172.20.0.1' }, 443).reason).toMatch(/ClusterIP/);
  });

  test('hostNetwork pods are not subject to policies and match no pod selector; the node\'s kubelet reaches its pods', () => {
    const objects = [...base, deployment('b', 'agent', { app: 'agent' }, { hostNetwork: true }), denyAll('a'), denyAll('b')];
    const m = new ReachabilityModel(objects, NET);
    const agent = pod(m, 'b', 'agent');
    expect(agent.hostNetwork).toBe(true);
    expect(m.allowed(agent, { ip: '52.94.0.10' }, 443).allowed).toBe(true);
    // the client's egress must name the node address: a selector on the agent's labels does not match
    const bySelector = new ReachabilityModel([...objects, policy('a', 'out', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: 'agent' } } }] }] })], NET);
    expect(bySelector.allowed(pod(bySelector, 'a', 'client'), { pod: pod(bySelector, 'b', 'agent') }, 8080).allowed).toBe(false);
    const byIp = new ReachabilityModel([...objects, policy('a', 'out', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '10.0.32.0/19' } }] }] })], NET);
    expect(byIp.allowed(pod(byIp, 'a', 'client'), { pod: pod(byIp, 'b', 'agent') }, 8080).allowed).toBe(true);
    expect(m.allowed('node', { pod: pod(m, 'b', 'server') }, 8080).allowed).toBe(true);
    // link-local is not special: the Pod Identity agent needs an egress rule
    expect(m.allowed(pod(m, 'a', 'client'), { ip: '169.254.170.23' }, 80).allowed).toBe(false);
  });

  test('ECK Elasticsearch and Kibana pods carry the labels and ports ECK gives them', () => {
    const es: Obj = { apiVersion: 'elasticsearch.k8s.elastic.co/v1', kind: 'Elasticsearch', metadata: { name: 'fx', namespace: 'logging' }, spec: { nodeSets: [{ name: 'default', podTemplate: { metadata: { labels: { x: 'y' } } } }] } };
    const kb: Obj = { apiVersion: 'kibana.k8s.elastic.co/v1', kind: 'Kibana', metadata: { name: 'fx', namespace: 'logging' }, spec: { podTemplate: {} } };
    const m = new ReachabilityModel([es, kb], NET);
    expect(m.podsMatching('logging', { 'elasticsearch.k8s.elastic.co/cluster-name': 'fx', 'common.k8s.elastic.co/type': 'elasticsearch', 'x': 'y' })).toHaveLength(1);
    expect(m.podsMatching('logging', { 'kibana.k8s.elastic.co/name': 'fx' })[0].ports.map((p) => p.port)).toEqual([5601]);
  });

  test('checkFlows reports a blocked allow flow, an open deny flow and an unresolved end', () => {
    const flow = (expect: 'allow' | 'deny', port = 8080): FxFlow => ({
      from: { namespace: 'a', podLabels: { app: 'client' } }, to: { namespace: 'b', podLabels: { app: 'server' } }, port, protocol: 'TCP', reason: 'test', expect,
    });
    const closed = [...base, denyAll('b')];
    expect(checkFlows(closed, [flow('allow')], NET).map((f) => f.kind)).toEqual(['blocked']);
    expect(checkFlows(closed, [flow('deny')], NET)).toEqual([]);
    expect(checkFlows(base, [flow('deny')], NET).map((f) => f.kind)).toEqual(['open']);
    expect(checkFlows(base, [{ ...flow('allow'), from: { namespace: 'a', podLabels: { app: 'ghost' } } }], NET).map((f) => f.kind)).toEqual(['unresolved']);
  });
});

/** Pods of Helm releases (rendered only by the conformance run) stood in by the labels and service accounts the library configures. */
const HELM_STAND_INS: PodSpecInput[] = [
  { namespace: WIRING.traefik.namespace, name: 'traefik', labels: WIRING.traefik.podLabels, ports: [{ name: 'web', port: 8000, protocol: 'TCP' }] },
  { namespace: WIRING.monitoring.namespace, name: 'prometheus', labels: WIRING.monitoring.prometheusPodLabels, ports: [{ name: 'http-web', port: 9090, protocol: 'TCP' }] },
  { namespace: WIRING.monitoring.namespace, name: 'grafana', labels: { 'app.kubernetes.io/name': 'grafana' }, serviceAccount: GRAFANA_SERVICE_ACCOUNT },
  { namespace: WIRING.monitoring.namespace, name: 'alertmanager', labels: { 'app.kubernetes.io/name': 'alertmanager' }, serviceAccount: ALERTMANAGER_SERVICE_ACCOUNT },
  { namespace: WIRING.externalSecrets.namespace, name: 'external-secrets', labels: { 'app.kubernetes.io/name': 'external-secrets' }, serviceAccount: 'external-secrets' },
  { namespace: ELK.namespace, name: 'fluent-bit', labels: FLUENT_BIT_SELECTOR, serviceAccount: ELK.fluentBitServiceAccount, ports: [{ name: 'http', port: 2020, protocol: 'TCP' }] },
  { namespace: ELK.operatorNamespace, name: 'elastic-operator', labels: OPERATOR_SELECTOR },
];

interface Assembly { readonly objects: Obj[]; readonly flows: DeclaredFlow[]; readonly network: NetworkContext }

/** Synthesizes an example in-process and collects the library's own objects, the flows from the assembly and the network. */
/**
 * The platform example plus reports-api, a service given no AWS permission and no database (both
 * example services have databases, so both have AWS grants): its AWS flows are promised closed.
 */
function platformWithUngrantedService(app: App): Stack {
  const stack = createPlatformExample(app);
  const cluster = stack.node.findChild('Cluster') as FxCluster;
  new FxMicroservice(stack, 'ReportsApi', { cluster, serviceName: 'reports-api', image: FxImage.fromRegistry('ghcr.io/acme/reports-api:1.0.0') });
  return stack;
}

function assemble(create: (app: App) => Stack, outdir: string): Assembly {
  const app = exampleApp({ builtinCloudFormationValidation: false, outdir });
  const stack = create(app);
  app.synth();
  const template = Template.fromStack(stack);
  const network = networkFromTemplate(template.toJSON());
  // the template's network is the cluster's: same VPC CIDR and private subnets
  const cluster = stack.node.findAll().find((c): c is FxCluster => c instanceof FxCluster)!;
  expect(network.podSubnetCidrs).toEqual(cluster.vpc.privateSubnets.map((s) => s.ipv4CidrBlock));
  return {
    objects: kubernetesObjectsOf(template),
    flows: flowsOfAssembly(outdir),
    network: { ...network, extraPods: [...network.extraPods ?? [], ...HELM_STAND_INS] },
  };
}

describe('promised flows of the dev example (Let\'s Encrypt path)', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-reachability-dev-'));
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  test('every allow flow is allowed and every deny flow denied', () => {
    const { objects, flows, network } = assemble(createDevExample, outdir);
    expect(flows.filter((f) => f.expect === 'allow').length).toBeGreaterThan(10);
    expect(checkFlows(objects, flows, network).map((f) => f.detail)).toEqual([]);
  });
});

describe('promised flows of the platform example', () => {
  let outdir: string;
  let objects: Obj[];
  let flows: DeclaredFlow[];
  let network: NetworkContext;

  beforeAll(() => {
    outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-reachability-'));
    ({ objects, flows, network } = assemble(platformWithUngrantedService, outdir));
  });

  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  test('the flows reach the cloud assembly as construct metadata', () => {
    const has = (pred: (f: DeclaredFlow) => boolean) => expect(flows.some(pred)).toBe(true);
    has((f) => f.to.service === 'inventory-api' && f.from.namespace === 'orders-api' && f.expect === 'allow');
    has((f) => f.from.namespace === 'orders-api' && f.to.podIdentityAgent === true && f.expect === 'allow');
    // reports-api is given no AWS permission: its AWS flows are promised closed; inventory-api's database grant
    // (rds-db:connect, a token signed locally) opens the Pod Identity agent only
    has((f) => f.from.namespace === 'reports-api' && f.to.awsEndpoints === true && f.expect === 'deny');
    has((f) => f.from.namespace === 'inventory-api' && f.to.podIdentityAgent === true && f.expect === 'allow');
    has((f) => f.from.namespace === 'inventory-api' && f.to.awsEndpoints === true && f.expect === 'deny');
    has((f) => f.from.namespace === 'inventory-api' && f.to.internet === true && f.expect === 'deny');
    // order-events' queue grant: the cluster's SQS endpoint, and neither AWS's public addresses nor the internet
    has((f) => f.from.namespace === 'order-events' && f.to.interfaceEndpoint === 'sqs' && f.expect === 'allow');
    has((f) => f.from.namespace === 'order-events' && f.to.awsEndpoints === true && f.expect === 'deny');
    has((f) => f.from.namespace === 'order-events' && f.to.internet === true && f.expect === 'deny');
    expect(flows.some((f) => f.to.awsEndpoints === true && f.expect === 'allow' && ['order-events', 'order-events-redrive'].includes(f.from.namespace!))).toBe(false);
    has((f) => f.from.namespace === 'orders-api' && f.to.apiServer === true);
    has((f) => f.to.database === true && f.from.namespace === 'orders-api');
    has((f) => f.from.serviceAccount === GRAFANA_SERVICE_ACCOUNT && f.to.podLabels !== undefined);
    has((f) => f.to.podLabels?.[Object.keys(ES_SELECTOR)[0]] !== undefined && f.from.synthetic === true && f.expect === 'deny');
    expect(flows.every((f) => f.declaredBy.startsWith('/FxPlatform/'))).toBe(true);
    expect(flows.filter((f) => f.expect !== 'allow' && f.expect !== 'deny')).toEqual([]);
  });

  test('every allow flow is allowed and every deny flow denied', () => {
    const findings = checkFlows(objects, flows, network);
    expect(findings.map((f) => f.detail)).toEqual([]);
    expect(flows.filter((f) => f.expect === 'deny').length).toBeGreaterThanOrEqual(6);
  });

  test('fails when the callee ingress policy of a dependsOn is removed', () => {
    const without = objects.filter((o) => !(o.kind === 'NetworkPolicy' && o.metadata.name === 'inventory-api-from-orders-api-orders-api'));
    expect(without).toHaveLength(objects.length - 1);
    const findings = checkFlows(without, flows, network);
    // one per source pod (the Deployment's and the migration Job's), all for the dependsOn flow
    expect(findings.length).toBeGreaterThan(0);
    expect(new Set(findings.map((f) => `${f.kind} ${describeFlow(f.flow)}`))).toEqual(new Set([
      expect.stringMatching(/^blocked orders-api\/.* -> inventory-api\/svc\/inventory-api:80\/TCP \(allow: .*dependsOn/),
    ]));
    expect(findings[0].detail).toMatch(/ingress of inventory-api/);
  });

  test.each<[string, (rule: Obj) => boolean, (f: FxFlow) => boolean]>([
    ['the Pod Identity agent', (r) => JSON.stringify(r).includes('169.254.170.23'), (f) => f.to.podIdentityAgent === true],
    ['the OTLP collector', (r) => JSON.stringify(r).includes('amazon-cloudwatch'), (f) => f.to.namespace === 'amazon-cloudwatch'],
    // orders-api calls no AWS API (rds-db:connect only): its only rule on 443 is the API server's
    ['the API server', (r) => r.ports?.length === 1 && r.ports[0].port === 443, (f) => f.to.apiServer === true],
  ])('fails when orders-api loses its egress to %s', (_name, rule, flow) => {
    const strip = objects.map((o) => (o.kind === 'NetworkPolicy' && o.metadata.name === 'orders-api'
      ? { ...o, spec: { ...o.spec, egress: o.spec.egress.filter((r: Obj) => !rule(r)) } }
      : o));
    const stripped = checkFlows(strip, flows, network);
    expect(stripped.length).toBeGreaterThan(0);
    expect(stripped.every((f) => f.kind === 'blocked' && flow(f.flow))).toBe(true);
  });

  const withOrderEventsEgress = (change: (rules: Obj[]) => Obj[]) => objects.map((o) => (o.kind === 'NetworkPolicy' && o.metadata.name === 'order-events'
    ? { ...o, spec: { ...o.spec, egress: change(o.spec.egress) } }
    : o));
  const on443 = (r: Obj) => r.ports?.length === 1 && r.ports[0].port === 443;

  test('order-events reaches its SQS endpoint (in the endpoint subnets) on 443 and nothing else there', () => {
    const rule = objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'order-events')!.spec.egress.filter(on443);
    expect(rule).toEqual([{ to: network.podSubnetCidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: [{ protocol: 'TCP', port: 443 }] }]);
    expect(network.interfaceEndpointIps?.sqs).toHaveLength(3);
    const model = new ReachabilityModel(objects, network);
    const [worker] = model.podsMatching('order-events', { 'app.kubernetes.io/name': 'order-events' });
    expect(network.interfaceEndpointIps!.sqs.every((ip) => model.allowed(worker, { ip }, 443).allowed)).toBe(true);
    expect([...network.awsEndpointIps, '198.51.100.23', '8.8.8.8'].some((ip) => model.allowed(worker, { ip }, 443).allowed)).toBe(false);
  });

  test('fails when order-events loses its endpoint rule', () => {
    const findings = checkFlows(withOrderEventsEgress((rules) => rules.filter((r) => !on443(r))), flows, network);
    expect(findings.length).toBeGreaterThan(0);
    expect(findings.every((f) => f.kind === 'blocked' && f.flow.from.namespace === 'order-events' && f.flow.to.interfaceEndpoint === 'sqs')).toBe(true);
  });

  test('fails when order-events gets the public rule (any address on 443)', () => {
    const widened = withOrderEventsEgress((rules) => [...rules.filter((r) => !on443(r)),
      { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.0.0/16'] } }], ports: [{ protocol: 'TCP', port: 443 }] }]);
    expect(new Set(checkFlows(widened, flows, network).map((f) => `${f.kind} ${describeFlow(f.flow).split(' (')[0]}`))).toEqual(new Set([
      expect.stringMatching(/^open order-events\/.* -> aws-endpoints:443\/TCP$/),
      expect.stringMatching(/^open order-events\/.* -> internet:443\/TCP$/),
    ]));
  });

  test('fails when a service gains a path it was not promised', () => {
    // reports-api may send anywhere, orders-api admits anyone: reports-api now reaches orders-api and AWS
    const allowAll = [...objects,
      policy('reports-api', 'oops-egress', { podSelector: {}, policyTypes: ['Egress'], egress: [{}] }),
      policy('orders-api', 'oops-ingress', { podSelector: {}, ingress: [{}] })];
    const open = checkFlows(allowAll, flows, network);
    expect(open.every((f) => f.kind === 'open')).toBe(true);
    expect(new Set(open.map((f) => describeFlow(f.flow).split(' (')[0]))).toEqual(new Set([
      expect.stringMatching(/^reports-api\/.* -> any-other-service:0\/TCP$/),
      expect.stringMatching(/^reports-api\/.* -> any-database:0\/TCP$/),
      expect.stringMatching(/^reports-api\/.* -> pod-identity-agent:80\/TCP$/),
      expect.stringMatching(/^reports-api\/.* -> aws-endpoints:443\/TCP$/),
      expect.stringMatching(/^reports-api\/.* -> internet:443\/TCP$/),
      expect.stringMatching(/^reports-api\/.* -> 169\.254\.169\.254\/32:80\/TCP$/),
    ]));
  });
});
