import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';

const ASSET_HASH = /[0-9a-f]{64}/g;
const VERSION_TAG = /"fx:version","Value":"[^"]*"/g;
const VERSION_LABEL = /fx\.platform\/version(\\*)":(\\*)"[^"\\]*/g;

/**
 * A stack's template ready for a snapshot: asset hashes (which change with any dependency
 * upgrade) and the library version tag are blanked, so a snapshot changes only when behaviour does.
 */
export function normalisedTemplate(stack: Stack): unknown {
  const json = JSON.stringify(Template.fromStack(stack).toJSON())
    .replace(ASSET_HASH, '[ASSET-HASH]')
    .replace(VERSION_TAG, '"fx:version","Value":"[VERSION]"')
    .replace(VERSION_LABEL, 'fx.platform/version$1":$2"[VERSION]');
  return JSON.parse(json);
}
