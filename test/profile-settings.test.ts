import * as fs from 'fs';
import * as path from 'path';
import { Duration, RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as ts from 'typescript';
import {
  FxCluster, FxCompliance, FxConfigRecording, FxDatabase, FxDatabaseProps, FxImage, FxMicroservice, FxNodeAutoscaler, FxObservability,
  FxObservabilityProps, FxProfile, FxProfileOverrides, FxProfileSettings, FxTls,
} from '../src';
import { ENV, testApp, testZone } from './util/fixtures';
import { joinedString } from './util/manifests';

// ---------------------------------------------------------------------------------------------
// (a) No construct tests which profile it runs under: every profile-dependent default is a field
// of FxProfileSettings, read where it is used. The scanner parses each file (comments and string
// contents are not code) and reports the forms such a test takes.
// ---------------------------------------------------------------------------------------------

const SRC = path.resolve(__dirname, '..', 'src');
/** The one file allowed to decide by profile: it defines the profiles. */
const PROFILE_FILE = path.join('core', 'profile.ts');
/** Identifiers that name "is this production" (a variable, a field, a getter, a parameter). */
const PRODUCTION_NAMES = new Set(['production', 'isProduction', 'isProd', 'inProduction', 'isDevelopment', 'development']);
/** Profile names compared as strings. */
const PROFILE_NAMES = new Set(['production', 'development', 'prod', 'dev']);
/**
 * Objects whose `production` key is not about the profile: Let's Encrypt's production ACME
 * directory (cert-manager.ts). Listed by object name, so any other `production` still fails.
 */
const UNRELATED_OBJECTS = new Set(['ACME_SERVERS']);

const EQUALITY = new Set([
  ts.SyntaxKind.EqualsEqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsEqualsToken,
  ts.SyntaxKind.EqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsToken,
]);

/** Profile conditionals in one TypeScript source, as `<file>:<line>: <form>: <code>`. */
function profileConditionals(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const report = (node: ts.Node, form: string) => {
    const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
    found.push(`${file}:${line}: ${form}: ${node.getText(source)}`);
  };
  const comparedOrCased = (node: ts.Node): boolean => {
    const parent = node.parent;
    if (ts.isCaseClause(parent) && parent.expression === node) return true;
    if (ts.isSwitchStatement(parent) && parent.expression === node) return true;
    return ts.isBinaryExpression(parent) && EQUALITY.has(parent.operatorToken.kind);
  };
  const unrelatedOwner = (node: ts.Identifier): boolean => {
    const parent = node.parent;
    if (ts.isPropertyAccessExpression(parent) && parent.name === node) return UNRELATED_OBJECTS.has(parent.expression.getText(source));
    if (ts.isPropertyAssignment(parent) && parent.name === node) {
      const declaration = parent.parent.parent;
      return ts.isVariableDeclaration(declaration) && UNRELATED_OBJECTS.has(declaration.name.getText(source));
    }
    return false;
  };
  const isProfileValue = (node: ts.Expression): boolean => {
    const code = node.getText(source);
    // `x.profile`, `profile`, `x.profile.name`, `settings.name`, `profile.settings.name`
    return /(^|\.)profile(\.settings)?(\.name)?$/.test(code) || /(^|\.)settings\.name$/.test(code);
  };
  const visit = (node: ts.Node) => {
    if (ts.isIdentifier(node) && PRODUCTION_NAMES.has(node.text) && !unrelatedOwner(node)) {
      report(node.parent, `'${node.text}' decides by profile`);
    } else if ((ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) && PROFILE_NAMES.has(node.text) && comparedOrCased(node)) {
      report(node.parent, 'compares a profile name');
    } else if (ts.isPropertyAccessExpression(node) && /^FxProfile\.(PRODUCTION|DEVELOPMENT)$/.test(node.getText(source)) && comparedOrCased(node)) {
      report(node.parent, 'compares with a built-in profile');
    } else if (ts.isBinaryExpression(node) && EQUALITY.has(node.operatorToken.kind)) {
      const other = (side: ts.Expression) => (side === node.left ? node.right : node.left);
      for (const side of [node.left, node.right]) {
        const rest = other(side).getText(source);
        if (isProfileValue(side) && rest !== 'undefined' && rest !== 'null') {
          report(node, 'compares the profile');
          break;
        }
      }
    } else if (ts.isSwitchStatement(node) && isProfileValue(node.expression)) {
      report(node.expression, 'switches on the profile');
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return [...new Set(found)];
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    // Generated types (src/k8s/*.generated.ts) declare fields of Kubernetes and CRD schemas; they decide nothing.
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') && !entry.name.endsWith('.generated.ts') ? [full] : [];
  });
}

describe('profile conditionals', () => {
  test('no file under src/ except core/profile.ts decides by profile', () => {
    const files = sourceFiles(SRC).filter((f) => path.relative(SRC, f) !== PROFILE_FILE);
    expect(files.length).toBeGreaterThan(50);
    const found = files.flatMap((f) => profileConditionals(path.relative(SRC, f), fs.readFileSync(f, 'utf8')));
    expect(found).toEqual([]);
  });

  test.each([
    ['a variable', 'const production = cluster.profile.isProduction;',
      ["x.ts:1: 'production' decides by profile: production = cluster.profile.isProduction",
        "x.ts:1: 'isProduction' decides by profile: cluster.profile.isProduction"]],
    ['a settings field in a conditional', 'const replicas = settings.production ? 2 : 1;',
      ["x.ts:1: 'production' decides by profile: settings.production"]],
    ['an if', 'if (cluster.profile.isProduction) rules.push(rule);',
      ["x.ts:1: 'isProduction' decides by profile: cluster.profile.isProduction"]],
    ['a destructured field', 'const { production } = cluster.profile.settings;',
      ["x.ts:1: 'production' decides by profile: production"]],
    ['a field of the construct', 'class A { private readonly production = true; f() { return this.production && 1; } }',
      ["x.ts:1: 'production' decides by profile: private readonly production = true;",
        "x.ts:1: 'production' decides by profile: this.production"]],
    ['a template literal', 'const cpu = `${o.production ? 1 : 2}`;',
      ["x.ts:1: 'production' decides by profile: o.production"]],
    ['a built-in profile compared', 'const n = profile === FxProfile.PRODUCTION ? 3 : 1;',
      ['x.ts:1: compares with a built-in profile: profile === FxProfile.PRODUCTION',
        'x.ts:1: compares the profile: profile === FxProfile.PRODUCTION']],
    ['a profile name compared', "if (cluster.profile.name === 'production') n = 3;",
      ["x.ts:1: compares a profile name: cluster.profile.name === 'production'",
        "x.ts:1: compares the profile: cluster.profile.name === 'production'"]],
    ['a settings name compared, reversed', "if ('dev' !== settings.name) n = 3;",
      ["x.ts:1: compares a profile name: 'dev' !== settings.name", "x.ts:1: compares the profile: 'dev' !== settings.name"]],
    ['a custom profile name compared', "const strict = props.cluster.profile.name === 'staging';",
      ["x.ts:1: compares the profile: props.cluster.profile.name === 'staging'"]],
    ['a switch on the profile name', "switch (profile.name) { case 'development': n = 1; }",
      ['x.ts:1: switches on the profile: profile.name', "x.ts:1: compares a profile name: case 'development': n = 1;"]],
  ])('the scanner reports %s', (_form, code, expected) => {
    expect(profileConditionals('x.ts', code).sort()).toEqual([...expected].sort());
  });

  test('the scanner ignores comments, strings and unrelated production keys', () => {
    const code = [
      '// In production this is stricter; /* production ? a : b */',
      '/** @default - 2 in production, 1 in development */',
      "const environments = props.environments ?? ['production'];",
      "const ACME_SERVERS = { staging: 'https://staging', production: 'https://acme' };",
      'const server = tls.staging ? ACME_SERVERS.staging : ACME_SERVERS.production;',
      'const replicas = cluster.profile.settings.addonReplicas;',
      "const message = 'at least 3 in production (one per availability zone)';",
      'const profile = props.profile ?? FxProfile.DEVELOPMENT;',
      'if (props.profile === undefined) n = 1;',
    ].join('\n');
    expect(profileConditionals('x.ts', code)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// (b) FxProfile.custom reaches every field: a profile that changes only that field changes the
// synthesized output where the field shows. A field nothing reads fails here.
// ---------------------------------------------------------------------------------------------

type Part = 'karpenter' | 'database' | 'compliance' | 'microservice' | 'observability' | 'watchDatabase';
interface Tweaks {
  /** The cluster's public endpoint open to everyone (no endpointAllowlist). */
  readonly openEndpoint?: boolean;
  readonly database?: Partial<FxDatabaseProps>;
  readonly observability?: Partial<FxObservabilityProps>;
}

/** Every leaf of a stack, by a readable path; Helm values and manifests (JSON strings) expanded. */
type Leaves = Map<string, unknown>;

function label(value: unknown, index: number): string {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const o = value as Record<string, any>;
    if (typeof o.kind === 'string' && typeof o.metadata?.name === 'string') return `${o.kind}/${o.metadata.name}`;
    for (const key of ['key', 'name', 'MetricName']) if (typeof o[key] === 'string') return `${key}=${o[key]}`;
  }
  return String(index);
}

function flatten(value: unknown, at: string, out: Leaves): void {
  if (value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 1 && 'Fn::Join' in value) {
    value = joinedString(value);
  }
  if (typeof value === 'string' && /^\s*[[{]/.test(value)) {
    try {
      value = JSON.parse(value);
    } catch {
      // not JSON: a leaf
    }
  }
  if (Array.isArray(value)) {
    out.set(`${at}.length`, value.length);
    value.forEach((v, i) => flatten(v, `${at}[${label(v, i)}]`, out));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) flatten(v, `${at}.${k}`, out);
  } else {
    out.set(at, value);
  }
}

function build(profile: FxProfile, parts: readonly Part[], tweaks: Tweaks): Leaves {
  const out: Leaves = new Map();
  try {
    const app = testApp();
    const stack = new Stack(app, 'Platform', { env: ENV });
    const cluster = new FxCluster(stack, 'Cluster', {
      profile,
      platformName: 'fx',
      tls: FxTls.acm({ hostedZone: testZone(stack), domainName: 'fx.example.com' }),
      endpointAllowlist: tweaks.openEndpoint ? undefined : ['203.0.113.0/24'],
      nodeAutoscaler: parts.includes('karpenter') ? FxNodeAutoscaler.karpenter({ nodePools: [{ name: 'default' }] }) : undefined,
    });
    const database = parts.some((p) => p === 'database' || p === 'compliance' || p === 'watchDatabase')
      ? new FxDatabase(stack, 'Database', { cluster, databaseName: 'orders', ...tweaks.database }) : undefined;
    if (parts.includes('compliance')) new FxCompliance(stack, 'Compliance', { cluster, database, recording: FxConfigRecording.PLATFORM_RESOURCES });
    if (parts.includes('microservice')) new FxMicroservice(stack, 'Orders', { cluster, image: FxImage.fromRegistry('ghcr.io/acme/orders:1.0.0') });
    if (parts.includes('observability') || parts.includes('watchDatabase')) {
      const observability = new FxObservability(stack, 'Observability', { cluster, ...tweaks.observability });
      if (database && parts.includes('watchDatabase')) observability.watchDatabase(database.instance as rds.IDatabaseInstance);
    }
    const resources = Object.entries((app.synth().getStackByName(stack.stackName).template as any).Resources as Record<string, any>);
    const counts = new Map<string, number>();
    for (const [id, resource] of resources) {
      counts.set(resource.Type, (counts.get(resource.Type) ?? 0) + 1);
      flatten(resource, `${resource.Type} ${id}`, out);
    }
    counts.forEach((n, type) => out.set(`count ${type}`, n));
  } catch (e) {
    out.set('error', (e as Error).message);
  }
  return out;
}

const cache = new Map<string, Leaves>();
function baseline(base: FxProfile, parts: readonly Part[], tweaks: Tweaks): Leaves {
  const key = JSON.stringify([base.name, parts, tweaks]);
  if (!cache.has(key)) cache.set(key, build(base, parts, tweaks));
  return cache.get(key)!;
}

/** Leaves that differ between two builds, as `path = value` of the second (`(absent)` when removed). */
function changes(before: Leaves, after: Leaves): string[] {
  const paths = new Set([...before.keys(), ...after.keys()]);
  return [...paths].filter((p) => before.get(p) !== after.get(p))
    .map((p) => `${p} = ${after.has(p) ? JSON.stringify(after.get(p)) : '(absent)'}`);
}

interface Reach {
  /** The profile the custom one derives from (its other fields stay). */
  readonly base: FxProfile;
  /** The new value of the field. */
  readonly value: unknown;
  /** What to synthesize beside the cluster. */
  readonly parts?: readonly Part[];
  readonly tweaks?: Tweaks;
  /** A changed leaf whose path contains `where` must have this value (a RegExp for the error message). */
  readonly where: string;
  readonly shows: unknown;
}

const D = FxProfile.DEVELOPMENT;
const P = FxProfile.PRODUCTION;
const GIB = 1024 ** 3;
/** Every settings field: where a custom value of it shows in the synthesized stack. */
const REACH: Record<Exclude<keyof FxProfileSettings, 'name' | 'production'>, Reach> = {
  // Network and compute (FxCluster)
  natGateways: { base: D, value: 2, where: 'count AWS::EC2::NatGateway', shows: 2 },
  nodeInstanceType: { base: D, value: new ec2.InstanceType('t3.xlarge'), where: 'AWS::EKS::Nodegroup', shows: 't3.xlarge' },
  nodeMinSize: { base: D, value: 1, where: 'ScalingConfig.MinSize', shows: 1 },
  nodeDesiredSize: { base: D, value: 3, where: 'ScalingConfig.DesiredSize', shows: 3 },
  nodeMaxSize: { base: D, value: 6, where: 'ScalingConfig.MaxSize', shows: 6 },
  logRetention: { base: D, value: logs.RetentionDays.ONE_WEEK, where: 'RetentionInDays', shows: 7 },
  retainVolumes: { base: D, value: true, where: 'reclaimPolicy', shows: 'Retain' },
  removalPolicy: { base: D, value: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE, where: 'DeletionPolicy', shows: 'RetainExceptOnCreate' },
  ingressReplicas: { base: D, value: 3, where: 'deployment.replicas', shows: 3 },
  clusterBackupRetentionDays: { base: D, value: 9, where: 'ttl', shows: '216h0m0s' },
  addonReplicas: { base: D, value: 3, where: 'replicaCount', shows: 3 },
  strictZoneSpread: { base: D, value: true, where: 'whenUnsatisfiable', shows: 'DoNotSchedule' },
  // Karpenter
  karpenterReplicas: { base: D, value: 3, parts: ['karpenter'], where: 'replicas', shows: 3 },
  karpenterInstanceFamilies: { base: D, value: ['m7i'], parts: ['karpenter'], where: 'instance-family].values[0]', shows: 'm7i' },
  karpenterInstanceSizes: { base: D, value: ['2xlarge'], parts: ['karpenter'], where: 'instance-size].values[0]', shows: '2xlarge' },
  karpenterArchitectures: { base: D, value: [ec2.InstanceArchitecture.ARM_64, ec2.InstanceArchitecture.X86_64], parts: ['karpenter'], where: 'arch].values[0]', shows: 'arm64' },
  karpenterCpuLimit: { base: D, value: 64, parts: ['karpenter'], where: 'limits.cpu', shows: '64' },
  karpenterConsolidateAfter: { base: D, value: Duration.minutes(2), parts: ['karpenter'], where: 'consolidateAfter', shows: '2m' },
  karpenterExpireAfter: { base: D, value: Duration.days(14), parts: ['karpenter'], where: 'expireAfter', shows: '336h' },
  // Database
  databaseInstanceType: { base: D, value: new ec2.InstanceType('t4g.large'), parts: ['database'], where: 'DBInstanceClass', shows: 'db.t4g.large' },
  databaseMultiAz: { base: D, value: true, parts: ['database'], where: 'MultiAZ', shows: true },
  backupRetention: { base: D, value: Duration.days(14), parts: ['database'], where: 'BackupRetentionPeriod', shows: 14 },
  databaseAllocatedStorage: { base: D, value: Size.gibibytes(50), parts: ['database'], where: 'AllocatedStorage', shows: '50' },
  databaseMaxAllocatedStorage: { base: D, value: Size.gibibytes(200), parts: ['database'], where: 'MaxAllocatedStorage', shows: 200 },
  databaseWeeklyBackupRetention: { base: D, value: Duration.days(90), parts: ['database'], where: 'DeleteAfterDays', shows: 90 },
  databaseBlockRecoveryPointDeletion: { base: D, value: true, parts: ['database'], where: 'AccessPolicy', shows: 'backup:DeleteRecoveryPoint' },
  databaseRequireExplicitRemoval: {
    base: D,
    value: true,
    parts: ['database'],
    tweaks: { database: { deletionProtection: false } },
    where: 'error',
    shows: /^FxDatabase at Platform\/Database: invalid deletionProtection false; allowed: false in custom only together with an explicit removalPolicy/,
  },
  // Compliance
  continuousConfigRecording: { base: D, value: true, parts: ['compliance'], where: 'RecordingFrequency', shows: 'CONTINUOUS' },
  // Microservices
  serviceMinReplicas: { base: D, value: 2, parts: ['microservice'], where: 'minReplicas', shows: 2 },
  serviceMaxReplicas: { base: D, value: 5, parts: ['microservice'], where: 'maxReplicas', shows: 5 },
  serviceQuotaCpu: { base: D, value: '6', parts: ['microservice'], where: 'requests.cpu', shows: '6' },
  serviceQuotaMemory: { base: D, value: '12Gi', parts: ['microservice'], where: 'requests.memory', shows: '12Gi' },
  // Monitoring
  metricsRetention: { base: D, value: Duration.days(10), parts: ['observability'], where: 'prometheusSpec.retention', shows: '10d' },
  requireDashboardAllowlist: {
    base: D,
    value: true,
    parts: ['observability'],
    tweaks: { openEndpoint: true },
    where: 'error',
    shows: /^FxObservability at Platform\/Observability: invalid adminCidrs \(from the cluster's endpointAllowlist\)/,
  },
  traceSamplingRate: { base: D, value: 0.5, parts: ['observability'], where: 'FixedRate', shows: 0.5 },
  prometheusStorage: { base: D, value: Size.gibibytes(40), parts: ['observability'], where: 'prometheusSpec.storageSpec', shows: '40Gi' },
  prometheusReplicas: { base: D, value: 3, parts: ['observability'], where: 'prometheusSpec.replicas', shows: 3 },
  prometheusCpuRequest: { base: D, value: '300m', parts: ['observability'], where: 'prometheusSpec.resources.requests.cpu', shows: '300m' },
  prometheusMemoryRequest: { base: D, value: '1500Mi', parts: ['observability'], where: 'prometheusSpec.resources.requests.memory', shows: '1500Mi' },
  prometheusMemoryLimit: { base: D, value: '3Gi', parts: ['observability'], where: 'prometheusSpec.resources.limits.memory', shows: '3Gi' },
  alertmanagerReplicas: { base: D, value: 3, parts: ['observability'], where: 'alertmanagerSpec.replicas', shows: 3 },
  alarmNodeCpuPercent: { base: D, value: 77, parts: ['observability'], where: 'Threshold', shows: 77 },
  alarmNodeMemoryPercent: { base: D, value: 78, parts: ['observability'], where: 'Threshold', shows: 78 },
  alarmNodeDiskPercent: { base: D, value: 79, parts: ['observability'], where: 'Threshold', shows: 79 },
  alarmPodRestarts: { base: D, value: 7, parts: ['observability'], where: 'Threshold', shows: 7 },
  alarmLoadBalancer5xxCount: { base: D, value: 8, parts: ['observability'], where: 'Threshold', shows: 8 },
  alarmTargetResponseTime: { base: D, value: Duration.seconds(3), parts: ['observability'], where: 'Threshold', shows: 3 },
  alarmEvaluationPeriods: { base: D, value: 4, parts: ['observability'], where: 'EvaluationPeriods', shows: 4 },
  alarmDatabaseCpuPercent: { base: D, value: 77, parts: ['watchDatabase'], where: 'Threshold', shows: 77 },
  alarmDatabaseFreeStorage: { base: D, value: Size.gibibytes(3), parts: ['watchDatabase'], where: 'Threshold', shows: 3 * GIB },
  alarmDatabaseConnections: { base: D, value: 76, parts: ['watchDatabase'], where: 'Threshold', shows: 76 },
  alarmDatabaseReadLatency: { base: D, value: Duration.millis(30), parts: ['watchDatabase'], where: 'Threshold', shows: 0.03 },
  alarmDatabaseWriteLatency: { base: D, value: Duration.millis(40), parts: ['watchDatabase'], where: 'Threshold', shows: 0.04 },
  // Logging (ELK)
  elkEnabled: { base: D, value: true, parts: ['observability'], where: 'Properties.Chart', shows: 'eck-operator' },
  elasticsearchNodes: { base: P, value: 5, parts: ['observability'], where: 'nodeSets[name=default].count', shows: 5 },
  kibanaReplicas: { base: P, value: 3, parts: ['observability'], where: 'Kibana', shows: 3 },
  elasticsearchRetentionDays: { base: P, value: 20, parts: ['observability'], where: 'min_age', shows: '20d' },
  elasticsearchMinNodes: {
    base: D,
    value: 3,
    parts: ['observability'],
    tweaks: { observability: { elk: true } },
    where: 'error',
    shows: /^FxObservability at Platform\/Observability: invalid elasticsearchNodes \(from profile custom\) 1; allowed: at least 3 in custom \(one per availability zone\)$/,
  },
  elasticsearchStorage: { base: P, value: Size.gibibytes(50), parts: ['observability'], where: 'volumeClaimTemplates', shows: '50Gi' },
  elasticsearchHeap: { base: P, value: '3g', parts: ['observability'], where: 'ES_JAVA_OPTS', shows: /3g/ },
  elasticsearchMemory: { base: P, value: '5Gi', parts: ['observability'], where: 'name=elasticsearch].resources.limits.memory', shows: '5Gi' },
  elasticsearchCpuRequest: { base: P, value: '2', parts: ['observability'], where: 'name=elasticsearch].resources.requests.cpu', shows: '2' },
  kibanaCpuRequest: { base: P, value: '300m', parts: ['observability'], where: 'name=kibana].resources.requests.cpu', shows: '300m' },
};

describe('FxProfile.custom reaches every field', () => {
  test('the table names every settings field', () => {
    const fields = Object.keys(FxProfile.DEVELOPMENT.settings).filter((k) => k !== 'name' && k !== 'production').sort();
    expect(Object.keys(REACH).sort()).toEqual(fields);
  });

  // One synthesis per group of rows that can share one: same base, parts and tweaks, no error row, and
  // no two rows that could show the same value at overlapping places (so each row still proves its own
  // field is read). Groups keep the suite fast; a row whose field nothing reads still fails.
  const groups = groupRows(Object.entries(REACH));
  test.each(groups.map((g) => [g.map(([f]) => f).join(', '), g] as const))('%s', (_name, group) => {
    const [, first] = group[0];
    const parts = first.parts ?? [];
    const tweaks = first.tweaks ?? {};
    const overrides: Record<string, unknown> = {};
    for (const [field, row] of group) {
      expect(row.value).not.toEqual((row.base.settings as any)[field]);
      overrides[field] = row.value;
    }
    const before = baseline(first.base, parts, tweaks);
    const custom = FxProfile.custom(first.base, 'custom', overrides as FxProfileOverrides);
    const after = build(custom, parts, tweaks);
    const all = changes(before, after);
    for (const [field, row] of group) {
      const shown = all.filter((c) => c.split(' = ')[0].includes(row.where)).filter((c) => {
        const value = c.slice(c.indexOf(' = ') + 3);
        return row.shows instanceof RegExp ? row.shows.test(JSON.parse(value === '(absent)' ? '""' : value)) : value === JSON.stringify(row.shows);
      });
      if (shown.length === 0) {
        // Say where the field did show (or that nothing changed) to make the row easy to fix.
        throw new Error(`${field}: no change at '${row.where}' to ${String(row.shows)}; changed:\n${all.slice(0, 40).join('\n')}`);
      }
    }
  });
});

type Row = readonly [string, Reach];
/** Rows that may share a synthesis (see above), greedily grouped in table order. */
function groupRows(rows: Row[]): Row[][] {
  const groups: Row[][] = [];
  const key = (r: Reach) => JSON.stringify([r.base.name, r.parts ?? [], r.tweaks ?? {}]);
  const clash = (a: Reach, b: Reach) => (a.where.includes(b.where) || b.where.includes(a.where))
    && (a.shows instanceof RegExp || b.shows instanceof RegExp || JSON.stringify(a.shows) === JSON.stringify(b.shows));
  for (const row of rows) {
    const alone = row[1].where === 'error';
    const home = alone ? undefined : groups.find((g) => g[0][1].where !== 'error' && key(g[0][1]) === key(row[1]) && g.every(([, r]) => !clash(r, row[1])));
    if (home) home.push(row);
    else groups.push([row]);
  }
  return groups;
}

test('rows that could show the same value at the same place never share a synthesis', () => {
  const a: Reach = { base: FxProfile.DEVELOPMENT, value: 1, where: 'Threshold', shows: 77 };
  const b: Reach = { base: FxProfile.DEVELOPMENT, value: 2, where: 'Threshold', shows: 77 };
  const c: Reach = { base: FxProfile.DEVELOPMENT, value: 3, where: 'Threshold', shows: 78 };
  expect(groupRows([['a', a], ['b', b], ['c', c]]).map((g) => g.map(([f]) => f))).toEqual([['a', 'c'], ['b']]);
});

describe('profile values are validated like the props they default', () => {
  test.each([
    ['prometheusStorage', FxProfile.DEVELOPMENT,
      "FxObservability at Platform/Observability: invalid prometheusStorage (from profile custom) '1536 MiB'; allowed: whole GiB from 1 to 16384 (gp3 volume sizes)"],
    ['elasticsearchStorage', FxProfile.PRODUCTION,
      "FxObservability at Platform/Observability: invalid elasticsearchStorage (from profile custom) '1536 MiB'; allowed: whole GiB from 1 to 16384 (gp3 volume sizes)"],
  ])('a fractional %s fails', (field, base, message) => {
    const custom = FxProfile.custom(base, 'custom', { [field]: Size.mebibytes(1536) } as FxProfileOverrides);
    expect(build(custom, ['observability'], {}).get('error')).toBe(message);
  });
});
