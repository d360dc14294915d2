// Facts about one unpacked chart directory: what the values-key checker, the CRD validator and the
// conformance checks need, nothing of the chart's own text.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

type Json = any;

/** js-yaml (YAML 1.2 core schema with merge keys), typed to the two calls used here (no @types package needed). */
// eslint-disable-next-line @typescript-eslint/no-require-imports, import/no-extraneous-dependencies
const yaml = require('js-yaml') as { load(text: string): unknown; loadAll(text: string): unknown[] };

/** Values a chart refuses to render without (a `fail` in its templates); placeholders only. */
const RENDER_SET: Record<string, string[]> = {
  'aws-load-balancer-controller': ['clusterName=fx-cluster'],
  'karpenter': ['settings.clusterName=fx-cluster'],
};
/** The switch that makes a chart template its CRDs (charts with a crds/ directory need none). */
const CRD_SET: Record<string, string[]> = {
  'cert-manager': ['crds.enabled=true'],
  'eck-operator': ['installCRDs=true'],
  'external-secrets': ['installCRDs=true'],
  'kube-prometheus-stack': ['crds.enabled=true'],
};
/**
 * Default values whose exact value the library relies on (tests assert them): only these leave
 * the chart as values, everything else as the kind of each key.
 */
const PINNED_DEFAULTS: Record<string, string[]> = {
  'kube-prometheus-stack': ['alertmanager.tplConfig', 'grafana.sidecar.dashboards.label', 'grafana.sidecar.dashboards.labelValue'],
};
const RELEASE = 'fx-release';
const NAMESPACE = 'fx-namespace';

/** Chart.yaml fields used here. */
export interface ChartYaml {
  readonly name: string;
  readonly version: string;
  readonly appVersion?: string;
  readonly dependencies?: { name: string; alias?: string; version: string; condition?: string }[];
}

/** One unpacked chart and its bundled subcharts. */
export interface ChartDir {
  readonly dir: string;
  readonly chart: ChartYaml;
  readonly subcharts: ChartDir[];
}

export function readChartDir(dir: string): ChartDir {
  const chart = yaml.load(fs.readFileSync(path.join(dir, 'Chart.yaml'), 'utf8')) as ChartYaml;
  const chartsDir = path.join(dir, 'charts');
  const subcharts = fs.existsSync(chartsDir)
    ? fs.readdirSync(chartsDir).sort()
      .filter((d) => fs.existsSync(path.join(chartsDir, d, 'Chart.yaml')))
      .map((d) => readChartDir(path.join(chartsDir, d)))
    : [];
  return { dir, chart: { ...chart, version: String(chart.version) }, subcharts };
}

/**
 * The kind of every key of a values document, as a tree: a non-empty map is an object of its keys'
 * nodes; a leaf is one of `emptymap`, `list`, `emptylist`, `scalar`, `emptystring`, `null`.
 */
export function valueKinds(value: unknown): Json {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return value.length ? 'list' : 'emptylist';
  if (typeof value === 'object' && !(value instanceof Date)) {
    const keys = Object.keys(value as object);
    if (!keys.length) return 'emptymap';
    return Object.fromEntries(keys.map((k) => [k, valueKinds((value as Record<string, unknown>)[k])]));
  }
  return value === '' ? 'emptystring' : 'scalar';
}

const VALUES_SCHEMA_KEYS = new Set(['type', 'enum', 'properties', 'patternProperties', 'additionalProperties', 'items']);

/** values.schema.json reduced to what the key rules read, local `$ref`s inlined (a cycle becomes `{}`). */
export function reduceValuesSchema(root: Json): Json {
  const resolve = (ref: string): Json => {
    let node: Json = root;
    for (const part of ref.replace(/^#\/?/, '').split('/').filter(Boolean)) {
      node = node?.[decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~')];
    }
    return node;
  };
  const walk = (s: Json, refs: string[]): Json => {
    if (typeof s === 'boolean') return s;
    if (!s || typeof s !== 'object' || Array.isArray(s)) return {};
    if (typeof s.$ref === 'string') {
      if (!s.$ref.startsWith('#') || refs.includes(s.$ref)) return {};
      const { $ref, ...rest } = s;
      return walk({ ...resolve($ref), ...rest }, [...refs, $ref]);
    }
    const out: Json = {};
    for (const [k, v] of Object.entries(s)) {
      if (!VALUES_SCHEMA_KEYS.has(k)) continue;
      if (k === 'properties' || k === 'patternProperties') out[k] = Object.fromEntries(Object.entries(v as object).map(([n, c]) => [n, walk(c, refs)]));
      else if (k === 'additionalProperties' || k === 'items') out[k] = Array.isArray(v) ? v.map((c) => walk(c, refs)) : walk(v, refs);
      else out[k] = v;
    }
    return out;
  };
  return walk(root, []);
}

const SUBSCHEMA_MAPS = new Set(['properties', 'patternProperties', 'definitions', '$defs', 'dependencies']);
const SUBSCHEMA_LISTS = new Set(['allOf', 'anyOf', 'oneOf']);
const SUBSCHEMA_ONE = new Set(['items', 'additionalProperties', 'additionalItems', 'not']);

/** An OpenAPI schema without `description` annotations (a field named `description` stays). */
export function stripDescriptions(s: Json): Json {
  if (!s || typeof s !== 'object' || Array.isArray(s)) return s;
  const out: Json = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === 'description') continue;
    if (SUBSCHEMA_MAPS.has(k) && v && typeof v === 'object' && !Array.isArray(v)) {
      out[k] = Object.fromEntries(Object.entries(v).map(([n, c]) => [n, stripDescriptions(c)]));
    } else if (SUBSCHEMA_LISTS.has(k) && Array.isArray(v)) {
      out[k] = v.map(stripDescriptions);
    } else if (SUBSCHEMA_ONE.has(k)) {
      out[k] = Array.isArray(v) ? v.map(stripDescriptions) : stripDescriptions(v);
    } else {
      out[k] = v;
    }
  }
  return out;
}

/**
 * Dotted `.Values` paths the templates read: `.Values.a.b` (also through `$` / `$root` / any
 * variable), and `index|hasKey|get|dig .Values.a "b" "c"` with literal keys.
 */
export function templateRefs(texts: string[]): string[] {
  const refs = new Set<string>();
  const dotted = /\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g;
  const call = /\b(index|hasKey|get)\s+\(?\s*\$?[A-Za-z0-9_]*\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\)?((?:\s+"[^"\s]+")+)/g;
  const digCall = /\bdig((?:\s+"[^"\s]*")+)\s+\(?\s*\$?[A-Za-z0-9_]*\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)*)/g;
  for (const text of texts) {
    for (const m of text.matchAll(dotted)) refs.add(m[1].slice(1));
    for (const m of text.matchAll(call)) {
      const keys = [...m[3].matchAll(/"([^"]+)"/g)].map((k) => k[1]);
      const taken = m[1] === 'index' ? keys : keys.slice(0, 1);
      refs.add([...m[2].split('.').filter(Boolean), ...taken].join('.'));
    }
    for (const m of text.matchAll(digCall)) {
      const keys = [...m[1].matchAll(/"([^"]*)"/g)].map((k) => k[1]).slice(0, -1); // the last is the default
      refs.add([...m[2].split('.').filter(Boolean), ...keys].join('.'));
    }
  }
  return [...refs].filter(Boolean).sort();
}

function templateTexts(dir: string): string[] {
  const root = path.join(dir, 'templates');
  if (!fs.existsSync(root)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(fs.readFileSync(p, 'utf8'));
    }
  };
  walk(root);
  return out;
}

interface RenderOptions {
  readonly helm: string;
  readonly kubeVersion: string;
}

function render(chart: ChartDir, opts: RenderOptions, set: string[], includeCrds: boolean): Json[] {
  const args = ['template', RELEASE, chart.dir, '--namespace', NAMESPACE, '--kube-version', opts.kubeVersion];
  if (includeCrds) args.push('--include-crds');
  for (const s of set) args.push('--set', s);
  const text = execFileSync(opts.helm, args, { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
  // `helm test` hooks are not created by an install
  return yaml.loadAll(text).filter((d): d is Json => !!d && typeof d === 'object')
    .filter((d) => !/\btest\b/.test(String(d.metadata?.annotations?.['helm.sh/hook'] ?? '')));
}

function crdFacts(docs: Json[]): Json[] {
  const byName = new Map<string, Json>();
  for (const d of docs) {
    if (d.kind !== 'CustomResourceDefinition') continue;
    const spec = d.spec ?? {};
    byName.set(`${spec.group}/${spec.names?.plural}`, {
      group: spec.group,
      kind: spec.names?.kind,
      plural: spec.names?.plural,
      scope: spec.scope,
      versions: (spec.versions ?? []).map((v: Json) => ({
        name: v.name,
        served: v.served === true,
        storage: v.storage === true,
        schema: stripDescriptions(v.schema?.openAPIV3Schema ?? {}),
      })),
    });
  }
  return [...byName.keys()].sort().map((k) => byName.get(k));
}

const WEBHOOK_KINDS = new Set(['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']);

function webhookFacts(docs: Json[]): Json[] {
  const out: Json[] = [];
  for (const d of docs) {
    if (!WEBHOOK_KINDS.has(d.kind)) continue;
    for (const w of d.webhooks ?? []) {
      out.push({
        kind: d.kind,
        configuration: d.metadata?.name ?? null,
        name: w.name,
        // admissionregistration.k8s.io/v1 defaults: what the API server stores when the chart omits them
        failurePolicy: w.failurePolicy ?? 'Fail',
        rules: w.rules ?? [],
        namespaceSelector: w.namespaceSelector ?? {},
        objectSelector: w.objectSelector ?? {},
        sideEffects: w.sideEffects ?? null,
        service: w.clientConfig?.service ?? null,
      });
    }
  }
  return out.sort((a, b) => `${a.kind}/${a.configuration}/${a.name}`.localeCompare(`${b.kind}/${b.configuration}/${b.name}`));
}

function serviceAccountFacts(docs: Json[]): Json[] {
  return docs.filter((d) => d.kind === 'ServiceAccount')
    .map((d) => ({ name: d.metadata?.name, namespace: d.metadata?.namespace ?? null }))
    .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
}

/** The generated files of one chart directory (file name -> JSON data). */
export interface FactOptions extends RenderOptions {
  /** Where the chart came from: package file, its sha256, the chart's path inside it. */
  readonly source: Json;
  readonly generatorVersion: string;
}

export function chartFacts(chart: ChartDir, opts: FactOptions): Record<string, Json> {
  const name = chart.chart.name;
  const valuesFile = path.join(chart.dir, 'values.yaml');
  const defaults = fs.existsSync(valuesFile) ? yaml.load(fs.readFileSync(valuesFile, 'utf8')) ?? {} : {};
  const schemaFile = path.join(chart.dir, 'values.schema.json');
  const schema = fs.existsSync(schemaFile) ? reduceValuesSchema(JSON.parse(fs.readFileSync(schemaFile, 'utf8'))) : null;
  const renderSet = RENDER_SET[name] ?? [];
  const crdSet = CRD_SET[name] ?? [];
  const defaultsDocs = render(chart, opts, renderSet, false);
  const crdDocs = render(chart, opts, [...renderSet, ...crdSet], true);
  const bundled = new Map(chart.subcharts.map((s) => [s.chart.name, s.chart.version]));
  const pinned: Record<string, unknown> = {};
  for (const p of PINNED_DEFAULTS[name] ?? []) {
    const v = p.split('.').reduce<Json>((n, k) => (n && typeof n === 'object' ? n[k] : undefined), defaults);
    if (v === undefined || (v !== null && typeof v === 'object')) throw new Error(`${name}: pinned default ${p} is not a scalar in values.yaml`);
    pinned[p] = v;
  }
  return {
    'values.json': { defaults: valueKinds(defaults), pinnedDefaults: pinned, schema },
    'refs.json': templateRefs(templateTexts(chart.dir)),
    'crds.json': crdFacts(crdDocs),
    'webhooks.json': webhookFacts(defaultsDocs),
    'serviceaccounts.json': serviceAccountFacts(defaultsDocs),
    'meta.json': {
      chart: name,
      version: chart.chart.version,
      appVersion: chart.chart.appVersion === undefined ? null : String(chart.chart.appVersion),
      dependencies: (chart.chart.dependencies ?? []).map((d) => ({
        name: d.name,
        alias: d.alias ?? null,
        version: String(d.version),
        condition: d.condition ?? null,
        // the exact version bundled in the package (a `0.12.*` pin names one): its data directory
        bundledVersion: bundled.get(d.name) ?? null,
      })),
      source: opts.source,
      generator: { name: 'build-tools/chart-data.ts', version: opts.generatorVersion },
      render: { release: RELEASE, namespace: NAMESPACE, kubeVersion: opts.kubeVersion, set: renderSet, crdSet },
    },
  };
}
