// Strict validation of built-in Kubernetes objects against a structured-merge-diff field schema (the format the
// API server's server-side apply uses): an unknown field is an error (Helm 4 applies with strict field
// validation), a value of the wrong type is an error, and entries of associative lists must be unique by their
// keys (two volumeMounts with one mountPath, two env entries with one name, two ports with one containerPort/protocol).
// Two sources: the smd YAML (`../shared/k8s/k8s-1.35-smd-schema.yaml`) or the compact JSON generated from it by
// k8s-schema-data.ts (`test/data/k8s/k8s-1.35-fields.json`), so tests run with nothing beside the repository.
import * as fs from 'fs';

type Obj = Record<string, any>;

/** A type (or an inline reference to one) in smd form. */
export interface SmdType {
  readonly namedType?: string;
  readonly scalar?: string;
  readonly list?: { readonly elementType: SmdType; readonly elementRelationship?: string; readonly keys?: readonly string[] };
  readonly map?: {
    readonly fields?: readonly { readonly name: string; readonly type: SmdType; readonly default?: unknown }[];
    readonly elementType?: SmdType;
    readonly elementRelationship?: string;
  };
}

/** The schema document: named types, as in the smd YAML (`types:` list). */
export interface SmdSchema {
  readonly types: readonly (SmdType & { readonly name: string })[];
}

/** Short API group names in `io.k8s.api.<short>.<version>.<Kind>` → the group served by the API server. */
export const BUILTIN_GROUPS: Record<string, string> = {
  core: '',
  admissionregistration: 'admissionregistration.k8s.io',
  apiserverinternal: 'internal.apiserver.k8s.io',
  apps: 'apps',
  authentication: 'authentication.k8s.io',
  authorization: 'authorization.k8s.io',
  autoscaling: 'autoscaling',
  batch: 'batch',
  certificates: 'certificates.k8s.io',
  coordination: 'coordination.k8s.io',
  discovery: 'discovery.k8s.io',
  events: 'events.k8s.io',
  extensions: 'extensions',
  flowcontrol: 'flowcontrol.apiserver.k8s.io',
  imagepolicy: 'imagepolicy.k8s.io',
  networking: 'networking.k8s.io',
  node: 'node.k8s.io',
  policy: 'policy',
  rbac: 'rbac.authorization.k8s.io',
  resource: 'resource.k8s.io',
  scheduling: 'scheduling.k8s.io',
  storage: 'storage.k8s.io',
  storagemigration: 'storagemigration.k8s.io',
};

/** Group/versions served by every cluster that the field schema has no types for (aggregation, CRDs). */
const SERVED_WITHOUT_FIELD_TYPES = ['apiextensions.k8s.io/v1', 'apiregistration.k8s.io/v1'];

/** Splits `group/version` (or `v1`) into its parts. */
export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.lastIndexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

function isGa(version: string): boolean {
  return /^v\d+$/.test(version);
}

/** A field schema of one Kubernetes minor, able to validate built-in objects strictly. */
export class K8sSchema {
  /** Reads the smd YAML or the compact JSON (chosen by the file's first non-blank character). */
  public static fromFile(file: string): K8sSchema {
    const text = fs.readFileSync(file, 'utf8');
    if (/^\s*\{/.test(text)) return new K8sSchema(JSON.parse(text) as SmdSchema);
    // js-yaml is a dependency of the toolchain (eslint, jest); no type declarations are installed for it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports, import/no-extraneous-dependencies
    const yaml: { load(s: string): unknown } = require('js-yaml');
    return new K8sSchema(yaml.load(text) as SmdSchema);
  }

  private readonly types = new Map<string, SmdType>();
  private readonly roots = new Map<string, string>();

  public constructor(schema: SmdSchema) {
    for (const t of schema.types) this.types.set(t.name, t);
    for (const name of this.types.keys()) {
      const m = /^io\.k8s\.api\.([a-z0-9]+)\.(v[a-z0-9]+)\.([A-Z][A-Za-z0-9]*)$/.exec(name);
      if (!m || !(m[1] in BUILTIN_GROUPS)) continue;
      const group = BUILTIN_GROUPS[m[1]];
      this.roots.set(`${group ? `${group}/` : ''}${m[2]}/${m[3]}`, name);
    }
  }

  /** The root type name of a kind (`io.k8s.api.<group>.<version>.<Kind>`), if the schema has it. */
  public rootType(apiVersion: string, kind: string): string | undefined {
    const name = this.roots.get(`${apiVersion}/${kind}`);
    const t = name ? this.types.get(name) : undefined;
    const fields = new Set((t?.map?.fields ?? []).map((f) => f.name));
    return fields.has('metadata') && fields.has('kind') && fields.has('apiVersion') ? name : undefined;
  }

  /** True when the schema knows the group/version at all (built-in API, possibly a kind it lacks). */
  public knowsGroupVersion(apiVersion: string): boolean {
    for (const k of this.roots.keys()) if (k.startsWith(`${apiVersion}/`) && k.split('/').length === apiVersion.split('/').length + 1) return true;
    return false;
  }

  /** GA built-in group/versions (and `group/version/Kind` entries) a cluster of this minor serves, for `helm --api-versions`. */
  public builtinApiVersions(): string[] {
    const out = new Set<string>(SERVED_WITHOUT_FIELD_TYPES);
    for (const [key, name] of this.roots) {
      const parts = key.split('/');
      const version = parts[parts.length - 2];
      if (!isGa(version) || !this.rootType(parts.slice(0, -1).join('/'), parts[parts.length - 1])) continue;
      if (name.includes('.extensions.') || name.includes('.imagepolicy.')) continue;
      out.add(parts.slice(0, -1).join('/'));
      out.add(key);
    }
    return [...out].sort();
  }

  /** Validates a type's value at `path`; findings are appended to `errors`. */
  public validateAs(value: unknown, typeName: string, path: string, errors: string[]): void {
    this.check(value, { namedType: typeName }, path, errors);
  }

  /** Strict-schema findings of one object (empty when valid). Objects of a kind the schema lacks give one finding. */
  public validate(obj: Obj): string[] {
    const root = this.rootType(String(obj.apiVersion ?? ''), String(obj.kind ?? ''));
    if (!root) return [`no ${obj.apiVersion} ${obj.kind} in the Kubernetes field schema (the API server does not serve it)`];
    const errors: string[] = [];
    this.check(obj, { namedType: root }, '', errors);
    return errors;
  }

  private resolve(t: SmdType): SmdType {
    let cur = t;
    for (let i = 0; cur.namedType && i < 20; i++) {
      const next = this.types.get(cur.namedType);
      if (!next) throw new Error(`unknown type ${cur.namedType}`);
      cur = next;
    }
    return cur;
  }

  private check(value: unknown, ref: SmdType, path: string, errors: string[]): void {
    if (value === null || value === undefined) return;
    const t = this.resolve(ref);
    // Untyped (deduced/atomic) values accept anything of any shape.
    if (t.scalar === 'untyped' && t.list && t.map) return;
    const at = path || '.';
    if (Array.isArray(value)) {
      if (!t.list) { errors.push(`${at}: expected ${t.map ? 'map' : t.scalar}, got list`); return; }
      this.checkList(value, t.list, path, errors);
      return;
    }
    if (typeof value === 'object') {
      if (!t.map) { errors.push(`${at}: expected ${t.list ? 'list' : t.scalar}, got map`); return; }
      const fields = new Map((t.map.fields ?? []).map((f) => [f.name, f.type]));
      for (const [k, v] of Object.entries(value as Obj)) {
        const ft = fields.get(k) ?? t.map.elementType;
        if (!ft) { errors.push(`${path}.${k}: unknown field "${k}"`); continue; }
        this.check(v, ft, `${path}.${k}`, errors);
      }
      return;
    }
    if (!t.scalar) { errors.push(`${at}: expected ${t.map ? 'map' : 'list'}, got ${typeof value} ${JSON.stringify(value)}`); return; }
    const ok = t.scalar === 'untyped'
      || (t.scalar === 'string' && typeof value === 'string')
      || (t.scalar === 'numeric' && typeof value === 'number')
      || (t.scalar === 'boolean' && typeof value === 'boolean');
    if (!ok) errors.push(`${at}: expected ${t.scalar}, got ${typeof value} ${JSON.stringify(value)}`);
  }

  private checkList(value: unknown[], list: NonNullable<SmdType['list']>, path: string, errors: string[]): void {
    value.forEach((v, i) => this.check(v, list.elementType, `${path}[${i}]`, errors));
    if (list.elementRelationship !== 'associative') return;
    const seen = new Map<string, number>();
    const keys = list.keys ?? [];
    const elem = this.resolve(list.elementType);
    const defaults = new Map((elem.map?.fields ?? []).map((f) => [f.name, f.default]));
    value.forEach((v, i) => {
      let id: string;
      if (keys.length === 0) {
        id = JSON.stringify(v);
      } else {
        const parts: string[] = [];
        for (const k of keys) {
          const kv = (v as Obj | null)?.[k] ?? defaults.get(k);
          if (kv === undefined || kv === null) { errors.push(`${path}[${i}]: associative list entry omits key field "${k}" (and it has no default)`); return; }
          parts.push(`${k}=${JSON.stringify(kv)}`);
        }
        id = parts.join(',');
      }
      const first = seen.get(id);
      if (first !== undefined) errors.push(`${path}: duplicate entries for key [${id}] (items ${first} and ${i})`);
      else seen.set(id, i);
    });
  }
}
