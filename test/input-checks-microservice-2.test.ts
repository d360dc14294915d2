import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnParameter, Stack } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import {
  FxAddonName, FxCluster, FxImage, FxMicroservice, FxMicroserviceProps, FxNodeOperator, FxProbe, FxProfile, FxServiceStacks, FxVolume, FxWorkload,
} from '../src';
import { clusterWithAddons, ENV, messageOf, testApp } from './util/fixtures';
import { IFxWorkloadObservability } from '../src/core/contracts';
import { FxValidationError } from '../src/core/errors';
import { cronNeverFires } from '../src/microservice/validation';

/**
 * A second pass over bad inputs of FxMicroservice, FxImage and FxServiceStacks (probe findings):
 * each refused with its exact message, and the legal edge values and deploy-time tokens around
 * each check, which pass. One cluster is shared; the few cases that need another get their own.
 */

type Obj = Record<string, any>;

class FakeObservability implements IFxWorkloadObservability {
  public readonly otlpEndpoint = 'http://otel.monitoring:4317';
  public readonly otlpHttpEndpoint = 'http://otel.monitoring:4318';
  public serviceDashboard(namespace: string, serviceName: string): Record<string, any> {
    return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${serviceName}-dashboard`, namespace }, data: { 'd.json': '{}' } };
  }
}

const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-input-microservice-2-'));
afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

let app: App;
let stack: Stack;
let cluster: FxCluster;
let secret: secretsmanager.ISecret;
let assetDir: string;
const image = FxImage.fromRegistry('ghcr.io/acme/api:1.0.0');
let n = 0;

beforeAll(() => {
  app = testApp(path.join(outdir, 'cases'));
  stack = new Stack(app, 'Checks', { env: ENV });
  cluster = clusterWithAddons(stack, FxProfile.DEVELOPMENT);
  secret = secretsmanager.Secret.fromSecretNameV2(stack, 'Secret', 'api-keys');
  assetDir = fs.mkdtempSync(path.join(outdir, 'asset-'));
  fs.writeFileSync(path.join(assetDir, 'Dockerfile'), 'FROM scratch\n');
});

const str = (name: string) => new CfnParameter(stack, `${name}${++n}`, { type: 'String' }).valueAsString;
const list = (name: string) => new CfnParameter(stack, `${name}${++n}`, { type: 'CommaDelimitedList' }).valueAsList;

/** A service with a fresh id in the shared stack. */
function service(props: Partial<FxMicroserviceProps>, id?: string, scope: Stack = stack): FxMicroservice {
  const k = ++n;
  return new FxMicroservice(scope, id ?? `S${k}`, { cluster, image, serviceName: `s-${k}`, ...props });
}

/** The exact message of a refused service: `FxMicroservice at Checks/<id>: invalid <rest>`. */
function refused(props: Partial<FxMicroserviceProps>, rest: string): [() => unknown, string] {
  const id = `R${++n}`;
  return [() => service(props, id), `FxMicroservice at Checks/${id}: invalid ${rest}`];
}

/** `refused` for a check of the image, bound by the service: `FxImage at Checks/<id>: invalid <rest>`. */
function imageRefused(props: Partial<FxMicroserviceProps>, rest: string): [() => unknown, string] {
  const [run, message] = refused(props, rest);
  return [run, message.replace(/^FxMicroservice/, 'FxImage')];
}

const objects = (s: FxMicroservice): Obj[] => s.chart.toJson();
const find = (s: FxMicroservice, kind: string, component?: string): Obj | undefined =>
  objects(s).find((o) => o.kind === kind && (component === undefined || o.metadata.labels?.['app.kubernetes.io/component'] === component));

const LIST = "'(a deploy-time list, e.g. a CommaDelimitedList parameter)'; allowed: a list written at synth; each element may be a deploy-time string (e.g. [parameter.valueAsString]), since";

const CASES: Array<[string, () => [() => unknown, string]]> = [
  // 1. list tokens where each element becomes its own object
  ['secretEnv keys from a list parameter', () => refused({ secretEnv: [{ secret, keys: list('Keys') }] },
    `secretEnv[0].keys ${LIST} each key becomes its own ExternalSecret entry and env var`)],
  ['secret volume keys from a list parameter', () => refused({ volumes: [FxVolume.secret({ name: 'cfg', mountPath: '/cfg', secret, keys: list('Keys') })] },
    `volumes[0].keys ${LIST} each key becomes its own ExternalSecret entry and file`)],
  ['writable paths from a list parameter', () => refused({ securityContext: { writablePaths: list('Paths') } },
    `securityContext.writablePaths ${LIST} each path becomes its own emptyDir volume and mount`)],
  ['writable paths of a sidecar from a list parameter', () => refused({ sidecars: [{ name: 'proxy', image, securityContext: { writablePaths: list('Paths') } }] },
    `sidecars[0].securityContext.writablePaths ${LIST} each path becomes its own emptyDir volume and mount`)],
  // 5. literal parts of a reference with a deploy-time part
  ['an uppercase path segment next to a deploy-time registry', () => {
    const registry = str('Registry');
    return [() => FxImage.fromRegistry(`${registry}/Acme/api:1.0`),
      'FxImage.fromRegistry: invalid reference \'<token>/Acme/api:1.0\'; allowed: a pinned image reference such as ghcr.io/acme/api:1.4.2 or nginx@sha256:<64 hex> (path segment \'Acme\' must be lowercase letters and digits separated by ., _, __ or -)'];
  }],
  ['latest next to a deploy-time registry', () => {
    const registry = str('Registry');
    return [() => FxImage.fromRegistry(`${registry}/api:latest`),
      'FxImage.fromRegistry: invalid reference \'<token>/api:latest\'; allowed: a pinned tag or sha256 digest; latest is never deployed'];
  }],
  ['a space next to a deploy-time tag', () => {
    const tag = str('Tag');
    return [() => FxImage.fromRegistry(`ghcr.io/acme/api :${tag}`),
      'FxImage.fromRegistry: invalid reference \'ghcr.io/acme/api :<token>\'; allowed: a pinned image reference such as ghcr.io/acme/api:1.4.2 or nginx@sha256:<64 hex> (no spaces)'];
  }],
  // 8. the quota's pods admit a rollout
  ['a pods quota that a rollout with a migration exceeds', () => refused({ autoscaling: { minReplicas: 2, maxReplicas: 4 }, migration: { command: ['migrate'] }, quota: { pods: 3 } },
    'quota.pods 3; allowed: at least 4: a rollout runs 2 replicas, 1 surged in a rolling update, 1 migration Job pod at once (the quota refuses the pods beyond it, and the rollout stalls)')],
  ['a pods quota that a canary rollout exceeds', () => refused({ autoscaling: { minReplicas: 1, maxReplicas: 2 }, route: { host: `c${++n}.fx.example.com`, canary: { image, weight: 10 } }, quota: { pods: 3 } },
    'quota.pods 3; allowed: at least 4: a rollout runs 1 replicas, 1 surged in a rolling update, 1 canary and 1 surged canary at once (the quota refuses the pods beyond it, and the rollout stalls)')],
  ['a default pods quota that a rollout exceeds', () => refused({ autoscaling: { minReplicas: 48, maxReplicas: 60 }, quota: { cpu: '100', memory: '100Gi' } },
    'quota.pods (the default) 50; allowed: at least 60: a rollout runs 48 replicas, 12 surged in a rolling update at once (the quota refuses the pods beyond it, and the rollout stalls)')],
  // 10. secrets the namespace's store cannot read
  ['a secret of another region', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:api-keys-AbCdEf';
    return refused({ secretEnv: [{ secret: secretsmanager.Secret.fromSecretCompleteArn(stack, `Eu${++n}`, arn) }] },
      `secretEnv[0].secret '${arn}'; allowed: a secret in the service's region us-east-1 (this one is in region eu-west-1): the namespace's SecretStore reads Secrets Manager of its own account and region, by secret name; replicate the secret there`);
  }],
  ['a secret volume of another account', () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:210987654321:secret:files-AbCdEf';
    return refused({ volumes: [FxVolume.secret({ name: 'f', mountPath: '/f', secret: secretsmanager.Secret.fromSecretCompleteArn(stack, `Other${++n}`, arn) })] },
      `volumes[0].secret '${arn}'; allowed: a secret in the service's account 123456789012 (this one is in account 210987654321): the namespace's SecretStore reads Secrets Manager of its own account and region, by secret name; replicate the secret there`);
  }],
  // 13. probes
  ['an exec probe with an empty command name', () => refused({ workload: FxWorkload.worker(), probes: { liveness: FxProbe.exec(['']) } },
    "probes.liveness command[0] ''; allowed: an executable name or path (not empty)")],
  ['an HTTP probe path with a space', () => refused({ probes: { readiness: FxProbe.http('/ready z') } },
    "probes.readiness path '/ready z'; allowed: a URL path without whitespace")],
  ['a sidecar HTTP probe path with a trailing newline', () => refused({ sidecars: [{ name: 'proxy', image, port: 9001, readinessProbe: FxProbe.http('/ready\n') }] },
    "sidecars[0].readinessProbe path '/ready\n'; allowed: a URL path without whitespace")],
  // 14. ports
  ['two sidecars on one port', () => refused({ sidecars: [{ name: 'a', image, port: 9001 }, { name: 'b', image, port: 9001 }] },
    "sidecars[1].port 9001; allowed: a port no other container of the pod listens on (sidecars[0].port is 9001: the containers share the pod's network)")],
  // 15. architecture
  ['an amd64 asset image on arm64 nodes (nodeSelector)', () => refused({ image: FxImage.fromAsset(assetDir), placement: { nodeSelector: { 'kubernetes.io/arch': 'arm64' } } },
    "image 'FxImage.fromAsset (linux/amd64)'; allowed: an image built for the nodes the pods may run on (placement.nodeSelector kubernetes.io/arch: arm64): build it with platform linux/arm64 (FxAssetImageOptions.platform), or place the pods on amd64 nodes")],
  ['an amd64 asset sidecar on arm64 nodes (required affinity)', () => refused({
    sidecars: [{ name: 'proxy', image: FxImage.fromAsset(assetDir) }],
    placement: { requiredNodeAffinity: [{ key: 'kubernetes.io/arch', operator: FxNodeOperator.IN, values: ['arm64'] }] },
  }, "sidecars[0].image 'FxImage.fromAsset (linux/amd64)'; allowed: an image built for the nodes the pods may run on (placement.requiredNodeAffinity[0] kubernetes.io/arch In arm64): build it with platform linux/arm64 (FxAssetImageOptions.platform), or place the pods on amd64 nodes")],
  // 16. JavaScript types
  ['a ConfigMap file that is a number', () => refused({ volumes: [FxVolume.configMap({ name: 'cfg', mountPath: '/cfg', files: { port: 8000 as any } })] },
    "volumes[0].files.port 8000; allowed: a string, the file's content (quote numbers and JSON: '8000', JSON.stringify(config))")],
  ['spot that is a string', () => refused({ spot: 'false' as any }, "spot 'false'; allowed: true or false")],
  ['stripPrefix that is a string', () => refused({ route: { host: `p${++n}.fx.example.com`, pathPrefix: '/api', stripPrefix: 'yes' as any } },
    "route.stripPrefix 'yes'; allowed: true or false")],
  ['suspend that is a string', () => refused({ workload: FxWorkload.scheduledJob({ schedule: '0 3 * * *', suspend: 'yes' as any }) },
    "workload suspend 'yes'; allowed: true or false")],
  // 17. build arguments
  ['an empty build argument name', () => imageRefused({ image: FxImage.fromAsset(assetDir, { buildArgs: { '': 'x' } }) },
    "buildArgs ''; allowed: build argument names without '=' or whitespace, not empty (each is passed as --build-arg NAME=VALUE)")],
  ['a build argument name holding =', () => imageRefused({ image: FxImage.fromAsset(assetDir, { buildArgs: { 'A=B': 'x' } }) },
    "buildArgs 'A=B'; allowed: build argument names without '=' or whitespace, not empty (each is passed as --build-arg NAME=VALUE)")],
  // 18. schedules that never fire
  ['February 31st', () => refused({ workload: FxWorkload.scheduledJob({ schedule: '0 0 31 2 *' }) },
    "workload schedule '0 0 31 2 *'; allowed: a schedule that fires: no month 2 has day 31, so the schedule never fires")],
  ['February 30th', () => refused({ workload: FxWorkload.scheduledJob({ schedule: '0 0 30 FEB *' }) },
    "workload schedule '0 0 30 FEB *'; allowed: a schedule that fires: no month FEB has day 30, so the schedule never fires")],
  ['day 31 of the 30-day months', () => refused({ workload: FxWorkload.scheduledJob({ schedule: '0 0 31 4,6,9,11 *' }) },
    "workload schedule '0 0 31 4,6,9,11 *'; allowed: a schedule that fires: no month 4,6,9,11 has day 31, so the schedule never fires")],
  // 19. alerts need observability
  ['alerts without observability', () => refused({ alerts: { errorRatio: 0.1 } },
    'alerts {"errorRatio":0.1}; allowed: set only together with observability (the alert rules are part of what observability installs; without it nothing would alert)')],
  // 21. the database role's name, as this service names it
  ['a database role name taken, derived from the service name', () => {
    const taken = { addWorkloadRole: () => { throw new FxValidationError('FxDatabaseServiceRole', 'name', 's_x', 'a role name not used by another service role of this database'); } } as any;
    const id = `R${++n}`;
    return [() => new FxMicroservice(stack, id, { cluster, image, serviceName: 's-x', database: taken }),
      `FxMicroservice at Checks/${id}: invalid databaseRole.name (from serviceName) 's_x'; allowed: a role name not used by another service role of this database`];
  }],
  ['a database schema taken, derived from the construct id', () => {
    const taken = { addWorkloadRole: () => { throw new FxValidationError('FxDatabaseServiceRole', 'schema', 'orders', 'a schema not owned by another service role of this database'); } } as any;
    const id = `orders${++n}`;
    return [() => new FxMicroservice(stack, id, { cluster, image, database: taken }),
      `FxMicroservice at Checks/${id}: invalid databaseRole.schema (from the role name) 'orders'; allowed: a schema not owned by another service role of this database`];
  }],
];

describe('refused, each with its exact message', () => {
  let count = 0;
  test.each(CASES)('%s', (_, make) => {
    count++;
    const [run, message] = make();
    expect(messageOf(run)).toBe(message);
  });
  test('every case ran', () => expect(count).toBe(CASES.length));
});

describe('legal values around each check pass', () => {
  test('lists written at synth may hold deploy-time strings', () => {
    const key = str('Key');
    const s = service({
      secretEnv: [{ secret, keys: [key] }],
      volumes: [FxVolume.secret({ name: 'cfg', mountPath: '/cfg', secret, keys: [str('Key')] })],
      securityContext: { writablePaths: [str('Path')] },
    });
    expect(JSON.stringify(stack.resolve(objects(s)))).toContain('"secretKey":{"Ref":"Key');
  });

  test('literal parts next to tokens that are legal pass', () => {
    expect(() => FxImage.fromRegistry(`ghcr.io/acme/api:${str('Tag')}`)).not.toThrow();
    expect(() => FxImage.fromRegistry(`${str('Registry')}/acme/api:1.0`)).not.toThrow();
    expect(() => FxImage.fromRegistry(`${str('Registry')}/acme/api-${str('Name')}:v${str('Tag')}`)).not.toThrow();
    expect(() => FxImage.fromRegistry(str('Reference'))).not.toThrow();
    expect(() => FxImage.fromRegistry(`${str('Registry')}/acme/api@${str('Digest')}`)).not.toThrow();
  });

  test('a sha512 digest of an ECR image is pulled by @', () => {
    const repo = ecr.Repository.fromRepositoryName(stack, `Repo${++n}`, 'api');
    const digest = `sha512:${'a'.repeat(128)}`;
    const s = service({ image: FxImage.fromEcr(repo, digest) });
    expect(JSON.stringify(stack.resolve(find(s, 'Deployment')!.spec.template.spec.containers[0].image))).toContain(`/api@${digest}`);
  });

  test('pods quotas a rollout fits in pass; a worker and a StatefulSet surge as they do', () => {
    expect(() => service({ autoscaling: { minReplicas: 2, maxReplicas: 4 }, migration: { command: ['migrate'] }, quota: { pods: 4 } })).not.toThrow();
    expect(() => service({ workload: FxWorkload.worker({ replicas: 3 }), quota: { pods: 4 } })).not.toThrow();
    expect(() => service({ workload: FxWorkload.worker({ replicas: 2 }), volumes: [FxVolume.gp3({ name: 'data', mountPath: '/data' })], quota: { pods: 2 } })).not.toThrow();
    expect(() => service({ workload: FxWorkload.job(), quota: { pods: 1 } })).not.toThrow();
  });

  test('probes, ports, architecture, types and schedules at their edges', () => {
    expect(() => service({ workload: FxWorkload.worker(), probes: { liveness: FxProbe.exec(['cat', '']) } })).not.toThrow();
    expect(() => service({ probes: { readiness: FxProbe.http('/ready%20z') } })).not.toThrow();
    expect(() => service({ sidecars: [{ name: 'a', image, port: 9001 }, { name: 'b', image, port: 9002 }], initContainers: [{ name: 'i', image }] })).not.toThrow();
    const arm = FxImage.fromAsset(assetDir, { platform: { platform: 'linux/arm64' } as any });
    expect(() => service({ image: arm, placement: { nodeSelector: { 'kubernetes.io/arch': 'arm64' } } })).not.toThrow();
    expect(() => service({ image: FxImage.fromAsset(assetDir), placement: { requiredNodeAffinity: [{ key: 'kubernetes.io/arch', operator: FxNodeOperator.IN, values: ['amd64', 'arm64'] }] } })).not.toThrow();
    expect(() => service({ image: FxImage.fromAsset(assetDir), placement: { nodeSelector: { 'kubernetes.io/arch': str('Arch') } } })).not.toThrow();
    // a registry image's platforms are unknown at synth
    expect(() => service({ placement: { nodeSelector: { 'kubernetes.io/arch': 'arm64' } } })).not.toThrow();
    expect(() => service({ volumes: [FxVolume.configMap({ name: 'cfg', mountPath: '/cfg', files: { 'a.json': '{}', 'b': str('Text') } })] })).not.toThrow();
    expect(() => service({ workload: FxWorkload.scheduledJob({ schedule: '0 3 * * *', suspend: true }) })).not.toThrow();
    expect(() => service({ spot: false, createNamespace: true, route: { host: `p${++n}.fx.example.com`, stripPrefix: false, external: false } })).not.toThrow();
    expect(() => service({ image: FxImage.fromAsset(assetDir, { buildArgs: { NODE_ENV: 'production', _x: 'a=b' } }) })).not.toThrow();
    for (const schedule of ['0 0 29 2 *', '0 0 31 2 1', '0 0 31 1,2 *', '0 0 30 */2 *', '0 0 31 * *', '@monthly', '0 0 31 2 */2']) {
      expect(cronNeverFires(schedule)).toBeUndefined();
    }
    expect(cronNeverFires('0 0 30-31 2 *')).toBe('no month 2 has day 30-31, so the schedule never fires');
    // a step of 1 keeps the star: both fields are then required (robfig/cron)
    expect(cronNeverFires('0 0 31 2 */1')).toBe('no month 2 has day 31, so the schedule never fires');
    expect(() => service({ observability: new FakeObservability(), alerts: { errorRatio: 0.1 } })).not.toThrow();
  });
});

describe('a deploy-time image tag with a migration', () => {
  test('the migration Job is named after a version worked out at deploy time from the tag', () => {
    const repo = ecr.Repository.fromRepositoryName(stack, `Repo${++n}`, 'api');
    const s = service({ image: FxImage.fromEcr(repo, str('Tag')), migration: { command: ['migrate'] } });
    const job = find(s, 'Job', 'migration')!;
    const name = JSON.stringify(stack.resolve(job.metadata.name));
    expect(name).toMatch(/"Fn::GetAtt":\["S\d+ImageVersion[0-9A-F]+","Version"\]/);
    const wait = JSON.stringify(stack.resolve(find(s, 'Deployment')!.spec.template.spec.initContainers[0].command));
    expect(wait).toContain('ImageVersion');
    // the version resource gets the reference CloudFormation resolves, with the tag parameter
    const version = s.node.findChild('ImageVersion').node.defaultChild as any;
    expect(JSON.stringify(stack.resolve(version._cfnProperties))).toMatch(/"Reference":\{"Fn::Join".*"Ref":"Tag\d+"/);
    // a literal tag keeps the synth-time version, with no function
    const literal = service({ image: FxImage.fromEcr(repo, '1.4.2'), migration: { command: ['migrate'] } });
    expect(literal.node.tryFindChild('ImageVersion')).toBeUndefined();
    expect(find(literal, 'Job', 'migration')!.metadata.name).toMatch(/-migrate-[0-9a-f]{10}$/);
    // a deploy-time tag without a migration needs no version function
    expect(service({ image: FxImage.fromEcr(repo, str('Tag')) }).node.tryFindChild('ImageVersion')).toBeUndefined();
  });

  test('a one-off Job of a deploy-time tag is named after its spec and the deploy-time version', () => {
    const repo = ecr.Repository.fromRepositoryName(stack, `Repo${++n}`, 'job');
    const s = service({ image: FxImage.fromEcr(repo, str('Tag')), workload: FxWorkload.job() });
    const name = JSON.stringify(stack.resolve(find(s, 'Job')!.metadata.name));
    expect(name).toMatch(/^\{"Fn::Join":\["",\["s-\d+-[0-9a-f]{10}-",\{"Fn::GetAtt":\["S\d+ImageVersion[0-9A-F]+","Version"\]\}\]\]\}$/);
    const literal = service({ image: FxImage.fromEcr(repo, '2.0.0'), workload: FxWorkload.job() });
    expect(stack.resolve(find(literal, 'Job')!.metadata.name)).toMatch(/^s-\d+-[0-9a-f]{10}$/);
    expect(literal.node.tryFindChild('ImageVersion')).toBeUndefined();
  });

  test('the version function answers the first 10 hex characters of the SHA-256 of the reference', async () => {
    const fn = stack.node.findChild('FxImageVersionFunction') as lambda.Function;
    const code = (fn.node.defaultChild as lambda.CfnFunction).code as { zipFile: string };
    const sent: Obj[] = [];
    const module = { exports: {} as Obj };
    const fetch = async (_url: string, init: Obj) => sent.push(JSON.parse(init.body));
    new Function('module', 'exports', 'require', 'fetch', code.zipFile)(module, module.exports, require, fetch);
    await module.exports.handler({ RequestType: 'Update', ResponseURL: 'https://x', ResourceProperties: { Reference: 'repo:2.0' }, LogicalResourceId: 'V', PhysicalResourceId: 'p' });
    expect(sent[0]).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'p', Data: { Version: crypto.createHash('sha256').update('repo:2.0').digest('hex').slice(0, 10) } });
  });
});

describe('services sharing a namespace', () => {
  test('a service joining a namespace is applied after the one creating it, whichever comes first', () => {
    const joinerFirst = service({ namespace: 'shared-a', createNamespace: false });
    const creator = service({ namespace: 'shared-a' });
    const joinerAfter = service({ namespace: 'shared-a', createNamespace: false });
    const after = (later: FxMicroservice, first: FxMicroservice) => later.manifest.node.dependencies.includes(first.manifest);
    expect(after(joinerFirst, creator)).toBe(true);
    expect(after(joinerAfter, creator)).toBe(true);
    // a caller in the namespace it creates does not wait for a callee joining it (no cycle)
    const callee = service({ namespace: 'shared-b', createNamespace: false });
    const caller = service({ namespace: 'shared-b', dependsOn: [callee] });
    expect(after(callee, caller)).toBe(true);
    expect(after(caller, callee)).toBe(false);
  });

  test("the creator's quota must admit the services joining its namespace", () => {
    // one replica of 1 CPU each (the creator's own quota admits its rollout: 2 pods)
    service({ namespace: 'shared-q', quota: { cpu: '2' } }, 'QuotaCreator');
    service({ namespace: 'shared-q', createNamespace: false }, 'QuotaJoiner');
    expect(messageOf(() => service({ namespace: 'shared-q', createNamespace: false, resources: { cpuLimit: '500m', cpuRequest: '250m' } }, 'QuotaThird')))
      .toBe("FxMicroservice at Checks/QuotaThird: invalid namespace 'shared-q'; allowed: a namespace whose quota admits this service too: quota.cpu 2 of Checks/QuotaCreator, which creates it, "
        + 'is below the cpu of every service in namespace shared-q at once (Checks/QuotaCreator 1, Checks/QuotaJoiner 1, Checks/QuotaThird 500m: 2500m in all, before any rollout surges more); raise it there');
    // joiners first: the creator's quota is judged when it comes
    service({ namespace: 'shared-r', createNamespace: false, resources: { memoryLimit: '2Gi' }, workload: FxWorkload.worker({ replicas: 2 }) }, 'MemJoiner');
    expect(messageOf(() => service({ namespace: 'shared-r', quota: { memory: '4Gi' } }, 'MemCreator')))
      .toBe("FxMicroservice at Checks/MemCreator: invalid quota.memory '4Gi'; allowed: at least 4608Mi: the quota of the namespace admits the memory of every service in namespace shared-r at once "
        + '(Checks/MemJoiner 4096Mi, Checks/MemCreator 512Mi: 4608Mi in all, before any rollout surges more)');
    service({ namespace: 'shared-t', createNamespace: false, resources: { memoryLimit: '2Gi' }, workload: FxWorkload.worker({ replicas: 2 }) });
    expect(() => service({ namespace: 'shared-t', quota: { memory: '5Gi' } })).not.toThrow();
    // a deploy-time replica count is not summed
    service({ namespace: 'shared-u', quota: { cpu: '2' } });
    expect(() => service({ namespace: 'shared-u', createNamespace: false, workload: FxWorkload.worker({ replicas: new CfnParameter(stack, `R${++n}`, { type: 'Number' }).valueAsNumber }) })).not.toThrow();
  });
});

describe('stacks and clusters of another kind', () => {
  test('an environment-agnostic service stack on a cluster pinned to an environment', () => {
    const agnostic = new Stack(app, 'Agnostic');
    expect(messageOf(() => service({}, 'Api', agnostic)))
      .toBe("FxMicroservice at Agnostic/Api: invalid cluster 'Checks/Cluster'; allowed: a construct in a stack of the same environment: this service's stack Agnostic is in an environment-agnostic stack, "
        + 'Checks/Cluster in 123456789012/us-east-1 (give stack Agnostic an env with the account and region, e.g. env: { account, region })');
    expect(() => service({}, 'Api', new Stack(app, 'Pinned', { env: ENV }))).not.toThrow();
  });

  test('an EFS volume on a cluster without the efs add-on', () => {
    const own = new Stack(testApp(path.join(outdir, 'efs')), 'NoEfs', { env: ENV });
    const noEfs = clusterWithAddons(own, FxProfile.DEVELOPMENT, { addons: { remove: [FxAddonName.EFS] } });
    expect(messageOf(() => new FxMicroservice(own, 'Files', { cluster: noEfs, image, volumes: [FxVolume.efs({ name: 'files', mountPath: '/files' })] })))
      .toBe("FxMicroservice at NoEfs/Files: invalid volumes[0] 'efs files'; allowed: an EFS volume only on a cluster with the efs add-on: cluster NoEfs/Cluster has no shared file system, so no efs-sc StorageClass (keep the efs add-on, or use FxVolume.gp3)");
    expect(() => new FxMicroservice(own, 'Data', { cluster: noEfs, image, volumes: [FxVolume.gp3({ name: 'data', mountPath: '/data' })] })).not.toThrow();
    expect(() => service({ volumes: [FxVolume.efs({ name: 'files', mountPath: '/files' })] })).not.toThrow();
  });
});

describe('FxServiceStacks', () => {
  test('two FxServiceStacks with one prefix, or producing one stack name', () => {
    const own = testApp(path.join(outdir, 'prefixes'));
    new FxServiceStacks(own, 'A', { env: ENV, stackNamePrefix: 'Svc' });
    expect(messageOf(() => new FxServiceStacks(own, 'B', { env: ENV, stackNamePrefix: 'Svc' })))
      .toBe("FxServiceStacks at B: invalid stackNamePrefix 'Svc'; allowed: a prefix no other FxServiceStacks of the app uses (A does: their stacks Svc1, Svc2... would have the same names)");
    const one = new FxServiceStacks(own, 'C', { env: ENV, stackNamePrefix: 'Web1', stackCount: 1 });
    const eleven = new FxServiceStacks(own, 'D', { env: ENV, stackNamePrefix: 'Web', servicesPerStack: 1 });
    one.stackFor('a');
    for (let i = 0; i < 10; i++) eleven.next();
    expect(messageOf(() => eleven.next()))
      .toBe("FxServiceStacks at D: invalid stackNamePrefix 'Web'; allowed: a prefix whose stack names no other FxServiceStacks of the app produces: Web11 is a stack of C already");
    expect(() => new FxServiceStacks(testApp(path.join(outdir, 'other')), 'B', { env: ENV, stackNamePrefix: 'Svc' })).not.toThrow();
  });

  test('a prefix from the construct id says so', () => {
    expect(messageOf(() => new FxServiceStacks(testApp(path.join(outdir, 'id')), 'Team_Services', { env: ENV })))
      .toBe("FxServiceStacks at Team_Services: invalid stackNamePrefix (from the construct id) 'Team_Services'; allowed: a CloudFormation stack name prefix: a letter, then letters, digits and - (no _), up to 125 characters");
  });

  test('next() refuses a stack name over 128 characters', () => {
    const prefix = 'P'.repeat(125);
    const stacks = new FxServiceStacks(testApp(path.join(outdir, 'long')), 'Long', { env: ENV, stackNamePrefix: prefix, servicesPerStack: 40 });
    (stacks as any).positional = 999 * 40 - 1;
    expect(stacks.next().stackName).toBe(`${prefix}999`);
    expect(messageOf(() => { for (let i = 0; i < 41; i++) stacks.next(); }))
      .toBe(`FxServiceStacks at Long: invalid stackNamePrefix '${prefix}'; allowed: a prefix that leaves room for the stack number: stack 1000 would be named ${prefix}1000 (129 characters, CloudFormation allows 128)`);
  });

  test('stackFor a deploy-time name', () => {
    const own = testApp(path.join(outdir, 'token'));
    const stacks = new FxServiceStacks(own, 'Services', { env: ENV });
    const name = new CfnParameter(new Stack(own, 'Params'), 'Name', { type: 'String' }).valueAsString;
    expect(messageOf(() => stacks.stackFor(name)))
      .toBe("FxServiceStacks at Services: invalid stackFor(serviceName) '(a deploy-time token)'; allowed: a value known at synth: the stack is chosen by hashing the name at synth");
    expect(messageOf(() => stacks.stackFor(['a'] as any)))
      .toBe('FxServiceStacks at Services: invalid stackFor(serviceName) ["a"]; allowed: a service name (a string)');
    expect(stacks.stackFor('orders').stackName).toMatch(/^Services\d+$/);
  });
});
