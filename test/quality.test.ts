import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { NIST80053R5Checks } from 'cdk-nag';
import { exampleApp } from '../examples/common';
import { k8sErrors } from './util/k8s';
import { kubernetesObjectsOf } from './util/manifests';
import { restrictedViolationsOf, workloadCount } from './util/pss';
import { checkHelmValues } from './util/shared';
import { createDevExample } from '../examples/dev/app';
import { createPlatformExample } from '../examples/platform/app';

type Obj = Record<string, any>;

interface Finding { pack: string; rule: string; path: string }
interface Synth { stack: Stack; template: Template; outdir: string; findings: Finding[]; acknowledged: number }

/**
 * Synthesizes an example as its CLI app does (AwsSolutions registered) plus the NIST 800-53 R5 pack, to
 * `outdir`. Synthesis throws when any pack reports an unacknowledged error; the report says which.
 */
function synth(create: (app: App) => Stack): Synth {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-quality-'));
  const app = exampleApp({ outdir, builtinCloudFormationValidation: false });
  Validations.of(app).addPlugins(new NIST80053R5Checks(app));
  const stack = create(app);
  try {
    app.synth();
  } catch (e) {
    if (!fs.existsSync(path.join(outdir, 'validation-report.json'))) throw e;
  }
  const findings: Finding[] = [];
  const reportFile = path.join(outdir, 'validation-report.json');
  if (fs.existsSync(reportFile)) {
    const report = JSON.parse(fs.readFileSync(reportFile, 'utf8'));
    for (const plugin of report.pluginReports ?? []) {
      for (const v of plugin.violations ?? []) {
        for (const c of v.violatingConstructs ?? [{ constructPath: '?' }]) {
          findings.push({ pack: plugin.summary?.pluginName ?? plugin.pluginName ?? '?', rule: v.ruleName, path: c.constructPath });
        }
      }
    }
  }
  const metadata = JSON.parse(fs.readFileSync(path.join(outdir, `${stack.artifactId}.metadata.json`), 'utf8'));
  const acknowledged = JSON.stringify(metadata).split('aws:cdk:acknowledged-rules').length - 1;
  // The assembly was written before validation failed: read it (Template.fromStack would synthesize again).
  const template = Template.fromJSON(JSON.parse(fs.readFileSync(path.join(outdir, `${stack.artifactId}.template.json`), 'utf8')));
  return { stack, template, outdir, findings, acknowledged };
}

/** Logical ids of every stateful resource: renaming one replaces it, and for data that is data loss. */
const STATEFUL_TYPES = [
  'AWS::RDS::DBInstance', 'AWS::KMS::Key', 'AWS::SecretsManager::Secret', 'AWS::EFS::FileSystem', 'AWS::ECR::Repository',
  'AWS::Logs::LogGroup', 'AWS::Backup::BackupVault', 'AWS::S3::Bucket',
];
function statefulIds(template: Template): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const type of STATEFUL_TYPES) {
    const ids = Object.keys(template.findResources(type)).sort();
    if (ids.length > 0) out[type] = ids;
  }
  return out;
}

/**
 * Literal credentials in a template: AWS access keys, private keys, Slack webhooks, JWTs, and values of
 * password/token/key-like fields that are neither intrinsics nor templates nor references.
 */
function literalSecrets(value: unknown, at = '$'): string[] {
  const found: string[] = [];
  const scanString = (s: string, where: string) => {
    const patterns: Array<[string, RegExp]> = [
      ['AWS access key', /\b(AKIA|ASIA)[0-9A-Z]{16}\b/],
      ['private key', /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
      ['Slack webhook', /hooks\.slack\.com\/services\/[A-Z0-9]+\/[A-Z0-9]+\/[A-Za-z0-9]+/],
      ['JWT', /\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/],
      // a key that IS password/token/... (not existingSecret, passwordKey) assigned a literal
      ['password assignment', /(?:^|[{,\s])\\*["']?(password|passwd|token|api[_-]?key|secret)\\*["']?\s*[:=]\s*\\*["'][^"'{}$\s\\]{8,}/i],
    ];
    for (const [what, re] of patterns) if (re.test(s)) found.push(`${where}: ${what}`);
  };
  const walk = (v: unknown, where: string, key?: string): void => {
    if (typeof v === 'string') {
      scanString(v, where);
      // a JSON document inside a string (manifests, Helm values): scan its structure too
      if ((v.startsWith('{') || v.startsWith('[')) && v.length > 2) {
        try {
          walk(JSON.parse(v), `${where}<json>`);
        } catch {
          // not JSON
        }
      }
      if (key && /^(password|passwd|token|api[_-]?key|secret[_-]?key|private[_-]?key|client[_-]?secret|admin[_-]?password)$/i.test(key)) {
        const reference = /^\$\{TOKEN\}$|\{\{.*\}\}|^arn:/.test(v);
        if (!reference && v.length >= 6) found.push(`${where}: literal value for ${key}`);
      }
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, `${where}[${i}]`, key));
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) walk(x, `${where}.${k}`, k);
    }
  };
  walk(value, at);
  return found;
}

describe.each([
  ['platform', createPlatformExample],
  ['dev', createDevExample],
])('quality gates: %s example', (name, create) => {
  let s: Synth;
  let objects: Obj[];
  beforeAll(() => {
    s = synth(create);
    objects = kubernetesObjectsOf(s.template);
  });
  afterAll(() => fs.rmSync(s.outdir, { recursive: true, force: true }));

  test('cdk-nag AwsSolutions: no unacknowledged error; NIST 800-53 R5 findings counted', () => {
    expect(s.findings.filter((f) => f.pack.includes('AwsSolutions'))).toEqual([]);
    const nist = s.findings.filter((f) => f.pack.includes('NIST'));
    const byRule = nist.reduce<Record<string, number>>((acc, f) => ({ ...acc, [f.rule]: (acc[f.rule] ?? 0) + 1 }), {});
    // Reported, not gated: the platform is built to AwsSolutions; NIST findings are listed for auditors.
    console.log(`${name}: NIST 800-53 R5 findings: ${nist.length} (${Object.entries(byRule).map(([r, n]) => `${r}: ${n}`).join(', ') || 'none'}); acknowledgements recorded: ${s.acknowledged}`);
    expect(s.acknowledged).toBeGreaterThan(0);
  });

  test('EKS endpoint access and control-plane logging (cdk-nag does not see aws-eks-v2 clusters)', () => {
    const clusters = Object.values(s.template.findResources('AWS::EKS::Cluster'));
    expect(clusters).toHaveLength(1);
    const props = clusters[0].Properties;
    expect(props.Logging.ClusterLogging.EnabledTypes.map((t: Obj) => t.Type).sort()).toEqual(['api', 'audit', 'authenticator', 'controllerManager', 'scheduler']);
    expect(props.ResourcesVpcConfig.EndpointPrivateAccess).toBe(true);
    if (props.ResourcesVpcConfig.EndpointPublicAccess !== false) {
      // a public endpoint must be limited to an allowlist (absent means open to the internet)
      expect(props.ResourcesVpcConfig.PublicAccessCidrs).toEqual(['203.0.113.0/24']);
    }
    expect(props.EncryptionConfig[0].Resources).toEqual(['secrets']);
  });

  test('every Kubernetes object validates against its schema (Kubernetes models and the pinned CRDs)', () => {
    expect(objects.length).toBeGreaterThan(40);
    expect(k8sErrors(objects)).toEqual([]);
  });

  test('every pod template passes Pod Security Standards restricted', () => {
    expect(workloadCount(objects)).toBeGreaterThanOrEqual(1);
    expect(restrictedViolationsOf(objects)).toEqual([]);
  });

  test('check-helm-values: every value exists in the pinned charts and every custom resource is served', () => {
    const run = checkHelmValues(s.outdir);
    expect(run.stdout).toMatch(/ 0 errors/);
    expect(run.status).toBe(0);
  });

  test('no literal password, token or key in any template or manifest', () => {
    const files = fs.readdirSync(s.outdir).filter((f) => f.endsWith('.template.json'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      expect(literalSecrets(JSON.parse(fs.readFileSync(path.join(s.outdir, f), 'utf8')), f)).toEqual([]);
    }
  });
});

describe('secrets scan', () => {
  test('finds what it is meant to find', () => {
    expect(literalSecrets({ a: 'AKIAABCDEFGHIJKLMNOP' })).toHaveLength(1);
    expect(literalSecrets({ Manifest: JSON.stringify([{ stringData: { password: 'hunter2hunter2' } }]) })).toEqual([
      '$.Manifest: password assignment',
      '$.Manifest<json>[0].stringData.password: literal value for password',
    ]);
    expect(literalSecrets({ values: '{"admin":{"existingSecret":"fx-grafana-admin","passwordKey":"admin-password"}}' })).toEqual([]);
    expect(literalSecrets({ values: '{"url":"https://hooks.slack.com/services/T000/B000/XXXXXXXX"}' })).not.toEqual([]);
    expect(literalSecrets({ PGPASSWORD: '{{ .password }}', password: '${TOKEN}', secretName: 'fx/database/db' })).toEqual([]);
  });
});

describe('stateful logical ids are pinned', () => {
  // Changing any of these ids replaces the resource. Update this list only with a migration plan
  // (and a BREAKING CHANGE note): for the database, its keys, secret and vault that means data loss.
  test.each([
    ['platform', createPlatformExample],
    ['dev', createDevExample],
  ])('%s example', (name, create) => {
    const app = exampleApp({ builtinCloudFormationValidation: false });
    const stack = create(app);
    const ids = statefulIds(Template.fromStack(stack));
    expect(ids).toEqual(PINNED[name]);
  });
});

const PINNED: Record<string, Record<string, string[]>> = {
  platform: {
    'AWS::RDS::DBInstance': ['DatabaseF44359DD'],
    'AWS::KMS::Key': ['ClusterNetworkLogKeyCF9BA70C', 'ClusterSecretsKey462B29B5', 'DatabaseBackupVaultKeyCE1296BB', 'DatabaseKey5E5D9547', 'ObservabilityAlarmTopicKey48516DE9', 'ObservabilityLogKeyAA300623', 'ObservabilitySnapshotKey770EF9A1'],
    'AWS::SecretsManager::Secret': ['DatabaseSecret3B817195', 'ObservabilityGrafanaAdminSecret60817CEB', 'ObservabilityLogShipperSecretEBCA9C68'],
    'AWS::EFS::FileSystem': ['ClusterFileSystemCC3072DE'],
    'AWS::ECR::Repository': ['InventoryApiRepository02492A76', 'OrdersApiRepositoryB7A48F44'],
    'AWS::Logs::LogGroup': ['ClusterControlPlaneLogsDCEEB876', 'ClusterNetworkFlowLogs839012C3', 'DatabasePostgresqlLogs0EEFD61B', 'DatabaseUpgradeLogsA548C373', 'ObservabilityApplicationLogsD22B838E', 'ObservabilityDataplaneLogs7E7A31F0', 'ObservabilityHostLogs11ED7ACF', 'ObservabilityPerformanceLogsCE3A6EEF'],
    'AWS::Backup::BackupVault': ['DatabaseBackupVaultED8CBFE1'],
    'AWS::S3::Bucket': ['ClusterBackupBucket1FA0B873', 'ComplianceDeliveryBucket0110042B', 'ObservabilitySnapshotBucket3B3FBE9E'],
  },
  dev: {
    'AWS::RDS::DBInstance': ['DatabaseF44359DD'],
    'AWS::KMS::Key': ['ClusterNetworkLogKeyCF9BA70C', 'ClusterSecretsKey462B29B5', 'DatabaseBackupVaultKeyCE1296BB', 'DatabaseKey5E5D9547', 'ObservabilityAlarmTopicKey48516DE9', 'ObservabilityLogKeyAA300623'],
    'AWS::SecretsManager::Secret': ['DatabaseSecret3B817195', 'ObservabilityGrafanaAdminSecret60817CEB'],
    'AWS::EFS::FileSystem': ['ClusterFileSystemCC3072DE'],
    'AWS::ECR::Repository': ['OrdersApiRepositoryB7A48F44'],
    'AWS::Logs::LogGroup': ['ClusterControlPlaneLogsDCEEB876', 'ClusterNetworkFlowLogs839012C3', 'DatabasePostgresqlLogs0EEFD61B', 'DatabaseUpgradeLogsA548C373', 'ObservabilityApplicationLogsD22B838E', 'ObservabilityDataplaneLogs7E7A31F0', 'ObservabilityHostLogs11ED7ACF', 'ObservabilityPerformanceLogsCE3A6EEF'],
    'AWS::Backup::BackupVault': ['DatabaseBackupVaultED8CBFE1'],
    'AWS::S3::Bucket': ['ClusterBackupBucket1FA0B873'],
  },
};
