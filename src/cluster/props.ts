import { Duration, Size } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { FxAddonSelection, IFxAddon } from './addon';
import { FxNodeGroupOptions } from './nodegroup-options';
import { FxTls } from './tls';
import { FxProfile } from '../core/profile';

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
   * Kubernetes minor, e.g. `1.35`. Must be a minor of the versions table
   * (`FxVersions.SUPPORTED_KUBERNETES_VERSIONS`: 1.34, 1.35 and 1.36).
   * @default FxVersions.DEFAULT_KUBERNETES_VERSION
   */
  readonly kubernetesVersion?: string;
  /**
   * Name of the EKS cluster, unique among the FxClusters of one account and region (of one stack
   * without an env).
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
   * CIDR block of the new VPC: a /16 network address (its three /19 private subnets and the public
   * and isolated /24s need all of it).
   * @default '10.0.0.0/16'
   */
  readonly vpcCidr?: string;
  /**
   * Availability zones of the new VPC (exactly 3).
   * @default - the first 3 AZs of the stack's region (from context); a stack without an account
   *   and region (env) must set them
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
   * IAM roles that get cluster-admin access entries, each once (one ARN, or one deploy-time ARN
   * token, is one role).
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
   * `FxTls.letsEncrypt()` (NLB + cert-manager). Route 53 alias records to the load balancer need the
   * region's ELB hosted zone id: the library knows those of every commercial region the AWS General
   * Reference lists (not China or GovCloud); a stack in another region is rejected. The cluster's
   * `traefik` add-on must be an FxTraefikAddon (it creates the certificate, load balancer and
   * records), and two clusters of one stack cannot serve one domain of one hosted zone.
   * @default - no domain and no load balancer: Traefik is a ClusterIP Service reachable only inside the
   * cluster (e.g. `kubectl port-forward`); there is no Ingress, no public endpoint and no DNS record
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
   * What adds and removes worker nodes: cluster-autoscaler (grows the managed node groups) or
   * Karpenter (launches nodes for pending pods beside the managed node groups, which keep the
   * system pods and Karpenter itself). Not together with `clusterAutoscaler`.
   * @default - FxNodeAutoscaler.CLUSTER_AUTOSCALER, or none when `clusterAutoscaler` is false
   */
  readonly nodeAutoscaler?: FxNodeAutoscaler;
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
  /**
   * Add-ons to remove from the defaults, to install in place of a default (a built-in with extra
   * Helm values or another chart version, or your own), or to install besides them.
   * @default - the defaults: metrics-server, AWS Load Balancer Controller, Traefik, cert-manager
   *   (Let's Encrypt path), External Secrets, cluster-autoscaler or Karpenter (`nodeAutoscaler`),
   *   Velero (`velero`)
   */
  readonly addons?: FxAddonSelection;
  /**
   * Versions of EKS managed add-ons overriding the versions table (exact `eksbuild` versions).
   * @default - the versions table's versions for the cluster's Kubernetes minor
   */
  readonly managedAddonVersions?: FxManagedAddonVersions;
}

/** Versions of EKS managed add-ons, each overriding the versions table when given. */
export interface FxManagedAddonVersions {
  /**
   * Amazon VPC CNI.
   * @default - the versions table
   */
  readonly vpcCni?: string;
  /**
   * CoreDNS.
   * @default - the versions table
   */
  readonly coreDns?: string;
  /**
   * kube-proxy.
   * @default - the versions table
   */
  readonly kubeProxy?: string;
  /**
   * EKS Pod Identity agent.
   * @default - the versions table
   */
  readonly podIdentityAgent?: string;
  /**
   * Amazon EBS CSI driver.
   * @default - the versions table
   */
  readonly ebsCsiDriver?: string;
  /**
   * Amazon EFS CSI driver.
   * @default - the versions table
   */
  readonly efsCsiDriver?: string;
  /**
   * CSI snapshot controller.
   * @default - the versions table
   */
  readonly snapshotController?: string;
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

/** The node autoscaler of an FxCluster (`FxClusterProps.nodeAutoscaler`). */
export class FxNodeAutoscaler {
  /** cluster-autoscaler: grows and shrinks the managed node groups (see `autoscalerExpander`). */
  public static readonly CLUSTER_AUTOSCALER = new FxNodeAutoscaler('cluster-autoscaler');

  /**
   * Karpenter: NodePools and EC2NodeClasses launch right-sized EC2 capacity for pending pods, with
   * an interruption queue for spot and maintenance events. The managed node groups stay for the
   * system pods and Karpenter's own controller.
   *
   * @param options node pools and controller settings
   */
  public static karpenter(options: FxKarpenterOptions = {}): FxNodeAutoscaler {
    return new FxNodeAutoscaler('karpenter', options);
  }

  private constructor(
    /** Name of the autoscaler (`cluster-autoscaler` or `karpenter`). */
    public readonly name: string,
    /** Karpenter's options, when this is Karpenter. */
    public readonly karpenterOptions?: FxKarpenterOptions,
  ) {}
}

/** Karpenter on an FxCluster. */
export interface FxKarpenterOptions {
  /**
   * The NodePools (each with its own EC2NodeClass of the same name).
   * @default - an untainted on-demand pool `default` and a spot pool `spot` tainted with
   *   `fx.platform/capacity=spot:NoSchedule`, both sized by the profile
   */
  readonly nodePools?: FxNodePoolOptions[];
  /**
   * Karpenter controller replicas (they run on the managed node groups only).
   * @default - the profile's `karpenterReplicas` (2 in production, 1 in development)
   */
  readonly replicas?: number;
  /**
   * Exact version of the karpenter chart, overriding the versions table.
   * @default - the versions table's karpenter chart
   */
  readonly version?: string;
  /**
   * EKS-optimized AMI alias of Karpenter nodes (`amiSelectorTerms[].alias`), e.g. `al2023@v20251120`
   * or `bottlerocket@v1.50.0`. Pin it: `@latest` rolls every node when AWS publishes an AMI.
   * @default 'al2023@latest' (with a synth warning)
   */
  readonly nodeImageAlias?: string;
}

/** How Karpenter consolidates the nodes of a NodePool. */
export enum FxConsolidationPolicy {
  /** Remove empty nodes only. */
  WHEN_EMPTY = 'WhenEmpty',
  /** Remove empty nodes and replace underutilized ones with cheaper capacity. */
  WHEN_EMPTY_OR_UNDERUTILIZED = 'WhenEmptyOrUnderutilized',
}

/** One Karpenter NodePool (and its EC2NodeClass) of an FxCluster. */
export interface FxNodePoolOptions {
  /** Name of the NodePool and its EC2NodeClass (DNS label, unique). */
  readonly name: string;
  /**
   * On-demand or spot capacity. Spot pools carry the platform's spot taint
   * (`fx.platform/capacity=spot:NoSchedule`) and label, like spot node groups.
   * @default eks.CapacityType.ON_DEMAND
   */
  readonly capacityType?: eks.CapacityType;
  /**
   * EC2 instance families, e.g. `m7i`, `c7g`.
   * @default - the profile's `karpenterInstanceFamilies`
   */
  readonly instanceFamilies?: string[];
  /**
   * EC2 instance sizes, e.g. `large`, `2xlarge`. Every family and size must make at least
   * t3.medium (burstable `medium` or larger, other families `large` or larger).
   * @default - the profile's `karpenterInstanceSizes`
   */
  readonly instanceSizes?: string[];
  /**
   * CPU architectures.
   * @default - the profile's `karpenterArchitectures` (x86_64)
   */
  readonly architectures?: ec2.InstanceArchitecture[];
  /**
   * vCPUs the pool may run in total (positive integer).
   * @default - the profile's `karpenterCpuLimit` (256 in production, 32 in development)
   */
  readonly cpuLimit?: number;
  /**
   * Memory the pool may run in total.
   * @default - 4 GiB per vCPU of `cpuLimit`
   */
  readonly memoryLimit?: Size;
  /**
   * Which nodes Karpenter consolidates.
   * @default FxConsolidationPolicy.WHEN_EMPTY_OR_UNDERUTILIZED
   */
  readonly consolidationPolicy?: FxConsolidationPolicy;
  /**
   * How long a node stays empty or underutilized before it is consolidated (whole seconds).
   * @default - the profile's `karpenterConsolidateAfter` (5 minutes in production, 30 seconds in development)
   */
  readonly consolidateAfter?: Duration;
  /**
   * Age at which a node is replaced (whole seconds, at least 1 hour).
   * @default - the profile's `karpenterExpireAfter` (30 days in production, 7 days in development)
   */
  readonly expireAfter?: Duration;
  /**
   * Kubernetes labels of the nodes (besides `fx.platform/node-pool: <name>`).
   * @default - none (spot pools: `fx.platform/capacity: spot`)
   */
  readonly labels?: { [key: string]: string };
  /**
   * Kubernetes taints of the nodes.
   * @default - none (spot pools: the spot taint)
   */
  readonly taints?: eks.TaintSpec[];
  /**
   * Priority among pools that fit a pod (0 to 100, higher first).
   * @default - no weight
   */
  readonly weight?: number;
  /**
   * Size of the encrypted gp3 root volume.
   * @default Size.gibibytes(50)
   */
  readonly diskSize?: Size;
}

/** An EKS cluster created elsewhere, for `FxCluster.fromClusterAttributes`. */
export interface FxClusterAttributes {
  /** Name of the EKS cluster. */
  readonly clusterName: string;
  /** The VPC the cluster runs in. */
  readonly vpc: ec2.IVpc;
  /** Id of the cluster security group (the one EKS attaches to the control plane and managed nodes). */
  readonly clusterSecurityGroupId: string;
  /**
   * An existing kubectl provider of the cluster (its handler's role must have cluster-admin access). Give this or `kubectlProviderOptions`.
   * @default - one is created from `kubectlProviderOptions`
   */
  readonly kubectlProvider?: eks.IKubectlProvider;
  /**
   * Options of a kubectl provider created in this stack. Its handler role must then be granted
   * cluster-admin access on the cluster (an access entry) by whoever owns the cluster.
   * @default - `kubectlProvider` is used
   */
  readonly kubectlProviderOptions?: eks.KubectlProviderOptions;
  /**
   * Kubernetes minor of the cluster (a minor of the versions table).
   * @default FxVersions.DEFAULT_KUBERNETES_VERSION
   */
  readonly kubernetesVersion?: string;
  /**
   * Profile the defaults of add-ons and services come from.
   * @default FxProfile.DEVELOPMENT
   */
  readonly profile?: FxProfile;
  /**
   * Name of the platform (labels, tags, secret name prefix).
   * @default - the stack name
   */
  readonly platformName?: string;
  /**
   * What is already installed on the cluster, as capabilities (see `FxCapability`): e.g.
   * `FxCapability.POD_IDENTITY` when the Pod Identity agent runs, `FxCapability.EXTERNAL_SECRETS_CRDS`
   * when External Secrets is installed. Whatever needs a capability nobody provides fails synthesis.
   * @default [FxCapability.NODES]
   */
  readonly installedCapabilities?: string[];
  /**
   * Fx add-ons to install on the cluster, in order (e.g. `new FxExternalSecretsAddon()`).
   * @default - none
   */
  readonly addons?: IFxAddon[];
  /**
   * The public endpoint of the platform on this cluster (its Traefik add-on serves it).
   * @default - no public endpoint
   */
  readonly tls?: FxTls;
  /**
   * Pod Identity role of an External Secrets Operator installed elsewhere: `grantExternalSecretRead`
   * grants it read access when no `external-secrets` add-on is installed here.
   * @default - grants need the `external-secrets` add-on
   */
  readonly externalSecretsRole?: iam.IRole;
  /**
   * The cluster's IAM OIDC identity provider (audience `sts.amazonaws.com`), for the IRSA trusts of
   * namespace SecretStores (FxObservability, services with secrets) and Elasticsearch snapshots.
   * @default - none: what needs an IRSA trust fails synthesis
   */
  readonly openIdConnectProvider?: iam.IOidcProvider;
  /**
   * Interface VPC endpoints (private DNS on) in the cluster's VPC that pods reach AWS services through:
   * a workload whose grants only need these services gets egress on 443 to `interfaceEndpointSubnetCidrs`
   * only.
   * @default - none known: workloads with AWS permissions reach AWS on any address on 443
   */
  readonly interfaceEndpoints?: ec2.InterfaceVpcEndpointAwsService[];
  /**
   * CIDR blocks of the subnets the endpoints' network interfaces are in (required with `interfaceEndpoints`).
   * @default - none
   */
  readonly interfaceEndpointSubnetCidrs?: string[];
}
