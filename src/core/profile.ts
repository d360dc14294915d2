import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { check } from './errors';

/**
 * Every default a profile decides. Each Fx construct reads the fields it needs; every one of
 * them can still be overridden by the construct's own props.
 */
export interface FxProfileSettings {
  /** Name of the profile, used in tags and error messages. */
  readonly name: string;
  /** Whether this profile is meant for production traffic (stricter retention, more replicas). */
  readonly production: boolean;

  // Network and compute
  /** NAT gateways in the platform VPC (1 saves cost, one per AZ survives an AZ outage). */
  readonly natGateways: number;
  /** Instance type of the default managed node group. */
  readonly nodeInstanceType: ec2.InstanceType;
  /** Minimum size of the default node group. */
  readonly nodeMinSize: number;
  /** Desired size of the default node group. */
  readonly nodeDesiredSize: number;
  /** Maximum size of the default node group. */
  readonly nodeMaxSize: number;
  /** Retention of VPC flow logs and EKS control-plane logs. */
  readonly logRetention: logs.RetentionDays;
  /** Whether dynamically provisioned volumes are retained when their claim is deleted. */
  readonly retainVolumes: boolean;
  /**
   * Removal policy of the resources that must keep a fixed name (the EKS control-plane, Container
   * Insights and RDS log groups) or whose contents are operational data (ECR repositories, the Grafana
   * admin secret). Never plain `RETAIN`: a retained resource with a fixed name survives a rolled-back
   * first create and every retry then fails with AlreadyExists; `RETAIN_ON_UPDATE_OR_DELETE` keeps
   * the data when the stack is updated or deleted but removes what a failed create made.
   */
  readonly removalPolicy: RemovalPolicy;

  // Database
  /** Instance type of the PostgreSQL database (Graviton). */
  readonly databaseInstanceType: ec2.InstanceType;
  /** Whether the database runs Multi-AZ. */
  readonly databaseMultiAz: boolean;
  /** Automated backup retention of the database, and retention of the AWS Backup plan. */
  readonly backupRetention: Duration;

  // Workloads
  /** Replicas of each microservice (and the HPA minimum). */
  readonly serviceMinReplicas: number;
  /** HPA maximum of each microservice. */
  readonly serviceMaxReplicas: number;
  /** Replicas of the ingress controller. */
  readonly ingressReplicas: number;

  // Observability
  /** Prometheus retention. */
  readonly metricsRetention: Duration;
  /** Whether the ELK stack is installed by default. */
  readonly elkEnabled: boolean;
  /** Elasticsearch data nodes. */
  readonly elasticsearchNodes: number;
  /** Kibana replicas. */
  readonly kibanaReplicas: number;
  /** Days log indices are kept in Elasticsearch. */
  readonly elasticsearchRetentionDays: number;
  /** Days Velero keeps cluster backups. */
  readonly clusterBackupRetentionDays: number;

  // Karpenter (FxNodeAutoscaler.karpenter())
  /** Replicas of the Karpenter controller (on the managed node groups). */
  readonly karpenterReplicas: number;
  /** EC2 instance families a Karpenter NodePool may launch (`karpenter.k8s.aws/instance-family`). */
  readonly karpenterInstanceFamilies: string[];
  /** EC2 instance sizes a Karpenter NodePool may launch (`karpenter.k8s.aws/instance-size`). */
  readonly karpenterInstanceSizes: string[];
  /** CPU architectures of Karpenter nodes. */
  readonly karpenterArchitectures: ec2.InstanceArchitecture[];
  /** vCPUs one Karpenter NodePool may run in total (its `limits.cpu`). */
  readonly karpenterCpuLimit: number;
  /** How long a Karpenter node stays empty or underutilized before it is consolidated. */
  readonly karpenterConsolidateAfter: Duration;
  /** Age at which Karpenter replaces a node (fresh AMI and kernel). */
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

  /** Whether this is a production profile. */
  public get isProduction(): boolean {
    return this.settings.production;
  }
}

/** Settings to change when deriving a profile with `FxProfile.custom()`; unset fields keep the base value. */
export interface FxProfileOverrides {
  /** @default - base profile value */
  readonly natGateways?: number;
  /** @default - base profile value */
  readonly nodeInstanceType?: ec2.InstanceType;
  /** @default - base profile value */
  readonly nodeMinSize?: number;
  /** @default - base profile value */
  readonly nodeDesiredSize?: number;
  /** @default - base profile value */
  readonly nodeMaxSize?: number;
  /** @default - base profile value */
  readonly logRetention?: logs.RetentionDays;
  /** @default - base profile value */
  readonly retainVolumes?: boolean;
  /** @default - base profile value */
  readonly removalPolicy?: RemovalPolicy;
  /** @default - base profile value */
  readonly databaseInstanceType?: ec2.InstanceType;
  /** @default - base profile value */
  readonly databaseMultiAz?: boolean;
  /** @default - base profile value */
  readonly backupRetention?: Duration;
  /** @default - base profile value */
  readonly serviceMinReplicas?: number;
  /** @default - base profile value */
  readonly serviceMaxReplicas?: number;
  /** @default - base profile value */
  readonly ingressReplicas?: number;
  /** @default - base profile value */
  readonly metricsRetention?: Duration;
  /** @default - base profile value */
  readonly elkEnabled?: boolean;
  /** @default - base profile value */
  readonly elasticsearchNodes?: number;
  /** @default - base profile value */
  readonly kibanaReplicas?: number;
  /** @default - base profile value */
  readonly elasticsearchRetentionDays?: number;
  /** @default - base profile value */
  readonly clusterBackupRetentionDays?: number;
  /** @default - base profile value */
  readonly karpenterReplicas?: number;
  /** @default - base profile value */
  readonly karpenterInstanceFamilies?: string[];
  /** @default - base profile value */
  readonly karpenterInstanceSizes?: string[];
  /** @default - base profile value */
  readonly karpenterArchitectures?: ec2.InstanceArchitecture[];
  /** @default - base profile value */
  readonly karpenterCpuLimit?: number;
  /** @default - base profile value */
  readonly karpenterConsolidateAfter?: Duration;
  /** @default - base profile value */
  readonly karpenterExpireAfter?: Duration;
}

function stripUndefined<T extends object>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}
