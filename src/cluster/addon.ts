import { Construct } from 'constructs';
import { IFxCluster } from './contract';

/**
 * A platform component installed on an `IFxCluster`: one synchronous object that says what it
 * needs and provides, and installs its charts, manifests and identities through the cluster, whose
 * install-order registry orders it among the others. The built-in add-ons (`FxTraefikAddon`,
 * `FxExternalSecretsAddon`, ...) implement it, and so can yours (`FxClusterProps.addons.extra`).
 */
export interface IFxAddon {
  /** Name of the add-on, unique on a cluster (`traefik`); `FxAddonSelection.remove` and `replace` refer to it. */
  readonly name: string;
  /**
   * Capabilities the add-on waits for (see `FxCapability`): its releases and manifests `need` them
   * (those it installs through the cluster wait for them even when not given `needs`). Synthesis
   * fails when nothing on the cluster provides one.
   */
  readonly needs: string[];
  /**
   * Capabilities the add-on installs: others that need them wait for it. Synthesis fails when
   * `install` registers no provider of one.
   */
  readonly provides: string[];

  /**
   * Creates the add-on's resources: Kubernetes objects through the cluster (`addHelmChart` with
   * `needs: this.needs`, `addManifest`, `addPodIdentityServiceAccount`), AWS resources in `scope`.
   *
   * @param cluster the cluster to install on
   * @param scope the construct AWS resources of the add-on are created in
   */
  install(cluster: IFxCluster, scope: Construct): void;
}

/** Names of the built-in add-ons (`FxAddonSelection.remove`, `IFxAddon.name`). */
export class FxAddonName {
  /** metrics-server (resource metrics API for HPAs). */
  public static readonly METRICS_SERVER = 'metrics-server';
  /** AWS Load Balancer Controller. */
  public static readonly LOAD_BALANCER_CONTROLLER = 'aws-load-balancer-controller';
  /** Traefik ingress controller, its shared middlewares and the public load balancer. */
  public static readonly TRAEFIK = 'traefik';
  /** cert-manager with the Let's Encrypt issuer (Let's Encrypt TLS path). */
  public static readonly CERT_MANAGER = 'cert-manager';
  /** External Secrets Operator and the `fx-secrets-manager` ClusterSecretStore. */
  public static readonly EXTERNAL_SECRETS = 'external-secrets';
  /** cluster-autoscaler. */
  public static readonly CLUSTER_AUTOSCALER = 'cluster-autoscaler';
  /** Karpenter, its interruption queue and NodePools. */
  public static readonly KARPENTER = 'karpenter';
  /** Velero cluster backups with their S3 bucket. */
  public static readonly VELERO = 'velero';
  /** The shared EFS file system behind the `efs-sc` StorageClass. */
  public static readonly EFS = 'efs';

  private constructor() {}
}

/** Which add-ons an FxCluster installs besides (or instead of) its defaults. */
export interface FxAddonSelection {
  /**
   * Names of default add-ons not to install (see `FxAddonName`). What needs them then fails
   * synthesis unless something else provides it.
   * @default - none removed
   */
  readonly remove?: string[];
  /**
   * Add-ons installed in place of the default of the same `name` (for example a built-in with
   * extra Helm values: `new FxTraefikAddon({ values: {...} })`).
   * @default - none replaced
   */
  readonly replace?: IFxAddon[];
  /**
   * Further add-ons, installed after the defaults in the order given.
   * @default - none
   */
  readonly extra?: IFxAddon[];
}

/** Options every built-in add-on takes: extra Helm values and a chart version. */
export interface FxAddonOptions {
  /**
   * Helm values deep-merged over the add-on's own (objects merge key by key; arrays and scalars replace).
   * @default - the add-on's values only
   */
  readonly values?: { [key: string]: any };
  /**
   * Exact chart version overriding the versions table.
   * @default - the versions table's chart
   */
  readonly version?: string;
}
