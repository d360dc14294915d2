import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IConstruct } from 'constructs';
import { FxCapability } from '../../core/install-order';
import { FxAddonVersions } from '../../core/versions';

/** Service account of the EFS CSI driver's node DaemonSet (created by the add-on). */
export const EFS_CSI_NODE_SERVICE_ACCOUNT = 'efs-csi-node-sa';

/** EKS managed add-on names as the EKS API spells them. */
export const ADDON_NAMES = {
  vpcCni: 'vpc-cni',
  coreDns: 'coredns',
  kubeProxy: 'kube-proxy',
  podIdentityAgent: 'eks-pod-identity-agent',
  ebsCsiDriver: 'aws-ebs-csi-driver',
  efsCsiDriver: 'aws-efs-csi-driver',
  snapshotController: 'snapshot-controller',
};

/** The part of a cluster that orders what is installed on it. @internal */
export interface InstallOrderRegistry {
  registerProvider(construct: IConstruct, ...capabilities: string[]): void;
  installAfter(construct: IConstruct, ...capabilities: string[]): void;
}

/** @internal */
export interface ManagedAddonsProps {
  readonly cluster: eks.Cluster;
  readonly versions: FxAddonVersions;
  /** The cluster's install-order registry. */
  readonly order: InstallOrderRegistry;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The EKS managed add-ons of an FxCluster, each at the exact `eksbuild` version of the versions
 * table. Networking add-ons (vpc-cni, kube-proxy) and the Pod Identity agent install before the
 * node groups; the rest wait for nodes (`FxCapability.NODES`). The CSI drivers get their AWS
 * access through Pod Identity associations, never through the node role.
 *
 * @internal
 */
export class ManagedAddons extends Construct {
  /** Add-ons that must exist before nodes join (the CNI configuration nodes boot with). */
  public readonly beforeNodes: IConstruct[];
  public readonly vpcCni: eks.CfnAddon;
  public readonly coreDns: eks.CfnAddon;
  public readonly kubeProxy: eks.CfnAddon;
  public readonly podIdentityAgent: eks.IAddon;
  public readonly ebsCsiDriver: eks.CfnAddon;
  public readonly efsCsiDriver: eks.CfnAddon;
  public readonly snapshotController: eks.CfnAddon;
  public readonly ebsCsiRole: iam.Role;
  public readonly efsCsiRole: iam.Role;
  /** Role of the EFS CSI node plugin (`efs-csi-node-sa`): the identity of IAM-authenticated mounts. */
  public readonly efsCsiNodeRole: iam.Role;

  private readonly props: ManagedAddonsProps;

  constructor(scope: Construct, id: string, props: ManagedAddonsProps) {
    super(scope, id);
    this.props = props;
    const v = props.versions;
    const order = props.order;

    // vpc-cni: Kubernetes NetworkPolicy enforcement (our NetworkPolicies are default-deny) and
    // prefix delegation (many more pods per node on Nitro instances).
    this.vpcCni = this.addon('VpcCni', ADDON_NAMES.vpcCni, v.vpcCni, {
      enableNetworkPolicy: 'true',
      env: { ENABLE_PREFIX_DELEGATION: 'true', WARM_PREFIX_TARGET: '1' },
    });
    this.kubeProxy = this.addon('KubeProxy', ADDON_NAMES.kubeProxy, v.kubeProxy);
    this.podIdentityAgent = this.createPodIdentityAgent(v.podIdentityAgent);
    this.beforeNodes = [this.vpcCni, this.kubeProxy, this.podIdentityAgent];
    order.registerProvider(this.podIdentityAgent, FxCapability.POD_IDENTITY);

    this.coreDns = this.addon('CoreDns', ADDON_NAMES.coreDns, v.coreDns);
    order.installAfter(this.coreDns, FxCapability.NODES);

    this.ebsCsiRole = this.podIdentityRole('EbsCsiDriverRole', 'AmazonEBSCSIDriverPolicy');
    this.ebsCsiDriver = this.addon('EbsCsiDriver', ADDON_NAMES.ebsCsiDriver, v.ebsCsiDriver, undefined,
      [{ serviceAccount: 'ebs-csi-controller-sa', roleArn: this.ebsCsiRole.roleArn }]);
    this.efsCsiRole = this.podIdentityRole('EfsCsiDriverRole', 'AmazonEFSCSIDriverPolicy');
    // The node plugin mounts with the `iam` option (efs-utils authenticates as this role); the
    // cluster grants it ClientMount/ClientWrite on the file system it creates (grantEfsClient).
    this.efsCsiNodeRole = new iam.Role(this, 'EfsCsiNodeRole', {
      assumedBy: new iam.SessionTagsPrincipal(new iam.ServicePrincipal('pods.eks.amazonaws.com')),
      description: 'Fx platform: EFS client (mount, write) for the EFS CSI node plugin (EKS Pod Identity)',
    });
    this.efsCsiDriver = this.addon('EfsCsiDriver', ADDON_NAMES.efsCsiDriver, v.efsCsiDriver, undefined, [
      { serviceAccount: 'efs-csi-controller-sa', roleArn: this.efsCsiRole.roleArn },
      { serviceAccount: EFS_CSI_NODE_SERVICE_ACCOUNT, roleArn: this.efsCsiNodeRole.roleArn },
    ]);
    this.snapshotController = this.addon('SnapshotController', ADDON_NAMES.snapshotController, v.snapshotController);

    order.installAfter(this.ebsCsiDriver, FxCapability.NODES, FxCapability.POD_IDENTITY);
    order.installAfter(this.efsCsiDriver, FxCapability.NODES, FxCapability.POD_IDENTITY);
    order.installAfter(this.snapshotController, FxCapability.NODES);
    order.registerProvider(this.ebsCsiDriver, FxCapability.EBS_CSI);
    order.registerProvider(this.efsCsiDriver, FxCapability.EFS_CSI);
    order.registerProvider(this.snapshotController, FxCapability.SNAPSHOT_CRDS);
  }

  private addon(id: string, name: string, version: string, configuration?: object,
    podIdentityAssociations?: eks.CfnAddon.PodIdentityAssociationProperty[]): eks.CfnAddon {
    const addon = new eks.CfnAddon(this, id, {
      clusterName: this.props.cluster.clusterName,
      addonName: name,
      addonVersion: version,
      // Take over the self-managed copies EKS bootstraps (vpc-cni, coredns, kube-proxy).
      resolveConflicts: 'OVERWRITE',
      configurationValues: configuration ? JSON.stringify(configuration) : undefined,
      podIdentityAssociations,
      preserveOnDelete: false,
    });
    addon.applyRemovalPolicy(this.props.removalPolicy);
    return addon;
  }

  /**
   * aws-eks-v2 creates the agent lazily on first access and Pod Identity service accounts access
   * it; creating it through the same getter keeps a single agent, pinned here to the table.
   */
  private createPodIdentityAgent(version: string): eks.IAddon {
    const agent = this.props.cluster.eksPodIdentityAgent!;
    const cfn = agent.node.defaultChild as eks.CfnAddon;
    cfn.addonVersion = version;
    cfn.resolveConflicts = 'OVERWRITE';
    return agent;
  }

  /** A role only the EKS Pod Identity service can assume, with one AWS managed driver policy. */
  private podIdentityRole(id: string, managedPolicy: string): iam.Role {
    const role = new iam.Role(this, id, {
      assumedBy: new iam.SessionTagsPrincipal(new iam.ServicePrincipal('pods.eks.amazonaws.com')),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName(`service-role/${managedPolicy}`)],
      description: `Fx platform: ${managedPolicy} for the CSI driver controller (EKS Pod Identity)`,
    });
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/${managedPolicy}]`,
      reason: `AWS maintains ${managedPolicy} with exactly the actions the driver calls, scoped by resource tags it sets; a copy would drift from the driver.`,
    });
    return role;
  }
}
