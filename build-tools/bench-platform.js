// The benchmark platform, shared by the benchmark (build-tools/bench-app.js, with the compiled lib/) and the
// conformance run (build-tools/conformance/synth.ts, with ../src): the platform plus N services, in `app`.
// Usage: require('./bench-platform')(fx, app, services), fx being the library module.
'use strict';
const { Stack } = require('aws-cdk-lib');
const route53 = require('aws-cdk-lib/aws-route53');

/** The account, region and AZs the benchmark app pins (no lookups). */
const ENV = { account: '123456789012', region: 'us-east-1' };
const CONTEXT = { 'availability-zones:account=123456789012:region=us-east-1': ['us-east-1a', 'us-east-1b', 'us-east-1c'] };

function addBenchPlatform(fx, app, services) {
  const stack = new Stack(app, 'FxPlatform', { env: ENV });
  const hostedZone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0FXBENCH', zoneName: 'fx.example.com' });
  const cluster = new fx.FxCluster(stack, 'Cluster', {
    profile: fx.FxProfile.PRODUCTION,
    platformName: 'fx',
    tls: fx.FxTls.acm({ hostedZone, domainName: 'fx.example.com' }),
    // Production dashboards need an allowlist (the endpoint's, by default); a documentation range here.
    endpointAllowlist: ['203.0.113.0/24'],
  });
  const database = new fx.FxDatabase(stack, 'Database', { cluster, databaseName: 'orders' });
  const observability = new fx.FxObservability(stack, 'Observability', { cluster, alarmEmails: ['ops@example.com'] });
  const stacks = new fx.FxServiceStacks(app, 'FxServices', { env: ENV });
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
}

module.exports = { addBenchPlatform, ENV, CONTEXT };
