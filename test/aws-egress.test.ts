import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Fn, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { FxCapability, FxCluster, FxClusterAttributes, FxImage, FxMicroservice, FxProfile, FxWorkload, IFxCluster } from '../src';
import { clusterWithAddons, ENV, testApp } from './util/fixtures';
import { kubernetesObjectsOf } from './util/manifests';
import { DeclaredFlow, flowsOfAssembly, networkFromTemplate } from '../build-tools/conformance/flows';
import { checkFlows, describeFlow, INTERNET_SAMPLE_IPS, NetworkContext, Obj, ReachabilityModel } from '../build-tools/conformance/reachability';
import { WIRING } from '../src/core/wiring';
import { awsEgressOf, awsEgressRules, rolePermissions } from '../src/microservice/aws-egress';

const IMAGE = FxImage.fromRegistry('ghcr.io/acme/tool:1.0.0');
const HTTPS = 443;

const policyOf = (objects: Obj[], name: string): Obj => {
  const p = objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === name && o.metadata.namespace === name);
  if (!p) throw new Error(`no NetworkPolicy ${name}/${name}`);
  return p;
};
/** The egress rules on 443 and on the Pod Identity agent of a service's policy. */
const awsRules = (objects: Obj[], name: string) => {
  const egress = policyOf(objects, name).spec.egress as Obj[];
  return {
    https: egress.filter((r) => r.ports?.some((p: Obj) => p.port === HTTPS)),
    agent: egress.filter((r) => JSON.stringify(r.to ?? []).includes('169.254.170.23/32')),
  };
};
const PUBLIC_RULE = { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.0.0/16'] } }], ports: [{ protocol: 'TCP', port: HTTPS }] };

/** Services on `cluster`: a queue worker, an SNS publisher, an rds-db-only service, a managed policy, a KMS queue, none, a partner CIDR. */
function services(stack: Stack, cluster: IFxCluster): Record<string, FxMicroservice> {
  const svc = (id: string, name: string, extra: Partial<ConstructorParameters<typeof FxMicroservice>[2]> = {}) =>
    new FxMicroservice(stack, id, { cluster, serviceName: name, image: IMAGE, workload: FxWorkload.worker({ replicas: 2 }), ...extra });
  const queue = new sqs.Queue(stack, 'Queue', { enforceSSL: true, encryption: sqs.QueueEncryption.SQS_MANAGED });
  const worker = svc('Worker', 'worker');
  queue.grantConsumeMessages(worker);
  const publisher = svc('Publisher', 'publisher');
  new sns.Topic(stack, 'Topic').grantPublish(publisher);
  const db = svc('DbOnly', 'db-only');
  db.role.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: ['rds-db:connect'],
    resources: ['arn:aws:rds-db:us-east-1:123456789012:dbuser:db-ABC/db_only_iam'],
  }));
  const managed = svc('Managed', 'managed');
  managed.role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSQSReadOnlyAccess'));
  const kmsWorker = svc('KmsWorker', 'kms-worker');
  new sqs.Queue(stack, 'KmsQueue', { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: new kms.Key(stack, 'QueueKey', { enableKeyRotation: true }) })
    .grantConsumeMessages(kmsWorker);
  const bare = svc('Bare', 'bare');
  const partner = svc('Partner', 'partner', { egressCidrs: ['192.0.2.0/24'] });
  queue.grantSendMessages(partner);
  return { worker, publisher, db, managed, kmsWorker, bare, partner };
}

describe('AWS egress of a workload on a cluster with an SQS interface endpoint', () => {
  let outdir: string;
  let stack: Stack;
  let cluster: FxCluster;
  let template: Template;
  let objects: Obj[];
  let flows: DeclaredFlow[];
  let network: NetworkContext;
  let svc: Record<string, FxMicroservice>;

  beforeAll(() => {
    outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk.out-aws-egress-'));
    const app = testApp(outdir);
    stack = new Stack(app, 'Egress', { env: ENV });
    cluster = clusterWithAddons(stack, FxProfile.DEVELOPMENT, { interfaceEndpoints: [ec2.InterfaceVpcEndpointAwsService.SQS] });
    svc = services(stack, cluster);
    app.synth();
    template = Template.fromStack(stack);
    objects = kubernetesObjectsOf(template);
    flows = flowsOfAssembly(outdir).filter((f) => f.declaredBy.startsWith('/Egress/') && !f.declaredBy.startsWith('/Egress/Cluster/'));
    // Traefik (a Helm release, not among the manifests' objects) is the source of the workers' deny flows.
    const net = networkFromTemplate(template.toJSON());
    network = { ...net, extraPods: [...net.extraPods ?? [], { namespace: WIRING.traefik.namespace, name: 'traefik', labels: WIRING.traefik.podLabels }] };
  });
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  test('the cluster says which endpoints its VPC has and where: the private subnets, literal CIDRs', () => {
    expect(cluster.interfaceEndpoints?.map((e) => e.shortName)).toEqual(['sqs']);
    const privateCidrs = cluster.vpc.privateSubnets.map((s) => s.ipv4CidrBlock);
    expect(cluster.interfaceEndpointSubnetCidrs).toEqual(privateCidrs);
    expect(privateCidrs).toEqual(['10.0.32.0/19', '10.0.64.0/19', '10.0.96.0/19']);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 2); // the S3 gateway and the SQS interface endpoint
    // The network context samples the endpoint in each of its subnets.
    expect(network.interfaceEndpointIps).toEqual({ sqs: ['10.0.35.232', '10.0.67.232', '10.0.99.232'] });
  });

  test('a worker granted a queue: the agent, and 443 to the endpoint subnets only (no 0.0.0.0/0)', () => {
    const { https, agent } = awsRules(objects, 'worker');
    expect(agent).toEqual([{ to: [{ ipBlock: { cidr: '169.254.170.23/32' } }], ports: [{ protocol: 'TCP', port: 80 }] }]);
    expect(https).toEqual([{ to: cluster.interfaceEndpointSubnetCidrs!.map((cidr) => ({ ipBlock: { cidr } })), ports: [{ protocol: 'TCP', port: HTTPS }] }]);
    expect(JSON.stringify(policyOf(objects, 'worker'))).not.toContain('0.0.0.0/0');
    expect(svc.worker.hasAwsPermissions()).toBe(true);
  });

  test('a service calling a service without an endpoint here (SNS, a KMS-encrypted queue) keeps the public rule', () => {
    for (const name of ['publisher', 'kms-worker']) {
      const { https, agent } = awsRules(objects, name);
      expect(https).toEqual([PUBLIC_RULE]);
      expect(agent).toHaveLength(1);
    }
  });

  test('rds-db:connect only: the agent (the token is signed with its credentials), no rule on 443', () => {
    const { https, agent } = awsRules(objects, 'db-only');
    expect(https).toEqual([]);
    expect(agent).toHaveLength(1);
    expect(svc.db.hasAwsPermissions()).toBe(true);
  });

  test('a managed policy: the public rule (its actions are not known at synth)', () => {
    expect(awsRules(objects, 'managed').https).toEqual([PUBLIC_RULE]);
  });

  test('no permission: neither the agent nor 443', () => {
    expect(awsRules(objects, 'bare')).toEqual({ https: [], agent: [] });
    expect(svc.bare.hasAwsPermissions()).toBe(false);
  });

  test('the flows say so: the worker reaches its SQS endpoint, not AWS public addresses, not the internet', () => {
    const of = (ns: string) => flows.filter((f) => f.from.namespace === ns).map((f) => `${f.expect} ${describeFlow(f).split(' (')[0]}`);
    expect(of('worker')).toEqual(expect.arrayContaining([
      expect.stringMatching(/^allow .* -> pod-identity-agent:80\/TCP$/),
      expect.stringMatching(/^allow .* -> interface-endpoint\/sqs:443\/TCP$/),
      expect.stringMatching(/^deny .* -> aws-endpoints:443\/TCP$/),
      expect.stringMatching(/^deny .* -> internet:443\/TCP$/),
    ]));
    expect(of('db-only')).toEqual(expect.arrayContaining([
      expect.stringMatching(/^allow .* -> pod-identity-agent:80\/TCP$/),
      expect.stringMatching(/^deny .* -> aws-endpoints:443\/TCP$/),
      expect.stringMatching(/^deny .* -> internet:443\/TCP$/),
    ]));
    expect(of('publisher')).toEqual(expect.arrayContaining([expect.stringMatching(/^allow .* -> aws-endpoints:443\/TCP$/)]));
    expect(of('publisher').some((f) => f.includes('internet'))).toBe(false);
    // egressCidrs may open the internet: no internet promise for partner, its queue is still reached privately
    expect(of('partner').some((f) => f.includes('internet'))).toBe(false);
    expect(of('partner')).toEqual(expect.arrayContaining([expect.stringMatching(/^allow .* -> interface-endpoint\/sqs:443\/TCP$/)]));
    expect(flows.filter((f) => f.expect !== 'allow' && f.expect !== 'deny')).toEqual([]);
  });

  test('reachability: every flow of these services holds; the worker reaches the SQS endpoint and nothing else on 443', () => {
    expect(checkFlows(objects, flows, network).map((f) => f.detail)).toEqual([]);
    const model = new ReachabilityModel(objects, network);
    const [worker] = model.podsMatching('worker', { 'app.kubernetes.io/name': 'worker' });
    const ok = (ip: string, port = HTTPS) => model.allowed(worker, { ip }, port).allowed;
    expect(network.interfaceEndpointIps!.sqs.map((ip) => ok(ip))).toEqual([true, true, true]);
    expect([ok(INTERNET_SAMPLE_IPS[0]), ok(network.awsEndpointIps[0]), ok('8.8.8.8'), ok('169.254.169.254', 80), ok(network.interfaceEndpointIps!.sqs[0], 80)])
      .toEqual([false, false, false, false, false]);
    expect(ok('169.254.170.23', 80)).toBe(true);
  });

  test('fails when the worker gets the public rule instead of the endpoint rule', () => {
    const widened = objects.map((o) => (o.kind === 'NetworkPolicy' && o.metadata.name === 'worker'
      ? { ...o, spec: { ...o.spec, egress: [...o.spec.egress.filter((r: Obj) => !r.ports?.some((p: Obj) => p.port === HTTPS)), PUBLIC_RULE] } }
      : o));
    const findings = checkFlows(widened, flows, network);
    expect(new Set(findings.map((f) => `${f.kind} ${describeFlow(f.flow).split(' (')[0]}`))).toEqual(new Set([
      expect.stringMatching(/^open worker\/.* -> aws-endpoints:443\/TCP$/),
      expect.stringMatching(/^open worker\/.* -> internet:443\/TCP$/),
    ]));
  });

  test('fails when the endpoint rule is gone, or when the VPC has no SQS endpoint', () => {
    const stripped = objects.map((o) => (o.kind === 'NetworkPolicy' && o.metadata.name === 'worker'
      ? { ...o, spec: { ...o.spec, egress: o.spec.egress.filter((r: Obj) => !r.ports?.some((p: Obj) => p.port === HTTPS)) } }
      : o));
    const blocked = checkFlows(stripped, flows, network);
    expect(blocked.length).toBeGreaterThan(0);
    expect(blocked.every((f) => f.kind === 'blocked' && f.flow.to.interfaceEndpoint === 'sqs' && f.flow.from.namespace === 'worker')).toBe(true);
    const noEndpoint = checkFlows(objects, flows, { ...network, interfaceEndpointIps: {} });
    expect(new Set(noEndpoint.map((f) => `${f.kind} ${f.flow.from.namespace} ${f.flow.to.interfaceEndpoint}`))).toEqual(new Set(['unresolved worker sqs', 'unresolved partner sqs']));
  });
});

describe('AWS egress without interface endpoints', () => {
  test('the same worker on a cluster without the SQS endpoint keeps the public rule, and promises AWS on 443', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk.out-aws-egress-public-'));
    try {
      const app = testApp(outdir);
      const stack = new Stack(app, 'Public', { env: ENV });
      const cluster = clusterWithAddons(stack, FxProfile.DEVELOPMENT);
      expect(cluster.interfaceEndpoints).toEqual([]);
      expect(cluster.interfaceEndpointSubnetCidrs).toEqual([]);
      services(stack, cluster);
      app.synth();
      const objects = kubernetesObjectsOf(Template.fromStack(stack));
      expect(awsRules(objects, 'worker').https).toEqual([PUBLIC_RULE]);
      expect(awsRules(objects, 'db-only').https).toEqual([]);
      const flows = flowsOfAssembly(outdir).filter((f) => f.from.namespace === 'worker');
      expect(flows.some((f) => f.to.awsEndpoints && f.expect === 'allow')).toBe(true);
      expect(flows.some((f) => f.to.interfaceEndpoint !== undefined || f.to.internet)).toBe(false);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe('AWS egress on an imported cluster', () => {
  function imported(attrs: Partial<FxClusterAttributes> = {}) {
    const stack = new Stack(testApp(), 'Imported', { env: ENV });
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-0123456789abcdef0',
      availabilityZones: ['us-east-1a', 'us-east-1b'],
      privateSubnetIds: ['subnet-0a', 'subnet-0b'],
      privateSubnetIpv4CidrBlocks: ['10.1.0.0/20', '10.1.16.0/20'],
    });
    const kubectlProvider = eks.KubectlProvider.fromKubectlProviderAttributes(stack, 'Kubectl', {
      serviceToken: 'arn:aws:lambda:us-east-1:123456789012:function:kubectl',
      role: iam.Role.fromRoleArn(stack, 'KubectlRole', 'arn:aws:iam::123456789012:role/kubectl'),
    });
    const all: FxClusterAttributes = {
      clusterName: 'shared',
      vpc,
      clusterSecurityGroupId: 'sg-0123456789abcdef0',
      kubectlProvider,
      installedCapabilities: [FxCapability.NODES, FxCapability.POD_IDENTITY],
      ...attrs,
    };
    const cluster = FxCluster.fromClusterAttributes(stack, 'Cluster', all);
    const worker = new FxMicroservice(stack, 'Worker', { cluster, serviceName: 'worker', image: IMAGE, workload: FxWorkload.worker({ replicas: 2 }) });
    new sqs.Queue(stack, 'Queue').grantConsumeMessages(worker);
    return { cluster, objects: () => kubernetesObjectsOf(Template.fromStack(stack)) };
  }

  test('with endpoint attributes: 443 to the given subnet CIDRs only', () => {
    const { cluster, objects } = imported({ interfaceEndpoints: [ec2.InterfaceVpcEndpointAwsService.SQS], interfaceEndpointSubnetCidrs: ['10.1.0.0/20', '10.1.16.0/20'] });
    expect(cluster.interfaceEndpoints?.map((e) => e.shortName)).toEqual(['sqs']);
    expect(awsRules(objects(), 'worker').https).toEqual([{ to: [{ ipBlock: { cidr: '10.1.0.0/20' } }, { ipBlock: { cidr: '10.1.16.0/20' } }], ports: [{ protocol: 'TCP', port: HTTPS }] }]);
  });

  test('without them: none known, the public rule', () => {
    const { cluster, objects } = imported();
    expect(cluster.interfaceEndpoints).toEqual([]);
    expect(awsRules(objects(), 'worker').https).toEqual([PUBLIC_RULE]);
  });

  test('with the endpoints of other services only: the public rule', () => {
    const { objects } = imported({ interfaceEndpoints: [ec2.InterfaceVpcEndpointAwsService.SNS], interfaceEndpointSubnetCidrs: ['10.1.0.0/20'] });
    expect(awsRules(objects(), 'worker').https).toEqual([PUBLIC_RULE]);
  });

  test('subnet CIDRs that are deploy-time tokens are accepted and passed on', () => {
    const { objects } = imported({ interfaceEndpoints: [ec2.InterfaceVpcEndpointAwsService.SQS], interfaceEndpointSubnetCidrs: [Fn.importValue('EndpointSubnetCidr')] });
    expect(awsRules(objects(), 'worker').https).toEqual([{ to: [{ ipBlock: { cidr: '${TOKEN}' } }], ports: [{ protocol: 'TCP', port: HTTPS }] }]);
  });

  test('fails when endpoints come without their subnets, subnets without endpoints, a CIDR is malformed or a service repeats', () => {
    const SQS = ec2.InterfaceVpcEndpointAwsService.SQS;
    expect(() => imported({ interfaceEndpoints: [SQS] }))
      .toThrow(/FxCluster\.fromClusterAttributes .*: invalid interfaceEndpointSubnetCidrs \[\]; allowed: the CIDR blocks of the subnets holding the interface endpoints \(sqs\)/);
    expect(() => imported({ interfaceEndpointSubnetCidrs: ['10.1.0.0/20'] })).toThrow(/interfaceEndpointSubnetCidrs .*10\.1\.0\.0\/20.*no CIDR blocks without interfaceEndpoints/);
    expect(() => imported({ interfaceEndpoints: [SQS], interfaceEndpointSubnetCidrs: ['10.1.0.0'] })).toThrow(/interfaceEndpointSubnetCidrs\[0\] .*10\.1\.0\.0.*an IPv4 CIDR block/);
    expect(() => imported({ interfaceEndpoints: [SQS, SQS], interfaceEndpointSubnetCidrs: ['10.1.0.0/20'] })).toThrow(/interfaceEndpoints .*sqs.*each AWS service once/);
  });
});

describe('the action table', () => {
  const endpoints = { services: ['sqs', 'kms', 'ecr.api', 'kinesis-streams', 'sts'], cidrs: ['10.0.32.0/19'] };
  const kind = (...actions: string[]) => awsEgressOf({ actions }, endpoints);

  test.each<[string[], string, string[]]>([
    [['sqs:ReceiveMessage', 'sqs:DeleteMessage'], 'endpoints', ['sqs']],
    [['SQS:SendMessage', 'sqs:*'], 'endpoints', ['sqs']],
    [['sqs:ReceiveMessage', 'kms:Decrypt'], 'endpoints', ['kms', 'sqs']],
    [['kinesis:PutRecord'], 'endpoints', ['kinesis-streams']],
    [['ecr:DescribeImages', 'ecr:BatchCheckLayerAvailability'], 'endpoints', ['ecr.api']],
    [['sts:AssumeRole'], 'endpoints', ['sts']],
    [['rds-db:connect'], 'credentials', []],
    [['rds-db:connect', 'sqs:ReceiveMessage'], 'endpoints', ['sqs']],
    [[], 'none', []],
  ])('%j -> %s %j', (actions, expected, needed) => {
    const egress = kind(...actions);
    expect(egress.kind).toBe(expected);
    expect(egress.endpoints).toEqual(needed);
  });

  test.each<[string[], RegExp]>([
    [['*'], /any service/],
    [['s*:Get*'], /any service/],
    [['s3:GetObject'], /s3 is reached on public addresses/],
    [['dynamodb:GetItem'], /dynamodb is reached on public addresses/],
    [['sqs:ReceiveMessage', 'sns:Publish'], /no interface endpoint for sns/],
    [['cloudformation:DescribeStacks'], /no interface endpoint known for cloudformation/],
    [['ecr:GetDownloadUrlForLayer'], /image layers in S3/],
    [['ecr:Get*'], /ecr:GetDownloadUrlForLayer/],
  ])('fails to narrow %j: the public rule (%s)', (actions, reason) => {
    const egress = kind(...actions);
    expect(egress.kind).toBe('public');
    expect(egress.reason).toMatch(reason);
    expect(awsEgressRules(egress)).toContainEqual(PUBLIC_RULE);
  });

  test('endpoints without known subnets: the public rule', () => {
    expect(awsEgressOf({ actions: ['sqs:ReceiveMessage'] }, { services: ['sqs'], cidrs: [] }).kind).toBe('public');
  });

  test('the role is read exactly: Deny statements grant nothing, NotAction and managed policies are opaque, attached policies count', () => {
    const stack = new Stack(testApp(), 'Roles', { env: ENV });
    const role = (id: string) => new iam.Role(stack, id, { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') });
    const deny = role('Deny');
    deny.addToPrincipalPolicy(new iam.PolicyStatement({ effect: iam.Effect.DENY, actions: ['s3:*'], resources: ['*'] }));
    deny.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sqs:ReceiveMessage'], resources: ['*'] }));
    expect(rolePermissions(deny, [])).toEqual({ actions: ['sqs:ReceiveMessage'] });
    const notAction = role('NotAction');
    notAction.addToPrincipalPolicy(new iam.PolicyStatement({ notActions: ['iam:*'], resources: ['*'] }));
    expect(rolePermissions(notAction, []).opaque).toMatch(/NotAction/);
    const attached = role('Attached');
    attached.attachInlinePolicy(new iam.Policy(stack, 'Extra', { statements: [new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: ['*'] })] }));
    expect(rolePermissions(attached, [])).toEqual({ actions: ['kms:Decrypt'] });
    const managed = role('Managed');
    managed.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('ReadOnlyAccess'));
    expect(rolePermissions(managed, []).opaque).toMatch(/managed policy/);
  });
});
