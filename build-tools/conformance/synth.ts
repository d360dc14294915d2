// Synthesizes the assemblies conformance judges, in this process, from the library sources: the three
// example apps exactly as their main.ts builds them, and the benchmark platform at a given number of services
// (build-tools/bench-app.js needs the compiled lib/, which conformance must not depend on).
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as route53 from 'aws-cdk-lib/aws-route53';
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

/** The same app as build-tools/bench-app.js, built from ../../src so it never depends on a stale lib/. */
export function synthBench(outdir: string, services: number): void {
  const env = { account: '123456789012', region: 'us-east-1' };
  const app = new App({
    outdir,
    builtinCloudFormationValidation: false,
    context: { 'availability-zones:account=123456789012:region=us-east-1': ['us-east-1a', 'us-east-1b', 'us-east-1c'] },
  });
  const stack = new Stack(app, 'FxPlatform', { env });
  const hostedZone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0FXBENCH', zoneName: 'fx.example.com' });
  const cluster = new fx.FxCluster(stack, 'Cluster', {
    profile: fx.FxProfile.PRODUCTION,
    platformName: 'fx',
    tls: fx.FxTls.acm({ hostedZone, domainName: 'fx.example.com' }),
  });
  const database = new fx.FxDatabase(stack, 'Database', { cluster, databaseName: 'orders' });
  const observability = new fx.FxObservability(stack, 'Observability', { cluster, alarmEmails: ['ops@example.com'] });
  const stacks = new fx.FxServiceStacks(app, 'FxServices', { env });
  for (let i = 0; i < services; i++) {
    new fx.FxMicroservice(stacks.next(), `Svc${i}`, {
      cluster,
      database,
      observability,
      serviceName: `svc-${i}`,
      image: fx.FxImage.fromRegistry(`ghcr.io/fx-orleans/svc-${i}:1.0.${i}`),
      route: { host: `svc-${i}.fx.example.com`, rateLimit: { average: 50, burst: 100 } },
    });
  }
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
