import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { FxNodeGroupOptions } from './nodegroup-options';
import { FxTls } from './tls';
import { FxProfile } from '../core/profile';
import { FxHelmChartVersion } from '../core/versions';

/** Which EKS support period the control plane may stay in when its version ages. */
export enum FxUpgradePolicy {
  /** Standard support only: EKS upgrades the control plane when standard support ends. */
  STANDARD = 'STANDARD',
  /** Extended support (paid): the version is kept for up to 12 more months. */
  EXTENDED = 'EXTENDED',
}

/** Namespace-scoped Kubernetes access granted to an IAM role through an EKS access entry. */
export class FxAccessLevel {
  /** Read-only access to most objects in the namespaces (not Secrets). */
  public static readonly VIEW = new FxAccessLevel('view', 'AmazonEKSViewPolicy');
  /** Read and write access to most objects in the namespaces, no Roles or RoleBindings. */
  public static readonly EDIT = new FxAccessLevel('edit', 'AmazonEKSEditPolicy');
  /** Full access to the namespaces, including Roles and RoleBindings. */
  public static readonly ADMIN = new FxAccessLevel('admin', 'AmazonEKSAdminPolicy');

  private constructor(
    /** Short name used in construct ids. */
    public readonly name: string,
    /** The EKS access policy. */
    public readonly policyName: string,
  ) {}
}

/** Properties of an FxCluster. Every field has a default from the profile or the versions table. */
export interface FxClusterProps {
  /**
   * Deployment profile: NAT gateways, node sizes and counts, log retention, volume reclaim policy.
   * @default FxProfile.DEVELOPMENT
   */
  readonly profile?: FxProfile;
  /**
   * Name of the platform, used in tags and Kubernetes labels.
   * @default - the stack name
   */
  readonly platformName?: string;
  /**
   * Kubernetes minor, e.g. `1.35`. Must be in the versions table (1.28 or newer).
   * @default FxVersions.DEFAULT_KUBERNETES_VERSION
   */
  readonly kubernetesVersion?: string;
  /**
   * Name of the EKS cluster.
   * @default - a name derived from the construct path
   */
  readonly clusterName?: string;
  /**
   * An existing VPC with private subnets in at least two AZs. Flow logs, endpoints and NAT
   * gateways of an existing VPC are its owner's business.
   * @default - a new 3-AZ VPC
   */
  readonly vpc?: ec2.IVpc;
  /**
   * CIDR block of the new VPC (/16 to /18).
   * @default '10.0.0.0/16'
   */
  readonly vpcCidr?: string;
  /**
   * Availability zones of the new VPC (exactly 3).
   * @default - the first 3 AZs of the stack's region (from context)
   */
  readonly availabilityZones?: string[];
  /**
   * NAT gateways of the new VPC (1 to 3).
   * @default - from the profile: 3 in production, 1 in development
   */
  readonly natGateways?: number;
  /**
   * Interface VPC endpoints to add to the new VPC (private subnets, private DNS).
   * @default - none (the S3 gateway endpoint is always added)
   */
  readonly interfaceEndpoints?: ec2.InterfaceVpcEndpointAwsService[];
  /**
   * IPv4 CIDR blocks allowed to reach the public API endpoint.
   * @default ['0.0.0.0/0'] unless `privateEndpointOnly`
   */
  readonly endpointAllowlist?: string[];
  /**
   * Serve the Kubernetes API on the private endpoint only (the kubectl handler runs in the VPC).
   * @default false
   */
  readonly privateEndpointOnly?: boolean;
  /**
   * EKS support period of the control plane.
   * @default FxUpgradePolicy.STANDARD
   */
  readonly upgradePolicy?: FxUpgradePolicy;
  /**
   * IAM roles that get cluster-admin access entries.
   * @default - none besides the kubectl handler and the cluster creator
   */
  readonly admins?: iam.IRole[];
  /**
   * Managed node groups.
   * @default - one on-demand group named `default` sized by the profile
   */
  readonly nodeGroups?: FxNodeGroupOptions[];
  /**
   * kubectl/helm Lambda layer.
   * @default - the `KubectlVNNLayer` of the matching `@aws-cdk/lambda-layer-kubectl-vNN` package
   */
  readonly kubectlLayer?: lambda.ILayerVersion;
  /**
   * Retention of VPC flow logs and control-plane logs.
   * @default - from the profile
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Whether volumes of the gp3 / efs-sc classes and EBS snapshots outlive their claims.
   * @default - from the profile: true in production
   */
  readonly retainVolumes?: boolean;
  /**
   * Public HTTPS endpoint of the platform: `FxTls.acm()` (ALB + ACM certificate) or
   * `FxTls.letsEncrypt()` (NLB + cert-manager).
   * @default - no domain: Traefik behind an internet-facing ALB on HTTP only (entry point 'web')
   */
  readonly tls?: FxTls;
  /**
   * Traefik replicas, from 1 to 20, spread across zones; with 2 or more a PodDisruptionBudget
   * keeps one running during node drains. One replica means a short outage on every node drain.
   * @default - the profile's `ingressReplicas` (2 in production, 1 in development)
   */
  readonly ingressReplicas?: number;
  /**
   * Limits of the shared `fx-rate-limit` Traefik middleware (per client IP).
   * @default - 100 requests per second on average, bursts of 200
   */
  readonly ingressRateLimit?: FxRateLimit;
  /**
   * Source CIDR blocks of the shared `fx-ip-allowlist` Traefik middleware.
   * @default - the VPC CIDR only (the middleware is for internal routes)
   */
  readonly ingressIpAllowlist?: string[];
  /**
   * Install cluster-autoscaler (auto-discovery of the managed node groups).
   * @default true
   */
  readonly clusterAutoscaler?: boolean;
  /**
   * How cluster-autoscaler picks the node group to grow.
   * @default FxAutoscalerExpander.LEAST_WASTE
   */
  readonly autoscalerExpander?: FxAutoscalerExpander;
  /**
   * Install Velero with a retained S3 bucket and a daily backup of all namespaces.
   * @default true
   */
  readonly velero?: boolean;
  /**
   * Days Velero keeps each daily backup.
   * @default - from the profile: 30 in production, 7 in development
   */
  readonly clusterBackupRetentionDays?: number;
}

/** Limits of a Traefik rate-limit middleware, per client IP. */
export interface FxRateLimit {
  /** Requests per second allowed on average (positive integer). */
  readonly average: number;
  /** Requests allowed in one burst (positive integer, at least `average`). */
  readonly burst: number;
}

/** cluster-autoscaler's expander: which node group grows when several could fit the pending pods. */
export enum FxAutoscalerExpander {
  /** The group that leaves the least idle CPU (then memory) after the scale-up. */
  LEAST_WASTE = 'least-waste',
  /** The group that can schedule the most pending pods. */
  MOST_PODS = 'most-pods',
  /** A random group. */
  RANDOM = 'random',
  /** The group with the fewest nodes (keeps groups balanced). */
  LEAST_NODES = 'least-nodes',
}

/** A Helm release on an FxCluster, at a version pinned by the versions table. */
export interface FxHelmChartOptions {
  /** The chart, as in `cluster.versions.charts.traefik`. */
  readonly chart: FxHelmChartVersion;
  /** Namespace of the release. */
  readonly namespace: string;
  /**
   * Release name.
   * @default - the chart name
   */
  readonly release?: string;
  /**
   * Exact chart version overriding the table (never a range).
   * @default - the table's version
   */
  readonly version?: string;
  /**
   * Helm values.
   * @default - chart defaults
   */
  readonly values?: { [key: string]: any };
  /**
   * Wait until every resource is ready; needed for charts whose CRDs or webhooks others use.
   * @default true
   */
  readonly wait?: boolean;
  /**
   * Helm timeout, from 1 to 13 minutes in whole seconds. The kubectl handler Lambda stops at 15
   * minutes; a release still waiting then stays `pending-install`, so a 2-minute margin is kept.
   * @default Duration.minutes(10)
   */
  readonly timeout?: Duration;
  /**
   * Create the namespace if missing.
   * @default true
   */
  readonly createNamespace?: boolean;
  /**
   * Capabilities that must be installed first (see `FxCapability`). Worker nodes always are.
   * @default - only FxCapability.NODES
   */
  readonly needs?: string[];
  /**
   * Capabilities this release installs, so that others can wait for it.
   * @default - none
   */
  readonly provides?: string[];
}

/** Install-order options of a manifest or cdk8s chart. */
export interface FxManifestOptions {
  /**
   * Capabilities that must be installed first. Worker nodes always are.
   * @default - only FxCapability.NODES
   */
  readonly needs?: string[];
  /**
   * Capabilities these objects install.
   * @default - none
   */
  readonly provides?: string[];
}

/** A Kubernetes service account whose pods get AWS credentials through EKS Pod Identity. */
export interface FxServiceAccountOptions {
  /** Name of the service account (DNS subdomain). */
  readonly name: string;
  /** Namespace of the service account (DNS label); it must exist or be created by `needs`. */
  readonly namespace: string;
  /**
   * Capabilities that must be installed first, e.g. the one providing the namespace.
   * @default - only FxCapability.POD_IDENTITY
   */
  readonly needs?: string[];
}
