import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cdk8s from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { FxAddonName, IFxAddon } from './addon';
import { FxHelmChartOptions, FxManifestOptions, FxServiceAccountOptions, IFxCluster } from './contract';
import { FxTls } from './tls';
import { atConstruct, check, checkDurationToken, checkKnownAtSynth, FxValidationError } from '../core/errors';
import { FxCapability, InstallOrder } from '../core/install-order';
import { isDnsLabel, isDnsSubdomain, isHelmReleaseName } from '../core/k8s-names';
import { FxProfile } from '../core/profile';
import { platformLabels } from '../core/tags';
import { FxComponentVersions } from '../core/versions';

const EXACT_VERSION = /^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/;
/** Timeout of aws-eks-v2's kubectl handler Lambda function (it runs `helm upgrade --install --wait`). */
export const KUBECTL_HANDLER_TIMEOUT_SECONDS = 900;
/** Longest Helm timeout accepted: the handler's timeout less a margin for pulling the chart and reporting back. */
export const MAX_HELM_TIMEOUT_SECONDS = KUBECTL_HANDLER_TIMEOUT_SECONDS - 120;
const FX_CLUSTER = Symbol.for('@fx/cluster.FxClusterBase');

/**
 * What every Fx cluster shares, created here or imported: the install-order registry and the
 * methods of `IFxCluster` that install through it, and the add-ons installed on it.
 */
export abstract class FxClusterBase extends Construct implements IFxCluster {
  /** Whether `x` is an Fx cluster (an `FxCluster` or an imported one), across copies of the library. */
  public static isFxCluster(x: any): x is IFxCluster {
    return x !== null && typeof x === 'object' && FX_CLUSTER in x;
  }

  public abstract readonly cluster: eks.ICluster;
  /** Helm releases installed through addHelmChart, `<namespace>/<release>` to the chart's id. */
  private readonly helmReleases = new Map<string, string>();
  /** Service accounts with a pod identity, `<namespace>/<name>` to their id. */
  private readonly serviceAccounts = new Map<string, string>();
  public abstract readonly clusterName: string;
  public abstract readonly vpc: ec2.IVpc;
  public abstract readonly clusterSecurityGroup: ec2.ISecurityGroup;
  public abstract readonly connections: ec2.Connections;
  public abstract readonly profile: FxProfile;
  public abstract readonly versions: FxComponentVersions;
  public abstract readonly kubernetesVersion: string;
  public abstract readonly platformName: string;
  public abstract readonly tls?: FxTls;
  public abstract readonly domainName?: string;
  public abstract readonly tlsTerminatedByTraefik: boolean;
  public abstract readonly loadBalancerDnsName?: string;
  public abstract readonly openIdConnectProvider?: iam.IOidcProvider;
  public abstract readonly interfaceEndpoints?: ec2.InterfaceVpcEndpointAwsService[];
  public abstract readonly interfaceEndpointSubnetCidrs?: string[];

  /** The construct name used in error messages (`FxCluster`). */
  protected readonly who: string;
  private readonly installOrder: InstallOrder;
  private readonly installed = new Map<string, IFxAddon>();

  constructor(scope: Construct, id: string, who: string) {
    super(scope, id);
    this.who = who;
    this.installOrder = new InstallOrder(who, this);
    Object.defineProperty(this, FX_CLUSTER, { value: true });
  }

  /** The add-ons installed on this cluster, in install order. */
  public get addons(): IFxAddon[] {
    return [...this.installed.values()];
  }

  /**
   * The installed add-on of the given name, if any.
   *
   * @param name the add-on's name, e.g. `traefik`
   */
  public findAddon(name: string): IFxAddon | undefined {
    return this.installed.get(name);
  }

  public addHelmChart(id: string, options: FxHelmChartOptions): eks.HelmChart {
    const version = options.version ?? options.chart.version;
    const release = options.release ?? options.chart.chart;
    const timeout = options.timeout ?? Duration.minutes(10);
    // Called after construction (no Fx constructor running), an error names this cluster's path.
    const seconds = atConstruct(this, () => {
      checkDurationToken(timeout, this.who, `addHelmChart(${id}).timeout`, 'seconds');
      return timeout.toSeconds({ integral: false });
    });
    atConstruct(this, () => {
      const scope = this.scopeFor(options.scope ?? this);
      const childId = scope === this ? `chart-${id}` : id;
      check((scope === this ? this.cluster.node : scope.node).tryFindChild(childId) === undefined, this.who, 'addHelmChart id', id,
        'an id not used by another chart of this cluster');
      check(typeof options.chart.chart === 'string' && options.chart.chart !== '', this.who, `addHelmChart(${id}).chart.chart`, options.chart.chart, 'a chart name');
      check(isHelmReleaseName(release), this.who, options.release === undefined ? `addHelmChart(${id}).chart.chart (the release name by default)` : `addHelmChart(${id}).release`,
        release, 'a Helm release name: lowercase letters, digits, - and ., at most 53 characters'
        + (options.release === undefined ? '; set release when the chart name is not one' : ''));
      check(EXACT_VERSION.test(version), this.who, `addHelmChart(${id}).version`, version, 'an exact chart version such as 3.13.1 (no ranges, no latest)');
      check(isDnsLabel(options.namespace), this.who, `addHelmChart(${id}).namespace`, options.namespace, 'a DNS label (lowercase letters, digits, -)');
      check(/^(https?|oci):\/\/[^\s]+$/.test(options.chart.repository), this.who, `addHelmChart(${id}).chart.repository`, options.chart.repository,
        'a chart repository URL: https://..., http://... or oci://...');
      check(options.values === undefined || Token.isUnresolved(options.values)
        || (typeof options.values === 'object' && options.values !== null && Object.getPrototypeOf(options.values) === Object.prototype), this.who,
      `addHelmChart(${id}).values`, options.values, 'an object of Helm values');
      check(Token.isUnresolved(seconds) || (Number.isInteger(seconds) && seconds >= 60 && seconds <= MAX_HELM_TIMEOUT_SECONDS), this.who,
        `addHelmChart(${id}).timeout`, `${seconds}s`,
        `whole seconds from 60 to ${MAX_HELM_TIMEOUT_SECONDS} (the kubectl handler Lambda stops at ${KUBECTL_HANDLER_TIMEOUT_SECONDS}s; `
        + 'a release still waiting then stays pending-install and every retry fails)');
    });
    // Two charts driving one release would install, upgrade and uninstall each other's objects.
    const key = `${options.namespace}/${release}`;
    const owner = this.helmReleases.get(key);
    atConstruct(this, () => check(owner === undefined, this.who, `addHelmChart(${id}).release`, key,
      `a release name not installed in that namespace already (chart ${owner} installs ${key})`));
    this.helmReleases.set(key, id);
    const props: eks.HelmChartOptions = {
      chart: options.chart.chart,
      repository: options.chart.repository,
      version,
      release,
      namespace: options.namespace,
      values: options.values,
      wait: options.wait ?? true,
      timeout,
      createNamespace: options.createNamespace ?? true,
    };
    // In the cluster's stack a release stays where it always was (`<cluster>/Resource/chart-<id>`):
    // a changed logical ID of a Custom::AWSCDK-EKS-HelmChart is a helm uninstall and a new install.
    const scope = this.scopeFor(options.scope ?? this);
    const chart = scope === this ? this.cluster.addHelmChart(id, props) : new eks.HelmChart(scope, id, { cluster: this.cluster, ...props });
    this.order(chart, options.needs, options.provides);
    return chart;
  }

  public addManifest(id: string, ...manifest: { [key: string]: any }[]): eks.KubernetesManifest {
    return this.addManifestWithOptions(id, {}, ...manifest);
  }

  public addManifestWithOptions(id: string, options: FxManifestOptions, ...manifest: { [key: string]: any }[]): eks.KubernetesManifest {
    // Same rule as addHelmChart: under the cluster (`<cluster>/Resource/manifest-<id>`) in its stack.
    const scope = this.scopeFor(options.scope ?? this);
    const resource = scope === this ? this.cluster.addManifest(id, ...manifest)
      : new eks.KubernetesManifest(scope, id, { cluster: this.cluster, manifest });
    this.order(resource, options.needs, options.provides);
    return resource;
  }

  public addCdk8sChart(id: string, chart: cdk8s.Chart, options: FxManifestOptions = {}): eks.KubernetesManifest {
    const scope = this.scopeFor(options.scope ?? this);
    const resource = scope === this ? this.cluster.addCdk8sChart(id, chart)
      : new eks.KubernetesManifest(scope, id, { cluster: this.cluster, manifest: chart.toJson() });
    this.order(resource, options.needs, options.provides);
    return resource;
  }

  public scopeFor(caller: Construct): Construct {
    // Keeping the cluster as the parent in its own stack keeps every construct path, and so every
    // logical ID, of the one-stack layout (rather than pinning IDs with overrideLogicalId, which
    // would have to follow each resource's inner constructs: a ServiceAccount's role and manifest).
    return Stack.of(caller) === Stack.of(this) ? this : caller;
  }

  public addPodIdentityServiceAccount(id: string, options: FxServiceAccountOptions): eks.ServiceAccount {
    atConstruct(this, () => {
      check(isDnsSubdomain(options.name), this.who, `addPodIdentityServiceAccount(${id}).name`, options.name, 'a DNS subdomain (lowercase letters, digits, - and .)');
      checkKnownAtSynth(options.name, this.who, `addPodIdentityServiceAccount(${id}).name`, 'the ServiceAccount manifest and its pod identity association are written at synth');
      check(isDnsLabel(options.namespace), this.who, `addPodIdentityServiceAccount(${id}).namespace`, options.namespace, 'a DNS label (lowercase letters, digits, -)');
      // EKS keeps one pod identity association per service account.
      const key = `${options.namespace}/${options.name}`;
      const owner = this.serviceAccounts.get(key);
      check(owner === undefined, this.who, `addPodIdentityServiceAccount(${id}).name`, key,
        `a service account without a pod identity already (${owner} has ${key}; EKS allows one association per service account)`);
      this.serviceAccounts.set(key, id);
    });
    const account = new eks.ServiceAccount(this.scopeFor(options.scope ?? this), id, {
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
   * Lets the External Secrets Operator read one Secrets Manager secret, through the installed
   * `external-secrets` add-on (an `FxExternalSecretsAddon`). Secrets named `<platformName>/...`
   * are readable without a grant.
   *
   * @param secret the secret ExternalSecrets will sync
   */
  public grantExternalSecretRead(secret: secretsmanager.ISecret): void {
    const reader = this.installed.get(FxAddonName.EXTERNAL_SECRETS) as unknown as { grantRead?: (s: secretsmanager.ISecret) => void } | undefined;
    if (reader && typeof reader.grantRead === 'function') {
      reader.grantRead(secret);
      return;
    }
    this.grantExternalSecretReadWithoutAddon(secret);
  }

  public registerProvider(construct: IConstruct, ...capabilities: string[]): void {
    this.installOrder.provide(construct, ...capabilities);
  }

  public installAfter(construct: IConstruct, ...capabilities: string[]): void {
    this.installOrder.require(construct, ...capabilities);
  }

  public hasCapability(capability: string): boolean {
    return this.installOrder.isProvided(capability);
  }

  /**
   * How a secret is made readable when no `external-secrets` add-on of this library is installed
   * (an imported cluster may name the operator's role).
   */
  protected grantExternalSecretReadWithoutAddon(secret: secretsmanager.ISecret): void {
    throw new FxValidationError(this.who, 'grantExternalSecretRead', secret.node.path,
      `a cluster ${this.node.path} with the '${FxAddonName.EXTERNAL_SECRETS}' add-on installed (it owns the operator's role)`);
  }

  /**
   * Installs add-ons in the order given, each under `scope`: every add-on is installed after what
   * it `needs` (the registry orders its resources) and must register a provider of everything it
   * says it `provides`.
   */
  protected installAddons(scope: Construct, addons: IFxAddon[]): void {
    for (const addon of addons) {
      check(!this.installed.has(addon.name), this.who, 'addons', addon.name, 'add-on names unique on a cluster');
      this.installed.set(addon.name, addon);
      addon.install(this, scope);
      for (const capability of addon.provides) {
        check(this.installOrder.isProvided(capability), this.who, `addons[${addon.name}].provides`, capability,
          'capabilities the add-on\'s install() registers a provider for (addHelmChart provides, registerProvider)');
      }
    }
  }

  /** Records a resource installed on this cluster: after nodes and what it needs; a provider of what it provides. */
  protected order(resource: IConstruct, needs: string[] | undefined, provides: string[] | undefined): void {
    this.installOrder.require(resource, FxCapability.NODES, ...(needs ?? []));
    if (provides && provides.length > 0) this.installOrder.provide(resource, ...provides);
  }
}
