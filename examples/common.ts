// Shared by the example apps: a fixed account and region, and the context `cdk synth` would
// otherwise look up, so every example synthesizes offline.
import { App, AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';

// A real deployment sets FX_ACCOUNT / FX_REGION (the deploy workflow does); tests and offline synth use the fixed values.
export const EXAMPLE_ENV = {
  account: process.env.FX_ACCOUNT || '123456789012',
  region: process.env.FX_REGION || 'us-east-1',
};

/** An App with pinned lookups and the cdk-nag AwsSolutions and NIST 800-53 R5 packs registered: synth fails on any unacknowledged error. */
export function exampleApp(props: AppProps = {}): App {
  const { account, region } = EXAMPLE_ENV;
  const app = new App({
    ...props,
    context: {
      [`availability-zones:account=${account}:region=${region}`]: [`${region}a`, `${region}b`, `${region}c`],
      ...props.context,
    },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new NIST80053R5Checks(app));
  return app;
}
