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
  if (fs.existsSync(file)) return file;
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
