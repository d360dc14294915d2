import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ELASTIC_POD, ES_SELECTOR, HARDENED, Json, KIBANA_SELECTOR, ZONE_LABEL, elkMeta } from './common';
import { ELK, fluentBitConfig } from './config';
import { ADMIN_ALLOWLIST_MIDDLEWARE, AdminAccess, adminAllowlistMiddleware } from '../admin-access';
import { declareElkFlows, elkNetworkPolicies } from './network-policies';
import { elkSetupJob } from './setup-job';
import { createSnapshotBucket, createSnapshotIdentity } from './snapshots';
import type { IFxCluster } from '../../cluster';
import { platformSecretStore } from '../../cluster/addons/external-secrets';
import { FxCapability } from '../../core/install-order';
import { chartLabels, platformLabels } from '../../core/tags';
import { WIRING } from '../../core/wiring';
import { KubeNamespace, KubeNamespaceManifest, KubeNetworkPolicyManifest, KubeObject, KubeSecret, KubeSecretManifest, KubeServiceAccount, ObjectMeta } from '../../k8s/api.generated';
import {
  KubeElasticsearch, KubeElasticsearchManifest, KubeExternalSecret, KubeExternalSecretManifest, KubeIngressRoute, KubeIngressRouteManifest,
  KubeKibana, KubeKibanaManifest,
} from '../../k8s/crds.generated';

const COMPONENT = 'elk';
const LOGGING_NS = FxCapability.namespace(ELK.namespace);
const OPERATOR_NS = FxCapability.namespace(ELK.operatorNamespace);
const ELASTIC_CRDS = FxCapability.ELASTIC_CRDS;

/** Everything ElkStack needs, defaults resolved and validated. @internal */
export interface ElkStackOptions {
  readonly cluster: IFxCluster;
  readonly nodes: number;
  readonly storageGiB: number;
  readonly retentionDays: number;
  readonly snapshotRetentionDays: number;
  readonly kibanaReplicas: number;
  /** Container Insights log groups (application, host, dataplane, performance) Fluent Bit writes to. */
  readonly logGroups: logs.ILogGroup[];
  /** Who may reach Kibana's route (the `fx-admin-allowlist` middleware of the `logging` namespace). */
  readonly adminAccess: AdminAccess;
}

/**
 * Log search on ECK, in install order:
 *
 * 1. namespaces `elastic-system` (operator) and `logging` (Elasticsearch, Kibana, Fluent Bit, setup
 *    Job) and the `logging` NetworkPolicies;
 * 2. the ECK operator chart (`wait`, provides the `k8s.elastic.co` CRDs; needs the storage classes);
 * 3. the log shipper's Elasticsearch user (Secrets Manager → ExternalSecret → ECK file realm) and the
 *    IRSA service account of the Elasticsearch pods (snapshot repository);
 * 4. Elasticsearch and Kibana (one manifest; needs the CRDs);
 * 5. Fluent Bit (the only node agent for container logs: CloudWatch Logs and Elasticsearch);
 * 6. the setup Job (lifecycle and snapshot policies, index templates, the operator dashboard);
 * 7. the Kibana IngressRoute when the cluster has a domain.
 *
 * @internal
 */
export class ElkStack {
  public readonly namespace: eks.KubernetesManifest;
  public readonly networkPolicies: eks.KubernetesManifest;
  public readonly networkPolicyObjects: KubeNetworkPolicyManifest[];
  public readonly operator: eks.HelmChart;
  public readonly operatorValues: Json;
  public readonly snapshotKey: kms.Key;
  public readonly snapshotBucket: s3.Bucket;
  public readonly elasticsearchRole: iam.Role;
  public readonly shipperSecret: secretsmanager.Secret;
  /** The role of the logging namespace's SecretStore: reads the shipper's secret only. */
  public readonly secretStoreRole: iam.Role;
  public readonly secrets: eks.KubernetesManifest;
  public readonly elasticsearchObject: KubeElasticsearchManifest;
  public readonly kibanaObject: KubeKibanaManifest;
  public readonly elasticsearch: eks.KubernetesManifest;
  public readonly fluentBitServiceAccount: eks.ServiceAccount;
  public readonly fluentBitValues: Json;
  public readonly fluentBit: eks.HelmChart;
  public readonly setupObjects: KubeObject[];
  public readonly setup: eks.KubernetesManifest;
  public readonly kibanaHost?: string;
  public readonly route?: eks.KubernetesManifest;

  private readonly labels: Record<string, string>;

  constructor(private readonly scope: Construct, private readonly o: ElkStackOptions) {
    const cluster = o.cluster;
    this.labels = platformLabels(cluster.platformName, COMPONENT);

    // Fluent Bit reads the node's logs through hostPath volumes, which no Pod Security level but
    // 'privileged' admits; it must share the namespace with Elasticsearch to mount the CA and its
    // credentials (ECK rotates the CA). audit/warn still report any other pod below 'restricted'.
    this.namespace = this.apply('ElkNamespaces', [
      this.namespaceObject(ELK.operatorNamespace, 'restricted'),
      this.namespaceObject(ELK.namespace, 'privileged'),
    ]);
    cluster.registerProvider(this.namespace, LOGGING_NS, OPERATOR_NS);
    this.networkPolicyObjects = elkNetworkPolicies(this.labels);
    this.networkPolicies = this.apply('ElkNetworkPolicies', this.networkPolicyObjects, [LOGGING_NS]);
    declareElkFlows(this.networkPolicies, cluster.domainName !== undefined);

    this.operatorValues = {
      managedNamespaces: [ELK.namespace],
      installCRDs: true,
      replicaCount: 1,
      resources: { requests: { cpu: '100m', memory: '200Mi' }, limits: { memory: '1Gi' } },
      podSecurityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      securityContext: HARDENED,
      podLabels: chartLabels(cluster.platformName, COMPONENT),
      config: { exposedNodeLabels: [`${ZONE_LABEL.replace(/\./g, '\\.')}`], setDefaultSecurityContext: 'true' },
      telemetry: { disabled: true },
    };
    this.operator = cluster.addHelmChart('EckOperator', {
      scope,
      chart: cluster.versions.charts.eckOperator,
      namespace: ELK.operatorNamespace,
      release: 'elastic-operator',
      createNamespace: false,
      values: this.operatorValues,
      wait: true,
      timeout: Duration.minutes(10),
      needs: [OPERATOR_NS, FxCapability.STORAGE_CLASSES],
      provides: [ELASTIC_CRDS],
    });

    ({ key: this.snapshotKey, bucket: this.snapshotBucket } = createSnapshotBucket(scope, cluster));
    this.elasticsearchRole = createSnapshotIdentity(scope, cluster, this.snapshotKey, this.snapshotBucket);

    // No fixed name (a retained, named secret left by a rolled-back first create blocks every retry);
    // External Secrets reads it by ARN; the removal policy is the profile's.
    this.shipperSecret = new secretsmanager.Secret(scope, 'LogShipperSecret', {
      description: `Fx platform ${cluster.platformName}: Elasticsearch password of the Fluent Bit log shipper`,
      generateSecretString: { passwordLength: 32, excludePunctuation: true },
      removalPolicy: cluster.profile.settings.removalPolicy,
    });
    Validations.of(this.shipperSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'ECK reloads the file-realm user when External Secrets syncs a new value, but Fluent Bit reads the password from its '
        + 'environment at start: rotate by updating the secret and restarting the fluent-bit DaemonSet (README, ELK section).',
    });
    // The logging namespace's own SecretStore, whose role reads only the shipper's secret.
    const store = platformSecretStore(scope, 'LoggingSecretStoreRole', cluster, ELK.namespace, [this.shipperSecret], this.labels);
    this.secretStoreRole = store.role;
    this.secrets = this.apply('ElkSecrets', [...store.objects, this.shipperUserExternalSecret(store.storeRef), this.rolesSecret()],
      [LOGGING_NS, FxCapability.EXTERNAL_SECRETS_CRDS, FxCapability.EXTERNAL_SECRETS_WEBHOOK]);
    this.secrets.node.addDependency(store.role);

    this.elasticsearchObject = this.elasticsearchSpec();
    this.kibanaHost = cluster.domainName ? `kibana.${cluster.domainName}` : undefined;
    this.kibanaObject = this.kibanaSpec();
    const serviceAccount = KubeServiceAccount.manifest({
      metadata: { ...this.meta(ELK.esServiceAccount), annotations: { 'eks.amazonaws.com/role-arn': this.elasticsearchRole.roleArn } },
      automountServiceAccountToken: false,
    });
    this.elasticsearch = this.apply('Elasticsearch', [serviceAccount, this.elasticsearchObject, this.kibanaObject], [LOGGING_NS, ELASTIC_CRDS]);
    this.elasticsearch.node.addDependency(this.secrets, this.elasticsearchRole);

    this.fluentBitServiceAccount = cluster.addPodIdentityServiceAccount('FluentBitServiceAccount', {
      name: ELK.fluentBitServiceAccount, namespace: ELK.namespace, needs: [LOGGING_NS], scope,
    });
    for (const group of o.logGroups) group.grantWrite(this.fluentBitServiceAccount);
    this.fluentBitValues = this.fluentBitChartValues();
    this.fluentBit = cluster.addHelmChart('FluentBit', {
      scope,
      chart: cluster.versions.charts.fluentBit,
      namespace: ELK.namespace,
      release: ELK.fluentBitRelease,
      createNamespace: false,
      values: this.fluentBitValues,
      wait: true,
      needs: [LOGGING_NS, FxCapability.POD_IDENTITY, FxCapability.PROMETHEUS_OPERATOR_CRDS],
    });
    // The CA Secret exists once ECK has reconciled Elasticsearch; the user Secret once it is synced.
    this.fluentBit.node.addDependency(this.fluentBitServiceAccount, this.elasticsearch);

    this.setupObjects = elkSetupJob({
      cluster,
      labels: this.labels,
      nodes: o.nodes,
      retentionDays: o.retentionDays,
      snapshotRetentionDays: o.snapshotRetentionDays,
      snapshotBucketName: this.snapshotBucket.bucketName,
    });
    this.setup = this.apply('ElasticsearchSetup', this.setupObjects, [LOGGING_NS]);
    this.setup.node.addDependency(this.elasticsearch);

    if (this.kibanaHost) {
      this.route = this.apply('KibanaRoute', [
        adminAllowlistMiddleware(cluster, ELK.namespace, COMPONENT, o.adminAccess),
        this.ingressRoute(this.kibanaHost),
      ], [LOGGING_NS, FxCapability.TRAEFIK_CRDS]);
      cluster.installAfter(this.route, FxCapability.TRAEFIK_MIDDLEWARES);
    }
  }

  private apply(id: string, objects: KubeObject[], needs: string[] = []): eks.KubernetesManifest {
    return this.o.cluster.addManifestWithOptions(id, { scope: this.scope, needs }, ...objects);
  }

  private meta(name: string, extra: Record<string, string> = {}): ObjectMeta {
    return elkMeta(this.labels, name, extra);
  }

  private namespaceObject(name: string, enforce: string): KubeNamespaceManifest {
    return KubeNamespace.manifest({
      metadata: {
        name,
        labels: {
          ...this.labels,
          'pod-security.kubernetes.io/enforce': enforce,
          'pod-security.kubernetes.io/audit': 'restricted',
          'pod-security.kubernetes.io/warn': 'restricted',
        },
      },
    });
  }

  private shipperUserExternalSecret(store: { readonly kind: string; readonly name: string }): KubeExternalSecretManifest {
    return KubeExternalSecret.manifest({
      metadata: this.meta(ELK.shipperUserSecret),
      spec: {
        refreshInterval: '1h',
        secretStoreRef: store,
        target: {
          name: ELK.shipperUserSecret,
          creationPolicy: 'Owner',
          deletionPolicy: 'Retain',
          // An ECK file-realm user: kubernetes.io/basic-auth with the role it gets.
          template: {
            type: 'kubernetes.io/basic-auth',
            engineVersion: 'v2',
            data: { username: ELK.shipperUser, password: '{{ .password }}', roles: ELK.shipperRole },
          },
        },
        data: [{ secretKey: 'password', remoteRef: { key: this.shipperSecret.secretArn } }],
      },
    });
  }

  /** The shipper may only create documents in the log data streams (and create those streams). */
  private rolesSecret(): KubeSecretManifest {
    const roles = [
      `${ELK.shipperRole}:`,
      '  cluster: ["monitor"]',
      '  indices:',
      '    - names: ["fx-logs-*"]',
      '      privileges: ["create_doc", "auto_configure"]',
      '',
    ].join('\n');
    return KubeSecret.manifest({ metadata: this.meta(ELK.rolesSecret), type: 'Opaque', stringData: { 'roles.yml': roles } });
  }

  private elasticsearchSpec(): KubeElasticsearchManifest {
    const o = this.o;
    const image = o.cluster.versions.images.elasticsearch;
    const profile = o.cluster.profile.settings;
    const heap = profile.elasticsearchHeap;
    const memory = profile.elasticsearchMemory;
    const tokenDir = `${ELK.esConfigDir}/repository-s3`;
    const multiNode = o.nodes > 1;
    return KubeElasticsearch.manifest({
      metadata: this.meta(ELK.name),
      spec: {
        version: image.tag,
        image: `${image.repository}:${image.tag}`,
        // TLS on HTTP with ECK's self-signed CA (rotated by ECK); clients mount fx-es-http-certs-public.
        http: { tls: { selfSignedCertificate: { disabled: false } } },
        auth: { fileRealm: [{ secretName: ELK.shipperUserSecret }], roles: [{ secretName: ELK.rolesSecret }] },
        podDisruptionBudget: { spec: { maxUnavailable: 1, selector: { matchLabels: ES_SELECTOR } } },
        updateStrategy: { changeBudget: { maxUnavailable: 1 } },
        // PersistentVolumeClaims outlive the Elasticsearch resource: data is never deleted with it.
        volumeClaimDeletePolicy: 'DeleteOnScaledownOnly',
        nodeSets: [{
          name: 'default',
          count: o.nodes,
          config: {
            // No mmap: the vm.max_map_count sysctl (a privileged init container) is not needed.
            'node.store.allow_mmap': false,
            // ECK copies the node's zone label to a pod annotation; the downward API hands it to the node.
            'node.attr.zone': '${ZONE}',
            ...(multiNode ? { 'cluster.routing.allocation.awareness.attributes': 'k8s_node_name,zone' } : {}),
          },
          podTemplate: {
            metadata: { labels: this.labels, annotations: { 'eck.k8s.elastic.co/downward-node-labels': ZONE_LABEL } },
            spec: {
              serviceAccountName: ELK.esServiceAccount,
              automountServiceAccountToken: false,
              securityContext: ELASTIC_POD,
              containers: [{
                name: 'elasticsearch',
                env: [
                  { name: 'ES_JAVA_OPTS', value: `-Xms${heap} -Xmx${heap}` },
                  { name: 'ZONE', valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${ZONE_LABEL}']` } } },
                  // IRSA for the snapshot repository, read from the one path the S3 client is entitled to.
                  { name: 'AWS_ROLE_ARN', value: this.elasticsearchRole.roleArn },
                  { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: `${tokenDir}/aws-web-identity-token-file` },
                  { name: 'AWS_REGION', value: Stack.of(o.cluster).region },
                ],
                resources: {
                  requests: { cpu: profile.elasticsearchCpuRequest, memory },
                  limits: { memory },
                },
                securityContext: HARDENED,
                volumeMounts: [{ name: 'aws-snapshot-token', mountPath: tokenDir, readOnly: true }],
              }],
              volumes: [{
                name: 'aws-snapshot-token',
                projected: { sources: [{ serviceAccountToken: { audience: 'sts.amazonaws.com', expirationSeconds: 86400, path: 'aws-web-identity-token-file' } }] },
              }],
              topologySpreadConstraints: multiNode ? [{
                maxSkew: 1,
                topologyKey: ZONE_LABEL,
                whenUnsatisfiable: profile.strictZoneSpread ? 'DoNotSchedule' : 'ScheduleAnyway',
                labelSelector: { matchLabels: ES_SELECTOR },
              }] : [],
            },
          },
          volumeClaimTemplates: [{
            metadata: { name: 'elasticsearch-data' },
            spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'gp3', resources: { requests: { storage: `${o.storageGiB}Gi` } } },
          }],
        }],
      },
    });
  }

  private kibanaSpec(): KubeKibanaManifest {
    const image = this.o.cluster.versions.images.kibana;
    const https = this.o.cluster.domainName !== undefined;
    return KubeKibana.manifest({
      metadata: this.meta(ELK.name),
      spec: {
        version: image.tag,
        image: `${image.repository}:${image.tag}`,
        count: this.o.kibanaReplicas,
        elasticsearchRef: { name: ELK.name },
        // TLS ends at the load balancer or Traefik, like every platform route; Kibana only admits Traefik (NetworkPolicy).
        http: { tls: { selfSignedCertificate: { disabled: true } } },
        config: {
          'telemetry.optIn': false,
          'telemetry.allowChangingOptInStatus': false,
          ...(this.kibanaHost ? { 'server.publicBaseUrl': `${https ? 'https' : 'http'}://${this.kibanaHost}` } : {}),
        },
        podTemplate: {
          metadata: { labels: this.labels },
          spec: {
            automountServiceAccountToken: false,
            securityContext: ELASTIC_POD,
            containers: [{
              name: 'kibana',
              env: [{ name: 'NODE_OPTIONS', value: '--max-old-space-size=800' }],
              resources: { requests: { cpu: this.o.cluster.profile.settings.kibanaCpuRequest, memory: '1Gi' }, limits: { memory: '1Gi' } },
              securityContext: { ...HARDENED, readOnlyRootFilesystem: false },
            }],
            topologySpreadConstraints: this.o.kibanaReplicas > 1 ? [{
              maxSkew: 1,
              topologyKey: ZONE_LABEL,
              whenUnsatisfiable: 'ScheduleAnyway',
              labelSelector: { matchLabels: KIBANA_SELECTOR },
            }] : [],
          },
        },
      },
    });
  }

  private fluentBitChartValues(): Json {
    const stack = Stack.of(this.o.cluster);
    const hostPath = (name: string, path: string, type?: string): Json => ({ name, hostPath: { path, ...(type ? { type } : {}) } });
    return {
      fullnameOverride: ELK.fluentBitRelease,
      testFramework: { enabled: false },
      serviceAccount: { create: false, name: ELK.fluentBitServiceAccount },
      rbac: { create: true },
      labels: chartLabels(this.o.cluster.platformName, COMPONENT),
      podLabels: chartLabels(this.o.cluster.platformName, COMPONENT),
      priorityClassName: 'system-node-critical',
      // Every node, whatever its taints: logs of every pod are shipped.
      tolerations: [{ operator: 'Exists' }],
      // Root without any capability: container log files are root-owned 0640; nothing else is allowed.
      podSecurityContext: { seccompProfile: { type: 'RuntimeDefault' } },
      securityContext: { ...HARDENED, runAsNonRoot: false, runAsUser: 0 },
      resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
      env: [
        { name: 'ES_USER', valueFrom: { secretKeyRef: { name: ELK.shipperUserSecret, key: 'username' } } },
        { name: 'ES_PASSWORD', valueFrom: { secretKeyRef: { name: ELK.shipperUserSecret, key: 'password' } } },
        { name: 'HOST_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        { name: 'AWS_REGION', value: stack.region },
      ],
      daemonSetVolumes: [
        hostPath('varlog', '/var/log'),
        hostPath('state', '/var/fluent-bit/state', 'DirectoryOrCreate'),
        hostPath('etcmachineid', '/etc/machine-id', 'File'),
      ],
      daemonSetVolumeMounts: [
        { name: 'varlog', mountPath: '/var/log', readOnly: true },
        { name: 'state', mountPath: '/var/fluent-bit/state' },
        { name: 'etcmachineid', mountPath: '/etc/machine-id', readOnly: true },
      ],
      extraVolumes: [{ name: 'elasticsearch-ca', secret: { secretName: ELK.httpCaSecret, items: [{ key: 'ca.crt', path: 'ca.crt' }] } }],
      extraVolumeMounts: [{ name: 'elasticsearch-ca', mountPath: '/fluent-bit/etc/elasticsearch-ca', readOnly: true }],
      serviceMonitor: { enabled: true, interval: '60s' },
      config: fluentBitConfig({ region: stack.region, logGroupPrefix: `/aws/containerinsights/${this.o.cluster.cluster.clusterName}` }),
    };
  }

  private ingressRoute(host: string): KubeIngressRouteManifest {
    const cluster = this.o.cluster;
    const traefik = WIRING.traefik;
    return KubeIngressRoute.manifest({
      metadata: this.meta('kibana'),
      spec: {
        entryPoints: [cluster.tlsTerminatedByTraefik ? traefik.websecureEntryPoint : traefik.webEntryPoint],
        routes: [{
          kind: 'Rule',
          match: `Host(\`${host}\`)`,
          middlewares: [
            { name: ADMIN_ALLOWLIST_MIDDLEWARE, namespace: ELK.namespace },
            { name: traefik.middlewares.secureHeaders, namespace: traefik.namespace },
          ],
          services: [{ name: ELK.kibanaService, port: 5601 }],
        }],
        ...(cluster.tlsTerminatedByTraefik ? { tls: {} } : {}),
      },
    });
  }
}
