// Every test file gets its own temporary directory (TMPDIR), removed when the file is done. aws-cdk-lib
// writes each App without an outdir to a fresh `cdk.out*` directory there, with a copy of every asset
// (the kubectl layer alone is 36 MB): left behind, one run of the suite would leave gigabytes in /tmp.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-jest-'));
process.env.TMPDIR = dir;

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});
