// Bundles the service-role custom resource handler (src/database/role-handler/index.ts) and the
// PostgreSQL driver `pg` into one CommonJS file, the Lambda asset FxDatabaseServiceRole deploys:
//
//   lib/database/role-handler.bundle/index.js          the handler, pg and its dependencies
//   lib/database/role-handler.bundle/THIRD-PARTY-LICENSES.txt  license texts of the bundled packages
//
//   ts-node --transpile-only --project build-tools/tsconfig.json build-tools/bundle-role-handler.ts [--check]
//
// `lib/` is where the published package has it (npm ships lib/**/*.js) and, being two levels
// above both src/database and lib/database, where FxDatabaseServiceRole finds it when running
// from source (ts-jest, ts-node) and when running from lib. Nothing is fetched at deploy time.
// The AWS SDK v3 is provided by the Lambda Node.js runtime and stays external; `pg-native`
// (pg's optional libpq binding) is never required because the handler uses the pure-JS client.
// --check: exit 1 unless the bundle exists and is newer than every handler source.
import * as fs from 'fs';
import * as path from 'path';
import * as esbuild from 'esbuild';
import { bundleNewerThanSources } from './bundle-freshness';

const ROOT = path.resolve(__dirname, '..');
const SOURCE_DIR = path.join(ROOT, 'src', 'database', 'role-handler');
/** The bundle directory (kept in step with ROLE_HANDLER_BUNDLE in src/database/service-role.ts). */
export const BUNDLE_DIR = path.join(ROOT, 'lib', 'database', 'role-handler.bundle');
/** The Lambda Node.js runtime the bundle targets (the function's runtime, nodejs24.x, runs it). */
const TARGET = 'node22';

/** Writes the bundle; returns the bundled third-party packages (name@version). */
export function bundleRoleHandler(outdir: string = BUNDLE_DIR): string[] {
  fs.mkdirSync(outdir, { recursive: true });
  const result = esbuild.buildSync({
    entryPoints: [path.join(SOURCE_DIR, 'index.ts')],
    outfile: path.join(outdir, 'index.js'),
    bundle: true,
    platform: 'node',
    target: TARGET,
    format: 'cjs',
    external: ['@aws-sdk/*', 'pg-native'],
    legalComments: 'eof',
    metafile: true,
    logLevel: 'warning',
    absWorkingDir: ROOT,
  });
  if (result.errors.length > 0) throw new Error(`bundle-role-handler: ${result.errors.length} esbuild error(s)`);
  const packages = bundledPackages(Object.keys(result.metafile!.inputs));
  fs.writeFileSync(path.join(outdir, 'THIRD-PARTY-LICENSES.txt'), licenses(packages));
  return packages.map((p) => `${p.name}@${p.version}`);
}

interface BundledPackage { readonly name: string; readonly version: string; readonly license?: string; readonly dir: string }

/** The npm packages whose files esbuild pulled in (inputs under node_modules). */
function bundledPackages(inputs: string[]): BundledPackage[] {
  const dirs = new Set<string>();
  for (const input of inputs) {
    const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input.split(path.sep).join('/'));
    if (match) dirs.add(path.resolve(ROOT, match[1]));
  }
  return [...dirs].sort().map((dir) => {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    return { name: manifest.name, version: manifest.version, license: manifest.license, dir };
  });
}

function licenses(packages: BundledPackage[]): string {
  const parts = packages.map((p) => {
    const file = fs.readdirSync(p.dir).find((f) => /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(f));
    const header = `${p.name}@${p.version} (${p.license ?? 'no license declared'})\n${'-'.repeat(60)}\n`;
    if (file) return `${header}${fs.readFileSync(path.join(p.dir, file), 'utf8').trim()}\n`;
    // Some packages declare their license only in package.json: record that, refuse an undeclared one.
    if (!p.license) throw new Error(`bundle-role-handler: ${p.name}@${p.version} declares no license`);
    return `${header}No license file shipped; package.json declares ${p.license}.\n`;
  });
  return `Third-party packages bundled into index.js\n\n${parts.join('\n')}`;
}

/** True when the bundle exists and no handler source is newer. */
export function bundleIsFresh(outdir: string = BUNDLE_DIR): boolean {
  return bundleNewerThanSources(outdir, SOURCE_DIR);
}

if (require.main === module) {
  if (process.argv.includes('--check')) {
    if (!bundleIsFresh()) {
      console.error(`bundle-role-handler: ${path.relative(ROOT, BUNDLE_DIR)}/index.js is missing or older than its sources`);
      process.exit(1);
    }
  } else {
    const packages = bundleRoleHandler();
    const size = fs.statSync(path.join(BUNDLE_DIR, 'index.js')).size;
    console.log(`bundle-role-handler: ${path.relative(ROOT, BUNDLE_DIR)}/index.js (${size} bytes; ${packages.join(', ')})`);
  }
}
