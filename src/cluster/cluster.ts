import { Annotations, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as cdk8s from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { FxAddonName, IFxAddon } from './addon';
import { selectAddons } from './addon-values';
import {
  FxCertManagerAddon, FxClusterAutoscalerAddon, FxEfsAddon, FxExternalSecretsAddon, FxKarpenterAddon, FxLoadBalancerControllerAddon,
  FxMetricsServerAddon, FxTraefikAddon, FxVeleroAddon,
} from './addons/builtins';
import { fromClusterProps } from './addons/common';
import { clusterOidcProvider } from './addons/external-secrets';
import { ManagedAddons } from './addons/managed';
import { FxClusterBase } from './cluster-base';
import { IFxCluster } from './contract';
import { importCluster } from './imported';
import { acknowledgeClusterFindings } from './nag';
import { FxNetwork, SUBNET_PRIVATE, validateImportedVpc } from './network';
import { FxNodeGroupOptions } from './nodegroup-options';
import { createNodeGroup, resolveNodeGroups } from './nodegroups';
import { FxAccessLevel, FxAutoscalerExpander, FxClusterAttributes, FxClusterProps, FxNodeAutoscaler, FxUpgradePolicy } from './props';
import { createStorageChart } from './storage';
import { FxTls, FxTlsMode } from './tls';
import { atConstruct, check, FxValidationError, isIpv4Cidr, isIpv4Network, isUnresolved, nonInternetRangeOf, profileSuffix, trackConstruct } from '../core/errors';
import { FxCapability } from '../core/install-order';
import { isDnsLabel, isLabelValue } from '../core/k8s-names';
import { FxProfile } from '../core/profile';
import { tagPlatform } from '../core/tags';
import { FxAddonVersions, FxComponentVersions, FxVersions } from '../core/versions';

const WHO = 'FxCluster';
const CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/;
const EKS_ADDON_VERSION = /^v\d+\.\d+\.\d+-eksbuild\.\d+$/;
/** The retention values CloudWatch Logs accepts (`logs.RetentionDays`; a plain number from JavaScript may be anything). */
const LOG_RETENTION_DAYS = new Set(Object.values(logs.RetentionDays).filter((v) => typeof v === 'number') as number[]);
export { KUBECTL_HANDLER_TIMEOUT_SECONDS, MAX_HELM_TIMEOUT_SECONDS } from './cluster-base';

/**
 * An EKS cluster ready for platform workloads: a 3-AZ VPC with flow logs, an aws-eks-v2 control
 * plane with all control-plane logs and KMS-encrypted secrets, managed node groups with IMDSv2 and
 * encrypted gp3 volumes, the EKS managed add-ons (VPC CNI with network policy, CoreDNS, kube-proxy,
 * Pod Identity agent, EBS and EFS CSI drivers, snapshot controller), metrics-server, a default gp3
 * StorageClass, an EFS file system with its StorageClass, and an EBS VolumeSnapshotClass.
 *
 * Other Fx constructs take the FxCluster and install through its methods (`addHelmChart`,
 * `addManifest`, `addCdk8sChart`, `addPodIdentityServiceAccount`), which keep the install order:
 * what a chart or manifest `needs` is installed before it and deleted after it. Given a `scope` in
 * another stack, a resource is created there (`scopeFor`), so FxDatabase, FxObservability and
 * FxMicroservice may each live in a stack of their own, deployed after the cluster's.
 */
export class FxCluster extends FxClusterBase {
  /**
   * Imports an EKS cluster created elsewhere (another app or tool), so Fx add-ons and services
   * install on it through its kubectl provider.
   *
   * @param scope the parent construct
   * @param id construct id
   * @param attrs the cluster, its kubectl access, network, profile and what is already installed on it
   */
  public static fromClusterAttributes(scope: Construct, id: string, attrs: FxClusterAttributes): IFxCluster {
    return importCluster(scope, id, attrs);
  }

  /** The aws-eks-v2 cluster. */
  public readonly cluster: eks.Cluster;
  /** Name of the EKS cluster. */
  public readonly clusterName: string;
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
  /** The shared EFS file system behind the `efs-sc` StorageClass, unless the `efs` add-on is removed or replaced. */
  public readonly fileSystem?: efs.IFileSystem;
  /** The cdk8s chart with the StorageClasses and the VolumeSnapshotClass (already serialised). */
  public readonly storageChart: cdk8s.Chart;
  /** The manifest that applies `storageChart`. */
  public readonly storageManifest: eks.KubernetesManifest;
  /** The metrics-server Helm release, unless removed. */
  public readonly metricsServer?: eks.HelmChart;
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
  /** The AWS Load Balancer Controller release, unless removed. */
  public readonly loadBalancerController?: eks.HelmChart;
  /** The Traefik release (ingress controller; provides the Traefik CRDs), unless removed or replaced. */
  public readonly traefik?: eks.HelmChart;
  /** The manifest with the default TLSOption and the shared Traefik middlewares, unless Traefik is removed or replaced. */
  public readonly traefikShared?: eks.KubernetesManifest;
  /** The External Secrets Operator release (provides its CRDs and webhook), unless removed or replaced. */
  public readonly externalSecretsChart?: eks.HelmChart;
  /** The `fx-secrets-manager` ClusterSecretStore manifest, unless External Secrets is removed or replaced. */
  public readonly clusterSecretStore?: eks.KubernetesManifest;
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
  /** The interface VPC endpoints of the VPC the cluster created (`interfaceEndpoints`); none in an existing `vpc`. */
  public readonly interfaceEndpoints?: ec2.InterfaceVpcEndpointAwsService[];
  /** CIDR blocks of the subnets holding `interfaceEndpoints` (the private subnets; empty without endpoints). */
  public readonly interfaceEndpointSubnetCidrs?: string[];

  /** The EKS managed add-ons (VPC CNI, CoreDNS, kube-proxy, Pod Identity agent, CSI drivers, snapshot controller). */
  private readonly managedAddons: ManagedAddons;
  /** Namespaces granted through grantAccess, by role ARN and access level. */
  private readonly accessGrants = new Map<string, string[]>();

  constructor(scope: Construct, id: string, props: FxClusterProps = {}) {
    super(scope, id, WHO);
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
    check(LOG_RETENTION_DAYS.has(logRetention), WHO, props.logRetention === undefined ? `logRetention${profileSuffix(profile.name)}` : 'logRetention',
      logRetention, `a retention CloudWatch Logs supports (logs.RetentionDays): ${[...LOG_RETENTION_DAYS].sort((a, b) => a - b).join(', ')} days`);
    const endpointAccess = resolveEndpointAccess(props);
    if (!props.privateEndpointOnly && props.endpointAllowlist === undefined) {
      Annotations.of(this).addWarningV2('@fx/cluster:open-endpoint',
        'FxCluster: the public Kubernetes API endpoint is open to 0.0.0.0/0; set endpointAllowlist to your CIDRs or privateEndpointOnly: true');
    }
    const nodeGroups = resolveNodeGroups(props.nodeGroups, profile);
    const clusterName = props.clusterName ?? Names.uniqueResourceName(this, { maxLength: 100, separator: '-' });
    this.clusterName = clusterName;
    check(Token.isUnresolved(clusterName) || CLUSTER_NAME.test(clusterName), WHO, 'clusterName', clusterName,
      'up to 100 letters, digits, - and _, starting with a letter or digit');
    claimUnique(this, 'clusterName', clusterName, 'region',
      (other) => `a name no other FxCluster in the same account and region has (${other} has it: EKS cluster names are unique per account and region)`);
    if (props.tls) {
      const zone = props.tls.hostedZone;
      const zoneKey = Token.isUnresolved(zone.hostedZoneId) ? zone.node.path : zone.hostedZoneId;
      // Per stack only: stacks of one app may be alternatives deployed one at a time.
      claimUnique(this, 'tls', `${props.tls.domainName} in zone ${zoneKey}`, undefined,
        (other) => `a domain no other FxCluster of the stack serves in the same hosted zone (${other} writes its DNS records: `
          + `the ${props.tls!.domainName} and *.${props.tls!.domainName} records would be written twice)`, props.tls.domainName);
    }
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
      natGatewaysFromProfile: props.natGateways === undefined ? this.profile.name : undefined,
      availabilityZones: props.availabilityZones,
      interfaceEndpoints: props.interfaceEndpoints ?? [],
      logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.vpc = props.vpc ?? network!.vpc;
    // An existing VPC may have endpoints, but which ones and where is not known here: none are assumed.
    this.interfaceEndpoints = network?.interfaceEndpoints ?? [];
    this.interfaceEndpointSubnetCidrs = network?.interfaceEndpointSubnetCidrs ?? [];

    this.secretsKey = new kms.Key(this, 'SecretsKey', {
      description: `Fx platform ${this.platformName}: envelope encryption of Kubernetes Secrets`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const controlPlaneLogs = this.createControlPlaneLogGroup(clusterName, logRetention, network?.logKey);
    this.cluster = this.createControlPlane(clusterName, endpointAccess, props);
    this.cluster.node.addDependency(controlPlaneLogs);
    check(props.upgradePolicy === undefined || Object.values(FxUpgradePolicy).includes(props.upgradePolicy), WHO, 'upgradePolicy', props.upgradePolicy,
      'FxUpgradePolicy.STANDARD or FxUpgradePolicy.EXTENDED');
    (this.cluster.node.defaultChild as eks.CfnCluster).upgradePolicy = {
      supportType: props.upgradePolicy ?? FxUpgradePolicy.STANDARD,
    };
    this.clusterSecurityGroup = this.cluster.clusterSecurityGroup;
    this.connections = this.cluster.connections;
    const admins = props.admins ?? [];
    admins.forEach((role, i) => {
      // The same role (or ARN) twice would give one access entry the admin policy twice: EKS rejects it at deploy.
      // One deploy-time ARN (the same token) is one principal too: aws-cdk-lib would give it two access entries.
      const first = admins.findIndex((r) => r === role || r.roleArn === role.roleArn);
      check(first === i, WHO, `admins[${i}]`, Token.isUnresolved(role.roleArn) ? role.node.path : role.roleArn,
        `each role once (it is admins[${first}] already)`);
      this.cluster.grantClusterAdmin(`Admin${Names.nodeUniqueId(role.node)}`, role.roleArn);
    });

    this.managedAddons = new ManagedAddons(this, 'Addons', {
      cluster: this.cluster,
      versions: resolveManagedAddonVersions(this.versions, props),
      order: this,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.nodeGroups = this.createNodeGroups(nodeGroups);

    // Platform add-ons: each declares what it needs and provides (addon.ts, addons/builtins.ts).
    const addons = selectAddons(WHO, this.defaultAddons(props), props.addons);
    checkPropsOfRemovedAddons(props, addons);
    // The shared file system first: the storage manifest's efs-sc class names it.
    this.installAddons(this, addons.filter((a) => a.name === FxAddonName.EFS));
    const fileSystem = this.builtIn(FxAddonName.EFS, FxEfsAddon)?.fileSystem;
    this.fileSystem = fileSystem;
    this.storageChart = createStorageChart({ platformName: this.platformName, fileSystem, retainVolumes: this.retainVolumes });
    this.storageManifest = this.addCdk8sChart('Storage', this.storageChart, {
      needs: [FxCapability.EBS_CSI, ...(fileSystem ? [FxCapability.EFS_CSI] : []), FxCapability.SNAPSHOT_CRDS],
      provides: [FxCapability.STORAGE_CLASSES],
    });
    if (fileSystem) this.storageManifest.node.addDependency(fileSystem.mountTargetsAvailable);

    this.tls = props.tls;
    this.domainName = props.tls?.domainName;
    this.tlsTerminatedByTraefik = props.tls?.mode === FxTlsMode.LETS_ENCRYPT;
    // Created under this construct with the ids they always had: a moved Helm release is reinstalled.
    this.installAddons(this, addons.filter((a) => a.name !== FxAddonName.EFS));
    const traefik = this.builtIn(FxAddonName.TRAEFIK, FxTraefikAddon);
    const externalSecrets = this.builtIn(FxAddonName.EXTERNAL_SECRETS, FxExternalSecretsAddon);
    const karpenter = this.builtIn(FxAddonName.KARPENTER, FxKarpenterAddon);
    const velero = this.builtIn(FxAddonName.VELERO, FxVeleroAddon);
    this.metricsServer = this.builtIn(FxAddonName.METRICS_SERVER, FxMetricsServerAddon)?.chart;
    this.loadBalancerController = this.builtIn(FxAddonName.LOAD_BALANCER_CONTROLLER, FxLoadBalancerControllerAddon)?.chart;
    this.traefik = traefik?.chart;
    this.traefikShared = traefik?.sharedManifest;
    this.loadBalancerDnsName = traefik?.loadBalancerDnsName;
    this.certManager = this.builtIn(FxAddonName.CERT_MANAGER, FxCertManagerAddon)?.chart;
    this.externalSecretsChart = externalSecrets?.chart;
    this.clusterSecretStore = externalSecrets?.clusterSecretStore;
    this.clusterAutoscaler = this.builtIn(FxAddonName.CLUSTER_AUTOSCALER, FxClusterAutoscalerAddon)?.chart;
    this.karpenter = karpenter?.chart;
    this.karpenterNodePools = karpenter?.nodePools;
    this.velero = velero?.chart;
    this.backupBucket = velero?.bucket;

    acknowledgeClusterFindings(this, this.cluster, this.nodeGroups);
  }

  /**
   * The cluster's IAM OIDC identity provider (audience `sts.amazonaws.com`), created on first use:
   * the one IRSA trust anchor of the cluster (namespace SecretStores, Elasticsearch snapshots).
   * Always defined for an FxCluster (optional only in the contract, which imported clusters share).
   */
  public get openIdConnectProvider(): iam.IOidcProvider | undefined {
    return clusterOidcProvider(this);
  }

  /**
   * Grants an IAM role namespace-scoped Kubernetes access through an EKS access entry. Each role
   * gets each access level once: list all its namespaces of that level in one call.
   *
   * @param role the IAM role
   * @param namespaces namespaces the access is limited to
   * @param level view, edit or admin
   */
  public grantAccess(role: iam.IRole, namespaces: string[], level: FxAccessLevel): void {
    atConstruct(this, () => {
      check(typeof level?.name === 'string' && typeof level.policyName === 'string', WHO, 'grantAccess.level', level, 'FxAccessLevel.VIEW, FxAccessLevel.EDIT or FxAccessLevel.ADMIN');
      check(namespaces.length > 0, WHO, 'grantAccess.namespaces', namespaces, 'at least one namespace');
      for (const ns of namespaces) {
        check(isDnsLabel(ns), WHO, 'grantAccess.namespaces', ns, 'DNS labels (lowercase letters, digits, -)');
      }
      // One role is one access entry; the same policy in it twice would keep one scope (or fail).
      const key = `${role.roleArn} ${level.name}`;
      const earlier = this.accessGrants.get(key);
      check(earlier === undefined, WHO, 'grantAccess.role', Token.isUnresolved(role.roleArn) ? role.node.path : role.roleArn,
        `each role once per access level (it has ${level.name} access to ${earlier?.join(', ')} already): list all its namespaces in one grantAccess call`);
      this.accessGrants.set(key, [...namespaces]);
    });
    this.cluster.grantAccess(`Access${Names.nodeUniqueId(role.node)}${level.name}`, role.roleArn, [
      eks.AccessPolicy.fromAccessPolicyName(level.policyName, { accessScopeType: eks.AccessScopeType.NAMESPACE, namespaces }),
    ]);
  }

  /** The add-ons this cluster installs unless `addons` says otherwise: from the profile and the props. */
  private defaultAddons(props: FxClusterProps): IFxAddon[] {
    check(props.nodeAutoscaler === undefined || props.clusterAutoscaler === undefined, WHO, 'clusterAutoscaler',
      `${props.clusterAutoscaler} with nodeAutoscaler ${props.nodeAutoscaler?.name}`, 'either nodeAutoscaler or clusterAutoscaler, not both');
    const autoscaler = props.nodeAutoscaler ?? ((props.clusterAutoscaler ?? true) ? FxNodeAutoscaler.CLUSTER_AUTOSCALER : undefined);
    check(props.autoscalerExpander === undefined || Object.values(FxAutoscalerExpander).includes(props.autoscalerExpander), WHO, 'autoscalerExpander',
      props.autoscalerExpander, `an FxAutoscalerExpander: ${Object.values(FxAutoscalerExpander).join(', ')}`);
    if (autoscaler !== FxNodeAutoscaler.CLUSTER_AUTOSCALER) {
      check(props.autoscalerExpander === undefined, WHO, 'autoscalerExpander', props.autoscalerExpander,
        'no expander unless cluster-autoscaler is the node autoscaler');
    }
    return [
      new FxEfsAddon({ clientRole: this.managedAddons.efsCsiNodeRole }),
      new FxMetricsServerAddon(),
      new FxLoadBalancerControllerAddon(),
      fromClusterProps(new FxTraefikAddon({
        replicas: props.ingressReplicas, rateLimit: props.ingressRateLimit, ipAllowlist: props.ingressIpAllowlist,
      })),
      ...(props.tls?.mode === FxTlsMode.LETS_ENCRYPT ? [new FxCertManagerAddon()] : []),
      new FxExternalSecretsAddon(),
      ...(autoscaler === FxNodeAutoscaler.CLUSTER_AUTOSCALER
        ? [new FxClusterAutoscalerAddon({ expander: props.autoscalerExpander ?? FxAutoscalerExpander.LEAST_WASTE })] : []),
      ...(autoscaler?.karpenterOptions ? [new FxKarpenterAddon(autoscaler.karpenterOptions)] : []),
      ...((props.velero ?? true) ? [fromClusterProps(new FxVeleroAddon({ retentionDays: props.clusterBackupRetentionDays }))] : []),
    ];
  }

  /** The installed add-on of that name when it is the built-in class (not a user replacement). */
  private builtIn<T extends IFxAddon>(name: string, type: new (...args: any[]) => T): T | undefined {
    const addon = this.findAddon(name);
    return addon instanceof type ? addon : undefined;
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
      for (const addon of this.managedAddons.beforeNodes) nodegroup.node.addDependency(addon);
      this.registerProvider(nodegroup, FxCapability.NODES);
      return nodegroup;
    });
  }
}

/** The versions table's EKS add-on versions with `managedAddonVersions` applied (exact `eksbuild` versions). */
function resolveManagedAddonVersions(versions: FxComponentVersions, props: FxClusterProps): FxAddonVersions {
  const overrides = props.managedAddonVersions ?? {};
  for (const [name, version] of Object.entries(overrides)) {
    if (version === undefined) continue;
    check(name in versions.addons, WHO, 'managedAddonVersions', name, `add-ons of the versions table: ${Object.keys(versions.addons).join(', ')}`);
    check(Token.isUnresolved(version) || EKS_ADDON_VERSION.test(version), WHO, `managedAddonVersions.${name}`, version,
      'an exact EKS add-on version such as v1.20.4-eksbuild.2');
  }
  return { ...versions.addons, ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) } as FxAddonVersions;
}

/**
 * Props that configure a default add-on fail when that add-on is removed or replaced (they would be
 * ignored): TLS needs the built-in Traefik (its routes and load balancer), the ingress props
 * configure it, the backup retention configures the built-in Velero.
 */
function checkPropsOfRemovedAddons(props: FxClusterProps, addons: IFxAddon[]): void {
  const removed = (name: string) => (props.addons?.remove ?? []).includes(name);
  const replaced = (name: string) => (props.addons?.replace ?? []).some((a) => a.name === name);
  if (props.tls !== undefined) {
    const traefik = addons.find((a) => a.name === FxAddonName.TRAEFIK);
    check(traefik !== undefined, WHO, 'tls', props.tls.domainName,
      'a cluster with Traefik: the certificate, load balancer and DNS records front it (keep the built-in traefik, add your own FxTraefikAddon in addons.extra, or leave tls unset)');
    // Only FxTraefikAddon reads the cluster's tls: another add-on named traefik would leave the domain without certificate or records.
    check(traefik instanceof FxTraefikAddon, WHO, 'tls', props.tls.domainName,
      `a cluster whose '${FxAddonName.TRAEFIK}' add-on is an FxTraefikAddon, which creates the certificate, load balancer and DNS records of tls `
      + `(the '${FxAddonName.TRAEFIK}' add-on given is a ${traefik?.constructor.name}): install an FxTraefikAddon, or leave tls unset and front your own ingress`);
  }
  const traefikGone = removed(FxAddonName.TRAEFIK) ? 'removed' : replaced(FxAddonName.TRAEFIK) ? 'replaced' : undefined;
  for (const [prop, value] of [['ingressReplicas', props.ingressReplicas], ['ingressRateLimit', props.ingressRateLimit],
    ['ingressIpAllowlist', props.ingressIpAllowlist]] as const) {
    check(value === undefined || traefikGone === undefined, WHO, prop, value,
      `no ${prop} when the built-in Traefik is ${traefikGone} (set the options of your own FxTraefikAddon instead)`);
  }
  const veleroGone = props.velero === false ? 'turned off (velero: false)'
    : removed(FxAddonName.VELERO) ? 'removed' : replaced(FxAddonName.VELERO) ? 'replaced' : undefined;
  check(props.clusterBackupRetentionDays === undefined || veleroGone === undefined, WHO, 'clusterBackupRetentionDays', props.clusterBackupRetentionDays,
    `no backup retention when the built-in Velero is ${veleroGone} (set retentionDays of your own FxVeleroAddon instead)`);
}

/** Names FxClusters of one app have taken, by what they are unique in (see `claimUnique`): the path of the cluster. */
const CLAIMED = new WeakMap<IConstruct, Map<string, string>>();

/**
 * Takes `value` of `prop` for `cluster` among the FxClusters of its app: unique per account and
 * region (`per: 'region'`) when the stack's env is known, else per stack. A deploy-time value is not
 * compared. `shown` is the value the message names (the claimed value by default).
 */
function claimUnique(cluster: FxCluster, prop: string, value: string, per: 'region' | undefined, allowed: (other: string) => string,
  shown: string = value): void {
  if (Token.isUnresolved(value)) return;
  const stack = Stack.of(cluster);
  const known = per === 'region' && !Token.isUnresolved(stack.account) && !Token.isUnresolved(stack.region);
  const where = known ? `${stack.account} ${stack.region}` : `stack ${stack.node.path}`;
  const claimed = CLAIMED.get(cluster.node.root) ?? new Map<string, string>();
  CLAIMED.set(cluster.node.root, claimed);
  const key = `${prop} ${where} ${value}`;
  const other = claimed.get(key);
  check(other === undefined || other === cluster.node.path, WHO, prop, shown, allowed(other ?? ''));
  claimed.set(key, cluster.node.path);
}

/** EKS service quota: public endpoint access CIDR ranges per cluster. */
const MAX_PUBLIC_ACCESS_CIDRS = 40;

function resolveEndpointAccess(props: FxClusterProps): eks.EndpointAccess {
  const allowlist = props.endpointAllowlist;
  if (props.privateEndpointOnly) {
    check(allowlist === undefined, WHO, 'endpointAllowlist', allowlist, 'no allowlist when privateEndpointOnly is true (there is no public endpoint)');
    return eks.EndpointAccess.PRIVATE;
  }
  if (allowlist === undefined) return eks.EndpointAccess.PUBLIC_AND_PRIVATE;
  check(allowlist.length > 0, WHO, 'endpointAllowlist', allowlist, 'at least one IPv4 CIDR block (use privateEndpointOnly for no public access)');
  check(Token.isUnresolved(allowlist) || allowlist.length <= MAX_PUBLIC_ACCESS_CIDRS, WHO, 'endpointAllowlist', `${allowlist.length} CIDR blocks`,
    `at most ${MAX_PUBLIC_ACCESS_CIDRS} CIDR blocks (the EKS quota of public endpoint CIDR ranges per cluster)`);
  for (const [i, cidr] of allowlist.entries()) {
    check(isIpv4Cidr(cidr), WHO, 'endpointAllowlist', cidr, 'IPv4 CIDR blocks such as 203.0.113.0/24');
    const reserved = isUnresolved(cidr) ? undefined : nonInternetRangeOf(cidr);
    check(reserved === undefined, WHO, 'endpointAllowlist', cidr,
      `public internet ranges (${cidr} is in the private or reserved range ${reserved}, which never reaches the public endpoint; in-VPC clients use the private endpoint)`);
    check(isIpv4Network(cidr), WHO, 'endpointAllowlist', cidr, 'network addresses (host bits zero), e.g. 203.0.113.0/24 rather than 203.0.113.5/24');
    check(allowlist.indexOf(cidr) === i, WHO, 'endpointAllowlist', cidr, 'each CIDR block once');
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
