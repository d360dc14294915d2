// The conformance checks over one assembly's objects. Each returns findings; none throws on bad input.
import { Assembly, HelmRelease, ResourceId } from './assembly';
import { CrdIndex, validateCustomObject } from './crd-schema';
import { K8sSchema, splitApiVersion } from './k8s-schema';
import { ObjectSource, SourcedObject, containersOf, podSpecsOf, selectorMatches, subjectOf } from './objects';
import { parseLevel, pssViolations } from './pss';
import { RenderedRelease } from './render';

type Obj = Record<string, any>;

/** One conformance finding. */
export interface Finding {
  /** Check name: render, schema, crd, pss, requests, image, reference, service-account, webhook-order, timeout. */
  readonly check: string;
  readonly severity: 'error' | 'warning';
  readonly source: ObjectSource;
  readonly subject: string;
  readonly message: string;
}

/** The finding as one line: `[check] stack/logicalId (release r) subject: message`. */
export function findingText(f: Finding): string {
  const rel = f.source.release ? ` (release ${f.source.release})` : '';
  return `[${f.check}] ${f.source.stack}/${f.source.logicalId}${rel} ${f.subject}: ${f.message}`;
}

/** What the checks read. */
export interface CheckContext {
  readonly assembly: Assembly;
  readonly rendered: readonly RenderedRelease[];
  readonly objects: readonly SourcedObject[];
  readonly k8s: K8sSchema;
  readonly crds: CrdIndex;
}

const err = (check: string, source: ObjectSource, subject: string, message: string): Finding => ({ check, severity: 'error', source, subject, message });
const releaseSource = (r: HelmRelease): ObjectSource => ({ stack: r.stack, logicalId: r.logicalId, release: r.release });

/**
 * Render failures and Values that could not be evaluated (errors); rendered documents with a mapping key given
 * twice (warnings: Helm keeps the last value, so one of the two settings is silently lost).
 */
export function checkRenders(rendered: readonly RenderedRelease[]): Finding[] {
  return rendered.flatMap((r) => {
    const subject = `chart ${r.release.chart} ${r.release.version ?? ''}`.trim();
    return [
      ...(r.error ? [err('render', releaseSource(r.release), subject, r.error)] : []),
      ...(r.problems ?? []).map((m): Finding => ({ check: 'render', severity: 'warning', source: releaseSource(r.release), subject, message: `${m} (Helm keeps the last value)` })),
    ];
  });
}

/** Strict built-in schema for built-in kinds; the serving CRD's schema for custom kinds. */
export function checkSchemas(ctx: CheckContext): Finding[] {
  const out: Finding[] = [];
  for (const { obj, source } of ctx.objects) {
    const subject = subjectOf(obj);
    const apiVersion = String(obj.apiVersion ?? '');
    const kind = String(obj.kind ?? '');
    if (!apiVersion || !kind) { out.push(err('schema', source, subject, 'object without apiVersion or kind')); continue; }
    if (ctx.k8s.rootType(apiVersion, kind)) {
      for (const e of ctx.k8s.validate(obj)) out.push(err('schema', source, subject, e));
      continue;
    }
    if (apiVersion === 'apiextensions.k8s.io/v1' || apiVersion === 'apiregistration.k8s.io/v1') continue;
    const crd = ctx.crds.lookup(apiVersion, kind);
    if (crd) {
      const errors: string[] = [];
      if (obj.metadata !== undefined) ctx.k8s.validateAs(obj.metadata, 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', '.metadata', errors);
      errors.push(...validateCustomObject(obj, crd));
      for (const e of errors) out.push(err('crd', source, subject, `${e} (CRD of ${crd.source}, ${crd.version})`));
      // Operator podTemplates (ECK) are free-form in their CRD but become pod specs: judge them as such.
      for (const p of podSpecsOf(obj)) {
        const podErrors: string[] = [];
        ctx.k8s.validateAs(p.spec, 'io.k8s.api.core.v1.PodSpec', `${p.path}.spec`, podErrors);
        for (const e of podErrors) out.push(err('schema', source, subject, e));
      }
      continue;
    }
    const { group } = splitApiVersion(apiVersion);
    const others = ctx.crds.versionsOf(group, kind);
    if (others.length > 0) {
      out.push(err('crd', source, subject, `${apiVersion} is not served; ${others[0].source} serves ${kind} at ${others.filter((v) => v.served).map((v) => v.version).join(', ') || 'no version'}`));
    } else if (ctx.k8s.knowsGroupVersion(apiVersion) || group === '' || group.endsWith('.k8s.io') || ['apps', 'batch', 'autoscaling', 'policy'].includes(group)) {
      out.push(err('schema', source, subject, `${apiVersion} ${kind} is not served by Kubernetes ${ctx.assembly.clusters[0]?.version ?? ''} (no type in the field schema)`.trim()));
    } else {
      out.push(err('crd', source, subject, `no chart or add-on in the assembly serves ${apiVersion} ${kind}`));
    }
  }
  return out;
}

/** Enforce level of each namespace: from its Namespace object's label; undefined when nothing labels it. */
export function namespaceLabels(objects: readonly SourcedObject[]): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const { obj } of objects) if (obj.kind === 'Namespace' && obj.apiVersion === 'v1' && obj.metadata?.name) out.set(obj.metadata.name, obj.metadata.labels ?? {});
  return out;
}

/** Pod Security Standards at each namespace's enforce level; a warning per namespace holding pods without a level. */
export function checkPodSecurity(ctx: CheckContext): Finding[] {
  const out: Finding[] = [];
  const labels = namespaceLabels(ctx.objects);
  const unlabeled = new Map<string, { source: ObjectSource; count: number }>();
  for (const { obj, source } of ctx.objects) {
    const pods = podSpecsOf(obj);
    if (pods.length === 0) continue;
    const ns = obj.metadata?.namespace ?? 'default';
    const level = parseLevel(labels.get(ns)?.['pod-security.kubernetes.io/enforce']);
    if (!level) {
      const u = unlabeled.get(ns) ?? { source, count: 0 };
      u.count++;
      unlabeled.set(ns, u);
    }
    for (const p of pods) {
      for (const v of pssViolations(p.spec, level ?? 'privileged', p.annotations)) {
        out.push(err('pss', source, subjectOf(obj), `${p.path}: ${v} (namespace ${ns} enforces ${level})`));
      }
    }
  }
  for (const [ns, u] of unlabeled) {
    out.push({ check: 'pss', severity: 'warning', source: u.source, subject: `Namespace/${ns}`, message: `${u.count} pod-creating object(s) in a namespace without a pod-security.kubernetes.io/enforce label (treated as privileged)` });
  }
  return out;
}

/** cpu and memory requests on every container and init container. */
export function checkRequests(ctx: CheckContext): Finding[] {
  const out: Finding[] = [];
  for (const { obj, source } of ctx.objects) {
    for (const p of podSpecsOf(obj)) {
      for (const { c, list } of containersOf(p.spec)) {
        if (list === 'ephemeralContainers') continue;
        const missing = ['cpu', 'memory'].filter((r) => c.resources?.requests?.[r] === undefined || c.resources.requests[r] === null || c.resources.requests[r] === '');
        if (missing.length > 0) out.push(err('requests', source, subjectOf(obj), `${p.path} ${list === 'initContainers' ? 'init container' : 'container'} ${c.name} has no ${missing.join(' or ')} request`));
      }
    }
  }
  return out;
}

/** The tag and digest of an image reference (`registry:5000/repo:tag@sha256:...`). */
export function imageParts(image: string): { tag?: string; digest?: string } {
  const [rest, digest] = image.split('@');
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  return { tag: colon > slash ? rest.slice(colon + 1) : undefined, digest };
}

/** Every image pinned by a tag (not `latest`) or a digest. ECK podTemplates without an image get the operator's pinned one. */
export function checkImages(ctx: CheckContext): Finding[] {
  const out: Finding[] = [];
  for (const { obj, source } of ctx.objects) {
    for (const p of podSpecsOf(obj)) {
      for (const { c } of containersOf(p.spec)) {
        if (c.image === undefined && p.partial) continue;
        const image = String(c.image ?? '');
        const { tag, digest } = imageParts(image);
        if (!image) out.push(err('image', source, subjectOf(obj), `container ${c.name} has no image`));
        else if (digest) continue;
        else if (!tag) out.push(err('image', source, subjectOf(obj), `container ${c.name} image ${image} has no tag or digest`));
        else if (tag === 'latest') out.push(err('image', source, subjectOf(obj), `container ${c.name} image ${image} is :latest`));
      }
    }
  }
  return out;
}

/**
 * Secrets that controllers of the pinned charts create at runtime (so nothing in the assembly does), with why.
 * Keyed by a regex on `namespace/name`.
 */
export const RUNTIME_SECRETS: readonly { readonly match: RegExp; readonly reason: string }[] = [
  { match: /\/[a-z0-9-]+-es-(elastic-user|http-certs-public|http-certs-internal|transport-certs-public)$/, reason: 'ECK operator: created for each Elasticsearch (elastic user password, HTTP/transport CA)' },
  { match: /\/[a-z0-9-]+-kb-(http-certs-public|config)$/, reason: 'ECK operator: created for each Kibana' },
  { match: /^monitoring\/kube-prometheus-stack-admission$/, reason: 'kube-prometheus-stack admission-create hook Job (kube-webhook-certgen) writes the webhook TLS Secret before the operator starts' },
];

/**
 * Pods that operators create from custom objects run as the service account those objects name
 * (prometheus-operator: Prometheus, Alertmanager, ThanosRuler; ECK podTemplates are pod specs already).
 */
export function operatorServiceAccounts(objects: readonly SourcedObject[]): Set<string> {
  const out = new Set<string>();
  for (const { obj } of objects) {
    const group = splitApiVersion(String(obj.apiVersion ?? '')).group;
    if (group === 'monitoring.coreos.com' && ['Prometheus', 'Alertmanager', 'ThanosRuler', 'PrometheusAgent'].includes(obj.kind)) {
      out.add(`${obj.metadata?.namespace ?? 'default'}/${obj.spec?.serviceAccountName ?? 'default'}`);
    }
    // External Secrets asks for a token of the store's service account (JWT auth) and assumes its IRSA role.
    const jwtAccount = obj.spec?.provider?.aws?.auth?.jwt?.serviceAccountRef?.name;
    if (group === 'external-secrets.io' && obj.kind === 'SecretStore' && typeof jwtAccount === 'string') {
      out.add(`${obj.metadata?.namespace ?? 'default'}/${jwtAccount}`);
    }
  }
  return out;
}

interface Created {
  readonly secrets: Set<string>;
  readonly configMaps: Set<string>;
  readonly serviceAccounts: Set<string>;
  readonly storageClasses: Set<string>;
  readonly defaultStorageClass: boolean;
}

function created(objects: readonly SourcedObject[]): Created {
  const secrets = new Set<string>();
  const configMaps = new Set<string>();
  const serviceAccounts = new Set<string>();
  const storageClasses = new Set<string>();
  let defaultStorageClass = false;
  const namespaces = new Set<string>(['default', 'kube-system', 'kube-public', 'kube-node-lease']);
  for (const { obj } of objects) {
    const ns = obj.metadata?.namespace;
    const name = obj.metadata?.name;
    if (ns) namespaces.add(ns);
    if (obj.kind === 'Namespace') namespaces.add(name);
    if (obj.apiVersion === 'v1' && obj.kind === 'Secret') secrets.add(`${ns}/${name}`);
    if (obj.apiVersion === 'v1' && obj.kind === 'ConfigMap') configMaps.add(`${ns}/${name}`);
    if (obj.apiVersion === 'v1' && obj.kind === 'ServiceAccount') serviceAccounts.add(`${ns}/${name}`);
    if (obj.kind === 'StorageClass' && String(obj.apiVersion).startsWith('storage.k8s.io/')) {
      storageClasses.add(name);
      if (obj.metadata?.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true') defaultStorageClass = true;
    }
    const group = splitApiVersion(String(obj.apiVersion ?? '')).group;
    if (group === 'external-secrets.io' && obj.kind === 'ExternalSecret') secrets.add(`${ns}/${obj.spec?.target?.name ?? name}`);
    if (group === 'cert-manager.io' && obj.kind === 'Certificate' && obj.spec?.secretName) secrets.add(`${ns}/${obj.spec.secretName}`);
  }
  for (const ns of namespaces) { configMaps.add(`${ns}/kube-root-ca.crt`); serviceAccounts.add(`${ns}/default`); }
  return { secrets, configMaps, serviceAccounts, storageClasses, defaultStorageClass };
}

/** Namespaces every EKS cluster has, and those EKS add-ons create. */
export const BUILTIN_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];
export const ADDON_NAMESPACES: Record<string, string> = { 'amazon-cloudwatch-observability': 'amazon-cloudwatch' };

/**
 * Every namespaced object lands in a namespace that exists: built in, an add-on's, a Namespace object, or a release's
 * CreateNamespace; and one created by another resource is created first (a dependency path to its creator).
 */
export function checkNamespaces(ctx: CheckContext): Finding[] {
  const have = new Set<string>(BUILTIN_NAMESPACES);
  for (const a of ctx.assembly.addons) if (ADDON_NAMESPACES[a.name]) have.add(ADDON_NAMESPACES[a.name]);
  const creators = new Map<string, ObjectSource[]>();
  const addCreator = (ns: string, by: ObjectSource): void => {
    creators.set(ns, [...(creators.get(ns) ?? []), by]);
  };
  for (const r of ctx.assembly.releases) if (r.createNamespace) addCreator(r.namespace, releaseSource(r));
  for (const { obj, source } of ctx.objects) if (obj.apiVersion === 'v1' && obj.kind === 'Namespace') addCreator(obj.metadata?.name, source);
  const missing = new Map<string, { source: ObjectSource; ns: string; subjects: string[] }>();
  const unordered = new Map<string, { source: ObjectSource; ns: string; subjects: string[] }>();
  for (const { obj, source } of ctx.objects) {
    const ns = obj.metadata?.namespace;
    if (!ns || have.has(ns)) continue;
    const by = creators.get(ns);
    if (by) {
      const same = (b: ObjectSource): boolean => b.stack === source.stack && b.logicalId === source.logicalId;
      if (!by.some((b) => same(b) || ctx.assembly.dependsOn(source, b))) {
        const key = `${source.stack}/${source.logicalId}/${ns}`;
        const u = unordered.get(key) ?? { source, ns, subjects: [] as string[] };
        u.subjects.push(subjectOf(obj));
        unordered.set(key, u);
      }
      continue;
    }
    const key = `${source.stack}/${source.logicalId}/${ns}`;
    const m = missing.get(key) ?? { source, ns, subjects: [] as string[] };
    m.subjects.push(subjectOf(obj));
    missing.set(key, m);
  }
  const shown = (subjects: string[]): string => `${subjects.slice(0, 3).join(', ')}${subjects.length > 3 ? ', ...' : ''}`;
  return [
    ...[...missing.values()].map((m) => err('reference', m.source, `Namespace/${m.ns}`,
      `${m.subjects.length} object(s) go to namespace ${m.ns}, which nothing in the assembly creates: ${shown(m.subjects)}`)),
    ...[...unordered.values()].map((m) => err('namespace-order', m.source, `Namespace/${m.ns}`,
      `${m.subjects.length} object(s) go to namespace ${m.ns} without a dependency on what creates it (${(creators.get(m.ns) ?? []).map((c) => c.logicalId).join(', ')}): ${shown(m.subjects)}`)),
  ];
}

/** Every Secret, ConfigMap, ServiceAccount and StorageClass a pod needs is created somewhere in the assembly. */
export function checkReferences(ctx: CheckContext): Finding[] {
  const out: Finding[] = [];
  const c = created(ctx.objects);
  const runtime = (key: string): boolean => RUNTIME_SECRETS.some((r) => r.match.test(key));
  for (const { obj, source } of ctx.objects) {
    const ns = obj.metadata?.namespace ?? 'default';
    const subject = subjectOf(obj);
    const need = (what: 'Secret' | 'ConfigMap', name: string | undefined, optional: boolean | undefined, where: string): void => {
      if (!name || optional === true) return;
      const key = `${ns}/${name}`;
      const have = what === 'Secret' ? c.secrets.has(key) || runtime(key) : c.configMaps.has(key);
      if (!have) out.push(err('reference', source, subject, `${where} needs ${what} ${key}, which nothing in the assembly creates`));
    };
    for (const p of podSpecsOf(obj)) {
      const s = p.spec;
      const sa = s.serviceAccountName ?? s.serviceAccount ?? 'default';
      if (!c.serviceAccounts.has(`${ns}/${sa}`)) out.push(err('reference', source, subject, `${p.path} runs as ServiceAccount ${ns}/${sa}, which nothing in the assembly creates`));
      for (const v of s.volumes ?? []) {
        need('Secret', v.secret?.secretName, v.secret?.optional, `volume ${v.name}`);
        need('ConfigMap', v.configMap?.name, v.configMap?.optional, `volume ${v.name}`);
        for (const src of v.projected?.sources ?? []) {
          need('Secret', src.secret?.name, src.secret?.optional, `volume ${v.name}`);
          need('ConfigMap', src.configMap?.name, src.configMap?.optional, `volume ${v.name}`);
        }
      }
      for (const { c: ct } of containersOf(s)) {
        for (const ef of ct.envFrom ?? []) {
          need('Secret', ef.secretRef?.name, ef.secretRef?.optional, `container ${ct.name} envFrom`);
          need('ConfigMap', ef.configMapRef?.name, ef.configMapRef?.optional, `container ${ct.name} envFrom`);
        }
        for (const e of ct.env ?? []) {
          need('Secret', e.valueFrom?.secretKeyRef?.name, e.valueFrom?.secretKeyRef?.optional, `container ${ct.name} env ${e.name}`);
          need('ConfigMap', e.valueFrom?.configMapKeyRef?.name, e.valueFrom?.configMapKeyRef?.optional, `container ${ct.name} env ${e.name}`);
        }
      }
    }
    const claims: { sc: unknown; where: string }[] = [];
    if (obj.apiVersion === 'v1' && obj.kind === 'PersistentVolumeClaim') claims.push({ sc: obj.spec?.storageClassName, where: 'spec.storageClassName' });
    if (obj.kind === 'StatefulSet') (obj.spec?.volumeClaimTemplates ?? []).forEach((t: Obj) => claims.push({ sc: t.spec?.storageClassName, where: `volumeClaimTemplate ${t.metadata?.name}` }));
    for (const cl of claims) {
      if (cl.sc === '') continue;
      if (cl.sc === undefined || cl.sc === null) {
        if (!c.defaultStorageClass) out.push(err('reference', source, subject, `${cl.where} is unset and no StorageClass in the assembly is the default`));
      } else if (!c.storageClasses.has(String(cl.sc))) {
        out.push(err('reference', source, subject, `${cl.where} needs StorageClass ${cl.sc}, which nothing in the assembly creates`));
      }
    }
  }
  return out;
}

/** Every Pod Identity association and IRSA trust names a service account that something creates and a pod runs as. */
export function checkServiceAccounts(ctx: CheckContext): Finding[] {
  const out: Finding[] = [];
  const c = created(ctx.objects);
  const runsAs = operatorServiceAccounts(ctx.objects);
  for (const { obj } of ctx.objects) {
    for (const p of podSpecsOf(obj)) runsAs.add(`${obj.metadata?.namespace ?? 'default'}/${p.spec.serviceAccountName ?? p.spec.serviceAccount ?? 'default'}`);
  }
  const judge = (at: ResourceId, what: string, ns: string, sa: string): void => {
    const key = `${ns}/${sa}`;
    const source = { stack: at.stack, logicalId: at.logicalId };
    if (!c.serviceAccounts.has(key) || sa === 'default') out.push(err('service-account', source, `ServiceAccount/${key}`, `${what} names a service account that nothing in the assembly creates`));
    if (!runsAs.has(key)) out.push(err('service-account', source, `ServiceAccount/${key}`, `${what} names a service account no rendered or applied pod runs as`));
  };
  for (const pi of ctx.assembly.podIdentities) judge(pi, 'Pod Identity association', pi.namespace, pi.serviceAccount);
  for (const t of ctx.assembly.irsaTrusts) {
    for (const s of t.subjects) {
      const [, , ns, sa] = s.split(':');
      judge(t, 'IRSA trust (oidc sub)', ns, sa);
    }
  }
  return out;
}

const BUILTIN_PLURALS: Record<string, string> = {
  Endpoints: 'endpoints',
  Ingress: 'ingresses',
  NetworkPolicy: 'networkpolicies',
  PodSecurityPolicy: 'podsecuritypolicies',
  StorageClass: 'storageclasses',
  IngressClass: 'ingressclasses',
  PriorityClass: 'priorityclasses',
  RuntimeClass: 'runtimeclasses',
};

/** The resource (plural) name of a kind: CRD plural, known irregular plurals, else lower-case + s/es/ies. */
export function pluralOf(kind: string, apiVersion: string, crds: CrdIndex): string {
  const crd = crds.lookup(apiVersion, kind) ?? crds.versionsOf(splitApiVersion(apiVersion).group, kind)[0];
  if (crd?.plural) return crd.plural;
  if (BUILTIN_PLURALS[kind]) return BUILTIN_PLURALS[kind];
  const l = kind.toLowerCase();
  if (/[^aeiou]y$/.test(l)) return `${l.slice(0, -1)}ies`;
  if (/(s|x|z|ch|sh)$/.test(l)) return `${l}es`;
  return `${l}s`;
}

function ruleMatches(rule: Obj, group: string, version: string, resource: string, namespaced: boolean): boolean {
  const has = (list: string[] | undefined, v: string): boolean => (list ?? []).includes('*') || (list ?? []).includes(v);
  if (!has(rule.operations, 'CREATE')) return false;
  if (!has(rule.apiGroups, group) || !has(rule.apiVersions, version)) return false;
  if (!(rule.resources ?? []).some((r: string) => r === '*' || r === '*/*' || r === resource)) return false;
  const scope = rule.scope ?? '*';
  return scope === '*' || (scope === 'Namespaced') === namespaced;
}

/**
 * A `failurePolicy: Fail` webhook a release renders rejects what it intercepts until it is ready: every other
 * release or manifest creating such an object must have a CloudFormation dependency path to that release.
 * (matchConditions are not evaluated: a webhook is assumed to intercept whatever its rules and selectors match.)
 */
export function checkWebhookOrder(ctx: CheckContext): Finding[] {
  const out: Finding[] = [];
  const labels = namespaceLabels(ctx.objects);
  const nsLabels = (ns: string): Record<string, string> => ({ ...(labels.get(ns) ?? {}), 'kubernetes.io/metadata.name': ns });
  for (const r of ctx.rendered) {
    for (const { obj: cfg } of r.objects) {
      if (cfg.kind !== 'ValidatingWebhookConfiguration' && cfg.kind !== 'MutatingWebhookConfiguration') continue;
      for (const wh of cfg.webhooks ?? []) {
        if ((wh.failurePolicy ?? 'Fail') !== 'Fail') continue;
        if (!r.release.wait) out.push(err('webhook-order', releaseSource(r.release), `${cfg.kind}/${cfg.metadata?.name}`, `webhook ${wh.name} has failurePolicy Fail but its release does not Wait for it to be ready`));
        const racing = new Map<string, { source: ObjectSource; subjects: string[] }>();
        for (const { obj, source } of ctx.objects) {
          if (source.stack === r.release.stack && source.logicalId === r.release.logicalId) continue;
          const { group, version } = splitApiVersion(String(obj.apiVersion ?? ''));
          const ns: string | undefined = obj.metadata?.namespace;
          const namespaced = ns !== undefined;
          const resource = pluralOf(String(obj.kind), String(obj.apiVersion), ctx.crds);
          if (!(wh.rules ?? []).some((rule: Obj) => ruleMatches(rule, group, version, resource, namespaced))) continue;
          const objLabels = obj.metadata?.labels ?? {};
          const nsSel = obj.kind === 'Namespace' ? { ...objLabels, 'kubernetes.io/metadata.name': obj.metadata?.name } : namespaced ? nsLabels(ns) : undefined;
          if (nsSel && !selectorMatches(wh.namespaceSelector, nsSel)) continue;
          if (!selectorMatches(wh.objectSelector, objLabels)) continue;
          if (ctx.assembly.dependsOn(source, r.release)) continue;
          const key = `${source.stack}/${source.logicalId}`;
          const e = racing.get(key) ?? { source, subjects: [] };
          e.subjects.push(subjectOf(obj));
          racing.set(key, e);
        }
        for (const { source, subjects } of racing.values()) {
          const shown = subjects.slice(0, 3).join(', ') + (subjects.length > 3 ? `, +${subjects.length - 3} more` : '');
          out.push(err('webhook-order', source, `${subjects.length} object(s)`,
            `created without a dependency on release ${r.release.release} (${r.release.logicalId}), whose ${cfg.kind} webhook ${wh.name} (failurePolicy Fail) intercepts them: ${shown}`));
        }
      }
    }
  }
  return out;
}

/** Margin (seconds) a waiting Helm release must leave under the kubectl handler Lambda's timeout. */
export const HANDLER_MARGIN_SECONDS = 120;

/** Every waiting release's Helm timeout leaves HANDLER_MARGIN_SECONDS under the handler Lambda's timeout. */
export function checkTimeouts(releases: readonly HelmRelease[]): Finding[] {
  const out: Finding[] = [];
  for (const r of releases) {
    if (!r.wait) continue;
    const subject = `chart ${r.chart}`;
    if (r.timeoutText !== undefined && r.timeoutSeconds === undefined) { out.push(err('timeout', releaseSource(r), subject, `Timeout ${r.timeoutText} is not a duration`)); continue; }
    const timeout = r.timeoutSeconds ?? 300;
    if (r.handlerTimeoutSeconds === undefined) { out.push(err('timeout', releaseSource(r), subject, 'the kubectl handler Lambda (ServiceToken) and its Timeout were not found')); continue; }
    const max = r.handlerTimeoutSeconds - HANDLER_MARGIN_SECONDS;
    if (timeout > max) {
      out.push(err('timeout', releaseSource(r), subject, `Helm Timeout ${timeout}s leaves less than ${HANDLER_MARGIN_SECONDS}s under the kubectl handler Lambda timeout ${r.handlerTimeoutSeconds}s (max ${max}s)`));
    }
  }
  return out;
}

/** Every check over one assembly. */
export function runChecks(ctx: CheckContext): Finding[] {
  return [
    ...checkRenders(ctx.rendered),
    ...checkSchemas(ctx),
    ...checkPodSecurity(ctx),
    ...checkRequests(ctx),
    ...checkImages(ctx),
    ...checkNamespaces(ctx),
    ...checkReferences(ctx),
    ...checkServiceAccounts(ctx),
    ...checkWebhookOrder(ctx),
    ...checkTimeouts(ctx.assembly.releases),
  ];
}
