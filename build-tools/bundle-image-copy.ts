// Bundles the image-copy custom resource handler (src/microservice/image-copy/handler/index.ts) into one
// CommonJS file, the code directory of the CustomResourceProvider that FxImage.fromAsset deploys:
//
//   lib/microservice/image-copy.bundle/index.js
//
//   ts-node --transpile-only --project build-tools/tsconfig.json build-tools/bundle-image-copy.ts [--check]
//
// Same layout as bundle-role-handler.ts: `lib/` ships in the npm package and is two levels above
// both src/microservice and lib/microservice, so the provider finds the bundle from source (ts-jest,
// ts-node) and from lib. The handler has no third-party dependency: the AWS SDK v3 is provided by
// the Lambda Node.js runtime and stays external; any other package pulled in is an error.
// --check: exit 1 unless the bundle exists and is newer than every handler source.
import * as fs from 'fs';
import * as path from 'path';
import * as esbuild from 'esbuild';
import { bundleNewerThanSources } from './bundle-freshness';

const ROOT = path.resolve(__dirname, '..');
const SOURCE_DIR = path.join(ROOT, 'src', 'microservice', 'image-copy', 'handler');
/** The bundle directory (kept in step with IMAGE_COPY_BUNDLE in src/microservice/image-copy/provider.ts). */
export const IMAGE_COPY_BUNDLE_DIR = path.join(ROOT, 'lib', 'microservice', 'image-copy.bundle');
/** The Lambda Node.js runtime the bundle targets (the provider's runtime, nodejs22.x, runs it). */
const TARGET = 'node22';

/** Writes the bundle; returns its size in bytes. */
export function bundleImageCopy(outdir: string = IMAGE_COPY_BUNDLE_DIR): number {
  fs.mkdirSync(outdir, { recursive: true });
  const result = esbuild.buildSync({
    entryPoints: [path.join(SOURCE_DIR, 'index.ts')],
    outfile: path.join(outdir, 'index.js'),
    bundle: true,
    platform: 'node',
    target: TARGET,
    format: 'cjs',
    external: ['@aws-sdk/*'],
    legalComments: 'eof',
    metafile: true,
    logLevel: 'warning',
    absWorkingDir: ROOT,
  });
  if (result.errors.length > 0) throw new Error(`bundle-image-copy: ${result.errors.length} esbuild error(s)`);
  const thirdParty = Object.keys(result.metafile!.inputs).filter((input) => input.split(path.sep).join('/').includes('node_modules/'));
  if (thirdParty.length > 0) throw new Error(`bundle-image-copy: the handler must not bundle third-party code: ${thirdParty.join(', ')}`);
  return fs.statSync(path.join(outdir, 'index.js')).size;
}

/** True when the bundle exists and no handler source is newer. */
export function imageCopyBundleIsFresh(outdir: string = IMAGE_COPY_BUNDLE_DIR): boolean {
  return bundleNewerThanSources(outdir, SOURCE_DIR);
}

if (require.main === module) {
  if (process.argv.includes('--check')) {
    if (!imageCopyBundleIsFresh()) {
      console.error(`bundle-image-copy: ${path.relative(ROOT, IMAGE_COPY_BUNDLE_DIR)}/index.js is missing or older than its sources`);
      process.exit(1);
    }
  } else {
    const size = bundleImageCopy();
    console.log(`bundle-image-copy: ${path.relative(ROOT, IMAGE_COPY_BUNDLE_DIR)}/index.js (${size} bytes)`);
  }
}
