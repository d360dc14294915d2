import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';
import { CRD_ROOTS, generateK8sTypes, generatedK8sFiles, K8S_FIELDS_FILE, K8S_ROOTS } from '../build-tools/k8s-types';
import { WIRING } from '../src/core/wiring';
import * as crd from '../src/k8s/crds.generated';

// src/k8s/*.generated.ts: the types every built-in Kubernetes object and every custom resource of the
// library is written with. They must be what the schemas in test/data give, and they must reject what
// the API server would reject as an unknown field or a wrong scalar.

const SRC = path.join(__dirname, '..', 'src');

describe('generated Kubernetes types', () => {
  test('src/k8s/*.generated.ts are what the field schema and the pinned CRDs give (npx projen k8s-types)', () => {
    for (const { file, text } of generatedK8sFiles()) {
      expect({ file: path.relative(SRC, file), upToDate: fs.readFileSync(file, 'utf8') === text }).toEqual({ file: path.relative(SRC, file), upToDate: true });
    }
  });

  test('a change in the schema changes the generated text (the freshness check can fail)', () => {
    const schema = JSON.parse(fs.readFileSync(K8S_FIELDS_FILE, 'utf8'));
    const before = generateK8sTypes(schema);
    const probe = schema.types.find((t: any) => t.name === 'io.k8s.api.policy.v1.PodDisruptionBudgetSpec');
    probe.map.fields = probe.map.fields.filter((f: any) => f.name !== 'maxUnavailable');
    const after = generateK8sTypes(schema);
    expect(after).not.toEqual(before);
    expect(after).not.toMatch(/interface PodDisruptionBudgetSpec \{[^}]*maxUnavailable/);
    expect(before).toMatch(/interface PodDisruptionBudgetSpec \{[^}]*readonly maxUnavailable\?: number \| string;/);
  });

  test('every kind the library creates has a class with its apiVersion and kind', () => {
    const api = fs.readFileSync(path.join(SRC, 'k8s', 'api.generated.ts'), 'utf8');
    for (const r of K8S_ROOTS) {
      expect(api).toContain(`export class Kube${r.kind} extends ApiObject {`);
      expect(api).toContain(`GVK = { apiVersion: '${r.apiVersion}', kind: '${r.kind}' } as const;`);
    }
  });

  // The type check is the point: a misspelt field, a string where Kubernetes reads an int32, a status
  // written by a construct, a misspelt CRD field must not compile.
  const PROBES: Record<string, string> = {
    valid: [
      "k8s.KubeDeployment.manifest({ metadata: { name: 'a' }, spec: { replicas: 2, selector: { matchLabels: { a: 'b' } },",
      "  strategy: { rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },",
      "  template: { spec: { containers: [{ name: 'app', image: 'x:1', ports: [{ containerPort: 80 }] }] } } } });",
      "crd.KubeIngressRoute.manifest({ metadata: { name: 'r' }, spec: { entryPoints: ['web'], routes: [{ kind: 'Rule', match: 'Host(`a`)', services: [{ name: 's', port: 80 }] }] } });",
    ].join('\n'),
    selectr: "k8s.KubeService.manifest({ spec: { selectr: { a: 'b' } } });",
    replicas: "k8s.KubeDeployment.manifest({ spec: { replicas: '2' } });",
    status: 'k8s.KubeJob.manifest({ status: { active: 1 } });',
    endpoint: 'crd.KubeServiceMonitor.manifest({ spec: { endpoint: [] } });',
    ingressPort: "k8s.KubeIngress.manifest({ spec: { defaultBackend: { service: { name: 's', port: { number: '80' } } } } });",
    nodeClassRf: "crd.KubeNodePool.manifest({ spec: { template: { spec: { nodeClassRf: { name: 'a' } } } } });",
    nodeSet: 'crd.KubeElasticsearch.manifest({ spec: { nodeSet: [] } });',
    snapshotVolumes: "crd.KubeSchedule.manifest({ spec: { schedule: '@daily', template: { snapshotVolumes: 'yes' } } });",
  };

  /** Type errors of each probe, all compiled in one program (the standard library is parsed once). */
  const typeErrors = (probes: Record<string, string>): Record<string, string> => {
    const files = Object.fromEntries(Object.entries(probes).map(([name, body]) => [
      path.join(SRC, 'k8s', `__probe_${name}__.ts`),
      `import * as k8s from './api.generated';\nimport * as crd from './crds.generated';\n${body}\nexport {};\n`,
    ]));
    const options: ts.CompilerOptions = {
      strict: true, noEmit: true, skipLibCheck: true, types: [], target: ts.ScriptTarget.ES2020, module: ts.ModuleKind.CommonJS,
    };
    const host = ts.createCompilerHost(options);
    const read = host.readFile;
    host.readFile = (f) => files[path.resolve(f)] ?? read(f);
    const exists = host.fileExists;
    host.fileExists = (f) => path.resolve(f) in files || exists(f);
    const program = ts.createProgram(Object.keys(files), options, host);
    return Object.fromEntries(Object.keys(probes).map((name) => [name,
      ts.getPreEmitDiagnostics(program, program.getSourceFile(path.join(SRC, 'k8s', `__probe_${name}__.ts`)))
        .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('\n')]));
  };

  test('the types accept a valid object and reject unknown fields, wrong scalars and status', () => {
    const errors = typeErrors(PROBES);
    expect(errors.valid).toEqual('');
    expect(errors.selectr).toMatch(/'selectr' does not exist/);
    expect(errors.replicas).toMatch(/'string' is not assignable to type 'number'/);
    expect(errors.status).toMatch(/'status' does not exist/);
    expect(errors.endpoint).toMatch(/'endpoint' does not exist/);
    expect(errors.ingressPort).toMatch(/'string' is not assignable to type 'number'/);
    expect(errors.nodeClassRf).toMatch(/'nodeClassRf' does not exist/);
    expect(errors.nodeSet).toMatch(/'nodeSet' does not exist/);
    expect(errors.snapshotVolumes).toMatch(/'string' is not assignable to type 'boolean/);
  });

  test('every custom resource the library creates has a class with its apiVersion and kind', () => {
    const crds = fs.readFileSync(path.join(SRC, 'k8s', 'crds.generated.ts'), 'utf8');
    for (const r of CRD_ROOTS) {
      expect(crds).toContain(`export class Kube${r.kind} extends ApiObject {`);
      expect(crds).toContain(`GVK = { apiVersion: '${r.group}/${r.version}', kind: '${r.kind}' } as const;`);
    }
    // The apiVersion the wiring table names is the one the generated ExternalSecret uses.
    expect(WIRING.externalSecrets.apiVersion).toBe(crd.KubeExternalSecret.GVK.apiVersion);
  });

  // Objects that stay literals, each for a reason: no schema data for it in the repository.
  const UNTYPED_ALLOWLIST = [
    // snapshot.storage.k8s.io comes with the EKS snapshot-controller add-on, not a chart in
    // test/data/charts: no CRD schema to generate from.
    'cluster/storage.ts: snapshot.storage.k8s.io/v1 VolumeSnapshotClass',
  ];
  const TYPED_KINDS = new Set([...K8S_ROOTS.map((r) => r.kind), ...CRD_ROOTS.map((r) => r.kind)]);

  /**
   * Object literals of a source file that are Kubernetes objects built by hand: a `kind: '<X>'` for
   * a kind with a generated type next to `apiVersion` or `metadata` (a reference such as
   * `roleRef: { kind: 'Role', name }` has neither), or any literal `apiVersion` and `kind` pair.
   */
  const untypedObjects = (file: string, text: string): string[] => {
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2020, true);
    const found: string[] = [];
    const literal = (o: ts.ObjectLiteralExpression, name: string): string | undefined => {
      const p = o.properties.find((x): x is ts.PropertyAssignment => ts.isPropertyAssignment(x) && x.name.getText(source).replace(/['"]/g, '') === name);
      return p && ts.isStringLiteralLike(p.initializer) ? p.initializer.text : undefined;
    };
    const has = (o: ts.ObjectLiteralExpression, name: string): boolean =>
      o.properties.some((x) => x.name !== undefined && x.name.getText(source).replace(/['"]/g, '') === name);
    const visit = (node: ts.Node): void => {
      if (ts.isObjectLiteralExpression(node)) {
        const kind = literal(node, 'kind');
        const apiVersion = literal(node, 'apiVersion');
        const object = kind !== undefined && ((TYPED_KINDS.has(kind) && (has(node, 'apiVersion') || has(node, 'metadata'))) || apiVersion !== undefined);
        if (object) found.push(`${path.relative(SRC, file)}: ${apiVersion ?? '?'} ${kind}`);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
    return found;
  };

  const sourceFiles = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) return p === path.join(SRC, 'k8s') ? [] : sourceFiles(p);
    return entry.name.endsWith('.ts') ? [p] : [];
  });

  test('no Kubernetes object of the library outside src/k8s is an untyped object literal', () => {
    const found = sourceFiles(SRC).flatMap((f) => untypedObjects(f, fs.readFileSync(f, 'utf8')));
    expect(found.filter((x) => !UNTYPED_ALLOWLIST.includes(x))).toEqual([]);
    // Each allowlisted object still exists (an entry whose object became typed goes).
    expect(UNTYPED_ALLOWLIST.filter((x) => !found.includes(x))).toEqual([]);
  });

  test('the scan finds hand-built objects of every typed kind and ignores references (it can fail)', () => {
    const probe = path.join(SRC, 'cluster', 'probe.ts');
    const text = [
      "export const a = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } };",
      "export const b = { kind: 'NodePool', metadata: { name: 'x' } };",
      "export const c = { 'apiVersion': 'example.com/v1', 'kind': 'Widget' };",
      "export const d = { roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' }, storeRef: { kind: 'SecretStore', name: 's' } };",
      "export const e = { apiVersion: 'apps/v1', kind: cond ? 'StatefulSet' : 'Deployment', name: 'n' };",
      "export const f = { routes: [{ kind: 'Rule', match: 'Host(`a`)' }] };",
    ].join('\n');
    expect(untypedObjects(probe, text)).toEqual([
      'cluster/probe.ts: v1 Namespace',
      'cluster/probe.ts: ? NodePool',
      'cluster/probe.ts: example.com/v1 Widget',
    ]);
  });
});
