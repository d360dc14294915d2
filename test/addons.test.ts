import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { FxAutoscalerExpander, FxCapability, FxCluster, FxClusterProps, FxProfile, FxTls, FxVersions } from '../src';
import { checkHelmValues } from './util/helm-values';
import { k8sErrors } from './util/k8s';
import { joinedString } from './util/manifests';
import { TLS12_CIPHER_SUITES } from '../src/cluster/addons/traefik';
import { WIRING } from '../src/core/wiring';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const AZS = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
const ROW = FxVersions.forKubernetes(FxVersions.DEFAULT_KUBERNETES_VERSION);
const HELM = 'Custom::AWSCDK-EKS-HelmChart';
const MANIFEST = 'Custom::AWSCDK-EKS-KubernetesResource';
const TOKEN = '__TOKEN__';

interface Scenario {
  readonly outdir: string;
  readonly stack: Stack;
  readonly cluster: FxCluster;
  readonly template: Template;
  readonly resources: Record<string, any>;
}

function newStack(outdir?: string): Stack {
  const app = new App({
    builtinCloudFormationValidation: false,
    outdir,
    context: { [`availability-zones:account=${ACCOUNT}:region=${REGION}`]: AZS },
  });
  return new Stack(app, 'Platform', { env: { account: ACCOUNT, region: REGION } });
}

function zoneOf(stack: Stack): route53.IHostedZone {
  return route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0EXAMPLE', zoneName: 'example.com' });
}

function build(props: (stack: Stack) => FxClusterProps, extra?: (cluster: FxCluster, stack: Stack) => void): Scenario {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-addons-'));
  const stack = newStack(outdir);
  const cluster = new FxCluster(stack, 'Cluster', props(stack));
  extra?.(cluster, stack);
  (stack.node.root as App).synth();
  const template = Template.fromStack(stack);
  return { outdir, stack, cluster, template, resources: template.toJSON().Resources };
}

/** A JSON string property (plain or Fn::Join with intrinsics), parsed with intrinsics as TOKEN. */
function parseJsonProperty(value: unknown): any {
  return JSON.parse(joinedString(value, TOKEN));
}

function helmRelease(s: Scenario, chart: string): { id: string; props: any; values: any } {
  const found = Object.entries(s.resources).filter(([, r]) => r.Type === HELM && r.Properties.Chart === chart);
  expect(found).toHaveLength(1);
  const [id, r] = found[0];
  return { id, props: r.Properties, values: parseJsonProperty(r.Properties.Values) };
}

function manifests(s: Scenario): { id: string; objects: any[] }[] {
  return Object.entries(s.resources)
    .filter(([, r]) => r.Type === MANIFEST)
    .map(([id, r]) => ({ id, objects: parseJsonProperty(r.Properties.Manifest) as any[] }));
}

function objectsOf(s: Scenario, kind: string): any[] {
  return manifests(s).flatMap((m) => m.objects).filter((o) => o.kind === kind);
}

function manifestIdOf(s: Scenario, kind: string, name: string): string {
  const m = manifests(s).find((x) => x.objects.some((o) => o.kind === kind && o.metadata.name === name));
  if (!m) throw new Error(`no manifest with ${kind}/${name}`);
  return m.id;
}

/** Logical id of the role of a Pod Identity service account. */
function roleIdOf(s: Scenario, namespace: string, serviceAccount: string): string {
  const assoc = Object.values(s.resources).find((r: any) => r.Type === 'AWS::EKS::PodIdentityAssociation'
    && r.Properties.Namespace === namespace && r.Properties.ServiceAccount === serviceAccount) as any;
  expect(assoc).toBeDefined();
  return assoc.Properties.RoleArn['Fn::GetAtt'][0];
}

/** The role of a Pod Identity service account. */
function roleOf(s: Scenario, namespace: string, serviceAccount: string): any {
  const role = s.resources[roleIdOf(s, namespace, serviceAccount)];
  expect(role.Type).toBe('AWS::IAM::Role');
  return role;
}

/** Every statement of the policies of the role of a Pod Identity service account: attached policies and inline ones. */
function statementsOf(s: Scenario, namespace: string, serviceAccount: string): any[] {
  const roleId = roleIdOf(s, namespace, serviceAccount);
  const attached = Object.values(s.resources)
    .filter((r: any) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: any) => x.Ref === roleId))
    .flatMap((r: any) => r.Properties.PolicyDocument.Statement);
  const inline = (s.resources[roleId].Properties.Policies ?? []).flatMap((p: any) => p.PolicyDocument.Statement);
  return [...attached, ...inline];
}

function statement(statements: any[], sid: string): any {
  const found = statements.find((st) => st.Sid === sid);
  expect(found).toBeDefined();
  return found;
}

/** All logical ids a resource depends on, directly or transitively. */
function reachable(s: Scenario, from: string): Set<string> {
  const seen = new Set<string>();
  const stack = [...(s.resources[from].DependsOn ?? [])];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(s.resources[id]?.DependsOn ?? []));
  }
  return seen;
}

function findCycle(resources: Record<string, any>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, trail: string[]): string[] | undefined => {
    if (state.get(id) === 'done') return undefined;
    if (state.get(id) === 'visiting') return [...trail, id];
    state.set(id, 'visiting');
    for (const dep of resources[id]?.DependsOn ?? []) {
      const cycle = visit(dep, [...trail, id]);
      if (cycle) return cycle;
    }
    state.set(id, 'done');
    return undefined;
  };
  for (const id of Object.keys(resources)) {
    const cycle = visit(id, []);
    if (cycle) return cycle;
  }
  return undefined;
}

let acm: Scenario;
let le: Scenario;

beforeAll(() => {
  acm = build((stack) => ({
    profile: FxProfile.PRODUCTION,
    platformName: 'fx-prod',
    tls: FxTls.acm({ hostedZone: zoneOf(stack), domainName: 'fx.example.com' }),
    ingressRateLimit: { average: 50, burst: 100 },
    ingressIpAllowlist: ['203.0.113.0/24'],
  }));
  le = build((stack) => ({
    profile: FxProfile.DEVELOPMENT,
    platformName: 'fx-dev',
    tls: FxTls.letsEncrypt({ hostedZone: zoneOf(stack), domainName: 'dev.example.com', email: 'ops@example.com', staging: true }),
    autoscalerExpander: FxAutoscalerExpander.MOST_PODS,
  }));
});

afterAll(() => {
  for (const s of [acm, le]) if (s) fs.rmSync(s.outdir, { recursive: true, force: true });
});

describe('AWS Load Balancer Controller', () => {
  test('installs the pinned chart in kube-system with cluster name, region, VPC and its Pod Identity service account', () => {
    const { props, values } = helmRelease(acm, 'aws-load-balancer-controller');
    const pinned = ROW.charts.awsLoadBalancerController;
    expect(props).toMatchObject({ Repository: pinned.repository, Version: pinned.version, Namespace: 'kube-system', Wait: true });
    expect(Number(pinned.version.split('.')[0]) * 100 + Number(pinned.version.split('.')[1])).toBeGreaterThanOrEqual(206);
    expect(values).toMatchObject({
      clusterName: TOKEN,
      region: REGION,
      vpcId: TOKEN,
      replicaCount: 2,
      serviceAccount: { create: false, name: 'aws-load-balancer-controller' },
    });
    acm.template.hasResourceProperties('AWS::EKS::PodIdentityAssociation', { Namespace: 'kube-system', ServiceAccount: 'aws-load-balancer-controller' });
  });

  test('may change only load balancers and security groups tagged for this cluster', () => {
    const statements = statementsOf(acm, 'kube-system', 'aws-load-balancer-controller');
    const clusterName = { Ref: expect.stringMatching(/^Cluster/) };
    const manage = statement(statements, 'ManageOwnLoadBalancers');
    expect(manage.Action).toEqual(expect.arrayContaining(['elasticloadbalancing:DeleteLoadBalancer', 'elasticloadbalancing:ModifyTargetGroup']));
    expect(manage.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/elbv2.k8s.aws/cluster': clusterName } });
    expect(statement(statements, 'CreateOwnLoadBalancers').Condition).toEqual({ StringEquals: { 'aws:RequestTag/elbv2.k8s.aws/cluster': clusterName } });
    expect(statement(statements, 'ManageOwnSecurityGroups').Condition).toEqual({ StringEquals: { 'aws:ResourceTag/elbv2.k8s.aws/cluster': clusterName } });
    expect(statement(statements, 'ManageIngressRulesInVpc').Condition.ArnEquals['ec2:Vpc']).toBeDefined();
    // Only Describe/List calls (no resource-level permissions) are on '*'.
    for (const st of statements.filter((x) => x.Resource === '*')) {
      for (const action of [st.Action].flat()) expect(action).toMatch(/:(Describe|List|Get)/);
    }
    expect(statements.flatMap((st) => [st.Action].flat()).some((a: string) => a.startsWith('waf') || a.startsWith('shield'))).toBe(false);
  });
});

describe('Traefik', () => {
  test('installs the pinned chart with replicas, PDB and zone spread from the production profile', () => {
    const { props, values } = helmRelease(acm, 'traefik');
    expect(props).toMatchObject({ Repository: ROW.charts.traefik.repository, Version: ROW.charts.traefik.version, Namespace: 'traefik', Wait: true });
    expect(values.deployment.replicas).toBe(2);
    expect(values.podDisruptionBudget).toEqual({ enabled: true, minAvailable: 1 });
    expect(values.topologySpreadConstraints).toEqual([expect.objectContaining({
      topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: WIRING.traefik.podLabels },
    })]);
  });

  test('enables both Kubernetes providers, cross-namespace references, JSON logs, metrics, and keeps the dashboard private', () => {
    const { values } = helmRelease(acm, 'traefik');
    expect(values.providers).toEqual({ kubernetesCRD: { enabled: true, allowCrossNamespace: true }, kubernetesIngress: { enabled: true } });
    expect(values.accessLog).toEqual({ enabled: true, format: 'json' });
    expect(values.log.format).toBe('json');
    expect(values.metrics.prometheus).toMatchObject({ entryPoint: 'metrics', service: { enabled: true } });
    expect(values.deployment.podAnnotations['prometheus.io/scrape']).toBe('true');
    expect(values.ingressRoute.dashboard.enabled).toBe(false);
    expect(values.ports.traefik.expose.default).toBe(false);
  });

  test('the default TLSOption requires TLS 1.2 with modern ciphers; shared middlewares use the wired names', () => {
    const [option] = objectsOf(acm, 'TLSOption');
    expect(option.metadata).toMatchObject({ name: WIRING.traefik.tlsOption, namespace: 'traefik' });
    expect(option.spec.minVersion).toBe('VersionTLS12');
    expect(option.spec.cipherSuites).toEqual(TLS12_CIPHER_SUITES);
    for (const suite of option.spec.cipherSuites) expect(suite).toMatch(/^TLS_ECDHE_.*(GCM|CHACHA20)/);
    const middlewares = Object.fromEntries(objectsOf(acm, 'Middleware').map((m) => [m.metadata.name, m.spec]));
    expect(Object.keys(middlewares).sort()).toEqual(Object.values(WIRING.traefik.middlewares).sort());
    expect(middlewares['fx-rate-limit'].rateLimit).toMatchObject({ average: 50, burst: 100 });
    expect(middlewares['fx-ip-allowlist'].ipAllowList.sourceRange).toEqual(['203.0.113.0/24']);
    expect(middlewares['fx-https-redirect'].redirectScheme).toEqual({ scheme: 'https', permanent: true });
    expect(middlewares['fx-secure-headers'].headers).toMatchObject({ stsSeconds: 31536000, contentTypeNosniff: true, frameDeny: true });
  });

  test('every manifest validates against its Kubernetes / CRD schema', () => {
    const objects = [...manifests(acm), ...manifests(le)].flatMap((m) => m.objects);
    const kinds = new Set(objects.map((o) => o.kind));
    for (const kind of ['TLSOption', 'Middleware', 'TLSStore', 'ClusterIssuer', 'Certificate', 'Ingress', 'Namespace', 'Schedule']) {
      expect(kinds).toContain(kind);
    }
    // kubernetes-models has no Velero package: the Schedule is checked against the CRD by check-helm-values below.
    expect(k8sErrors(objects.filter((o) => o.kind !== 'Schedule'))).toEqual([]);
  });
});

describe('ACM path', () => {
  test('exposes the domain; routes use the web entry point', () => {
    expect(acm.cluster.tlsTerminatedByTraefik).toBe(false);
    expect(acm.cluster.domainName).toBe('fx.example.com');
    expect(helmRelease(acm, 'traefik').values.service).toEqual({ spec: { type: 'ClusterIP' } });
  });

  test('a DNS-validated ACM certificate covers the domain and its wildcard', () => {
    acm.template.hasResourceProperties('AWS::CertificateManager::Certificate', {
      DomainName: 'fx.example.com',
      SubjectAlternativeNames: ['*.fx.example.com'],
      ValidationMethod: 'DNS',
      DomainValidationOptions: Match.arrayWith([{ DomainName: 'fx.example.com', HostedZoneId: 'Z0EXAMPLE' }]),
    });
  });

  test('an Ingress asks the controller for an internet-facing ALB with TLS 1.2+, HTTP redirect and Traefik as backend', () => {
    const [ingress] = objectsOf(acm, 'Ingress');
    const a = ingress.metadata.annotations;
    expect(ingress.spec).toEqual({ ingressClassName: 'alb', defaultBackend: { service: { name: 'traefik', port: { name: 'web' } } } });
    expect(a['alb.ingress.kubernetes.io/scheme']).toBe('internet-facing');
    expect(a['alb.ingress.kubernetes.io/ssl-policy']).toBe('ELBSecurityPolicy-TLS13-1-2-2021-06');
    expect(JSON.parse(a['alb.ingress.kubernetes.io/listen-ports'])).toEqual([{ HTTP: 80 }, { HTTPS: 443 }]);
    expect(a['alb.ingress.kubernetes.io/ssl-redirect']).toBe('443');
    expect(a['alb.ingress.kubernetes.io/certificate-arn']).toBe(TOKEN);
  });

  test('alias records for the domain and its wildcard point at the ALB read from the Ingress status', () => {
    const value = Object.entries(acm.resources).find(([, r]) => r.Type === 'Custom::AWSCDK-EKS-KubernetesObjectValue')!;
    expect(value[1].Properties).toMatchObject({ ObjectType: 'ingress', ObjectName: 'traefik', ObjectNamespace: 'traefik', JsonPath: '.status.loadBalancer.ingress[0].hostname' });
    expect(reachable(acm, value[0])).toContain(manifestIdOf(acm, 'Ingress', 'traefik'));
    for (const name of ['fx.example.com.', '*.fx.example.com.']) {
      acm.template.hasResourceProperties('AWS::Route53::RecordSet', {
        Name: name,
        Type: 'A',
        HostedZoneId: 'Z0EXAMPLE',
        AliasTarget: { DNSName: { 'Fn::GetAtt': [value[0], 'Value'] }, HostedZoneId: 'Z35SXDOTRQ7X7K' },
      });
    }
  });

  test('no cert-manager, no NLB', () => {
    expect(Object.values(acm.resources).some((r: any) => r.Type === HELM && r.Properties.Chart === 'cert-manager')).toBe(false);
    expect(objectsOf(acm, 'TLSStore')).toEqual([]);
  });
});

describe("Let's Encrypt path", () => {
  test('Traefik terminates TLS behind an NLB; web redirects to websecure', () => {
    expect(le.cluster.tlsTerminatedByTraefik).toBe(true);
    expect(le.cluster.domainName).toBe('dev.example.com');
    const { values } = helmRelease(le, 'traefik');
    expect(values.deployment.replicas).toBe(1);
    expect(values.podDisruptionBudget).toEqual({ enabled: false });
    expect(values.service.spec).toEqual({ type: 'LoadBalancer', loadBalancerClass: 'service.k8s.aws/nlb' });
    // IP targets: without client IP preservation rate limits and allowlists would see NLB addresses.
    expect(values.service.annotations['service.beta.kubernetes.io/aws-load-balancer-target-group-attributes'])
      .toBe('preserve_client_ip.enabled=true');
    expect(values.service.annotations).toMatchObject({
      'service.beta.kubernetes.io/aws-load-balancer-type': 'external',
      'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internet-facing',
      'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip',
    });
    expect(values.ports.web.http.redirections.entryPoint).toEqual({ to: 'websecure', scheme: 'https', permanent: true });
    expect(values.ports.websecure.expose.default).toBe(true);
    le.template.resourceCountIs('AWS::CertificateManager::Certificate', 0);
    expect(objectsOf(le, 'Ingress')).toEqual([]);
    le.template.hasResourceProperties('AWS::Route53::RecordSet', { Name: '*.dev.example.com.', AliasTarget: { HostedZoneId: 'Z26RNL4JYFTOTI' } });
  });

  test('cert-manager issues the wildcard certificate through a Route 53 DNS-01 ClusterIssuer', () => {
    const { props, values } = helmRelease(le, 'cert-manager');
    expect(props).toMatchObject({ Repository: ROW.charts.certManager.repository, Version: ROW.charts.certManager.version, Namespace: 'cert-manager', Wait: true });
    expect(values.crds).toEqual({ enabled: true, keep: true });
    expect(values.serviceAccount).toEqual({ create: false, name: 'cert-manager' });
    const [issuer] = objectsOf(le, 'ClusterIssuer');
    expect(issuer.spec.acme).toMatchObject({
      server: 'https://acme-staging-v02.api.letsencrypt.org/directory',
      email: 'ops@example.com',
      solvers: [{ selector: { dnsZones: ['dev.example.com'] }, dns01: { route53: { region: REGION, hostedZoneID: 'Z0EXAMPLE' } } }],
    });
    const [certificate] = objectsOf(le, 'Certificate');
    expect(certificate.metadata.namespace).toBe('traefik');
    expect(certificate.spec).toMatchObject({ secretName: WIRING.traefik.certificateSecret, dnsNames: ['dev.example.com', '*.dev.example.com'] });
    const [store] = objectsOf(le, 'TLSStore');
    expect(store.spec.defaultCertificate.secretName).toBe(WIRING.traefik.certificateSecret);
  });

  test("cert-manager's role changes only ACME TXT records in the platform zone", () => {
    const statements = statementsOf(le, 'cert-manager', 'cert-manager');
    const change = statement(statements, 'ChallengeRecords');
    expect(change.Action).toBe('route53:ChangeResourceRecordSets');
    expect(JSON.stringify(change.Resource)).toContain('hostedzone/Z0EXAMPLE');
    expect(change.Condition['ForAllValues:StringEquals']).toEqual({ 'route53:ChangeResourceRecordSetsRecordTypes': ['TXT'] });
    expect(change.Condition['ForAllValues:StringLike']['route53:ChangeResourceRecordSetsNormalizedRecordNames'])
      .toEqual(['_acme-challenge.dev.example.com', '_acme-challenge.*.dev.example.com']);
  });
});

describe('External Secrets Operator', () => {
  test('installs the pinned chart with CRDs and the Pod Identity service account', () => {
    const { props, values } = helmRelease(acm, 'external-secrets');
    expect(props).toMatchObject({ Repository: ROW.charts.externalSecrets.repository, Version: ROW.charts.externalSecrets.version, Namespace: 'external-secrets', Wait: true });
    expect(values).toMatchObject({ installCRDs: true, serviceAccount: { create: false, name: 'external-secrets' } });
    acm.template.hasResourceProperties('AWS::EKS::PodIdentityAssociation', { Namespace: 'external-secrets', ServiceAccount: 'external-secrets' });
  });

  test('no cluster-wide store: no ClusterSecretStore; the chart alone provides the CRDs and the webhook', () => {
    for (const s of [acm, le]) {
      expect(objectsOf(s, 'ClusterSecretStore')).toEqual([]);
      // Stores are namespaced and created by the namespaces that sync secrets (FxMicroservice, FxObservability).
      expect(objectsOf(s, 'SecretStore')).toEqual([]);
      expect(s.cluster.hasCapability(FxCapability.EXTERNAL_SECRETS_CRDS)).toBe(true);
      expect(s.cluster.hasCapability(FxCapability.EXTERNAL_SECRETS_WEBHOOK)).toBe(true);
    }
  });

  test("the controller's Pod Identity role is granted nothing: no Secrets Manager or KMS statement at all", () => {
    for (const s of [acm, le]) {
      const role = roleOf(s, 'external-secrets', 'external-secrets');
      // Trusted by EKS Pod Identity only: no web identity, so no SecretStore can authenticate as the controller.
      const principals = role.Properties.AssumeRolePolicyDocument.Statement.map((st: any) => st.Principal);
      expect(principals.length).toBeGreaterThan(0);
      expect(new Set(principals.map((p: any) => JSON.stringify(p)))).toEqual(new Set([JSON.stringify({ Service: 'pods.eks.amazonaws.com' })]));
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      expect(statementsOf(s, 'external-secrets', 'external-secrets')).toEqual([]);
    }
    // Nothing anywhere in the cluster stack reads Secrets Manager: without namespaces that sync secrets, no store role exists.
    const reads = Object.values(acm.resources).flatMap((r: any) => [
      ...(r.Type === 'AWS::IAM::Policy' ? r.Properties.PolicyDocument.Statement : []),
      ...(r.Type === 'AWS::IAM::Role' ? (r.Properties.Policies ?? []).flatMap((p: any) => p.PolicyDocument.Statement) : []),
    ]).filter((st: any) => JSON.stringify(st.Action).includes('secretsmanager:GetSecretValue'));
    expect(reads).toEqual([]);
  });

  test('grantExternalSecretRead is refused: secrets are read by the SecretStore of the namespace that syncs them', () => {
    const stack = newStack();
    const cluster = new FxCluster(stack, 'Cluster', { profile: FxProfile.DEVELOPMENT, platformName: 'fx-dev' });
    const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'OrdersDb', `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:orders/db-AbCdEf`);
    expect(() => cluster.grantExternalSecretRead(secret)).toThrow(new Error(
      "FxCluster: invalid grantExternalSecretRead 'Platform/OrdersDb'; allowed: no grant to the External Secrets Operator (its own role reads nothing): "
      + 'secrets are read by the SecretStore of the namespace that syncs them, whose role the namespace\'s owner grants '
      + '(FxMicroservice grants its own secretEnv, database and basicAuth secrets)'));
  });
});

describe('cluster-autoscaler', () => {
  test('runs the image of the cluster minor with auto-discovery, balancing and the expander', () => {
    const { props, values } = helmRelease(le, 'cluster-autoscaler');
    expect(props).toMatchObject({ Repository: ROW.charts.clusterAutoscaler.repository, Version: ROW.charts.clusterAutoscaler.version, Namespace: 'kube-system' });
    expect(values.image.tag).toMatch(new RegExp(`^v${ROW.kubernetesVersion.replace('.', '\\.')}\\.\\d+$`));
    expect(values).toMatchObject({ cloudProvider: 'aws', awsRegion: REGION, autoDiscovery: { clusterName: TOKEN } });
    expect(values.rbac.serviceAccount).toEqual({ create: false, name: 'cluster-autoscaler' });
    expect(values.extraArgs).toMatchObject({ 'expander': 'most-pods', 'balance-similar-node-groups': true });
    expect(helmRelease(acm, 'cluster-autoscaler').values.extraArgs.expander).toBe('least-waste');
  });

  test('scales only node groups tagged as owned by this cluster', () => {
    const statements = statementsOf(acm, 'kube-system', 'cluster-autoscaler');
    const scale = statement(statements, 'ScaleOwnNodeGroups');
    expect(scale.Action).toEqual(['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup']);
    const [key] = Object.keys(scale.Condition.StringEquals);
    expect(key).toMatch(/^aws:ResourceTag\/k8s\.io\/cluster-autoscaler\/Platform-Cluster-/);
    expect(scale.Condition.StringEquals[key]).toBe('owned');
    expect(JSON.stringify(statement(statements, 'DescribeOwnNodeGroups').Resource)).toMatch(/nodegroup\/Platform-Cluster-[^/]+\/\*\/\*/);
  });
});

describe('Velero', () => {
  test('backs up to a retained, encrypted, versioned, private bucket', () => {
    const bucket = Object.values(acm.template.findResources('AWS::S3::Bucket')).find((b: any) => b.Properties.VersioningConfiguration) as any;
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.Properties).toMatchObject({
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    });
  });

  test('installs the pinned chart with the AWS plugin, Pod Identity and the bucket as default location', () => {
    const { props, values } = helmRelease(acm, 'velero');
    expect(props).toMatchObject({ Repository: ROW.charts.velero.repository, Version: ROW.charts.velero.version, Namespace: 'velero', Wait: true });
    expect(values.serviceAccount.server).toEqual({ create: false, name: 'velero-server' });
    expect(values.credentials).toEqual({ useSecret: false });
    expect(values.initContainers[0].image).toBe(`${ROW.images.veleroPluginForAws.repository}:${ROW.images.veleroPluginForAws.tag}`);
    expect(values.configuration.backupStorageLocation).toEqual([{ name: 'default', provider: 'aws', bucket: TOKEN, default: true, config: { region: REGION } }]);
    const s3 = statement(statementsOf(acm, 'velero', 'velero-server'), 'BackupObjects');
    expect(s3.Resource).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^ClusterBackupBucket/), 'Arn'] }, '/*']] });
  });

  test('mounts no second /tmp (the chart mounts its own with a read-only root), enables CSI, requests for the plugin', () => {
    const { values } = helmRelease(acm, 'velero');
    expect(values.containerSecurityContext.readOnlyRootFilesystem).toBe(true);
    const mounts = [...(values.extraVolumeMounts ?? []), ...values.initContainers.flatMap((c: any) => c.volumeMounts ?? [])];
    expect(mounts.filter((m: any) => m.mountPath === '/tmp')).toEqual([]);
    expect(values.configuration.features.split(',')).toContain('EnableCSI');
    for (const init of values.initContainers) expect(init.resources.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
  });

  test('a daily Schedule of all namespaces keeps backups for the profile retention', () => {
    const [prodSchedule] = objectsOf(acm, 'Schedule');
    expect(prodSchedule.spec).toMatchObject({ schedule: '0 3 * * *', template: { includedNamespaces: ['*'], snapshotVolumes: true, ttl: '720h0m0s' } });
    expect(objectsOf(le, 'Schedule')[0].spec.template.ttl).toBe('168h0m0s');
  });
});

describe('install order', () => {
  const crdGroups: [string, string][] = [
    ['traefik.io', 'traefik'],
    ['external-secrets.io', 'external-secrets'],
    ['cert-manager.io', 'cert-manager'],
    ['velero.io', 'velero'],
  ];

  test.each([['ACM', () => acm, 6], ["Let's Encrypt", () => le, 7]])('%s: every custom resource depends on the chart serving its CRD', (_name, get, minimum) => {
    const s = get();
    let checked = 0;
    for (const m of manifests(s)) {
      const deps = reachable(s, m.id);
      for (const object of m.objects) {
        const group = String(object.apiVersion).split('/')[0];
        const entry = crdGroups.find(([g]) => g === group);
        if (!entry) continue;
        expect({ object: `${object.kind}/${object.metadata.name}`, dependsOnChart: deps.has(helmRelease(s, entry[1]).id) })
          .toEqual({ object: `${object.kind}/${object.metadata.name}`, dependsOnChart: true });
        checked++;
      }
    }
    // ACM: Traefik's TLSOption, TLSStore and middlewares, Velero's Schedule (no ClusterSecretStore any more); Let's Encrypt adds cert-manager's.
    expect(checked).toBeGreaterThanOrEqual(minimum);
  });

  test.each([['ACM', () => acm], ["Let's Encrypt", () => le]])('%s: Traefik and its load balancer depend on the Load Balancer Controller; no cycles', (_name, get) => {
    const s = get();
    const controller = helmRelease(s, 'aws-load-balancer-controller').id;
    expect(reachable(s, helmRelease(s, 'traefik').id)).toContain(controller);
    for (const ingress of objectsOf(s, 'Ingress')) expect(reachable(s, manifestIdOf(s, 'Ingress', ingress.metadata.name))).toContain(controller);
    expect(findCycle(s.resources)).toBeUndefined();
  });

  test('charts with CRDs or webhooks others use install with wait, 2 minutes under the handler Lambda timeout', () => {
    for (const [id, r] of Object.entries(acm.resources).filter(([, x]) => x.Type === HELM)) {
      expect({ id, wait: r.Properties.Wait }).toEqual({ id, wait: true });
      expect({ id, seconds: Number(String(r.Properties.Timeout).replace(/s$/, '')) <= 900 - 120 }).toEqual({ id, seconds: true });
    }
  });

  test("the controller's Service mutating webhook is off: no Service waits for the controller", () => {
    expect(helmRelease(acm, 'aws-load-balancer-controller').values.enableServiceMutatorWebhook).toBe(false);
    expect(helmRelease(le, 'aws-load-balancer-controller').values.enableServiceMutatorWebhook).toBe(false);
  });

  test.each([['ACM', () => acm], ["Let's Encrypt", () => le]])('%s: chart values set only the fx.platform/* label keys (charts own app.kubernetes.io/*)', (_name, get) => {
    const s = get();
    for (const [id, r] of Object.entries(s.resources).filter(([, x]) => x.Type === HELM)) {
      const values = joinedString(r.Properties.Values, TOKEN);
      expect({ id, managedBy: values.includes('app.kubernetes.io/managed-by'), partOf: values.includes('app.kubernetes.io/part-of') })
        .toEqual({ id, managedBy: false, partOf: false });
    }
  });

  test('service accounts are applied before their charts, into namespaces created first', () => {
    const chart = helmRelease(acm, 'external-secrets').id;
    const deps = reachable(acm, chart);
    expect([...deps].some((id) => acm.resources[id].Type === 'AWS::EKS::PodIdentityAssociation')).toBe(true);
    expect(deps).toContain(manifestIdOf(acm, 'Namespace', 'external-secrets'));
    expect(acm.cluster.hasCapability(FxCapability.EXTERNAL_SECRETS_WEBHOOK)).toBe(true);
  });
});

describe('chart data', () => {
  test.each([['ACM', () => acm], ["Let's Encrypt", () => le]])('%s: no unknown values key, every CRD manifest is served and valid', (_name, get) => {
    const run = checkHelmValues(get().outdir);
    expect(run.stdout).toMatch(/0 errors/);
    expect(run.status).toBe(0);
  });
});

describe('switches and defaults', () => {
  test('without a domain: no public load balancer, routes use the web entry point', () => {
    const stack = newStack();
    const cluster = new FxCluster(stack, 'Cluster', { clusterAutoscaler: false, velero: false });
    expect(cluster.tlsTerminatedByTraefik).toBe(false);
    expect(cluster.domainName).toBeUndefined();
    expect(cluster.clusterAutoscaler).toBeUndefined();
    expect(cluster.velero).toBeUndefined();
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Route53::RecordSet', 0);
    template.resourceCountIs('AWS::S3::Bucket', 0);
    template.resourceCountIs('Custom::AWSCDK-EKS-KubernetesObjectValue', 0);
  });
});

describe('bad input', () => {
  const zone = () => zoneOf(newStack());

  test('fails when the ACM path has no hosted zone', () => {
    expect(() => FxTls.acm({ hostedZone: undefined as any, domainName: 'fx.example.com' }))
      .toThrow(/FxTls(?: at [^:]+)?: invalid acm.hostedZone \(undefined\); allowed: a public route53.IHostedZone/);
  });

  test('fails when the domain is not in the hosted zone or malformed', () => {
    expect(() => FxTls.acm({ hostedZone: zone(), domainName: 'fx.example.org' }))
      .toThrow(/invalid acm.domainName 'fx.example.org'; allowed: the hosted zone's name example.com or a name below it/);
    expect(() => FxTls.acm({ hostedZone: zone(), domainName: 'fx_example' })).toThrow(/invalid acm.domainName 'fx_example'/);
  });

  test("fails when the Let's Encrypt email is invalid", () => {
    expect(() => FxTls.letsEncrypt({ hostedZone: zone(), domainName: 'fx.example.com', email: 'ops-at-example' }))
      .toThrow(/FxTls(?: at [^:]+)?: invalid letsEncrypt.email 'ops-at-example'; allowed: an e-mail address/);
  });

  test('fails when the rate limit is not positive', () => {
    expect(() => new FxCluster(newStack(), 'Cluster', { ingressRateLimit: { average: 0, burst: 10 } }))
      .toThrow(/FxCluster(?: at [^:]+)?: invalid ingressRateLimit.average 0; allowed: a positive integer/);
    expect(() => new FxCluster(newStack(), 'Cluster', { ingressRateLimit: { average: 10, burst: -1 } }))
      .toThrow(/invalid ingressRateLimit.burst -1; allowed: a positive integer/);
  });

  test('fails when the IP allowlist has a malformed CIDR', () => {
    expect(() => new FxCluster(newStack(), 'Cluster', { ingressIpAllowlist: ['10.0.0.0/8', '300.1.2.3/24'] }))
      .toThrow(/FxCluster(?: at [^:]+)?: invalid ingressIpAllowlist '300.1.2.3\/24'; allowed: IPv4 CIDR blocks/);
  });

  test('fails when an expander is set with the autoscaler off', () => {
    expect(() => new FxCluster(newStack(), 'Cluster', { clusterAutoscaler: false, autoscalerExpander: FxAutoscalerExpander.RANDOM }))
      .toThrow(/invalid autoscalerExpander 'random'; allowed: no expander unless cluster-autoscaler is the node autoscaler/);
  });
});
