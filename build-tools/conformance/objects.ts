// The Kubernetes objects of an assembly, each with where it comes from, and helpers to read them
// (namespaces, pod specs inside workloads, label selectors). This is the interface other checks
// (e.g. the NetworkPolicy reachability model) consume: see allObjects().
import { Assembly, K8sObject } from './assembly';
import { ADDON_APIS } from './crd-schema';
import { RenderedRelease } from './render';

type Obj = Record<string, any>;

/** Where an object comes from: the CloudFormation resource that creates it, and the Helm release/template if rendered. */
export interface ObjectSource {
  readonly stack: string;
  readonly logicalId: string;
  /** Helm release name, for objects rendered from a chart. */
  readonly release?: string;
  /** Chart template path (`velero/templates/deployment.yaml`), for rendered objects. */
  readonly template?: string;
}

/** One Kubernetes object and its source. `obj.metadata.namespace` is always set on namespaced objects. */
export interface SourcedObject {
  readonly obj: K8sObject;
  readonly source: ObjectSource;
}

/** Built-in kinds that are not namespaced. */
export const CLUSTER_SCOPED_KINDS = new Set([
  'APIService', 'CertificateSigningRequest', 'ClusterRole', 'ClusterRoleBinding', 'ClusterTrustBundle', 'ComponentStatus', 'CSIDriver', 'CSINode',
  'CustomResourceDefinition', 'DeviceClass', 'FlowSchema', 'IngressClass', 'IPAddress', 'MutatingAdmissionPolicy', 'MutatingAdmissionPolicyBinding',
  'MutatingWebhookConfiguration', 'Namespace', 'Node', 'PersistentVolume', 'PriorityClass', 'PriorityLevelConfiguration', 'ResourceSlice',
  'RuntimeClass', 'ServiceCIDR', 'StorageClass', 'StorageVersionMigration', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding',
  'ValidatingWebhookConfiguration', 'VolumeAttachment', 'VolumeAttributesClass',
]);

/** `group/Kind` of custom kinds that are cluster-scoped, from CRD objects and add-ons. */
function customClusterKinds(objects: readonly K8sObject[]): Set<string> {
  const out = new Set<string>();
  for (const o of objects) {
    if (o.kind === 'CustomResourceDefinition' && o.spec?.scope === 'Cluster') out.add(`${o.spec.group}/${o.spec.names?.kind}`);
  }
  for (const list of Object.values(ADDON_APIS)) for (const a of list) if (a.scope === 'Cluster') out.add(`${a.group}/${a.kind}`);
  return out;
}

function groupOf(apiVersion: unknown): string {
  const s = String(apiVersion ?? '');
  return s.includes('/') ? s.slice(0, s.lastIndexOf('/')) : '';
}

/** True when objects of this kind live in a namespace. */
export function isNamespaced(obj: K8sObject, clusterKinds: ReadonlySet<string> = new Set()): boolean {
  const group = groupOf(obj.apiVersion);
  if (group === '' || group.endsWith('.k8s.io') || ['apps', 'batch', 'autoscaling', 'policy'].includes(group)) return !CLUSTER_SCOPED_KINDS.has(obj.kind);
  return !clusterKinds.has(`${group}/${obj.kind}`);
}

function withNamespace(obj: K8sObject, ns: string): K8sObject {
  if (obj.metadata?.namespace) return obj;
  return { ...obj, metadata: { ...(obj.metadata ?? {}), namespace: ns } };
}

/**
 * Every Kubernetes object of an assembly: the library's own (each `Custom::AWSCDK-EKS-KubernetesResource`
 * Manifest, intrinsics replaced by placeholders) and every rendered Helm release's. Namespaced objects without a
 * namespace get the one they land in (the release namespace for charts, `default` for kubectl manifests).
 */
export function allObjects(assembly: Assembly, rendered: readonly RenderedRelease[]): SourcedObject[] {
  const raw: { obj: K8sObject; source: ObjectSource; ns: string }[] = [];
  for (const m of assembly.manifests) {
    for (const obj of m.objects) if (obj && typeof obj === 'object') raw.push({ obj, source: { stack: m.stack, logicalId: m.logicalId }, ns: 'default' });
  }
  for (const r of rendered) {
    for (const { obj, template } of r.objects) {
      const source = { stack: r.release.stack, logicalId: r.release.logicalId, release: r.release.release, template };
      raw.push({ obj, source, ns: r.release.namespace });
    }
  }
  const clusterKinds = customClusterKinds(raw.map((x) => x.obj));
  return raw.map(({ obj, source, ns }) => ({ obj: isNamespaced(obj, clusterKinds) ? withNamespace(obj, ns) : obj, source }));
}

/** A pod spec found inside an object, with the annotations of its pod template and where it sits. */
export interface PodSpecRef {
  readonly spec: Obj;
  readonly annotations: Record<string, string>;
  readonly path: string;
  /** True for ECK podTemplates, which the operator completes (image, some defaults) before creating pods. */
  readonly partial: boolean;
}

/** Every pod spec an object creates pods from: workloads, Pods, CronJobs, ECK Elasticsearch/Kibana/Beat/Agent podTemplates. */
export function podSpecsOf(obj: K8sObject): PodSpecRef[] {
  const t = (tpl: Obj | undefined, path: string, partial = false): PodSpecRef[] =>
    tpl?.spec ? [{ spec: tpl.spec, annotations: tpl.metadata?.annotations ?? {}, path, partial }] : [];
  const group = groupOf(obj.apiVersion);
  switch (obj.kind) {
    case 'Pod': return obj.spec ? [{ spec: obj.spec, annotations: obj.metadata?.annotations ?? {}, path: '.spec', partial: false }] : [];
    case 'Deployment': case 'StatefulSet': case 'DaemonSet': case 'ReplicaSet': case 'Job': case 'ReplicationController':
      if (group === '' || ['apps', 'batch'].includes(group)) return t(obj.spec?.template, '.spec.template');
      break;
    case 'CronJob': if (group === 'batch') return t(obj.spec?.jobTemplate?.spec?.template, '.spec.jobTemplate.spec.template'); break;
    default: break;
  }
  if (group.endsWith('.k8s.elastic.co')) {
    const out: PodSpecRef[] = [];
    (obj.spec?.nodeSets ?? []).forEach((ns: Obj, i: number) => out.push(...t(ns.podTemplate, `.spec.nodeSets[${i}].podTemplate`, true)));
    out.push(...t(obj.spec?.podTemplate, '.spec.podTemplate', true));
    out.push(...t(obj.spec?.deployment?.podTemplate, '.spec.deployment.podTemplate', true));
    out.push(...t(obj.spec?.daemonSet?.podTemplate, '.spec.daemonSet.podTemplate', true));
    return out;
  }
  return [];
}

/** Every container of a pod spec, init and ephemeral ones included, with its list name. */
export function containersOf(spec: Obj): { c: Obj; list: string }[] {
  return (['initContainers', 'containers', 'ephemeralContainers'] as const).flatMap((list) => (spec[list] ?? []).map((c: Obj) => ({ c, list })));
}

/** Kubernetes label selector semantics (matchLabels AND matchExpressions); an absent selector matches everything. */
export function selectorMatches(selector: Obj | undefined | null, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries<string>(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const values: string[] = e.values ?? [];
    switch (e.operator) {
      case 'In': if (!has || !values.includes(labels[e.key])) return false; break;
      case 'NotIn': if (has && values.includes(labels[e.key])) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
      default: return false;
    }
  }
  return true;
}

/** `Kind/namespace/name` (or `Kind/name` for cluster-scoped objects). */
export function subjectOf(obj: K8sObject): string {
  const ns = obj.metadata?.namespace;
  return `${obj.kind}/${ns ? `${ns}/` : ''}${obj.metadata?.name ?? obj.metadata?.generateName ?? '?'}`;
}
