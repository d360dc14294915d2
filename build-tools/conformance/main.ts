// `npx projen conformance`: synthesizes every example app and the benchmark app at 3 services, renders each Helm
// release with the helm the kubectl handler runs, and validates every object a cluster would receive.
// Needs ../shared/charts and ../shared/k8s; fails (never skips) without them. Exits 1 on any error finding.
// Options: --shared <dir> (default ../shared), --out <dir> (assemblies; default node_modules/.cache/fx-conformance/assemblies),
//          --only <a,b> (assemblies), --no-synth (reuse --out), --allowlist <file>, --verbose (print allowed findings).
import * as fs from 'fs';
import * as path from 'path';
import { applyAllowlist, readAllowlist, unusedEntries, AllowEntry } from './allowlist';
import { Assembly, loadAssembly } from './assembly';
import { Finding, findingText, runChecks } from './checks';
import { CrdIndex } from './crd-schema';
import { DeclaredFlow, flowsOfAssembly, networkFromTemplate } from './flows';
import { K8sSchema } from './k8s-schema';
import { allObjects } from './objects';
import { checkFlows, describeFlow } from './reachability';
import { renderAll } from './render';
import { ASSEMBLIES, synthAll } from './synth';

const REPO = path.resolve(__dirname, '..', '..');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function fail(message: string): never {
  process.stderr.write(`conformance: ${message}\n`);
  process.exit(1);
}

/** Result of judging one assembly. */
interface AssemblyReport {
  readonly name: string;
  readonly errors: string[];
  readonly warnings: string[];
  readonly allowed: { text: string; defect: string }[];
}

async function judge(
  name: string, dir: string, sharedDir: string, schemas: Map<string, K8sSchema>, entries: readonly AllowEntry[], used: Set<AllowEntry>,
): Promise<AssemblyReport> {
  const chartsDir = path.join(sharedDir, 'charts');
  const assembly = loadAssembly(dir);
  const minors = [...new Set(assembly.clusters.map((c) => c.version))];
  const extra: Finding[] = [];
  if (minors.length !== 1) extra.push({ check: 'assembly', severity: 'error', source: { stack: assembly.stacks[0]?.name ?? name, logicalId: '-' }, subject: 'clusters', message: `expected one EKS cluster minor, found ${minors.join(', ') || 'none'}` });
  const minor = minors[0] ?? '1.35';
  let k8s = schemas.get(minor);
  if (!k8s) {
    const file = path.join(sharedDir, 'k8s', `k8s-${minor}-smd-schema.yaml`);
    if (!fs.existsSync(file)) fail(`no Kubernetes ${minor} field schema (${file}) for assembly ${name}`);
    k8s = K8sSchema.fromFile(file);
    schemas.set(minor, k8s);
  }
  const crds = new CrdIndex();
  for (const r of assembly.releases) {
    for (const v of [r.version ?? '', `v${r.version}`, (r.version ?? '').replace(/^v/, '')]) {
      const f = path.join(chartsDir, r.chart, v, 'crds.json');
      if (r.version && fs.existsSync(f)) { crds.addCrdsJson(JSON.parse(fs.readFileSync(f, 'utf8')), `chart ${r.chart} ${r.version}`); break; }
    }
  }
  for (const a of assembly.addons) crds.addAddon(a.name);
  const apiVersions = [...new Set([...k8s.builtinApiVersions(), ...crds.apiVersions()])].sort();
  const rendered = await renderAll(assembly.releases, { repoRoot: REPO, chartsDir, apiVersions }, 2);
  for (const r of rendered) for (const { obj } of r.objects) if (obj.kind === 'CustomResourceDefinition') crds.addCrdObject(obj, `chart ${r.release.chart} ${r.release.version}`);
  const objects = allObjects(assembly, rendered);
  const findings = [...extra, ...runChecks({ assembly, rendered, objects, k8s, crds }), ...reachability(assembly, dir, objects.map((o) => o.obj))];

  const libraryObjects = assembly.manifests.reduce((n, m) => n + m.objects.length, 0);
  const builtin = objects.filter(({ obj }) => k8s!.rootType(obj.apiVersion, obj.kind)).length;
  const custom = objects.filter(({ obj }) => !k8s!.rootType(obj.apiVersion, obj.kind) && crds.lookup(obj.apiVersion, obj.kind)?.schema).length;
  const out = process.stdout;
  out.write(`\n== ${name} (${path.relative(REPO, dir) || dir}): ${assembly.stacks.length} stack(s), Kubernetes ${minor}\n`);
  out.write(`   ${rendered.filter((r) => !r.error).length}/${rendered.length} releases rendered, ${objects.length - libraryObjects} chart objects + ${libraryObjects} library objects = ${objects.length} objects validated\n`);
  out.write(`   ${builtin} against the Kubernetes ${minor} field schema, ${custom} against their CRD schema, ${objects.length - builtin - custom} without a field schema (CRDs, APIServices, add-on kinds)\n`);
  for (const r of rendered) {
    out.write(`   release ${r.release.release.padEnd(24)} ${`${r.release.chart} ${r.release.version}`.padEnd(34)} ns ${r.release.namespace.padEnd(18)} ${r.error ? 'RENDER FAILED' : `${r.objects.length} objects`}\n`);
  }
  const texts = findings.filter((f) => f.severity === 'error').map(findingText);
  const warnings = findings.filter((f) => f.severity === 'warning').map(findingText);
  const res = applyAllowlist(entries, name, texts, used);
  for (const w of warnings) out.write(`   WARN  ${w}\n`);
  for (const e of res.errors) out.write(`   ERROR ${e}\n`);
  if (process.argv.includes('--verbose')) for (const a of res.allowed) out.write(`   ALLOW ${a.defect}: ${a.text}\n`);
  const byDefect = new Map<string, number>();
  for (const a of res.allowed) byDefect.set(a.defect, (byDefect.get(a.defect) ?? 0) + 1);
  out.write(`   ${res.errors.length} error(s), ${warnings.length} warning(s), ${res.allowed.length} allowed${byDefect.size ? ` (${[...byDefect].map(([d, n]) => `${d}: ${n}`).join(', ')})` : ''}\n`);
  return { name, errors: res.errors, warnings, allowed: res.allowed };
}

/**
 * Every flow the constructs promise (their `fx:flow` metadata) judged by the NetworkPolicy model over
 * everything the cluster would hold, rendered charts included: a blocked promise, an open must-deny
 * flow, or a flow whose end matches no pod is an error.
 */
function reachability(assembly: Assembly, dir: string, objects: Record<string, any>[]): Finding[] {
  const flows = flowsOfAssembly(dir);
  const vpcStack = assembly.stacks.find((s) => Object.values<any>(s.template.Resources ?? {}).some((r) => r.Type === 'AWS::EC2::VPC'));
  if (!vpcStack) {
    return flows.length === 0 ? [] : [{ check: 'reachability', severity: 'error', source: { stack: assembly.stacks[0]?.name ?? '-', logicalId: '-' }, subject: 'network', message: 'flows are declared but no stack has the VPC' }];
  }
  const network = networkFromTemplate(vpcStack.template);
  return checkFlows(objects, flows, network).map((f) => ({
    check: 'reachability',
    severity: 'error' as const,
    source: { stack: vpcStack.name, logicalId: (f.flow as DeclaredFlow).declaredBy ?? '-' },
    subject: describeFlow(f.flow),
    message: `${f.kind}: ${f.detail}`,
  }));
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const sharedDir = path.resolve(arg('--shared') ?? path.join(REPO, '..', 'shared'));
  if (!fs.existsSync(path.join(sharedDir, 'charts'))) fail(`${path.join(sharedDir, 'charts')} not found: conformance needs the pinned chart packages (see README)`);
  if (!fs.existsSync(path.join(sharedDir, 'k8s'))) fail(`${path.join(sharedDir, 'k8s')} not found: conformance needs the Kubernetes field schema (see README)`);
  const outDir = path.resolve(arg('--out') ?? path.join(REPO, 'node_modules', '.cache', 'fx-conformance', 'assemblies'));
  const only = (arg('--only') ?? '').split(',').filter(Boolean);
  for (const o of only) if (!ASSEMBLIES.some((a) => a.name === o)) fail(`unknown assembly ${o} (known: ${ASSEMBLIES.map((a) => a.name).join(', ')})`);
  const names = ASSEMBLIES.map((a) => a.name).filter((n) => only.length === 0 || only.includes(n));
  const allowFile = path.resolve(arg('--allowlist') ?? path.join(REPO, 'conformance-allowlist.json'));
  const entries = readAllowlist(allowFile);

  let dirs: Map<string, string>;
  if (process.argv.includes('--no-synth')) {
    dirs = new Map(names.map((n) => [n, path.join(outDir, n)]));
  } else {
    fs.rmSync(outDir, { recursive: true, force: true });
    dirs = synthAll(outDir, names);
  }
  const tSynth = Date.now();
  process.stdout.write(`conformance: synthesized ${dirs.size} assemblies in ${((tSynth - t0) / 1000).toFixed(1)} s\n`);

  const used = new Set<AllowEntry>();
  const schemas = new Map<string, K8sSchema>();
  const reports: AssemblyReport[] = [];
  for (const [name, dir] of dirs) reports.push(await judge(name, dir, sharedDir, schemas, entries, used));

  const stale = unusedEntries(entries, used, names);
  process.stdout.write('\n== summary\n');
  for (const r of reports) process.stdout.write(`   ${r.name.padEnd(10)} ${r.errors.length} error(s), ${r.warnings.length} warning(s), ${r.allowed.length} allowed\n`);
  for (const e of stale) process.stdout.write(`   ERROR allowlist entry matched nothing (remove it): ${JSON.stringify(e)}\n`);
  const errors = reports.reduce((n, r) => n + r.errors.length, 0) + stale.length;
  const allowed = reports.reduce((n, r) => n + r.allowed.length, 0);
  process.stdout.write(`conformance: ${errors} error(s), ${allowed} finding(s) allowed by ${path.relative(REPO, allowFile)}, ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  process.exit(errors > 0 ? 1 : 0);
}

main().catch((e) => fail((e as Error).stack ?? String(e)));
