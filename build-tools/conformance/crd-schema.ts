// Custom objects judged by the CRD that serves them: the kind must be served at the object's version by a chart
// (its rendered CRD objects, or its crds.json) or an EKS add-on of the assembly, and the object must match that
// version's openAPIV3Schema, strictly: an unknown field is an error unless the schema preserves unknown fields.
type Obj = Record<string, any>;

/** One served version of a custom kind. */
export interface CrdVersion {
  readonly group: string;
  readonly kind: string;
  readonly plural: string;
  readonly scope: string;
  readonly version: string;
  readonly served: boolean;
  /** The openAPIV3Schema, undefined when the server (an add-on) serves it but no schema is known here. */
  readonly schema?: Obj;
  /** Who serves it: `chart <name>` or `add-on <name>`. */
  readonly source: string;
}

/**
 * Custom API group/versions served by EKS add-ons (no CRD schema is available for them here).
 * Facts from the add-ons' documentation; extend when the assembly installs another add-on with CRDs.
 */
export const ADDON_APIS: Record<string, readonly { group: string; version: string; kind: string; plural: string; scope: string }[]> = {
  'snapshot-controller': [
    { group: 'snapshot.storage.k8s.io', version: 'v1', kind: 'VolumeSnapshot', plural: 'volumesnapshots', scope: 'Namespaced' },
    { group: 'snapshot.storage.k8s.io', version: 'v1', kind: 'VolumeSnapshotClass', plural: 'volumesnapshotclasses', scope: 'Cluster' },
    { group: 'snapshot.storage.k8s.io', version: 'v1', kind: 'VolumeSnapshotContent', plural: 'volumesnapshotcontents', scope: 'Cluster' },
  ],
  'vpc-cni': [
    { group: 'networking.k8s.aws', version: 'v1alpha1', kind: 'PolicyEndpoint', plural: 'policyendpoints', scope: 'Namespaced' },
    { group: 'networking.k8s.aws', version: 'v1alpha1', kind: 'ClusterPolicyEndpoint', plural: 'clusterpolicyendpoints', scope: 'Cluster' },
  ],
  'amazon-cloudwatch-observability': [
    { group: 'cloudwatch.aws.amazon.com', version: 'v1alpha1', kind: 'AmazonCloudWatchAgent', plural: 'amazoncloudwatchagents', scope: 'Namespaced' },
    { group: 'cloudwatch.aws.amazon.com', version: 'v1alpha1', kind: 'Instrumentation', plural: 'instrumentations', scope: 'Namespaced' },
    { group: 'cloudwatch.aws.amazon.com', version: 'v1alpha1', kind: 'DcgmExporter', plural: 'dcgmexporters', scope: 'Namespaced' },
    { group: 'cloudwatch.aws.amazon.com', version: 'v1alpha1', kind: 'NeuronMonitor', plural: 'neuronmonitors', scope: 'Namespaced' },
  ],
};

/** The custom kinds an assembly serves, by `group/version/Kind`. */
export class CrdIndex {
  private readonly versions = new Map<string, CrdVersion>();
  private readonly kinds = new Map<string, CrdVersion[]>();

  /** Adds the served versions of a rendered `CustomResourceDefinition` object. */
  public addCrdObject(crd: Obj, source: string): void {
    const spec = crd.spec ?? {};
    for (const v of spec.versions ?? []) {
      this.add({
        group: spec.group,
        kind: spec.names?.kind,
        plural: spec.names?.plural,
        scope: spec.scope ?? 'Namespaced',
        version: v.name,
        served: v.served !== false,
        schema: v.schema?.openAPIV3Schema ?? {},
        source,
      });
    }
  }

  /** Adds the entries of a chart's `crds.json` (`[{group, kind, plural, scope, versions: [{name, served, schema}]}]`). */
  public addCrdsJson(entries: readonly Obj[], source: string): void {
    for (const e of entries) {
      for (const v of e.versions ?? []) {
        if (this.versions.has(`${e.group}/${v.name}/${e.kind}`)) continue;
        this.add({ group: e.group, kind: e.kind, plural: e.plural, scope: e.scope ?? 'Namespaced', version: v.name, served: v.served !== false, schema: v.schema ?? {}, source });
      }
    }
  }

  /** Adds what an EKS add-on serves (see ADDON_APIS). */
  public addAddon(name: string): void {
    for (const a of ADDON_APIS[name] ?? []) this.add({ ...a, served: true, source: `add-on ${name}` });
  }

  /** The served version of a kind, if any. */
  public lookup(apiVersion: string, kind: string): CrdVersion | undefined {
    const v = this.versions.get(`${apiVersion}/${kind}`);
    return v?.served ? v : undefined;
  }

  /** Every version of a kind in a group (served or not), for messages. */
  public versionsOf(group: string, kind: string): CrdVersion[] {
    return this.kinds.get(`${group}/${kind}`) ?? [];
  }

  /** Served `group/version` and `group/version/Kind` entries, for `helm --api-versions`. */
  public apiVersions(): string[] {
    const out = new Set<string>();
    for (const v of this.versions.values()) {
      if (!v.served) continue;
      out.add(`${v.group}/${v.version}`);
      out.add(`${v.group}/${v.version}/${v.kind}`);
    }
    return [...out].sort();
  }

  /** All known versions. */
  public all(): CrdVersion[] {
    return [...this.versions.values()];
  }

  private add(v: CrdVersion): void {
    const key = `${v.group}/${v.version}/${v.kind}`;
    this.versions.set(key, v);
    const kk = `${v.group}/${v.kind}`;
    const list = (this.kinds.get(kk) ?? []).filter((x) => x.version !== v.version);
    list.push(v);
    this.kinds.set(kk, list);
  }
}

function typeOk(value: unknown, type: string | undefined): boolean {
  switch (type) {
    case undefined: return true;
    case 'object': return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'array': return Array.isArray(value);
    case 'string': return typeof value === 'string';
    case 'integer': return typeof value === 'number' && Number.isInteger(value);
    case 'number': return typeof value === 'number';
    case 'boolean': return typeof value === 'boolean';
    default: return true;
  }
}

/**
 * Findings of a value against an openAPIV3Schema (structural CRD schema): types, unknown fields, required,
 * enum, pattern, bounds, list-map and set uniqueness. CEL rules (x-kubernetes-validations) are not evaluated.
 */
export function validateOpenApi(value: unknown, schema: Obj, path: string, errors: string[]): void {
  if (value === null || value === undefined) return;
  const at = path || '.';
  if (schema['x-kubernetes-int-or-string']) {
    if (typeof value !== 'string' && !(typeof value === 'number' && Number.isInteger(value))) errors.push(`${at}: expected integer or string, got ${JSON.stringify(value)}`);
    return;
  }
  for (const sub of schema.allOf ?? []) validateOpenApi(value, sub, path, errors);
  for (const key of ['anyOf', 'oneOf'] as const) {
    const alts: Obj[] | undefined = schema[key];
    if (alts && alts.length > 0 && !alts.some((a) => { const e: string[] = []; validateOpenApi(value, { ...a, 'x-kubernetes-preserve-unknown-fields': true }, path, e); return e.length === 0; })) {
      errors.push(`${at}: matches none of ${key}`);
    }
  }
  if (!typeOk(value, schema.type)) {
    errors.push(`${at}: expected ${schema.type}, got ${Array.isArray(value) ? 'array' : typeof value} ${JSON.stringify(value).slice(0, 60)}`);
    return;
  }
  if (schema.enum && !schema.enum.some((e: unknown) => JSON.stringify(e) === JSON.stringify(value))) errors.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  if (typeof value === 'string') {
    if (schema.pattern) {
      try { if (!new RegExp(schema.pattern, 'u').test(value)) errors.push(`${at}: ${JSON.stringify(value)} does not match ${schema.pattern}`); } catch { /* RE2-only syntax: not checked */ }
    }
    if (schema.maxLength !== undefined && value.length > schema.maxLength) errors.push(`${at}: longer than ${schema.maxLength}`);
    if (schema.minLength !== undefined && value.length < schema.minLength) errors.push(`${at}: shorter than ${schema.minLength}`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) errors.push(`${at}: ${value} < minimum ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) errors.push(`${at}: ${value} > maximum ${schema.maximum}`);
  }
  if (Array.isArray(value)) {
    if (schema.maxItems !== undefined && value.length > schema.maxItems) errors.push(`${at}: more than ${schema.maxItems} items`);
    if (schema.minItems !== undefined && value.length < schema.minItems) errors.push(`${at}: fewer than ${schema.minItems} items`);
    if (schema.items) value.forEach((v, i) => validateOpenApi(v, schema.items, `${path}[${i}]`, errors));
    const listType = schema['x-kubernetes-list-type'];
    if (listType === 'set' || listType === 'map') {
      const keys: string[] = schema['x-kubernetes-list-map-keys'] ?? [];
      const seen = new Set<string>();
      for (const v of value) {
        const id = listType === 'set' ? JSON.stringify(v) : JSON.stringify(keys.map((k) => (v as Obj)?.[k] ?? schema.items?.properties?.[k]?.default));
        if (seen.has(id)) errors.push(`${at}: duplicate ${listType === 'set' ? 'entry' : `entries for key ${keys.join(',')}`} ${id}`);
        seen.add(id);
      }
    }
    return;
  }
  if (typeof value === 'object') {
    const o = value as Obj;
    const props: Obj = schema.properties ?? {};
    for (const r of schema.required ?? []) if (o[r] === undefined) errors.push(`${path}.${r}: required field missing`);
    const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true || schema['x-kubernetes-embedded-resource'] === true;
    const additional = schema.additionalProperties;
    const noDeclaredShape = schema.properties === undefined && additional === undefined;
    for (const [k, v] of Object.entries(o)) {
      if (props[k]) validateOpenApi(v, props[k], `${path}.${k}`, errors);
      else if (additional && typeof additional === 'object') validateOpenApi(v, additional, `${path}.${k}`, errors);
      else if (additional === true || preserve || (noDeclaredShape && schema.type !== 'object')) continue;
      else if (noDeclaredShape && path === '.metadata') continue;
      else errors.push(`${path}.${k}: unknown field "${k}"`);
    }
  }
}

/** Findings of a custom object against the CRD version that serves it (metadata, apiVersion and kind are the server's). */
export function validateCustomObject(obj: Obj, crd: CrdVersion): string[] {
  if (!crd.schema) return [];
  const errors: string[] = [];
  const schema: Obj = { ...crd.schema, properties: { ...(crd.schema.properties ?? {}) } };
  if (Array.isArray(schema.required)) schema.required = schema.required.filter((r: string) => !['metadata', 'apiVersion', 'kind'].includes(r));
  delete schema.properties.metadata;
  delete schema.properties.apiVersion;
  delete schema.properties.kind;
  const { metadata: _m, apiVersion: _a, kind: _k, ...rest } = obj;
  void _m; void _a; void _k;
  validateOpenApi(rest, { ...schema, type: 'object' }, '', errors);
  return errors;
}
