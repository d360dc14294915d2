import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { FxDatabase, FxImage, FxMicroservice, FxProfile } from '../src';
import { clusterWithAddons, ENV, testApp } from './util/fixtures';
import { checkCustomObject, loadChartData } from './util/helm-values';
import { k8sErrors } from './util/k8s';
import { kubernetesObjectsOf } from './util/manifests';

type Obj = Record<string, any>;

const DIR = '/var/run/secrets/fx/database';
const FILES = ['username', 'password', 'host', 'port', 'dbname', 'sslmode', 'url'];

function find(objects: Obj[], kind: string, name: string): Obj {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind}/${name} in ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found;
}

/** Go duration (as External Secrets parses refreshInterval) in seconds. */
function goDurationSeconds(d: string): number {
  const parts = [...d.matchAll(/(\d+(?:\.\d+)?)(h|m|s)/g)];
  if (parts.map((p) => p[0]).join('') !== d) throw new Error(`not a Go duration: ${d}`);
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * { h: 3600, m: 60, s: 1 }[unit as 'h' | 'm' | 's'], 0);
}

describe('database credential rotation reaches running pods (issue 19 item 3)', () => {
  let objects: Obj[];
  let plain: Obj[];
  let esoVersion: string;

  beforeAll(() => {
    const stack = new Stack(testApp(), 'Rotation', { env: ENV });
    const cluster = clusterWithAddons(stack, FxProfile.PRODUCTION);
    esoVersion = cluster.versions.charts.externalSecrets.version;
    const database = new FxDatabase(stack, 'Database', { cluster, databaseName: 'orders' });
    new FxMicroservice(stack, 'OrdersApi', {
      cluster,
      serviceName: 'orders-api',
      image: FxImage.fromRegistry('ghcr.io/acme/orders:1.4.2'),
      database,
      migration: { command: ['python3', '-m', 'orders_api.migrate'] },
    });
    new FxMicroservice(stack, 'Plain', { cluster, image: FxImage.fromRegistry('ghcr.io/acme/plain:1.0.0') });
    const all = kubernetesObjectsOf(Template.fromStack(stack));
    objects = all.filter((o) => o.metadata?.namespace === 'orders-api');
    plain = all.filter((o) => o.metadata?.namespace === 'plain');
  });

  const podSpecs = () => [
    find(objects, 'Deployment', 'orders-api').spec.template.spec,
    objects.find((o) => o.kind === 'Job')!.spec.template.spec,
  ];

  test('the database Secret is a read-only volume of whole files (no subPath) at the documented path, in the pods and the migration Job', () => {
    for (const pod of podSpecs()) {
      const volume = pod.volumes.find((v: Obj) => v.secret?.secretName === 'orders-api-database');
      expect(volume).toEqual({
        name: 'database-credentials',
        secret: {
          secretName: 'orders-api-database',
          items: [
            { key: 'username', path: 'username' },
            { key: 'password', path: 'password' },
            { key: 'host', path: 'host' },
            { key: 'port', path: 'port' },
            { key: 'dbname', path: 'dbname' },
            { key: 'PGSSLMODE', path: 'sslmode' },
            { key: 'DATABASE_URL', path: 'url' },
          ],
          defaultMode: 0o440,
        },
      });
      expect(volume.secret.items.map((i: Obj) => i.path)).toEqual(FILES);
      // The tmp volume is still there: this one is appended.
      expect(pod.volumes.map((v: Obj) => v.name)).toEqual(['tmp', 'database-credentials']);
      const app = pod.containers[0];
      const mounts = app.volumeMounts.filter((m: Obj) => m.name === 'database-credentials');
      expect(mounts).toEqual([{ name: 'database-credentials', mountPath: DIR, readOnly: true }]);
      // kubelet never updates a subPath mount: a rotation would not reach the pod.
      expect(app.volumeMounts.some((m: Obj) => 'subPath' in m || 'subPathExpr' in m)).toBe(false);
      // Readable by the pod's group (kubelet gives the files the fsGroup), nobody else.
      expect(pod.securityContext.fsGroup).toBe(pod.securityContext.runAsGroup);
    }
  });

  test('FX_DATABASE_CREDENTIALS_DIR names the directory; the env vars stay for compatibility', () => {
    for (const pod of podSpecs()) {
      const app = pod.containers[0];
      expect(app.env).toContainEqual({ name: 'FX_DATABASE_CREDENTIALS_DIR', value: DIR });
      expect(app.envFrom).toContainEqual({ secretRef: { name: 'orders-api-database' } });
    }
    // The init container waiting for the migration gets no credentials.
    const init = find(objects, 'Deployment', 'orders-api').spec.template.spec.initContainers[0];
    expect(init.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    expect(init.env.map((e: Obj) => e.name)).not.toContain('FX_DATABASE_CREDENTIALS_DIR');
  });

  test('every mounted file comes from a key the ExternalSecret writes', () => {
    const es = find(objects, 'ExternalSecret', 'orders-api-database');
    const written = new Set<string>([
      ...(es.spec.data ?? []).map((d: Obj) => d.secretKey),
      ...Object.keys(es.spec.target.template?.data ?? {}),
    ]);
    const volume = podSpecs()[0].volumes.find((v: Obj) => v.name === 'database-credentials');
    const missing = volume.secret.items.map((i: Obj) => i.key).filter((k: string) => !written.has(k));
    // A key the Secret lacks keeps the pod from starting (items are not optional).
    expect(missing).toEqual([]);
  });

  test('the database ExternalSecret refreshes every 5 minutes (a Go duration), periodically', () => {
    const es = find(objects, 'ExternalSecret', 'orders-api-database');
    expect(es.spec.refreshInterval).toBe('5m');
    expect(goDurationSeconds(es.spec.refreshInterval)).toBe(300);
    expect(es.spec.refreshPolicy ?? 'Periodic').toBe('Periodic');
    expect(() => goDurationSeconds('5 minutes')).toThrow('not a Go duration: 5 minutes');
  });

  test('the ExternalSecret is valid against the CRD schema of the pinned external-secrets chart', () => {
    const crds = loadChartData('external-secrets', esoVersion)!.crds.map((crd) => ({ crd, source: `external-secrets ${esoVersion}` }));
    const es = find(objects, 'ExternalSecret', 'orders-api-database');
    expect(checkCustomObject(es, crds)).toEqual({ checked: true, errors: [], warnings: [] });
    // The check can fail: refreshInterval is a string in the schema.
    const bad = { ...es, spec: { ...es.spec, refreshInterval: 300 } };
    expect(checkCustomObject(bad, crds).errors.length).toBeGreaterThan(0);
  });

  test('the Deployment and the Job validate against the Kubernetes schema, and a bad volume does not', () => {
    const workloads = objects.filter((o) => o.kind === 'Deployment' || o.kind === 'Job');
    expect(workloads).toHaveLength(2);
    expect(k8sErrors(workloads)).toEqual([]);
    const deployment = find(objects, 'Deployment', 'orders-api');
    const broken = JSON.parse(JSON.stringify(deployment));
    broken.spec.template.spec.volumes[1].secret.items[0].mode = 'rw';
    expect(k8sErrors([broken]).join('\n')).toMatch(/mode/);
  });

  test('a service without a database gets no credentials volume or variable', () => {
    const pod = find(plain, 'Deployment', 'plain').spec.template.spec;
    expect(pod.volumes).toEqual([{ name: 'tmp', emptyDir: { sizeLimit: '256Mi' } }]);
    expect(pod.containers[0].volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    expect(pod.containers[0].env.map((e: Obj) => e.name)).not.toContain('FX_DATABASE_CREDENTIALS_DIR');
  });
});
