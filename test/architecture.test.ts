import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cyclesUnder, findCycles, importGraph, tsFiles } from '../build-tools/check-cycles';

function tree(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-cycles-'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, 'src', name)), { recursive: true });
    fs.writeFileSync(path.join(root, 'src', name), text);
  }
  return path.join(root, 'src');
}

describe('import cycles', () => {
  test('fails when two files import each other (import type counts)', () => {
    const root = tree({ 'a.ts': "import { b } from './b';\nexport const a = 1;\n", 'b.ts': "import type { a } from './a';\nexport const b = 2;\n" });
    expect(cyclesUnder(root)).toEqual([['src/a.ts', 'src/b.ts']]);
  });

  test('fails on a loop through a folder index and a re-export', () => {
    const root = tree({ 'x/index.ts': "export * from './y';\n", 'x/y.ts': "import { z } from '../z';\nexport const y = z;\n", 'z.ts': "import { y } from './x';\nexport const z = 1;\n" });
    expect(cyclesUnder(root)).toEqual([['src/x/index.ts', 'src/x/y.ts', 'src/z.ts']]);
  });

  test('a chain, package imports and imports in comments are no cycle', () => {
    const root = tree({ 'a.ts': "import { b } from './b';\nimport * as cdk from 'aws-cdk-lib';\n", 'b.ts': "// import { a } from './a';\n/* import './a'; */\nexport const b = 1;\n" });
    expect(cyclesUnder(root)).toEqual([]);
    expect(importGraph(tsFiles(root)).get(path.join(root, 'a.ts'))).toEqual([path.join(root, 'b.ts')]);
  });

  test('a file importing itself is a cycle', () => {
    expect(findCycles(new Map([['a', ['a']], ['b', []]]))).toEqual([['a']]);
  });

  test('src/cluster and src/core have no import cycle (add-ons depend on the IFxCluster contract, not on cluster.ts)', () => {
    const all = cyclesUnder(path.join(__dirname, '..', 'src'));
    expect(all.filter((c) => c.some((f) => f.startsWith('src/cluster/') || f.startsWith('src/core/install-order')))).toEqual([]);
  });
});
