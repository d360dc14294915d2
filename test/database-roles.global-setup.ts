// Jest globalSetup: builds the service-role handler bundle (lib/database/role-handler.bundle) when
// it is missing or older than its sources, so every suite that synthesizes an FxDatabase service
// role runs on a fresh clone after `npm install` alone.
import { bundleIsFresh, bundleRoleHandler } from '../build-tools/bundle-role-handler';

export default function globalSetup(): void {
  if (!bundleIsFresh()) bundleRoleHandler();
}
