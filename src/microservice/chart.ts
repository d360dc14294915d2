import * as cdk8s from 'cdk8s';
import { MICROSERVICE_TRACK_LABEL } from '../core/flows';
import { SPOT_TAINT, WIRING } from '../core/wiring';

/** Resolved, validated inputs of one service's Kubernetes objects (internal). */
export interface ServiceChartSpec {
  readonly name: string;
  readonly namespace: string;
  readonly createNamespace: boolean;
  readonly labels: Record<string, string>;
  readonly image: string;
  readonly imageVersion: string;
  readonly port: number;
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
  readonly externalSecrets: ExternalSecretSpec[];
  readonly probes: { readonly liveness: string; readonly readiness: string; readonly startup: string };
  readonly terminationGracePeriodSeconds: number;
  /** Tolerate the platform's spot taint and prefer spot nodes. */
  readonly spot: boolean;
  readonly serviceAccountName: string;
  readonly quota?: { readonly cpu: string; readonly memory: string; readonly pods: number };
  readonly egress: EgressSpec;
  readonly route?: RouteSpec;
  readonly monitoring?: MonitoringSpec;
  readonly migration?: MigrationSpec;
  readonly canary?: { readonly image: string; readonly weight: number };
  readonly tlsTerminatedByTraefik: boolean;
}

export interface ExternalSecretSpec {
  readonly name: string;
  /** Secrets Manager secret name (the remote key). */
  readonly remoteKey: string;
  /** Keys of the JSON secret to copy; empty copies every key. */
  readonly properties: string[];
  /** Extra keys rendered from the secret's keys with ESO templates (e.g. DATABASE_URL). */
  readonly templates?: Record<string, string>;
}

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
  readonly command: string[];
  readonly kubectlImage: string;
  readonly activeDeadlineSeconds: number;
}

const POD_SECURITY = {
  runAsNonRoot: true,
  runAsUser: 10001,
  runAsGroup: 10001,
  fsGroup: 10001,
  seccompProfile: { type: 'RuntimeDefault' },
};
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
    for (const es of this.spec.externalSecrets) this.externalSecret(es);
    const migrationJob = this.spec.migration ? this.migrationJob(this.spec.migration) : undefined;
    this.deployment(this.spec.name, this.spec.image, this.spec.minReplicas, 'stable', migrationJob);
    this.service(this.spec.name, 'stable');
    if (this.spec.canary) {
      this.deployment(`${this.spec.name}-canary`, this.spec.canary.image, 1, 'canary', migrationJob);
      this.service(`${this.spec.name}-canary`, 'canary');
    }
    this.autoscaler();
    if (this.spec.maxReplicas >= 2) this.disruptionBudget();
    this.networkPolicies();
    if (this.spec.route) this.route(this.spec.route);
    if (this.spec.monitoring && this.spec.metrics) this.monitoring(this.spec.monitoring, this.spec.metrics);
  }

  private meta(name: string, extra?: Record<string, string>): cdk8s.ApiObjectMetadata {
    return { name, namespace: this.ns, labels: { ...this.spec.labels, ...this.selector, ...extra } };
  }

  private obj(id: string, apiVersion: string, kind: string, metadata: cdk8s.ApiObjectMetadata, body: Record<string, unknown>): cdk8s.ApiObject {
    return new cdk8s.ApiObject(this.chart, id, { apiVersion, kind, metadata, ...body });
  }

  private namespace(): void {
    this.obj('Namespace', 'v1', 'Namespace', {
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
      this.obj('Quota', 'v1', 'ResourceQuota', { name: 'fx-quota', namespace: this.ns, labels: this.spec.labels }, {
        spec: {
          hard: {
            'requests.cpu': quota.cpu,
            'requests.memory': quota.memory,
            'limits.cpu': quota.cpu,
            'limits.memory': quota.memory,
            'pods': String(quota.pods),
          },
        },
      });
    }
    this.obj('LimitRange', 'v1', 'LimitRange', { name: 'fx-limits', namespace: this.ns, labels: this.spec.labels }, {
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
    this.obj('ServiceAccount', 'v1', 'ServiceAccount', this.meta(this.spec.serviceAccountName), { automountServiceAccountToken: !!this.spec.migration });
    if (this.spec.migration) {
      // The init container waits for the migration Job: it may read Jobs of its own namespace, nothing else.
      this.obj('MigrationReaderRole', 'rbac.authorization.k8s.io/v1', 'Role', this.meta(`${this.spec.name}-migration-reader`), {
        rules: [{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'watch'] }],
      });
      this.obj('MigrationReaderBinding', 'rbac.authorization.k8s.io/v1', 'RoleBinding', this.meta(`${this.spec.name}-migration-reader`), {
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `${this.spec.name}-migration-reader` },
        subjects: [{ kind: 'ServiceAccount', name: this.spec.serviceAccountName, namespace: this.ns }],
      });
    }
  }

  private externalSecret(es: ExternalSecretSpec): void {
    const target: Record<string, unknown> = { name: es.name, creationPolicy: 'Owner', deletionPolicy: 'Retain' };
    if (es.templates) {
      target.template = { engineVersion: 'v2', mergePolicy: 'Merge', data: es.templates };
    }
    this.obj(`ExternalSecret-${es.name}`, WIRING.externalSecrets.apiVersion, 'ExternalSecret', this.meta(es.name), {
      spec: {
        refreshInterval: '1h',
        secretStoreRef: { kind: 'ClusterSecretStore', name: WIRING.externalSecrets.clusterSecretStore },
        target,
        ...(es.properties.length > 0
          ? { data: es.properties.map((p) => ({ secretKey: p, remoteRef: { key: es.remoteKey, property: p } })) }
          : { dataFrom: [{ extract: { key: es.remoteKey } }] }),
      },
    });
  }

  private container(name: string, image: string): Record<string, unknown> {
    const spec = this.spec;
    const env = Object.entries(spec.env).map(([k, v]) => ({ name: k, value: v }));
    const ports = [{ name: 'http', containerPort: spec.port, protocol: 'TCP' }];
    if (spec.metrics && spec.metrics.port !== spec.port) ports.push({ name: 'metrics', containerPort: spec.metrics.port, protocol: 'TCP' });
    const probe = (path: string, extra: Record<string, number>) => ({ httpGet: { path, port: 'http' }, ...extra });
    return {
      name,
      image,
      imagePullPolicy: 'IfNotPresent',
      ports,
      env: [
        ...env,
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      ],
      envFrom: spec.envFromSecrets.map((s) => ({ secretRef: { name: s } })),
      resources: { requests: { ...spec.requests }, limits: { ...spec.limits } },
      startupProbe: probe(spec.probes.startup, { periodSeconds: 5, failureThreshold: 30, timeoutSeconds: 3 }),
      livenessProbe: probe(spec.probes.liveness, { periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 3 }),
      readinessProbe: probe(spec.probes.readiness, { periodSeconds: 5, failureThreshold: 3, timeoutSeconds: 3 }),
      // Give the load balancer and Traefik time to stop sending traffic before the process gets SIGTERM.
      lifecycle: { preStop: { sleep: { seconds: 5 } } },
      securityContext: CONTAINER_SECURITY,
      volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
    };
  }

  private migrationJob(migration: MigrationSpec): string {
    const jobName = `${this.spec.name}-migrate-${this.spec.imageVersion}`;
    const container = this.container('migrate', this.spec.image);
    delete container.startupProbe;
    delete container.livenessProbe;
    delete container.readinessProbe;
    delete container.lifecycle;
    delete container.ports;
    this.obj('MigrationJob', 'batch/v1', 'Job', this.meta(jobName, { 'app.kubernetes.io/component': 'migration' }), {
      spec: {
        backoffLimit: 3,
        activeDeadlineSeconds: migration.activeDeadlineSeconds,
        template: {
          metadata: { labels: { ...this.spec.labels, ...this.selector, 'app.kubernetes.io/component': 'migration' } },
          spec: {
            serviceAccountName: this.spec.serviceAccountName,
            restartPolicy: 'Never',
            securityContext: POD_SECURITY,
            containers: [{ ...container, command: migration.command }],
            volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }],
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
      command: ['kubectl', 'wait', '--for=condition=complete', `job/${migrationJob}`, `--timeout=${spec.migration.activeDeadlineSeconds}s`],
      // kubectl writes its discovery cache under $HOME: keep it on the writable /tmp volume.
      env: [{ name: 'HOME', value: '/tmp' }],
      volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
      resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '100m', memory: '64Mi' } },
      securityContext: CONTAINER_SECURITY,
    }] : undefined;
    this.obj(track === 'stable' ? 'Deployment' : 'CanaryDeployment', 'apps/v1', 'Deployment', this.meta(name, { [MICROSERVICE_TRACK_LABEL]: track }), {
      spec: {
        replicas,
        revisionHistoryLimit: 5,
        selector: { matchLabels: labels },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } },
        template: {
          metadata: {
            labels: { ...spec.labels, ...labels },
            annotations: { 'fx.platform/image-version': spec.imageVersion },
          },
          spec: {
            serviceAccountName: spec.serviceAccountName,
            automountServiceAccountToken: !!initContainers,
            terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds,
            securityContext: POD_SECURITY,
            ...(initContainers ? { initContainers } : {}),
            containers: [this.container('app', image)],
            volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '256Mi' } }],
            ...(spec.spot ? {
              tolerations: [{ key: SPOT_TAINT.key, operator: 'Equal', value: SPOT_TAINT.value, effect: 'NoSchedule' }],
              affinity: {
                nodeAffinity: {
                  preferredDuringSchedulingIgnoredDuringExecution: [{
                    weight: 50,
                    preference: { matchExpressions: [{ key: SPOT_TAINT.key, operator: 'In', values: [SPOT_TAINT.value] }] },
                  }],
                },
              },
            } : {}),
            topologySpreadConstraints: [
              { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: labels } },
              { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: labels } },
            ],
          },
        },
      },
    });
  }

  private service(name: string, track: string): void {
    const ports: Array<Record<string, unknown>> = [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }];
    if (this.spec.metrics && this.spec.metrics.port !== this.spec.port) {
      ports.push({ name: 'metrics', port: this.spec.metrics.port, targetPort: 'metrics', protocol: 'TCP' });
    }
    this.obj(track === 'stable' ? 'Service' : 'CanaryService', 'v1', 'Service', this.meta(name, { [MICROSERVICE_TRACK_LABEL]: track }), {
      spec: { type: 'ClusterIP', selector: { ...this.selector, [MICROSERVICE_TRACK_LABEL]: track }, ports },
    });
  }

  private autoscaler(): void {
    this.obj('Autoscaler', 'autoscaling/v2', 'HorizontalPodAutoscaler', this.meta(this.spec.name), {
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: this.spec.name },
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
    this.obj('DisruptionBudget', 'policy/v1', 'PodDisruptionBudget', this.meta(this.spec.name), {
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
      this.obj('DefaultDeny', 'networking.k8s.io/v1', 'NetworkPolicy', { name: 'default-deny', namespace: this.ns, labels: spec.labels }, {
        spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
      });
    }
    const ingress: Array<Record<string, unknown>> = [{
      from: [podsIn(WIRING.traefik.namespace, WIRING.traefik.podLabels)],
      ports: [{ protocol: 'TCP', port: spec.port }],
    }];
    if (spec.metrics) {
      ingress.push({
        from: [podsIn(WIRING.monitoring.namespace, WIRING.monitoring.prometheusPodLabels)],
        ports: [{ protocol: 'TCP', port: spec.metrics.port }],
      });
    }
    this.obj('NetworkPolicy', 'networking.k8s.io/v1', 'NetworkPolicy', this.meta(spec.name), {
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
    this.obj(`CalleeIngress${i}`, 'networking.k8s.io/v1', 'NetworkPolicy', {
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

  private middleware(id: string, name: string, body: Record<string, unknown>): { name: string; namespace: string } {
    this.obj(`Middleware-${id}`, 'traefik.io/v1alpha1', 'Middleware', this.meta(name), { spec: body });
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
    if (route.retryAttempts > 0) {
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
    this.obj('IngressRoute', 'traefik.io/v1alpha1', 'IngressRoute', this.meta(n), {
      spec: {
        entryPoints: [this.spec.tlsTerminatedByTraefik ? shared.websecureEntryPoint : shared.webEntryPoint],
        routes: [{ kind: 'Rule', match, middlewares, services }],
        ...(this.spec.tlsTerminatedByTraefik
          ? { tls: { options: { name: shared.tlsOption, namespace: shared.namespace } } }
          : {}),
      },
    });
  }

  private monitoring(monitoring: MonitoringSpec, metrics: { port: number; path: string }): void {
    const n = this.spec.name;
    if (monitoring.dashboard) {
      const { apiVersion, kind, metadata, ...body } = monitoring.dashboard;
      this.obj('Dashboard', apiVersion, kind, metadata, body);
    }
    this.obj('ServiceMonitor', 'monitoring.coreos.com/v1', 'ServiceMonitor', this.meta(n), {
      spec: {
        selector: { matchLabels: { ...this.selector, [MICROSERVICE_TRACK_LABEL]: 'stable' } },
        namespaceSelector: { matchNames: [this.ns] },
        endpoints: [{ port: metrics.port === this.spec.port ? 'http' : 'metrics', path: metrics.path, interval: '30s', scrapeTimeout: '10s' }],
      },
    });
    // Traefik names a CRD-routed service <namespace>-<service>-<port>@kubernetescrd.
    const traefikService = `${this.ns}-${n}-80@kubernetescrd`;
    const sel = `service="${traefikService}"`;
    this.obj('PrometheusRule', 'monitoring.coreos.com/v1', 'PrometheusRule', this.meta(n), {
      spec: {
        groups: [{
          name: `${this.ns}.${n}`,
          rules: [
            {
              alert: 'FxServiceDown',
              expr: `kube_deployment_status_replicas_available{namespace="${this.ns}",deployment="${n}"} < 1`,
              for: '5m',
              labels: { severity: 'critical', service: n },
              annotations: { summary: `${n} has no available replicas`, description: `Deployment ${this.ns}/${n} has had no available replica for 5 minutes.` },
            },
            {
              alert: 'FxServiceHighErrorRatio',
              expr: `sum(rate(traefik_service_requests_total{${sel},code=~"5.."}[5m])) / sum(rate(traefik_service_requests_total{${sel}}[5m])) > ${monitoring.errorRatioThreshold}`,
              for: '10m',
              labels: { severity: 'warning', service: n },
              annotations: { summary: `${n} answers more than ${monitoring.errorRatioThreshold * 100}% 5xx`, description: 'Ratio of 5xx responses measured at Traefik over 5 minutes.' },
            },
            {
              alert: 'FxServiceHighLatency',
              expr: `histogram_quantile(0.99, sum by (le) (rate(traefik_service_request_duration_seconds_bucket{${sel}}[5m]))) > ${monitoring.latencyP99Seconds}`,
              for: '10m',
              labels: { severity: 'warning', service: n },
              annotations: { summary: `${n} p99 latency above ${monitoring.latencyP99Seconds}s`, description: '99th percentile request duration measured at Traefik over 5 minutes.' },
            },
          ],
        }],
      },
    });
  }
}

/** A NetworkPolicy peer: the pods with `labels` in namespace `ns`. */
function podsIn(ns: string, labels: Record<string, string>): Record<string, unknown> {
  return { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } }, podSelector: { matchLabels: labels } };
}

/** Egress the service has whatever its AWS permissions: DNS, its CIDRs and databases, its callees, the API server, OTLP. */
function staticEgressRules(egress: EgressSpec): Array<Record<string, unknown>> {
  const rules: Array<Record<string, unknown>> = [{
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

/** The EKS Pod Identity agent: a hostNetwork DaemonSet answering on this link-local address of every node. */
export const POD_IDENTITY_AGENT = { cidr: '169.254.170.23/32', port: 80 };

/**
 * Egress of a service with AWS permissions: credentials from the Pod Identity agent, then AWS APIs on
 * 443. NetworkPolicies cannot name host names, and the regional endpoints are public addresses (or
 * interface endpoints in the VPC), so the rule is any address on 443 except link-local (IMDS and the
 * agent are only reachable on the rule above). Ingress of every other pod stays default-deny, so
 * this opens no path to the platform's own pods.
 */
export function awsEgressRules(): Array<Record<string, unknown>> {
  return [
    { to: [{ ipBlock: { cidr: POD_IDENTITY_AGENT.cidr } }], ports: [{ protocol: 'TCP', port: POD_IDENTITY_AGENT.port }] },
    { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.0.0/16'] } }], ports: [{ protocol: 'TCP', port: 443 }] },
  ];
}
