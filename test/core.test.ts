import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { FxProfile, FxVersions, FxComponentVersions } from '../src';
import { loadChartData } from './util/helm-values';
import { check, FxValidationError, isIpv4Cidr } from '../src/core/errors';
import { LIBRARY_VERSION, tagPlatform, TAG_PLATFORM, TAG_VERSION } from '../src/core/tags';

const ROOT = path.join(__dirname, '..');

/** Every leaf of a versions row, as `path = value`. */
function leaves(obj: unknown, prefix = ''): Array<[string, unknown]> {
  if (obj !== null && typeof obj === 'object') {
    return Object.entries(obj as Record<string, unknown>).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
  }
  return [[prefix, obj]];
}

describe('FxVersions', () => {
  const rows: Array<[string, FxComponentVersions]> = FxVersions.SUPPORTED_KUBERNETES_VERSIONS.map((v) => [v, FxVersions.forKubernetes(v)]);
  const reference = leaves(FxVersions.default()).map(([k]) => k).sort();

  test('supports at least three minors, all 1.28 or newer, and the default is one of them', () => {
    expect(FxVersions.SUPPORTED_KUBERNETES_VERSIONS.length).toBeGreaterThanOrEqual(3);
    for (const v of FxVersions.SUPPORTED_KUBERNETES_VERSIONS) {
      const [major, minor] = v.split('.').map(Number);
      expect(major > 1 || minor >= 28).toBe(true);
    }
    expect(FxVersions.SUPPORTED_KUBERNETES_VERSIONS).toContain(FxVersions.DEFAULT_KUBERNETES_VERSION);
  });

  test.each(rows)('Kubernetes %s has a pinned, non-empty version for every component', (minor, row) => {
    expect(row.kubernetesVersion).toBe(minor);
    const entries = leaves(row);
    expect(entries.map(([k]) => k).sort()).toEqual(reference);
    for (const [key, value] of entries) {
      expect(typeof value).toBe('string');
      expect((value as string).length).toBeGreaterThan(0);
      expect(`${key}=${value}`).not.toMatch(/latest|[\^~*]|\bx\b/i);
    }
  });

  test.each(rows)('Kubernetes %s: kubectl layer and cluster-autoscaler image follow the minor', (minor, row) => {
    expect(row.kubectlLayerPackage).toBe(`@aws-cdk/lambda-layer-kubectl-v${minor.replace('1.', '')}`);
    expect(row.images.clusterAutoscaler.tag).toMatch(new RegExp(`^v${minor.replace('.', '\\.')}\\.\\d+$`));
    expect(row.images.kubectl.tag).toBe(`v${minor}.0`);
    expect(row.addons.kubeProxy).toMatch(new RegExp(`^v${minor.replace('.', '\\.')}\\.\\d+-eksbuild\\.\\d+$`));
    for (const addon of Object.values(row.addons)) expect(addon).toMatch(/^v\d+\.\d+\.\d+-eksbuild\.\d+$/);
  });

  test('the kubectl layer of the default minor is installed (it is a peer dependency)', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    expect(Object.keys(pkg.peerDependencies)).toContain(FxVersions.default().kubectlLayerPackage);
    expect(() => require.resolve(FxVersions.default().kubectlLayerPackage)).not.toThrow();
  });

  test.each(rows)('Kubernetes %s: every chart version has its generated data in test/data/charts', (_minor, row) => {
    for (const chart of Object.values(row.charts)) {
      expect({ chart: chart.chart, version: chart.version, data: loadChartData(chart.chart, chart.version)?.version })
        .toEqual({ chart: chart.chart, version: chart.version, data: chart.version });
    }
  });

  test('accepts a patch version and a leading v', () => {
    expect(FxVersions.forKubernetes('1.35.2').kubernetesVersion).toBe('1.35');
    expect(FxVersions.forKubernetes('v1.34').kubernetesVersion).toBe('1.34');
  });

  test('fails when the version is below 1.28, naming the construct, prop, value and the supported minors', () => {
    expect(() => FxVersions.forKubernetes('1.27', 'FxCluster')).toThrow(
      /^FxCluster(?: at [^:]+)?: invalid kubernetesVersion '1\.27'; allowed: 1\.28 or newer .*supported: 1\.34, 1\.35, 1\.36$/,
    );
    expect(() => FxVersions.forKubernetes('1.9')).toThrow(/invalid kubernetesVersion '1\.9'/);
  });

  test('fails when the version is supported by Kubernetes but not in the table', () => {
    expect(() => FxVersions.forKubernetes('1.30')).toThrow(/invalid kubernetesVersion '1\.30'; allowed: a minor in the versions table: 1\.34, 1\.35, 1\.36/);
    expect(() => FxVersions.forKubernetes('1.99')).toThrow(FxValidationError);
  });

  test('fails when the version is not a Kubernetes minor at all', () => {
    expect(() => FxVersions.forKubernetes('latest')).toThrow(/invalid kubernetesVersion 'latest'; allowed: a Kubernetes minor like 1\.35/);
  });
});

describe('FxProfile', () => {
  test('development is small and cheap, production is highly available', () => {
    const dev = FxProfile.DEVELOPMENT.settings;
    const prod = FxProfile.PRODUCTION.settings;
    expect(dev.natGateways).toBe(1);
    expect(prod.natGateways).toBe(3);
    expect(dev.nodeInstanceType.toString()).toBe('t3.medium');
    expect(prod.nodeInstanceType.toString()).toBe('t3.large');
    expect([dev.nodeDesiredSize, prod.nodeDesiredSize]).toEqual([2, 3]);
    expect([dev.databaseMultiAz, prod.databaseMultiAz]).toEqual([false, true]);
    expect([dev.backupRetention.toDays(), prod.backupRetention.toDays()]).toEqual([7, 35]);
    expect([dev.elkEnabled, prod.elkEnabled]).toEqual([false, true]);
    expect(prod.ingressReplicas).toBeGreaterThanOrEqual(2);
    expect(FxProfile.PRODUCTION.isProduction).toBe(true);
    expect(FxProfile.DEVELOPMENT.name).toBe('development');
  });

  test('custom() overrides only what is given', () => {
    const staging = FxProfile.custom(FxProfile.PRODUCTION, 'staging', { natGateways: 1, elkEnabled: undefined });
    expect(staging.name).toBe('staging');
    expect(staging.settings.natGateways).toBe(1);
    expect(staging.settings.elkEnabled).toBe(true);
    expect(staging.settings.nodeDesiredSize).toBe(3);
    expect(FxProfile.PRODUCTION.settings.natGateways).toBe(3);
  });
});

describe('validation helper', () => {
  test('formats construct, prop, value and what is allowed', () => {
    const err = new FxValidationError('FxCluster', 'nodeGroups[0].instanceTypes', 't3.small', 't3.medium or larger');
    expect(err.message).toBe("FxCluster: invalid nodeGroups[0].instanceTypes 't3.small'; allowed: t3.medium or larger");
    expect(new FxValidationError('FxDatabase', 'backupRetention', 40, '1 to 35 days').message).toBe('FxDatabase: invalid backupRetention 40; allowed: 1 to 35 days');
  });

  test('check() throws only when the condition fails, and never for unresolved tokens', () => {
    const stack = new Stack();
    expect(() => check(true, 'X', 'p', 1, 'any')).not.toThrow();
    expect(() => check(false, 'X', 'p', 1, 'any')).toThrow(/X: invalid p 1; allowed: any/);
    expect(() => check(false, 'X', 'p', stack.account, 'any')).not.toThrow();
  });

  test('recognises IPv4 CIDRs', () => {
    expect(isIpv4Cidr('203.0.113.0/24')).toBe(true);
    expect(isIpv4Cidr('0.0.0.0/0')).toBe(true);
    for (const bad of ['203.0.113.0', '256.0.0.0/8', '10.0.0.0/33', 'example.com/24', '']) expect(isIpv4Cidr(bad)).toBe(false);
  });
});

describe('tags', () => {
  test('every taggable resource carries the library version and platform name', () => {
    const app = new App();
    const stack = new Stack(app, 'Tagged');
    new s3.Bucket(stack, 'Bucket');
    tagPlatform(stack, 'orders', 'test');
    Template.fromStack(stack).hasResourceProperties('AWS::S3::Bucket', {
      Tags: [
        { Key: 'fx:component', Value: 'test' },
        { Key: TAG_PLATFORM, Value: 'orders' },
        { Key: TAG_VERSION, Value: LIBRARY_VERSION },
      ],
    });
  });

  test('the version tag is the package version', () => {
    expect(LIBRARY_VERSION).toBe(JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version);
  });
});

describe('release configuration', () => {
  const rc = JSON.parse(fs.readFileSync(path.join(ROOT, '.releaserc.json'), 'utf8'));
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const plugins: string[] = rc.plugins.map((p: string | [string, unknown]) => (Array.isArray(p) ? p[0] : p));

  test('releases from main with the conventional plugins', () => {
    expect(rc.branches).toEqual(['main']);
    expect(plugins).toEqual([
      '@semantic-release/commit-analyzer',
      '@semantic-release/release-notes-generator',
      '@semantic-release/changelog',
      '@semantic-release/npm',
      '@semantic-release/exec',
      '@semantic-release/github',
    ]);
  });

  test('semantic-release and every plugin it names are devDependencies that Node can import', () => {
    const names = ['semantic-release', 'conventional-changelog-conventionalcommits', ...plugins];
    for (const name of names) expect(pkg.devDependencies[name]).toBeDefined();
    // The plugins are ESM: import them in a real Node process, the way semantic-release loads them.
    const script = `for (const n of ${JSON.stringify(names)}) { await import(n); }`;
    expect(() => execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, stdio: 'pipe' })).not.toThrow();
  });

  test('the prepare step rebuilds the assembly after the npm plugin wrote the version', () => {
    const exec = rc.plugins.find((p: [string, { prepareCmd: string }]) => p[0] === '@semantic-release/exec');
    expect(exec[1].prepareCmd).toBe('npx projen release:prepare ${nextRelease.version}');
    expect(plugins.indexOf('@semantic-release/exec')).toBeGreaterThan(plugins.indexOf('@semantic-release/npm'));
    const tasks = JSON.parse(fs.readFileSync(path.join(ROOT, '.projen', 'tasks.json'), 'utf8')).tasks;
    const steps = tasks['release:prepare'].steps.map((s: { exec?: string; spawn?: string }) => s.exec ?? s.spawn);
    expect(steps).toEqual(['npm pkg set version=$@', 'compile', 'post-compile', 'package:js']);
    // build-tools/verify-release-prepare.sh (task release:verify, run by `npx projen ci`) executes this step for real.
    expect(tasks.ci.steps.map((s: { spawn?: string }) => s.spawn)).toContain('release:verify');
  });
});
