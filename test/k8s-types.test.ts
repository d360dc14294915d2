import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';
import { generateK8sTypes, generatedK8sFiles, K8S_FIELDS_FILE, K8S_ROOTS } from '../build-tools/k8s-types';

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
  const typeErrors = (body: string): string[] => {
    const file = path.join(SRC, 'k8s', '__probe__.ts');
    const source = `import * as k8s from './api.generated';\nimport * as crd from './crds.generated';\n${body}\n`;
    const options: ts.CompilerOptions = {
      strict: true, noEmit: true, skipLibCheck: true, types: [], target: ts.ScriptTarget.ES2020, module: ts.ModuleKind.CommonJS,
    };
    const host = ts.createCompilerHost(options);
    const read = host.readFile;
    host.readFile = (f) => (path.resolve(f) === file ? source : read(f));
    const exists = host.fileExists;
    host.fileExists = (f) => path.resolve(f) === file || exists(f);
    const program = ts.createProgram([file], options, host);
    return ts.getPreEmitDiagnostics(program, program.getSourceFile(file))
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  };

  test('the types accept a valid object and reject unknown fields, wrong scalars and status', () => {
    expect(typeErrors([
      "k8s.KubeDeployment.manifest({ metadata: { name: 'a' }, spec: { replicas: 2, selector: { matchLabels: { a: 'b' } },",
      "  strategy: { rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },",
      "  template: { spec: { containers: [{ name: 'app', image: 'x:1', ports: [{ containerPort: 80 }] }] } } } });",
      "crd.KubeIngressRoute.manifest({ metadata: { name: 'r' }, spec: { entryPoints: ['web'], routes: [{ kind: 'Rule', match: 'Host(`a`)', services: [{ name: 's', port: 80 }] }] } });",
    ].join('\n'))).toEqual([]);
    expect(typeErrors("k8s.KubeService.manifest({ spec: { selectr: { a: 'b' } } });").join()).toMatch(/'selectr' does not exist/);
    expect(typeErrors("k8s.KubeDeployment.manifest({ spec: { replicas: '2' } });").join()).toMatch(/'string' is not assignable to type 'number'/);
    expect(typeErrors('k8s.KubeJob.manifest({ status: { active: 1 } });').join()).toMatch(/'status' does not exist/);
    expect(typeErrors('crd.KubeServiceMonitor.manifest({ spec: { endpoint: [] } });').join()).toMatch(/'endpoint' does not exist/);
  });

  test('no Deployment, StatefulSet, DaemonSet, Job, CronJob or Service of the library is an untyped object literal', () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, entry.name);
        if (entry.isDirectory()) {
          if (p !== path.join(SRC, 'k8s')) walk(p);
        } else if (entry.name.endsWith('.ts')) {
          fs.readFileSync(p, 'utf8').split('\n').forEach((line, i) => {
            if (/\bkind:\s*'(Deployment|StatefulSet|DaemonSet|Job|CronJob|Service)'/.test(line)) offenders.push(`${path.relative(SRC, p)}:${i + 1}: ${line.trim()}`);
          });
        }
      }
    };
    walk(SRC);
    expect(offenders).toEqual([]);
  });
});
