import * as net from 'net';
import { Duration, Lazy, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cdk8s from 'cdk8s';
import { Construct } from 'constructs';
import { AwsEgress, awsEgressOf, awsEgressRules, rolePermissions } from './aws-egress';
import { addServiceObjects, DATABASE_CREDENTIALS_DIR_ENV, EgressSpec, OtlpEgressSpec, RouteSpec, ServiceChartSpec } from './chart';
import { FxContainer, FxPlacement, FxSecurityContext, FxVolume } from './container';
import { builtPlatformOf, createServiceRepository, deployTimeVersionOf, FxImage, isBuiltImage } from './image';
import { checkResources, containerResources, ExternalSecretSpec, podExtras, validatePodProps } from './pod';
import {
  FxAutoscaling, FxMigration, FxNamespaceQuota, FxProbes, FxResources, FxRoute, FxSecretEnv, FxServiceAlerts,
} from './props';
import { checkListKnownAtSynth, circuitBreakerProblem, DOT_KEY_RULE, ENV_NAME_RULE, INT32_MAX, isDotFreeKey, isEnvName, isSecretKey, RESERVED_NAMESPACES } from './validation';
import { FxWorkload } from './workload';
import { validateWorkload, workloadSpec } from './workload-spec';
import { FxCluster, FxClusterBase, IFxCluster } from '../cluster';
import { secretStoreObjects, trustServiceAccount, WorkloadStoreRole } from '../cluster/addons/external-secrets';
import { IFxWorkloadDatabase, IFxWorkloadDatabaseRole, IFxWorkloadObservability } from '../core/contracts';
import { checkEnvironmentKnown, checkSameEnvironment } from '../core/environment';
import {
  check, checkDurationToken, checkKnownAtSynth, FxValidationError, isIpv4Cidr, isIpv4Network, isUnresolved, profileSuffix, trackConstruct,
} from '../core/errors';
import { declareAwsAccessFlows, declareDnsFlows, declareFlow, FlowPeer, MICROSERVICE_TRACK_LABEL } from '../core/flows';
import { FxCapability } from '../core/install-order';
import { isDns1035Label, isDnsLabel, isHostname, isMemoryQuantity, isQuantity, quantityValue } from '../core/k8s-names';
import { platformLabels, tagPlatform } from '../core/tags';
import { WIRING } from '../core/wiring';
import type { FxServiceRoleOptions } from '../database/service-role-options';

const WHO = 'FxMicroservice';

/** Props of `FxMicroservice`. */
export interface FxMicroserviceProps {
  /** The cluster the service runs on. */
  readonly cluster: IFxCluster;
  /** The container image. */
  readonly image: FxImage;
  /**
   * Name of the service (a DNS label, at most 40 characters): Deployment, Service and ECR repository names.
   *
   * @default - the construct id, lowercased
   */
  readonly serviceName?: string;
  /**
   * Namespace of the service.
   *
   * @default - a namespace of its own, named like the service
   */
  readonly namespace?: string;
  /**
   * Whether this service creates its namespace (with Pod Security labels, quota, limits and default-deny
   * policy). Set false for a namespace shared with other services and created elsewhere.
   *
   * @default true
   */
  readonly createNamespace?: boolean;
  /**
   * What runs: an HTTP service, a worker, a scheduled job (CronJob) or a one-off Job.
   *
   * @default FxWorkload.httpService()
   */
  readonly workload?: FxWorkload;
  /**
   * Container port of the HTTP server (HTTP services only).
   *
   * @default 8000
   */
  readonly port?: number;
  /**
   * Port serving Prometheus metrics. A worker is scraped (PodMonitor) only when it is given.
   *
   * @default - the HTTP port (HTTP service); not scraped (worker)
   */
  readonly metricsPort?: number;
  /**
   * Path of the Prometheus metrics endpoint.
   *
   * @default '/metrics'
   */
  readonly metricsPath?: string;
  /**
   * Replicas and autoscaling targets (HTTP services; a worker's replicas are `FxWorkload.worker({ replicas })`).
   *
   * @default - from the profile
   */
  readonly autoscaling?: FxAutoscaling;
  /**
   * CPU and memory of the container.
   *
   * @default - 250m/256Mi requested, 1 CPU/512Mi limit
   */
  readonly resources?: FxResources;
  /**
   * Probes of the service container.
   *
   * @default - HTTP /healthz (liveness, startup) and /readyz (readiness) for an HTTP service; none otherwise
   */
  readonly probes?: FxProbes;
  /**
   * Entrypoint of the service container.
   *
   * @default - the image's ENTRYPOINT
   */
  readonly command?: string[];
  /**
   * Arguments of the service container.
   *
   * @default - the image's CMD
   */
  readonly args?: string[];
  /**
   * User, group, writable paths and capabilities for images that need them (inside Pod Security restricted).
   *
   * @default - uid/gid 10001, read-only root file system with /tmp writable, all capabilities dropped
   */
  readonly securityContext?: FxSecurityContext;
  /**
   * Containers running beside the service container for the pod's lifetime (native sidecars: they start
   * first and stop last, and do not keep a Job from completing).
   *
   * @default - none
   */
  readonly sidecars?: FxContainer[];
  /**
   * Containers run to completion, in order, before the service container starts.
   *
   * @default - none
   */
  readonly initContainers?: FxContainer[];
  /**
   * Volumes mounted into the service container: EFS (shared), gp3 (per replica: a StatefulSet),
   * ConfigMap files, Secrets Manager secret files.
   *
   * @default - none besides /tmp
   */
  readonly volumes?: FxVolume[];
  /**
   * Tolerations, node selector and node affinity.
   *
   * @default - any untainted node (and spot nodes with `spot`)
   */
  readonly placement?: FxPlacement;
  /**
   * Plain environment variables.
   *
   * @default - none
   */
  readonly env?: Record<string, string>;
  /**
   * Secrets from Secrets Manager exposed as environment variables (synced by External Secrets).
   *
   * @default - none
   */
  readonly secretEnv?: FxSecretEnv[];
  /**
   * The public route through Traefik (HTTP services only).
   *
   * @default - not exposed outside the cluster
   */
  readonly route?: FxRoute;
  /**
   * Database the service uses: credentials arrive as files in `/var/run/secrets/fx/database/`
   * (`username`, `password`, `host`, `port`, `dbname`, `sslmode`, `url`; env var
   * `FX_DATABASE_CREDENTIALS_DIR`), which follow rotations, and as `DATABASE_URL` and `PG*` env vars,
   * which keep the values of pod start. The network policy lets the pods reach it.
   *
   * @default - no database
   */
  readonly database?: IFxWorkloadDatabase;
  /**
   * The service's own login role in `database`: name, schema, IAM authentication, removal and
   * rotation (see FxDatabaseServiceRole). The role owns its schema and nothing else.
   *
   * @default - a role named after the service (`-` becomes `_`) owning a schema of that name, IAM
   * authentication on, kept on removal, rotated every 30 days
   */
  readonly databaseRole?: FxServiceRoleOptions;
  /**
   * Observability stack: ServiceMonitor, alert rules, dashboard and OpenTelemetry env vars.
   *
   * @default - no scraping or alerts
   */
  readonly observability?: IFxWorkloadObservability;
  /**
   * Alert thresholds (when observability is given).
   *
   * @default - 5% errors, 1 s p99 latency
   */
  readonly alerts?: FxServiceAlerts;
  /**
   * Other services this one calls (egress network policy to their pods).
   *
   * @default - none
   */
  readonly dependsOn?: FxMicroservice[];
  /**
   * CIDR blocks the service may call on any port, e.g. a partner API.
   *
   * @default - none
   */
  readonly egressCidrs?: string[];
  /**
   * Migration Job run before the new version rolls out.
   *
   * @default - none
   */
  readonly migration?: FxMigration;
  /**
   * Time between SIGTERM and SIGKILL.
   *
   * @default Duration.seconds(30)
   */
  readonly terminationGracePeriod?: Duration;
  /**
   * Let the pods run on spot capacity: they tolerate the platform's spot taint
   * (`fx.platform/capacity=spot:NoSchedule`, on spot node groups and Karpenter spot pools) and prefer
   * spot nodes. Spot nodes can be reclaimed with two minutes' notice: use it for stateless services
   * with several replicas and a disruption budget.
   *
   * @default false - on-demand capacity only
   */
  readonly spot?: boolean;
  /**
   * Namespace quota (only when the service creates its namespace).
   *
   * @default - from the profile
   */
  readonly quota?: FxNamespaceQuota;
  /**
   * Images kept in the service's ECR repository.
   *
   * @default 30
   */
  readonly imagesToKeep?: number;
}

/**
 * One containerised service on the platform, from image to HTTPS route, hardened by default.
 *
 * All Kubernetes objects (namespace, service account, Deployment, Service, HPA, PDB, network
 * policies, ExternalSecrets, IngressRoute and middlewares, ServiceMonitor, PrometheusRule,
 * migration Job) are one cdk8s chart applied as one manifest. AWS access goes through the
 * service's Pod Identity role: the microservice is an `iam.IGrantable`, so `bucket.grantRead(service)` works.
 */
export class FxMicroservice extends Construct implements iam.IGrantable {
  /** The service name. */
  public readonly serviceName: string;
  /** The namespace. */
  public readonly namespace: string;
  /** The container port (HTTP services; workers and jobs have none). */
  public readonly port?: number;
  /** What the service runs. */
  public readonly workload: FxWorkload;
  /** Role the pods assume through EKS Pod Identity. */
  public readonly role: iam.Role;
  /**
   * The service's own ECR repository (immutable tags, scan on push, lifecycle): created only for an image
   * built from source (`FxImage.fromAsset`, also as the canary image), which is copied there at deploy time
   * (tagged with its asset hash; pods pull it by digest). Images from a registry or an existing ECR
   * repository get none.
   */
  public readonly repository?: ecr.Repository;
  /** The manifest holding every Kubernetes object of the service. */
  public readonly manifest: eks.KubernetesManifest;
  /** The cdk8s chart (already applied; for inspection). */
  public readonly chart: cdk8s.Chart;
  /** In-cluster DNS name of the service (HTTP services: a worker or job has no Service behind the name). */
  public readonly internalHostname: string;
  /** The principal to grant AWS permissions to (the Pod Identity role). */
  public readonly grantPrincipal: iam.IPrincipal;
  /** The service's own login role in its database, when it has one. */
  public readonly databaseRole?: IFxWorkloadDatabaseRole;
  /** The Pod Identity association of the service account (the manifest depends on it). */
  public readonly podIdentityAssociation: eks.CfnPodIdentityAssociation;

  constructor(scope: Construct, id: string, props: FxMicroserviceProps) {
    super(scope, id);
    trackConstruct(this);
    const cluster = props.cluster;
    checkSameEnvironment(this, WHO, 'cluster', cluster);
    checkEnvironmentKnown(this, WHO, 'cluster', cluster, 'service');
    for (const [prop, other] of [['database', props.database], ['observability', props.observability]] as const) {
      if (Construct.isConstruct(other)) checkSameEnvironment(this, WHO, prop, other);
      if (Construct.isConstruct(other)) checkEnvironmentKnown(this, WHO, prop, other, 'service');
    }
    const settings = cluster.profile.settings;
    this.serviceName = props.serviceName ?? id.toLowerCase();
    this.namespace = props.namespace ?? this.serviceName;
    this.workload = props.workload ?? FxWorkload.httpService();
    validateWorkload(props, this.workload);
    const http = this.workload.servesHttp;
    this.port = http ? props.port ?? 8000 : undefined;
    const createNamespace = props.createNamespace ?? true;
    const metricsPort = props.metricsPort ?? this.port;
    const metricsPath = props.metricsPath ?? '/metrics';
    // A worker runs a fixed number of replicas; a job's pods are counted as one for the quota.
    const fixedReplicas = this.workload.runsToCompletion ? 1 : this.workload.workerOptions?.replicas ?? settings.serviceMinReplicas;
    const minReplicas = http ? props.autoscaling?.minReplicas ?? settings.serviceMinReplicas : fixedReplicas;
    if (http && props.autoscaling?.maxReplicas === undefined) {
      checkKnownAtSynth(minReplicas, WHO, 'autoscaling.minReplicas',
        "the default autoscaling.maxReplicas (the profile's serviceMaxReplicas, raised to minReplicas) is computed from it: set autoscaling.maxReplicas too");
    }
    const maxReplicas = http ? props.autoscaling?.maxReplicas ?? Math.max(settings.serviceMaxReplicas, minReplicas) : minReplicas;
    const requests = { cpu: props.resources?.cpuRequest ?? '250m', memory: props.resources?.memoryRequest ?? '256Mi' };
    const limits = { cpu: props.resources?.cpuLimit ?? '1', memory: props.resources?.memoryLimit ?? '512Mi' };
    // Deprecated probe paths given (FxProbe probes are checked by validatePodProps).
    const probes = Object.fromEntries(Object.entries({
      liveness: props.probes?.livenessPath,
      readiness: props.probes?.readinessPath,
      startup: props.probes?.startupPath,
    }).filter(([, path]) => path !== undefined)) as Record<string, string>;
    const grace = props.terminationGracePeriod ?? Duration.seconds(30);

    const profileMin = http
      ? props.autoscaling?.minReplicas === undefined
      : !this.workload.runsToCompletion && this.workload.workerOptions?.replicas === undefined;
    const fromProfile = `${profileSuffix(props.cluster.profile.name)}`;
    const minProp = `${http ? 'autoscaling.minReplicas' : 'workload replicas'}${profileMin ? fromProfile : ''}`;
    if (http && profileMin && props.autoscaling?.maxReplicas === undefined) {
      check(!(settings.serviceMaxReplicas < settings.serviceMinReplicas), WHO, `serviceMaxReplicas${fromProfile}`, settings.serviceMaxReplicas,
        `at least the profile's serviceMinReplicas (${settings.serviceMinReplicas})`);
    }
    this.validate(props, { metricsPort, metricsPath, minReplicas, maxReplicas, requests, limits, probes, minProp });
    validatePodProps(props, this.workload);
    this.validateWiring(props, createNamespace, { minReplicas, limits });
    checkDurationToken(grace, WHO, 'terminationGracePeriod', 'seconds');
    const graceSeconds = grace.toSeconds({ integral: false });
    check(Number.isInteger(graceSeconds), WHO, 'terminationGracePeriod', graceSeconds, 'a whole number of seconds from 0 to 3600');
    check(grace.toSeconds() >= 0 && grace.toSeconds() <= 3600, WHO, 'terminationGracePeriod', grace.toSeconds(), '0 to 3600 seconds');
    claimName(cluster, this.namespace, this.serviceName, this.serviceNameProp(props));
    if (createNamespace) claimNamespace(cluster, this.namespace, this.node.path);
    if (props.route) claimRoutes(cluster, props.route, this.node.path);
    CLUSTER_OF.set(this, cluster);
    this.internalHostname = `${this.serviceName}.${this.namespace}.svc.cluster.local`;

    this.repository = isBuiltImage(props.image) || (props.route?.canary !== undefined && isBuiltImage(props.route.canary.image))
      ? this.createRepository(this.imagesToKeep(props), cluster.profile.settings.removalPolicy)
      : undefined;
    // Also the role of the namespace's SecretStore (service account <name>-secrets); every policy inline.
    const role = new WorkloadStoreRole(this, 'Role', {
      description: `Pod Identity role of ${this.namespace}/${this.serviceName}`,
      assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com').withSessionTags(),
    });
    this.role = role;
    this.grantPrincipal = this.role;
    this.podIdentityAssociation = this.createPodIdentityAssociation(cluster);

    // An image built from source is copied into this.repository at deploy time; pods pull it from there.
    const image = props.image.bind(this, undefined, this.repository);
    const canaryImage = props.route?.canary?.image.bind(new Construct(this, 'Canary'), undefined, this.repository);
    const externalSecrets: ExternalSecretSpec[] = [];
    const envFromSecrets: string[] = [];
    (props.secretEnv ?? []).forEach((s, i) => {
      const name = `${this.serviceName}-env-${i}`;
      externalSecrets.push({ name, remoteKey: s.secret.secretName, properties: s.keys ?? [] });
      envFromSecrets.push(name);
      role.allowStoreRead(s.secret);
    });
    const egress: { cidrs: Array<{ cidr: string; port?: number }>; services: EgressSpec['services'] } = {
      cidrs: (props.egressCidrs ?? []).map((cidr) => ({ cidr })),
      // validateWorkload: every callee is an HTTP service, with a port.
      services: (props.dependsOn ?? []).map((s) => ({ namespace: s.namespace, name: s.serviceName, port: s.port! })),
    };
    this.databaseRole = props.database ? this.createDatabaseRole(props, props.database) : undefined;
    const databaseCredentialsSecret = props.database && this.databaseRole
      ? this.wireDatabase(props.database, this.databaseRole, externalSecrets, envFromSecrets, egress.cidrs)
      : undefined;
    const env: Record<string, string> = { ...props.env };
    if (props.observability) {
      Object.assign(env, {
        // No collector (FxObservability without Container Insights): the SDK exports no traces.
        ...(props.observability.otlpHttpEndpoint !== undefined
          ? { OTEL_EXPORTER_OTLP_ENDPOINT: props.observability.otlpHttpEndpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' }
          : { OTEL_TRACES_EXPORTER: 'none' }),
        OTEL_SERVICE_NAME: this.serviceName,
        OTEL_RESOURCE_ATTRIBUTES: `service.namespace=${this.namespace},deployment.environment=${cluster.profile.name}`,
        LOG_FORMAT: 'json',
      });
    }
    let basicAuthSecret: string | undefined;
    if (props.route?.basicAuth) {
      basicAuthSecret = `${this.serviceName}-basic-auth`;
      externalSecrets.push({ name: basicAuthSecret, remoteKey: props.route.basicAuth.secret.secretName, properties: ['users'] });
      role.allowStoreRead(props.route.basicAuth.secret);
    }
    const migrationTimeout = props.migration?.timeout ?? Duration.minutes(10);
    // The control-plane ENIs and the nodes live in the cluster's private subnets.
    const controlPlaneCidrs = cluster.vpc.privateSubnets.map((s) => s.ipv4CidrBlock);

    // Command, probes, security context, sidecars, volumes (secret volumes add ExternalSecrets) and placement.
    const pod = podExtras(this, props, {
      serviceName: this.serviceName,
      port: this.port,
      workload: this.workload,
      externalSecrets,
      grantSecretRead: (secret) => role.allowStoreRead(secret),
    });
    // The namespace's own SecretStore: its service account <name>-secrets is the only subject the role
    // trusts besides Pod Identity, and the role reads only the secrets granted above.
    const storeName = `${this.serviceName}-secrets`;
    if (externalSecrets.length > 0) trustServiceAccount(role, cluster, this.namespace, storeName);
    const secretStore = externalSecrets.length > 0 ? {
      name: storeName,
      objects: secretStoreObjects({
        namespace: this.namespace,
        name: storeName,
        roleArn: role.roleArn,
        region: Stack.of(this).region,
        labels: { ...platformLabels(cluster.platformName, 'microservice'), 'app.kubernetes.io/name': this.serviceName, 'app.kubernetes.io/instance': this.serviceName },
      }),
    } : undefined;
    const spec: ServiceChartSpec = {
      name: this.serviceName,
      namespace: this.namespace,
      createNamespace,
      labels: platformLabels(cluster.platformName, 'microservice'),
      image: image.imageUri,
      imageVersion: image.version,
      port: this.port,
      metrics: metricsPort !== undefined ? { port: metricsPort, path: metricsPath } : undefined,
      minReplicas,
      maxReplicas,
      cpuTargetPercent: props.autoscaling?.cpuTargetPercent ?? 70,
      memoryTargetPercent: props.autoscaling?.memoryTargetPercent ?? 80,
      requests,
      limits,
      env,
      envFromSecrets,
      databaseCredentialsSecret,
      externalSecrets,
      workload: workloadSpec(this.workload, this, this.serviceName, this.workload.kind === 'job' ? deployTimeVersionOf(props.image, this) : undefined),
      pod,
      terminationGracePeriodSeconds: grace.toSeconds(),
      spot: props.spot ?? false,
      serviceAccountName: this.serviceName,
      secretStore,
      quota: createNamespace ? {
        cpu: props.quota?.cpu ?? settings.serviceQuotaCpu,
        memory: props.quota?.memory ?? settings.serviceQuotaMemory,
        pods: props.quota?.pods ?? 50,
      } : undefined,
      egress: {
        ...egress,
        apiServerCidrs: props.migration ? controlPlaneCidrs : [],
        otlp: props.observability ? otlpEgress(props.observability, controlPlaneCidrs) : undefined,
      },
      route: props.route ? this.routeSpec(props.route, basicAuthSecret) : undefined,
      monitoring: props.observability ? {
        errorRatioThreshold: props.alerts?.errorRatio ?? 0.05,
        // A deploy-time Duration.seconds(<token>) goes into the rule as it is (checked in validateWiring).
        latencyP99Seconds: props.alerts?.latencyP99?.isUnresolved()
          ? props.alerts.latencyP99.toSeconds()
          : (props.alerts?.latencyP99 ?? Duration.seconds(1)).toMilliseconds() / 1000,
        otlpEndpoint: props.observability.otlpEndpoint,
        // The service dashboard reads Traefik's request metrics: HTTP services only.
        dashboard: http ? props.observability.serviceDashboard(this.namespace, this.serviceName) : undefined,
      } : undefined,
      migration: props.migration ? {
        version: deployTimeVersionOf(props.image, this),
        command: props.migration.command,
        kubectlImage: `${cluster.versions.images.kubectl.repository}:${cluster.versions.images.kubectl.tag}`,
        activeDeadlineSeconds: migrationTimeout.toSeconds(),
      } : undefined,
      canary: canaryImage && props.route?.canary ? { image: canaryImage.imageUri, weight: props.route.canary.weight } : undefined,
      tlsTerminatedByTraefik: cluster.tlsTerminatedByTraefik,
    };

    this.chart = new cdk8s.Chart(new cdk8s.App(), this.serviceName);
    addServiceObjects(this.chart, spec);
    // Serialized once: the claims and the manifest read the same objects.
    const objects = this.chart.toJson();
    claimObjects(cluster, objects, this.node.path, this.serviceNameProp(props), this.serviceName);
    const share = shareNamespace(cluster, this.namespace, this.namespaceNeeds(props, minReplicas, limits),
      createNamespace
        ? {
          cpu: props.quota?.cpu ?? settings.serviceQuotaCpu,
          memory: props.quota?.memory ?? settings.serviceQuotaMemory,
          pods: props.quota?.pods ?? 50,
        }
        : undefined,
      props.quota, fromProfile);
    this.manifest = new eks.KubernetesManifest(this, 'Manifest', {
      cluster: cluster.cluster,
      manifest: this.withAwsEgress(objects),
      overwrite: true,
    });
    // The first pods must find their Pod Identity association, or they start without credentials.
    this.manifest.node.addDependency(this.podIdentityAssociation);
    // Pods roll only once their image is in the service's repository.
    for (const copy of [image.dependency, canaryImage?.dependency]) if (copy) this.manifest.node.addDependency(copy);
    const needs: string[] = [];
    if (externalSecrets.length > 0) needs.push(FxCapability.EXTERNAL_SECRETS_CRDS, FxCapability.EXTERNAL_SECRETS_WEBHOOK);
    if (props.route) needs.push(FxCapability.TRAEFIK_CRDS);
    if (props.observability) needs.push(FxCapability.PROMETHEUS_OPERATOR_CRDS);
    cluster.installAfter(this.manifest, FxCapability.NODES, ...needs);
    // The callee's namespace first; a callee in the namespace this service creates waits for this one instead.
    for (const other of props.dependsOn ?? []) {
      if (!(createNamespace && other.namespace === this.namespace)) this.manifest.node.addDependency(other.manifest);
    }
    // A service joining a namespace another service creates is applied after it (the namespace exists first).
    share.order(this.manifest);

    this.declareFlows(props, spec);
    tagPlatform(this, cluster.platformName, 'microservice');
  }

  /**
   * Whether the service's role has any AWS permission (a grant, `role.addToPolicy`, an attached or
   * managed policy). Grants usually come after the constructor (`bucket.grantRead(service)`), so this
   * is asked at synth.
   */
  public hasAwsPermissions(): boolean {
    return this.awsEgress().kind !== 'none';
  }

  /**
   * How the pods reach AWS, from what the role may call (src/microservice/aws-egress.ts): the role's
   * `Grants` policy (the namespace store's `SecretStoreRead` does not count: the External Secrets
   * Operator makes those calls), its default and attached policies, its managed policies; against the
   * interface endpoints of the cluster's VPC.
   */
  private awsEgress(): AwsEgress {
    const cluster = CLUSTER_OF.get(this)!;
    return awsEgressOf(rolePermissions(this.role, ['Grants']), {
      services: (cluster.interfaceEndpoints ?? []).map((e) => e.shortName),
      cidrs: cluster.interfaceEndpointSubnetCidrs ?? [],
    });
  }

  /**
   * The manifest's objects with the service policy's egress resolved at synth: the Pod Identity agent
   * once the role was granted something, and 443 to the interface endpoints, to any address or not at
   * all (`awsEgressRules`). The chart itself serialised eagerly, so the decision lives in a Lazy inside
   * the manifest (aws-eks-v2 renders the manifest with toJsonString at synth); `chart.toJson()` shows
   * the rules that do not depend on grants.
   */
  private withAwsEgress(objects: any[]): any[] {
    const policy = objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === this.serviceName && o.metadata.namespace === this.namespace);
    if (!policy) throw new Error(`${WHO}: no NetworkPolicy ${this.namespace}/${this.serviceName} in the chart`);
    const rules = policy.spec.egress;
    policy.spec.egress = Lazy.any({ produce: () => [...rules, ...awsEgressRules(this.awsEgress())] });
    return objects;
  }

  /** The promised-flows table of the service (src/core/flows.ts): what its policies must allow and deny. */
  private declareFlows(props: FxMicroserviceProps, spec: ServiceChartSpec): void {
    const pods: FlowPeer = { namespace: this.namespace, podLabels: { 'app.kubernetes.io/name': this.serviceName, 'app.kubernetes.io/instance': this.serviceName } };
    const stable: FlowPeer = { namespace: this.namespace, podLabels: { ...pods.podLabels, [MICROSERVICE_TRACK_LABEL]: 'stable' } };
    const who = `${this.namespace}/${this.serviceName}`;
    declareDnsFlows(this, pods, who);
    // An internet address on 443 is promised closed unless egressCidrs may open it.
    const internetClosed = (props.egressCidrs ?? []).length === 0;
    declareAwsAccessFlows(this, pods, who, () => {
      const aws = this.awsEgress();
      return { credentials: aws.kind !== 'none', publicEndpoints: aws.kind === 'public', interfaceEndpoints: aws.endpoints, internetClosed };
    });
    if (spec.route) {
      const traefik: FlowPeer = { namespace: WIRING.traefik.namespace, podLabels: WIRING.traefik.podLabels };
      for (const service of spec.canary ? [this.serviceName, `${this.serviceName}-canary`] : [this.serviceName]) {
        declareFlow(this, { from: traefik, to: { namespace: this.namespace, service }, port: 80, protocol: 'TCP', reason: `Traefik routes ${spec.route.hosts[0]} to ${service}`, expect: 'allow' });
      }
    }
    if (spec.monitoring && spec.metrics) {
      const prometheus: FlowPeer = { namespace: WIRING.monitoring.namespace, podLabels: WIRING.monitoring.prometheusPodLabels };
      declareFlow(this, { from: prometheus, to: stable, port: spec.metrics.port, protocol: 'TCP', reason: `Prometheus scrapes ${who} (ServiceMonitor)`, expect: 'allow' });
    }
    for (const callee of props.dependsOn ?? []) {
      declareFlow(this, { from: pods, to: { namespace: callee.namespace, service: callee.serviceName }, port: 80, protocol: 'TCP', reason: `${who} dependsOn ${callee.namespace}/${callee.serviceName}`, expect: 'allow' });
    }
    declareFlow(this, { from: pods, to: { anyService: true }, port: 0, protocol: 'TCP', reason: `${who} calls no service outside dependsOn`, expect: 'deny' });
    if (!this.workload.servesHttp) {
      // A worker or job listens to nobody: even Traefik, which reaches every HTTP service, is refused.
      const traefik: FlowPeer = { namespace: WIRING.traefik.namespace, podLabels: WIRING.traefik.podLabels };
      declareFlow(this, { from: traefik, to: pods, port: 8080, protocol: 'TCP', reason: `${who} (${this.workload.description}) accepts no connection`, expect: 'deny' });
    }
    for (const c of spec.egress.cidrs.filter((x) => x.port !== undefined && props.database?.databaseCidrs.includes(x.cidr))) {
      declareFlow(this, { from: pods, to: { cidr: c.cidr, database: true }, port: c.port!, protocol: 'TCP', reason: `${who} uses its database`, expect: 'allow' });
    }
    declareFlow(this, { from: pods, to: { anyDatabase: true }, port: 0, protocol: 'TCP', reason: `${who} reaches no database it was not given`, expect: 'deny' });
    declareFlow(this, { from: pods, to: { cidr: '169.254.169.254/32' }, port: 80, protocol: 'TCP', reason: `${who} gets no node credentials from IMDS`, expect: 'deny' });
    const otlp = spec.egress.otlp;
    if (otlp) {
      for (const port of otlp.ports) {
        declareFlow(this, { from: pods, to: { namespace: otlp.namespace, podLabels: {} }, port, protocol: 'TCP', reason: `${who} exports traces over OTLP`, expect: 'allow' });
      }
    }
    if (spec.migration) {
      declareFlow(this, { from: stable, to: { apiServer: true }, port: 443, protocol: 'TCP', reason: `${who} waits for its migration Job through the API server`, expect: 'allow' });
    }
  }

  private validate(props: FxMicroserviceProps, v: {
    metricsPort: number | undefined;
    metricsPath: string;
    minReplicas: number;
    maxReplicas: number;
    requests: { cpu: string; memory: string };
    limits: { cpu: string; memory: string };
    probes: Record<string, string>;
    minProp: string;
  }): void {
    const nameProp = this.serviceNameProp(props);
    check(isDnsLabel(this.serviceName, 40), WHO, nameProp, this.serviceName, 'a DNS-1123 label of at most 40 characters (lowercase letters, digits, -)');
    if (this.workload.servesHttp || (props.volumes ?? []).some((vol) => vol.kind === 'gp3')) {
      check(isDns1035Label(this.serviceName), WHO, nameProp, this.serviceName,
        `a name starting with a letter: it names the Kubernetes Service of ${this.workload.servesHttp ? 'an HTTP service' : 'a StatefulSet'}, a DNS-1035 label`);
    }
    check(isDnsLabel(this.namespace), WHO, 'namespace', this.namespace, 'a DNS-1123 label (lowercase letters, digits, -)');
    for (const [prop, port] of [['port', this.port], ['metricsPort', v.metricsPort]] as const) {
      if (port !== undefined) check(Number.isInteger(port) && port >= 1 && port <= 65535, WHO, prop, port, 'an integer from 1 to 65535');
    }
    if (this.port !== undefined && v.metricsPort !== undefined && !isUnresolved(this.port) && v.metricsPort !== this.port) {
      check(v.metricsPort !== 80, WHO, 'metricsPort', v.metricsPort, "a port other than 80, the Service's http port (or the container port, to be scraped on it)");
    }
    check(v.metricsPath.startsWith('/'), WHO, 'metricsPath', v.metricsPath, "a path starting with '/'");
    check(!/[\s`"]/.test(v.metricsPath), WHO, 'metricsPath', v.metricsPath, 'a URL path without spaces, quotes or backticks');
    check(Number.isInteger(v.minReplicas) && v.minReplicas >= 1, WHO, v.minProp, v.minReplicas, 'an integer of at least 1');
    check(v.minReplicas <= INT32_MAX, WHO, v.minProp, v.minReplicas, `an integer from 1 to ${INT32_MAX}`);
    check(Number.isInteger(v.maxReplicas) && v.maxReplicas >= 1 && v.maxReplicas <= INT32_MAX, WHO, 'autoscaling.maxReplicas', v.maxReplicas,
      `an integer from 1 to ${INT32_MAX}`);
    // Deploy-time replicas are compared by the API server, not here.
    if (!isUnresolved(v.minReplicas) && !isUnresolved(v.maxReplicas) && v.minReplicas > v.maxReplicas) {
      if (props.autoscaling?.maxReplicas !== undefined && props.autoscaling?.minReplicas === undefined) {
        throw new FxValidationError(WHO, 'autoscaling.maxReplicas', v.maxReplicas, `at least autoscaling.minReplicas${profileSuffix(props.cluster.profile.name)}, which is ${v.minReplicas}`);
      }
      throw new FxValidationError(WHO, v.minProp, v.minReplicas, `at most autoscaling.maxReplicas (${v.maxReplicas})`);
    }
    for (const [prop, pct] of [['cpuTargetPercent', props.autoscaling?.cpuTargetPercent], ['memoryTargetPercent', props.autoscaling?.memoryTargetPercent]] as const) {
      // averageUtilization is a percentage of the requests: above 100 scales out only past the request (legal).
      if (pct !== undefined) check(pct > 0, WHO, `autoscaling.${prop}`, pct, `an integer percentage from 1 to ${INT32_MAX}`);
      if (pct !== undefined) check(Number.isInteger(pct) && pct <= INT32_MAX, WHO, `autoscaling.${prop}`, pct, `an integer percentage from 1 to ${INT32_MAX} (Kubernetes reads it as int32)`);
    }
    checkResources(props.resources, { cpu: '250m', memory: '256Mi' }, { cpu: '1', memory: '512Mi' }, 'resources', "a Kubernetes quantity such as '250m', '1', '512Mi'");
    for (const [prop, path] of Object.entries(v.probes)) check(path.startsWith('/'), WHO, `probes.${prop}Path`, path, "a path starting with '/'");
    const reserved = this.reservedEnv(props);
    for (const [key, value] of Object.entries(props.env ?? {})) {
      check(isEnvName(key), WHO, 'env', key, ENV_NAME_RULE);
      check(typeof value === 'string', WHO, `env.${key}`, value, "a string (quote numbers: '8000')");
      const by = reserved.get(key);
      if (by !== undefined) throw new FxValidationError(WHO, 'env', key, `a name the library does not set itself (${key} is set ${by})`);
    }
    if (props.egressCidrs && (Token.isUnresolved(props.egressCidrs) || props.egressCidrs.some((c) => typeof c === 'string' && c.includes('#{Token[')))) {
      // Each block becomes its own NetworkPolicy ipBlock at synth: a list parameter cannot be split into rules.
      throw new FxValidationError(WHO, 'egressCidrs', '(a deploy-time list, e.g. a CommaDelimitedList parameter)',
        'a list written at synth; each element may be a deploy-time string (e.g. [cidrParameter.valueAsString]), since each becomes its own NetworkPolicy rule');
    }
    (props.egressCidrs ?? []).forEach((c, i, all) => {
      check(isIpv4Cidr(c), WHO, `egressCidrs[${i}]`, c, 'an IPv4 CIDR block such as 203.0.113.0/24');
      check(isIpv4Network(c), WHO, `egressCidrs[${i}]`, c, 'a network address (host bits zero), e.g. 203.0.113.0/24 rather than 203.0.113.5/24');
      check(all.indexOf(c) === i, WHO, `egressCidrs[${i}]`, c, `each CIDR block once (it is egressCidrs[${all.indexOf(c)}] already)`);
    });
    const secretEnvKeys = new Map<string, string>();
    (props.secretEnv ?? []).forEach((s, i) => {
      if (s.keys !== undefined && !isUnresolved(s.keys)) {
        check(s.keys.length > 0, WHO, `secretEnv[${i}].keys`, s.keys, 'at least one key (leave keys unset to expose every key of the secret)');
      }
      (s.keys ?? []).forEach((key, j) => {
        const prop = `secretEnv[${i}].keys[${j}]`;
        const taken = secretEnvKeys.get(key);
        check(taken === undefined, WHO, prop, key, `each environment variable once (it is ${taken} already)`);
        check(props.env?.[key] === undefined, WHO, prop, key, `a name not also set in env (env.${key} is set: one of them would be ignored)`);
        // (A key that is no Secret data key at all is refused as such in validateWiring; every Secret data key is
        // an environment variable name Kubernetes 1.34 and later accept.)
        const by = reserved.get(key);
        if (by !== undefined && !isUnresolved(key)) throw new FxValidationError(WHO, prop, key, `a name the library does not set itself (${key} is set ${by})`);
        secretEnvKeys.set(key, prop);
      });
    });
    if (props.migration) check(props.migration.command.length > 0, WHO, 'migration.command', props.migration.command, 'a non-empty command');
    if (props.migration?.command.length) {
      check(props.migration.command[0] !== '', WHO, 'migration.command[0]', props.migration.command[0], 'an executable name or path (not empty)');
    }
    // Props a JavaScript caller could give as strings ('false' would read as true).
    const flags: Array<[string, unknown]> = [['createNamespace', props.createNamespace], ['spot', props.spot],
      ['route.stripPrefix', props.route?.stripPrefix], ['route.external', props.route?.external]];
    for (const [prop, flag] of flags) if (flag !== undefined) check(typeof flag === 'boolean', WHO, prop, flag, 'true or false');
    const keep = props.imagesToKeep;
    if (keep !== undefined) check(Number.isInteger(keep) && keep >= 1 && keep <= 1000, WHO, 'imagesToKeep', keep, 'an integer from 1 to 1000');
    if (props.route) this.validateRoute(props.route);
  }

  /** Checks that need the cluster, the other constructs or several props at once (issue 18). */
  private validateWiring(props: FxMicroserviceProps, createNamespace: boolean, v: {
    minReplicas: number;
    limits: { cpu: string; memory: string };
  }): void {
    const cluster = props.cluster;
    const nsProp = props.namespace !== undefined ? 'namespace'
      : props.serviceName !== undefined ? 'serviceName (the default namespace)' : 'construct id (the default serviceName and namespace)';
    check(!RESERVED_NAMESPACES.includes(this.namespace), WHO, nsProp, this.namespace,
      `a namespace of the service's own, not one of Kubernetes or of the platform's add-ons (${RESERVED_NAMESPACES.join(', ')})`);
    if (createNamespace) {
      this.validateQuota(props, v);
    } else if (props.quota !== undefined) {
      throw new FxValidationError(WHO, 'quota', props.quota, 'no quota with createNamespace: false (the quota is part of the namespace this service creates; set it where the namespace is created)');
    }
    (props.secretEnv ?? []).forEach((s, i) => (s.keys ?? []).forEach((key, j) => check(isSecretKey(key), WHO, `secretEnv[${i}].keys[${j}]`, key,
      'a Secret data key: letters, digits, -, _ and . (at most 253 characters)')));
    (props.secretEnv ?? []).forEach((s, i) => (s.keys ?? []).forEach((key, j) => check(isDotFreeKey(key), WHO, `secretEnv[${i}].keys[${j}]`, key,
      `a Secret data key: ${DOT_KEY_RULE}`)));
    if (props.migration?.timeout) checkDurationToken(props.migration.timeout, WHO, 'migration.timeout', 'seconds');
    if (props.migration?.timeout && !props.migration.timeout.isUnresolved()) {
      const seconds = props.migration.timeout.toSeconds({ integral: false });
      check(Number.isInteger(seconds) && seconds >= 1, WHO, 'migration.timeout', seconds,
        'a whole number of seconds, at least 1 (the Job\'s activeDeadlineSeconds)');
      check(seconds <= INT32_MAX, WHO, 'migration.timeout', seconds,
        `a whole number of seconds up to ${INT32_MAX} (the int32 maximum)`);
    }
    if (props.alerts?.latencyP99) checkDurationToken(props.alerts.latencyP99, WHO, 'alerts.latencyP99', 'seconds');
    if (props.alerts?.errorRatio !== undefined) {
      check(Number.isFinite(props.alerts.errorRatio) && props.alerts.errorRatio > 0 && props.alerts.errorRatio <= 1, WHO, 'alerts.errorRatio',
        props.alerts.errorRatio, 'a ratio above 0 and at most 1');
    }
    if (props.alerts?.latencyP99 && !props.alerts.latencyP99.isUnresolved()) {
      const ms = props.alerts.latencyP99.toMilliseconds({ integral: false });
      check(ms > 0 && Number.isFinite(ms), WHO, 'alerts.latencyP99', ms, 'a duration above 0 ms');
    }
    if (props.route) {
      check(cluster.tls !== undefined, WHO, 'route.host', props.route.host,
        `a route only on a cluster with a public entry: cluster ${cluster.node.path} has no tls (set FxCluster tls, or drop route)`);
      this.validateRouteDomain(props.route, cluster.domainName);
      this.validatePlatformHosts(props.route, cluster.domainName);
    }
    const foreign = (prop: string, other: unknown) => {
      const owner = clusterOf(other);
      if (owner && owner !== cluster) {
        throw new FxValidationError(WHO, prop, (other as Construct).node.path, `one on this service's cluster ${cluster.node.path}, not on ${owner.node.path}`);
      }
    };
    if (props.databaseRole && !props.database) {
      throw new FxValidationError(WHO, 'databaseRole', props.databaseRole.name, 'set only together with database (the role is created in that database)');
    }
    if (props.database) foreign('database', props.database);
    if (props.observability) foreign('observability', props.observability);
    if (props.alerts !== undefined && !props.observability) {
      throw new FxValidationError(WHO, 'alerts', props.alerts, 'set only together with observability (the alert rules are part of what observability installs; without it nothing would alert)');
    }
    this.validateSecretsWiring(props);
    this.validateVolumesWiring(props);
    this.validateArchitecture(props);
    (props.dependsOn ?? []).forEach((s, i) => foreign(`dependsOn[${i}]`, s));
  }

  /**
   * Secrets synced by the namespace's SecretStore: it reads Secrets Manager in the service's region
   * and account, by secret name. A list of keys from a parameter cannot be split into entries.
   */
  private validateSecretsWiring(props: FxMicroserviceProps): void {
    const stack = Stack.of(this);
    const sources: Array<[string, secretsmanager.ISecret | undefined]> = [
      ...(props.secretEnv ?? []).map((s, i) => [`secretEnv[${i}].secret`, s.secret] as [string, secretsmanager.ISecret]),
      ...(props.volumes ?? []).map((v, i) => [`volumes[${i}].secret`, v.sourceSecret] as [string, secretsmanager.ISecret | undefined]),
      ['route.basicAuth.secret', props.route?.basicAuth?.secret],
    ];
    for (const [prop, secret] of sources) {
      if (!secret) continue;
      const env = secret.env;
      for (const [part, theirs, mine] of [['region', env?.region, stack.region], ['account', env?.account, stack.account]] as const) {
        if (theirs === undefined || isUnresolved(theirs) || isUnresolved(mine) || theirs === mine) continue;
        throw new FxValidationError(WHO, prop, Token.isUnresolved(secret.secretArn) ? secret.node.path : secret.secretArn,
          `a secret in the service's ${part} ${mine} (this one is in ${part} ${theirs}): the namespace's SecretStore reads Secrets Manager of its own account and region, by secret name; replicate the secret there`);
      }
    }
    (props.secretEnv ?? []).forEach((s, i) => checkListKnownAtSynth(s.keys, `secretEnv[${i}].keys`, 'each key becomes its own ExternalSecret entry and env var'));
  }

  /** An EFS volume needs the cluster's efs-sc StorageClass, which only FxCluster's own EFS add-on creates. */
  private validateVolumesWiring(props: FxMicroserviceProps): void {
    const cluster = props.cluster;
    if (!(cluster instanceof FxCluster) || cluster.fileSystem !== undefined) return;
    (props.volumes ?? []).forEach((v, i) => check(v.kind !== 'efs', WHO, `volumes[${i}]`, `efs ${v.name}`,
      `an EFS volume only on a cluster with the efs add-on: cluster ${cluster.node.path} has no shared file system, so no efs-sc StorageClass (keep the efs add-on, or use FxVolume.gp3)`));
  }

  /** Images built here for one platform must run on the nodes the placement allows (kubernetes.io/arch). */
  private validateArchitecture(props: FxMicroserviceProps): void {
    const placement = props.placement;
    const allowed: Array<{ arches: string[]; by: string }> = [];
    const selected = placement?.nodeSelector?.[ARCH_LABEL];
    if (selected !== undefined && !isUnresolved(selected)) allowed.push({ arches: [selected], by: `placement.nodeSelector ${ARCH_LABEL}: ${selected}` });
    (placement?.requiredNodeAffinity ?? []).forEach((r, i) => {
      if (r.key !== ARCH_LABEL || r.operator !== 'In' || !r.values || isUnresolved(r.values)) return;
      allowed.push({ arches: [...r.values], by: `placement.requiredNodeAffinity[${i}] ${ARCH_LABEL} In ${r.values.join(', ')}` });
    });
    if (allowed.length === 0) return;
    const images: Array<[string, FxImage]> = [['image', props.image],
      ...(props.route?.canary ? [['route.canary.image', props.route.canary.image] as [string, FxImage]] : []),
      ...(props.sidecars ?? []).map((c, i) => [`sidecars[${i}].image`, c.image] as [string, FxImage]),
      ...(props.initContainers ?? []).map((c, i) => [`initContainers[${i}].image`, c.image] as [string, FxImage])];
    for (const [prop, img] of images) {
      const platform = builtPlatformOf(img);
      if (platform === undefined) continue;
      const arch = platform.split('/')[1];
      const refusing = allowed.find((a) => !a.arches.includes(arch));
      if (refusing) {
        throw new FxValidationError(WHO, prop, `FxImage.fromAsset (${platform})`,
          `an image built for the nodes the pods may run on (${refusing.by}): build it with platform linux/${refusing.arches[0]} (FxAssetImageOptions.platform), or place the pods on ${arch} nodes`);
      }
    }
  }

  /** The namespace quota must be a quantity that admits the service's pods. */
  private validateQuota(props: FxMicroserviceProps, v: { minReplicas: number; limits: { cpu: string; memory: string } }): void {
    const settings = props.cluster.profile.settings;
    const quota = {
      cpu: props.quota?.cpu ?? settings.serviceQuotaCpu,
      memory: props.quota?.memory ?? settings.serviceQuotaMemory,
    };
    for (const kind of ['cpu', 'memory'] as const) {
      const given = props.quota?.[kind];
      const limit = v.limits[kind];
      const prop = given !== undefined ? `quota.${kind}` : `quota.${kind}${profileSuffix(props.cluster.profile.name)}`;
      check(isQuantity(quota[kind]) && quantityValue(quota[kind]) > 0, WHO, prop, quota[kind], "a positive Kubernetes quantity such as '4', '4000m', '8Gi'");
      if (kind === 'memory') check(isMemoryQuantity(quota[kind]), WHO, prop, quota[kind], "a quantity of bytes such as '8Gi' (not the milli suffix m)");
      if (isUnresolved(quota[kind]) || isUnresolved(limit) || !isQuantity(limit)) continue;
      if (quantityValue(quota[kind]) >= quantityValue(limit)) continue;
      const limitProp = `resources.${kind}Limit`;
      if (given !== undefined) {
        throw new FxValidationError(WHO, `quota.${kind}`, given, `at least ${limitProp} (${limit}): the quota caps requests and limits, so it must admit one pod`);
      }
      throw new FxValidationError(WHO, limitProp, limit, `at most the namespace quota's ${kind} (${quota[kind]}, the profile default): raise quota.${kind}`);
    }
    this.validateQuotaTotals(props, quota, v.minReplicas);
    const pods = props.quota?.pods;
    if (pods !== undefined) {
      check(Number.isInteger(pods) && pods >= 1 && pods <= INT32_MAX, WHO, 'quota.pods', pods, `an integer from 1 to ${INT32_MAX}`);
      if (!isUnresolved(v.minReplicas)) check(pods >= v.minReplicas, WHO, 'quota.pods', pods, `at least autoscaling.minReplicas (${v.minReplicas})`);
    }
    // The pods of a rollout, against the quota given or its default of 50.
    const rollout = this.rolloutPods(props, v.minReplicas);
    if (rollout && (pods === undefined || (Number.isInteger(pods) && pods >= 1))) {
      check((pods ?? 50) >= rollout.pods, WHO, pods !== undefined ? 'quota.pods' : 'quota.pods (the default)', pods ?? 50,
        `at least ${rollout.pods}: a rollout runs ${rollout.counted.join(', ')} at once (the quota refuses the pods beyond it, and the rollout stalls)`);
    }
  }

  /**
   * The pods the service runs at once during a rollout: its replicas, the pods a rolling update surges
   * (25%, rounded up), the migration Job's pod, the canary and its own surged pod. `undefined` when the
   * replicas are a deploy-time value.
   */
  private rolloutPods(props: FxMicroserviceProps, minReplicas: number): { pods: number; counted: string[] } | undefined {
    if (isUnresolved(minReplicas)) return undefined;
    if (this.workload.runsToCompletion) return { pods: 1, counted: ['1 job pod'] };
    const stateful = (props.volumes ?? []).some((vol) => vol.kind === 'gp3');
    const surge = stateful ? 0 : Math.ceil(minReplicas / 4);
    const migration = props.migration ? 1 : 0;
    const canary = props.route?.canary !== undefined ? 2 : 0;
    const counted = [`${minReplicas} replicas`, ...(surge ? [`${surge} surged in a rolling update`] : []),
      ...(migration ? ['1 migration Job pod'] : []), ...(canary ? ['1 canary and 1 surged canary'] : [])];
    return { pods: minReplicas + surge + migration + canary, counted };
  }

  /**
   * What the service takes of its namespace's quota between rollouts: its replicas and canary, each pod
   * at its limits (the app and its sidecars, or the largest init container if more); `undefined` parts
   * are not known at synth.
   */
  private namespaceNeeds(props: FxMicroserviceProps, minReplicas: number, limits: { cpu: string; memory: string }): NamespaceNeeds {
    const perPod = (kind: 'cpu' | 'memory'): number | undefined => {
      const sidecars = (props.sidecars ?? []).map((c) => containerResources(c).limits[kind]);
      const inits = (props.initContainers ?? []).map((c) => containerResources(c).limits[kind]);
      const all = [limits[kind], ...sidecars, ...inits];
      if (all.some((q) => isUnresolved(q) || !isQuantity(q))) return undefined;
      return sidecars.reduce((sum, q) => sum + quantityValue(q), 0) + Math.max(quantityValue(limits[kind]), ...inits.map(quantityValue));
    };
    // Between rollouts: the replicas and the canary (a job's pod counts as one).
    const steady = isUnresolved(minReplicas) ? undefined
      : this.workload.runsToCompletion ? 1 : minReplicas + (props.route?.canary !== undefined ? 1 : 0);
    const amounts = (pods: number | undefined) => {
      const cpu = perPod('cpu');
      const memory = perPod('memory');
      return {
        pods,
        cpu: pods !== undefined && cpu !== undefined ? cpu * pods : undefined,
        memory: pods !== undefined && memory !== undefined ? memory * pods : undefined,
      };
    };
    return { path: this.node.path, steady: amounts(steady) };
  }

  /**
   * The quota must admit every pod the service runs at once: each pod's containers (the app and its
   * sidecars, plus the largest init container if it needs more than the app: Kubernetes' effective
   * rule with native sidecars started first), times the replicas, plus the pods a rolling update
   * surges (25%, rounded up) and the canary's pod. The quota caps limits, which are at least the requests.
   */
  private validateQuotaTotals(props: FxMicroserviceProps, quota: { cpu: string; memory: string }, minReplicas: number): void {
    if (isUnresolved(minReplicas)) return;
    const stateful = (props.volumes ?? []).some((vol) => vol.kind === 'gp3');
    const replicas = this.workload.runsToCompletion ? 1 : minReplicas;
    const surge = this.workload.runsToCompletion || stateful ? 0 : Math.ceil(minReplicas / 4);
    const canary = props.route?.canary !== undefined ? 1 : 0;
    const pods = replicas + surge + canary;
    for (const kind of ['cpu', 'memory'] as const) {
      const app = props.resources?.[`${kind}Limit`] ?? (kind === 'cpu' ? '1' : '512Mi');
      const sidecars = (props.sidecars ?? []).map((c) => containerResources(c).limits[kind]);
      const inits = (props.initContainers ?? []).map((c) => containerResources(c).limits[kind]);
      const all = [quota[kind], app, ...sidecars, ...inits];
      if (all.some((q) => isUnresolved(q) || !isQuantity(q))) continue;
      const sidecarSum = sidecars.reduce((sum, q) => sum + quantityValue(q), 0);
      const perPod = sidecarSum + Math.max(quantityValue(app), ...inits.map(quantityValue));
      const need = perPod * pods;
      if (sidecars.length + inits.length === 0 && pods === 1) continue; // one app container: checked above
      if (need <= quantityValue(quota[kind]) * (1 + 1e-9)) continue;
      const prop = props.quota?.[kind] !== undefined ? `quota.${kind}` : `quota.${kind}${profileSuffix(props.cluster.profile.name)}`;
      const counted = [`${replicas} ${this.workload.runsToCompletion ? 'job pod' : 'replicas'}`, ...(surge ? [`${surge} surged in a rolling update`] : []), ...(canary ? ['1 canary'] : [])];
      throw new FxValidationError(WHO, prop, quota[kind],
        `at least ${formatQuantity(kind, need)}: the quota caps requests and limits of every pod at once, ${pods} pods (${counted.join(', ')}) of ${formatQuantity(kind, perPod)} each `
        + `(app ${app}${sidecars.length ? `, sidecars ${sidecars.join(' + ')}` : ''}${inits.length ? `, init containers at most ${inits.join(', ')}` : ''})`);
    }
  }

  /** Hosts must be in the cluster's domain, one label deep (what `*.<domain>` covers), unless the route is external. */
  private validateRouteDomain(route: FxRoute, domain: string | undefined): void {
    if (route.external || domain === undefined || isUnresolved(domain)) return;
    [route.host, ...(route.additionalHosts ?? [])].forEach((host, i) => {
      const prop = i === 0 ? 'route.host' : `route.additionalHosts[${i - 1}]`;
      const inside = host === domain || host.endsWith(`.${domain}`);
      check(inside, WHO, prop, host, `a host in the cluster's domain ${domain} (its certificate and DNS cover only that), or route.external: true for a host you serve with your own certificate and DNS`);
      const below = host === domain ? '' : host.slice(0, host.length - domain.length - 1);
      check(!below.includes('.'), WHO, prop, host, `${domain} or one label below it: the certificate covers *.${domain}, not deeper names (or route.external: true)`);
    });
  }

  /** A service must not route a host the platform serves itself: Traefik would give it the longer (more specific) rule. */
  private validatePlatformHosts(route: FxRoute, domain: string | undefined): void {
    if (domain === undefined || isUnresolved(domain)) return;
    const platform = PLATFORM_HOST_LABELS.map((label) => `${label}.${domain}`);
    [route.host, ...(route.additionalHosts ?? [])].forEach((host, i) => {
      const prop = i === 0 ? 'route.host' : `route.additionalHosts[${i - 1}]`;
      check(!platform.includes(host), WHO, prop, host,
        `a host the platform does not serve itself (${platform.join(', ')} are FxObservability's Grafana and Kibana routes; Traefik would send their traffic to the longer rule)`);
    });
  }

  private validateRoute(route: FxRoute): void {
    const hosts = [route.host, ...(route.additionalHosts ?? [])];
    hosts.forEach((h, i) => {
      const prop = i === 0 ? 'route.host' : `route.additionalHosts[${i - 1}]`;
      const first = hosts.indexOf(h);
      check(first === i, WHO, prop, h, `each host once (it is ${first === 0 ? 'route.host' : `route.additionalHosts[${first - 1}]`} already)`);
      // Traefik's Host() matcher compares names exactly: a wildcard would match nothing.
      check(!h.includes('*'), WHO, prop, h, 'a host name without a wildcard (Traefik Host() matches exact names; list each host in additionalHosts)');
      check(isHostname(h), WHO, prop, h, 'a lowercase fully qualified host name such as api.example.com');
    });
    const prefix = route.pathPrefix ?? '/';
    check(prefix.startsWith('/') && !/[\s`]/.test(prefix), WHO, 'route.pathPrefix', prefix, "a path starting with '/' (no spaces or backticks)");
    check(!/[?#]/.test(prefix), WHO, 'route.pathPrefix', prefix, "a path without '?' or '#' (PathPrefix matches the path only, never the query or fragment)");
    if (route.rateLimit) {
      // Traefik reads both as int64.
      check(Number.isInteger(route.rateLimit.average) && route.rateLimit.average > 0, WHO, 'route.rateLimit.average', route.rateLimit.average, 'a positive integer (requests per second)');
      check(Number.isInteger(route.rateLimit.burst) && route.rateLimit.burst > 0, WHO, 'route.rateLimit.burst', route.rateLimit.burst, 'a positive integer');
      for (const k of ['average', 'burst'] as const) {
        check(route.rateLimit[k] < 2 ** 63, WHO, `route.rateLimit.${k}`, route.rateLimit[k], 'at most 9223372036854775807 (2^63-1: Traefik reads it as int64)');
      }
      if (!isUnresolved(route.rateLimit.average)) {
        check(route.rateLimit.burst >= route.rateLimit.average, WHO, 'route.rateLimit.burst', route.rateLimit.burst, `at least route.rateLimit.average (${route.rateLimit.average})`);
      }
    }
    if (route.circuitBreaker !== undefined && !isUnresolved(route.circuitBreaker)) {
      const problem = circuitBreakerProblem(route.circuitBreaker);
      check(problem === undefined, WHO, 'route.circuitBreaker', route.circuitBreaker,
        'a Traefik circuit breaker expression: NetworkErrorRatio() or ResponseCodeRatio(from, to, from, to) compared with a float, '
        + `LatencyAtQuantileMS(<float>) compared with integer ms, joined by &&, || and parentheses (${problem})`);
    }
    if (route.ipAllowList !== undefined && !isUnresolved(route.ipAllowList)) {
      check(route.ipAllowList.length > 0, WHO, 'route.ipAllowList', route.ipAllowList, 'at least one IPv4 CIDR block (leave it unset to allow every source)');
    }
    (route.ipAllowList ?? []).forEach((c, i, all) => {
      // Traefik's ipAllowList takes addresses and CIDR blocks, IPv4 and IPv6.
      const ipv6 = typeof c === 'string' && isIpv6Range(c);
      const address = typeof c === 'string' && net.isIPv4(c);
      check(isIpv4Cidr(c) || ipv6 || address, WHO, `route.ipAllowList[${i}]`, c, 'an IPv4 CIDR block such as 203.0.113.0/24 (or an IPv4 address, an IPv6 address or CIDR block)');
      if (!ipv6 && !address) check(isIpv4Network(c), WHO, `route.ipAllowList[${i}]`, c, 'a network address (host bits zero), e.g. 203.0.113.0/24 rather than 203.0.113.5/24');
      check(all.indexOf(c) === i, WHO, `route.ipAllowList[${i}]`, c, `each CIDR block once (it is route.ipAllowList[${all.indexOf(c)}] already)`);
    });
    if (route.maxRequestBodyBytes !== undefined) {
      check(Number.isInteger(route.maxRequestBodyBytes) && route.maxRequestBodyBytes >= 1024 && route.maxRequestBodyBytes <= 100 * 1024 * 1024, WHO,
        'route.maxRequestBodyBytes', route.maxRequestBodyBytes, 'an integer number of bytes from 1024 (1 KiB) to 104857600 (100 MiB)');
    }
    if (route.retryAttempts !== undefined) check(Number.isInteger(route.retryAttempts) && route.retryAttempts >= 0 && route.retryAttempts <= 10, WHO, 'route.retryAttempts', route.retryAttempts, 'an integer from 0 to 10');
    if (route.forwardAuthUrl !== undefined) {
      check(/^https?:\/\/[^\s]+$/.test(route.forwardAuthUrl), WHO, 'route.forwardAuthUrl', route.forwardAuthUrl, 'an http(s) URL');
      check(forwardAuthUrlProblem(route.forwardAuthUrl) === undefined, WHO, 'route.forwardAuthUrl', route.forwardAuthUrl,
        `an http(s) URL with a host and a port from 1 to 65535 (${forwardAuthUrlProblem(route.forwardAuthUrl)})`);
    }
    if (route.canary) {
      checkKnownAtSynth(route.canary.weight, WHO, 'route.canary.weight', 'the stable service gets 100 minus it, worked out at synth');
      check(Number.isInteger(route.canary.weight) && route.canary.weight >= 1 && route.canary.weight <= 99, WHO, 'route.canary.weight', route.canary.weight, 'an integer percentage from 1 to 99');
    }
  }

  private routeSpec(route: FxRoute, basicAuthSecret: string | undefined): RouteSpec {
    return {
      hosts: [route.host, ...(route.additionalHosts ?? [])],
      pathPrefix: route.pathPrefix ?? '/',
      stripPrefix: route.stripPrefix ?? false,
      rateLimit: route.rateLimit,
      ipAllowList: route.ipAllowList ?? [],
      retryAttempts: route.retryAttempts ?? 2,
      maxRequestBodyBytes: route.maxRequestBodyBytes ?? 1024 * 1024,
      circuitBreakerExpression: route.circuitBreaker,
      basicAuthSecret,
      forwardAuthAddress: route.forwardAuthUrl,
    };
  }

  /** How the errors name the service name: as set, or from the construct id. */
  private serviceNameProp(props: FxMicroserviceProps): string {
    return props.serviceName !== undefined ? 'serviceName' : 'serviceName (from the construct id)';
  }

  private imagesToKeep(props: FxMicroserviceProps): number {
    checkKnownAtSynth(props.imagesToKeep, WHO, 'imagesToKeep', 'it is written into the repository\'s lifecycle policy, a JSON document CloudFormation takes as one string');
    return props.imagesToKeep ?? 30;
  }

  /** Env vars the library sets in the service container itself, with what sets them. */
  private reservedEnv(props: FxMicroserviceProps): Map<string, string> {
    const names = new Map<string, string>([['POD_NAME', 'from the pod'], ['POD_NAMESPACE', 'from the pod']]);
    if (props.database) {
      for (const name of [DATABASE_CREDENTIALS_DIR_ENV, ...DATABASE_SECRET_KEYS, ...Object.keys(DATABASE_TEMPLATES)]) {
        names.set(name, 'by database, from its credentials');
      }
    }
    if (props.observability) {
      const otlp = props.observability.otlpHttpEndpoint !== undefined ? ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_PROTOCOL'] : ['OTEL_TRACES_EXPORTER'];
      for (const name of [...otlp, 'OTEL_SERVICE_NAME', 'OTEL_RESOURCE_ATTRIBUTES', 'LOG_FORMAT']) names.set(name, 'by observability');
    }
    return names;
  }

  private createRepository(imagesToKeep: number, removalPolicy: RemovalPolicy): ecr.Repository {
    return createServiceRepository(this, 'Repository', imagesToKeep, removalPolicy);
  }

  private createPodIdentityAssociation(cluster: IFxCluster): eks.CfnPodIdentityAssociation {
    const association = new eks.CfnPodIdentityAssociation(this, 'PodIdentity', {
      clusterName: cluster.cluster.clusterName,
      namespace: this.namespace,
      serviceAccount: this.serviceName,
      roleArn: this.role.roleArn,
    });
    cluster.installAfter(association, FxCapability.POD_IDENTITY);
    return association;
  }

  /**
   * The service's own login role in the database (created in this service's scope and stack): its
   * secret is the only database secret its namespace's store may read, and IAM authentication is
   * granted as its `<role>_iam` user only. The master secret is never in the service's path.
   */
  private createDatabaseRole(props: FxMicroserviceProps, database: IFxWorkloadDatabase): IFxWorkloadDatabaseRole {
    const defaultName = this.serviceName.replace(/-/g, '_');
    try {
      return database.addWorkloadRole(this, 'DatabaseRole', {
        ...props.databaseRole,
        name: props.databaseRole?.name ?? (/^[0-9]/.test(defaultName) ? `_${defaultName}` : defaultName),
      });
    } catch (e) {
      // A name or schema another service's role took: here it is this service's databaseRole, or derived from serviceName.
      const collision = e instanceof FxValidationError && e.construct.startsWith('FxDatabaseServiceRole') && ['name', 'schema'].includes(e.prop)
        && / (not used|not owned) by another service role /.test(e.allowed);
      if (!collision) throw e;
      const given = props.databaseRole?.[e.prop as 'name' | 'schema'] !== undefined;
      const derived = e.prop === 'name' ? `from ${this.serviceNameProp(props).replace(' (from the construct id)', ', from the construct id')}` : 'from the role name';
      throw new FxValidationError(`${WHO} at ${this.node.path}`, `databaseRole.${e.prop}${given ? '' : ` (${derived})`}`, e.value, e.allowed);
    }
  }

  private wireDatabase(
    database: IFxWorkloadDatabase,
    dbRole: IFxWorkloadDatabaseRole,
    externalSecrets: ExternalSecretSpec[],
    envFromSecrets: string[],
    cidrs: Array<{ cidr: string; port?: number }>,
  ): string {
    if (dbRole.iamAuth) dbRole.grantConnect(this);
    if (this.role instanceof WorkloadStoreRole) this.role.allowStoreRead(dbRole.secret);
    const name = `${this.serviceName}-database`;
    externalSecrets.push({
      name,
      remoteKey: dbRole.secretName,
      // Rotations reach running pods through the mounted files: the Secret trails Secrets Manager by at
      // most this (kubelet then updates the volume within about a minute). Multi-user rotation keeps the
      // previous credentials valid for a whole rotation period, so 5m matters for a single-user or
      // emergency rotation; it costs 12 GetSecretValue calls an hour per service.
      refreshInterval: '5m',
      properties: [...DATABASE_SECRET_KEYS],
      templates: { ...DATABASE_TEMPLATES },
    });
    envFromSecrets.push(name);
    for (const cidr of database.databaseCidrs) cidrs.push({ cidr, port: database.databasePort });
    return name;
  }
}

/** Keys of the service's database Secret (each also an env var through envFrom). */
const DATABASE_SECRET_KEYS = ['username', 'password', 'host', 'port', 'dbname'];
/** Keys rendered into the database Secret (env vars through envFrom). */
const DATABASE_TEMPLATES: Record<string, string> = {
  DATABASE_URL: 'postgresql://{{ .username | urlquery }}:{{ .password | urlquery }}@{{ .host }}:{{ .port }}/{{ .dbname }}?sslmode=require',
  PGHOST: '{{ .host }}',
  PGPORT: '{{ .port }}',
  PGDATABASE: '{{ .dbname }}',
  PGUSER: '{{ .username }}',
  PGPASSWORD: '{{ .password }}',
  PGSSLMODE: 'require',
};

/** Hosts `<label>.<domain>` FxObservability routes itself (src/observability: Grafana, Kibana). */
const PLATFORM_HOST_LABELS = ['grafana', 'kibana'];

/** An IPv6 address or CIDR block (`2001:db8::/32`, `::1`). */
function isIpv6Range(value: string): boolean {
  const [address, prefix, ...more] = value.split('/');
  return more.length === 0 && net.isIPv6(address) && (prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= 128));
}

/** Why a forward-auth URL has no usable host or port, or `undefined`. */
function forwardAuthUrlProblem(url: string): string | undefined {
  if (isUnresolved(url)) return undefined;
  const authority = /^https?:\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)(?::([^/?#]*))?/.exec(url);
  if (!authority || authority[1] === '') return 'no host';
  const port = authority[2];
  if (port !== undefined && !(/^\d+$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) return `port '${port}' is not from 1 to 65535`;
  try {
    new URL(url);
  } catch {
    return 'it does not parse as a URL';
  }
  return undefined;
}

/** A CPU (cores) or memory (bytes) amount as a quantity for a message: `1200m`, `2`, `768Mi`. */
function formatQuantity(kind: 'cpu' | 'memory', value: number): string {
  if (kind === 'cpu') return Number.isInteger(value) ? String(value) : `${Math.ceil(value * 1000)}m`;
  return `${Math.ceil(value / 2 ** 20)}Mi`;
}

/** The node label of the CPU architecture (amd64, arm64). */
const ARCH_LABEL = 'kubernetes.io/arch';

/** Pods, CPU (cores) and memory (bytes) of a service's pods at their limits (`undefined`: not known at synth). */
interface QuotaAmounts {
  readonly pods?: number;
  readonly cpu?: number;
  readonly memory?: number;
}

/** What one service takes of its namespace's quota between rollouts. */
interface NamespaceNeeds {
  readonly path: string;
  readonly steady: QuotaAmounts;
}

/** The service creating a namespace, with the quota it gives it. */
interface NamespaceCreator {
  path: string;
  manifest?: eks.KubernetesManifest;
  quota: { cpu: string; memory: string; pods: number };
  given?: FxNamespaceQuota;
  fromProfile: string;
}

/** The services of one namespace on one cluster: the one creating it (with its quota) and those joining it. */
interface NamespaceShare {
  creator?: NamespaceCreator;
  readonly joiners: Array<{ path: string; manifest?: eks.KubernetesManifest }>;
  readonly needs: NamespaceNeeds[];
}

/** Per cluster: namespace -> its services (`shareNamespace`). */
const SHARES = new WeakMap<IFxCluster, Map<string, NamespaceShare>>();

/**
 * Records a service in its namespace: the quota of the namespace (when its creator is known) must
 * admit every service in it at once, and a service joining the namespace is applied after the one
 * creating it. Returns what orders the service's manifest once it exists.
 */
function shareNamespace(cluster: IFxCluster, namespace: string, needs: NamespaceNeeds,
  quota: { cpu: string; memory: string; pods: number } | undefined, given: FxNamespaceQuota | undefined, fromProfile: string,
): { order: (manifest: eks.KubernetesManifest) => void } {
  const shares = SHARES.get(cluster) ?? new Map<string, NamespaceShare>();
  SHARES.set(cluster, shares);
  const share = shares.get(namespace) ?? { joiners: [], needs: [] };
  shares.set(namespace, share);
  const self = { path: needs.path } as { path: string; manifest?: eks.KubernetesManifest };
  const creator = quota ? Object.assign(self, { quota, given, fromProfile }) : share.creator;
  const all = [...share.needs, needs];
  if (creator && all.length > 1) {
    for (const [kind, unit] of [['pods', 'pods'], ['cpu', 'cpu'], ['memory', 'memory']] as const) {
      const limit = creator.quota[kind];
      if (isUnresolved(limit) || (kind !== 'pods' && !isQuantity(String(limit)))) continue;
      const max = kind === 'pods' ? Number(limit) : quantityValue(String(limit));
      if (all.some((x) => x.steady[kind] === undefined)) continue;
      // Every service between rollouts (a loose bound: a rollout's surged pods need more still).
      const total = all.reduce((sum, x) => sum + x.steady[kind]!, 0);
      if (total <= max * (1 + 1e-9)) continue;
      const amount = (x: number) => (kind === 'pods' ? String(x) : formatQuantity(kind, x));
      const each = all.map((x) => `${x.path} ${amount(x.steady[kind]!)}`).join(', ');
      const why = `the ${unit} of every service in namespace ${namespace} at once (${each}: ${amount(total)} in all, before any rollout surges more)`;
      if (quota) {
        const prop = given?.[kind] !== undefined ? `quota.${kind}` : `quota.${kind}${kind === 'pods' ? ' (the default)' : fromProfile}`;
        throw new FxValidationError(WHO, prop, limit, `at least ${amount(total)}: the quota of the namespace admits ${why}`);
      }
      throw new FxValidationError(WHO, 'namespace', namespace,
        `a namespace whose quota admits this service too: quota.${kind} ${amount(max)} of ${creator.path}, which creates it, is below ${why}; raise it there`);
    }
  }
  if (quota) share.creator = creator;
  else share.joiners.push(self);
  share.needs.push(needs);
  return {
    order: (manifest) => {
      self.manifest = manifest;
      if (quota) {
        for (const joiner of share.joiners) if (joiner.manifest) orderAfter(joiner.manifest, manifest);
      } else if (creator?.manifest) {
        orderAfter(manifest, creator.manifest);
      }
    },
  };
}

/**
 * `later` deploys after `first`: a dependency, unless `first`'s stack already depends on `later`'s
 * (a cycle CloudFormation could not deploy; the namespace then comes from the next deploy).
 */
function orderAfter(later: eks.KubernetesManifest, first: eks.KubernetesManifest): void {
  const [a, b] = [Stack.of(later), Stack.of(first)];
  if (a !== b && dependsOnStack(b, a, new Set())) return;
  later.node.addDependency(first);
}

function dependsOnStack(stack: Stack, other: Stack, seen: Set<Stack>): boolean {
  if (seen.has(stack)) return false;
  seen.add(stack);
  return stack.dependencies.some((d) => d === other || dependsOnStack(d, other, seen));
}

const NAMES = new WeakMap<IFxCluster, Set<string>>();
/** Per cluster: `<kind> <namespace>/<name>` of every object a service's chart creates -> the service's path. */
const OBJECTS = new WeakMap<IFxCluster, Map<string, string>>();
/** Per cluster: namespace -> path of the service that creates it. */
const NAMESPACES = new WeakMap<IFxCluster, Map<string, string>>();
/** Per cluster: host + path prefix -> path of the service routed there. */
const ROUTES = new WeakMap<IFxCluster, Map<string, string>>();
/** The cluster of each service (for `dependsOn` across clusters). */
const CLUSTER_OF = new WeakMap<FxMicroservice, IFxCluster>();

/** The FxCluster a construct was built on, when it says (FxMicroservice, FxDatabase, FxObservability). */
function clusterOf(x: unknown): IFxCluster | undefined {
  if (x instanceof FxMicroservice) return CLUSTER_OF.get(x);
  const owner = x instanceof Construct ? (x as unknown as { cluster?: unknown }).cluster : undefined;
  return FxClusterBase.isFxCluster(owner) ? owner : undefined;
}

function claimNamespace(cluster: IFxCluster, namespace: string, path: string): void {
  const created = NAMESPACES.get(cluster) ?? new Map<string, string>();
  NAMESPACES.set(cluster, created);
  const by = created.get(namespace);
  if (by !== undefined) {
    throw new FxValidationError(WHO, 'namespace', namespace,
      `a namespace no other service on this cluster creates (${by} creates it): set createNamespace: false to share it`);
  }
  created.set(namespace, path);
}

function claimRoutes(cluster: IFxCluster, route: FxRoute, path: string): void {
  const taken = ROUTES.get(cluster) ?? new Map<string, string>();
  ROUTES.set(cluster, taken);
  const raw = route.pathPrefix ?? '/';
  // Traefik's PathPrefix(`/orders`) also matches `/orders/`: one trailing slash makes no other route.
  const prefix = raw.length > 1 && raw.endsWith('/') ? raw.slice(0, -1) : raw;
  const hosts = [route.host, ...(route.additionalHosts ?? [])];
  const keys = hosts.map((host) => `${host}${prefix === '/' ? '' : prefix}`);
  keys.forEach((key, i) => {
    const by = taken.get(key);
    if (by !== undefined && !isUnresolved(key)) {
      throw new FxValidationError(WHO, i === 0 ? 'route.host' : `route.additionalHosts[${i - 1}]`, hosts[i],
        `a host and path prefix no other service on this cluster routes (${key} is routed to ${by})`);
    }
  });
  keys.forEach((key) => taken.set(key, path));
}

function claimName(cluster: IFxCluster, namespace: string, name: string, prop: string): void {
  const taken = NAMES.get(cluster) ?? new Set<string>();
  NAMES.set(cluster, taken);
  const key = `${namespace}/${name}`;
  if (taken.has(key)) {
    throw new FxValidationError(WHO, prop, name, `a name not already used in namespace ${namespace} on this cluster`);
  }
  taken.add(key);
}

/**
 * Every namespaced object of a service's chart (Deployment `<name>-canary`, ServiceAccount
 * `<name>-secrets`, Service `<name>-headless`...) is registered per cluster: another service creating
 * an object of the same kind, namespace and name would overwrite it when applied.
 */
function claimObjects(cluster: IFxCluster, objects: any[], path: string, prop: string, name: string): void {
  const taken = OBJECTS.get(cluster) ?? new Map<string, string>();
  OBJECTS.set(cluster, taken);
  const keys = objects
    .filter((o: any) => o.metadata?.namespace !== undefined && typeof o.metadata.name === 'string' && !Token.isUnresolved(o.metadata.name))
    .map((o: any) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`);
  for (const key of keys) {
    const by = taken.get(key);
    if (by !== undefined && by !== path) {
      throw new FxValidationError(WHO, prop, name, `a name whose objects no other service creates: ${key} is also created by ${by}`);
    }
  }
  for (const key of keys) taken.set(key, path);
}

/**
 * Egress to the OTLP collector named by the observability endpoints (`http://<service>.<namespace>:<port>`):
 * its namespace on both ports, plus the node subnets in case the collector's DaemonSet runs on the host
 * network (its Service then translates to node addresses).
 */
function otlpEgress(observability: IFxWorkloadObservability, nodeCidrs: string[]): OtlpEgressSpec | undefined {
  const urls = [observability.otlpEndpoint, observability.otlpHttpEndpoint].filter((url): url is string => url !== undefined);
  if (urls.length === 0) return undefined;
  const endpoints = urls.map((url) => {
    const m = /^https?:\/\/([a-z0-9-]+)\.([a-z0-9-]+)(?:\.svc(?:\.cluster\.local)?)?:(\d+)\/?$/.exec(url);
    if (!m) throw new FxValidationError(WHO, 'observability', url, 'OTLP endpoints of the form http://<service>.<namespace>:<port>');
    return { namespace: m[2], port: Number(m[3]) };
  });
  const namespaces = new Set(endpoints.map((e) => e.namespace));
  if (namespaces.size !== 1) throw new FxValidationError(WHO, 'observability', [...namespaces].join(', '), 'OTLP endpoints in one namespace');
  return { namespace: endpoints[0].namespace, ports: [...new Set(endpoints.map((e) => e.port))], nodeCidrs };
}
