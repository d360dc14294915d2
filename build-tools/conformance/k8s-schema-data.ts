// Writes the compact field schema the test suite validates with (test/data/k8s/k8s-1.35-fields.json) from the
// structured-merge-diff schema in ../shared/k8s. Deterministic: types sorted by name, one type per line. It drops
// only what validation never reads (union discriminators); fields, list keys and key defaults stay.
// Usage: ts-node build-tools/conformance/k8s-schema-data.ts [--check] [smd-yaml] [out-json]
// (--check writes nothing and exits 1 when the committed JSON differs from what the source generates).
import * as fs from 'fs';
import * as path from 'path';
import { SmdSchema, SmdType } from './k8s-schema';

type Obj = Record<string, any>;

function compact(t: SmdType): Obj {
  const out: Obj = {};
  if (t.namedType !== undefined) out.namedType = t.namedType;
  if (t.scalar !== undefined) out.scalar = t.scalar;
  if (t.list) {
    out.list = { elementType: compact(t.list.elementType) };
    if (t.list.elementRelationship) out.list.elementRelationship = t.list.elementRelationship;
    if (t.list.keys) out.list.keys = [...t.list.keys];
  }
  if (t.map) {
    const m: Obj = {};
    if (t.map.fields) {
      m.fields = t.map.fields.map((f) => {
        const cf: Obj = { name: f.name, type: compact(f.type) };
        if (f.default !== undefined) cf.default = f.default;
        return cf;
      });
    }
    if (t.map.elementType) m.elementType = compact(t.map.elementType);
    if (t.map.elementRelationship) m.elementRelationship = t.map.elementRelationship;
    out.map = m;
  }
  return out;
}

/** The compact JSON text of an smd schema. */
export function compactSchemaJson(schema: SmdSchema, source: string): string {
  const types = [...schema.types].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const lines = types.map((t) => JSON.stringify({ name: t.name, ...compact(t) }));
  return `{"source":${JSON.stringify(source)},"types":[\n${lines.join(',\n')}\n]}\n`;
}

if (require.main === module) {
  const repo = path.resolve(__dirname, '..', '..');
  const check = process.argv.includes('--check');
  const args = process.argv.slice(2).filter((a) => a !== '--check');
  const src = args[0] ?? path.resolve(repo, '..', 'shared', 'k8s', 'k8s-1.35-smd-schema.yaml');
  const out = args[1] ?? path.join(repo, 'test', 'data', 'k8s', 'k8s-1.35-fields.json');
  if (!fs.existsSync(src)) {
    process.stderr.write(`k8s-schema-data: ${src} not found (it comes from ../shared/k8s)\n`);
    process.exit(1);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports, import/no-extraneous-dependencies
  const yaml: { load(s: string): unknown } = require('js-yaml');
  const schema = yaml.load(fs.readFileSync(src, 'utf8')) as SmdSchema;
  const text = compactSchemaJson(schema, path.basename(src));
  if (check) {
    if (!fs.existsSync(out) || fs.readFileSync(out, 'utf8') !== text) {
      process.stderr.write(`k8s-schema-data: ${path.relative(repo, out)} is not what ${src} generates: run the chart-data task\n`);
      process.exit(1);
    }
    process.stdout.write(`k8s-schema-data: ${path.relative(repo, out)} is up to date (${schema.types.length} types)\n`);
    process.exit(0);
  }
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, text);
  process.stdout.write(`k8s-schema-data: ${schema.types.length} types → ${path.relative(repo, out)}\n`);
}
