// One benchmark synthesis (run by build-tools/bench.ts in a fresh process): the platform plus N services.
// Usage: node build-tools/bench-app.js <services> <outdir>
// Uses the compiled library (lib/), as an application importing the package would.
'use strict';
const path = require('path');
const { App, Stack } = require('aws-cdk-lib');
const route53 = require('aws-cdk-lib/aws-route53');
const fx = require(path.join(__dirname, '..', 'lib'));

const services = Number(process.argv[2]);
const outdir = process.argv[3];
const env = { account: '123456789012', region: 'us-east-1' };
const app = new App({
  outdir,
  builtinCloudFormationValidation: process.env.FX_BENCH_CFN_VALIDATION === 'true',
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
  new fx.FxMicroservice(stacks.stackFor(`svc-${i}`), `Svc${i}`, {
    cluster,
    database,
    observability,
    serviceName: `svc-${i}`,
    image: fx.FxImage.fromRegistry(`ghcr.io/fx-orleans/svc-${i}:1.0.${i}`),
    route: { host: `svc-${i}.fx.example.com`, rateLimit: { average: 50, burst: 100 } },
  });
}
app.synth();
process.stdout.write(JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS }) + '\n');
