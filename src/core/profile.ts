import { Duration, RemovalPolicy, Size } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { check } from './errors';

/**
 * Every default a profile decides: each default that differs between development and production
 * is a field here, and no Fx construct tests which profile it runs under. Each construct reads the
 * fields it needs; every one of them can still be overridden by the construct's own props, and
 * `FxProfile.custom()` changes any of them for all constructs at once.
 */
export interface FxProfileSettings {
  /** Name of the profile, used in tags and error messages. */
  readonly name: string;
  /**
   * Whether this profile is meant for production traffic. Informational (tags, your own code): no
   * Fx construct reads it; every default it stands for is a field of its own.
   */
  readonly production: boolean;

  // Network and compute
  /** NAT gateways in the platform VPC (1 saves cost, one per AZ survives an AZ outage). Development: 1; production: 3. */
  readonly natGateways: number;
  /** Instance type of the default managed node group. Development: t3.medium; production: t3.large. */
  readonly nodeInstanceType: ec2.InstanceType;
  /** Minimum size of the default node group. Development: 2; production: 3. */
  readonly nodeMinSize: number;
  /** Desired size of the default node group. Development: 2; production: 3. */
  readonly nodeDesiredSize: number;
  /** Maximum size of the default node group. Development: 4; production: 9. */
  readonly nodeMaxSize: number;
  /** Retention of VPC flow logs and EKS control-plane logs. Development: one month; production: one year. */
  readonly logRetention: logs.RetentionDays;
  /** Whether dynamically provisioned volumes are retained when their claim is deleted. Development: false; production: true. */
  readonly retainVolumes: boolean;
  /**
   * Removal policy of the resources that must keep a fixed name (the EKS control-plane, Container
   * Insights and RDS log groups) or whose contents are operational data (ECR repositories, the Grafana
   * admin secret). Never plain `RETAIN`: a retained resource with a fixed name survives a rolled-back
   * first create and every retry then fails with AlreadyExists; `RETAIN_ON_UPDATE_OR_DELETE` keeps
   * the data when the stack is updated or deleted but removes what a failed create made.
   * Development: DESTROY; production: RETAIN_ON_UPDATE_OR_DELETE.
   */
  readonly removalPolicy: RemovalPolicy;

  // Database
  /** Instance type of the PostgreSQL database (Graviton). Development: t4g.medium; production: m7g.large. */
  readonly databaseInstanceType: ec2.InstanceType;
  /** Whether the database runs Multi-AZ. Development: false; production: true. */
  readonly databaseMultiAz: boolean;
  /** Automated backup retention of the database, and retention of the AWS Backup plan. Development: 7 days; production: 35 days. */
  readonly backupRetention: Duration;

  // Workloads
  /** Replicas of each microservice (and the HPA minimum). Development: 1; production: 2. */
  readonly serviceMinReplicas: number;
  /** HPA maximum of each microservice. Development: 3; production: 10. */
  readonly serviceMaxReplicas: number;
  /** Replicas of the ingress controller. Development: 1; production: 2. */
  readonly ingressReplicas: number;

  // Observability
  /** Prometheus retention. Development: 7 days; production: 30 days. */
  readonly metricsRetention: Duration;
  /** Whether the ELK stack is installed by default. Development: false; production: true. */
  readonly elkEnabled: boolean;
  /** Elasticsearch data nodes. Development: 1; production: 3. */
  readonly elasticsearchNodes: number;
  /** Kibana replicas. Development: 1; production: 2. */
  readonly kibanaReplicas: number;
  /** Days log indices are kept in Elasticsearch. Development: 7; production: 30. */
  readonly elasticsearchRetentionDays: number;
  /** Days Velero keeps cluster backups. Development: 7; production: 30. */
  readonly clusterBackupRetentionDays: number;

  // Database (FxDatabase)
  /** Allocated storage of a database. Development: 20 GiB; production: 100 GiB. */
  readonly databaseAllocatedStorage: Size;
  /** Storage autoscaling ceiling of a database. Development: 100 GiB; production: 1024 GiB. */
  readonly databaseMaxAllocatedStorage: Size;
  /** Retention of the weekly backups of the AWS Backup plan. Development: 35 days; production: 365 days. */
  readonly databaseWeeklyBackupRetention: Duration;
  /** Whether the AWS Backup vault refuses to delete recovery points. Development: false; production: true. */
  readonly databaseBlockRecoveryPointDeletion: boolean;
  /**
   * Whether turning a database's `deletionProtection` off also requires an explicit `removalPolicy`
   * (the database is kept unless you say otherwise). Development: false; production: true.
   */
  readonly databaseRequireExplicitRemoval: boolean;

  // Compliance (FxCompliance)
  /** Whether an AWS Config recorder Fx creates records continuously (else daily). Development: false; production: true. */
  readonly continuousConfigRecording: boolean;

  // Microservices (FxMicroservice)
  /** CPU quota (requests and limits) of a service's own namespace. Development: '4'; production: '16'. */
  readonly serviceQuotaCpu: string;
  /** Memory quota (requests and limits) of a service's own namespace. Development: '8Gi'; production: '32Gi'. */
  readonly serviceQuotaMemory: string;

  // Cluster add-ons
  /**
   * Replicas of the cluster add-on controllers and webhooks (AWS Load Balancer Controller, External
   * Secrets, cert-manager, metrics-server); more than one also adds a PodDisruptionBudget.
   * Development: 1; production: 2.
   */
  readonly addonReplicas: number;
  /**
   * Whether replicated platform pods (add-ons, Elasticsearch) must spread across zones
   * (`DoNotSchedule`) rather than best effort (`ScheduleAnyway`). Development: false; production: true.
   */
  readonly strictZoneSpread: boolean;

  // Monitoring (FxObservability)
  /**
   * Whether FxObservability fails synth, rather than warning, when the Grafana and Kibana routes would
   * be open to 0.0.0.0/0 (no `adminCidrs` and the cluster's public endpoint open to everyone).
   * Development: false; production: true.
   */
  readonly requireDashboardAllowlist: boolean;
  /** Fraction of requests traced. Development: 0.2; production: 0.05. */
  readonly traceSamplingRate: number;
  /** Prometheus volume. Development: 30 GiB; production: 100 GiB. */
  readonly prometheusStorage: Size;
  /** Prometheus replicas. Development: 1; production: 2. */
  readonly prometheusReplicas: number;
  /** Prometheus CPU request (a Kubernetes quantity). Development: '200m'; production: '500m'. */
  readonly prometheusCpuRequest: string;
  /** Prometheus memory request (a Kubernetes quantity). Development: '1Gi'; production: '2Gi'. */
  readonly prometheusMemoryRequest: string;
  /** Prometheus memory limit (a Kubernetes quantity). Development: '2Gi'; production: '4Gi'. */
  readonly prometheusMemoryLimit: string;
  /** Alertmanager replicas. Development: 1; production: 2. */
  readonly alertmanagerReplicas: number;
  /** Alarm threshold: node CPU utilization, percent. Development: 90; production: 80. */
  readonly alarmNodeCpuPercent: number;
  /** Alarm threshold: node memory utilization, percent. Development: 90; production: 85. */
  readonly alarmNodeMemoryPercent: number;
  /** Alarm threshold: node filesystem utilization, percent. Development: 85; production: 80. */
  readonly alarmNodeDiskPercent: number;
  /** Alarm threshold: container restarts per evaluation period. Development: 10; production: 5. */
  readonly alarmPodRestarts: number;
  /** Alarm threshold: load balancer 5xx responses per period. Development: 50; production: 10. */
  readonly alarmLoadBalancer5xxCount: number;
  /** Alarm threshold: load balancer target response time. Development: 2 seconds; production: 1 second. */
  readonly alarmTargetResponseTime: Duration;
  /** Periods an alarm condition must last. Development: 3; production: 2. */
  readonly alarmEvaluationPeriods: number;
  /** Database alarm threshold: CPU utilization, percent. Development: 90; production: 80. */
  readonly alarmDatabaseCpuPercent: number;
  /** Database alarm threshold: free storage. Development: 2 GiB; production: 10 GiB. */
  readonly alarmDatabaseFreeStorage: Size;
  /** Database alarm threshold: connections. Development: 100; production: 400. */
  readonly alarmDatabaseConnections: number;
  /** Database alarm threshold: read latency. Development: 50 ms; production: 20 ms. */
  readonly alarmDatabaseReadLatency: Duration;
  /** Database alarm threshold: write latency. Development: 50 ms; production: 20 ms. */
  readonly alarmDatabaseWriteLatency: Duration;

  // Logging (FxObservability ELK)
  /** Fewest Elasticsearch data nodes a cluster may be given. Development: 1; production: 3 (one per zone). */
  readonly elasticsearchMinNodes: number;
  /** Volume of each Elasticsearch node. Development: 20 GiB; production: 100 GiB. */
  readonly elasticsearchStorage: Size;
  /** Elasticsearch JVM heap (`-Xms`/`-Xmx`). Development: '1g'; production: '2g'. */
  readonly elasticsearchHeap: string;
  /** Elasticsearch memory request and limit (a Kubernetes quantity). Development: '2Gi'; production: '4Gi'. */
  readonly elasticsearchMemory: string;
  /** Elasticsearch CPU request (a Kubernetes quantity). Development: '500m'; production: '1'. */
  readonly elasticsearchCpuRequest: string;
  /** Kibana CPU request (a Kubernetes quantity). Development: '200m'; production: '500m'. */
  readonly kibanaCpuRequest: string;

  // Karpenter (FxNodeAutoscaler.karpenter())
  /** Replicas of the Karpenter controller (on the managed node groups). Development: 1; production: 2. */
  readonly karpenterReplicas: number;
  /** EC2 instance families a Karpenter NodePool may launch (`karpenter.k8s.aws/instance-family`). Development: t3, t3a, m6i, m7i, c6i, c7i; production: m6i, m7i, c6i, c7i, r6i, r7i. */
  readonly karpenterInstanceFamilies: string[];
  /** EC2 instance sizes a Karpenter NodePool may launch (`karpenter.k8s.aws/instance-size`). Development: large, xlarge; production: large, xlarge, 2xlarge. */
  readonly karpenterInstanceSizes: string[];
  /** CPU architectures of Karpenter nodes. Development: x86_64; production: x86_64. */
  readonly karpenterArchitectures: ec2.InstanceArchitecture[];
  /** vCPUs one Karpenter NodePool may run in total (its `limits.cpu`). Development: 32; production: 256. */
  readonly karpenterCpuLimit: number;
  /** How long a Karpenter node stays empty or underutilized before it is consolidated. Development: 30 seconds; production: 5 minutes. */
  readonly karpenterConsolidateAfter: Duration;
  /** Age at which Karpenter replaces a node (fresh AMI and kernel). Development: 7 days; production: 30 days. */
  readonly karpenterExpireAfter: Duration;
}

/**
 * A deployment profile: the set of defaults every Fx construct starts from.
 *
 * Use `FxProfile.DEVELOPMENT` for cheap, single-NAT, single-replica environments and
 * `FxProfile.PRODUCTION` for highly available ones. `FxProfile.custom()` derives a profile
 * from one of them with some settings changed.
 */
export class FxProfile {
  /**
   * Cheap and small: one NAT gateway, two t3.medium nodes, single-AZ database, short retention; the
   * stack deletes the log groups, repositories and secrets it created (the database leaves a snapshot).
   */
  public static readonly DEVELOPMENT = new FxProfile({
    name: 'development',
    production: false,
    natGateways: 1,
    nodeInstanceType: ec2.InstanceType.of(ec2.InstanceClass.T3, ec2.InstanceSize.MEDIUM),
    nodeMinSize: 2,
    nodeDesiredSize: 2,
    nodeMaxSize: 4,
    logRetention: logs.RetentionDays.ONE_MONTH,
    retainVolumes: false,
    removalPolicy: RemovalPolicy.DESTROY,
    databaseInstanceType: ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MEDIUM),
    databaseMultiAz: false,
    backupRetention: Duration.days(7),
    serviceMinReplicas: 1,
    serviceMaxReplicas: 3,
    ingressReplicas: 1,
    metricsRetention: Duration.days(7),
    elkEnabled: false,
    elasticsearchNodes: 1,
    kibanaReplicas: 1,
    elasticsearchRetentionDays: 7,
    clusterBackupRetentionDays: 7,
    databaseAllocatedStorage: Size.gibibytes(20),
    databaseMaxAllocatedStorage: Size.gibibytes(100),
    databaseWeeklyBackupRetention: Duration.days(35),
    databaseBlockRecoveryPointDeletion: false,
    databaseRequireExplicitRemoval: false,
    continuousConfigRecording: false,
    serviceQuotaCpu: '4',
    serviceQuotaMemory: '8Gi',
    addonReplicas: 1,
    strictZoneSpread: false,
    requireDashboardAllowlist: false,
    traceSamplingRate: 0.2,
    prometheusStorage: Size.gibibytes(30),
    prometheusReplicas: 1,
    prometheusCpuRequest: '200m',
    prometheusMemoryRequest: '1Gi',
    prometheusMemoryLimit: '2Gi',
    alertmanagerReplicas: 1,
    alarmNodeCpuPercent: 90,
    alarmNodeMemoryPercent: 90,
    alarmNodeDiskPercent: 85,
    alarmPodRestarts: 10,
    alarmLoadBalancer5xxCount: 50,
    alarmTargetResponseTime: Duration.seconds(2),
    alarmEvaluationPeriods: 3,
    alarmDatabaseCpuPercent: 90,
    alarmDatabaseFreeStorage: Size.gibibytes(2),
    alarmDatabaseConnections: 100,
    alarmDatabaseReadLatency: Duration.millis(50),
    alarmDatabaseWriteLatency: Duration.millis(50),
    elasticsearchMinNodes: 1,
    elasticsearchStorage: Size.gibibytes(20),
    elasticsearchHeap: '1g',
    elasticsearchMemory: '2Gi',
    elasticsearchCpuRequest: '500m',
    kibanaCpuRequest: '200m',
    karpenterReplicas: 1,
    karpenterInstanceFamilies: ['t3', 't3a', 'm6i', 'm7i', 'c6i', 'c7i'],
    karpenterInstanceSizes: ['large', 'xlarge'],
    karpenterArchitectures: [ec2.InstanceArchitecture.X86_64],
    karpenterCpuLimit: 32,
    karpenterConsolidateAfter: Duration.seconds(30),
    karpenterExpireAfter: Duration.days(7),
  });

  /**
   * Highly available: one NAT gateway per AZ, three t3.large nodes, Multi-AZ database, 35-day backups;
   * log groups, repositories and secrets outlive the stack (`RETAIN_ON_UPDATE_OR_DELETE`).
   */
  public static readonly PRODUCTION = new FxProfile({
    name: 'production',
    production: true,
    natGateways: 3,
    nodeInstanceType: ec2.InstanceType.of(ec2.InstanceClass.T3, ec2.InstanceSize.LARGE),
    nodeMinSize: 3,
    nodeDesiredSize: 3,
    nodeMaxSize: 9,
    logRetention: logs.RetentionDays.ONE_YEAR,
    retainVolumes: true,
    removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    databaseInstanceType: ec2.InstanceType.of(ec2.InstanceClass.M7G, ec2.InstanceSize.LARGE),
    databaseMultiAz: true,
    backupRetention: Duration.days(35),
    serviceMinReplicas: 2,
    serviceMaxReplicas: 10,
    ingressReplicas: 2,
    metricsRetention: Duration.days(30),
    elkEnabled: true,
    elasticsearchNodes: 3,
    kibanaReplicas: 2,
    elasticsearchRetentionDays: 30,
    clusterBackupRetentionDays: 30,
    databaseAllocatedStorage: Size.gibibytes(100),
    databaseMaxAllocatedStorage: Size.gibibytes(1024),
    databaseWeeklyBackupRetention: Duration.days(365),
    databaseBlockRecoveryPointDeletion: true,
    databaseRequireExplicitRemoval: true,
    continuousConfigRecording: true,
    serviceQuotaCpu: '16',
    serviceQuotaMemory: '32Gi',
    addonReplicas: 2,
    strictZoneSpread: true,
    requireDashboardAllowlist: true,
    traceSamplingRate: 0.05,
    prometheusStorage: Size.gibibytes(100),
    prometheusReplicas: 2,
    prometheusCpuRequest: '500m',
    prometheusMemoryRequest: '2Gi',
    prometheusMemoryLimit: '4Gi',
    alertmanagerReplicas: 2,
    alarmNodeCpuPercent: 80,
    alarmNodeMemoryPercent: 85,
    alarmNodeDiskPercent: 80,
    alarmPodRestarts: 5,
    alarmLoadBalancer5xxCount: 10,
    alarmTargetResponseTime: Duration.seconds(1),
    alarmEvaluationPeriods: 2,
    alarmDatabaseCpuPercent: 80,
    alarmDatabaseFreeStorage: Size.gibibytes(10),
    alarmDatabaseConnections: 400,
    alarmDatabaseReadLatency: Duration.millis(20),
    alarmDatabaseWriteLatency: Duration.millis(20),
    elasticsearchMinNodes: 3,
    elasticsearchStorage: Size.gibibytes(100),
    elasticsearchHeap: '2g',
    elasticsearchMemory: '4Gi',
    elasticsearchCpuRequest: '1',
    kibanaCpuRequest: '500m',
    karpenterReplicas: 2,
    karpenterInstanceFamilies: ['m6i', 'm7i', 'c6i', 'c7i', 'r6i', 'r7i'],
    karpenterInstanceSizes: ['large', 'xlarge', '2xlarge'],
    karpenterArchitectures: [ec2.InstanceArchitecture.X86_64],
    karpenterCpuLimit: 256,
    karpenterConsolidateAfter: Duration.minutes(5),
    karpenterExpireAfter: Duration.days(30),
  });

  /**
   * A profile derived from `base` with some settings replaced.
   *
   * @param base the profile to start from
   * @param name the new profile's name
   * @param overrides settings that differ from `base`
   */
  public static custom(base: FxProfile, name: string, overrides: FxProfileOverrides): FxProfile {
    // The name is the OpenTelemetry deployment.environment of every service and names the profile in messages.
    check(typeof name === 'string' && /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/.test(name), 'FxProfile', 'name', name,
      'up to 63 letters, digits, -, _ and ., starting and ending with a letter or digit (it becomes deployment.environment of every service)');
    const removal = overrides.removalPolicy;
    check(removal === undefined || removal === RemovalPolicy.DESTROY || removal === RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
      'FxProfile', 'removalPolicy', removal, 'RemovalPolicy.DESTROY or RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE (RETAIN keeps what a '
      + 'rolled-back first create made, so every retry fails with AlreadyExists; log groups cannot be snapshotted)');
    return new FxProfile({ ...base.settings, ...stripUndefined(overrides), name });
  }

  /** All settings of this profile. */
  public readonly settings: FxProfileSettings;

  private constructor(settings: FxProfileSettings) {
    this.settings = settings;
  }

  /** Name of the profile. */
  public get name(): string {
    return this.settings.name;
  }

  /** Whether this is a production profile (informational: no Fx construct reads it). */
  public get isProduction(): boolean {
    return this.settings.production;
  }
}

/** Settings to change when deriving a profile with `FxProfile.custom()`; unset fields keep the base value. */
export interface FxProfileOverrides {
  /** @default - the base profile's value (development: 1; production: 3) */
  readonly natGateways?: number;
  /** @default - the base profile's value (development: t3.medium; production: t3.large) */
  readonly nodeInstanceType?: ec2.InstanceType;
  /** @default - the base profile's value (development: 2; production: 3) */
  readonly nodeMinSize?: number;
  /** @default - the base profile's value (development: 2; production: 3) */
  readonly nodeDesiredSize?: number;
  /** @default - the base profile's value (development: 4; production: 9) */
  readonly nodeMaxSize?: number;
  /** @default - the base profile's value (development: one month; production: one year) */
  readonly logRetention?: logs.RetentionDays;
  /** @default - the base profile's value (development: false; production: true) */
  readonly retainVolumes?: boolean;
  /** @default - the base profile's value (development: DESTROY; production: RETAIN_ON_UPDATE_OR_DELETE) */
  readonly removalPolicy?: RemovalPolicy;
  /** @default - the base profile's value (development: t4g.medium; production: m7g.large) */
  readonly databaseInstanceType?: ec2.InstanceType;
  /** @default - the base profile's value (development: false; production: true) */
  readonly databaseMultiAz?: boolean;
  /** @default - the base profile's value (development: 7 days; production: 35 days) */
  readonly backupRetention?: Duration;
  /** @default - the base profile's value (development: 1; production: 2) */
  readonly serviceMinReplicas?: number;
  /** @default - the base profile's value (development: 3; production: 10) */
  readonly serviceMaxReplicas?: number;
  /** @default - the base profile's value (development: 1; production: 2) */
  readonly ingressReplicas?: number;
  /** @default - the base profile's value (development: 7 days; production: 30 days) */
  readonly metricsRetention?: Duration;
  /** @default - the base profile's value (development: false; production: true) */
  readonly elkEnabled?: boolean;
  /** @default - the base profile's value (development: 1; production: 3) */
  readonly elasticsearchNodes?: number;
  /** @default - the base profile's value (development: 1; production: 2) */
  readonly kibanaReplicas?: number;
  /** @default - the base profile's value (development: 7; production: 30) */
  readonly elasticsearchRetentionDays?: number;
  /** @default - the base profile's value (development: 7; production: 30) */
  readonly clusterBackupRetentionDays?: number;
  /** @default - the base profile's value (development: 20 GiB; production: 100 GiB) */
  readonly databaseAllocatedStorage?: Size;
  /** @default - the base profile's value (development: 100 GiB; production: 1024 GiB) */
  readonly databaseMaxAllocatedStorage?: Size;
  /** @default - the base profile's value (development: 35 days; production: 365 days) */
  readonly databaseWeeklyBackupRetention?: Duration;
  /** @default - the base profile's value (development: false; production: true) */
  readonly databaseBlockRecoveryPointDeletion?: boolean;
  /** @default - the base profile's value (development: false; production: true) */
  readonly databaseRequireExplicitRemoval?: boolean;
  /** @default - the base profile's value (development: false; production: true) */
  readonly continuousConfigRecording?: boolean;
  /** @default - the base profile's value (development: '4'; production: '16') */
  readonly serviceQuotaCpu?: string;
  /** @default - the base profile's value (development: '8Gi'; production: '32Gi') */
  readonly serviceQuotaMemory?: string;
  /** @default - the base profile's value (development: 1; production: 2) */
  readonly addonReplicas?: number;
  /** @default - the base profile's value (development: false; production: true) */
  readonly strictZoneSpread?: boolean;
  /** @default - the base profile's value (development: false; production: true) */
  readonly requireDashboardAllowlist?: boolean;
  /** @default - the base profile's value (development: 0.2; production: 0.05) */
  readonly traceSamplingRate?: number;
  /** @default - the base profile's value (development: 30 GiB; production: 100 GiB) */
  readonly prometheusStorage?: Size;
  /** @default - the base profile's value (development: 1; production: 2) */
  readonly prometheusReplicas?: number;
  /** @default - the base profile's value (development: '200m'; production: '500m') */
  readonly prometheusCpuRequest?: string;
  /** @default - the base profile's value (development: '1Gi'; production: '2Gi') */
  readonly prometheusMemoryRequest?: string;
  /** @default - the base profile's value (development: '2Gi'; production: '4Gi') */
  readonly prometheusMemoryLimit?: string;
  /** @default - the base profile's value (development: 1; production: 2) */
  readonly alertmanagerReplicas?: number;
  /** @default - the base profile's value (development: 90; production: 80) */
  readonly alarmNodeCpuPercent?: number;
  /** @default - the base profile's value (development: 90; production: 85) */
  readonly alarmNodeMemoryPercent?: number;
  /** @default - the base profile's value (development: 85; production: 80) */
  readonly alarmNodeDiskPercent?: number;
  /** @default - the base profile's value (development: 10; production: 5) */
  readonly alarmPodRestarts?: number;
  /** @default - the base profile's value (development: 50; production: 10) */
  readonly alarmLoadBalancer5xxCount?: number;
  /** @default - the base profile's value (development: 2 seconds; production: 1 second) */
  readonly alarmTargetResponseTime?: Duration;
  /** @default - the base profile's value (development: 3; production: 2) */
  readonly alarmEvaluationPeriods?: number;
  /** @default - the base profile's value (development: 90; production: 80) */
  readonly alarmDatabaseCpuPercent?: number;
  /** @default - the base profile's value (development: 2 GiB; production: 10 GiB) */
  readonly alarmDatabaseFreeStorage?: Size;
  /** @default - the base profile's value (development: 100; production: 400) */
  readonly alarmDatabaseConnections?: number;
  /** @default - the base profile's value (development: 50 ms; production: 20 ms) */
  readonly alarmDatabaseReadLatency?: Duration;
  /** @default - the base profile's value (development: 50 ms; production: 20 ms) */
  readonly alarmDatabaseWriteLatency?: Duration;
  /** @default - the base profile's value (development: 1; production: 3) */
  readonly elasticsearchMinNodes?: number;
  /** @default - the base profile's value (development: 20 GiB; production: 100 GiB) */
  readonly elasticsearchStorage?: Size;
  /** @default - the base profile's value (development: '1g'; production: '2g') */
  readonly elasticsearchHeap?: string;
  /** @default - the base profile's value (development: '2Gi'; production: '4Gi') */
  readonly elasticsearchMemory?: string;
  /** @default - the base profile's value (development: '500m'; production: '1') */
  readonly elasticsearchCpuRequest?: string;
  /** @default - the base profile's value (development: '200m'; production: '500m') */
  readonly kibanaCpuRequest?: string;
  /** @default - the base profile's value (development: 1; production: 2) */
  readonly karpenterReplicas?: number;
  /** @default - the base profile's value (development: t3, t3a, m6i, m7i, c6i, c7i; production: m6i, m7i, c6i, c7i, r6i, r7i) */
  readonly karpenterInstanceFamilies?: string[];
  /** @default - the base profile's value (development: large, xlarge; production: large, xlarge, 2xlarge) */
  readonly karpenterInstanceSizes?: string[];
  /** @default - the base profile's value (development: x86_64; production: x86_64) */
  readonly karpenterArchitectures?: ec2.InstanceArchitecture[];
  /** @default - the base profile's value (development: 32; production: 256) */
  readonly karpenterCpuLimit?: number;
  /** @default - the base profile's value (development: 30 seconds; production: 5 minutes) */
  readonly karpenterConsolidateAfter?: Duration;
  /** @default - the base profile's value (development: 7 days; production: 30 days) */
  readonly karpenterExpireAfter?: Duration;
}

function stripUndefined<T extends object>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}
