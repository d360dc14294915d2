import { Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { check, FxValidationError, runningConstructLater } from './errors';

/**
 * Named things one part of the platform installs and others wait for.
 *
 * A capability is a plain string: `crd:<api group>` for CRDs, `webhook:<component>` for admission
 * webhooks that must answer before objects are accepted, or a component name. These constants are
 * the names the library itself uses; any string matching `[a-z0-9][a-z0-9.:/-]*` is accepted.
 */
export class FxCapability {
  /** Worker nodes exist (managed node groups are active): anything that schedules pods. */
  public static readonly NODES = 'nodes';
  /** The EKS Pod Identity agent runs: Pod Identity associations work. */
  public static readonly POD_IDENTITY = 'pod-identity';
  /** The EBS CSI driver is installed (`ebs.csi.aws.com`). */
  public static readonly EBS_CSI = 'csi:ebs.csi.aws.com';
  /** The EFS CSI driver is installed (`efs.csi.aws.com`). */
  public static readonly EFS_CSI = 'csi:efs.csi.aws.com';
  /** Volume snapshot CRDs and the snapshot controller. */
  public static readonly SNAPSHOT_CRDS = 'crd:snapshot.storage.k8s.io';
  /** The cluster's StorageClasses (gp3 default, efs-sc) and VolumeSnapshotClass. */
  public static readonly STORAGE_CLASSES = 'storage-classes';
  /** The resource metrics API (`metrics.k8s.io`), served by metrics-server: HPAs work. */
  public static readonly METRICS_API = 'api:metrics.k8s.io';
  /** AWS Load Balancer Controller (its webhook mutates Services and its CRDs). */
  public static readonly AWS_LOAD_BALANCER_CONTROLLER = 'aws-load-balancer-controller';
  /** Traefik CRDs (IngressRoute, Middleware, TLSOption). */
  public static readonly TRAEFIK_CRDS = 'crd:traefik.io';
  /** External Secrets Operator CRDs. */
  public static readonly EXTERNAL_SECRETS_CRDS = 'crd:external-secrets.io';
  /** External Secrets Operator validating webhook. */
  public static readonly EXTERNAL_SECRETS_WEBHOOK = 'webhook:external-secrets';
  /** The `fx-secrets-manager` ClusterSecretStore: ExternalSecrets that use it. */
  public static readonly CLUSTER_SECRET_STORE = 'external-secrets:fx-secrets-manager';
  /** Traefik's shared middlewares and default TLSOption: routes that reference them. */
  public static readonly TRAEFIK_MIDDLEWARES = 'traefik:shared-middlewares';
  /** cert-manager CRDs. */
  public static readonly CERT_MANAGER_CRDS = 'crd:cert-manager.io';
  /** cert-manager webhook. */
  public static readonly CERT_MANAGER_WEBHOOK = 'webhook:cert-manager';
  /** Prometheus operator CRDs (ServiceMonitor, PrometheusRule). */
  public static readonly PROMETHEUS_OPERATOR_CRDS = 'crd:monitoring.coreos.com';
  /** Velero CRDs. */
  public static readonly VELERO_CRDS = 'crd:velero.io';
  /** Elastic Cloud on Kubernetes CRDs (Elasticsearch, Kibana). */
  public static readonly ELASTIC_CRDS = 'crd:k8s.elastic.co';

  /** A namespace exists (its manifest, with Pod Security labels, is applied): `namespace:<name>`. */
  public static namespace(name: string): string {
    return `namespace:${name}`;
  }

  private constructor() {}
}

const CAPABILITY = /^[a-z0-9][a-z0-9.:/-]*$/;

/** Which prop of an Fx construct class makes it need a capability: class name, then capability. */
const REASONS = new Map<string, Map<string, string>>();

/**
 * Declares why instances of the Fx construct class `owner` need each capability (`prop 'route'`),
 * so that a need nobody provides names the prop that caused it. Call once, next to the class's
 * validation.
 *
 * @internal
 */
export function explainNeeds(owner: string, reasons: { [capability: string]: string }): void {
  const map = REASONS.get(owner) ?? new Map<string, string>();
  for (const [capability, reason] of Object.entries(reasons)) map.set(capability, reason);
  REASONS.set(owner, map);
}

/** A default add-on a cluster was told not to install, and what it would have provided. */
interface RemovedAddon {
  readonly name: string;
  readonly provides: string[];
  /** How it was removed, for the message (`addons.remove of FxCluster at Platform/Cluster`). */
  readonly by: string;
}
const REMOVED = new WeakMap<IConstruct, RemovedAddon[]>();

/**
 * Records that `cluster` does not install the default add-on `name`, so that a need of one of
 * `provides` says which add-on to keep.
 *
 * @internal
 */
export function noteRemovedAddon(cluster: IConstruct, name: string, provides: string[], by: string): void {
  REMOVED.set(cluster, [...(REMOVED.get(cluster) ?? []), { name, provides: [...provides], by }]);
}

/** What installs each capability of the library, for the message of a need nobody provides. */
const PROVIDED_BY: { [capability: string]: string } = {
  [FxCapability.NODES]: 'node groups (FxCluster nodeGroups or nodeAutoscaler)',
  [FxCapability.POD_IDENTITY]: 'the EKS Pod Identity agent (FxCluster installs it)',
  [FxCapability.EBS_CSI]: 'the aws-ebs-csi-driver EKS add-on (FxCluster installs it)',
  [FxCapability.EFS_CSI]: 'the aws-efs-csi-driver EKS add-on (FxCluster installs it)',
  [FxCapability.SNAPSHOT_CRDS]: 'the snapshot-controller EKS add-on (FxCluster installs it)',
  [FxCapability.STORAGE_CLASSES]: 'the storage classes (FxCluster installs them)',
  [FxCapability.METRICS_API]: "the 'metrics-server' add-on (FxMetricsServerAddon)",
  [FxCapability.AWS_LOAD_BALANCER_CONTROLLER]: "the 'aws-load-balancer-controller' add-on (FxLoadBalancerControllerAddon)",
  [FxCapability.TRAEFIK_CRDS]: "the 'traefik' add-on (FxTraefikAddon)",
  [FxCapability.TRAEFIK_MIDDLEWARES]: "the 'traefik' add-on (FxTraefikAddon)",
  [FxCapability.EXTERNAL_SECRETS_CRDS]: "the 'external-secrets' add-on (FxExternalSecretsAddon)",
  [FxCapability.EXTERNAL_SECRETS_WEBHOOK]: "the 'external-secrets' add-on (FxExternalSecretsAddon)",
  [FxCapability.CLUSTER_SECRET_STORE]: "the 'external-secrets' add-on (FxExternalSecretsAddon)",
  [FxCapability.CERT_MANAGER_CRDS]: "the 'cert-manager' add-on (FxCertManagerAddon, with tls FxTls.letsEncrypt())",
  [FxCapability.CERT_MANAGER_WEBHOOK]: "the 'cert-manager' add-on (FxCertManagerAddon, with tls FxTls.letsEncrypt())",
  [FxCapability.PROMETHEUS_OPERATOR_CRDS]: 'an FxObservability on this cluster (its kube-prometheus-stack installs the Prometheus operator CRDs)',
  [FxCapability.VELERO_CRDS]: "the 'velero' add-on (FxVeleroAddon)",
  [FxCapability.ELASTIC_CRDS]: 'an FxObservability with elk on this cluster (the ECK operator)',
};

/** Why a consumer was registered: the Fx construct whose constructor created it and the prop. */
interface Cause {
  /** Resolved only when the message is written (capturing the call stack is cheap, reading it is not). */
  readonly owner: () => IConstruct | undefined;
}

/**
 * The install-order registry of one cluster.
 *
 * Providers register the capabilities they install (`provide`); consumers declare what they need
 * (`require`). Each consumer gets `node.addDependency` on every provider of every capability it
 * needs, whichever of the two registers first, so CloudFormation creates providers first and
 * deletes them last. A capability that is needed but never provided fails synthesis with a
 * validation error on the consumer.
 *
 * Synchronous and local to one cluster: there is no global ordering metadata.
 *
 * Across stacks a dependency only ever points away from the cluster's stack: every stack that
 * installs on the cluster references it (kubectl provider, cluster name), so the cluster's stack
 * deploys first. A consumer in the cluster's stack waiting for a provider in another stack, or two
 * other stacks waiting for each other, would be a cyclic reference: synthesis fails, naming both.
 */
export class InstallOrder {
  private readonly providers = new Map<string, IConstruct[]>();
  private readonly consumers = new Map<string, IConstruct[]>();
  /** Stack dependencies this registry added (consumer's stack → provider's stacks), the cluster's stack excluded. */
  private readonly stackEdges = new Map<Stack, Set<Stack>>();

  /**
   * @param who the construct name in error messages
   * @param home the cluster: its stack is the one every other stack deploys after
   */
  constructor(private readonly who: string, private readonly home?: IConstruct) {}

  /** Records that `construct` installs each of `capabilities`. */
  public provide(construct: IConstruct, ...capabilities: string[]): void {
    for (const capability of capabilities) {
      this.validate(capability);
      push(this.providers, capability, construct);
      for (const consumer of this.consumers.get(capability) ?? []) {
        if (consumer !== construct) this.link(consumer, construct, capability);
      }
    }
  }

  /** Makes `construct` wait for every provider of each of `capabilities`. */
  public require(construct: IConstruct, ...capabilities: string[]): void {
    for (const capability of capabilities) {
      this.validate(capability);
      const first = !this.consumers.get(capability)?.includes(construct);
      push(this.consumers, capability, construct);
      for (const provider of this.providers.get(capability) ?? []) {
        if (provider !== construct) this.link(construct, provider, capability);
      }
      if (first) {
        const cause: Cause = { owner: runningConstructLater() };
        construct.node.addValidation({
          validate: () => this.providers.has(capability) ? [] : [this.unprovided(construct, capability, cause)],
        });
      }
    }
  }

  /**
   * The message of a need nobody provides: the consumer, the Fx construct and prop that caused it,
   * and how to fix it (the removed add-on to keep, or what installs the capability).
   */
  private unprovided(construct: IConstruct, capability: string, cause: Cause): string {
    const where = this.home ? `${this.who} at ${this.home.node.path}` : this.who;
    const running = cause.owner();
    const owner = running && running !== this.home && running !== construct ? running : undefined;
    let neededBy = '';
    if (owner) {
      const reason = REASONS.get(owner.constructor.name)?.get(capability);
      neededBy = ` (needed by ${owner.constructor.name} at ${owner.node.path}${reason ? `: ${reason}` : ''})`;
    }
    const removed = this.home && (REMOVED.get(this.home) ?? []).find((a) => a.provides.includes(capability));
    const fix = removed
      ? `add-on '${removed.name}' was removed by ${removed.by}: keep it, or install an add-on that provides '${capability}' (addons.replace or addons.extra)`
      : `install ${PROVIDED_BY[capability] ?? `an add-on whose provides lists '${capability}' (IFxAddon) or a resource registered with registerProvider`}`
        + (this.who.includes('fromClusterAttributes') ? `, or list '${capability}' in installedCapabilities if the cluster already has it` : '');
    return `${where}: ${construct.node.path} needs '${capability}' but nothing on this cluster provides it${neededBy}; ${fix}`;
  }

  /** The constructs that provide a capability (empty when none does). */
  public providersOf(capability: string): IConstruct[] {
    return [...(this.providers.get(capability) ?? [])];
  }

  /** Whether some construct provides the capability. */
  public isProvided(capability: string): boolean {
    return this.providers.has(capability);
  }

  /** `consumer` deploys after `provider`, unless that would make the stacks depend on each other. */
  private link(consumer: IConstruct, provider: IConstruct, capability: string): void {
    const from = this.home && deployedStack(consumer);
    const to = this.home && deployedStack(provider);
    const home = this.home && deployedStack(this.home);
    if (this.home && from && to && home && from !== to) {
      const who = `${this.who} at ${this.home.node.path}`;
      if (from === home) {
        throw new FxValidationError(who, `needs of ${consumer.node.path}`, capability,
          `capabilities provided in the cluster's stack ${home.node.path}; '${capability}' is provided by ${provider.node.path} `
          + `in stack ${to.node.path}, which deploys after the cluster's stack (it references the cluster): `
          + `create ${consumer.node.path} in that stack or a later one, or provide '${capability}' in the cluster's stack`);
      }
      if (to !== home) {
        const back = this.path(to, from);
        if (back) {
          throw new FxValidationError(who, `needs of ${consumer.node.path}`, capability,
            `capabilities of stacks that do not wait for stack ${from.node.path}; '${capability}' is provided by ${provider.node.path} `
            + `in stack ${to.node.path}, which already waits for it (${back.map((x) => x.node.path).join(' -> ')}): move one of them so that the stacks deploy in one order`);
        }
        const edges = this.stackEdges.get(from) ?? new Set<Stack>();
        edges.add(to);
        this.stackEdges.set(from, edges);
      }
    }
    consumer.node.addDependency(provider);
  }

  /** A chain of stack dependencies (this registry's and explicit ones) from `start` to `goal`, if any. */
  private path(start: Stack, goal: Stack): Stack[] | undefined {
    const seen = new Set<Stack>();
    const walk = (at: Stack): Stack[] | undefined => {
      if (at === goal) return [at];
      if (seen.has(at)) return undefined;
      seen.add(at);
      for (const next of [...(this.stackEdges.get(at) ?? []), ...at.dependencies]) {
        const rest = walk(next);
        if (rest) return [at, ...rest];
      }
      return undefined;
    };
    return walk(start);
  }

  private validate(capability: string): void {
    check(CAPABILITY.test(capability), this.who, 'capability', capability,
      "a name like 'crd:traefik.io', 'webhook:external-secrets' or 'aws-load-balancer-controller' (lowercase letters, digits, '.', ':', '/', '-')");
  }
}

/** The top-level stack a construct deploys with (a nested stack deploys with its parent), if any. */
function deployedStack(construct: IConstruct): Stack | undefined {
  return construct.node.scopes.find((scope): scope is Stack => Stack.isStack(scope));
}

function push(map: Map<string, IConstruct[]>, key: string, value: IConstruct): void {
  const list = map.get(key);
  if (!list) map.set(key, [value]);
  else if (!list.includes(value)) list.push(value);
}
