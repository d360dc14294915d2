import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/** The team's shared folder (chart data, tools), next to the project root. Read in place, never copied. */
export const SHARED_DIR = path.resolve(__dirname, '..', '..', '..', 'shared');

/**
 * Path of a file under ../shared. Under CI=true a missing file fails the test; elsewhere the
 * caller gets `undefined` and may skip.
 */
export function sharedFile(...parts: string[]): string | undefined {
  const file = path.join(SHARED_DIR, ...parts);
  // The real path: tools such as check-helm-values.mjs only run when invoked by it.
  if (fs.existsSync(file)) return fs.realpathSync(file);
  if (process.env.CI === 'true' || process.env.CI === '1') {
    throw new Error(`shared data file missing under CI: ${file}`);
  }
  return undefined;
}

/** Parsed JSON from ../shared (see sharedFile for CI behaviour). */
export function sharedJson<T = unknown>(...parts: string[]): T | undefined {
  const file = sharedFile(...parts);
  return file ? (JSON.parse(fs.readFileSync(file, 'utf8')) as T) : undefined;
}

/**
 * Runs ../shared/tools/check-helm-values.mjs --manifests on a cloud assembly directory. The summary
 * line must be printed: a checker that exits 0 without it has not run.
 */
export function checkHelmValues(outdir: string): { status: number | null; stdout: string } {
  const tool = sharedFile('tools', 'check-helm-values.mjs');
  if (!tool) return { status: 0, stdout: 'check-helm-values: skipped (shared tools missing outside CI)' };
  const run = spawnSync(process.execPath, [tool, outdir, '--manifests'], { encoding: 'utf8' });
  const stdout = run.stdout + run.stderr;
  if (!/check-helm-values: \d+ releases?/.test(stdout)) return { status: 99, stdout: `checker printed no summary: ${stdout}` };
  return { status: run.status, stdout };
}
