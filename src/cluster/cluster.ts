import { Annotations, Duration, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cdk8s from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { CertManagerAddon } from './addons/cert-manager';
import { ClusterAutoscalerAddon } from './addons/cluster-autoscaler';
import { ExternalSecretsAddon } from './addons/external-secrets';
import { KarpenterAddon } from './addons/karpenter';
import { LoadBalancerControllerAddon } from './addons/load-balancer-controller';
import { ManagedAddons } from './addons/managed';
import { defaultIpAllowlist, TraefikAddon } from './addons/traefik';
import { VeleroAddon } from './addons/velero';
import { acknowledgeClusterFindings } from './nag';
import { FxNetwork, SUBNET_PRIVATE, validateImportedVpc } from './network';
import { FxNodeGroupOptions } from './nodegroup-options';
import { createNodeGroup, resolveNodeGroups } from './nodegroups';
import { FxAccessLevel, FxAutoscalerExpander, FxClusterProps, FxNodeAutoscaler, FxHelmChartOptions, FxManifestOptions, FxServiceAccountOptions, FxUpgradePolicy } from './props';
import { createSharedFileSystem, createStorageChart } from './storage';
import { FxTls, FxTlsMode } from './tls';
import { check, FxValidationError, isIpv4Cidr, isUnresolved, nonInternetRangeOf, trackConstruct } from '../core/errors';
import { FxCapability, InstallOrder } from '../core/install-order';
import { isDnsLabel, isDnsSubdomain, isHelmReleaseName, isLabelValue } from '../core/k8s-names';
import { FxProfile } from '../core/profile';
import { chartLabels, platformLabels, tagPlatform } from '../core/tags';
import { FxComponentVersions, FxVersions } from '../core/versions';

const WHO = 'FxCluster';
const CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/;
const EXACT_VERSION = /^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/;
/** The retention values CloudWatch Logs accepts (`logs.RetentionDays`; a plain number from JavaScript may be anything). */
const LOG_RETENTION_DAYS = new Set(Object.values(logs.RetentionDays).filter((v) => typeof v === 'number') as number[]);
/** Timeout of aws-eks-v2's kubectl handler Lambda function (it runs `helm upgrade --install --wait`). */
export const KUBECTL_HANDLER_TIMEOUT_SECONDS = 900;
/** Longest Helm timeout accepted: the handler's timeout less a margin for pulling the chart and reporting back. */
export const MAX_HELM_TIMEOUT_SECONDS = KUBECTL_HANDLER_TIMEOUT_SECONDS - 120;

/**
 * An EKS cluster ready for platform workloads: a 3-AZ VPC with flow logs, an aws-eks-v2 control
 * plane with all control-plane logs and KMS-encrypted secrets, managed node groups with IMDSv2 and
 * encrypted gp3 volumes, the EKS managed add-ons (VPC CNI with network policy, CoreDNS, kube-proxy,
 * Pod Identity agent, EBS and EFS CSI drivers, snapshot controller), metrics-server, a default gp3
 * StorageClass, an EFS file system with its StorageClass, and an EBS VolumeSnapshotClass.
 *
 * Other Fx constructs take the FxCluster and install through its methods (`addHelmChart`,
 * `addManifest`, `addCdk8sChart`, `addPodIdentityServiceAccount`), which keep the install order:
 * what a chart or manifest `needs` is installed before it and deleted after it.
 */
export class FxCluster extends Construct {
  /** The aws-eks-v2 cluster. */
  public readonly cluster: eks.Cluster;
  /** The VPC the cluster runs in. */
  public readonly vpc: ec2.IVpc;
  /** The profile every default came from. */
  public readonly profile: FxProfile;
  /** Versions of every component for this cluster's Kubernetes minor. */
  public readonly versions: FxComponentVersions;
  /** Kubernetes minor of the cluster, e.g. `1.35`. */
  public readonly kubernetesVersion: string;
  /** Name of the platform (tags, labels). */
  public readonly platformName: string;
  /** The security group EKS attaches to the control plane and every managed node. */
  public readonly clusterSecurityGroup: ec2.ISecurityGroup;
  /** Network connections of the cluster (nodes and control plane). */
  public readonly connections: ec2.Connections;
  /** KMS key encrypting Kubernetes Secrets (rotated yearly). */
  public readonly secretsKey: kms.IKey;
  /** The managed node groups, in the order given. */
  public readonly nodeGroups: eks.Nodegroup[];
  /** The shared EFS file system behind the `efs-sc` StorageClass. */
  public readonly fileSystem: efs.IFileSystem;
  /** The cdk8s chart with the StorageClasses and the VolumeSnapshotClass (already serialised). */
  public readonly storageChart: cdk8s.Chart;
  /** The manifest that applies `storageChart`. */
  public readonly storageManifest: eks.KubernetesManifest;
  /** The metrics-server Helm release. */
  public readonly metricsServer: eks.HelmChart;
  /** Whether volumes outlive their claims (Retain reclaim policy). */
  public readonly retainVolumes: boolean;
  /** The TLS path of the public endpoint, when a domain is configured. */
  public readonly tls?: FxTls;
  /** The platform domain (e.g. `fx.example.com`), when TLS/domain is configured. */
  public readonly domainName?: string;
  /**
   * Whether Traefik terminates TLS (Let's Encrypt path): routes then use the 'websecure' entry
   * point with the default TLSOption. False on the ACM path (the ALB terminates TLS) and without a
   * domain: routes use the 'web' entry point.
   */
  public readonly tlsTerminatedByTraefik: boolean;
  /** The AWS Load Balancer Controller release. */
  public readonly loadBalancerController: eks.HelmChart;
  /** The Traefik release (ingress controller; provides the Traefik CRDs). */
  public readonly traefik: eks.HelmChart;
  /** The manifest with the default TLSOption and the shared Traefik middlewares. */
  public readonly traefikShared: eks.KubernetesManifest;
  /** The External Secrets Operator release (provides its CRDs and webhook). */
  public readonly externalSecretsChart: eks.HelmChart;
  /** The `fx-secrets-manager` ClusterSecretStore manifest. */
  public readonly clusterSecretStore: eks.KubernetesManifest;
  /** The cert-manager release (Let's Encrypt path only). */
  public readonly certManager?: eks.HelmChart;
  /** The cluster-autoscaler release, unless switched off or Karpenter is the node autoscaler. */
  public readonly clusterAutoscaler?: eks.HelmChart;
  /** The Karpenter release, when `nodeAutoscaler` is `FxNodeAutoscaler.karpenter()`. */
  public readonly karpenter?: eks.HelmChart;
  /** The manifest with Karpenter's NodePools and EC2NodeClasses, when Karpenter is the node autoscaler. */
  public readonly karpenterNodePools?: eks.KubernetesManifest;
  /** The Velero release, unless switched off. */
  public readonly velero?: eks.HelmChart;
  /** The S3 bucket Velero writes cluster backups to (retained). */
  public readonly backupBucket?: s3.IBucket;
  /** DNS name of the public load balancer (resolved at deploy time), when a domain is configured. */
  public readonly loadBalancerDnsName?: string;

  private readonly installOrder = new InstallOrder(WHO);
  private readonly addons: ManagedAddons;
  private readonly externalSecrets: ExternalSecretsAddon;

  constructor(scope: Construct, id: string, props: FxClusterProps = {}) {
    super(scope, id);
    trackConstruct(this);
    const profile = props.profile ?? FxProfile.DEVELOPMENT;
    const settings = profile.settings;
    const stack = Stack.of(this);
    this.profile = profile;
    this.versions = FxVersions.forKubernetes(props.kubernetesVersion ?? FxVersions.DEFAULT_KUBERNETES_VERSION, WHO);
    this.kubernetesVersion = this.versions.kubernetesVersion;
    this.platformName = props.platformName ?? stack.stackName;
    // It becomes a label value on every Kubernetes object and the prefix of the platform's secret names.
    check(Token.isUnresolved(this.platformName) || (isLabelValue(this.platformName) && this.platformName !== '' && this.platformName.length <= 40), WHO,
      props.platformName === undefined ? 'platformName (from the stack name)' : 'platformName', this.platformName,
      'up to 40 letters, digits, -, _ and ., starting and ending with a letter or digit (a Kubernetes label value and a secret name prefix)'
      + (props.platformName === undefined ? '; set platformName when the stack name does not fit' : ''));
    this.retainVolumes = props.retainVolumes ?? settings.retainVolumes;
    const logRetention = props.logRetention ?? settings.logRetention;
    check(LOG_RETENTION_DAYS.has(logRetention), WHO, props.logRetention === undefined ? `logRetention (from profile ${profile.name})` : 'logRetention',
      logRetention, `a retention CloudWatch Logs supports (logs.RetentionDays): ${[...LOG_RETENTION_DAYS].sort((a, b) => a - b).join(', ')} days`);
    const endpointAccess = resolveEndpointAccess(props);
    if (!props.privateEndpointOnly && props.endpointAllowlist === undefined) {
      Annotations.of(this).addWarningV2('@fx/cluster:open-endpoint',
        'FxCluster: the public Kubernetes API endpoint is open to 0.0.0.0/0; set endpointAllowlist to your CIDRs or privateEndpointOnly: true');
    }
    const nodeGroups = resolveNodeGroups(props.nodeGroups, profile);
    const clusterName = props.clusterName ?? Names.uniqueResourceName(this, { maxLength: 100, separator: '-' });
    check(Token.isUnresolved(clusterName) || CLUSTER_NAME.test(clusterName), WHO, 'clusterName', clusterName,
      'up to 100 letters, digits, - and _, starting with a letter or digit');
    if (props.vpc) {
      check(props.vpcCidr === undefined && props.natGateways === undefined && props.availabilityZones === undefined
        && props.interfaceEndpoints === undefined, WHO, 'vpc', 'an existing VPC with vpcCidr/natGateways/availabilityZones/interfaceEndpoints',
      'either an existing vpc or the options of a new one, not both');
      validateImportedVpc(props.vpc);
    }

    tagPlatform(this, this.platformName, 'cluster');
    const network = props.vpc ? undefined : new FxNetwork(this, 'Network', {
      vpcCidr: props.vpcCidr ?? '10.0.0.0/16',
      natGateways: props.natGateways ?? settings.natGateways,
      availabilityZones: props.availabilityZones,
      interfaceEndpoints: props.interfaceEndpoints ?? [],
      logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.vpc = props.vpc ?? network!.vpc;

    this.secretsKey = new kms.Key(this, 'SecretsKey', {
      description: `Fx platform ${this.platformName}: envelope encryption of Kubernetes Secrets`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const controlPlaneLogs = this.createControlPlaneLogGroup(clusterName, logRetention, network?.logKey);
    this.cluster = this.createControlPlane(clusterName, endpointAccess, props);
    this.cluster.node.addDependency(controlPlaneLogs);
    (this.cluster.node.defaultChild as eks.CfnCluster).upgradePolicy = {
      supportType: props.upgradePolicy ?? FxUpgradePolicy.STANDARD,
    };
    this.clusterSecurityGroup = this.cluster.clusterSecurityGroup;
    this.connections = this.cluster.connections;
    (props.admins ?? []).forEach((role) => {
      this.cluster.grantClusterAdmin(`Admin${Names.nodeUniqueId(role.node)}`, role.roleArn);
    });

    this.addons = new ManagedAddons(this, 'Addons', {
      cluster: this.cluster,
      versions: this.versions.addons,
      installOrder: this.installOrder,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.nodeGroups = this.createNodeGroups(nodeGroups);

    this.fileSystem = createSharedFileSystem(this, 'FileSystem', {
      vpc: this.vpc,
      subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      clusterSecurityGroup: this.clusterSecurityGroup,
      clientRole: this.addons.efsCsiNodeRole,
    });
    this.storageChart = createStorageChart({ platformName: this.platformName, fileSystem: this.fileSystem, retainVolumes: this.retainVolumes });
    this.storageManifest = this.addCdk8sChart('Storage', this.storageChart, {
      needs: [FxCapability.EBS_CSI, FxCapability.EFS_CSI, FxCapability.SNAPSHOT_CRDS],
      provides: [FxCapability.STORAGE_CLASSES],
    });
    this.storageManifest.node.addDependency(this.fileSystem.mountTargetsAvailable);
    this.metricsServer = this.installMetricsServer();


    // Platform add-ons: each declares what it needs and provides; see addons/*.ts.
    this.tls = props.tls;
    this.domainName = props.tls?.domainName;
    this.tlsTerminatedByTraefik = props.tls?.mode === FxTlsMode.LETS_ENCRYPT;
    this.loadBalancerController = new LoadBalancerControllerAddon(this).chart;
    const traefik = new TraefikAddon(this, {
      tls: props.tls,
      replicas: props.ingressReplicas ?? settings.ingressReplicas,
      rateLimit: props.ingressRateLimit ?? { average: 100, burst: 200 },
      ipAllowlist: props.ingressIpAllowlist ?? defaultIpAllowlist(this),
    });
    this.traefik = traefik.chart;
    this.traefikShared = traefik.sharedManifest;
    this.loadBalancerDnsName = traefik.loadBalancerDnsName;
    if (props.tls?.mode === FxTlsMode.LETS_ENCRYPT) {
      this.certManager = new CertManagerAddon(this, props.tls).chart;
    }
    this.externalSecrets = new ExternalSecretsAddon(this);
    this.externalSecretsChart = this.externalSecrets.chart;
    this.clusterSecretStore = this.externalSecrets.clusterSecretStore;
    check(props.nodeAutoscaler === undefined || props.clusterAutoscaler === undefined, WHO, 'clusterAutoscaler',
      `${props.clusterAutoscaler} with nodeAutoscaler ${props.nodeAutoscaler?.name}`, 'either nodeAutoscaler or clusterAutoscaler, not both');
    const autoscaler = props.nodeAutoscaler ?? ((props.clusterAutoscaler ?? true) ? FxNodeAutoscaler.CLUSTER_AUTOSCALER : undefined);
    if (autoscaler === FxNodeAutoscaler.CLUSTER_AUTOSCALER) {
      this.clusterAutoscaler = new ClusterAutoscalerAddon(this, clusterName, props.autoscalerExpander ?? FxAutoscalerExpander.LEAST_WASTE).chart;
    } else {
      check(props.autoscalerExpander === undefined, WHO, 'autoscalerExpander', props.autoscalerExpander,
        'no expander unless cluster-autoscaler is the node autoscaler');
    }
    if (autoscaler?.karpenterOptions) {
      const karpenter = new KarpenterAddon(this, clusterName, autoscaler.karpenterOptions);
      this.karpenter = karpenter.chart;
      this.karpenterNodePools = karpenter.nodePools;
    }
    if (props.velero ?? true) {
      const velero = new VeleroAddon(this, props.clusterBackupRetentionDays ?? settings.clusterBackupRetentionDays);
      this.velero = velero.chart;
      this.backupBucket = velero.bucket;
    }

    acknowledgeClusterFindings(this, this.cluster, this.nodeGroups);
  }

  /**
   * Installs a Helm chart, after everything it `needs`. Any chart works: one of the versions table
   * (`versions.charts`) or any `{ chart, repository, version }` at an exact version.
   *
   * @param id construct id of the release
   * @param options the chart, namespace, values and install order
   */
  public addHelmChart(id: string, options: FxHelmChartOptions): eks.HelmChart {
    const version = options.version ?? options.chart.version;
    const release = options.release ?? options.chart.chart;
    check(isHelmReleaseName(release), WHO, `addHelmChart(${id}).release`, release,
      'a Helm release name: lowercase letters, digits, - and ., at most 53 characters');
    check(EXACT_VERSION.test(version), WHO, `addHelmChart(${id}).version`, version, 'an exact chart version such as 3.13.1 (no ranges, no latest)');
    check(isDnsLabel(options.namespace), WHO, `addHelmChart(${id}).namespace`, options.namespace, 'a DNS label (lowercase letters, digits, -)');
    const timeout = options.timeout ?? Duration.minutes(10);
    const seconds = timeout.toSeconds();
    check(Token.isUnresolved(seconds) || (Number.isInteger(seconds) && seconds >= 60 && seconds <= MAX_HELM_TIMEOUT_SECONDS), WHO,
      `addHelmChart(${id}).timeout`, `${seconds}s`,
      `whole seconds from 60 to ${MAX_HELM_TIMEOUT_SECONDS} (the kubectl handler Lambda stops at ${KUBECTL_HANDLER_TIMEOUT_SECONDS}s; `
      + 'a release still waiting then stays pending-install and every retry fails)');
    const chart = this.cluster.addHelmChart(id, {
      chart: options.chart.chart,
      repository: options.chart.repository,
      version,
      release,
      namespace: options.namespace,
      values: options.values,
      wait: options.wait ?? true,
      timeout,
      createNamespace: options.createNamespace ?? true,
    });
    this.order(chart, options.needs, options.provides);
    return chart;
  }

  /**
   * Applies Kubernetes objects (plain objects) after worker nodes exist. Use `installAfter` for
   * further needs, or `addCdk8sChart` with options.
   *
   * @param id construct id of the manifest
   * @param manifest Kubernetes objects
   */
  public addManifest(id: string, ...manifest: { [key: string]: any }[]): eks.KubernetesManifest {
    const resource = this.cluster.addManifest(id, ...manifest);
    this.order(resource, undefined, undefined);
    return resource;
  }

  /**
   * Applies a complete cdk8s chart as one manifest. The chart is serialised now: objects added to
   * it afterwards are not applied.
   *
   * @param id construct id of the manifest
   * @param chart the complete cdk8s chart
   * @param options install order
   */
  public addCdk8sChart(id: string, chart: cdk8s.Chart, options: FxManifestOptions = {}): eks.KubernetesManifest {
    const resource = this.cluster.addCdk8sChart(id, chart);
    this.order(resource, options.needs, options.provides);
    return resource;
  }

  /**
   * Creates a Kubernetes service account and an IAM role its pods assume through EKS Pod Identity.
   * Grant AWS access to the returned service account (it is an `iam.IGrantable`; `.role` is the role).
   *
   * @param id construct id
   * @param options name, namespace and install order
   */
  public addPodIdentityServiceAccount(id: string, options: FxServiceAccountOptions): eks.ServiceAccount {
    check(isDnsSubdomain(options.name), WHO, `addPodIdentityServiceAccount(${id}).name`, options.name, 'a DNS subdomain (lowercase letters, digits, - and .)');
    check(isDnsLabel(options.namespace), WHO, `addPodIdentityServiceAccount(${id}).namespace`, options.namespace, 'a DNS label (lowercase letters, digits, -)');
    const account = new eks.ServiceAccount(this, id, {
      cluster: this.cluster,
      name: options.name,
      namespace: options.namespace,
      identityType: eks.IdentityType.POD_IDENTITY,
      labels: platformLabels(this.platformName, 'service-account'),
    });
    this.installOrder.require(account, FxCapability.POD_IDENTITY, ...(options.needs ?? []));
    return account;
  }

  /**
   * Lets the External Secrets Operator read one Secrets Manager secret (`GetSecretValue`,
   * `DescribeSecret` on its ARN, `kms:Decrypt` through Secrets Manager on its key if it has one).
   * Secrets named `<platformName>/...` are readable without a grant.
   *
   * @param secret the secret ExternalSecrets will sync
   */
  public grantExternalSecretRead(secret: secretsmanager.ISecret): void {
    this.externalSecrets.grantRead(secret);
  }

  /**
   * Grants an IAM role namespace-scoped Kubernetes access through an EKS access entry.
   *
   * @param role the IAM role
   * @param namespaces namespaces the access is limited to
   * @param level view, edit or admin
   */
  public grantAccess(role: iam.IRole, namespaces: string[], level: FxAccessLevel): void {
    check(namespaces.length > 0, WHO, 'grantAccess.namespaces', namespaces, 'at least one namespace');
    for (const ns of namespaces) {
      check(isDnsLabel(ns), WHO, 'grantAccess.namespaces', ns, 'DNS labels (lowercase letters, digits, -)');
    }
    this.cluster.grantAccess(`Access${Names.nodeUniqueId(role.node)}${level.name}`, role.roleArn, [
      eks.AccessPolicy.fromAccessPolicyName(level.policyName, { accessScopeType: eks.AccessScopeType.NAMESPACE, namespaces }),
    ]);
  }

  /**
   * Records that `construct` installs the given capabilities: everything that needs one of them
   * is deployed after `construct` and deleted before it.
   *
   * @param construct the provider (a Helm chart, manifest or add-on)
   * @param capabilities capability names, see `FxCapability`
   */
  public registerProvider(construct: IConstruct, ...capabilities: string[]): void {
    this.installOrder.provide(construct, ...capabilities);
  }

  /**
   * Makes `construct` deploy after (and delete before) every provider of the given capabilities.
   * Synthesis fails if a needed capability has no provider on this cluster.
   *
   * @param construct the consumer
   * @param capabilities capability names, see `FxCapability`
   */
  public installAfter(construct: IConstruct, ...capabilities: string[]): void {
    this.installOrder.require(construct, ...capabilities);
  }

  /** Whether some construct on this cluster provides the capability. */
  public hasCapability(capability: string): boolean {
    return this.installOrder.isProvided(capability);
  }

  private order(resource: IConstruct, needs: string[] | undefined, provides: string[] | undefined): void {
    this.installOrder.require(resource, FxCapability.NODES, ...(needs ?? []));
    if (provides && provides.length > 0) this.installOrder.provide(resource, ...provides);
  }

  private createControlPlaneLogGroup(clusterName: string, retention: logs.RetentionDays, key: kms.IKey | undefined): logs.LogGroup {
    // EKS writes to this fixed name; creating it first sets retention and encryption. The name is
    // fixed, so never plain RETAIN (a rolled-back first create would leave it and block every retry).
    return new logs.LogGroup(this, 'ControlPlaneLogs', {
      logGroupName: `/aws/eks/${clusterName}/cluster`,
      retention,
      encryptionKey: key,
      removalPolicy: this.profile.settings.removalPolicy,
    });
  }

  private createControlPlane(clusterName: string, endpointAccess: eks.EndpointAccess, props: FxClusterProps): eks.Cluster {
    return new eks.Cluster(this, 'Resource', {
      clusterName,
      version: eks.KubernetesVersion.of(this.kubernetesVersion),
      vpc: this.vpc,
      vpcSubnets: [{ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }],
      endpointAccess,
      secretsEncryptionKey: this.secretsKey,
      clusterLogging: [
        eks.ClusterLoggingTypes.API,
        eks.ClusterLoggingTypes.AUDIT,
        eks.ClusterLoggingTypes.AUTHENTICATOR,
        eks.ClusterLoggingTypes.CONTROLLER_MANAGER,
        eks.ClusterLoggingTypes.SCHEDULER,
      ],
      kubectlProviderOptions: { kubectlLayer: props.kubectlLayer ?? loadKubectlLayer(this, this.versions) },
      defaultCapacityType: eks.DefaultCapacityType.NODEGROUP,
      defaultCapacity: 0,
    });
  }

  private createNodeGroups(groups: FxNodeGroupOptions[]): eks.Nodegroup[] {
    const parent = new Construct(this, 'NodeGroups');
    const privateSubnets: ec2.SubnetSelection = this.vpc instanceof ec2.Vpc
      ? { subnetGroupName: SUBNET_PRIVATE }
      : { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
    return groups.map((g) => {
      const nodegroup = createNodeGroup(parent, this.cluster, g, privateSubnets);
      for (const addon of this.addons.beforeNodes) nodegroup.node.addDependency(addon);
      this.installOrder.provide(nodegroup, FxCapability.NODES);
      return nodegroup;
    });
  }

  private installMetricsServer(): eks.HelmChart {
    const production = this.profile.isProduction;
    return this.addHelmChart('MetricsServer', {
      chart: this.versions.charts.metricsServer,
      namespace: 'kube-system',
      createNamespace: false,
      values: {
        replicas: production ? 2 : 1,
        podDisruptionBudget: { enabled: production, minAvailable: 1 },
        resources: {
          requests: { cpu: '100m', memory: '200Mi' },
          limits: { memory: '400Mi' },
        },
        commonLabels: chartLabels(this.platformName, 'metrics-server'),
      },
      provides: [FxCapability.METRICS_API],
    });
  }
}

function resolveEndpointAccess(props: FxClusterProps): eks.EndpointAccess {
  const allowlist = props.endpointAllowlist;
  if (props.privateEndpointOnly) {
    check(allowlist === undefined, WHO, 'endpointAllowlist', allowlist, 'no allowlist when privateEndpointOnly is true (there is no public endpoint)');
    return eks.EndpointAccess.PRIVATE;
  }
  if (allowlist === undefined) return eks.EndpointAccess.PUBLIC_AND_PRIVATE;
  check(allowlist.length > 0, WHO, 'endpointAllowlist', allowlist, 'at least one IPv4 CIDR block (use privateEndpointOnly for no public access)');
  for (const cidr of allowlist) {
    check(isIpv4Cidr(cidr), WHO, 'endpointAllowlist', cidr, 'IPv4 CIDR blocks such as 203.0.113.0/24');
    const reserved = isUnresolved(cidr) ? undefined : nonInternetRangeOf(cidr);
    check(reserved === undefined, WHO, 'endpointAllowlist', cidr,
      `public internet ranges (${cidr} is in the private or reserved range ${reserved}, which never reaches the public endpoint; in-VPC clients use the private endpoint)`);
  }
  return eks.EndpointAccess.PUBLIC_AND_PRIVATE.onlyFrom(...allowlist);
}

/**
 * Loads `KubectlVNNLayer` from `@aws-cdk/lambda-layer-kubectl-vNN` of the cluster's minor. Only the
 * default minor's package is a peer dependency; users of other minors install theirs.
 */
function loadKubectlLayer(scope: Construct, versions: FxComponentVersions): lambda.ILayerVersion {
  const pkg = versions.kubectlLayerPackage;
  const className = `KubectlV${versions.kubernetesVersion.split('.')[1]}Layer`;
  let mod: Record<string, unknown>;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require(pkg);
  } catch {
    throw new FxValidationError(WHO, 'kubernetesVersion', versions.kubernetesVersion,
      `a version whose kubectl layer is installed: run \`npm install ${pkg}\` or pass kubectlLayer`);
  }
  const Layer = mod[className] as (new (s: Construct, i: string) => lambda.ILayerVersion) | undefined;
  if (typeof Layer !== 'function') {
    throw new FxValidationError(WHO, 'kubernetesVersion', versions.kubernetesVersion,
      `a version whose kubectl layer package exports ${className}: check the installed ${pkg} or pass kubectlLayer`);
  }
  return new Layer(scope, 'KubectlLayer');
}
