import * as fs from 'fs';
import * as path from 'path';
import { joinedString } from './manifests';

/**
 * Checks the Helm releases and CRD-backed manifests of a synthesized cloud assembly against the
 * chart facts generated into test/data/charts (build-tools/chart-data.ts), reading nothing outside
 * the repository. The rules are those of the team's values-key checker (build-tools/chart-data/README.md):
 * values keys against defaults, schema, template references and subcharts; custom objects against
 * the kinds, served versions and schemas of the CRDs of charts released in the same assembly.
 */

type Json = any;
/** A node of a values.json `defaults` tree: a map of child nodes, or a leaf kind. */
type Kind = 'emptymap' | 'list' | 'emptylist' | 'scalar' | 'emptystring' | 'null';
type Node = Kind | { [key: string]: Node };

/** The generated chart facts, committed in the repository. */
export const CHART_DATA_DIR = path.resolve(__dirname, '..', 'data', 'charts');
const HELM_TYPE = 'Custom::AWSCDK-EKS-HelmChart';
const MANIFEST_TYPE = 'Custom::AWSCDK-EKS-KubernetesResource';
/** Stands in for an intrinsic inside Values/Manifest; never type-, enum- or key-checked. */
const PLACEHOLDER = '${TOKEN[intrinsic]}';

export interface Finding {
  readonly severity: 'error' | 'warning';
  readonly stack: string;
  readonly logicalId: string;
  readonly subject: string;
  readonly message: string;
}
export interface Release {
  readonly stack: string;
  readonly logicalId: string;
  readonly chart: string;
  readonly version?: string;
}
export interface Report {
  readonly releases: Release[];
  readonly findings: Finding[];
  readonly objectsChecked: number;
  readonly objectsNotChecked: number;
  readonly summary: string;
}

/** Chart facts of one (chart, version) directory. */
export interface ChartData {
  readonly name: string;
  readonly version: string;
  readonly defaults: Node;
  readonly schema: Json;
  /** The few default values the library relies on (build-tools/chart-data/facts.ts PINNED_DEFAULTS), by dotted path. */
  readonly pinnedDefaults: Record<string, unknown>;
  readonly refs: string[];
  readonly crds: Json[];
  readonly meta: Json;
}

const cache = new Map<string, ChartData | undefined>();

/** Versions with data for a chart, or undefined when the chart has none. */
export function chartVersions(chart: string, dataDir: string = CHART_DATA_DIR): string[] | undefined {
  const dir = path.join(dataDir, chart);
  if (!chart || chart.includes('/') || !fs.existsSync(dir)) return undefined;
  return fs.readdirSync(dir).filter((v) => fs.existsSync(path.join(dir, v, 'meta.json'))).sort();
}

/** The facts of one chart version (a leading `v` is optional), or undefined without data. */
export function loadChartData(chart: string, version: string, dataDir: string = CHART_DATA_DIR): ChartData | undefined {
  const key = `${dataDir}\0${chart}\0${version}`;
  if (cache.has(key)) return cache.get(key);
  const found = (chartVersions(chart, dataDir) ?? []).find((v) => v.replace(/^v/, '') === version.replace(/^v/, ''));
  let data: ChartData | undefined;
  if (found) {
    const read = (f: string) => JSON.parse(fs.readFileSync(path.join(dataDir, chart, found, f), 'utf8'));
    const values = read('values.json');
    data = { name: chart, version: found, defaults: values.defaults, pinnedDefaults: values.pinnedDefaults ?? {}, schema: values.schema, refs: read('refs.json'), crds: read('crds.json'), meta: read('meta.json') };
  }
  cache.set(key, data);
  return data;
}

// ---------------------------------------------------------------------------------------------
// Values keys
// ---------------------------------------------------------------------------------------------

const FREE_KEY = /^(extra|additional)[A-Z0-9_]|^(spec|env|args)$|(securityContext|SecurityContext|resources|Resources|affinity|Affinity|Probe|strategy|Strategy|lifecycle|Lifecycle|dnsConfig|DnsConfig|annotations|Annotations|labels|Labels|nodeSelector|NodeSelector|Env)$/;
/** Whole documents the chart hands to its application with toYaml (paths relative to the chart). */
const FREE_PATHS = new Set(['alertmanager.config', 'grafana.ini']);

/** The chart as Helm computes it for one values check: defaults, schema, references. */
interface View {
  readonly data: ChartData;
  readonly defaults: Node;
  readonly refs: string[];
  readonly note: string;
  readonly subcharts: boolean;
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const hasToken = (v: unknown) => typeof v === 'string' && v.includes(PLACEHOLDER);
const isEmptyDefault = (n: Node | undefined) => n === undefined || n === 'null' || n === 'emptymap' || n === 'emptylist' || n === 'emptystring';

function child(n: Node | undefined, key: string): Node | undefined {
  return n !== undefined && typeof n === 'object' && Object.prototype.hasOwnProperty.call(n, key) ? n[key] : undefined;
}

function nodeAt(n: Node | undefined, parts: string[]): Node | undefined {
  return parts.reduce<Node | undefined>((acc, k) => child(acc, k), n);
}

function merge(base: Node | undefined, over: Node | undefined): Node | undefined {
  if (over === undefined) return base;
  if (base !== undefined && typeof base === 'object' && typeof over === 'object') {
    const out: { [k: string]: Node } = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = merge(base[k], v) as Node;
    return out;
  }
  return over;
}

function schemaTypes(s: Json): string[] {
  if (!s || s.type === undefined) return [];
  return Array.isArray(s.type) ? s.type : [s.type];
}

function typeOk(type: string, v: unknown): boolean {
  switch (type) {
    case 'object': return isMap(v);
    case 'array': return Array.isArray(v);
    case 'string': return typeof v === 'string';
    case 'integer': return Number.isInteger(v);
    case 'number': return typeof v === 'number';
    case 'boolean': return typeof v === 'boolean';
    case 'null': return v === null;
    default: return true;
  }
}

function openSchema(s: Json): boolean {
  if (!isMap(s)) return false;
  const empty = (m: unknown) => !isMap(m) || Object.keys(m).length === 0;
  const types = schemaTypes(s);
  return empty(s.properties) && empty(s.patternProperties) && (s.additionalProperties === undefined || s.additionalProperties === true)
    && (types.length === 0 || types.includes('object'));
}

/** The schema a key of an object schema gets, and whether the schema allows the key at all. */
function schemaChild(s: Json, key: string): { schema?: Json; allowed: boolean; closed: boolean } {
  if (!s || typeof s !== 'object') return { allowed: false, closed: false };
  if (s.properties && s.properties[key] !== undefined) return { schema: s.properties[key], allowed: true, closed: false };
  for (const [pattern, sub] of Object.entries(s.patternProperties ?? {})) {
    if (new RegExp(pattern).test(key)) return { schema: sub, allowed: true, closed: false };
  }
  if (s.additionalProperties === false) return { allowed: false, closed: true };
  if (isMap(s.additionalProperties)) return { schema: s.additionalProperties, allowed: true, closed: false };
  if (s.additionalProperties === true) return { allowed: true, closed: false };
  const empty = (m: unknown) => !isMap(m) || Object.keys(m).length === 0;
  const openObject = schemaTypes(s).includes('object') && empty(s.properties) && empty(s.patternProperties);
  return { allowed: openObject, closed: false };
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
    }
  }
  return d[a.length][b.length];
}

/** The closest known key, when one is close enough to be a likely typo. */
export function suggestKey(key: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const k of new Set(known)) {
    const score = distance(key, k);
    if (score < bestScore) [best, bestScore] = [k, score];
  }
  if (best === undefined) return undefined;
  const prefix = key.slice(0, 4).toLowerCase() === best.slice(0, 4).toLowerCase() && key.length >= 4;
  return bestScore <= Math.max(2, Math.floor(key.length / 3)) || prefix ? best : undefined;
}

/** Value-key problems of one release's values (messages name the full key path). */
export function checkValues(values: Json, data: ChartData, dataDir: string = CHART_DATA_DIR): string[] {
  const errors: string[] = [];
  const top: View = { data, defaults: data.defaults, refs: data.refs, note: '', subcharts: true };
  if (isMap(values)) checkMap(values, top, [], [], data.defaults, data.schema, errors, dataDir);
  else if (values !== undefined && values !== null) errors.push('values must be a map');
  return errors;
}

function refsAllowing(refs: string[], p: string[]): { read: boolean; below: string | undefined } {
  const joined = p.join('.');
  const read = refs.some((r) => r === joined || r.startsWith(`${joined}.`));
  const below = refs.find((r) => joined.startsWith(`${r}.`));
  return { read, below };
}

function subchartView(parent: View, key: string, parentDefaults: Node | undefined, dataDir: string): View | undefined {
  const deps: Json[] = parent.data.meta.dependencies ?? [];
  const dep = deps.find((d) => (d.alias ?? d.name) === key);
  if (!dep) return undefined;
  const data = loadChartData(dep.name, dep.bundledVersion ?? dep.version, dataDir);
  if (!data) return undefined;
  const prefix = `${key}.`;
  const parentRefs = parent.refs.filter((r) => r.startsWith(prefix)).map((r) => r.slice(prefix.length));
  const condition = String(dep.condition ?? '').split(',').map((c) => c.trim()).filter((c) => c.startsWith(prefix)).map((c) => c.slice(prefix.length));
  return {
    data,
    defaults: merge(data.defaults, child(parentDefaults, key)) ?? 'emptymap',
    refs: [...new Set([...data.refs, ...parentRefs, ...condition])].sort(),
    note: ` (subchart ${data.name} ${data.version})`,
    subcharts: false,
  };
}

/**
 * Checks one map of given values: `p` is its full key path, `rel` the path inside the chart being
 * checked (a subchart's keys are relative to it), `D` the defaults node and `S` the schema there.
 */
function checkMap(given: Record<string, unknown>, view: View, p: string[], rel: string[], D: Node | undefined, S: Json,
  errors: string[], dataDir: string): void {
  const closedBySchema = !!S && S.additionalProperties === false;
  if ((D === 'emptymap' || D === 'null') && !closedBySchema) return; // rule 3
  if (openSchema(S)) return; // rule 2: a schema without properties (`{}`, `type: object`) allows any key
  if (rel.length && (FREE_KEY.test(rel[rel.length - 1]) || FREE_PATHS.has(rel.join('.'))) && !closedBySchema) return; // rule 8
  for (const [key, v] of Object.entries(given)) {
    const q = [...p, key];
    const qrel = [...rel, key];
    if (v === null) continue; // rule 10
    if (rel.length === 0 && key === 'global') continue;
    if (rel.length === 0) {
      const deps: Json[] = view.data.meta.dependencies ?? [];
      if (deps.some((d) => (d.alias ?? d.name) === key)) {
        const sub = view.subcharts ? subchartView(view, key, D, dataDir) : undefined;
        if (sub && isMap(v)) checkMap(v, sub, q, [], sub.defaults, sub.data.schema, errors, dataDir);
        continue; // a dependency without data (or of a subchart) stays free-form
      }
    }
    const Dk = child(D, key);
    const sc = schemaChild(S, key);
    const name = `${q.join('.')}${view.note}`;
    if (sc.closed) {
      errors.push(`unknown values key ${name}: not allowed by the chart's values.schema.json${hint(key, D, S, view, rel, p)}`);
      continue;
    }
    let allowed = Dk !== undefined || sc.allowed;
    if (!allowed && (D === 'emptymap' || D === 'null')) allowed = true;
    if (!allowed) {
      const { read, below } = refsAllowing(view.refs, qrel);
      if (below !== undefined && isEmptyDefault(nodeAt(view.defaults, below.split('.')))) continue; // handed on with toYaml
      allowed = read;
    }
    if (!allowed) {
      errors.push(`unknown values key ${name}${hint(key, D, S, view, rel, p)}`);
      continue;
    }
    if (hasToken(v)) continue;
    const types = schemaTypes(sc.schema);
    if (types.length) {
      if (!types.some((t) => typeOk(t, v))) {
        errors.push(`values key ${name} must be ${types.join(' or ')}, got ${describe(v)}`);
        continue;
      }
    } else if (Dk !== undefined && Dk !== 'null') {
      const defaultIsMap = typeof Dk === 'object' || Dk === 'emptymap';
      if (isMap(v) && !defaultIsMap) {
        errors.push(`values key ${name} is a map, the chart's default is a ${Dk.startsWith('empty') ? Dk.slice(5) : Dk}`);
        continue;
      }
      if (!isMap(v) && defaultIsMap) {
        errors.push(`values key ${name} is ${describe(v)}, the chart's default is a map`);
        continue;
      }
    }
    if (sc.schema?.enum && !sc.schema.enum.some((e: unknown) => JSON.stringify(e) === JSON.stringify(v))) {
      errors.push(`values key ${name} must be one of ${sc.schema.enum.map((e: unknown) => JSON.stringify(e)).join(', ')}, got ${JSON.stringify(v)}`);
      continue;
    }
    if (isMap(v)) {
      checkMap(v, view, q, qrel, Dk, sc.schema, errors, dataDir);
    } else if (Array.isArray(v) && isMap(sc.schema?.items) && (sc.schema.items.properties || sc.schema.items.additionalProperties === false)) {
      v.forEach((item, i) => { // rule 7: only lists whose items the schema describes
        if (isMap(item)) checkMap(item, view, [...p, `${key}[${i}]`], [...qrel, '[]'], undefined, sc.schema.items, errors, dataDir);
      });
    }
  }
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (isMap(v)) return 'a map';
  return `${typeof v} ${JSON.stringify(v)}`;
}

function hint(key: string, D: Node | undefined, S: Json, view: View, rel: string[], p: string[]): string {
  const known = [
    ...(D !== undefined && typeof D === 'object' ? Object.keys(D) : []),
    ...Object.keys(S?.properties ?? {}),
    ...view.refs.filter((r) => r.startsWith(rel.length ? `${rel.join('.')}.` : '')).map((r) => r.split('.')[rel.length]).filter(Boolean),
  ];
  const s = suggestKey(key, known.filter((k) => k !== key));
  return s ? ` (did you mean ${[...p, s].join('.')}?)` : '';
}

// ---------------------------------------------------------------------------------------------
// CRD-backed manifests
// ---------------------------------------------------------------------------------------------

/** Structural-schema problems of a custom object body (not pattern/format/CEL/oneOf). */
export function checkObjectSchema(value: unknown, schema: Json, at: string = ''): string[] {
  const errors: string[] = [];
  const walk = (v: unknown, s: Json, p: string) => {
    if (!s || typeof s !== 'object') return;
    if (v === null && s.nullable) return;
    if (hasToken(v)) return;
    if (s['x-kubernetes-int-or-string']) {
      if (typeof v !== 'string' && !Number.isInteger(v)) errors.push(`${p || '.'} must be an integer or a string, got ${describe(v)}`);
      return;
    }
    if (s.type && !typeOk(s.type, v)) {
      errors.push(`${p || '.'} must be ${s.type}, got ${describe(v)}`);
      return;
    }
    if (s.enum && !s.enum.some((e: unknown) => JSON.stringify(e) === JSON.stringify(v))) errors.push(`${p} must be one of ${s.enum.map((e: unknown) => JSON.stringify(e)).join(', ')}`);
    if (isMap(v)) {
      for (const r of s.required ?? []) {
        // the body is checked without apiVersion, kind and metadata
        if (v[r] === undefined && !(p === at && ['apiVersion', 'kind', 'metadata'].includes(r))) errors.push(`${p}.${r} is required`);
      }
      const props = s.properties;
      for (const [k, c] of Object.entries(v)) {
        if (props && props[k]) {walk(c, props[k], `${p}.${k}`);} else if (isMap(s.additionalProperties)) {walk(c, s.additionalProperties, `${p}.${k}`);} else if (props && !s.additionalProperties && !s['x-kubernetes-preserve-unknown-fields']) {
          const near = suggestKey(k, Object.keys(props));
          errors.push(`${p}.${k} is not a field of the CRD schema${near ? ` (did you mean ${near}?)` : ''}`);
        }
      }
    }
    if (Array.isArray(v) && s.items && typeof s.items === 'object') v.forEach((item, i) => walk(item, s.items, `${p}[${i}]`));
  };
  walk(value, schema, at);
  return errors;
}

/** Findings for one custom object against the CRDs of the charts released beside it. */
export function checkCustomObject(obj: Json, crds: { crd: Json; source: string }[]): { checked: boolean; errors: string[]; warnings: string[] } {
  const apiVersion = String(obj?.apiVersion ?? '');
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const inGroup = crds.filter((c) => c.crd.group === group);
  if (!group || !inGroup.length) return { checked: false, errors: [], warnings: [] };
  const match = inGroup.find((c) => c.crd.kind === obj.kind);
  if (!match) {
    const kinds = [...new Set(inGroup.map((c) => c.crd.kind))].sort().join(', ');
    return { checked: true, errors: [`kind ${obj.kind} is not defined in ${group} by ${inGroup[0].source} CRDs; kinds: ${kinds}`], warnings: [] };
  }
  const served = (match.crd.versions as Json[]).filter((v) => v.served);
  const v = served.find((x) => x.name === version);
  if (!v) {
    return { checked: true, errors: [`${apiVersion} is not served for ${obj.kind} by ${match.source} CRDs; served: ${served.map((x) => `${group}/${x.name}`).join(', ')}`], warnings: [] };
  }
  const { apiVersion: _a, kind: _k, metadata: _m, ...body } = obj;
  const warnings = match.crd.scope === 'Cluster' && obj.metadata?.namespace !== undefined ? [`${obj.kind} is cluster-scoped but has metadata.namespace`] : [];
  return { checked: true, errors: checkObjectSchema(body, v.schema ?? {}), warnings };
}

// ---------------------------------------------------------------------------------------------
// Cloud assembly
// ---------------------------------------------------------------------------------------------

/** Every `*.template.json` under a cloud assembly (Stage assemblies and nested stacks included). */
export function findTemplates(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        if (!e.name.startsWith('asset.') && !e.name.startsWith('.') && e.name !== 'node_modules') walk(p);
      } else if (e.name.endsWith('.template.json')) {out.push(p);}
    }
  };
  walk(dir);
  return out;
}

const isIntrinsic = (v: unknown) => isMap(v) && Object.keys(v).length === 1 && (Object.keys(v)[0] === 'Ref' || Object.keys(v)[0].startsWith('Fn::'));

function parseJoined(v: unknown): { value?: Json; error?: string } {
  if (v === undefined) return {};
  try {
    return { value: JSON.parse(joinedString(v, PLACEHOLDER)) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

const RANGE = /[\^~*]|(^|\.)x($|\.)|^[<>=]|\s-\s|\|\|/;

/** The report for a cloud assembly directory (also used by tests that assert on findings). */
export function checkAssembly(outdir: string, dataDir: string = CHART_DATA_DIR): Report {
  const releases: Release[] = [];
  const findings: Finding[] = [];
  let checked = 0;
  let notChecked = 0;
  const manifestsByAssembly = new Map<string, { stack: string; logicalId: string; manifest: unknown }[]>();
  const crdsByAssembly = new Map<string, { crd: Json; source: string }[]>();
  for (const file of findTemplates(outdir)) {
    const rel = path.relative(outdir, file);
    const assembly = path.dirname(rel);
    const stack = rel.replace(/(\.nested)?\.template\.json$/, '');
    const resources: Record<string, Json> = JSON.parse(fs.readFileSync(file, 'utf8')).Resources ?? {};
    for (const [logicalId, res] of Object.entries(resources)) {
      const props = res?.Properties ?? {};
      const add = (severity: Finding['severity'], subject: string, message: string) => findings.push({ severity, stack, logicalId, subject, message });
      if (res?.Type === MANIFEST_TYPE) {
        manifestsByAssembly.set(assembly, [...(manifestsByAssembly.get(assembly) ?? []), { stack, logicalId, manifest: props.Manifest }]);
        continue;
      }
      if (res?.Type !== HELM_TYPE) continue;
      const chart = typeof props.Chart === 'string' ? props.Chart : '';
      const version = typeof props.Version === 'string' ? props.Version : undefined;
      releases.push({ stack, logicalId, chart, version });
      const subject = `${chart || '?'}${version ? ` ${version}` : ''}`;
      if (props.Version === undefined) { add('error', subject, 'Version missing: pin the chart version'); continue; }
      if (isIntrinsic(props.Version)) { add('warning', subject, 'Version is an unresolved token: not checked'); continue; }
      if (!version || RANGE.test(version)) { add('error', subject, `Version ${JSON.stringify(props.Version)} is a range: pin one version`); continue; }
      const known = chartVersions(chart, dataDir);
      if (!known) { add('warning', subject, `no data for chart ${chart}`); continue; }
      const data = loadChartData(chart, version, dataDir);
      if (!data) { add('error', subject, `no data for ${chart} ${version}; data exists for ${known.join(', ')}`); continue; }
      crdsByAssembly.set(assembly, [...(crdsByAssembly.get(assembly) ?? []), ...data.crds.map((crd) => ({ crd, source: `${data.name} ${data.version}` }))]);
      const values = parseJoined(props.Values);
      if (values.error) { add('warning', subject, `Values unreadable: ${values.error}`); continue; }
      for (const e of checkValues(values.value, data, dataDir)) add('error', subject, e);
    }
  }
  for (const [assembly, manifests] of manifestsByAssembly) {
    const crds = crdsByAssembly.get(assembly) ?? [];
    for (const m of manifests) {
      const parsed = parseJoined(m.manifest);
      const objects: Json[] = Array.isArray(parsed.value) ? parsed.value : parsed.value ? [parsed.value] : [];
      if (parsed.error) findings.push({ severity: 'warning', stack: m.stack, logicalId: m.logicalId, subject: 'Manifest', message: `unreadable: ${parsed.error}` });
      for (const obj of objects) {
        const r = checkCustomObject(obj, crds);
        if (!r.checked) { notChecked++; continue; }
        checked++;
        const subject = `${obj.apiVersion} ${obj.kind} ${obj.metadata?.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata?.name ?? '?'}`;
        for (const e of r.errors) findings.push({ severity: 'error', stack: m.stack, logicalId: m.logicalId, subject, message: e });
        for (const w of r.warnings) findings.push({ severity: 'warning', stack: m.stack, logicalId: m.logicalId, subject, message: w });
      }
    }
  }
  const errors = findings.filter((f) => f.severity === 'error').length;
  const warnings = findings.length - errors;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const summary = `check-helm-values: ${plural(releases.length, 'release')}, ${checked} objects checked, ${notChecked} not checked, ${plural(errors, 'error')}, ${plural(warnings, 'warning')}`;
  return { releases, findings, objectsChecked: checked, objectsNotChecked: notChecked, summary };
}

/**
 * Checks the values keys of every Helm release and every CRD-backed manifest in a cloud assembly
 * directory: `status` 0 without errors, 1 with; `stdout` one line per finding, then the summary.
 */
export function checkHelmValues(outdir: string): { status: number | null; stdout: string } {
  if (!fs.existsSync(outdir)) return { status: 2, stdout: `check-helm-values: no such directory ${outdir}` };
  const report = checkAssembly(outdir);
  const lines = report.findings.map((f) => `${f.severity.toUpperCase()}\t${f.stack}\t${f.logicalId}\t${f.subject}: ${f.message}`);
  return { status: report.findings.some((f) => f.severity === 'error') ? 1 : 0, stdout: [...lines, report.summary, ''].join('\n') };
}
