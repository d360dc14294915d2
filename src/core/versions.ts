import { checkKnownAtSynth, FxValidationError } from './errors';

/** A Helm chart pinned to one version. */
export interface FxHelmChartVersion {
  /** Chart name in its repository. */
  readonly chart: string;
  /** Helm repository URL. */
  readonly repository: string;
  /** Exact chart version (never a range). */
  readonly version: string;
}

/** A container image pinned to one tag. */
export interface FxImageVersion {
  /** Image repository, without tag. */
  readonly repository: string;
  /** Exact tag (never `latest`). */
  readonly tag: string;
}

/** Every Helm chart the platform installs. */
export interface FxChartVersions {
  /** AWS Load Balancer Controller. */
  readonly awsLoadBalancerController: FxHelmChartVersion;
  /** Traefik ingress controller. */
  readonly traefik: FxHelmChartVersion;
  /** External Secrets Operator. */
  readonly externalSecrets: FxHelmChartVersion;
  /** cert-manager (Let's Encrypt TLS path). */
  readonly certManager: FxHelmChartVersion;
  /** cluster-autoscaler. */
  readonly clusterAutoscaler: FxHelmChartVersion;
  /** Velero cluster backups. */
  readonly velero: FxHelmChartVersion;
  /** metrics-server (resource metrics for HPAs). */
  readonly metricsServer: FxHelmChartVersion;
  /** kube-prometheus-stack (Prometheus, Alertmanager, Grafana). */
  readonly kubePrometheusStack: FxHelmChartVersion;
  /** Elastic Cloud on Kubernetes operator. */
  readonly eckOperator: FxHelmChartVersion;
  /** Fluent Bit (node log agent). */
  readonly fluentBit: FxHelmChartVersion;
  /**
   * Karpenter (node autoscaler). An OCI chart: the kubectl handler pulls `repository` itself and
   * ignores `chart`.
   */
  readonly karpenter: FxHelmChartVersion;
}

/** Every container image whose tag the platform chooses itself (charts pin the rest). */
export interface FxImageVersions {
  /** cluster-autoscaler: its minor must equal the Kubernetes minor. */
  readonly clusterAutoscaler: FxImageVersion;
  /** Velero's AWS object-store and volume-snapshot plugin. */
  readonly veleroPluginForAws: FxImageVersion;
  /** Elasticsearch (ECK `version`). */
  readonly elasticsearch: FxImageVersion;
  /** Kibana (ECK `version`). */
  readonly kibana: FxImageVersion;
  /** kubectl (waits for migration Jobs); its minor follows the Kubernetes minor. */
  readonly kubectl: FxImageVersion;
}

/** Every EKS managed add-on the platform installs, with its exact `eksbuild` version. */
export interface FxAddonVersions {
  /** Amazon VPC CNI. */
  readonly vpcCni: string;
  /** CoreDNS. */
  readonly coreDns: string;
  /** kube-proxy. */
  readonly kubeProxy: string;
  /** EKS Pod Identity agent. */
  readonly podIdentityAgent: string;
  /** Amazon EBS CSI driver. */
  readonly ebsCsiDriver: string;
  /** Amazon EFS CSI driver. */
  readonly efsCsiDriver: string;
  /** CSI snapshot controller. */
  readonly snapshotController: string;
  /** Amazon CloudWatch Observability (Container Insights). */
  readonly cloudWatchObservability: string;
}

/** Everything the platform installs on one Kubernetes minor. */
export interface FxComponentVersions {
  /** Kubernetes minor, e.g. `1.35`. */
  readonly kubernetesVersion: string;
  /** npm package of the kubectl/helm Lambda layer for this minor. */
  readonly kubectlLayerPackage: string;
  /** Helm charts. */
  readonly charts: FxChartVersions;
  /** Container images. */
  readonly images: FxImageVersions;
  /** EKS add-ons. */
  readonly addons: FxAddonVersions;
  /** RDS PostgreSQL engine version (full `major.minor`). */
  readonly postgresEngineVersion: string;
}

// Charts are the same on every supported minor: each pinned release supports all of them.
// Chart data (values, schemas, CRDs) for exactly these versions is in ../shared/charts.
const CHARTS: FxChartVersions = {
  awsLoadBalancerController: { chart: 'aws-load-balancer-controller', repository: 'https://aws.github.io/eks-charts', version: '3.5.0' },
  traefik: { chart: 'traefik', repository: 'https://traefik.github.io/charts', version: '41.3.0' },
  externalSecrets: { chart: 'external-secrets', repository: 'https://charts.external-secrets.io', version: '2.9.0' },
  certManager: { chart: 'cert-manager', repository: 'https://charts.jetstack.io', version: 'v1.21.1' },
  clusterAutoscaler: { chart: 'cluster-autoscaler', repository: 'https://kubernetes.github.io/autoscaler', version: '9.59.0' },
  velero: { chart: 'velero', repository: 'https://vmware-tanzu.github.io/helm-charts', version: '12.1.0' },
  metricsServer: { chart: 'metrics-server', repository: 'https://kubernetes-sigs.github.io/metrics-server', version: '3.13.1' },
  kubePrometheusStack: { chart: 'kube-prometheus-stack', repository: 'https://prometheus-community.github.io/helm-charts', version: '88.5.3' },
  eckOperator: { chart: 'eck-operator', repository: 'https://helm.elastic.co', version: '3.5.0' },
  fluentBit: { chart: 'fluent-bit', repository: 'https://fluent.github.io/helm-charts', version: '0.58.1' },
  karpenter: { chart: 'karpenter', repository: 'oci://public.ecr.aws/karpenter/karpenter', version: '1.14.1' },
};

const ELASTIC_STACK = '9.2.0';
const COMMON_IMAGES = {
  veleroPluginForAws: { repository: 'velero/velero-plugin-for-aws', tag: 'v1.14.0' },
  elasticsearch: { repository: 'docker.elastic.co/elasticsearch/elasticsearch', tag: ELASTIC_STACK },
  kibana: { repository: 'docker.elastic.co/kibana/kibana', tag: ELASTIC_STACK },
};
const CLUSTER_AUTOSCALER = 'registry.k8s.io/autoscaling/cluster-autoscaler';
const POSTGRES = '17.6';
const KUBECTL = 'registry.k8s.io/kubectl';

const ROWS: FxComponentVersions[] = [
  {
    kubernetesVersion: '1.34',
    kubectlLayerPackage: '@aws-cdk/lambda-layer-kubectl-v34',
    charts: CHARTS,
    images: { ...COMMON_IMAGES, clusterAutoscaler: { repository: CLUSTER_AUTOSCALER, tag: 'v1.34.2' }, kubectl: { repository: KUBECTL, tag: 'v1.34.0' } },
    addons: {
      vpcCni: 'v1.20.4-eksbuild.2',
      coreDns: 'v1.12.4-eksbuild.1',
      kubeProxy: 'v1.34.1-eksbuild.2',
      podIdentityAgent: 'v1.3.9-eksbuild.3',
      ebsCsiDriver: 'v1.51.1-eksbuild.1',
      efsCsiDriver: 'v2.1.14-eksbuild.1',
      snapshotController: 'v8.3.0-eksbuild.1',
      cloudWatchObservability: 'v4.6.0-eksbuild.1',
    },
    postgresEngineVersion: POSTGRES,
  },
  {
    kubernetesVersion: '1.35',
    kubectlLayerPackage: '@aws-cdk/lambda-layer-kubectl-v35',
    charts: CHARTS,
    images: { ...COMMON_IMAGES, clusterAutoscaler: { repository: CLUSTER_AUTOSCALER, tag: 'v1.35.0' }, kubectl: { repository: KUBECTL, tag: 'v1.35.0' } },
    addons: {
      vpcCni: 'v1.20.4-eksbuild.2',
      coreDns: 'v1.13.1-eksbuild.1',
      kubeProxy: 'v1.35.0-eksbuild.2',
      podIdentityAgent: 'v1.3.9-eksbuild.3',
      ebsCsiDriver: 'v1.51.1-eksbuild.1',
      efsCsiDriver: 'v2.1.14-eksbuild.1',
      snapshotController: 'v8.3.0-eksbuild.1',
      cloudWatchObservability: 'v4.6.0-eksbuild.1',
    },
    postgresEngineVersion: POSTGRES,
  },
  {
    kubernetesVersion: '1.36',
    kubectlLayerPackage: '@aws-cdk/lambda-layer-kubectl-v36',
    charts: CHARTS,
    images: { ...COMMON_IMAGES, clusterAutoscaler: { repository: CLUSTER_AUTOSCALER, tag: 'v1.36.0' }, kubectl: { repository: KUBECTL, tag: 'v1.36.0' } },
    addons: {
      vpcCni: 'v1.21.1-eksbuild.1',
      coreDns: 'v1.14.3-eksbuild.1',
      kubeProxy: 'v1.36.0-eksbuild.1',
      podIdentityAgent: 'v1.3.10-eksbuild.1',
      ebsCsiDriver: 'v1.53.0-eksbuild.1',
      efsCsiDriver: 'v2.2.0-eksbuild.1',
      snapshotController: 'v8.3.0-eksbuild.1',
      cloudWatchObservability: 'v4.7.0-eksbuild.1',
    },
    postgresEngineVersion: POSTGRES,
  },
];
// Keyed by minor string; built from a list so keys like '1.30' are never read as numbers.
const TABLE: Record<string, FxComponentVersions> = Object.fromEntries(ROWS.map((row) => [row.kubernetesVersion, row]));

/**
 * The versions table: every Helm chart, container image and EKS add-on version the platform
 * installs, per supported Kubernetes minor. Nothing the platform installs is `latest`.
 *
 * Supported minors are the newest EKS minors in standard support that every component supports;
 * anything below `MINIMUM_KUBERNETES_VERSION` or outside the table is rejected at synth time.
 */
export class FxVersions {
  /** Oldest Kubernetes minor the library will ever accept. */
  public static readonly MINIMUM_KUBERNETES_VERSION = '1.28';
  /** Kubernetes minors with a complete row in the table, oldest first. */
  public static readonly SUPPORTED_KUBERNETES_VERSIONS: string[] = Object.keys(TABLE).sort(compareMinor);
  /** The Kubernetes minor a cluster gets when none is chosen. */
  public static readonly DEFAULT_KUBERNETES_VERSION = '1.35';

  /**
   * The component versions for one Kubernetes minor.
   *
   * @param kubernetesVersion a minor such as `1.35` (a patch suffix like `1.35.2` is ignored)
   * @param construct name of the construct reporting the error, for the message
   * @throws if the version is below 1.28 or not in the table
   */
  public static forKubernetes(kubernetesVersion: string, construct?: string): FxComponentVersions {
    const who = construct ?? 'FxVersions';
    const minor = FxVersions.minorOf(kubernetesVersion, who);
    const supported = FxVersions.SUPPORTED_KUBERNETES_VERSIONS.join(', ');
    if (compareMinor(minor, FxVersions.MINIMUM_KUBERNETES_VERSION) < 0) {
      throw new FxValidationError(who, 'kubernetesVersion', kubernetesVersion,
        `${FxVersions.MINIMUM_KUBERNETES_VERSION} or newer (versions below ${FxVersions.MINIMUM_KUBERNETES_VERSION} are out of support); supported: ${supported}`);
    }
    const row = TABLE[minor];
    if (!row) {
      throw new FxValidationError(who, 'kubernetesVersion', kubernetesVersion, `a minor in the versions table: ${supported}`);
    }
    return row;
  }

  /** The component versions of the default Kubernetes minor. */
  public static default(): FxComponentVersions {
    return FxVersions.forKubernetes(FxVersions.DEFAULT_KUBERNETES_VERSION);
  }

  private static minorOf(version: string, who: string): string {
    // A string: eks.KubernetesVersion.of('1.33') from JavaScript is its `.version`, not the object.
    const given = version as unknown;
    checkKnownAtSynth(given, who, 'kubernetesVersion', 'the add-on, chart and kubectl layer versions are chosen from it');
    const m = typeof given === 'string' ? /^v?(\d+)\.(\d+)(\.\d+)?$/.exec(given.trim()) : null;
    if (!m) {
      const shown = typeof given === 'string' ? given : (given as { version?: unknown })?.version !== undefined
        ? `eks.KubernetesVersion.of('${(given as { version: unknown }).version}') (an object, not a string)` : given;
      throw new FxValidationError(who, 'kubernetesVersion', shown, `a Kubernetes minor like ${FxVersions.DEFAULT_KUBERNETES_VERSION}`);
    }
    return `${Number(m[1])}.${Number(m[2])}`;
  }

  private constructor() {}
}

/** Orders two Kubernetes minors (`1.33` < `1.35`). @internal */
export function compareMinor(a: string, b: string): number {
  const [am, an] = a.split('.').map(Number);
  const [bm, bn] = b.split('.').map(Number);
  return am - bm || an - bn;
}
