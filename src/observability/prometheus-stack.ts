import { ArnFormat, Duration, Stack, Token } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ADMIN_ALLOWLIST_MIDDLEWARE, AdminAccess, adminAllowlistMiddleware } from './admin-access';
import { alertmanagerConfig, PAGERDUTY_KEY, RECEIVERS_SECRET, SLACK_KEY } from './alertmanager';
import { CLOUDWATCH_UID, rdsDashboard, serviceDashboard, traefikDashboard } from './dashboards';
import { platformRules, traefikPodMonitor } from './rules';
import type { IFxCluster } from '../cluster';
import { platformSecretStore } from '../cluster/addons/external-secrets';
import { declareAwsFlows, declareFlow } from '../core/flows';
import { FxCapability } from '../core/install-order';
import { chartLabels, platformLabels } from '../core/tags';
import { WIRING } from '../core/wiring';
import { KubeConfigMap, KubeConfigMapManifest, KubeNamespace, KubeObject } from '../k8s/api.generated';
import { ExternalSecretProps, KubeExternalSecret, KubeExternalSecretManifest, KubeIngressRoute, KubeIngressRouteManifest } from '../k8s/crds.generated';

type Json = Record<string, any>;

/** Helm release name; the Grafana Service is `<release>-grafana`. */
export const RELEASE = 'kube-prometheus-stack';
export const GRAFANA_SERVICE = `${RELEASE}-grafana`;
export const ALERTMANAGER_SERVICE_ACCOUNT = 'fx-alertmanager';
export const GRAFANA_SERVICE_ACCOUNT = 'fx-grafana';
const TRAEFIK_PODS = { namespace: WIRING.traefik.namespace, podLabels: WIRING.traefik.podLabels };
const PROMETHEUS_PODS = { namespace: WIRING.monitoring.namespace, podLabels: WIRING.monitoring.prometheusPodLabels };
export const GRAFANA_ADMIN_SECRET = 'fx-grafana-admin';
/** Label and value the Grafana dashboard sidecar watches (kube-prometheus-stack defaults). */
export const DASHBOARD_LABEL = 'grafana_dashboard';
/** ConfigMap holding one dashboard per registered service (rendered at synth). */
/** Construct id of the Alertmanager service account under FxCluster (one monitoring stack per cluster). */
export const ALERTMANAGER_SERVICE_ACCOUNT_ID = 'MonitoringAlertmanagerServiceAccount';
const COMPONENT = 'monitoring';
/** The install-order capability of the monitoring namespace (same convention as the cluster's add-ons). */
export const NAMESPACE_CAPABILITY = FxCapability.namespace(WIRING.monitoring.namespace);

/** @internal */
export interface MonitoringStackOptions {
  readonly cluster: IFxCluster;
  /** The FxObservability: its stack holds the monitoring resources (see IFxCluster.scopeFor). */
  readonly scope: Construct;
  readonly alarmTopic: sns.ITopic;
  readonly grafanaAdminSecret: secretsmanager.ISecret;
  readonly slackWebhook?: secretsmanager.ISecret;
  readonly pagerDutyKey?: secretsmanager.ISecret;
  readonly retention: string;
  readonly prometheusStorageGiB: number;
  readonly grafanaStorageGiB: number;
  /** Who may reach Grafana's route (the `fx-admin-allowlist` middleware). */
  readonly adminAccess: AdminAccess;
}

/**
 * kube-prometheus-stack in the `monitoring` namespace and everything around it, in install order:
 * namespace → Pod Identity service accounts and ExternalSecrets → the chart (`wait`, provides the
 * prometheus-operator CRDs) → PrometheusRule/PodMonitor; dashboard ConfigMaps and the Grafana
 * IngressRoute alongside.
 *
 * @internal
 */
export class MonitoringStack {
  public readonly namespace: eks.KubernetesManifest;
  public readonly alertmanagerServiceAccount: eks.ServiceAccount;
  public readonly grafanaServiceAccount: eks.ServiceAccount;
  public readonly secrets: eks.KubernetesManifest;
  /** The role of the monitoring namespace's SecretStore: reads the Grafana admin and receiver secrets only. */
  public readonly secretStoreRole: iam.Role;
  public readonly chart: eks.HelmChart;
  public readonly rules: eks.KubernetesManifest;
  public readonly dashboards: eks.KubernetesManifest;
  public readonly route?: eks.KubernetesManifest;
  /** The Helm values given to the chart (may contain tokens). */
  public readonly values: Json;
  /** The host Grafana is served on, when the cluster has a domain. */
  public readonly grafanaHost?: string;

  private readonly labels: Record<string, string>;

  constructor(private readonly o: MonitoringStackOptions) {
    const cluster = o.cluster;
    const ns = WIRING.monitoring.namespace;
    this.labels = platformLabels(cluster.platformName, COMPONENT);

    // node-exporter needs host namespaces and hostPath volumes: the namespace cannot enforce more
    // than 'privileged'; audit and warn still report anything below 'restricted'.
    this.namespace = this.apply('MonitoringNamespace', [KubeNamespace.manifest({
      metadata: {
        name: ns,
        labels: {
          ...this.labels,
          'pod-security.kubernetes.io/enforce': 'privileged',
          'pod-security.kubernetes.io/audit': 'restricted',
          'pod-security.kubernetes.io/warn': 'restricted',
        },
      },
    })]);
    cluster.registerProvider(this.namespace, NAMESPACE_CAPABILITY);

    this.alertmanagerServiceAccount = cluster.addPodIdentityServiceAccount(ALERTMANAGER_SERVICE_ACCOUNT_ID, {
      name: ALERTMANAGER_SERVICE_ACCOUNT, namespace: ns, needs: [NAMESPACE_CAPABILITY], scope: o.scope,
    });
    o.alarmTopic.grantPublish(this.alertmanagerServiceAccount);

    this.grafanaServiceAccount = cluster.addPodIdentityServiceAccount('MonitoringGrafanaServiceAccount', {
      name: GRAFANA_SERVICE_ACCOUNT, namespace: ns, needs: [NAMESPACE_CAPABILITY], scope: o.scope,
    });
    grantCloudWatchRead(this.grafanaServiceAccount, Stack.of(cluster));

    // The namespace's own SecretStore, whose role reads only these secrets (no cluster-wide store).
    const granted = [o.grafanaAdminSecret, o.slackWebhook, o.pagerDutyKey].filter((x): x is secretsmanager.ISecret => x !== undefined);
    const store = platformSecretStore(cluster.scopeFor(o.scope), 'MonitoringSecretStoreRole', cluster, ns, granted, this.labels);
    this.secretStoreRole = store.role;
    this.secrets = this.apply('MonitoringSecrets', [...store.objects, ...this.externalSecrets(store.storeRef)],
      [NAMESPACE_CAPABILITY, FxCapability.EXTERNAL_SECRETS_CRDS, FxCapability.EXTERNAL_SECRETS_WEBHOOK]);
    this.secrets.node.addDependency(store.role);

    this.grafanaHost = cluster.domainName ? `grafana.${cluster.domainName}` : undefined;
    this.values = this.chartValues();
    this.chart = cluster.addHelmChart('KubePrometheusStack', {
      chart: cluster.versions.charts.kubePrometheusStack,
      scope: o.scope,
      namespace: ns,
      release: RELEASE,
      createNamespace: false,
      values: this.values,
      wait: true,
      // CRDs, operator, Prometheus, Alertmanager and Grafana with their volumes: the longest install,
      // still 2 minutes under the kubectl handler's 15-minute Lambda timeout (the most accepted).
      timeout: Duration.minutes(13),
      needs: [NAMESPACE_CAPABILITY, FxCapability.STORAGE_CLASSES, FxCapability.POD_IDENTITY],
      provides: [FxCapability.PROMETHEUS_OPERATOR_CRDS],
    });
    declareFlow(this.chart, { from: { namespace: ns, serviceAccount: GRAFANA_SERVICE_ACCOUNT }, to: { namespace: ns, podLabels: WIRING.monitoring.prometheusPodLabels }, port: 9090, protocol: 'TCP', reason: 'Grafana queries Prometheus', expect: 'allow' });
    declareAwsFlows(this.chart, { namespace: ns, serviceAccount: GRAFANA_SERVICE_ACCOUNT }, 'Grafana (CloudWatch data source)');
    declareAwsFlows(this.chart, { namespace: ns, serviceAccount: ALERTMANAGER_SERVICE_ACCOUNT }, 'Alertmanager (SNS)');
    // Grafana and Alertmanager start only once their service accounts and Secrets exist.
    this.chart.node.addDependency(this.alertmanagerServiceAccount, this.grafanaServiceAccount, this.secrets);

    declareFlow(this.chart, { from: PROMETHEUS_PODS, to: { namespace: WIRING.traefik.namespace, podLabels: WIRING.traefik.podLabels }, port: 9100, protocol: 'TCP', reason: 'Prometheus scrapes Traefik (PodMonitor, port metrics)', expect: 'allow' });
    this.rules = this.apply('MonitoringRules', [platformRules(ns, this.labels), traefikPodMonitor(ns, this.labels)],
      [NAMESPACE_CAPABILITY, FxCapability.PROMETHEUS_OPERATOR_CRDS]);

    this.dashboards = this.apply('GrafanaDashboards', [
      this.dashboardConfigMap('fx-dashboard-traefik', { 'fx-traefik.json': JSON.stringify(traefikDashboard()) }),
      this.dashboardConfigMap('fx-dashboard-rds', { 'fx-rds.json': JSON.stringify(rdsDashboard()) }),
    ], [NAMESPACE_CAPABILITY]);

    if (this.grafanaHost) {
      // The allowlist middleware travels in the route's manifest: the route never exists without it.
      this.route = this.apply('GrafanaRoute', [
        adminAllowlistMiddleware(cluster, ns, COMPONENT, o.adminAccess),
        this.ingressRoute(this.grafanaHost),
      ], [NAMESPACE_CAPABILITY, FxCapability.TRAEFIK_CRDS]);
      declareFlow(this.route, { from: TRAEFIK_PODS, to: { namespace: ns, serviceAccount: GRAFANA_SERVICE_ACCOUNT }, port: 3000, protocol: 'TCP', reason: 'Traefik routes the Grafana host (Service port 80 → container port 3000)', expect: 'allow' });
      // The shared middlewares (secure headers) must exist before a route references them.
      this.route.node.addDependency(this.chart);
      cluster.installAfter(this.route, FxCapability.TRAEFIK_MIDDLEWARES);
    }
  }

  /** The RED dashboard ConfigMap of one service, in the service's namespace (the sidecar searches all namespaces). */
  public serviceDashboardConfigMap(namespace: string, serviceName: string): KubeConfigMapManifest {
    const cm = this.dashboardConfigMap(`${serviceName}-dashboard`, {
      [`${namespace}--${serviceName}.json`]: JSON.stringify(serviceDashboard(namespace, serviceName)),
    });
    return { ...cm, metadata: { ...cm.metadata, namespace } };
  }

  private apply(id: string, objects: KubeObject[], needs: string[] = []): eks.KubernetesManifest {
    return this.o.cluster.addManifestWithOptions(id, { scope: this.o.scope, needs }, ...objects);
  }

  private externalSecrets(store: { readonly kind: string; readonly name: string }): KubeExternalSecretManifest[] {
    const o = this.o;
    const secretKey = (secret: secretsmanager.ISecret): string => secret.secretFullArn ?? secret.secretName;
    type Data = NonNullable<NonNullable<ExternalSecretProps['spec']>['data']>;
    const externalSecret = (name: string, data: Data): KubeExternalSecretManifest => KubeExternalSecret.manifest({
      metadata: { name, namespace: WIRING.monitoring.namespace, labels: this.labels },
      spec: {
        refreshInterval: '1h',
        secretStoreRef: store,
        target: { name, creationPolicy: 'Owner', deletionPolicy: 'Retain' },
        data,
      },
    });
    const admin = secretKey(o.grafanaAdminSecret);
    const receivers: Data = [
      ...(o.slackWebhook ? [{ secretKey: SLACK_KEY, remoteRef: { key: secretKey(o.slackWebhook) } }] : []),
      ...(o.pagerDutyKey ? [{ secretKey: PAGERDUTY_KEY, remoteRef: { key: secretKey(o.pagerDutyKey) } }] : []),
    ];
    return [
      externalSecret(GRAFANA_ADMIN_SECRET, [
        { secretKey: 'admin-user', remoteRef: { key: admin, property: 'username' } },
        { secretKey: 'admin-password', remoteRef: { key: admin, property: 'password' } },
      ]),
      ...(receivers.length > 0 ? [externalSecret(RECEIVERS_SECRET, receivers)] : []),
    ];
  }

  private chartValues(): Json {
    const o = this.o;
    const cluster = o.cluster;
    const settings = cluster.profile.settings;
    const stack = Stack.of(cluster);
    const gp3 = (size: string) => ({
      volumeClaimTemplate: {
        spec: { storageClassName: 'gp3', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } } },
      },
    });
    const receiversMounted = o.slackWebhook !== undefined || o.pagerDutyKey !== undefined;
    const https = cluster.domainName !== undefined;
    return {
      'commonLabels': chartLabels(this.o.cluster.platformName, COMPONENT),
      'crds': { enabled: true },
      // EKS runs the control plane: its etcd, scheduler and controller-manager cannot be scraped,
      // and kube-proxy binds its metrics to localhost.
      'kubeEtcd': { enabled: false },
      'kubeScheduler': { enabled: false },
      'kubeControllerManager': { enabled: false },
      'kubeProxy': { enabled: false },
      'defaultRules': {
        create: true,
        rules: { etcd: false, kubeSchedulerAlerting: false, kubeSchedulerRecording: false, kubeControllerManager: false, kubeProxy: false },
      },
      'prometheus': {
        prometheusSpec: {
          replicas: settings.prometheusReplicas,
          retention: o.retention,
          // Prometheus deletes the oldest blocks before the volume fills up.
          // 85% of the volume; for a deploy-time size, as many GB (10^9) as the volume has GiB (2^30): 93%.
          retentionSize: Token.isUnresolved(o.prometheusStorageGiB) ? `${o.prometheusStorageGiB}GB` : `${Math.floor(o.prometheusStorageGiB * 0.85)}GB`,
          storageSpec: gp3(`${o.prometheusStorageGiB}Gi`),
          // Select ServiceMonitors, PodMonitors, Probes, ScrapeConfigs and rules of every namespace, not only the chart's.
          serviceMonitorSelectorNilUsesHelmValues: false,
          podMonitorSelectorNilUsesHelmValues: false,
          ruleSelectorNilUsesHelmValues: false,
          probeSelectorNilUsesHelmValues: false,
          scrapeConfigSelectorNilUsesHelmValues: false,
          resources: {
            requests: { cpu: settings.prometheusCpuRequest, memory: settings.prometheusMemoryRequest },
            limits: { memory: settings.prometheusMemoryLimit },
          },
        },
      },
      // Every container the chart renders gets requests (the scheduler and the quota count them).
      'prometheusOperator': {
        resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '512Mi' } },
        // The admission webhook certificate jobs (create and patch) share these.
        admissionWebhooks: { patch: { resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } } } },
      },
      'prometheus-node-exporter': { resources: { requests: { cpu: '20m', memory: '32Mi' }, limits: { memory: '128Mi' } } },
      'kube-state-metrics': { resources: { requests: { cpu: '20m', memory: '128Mi' }, limits: { memory: '512Mi' } } },
      'alertmanager': {
        serviceAccount: { create: false, name: ALERTMANAGER_SERVICE_ACCOUNT },
        config: alertmanagerConfig({
          topicArn: o.alarmTopic.topicArn,
          region: stack.region,
          platformName: cluster.platformName,
          slack: o.slackWebhook !== undefined,
          pagerDuty: o.pagerDutyKey !== undefined,
        }),
        alertmanagerSpec: {
          replicas: settings.alertmanagerReplicas,
          storage: gp3('5Gi'),
          secrets: receiversMounted ? [RECEIVERS_SECRET] : [],
          resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '256Mi' } },
        },
      },
      'grafana': {
        'enabled': true,
        'defaultDashboardsEnabled': true,
        'serviceAccount': { create: false, name: GRAFANA_SERVICE_ACCOUNT },
        'admin': { existingSecret: GRAFANA_ADMIN_SECRET, userKey: 'admin-user', passwordKey: 'admin-password' },
        'persistence': { enabled: true, type: 'pvc', storageClassName: 'gp3', accessModes: ['ReadWriteOnce'], size: `${o.grafanaStorageGiB}Gi` },
        // One ReadWriteOnce volume: the old pod must release it before the new one starts.
        'deploymentStrategy': { type: 'Recreate' },
        // The volume's group ownership comes from fsGroup; the root init container is not needed.
        'initChownData': { enabled: false },
        'resources': { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '512Mi' } },
        'sidecar': {
          dashboards: { enabled: true, label: DASHBOARD_LABEL, labelValue: '1', searchNamespace: 'ALL' },
          // Both sidecars (dashboards, datasources) watch ConfigMaps: small, but scheduled for.
          resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '128Mi' } },
        },
        'additionalDataSources': [{
          name: 'CloudWatch',
          uid: CLOUDWATCH_UID,
          type: 'cloudwatch',
          access: 'proxy',
          editable: false,
          // 'default' is the AWS SDK chain: the Pod Identity credentials of the fx-grafana account.
          jsonData: { authType: 'default', defaultRegion: stack.region },
        }],
        'grafana.ini': {
          'server': this.grafanaHost ? { domain: this.grafanaHost, root_url: `${https ? 'https' : 'http'}://${this.grafanaHost}` } : {},
          'analytics': { check_for_updates: false, reporting_enabled: false },
          'users': { allow_sign_up: false, allow_org_create: false },
          'auth.anonymous': { enabled: false },
          'auth': { disable_login_form: false },
          'security': { cookie_secure: https, disable_gravatar: true },
        },
      },
    };
  }

  private dashboardConfigMap(name: string, data: Record<string, string>): KubeConfigMapManifest {
    return KubeConfigMap.manifest({
      metadata: { name, namespace: WIRING.monitoring.namespace, labels: { ...this.labels, [DASHBOARD_LABEL]: '1' } },
      data,
    });
  }

  private ingressRoute(host: string): KubeIngressRouteManifest {
    const cluster = this.o.cluster;
    const traefik = WIRING.traefik;
    return KubeIngressRoute.manifest({
      metadata: { name: 'grafana', namespace: WIRING.monitoring.namespace, labels: this.labels },
      spec: {
        entryPoints: [cluster.tlsTerminatedByTraefik ? traefik.websecureEntryPoint : traefik.webEntryPoint],
        routes: [{
          kind: 'Rule',
          match: `Host(\`${host}\`)`,
          // The allowlist first: a refused client gets 403 before anything else runs.
          middlewares: [
            { name: ADMIN_ALLOWLIST_MIDDLEWARE, namespace: WIRING.monitoring.namespace },
            { name: traefik.middlewares.secureHeaders, namespace: traefik.namespace },
          ],
          services: [{ name: GRAFANA_SERVICE, port: 80 }],
        }],
        // Let's Encrypt path: Traefik's default TLS store holds the wildcard certificate and the
        // default TLSOption applies; on the ACM path the ALB terminates TLS.
        ...(cluster.tlsTerminatedByTraefik ? { tls: {} } : {}),
      },
    });
  }
}

/**
 * Grafana's CloudWatch datasource, read only: metrics, alarms, Logs Insights queries on this
 * account's log groups, and the EC2/tag lookups its query editor uses. Actions without resource-level
 * permissions need '*'.
 */
function grantCloudWatchRead(account: eks.ServiceAccount, stack: Stack): void {
  account.addToPrincipalPolicy(new iam.PolicyStatement({
    sid: 'ReadMetricsAndAlarms',
    actions: [
      'cloudwatch:DescribeAlarmsForMetric', 'cloudwatch:DescribeAlarmHistory', 'cloudwatch:DescribeAlarms',
      'cloudwatch:ListMetrics', 'cloudwatch:GetMetricData', 'cloudwatch:GetInsightRuleReport',
      'ec2:DescribeTags', 'ec2:DescribeInstances', 'ec2:DescribeRegions', 'tag:GetResources',
      'logs:DescribeLogGroups', 'logs:StopQuery', 'logs:GetQueryResults',
    ],
    resources: ['*'],
  }));
  account.addToPrincipalPolicy(new iam.PolicyStatement({
    sid: 'QueryLogs',
    actions: ['logs:GetLogGroupFields', 'logs:StartQuery', 'logs:GetLogEvents'],
    resources: [stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
  }));
}
