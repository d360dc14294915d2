import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FxVersions } from '../src';
import { CHART_DATA_DIR, checkAssembly, checkHelmValues, loadChartData } from './util/helm-values';
import { validateK8s } from './util/k8s';
import { reduceValuesSchema, stripDescriptions, templateRefs, valueKinds } from '../build-tools/chart-data/facts';

type Json = Record<string, any>;

const FILES = ['values.json', 'refs.json', 'crds.json', 'webhooks.json', 'serviceaccounts.json', 'meta.json'];
/** Charts installed outside the versions table whose data the suite also keeps. */
const EXTRA = [{ chart: 'karpenter', version: '1.14.1' }];

/** Every (chart, version) of every row of the versions table, plus the extras. */
function pinned(): { chart: string; version: string }[] {
  const rows = FxVersions.SUPPORTED_KUBERNETES_VERSIONS.map((minor) => FxVersions.forKubernetes(minor));
  const all = [...rows.flatMap((row) => Object.values(row.charts).map((c) => ({ chart: c.chart, version: c.version }))), ...EXTRA];
  return [...new Map(all.map((c) => [`${c.chart}@${c.version}`, c])).values()];
}

/** `chart version: problem` for every pinned chart (and bundled subchart) whose data is missing or stale. */
function missingData(dataDir: string): string[] {
  const problems: string[] = [];
  const visit = (chart: string, version: string, from: string) => {
    const dir = path.join(dataDir, chart, version);
    const absent = FILES.filter((f) => !fs.existsSync(path.join(dir, f)));
    if (absent.length) {
      problems.push(`${chart} ${version}${from}: missing ${absent.join(', ')}`);
      return;
    }
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8'));
    if (meta.chart !== chart || meta.version !== version) problems.push(`${chart} ${version}${from}: meta.json names ${meta.chart} ${meta.version}`);
    for (const dep of meta.dependencies) {
      if (dep.bundledVersion === null) problems.push(`${chart} ${version}: dependency ${dep.name} is not bundled in the package`);
      else visit(dep.name, dep.bundledVersion, ` (subchart of ${chart} ${version})`);
    }
  };
  for (const c of pinned()) visit(c.chart, c.version, '');
  return problems;
}

let tmp: string;
beforeAll(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-chart-data-')); });
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

let n = 0;
/** A one-stack cloud assembly holding the given resources. */
function assembly(resources: Json): string {
  const dir = path.join(tmp, `assembly${n++}`);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'Stack.template.json'), JSON.stringify({ Resources: resources }));
  return dir;
}
const release = (chart: string, version: string | undefined, values: unknown): Json => ({
  Type: 'Custom::AWSCDK-EKS-HelmChart',
  Properties: { Chart: chart, ...(version === undefined ? {} : { Version: version }), Values: typeof values === 'string' ? values : JSON.stringify(values) },
});
const manifest = (...objects: Json[]): Json => ({ Type: 'Custom::AWSCDK-EKS-KubernetesResource', Properties: { Manifest: JSON.stringify(objects) } });
const errorsOf = (resources: Json) => checkAssembly(assembly(resources)).findings.filter((f) => f.severity === 'error').map((f) => `${f.subject}: ${f.message}`);

const ingressRoute = (spec: Json, apiVersion = 'traefik.io/v1alpha1'): Json => ({
  apiVersion, kind: 'IngressRoute', metadata: { name: 'r', namespace: 'n' }, spec,
});
const GOOD_ROUTE = { entryPoints: ['websecure'], routes: [{ kind: 'Rule', match: 'Host(`a.example.com`)', services: [{ name: 's', port: 80 }] }] };

describe('generated chart data', () => {
  test('exists for every chart version of every row of the versions table, karpenter 1.14.1 and every bundled subchart', () => {
    expect(pinned().length).toBeGreaterThanOrEqual(11);
    expect(missingData(CHART_DATA_DIR)).toEqual([]);
  });

  test('fails when a version in the versions table has no data', () => {
    const copy = path.join(tmp, 'data-copy');
    fs.cpSync(CHART_DATA_DIR, copy, { recursive: true });
    const traefik = FxVersions.default().charts.traefik;
    fs.rmSync(path.join(copy, traefik.chart, traefik.version), { recursive: true });
    fs.rmSync(path.join(copy, 'grafana'), { recursive: true });
    expect(missingData(copy)).toEqual([
      `${traefik.chart} ${traefik.version}: missing ${FILES.join(', ')}`,
      `grafana 12.11.1 (subchart of kube-prometheus-stack 88.5.3): missing ${FILES.join(', ')}`,
    ]);
  });

  test('records where it came from and carries no CRD descriptions', () => {
    for (const c of pinned()) {
      const data = loadChartData(c.chart, c.version)!;
      expect(data.meta.source.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(data.meta.source.package).toBe(`${c.chart}-${c.version}.tgz`);
      const text = fs.readFileSync(path.join(CHART_DATA_DIR, c.chart, c.version, 'crds.json'), 'utf8');
      expect(text).not.toMatch(/"description":"/);
    }
    const served = (chart: string, version: string, kind: string) => loadChartData(chart, version)!.crds
      .find((c) => c.kind === kind)?.versions.filter((v: Json) => v.served).map((v: Json) => v.name);
    expect(served('external-secrets', '2.9.0', 'ClusterSecretStore')).toEqual(['v1']);
    expect(served('kube-prometheus-stack', '88.5.3', 'ServiceMonitor')).toEqual(['v1']);
    expect(served('eck-operator', '3.5.0', 'Elasticsearch')).toContain('v1');
  });

  test('has the webhooks and service accounts the charts create by default', () => {
    const lbc = loadChartData('aws-load-balancer-controller', '3.5.0')!;
    const webhooks = JSON.parse(fs.readFileSync(path.join(CHART_DATA_DIR, 'aws-load-balancer-controller', '3.5.0', 'webhooks.json'), 'utf8'));
    expect(webhooks).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'mservice.elbv2.k8s.aws', failurePolicy: 'Fail', kind: 'MutatingWebhookConfiguration' })]));
    const sas = JSON.parse(fs.readFileSync(path.join(CHART_DATA_DIR, 'external-secrets', '2.9.0', 'serviceaccounts.json'), 'utf8'));
    expect(sas.map((s: Json) => s.name)).toEqual(expect.arrayContaining(['external-secrets-webhook', 'external-secrets-cert-controller']));
    expect(lbc.meta.render.set).toEqual(['clusterName=fx-cluster']);
  });
});

describe('fact extraction', () => {
  test('value kinds distinguish maps, empty maps, lists, scalars and null', () => {
    expect(valueKinds({ a: { b: 1 }, c: {}, d: [1], e: [], f: '', g: null, h: 'x' }))
      .toEqual({ a: { b: 'scalar' }, c: 'emptymap', d: 'list', e: 'emptylist', f: 'emptystring', g: 'null', h: 'scalar' });
  });
  test('template references include index/hasKey/get/dig forms', () => {
    expect(templateRefs(['{{ .Values.a.b }} {{ $.Values.c }} {{ index .Values.d "e" "f" }} {{ hasKey .Values.g "h" }} {{ dig "i" "j" "" .Values.k }}']))
      .toEqual(['a.b', 'c', 'd', 'd.e.f', 'g', 'g.h', 'k', 'k.i.j']);
  });
  test('descriptions are stripped, but a field named description stays', () => {
    expect(stripDescriptions({ description: 'x', type: 'object', properties: { description: { type: 'string', description: 'y' } } }))
      .toEqual({ type: 'object', properties: { description: { type: 'string' } } });
  });
  test('values schemas keep only what the key rules read, with local $refs inlined', () => {
    expect(reduceValuesSchema({ title: 't', definitions: { p: { type: 'integer', description: 'd' } }, properties: { port: { $ref: '#/definitions/p' } }, additionalProperties: false }))
      .toEqual({ properties: { port: { type: 'integer' } }, additionalProperties: false });
  });
});

describe('values checker', () => {
  test('passes good values, subchart keys, parent-only subchart keys and intrinsics', () => {
    const run = checkHelmValues(assembly({
      Lbc: release('aws-load-balancer-controller', '3.5.0', { clusterName: 'c', replicaCount: 2, serviceAccount: { create: false, name: 'x' } }),
      Kps: release('kube-prometheus-stack', '88.5.3', { grafana: { 'defaultDashboardsEnabled': false, 'sidecar': { dashboards: { enabled: true } }, 'grafana.ini': { anything: { goes: 1 } } } }),
      Joined: { Type: 'Custom::AWSCDK-EKS-HelmChart', Properties: { Chart: 'aws-load-balancer-controller', Version: '3.5.0', Values: { 'Fn::Join': ['', ['{"clusterName":', { Ref: 'Cluster' }, ',"region":"', { Ref: 'AWS::Region' }, '"}']] } } },
    }));
    expect(run.stdout).toMatch(/check-helm-values: 3 releases, 0 objects checked, 0 not checked, 0 errors, 0 warnings/);
    expect(run.status).toBe(0);
  });

  test('fails on a misspelled key, with a suggestion', () => {
    expect(errorsOf({ R: release('aws-load-balancer-controller', '3.5.0', { clusterName: 'c', serviceAcount: { create: false } }) }))
      .toEqual(['aws-load-balancer-controller 3.5.0: unknown values key serviceAcount (did you mean serviceAccount?)']);
  });

  test('fails on a map where the chart has a scalar, and on a key the schema closes', () => {
    expect(errorsOf({ R: release('aws-load-balancer-controller', '3.5.0', { replicaCount: { min: 2 } }) }))
      .toEqual(['aws-load-balancer-controller 3.5.0: values key replicaCount is a map, the chart\'s default is a scalar']);
    expect(errorsOf({ R: release('traefik', '41.3.0', { deploymnet: { replicas: 2 } }) })).toEqual([
      expect.stringMatching(/^traefik 41\.3\.0: unknown values key deploymnet.*\(did you mean deployment\?\)$/),
    ]);
  });

  test('fails on a key under a subchart that does not exist, naming the subchart', () => {
    expect(errorsOf({ R: release('kube-prometheus-stack', '88.5.3', { grafana: { sidecarr: { dashboards: {} } } }) }))
      .toEqual(['kube-prometheus-stack 88.5.3: unknown values key grafana.sidecarr (subchart grafana 12.11.1) (did you mean grafana.sidecar?)']);
  });

  test('fails on a missing version, a range and a version without data', () => {
    expect(errorsOf({
      A: release('traefik', undefined, {}),
      B: release('traefik', '^41.3.0', {}),
      C: release('traefik', '41.2.0', {}),
    })).toEqual([
      'traefik: Version missing: pin the chart version',
      'traefik ^41.3.0: Version "^41.3.0" is a range: pin one version',
      'traefik 41.2.0: no data for traefik 41.2.0; data exists for 41.3.0',
    ]);
  });
});

describe('manifest checker', () => {
  const traefik = release('traefik', '41.3.0', {});
  const eso = release('external-secrets', '2.9.0', {});

  test('passes served, valid custom objects and leaves other groups unchecked', () => {
    const report = checkAssembly(assembly({ traefik, M: manifest(ingressRoute(GOOD_ROUTE), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }) }));
    expect(report.findings).toEqual([]);
    expect([report.objectsChecked, report.objectsNotChecked]).toEqual([1, 1]);
  });

  test('fails on a CRD object with an unknown field', () => {
    expect(errorsOf({ traefik, M: manifest(ingressRoute({ ...GOOD_ROUTE, routs: [] })) }))
      .toEqual(['traefik.io/v1alpha1 IngressRoute n/r: .spec.routs is not a field of the CRD schema (did you mean routes?)']);
  });

  test('fails on an unserved version and an unknown kind', () => {
    const store = { apiVersion: 'external-secrets.io/v1beta1', kind: 'ClusterSecretStore', metadata: { name: 'aws' }, spec: {} };
    expect(errorsOf({ eso, M: manifest(store, { ...store, apiVersion: 'external-secrets.io/v1', kind: 'ClusterSecretStor' }) })).toEqual([
      'external-secrets.io/v1beta1 ClusterSecretStore aws: external-secrets.io/v1beta1 is not served for ClusterSecretStore by external-secrets 2.9.0 CRDs; served: external-secrets.io/v1',
      expect.stringMatching(/^external-secrets\.io\/v1 ClusterSecretStor aws: kind ClusterSecretStor is not defined in external-secrets\.io by external-secrets 2\.9\.0 CRDs; kinds: .*ClusterSecretStore/),
    ]);
  });

  test('objects are checked only against charts released in the same assembly', () => {
    const report = checkAssembly(assembly({ M: manifest(ingressRoute({ ...GOOD_ROUTE, routs: [] })) }));
    expect([report.objectsChecked, report.objectsNotChecked, report.findings.length]).toEqual([0, 1, 0]);
  });

  test('the Kubernetes object validator reads its CRD schemas from the generated data', () => {
    const [good, bad, unserved] = validateK8s([ingressRoute(GOOD_ROUTE), ingressRoute({ ...GOOD_ROUTE, routs: [] }), ingressRoute(GOOD_ROUTE, 'traefik.io/v1')]);
    expect(good.errors).toEqual([]);
    expect(bad.errors.join('\n')).toMatch(/routs/);
    expect(unserved.errors.length).toBeGreaterThan(0);
  });
});
