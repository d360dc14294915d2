import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnElement, CfnParameter, CfnResource, Duration, SecretValue, Size, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FxCluster, FxObservability, FxObservabilityProps, FxProfile, FxTls, FxVersions } from '../src';
import { ObservabilityScenario } from './util/fixtures';
import { checkAssembly, loadChartData } from './util/helm-values';
import { k8sErrors } from './util/k8s';
import { joinedString, kubernetesObjectsOf } from './util/manifests';
import { platformAlbName } from '../src/cluster/addons/dns';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const AZS = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
const ROW = FxVersions.forKubernetes(FxVersions.DEFAULT_KUBERNETES_VERSION);
const SLACK_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:fx/slack-webhook-AbCdEf`;
const PAGERDUTY_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:fx/pagerduty-key-GhIjKl`;

type Json = Record<string, any>;

type Scenario = ObservabilityScenario;

function newStack(outdir?: string): { app: App; stack: Stack } {
  const app = new App({ builtinCloudFormationValidation: false, outdir, context: { [`availability-zones:account=${ACCOUNT}:region=${REGION}`]: AZS } });
  return { app, stack: new Stack(app, 'Platform', { env: { account: ACCOUNT, region: REGION } }) };
}

/** The production platform: a domain, Slack and PagerDuty, a budget, a watched database and two services. */
function productionPlatform(stack: Stack): { cluster: FxCluster; observability: FxObservability } {
  const zone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z123456', zoneName: 'example.com' });
  const cluster = new FxCluster(stack, 'Cluster', {
    profile: FxProfile.PRODUCTION,
    platformName: 'fx-prod',
    tls: FxTls.acm({ hostedZone: zone, domainName: 'fx.example.com' }),
    // Production refuses dashboards open to the world: the endpoint allowlist is also the admin allowlist.
    endpointAllowlist: ['203.0.113.0/24'],
  });
  const observability = new FxObservability(stack, 'Observability', {
    cluster,
    alarmEmails: ['ops@example.com', 'oncall@example.com'],
    monthlyBudget: 2500,
    slackWebhook: secretsmanager.Secret.fromSecretCompleteArn(stack, 'Slack', SLACK_ARN),
    pagerDutyKey: secretsmanager.Secret.fromSecretCompleteArn(stack, 'PagerDuty', PAGERDUTY_ARN),
    alarmThresholds: { nodeCpuPercent: 75 },
  });
  const db = rds.DatabaseInstance.fromDatabaseInstanceAttributes(stack, 'Db', {
    instanceIdentifier: 'orders-db', instanceEndpointAddress: 'orders-db.example.internal', port: 5432, securityGroups: [],
  });
  observability.watchDatabase(db, { connections: 250 });
  return { cluster, observability };
}

function helmValues(template: Template, chart: string): Json {
  const releases = Object.values(template.findResources('Custom::AWSCDK-EKS-HelmChart', { Properties: { Chart: chart } }));
  expect(releases).toHaveLength(1);
  return JSON.parse(joinedString(releases[0].Properties.Values, 'TOKEN'));
}

function monitoringObjects(template: Template): Json[] {
  return kubernetesObjectsOf(template, 'TOKEN').filter((o) => o.metadata?.namespace === 'monitoring' || (o.kind === 'Namespace' && o.metadata.name === 'monitoring'));
}

function find(objects: Json[], kind: string, name: string): Json {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind}/${name}`);
  return found;
}

function alarmNamed(template: Template, idPrefix: string): Json {
  const [id, ...rest] = Object.keys(template.findResources('AWS::CloudWatch::Alarm')).filter((k) => k.startsWith(idPrefix));
  expect(rest).toHaveLength(0);
  return template.toJSON().Resources[id].Properties;
}

let prod: Scenario;
let dev: Scenario;
let nagOutdir: string;
let nagError: unknown;

beforeAll(() => {
  const p = newStack();
  prod = { ...p, ...productionPlatform(p.stack), template: undefined as any };
  (prod as any).template = Template.fromStack(p.stack);

  const d = newStack();
  const devCluster = new FxCluster(d.stack, 'Cluster');
  const devObservability = new FxObservability(d.stack, 'Observability', { cluster: devCluster });
  dev = { ...d, cluster: devCluster, observability: devObservability, template: Template.fromStack(d.stack) };

  nagOutdir = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-observability-'));
  const n = newStack(nagOutdir);
  Validations.of(n.app).addPlugins(new AwsSolutionsChecks(n.app));
  productionPlatform(n.stack);
  try {
    n.app.synth();
  } catch (e) {
    nagError = e;
  }
});

afterAll(() => {
  if (nagOutdir) fs.rmSync(nagOutdir, { recursive: true, force: true });
});

describe('kube-prometheus-stack', () => {
  test('installs the pinned chart version into monitoring, waiting, after storage and the namespace', () => {
    prod.template.hasResourceProperties('Custom::AWSCDK-EKS-HelmChart', {
      Chart: 'kube-prometheus-stack',
      Version: ROW.charts.kubePrometheusStack.version,
      Repository: 'https://prometheus-community.github.io/helm-charts',
      Namespace: 'monitoring',
      Release: 'kube-prometheus-stack',
      Wait: true,
      CreateNamespace: Match.absent(),
    });
    expect(ROW.charts.kubePrometheusStack.version).toBe('88.5.3');
    const chartId = Object.keys(prod.template.findResources('Custom::AWSCDK-EKS-HelmChart', { Properties: { Chart: 'kube-prometheus-stack' } }))[0];
    const deps = prod.template.toJSON().Resources[chartId].DependsOn as string[];
    const storageId = prod.stack.getLogicalId(prod.cluster.storageManifest.node.defaultChild as CfnElement);
    expect(deps).toContain(storageId);
    expect(deps.some((id) => id.startsWith('ClustermanifestMonitoringNamespace'))).toBe(true);
    expect(deps.some((id) => id.startsWith('ClustermanifestMonitoringSecrets'))).toBe(true);
  });

  test('Prometheus keeps the profile retention on gp3 volumes and selects monitors and rules of all namespaces', () => {
    const spec = helmValues(prod.template, 'kube-prometheus-stack').prometheus.prometheusSpec;
    expect(spec.retention).toBe('30d');
    expect(spec.retentionSize).toBe('85GB');
    expect(spec.replicas).toBe(2);
    expect(spec.storageSpec.volumeClaimTemplate.spec).toEqual({
      storageClassName: 'gp3', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '100Gi' } },
    });
    for (const key of ['serviceMonitor', 'podMonitor', 'rule', 'probe', 'scrapeConfig']) {
      expect(spec[`${key}SelectorNilUsesHelmValues`]).toBe(false);
    }
    const devSpec = helmValues(dev.template, 'kube-prometheus-stack').prometheus.prometheusSpec;
    expect(devSpec.retention).toBe('7d');
    expect(devSpec.storageSpec.volumeClaimTemplate.spec.resources.requests.storage).toBe('30Gi');
  });

  test('does not scrape the control plane EKS hides', () => {
    const values = helmValues(prod.template, 'kube-prometheus-stack');
    for (const key of ['kubeEtcd', 'kubeScheduler', 'kubeControllerManager', 'kubeProxy']) expect(values[key].enabled).toBe(false);
    expect(values.defaultRules.create).toBe(true);
  });

  test('Alertmanager routes critical and warning alerts by severity to the SNS topic with SigV4', () => {
    const am = helmValues(prod.template, 'kube-prometheus-stack').alertmanager;
    expect(am.serviceAccount).toEqual({ create: false, name: 'fx-alertmanager' });
    const config = am.config;
    expect(config.route.receiver).toBe('warning');
    expect(config.route.routes).toEqual(expect.arrayContaining([
      expect.objectContaining({ receiver: 'critical', matchers: ['severity = "critical"'] }),
      expect.objectContaining({ receiver: 'warning', matchers: ['severity = "warning"'] }),
      expect.objectContaining({ receiver: 'null', matchers: ['alertname = "Watchdog"'] }),
    ]));
    for (const name of ['critical', 'warning']) {
      const receiver = config.receivers.find((r: Json) => r.name === name);
      expect(receiver.sns_configs).toEqual([expect.objectContaining({
        topic_arn: 'TOKEN', sigv4: { region: REGION }, attributes: { severity: name, platform: 'fx-prod' },
      })]);
      expect(receiver.slack_configs[0].api_url_file).toBe('/etc/alertmanager/secrets/fx-alertmanager-receivers/slack-webhook-url');
    }
    const critical = config.receivers.find((r: Json) => r.name === 'critical');
    expect(critical.pagerduty_configs[0].routing_key_file).toBe('/etc/alertmanager/secrets/fx-alertmanager-receivers/pagerduty-routing-key');
    expect(config.receivers.find((r: Json) => r.name === 'warning').pagerduty_configs).toBeUndefined();
    expect(am.alertmanagerSpec.secrets).toEqual(['fx-alertmanager-receivers']);
    expect(am.alertmanagerSpec.storage.volumeClaimTemplate.spec.storageClassName).toBe('gp3');
    // No Slack or PagerDuty without their secrets.
    const devConfig = helmValues(dev.template, 'kube-prometheus-stack').alertmanager;
    expect(devConfig.config.receivers.some((r: Json) => r.slack_configs || r.pagerduty_configs)).toBe(false);
    expect(devConfig.alertmanagerSpec.secrets).toEqual([]);
  });

  test('the Alertmanager topic ARN in the values is the alarm topic', () => {
    const release = Object.values(prod.template.findResources('Custom::AWSCDK-EKS-HelmChart', { Properties: { Chart: 'kube-prometheus-stack' } }))[0];
    const topicId = Object.keys(prod.template.findResources('AWS::SNS::Topic'))[0];
    expect(JSON.stringify(release.Properties.Values)).toContain(`{"Ref":"${topicId}"}`);
  });

  test('Grafana persists on gp3, logs in with the synced admin secret and has a CloudWatch datasource', () => {
    const grafana = helmValues(prod.template, 'kube-prometheus-stack').grafana;
    expect(grafana.persistence).toEqual(expect.objectContaining({ enabled: true, storageClassName: 'gp3', size: '10Gi' }));
    expect(grafana.admin).toEqual({ existingSecret: 'fx-grafana-admin', userKey: 'admin-user', passwordKey: 'admin-password' });
    expect(grafana.serviceAccount).toEqual({ create: false, name: 'fx-grafana' });
    expect(grafana.additionalDataSources).toEqual([expect.objectContaining({
      type: 'cloudwatch', uid: 'cloudwatch', jsonData: { authType: 'default', defaultRegion: REGION },
    })]);
    expect(grafana.sidecar.dashboards).toEqual(expect.objectContaining({ enabled: true, label: 'grafana_dashboard', labelValue: '1' }));
    expect(grafana['grafana.ini']['auth.anonymous'].enabled).toBe(false);
    expect(grafana['grafana.ini'].users.allow_sign_up).toBe(false);
    expect(grafana['grafana.ini'].server.root_url).toBe('http://grafana.fx.example.com'.replace('http:', 'https:'));
  });

  test('every values key exists in the chart data of 88.5.3 and its subcharts', () => {
    expect(nagError).toBeUndefined();
    const report = checkAssembly(nagOutdir);
    const errors = report.findings.filter((f: Json) => f.severity === 'error');
    expect(errors).toEqual([]);
    expect(report.releases.some((r: Json) => r.chart === 'kube-prometheus-stack' || r.Chart === 'kube-prometheus-stack')).toBe(true);
  });
});

describe('Kubernetes objects', () => {
  test('every object in the monitoring namespace validates against its schema', () => {
    const objects = monitoringObjects(prod.template);
    expect(objects.length).toBeGreaterThanOrEqual(10);
    expect(k8sErrors(objects)).toEqual([]);
    expect(k8sErrors(monitoringObjects(dev.template))).toEqual([]);
  });

  test('PrometheusRule has the platform alerts and waits for the operator CRDs', () => {
    const rule = find(monitoringObjects(prod.template), 'PrometheusRule', 'fx-platform-rules');
    const alerts = rule.spec.groups.flatMap((g: Json) => g.rules.map((r: Json) => r.alert));
    expect(alerts).toEqual(expect.arrayContaining([
      'FxNodePressure', 'FxPodCrashLooping', 'FxPersistentVolumeFillingUp', 'FxTraefikHigh5xxRatio', 'FxCertificateExpiringSoon',
    ]));
    for (const r of rule.spec.groups.flatMap((g: Json) => g.rules)) expect(['warning', 'critical']).toContain(r.labels.severity);
    const rulesId = Object.keys(prod.template.findResources('Custom::AWSCDK-EKS-KubernetesResource')).find((id) => id.startsWith('ClustermanifestMonitoringRules'))!;
    const chartId = Object.keys(prod.template.findResources('Custom::AWSCDK-EKS-HelmChart', { Properties: { Chart: 'kube-prometheus-stack' } }))[0];
    expect(prod.template.toJSON().Resources[rulesId].DependsOn).toContain(chartId);
  });

  test('a PodMonitor scrapes Traefik metrics', () => {
    const monitor = find(monitoringObjects(prod.template), 'PodMonitor', 'fx-traefik');
    expect(monitor.spec.namespaceSelector.matchNames).toEqual(['traefik']);
    expect(monitor.spec.podMetricsEndpoints[0].port).toBe('metrics');
  });

  test('ExternalSecrets sync the Grafana admin login and the receiver credentials from Secrets Manager', () => {
    const objects = monitoringObjects(prod.template);
    const admin = find(objects, 'ExternalSecret', 'fx-grafana-admin');
    expect(admin.apiVersion).toBe('external-secrets.io/v1');
    // The monitoring namespace's own store (no ClusterSecretStore), authenticating as its own fx-secrets service account.
    expect(admin.spec.secretStoreRef).toEqual({ name: 'fx-secrets', kind: 'SecretStore' });
    expect(admin.spec.data.map((d: Json) => [d.secretKey, d.remoteRef.property])).toEqual([['admin-user', 'username'], ['admin-password', 'password']]);
    const store = find(objects, 'SecretStore', 'fx-secrets');
    expect(store.apiVersion).toBe('external-secrets.io/v1');
    expect(store.spec).toEqual({ provider: { aws: { service: 'SecretsManager', region: REGION, auth: { jwt: { serviceAccountRef: { name: 'fx-secrets' } } } } } });
    const account = find(objects, 'ServiceAccount', 'fx-secrets');
    expect(account.metadata.annotations).toEqual({ 'eks.amazonaws.com/role-arn': 'TOKEN' });
    expect(account.automountServiceAccountToken).toBe(false);
    expect(kubernetesObjectsOf(prod.template, 'TOKEN').filter((o) => o.kind === 'ClusterSecretStore')).toEqual([]);
    const receivers = find(objects, 'ExternalSecret', 'fx-alertmanager-receivers');
    expect(receivers.spec.secretStoreRef).toEqual({ name: 'fx-secrets', kind: 'SecretStore' });
    expect(receivers.spec.data).toEqual([
      { secretKey: 'slack-webhook-url', remoteRef: { key: SLACK_ARN } },
      { secretKey: 'pagerduty-routing-key', remoteRef: { key: PAGERDUTY_ARN } },
    ]);
    expect(() => find(monitoringObjects(dev.template), 'ExternalSecret', 'fx-alertmanager-receivers')).toThrow();
  });

  test("only the monitoring SecretStore's role may read the receiver secrets and the generated admin secret", () => {
    const resources = prod.template.toJSON().Resources as Record<string, Json>;
    /** Every statement of a role: inline policies and attached AWS::IAM::Policy resources. */
    const statementsOf = (roleId: string): Json[] => [
      ...(resources[roleId].Properties.Policies ?? []).flatMap((x: Json) => x.PolicyDocument.Statement),
      ...Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(`"${roleId}"`))
        .flatMap((r) => r.Properties.PolicyDocument.Statement),
    ];
    const roles = Object.keys(resources).filter((id) => resources[id].Type === 'AWS::IAM::Role');
    const readers = roles.filter((id) => JSON.stringify(statementsOf(id)).includes(SLACK_ARN));
    expect(readers).toEqual([expect.stringMatching(/MonitoringSecretStoreRole[0-9A-F]{8}$/)]);
    const [role] = readers;
    expect(roles.filter((id) => JSON.stringify(statementsOf(id)).includes(PAGERDUTY_ARN))).toEqual([role]);
    const adminSecret = Object.keys(prod.template.findResources('AWS::SecretsManager::Secret', {
      Properties: { GenerateSecretString: Match.objectLike({ SecretStringTemplate: '{"username":"admin"}' }) },
    }));
    expect(adminSecret).toHaveLength(1);
    expect(roles.filter((id) => statementsOf(id).some((st) => JSON.stringify(st.Action).includes('secretsmanager:GetSecretValue')
      && JSON.stringify(st.Resource) === JSON.stringify({ Ref: adminSecret[0] })))).toEqual([role]);
    // It reads exactly those three secrets, nothing else.
    const reads = statementsOf(role).filter((st) => JSON.stringify(st.Action).includes('secretsmanager:'));
    expect(reads.map((st) => st.Resource)).toEqual([{ Ref: adminSecret[0] }, SLACK_ARN, PAGERDUTY_ARN]);
    for (const st of reads) expect(st.Action).toEqual(['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret']);
    // Assumable only with the token of monitoring/fx-secrets (a JSON string: the issuer is known at deploy time).
    expect(JSON.parse(joinedString(resources[role].Properties.AssumeRolePolicyDocument, 'ISSUER')).Statement).toEqual([{
      Effect: 'Allow',
      Principal: { Federated: 'ISSUER' },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringEquals: { 'ISSUER:sub': 'system:serviceaccount:monitoring:fx-secrets', 'ISSUER:aud': 'sts.amazonaws.com' } },
    }]);
    // No fixed name (a retained fixed name blocks the retry of a rolled-back create); retained only in production.
    const admin = Object.values(prod.template.findResources('AWS::SecretsManager::Secret', {
      Properties: { GenerateSecretString: Match.objectLike({ GenerateStringKey: 'password', SecretStringTemplate: '{"username":"admin"}' }) },
    })) as Json[];
    expect(admin).toHaveLength(1);
    expect(admin[0].Properties.Name).toBeUndefined();
    expect(admin[0].DeletionPolicy).toBe('RetainExceptOnCreate');
    const devAdmin = Object.values(dev.template.findResources('AWS::SecretsManager::Secret', {
      Properties: { GenerateSecretString: Match.objectLike({ SecretStringTemplate: '{"username":"admin"}' }) },
    })) as Json[];
    expect(devAdmin.map((x) => [x.Properties.Name, x.DeletionPolicy])).toEqual([[undefined, 'Delete']]);
  });

  test('dashboard ConfigMaps carry the sidecar label and hold valid dashboards; a service dashboard lives in its namespace', () => {
    const objects = [
      ...monitoringObjects(prod.template).filter((o) => o.kind === 'ConfigMap'),
      prod.observability.serviceDashboard('orders', 'orders-api'),
      prod.observability.serviceDashboard('payments', 'payments-api'),
    ];
    const names = objects.map((o) => o.metadata.name).sort();
    expect(names).toEqual(['fx-dashboard-rds', 'fx-dashboard-traefik', 'orders-api-dashboard', 'payments-api-dashboard']);
    const dashboards: Json[] = [];
    for (const cm of objects) {
      expect(cm.metadata.labels.grafana_dashboard).toBe('1');
      for (const [key, text] of Object.entries<string>(cm.data)) {
        expect(key).toMatch(/\.json$/);
        const d = JSON.parse(text);
        expect(d).toEqual(expect.objectContaining({ uid: expect.any(String), title: expect.any(String), schemaVersion: 39 }));
        expect(d.uid.length).toBeLessThanOrEqual(40);
        expect(d.panels.length).toBeGreaterThan(0);
        for (const panel of d.panels) {
          expect(panel.targets.length).toBeGreaterThan(0);
          expect(['prometheus', 'cloudwatch']).toContain(panel.datasource.type);
        }
        dashboards.push(d);
      }
    }
    const services = find(objects, 'ConfigMap', 'orders-api-dashboard');
    expect(services.metadata.namespace).toBe('orders');
    expect(Object.keys(services.data)).toEqual(['orders--orders-api.json']);
    const orders = JSON.parse(services.data['orders--orders-api.json']);
    expect(JSON.stringify(orders.panels)).toContain('http_requests_total{namespace=\\"orders\\",service=\\"orders-api\\"');
    const rdsDashboard = dashboards.find((d) => d.uid === 'fx-rds')!;
    expect(rdsDashboard.panels.every((p: Json) => p.datasource.uid === 'cloudwatch')).toBe(true);
    expect(new Set(dashboards.map((d) => d.uid)).size).toBe(dashboards.length);
  });

  test('Grafana is routed through Traefik on grafana.<domain> only when the cluster has a domain', () => {
    const route = find(monitoringObjects(prod.template), 'IngressRoute', 'grafana');
    expect(route.spec.entryPoints).toEqual(['web']);
    expect(route.spec.routes[0].match).toBe('Host(`grafana.fx.example.com`)');
    expect(route.spec.routes[0].services).toEqual([{ name: 'kube-prometheus-stack-grafana', port: 80 }]);
    expect(route.spec.routes[0].middlewares).toEqual([
      { name: 'fx-admin-allowlist', namespace: 'monitoring' },
      { name: 'fx-secure-headers', namespace: 'traefik' },
    ]);
    expect(find(monitoringObjects(prod.template), 'Middleware', 'fx-admin-allowlist').spec.ipAllowList.sourceRange).toEqual(['203.0.113.0/24']);
    expect(prod.observability.grafanaHost).toBe('grafana.fx.example.com');
    expect(monitoringObjects(dev.template).some((o) => o.kind === 'IngressRoute')).toBe(false);
  });

  test('Alertmanager may publish to the alarm topic only, Grafana may only read CloudWatch, both through Pod Identity', () => {
    for (const sa of ['fx-alertmanager', 'fx-grafana']) {
      prod.template.hasResourceProperties('AWS::EKS::PodIdentityAssociation', { Namespace: 'monitoring', ServiceAccount: sa });
    }
    const policies = Object.values(prod.template.findResources('AWS::IAM::Policy')) as Json[];
    const publish = policies.flatMap((p) => p.Properties.PolicyDocument.Statement).filter((s: Json) => s.Action === 'sns:Publish');
    expect(publish).toHaveLength(1);
    expect(publish[0].Resource).toEqual({ Ref: Object.keys(prod.template.findResources('AWS::SNS::Topic'))[0] });
    const grafanaActions = policies.flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((s: Json) => s.Sid === 'ReadMetricsAndAlarms' || s.Sid === 'QueryLogs').flatMap((s: Json) => s.Action);
    expect(grafanaActions.length).toBeGreaterThan(5);
    for (const action of grafanaActions) expect(action).toMatch(/^(cloudwatch|logs|ec2|tag):(Describe|List|Get|StartQuery|StopQuery)/);
  });
});

describe('Container Insights and X-Ray', () => {
  test('installs the amazon-cloudwatch-observability add-on at the table version with Pod Identity', () => {
    prod.template.hasResourceProperties('AWS::EKS::Addon', {
      AddonName: 'amazon-cloudwatch-observability',
      AddonVersion: ROW.addons.cloudWatchObservability,
      PodIdentityAssociations: [{ ServiceAccount: 'cloudwatch-agent', RoleArn: Match.anyValue() }],
    });
    const addon = Object.values(prod.template.findResources('AWS::EKS::Addon', { Properties: { AddonName: 'amazon-cloudwatch-observability' } }))[0] as Json;
    const config = JSON.parse(addon.Properties.ConfigurationValues);
    expect(config.agent.config.traces.traces_collected.otlp).toEqual({ grpc_endpoint: '0.0.0.0:4317', http_endpoint: '0.0.0.0:4318' });
    expect(config.agent.config.logs.metrics_collected.kubernetes.enhanced_container_insights).toBe(true);
    // Production installs ELK, whose Fluent Bit ships container logs to these log groups (test/elk.test.ts);
    // without ELK the add-on's own Fluent Bit does.
    expect(config.containerLogs.enabled).toBe(false);
    const devAddon = Object.values(dev.template.findResources('AWS::EKS::Addon', { Properties: { AddonName: 'amazon-cloudwatch-observability' } }))[0] as Json;
    expect(JSON.parse(devAddon.Properties.ConfigurationValues).containerLogs.enabled).toBe(true);
    const roleId = addon.Properties.PodIdentityAssociations[0].RoleArn['Fn::GetAtt'][0];
    const role = prod.template.toJSON().Resources[roleId];
    expect(JSON.stringify(role.Properties.AssumeRolePolicyDocument)).toContain('pods.eks.amazonaws.com');
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(addon.DependsOn.filter((id: string) => /(Application|Host|Dataplane|Performance)Logs/.test(id))).toHaveLength(4);
  });

  test.each(['application', 'host', 'dataplane', 'performance'])('pre-creates the %s log group with retention and KMS', (name) => {
    const groups = Object.values(prod.template.findResources('AWS::Logs::LogGroup')) as Json[];
    const group = groups.find((g) => JSON.stringify(g.Properties.LogGroupName ?? '').includes('containerinsights/\",{\"Ref\"') && JSON.stringify(g.Properties.LogGroupName).endsWith(`/${name}\"]]}`));
    expect(group).toBeDefined();
    expect(group!.Properties.RetentionInDays).toBe(365);
    expect(group!.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^ObservabilityLogKey/), 'Arn'] });
    // a fixed name: RetainExceptOnCreate in production, so a rolled-back first create removes it
    expect(group!.DeletionPolicy).toBe('RetainExceptOnCreate');
  });

  test('the log key lets CloudWatch Logs use it for the Container Insights groups only', () => {
    const key = Object.entries(prod.template.findResources('AWS::KMS::Key')).find(([id]) => id.startsWith('ObservabilityLogKey'))![1] as Json;
    expect(key.Properties.EnableKeyRotation).toBe(true);
    const statement = key.Properties.KeyPolicy.Statement.find((s: Json) => s.Sid === 'AllowCloudWatchLogs');
    expect(statement.Principal.Service).toBe(`logs.${REGION}.amazonaws.com`);
    expect(JSON.stringify(statement.Condition)).toContain('/aws/containerinsights/');
    const devGroup = Object.values(dev.template.findResources('AWS::Logs::LogGroup'))
      .find((g: any) => JSON.stringify(g.Properties.LogGroupName ?? '').includes('/application')) as Json;
    expect(devGroup.Properties.RetentionInDays).toBe(30);
  });

  test('exposes the agent OTLP endpoint and samples traces with an X-Ray rule', () => {
    expect(prod.observability.otlpEndpoint).toBe('http://cloudwatch-agent.amazon-cloudwatch:4317');
    expect(prod.observability.otlpHttpEndpoint).toBe('http://cloudwatch-agent.amazon-cloudwatch:4318');
    prod.template.hasResourceProperties('AWS::XRay::SamplingRule', {
      SamplingRule: Match.objectLike({ FixedRate: 0.05, ReservoirSize: 1, ServiceName: '*', Version: 1 }),
    });
    dev.template.hasResourceProperties('AWS::XRay::SamplingRule', { SamplingRule: Match.objectLike({ FixedRate: 0.2 }) });
  });
});

describe('CloudWatch alarms', () => {
  test('the alarm topic is KMS-encrypted, HTTPS-only and has one e-mail subscription per address', () => {
    prod.template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ObservabilityAlarmTopicKey'), 'Arn'] } });
    prod.template.resourceCountIs('AWS::SNS::Subscription', 2);
    for (const email of ['ops@example.com', 'oncall@example.com']) {
      prod.template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: email });
    }
    prod.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    const key = Object.entries(prod.template.findResources('AWS::KMS::Key')).find(([id]) => id.startsWith('ObservabilityAlarmTopicKey'))![1] as Json;
    expect(JSON.stringify(key.Properties.KeyPolicy)).toContain('cloudwatch.amazonaws.com');
    expect(JSON.stringify(key.Properties.KeyPolicy)).toContain('budgets.amazonaws.com');
    dev.template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  test.each([
    ['ObservabilityNodeCpuAlarm', 'node_cpu_utilization', 75],
    ['ObservabilityNodeMemoryAlarm', 'node_memory_utilization', 85],
    ['ObservabilityNodeDiskAlarm', 'node_filesystem_utilization', 80],
    ['ObservabilityFailedNodesAlarm', 'cluster_failed_node_count', 1],
  ])('%s watches Container Insights %s of the cluster at %d', (id, metric, threshold) => {
    const alarm = alarmNamed(prod.template, id);
    expect(alarm).toEqual(expect.objectContaining({
      Namespace: 'ContainerInsights',
      MetricName: metric,
      Statistic: 'Maximum',
      Period: 300,
      Threshold: threshold,
      EvaluationPeriods: 2,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      Dimensions: [{ Name: 'ClusterName', Value: { Ref: expect.stringMatching(/^Cluster/) } }],
    }));
    const topic = { Ref: Object.keys(prod.template.findResources('AWS::SNS::Topic'))[0] };
    expect(alarm.AlarmActions).toEqual([topic]);
    expect(alarm.OKActions).toEqual([topic]);
  });

  test.each([
    ['ObservabilityPodRestartsAlarm', 'MAX(pod_number_of_container_restarts) FROM SCHEMA(ContainerInsights, ClusterName, Namespace, PodName)', 5],
  ])('%s is a Metrics Insights query (%s) at %d', (id, query, threshold) => {
    const alarm = alarmNamed(prod.template, id);
    expect(alarm.Threshold).toBe(threshold);
    expect(alarm.Metrics).toHaveLength(1);
    expect(alarm.Metrics[0].Period).toBe(300);
    expect(joinedString(alarm.Metrics[0].Expression, 'TOKEN')).toContain(`SELECT ${query}`);
    expect(alarm.AlarmActions).toHaveLength(1);
  });

  test.each([
    ['ObservabilityLoadBalancerTarget5xxAlarm', 'HTTPCode_Target_5XX_Count', 'Sum', 10],
    ['ObservabilityLoadBalancer5xxAlarm', 'HTTPCode_ELB_5XX_Count', 'Sum', 10],
    ['ObservabilityTargetResponseTimeAlarm', 'TargetResponseTime', 'Average', 1],
  ])('%s watches %s of the platform\'s own ALB only (its LoadBalancer dimension), not every ALB of the account', (id, metric, statistic, threshold) => {
    const alarm = alarmNamed(prod.template, id);
    expect(alarm.Metrics).toBeUndefined();
    expect(alarm).toEqual(expect.objectContaining({ Namespace: 'AWS/ApplicationELB', MetricName: metric, Statistic: statistic, Period: 300, Threshold: threshold }));
    const lookupId = Object.keys(prod.template.findResources('Custom::AWS')).find((k) => k.startsWith('ObservabilityLoadBalancerLookup'));
    expect(lookupId).toBeDefined();
    expect(alarm.Dimensions).toEqual([{
      Name: 'LoadBalancer',
      Value: { 'Fn::Select': [1, { 'Fn::Split': ['loadbalancer/', { 'Fn::GetAtt': [lookupId, 'LoadBalancers.0.LoadBalancerArn'] }] }] },
    }]);
  });

  test('the ALB is looked up by the fixed name its Ingress gives it, once the cluster has read its DNS name', () => {
    const [lookup] = Object.values(prod.template.findResources('Custom::AWS')) as Json[];
    const create = JSON.parse(joinedString(lookup.Properties.Create, 'TOKEN'));
    expect(create).toEqual(expect.objectContaining({
      service: 'ElasticLoadBalancingV2',
      action: 'describeLoadBalancers',
      parameters: { Names: [platformAlbName(prod.cluster)] },
      outputPaths: ['LoadBalancers.0.LoadBalancerArn'],
    }));
    // the physical id is the DNS name the cluster reads from the Ingress status: the lookup runs after the ALB exists
    expect(joinedString(lookup.Properties.Create, 'TOKEN')).toContain('"physicalResourceId":{"id":"TOKEN"}');
    expect(JSON.stringify(lookup.Properties.Create)).toMatch(/"Fn::GetAtt":\["ClusterLoadBalancerHostname[A-Za-z0-9]*","Value"\]/);
  });

  test('the Traefik Ingress gives its ALB the name the lookup asks for (else the lookup fails at deploy)', () => {
    const ingress = kubernetesObjectsOf(prod.template, 'TOKEN').find((o) => o.kind === 'Ingress');
    expect(ingress?.metadata.annotations['alb.ingress.kubernetes.io/load-balancer-name']).toBe(platformAlbName(prod.cluster));
  });

  test('without a domain there is no ALB, so no load balancer alarm and no lookup', () => {
    expect(Object.keys(dev.template.findResources('AWS::CloudWatch::Alarm')).filter((k) => /LoadBalancer|TargetResponse/.test(k))).toEqual([]);
    dev.template.resourceCountIs('Custom::AWS', 0);
  });

  test('development thresholds are looser', () => {
    expect(alarmNamed(dev.template, 'ObservabilityNodeCpuAlarm').Threshold).toBe(90);
    expect(alarmNamed(dev.template, 'ObservabilityNodeCpuAlarm').EvaluationPeriods).toBe(3);
  });

  test.each([
    ['CpuAlarm', 'CPUUtilization', 80, 'GreaterThanOrEqualToThreshold'],
    ['FreeStorageAlarm', 'FreeStorageSpace', 10 * 2 ** 30, 'LessThanThreshold'],
    ['ConnectionsAlarm', 'DatabaseConnections', 250, 'GreaterThanOrEqualToThreshold'],
    ['ReadLatencyAlarm', 'ReadLatency', 0.02, 'GreaterThanOrEqualToThreshold'],
    ['WriteLatencyAlarm', 'WriteLatency', 0.02, 'GreaterThanOrEqualToThreshold'],
  ])('watchDatabase alarms on %s (%s) at %d', (id, metric, threshold, comparison) => {
    const alarms = Object.values(prod.template.findResources('AWS::CloudWatch::Alarm'))
      .filter((a: any) => a.Properties.Namespace === 'AWS/RDS' && a.Properties.MetricName === metric) as Json[];
    expect(alarms).toHaveLength(1);
    expect(alarms[0].Properties).toEqual(expect.objectContaining({
      Threshold: threshold, ComparisonOperator: comparison, Dimensions: [{ Name: 'DBInstanceIdentifier', Value: 'orders-db' }],
    }));
    expect(Object.keys(prod.template.findResources('AWS::CloudWatch::Alarm')).some((k) => k.includes(id))).toBe(true);
  });

  test('one CloudWatch dashboard shows the platform and the watched database', () => {
    prod.template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const body = JSON.stringify(Object.values(prod.template.findResources('AWS::CloudWatch::Dashboard'))[0]);
    for (const text of ['node_cpu_utilization', 'HTTPCode_Target_5XX_Count', 'FreeStorageSpace', 'Platform alarms']) expect(body).toContain(text);
  });
});

describe('AWS Budgets', () => {
  test('a monthly cost budget notifies the same addresses on actual and forecast spend', () => {
    const budget = Object.values(prod.template.findResources('AWS::Budgets::Budget'))[0] as Json;
    expect(budget.Properties.Budget).toEqual(expect.objectContaining({
      BudgetType: 'COST', TimeUnit: 'MONTHLY', BudgetLimit: { Amount: 2500, Unit: 'USD' },
    }));
    const notifications = budget.Properties.NotificationsWithSubscribers as Json[];
    expect(notifications.map((n) => [n.Notification.NotificationType, n.Notification.Threshold])).toEqual([['ACTUAL', 80], ['ACTUAL', 100], ['FORECASTED', 100]]);
    for (const n of notifications) {
      expect(n.Subscribers).toEqual([
        { SubscriptionType: 'EMAIL', Address: 'ops@example.com' },
        { SubscriptionType: 'EMAIL', Address: 'oncall@example.com' },
      ]);
    }
    dev.template.resourceCountIs('AWS::Budgets::Budget', 0);
  });
});

describe('cdk-nag', () => {
  test('AwsSolutions reports no unacknowledged error', () => {
    if (nagError) {
      const report = path.join(nagOutdir, 'validation-report.json');
      const detail = fs.existsSync(report) ? fs.readFileSync(report, 'utf8').slice(0, 4000) : String(nagError);
      throw new Error(detail);
    }
    const metadata = fs.readFileSync(path.join(nagOutdir, 'Platform.metadata.json'), 'utf8');
    expect(metadata).toContain('AwsSolutions-SMG4');
  });
});

describe('stable logical ids', () => {
  test.each([
    ['AWS::KMS::Key', 'ObservabilityLogKey'],
    ['AWS::KMS::Key', 'ObservabilityAlarmTopicKey'],
    ['AWS::Logs::LogGroup', 'ObservabilityApplicationLogs'],
    ['AWS::Logs::LogGroup', 'ObservabilityPerformanceLogs'],
    ['AWS::SecretsManager::Secret', 'ObservabilityGrafanaAdminSecret'],
  ])('%s %s', (type, prefix) => {
    const ids = Object.keys(dev.template.findResources(type)).filter((id) => id.startsWith(prefix));
    expect(ids).toHaveLength(1);
    expect(ids[0]).toMatch(new RegExp(`^${prefix}[0-9A-F]{8}$`));
  });
});

describe('chart data', () => {
  test('the Grafana sidecar label is the one kube-prometheus-stack 88.5.3 configures', () => {
    const values = loadChartData('kube-prometheus-stack', '88.5.3')!.pinnedDefaults;
    expect(values['grafana.sidecar.dashboards.label']).toBe('grafana_dashboard');
    expect(values['grafana.sidecar.dashboards.labelValue']).toBe('1');
    expect(values['alertmanager.tplConfig']).toBe(false);
  });
});

describe('bad input', () => {
  let stack: Stack;
  let cluster: FxCluster;
  let n = 0;
  beforeAll(() => {
    stack = newStack().stack;
    cluster = new FxCluster(stack, 'Cluster');
  });
  const attempt = (props: Omit<FxObservabilityProps, 'cluster'>) => () => new FxObservability(stack, `Bad${n++}`, { cluster, ...props });

  test('fails when an e-mail address is invalid', () => {
    expect(attempt({ alarmEmails: ['ops@example.com', 'ops@'] })).toThrow(/FxObservability(?: at [^:]+)?: invalid alarmEmails\[1\] 'ops@'; allowed: an e-mail address/);
  });
  test('fails when an e-mail address repeats', () => {
    expect(attempt({ alarmEmails: ['ops@example.com', 'OPS@example.com'] })).toThrow(/invalid alarmEmails\[1\] 'OPS@example.com'; allowed: each address once/);
  });
  test('fails when the log retention is not one CloudWatch supports', () => {
    expect(attempt({ logRetention: 42 as logs.RetentionDays })).toThrow(/invalid logRetention 42; allowed: a retention CloudWatch Logs supports/);
  });
  test('fails when a percentage threshold is above 100', () => {
    expect(attempt({ alarmThresholds: { nodeCpuPercent: 150 } })).toThrow(/invalid alarmThresholds.nodeCpuPercent 150; allowed: a percentage above 0 and at most 100/);
  });
  test('fails when a count threshold is not a positive integer', () => {
    expect(attempt({ alarmThresholds: { podRestarts: 1.5 } })).toThrow(/invalid alarmThresholds.podRestarts 1.5; allowed: an integer of at least 1/);
  });
  test('fails when evaluation periods are out of range', () => {
    expect(attempt({ alarmThresholds: { evaluationPeriods: 0 } })).toThrow(/invalid alarmThresholds.evaluationPeriods 0/);
  });
  test('fails when the target response time threshold is zero', () => {
    expect(attempt({ alarmThresholds: { targetResponseTime: Duration.millis(0) } })).toThrow(/invalid alarmThresholds.targetResponseTime/);
  });
  test('fails when the Slack webhook secret has its value in the template (a plain string)', () => {
    const secret = new secretsmanager.Secret(stack, 'PlainSlack', { secretStringValue: SecretValue.unsafePlainText('https://hooks.slack.com/services/T0/B0/abc') });
    expect(attempt({ slackWebhook: secret })).toThrow(/invalid slackWebhook 'secret Platform\/PlainSlack with its value in the template'; allowed: a Secrets Manager secret that holds the Slack webhook URL/);
  });
  test('fails when the Slack webhook URL is passed as the secret name', () => {
    const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'UrlSlack', 'https://hooks.slack.com/services/T0/B0/abc');
    expect(attempt({ slackWebhook: secret })).toThrow(/invalid slackWebhook 'https:\/\/hook\*\*\*'/);
  });
  test('fails when the PagerDuty key is passed as the secret name', () => {
    const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'KeyPd', '0123456789abcdef0123456789abcdef');
    expect(attempt({ pagerDutyKey: secret })).toThrow(/invalid pagerDutyKey '0123456789ab\*\*\*'; allowed: a Secrets Manager secret that holds the PagerDuty routing key/);
  });
  test('fails when the PagerDuty secret is built from a plain-text JSON value', () => {
    const secret = new secretsmanager.Secret(stack, 'PlainPd', { secretObjectValue: { key: SecretValue.unsafePlainText('0123') } });
    expect(attempt({ pagerDutyKey: secret })).toThrow(/invalid pagerDutyKey/);
  });
  test('fails when the metrics retention is shorter than one Prometheus block', () => {
    expect(attempt({ metricsRetention: Duration.minutes(30) })).toThrow(/invalid metricsRetention '30 minutes'; allowed: whole hours from 2 hours/);
  });
  test('fails when the budget is not positive', () => {
    expect(attempt({ monthlyBudget: -5 })).toThrow(/invalid monthlyBudget -5; allowed: a positive amount of USD/);
  });
  test('fails when a budget would notify more than 10 addresses', () => {
    const emails = Array.from({ length: 11 }, (_, i) => `ops${i}@example.com`);
    expect(attempt({ monthlyBudget: 100, alarmEmails: emails })).toThrow(/invalid alarmEmails .*; allowed: at most 10 addresses when monthlyBudget is set/);
  });
  test('fails when the sampling rate is not a fraction', () => {
    expect(attempt({ traceSamplingRate: 1.5 })).toThrow(/invalid traceSamplingRate 1.5; allowed: a fraction from 0 to 1/);
  });
  test('fails when a volume size is not whole GiB', () => {
    expect(attempt({ prometheusStorage: Size.mebibytes(1500) })).toThrow(/invalid prometheusStorage '1500 MiB'; allowed: whole GiB/);
  });
  test('fails when a database threshold is out of range', () => {
    const db = rds.DatabaseInstance.fromDatabaseInstanceAttributes(dev.stack, 'BadDb', {
      instanceIdentifier: 'x', instanceEndpointAddress: 'x.example.internal', port: 5432, securityGroups: [],
    });
    expect(() => dev.observability.watchDatabase(db, { cpuPercent: 0 })).toThrow(/invalid watchDatabase.cpuPercent 0/);
    expect(() => dev.observability.watchDatabase(db, { readLatency: Duration.seconds(60) })).toThrow(/invalid watchDatabase.readLatency '1 minute'/);
  });
  test('fails when a service dashboard names an invalid namespace', () => {
    expect(() => dev.observability.serviceDashboard('Orders_NS', 'api')).toThrow(/invalid serviceDashboard.namespace 'Orders_NS'; allowed: a DNS label/);
  });
  test('fails when the cluster already has an FxObservability', () => {
    expect(() => new FxObservability(dev.stack, 'Second', { cluster: dev.cluster })).toThrow(/invalid cluster 'Platform\/Cluster'; allowed: a cluster without another FxObservability/);
  });
});

describe('synth-time validation (issue 18)', () => {
  let stack: Stack;
  let cluster: FxCluster;
  let n = 0;
  beforeAll(() => {
    stack = newStack().stack;
    cluster = new FxCluster(stack, 'Cluster');
  });
  /** The message an FxObservability with these props throws on the shared cluster (each attempt must fail). */
  const errorOf = (props: Omit<FxObservabilityProps, 'cluster'>): { path: string; error?: string } => {
    const id = `Issue18Obs${++n}`;
    try {
      new FxObservability(stack, id, { cluster, ...props });
      return { path: `Platform/${id}` };
    } catch (e) {
      return { path: `Platform/${id}`, error: (e as Error).message };
    }
  };
  const expectError = (props: Omit<FxObservabilityProps, 'cluster'>, prop: string, value: string, allowed: string) => {
    const { path: at, error } = errorOf(props);
    expect(error).toBe(`FxObservability at ${at}: invalid ${prop} ${value}; allowed: ${allowed}`);
  };
  const number = (id: string) => new CfnParameter(stack, id, { type: 'Number' }).valueAsNumber;

  test('fails when a count is beyond int32', () => {
    expectError({ alarmThresholds: { podRestarts: 2 ** 31 } }, 'alarmThresholds.podRestarts', '2147483648', 'an integer from 1 to 2147483647');
    expectError({ alarmThresholds: { loadBalancer5xxCount: 1e12 } }, 'alarmThresholds.loadBalancer5xxCount', '1000000000000', 'an integer from 1 to 2147483647');
    const db = rds.DatabaseInstance.fromDatabaseInstanceAttributes(dev.stack, 'Issue18Db', {
      instanceIdentifier: 'x', instanceEndpointAddress: 'x.example.internal', port: 5432, securityGroups: [],
    });
    expect(() => dev.observability.watchDatabase(db, { connections: 2 ** 40 }))
      .toThrow('FxObservability at Platform/Observability: invalid watchDatabase.connections 1099511627776; allowed: an integer from 1 to 2147483647');
  });

  test('fails when a duration is below a millisecond or a deploy-time value in a unit that cannot be converted', () => {
    expectError({ alarmThresholds: { targetResponseTime: Duration.millis(0.5) } }, 'alarmThresholds.targetResponseTime', `'${Duration.millis(0.5).toHumanString()}'`, 'from 1 ms to 300 s');
    const tokenError = (props: Omit<FxObservabilityProps, 'cluster'>, prop: string, unit: string) => {
      const { path: at, error } = errorOf(props);
      expect(error).toMatch(new RegExp(`^FxObservability at ${at}: invalid ${prop} 'Duration\\.${unit}\\(<token>\\)'; allowed: a deploy-time value only as Duration\\.seconds\\(<token>\\)$`));
    };
    tokenError({ alarmThresholds: { targetResponseTime: Duration.millis(number('LatencyMs')) } }, 'alarmThresholds.targetResponseTime', 'millis');
    // Prometheus reads a unit suffix: a token passes in days, hours, minutes or seconds, never in milliseconds.
    const { path: at, error } = errorOf({ metricsRetention: Duration.millis(number('RetentionMs')) });
    expect(error).toBe(`FxObservability at ${at}: invalid metricsRetention 'Duration.millis(<token>)'; allowed: a deploy-time value only as Duration.days/hours/minutes/seconds(<token>)`);
  });

  test('fails when a deploy-time volume size is not in gibibytes (the unknown number cannot be converted)', () => {
    const allowed = 'a deploy-time value only as Size.gibibytes(<token>) (whole GiB of a gp3 volume)';
    expectError({ grafanaStorage: Size.tebibytes(number('StorageTiB')) }, 'grafanaStorage', "'Size.tebibytes(<token>)'", allowed);
    expectError({ prometheusStorage: Size.mebibytes(number('StorageMiB')) }, 'prometheusStorage', "'Size.mebibytes(<token>)'", allowed);
  });

  test('a deploy-time volume size in gibibytes reaches the volume claims as a token', () => {
    const { stack: own } = newStack();
    const ownCluster = new FxCluster(own, 'Cluster');
    const gib = new CfnParameter(own, 'PromGiB', { type: 'Number' }).valueAsNumber;
    const grafana = new CfnParameter(own, 'GrafanaGiB', { type: 'Number' }).valueAsNumber;
    new FxObservability(own, 'Observability', { cluster: ownCluster, prometheusStorage: Size.gibibytes(gib), grafanaStorage: Size.gibibytes(grafana) });
    const charts = Template.fromStack(own).findResources('Custom::AWSCDK-EKS-HelmChart', { Properties: { Release: 'kube-prometheus-stack' } });
    const parts: unknown[] = (Object.values(charts)[0] as any).Properties.Values['Fn::Join'][1];
    // Each size is the parameter followed by its unit: `<n>Gi` for the claims, `<n>GB` for Prometheus' retentionSize.
    const after = (ref: string) =>
      parts.flatMap((p, i) => (JSON.stringify(p) === JSON.stringify({ Ref: ref }) ? [String(parts[i + 1]).slice(0, 2)] : []));
    expect(after('PromGiB').sort()).toEqual(['GB', 'Gi']);
    expect(after('GrafanaGiB')).toEqual(['Gi']);
  });

  test('legal deploy-time tokens pass and reach the template as tokens', () => {
    const { stack: own } = newStack();
    const ownCluster = new FxCluster(own, 'Cluster');
    const p = (id: string) => new CfnParameter(own, id, { type: 'Number' }).valueAsNumber;
    const observability = new FxObservability(own, 'Observability', {
      cluster: ownCluster,
      metricsRetention: Duration.seconds(p('Retention')),
      alarmThresholds: { targetResponseTime: Duration.seconds(p('Latency')), podRestarts: p('Restarts') },
    });
    const alarms = own.node.findAll().filter((c): c is cloudwatch.CfnAlarm => c instanceof cloudwatch.CfnAlarm);
    const thresholds = alarms.map((a) => own.resolve(a.threshold));
    expect(thresholds).toContainEqual({ Ref: 'Restarts' });
    expect(observability.alarms.length).toBeGreaterThan(0);
    // the retention reaches the Helm values as the parameter, not as a number formatted from the token
    const helm = own.node.findAll().filter((c): c is CfnResource => c instanceof CfnResource && c.cfnResourceType === 'Custom::AWSCDK-EKS-HelmChart')
      .map((r) => JSON.stringify(own.resolve((r as any)._toCloudFormation())));
    expect(helm.filter((h) => h.includes('"Ref":"Retention"'))).toHaveLength(1);
  });

  test('a deploy-time retention in days or hours reaches Prometheus with its own unit', () => {
    for (const [unit, make] of [['d', Duration.days], ['h', Duration.hours]] as const) {
      const { stack: own } = newStack();
      const ownCluster = new FxCluster(own, 'Cluster');
      new FxObservability(own, 'Observability', { cluster: ownCluster, metricsRetention: make(new CfnParameter(own, 'Retention', { type: 'Number' }).valueAsNumber) });
      const helm = own.node.findAll().filter((c): c is CfnResource => c instanceof CfnResource && c.cfnResourceType === 'Custom::AWSCDK-EKS-HelmChart')
        .map((r) => JSON.stringify(own.resolve((r as any)._toCloudFormation())));
      expect(helm.filter((h) => h.includes(`{"Ref":"Retention"},"${unit}`))).toHaveLength(1);
    }
  });
});
