// Synthesizes the assemblies conformance judges, in this process, from the library sources: the three
// example apps exactly as their main.ts builds them, and the benchmark platform at a given number of services
// (build-tools/bench-app.js needs the compiled lib/, which conformance must not depend on).
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { createClusterExample } from '../../examples/cluster/app';
import { exampleApp } from '../../examples/common';
import { createDevExample } from '../../examples/dev/app';
import { createPlatformExample } from '../../examples/platform/app';
import * as fx from '../../src';

/** One assembly to synthesize: a name (its directory under the output dir) and how to build it. */
export interface AssemblySpec {
  readonly name: string;
  readonly synth: (outdir: string) => void;
}

// The benchmark platform of build-tools/bench-app.js, built here from ../../src (never from a stale lib/).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { addBenchPlatform, CONTEXT } = require('../bench-platform') as {
  addBenchPlatform: (library: typeof fx, app: App, services: number) => void;
  CONTEXT: Record<string, string[]>;
};

/** The benchmark platform with `services` services, as build-tools/bench-app.js synthesizes it. */
export function synthBench(outdir: string, services: number): void {
  const app = new App({ outdir, builtinCloudFormationValidation: false, context: CONTEXT });
  addBenchPlatform(fx, app, services);
  app.synth();
}

function example(create: (app: App) => Stack): (outdir: string) => void {
  return (outdir) => {
    // The built-in CloudFormation validation changes no template; the examples' own CI synth keeps it on.
    const app = exampleApp({ outdir, builtinCloudFormationValidation: false });
    create(app);
    app.synth();
  };
}

/** The assemblies of the conformance run: examples/platform, examples/dev, examples/cluster and bench at 3 services. */
export const ASSEMBLIES: readonly AssemblySpec[] = [
  { name: 'platform', synth: example(createPlatformExample) },
  { name: 'dev', synth: example(createDevExample) },
  { name: 'cluster', synth: example(createClusterExample) },
  { name: 'bench-3', synth: (outdir) => synthBench(outdir, 3) },
];

/** Synthesizes every assembly (or those named) under `root`; returns name → directory. */
export function synthAll(root: string, only?: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const spec of ASSEMBLIES) {
    if (only && only.length > 0 && !only.includes(spec.name)) continue;
    const dir = path.join(root, spec.name);
    spec.synth(dir);
    out.set(spec.name, dir);
  }
  return out;
}

if (require.main === module) {
  const [root, ...only] = process.argv.slice(2);
  if (!root) throw new Error('usage: synth.ts <outdir> [assembly...]');
  const t0 = Date.now();
  for (const [name, dir] of synthAll(root, only)) process.stdout.write(`${name}: ${dir}\n`);
  process.stdout.write(`synth ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}
