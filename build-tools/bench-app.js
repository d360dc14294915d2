// One benchmark synthesis (run by build-tools/bench.ts in a fresh process): the platform plus N services.
// Usage: node build-tools/bench-app.js <services> <outdir>
// Uses the compiled library (lib/), as an application importing the package would.
'use strict';
const path = require('path');
const { App } = require('aws-cdk-lib');
const fx = require(path.join(__dirname, '..', 'lib'));
const { addBenchPlatform, CONTEXT } = require('./bench-platform');

const services = Number(process.argv[2]);
const outdir = process.argv[3];
const app = new App({
  outdir,
  builtinCloudFormationValidation: process.env.FX_BENCH_CFN_VALIDATION === 'true',
  context: CONTEXT,
});
addBenchPlatform(fx, app, services);
app.synth();
process.stdout.write(JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS }) + '\n');
