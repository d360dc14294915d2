import { Tags } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const PACKAGE = require('../../package.json') as { name: string; version: string };

/** The version of this library, as published (semantic-release writes it before the release build). */
export const LIBRARY_VERSION: string = PACKAGE.version;
/** The npm name of this library. */
export const LIBRARY_NAME: string = PACKAGE.name;

/** Tag keys every taggable resource created by an Fx construct carries. */
export const TAG_VERSION = 'fx:version';
export const TAG_PLATFORM = 'fx:platform';
export const TAG_COMPONENT = 'fx:component';

/**
 * Tags every taggable resource below `scope` with the library version, the platform name and the
 * component, so operators can see which release of which construct built what.
 */
export function tagPlatform(scope: IConstruct, platformName: string, component: string): void {
  Tags.of(scope).add(TAG_VERSION, LIBRARY_VERSION);
  Tags.of(scope).add(TAG_PLATFORM, platformName);
  Tags.of(scope).add(TAG_COMPONENT, component);
}

/** Labels for Kubernetes objects created by the library (the Kubernetes counterpart of the tags). */
export function platformLabels(platformName: string, component: string): Record<string, string> {
  return {
    'app.kubernetes.io/managed-by': 'fx-platform',
    'app.kubernetes.io/part-of': platformName,
    'fx.platform/component': component,
    'fx.platform/version': LIBRARY_VERSION,
  };
}

/**
 * Labels the library adds to objects a Helm chart renders (commonLabels, podLabels...). Only the
 * library's own `fx.platform/*` keys: charts set `app.kubernetes.io/managed-by` and `part-of`
 * themselves, and a second value for one key makes a duplicate key in the rendered object.
 */
export function chartLabels(platformName: string, component: string): Record<string, string> {
  return {
    'fx.platform/platform': platformName,
    'fx.platform/component': component,
    'fx.platform/version': LIBRARY_VERSION,
  };
}
