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

/** An exact SemVer version: pre-release (`-rc.1`) and build metadata (`+build.5`) may both follow. */
const EXACT_VERSION = /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;
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
  /** The add-on whose `install` is running: what it created through this cluster and what that waits for. */
  private installing?: Installing;

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

  /**
   * A construct id the resource can take in `scope` (`childId`, as aws-cdk-lib names it there): a
   * clear error instead of aws-cdk-lib's "There is already a Construct with name".
   */
  private checkFreeId(method: string, id: string, scope: Construct, childId: string, underCluster: boolean = true): void {
    checkKnownAtSynth(id, this.who, `${method} id`, 'it is a construct id, and constructs cannot name a child after a deploy-time value');
    const parent = scope === this && underCluster ? this.cluster.node : scope.node;
    const taken = parent.tryFindChild(childId);
    check(taken === undefined, this.who, `${method} id`, id, `an id not used by another construct in ${parent.path} (${taken?.node.path} exists)`);
  }

  public addHelmChart(id: string, options: FxHelmChartOptions): eks.HelmChart {
    const version = options.version ?? options.chart.version;
    const release = options.release ?? options.chart.chart;
    const timeout = options.timeout ?? Duration.minutes(10);
    // Called after construction (no Fx constructor running), an error names this cluster's path.
    const seconds = atConstruct(this, () => {
      checkKnownAtSynth(id, this.who, 'addHelmChart id', 'it is a construct id, and constructs cannot name a child after a deploy-time value');
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
    atConstruct(this, () => {
      this.checkFreeId('addManifest', id, scope, scope === this ? `manifest-${id}` : id);
      check(manifest.length > 0, this.who, `addManifest(${id})`, manifest, 'at least one Kubernetes object (kubectl apply refuses an empty manifest)');
    });
    const resource = scope === this ? this.cluster.addManifest(id, ...manifest)
      : new eks.KubernetesManifest(scope, id, { cluster: this.cluster, manifest });
    // At synth, when the objects are complete (and placeholders of tests that never synthesize pass).
    const who = `${this.who} at ${this.node.path}`;
    resource.node.addValidation({ validate: () => manifestObjectProblems(who, `addManifest(${id})`, manifest) });
    this.order(resource, options.needs, options.provides);
    return resource;
  }

  public addCdk8sChart(id: string, chart: cdk8s.Chart, options: FxManifestOptions = {}): eks.KubernetesManifest {
    const scope = this.scopeFor(options.scope ?? this);
    atConstruct(this, () => {
      this.checkFreeId('addCdk8sChart', id, scope, id);
      check(typeof chart?.toJson === 'function', this.who, `addCdk8sChart(${id}).chart`, typeof chart, 'a cdk8s.Chart');
      check(chart.toJson().length > 0, this.who, `addCdk8sChart(${id}).chart`, chart.node.path,
        'a chart with at least one Kubernetes object (kubectl apply refuses an empty manifest)');
    });
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
    const scope = this.scopeFor(options.scope ?? this);
    atConstruct(this, () => {
      this.checkFreeId('addPodIdentityServiceAccount', id, scope, id, false);
      const p = `addPodIdentityServiceAccount(${id})`;
      // aws-cdk-lib's eks.ServiceAccount checks both names at synth, and needs 2 characters or more.
      const written = 'the ServiceAccount manifest and its pod identity association are written at synth';
      check(isDnsSubdomain(options.name), this.who, `${p}.name`, options.name, 'a DNS subdomain (lowercase letters, digits, - and .)');
      checkKnownAtSynth(options.name, this.who, `${p}.name`, written);
      check(options.name.length >= 2, this.who, `${p}.name`, options.name, TWO_CHARACTERS);
      check(isDnsLabel(options.namespace), this.who, `${p}.namespace`, options.namespace, 'a DNS label (lowercase letters, digits, -)');
      checkKnownAtSynth(options.namespace, this.who, `${p}.namespace`, written);
      check(options.namespace.length >= 2, this.who, `${p}.namespace`, options.namespace, TWO_CHARACTERS);
      // EKS keeps one pod identity association per service account.
      const key = `${options.namespace}/${options.name}`;
      const owner = this.serviceAccounts.get(key);
      check(owner === undefined, this.who, `addPodIdentityServiceAccount(${id}).name`, key,
        `a service account without a pod identity already (${owner} has ${key}; EKS allows one association per service account)`);
      this.serviceAccounts.set(key, id);
    });
    const account = new eks.ServiceAccount(scope, id, {
      cluster: this.cluster,
      name: options.name,
      namespace: options.namespace,
      identityType: eks.IdentityType.POD_IDENTITY,
      labels: platformLabels(this.platformName, 'service-account'),
    });
    this.require(account, FxCapability.POD_IDENTITY, ...(options.needs ?? []));
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
    this.require(construct, ...capabilities);
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
      const installing: Installing = { resources: [], required: new Set() };
      const outer = this.installing;
      this.installing = installing;
      try {
        addon.install(this, scope);
      } finally {
        this.installing = outer;
      }
      this.enforceNeeds(addon, installing);
      for (const capability of addon.provides) {
        check(this.installOrder.isProvided(capability), this.who, `addons[${addon.name}].provides`, capability,
          'capabilities the add-on\'s install() registers a provider for (addHelmChart provides, registerProvider)');
      }
    }
  }

  /**
   * What an add-on `needs` and none of the resources it installed through this cluster waits for
   * (an add-on of the user's that passes no `needs` on): its resources wait for it, so the install
   * order holds and a need nobody provides fails synthesis as for the built-in add-ons; an add-on
   * that installed nothing through the cluster fails synthesis on such a need all the same.
   */
  private enforceNeeds(addon: IFxAddon, installing: Installing): void {
    const needs = Array.isArray(addon.needs) ? addon.needs : [];
    const unmet = needs.filter((capability) => !installing.required.has(capability));
    if (unmet.length === 0) return;
    if (installing.resources.length > 0) {
      for (const resource of installing.resources) this.installOrder.require(resource, ...unmet);
      return;
    }
    const where = `${this.who} at ${this.node.path}`;
    this.node.addValidation({
      validate: () => unmet.filter((capability) => !this.installOrder.isProvided(capability)).map((capability) =>
        `${where}: add-on '${addon.name}' needs '${capability}' but nothing on this cluster provides it; install an add-on whose provides `
        + `lists '${capability}' (IFxAddon) or a resource registered with registerProvider`),
    });
  }

  /** `InstallOrder.require`, noting what the add-on being installed (if any) created and waits for. */
  private require(construct: IConstruct, ...capabilities: string[]): void {
    this.installOrder.require(construct, ...capabilities);
    if (this.installing) {
      if (!this.installing.resources.includes(construct)) this.installing.resources.push(construct);
      for (const capability of capabilities) this.installing.required.add(capability);
    }
  }

  /** Records a resource installed on this cluster: after nodes and what it needs; a provider of what it provides. */
  protected order(resource: IConstruct, needs: string[] | undefined, provides: string[] | undefined): void {
    this.require(resource, FxCapability.NODES, ...(needs ?? []));
    if (provides && provides.length > 0) this.installOrder.provide(resource, ...provides);
  }
}

/** What an add-on's `install` created through the cluster (charts, manifests, service accounts) and the capabilities they wait for. */
interface Installing {
  readonly resources: IConstruct[];
  readonly required: Set<string>;
}

const TWO_CHARACTERS = 'at least 2 characters: aws-cdk-lib\'s eks.ServiceAccount refuses 1-character names (Kubernetes and EKS allow them)';

/**
 * What kubectl apply would refuse in the objects: each must be an object with an apiVersion, a kind
 * and a metadata.name (`apply` never creates from generateName). Deploy-time tokens pass.
 */
function manifestObjectProblems(who: string, prop: string, objects: unknown[]): string[] {
  try {
    checkManifestObjects(who, prop, objects);
    return [];
  } catch (e) {
    if (e instanceof FxValidationError) return [e.message];
    throw e;
  }
}

function checkManifestObjects(who: string, prop: string, objects: unknown[]): void {
  objects.forEach((o, i) => {
    if (Token.isUnresolved(o)) return;
    const p = `${prop}[${i}]`;
    const obj = o as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } };
    check(o !== null && typeof o === 'object' && !Array.isArray(o), who, p, o, 'a Kubernetes object: { apiVersion, kind, metadata: { name } }');
    check(typeof obj.apiVersion === 'string' && obj.apiVersion !== '', who, `${p}.apiVersion`, obj.apiVersion, "an API version such as 'v1' or 'apps/v1'");
    check(typeof obj.kind === 'string' && obj.kind !== '', who, `${p}.kind`, obj.kind, "a kind such as 'ConfigMap'");
    // A List (kind: List, ConfigMapList, ...) holds its objects in items and has no name of its own.
    if ((obj.kind as string).endsWith('List') || Token.isUnresolved(obj.metadata)) return;
    const name = obj.metadata?.name;
    check(typeof name === 'string' && name !== '', who, `${p}.metadata.name`, name, 'a name (kubectl apply needs one; it does not create from generateName)');
  });
}
