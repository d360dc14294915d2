import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CfnParameter, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FxCluster, FxImage, FxMicroservice, FxObservability, FxObservabilityProps, FxProfile, FxVersions } from '../src';
import { clusterWithAddons, ENV, ObservabilityScenario, testApp } from './util/fixtures';

type Json = Record<string, any>;

const ROW = FxVersions.forKubernetes(FxVersions.DEFAULT_KUBERNETES_VERSION);
const ADDON = 'amazon-cloudwatch-observability';

type Scenario = ObservabilityScenario;

function scenario(profile: FxProfile, props: Omit<FxObservabilityProps, 'cluster'>, opts: { domain?: boolean; outdir?: string } = {}): Scenario {
  const app = testApp(opts.outdir);
  const stack = new Stack(app, 'Platform', { env: ENV });
  const cluster = opts.domain
    ? clusterWithAddons(stack, profile, { endpointAllowlist: ['203.0.113.0/24'] })
    : new FxCluster(stack, 'Cluster', { profile });
  const observability = new FxObservability(stack, 'Observability', { cluster, ...props });
  return { app, stack, cluster, observability, template: undefined as unknown as Template };
}

function withTemplate(s: Scenario): Scenario {
  return { ...s, template: Template.fromStack(s.stack) };
}

function resourceTypes(t: Template): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of Object.values(t.toJSON().Resources) as Json[]) counts[r.Type] = (counts[r.Type] ?? 0) + 1;
  return counts;
}

function insightsAddons(t: Template): Json[] {
  return Object.values(t.findResources('AWS::EKS::Addon', { Properties: { AddonName: ADDON } }));
}

function alarmIds(t: Template): string[] {
  return Object.keys(t.findResources('AWS::CloudWatch::Alarm')).map((id) => id.replace(/[0-9A-F]{8}$/, '')).sort();
}

/** The Container Insights log groups by their last path segment. */
function insightsGroups(t: Template): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const g of Object.values(t.findResources('AWS::Logs::LogGroup')) as Json[]) {
    const name = JSON.stringify(g.Properties.LogGroupName ?? '');
    const m = /containerinsights\/.*\/(\w+)"\]\]\}$/.exec(name);
    if (m) out[m[1]] = g;
  }
  return out;
}

const INSIGHTS_ALARMS = ['ObservabilityFailedNodesAlarm', 'ObservabilityNodeCpuAlarm', 'ObservabilityNodeDiskAlarm',
  'ObservabilityNodeMemoryAlarm', 'ObservabilityPodRestartsAlarm'];

let devOn: Scenario;
let devOff: Scenario;
let prodOff: Scenario;
let custom: Scenario;
let tokens: Scenario;
let nagOutdir: string;
let nagError: unknown;

beforeAll(() => {
  devOn = withTemplate(scenario(FxProfile.DEVELOPMENT, {}));
  devOff = withTemplate(scenario(FxProfile.DEVELOPMENT, { containerInsights: { enabled: false } }));
  // Production: ELK on, the ACM path (the platform ALB and its alarms), and the AwsSolutions pack as a gate.
  nagOutdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk.out-container-insights-'));
  const p = scenario(FxProfile.PRODUCTION, { containerInsights: { enabled: false }, logRetention: logs.RetentionDays.ONE_MONTH },
    { domain: true, outdir: nagOutdir });
  Validations.of(p.app).addPlugins(new AwsSolutionsChecks(p.app));
  try {
    p.app.synth();
  } catch (e) {
    nagError = e;
  }
  prodOff = { ...p, template: Template.fromJSON(JSON.parse(fs.readFileSync(path.join(nagOutdir, 'Platform.template.json'), 'utf8'))) };
  custom = withTemplate(scenario(FxProfile.DEVELOPMENT, {
    containerInsights: {
      addonVersion: 'v4.7.0-eksbuild.1',
      configuration: {
        agent: { config: { logs: { metrics_collected: { kubernetes: { accelerated_compute_metrics: false } } } } },
        tolerations: [{ operator: 'Exists' }],
        containerLogs: { enabled: false },
      },
    },
  }));
  const t = scenario(FxProfile.DEVELOPMENT, {});
  const version = new CfnParameter(t.stack, 'InsightsVersion', { default: 'v4.6.0-eksbuild.1' });
  tokens = withTemplate({
    ...t,
    observability: new FxObservability(t.stack, 'Tokens', {
      cluster: new FxCluster(t.stack, 'Cluster2', { profile: FxProfile.DEVELOPMENT, platformName: 'fx-tokens' }),
      containerInsights: {
        addonVersion: version.valueAsString,
        configuration: { agent: { config: { logs: { region_override: t.stack.region } } }, labels: { 'fx/version': version.valueAsString } },
      },
    }),
  });
});

afterAll(() => {
  if (nagOutdir) fs.rmSync(nagOutdir, { recursive: true, force: true });
});

describe('containerInsights.enabled (default true)', () => {
  test('on by default: the add-on at the table version, its role, four log groups, the sampling rule and the node alarms', () => {
    expect(insightsAddons(devOn.template)).toHaveLength(1);
    expect(insightsAddons(devOn.template)[0].Properties.AddonVersion).toBe(ROW.addons.cloudWatchObservability);
    expect(Object.keys(insightsGroups(devOn.template)).sort()).toEqual(['application', 'dataplane', 'host', 'performance']);
    devOn.template.resourceCountIs('AWS::XRay::SamplingRule', 1);
    expect(alarmIds(devOn.template)).toEqual(INSIGHTS_ALARMS);
    expect(devOn.observability.otlpHttpEndpoint).toBe('http://cloudwatch-agent.amazon-cloudwatch:4318');
    expect(devOn.observability.containerInsightsAddon).toBeDefined();
  });

  test('off: no add-on, Pod Identity role, log groups, log key, sampling rule or Container Insights alarm', () => {
    expect(insightsAddons(devOff.template)).toHaveLength(0);
    devOff.template.resourceCountIs('AWS::XRay::SamplingRule', 0);
    devOff.template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    expect(insightsGroups(devOff.template)).toEqual({});
    expect(Object.keys(devOff.template.findResources('AWS::KMS::Key')).filter((id) => id.startsWith('ObservabilityLogKey'))).toEqual([]);
    const json = JSON.stringify(devOff.template.toJSON());
    for (const gone of ['containerinsights', ADDON, 'CloudWatchAgentRole', 'CloudWatch agent and Fluent Bit of Container Insights', 'TraceSamplingRule']) {
      expect(json).not.toContain(gone);
    }
    expect(devOff.observability.containerInsightsAddon).toBeUndefined();
    expect(devOff.observability.samplingRule).toBeUndefined();
    expect(devOff.observability.logKey).toBeUndefined();
    expect(devOff.observability.logGroups).toEqual([]);
    expect(devOff.observability.alarms).toEqual([]);
  });

  test('off: exactly the Container Insights resources are gone', () => {
    const on = resourceTypes(devOn.template);
    const off = resourceTypes(devOff.template);
    const dropped = Object.fromEntries(Object.keys(on).map((type) => [type, on[type] - (off[type] ?? 0)]).filter(([, n]) => n !== 0));
    expect(dropped).toEqual({
      'AWS::EKS::Addon': 1,
      'AWS::IAM::Role': 1,
      'AWS::IAM::Policy': 1,
      'AWS::KMS::Key': 1,
      'AWS::Logs::LogGroup': 4,
      'AWS::XRay::SamplingRule': 1,
      'AWS::CloudWatch::Alarm': 5,
    });
  });

  test('off: no OTLP endpoint; a service given this observability gets no exporter and no egress to a collector', () => {
    expect(devOff.observability.otlpEndpoint).toBeUndefined();
    expect(devOff.observability.otlpHttpEndpoint).toBeUndefined();
    const { stack, cluster, observability } = scenario(FxProfile.DEVELOPMENT, { containerInsights: { enabled: false } });
    new FxMicroservice(stack, 'Orders', { cluster, image: FxImage.fromRegistry('ghcr.io/acme/orders:1.0.0'), port: 8080, observability });
    const json = JSON.stringify(Template.fromStack(stack).toJSON());
    expect(json).toContain('OTEL_SERVICE_NAME');
    expect(json).toContain('OTEL_TRACES_EXPORTER');
    expect(json).not.toContain('OTEL_EXPORTER_OTLP_ENDPOINT');
    expect(json).not.toContain('amazon-cloudwatch');
    expect(json).not.toContain('4318');
  });

  test('off with ELK: the application, host and dataplane groups stay (KMS, retention) for ELK\'s Fluent Bit, not performance', () => {
    const groups = insightsGroups(prodOff.template);
    expect(Object.keys(groups).sort()).toEqual(['application', 'dataplane', 'host']);
    for (const g of Object.values(groups)) {
      expect(g.Properties.RetentionInDays).toBe(30);
      expect(g.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^ObservabilityLogKey/), 'Arn'] });
    }
    expect(insightsAddons(prodOff.template)).toHaveLength(0);
    prodOff.template.resourceCountIs('AWS::XRay::SamplingRule', 0);
    expect(prodOff.observability.logGroups).toHaveLength(3);
    expect(prodOff.observability.logShipper).toBeDefined();
    // Fluent Bit may write exactly these three groups (the other writer in the stack is the VPC flow log role).
    const logGroupIds = Object.keys(prodOff.template.findResources('AWS::Logs::LogGroup', { Properties: { KmsKeyId: Match.anyValue() } }))
      .filter((id) => id.startsWith('Observability') && /(Application|Host|Dataplane)Logs/.test(id));
    expect(logGroupIds).toHaveLength(3);
    const writes = (Object.values(prodOff.template.findResources('AWS::IAM::Policy')) as Json[])
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((s: Json) => JSON.stringify(s.Action).includes('logs:PutLogEvents'));
    const written = new Set(writes.flatMap((s: Json) => [s.Resource].flat()).map((r: Json) => r['Fn::GetAtt']?.[0])
      .filter((id?: string) => id?.startsWith('Observability')));
    expect([...written].sort()).toEqual([...logGroupIds].sort());
  });

  test('off with the platform ALB: its alarms stay, the Container Insights ones are not created', () => {
    expect(alarmIds(prodOff.template)).toEqual(['ObservabilityLoadBalancer5xxAlarm', 'ObservabilityLoadBalancerTarget5xxAlarm', 'ObservabilityTargetResponseTimeAlarm']);
    const body = JSON.stringify(Object.values(prodOff.template.findResources('AWS::CloudWatch::Dashboard'))[0]);
    expect(body).not.toContain('ContainerInsights');
    expect(body).toContain('HTTPCode_ELB_5XX_Count');
  });

  test('off: the AwsSolutions pack passes (the remaining roles keep their acknowledgements)', () => {
    expect(nagError).toBeUndefined();
    const metadata = fs.readFileSync(path.join(nagOutdir, 'Platform.metadata.json'), 'utf8');
    expect(metadata).toContain('Grafana\'s read-only CloudWatch datasource');
    expect(metadata).not.toContain('CloudWatchAgentRole');
  });
});

describe('containerInsights.addonVersion and configuration', () => {
  test('the version override replaces the table version', () => {
    const addon = insightsAddons(custom.template)[0];
    expect(addon.Properties.AddonVersion).toBe('v4.7.0-eksbuild.1');
    expect(ROW.addons.cloudWatchObservability).not.toBe('v4.7.0-eksbuild.1');
  });

  test('the configuration is deep-merged over the library\'s: objects merge, arrays and values replace', () => {
    const config = JSON.parse(insightsAddons(custom.template)[0].Properties.ConfigurationValues);
    expect(config).toEqual({
      agent: {
        config: {
          logs: { metrics_collected: { kubernetes: { enhanced_container_insights: true, accelerated_compute_metrics: false } } },
          traces: { traces_collected: { otlp: { grpc_endpoint: '0.0.0.0:4317', http_endpoint: '0.0.0.0:4318' } } },
        },
      },
      containerLogs: { enabled: false },
      tolerations: [{ operator: 'Exists' }],
    });
    const devConfig = JSON.parse(insightsAddons(devOn.template)[0].Properties.ConfigurationValues);
    expect(devConfig.containerLogs).toEqual({ enabled: true });
    expect(devConfig.tolerations).toBeUndefined();
  });

  test('tokens pass: a parameter as version, tokens inside the configuration resolve into valid JSON', () => {
    const addon = Object.entries(tokens.template.findResources('AWS::EKS::Addon', { Properties: { AddonName: ADDON } }))
      .find(([id]) => id.startsWith('Tokens'))![1] as Json;
    expect(addon.Properties.AddonVersion).toEqual({ Ref: 'InsightsVersion' });
    const joined = addon.Properties.ConfigurationValues['Fn::Join'];
    expect(joined).toBeDefined();
    const text = (joined[1] as any[]).map((p) => (typeof p === 'string' ? p : p.Ref === 'AWS::Region' ? 'us-east-1' : 'v4.6.0-eksbuild.1')).join('');
    const config = JSON.parse(text);
    expect(config.agent.config.logs.region_override).toBe('us-east-1');
    expect(config.labels).toEqual({ 'fx/version': 'v4.6.0-eksbuild.1' });
    expect(config.agent.config.traces.traces_collected.otlp.grpc_endpoint).toBe('0.0.0.0:4317');
  });
});

describe('bad containerInsights input fails with the construct path, prop, value and what is allowed', () => {
  let stack: Stack;
  let cluster: FxCluster;
  let n = 0;
  beforeAll(() => {
    stack = new Stack(testApp(), 'Platform', { env: ENV });
    cluster = new FxCluster(stack, 'Cluster', { profile: FxProfile.DEVELOPMENT });
  });
  const errorOf = (props: Omit<FxObservabilityProps, 'cluster'>): string => {
    const id = `Bad${++n}`;
    try {
      new FxObservability(stack, id, { cluster, ...props });
    } catch (e) {
      return (e as Error).message.replace(`Platform/${id}:`, 'Platform/<id>:');
    }
    throw new Error(`${id} did not fail`);
  };
  const at = 'FxObservability at Platform/<id>: invalid';

  test.each<[string, Omit<FxObservabilityProps, 'cluster'>, string]>([
    ['a version without eksbuild', { containerInsights: { addonVersion: '4.6.0' } },
      `${at} containerInsights.addonVersion '4.6.0'; allowed: an exact EKS add-on version such as v4.6.0-eksbuild.1`],
    ['a chart-style version', { containerInsights: { addonVersion: 'v4.6.0' } },
      `${at} containerInsights.addonVersion 'v4.6.0'; allowed: an exact EKS add-on version such as v4.6.0-eksbuild.1`],
    ['a version that is no string', { containerInsights: { addonVersion: 4 as any } },
      `${at} containerInsights.addonVersion 4; allowed: an exact EKS add-on version such as v4.6.0-eksbuild.1`],
    ['configuration as an array', { containerInsights: { configuration: [{ agent: {} }] as any } },
      `${at} containerInsights.configuration [{"agent":{}}]; allowed: a JSON object of the add-on's configuration values (aws eks describe-addon-configuration)`],
    ['configuration as a string', { containerInsights: { configuration: '{"agent":{}}' as any } },
      `${at} containerInsights.configuration '{"agent":{}}'; allowed: a JSON object of the add-on's configuration values (aws eks describe-addon-configuration)`],
    ['an undefined value in the configuration', { containerInsights: { configuration: { agent: { name: undefined } } } },
      `${at} containerInsights.configuration.agent.name (undefined); allowed: JSON values: strings, finite numbers, booleans, null, arrays and objects`],
    ['a function in the configuration', { containerInsights: { configuration: { tolerations: [() => 1] } } },
      `${at} containerInsights.configuration.tolerations[0] 'a function'; allowed: JSON values: strings, finite numbers, booleans, null, arrays and objects`],
    ['a Date in the configuration', { containerInsights: { configuration: { since: new Date(0) } } },
      `${at} containerInsights.configuration.since 'a Date'; allowed: JSON values: strings, finite numbers, booleans, null, arrays and objects`],
    ['NaN in the configuration', { containerInsights: { configuration: { agent: { interval: NaN } } } },
      `${at} containerInsights.configuration.agent.interval NaN; allowed: JSON values: strings, finite numbers, booleans, null, arrays and objects`],
    ['the add-on\'s Fluent Bit next to ELK\'s', { elk: true, containerInsights: { configuration: { containerLogs: { enabled: true } } } },
      `${at} containerInsights.configuration.containerLogs.enabled true; allowed: false or unset while elk is true (ELK's Fluent Bit ships `
      + 'the container logs; two agents would ship every line twice)'],
    ['enabled that is no boolean', { containerInsights: { enabled: 'no' as any } }, `${at} containerInsights.enabled 'no'; allowed: true or false`],
    ['add-on settings while off', { containerInsights: { enabled: false, addonVersion: 'v4.6.0-eksbuild.1', configuration: {} } },
      `${at} containerInsights.addonVersion, containerInsights.configuration 'set while containerInsights.enabled is false'; allowed: add-on settings only when Container Insights is installed`],
    ['Container Insights settings while off', {
      containerInsights: { enabled: false },
      traceSamplingRate: 0.5,
      logRetention: logs.RetentionDays.ONE_WEEK,
      alarmThresholds: { nodeCpuPercent: 70, podRestarts: 3, targetResponseTime: Duration.seconds(3) },
    }, `${at} traceSamplingRate, logRetention, alarmThresholds.nodeCpuPercent, alarmThresholds.podRestarts 'set while containerInsights.enabled is false'; `
      + 'allowed: Container Insights settings only when it is installed (logRetention also with elk, for the log groups ELK ships to)'],
  ])('%s', (_, props, message) => {
    expect(errorOf(props)).toBe(message);
  });

  test('legal values pass: off with the load balancer thresholds only', () => {
    const obs = new FxObservability(stack, 'Legal', {
      cluster, containerInsights: { enabled: false }, alarmThresholds: { loadBalancer5xxCount: 5, evaluationPeriods: 2 },
    });
    expect(obs.containerInsightsAddon).toBeUndefined();
  });
});
