// Shared by the handler bundle scripts (bundle-role-handler.ts, bundle-image-copy.ts).
import * as fs from 'fs';
import * as path from 'path';

/** True when `<outdir>/index.js` exists and no `.ts` file of `sourceDir` is newer. */
export function bundleNewerThanSources(outdir: string, sourceDir: string): boolean {
  const bundle = path.join(outdir, 'index.js');
  if (!fs.existsSync(bundle)) return false;
  const built = fs.statSync(bundle).mtimeMs;
  return fs.readdirSync(sourceDir).filter((f) => f.endsWith('.ts'))
    .every((f) => fs.statSync(path.join(sourceDir, f)).mtimeMs <= built);
}
