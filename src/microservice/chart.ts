import { Token } from 'aws-cdk-lib';
import * as cdk8s from 'cdk8s';
import { Construct } from 'constructs';
import { DATABASE_CREDENTIALS_DIR, ExternalSecretSpec, PodExtras } from './pod';
import { WorkloadChartSpec } from './workload-spec';
import { MICROSERVICE_TRACK_LABEL } from '../core/flows';
import { WIRING } from '../core/wiring';
import * as k8s from '../k8s/api.generated';
import * as crd from '../k8s/crds.generated';

/** The class of a built-in kind's cdk8s object. */
type KubeKind<P> = new (scope: Construct, id: string, props: P) => cdk8s.ApiObject;

/** Resolved, validated inputs of one service's Kubernetes objects (internal). */
export interface ServiceChartSpec {
  readonly name: string;
  readonly namespace: string;
  readonly createNamespace: boolean;
  readonly labels: Record<string, string>;
  readonly image: string;
  readonly imageVersion: string;
  /** The HTTP port (HTTP services only). */
  readonly port?: number;
  readonly metrics?: { readonly port: number; readonly path: string };
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly cpuTargetPercent: number;
  readonly memoryTargetPercent: number;
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
  readonly env: Record<string, string>;
  /** Kubernetes Secrets (synced by ExternalSecrets) whose keys become env vars. */
  readonly envFromSecrets: string[];
  /**
   * The database credentials Secret, also mounted as files at `DATABASE_CREDENTIALS_DIR` (the env vars
   * keep the values of pod start; the files follow rotations).
   */
  readonly databaseCredentialsSecret?: string;
  readonly externalSecrets: ExternalSecretSpec[];
  /** HTTP service, worker, scheduled or one-off job. */
  readonly workload: WorkloadChartSpec;
  /** Command, probes, security contexts, volumes, sidecars, init containers and placement. */
  readonly pod: PodExtras;
  readonly terminationGracePeriodSeconds: number;
  /** Tolerate the platform's spot taint and prefer spot nodes. */
  readonly spot: boolean;
  readonly serviceAccountName: string;
  /**
   * The namespace's own SecretStore and its service account (`secretStoreObjects`), present when
   * the service syncs any secret: every ExternalSecret of the service references it.
   */
  readonly secretStore?: { readonly name: string; readonly objects: k8s.KubeObject[] };
  readonly quota?: { readonly cpu: string; readonly memory: string; readonly pods: number };
  readonly egress: EgressSpec;
  readonly route?: RouteSpec;
  readonly monitoring?: MonitoringSpec;
  readonly migration?: MigrationSpec;
  readonly canary?: { readonly image: string; readonly weight: number };
  readonly tlsTerminatedByTraefik: boolean;
}


/** The env var naming `DATABASE_CREDENTIALS_DIR` in the container. */
export const DATABASE_CREDENTIALS_DIR_ENV = 'FX_DATABASE_CREDENTIALS_DIR';
/** File in `DATABASE_CREDENTIALS_DIR` -> key of the database Secret it holds. */
export const DATABASE_CREDENTIAL_FILES: Record<string, string> = {
  username: 'username',
  password: 'password',
  host: 'host',
  port: 'port',
  dbname: 'dbname',
  sslmode: 'PGSSLMODE',
  url: 'DATABASE_URL',
};
/** Name of the credentials volume (reserved: a user volume of this name or at this path would clash). */
export const DATABASE_CREDENTIALS_VOLUME = 'database-credentials';

export interface EgressSpec {
  readonly cidrs: Array<{ readonly cidr: string; readonly port?: number }>;
  /** Services this one calls (`dependsOn`): egress to their pods here, ingress on their side (see `calleeIngress`). */
  readonly services: Array<{ readonly namespace: string; readonly name: string; readonly port: number }>;
  /**
   * Subnets of the EKS control-plane ENIs, for the migration wait init container: the VPC CNI judges
   * `kubernetes.default` (a ClusterIP) after translation to those ENI addresses, on 443.
   */
  readonly apiServerCidrs: string[];
  /** The OTLP collector (when observability is given): its namespace, ports and node subnets. */
  readonly otlp?: OtlpEgressSpec;
}

/** Where the OTLP collector (the CloudWatch agent) is reached. */
export interface OtlpEgressSpec {
  readonly namespace: string;
  readonly ports: number[];
  /**
   * Subnets of the nodes: if the collector's DaemonSet runs on the host network, its Service
   * translates to node addresses, which no namespace selector matches.
   */
  readonly nodeCidrs: string[];
}

export interface RouteSpec {
  readonly hosts: string[];
  readonly pathPrefix: string;
  readonly stripPrefix: boolean;
  readonly rateLimit?: { readonly average: number; readonly burst: number };
  readonly ipAllowList: string[];
  readonly retryAttempts: number;
  readonly maxRequestBodyBytes: number;
  readonly circuitBreakerExpression?: string;
  readonly basicAuthSecret?: string;
  readonly forwardAuthAddress?: string;
}

export interface MonitoringSpec {
  /** The service's Grafana dashboard ConfigMap (from FxObservability). */
  readonly dashboard?: Record<string, any>;
  readonly errorRatioThreshold: number;
  readonly latencyP99Seconds: number;
  readonly otlpEndpoint?: string;
}

export interface MigrationSpec {
  /**
   * The image version naming the Job when it is only known at deploy time (a tag from a parameter):
   * a new tag is a new Job, never the immutable old one applied again.
   */
  readonly version?: string;
  readonly command: string[];
  readonly kubectlImage: string;
  readonly activeDeadlineSeconds: number;
}

const CONTAINER_SECURITY = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

/** Adds every Kubernetes object of one service to `chart`. */
export function addServiceObjects(chart: cdk8s.Chart, spec: ServiceChartSpec): void {
  new ServiceObjects(chart, spec).build();
}

class ServiceObjects {
  private readonly selector: Record<string, string>;
  private readonly ns: string;

  constructor(private readonly chart: cdk8s.Chart, private readonly spec: ServiceChartSpec) {
    this.selector = { 'app.kubernetes.io/name': spec.name, 'app.kubernetes.io/instance': spec.name };
    this.ns = spec.namespace;
  }

  public build(): void {
    if (this.spec.createNamespace) this.namespace();
    this.serviceAccount();
    this.secretStore();
    for (const es of this.spec.externalSecrets) this.externalSecret(es);
    this.podVolumeObjects();
    const kind = this.spec.workload.kind;
    if (kind === 'scheduled-job' || kind === 'job') {
      this.jobWorkload();
    } else {
      const migrationJob = this.spec.migration ? this.migrationJob(this.spec.migration) : undefined;
      this.deployment(this.spec.name, this.spec.image, this.spec.minReplicas, 'stable', migrationJob);
      if (kind === 'http-service') this.service(this.spec.name, 'stable');
      if (this.spec.pod.claimTemplates.length > 0) this.headlessService();
      if (this.spec.canary) {
        this.deployment(`${this.spec.name}-canary`, this.spec.canary.image, 1, 'canary', migrationJob);
        this.service(`${this.spec.name}-canary`, 'canary');
      }
      if (kind === 'http-service') this.autoscaler();
      // maxUnavailable 1 is safe for any count: a deploy-time replica count gets the budget too.
      if (Token.isUnresolved(this.spec.maxReplicas) || this.spec.maxReplicas >= 2) this.disruptionBudget();
    }
    this.networkPolicies();
    if (this.spec.route) this.route(this.spec.route);
    if (this.spec.monitoring && this.spec.metrics) {
      if (kind === 'http-service') this.monitoring(this.spec.monitoring, this.spec.metrics);
      else if (kind === 'worker') this.podMonitor(this.spec.metrics);
    }
    // Workers and jobs serve no traffic Traefik could measure: they are watched through kube-state-metrics.
    if (this.spec.monitoring && kind !== 'http-service') this.workloadAlerts();
  }

  /** Shared claims (EFS) and ConfigMaps of the pod's file volumes. */
  private podVolumeObjects(): void {
    for (const c of this.spec.pod.claims) {
      this.obj(`Claim-${c.name}`, k8s.KubePersistentVolumeClaim, this.meta(c.name), {
        spec: { accessModes: [c.accessMode], storageClassName: c.storageClassName, resources: { requests: { storage: c.size } } },
      });
    }
    for (const c of this.spec.pod.configMaps) this.obj(`ConfigMap-${c.name}`, k8s.KubeConfigMap, this.meta(c.name), { data: c.data });
  }

  /** The headless Service a StatefulSet names its pods through (`<pod>.<service>`): no ClusterIP, no track label. */
  private headlessService(): void {
    const ports = this.spec.port !== undefined ? [{ name: 'http', port: this.spec.port, targetPort: 'http', protocol: 'TCP' }] : [];
    this.obj('HeadlessService', k8s.KubeService, this.meta(`${this.spec.name}-headless`), {
      spec: { clusterIP: 'None', selector: { ...this.selector, [MICROSERVICE_TRACK_LABEL]: 'stable' }, ports, publishNotReadyAddresses: false },
    });
  }

  /**
   * The pod spec shared by every workload kind: hardened security contexts, the service container, native
   * sidecars before init containers, /tmp plus the pod's volumes, placement and topology spread.
   */
  private podSpec(image: string, labels: Record<string, string>, extraInit: k8s.Container[], forJob: boolean): k8s.PodSpec {
    const spec = this.spec;
    const initContainers = [...spec.pod.sidecars, ...spec.pod.initContainers, ...extraInit];
    const claimVolumes = new Set(spec.pod.claimTemplates.map((c) => c.name));
    return {
      serviceAccountName: spec.serviceAccountName,
      automountServiceAccountToken: extraInit.length > 0,
      terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds,
      securityContext: spec.pod.podSecurity,
      ...(forJob ? { restartPolicy: 'Never' } : {}),
      ...(initContainers.length > 0 ? { initContainers } : {}),
      containers: [this.container('app', image)],
      // gp3 claims come from the StatefulSet's volumeClaimTemplates, not from the pod's volumes.
      volumes: [
        { name: 'tmp', emptyDir: { sizeLimit: '256Mi' } },
        ...spec.pod.volumes.filter((v) => !claimVolumes.has(String(v.name))),
        ...this.databaseCredentialsVolumes(),
      ],
      ...spec.pod.placement,
      ...(forJob ? {} : {
        topologySpreadConstraints: [
          { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: labels } },
          { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: labels } },
        ],
      }),
    };
  }

  /** A CronJob, or a one-off Job named after its pod template (immutable: a change of template is a new Job). */
  private jobWorkload(): void {
    const spec = this.spec;
    const job = spec.workload.job!;
    const labels = { ...this.selector, 'app.kubernetes.io/component': spec.workload.kind };
    const template = {
      metadata: { labels: { ...spec.labels, ...labels }, annotations: { 'fx.platform/image-version': spec.imageVersion } },
      spec: this.podSpec(spec.image, labels, [], true),
    };
    const jobSpec = {
      backoffLimit: job.backoffLimit,
      ...(job.activeDeadlineSeconds !== undefined ? { activeDeadlineSeconds: job.activeDeadlineSeconds } : {}),
      ...(job.ttlSecondsAfterFinished !== undefined ? { ttlSecondsAfterFinished: job.ttlSecondsAfterFinished } : {}),
      template,
    };
    const cron = spec.workload.cron;
    if (cron) {
      this.obj('CronJob', k8s.KubeCronJob, this.meta(spec.name), {
        spec: {
          schedule: cron.schedule,
          ...(cron.timeZone !== undefined ? { timeZone: cron.timeZone } : {}),
          concurrencyPolicy: cron.concurrencyPolicy,
          ...(cron.startingDeadlineSeconds !== undefined ? { startingDeadlineSeconds: cron.startingDeadlineSeconds } : {}),
          successfulJobsHistoryLimit: cron.successfulJobsHistoryLimit,
          failedJobsHistoryLimit: cron.failedJobsHistoryLimit,
          suspend: cron.suspend,
          jobTemplate: { metadata: { labels: { ...spec.labels, ...labels } }, spec: jobSpec },
        },
      });
      return;
    }
    const name = spec.workload.jobName ? spec.workload.jobName(jobSpec) : spec.name;
    this.obj('Job', k8s.KubeJob, this.meta(name, { 'app.kubernetes.io/component': 'job' }), { spec: jobSpec });
  }

  /** Prometheus scrapes a worker's pods directly (it has no Service for a ServiceMonitor). */
  private podMonitor(metrics: { port: number; path: string }): void {
    this.obj('PodMonitor', crd.KubePodMonitor, this.meta(this.spec.name), {
      spec: {
        selector: { matchLabels: { ...this.selector, [MICROSERVICE_TRACK_LABEL]: 'stable' } },
        namespaceSelector: { matchNames: [this.ns] },
        podMetricsEndpoints: [{ port: 'metrics', path: metrics.path, interval: '30s', scrapeTimeout: '10s' }],
      },
    });
  }

  private meta(name: string, extra?: Record<string, string>): cdk8s.ApiObjectMetadata {
    return { name, namespace: this.ns, labels: { ...this.spec.labels, ...this.selector, ...extra } };
  }

  /** A Kubernetes object typed by the generated API (src/k8s: built-in kinds, and the custom resources of the pinned charts). */
  private obj<P extends { readonly metadata?: k8s.ObjectMeta }>(id: string, kind: KubeKind<P>, metadata: k8s.ObjectMeta,
    body: NoInfer<Omit<P, 'metadata'>>): cdk8s.ApiObject {
    return new kind(this.chart, id, { metadata, ...body } as P);
  }

  /** An object of a custom resource (its schema is checked against the chart's CRD by the tests and the conformance task). */
  private custom(id: string, apiVersion: string, kind: string, metadata: k8s.ObjectMeta, body: Record<string, unknown>): cdk8s.ApiObject {
    return new cdk8s.ApiObject(this.chart, id, { apiVersion, kind, metadata: metadata as cdk8s.ApiObjectMetadata, ...body });
  }

  private namespace(): void {
    this.obj('Namespace', k8s.KubeNamespace, {
      name: this.ns,
      labels: {
        ...this.spec.labels,
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/enforce-version': 'latest',
        'pod-security.kubernetes.io/audit': 'restricted',
        'pod-security.kubernetes.io/warn': 'restricted',
      },
    }, {});
    const quota = this.spec.quota;
    if (quota) {
      this.obj('Quota', k8s.KubeResourceQuota, { name: 'fx-quota', namespace: this.ns, labels: this.spec.labels }, {
        spec: {
          hard: {
            'requests.cpu': quota.cpu,
            'requests.memory': quota.memory,
            'limits.cpu': quota.cpu,
            'limits.memory': quota.memory,
            'pods': text(quota.pods),
          },
        },
      });
    }
    this.obj('LimitRange', k8s.KubeLimitRange, { name: 'fx-limits', namespace: this.ns, labels: this.spec.labels }, {
      spec: {
        limits: [{
          type: 'Container',
          default: { ...this.spec.limits },
          defaultRequest: { ...this.spec.requests },
        }],
      },
    });
  }

  private serviceAccount(): void {
    this.obj('ServiceAccount', k8s.KubeServiceAccount, this.meta(this.spec.serviceAccountName), { automountServiceAccountToken: !!this.spec.migration });
    if (this.spec.migration) {
      // The init container waits for the migration Job: it may read Jobs of its own namespace, nothing else.
      this.obj('MigrationReaderRole', k8s.KubeRole, this.meta(`${this.spec.name}-migration-reader`), {
        rules: [{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'watch'] }],
      });
      this.obj('MigrationReaderBinding', k8s.KubeRoleBinding, this.meta(`${this.spec.name}-migration-reader`), {
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `${this.spec.name}-migration-reader` },
        subjects: [{ kind: 'ServiceAccount', name: this.spec.serviceAccountName, namespace: this.ns }],
      });
    }
  }

  private secretStore(): void {
    for (const { apiVersion, kind, metadata, ...body } of this.spec.secretStore?.objects ?? []) {
      this.custom(`SecretStore${kind}`, apiVersion, kind, metadata ?? {}, body);
    }
  }

  private externalSecret(es: ExternalSecretSpec): void {
    const store = this.spec.secretStore;
    if (!store) throw new Error(`unreachable: ExternalSecret ${es.name} of ${this.ns}/${this.spec.name} without the namespace's SecretStore`);
    const target: Record<string, unknown> = { name: es.name, creationPolicy: 'Owner', deletionPolicy: 'Retain' };
    if (es.templates) {
      target.template = { engineVersion: 'v2', mergePolicy: 'Merge', data: es.templates };
    }
    this.obj(`ExternalSecret-${es.name}`, crd.KubeExternalSecret, this.meta(es.name), {
      spec: {
        refreshInterval: es.refreshInterval ?? '1h',
        secretStoreRef: { kind: 'SecretStore', name: store.name },
        target,
        ...(es.properties.length > 0
          ? { data: es.properties.map((p) => ({ secretKey: p, remoteRef: { key: es.remoteKey, property: p } })) }
          : { dataFrom: [{ extract: { key: es.remoteKey } }] }),
      },
    });
  }

  private container(name: string, image: string): k8s.Container {
    const spec = this.spec;
    const env = Object.entries(spec.env).map(([k, v]) => ({ name: k, value: v }));
    const ports = spec.port !== undefined ? [{ name: 'http', containerPort: spec.port, protocol: 'TCP' }] : [];
    if (spec.metrics && spec.metrics.port !== spec.port) ports.push({ name: 'metrics', containerPort: spec.metrics.port, protocol: 'TCP' });
    const probes = spec.pod.probes;
    return {
      name,
      image,
      imagePullPolicy: 'IfNotPresent',
      ...(spec.pod.command ? { command: spec.pod.command } : {}),
      ...(spec.pod.args ? { args: spec.pod.args } : {}),
      ...(ports.length > 0 ? { ports } : {}),
      env: [
        ...env,
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        ...(spec.databaseCredentialsSecret ? [{ name: DATABASE_CREDENTIALS_DIR_ENV, value: DATABASE_CREDENTIALS_DIR }] : []),
      ],
      envFrom: spec.envFromSecrets.map((s) => ({ secretRef: { name: s } })),
      resources: { requests: { ...spec.requests }, limits: { ...spec.limits } },
      ...(probes.startup ? { startupProbe: probes.startup } : {}),
      ...(probes.liveness ? { livenessProbe: probes.liveness } : {}),
      ...(probes.readiness ? { readinessProbe: probes.readiness } : {}),
      // Give the load balancer and Traefik time to stop sending traffic before the process gets SIGTERM.
      ...(spec.port !== undefined ? { lifecycle: { preStop: { sleep: { seconds: 5 } } } } : {}),
      securityContext: spec.pod.containerSecurity,
      volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }, ...spec.pod.volumeMounts, ...this.databaseCredentialsMounts()],
    };
  }

  /**
   * The database Secret as files, for credentials that change under a running pod (rotation): a whole
   * Secret volume (never subPath, which kubelet does not update), read-only, readable by the pod's fsGroup.
   */
  private databaseCredentialsVolumes(): k8s.Volume[] {
    const secretName = this.spec.databaseCredentialsSecret;
    if (!secretName) return [];
    const items = Object.entries(DATABASE_CREDENTIAL_FILES).map(([file, key]) => ({ key, path: file }));
    return [{ name: DATABASE_CREDENTIALS_VOLUME, secret: { secretName, items, defaultMode: 0o440 } }];
  }

  private databaseCredentialsMounts(): k8s.VolumeMount[] {
    return this.spec.databaseCredentialsSecret
      ? [{ name: DATABASE_CREDENTIALS_VOLUME, mountPath: DATABASE_CREDENTIALS_DIR, readOnly: true }]
      : [];
  }

  private migrationJob(migration: MigrationSpec): string {
    const jobName = `${this.spec.name}-migrate-${migration.version ?? this.spec.imageVersion}`;
    // The service container without what only a long-running server has: probes, ports, preStop, args.
    const { startupProbe: _s, livenessProbe: _l, readinessProbe: _r, lifecycle: _h, ports: _p, args: _a, ...container } = this.container('migrate', this.spec.image);
    // The Job has the pod's volumes but no per-replica gp3 claim.
    const volumes = [
      { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
      ...this.spec.pod.volumes.filter((v) => !this.spec.pod.claimTemplates.some((c) => c.name === v.name)),
      ...this.databaseCredentialsVolumes(),
    ];
    const volumeMounts = (container.volumeMounts ?? []).filter((m) => volumes.some((v) => v.name === m.name));
    this.obj('MigrationJob', k8s.KubeJob, this.meta(jobName, { 'app.kubernetes.io/component': 'migration' }), {
      spec: {
        backoffLimit: 3,
        activeDeadlineSeconds: migration.activeDeadlineSeconds,
        template: {
          metadata: { labels: { ...this.spec.labels, ...this.selector, 'app.kubernetes.io/component': 'migration' } },
          spec: {
            serviceAccountName: this.spec.serviceAccountName,
            restartPolicy: 'Never',
            securityContext: this.spec.pod.podSecurity,
            ...this.spec.pod.placement,
            containers: [{ ...container, command: migration.command, volumeMounts }],
            volumes,
          },
        },
      },
    });
    return jobName;
  }

  private deployment(name: string, image: string, replicas: number, track: string, migrationJob?: string): void {
    const spec = this.spec;
    const labels = { ...this.selector, [MICROSERVICE_TRACK_LABEL]: track };
    const initContainers = migrationJob && spec.migration ? [{
      name: 'wait-for-migration',
      image: spec.migration.kubectlImage,
      command: ['kubectl', 'wait', '--for=condition=complete', `job/${migrationJob}`, `--timeout=${text(spec.migration.activeDeadlineSeconds)}s`],
      // kubectl writes its discovery cache under $HOME: keep it on the writable /tmp volume.
      env: [{ name: 'HOME', value: '/tmp' }],
      volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
      resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '100m', memory: '64Mi' } },
      securityContext: CONTAINER_SECURITY,
    }] : [];
    const template = {
      metadata: {
        labels: { ...spec.labels, ...labels },
        annotations: { 'fx.platform/image-version': spec.imageVersion },
      },
      spec: this.podSpec(image, labels, initContainers, false),
    };
    const metadata = this.meta(name, { [MICROSERVICE_TRACK_LABEL]: track });
    const claims = spec.pod.claimTemplates;
    if (claims.length > 0) {
      // Per-replica gp3 volumes: a StatefulSet (pods <name>-0, -1... each keeping its claim) behind a headless Service.
      this.obj('StatefulSet', k8s.KubeStatefulSet, metadata, {
        spec: {
          replicas,
          revisionHistoryLimit: 5,
          serviceName: `${name}-headless`,
          selector: { matchLabels: labels },
          podManagementPolicy: 'Parallel',
          updateStrategy: { type: 'RollingUpdate' },
          persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
          template,
          volumeClaimTemplates: claims.map((c) => ({
            metadata: { name: c.name, labels: { ...spec.labels, ...this.selector } },
            spec: { accessModes: ['ReadWriteOnce'], storageClassName: c.storageClassName, resources: { requests: { storage: c.size } } },
          })),
        },
      });
      return;
    }
    this.obj(track === 'stable' ? 'Deployment' : 'CanaryDeployment', k8s.KubeDeployment, metadata, {
      spec: {
        replicas,
        revisionHistoryLimit: 5,
        selector: { matchLabels: labels },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } },
        template,
      },
    });
  }

  private service(name: string, track: string): void {
    const ports: k8s.ServicePort[] = [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }];
    if (this.spec.metrics && this.spec.metrics.port !== this.spec.port) {
      ports.push({ name: 'metrics', port: this.spec.metrics.port, targetPort: 'metrics', protocol: 'TCP' });
    }
    this.obj(track === 'stable' ? 'Service' : 'CanaryService', k8s.KubeService, this.meta(name, { [MICROSERVICE_TRACK_LABEL]: track }), {
      spec: { type: 'ClusterIP', selector: { ...this.selector, [MICROSERVICE_TRACK_LABEL]: track }, ports },
    });
  }

  private autoscaler(): void {
    this.obj('Autoscaler', k8s.KubeHorizontalPodAutoscaler, this.meta(this.spec.name), {
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: this.spec.pod.claimTemplates.length > 0 ? 'StatefulSet' : 'Deployment', name: this.spec.name },
        minReplicas: this.spec.minReplicas,
        maxReplicas: this.spec.maxReplicas,
        metrics: [
          { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: this.spec.cpuTargetPercent } } },
          { type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: this.spec.memoryTargetPercent } } },
        ],
        behavior: { scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }] } },
      },
    });
  }

  private disruptionBudget(): void {
    this.obj('DisruptionBudget', k8s.KubePodDisruptionBudget, this.meta(this.spec.name), {
      spec: {
        // With one replica (HPA at its minimum) maxUnavailable 1 still lets nodes drain.
        maxUnavailable: 1,
        selector: { matchLabels: { ...this.selector, [MICROSERVICE_TRACK_LABEL]: 'stable' } },
      },
    });
  }

  private networkPolicies(): void {
    const spec = this.spec;
    if (spec.createNamespace) {
      this.obj('DefaultDeny', k8s.KubeNetworkPolicy, { name: 'default-deny', namespace: this.ns, labels: spec.labels }, {
        spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
      });
    }
    // Default-deny ingress for workers and jobs: Traefik reaches HTTP services only, Prometheus a metrics port.
    const ingress: k8s.NetworkPolicyIngressRule[] = spec.port !== undefined ? [{
      from: [podsIn(WIRING.traefik.namespace, WIRING.traefik.podLabels)],
      ports: [{ protocol: 'TCP', port: spec.port }],
    }] : [];
    if (spec.metrics) {
      ingress.push({
        from: [podsIn(WIRING.monitoring.namespace, WIRING.monitoring.prometheusPodLabels)],
        ports: [{ protocol: 'TCP', port: spec.metrics.port }],
      });
    }
    this.obj('NetworkPolicy', k8s.KubeNetworkPolicy, this.meta(spec.name), {
      spec: { podSelector: { matchLabels: { 'app.kubernetes.io/name': spec.name } }, policyTypes: ['Ingress', 'Egress'], ingress, egress: staticEgressRules(spec.egress) },
    });
    spec.egress.services.forEach((callee, i) => this.calleeIngress(callee, i));
  }

  /**
   * Ingress on the callee's side of a `dependsOn`: the callee's chart is already serialised when its
   * callers are created (cdk8s charts serialise eagerly), so the caller's own manifest creates this
   * policy in the callee's namespace. Its manifest depends on the callee's (namespace first), and the
   * policy lives and dies with the caller: deleting the caller closes the path it opened.
   */
  private calleeIngress(callee: { namespace: string; name: string; port: number }, i: number): void {
    this.obj(`CalleeIngress${i}`, k8s.KubeNetworkPolicy, {
      name: `${callee.name}-from-${this.ns}-${this.spec.name}`,
      namespace: callee.namespace,
      labels: { ...this.spec.labels, ...this.selector },
    }, {
      spec: {
        podSelector: { matchLabels: { 'app.kubernetes.io/name': callee.name } },
        policyTypes: ['Ingress'],
        ingress: [{ from: [podsIn(this.ns, { 'app.kubernetes.io/name': this.spec.name })], ports: [{ protocol: 'TCP', port: callee.port }] }],
      },
    });
  }

  private middleware(id: string, name: string, body: NonNullable<crd.MiddlewareProps['spec']>): { name: string; namespace: string } {
    this.obj(`Middleware-${id}`, crd.KubeMiddleware, this.meta(name), { spec: body });
    return { name, namespace: this.ns };
  }

  private route(route: RouteSpec): void {
    const n = this.spec.name;
    const shared = WIRING.traefik;
    const middlewares: Array<{ name: string; namespace: string }> = [
      { name: shared.middlewares.secureHeaders, namespace: shared.namespace },
    ];
    // Both middlewares act on the real client address. ACM path: the ALB appends the client's address as
    // the last X-Forwarded-For entry (depth 1 from the right; entries further left are client-supplied and
    // untrusted). Let's Encrypt path: the NLB preserves the client IP, so the remote address is the client
    // (an empty ipStrategy selects it).
    const clientAddress = this.spec.tlsTerminatedByTraefik ? {} : { depth: 1 };
    // Oversized bodies are refused at the edge (413), before any pod parses them.
    middlewares.push(this.middleware('Buffering', `${n}-body-limit`, { buffering: { maxRequestBodyBytes: route.maxRequestBodyBytes } }));
    if (route.ipAllowList.length > 0) {
      middlewares.push(this.middleware('IpAllowList', `${n}-ip-allowlist`, {
        ipAllowList: { sourceRange: route.ipAllowList, ipStrategy: clientAddress },
      }));
    }
    if (route.rateLimit) {
      middlewares.push(this.middleware('RateLimit', `${n}-rate-limit`, {
        rateLimit: { average: route.rateLimit.average, burst: route.rateLimit.burst, period: '1s', sourceCriterion: { ipStrategy: clientAddress } },
      }));
    }
    if (route.basicAuthSecret) {
      middlewares.push(this.middleware('BasicAuth', `${n}-basic-auth`, { basicAuth: { secret: route.basicAuthSecret, removeHeader: true } }));
    }
    if (route.forwardAuthAddress) {
      middlewares.push(this.middleware('ForwardAuth', `${n}-forward-auth`, {
        forwardAuth: { address: route.forwardAuthAddress, trustForwardHeader: false, authResponseHeaders: ['X-Auth-User', 'X-Auth-Groups'] },
      }));
    }
    if (route.circuitBreakerExpression) {
      middlewares.push(this.middleware('CircuitBreaker', `${n}-circuit-breaker`, { circuitBreaker: { expression: route.circuitBreakerExpression } }));
    }
    if (Token.isUnresolved(route.retryAttempts) || route.retryAttempts > 0) {
      middlewares.push(this.middleware('Retry', `${n}-retry`, { retry: { attempts: route.retryAttempts, initialInterval: '100ms' } }));
    }
    if (route.stripPrefix && route.pathPrefix !== '/') {
      middlewares.push(this.middleware('StripPrefix', `${n}-strip-prefix`, { stripPrefix: { prefixes: [route.pathPrefix] } }));
    }
    const hosts = route.hosts.map((h) => `Host(\`${h}\`)`).join(' || ');
    const match = route.pathPrefix === '/' ? `(${hosts})` : `(${hosts}) && PathPrefix(\`${route.pathPrefix}\`)`;
    const canary = this.spec.canary;
    const services = canary
      ? [
        { name: n, port: 80, weight: 100 - canary.weight },
        { name: `${n}-canary`, port: 80, weight: canary.weight },
      ]
      : [{ name: n, port: 80 }];
    this.obj('IngressRoute', crd.KubeIngressRoute, this.meta(n), {
      spec: {
        entryPoints: [this.spec.tlsTerminatedByTraefik ? shared.websecureEntryPoint : shared.webEntryPoint],
        routes: [{ kind: 'Rule', match, middlewares, services }],
        ...(this.spec.tlsTerminatedByTraefik
          ? { tls: { options: { name: shared.tlsOption, namespace: shared.namespace } } }
          : {}),
      },
    });
  }

  /**
   * Alerts of a worker or a job from kube-state-metrics (part of the platform's Prometheus): a worker
   * with no available replica or restarting, a Job (of a CronJob, or one-off) that failed, a CronJob
   * that has not completed a run for three of its periods is left to the user (its period is a cron
   * expression). The rule lives in the workload's namespace, like an HTTP service's.
   */
  private workloadAlerts(): void {
    const n = this.spec.name;
    const ns = this.ns;
    const labels = (severity: string) => ({ severity, service: n });
    const stateful = this.spec.pod.claimTemplates.length > 0;
    // Pods of a Deployment are <name>-<template hash>-<suffix>, of a StatefulSet <name>-<ordinal>, of a Job <job>-<suffix>.
    const pods = stateful ? `${n}-[0-9]+` : `${n}-[a-z0-9]+-[a-z0-9]+`;
    const rules = this.spec.workload.kind === 'worker' ? [
      {
        alert: 'FxWorkerDown',
        expr: stateful
          ? `kube_statefulset_status_replicas_available{namespace="${ns}",statefulset="${n}"} < 1`
          : `kube_deployment_status_replicas_available{namespace="${ns}",deployment="${n}"} < 1`,
        for: '5m',
        labels: labels('critical'),
        annotations: { summary: `${n} has no available replicas`, description: `Worker ${ns}/${n} has had no available replica for 5 minutes.` },
      },
      {
        alert: 'FxWorkerRestarting',
        expr: `sum(increase(kube_pod_container_status_restarts_total{namespace="${ns}",pod=~"${pods}",container="app"}[15m])) > 3`,
        for: '0m',
        labels: labels('warning'),
        annotations: { summary: `${n} restarts repeatedly`, description: `Containers of worker ${ns}/${n} restarted more than 3 times in 15 minutes.` },
      },
    ] : [
      {
        alert: 'FxJobFailed',
        // A CronJob's Jobs are <cronjob>-<minutes since epoch>; a one-off Job carries the workload's name and a hash.
        expr: `sum(kube_job_status_failed{namespace="${ns}",job_name=~"${n}-[a-z0-9]+"}) > 0`,
        for: '0m',
        labels: labels('warning'),
        annotations: { summary: `a Job of ${n} failed`, description: `A Job of ${ns}/${n} exhausted its retries (backoffLimit) or its deadline.` },
      },
    ];
    this.obj('PrometheusRule', crd.KubePrometheusRule, this.meta(n), { spec: { groups: [{ name: `${ns}.${n}`, rules }] } });
  }

  private monitoring(monitoring: MonitoringSpec, metrics: { port: number; path: string }): void {
    const n = this.spec.name;
    if (monitoring.dashboard) {
      const { apiVersion, kind, metadata, ...body } = monitoring.dashboard;
      this.custom('Dashboard', apiVersion, kind, metadata, body);
    }
    this.obj('ServiceMonitor', crd.KubeServiceMonitor, this.meta(n), {
      spec: {
        selector: { matchLabels: { ...this.selector, [MICROSERVICE_TRACK_LABEL]: 'stable' } },
        namespaceSelector: { matchNames: [this.ns] },
        endpoints: [{ port: metrics.port === this.spec.port ? 'http' : 'metrics', path: metrics.path, interval: '30s', scrapeTimeout: '10s' }],
      },
    });
    // Traefik names a CRD-routed service <namespace>-<service>-<port>@kubernetescrd.
    const traefikService = `${this.ns}-${n}-80@kubernetescrd`;
    const sel = `service="${traefikService}"`;
    this.obj('PrometheusRule', crd.KubePrometheusRule, this.meta(n), {
      spec: {
        groups: [{
          name: `${this.ns}.${n}`,
          rules: [
            {
              alert: 'FxServiceDown',
              expr: this.spec.pod.claimTemplates.length > 0
                ? `kube_statefulset_status_replicas_available{namespace="${this.ns}",statefulset="${n}"} < 1`
                : `kube_deployment_status_replicas_available{namespace="${this.ns}",deployment="${n}"} < 1`,
              for: '5m',
              labels: { severity: 'critical', service: n },
              annotations: { summary: `${n} has no available replicas`, description: `Deployment ${this.ns}/${n} has had no available replica for 5 minutes.` },
            },
            {
              alert: 'FxServiceHighErrorRatio',
              expr: `sum(rate(traefik_service_requests_total{${sel},code=~"5.."}[5m])) / sum(rate(traefik_service_requests_total{${sel}}[5m])) > ${text(monitoring.errorRatioThreshold)}`,
              for: '10m',
              labels: { severity: 'warning', service: n },
              annotations: {
                // A deploy-time threshold is shown as the ratio it is (no arithmetic on a token).
                summary: Token.isUnresolved(monitoring.errorRatioThreshold)
                  ? `${n} answers a ratio of 5xx above ${text(monitoring.errorRatioThreshold)}`
                  : `${n} answers more than ${monitoring.errorRatioThreshold * 100}% 5xx`,
                description: 'Ratio of 5xx responses measured at Traefik over 5 minutes.',
              },
            },
            {
              alert: 'FxServiceHighLatency',
              expr: `histogram_quantile(0.99, sum by (le) (rate(traefik_service_request_duration_seconds_bucket{${sel}}[5m]))) > ${text(monitoring.latencyP99Seconds)}`,
              for: '10m',
              labels: { severity: 'warning', service: n },
              annotations: { summary: `${n} p99 latency above ${text(monitoring.latencyP99Seconds)}s`, description: '99th percentile request duration measured at Traefik over 5 minutes.' },
            },
          ],
        }],
      },
    });
  }
}

/** A number formatted into a string: a deploy-time number as a string token (its encoded value would be read as a literal). */
function text(n: number): string {
  return Token.isUnresolved(n) ? Token.asString(n) : String(n);
}

/** A NetworkPolicy peer: the pods with `labels` in namespace `ns`. */
function podsIn(ns: string, labels: Record<string, string>): k8s.NetworkPolicyPeer {
  return { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } }, podSelector: { matchLabels: labels } };
}

/** Egress the service has whatever its AWS permissions: DNS, its CIDRs and databases, its callees, the API server, OTLP. */
function staticEgressRules(egress: EgressSpec): k8s.NetworkPolicyEgressRule[] {
  const rules: k8s.NetworkPolicyEgressRule[] = [{
    to: [podsIn('kube-system', { 'k8s-app': 'kube-dns' })],
    ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
  }];
  for (const c of egress.cidrs) {
    rules.push({ to: [{ ipBlock: { cidr: c.cidr } }], ...(c.port ? { ports: [{ protocol: 'TCP', port: c.port }] } : {}) });
  }
  for (const s of egress.services) {
    rules.push({ to: [podsIn(s.namespace, { 'app.kubernetes.io/name': s.name })], ports: [{ protocol: 'TCP', port: s.port }] });
  }
  if (egress.apiServerCidrs.length > 0) {
    rules.push({ to: egress.apiServerCidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: [{ protocol: 'TCP', port: 443 }] });
  }
  if (egress.otlp) {
    rules.push({
      to: [
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': egress.otlp.namespace } } },
        ...egress.otlp.nodeCidrs.map((cidr) => ({ ipBlock: { cidr } })),
      ],
      ports: egress.otlp.ports.map((port) => ({ protocol: 'TCP', port })),
    });
  }
  return rules;
}
