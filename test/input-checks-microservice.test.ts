import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import {
  FxCluster, FxConcurrencyPolicy, FxImage, FxMicroservice, FxMicroserviceProps, FxNodeOperator, FxProbe, FxProfile, FxServiceStacks, FxVolume,
  FxWorkload,
} from '../src';
import { clusterWithAddons, ENV, testApp } from './util/fixtures';
import { IFxWorkloadObservability } from '../src/core/contracts';
import { isConfigKey, isQuantity, quantityValue } from '../src/core/k8s-names';
import { cronScheduleProblem, isTimeZone, timeZoneHint } from '../src/microservice/validation';

/**
 * Input checks of FxMicroservice, FxImage and FxServiceStacks: deploy-time tokens where they can and
 * cannot work, Kubernetes limits the API server enforces, names derived across services, and legal
 * values that must pass. One cluster is shared; each case builds its own service.
 */

type Obj = Record<string, any>;

class FakeObservability implements IFxWorkloadObservability {
  public readonly otlpEndpoint = 'http://otel.monitoring:4317';
  public readonly otlpHttpEndpoint = 'http://otel.monitoring:4318';
  public serviceDashboard(namespace: string, serviceName: string): Record<string, any> {
    return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${serviceName}-dashboard`, namespace }, data: { 'd.json': '{}' } };
  }
}

let app: App;
let stack: Stack;
let cluster: FxCluster;
let secret: secretsmanager.ISecret;
let assetDir: string;
const image = FxImage.fromRegistry('ghcr.io/acme/api:1.0.0');
/** A database stand-in: the checks that use it only ask whether one is given, and throw before it is used. */
const database = {} as any;
const observability = new FakeObservability();
let n = 0;

beforeAll(() => {
  app = testApp();
  stack = new Stack(app, 'Checks', { env: ENV });
  cluster = clusterWithAddons(stack, FxProfile.DEVELOPMENT);
  secret = secretsmanager.Secret.fromSecretNameV2(stack, 'Secret', 'api-keys');
  assetDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-input-checks-'));
  fs.writeFileSync(path.join(assetDir, 'Dockerfile'), 'FROM scratch\n');
});

const num = (name: string) => new CfnParameter(stack, `${name}${++n}`, { type: 'Number' }).valueAsNumber;
const str = (name: string) => new CfnParameter(stack, `${name}${++n}`, { type: 'String' }).valueAsString;
const host = () => `h${++n}.fx.example.com`;

/** Builds a service with a fresh id; returns it, or the message it throws. */
function build(props: Partial<FxMicroserviceProps>, id = `S${++n}`): { at: string; service?: FxMicroservice; error?: string } {
  try {
    return { at: `Checks/${id}`, service: new FxMicroservice(stack, id, { cluster, image, serviceName: `s-${n}`, ...props }) };
  } catch (e) {
    return { at: `Checks/${id}`, error: (e as Error).message };
  }
}

/** The exact message of a refused service: `FxMicroservice at <path>: invalid <rest>`. */
function expectRefused(props: Partial<FxMicroserviceProps>, rest: string): void {
  const { at, error } = build(props);
  expect(error).toBe(`FxMicroservice at ${at}: invalid ${rest}`);
}

function expectAccepted(props: Partial<FxMicroserviceProps>): FxMicroservice {
  const { service, error } = build(props);
  expect(error).toBeUndefined();
  return service!;
}

const objects = (s: FxMicroservice): Obj[] => s.chart.toJson();
const find = (s: FxMicroservice, kind: string, name?: string): Obj | undefined =>
  objects(s).find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
/** An object as CloudFormation gets it: deploy-time values as Ref. */
const resolved = (s: FxMicroservice, kind: string, name?: string): string => JSON.stringify(stack.resolve(find(s, kind, name)));

describe('deploy-time tokens', () => {
  test('replica counts from parameters are never compared or computed with', () => {
    const hpa = expectAccepted({ autoscaling: { minReplicas: 2, maxReplicas: num('Max') } });
    expect(resolved(hpa, 'HorizontalPodAutoscaler')).toContain('"maxReplicas":{"Ref":"Max');
    const both = expectAccepted({ autoscaling: { minReplicas: num('Min'), maxReplicas: num('Max') } });
    expect(find(both, 'PodDisruptionBudget')).toBeDefined();
    const worker = expectAccepted({ workload: FxWorkload.worker({ replicas: num('Replicas') }) });
    expect(resolved(worker, 'PodDisruptionBudget')).toContain('"maxUnavailable":1');
    expect(resolved(worker, 'Deployment')).toContain('"replicas":{"Ref":"Replicas');
    // a quota with pods and a deploy-time minimum
    expectAccepted({ autoscaling: { minReplicas: num('Min'), maxReplicas: 4 }, quota: { pods: 3 } });
    // literal one-replica worker: no budget, as before
    expect(find(expectAccepted({ workload: FxWorkload.worker({ replicas: 1 }) }), 'PodDisruptionBudget')).toBeUndefined();
  });

  test('a deploy-time minReplicas without maxReplicas is refused: the default maximum is computed from it', () => {
    expectRefused({ autoscaling: { minReplicas: num('Min') } },
      "autoscaling.minReplicas '(a deploy-time token)'; allowed: a value known at synth: the default autoscaling.maxReplicas (the profile's serviceMaxReplicas, raised to minReplicas) is computed from it: set autoscaling.maxReplicas too");
    expectRefused({ autoscaling: { minReplicas: num('Min'), cpuTargetPercent: 50 } },
      "autoscaling.minReplicas '(a deploy-time token)'; allowed: a value known at synth: the default autoscaling.maxReplicas (the profile's serviceMaxReplicas, raised to minReplicas) is computed from it: set autoscaling.maxReplicas too");
  });

  test('a maxReplicas below the profile minimum names the profile', () => {
    const labStack = new Stack(app, 'Lab', { env: ENV });
    const profile = FxProfile.custom(FxProfile.DEVELOPMENT, 'lab', { serviceMinReplicas: 3 });
    const lab = clusterWithAddons(labStack, profile);
    const attempt = (id: string, maxReplicas: number) => () =>
      new FxMicroservice(labStack, id, { cluster: lab, image, autoscaling: { maxReplicas } });
    expect(attempt('a', 2)).toThrow('FxMicroservice at Lab/a: invalid autoscaling.maxReplicas 2; allowed: at least autoscaling.minReplicas (from profile lab), which is 3');
    expect(attempt('b', 1)).toThrow('FxMicroservice at Lab/b: invalid autoscaling.maxReplicas 1; allowed: at least autoscaling.minReplicas (from profile lab), which is 3');
    expect(attempt('c', 3)).not.toThrow();
    // both given: the minimum is named, as before
    expect(() => new FxMicroservice(labStack, 'd', { cluster: lab, image, autoscaling: { minReplicas: 4, maxReplicas: 3 } }))
      .toThrow('FxMicroservice at Lab/d: invalid autoscaling.minReplicas 4; allowed: at most autoscaling.maxReplicas (3)');
  });

  test('a canary weight must be known at synth; retries from a parameter keep their middleware', () => {
    const canary = (weight: number) => ({ route: { host: host(), canary: { image, weight } } });
    expectRefused(canary(num('W')), "route.canary.weight '(a deploy-time token)'; allowed: a value known at synth: the stable service gets 100 minus it, worked out at synth");
    expectRefused({ ...canary(num('W')), autoscaling: { maxReplicas: 5 } },
      "route.canary.weight '(a deploy-time token)'; allowed: a value known at synth: the stable service gets 100 minus it, worked out at synth");
    const retry = expectAccepted({ route: { host: host(), retryAttempts: num('Retry') } });
    const retryOf = (s: FxMicroservice) => objects(s).find((o) => o.kind === 'Middleware' && o.metadata.name.endsWith('-retry'));
    expect(JSON.stringify(stack.resolve(retryOf(retry)))).toContain('"attempts":{"Ref":"Retry');
    expect(retryOf(expectAccepted({ route: { host: host(), retryAttempts: 0 } }))).toBeUndefined();
  });

  test('alert thresholds from parameters reach the rules as tokens; a latency token in another unit is refused', () => {
    const service = expectAccepted({ observability, alerts: { errorRatio: num('Ratio'), latencyP99: Duration.seconds(num('Latency')) } });
    const rule = resolved(service, 'PrometheusRule');
    expect(rule).toContain('{"Ref":"Ratio');
    expect(rule).toContain('{"Ref":"Latency');
    expect(rule).not.toMatch(/e\+289/);
    expect(rule).toContain('answers a ratio of 5xx above');
    const literal = JSON.stringify(find(expectAccepted({ observability, alerts: { errorRatio: 0.1, latencyP99: Duration.millis(250) } }), 'PrometheusRule'));
    expect(literal).toContain('> 0.25');
    expect(literal).toContain('more than 10% 5xx');
    expectRefused({ observability, alerts: { latencyP99: Duration.millis(num('Ms')) } },
      "alerts.latencyP99 'Duration.millis(<token>)'; allowed: a deploy-time value only as Duration.seconds(<token>) (a token in another unit cannot be converted at synth)");
    expectRefused({ observability, alerts: { latencyP99: Duration.minutes(num('Min')) } },
      "alerts.latencyP99 'Duration.minutes(<token>)'; allowed: a deploy-time value only as Duration.seconds(<token>) (a token in another unit cannot be converted at synth)");
  });

  test('imagesToKeep must be known at synth when the service gets a repository', () => {
    const asset = FxImage.fromAsset(assetDir);
    const why = "a value known at synth: it is written into the repository's lifecycle policy, a JSON document CloudFormation takes as one string";
    expectRefused({ image: asset, imagesToKeep: num('Keep') }, `imagesToKeep '(a deploy-time token)'; allowed: ${why}`);
    expectRefused({ image: asset, imagesToKeep: num('Keep'), spot: true }, `imagesToKeep '(a deploy-time token)'; allowed: ${why}`);
    expect(expectAccepted({ image: asset, imagesToKeep: 5 }).repository).toBeDefined();
  });

  test('durations from parameters in another unit than seconds are refused naming the prop', () => {
    const unit = (d: string) => `'${d}'; allowed: a deploy-time value only as Duration.seconds(<token>) (a token in another unit cannot be converted at synth)`;
    expectRefused({ terminationGracePeriod: Duration.minutes(num('G')) }, `terminationGracePeriod ${unit('Duration.minutes(<token>)')}`);
    expectRefused({ migration: { command: ['migrate'], timeout: Duration.hours(num('T')) } }, `migration.timeout ${unit('Duration.hours(<token>)')}`);
    expectRefused({ probes: { liveness: FxProbe.http('/h', { period: Duration.minutes(num('P')) }) } }, `probes.liveness period ${unit('Duration.minutes(<token>)')}`);
    expectRefused({ probes: { readiness: FxProbe.http('/h', { initialDelay: Duration.minutes(num('D')) }) } }, `probes.readiness initialDelay ${unit('Duration.minutes(<token>)')}`);
    expectRefused({ workload: FxWorkload.scheduledJob({ schedule: '0 3 * * *', activeDeadline: Duration.hours(num('A')) }) },
      `workload activeDeadline ${unit('Duration.hours(<token>)')}`);
    const ok = expectAccepted({
      terminationGracePeriod: Duration.seconds(num('G')),
      migration: { command: ['migrate'], timeout: Duration.seconds(num('T')) },
      probes: { liveness: FxProbe.http('/h', { period: Duration.seconds(num('P')), timeout: Duration.seconds(num('T')), initialDelay: Duration.seconds(num('D')) }) },
    });
    const job = objects(ok).find((o) => o.kind === 'Job')!;
    expect(JSON.stringify(stack.resolve(job))).toContain('"activeDeadlineSeconds":{"Ref":"T');
    expect(JSON.stringify(stack.resolve(find(ok, 'Deployment')))).toMatch(/"--timeout=",\{"Ref":"T\d+"\},"s"/);
    expectAccepted({ workload: FxWorkload.scheduledJob({ schedule: '0 3 * * *', activeDeadline: Duration.seconds(num('A')) }) });
  });

  test('a deploy-time quota of pods reaches the ResourceQuota as a token', () => {
    const service = expectAccepted({ quota: { pods: num('Pods') } });
    expect(resolved(service, 'ResourceQuota')).toContain('"pods":{"Ref":"Pods');
  });
});

describe('what the API server refuses', () => {
  test('the name of an HTTP service (or a StatefulSet) starts with a letter', () => {
    expectRefused({ serviceName: '1api' }, "serviceName '1api'; allowed: a name starting with a letter: it names the Kubernetes Service of an HTTP service, a DNS-1035 label");
    expectRefused({ serviceName: '9-worker', workload: FxWorkload.worker(), volumes: [FxVolume.gp3({ name: 'data', mountPath: '/data' })] },
      "serviceName '9-worker'; allowed: a name starting with a letter: it names the Kubernetes Service of a StatefulSet, a DNS-1035 label");
    expectAccepted({ serviceName: '1worker', workload: FxWorkload.worker() });
  });

  test("metricsPort is not the Service's port 80", () => {
    const why = "a port other than 80, the Service's http port (or the container port, to be scraped on it)";
    expectRefused({ metricsPort: 80 }, `metricsPort 80; allowed: ${why}`);
    expectRefused({ port: 8080, metricsPort: 80 }, `metricsPort 80; allowed: ${why}`);
    expectAccepted({ port: 9000, metricsPort: 9000 });
    expectAccepted({ port: 80, metricsPort: 80 });
    expectAccepted({ metricsPort: 9090 });
  });

  test('probe counts and times are at most the int32 maximum', () => {
    expectRefused({ probes: { liveness: FxProbe.http('/h', { failureThreshold: 2 ** 31 }) } },
      'probes.liveness failureThreshold 2147483648; allowed: an integer from 1 to 2147483647 (the int32 maximum)');
    expectRefused({ probes: { readiness: FxProbe.tcp({ period: Duration.seconds(2 ** 31) }) } },
      'probes.readiness period 2147483648; allowed: a whole number of seconds up to 2147483647 (the int32 maximum)');
    expectRefused({ probes: { startup: FxProbe.tcp({ initialDelay: Duration.seconds(2 ** 31) }) } },
      'probes.startup initialDelay 2147483648; allowed: a whole number of seconds up to 2147483647 (the int32 maximum)');
    expectRefused({ workload: FxWorkload.job({ activeDeadline: Duration.seconds(2 ** 31) }) },
      'workload activeDeadline 2147483648; allowed: a whole number of seconds up to 2147483647 (the int32 maximum)');
    expectRefused({ migration: { command: ['m'], timeout: Duration.seconds(2 ** 31) } },
      'migration.timeout 2147483648; allowed: a whole number of seconds up to 2147483647 (the int32 maximum)');
    expectAccepted({
      probes: { liveness: FxProbe.http('/h', { failureThreshold: 2 ** 31 - 1, period: Duration.seconds(2 ** 31 - 1), initialDelay: Duration.seconds(2 ** 31 - 1) }) },
    });
  });

  test('sidecar and init container requests are at most their limits, defaults included', () => {
    const sidecar = (resources: object) => ({ sidecars: [{ name: 'proxy', image, resources }] });
    expectRefused(sidecar({ cpuRequest: '2', cpuLimit: '1' }), "sidecars[0].resources.cpuLimit '1'; allowed: at least sidecars[0].resources.cpuRequest (2)");
    expectRefused(sidecar({ memoryRequest: '1Gi' }),
      "sidecars[0].resources.memoryRequest '1Gi'; allowed: at most sidecars[0].resources.memoryLimit (128Mi, the default): set sidecars[0].resources.memoryLimit too");
    expectRefused({ initContainers: [{ name: 'init', image, resources: { cpuLimit: '10m' } }] },
      "initContainers[0].resources.cpuLimit '10m'; allowed: at least initContainers[0].resources.cpuRequest (50m, the default)");
    expectAccepted(sidecar({ cpuRequest: '200m', memoryRequest: '128Mi' }));
    expectAccepted(sidecar({ cpuRequest: num('Cpu'), memoryLimit: str('Mem') }));
  });

  test('memory is never given with the milli suffix', () => {
    const bytes = "a quantity of bytes such as '512Mi' or '1Gi' (not the milli suffix m: '512m' is 0.512 bytes)";
    expectRefused({ resources: { memoryLimit: '512m' } }, `resources.memoryLimit '512m'; allowed: ${bytes}`);
    expectRefused({ sidecars: [{ name: 'proxy', image, resources: { memoryRequest: '256m' } }] }, `sidecars[0].resources.memoryRequest '256m'; allowed: ${bytes}`);
    expectRefused({ quota: { memory: '8000m' } }, "quota.memory '8000m'; allowed: a quantity of bytes such as '8Gi' (not the milli suffix m)");
    expectAccepted({ resources: { memoryRequest: '1E8', memoryLimit: '512Mi', cpuRequest: '1e-1' } });
  });

  test('writable paths of a long-named container leave room for their volume names', () => {
    const name = 'x'.repeat(60);
    expectRefused({ sidecars: [{ name, image, securityContext: { writablePaths: ['/cache'] } }] },
      `sidecars[0].securityContext.writablePaths[0] '/cache'; allowed: a writable path of a container whose name leaves room for its volume ${name}-writable-0 (71 characters, at most 63): shorten sidecars[0].name`);
    expectRefused({ initContainers: [{ name: 'y'.repeat(53), image, securityContext: { writablePaths: ['/a'] } }] },
      `initContainers[0].securityContext.writablePaths[0] '/a'; allowed: a writable path of a container whose name leaves room for its volume ${'y'.repeat(53)}-writable-0 (64 characters, at most 63): shorten initContainers[0].name`);
    expectAccepted({ sidecars: [{ name: 'z'.repeat(52), image, securityContext: { writablePaths: ['/a'] } }] });
  });

  test("ConfigMap file names and secret keys are not '.', '..' or '..<x>', and a ConfigMap holds at most 1 MiB", () => {
    const rule = "a key other than '.' or '..', not starting with '..' (kubelet's own names in a mounted volume, such as ..data)";
    const files = (f: Record<string, string>) => ({ volumes: [FxVolume.configMap({ name: 'conf', mountPath: '/conf', files: f })] });
    expectRefused(files({ '..data': 'x' }), `volumes[0].files '..data'; allowed: file names: ${rule}`);
    expectRefused(files({ '.': 'x' }), `volumes[0].files '.'; allowed: file names: ${rule}`);
    expectRefused({ volumes: [FxVolume.secret({ name: 'keys', mountPath: '/keys', secret, keys: ['..'] })] }, `volumes[0].keys[0] '..'; allowed: a Secret data key: ${rule}`);
    expectRefused({ secretEnv: [{ secret, keys: ['..x'] }] }, `secretEnv[0].keys[0] '..x'; allowed: a Secret data key: ${rule}`);
    expectAccepted(files({ 'a..b': 'x', '.hidden': 'y', '_.conf': 'z' }));
    const big = 'x'.repeat(2 ** 20);
    expectRefused(files({ a: big }), "volumes[0].files '1048577 bytes'; allowed: files of at most 1 MiB (1048576 bytes) in all, names included (the ConfigMap size limit)");
    expectRefused(files({ a: big.slice(2), b: 'y' }), "volumes[0].files '1048577 bytes'; allowed: files of at most 1 MiB (1048576 bytes) in all, names included (the ConfigMap size limit)");
    expectAccepted(files({ a: big.slice(3), b: str('Text') }));
    expectAccepted(files({ a: big.slice(3), b: '' }));
  });

  test('nothing is mounted where the database credentials are', () => {
    expectRefused({ database, volumes: [FxVolume.efs({ name: 'data', mountPath: '/var/run/secrets/fx/database' })] },
      "volumes[0].mountPath '/var/run/secrets/fx/database'; allowed: a path other than /var/run/secrets/fx/database, where the database credentials are mounted");
    expectRefused({ database, securityContext: { writablePaths: ['/var/run/secrets/fx/database'] } },
      "securityContext.writablePaths[0] '/var/run/secrets/fx/database'; allowed: a path mounted once in the container");
    expectRefused({ volumes: [FxVolume.efs({ name: 'data', mountPath: '/data' })], securityContext: { writablePaths: ['/data'] } },
      "securityContext.writablePaths[0] '/data'; allowed: a path mounted once in the container");
    expectAccepted({ volumes: [FxVolume.efs({ name: 'data', mountPath: '/var/run/secrets/fx/database' })] });
  });

  test('env vars the library sets itself cannot be given', () => {
    expectRefused({ env: { POD_NAME: 'x' } }, "env 'POD_NAME'; allowed: a name the library does not set itself (POD_NAME is set from the pod)");
    expectRefused({ database, env: { PGHOST: 'db' } }, "env 'PGHOST'; allowed: a name the library does not set itself (PGHOST is set by database, from its credentials)");
    expectRefused({ database, env: { FX_DATABASE_CREDENTIALS_DIR: '/x' } },
      "env 'FX_DATABASE_CREDENTIALS_DIR'; allowed: a name the library does not set itself (FX_DATABASE_CREDENTIALS_DIR is set by database, from its credentials)");
    expectRefused({ observability, env: { LOG_FORMAT: 'text' } }, "env 'LOG_FORMAT'; allowed: a name the library does not set itself (LOG_FORMAT is set by observability)");
    expectRefused({ observability: { ...observability, otlpHttpEndpoint: undefined, serviceDashboard: observability.serviceDashboard }, env: { OTEL_TRACES_EXPORTER: 'otlp' } },
      "env 'OTEL_TRACES_EXPORTER'; allowed: a name the library does not set itself (OTEL_TRACES_EXPORTER is set by observability)");
    expectRefused({ database, secretEnv: [{ secret, keys: ['DATABASE_URL'] }] },
      "secretEnv[0].keys[0] 'DATABASE_URL'; allowed: a name the library does not set itself (DATABASE_URL is set by database, from its credentials)");
    expectAccepted({ env: { 'PGHOST': 'db', 'LOG_FORMAT': 'text', 'my.var': '1', '-x': '2', '1A': '3', 'a b:c/d': '4' }, secretEnv: [{ secret, keys: ['DATABASE_URL', str('Key')] }] });
  });

  test('secret keys are listed or left unset, and usable as env var names', () => {
    expectRefused({ secretEnv: [{ secret, keys: [] }] }, 'secretEnv[0].keys []; allowed: at least one key (leave keys unset to expose every key of the secret)');
    expectRefused({ volumes: [FxVolume.secret({ name: 'keys', mountPath: '/keys', secret, keys: [] })] },
      'volumes[0].keys []; allowed: at least one key (leave keys unset to mount every key of the secret)');
    // Every Secret data key is an environment variable name on Kubernetes 1.34 and later (relaxed validation is GA).
    expectAccepted({ secretEnv: [{ secret }, { secret, keys: ['API_KEY', 'api.key', '1ABC', '9'] }], volumes: [FxVolume.secret({ name: 'keys', mountPath: '/keys', secret })] });
  });

  test('a quota only with a namespace of the service, and a migration command that names an executable', () => {
    expectRefused({ namespace: 'shared-q1', createNamespace: false, quota: { pods: 5 } },
      'quota {"pods":5}; allowed: no quota with createNamespace: false (the quota is part of the namespace this service creates; set it where the namespace is created)');
    expectRefused({ namespace: 'shared-q2', createNamespace: false, quota: {} },
      'quota {}; allowed: no quota with createNamespace: false (the quota is part of the namespace this service creates; set it where the namespace is created)');
    expectRefused({ migration: { command: [''] } }, "migration.command[0] ''; allowed: an executable name or path (not empty)");
    expectRefused({ sidecars: [{ name: 'proxy', image, command: ['', 'x'] }] }, "sidecars[0].command[0] ''; allowed: an executable name or path (not empty)");
    expectAccepted({ namespace: 'shared-q3', createNamespace: false, migration: { command: ['python3', '-m', 'migrate'] } });
  });

  test('a gp3 volume is at most 16 TiB', () => {
    const gp3 = (size: string) => ({ volumes: [FxVolume.gp3({ name: 'data', mountPath: '/data', size })] });
    expectRefused(gp3('17Ti'), "volumes[0].size '17Ti'; allowed: at most 16Ti, the largest EBS gp3 volume (e.g. '10Gi')");
    expectRefused(gp3('16385Gi'), "volumes[0].size '16385Gi'; allowed: at most 16Ti, the largest EBS gp3 volume (e.g. '10Gi')");
    expectAccepted(gp3('16Ti'));
    expectAccepted({ volumes: [FxVolume.efs({ name: 'data', mountPath: '/data', size: '100Ti' })] });
  });

  test('route path prefixes, forward-auth URLs and rate limits Traefik can use', () => {
    const route = (r: object) => ({ route: { host: host(), ...r } });
    const query = "a path without '?' or '#' (PathPrefix matches the path only, never the query or fragment)";
    expectRefused(route({ pathPrefix: '/api?x=1' }), `route.pathPrefix '/api?x=1'; allowed: ${query}`);
    expectRefused(route({ pathPrefix: '/api#top' }), `route.pathPrefix '/api#top'; allowed: ${query}`);
    const auth = (why: string) => `an http(s) URL with a host and a port from 1 to 65535 (${why})`;
    expectRefused(route({ forwardAuthUrl: 'http://:8080/auth' }), `route.forwardAuthUrl 'http://:8080/auth'; allowed: ${auth('no host')}`);
    expectRefused(route({ forwardAuthUrl: 'http://:99999/x' }), `route.forwardAuthUrl 'http://:99999/x'; allowed: ${auth('no host')}`);
    expectRefused(route({ forwardAuthUrl: 'http://auth:0/' }), `route.forwardAuthUrl 'http://auth:0/'; allowed: ${auth("port '0' is not from 1 to 65535")}`);
    expectRefused(route({ forwardAuthUrl: 'https://auth.example.com:99999' }), `route.forwardAuthUrl 'https://auth.example.com:99999'; allowed: ${auth("port '99999' is not from 1 to 65535")}`);
    expectRefused(route({ forwardAuthUrl: 'http://au^th/' }), `route.forwardAuthUrl 'http://au^th/'; allowed: ${auth('it does not parse as a URL')}`);
    expectRefused(route({ rateLimit: { average: 10, burst: 2 ** 63 } }), 'route.rateLimit.burst 9223372036854776000; allowed: at most 9223372036854775807 (2^63-1: Traefik reads it as int64)');
    expectRefused(route({ rateLimit: { average: 2 ** 64, burst: 2 ** 64 } }), 'route.rateLimit.average 18446744073709552000; allowed: at most 9223372036854775807 (2^63-1: Traefik reads it as int64)');
    expectAccepted(route({ pathPrefix: '/api', forwardAuthUrl: 'http://auth.auth.svc:65535/check', rateLimit: { average: 2 ** 53, burst: 2 ** 53 } }));
    expectAccepted(route({ forwardAuthUrl: 'http://[fd00::1]:4180/', ipAllowList: ['203.0.113.7', '2001:db8::/32', '2001:db8::1', '198.51.100.0/24'] }));
    expectAccepted(route({ forwardAuthUrl: str('Auth') }));
  });

  test('node affinity Gt and Lt take one int64', () => {
    const affinity = (values: string[]) => ({ placement: { requiredNodeAffinity: [{ key: 'cores', operator: FxNodeOperator.GT, values }] } });
    expectRefused(affinity(['99999999999999999999']), 'placement.requiredNodeAffinity[0].values ["99999999999999999999"]; allowed: exactly one integer for operator Gt (an int64)');
    expectRefused(affinity(['1.5']), 'placement.requiredNodeAffinity[0].values ["1.5"]; allowed: exactly one integer for operator Gt (an int64)');
    expectAccepted(affinity(['9223372036854775807']));
  });

  test('an ipAllowList entry that is neither an address nor a block', () => {
    const suffix = 'allowed: an IPv4 CIDR block such as 203.0.113.0/24 (or an IPv4 address, an IPv6 address or CIDR block)';
    expectRefused({ route: { host: host(), ipAllowList: ['2001:db8::/129'] } }, `route.ipAllowList[0] '2001:db8::/129'; ${suffix}`);
    expectRefused({ route: { host: host(), ipAllowList: ['2001:db8::/1/2'] } }, `route.ipAllowList[0] '2001:db8::/1/2'; ${suffix}`);
    expectRefused({ route: { host: host(), ipAllowList: ['203.0.113.7', '203.0.113.7'] } }, "route.ipAllowList[1] '203.0.113.7'; allowed: each CIDR block once (it is route.ipAllowList[0] already)");
  });
});

describe('names derived across services', () => {
  test("a service's derived objects clash with another service's in the same namespace", () => {
    const ns = 'shared-names';
    const first = expectAccepted({ serviceName: 'api', namespace: ns, route: { host: host(), canary: { image, weight: 10 } } });
    expect(find(first, 'Deployment', 'api-canary')).toBeDefined();
    expectRefused({ serviceName: 'api-canary', namespace: ns, createNamespace: false },
      `serviceName 'api-canary'; allowed: a name whose objects no other service creates: Deployment ${ns}/api-canary is also created by ${first.node.path}`);
    const pay = expectAccepted({ serviceName: 'pay', namespace: ns, createNamespace: false, secretEnv: [{ secret }] });
    expectRefused({ serviceName: 'pay-secrets', namespace: ns, createNamespace: false },
      `serviceName 'pay-secrets'; allowed: a name whose objects no other service creates: ServiceAccount ${ns}/pay-secrets is also created by ${pay.node.path}`);
    const db = expectAccepted({ serviceName: 'db', namespace: ns, createNamespace: false, volumes: [FxVolume.gp3({ name: 'data', mountPath: '/data' })] });
    expectRefused({ serviceName: 'db-headless', namespace: ns, createNamespace: false },
      `serviceName 'db-headless'; allowed: a name whose objects no other service creates: Service ${ns}/db-headless is also created by ${db.node.path}`);
    // the same names in another namespace are fine
    expectAccepted({ serviceName: 'api-canary', namespace: 'other-names' });
  });

  test('a route to a host the platform serves itself is refused', () => {
    const why = "a host the platform does not serve itself (grafana.fx.example.com, kibana.fx.example.com are FxObservability's Grafana and Kibana routes; Traefik would send their traffic to the longer rule)";
    expectRefused({ route: { host: 'grafana.fx.example.com', pathPrefix: '/api' } }, `route.host 'grafana.fx.example.com'; allowed: ${why}`);
    expectRefused({ route: { host: host(), additionalHosts: ['kibana.fx.example.com'] } }, `route.additionalHosts[0] 'kibana.fx.example.com'; allowed: ${why}`);
    expectAccepted({ route: { host: 'grafana-proxy.fx.example.com' } });
  });

  test('a secret volume is not named like the ExternalSecrets the service creates', () => {
    const vol = (name: string) => FxVolume.secret({ name, mountPath: '/s', secret });
    expectRefused({ secretEnv: [{ secret }], volumes: [vol('env-0')] },
      "volumes[0].name 'env-0'; allowed: a name other than env-0: the ExternalSecret of secretEnv[0] is named <service>-env-0 already");
    expectRefused({ database, volumes: [vol('database')] },
      "volumes[0].name 'database'; allowed: a name other than database: the ExternalSecret of database is named <service>-database already");
    expectRefused({ route: { host: host(), basicAuth: { secret } }, volumes: [vol('basic-auth')] },
      "volumes[0].name 'basic-auth'; allowed: a name other than basic-auth: the ExternalSecret of route.basicAuth is named <service>-basic-auth already");
    expectAccepted({ secretEnv: [{ secret }], volumes: [vol('env-1'), FxVolume.configMap({ name: 'env-0', mountPath: '/c', files: { a: 'b' } })] });
  });
});

describe('the namespace quota admits every pod at once', () => {
  test('sidecars, replicas and the rolling-update surge count', () => {
    expectRefused({ quota: { cpu: '2' }, sidecars: [{ name: 'proxy', image }] },
      "quota.cpu '2'; allowed: at least 2400m: the quota caps requests and limits of every pod at once, 2 pods (1 replicas, 1 surged in a rolling update) of 1200m each (app 1, sidecars 200m)");
    expectRefused({ quota: { cpu: '4' }, autoscaling: { minReplicas: 5, maxReplicas: 5 } },
      "quota.cpu '4'; allowed: at least 7: the quota caps requests and limits of every pod at once, 7 pods (5 replicas, 2 surged in a rolling update) of 1 each (app 1)");
    expectRefused({ quota: { memory: '1Gi' }, initContainers: [{ name: 'init', image, resources: { memoryRequest: '1Gi', memoryLimit: '1Gi' } }] },
      "quota.memory '1Gi'; allowed: at least 2048Mi: the quota caps requests and limits of every pod at once, 2 pods (1 replicas, 1 surged in a rolling update) of 1024Mi each (app 512Mi, init containers at most 1Gi)");
    expectRefused({ route: { host: host(), canary: { image, weight: 5 } }, quota: { cpu: '2' } },
      "quota.cpu '2'; allowed: at least 3: the quota caps requests and limits of every pod at once, 3 pods (1 replicas, 1 surged in a rolling update, 1 canary) of 1 each (app 1)");
    expectRefused({ workload: FxWorkload.job(), quota: { cpu: '1' }, sidecars: [{ name: 'proxy', image }] },
      "quota.cpu '1'; allowed: at least 1200m: the quota caps requests and limits of every pod at once, 1 pods (1 job pod) of 1200m each (app 1, sidecars 200m)");
    expectAccepted({ quota: { cpu: '2400m' }, sidecars: [{ name: 'proxy', image }] });
    expectAccepted({ quota: { cpu: '1', memory: '512Mi' }, workload: FxWorkload.job() });
    expectAccepted({ quota: { cpu: '3' }, volumes: [FxVolume.gp3({ name: 'd', mountPath: '/d' })], autoscaling: { minReplicas: 3, maxReplicas: 3 } });
    expectAccepted({ quota: { cpu: str('Cpu') }, sidecars: [{ name: 'proxy', image }] });
  });
});

describe('values only JavaScript can pass', () => {
  test('enum-like props are checked at runtime', () => {
    expectRefused({ workload: FxWorkload.scheduledJob({ schedule: '@daily', concurrencyPolicy: 'forbid' as FxConcurrencyPolicy }) },
      "workload concurrencyPolicy 'forbid'; allowed: an FxConcurrencyPolicy: Forbid, Allow, Replace");
    expectRefused({ placement: { requiredNodeAffinity: [{ key: 'pool', operator: 'Equals' as FxNodeOperator, values: ['a'] }] } },
      "placement.requiredNodeAffinity[0].operator 'Equals'; allowed: an FxNodeOperator: In, NotIn, Exists, DoesNotExist, Gt, Lt");
    expectRefused({ env: { PORT: 8000 as unknown as string } }, "env.PORT 8000; allowed: a string (quote numbers: '8000')");
    expectRefused({ sidecars: [{ name: 'proxy', image, env: { N: 1 as unknown as string } }] }, "sidecars[0].env.N 1; allowed: a string (quote numbers: '8000')");
    expectRefused({ placement: { tolerations: [{ key: 'dedicated', effect: 'NoSchedule' as eks.TaintEffect }] } },
      "placement.tolerations[0].effect 'NoSchedule'; allowed: an eks.TaintEffect: NO_SCHEDULE, PREFER_NO_SCHEDULE, NO_EXECUTE");
    expectAccepted({
      workload: FxWorkload.scheduledJob({ schedule: '@daily', concurrencyPolicy: FxConcurrencyPolicy.REPLACE }),
      placement: { tolerations: [{ key: 'dedicated', effect: eks.TaintEffect.NO_EXECUTE }, { key: '' }] },
    });
    expectRefused({ placement: { tolerations: [{ key: '', value: 'x' }] } },
      "placement.tolerations[0].key ''; allowed: a label key such as dedicated or example.com/pool ('' only without a value: every taint)");
  });
});

describe('FxServiceStacks', () => {
  test('counts must be known at synth; stackFor names the construct', () => {
    const params = new Stack(app, 'StackParams');
    const p = (id: string) => new CfnParameter(params, id, { type: 'Number' }).valueAsNumber;
    expect(() => new FxServiceStacks(app, 'PerStack', { env: ENV, servicesPerStack: p('PerStack') })).toThrow(
      "FxServiceStacks at PerStack: invalid servicesPerStack '(a deploy-time token)'; allowed: a value known at synth: synthesis counts the services of each stack against it");
    expect(() => new FxServiceStacks(app, 'Count', { env: ENV, stackCount: p('Count') })).toThrow(
      "FxServiceStacks at Count: invalid stackCount '(a deploy-time token)'; allowed: a value known at synth: it decides which stack each service is placed in");
    const stacks = new FxServiceStacks(app, 'Named', { env: ENV });
    expect(() => stacks.stackFor('')).toThrow("FxServiceStacks at Named: invalid stackFor(serviceName) ''; allowed: a non-empty service name (at most 253 characters)");
    expect(() => stacks.stackFor('x'.repeat(254))).toThrow(`FxServiceStacks at Named: invalid stackFor(serviceName) '${'x'.repeat(254)}'`);
    expect(stacks.stackFor('orders')).toBeInstanceOf(Stack);
  });
});

describe('messages name what the user set', () => {
  test('a request above a default limit names the request', () => {
    expectRefused({ resources: { cpuRequest: '2' } }, "resources.cpuRequest '2'; allowed: at most resources.cpuLimit (1, the default): set resources.cpuLimit too");
    expectRefused({ resources: { memoryRequest: '1Gi' } }, "resources.memoryRequest '1Gi'; allowed: at most resources.memoryLimit (512Mi, the default): set resources.memoryLimit too");
    expectRefused({ resources: { cpuLimit: '100m' } }, "resources.cpuLimit '100m'; allowed: at least resources.cpuRequest (250m, the default)");
    expectRefused({ resources: { cpuRequest: '2', cpuLimit: '1' } }, "resources.cpuLimit '1'; allowed: at least resources.cpuRequest (2)");
    expectAccepted({ resources: { cpuRequest: '1', memoryRequest: '512Mi' } });
  });

  test('a service name from the construct id says so', () => {
    const attempt = (id: string) => () => new FxMicroservice(stack, id, { cluster, image });
    expect(attempt('Orders_Api')).toThrow(
      "FxMicroservice at Checks/Orders_Api: invalid serviceName (from the construct id) 'orders_api'; allowed: a DNS-1123 label of at most 40 characters (lowercase letters, digits, -)");
    expect(attempt('9Orders')).toThrow(
      "FxMicroservice at Checks/9Orders: invalid serviceName (from the construct id) '9orders'; allowed: a name starting with a letter: it names the Kubernetes Service of an HTTP service, a DNS-1035 label");
    expect(attempt('Orders')).not.toThrow();
    expect(attempt('ORDERS')).toThrow(
      "FxMicroservice at Checks/ORDERS: invalid serviceName (from the construct id) 'orders'; allowed: a name not already used in namespace orders on this cluster");
  });

  test('build args must be known at synth', () => {
    const refused = (buildArgs: Record<string, string>, rest: string) => {
      const { at, error } = build({ image: FxImage.fromAsset(assetDir, { buildArgs }) });
      expect(error).toBe(`FxImage at ${at}: invalid ${rest}`);
    };
    refused({ VERSION: str('Version') },
      "buildArgs.VERSION '(a deploy-time token)'; allowed: a value known at synth: the CDK CLI builds the image before deployment, with the values as written");
    refused({ [str('Key')]: 'x' },
      "buildArgs '(a deploy-time token)'; allowed: a value known at synth: the CDK CLI builds the image before deployment, with the keys and values as written");
    expectAccepted({ image: FxImage.fromAsset(assetDir, { buildArgs: { VERSION: '1.2.3' } }) });
  });

  test('image factories name themselves', () => {
    expect(() => FxImage.fromRegistry(`ghcr.io/${'a'.repeat(250)}:1`)).toThrow(
      `FxImage.fromRegistry: invalid reference 'ghcr.io/${'a'.repeat(250)}:1'; allowed: a pinned image reference such as ghcr.io/acme/api:1.4.2 or nginx@sha256:<64 hex> (the name before the tag is 258 characters, at most 255)`);
    expect(() => FxImage.fromRegistry(`${'a/'.repeat(127)}bc@sha256:${'0'.repeat(64)}`)).toThrow('(the name before the tag is 256 characters, at most 255)');
    expect(() => FxImage.fromRegistry(`${'a/'.repeat(127)}b@sha256:${'0'.repeat(64)}`)).not.toThrow();
    expect(() => FxImage.fromRegistry('[::1]:99999/api:1')).toThrow('(registry port 99999 is not from 1 to 65535)');
  });
});

describe('legal values pass', () => {
  test('utilisation targets above 100 percent, quantities with exponents, @every schedules, relaxed env names', () => {
    expectAccepted({ autoscaling: { cpuTargetPercent: 150, memoryTargetPercent: 2 ** 31 - 1 }, resources: { cpuLimit: '1e0', memoryLimit: '1E9' } });
    expectAccepted({ workload: FxWorkload.scheduledJob({ schedule: '@every 1h30m' }), env: { 'my.var': 'x', 'LOG-LEVEL': 'y' } });
    expectAccepted({ sidecars: [{ name: 'proxy', image, env: { 'my.var': 'x' } }] });
    expectRefused({ env: { 'A=B': 'x' } }, "env 'A=B'; allowed: environment variable names: printable ASCII characters other than '=' (e.g. LOG_LEVEL or my.var)");
    expectRefused({ workload: FxWorkload.scheduledJob({ schedule: '@every 5min' }) },
      "workload schedule '@every 5min'; allowed: a cron schedule of five fields (minute hour day-of-month month day-of-week, e.g. '0 3 * * *') or @hourly, @daily, @weekly, @monthly, @yearly, @every <Go duration> ('5min' is not a Go duration such as 1h30m or 90s)");
    for (const q of ['1e0', '1E3', '1.', '.5', '1e-3', '512Mi']) expect(isQuantity(q)).toBe(true);
    for (const q of ['e3', '1.5.5', '-1']) expect(isQuantity(q)).toBe(false);
    expect(quantityValue('1E3')).toBe(1000);
    expect(quantityValue('2e-1')).toBe(0.2);
    expect(quantityValue('1E')).toBe(1e18);
    for (const schedule of ['@every 0', '@every 90s', '@every 1.5h', '@every 500ms', '@hourly']) expect(cronScheduleProblem(schedule)).toBeUndefined();
    expect(cronScheduleProblem('@every -1h')).toBe("'-1h' is not a Go duration such as 1h30m or 90s");
  });

  test('image digests of sha512 and IPv6 registries', () => {
    expect(() => FxImage.fromRegistry(`ghcr.io/acme/api@sha512:${'a'.repeat(128)}`)).not.toThrow();
    expect(() => FxImage.fromRegistry('[::1]:5000/acme/api:1.0')).not.toThrow();
    expect(() => FxImage.fromRegistry('[::1]:5000/api:1')).not.toThrow();
    expect(() => FxImage.fromRegistry('[fd00::1]/acme/api:1.0')).not.toThrow();
    expect(() => FxImage.fromEcr({ repositoryUriForTagOrDigest: () => 'x' } as any, `sha512:${'b'.repeat(128)}`)).not.toThrow();
    expect(() => FxImage.fromRegistry(`ghcr.io/acme/api@sha512:${'a'.repeat(127)}`)).toThrow('is not sha256:<64 lowercase hex characters>');
  });

  test('time zones in the exact case of the tz database', () => {
    const bad = (zone: string, hint: string) => expectRefused({ workload: FxWorkload.scheduledJob({ schedule: '@daily', timeZone: zone }) },
      `workload timeZone '${zone}'; allowed: an IANA time zone such as Europe/Paris or UTC${hint}`);
    bad('utc', ' (in the exact case of the tz database: UTC; Go reads it case-sensitively)');
    bad('europe/paris', ' (in the exact case of the tz database: Europe/Paris; Go reads it case-sensitively)');
    bad('US/Pacific-New', ' (it was removed from the tz database in 2020b)');
    bad('us/pacific', ' (in the exact case of the tz database; Go reads it case-sensitively)');
    bad('Mars/Olympus', '');
    for (const zone of ['UTC', 'Etc/UTC', 'Europe/Paris', 'US/Pacific', 'Etc/GMT+5', 'EST5EDT', 'America/Port-au-Prince', 'America/Argentina/Buenos_Aires']) {
      expect(isTimeZone(zone)).toBe(true);
    }
    expect(isTimeZone('SystemV/AST4')).toBe(false);
    expect(timeZoneHint('Europe/Paris')).toBe(' (in the exact case of the tz database: Europe/Paris; Go reads it case-sensitively)');
    expect(isConfigKey('..data')).toBe(false);
  });
});
