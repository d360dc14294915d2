import { Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { CertManagerAddon } from './cert-manager';
import { ClusterAutoscalerAddon } from './cluster-autoscaler';
import { FROM_CLUSTER_PROPS } from './common';
import { ExternalSecretsAddon } from './external-secrets';
import { KARPENTER_CRDS, KarpenterAddon } from './karpenter';
import { LoadBalancerControllerAddon } from './load-balancer-controller';
import { installMetricsServer } from './metrics-server';
import { defaultIpAllowlist, TraefikAddon } from './traefik';
import { VeleroAddon } from './velero';
import { check } from '../../core/errors';
import { FxCapability } from '../../core/install-order';
import { FxAddonName, FxAddonOptions, IFxAddon } from '../addon';
import type { IFxCluster } from '../contract';
import { FxAutoscalerExpander, FxKarpenterOptions, FxRateLimit } from '../props';
import { createSharedFileSystem } from '../storage';
import { FxTlsMode } from '../tls';

const WHO = 'FxCluster';

/** The add-on's own `values`, named by its class (the user built it): a plain object of Helm values. */
function checkAddonValues(values: unknown, addon: string): void {
  check(values === undefined || Token.isUnresolved(values) || (typeof values === 'object' && values !== null && Object.getPrototypeOf(values) === Object.prototype),
    WHO, `${addon}.values`, values instanceof Map ? `a Map of ${values.size} entries` : values,
    "a plain object of Helm values, deep-merged over the add-on's own (e.g. { resources: { limits: { memory: '1Gi' } } })");
}

/** metrics-server: the resource metrics API (`metrics.k8s.io`) HPAs scale on. */
export class FxMetricsServerAddon implements IFxAddon {
  public readonly name = FxAddonName.METRICS_SERVER;
  public readonly needs: string[] = [];
  public readonly provides = [FxCapability.METRICS_API];
  /** The release, once installed. */
  public chart?: eks.HelmChart;

  constructor(private readonly options: FxAddonOptions = {}) {}

  public install(cluster: IFxCluster, _scope: Construct): void {
    checkAddonValues(this.options.values, 'FxMetricsServerAddon');
    this.chart = installMetricsServer(cluster, this.options);
  }
}

/** AWS Load Balancer Controller: ALBs for Ingresses and NLBs for LoadBalancer Services of this cluster. */
export class FxLoadBalancerControllerAddon implements IFxAddon {
  public readonly name = FxAddonName.LOAD_BALANCER_CONTROLLER;
  public readonly needs = [FxCapability.POD_IDENTITY];
  public readonly provides = [FxCapability.AWS_LOAD_BALANCER_CONTROLLER];
  /** The release, once installed. */
  public chart?: eks.HelmChart;

  constructor(private readonly options: FxAddonOptions = {}) {}

  public install(cluster: IFxCluster, _scope: Construct): void {
    checkAddonValues(this.options.values, 'FxLoadBalancerControllerAddon');
    this.chart = new LoadBalancerControllerAddon(cluster, this.options).chart;
  }
}

/** Options of the Traefik add-on. */
export interface FxTraefikAddonOptions extends FxAddonOptions {
  /**
   * Traefik replicas, from 1 to 20.
   * @default - the profile's `ingressReplicas`
   */
  readonly replicas?: number;
  /**
   * Limits of the shared `fx-rate-limit` middleware (per client IP).
   * @default - 100 requests per second on average, bursts of 200
   */
  readonly rateLimit?: FxRateLimit;
  /**
   * Source CIDR blocks of the shared `fx-ip-allowlist` middleware.
   * @default - the VPC CIDR only
   */
  readonly ipAllowlist?: string[];
}

/**
 * Traefik, the ingress controller: its shared middlewares and TLSOption, and the public load balancer
 * and DNS records of the cluster's `tls` path.
 */
export class FxTraefikAddon implements IFxAddon {
  public readonly name = FxAddonName.TRAEFIK;
  public readonly needs = [FxCapability.AWS_LOAD_BALANCER_CONTROLLER];
  public readonly provides = [FxCapability.TRAEFIK_CRDS, FxCapability.TRAEFIK_MIDDLEWARES];
  /** The release, once installed. */
  public chart?: eks.HelmChart;
  /** The manifest with the default TLSOption and the shared middlewares, once installed. */
  public sharedManifest?: eks.KubernetesManifest;
  /** DNS name of the public load balancer, once installed on a cluster with `tls`. */
  public loadBalancerDnsName?: string;

  constructor(private readonly options: FxTraefikAddonOptions = {}) {}

  public install(cluster: IFxCluster, scope: Construct): void {
    checkAddonValues(this.options.values, 'FxTraefikAddon');
    const traefik = new TraefikAddon(cluster, scope, {
      tls: cluster.tls,
      replicas: this.options.replicas ?? cluster.profile.settings.ingressReplicas,
      replicasFromProfile: this.options.replicas === undefined ? cluster.profile.name : undefined,
      optionsProp: FROM_CLUSTER_PROPS.has(this) ? undefined : 'FxTraefikAddon',
      rateLimit: this.options.rateLimit ?? { average: 100, burst: 200 },
      ipAllowlist: this.options.ipAllowlist ?? defaultIpAllowlist(cluster),
      values: this.options.values,
      version: this.options.version,
    });
    this.chart = traefik.chart;
    this.sharedManifest = traefik.sharedManifest;
    this.loadBalancerDnsName = traefik.loadBalancerDnsName;
  }
}

/** cert-manager and the Let's Encrypt ClusterIssuer and wildcard certificate (clusters on the Let's Encrypt path). */
export class FxCertManagerAddon implements IFxAddon {
  public readonly name = FxAddonName.CERT_MANAGER;
  public readonly needs = [FxCapability.POD_IDENTITY];
  public readonly provides = [FxCapability.CERT_MANAGER_CRDS, FxCapability.CERT_MANAGER_WEBHOOK];
  /** The release, once installed. */
  public chart?: eks.HelmChart;

  constructor(private readonly options: FxAddonOptions = {}) {}

  public install(cluster: IFxCluster, _scope: Construct): void {
    checkAddonValues(this.options.values, 'FxCertManagerAddon');
    const tls = cluster.tls;
    check(tls?.mode === FxTlsMode.LETS_ENCRYPT, WHO, 'addons', this.name,
      `add-ons of the cluster's TLS path: cert-manager needs tls FxTls.letsEncrypt() (cluster ${cluster.node.path} has ${tls ? 'FxTls.acm()' : 'no tls'})`);
    this.chart = new CertManagerAddon(cluster, tls!, this.options).chart;
  }
}

/** External Secrets Operator with a Pod Identity role for the platform's secrets and the `fx-secrets-manager` ClusterSecretStore. */
export class FxExternalSecretsAddon implements IFxAddon {
  public readonly name = FxAddonName.EXTERNAL_SECRETS;
  public readonly needs = [FxCapability.POD_IDENTITY];
  public readonly provides = [FxCapability.EXTERNAL_SECRETS_CRDS, FxCapability.EXTERNAL_SECRETS_WEBHOOK, FxCapability.CLUSTER_SECRET_STORE];
  /** The release, once installed. */
  public chart?: eks.HelmChart;
  /** The ClusterSecretStore manifest, once installed. */
  public clusterSecretStore?: eks.KubernetesManifest;
  private installation?: ExternalSecretsAddon;

  constructor(private readonly options: FxAddonOptions = {}) {}

  public install(cluster: IFxCluster, _scope: Construct): void {
    checkAddonValues(this.options.values, 'FxExternalSecretsAddon');
    this.installation = new ExternalSecretsAddon(cluster, this.options);
    this.chart = this.installation.chart;
    this.clusterSecretStore = this.installation.clusterSecretStore;
  }

  /**
   * Lets the operator read one secret (once per secret).
   *
   * @param secret the secret
   */
  public grantRead(secret: secretsmanager.ISecret): void {
    check(this.installation !== undefined, WHO, 'grantExternalSecretRead', secret.node.path, 'a grant after the external-secrets add-on is installed');
    this.installation!.grantRead(secret);
  }
}

/** Options of the cluster-autoscaler add-on. */
export interface FxClusterAutoscalerAddonOptions extends FxAddonOptions {
  /**
   * How the node group to grow is chosen.
   * @default FxAutoscalerExpander.LEAST_WASTE
   */
  readonly expander?: FxAutoscalerExpander;
}

/** cluster-autoscaler, growing and shrinking the managed node groups. */
export class FxClusterAutoscalerAddon implements IFxAddon {
  public readonly name = FxAddonName.CLUSTER_AUTOSCALER;
  public readonly needs = [FxCapability.POD_IDENTITY];
  public readonly provides = ['cluster-autoscaler'];
  /** The release, once installed. */
  public chart?: eks.HelmChart;

  constructor(private readonly options: FxClusterAutoscalerAddonOptions = {}) {}

  public install(cluster: IFxCluster, scope: Construct): void {
    checkAddonValues(this.options.values, 'FxClusterAutoscalerAddon');
    const expanders = Object.values(FxAutoscalerExpander) as string[];
    check(this.options.expander === undefined || expanders.includes(this.options.expander), WHO, 'FxClusterAutoscalerAddon.expander', this.options.expander,
      `an FxAutoscalerExpander: ${expanders.join(', ')}`);
    this.chart = new ClusterAutoscalerAddon(cluster, scope, this.options.expander ?? FxAutoscalerExpander.LEAST_WASTE, this.options).chart;
  }
}

/** Options of the Karpenter add-on. */
export interface FxKarpenterAddonOptions extends FxKarpenterOptions {
  /**
   * Helm values deep-merged over the add-on's own.
   * @default - the add-on's values only
   */
  readonly values?: { [key: string]: any };
}

/** Karpenter: NodePools launching EC2 capacity for pending pods, with its interruption queue. */
export class FxKarpenterAddon implements IFxAddon {
  public readonly name = FxAddonName.KARPENTER;
  public readonly needs = [FxCapability.POD_IDENTITY];
  public readonly provides = ['karpenter', ...KARPENTER_CRDS];
  /** The release, once installed. */
  public chart?: eks.HelmChart;
  /** The NodePools and EC2NodeClasses manifest, once installed. */
  public nodePools?: eks.KubernetesManifest;

  constructor(private readonly options: FxKarpenterAddonOptions = {}) {}

  public install(cluster: IFxCluster, scope: Construct): void {
    checkAddonValues(this.options.values, 'FxKarpenterAddon');
    const karpenter = new KarpenterAddon(cluster, scope, this.options, this.options.values);
    this.chart = karpenter.chart;
    this.nodePools = karpenter.nodePools;
  }
}

/** Options of the Velero add-on. */
export interface FxVeleroAddonOptions extends FxAddonOptions {
  /**
   * Days each daily backup is kept (1 to 3650).
   * @default - the profile's `clusterBackupRetentionDays`
   */
  readonly retentionDays?: number;
}

/** Velero: daily backups of all namespaces to a retained S3 bucket, volumes through CSI snapshots. */
export class FxVeleroAddon implements IFxAddon {
  public readonly name = FxAddonName.VELERO;
  public readonly needs = [FxCapability.POD_IDENTITY, FxCapability.SNAPSHOT_CRDS, FxCapability.STORAGE_CLASSES];
  public readonly provides = [FxCapability.VELERO_CRDS];
  /** The release, once installed. */
  public chart?: eks.HelmChart;
  /** The backup bucket (retained), once installed. */
  public bucket?: s3.IBucket;

  constructor(private readonly options: FxVeleroAddonOptions = {}) {}

  public install(cluster: IFxCluster, scope: Construct): void {
    checkAddonValues(this.options.values, 'FxVeleroAddon');
    const velero = new VeleroAddon(cluster, scope, this.options.retentionDays ?? cluster.profile.settings.clusterBackupRetentionDays, this.options,
      this.options.retentionDays === undefined ? cluster.profile.name : undefined,
      this.options.retentionDays === undefined || FROM_CLUSTER_PROPS.has(this) ? 'clusterBackupRetentionDays' : 'FxVeleroAddon.retentionDays');
    this.chart = velero.chart;
    this.bucket = velero.bucket;
  }
}

/** Options of the EFS add-on. */
export interface FxEfsAddonOptions {
  /** The identity of IAM-authorized mounts: the role of the EFS CSI driver's node plugin (`efs-csi-node-sa`). */
  readonly clientRole: iam.IRole;
}

/**
 * The shared EFS file system (encrypted, in the private subnets, NFS from the cluster security group
 * only, daily AWS Backup, retained). On an FxCluster its `efs-sc` StorageClass is in the cluster's
 * storage manifest; without this add-on there is no `efs-sc` class, and `FxVolume.efs` claims stay pending.
 */
export class FxEfsAddon implements IFxAddon {
  public readonly name = FxAddonName.EFS;
  public readonly needs: string[] = [];
  public readonly provides: string[] = [];
  /** The file system, once installed. */
  public fileSystem?: efs.FileSystem;

  constructor(private readonly options: FxEfsAddonOptions) {}

  public install(cluster: IFxCluster, scope: Construct): void {
    this.fileSystem = createSharedFileSystem(scope, 'FileSystem', {
      vpc: cluster.vpc,
      subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      clusterSecurityGroup: cluster.clusterSecurityGroup,
      clientRole: this.options.clientRole,
    });
  }
}
