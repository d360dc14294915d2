// Jest globalSetup: builds the handler bundles (lib/database/role-handler.bundle, lib/microservice/image-copy.bundle) when
// it is missing or older than its sources, so every suite that synthesizes an FxDatabase service
// role runs on a fresh clone after `npm install` alone.
import { bundleImageCopy, imageCopyBundleIsFresh } from '../build-tools/bundle-image-copy';
import { bundleIsFresh, bundleRoleHandler } from '../build-tools/bundle-role-handler';

export default function globalSetup(): void {
  if (!bundleIsFresh()) bundleRoleHandler();
  if (!imageCopyBundleIsFresh()) bundleImageCopy();
}
