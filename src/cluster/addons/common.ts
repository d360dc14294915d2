import { Stack, Validations } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { check, checkKnownAtSynth, profileSuffix } from '../../core/errors';
import { FxCapability } from '../../core/install-order';
import { platformLabels } from '../../core/tags';
import { KubeNamespace } from '../../k8s/api.generated';
import type { IFxCluster } from '../contract';

/**
 * Replicas of each add-on controller (the profile's `addonReplicas`): an integer, since Helm writes
 * it into a Deployment's int32 `replicas`.
 *
 * @internal
 */
export function addonReplicas(cluster: IFxCluster): number {
  const replicas = cluster.profile.settings.addonReplicas;
  checkKnownAtSynth(replicas, 'FxCluster', `addonReplicas${profileSuffix(cluster.profile.name)}`,
    'each add-on chart enables its disruption budget only for more than one replica');
  check(Number.isInteger(replicas) && replicas >= 1 && replicas <= 10, 'FxCluster', `addonReplicas${profileSuffix(cluster.profile.name)}`, replicas,
    'an integer from 1 to 10 (replicas of each add-on controller)');
  return replicas;
}

/**
 * Add-ons FxCluster composed from its own props (`ingressReplicas`, `clusterBackupRetentionDays`, ...):
 * their messages name those props; an add-on the user built names its own options.
 *
 * @internal
 */
export const FROM_CLUSTER_PROPS = new WeakSet<object>();

/** `addon`, marked as composed from FxCluster props (see FROM_CLUSTER_PROPS). @internal */
export function fromClusterProps<T extends object>(addon: T): T {
  FROM_CLUSTER_PROPS.add(addon);
  return addon;
}

/** Pod Security Standard enforced on an add-on's namespace. */
export type PodSecurityLevel = 'restricted' | 'baseline' | 'privileged';

/** The install-order capability a namespace manifest provides (`namespace:<name>`). */
export const namespaceCapability = FxCapability.namespace;

/**
 * Creates an add-on's namespace (Pod Security labels, platform labels) as its own manifest, so the
 * Pod Identity service account can be applied into it before the chart, and the chart (with
 * `createNamespace: false`) is uninstalled before the namespace goes.
 *
 * @internal
 */
export function addonNamespace(cluster: IFxCluster, id: string, name: string, component: string, level: PodSecurityLevel): eks.KubernetesManifest {
  const manifest = cluster.addManifest(id, KubeNamespace.manifest({
    metadata: {
      name,
      labels: {
        ...platformLabels(cluster.platformName, component),
        'pod-security.kubernetes.io/enforce': level,
        'pod-security.kubernetes.io/audit': 'restricted',
        'pod-security.kubernetes.io/warn': 'restricted',
      },
    },
  }));
  cluster.registerProvider(manifest, namespaceCapability(name));
  return manifest;
}

/** Resources of a small controller: requests for scheduling, a memory limit against leaks. */
export function controllerResources(cpu: string, memory: string, memoryLimit: string): Record<string, Record<string, string>> {
  return { requests: { cpu, memory }, limits: { memory: memoryLimit } };
}

/** Topology spread of a Deployment's pods across zones: hard when `strict` (the profile's `strictZoneSpread`), else best effort. */
export function zoneSpread(labels: Record<string, string>, strict: boolean): object[] {
  return [{
    maxSkew: 1,
    topologyKey: 'topology.kubernetes.io/zone',
    whenUnsatisfiable: strict ? 'DoNotSchedule' : 'ScheduleAnyway',
    labelSelector: { matchLabels: labels },
  }];
}

/**
 * Gives a Pod Identity service account its policy statements and acknowledges cdk-nag's IAM5
 * finding for exactly the wildcard resources among them (one finding id per resource, on the
 * role's default policy), with the add-on's reason. Non-wildcard resources are never acknowledged.
 *
 * @internal
 */
export function grantStatements(account: eks.ServiceAccount, statements: iam.PolicyStatement[], reason: string): void {
  const stack = Stack.of(account);
  const findings = new Set<string>();
  for (const statement of statements) {
    account.addToPrincipalPolicy(statement);
    for (const resource of statement.resources) {
      const flat = nagText(stack.resolve(resource));
      if (flat.includes('*')) findings.add(`AwsSolutions-IAM5[Resource::${flat}]`);
    }
  }
  const policy = account.role.node.tryFindChild('DefaultPolicy');
  if (!policy) return;
  for (const id of findings) Validations.of(policy).acknowledge({ id, reason });
}

/** How cdk-nag prints a resolved value in a finding id (`arn:<AWS::Partition>:...`, `<Bucket.Arn>/*`). */
function nagText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const v = value as Record<string, any>;
    if ('Ref' in v) return `<${v.Ref}>`;
    if ('Fn::GetAtt' in v) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
    if ('Fn::Join' in v) {
      const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map(nagText).join(separator);
    }
  }
  return JSON.stringify(value);
}
