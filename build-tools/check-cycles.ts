// Fails when the TypeScript files under a folder import each other in a loop (default: src/).
// `import type` counts: a type-only loop still ties the files together (and madge counts it too).
import * as fs from 'fs';
import * as path from 'path';

const IMPORT = new RegExp([
  /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+\s+from\s+)?['"]([^'"]+)['"]/.source,
  /\brequire\(\s*['"]([^'"]+)['"]\s*\)/.source,
  /\bimport\(\s*['"]([^'"]+)['"]\s*\)/.source,
].join('|'), 'g');

/** Every `.ts` file under `root` (no declaration files). */
export function tsFiles(root: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(root, { withFileTypes: true })) {
    const full = path.join(root, entry.name);
    if (entry.isDirectory()) out.push(...tsFiles(full));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out.sort();
}

/** The file a relative import names (`./x` is `./x.ts` or `./x/index.ts`); undefined for packages. */
function resolve(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(from), spec);
  for (const candidate of [base, `${base}.ts`, path.join(base, 'index.ts')]) {
    if (candidate.endsWith('.ts') && fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

/** file -> the files of the tree it imports. Comments are stripped first (an example in a comment is no import). */
export function importGraph(files: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
    const targets = new Set<string>();
    for (const m of text.matchAll(IMPORT)) {
      const target = resolve(file, m[1] ?? m[2] ?? m[3]);
      if (target) targets.add(target);
    }
    graph.set(file, [...targets].sort());
  }
  return graph;
}

/** The import cycles of a graph: its strongly connected components with more than one file, or a file importing itself (Tarjan). */
export function findCycles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter); low.set(v, counter); counter++;
    stack.push(v); onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do { w = stack.pop()!; onStack.delete(w); component.push(w); } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

/** The cycles among the TypeScript files under `root`, as paths relative to `root`'s parent. */
export function cyclesUnder(root: string): string[][] {
  const base = path.dirname(path.resolve(root));
  return findCycles(importGraph(tsFiles(path.resolve(root)))).map((c) => c.map((f) => path.relative(base, f)));
}

if (require.main === module) {
  const root = process.argv[2] ?? 'src';
  const cycles = cyclesUnder(root);
  for (const cycle of cycles) console.error(`import cycle: ${cycle.join(' <-> ')}`);
  if (cycles.length > 0) process.exit(1);
  console.log(`no import cycle among ${tsFiles(path.resolve(root)).length} files under ${root}`);
}
