import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CfnElement, CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { FxCluster, FxDatabase, FxImage, FxMicroservice, FxMicroserviceProps, FxObservability, FxProfile, FxServiceStacks, FxTls } from '../src';
import { clusterWithAddons, ENV, testApp } from './util/fixtures';
import { checkHelmValues } from './util/helm-values';
import { k8sErrors } from './util/k8s';
import { joinedString, kubernetesObjectsOf } from './util/manifests';
import { restrictedViolationsOf, workloadCount } from './util/pss';
import { IFxWorkloadObservability } from '../src/core/contracts';
import { FxCapability } from '../src/core/install-order';

type Obj = Record<string, any>;

class FakeObservability implements IFxWorkloadObservability {
  public readonly otlpEndpoint = 'http://otel.monitoring:4317';
  public readonly otlpHttpEndpoint = 'http://otel.monitoring:4318';
  public readonly dashboards: string[] = [];
  public serviceDashboard(namespace: string, serviceName: string): Record<string, any> {
    this.dashboards.push(`${namespace}/${serviceName}`);
    return {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `${serviceName}-dashboard`, namespace, labels: { grafana_dashboard: '1' } },
      data: { [`${namespace}--${serviceName}.json`]: '{"title":"x"}' },
    };
  }
}

function objectsOf(service: FxMicroservice): Obj[] {
  return service.chart.toJson();
}

function find(objects: Obj[], kind: string, name?: string): Obj {
  const found = objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (!found) throw new Error(`no ${kind} ${name ?? ''} in ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found;
}

describe('FxMicroservice', () => {
  let stack: Stack;
  let template: Template;
  let orders: FxMicroservice;
  let payments: FxMicroservice;
  let objects: Obj[];
  let database: FxDatabase;
  let observability: FakeObservability;
  let outdir: string;

  beforeAll(() => {
    outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-services-'));
    const app = testApp(outdir);
    stack = new Stack(app, 'Services', { env: ENV });
    const cluster = clusterWithAddons(stack, FxProfile.PRODUCTION);
    // Stands in for FxObservability's kube-prometheus-stack release: the chart that serves the prometheus-operator CRDs.
    cluster.addHelmChart('Prometheus', {
      chart: cluster.versions.charts.kubePrometheusStack,
      namespace: 'monitoring',
      provides: [FxCapability.PROMETHEUS_OPERATOR_CRDS],
    });
    database = new FxDatabase(stack, 'Database', { cluster, databaseName: 'orders' });
    observability = new FakeObservability();
    const apiKeys = secretsmanager.Secret.fromSecretNameV2(stack, 'ApiKeys', 'fx/orders/api-keys');
    payments = new FxMicroservice(stack, 'Payments', {
      cluster,
      image: FxImage.fromRegistry('ghcr.io/acme/payments:2.0.1'),
      port: 8080,
    });
    orders = new FxMicroservice(stack, 'OrdersApi', {
      cluster,
      serviceName: 'orders-api',
      image: FxImage.fromEcr(ecr.Repository.fromRepositoryName(stack, 'Repo', 'orders'), '1.4.2'),
      database,
      observability,
      dependsOn: [payments],
      secretEnv: [{ secret: apiKeys, keys: ['PARTNER_TOKEN'] }],
      env: { LOG_LEVEL: 'info' },
      migration: { command: ['python3', '-m', 'orders_api.migrate'] },
      route: {
        host: 'api.fx.example.com',
        pathPrefix: '/orders',
        stripPrefix: true,
        rateLimit: { average: 50, burst: 100 },
        ipAllowList: ['203.0.113.0/24'],
        circuitBreaker: 'NetworkErrorRatio() > 0.30',
        canary: { image: FxImage.fromEcr(ecr.Repository.fromRepositoryName(stack, 'Repo2', 'orders'), '1.5.0-rc1'), weight: 10 },
      },
    });
    new s3.Bucket(stack, 'Bucket').grantRead(orders);
    template = Template.fromStack(stack);
    objects = objectsOf(orders);
  });

  /** Logical id of the orders-api service role. */
  const roleId = (): string => stack.getLogicalId(orders.role.node.defaultChild as CfnElement);

  /** The inline policies of the orders-api service role, by name: statements. */
  const inlinePolicies = (): Record<string, Obj[]> => Object.fromEntries((template.toJSON().Resources[roleId()].Properties.Policies as Obj[])
    .map((p) => [p.PolicyName, p.PolicyDocument.Statement]));

  test('adds at most 6 CloudFormation resources per service (route, database, observability, grants), one of them the manifest', () => {
    const own = Object.entries(template.toJSON().Resources as Record<string, { Type: string }>).filter(([id]) => id.startsWith('OrdersApi'));
    // Its image is in an existing ECR repository: no repository of its own. Every grant is inline in the role (no AWS::IAM::Policy);
    // its database role (secret, custom resource, rotation) is in its own scope.
    expect(own.map(([, r]) => r.Type).sort()).toEqual([
      'AWS::EKS::PodIdentityAssociation',
      'AWS::IAM::Role',
      'AWS::SecretsManager::RotationSchedule',
      'AWS::SecretsManager::Secret',
      'Custom::AWSCDK-EKS-KubernetesResource',
      'Custom::FxDatabaseServiceRole',
    ]);
    expect(own.length).toBeLessThanOrEqual(6);
    const minimal = Object.keys(template.toJSON().Resources).filter((id) => id.startsWith('Payments'));
    expect(minimal.length).toBeLessThanOrEqual(4);
  });

  test('every object validates against the Kubernetes, Traefik, external-secrets and prometheus-operator schemas', () => {
    expect(k8sErrors(objects)).toEqual([]);
    expect(k8sErrors(objectsOf(payments))).toEqual([]);
  });

  test('every custom resource is served by the pinned chart and valid against its CRD schema (check-helm-values --manifests)', () => {
    const run = checkHelmValues(outdir);
    expect(run.stdout).toMatch(/ 0 errors/);
    expect(run.status).toBe(0);
    if (!run.stdout.includes('skipped')) {
      // the service's IngressRoute, Middlewares, ExternalSecrets, ServiceMonitor and PrometheusRule are among them
      expect(Number(/(\d+) objects? checked/.exec(run.stdout)?.[1])).toBeGreaterThanOrEqual(12);
    }
  });

  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  test('every pod template meets Pod Security Standards restricted', () => {
    expect(workloadCount(objects)).toBe(3); // stable, canary, migration job
    expect(restrictedViolationsOf(objects)).toEqual([]);
    expect(restrictedViolationsOf(objectsOf(payments))).toEqual([]);
  });

  test('namespace carries Pod Security labels, a quota and limits', () => {
    const ns = find(objects, 'Namespace', 'orders-api');
    expect(ns.metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/audit': 'restricted',
      'pod-security.kubernetes.io/warn': 'restricted',
    });
    expect(find(objects, 'ResourceQuota').spec.hard).toMatchObject({ 'requests.cpu': '16', 'requests.memory': '32Gi', 'pods': '50' });
    expect(find(objects, 'LimitRange').spec.limits[0]).toMatchObject({ type: 'Container', default: { cpu: '1', memory: '512Mi' } });
  });

  test('deployment is hardened: security context, probes, resources, spread, rolling update', () => {
    const d = find(objects, 'Deployment', 'orders-api');
    expect(d.spec.replicas).toBe(2);
    expect(d.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } });
    const pod = d.spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.terminationGracePeriodSeconds).toBe(30);
    expect(pod.topologySpreadConstraints.map((t: Obj) => t.topologyKey)).toEqual(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']);
    expect(pod.volumes.map((v: Obj) => v.name)).toEqual(['tmp', 'database-credentials']);
    expect(pod.volumes[0]).toEqual({ name: 'tmp', emptyDir: { sizeLimit: '256Mi' } });
    // Without a database: no credentials volume, mount or directory variable.
    const plain = find(objectsOf(payments), 'Deployment').spec.template.spec;
    expect(plain.volumes.map((v: Obj) => v.name)).toEqual(['tmp']);
    expect(plain.containers[0].volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    expect((plain.containers[0].env ?? []).map((e: Obj) => e.name)).not.toContain('FX_DATABASE_CREDENTIALS_DIR');
    const app = pod.containers[0];
    expect(app.image).toMatch(/orders:1\.4\.2/);
    expect(app.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(app.volumeMounts).toEqual([
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'database-credentials', mountPath: '/var/run/secrets/fx/database', readOnly: true },
    ]);
    expect(app.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(app.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(app.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(app.resources).toEqual({ requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } });
    expect(app.ports).toEqual([{ name: 'http', containerPort: 8000, protocol: 'TCP' }]);
  });

  test('env vars, secret env from ExternalSecrets and OpenTelemetry endpoint', () => {
    const app = find(objects, 'Deployment', 'orders-api').spec.template.spec.containers[0];
    const env = Object.fromEntries(app.env.filter((e: Obj) => e.value !== undefined).map((e: Obj) => [e.name, e.value]));
    expect(env).toMatchObject({
      LOG_LEVEL: 'info',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel.monitoring:4318',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_SERVICE_NAME: 'orders-api',
      LOG_FORMAT: 'json',
    });
    expect(app.envFrom).toEqual([{ secretRef: { name: 'orders-api-env-0' } }, { secretRef: { name: 'orders-api-database' } }]);
    const es = find(objects, 'ExternalSecret', 'orders-api-env-0');
    expect(es.apiVersion).toBe('external-secrets.io/v1');
    expect(es.spec.secretStoreRef).toEqual({ kind: 'SecretStore', name: 'orders-api-secrets' });
    expect(es.spec.data).toEqual([{ secretKey: 'PARTNER_TOKEN', remoteRef: { key: 'fx/orders/api-keys', property: 'PARTNER_TOKEN' } }]);
    expect(es.spec.refreshInterval).toBe('1h');
    // The namespace's own store, authenticating with the namespace's own service account (annotated with the service role).
    const store = find(objects, 'SecretStore', 'orders-api-secrets');
    expect(store.apiVersion).toBe('external-secrets.io/v1');
    expect(store.metadata.namespace).toBe('orders-api');
    expect(store.spec).toEqual({
      provider: { aws: { service: 'SecretsManager', region: 'us-east-1', auth: { jwt: { serviceAccountRef: { name: 'orders-api-secrets' } } } } },
    });
    const sa = find(objects, 'ServiceAccount', 'orders-api-secrets');
    expect(sa.metadata.namespace).toBe('orders-api');
    expect(sa.automountServiceAccountToken).toBe(false);
    expect(Object.keys(sa.metadata.annotations)).toEqual(['eks.amazonaws.com/role-arn']);
    expect(stack.resolve(sa.metadata.annotations['eks.amazonaws.com/role-arn'])).toEqual({ 'Fn::GetAtt': [roleId(), 'Arn'] });
    expect(objects.filter((o) => o.kind === 'ClusterSecretStore')).toEqual([]);
  });

  test('database: credentials through an ExternalSecret template, connect granted, egress opened', () => {
    const es = find(objects, 'ExternalSecret', 'orders-api-database');
    expect(es.spec.data.map((d: Obj) => d.remoteRef.property)).toEqual(['username', 'password', 'host', 'port', 'dbname']);
    // The service's own login role secret, not the master secret.
    expect(es.spec.data.map((d: Obj) => d.remoteRef.key)).toEqual(Array(5).fill('fx/database/database/roles/orders_api'));
    expect(es.spec.secretStoreRef).toEqual({ kind: 'SecretStore', name: 'orders-api-secrets' });
    expect(es.spec.refreshInterval).toBe('5m');
    expect(es.spec.target.template.data.DATABASE_URL).toBe('postgresql://{{ .username | urlquery }}:{{ .password | urlquery }}@{{ .host }}:{{ .port }}/{{ .dbname }}?sslmode=require');
    expect(es.spec.target.template.data.PGSSLMODE).toBe('require');
    // Also as files: the same Secret mounted read-only, its directory in the environment.
    const pod = find(objects, 'Deployment', 'orders-api').spec.template.spec;
    expect(pod.volumes.find((v: Obj) => v.name === 'database-credentials')).toEqual({
      name: 'database-credentials',
      secret: {
        secretName: 'orders-api-database',
        defaultMode: 0o440,
        items: [
          { key: 'username', path: 'username' },
          { key: 'password', path: 'password' },
          { key: 'host', path: 'host' },
          { key: 'port', path: 'port' },
          { key: 'dbname', path: 'dbname' },
          { key: 'PGSSLMODE', path: 'sslmode' },
          { key: 'DATABASE_URL', path: 'url' },
        ],
      },
    });
    expect(pod.containers[0].env).toContainEqual({ name: 'FX_DATABASE_CREDENTIALS_DIR', value: '/var/run/secrets/fx/database' });
    // The login role secret of this service, in its own scope
    template.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'fx/database/database/roles/orders_api' });
    const roleSecret = Object.keys(template.findResources('AWS::SecretsManager::Secret', { Properties: { Name: 'fx/database/database/roles/orders_api' } }));
    expect(roleSecret).toEqual([expect.stringMatching(/^OrdersApiDatabaseRoleSecret[0-9A-F]{8}$/)]);
    template.hasResourceProperties('Custom::FxDatabaseServiceRole', { RoleName: 'orders_api', SchemaName: 'orders_api', DatabaseName: 'orders', IamAuth: 'true', SecretArn: { Ref: roleSecret[0] } });
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', { SecretId: { Ref: roleSecret[0] }, HostedRotationLambda: Match.objectLike({ RotationType: 'PostgreSQLMultiUser' }) });
    // IAM database authentication for the service role, only as <role>_iam; inline in the role
    const policies = inlinePolicies();
    const connect = policies.Grants.filter((st: Obj) => JSON.stringify(st.Action).includes('rds-db:'));
    expect(connect).toEqual([{
      Action: 'rds-db:connect',
      Effect: 'Allow',
      Resource: {
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':rds-db:us-east-1:123456789012:dbuser:',
          { 'Fn::GetAtt': [expect.stringMatching(/^Database[0-9A-F]{8}$/), 'DbiResourceId'] }, '/orders_api_iam']],
      },
    }]);
    // The namespace's SecretStore (the same role) reads the role secret and decrypts it through Secrets Manager; not the master secret
    expect(policies.SecretStoreRead).toContainEqual({
      Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Effect: 'Allow', Resource: { Ref: roleSecret[0] },
    });
    expect(JSON.stringify(policies)).not.toMatch(/"Ref":"DatabaseSecret/);
    expect(policies.SecretStoreRead).toContainEqual(expect.objectContaining({
      Action: 'kms:Decrypt',
      Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.us-east-1.', { Ref: 'AWS::URLSuffix' }]] } } },
    }));
    const egress = find(objects, 'NetworkPolicy', 'orders-api').spec.egress.filter((e: Obj) => e.to[0].ipBlock && e.ports?.[0]?.port === database.databasePort);
    expect(egress).toHaveLength(3); // one per isolated subnet
  });

  test('network policies: default deny, ingress from Traefik and Prometheus only, egress to DNS and dependencies', () => {
    expect(find(objects, 'NetworkPolicy', 'default-deny').spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    const policy = find(objects, 'NetworkPolicy', 'orders-api').spec;
    expect(policy.ingress).toEqual([
      {
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'traefik' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'traefik' } } }],
        ports: [{ protocol: 'TCP', port: 8000 }],
      },
      {
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } }],
        ports: [{ protocol: 'TCP', port: 8000 }],
      },
    ]);
    expect(policy.egress[0].ports).toEqual([{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }]);
    expect(policy.egress).toEqual(expect.arrayContaining([{
      to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'payments' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'payments' } } }],
      ports: [{ protocol: 'TCP', port: 8080 }],
    }]));
  });

  test('network policies: the callee of dependsOn admits the caller, from the caller\'s own manifest', () => {
    expect(find(objects, 'NetworkPolicy', 'payments-from-orders-api-orders-api')).toMatchObject({
      metadata: { namespace: 'payments' },
      spec: {
        podSelector: { matchLabels: { 'app.kubernetes.io/name': 'payments' } },
        policyTypes: ['Ingress'],
        ingress: [{
          from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'orders-api' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'orders-api' } } }],
          ports: [{ protocol: 'TCP', port: 8080 }],
        }],
      },
    });
    expect(objectsOf(payments).filter((o) => o.kind === 'NetworkPolicy').map((o) => o.metadata.name)).toEqual(['default-deny', 'payments']);
  });

  test('network policies: API server at the control-plane subnets on 443, OTLP collector namespace on both OTLP ports', () => {
    const egress = find(objects, 'NetworkPolicy', 'orders-api').spec.egress as Obj[];
    const api = egress.find((e) => e.ports.length === 1 && e.ports[0].port === 443)!;
    expect(api.to).toHaveLength(3);
    for (const peer of api.to) expect(peer.ipBlock.cidr).toMatch(/^10\.\d+\.\d+\.0\/\d+$/);
    const otlp = egress.find((e) => e.to[0].namespaceSelector?.matchLabels['kubernetes.io/metadata.name'] === 'monitoring')!;
    expect(otlp.ports).toEqual([{ protocol: 'TCP', port: 4317 }, { protocol: 'TCP', port: 4318 }]);
    expect(find(objectsOf(payments), 'NetworkPolicy', 'payments').spec.egress).toHaveLength(1); // DNS only
  });

  test('network policies: Pod Identity agent and AWS on 443 only once the role is granted something (resolved at synth)', () => {
    const manifestOf = (prefix: string) => kubernetesObjectsOf(template).find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === prefix)!;
    const granted = manifestOf('orders-api').spec.egress as Obj[];
    expect(granted).toEqual(expect.arrayContaining([
      { to: [{ ipBlock: { cidr: '169.254.170.23/32' } }], ports: [{ protocol: 'TCP', port: 80 }] },
      { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.0.0/16'] } }], ports: [{ protocol: 'TCP', port: 443 }] },
    ]));
    expect(orders.hasAwsPermissions()).toBe(true);
    expect(payments.hasAwsPermissions()).toBe(false);
    // a managed policy attached to the role counts too
    const otherStack = new Stack(testApp(), 'Other', { env: ENV });
    const other = new FxMicroservice(otherStack, 'Other', { cluster: clusterWithAddons(otherStack, FxProfile.DEVELOPMENT), image: FxImage.fromRegistry('ghcr.io/acme/other:1.0.0') });
    expect(other.hasAwsPermissions()).toBe(false);
    other.role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonS3ReadOnlyAccess'));
    expect(other.hasAwsPermissions()).toBe(true);
    expect(JSON.stringify(manifestOf('payments').spec.egress)).not.toMatch(/169\.254\.170\.23|0\.0\.0\.0\/0/);
  });

  test('the manifest waits for the Pod Identity association (first pods start with credentials)', () => {
    const manifests = template.findResources('Custom::AWSCDK-EKS-KubernetesResource', { DependsOn: Match.arrayWith([Match.stringLikeRegexp('^OrdersApiPodIdentity')]) });
    expect(Object.keys(manifests).filter((id) => id.startsWith('OrdersApiManifest'))).toHaveLength(1);
  });

  test('service, HPA and PDB', () => {
    expect(find(objects, 'Service', 'orders-api').spec).toMatchObject({ type: 'ClusterIP', ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] });
    const hpa = find(objects, 'HorizontalPodAutoscaler').spec;
    expect(hpa).toMatchObject({ minReplicas: 2, maxReplicas: 10 });
    expect(hpa.metrics.map((m: Obj) => [m.resource.name, m.resource.target.averageUtilization])).toEqual([['cpu', 70], ['memory', 80]]);
    expect(find(objects, 'PodDisruptionBudget').spec).toMatchObject({ maxUnavailable: 1 });
  });

  test('route: IngressRoute with host and prefix, middlewares, canary weights', () => {
    const route = find(objects, 'IngressRoute', 'orders-api').spec;
    expect(route.entryPoints).toEqual(['web']);
    expect(route.routes[0].match).toBe('(Host(`api.fx.example.com`)) && PathPrefix(`/orders`)');
    expect(route.routes[0].services).toEqual([
      { name: 'orders-api', port: 80, weight: 90 },
      { name: 'orders-api-canary', port: 80, weight: 10 },
    ]);
    expect(route.routes[0].middlewares.map((m: Obj) => m.name)).toEqual([
      'fx-secure-headers', 'orders-api-body-limit', 'orders-api-ip-allowlist', 'orders-api-rate-limit', 'orders-api-circuit-breaker', 'orders-api-retry', 'orders-api-strip-prefix',
    ]);
    // ACM path: the client is the last X-Forwarded-For entry, appended by the ALB.
    expect(find(objects, 'Middleware', 'orders-api-rate-limit').spec).toEqual({ rateLimit: { average: 50, burst: 100, period: '1s', sourceCriterion: { ipStrategy: { depth: 1 } } } });
    expect(find(objects, 'Middleware', 'orders-api-ip-allowlist').spec.ipAllowList).toEqual({ sourceRange: ['203.0.113.0/24'], ipStrategy: { depth: 1 } });
    expect(find(objects, 'Middleware', 'orders-api-strip-prefix').spec).toEqual({ stripPrefix: { prefixes: ['/orders'] } });
    expect(find(objects, 'Deployment', 'orders-api-canary').spec.template.spec.containers[0].image).toMatch(/orders:1\.5\.0-rc1/);
  });

  test('observability: ServiceMonitor, PrometheusRule and a dashboard', () => {
    expect(find(objects, 'ServiceMonitor').spec.endpoints).toEqual([{ port: 'http', path: '/metrics', interval: '30s', scrapeTimeout: '10s' }]);
    const alerts = find(objects, 'PrometheusRule').spec.groups[0].rules.map((r: Obj) => r.alert);
    expect(alerts).toEqual(['FxServiceDown', 'FxServiceHighErrorRatio', 'FxServiceHighLatency']);
    expect(observability.dashboards).toEqual(['orders-api/orders-api']);
    expect(find(objects, 'ConfigMap', 'orders-api-dashboard').metadata.namespace).toBe('orders-api');
  });

  test('migration Job runs before the new version: the pods wait for it', () => {
    const job = objects.find((o) => o.kind === 'Job')!;
    expect(job.metadata.name).toMatch(/^orders-api-migrate-[0-9a-f]{10}$/);
    expect(job.spec.template.spec.containers[0].command).toEqual(['python3', '-m', 'orders_api.migrate']);
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    const init = find(objects, 'Deployment', 'orders-api').spec.template.spec.initContainers[0];
    expect(init.command).toEqual(['kubectl', 'wait', '--for=condition=complete', `job/${job.metadata.name}`, '--timeout=600s']);
    expect(init.image).toMatch(/^registry\.k8s\.io\/kubectl:v1\.35\.0$/);
    expect(init.env).toEqual([{ name: 'HOME', value: '/tmp' }]);
    expect(init.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    expect(find(objects, 'Role', 'orders-api-migration-reader').rules).toEqual([{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'watch'] }]);
  });

  test('ECR repository only for an image built from source: scan on push, immutable tags, KMS, lifecycle, no fixed name, kept except after a failed create', () => {
    // Registry and existing-ECR images get none.
    expect(orders.repository).toBeUndefined();
    expect(payments.repository).toBeUndefined();
    const builtStack = new Stack(testApp(), 'Built', { env: ENV });
    const builtCluster = clusterWithAddons(builtStack, FxProfile.PRODUCTION);
    const built = new FxMicroservice(builtStack, 'Built', {
      cluster: builtCluster, serviceName: 'built', image: FxImage.fromAsset(path.join(__dirname, '..', 'examples', 'services'), { file: 'orders-api/Dockerfile' }),
    });
    expect(built.repository).toBeDefined();
    Template.fromStack(builtStack).hasResource('AWS::ECR::Repository', {
      DeletionPolicy: 'RetainExceptOnCreate',
      Properties: {
        ImageScanningConfiguration: { ScanOnPush: true },
        ImageTagMutability: 'IMMUTABLE',
        EncryptionConfiguration: { EncryptionType: 'KMS' },
        LifecyclePolicy: { LifecyclePolicyText: Match.stringLikeRegexp('"countNumber":30') },
      },
    });
  });

  test('Pod Identity: role trusted by EKS pods and by the SecretStore service account only, associated with the service account, grantable', () => {
    template.hasResourceProperties('AWS::EKS::PodIdentityAssociation', { Namespace: 'orders-api', ServiceAccount: 'orders-api', RoleArn: { 'Fn::GetAtt': [roleId(), 'Arn'] } });
    const role = template.toJSON().Resources[roleId()];
    expect(role.Properties.Description).toBe('Pod Identity role of orders-api/orders-api');
    // A JSON string (Fn::Join): the condition keys name the cluster's issuer, known only at deploy time; no CfnJson.
    const trust = JSON.parse(joinedString(role.Properties.AssumeRolePolicyDocument, 'ISSUER'));
    expect(trust).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Action: ['sts:AssumeRole', 'sts:TagSession'], Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' } },
        {
          Effect: 'Allow',
          Principal: { Federated: 'ISSUER' },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: { StringEquals: { 'ISSUER:sub': 'system:serviceaccount:orders-api:orders-api-secrets', 'ISSUER:aud': 'sts.amazonaws.com' } },
        },
      ],
    });
    // The one OIDC provider of the cluster, in the provider ARN and in the issuer of the condition keys.
    const intrinsics = role.Properties.AssumeRolePolicyDocument['Fn::Join'][1].filter((x: unknown) => typeof x !== 'string');
    const provider = Object.keys(template.findResources('AWS::IAM::OIDCProvider'));
    expect(provider).toEqual([expect.stringMatching(/^ClusterOidcProvider[0-9A-F]{8}$/)]);
    expect(intrinsics).toEqual([
      { Ref: provider[0] },
      { 'Fn::Select': [1, { 'Fn::Split': [':oidc-provider/', { Ref: provider[0] }] }] },
      { 'Fn::Select': [1, { 'Fn::Split': [':oidc-provider/', { Ref: provider[0] }] }] },
    ]);
    expect(template.findResources('Custom::AWSCDK-CfnJson')).toEqual({});
    // Grants (bucket.grantRead(service)) land in the role's inline Grants policy; no AWS::IAM::Policy for the service.
    expect(inlinePolicies().Grants).toContainEqual(expect.objectContaining({ Action: ['s3:GetObject*', 's3:GetBucket*', 's3:List*'], Effect: 'Allow' }));
    expect(Object.values(template.findResources('AWS::IAM::Policy')).filter((p: Obj) => JSON.stringify(p.Properties.Roles).includes(roleId()))).toEqual([]);
  });

  test('the manifest depends on the charts serving its CRDs and on the services it calls', () => {
    const resources = template.toJSON().Resources as Record<string, { Type: string; DependsOn?: string[]; Properties: Obj }>;
    const id = Object.keys(resources).find((k) => k.startsWith('OrdersApiManifest'))!;
    // every resource the manifest waits for, directly or through others
    const reached = new Set<string>();
    const visit = (r: string) => {
      for (const d of resources[r].DependsOn ?? []) {
        if (!reached.has(d)) {
          reached.add(d);
          visit(d);
        }
      }
    };
    visit(id);
    const chartOf = (name: string) => Object.entries(resources).find(([, r]) => r.Type === 'Custom::AWSCDK-EKS-HelmChart' && r.Properties.Chart === name)![0];
    for (const chart of ['traefik', 'external-secrets', 'kube-prometheus-stack']) {
      expect(`${chart}: ${reached.has(chartOf(chart))}`).toBe(`${chart}: true`);
    }
    // directly on the CRD-serving charts, and on the services it calls
    expect(resources[id].DependsOn).toEqual(expect.arrayContaining([chartOf('traefik'), chartOf('external-secrets'), chartOf('kube-prometheus-stack')]));
    expect(resources[id].DependsOn!.some((d) => d.startsWith('PaymentsManifest'))).toBe(true);
    // and the payments manifest does not depend on the observability chart it does not use
    const paymentsId = Object.keys(resources).find((k) => k.startsWith('PaymentsManifest'))!;
    expect(resources[paymentsId].DependsOn ?? []).not.toContain(chartOf('kube-prometheus-stack'));
  });
});

describe('FxMicroservice bad input', () => {
  let stack: Stack;
  let cluster: FxCluster;
  const image = FxImage.fromRegistry('ghcr.io/acme/api:1.0.0');
  beforeAll(() => {
    stack = new Stack(testApp(), 'Bad', { env: ENV });
    cluster = clusterWithAddons(stack, FxProfile.DEVELOPMENT);
  });
  let n = 0;
  const make = (props: Partial<FxMicroserviceProps>) => new FxMicroservice(stack, `S${n++}`, { cluster, image, serviceName: `svc-${n}`, ...props });

  test.each<[string, () => unknown, RegExp]>([
    ['the name is not a DNS-1123 label', () => make({ serviceName: 'Orders_API' }), /FxMicroservice(?: at [^:]+)?: invalid serviceName 'Orders_API'; allowed: a DNS-1123 label/],
    ['the port is out of range', () => make({ port: 70000 }), /invalid port 70000; allowed: an integer from 1 to 65535/],
    ['the metrics port is 0', () => make({ metricsPort: 0 }), /invalid metricsPort 0/],
    ['min replicas exceed max', () => make({ autoscaling: { minReplicas: 5, maxReplicas: 2 } }), /invalid autoscaling.minReplicas 5; allowed: at most autoscaling.maxReplicas \(2\)/],
    ['CPU is not a quantity', () => make({ resources: { cpuRequest: 'two' } }), /invalid resources.cpuRequest 'two'; allowed: a Kubernetes quantity/],
    ['memory is not a quantity', () => make({ resources: { memoryLimit: '1GB' } }), /invalid resources.memoryLimit '1GB'/],
    ['the memory limit is below the request', () => make({ resources: { memoryRequest: '1Gi', memoryLimit: '512Mi' } }), /invalid resources.memoryLimit '512Mi'; allowed: at least resources.memoryRequest \(1Gi\)/],
    ['the CPU limit is below the request', () => make({ resources: { cpuRequest: '2', cpuLimit: '500m' } }), /invalid resources.cpuLimit '500m'/],
    ['the route host is not a host name', () => make({ route: { host: 'not a host' } }), /invalid route.host 'not a host'; allowed: a lowercase fully qualified host name/],
    ['the path prefix lacks a slash', () => make({ route: { host: 'a.example.com', pathPrefix: 'orders' } }), /invalid route.pathPrefix 'orders'; allowed: a path starting with '\/'/],
    ['the rate limit is not positive', () => make({ route: { host: 'a.example.com', rateLimit: { average: 0, burst: 10 } } }), /invalid route.rateLimit.average 0; allowed: a positive integer/],
    ['the allowlist has a malformed CIDR', () => make({ route: { host: 'a.example.com', ipAllowList: ['10.0.0.0/40'] } }), /invalid route.ipAllowList\[0\] '10.0.0.0\/40'/],
    ['the image is latest', () => FxImage.fromRegistry('nginx:latest'), /FxImage\.fromRegistry: invalid reference 'nginx:latest'; allowed: a pinned tag or sha256 digest/],
    ['the image is untagged', () => FxImage.fromRegistry('ghcr.io/acme/api'), /FxImage\.fromRegistry: invalid reference 'ghcr.io\/acme\/api'; allowed: a pinned image reference .*\(a tag or a digest is required\)/],
    ['an ECR tag is latest', () => FxImage.fromEcr(ecr.Repository.fromRepositoryName(stack, 'R', 'r'), 'LATEST'), /FxImage\.fromEcr: invalid tagOrDigest 'LATEST'/],
    ['a probe path lacks a slash', () => make({ probes: { readinessPath: 'ready' } }), /invalid probes.readinessPath 'ready'; allowed: a path starting with '\/'/],
    ['two services share a name in one namespace', () => { make({ serviceName: 'dup', namespace: 'shop' }); make({ serviceName: 'dup', namespace: 'shop', createNamespace: false }); },
      /invalid serviceName 'dup'; allowed: a name not already used in namespace shop/],
    ['the canary weight is 100', () => make({ route: { host: 'a.example.com', canary: { image, weight: 100 } } }), /invalid route.canary.weight 100/],
    ['an env var name is invalid', () => make({ env: { 'BAD=NAME': 'x' } }), /invalid env 'BAD=NAME'/],
    ['an egress CIDR is malformed', () => make({ egressCidrs: ['example.com'] }), /invalid egressCidrs\[0\] 'example.com'/],
    ['the termination grace is over an hour', () => make({ terminationGracePeriod: Duration.hours(2) }), /invalid terminationGracePeriod 7200; allowed: 0 to 3600 seconds/],
  ])('fails when %s', (_name, fn, message) => {
    expect(fn).toThrow(message);
  });
});


describe('FxMicroservice on the Let\'s Encrypt path', () => {
  test('rate limit and allowlist act on the remote address (the NLB preserves the client IP)', () => {
    const stack = new Stack(testApp(), 'Le', { env: ENV });
    const zone = route53.HostedZone.fromHostedZoneAttributes(stack, 'LeZone', { hostedZoneId: 'Z0EXAMPLE', zoneName: 'fx.example.com' });
    const cluster = clusterWithAddons(stack, FxProfile.DEVELOPMENT, {
      tls: FxTls.letsEncrypt({ hostedZone: zone, domainName: 'fx.example.com', email: 'ops@example.com' }),
    });
    const service = new FxMicroservice(stack, 'Api', {
      cluster,
      image: FxImage.fromRegistry('ghcr.io/acme/api:1.0.0'),
      route: { host: 'api.fx.example.com', rateLimit: { average: 5, burst: 10 }, ipAllowList: ['203.0.113.0/24'] },
    });
    const objects = objectsOf(service);
    expect(find(objects, 'Middleware', 'api-rate-limit').spec.rateLimit.sourceCriterion).toEqual({ ipStrategy: {} });
    expect(find(objects, 'Middleware', 'api-ip-allowlist').spec.ipAllowList).toEqual({ sourceRange: ['203.0.113.0/24'], ipStrategy: {} });
    expect(find(objects, 'IngressRoute', 'api').spec.entryPoints).toEqual(['websecure']);
  });
});

describe('FxServiceStacks', () => {
  test('opens a new stack every servicesPerStack services, each referencing the platform cluster', () => {
    const app = testApp();
    const platform = new Stack(app, 'Platform', { env: ENV });
    const cluster = clusterWithAddons(platform, FxProfile.DEVELOPMENT);
    const stacks = new FxServiceStacks(app, 'Teams', { env: ENV, servicesPerStack: 2 });
    for (let i = 0; i < 5; i++) {
      new FxMicroservice(stacks.next(), `Team${i}`, { cluster, image: FxImage.fromRegistry(`ghcr.io/acme/team-${i}:1.0.0`) });
    }
    expect(stacks.stacks.map((s) => s.stackName)).toEqual(['Teams1', 'Teams2', 'Teams3']);
    const last = Template.fromStack(stacks.stacks[2]);
    last.resourceCountIs('Custom::AWSCDK-EKS-KubernetesResource', 1);
    expect(JSON.stringify(last.toJSON())).toContain('Fn::ImportValue');
    expect(stacks.stacks[0].dependencies).toContain(platform);
  });

  test('fails when servicesPerStack could exceed the template limit', () => {
    const app = testApp();
    expect(() => new FxServiceStacks(app, 'S', { env: ENV, servicesPerStack: 100 })).toThrow(
      /FxServiceStacks(?: at [^:]+)?: invalid servicesPerStack 100; allowed: an integer from 1 to 40/);
  });
});

describe('FxMicroservice on spot capacity', () => {
  test('only a service that opts in tolerates the spot taint, and it prefers spot nodes', () => {
    const stack = new Stack(testApp(), 'Spot', { env: ENV });
    const cluster = clusterWithAddons(stack, FxProfile.DEVELOPMENT);
    const image = FxImage.fromRegistry('ghcr.io/acme/api:1.0.0');
    const spot = new FxMicroservice(stack, 'Spot', { cluster, image, serviceName: 'batch-api', spot: true });
    const onDemand = new FxMicroservice(stack, 'OnDemand', { cluster, image, serviceName: 'payments-api' });
    const pod = (s: FxMicroservice) => find(objectsOf(s), 'Deployment', s.serviceName).spec.template.spec;
    expect(pod(spot).tolerations).toEqual([{ key: 'fx.platform/capacity', operator: 'Equal', value: 'spot', effect: 'NoSchedule' }]);
    expect(pod(spot).affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].preference)
      .toEqual({ matchExpressions: [{ key: 'fx.platform/capacity', operator: 'In', values: ['spot'] }] });
    expect(pod(onDemand).tolerations).toBeUndefined();
    expect(pod(onDemand).affinity).toBeUndefined();
    expect(k8sErrors(objectsOf(spot))).toEqual([]);
  });
});

describe('FxMicroservice request body limit', () => {
  test('every route refuses oversized bodies at Traefik (1 MiB by default, or the route\'s own limit)', () => {
    const stack = new Stack(testApp(), 'Body', { env: ENV });
    const cluster = clusterWithAddons(stack, FxProfile.DEVELOPMENT);
    const image = FxImage.fromRegistry('ghcr.io/acme/api:1.0.0');
    const small = new FxMicroservice(stack, 'Small', { cluster, image, serviceName: 'small', route: { host: 'small.fx.example.com', maxRequestBodyBytes: 16384 } });
    const plain = new FxMicroservice(stack, 'Plain', { cluster, image, serviceName: 'plain', route: { host: 'plain.fx.example.com' } });
    expect(find(objectsOf(small), 'Middleware', 'small-body-limit').spec).toEqual({ buffering: { maxRequestBodyBytes: 16384 } });
    expect(find(objectsOf(plain), 'Middleware', 'plain-body-limit').spec).toEqual({ buffering: { maxRequestBodyBytes: 1048576 } });
    const route = find(objectsOf(small), 'IngressRoute', 'small');
    expect(route.spec.routes[0].middlewares.map((m: Obj) => m.name)).toContain('small-body-limit');
    expect(k8sErrors(objectsOf(small))).toEqual([]);
    expect(() => new FxMicroservice(stack, 'Bad', { cluster, image, serviceName: 'bad', route: { host: 'bad.example.com', maxRequestBodyBytes: 1.5 } }))
      .toThrow(/invalid route.maxRequestBodyBytes 1.5; allowed: an integer number of bytes from 1024/);
  });
});

describe('FxMicroservice synth-time validation (issue 18)', () => {
  let stack: Stack;
  let cluster: FxCluster;
  const image = FxImage.fromRegistry('ghcr.io/acme/api:1.0.0');
  beforeAll(() => {
    stack = new Stack(testApp(), 'Checks', { env: ENV });
    cluster = clusterWithAddons(stack, FxProfile.DEVELOPMENT);
  });
  let n = 0;
  /** Builds a service with a fresh id and name; returns the error message it throws (or undefined). */
  const attempt = (props: Partial<FxMicroserviceProps>, id = `T${++n}`): { path: string; error?: string } => {
    try {
      new FxMicroservice(stack, id, { cluster, image, serviceName: `t-${n}`, ...props });
      return { path: `Checks/${id}` };
    } catch (e) {
      return { path: `Checks/${id}`, error: (e as Error).message };
    }
  };
  const expectError = (props: Partial<FxMicroserviceProps>, prop: string, value: string, allowed: string) => {
    const { path: at, error } = attempt(props);
    expect(error).toBe(`FxMicroservice at ${at}: invalid ${prop} ${value}; allowed: ${allowed}`);
  };
  const reserved = 'kube-system, kube-public, kube-node-lease, default, traefik, external-secrets, monitoring, cert-manager, velero, karpenter, logging, elastic-system, amazon-cloudwatch';

  test('fails when the service is placed in a reserved namespace, naming the prop that chose it', () => {
    const allowed = `a namespace of the service's own, not one of Kubernetes or of the platform's add-ons (${reserved})`;
    expectError({ namespace: 'kube-system' }, 'namespace', "'kube-system'", allowed);
    expectError({ namespace: 'traefik', createNamespace: false }, 'namespace', "'traefik'", allowed);
    expectError({ serviceName: 'monitoring' }, 'serviceName (the default namespace)', "'monitoring'", allowed);
    const { path: at, error } = attempt({ serviceName: undefined }, 'Velero');
    expect(error).toBe(`FxMicroservice at ${at}: invalid construct id (the default serviceName and namespace) 'velero'; allowed: ${allowed}`);
  });

  test('fails when an int32 field is a fraction or out of range', () => {
    expectError({ autoscaling: { minReplicas: 1, maxReplicas: 2.5 } }, 'autoscaling.maxReplicas', '2.5', 'an integer from 1 to 2147483647');
    expectError({ autoscaling: { minReplicas: 2 ** 31, maxReplicas: 2 ** 32 } }, 'autoscaling.minReplicas', '2147483648', 'an integer from 1 to 2147483647');
    expectError({ autoscaling: { cpuTargetPercent: 70.5 } }, 'autoscaling.cpuTargetPercent', '70.5', 'an integer percentage from 1 to 2147483647 (Kubernetes reads it as int32)');
    expectError({ autoscaling: { memoryTargetPercent: 0.8 } }, 'autoscaling.memoryTargetPercent', '0.8', 'an integer percentage from 1 to 2147483647 (Kubernetes reads it as int32)');
    expectError({ quota: { pods: 2.5 } }, 'quota.pods', '2.5', 'an integer from 1 to 2147483647');
    expectError({ autoscaling: { minReplicas: 1, maxReplicas: NaN } }, 'autoscaling.maxReplicas', 'NaN', 'an integer from 1 to 2147483647');
  });

  test('fails when the quota is not a quantity or admits no pod', () => {
    const quantity = "a positive Kubernetes quantity such as '4', '4000m', '8Gi'";
    expectError({ quota: { cpu: 'four' } }, 'quota.cpu', "'four'", quantity);
    expectError({ quota: { memory: '0' } }, 'quota.memory', "'0'", quantity);
    expectError({ quota: { cpu: '500m' } }, 'quota.cpu', "'500m'", 'at least resources.cpuLimit (1): the quota caps requests and limits, so it must admit one pod');
    expectError({ resources: { memoryLimit: '16Gi' } }, 'resources.memoryLimit', "'16Gi'", "at most the namespace quota's memory (8Gi, the profile default): raise quota.memory");
    expectError({ quota: { pods: 0 } }, 'quota.pods', '0', 'an integer from 1 to 2147483647');
    expectError({ autoscaling: { minReplicas: 3 }, quota: { pods: 2 } }, 'quota.pods', '2', 'at least autoscaling.minReplicas (3)');
    // a quota on a namespace the service does not create is refused: it would never be applied
    expect(attempt({ namespace: `shared-${n}`, createNamespace: false, quota: { cpu: '500m' } }).error).toMatch(
      /invalid quota \{"cpu":"500m"\}; allowed: no quota with createNamespace: false/);
  });

  test('fails when a duration is zero where Kubernetes needs more, or not whole seconds', () => {
    expectError({ migration: { command: ['migrate'], timeout: Duration.seconds(0) } }, 'migration.timeout', '0', "a whole number of seconds, at least 1 (the Job's activeDeadlineSeconds)");
    expectError({ migration: { command: ['migrate'], timeout: Duration.millis(1500) } }, 'migration.timeout', '1.5', "a whole number of seconds, at least 1 (the Job's activeDeadlineSeconds)");
    expectError({ terminationGracePeriod: Duration.millis(2500) }, 'terminationGracePeriod', '2.5', 'a whole number of seconds from 0 to 3600');
    expectError({ alerts: { latencyP99: Duration.millis(0) } }, 'alerts.latencyP99', '0', 'a duration above 0 ms');
    expectError({ alerts: { errorRatio: 5 } }, 'alerts.errorRatio', '5', 'a ratio above 0 and at most 1');
  });

  test('fails when a secretEnv key is not a Secret data key', () => {
    const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'Keys', 'fx/keys');
    const allowed = 'a Secret data key: letters, digits, -, _ and . (at most 253 characters)';
    expectError({ secretEnv: [{ secret, keys: ['API KEY'] }] }, 'secretEnv[0].keys[0]', "'API KEY'", allowed);
    expectError({ secretEnv: [{ secret, keys: ['OK'] }, { secret, keys: ['ok', 'a/b'] }] }, 'secretEnv[1].keys[1]', "'a/b'", allowed);
  });

  test('fails when a route host is outside the cluster domain or deeper than its wildcard certificate', () => {
    const outside = "a host in the cluster's domain fx.example.com (its certificate and DNS cover only that), or route.external: true for a host you serve with your own certificate and DNS";
    const deeper = 'fx.example.com or one label below it: the certificate covers *.fx.example.com, not deeper names (or route.external: true)';
    expectError({ route: { host: 'api.example.org' } }, 'route.host', "'api.example.org'", outside);
    expectError({ route: { host: 'api.notfx.example.com' } }, 'route.host', "'api.notfx.example.com'", outside);
    expectError({ route: { host: 'a.b.fx.example.com' } }, 'route.host', "'a.b.fx.example.com'", deeper);
    expectError({ route: { host: 'ok.fx.example.com', additionalHosts: ['shop.eu.fx.example.com'] } }, 'route.additionalHosts[0]', "'shop.eu.fx.example.com'", deeper);
    // the apex, one label below it, and an external host the user serves themselves pass
    expect(attempt({ route: { host: 'fx.example.com', pathPrefix: `/apex-${n}` } }).error).toBeUndefined();
    expect(attempt({ route: { host: 'api.example.org', external: true } }).error).toBeUndefined();
    expect(attempt({ route: { host: 'a.b.fx.example.com', external: true } }).error).toBeUndefined();
  });

  test('fails when a route is on a cluster without a public entry', () => {
    const bareStack = new Stack(testApp(), 'Bare', { env: ENV });
    const bare = new FxCluster(bareStack, 'Cluster', { profile: FxProfile.DEVELOPMENT, platformName: 'bare' });
    const allowed = 'a route only on a cluster with a public entry: cluster Bare/Cluster has no tls (set FxCluster tls, or drop route)';
    expect(() => new FxMicroservice(bareStack, 'Api', { cluster: bare, image, route: { host: 'api.example.org', external: true } }))
      .toThrow(`FxMicroservice at Bare/Api: invalid route.host 'api.example.org'; allowed: ${allowed}`);
    expect(() => new FxMicroservice(bareStack, 'Web', { cluster: bare, image, route: { host: 'web.fx.example.com' } }))
      .toThrow(`FxMicroservice at Bare/Web: invalid route.host 'web.fx.example.com'; allowed: ${allowed}`);
    expect(() => new FxMicroservice(bareStack, 'Internal', { cluster: bare, image })).not.toThrow();
  });

  test('fails when two services route the same host and path prefix in one cluster', () => {
    const first = attempt({ route: { host: 'shop.fx.example.com', pathPrefix: '/cart' } });
    expect(first.error).toBeUndefined();
    expectError({ route: { host: 'shop.fx.example.com', pathPrefix: '/cart/' } }, 'route.host', "'shop.fx.example.com'",
      `a host and path prefix no other service on this cluster routes (shop.fx.example.com/cart is routed to ${first.path})`);
    expectError({ route: { host: 'other.fx.example.com', additionalHosts: ['shop.fx.example.com'], pathPrefix: '/cart' } }, 'route.additionalHosts[0]', "'shop.fx.example.com'",
      `a host and path prefix no other service on this cluster routes (shop.fx.example.com/cart is routed to ${first.path})`);
    // another prefix on the same host, and the same host on another cluster, are fine
    expect(attempt({ route: { host: 'shop.fx.example.com', pathPrefix: '/checkout' } }).error).toBeUndefined();
    const otherStack = new Stack(testApp(), 'Other', { env: ENV });
    const other = clusterWithAddons(otherStack, FxProfile.DEVELOPMENT);
    expect(() => new FxMicroservice(otherStack, 'Cart', { cluster: other, image, route: { host: 'shop.fx.example.com', pathPrefix: '/cart' } })).not.toThrow();
  });

  test('fails when the rate-limit burst is below the average', () => {
    expectError({ route: { host: `r${n}.fx.example.com`, rateLimit: { average: 50, burst: 10 } } }, 'route.rateLimit.burst', '10', 'at least route.rateLimit.average (50)');
    expectError({ route: { host: `r${n}.fx.example.com`, rateLimit: { average: 2, burst: 1 } } }, 'route.rateLimit.burst', '1', 'at least route.rateLimit.average (2)');
  });

  test('fails when the circuit breaker expression does not parse', () => {
    const allowed = (why: string) => 'a Traefik circuit breaker expression: NetworkErrorRatio() or ResponseCodeRatio(from, to, from, to) compared with a float, '
      + `LatencyAtQuantileMS(<float>) compared with integer ms, joined by &&, || and parentheses (${why})`;
    const cb = (expr: string) => ({ route: { host: `cb${n}.fx.example.com`, circuitBreaker: expr } });
    expectError(cb('NetworkErrorRatio > 0.3'), 'route.circuitBreaker', "'NetworkErrorRatio > 0.3'", allowed("expected '(', found '>' at 18"));
    expectError(cb('NetworkErrorRatio() > 0.3 &&'), 'route.circuitBreaker', "'NetworkErrorRatio() > 0.3 &&'", allowed('expected NetworkErrorRatio, LatencyAtQuantileMS or ResponseCodeRatio, found the end'));
    expectError(cb('LatencyAtQuantileMS(50) > 100'), 'route.circuitBreaker', "'LatencyAtQuantileMS(50) > 100'", allowed("expected a float quantile such as 50.0, found '50' at 20"));
    expectError(cb('NetworkErrorRatio() > 1'), 'route.circuitBreaker', "'NetworkErrorRatio() > 1'", allowed("expected a float ratio such as 0.30, found '1' at 22"));
    expectError(cb('ResponseCodeRatio(500, 600, 0) > 0.25'), 'route.circuitBreaker', "'ResponseCodeRatio(500, 600, 0) > 0.25'", allowed("expected ',', found ')' at 29"));
    expectError(cb('(NetworkErrorRatio() > 0.5'), 'route.circuitBreaker', "'(NetworkErrorRatio() > 0.5'", allowed("expected ')', found the end"));
    expectError(cb('ErrorRatio() > 0.5'), 'route.circuitBreaker', "'ErrorRatio() > 0.5'", allowed("unknown function 'ErrorRatio' at 0"));
    expectError(cb('NetworkErrorRatio() = 0.5'), 'route.circuitBreaker', "'NetworkErrorRatio() = 0.5'", allowed("unexpected '=' at 20"));
    for (const good of [
      'NetworkErrorRatio() > 0.30',
      'NetworkErrorRatio() > 0.30 || ResponseCodeRatio(500, 600, 0, 600) > 0.25',
      '(LatencyAtQuantileMS(99.0) > 500 && NetworkErrorRatio() >= .5) || ResponseCodeRatio(500, 600, 0, 600) != 0.0',
    ]) {
      expect(attempt(cb(good)).error).toBeUndefined();
    }
  });

  test('fails when a database, observability or dependsOn target belongs to another cluster', () => {
    const otherStack = new Stack(testApp(), 'Elsewhere', { env: ENV });
    const other = clusterWithAddons(otherStack, FxProfile.DEVELOPMENT);
    const theirDatabase = new FxDatabase(otherStack, 'Database', { cluster: other });
    const theirService = new FxMicroservice(otherStack, 'Theirs', { cluster: other, image });
    const theirObservability = new FxObservability(otherStack, 'Observability', { cluster: other });
    const allowed = 'one on this service\'s cluster Checks/Cluster, not on Elsewhere/Cluster';
    expectError({ observability: theirObservability }, 'observability', "'Elsewhere/Observability'", allowed);
    expectError({ database: theirDatabase }, 'database', "'Elsewhere/Database'", allowed);
    expectError({ dependsOn: [theirService] }, 'dependsOn[0]', "'Elsewhere/Theirs'", allowed);
    const ours = attempt({});
    expect(ours.error).toBeUndefined();
    const mine = stack.node.findChild(ours.path.split('/')[1]) as FxMicroservice;
    expectError({ dependsOn: [mine, theirService] }, 'dependsOn[1]', "'Elsewhere/Theirs'", allowed);
  });

  test('fails when two services create the same namespace', () => {
    const first = attempt({ namespace: 'team-a' });
    expect(first.error).toBeUndefined();
    const allowed = `a namespace no other service on this cluster creates (${first.path} creates it): set createNamespace: false to share it`;
    expectError({ namespace: 'team-a' }, 'namespace', "'team-a'", allowed);
    expectError({ namespace: 'team-a', createNamespace: true }, 'namespace', "'team-a'", allowed);
    expect(attempt({ namespace: 'team-a', createNamespace: false }).error).toBeUndefined();
  });

  test('legal deploy-time tokens pass every check', () => {
    const minReplicas = new CfnParameter(stack, 'MinReplicas', { type: 'Number' }).valueAsNumber;
    const burst = new CfnParameter(stack, 'Burst', { type: 'Number' }).valueAsNumber;
    const cpu = new CfnParameter(stack, 'QuotaCpu').valueAsString;
    const pods = new CfnParameter(stack, 'QuotaPods', { type: 'Number' }).valueAsNumber;
    const grace = new CfnParameter(stack, 'Grace', { type: 'Number' }).valueAsNumber;
    const breaker = new CfnParameter(stack, 'Breaker').valueAsString;
    const host = new CfnParameter(stack, 'Host').valueAsString;
    const result = attempt({
      autoscaling: { minReplicas, maxReplicas: 5 },
      quota: { cpu, pods },
      terminationGracePeriod: Duration.seconds(grace),
      migration: { command: ['migrate'], timeout: Duration.seconds(grace) },
      route: { host, rateLimit: { average: 50, burst }, circuitBreaker: breaker },
    });
    expect(result.error).toBeUndefined();
    expect(attempt({ route: { host, pathPrefix: '/again' } }).error).toBeUndefined();
  });
});
