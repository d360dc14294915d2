import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cdk8s from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { FxTls } from './tls';
import { FxProfile } from '../core/profile';
import { FxComponentVersions, FxHelmChartVersion } from '../core/versions';

/**
 * An EKS cluster Fx constructs and add-ons install on: an `FxCluster`, or one created elsewhere and
 * imported with `FxCluster.fromClusterAttributes`.
 *
 * It is the whole of what `FxDatabase`, `FxObservability`, `FxMicroservice`, `FxCompliance` and the
 * add-ons use: kubectl access, the network, the profile and versions, and the install-order registry
 * behind `addHelmChart`, `addManifest`, `addCdk8sChart` and `addPodIdentityServiceAccount` (what
 * something `needs` is installed before it and deleted after it).
 */
export interface IFxCluster extends IConstruct {
  /** The aws-eks-v2 cluster, with its kubectl provider. */
  readonly cluster: eks.ICluster;
  /** Name of the EKS cluster (a literal when it was given or derived at synth). */
  readonly clusterName: string;
  /** The VPC the cluster runs in. */
  readonly vpc: ec2.IVpc;
  /** The security group EKS attaches to the control plane and every managed node. */
  readonly clusterSecurityGroup: ec2.ISecurityGroup;
  /** Network connections of the cluster (nodes and control plane). */
  readonly connections: ec2.Connections;
  /** The profile every default came from. */
  readonly profile: FxProfile;
  /** Versions of every component for this cluster's Kubernetes minor. */
  readonly versions: FxComponentVersions;
  /** Kubernetes minor of the cluster, e.g. `1.35`. */
  readonly kubernetesVersion: string;
  /** Name of the platform (tags, labels, secret name prefix). */
  readonly platformName: string;
  /** The TLS path of the public endpoint, when the platform has one. */
  readonly tls?: FxTls;
  /** The platform domain (e.g. `fx.example.com`), when the platform has one. */
  readonly domainName?: string;
  /** Whether Traefik terminates TLS (routes use the `websecure` entry point). */
  readonly tlsTerminatedByTraefik: boolean;
  /** DNS name of the public load balancer (resolved at deploy time), when there is one. */
  readonly loadBalancerDnsName?: string;
  /**
   * The cluster's IAM OIDC identity provider, the trust anchor of IRSA roles: an FxCluster creates
   * it on first use; an imported cluster has it when `FxClusterAttributes.openIdConnectProvider` is given.
   */
  readonly openIdConnectProvider?: iam.IOidcProvider;
  /**
   * The interface VPC endpoints (private DNS on) that pods of the cluster reach AWS services through.
   * A workload whose role calls only services listed here gets egress on 443 to
   * `interfaceEndpointSubnetCidrs` only, instead of any address. Absent or empty: none known.
   */
  readonly interfaceEndpoints?: ec2.InterfaceVpcEndpointAwsService[];
  /**
   * CIDR blocks of the subnets the network interfaces of `interfaceEndpoints` are in (the endpoints'
   * own addresses are assigned at deploy time). Absent or empty: not known, so no workload's egress is
   * narrowed to the endpoints.
   */
  readonly interfaceEndpointSubnetCidrs?: string[];

  /**
   * Installs a Helm chart after everything it `needs`.
   *
   * @param id construct id of the release
   * @param options the chart, namespace, values and install order
   */
  addHelmChart(id: string, options: FxHelmChartOptions): eks.HelmChart;

  /**
   * Applies Kubernetes objects (plain objects) after worker nodes exist, under the cluster (in the
   * cluster's stack). Constructs in other stacks use `addManifestWithOptions` with their `scope`.
   *
   * @param id construct id of the manifest (unique on the cluster)
   * @param manifest Kubernetes objects: at least one, each with `apiVersion`, `kind` and `metadata.name`
   */
  addManifest(id: string, ...manifest: { [key: string]: any }[]): eks.KubernetesManifest;

  /**
   * Applies Kubernetes objects (plain objects) after worker nodes and what `options.needs`, in the
   * stack of `options.scope` (see `scopeFor`).
   *
   * @param id construct id of the manifest (unique in its scope)
   * @param options scope and install order
   * @param manifest Kubernetes objects: at least one, each with `apiVersion`, `kind` and `metadata.name`
   */
  addManifestWithOptions(id: string, options: FxManifestOptions, ...manifest: { [key: string]: any }[]): eks.KubernetesManifest;

  /**
   * Applies a complete cdk8s chart as one manifest (serialised now).
   *
   * @param id construct id of the manifest (unique in its scope)
   * @param chart the complete cdk8s chart, with at least one object
   * @param options install order
   */
  addCdk8sChart(id: string, chart: cdk8s.Chart, options?: FxManifestOptions): eks.KubernetesManifest;

  /**
   * Creates a Kubernetes service account and an IAM role its pods assume through EKS Pod Identity.
   *
   * @param id construct id
   * @param options name, namespace and install order
   */
  addPodIdentityServiceAccount(id: string, options: FxServiceAccountOptions): eks.ServiceAccount;

  /**
   * Lets the External Secrets Operator read one Secrets Manager secret.
   *
   * @param secret the secret ExternalSecrets will sync
   */
  grantExternalSecretRead(secret: secretsmanager.ISecret): void;

  /**
   * Records that `construct` installs the given capabilities (see `FxCapability`).
   *
   * @param construct the provider
   * @param capabilities capability names
   */
  registerProvider(construct: IConstruct, ...capabilities: string[]): void;

  /**
   * Makes `construct` deploy after (and delete before) every provider of the given capabilities.
   *
   * @param construct the consumer
   * @param capabilities capability names
   */
  installAfter(construct: IConstruct, ...capabilities: string[]): void;

  /**
   * The construct that resources `caller` installs on this cluster are created under: the cluster
   * itself when `caller` is in the cluster's stack (the place, and so the logical IDs, they have
   * always had: a moved Helm release is uninstalled and installed again), else `caller`, so that
   * they live in the caller's stack and the cluster's stack never references that stack.
   *
   * @param caller the construct installing something (an FxObservability, an add-on's scope, ...)
   */
  scopeFor(caller: Construct): Construct;

  /**
   * Whether something on this cluster provides the capability.
   *
   * @param capability a capability name
   */
  hasCapability(capability: string): boolean;
}

/** A Helm release on an FxCluster: any chart, at an exact version. */
export interface FxHelmChartOptions {
  /**
   * The chart: one of the versions table (`cluster.versions.charts.traefik`) or any other chart
   * given as `{ chart, repository, version }` with an exact version.
   */
  readonly chart: FxHelmChartVersion;
  /** Namespace of the release. */
  readonly namespace: string;
  /**
   * The construct this belongs to: created in its stack (see `IFxCluster.scopeFor`), so a construct
   * in a stack other than the cluster's never makes the cluster's stack reference its stack.
   * @default - the cluster (the cluster's stack)
   */
  readonly scope?: Construct;
  /**
   * Release name.
   * @default - the chart name
   */
  readonly release?: string;
  /**
   * Exact chart version overriding `chart.version` (never a range).
   * @default - `chart.version`
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
   * The construct this belongs to: created in its stack (see `IFxCluster.scopeFor`), so a construct
   * in a stack other than the cluster's never makes the cluster's stack reference its stack.
   * @default - the cluster (the cluster's stack)
   */
  readonly scope?: Construct;
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
  /** Name of the service account (DNS subdomain of at least 2 characters, known at synth). */
  readonly name: string;
  /**
   * Namespace of the service account (DNS label of at least 2 characters, known at synth); it must
   * exist or be created by `needs`.
   */
  readonly namespace: string;
  /**
   * The construct this belongs to: created in its stack (see `IFxCluster.scopeFor`), so a construct
   * in a stack other than the cluster's never makes the cluster's stack reference its stack.
   * @default - the cluster (the cluster's stack)
   */
  readonly scope?: Construct;
  /**
   * Capabilities that must be installed first, e.g. the one providing the namespace.
   * @default - only FxCapability.POD_IDENTITY
   */
  readonly needs?: string[];
}
