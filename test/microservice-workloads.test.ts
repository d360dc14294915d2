import * as path from 'path';
import { CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import {
  FxCluster, FxConcurrencyPolicy, FxImage, FxMicroservice, FxMicroserviceProps, FxNodeOperator, FxProbe, FxProfile, FxVolume, FxWorkload,
} from '../src';
import { clusterWithAddons, ENV, testApp } from './util/fixtures';
import { k8sErrors } from './util/k8s';
import { kubernetesObjectsOf } from './util/manifests';
import { restrictedViolationsOf } from './util/pss';
import { networkFromTemplate } from '../build-tools/conformance/flows';
import { ReachabilityModel } from '../build-tools/conformance/reachability';
import { IFxWorkloadObservability } from '../src/core/contracts';
import { FxCapability } from '../src/core/install-order';

type Obj = Record<string, any>;

class FakeObservability implements IFxWorkloadObservability {
  public readonly otlpEndpoint = 'http://otel.monitoring:4317';
  public readonly otlpHttpEndpoint = 'http://otel.monitoring:4318';
  public serviceDashboard(namespace: string, serviceName: string): Record<string, any> {
    return {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `${serviceName}-dashboard`, namespace, labels: { grafana_dashboard: '1' } },
      data: { [`${namespace}--${serviceName}.json`]: '{"title":"x"}' },
    };
  }
}

const NGINX = FxImage.fromRegistry('nginxinc/nginx-unprivileged:1.27.4-alpine');
const TOOL = FxImage.fromRegistry('ghcr.io/acme/tool:1.0.0');

function find(objects: Obj[], kind: string, name?: string): Obj {
  const found = objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (!found) throw new Error(`no ${kind} ${name ?? ''} in ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found;
}
const kinds = (objects: Obj[]) => objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
const podOf = (o: Obj): Obj => (o.kind === 'CronJob' ? o.spec.jobTemplate.spec.template.spec : o.spec.template.spec);

describe('FxMicroservice workload kinds, container options and placement (issue 20)', () => {
  let stack: Stack;
  let template: Template;
  let all: Obj[];
  const svc: Record<string, FxMicroservice> = {};
  const objs: Record<string, Obj[]> = {};

  beforeAll(() => {
    const app = testApp();
    stack = new Stack(app, 'Workloads', { env: ENV });
    const cluster = clusterWithAddons(stack, FxProfile.PRODUCTION);
    cluster.addHelmChart('Prometheus', { chart: cluster.versions.charts.kubePrometheusStack, namespace: 'monitoring', provides: [FxCapability.PROMETHEUS_OPERATOR_CRDS] });
    const observability = new FakeObservability();
    const settings = secretsmanager.Secret.fromSecretNameV2(stack, 'Settings', 'fx/web/settings');
    svc.web = new FxMicroservice(stack, 'Web', {
      cluster,
      image: NGINX,
      port: 8080,
      securityContext: { runAsUser: 101, runAsGroup: 101, writablePaths: ['/var/cache/nginx'], addCapabilities: ['NET_BIND_SERVICE'] },
      probes: { liveness: FxProbe.tcp({ period: Duration.seconds(20) }), readiness: FxProbe.http('/', { failureThreshold: 2 }) },
      volumes: [
        FxVolume.configMap({ name: 'site', mountPath: '/etc/nginx/conf.d', files: { 'default.conf': 'server { listen 8080; }' } }),
        FxVolume.efs({ name: 'uploads', mountPath: '/srv/uploads', size: '20Gi' }),
        FxVolume.secret({ name: 'tls', mountPath: '/etc/fx/tls', secret: settings, keys: ['cert.pem'] }),
      ],
      sidecars: [{
        name: 'exporter',
        image: TOOL,
        args: ['--listen=:9113'],
        port: 9113,
        readinessProbe: FxProbe.http('/metrics'),
        resources: { cpuRequest: '20m', memoryRequest: '32Mi' },
        volumeMounts: [{ volume: 'uploads', mountPath: '/data' }],
      }],
      initContainers: [{ name: 'render', image: TOOL, command: ['render', '/data'], securityContext: { runAsUser: 2000, writablePaths: ['/work'] } }],
      placement: {
        tolerations: [{ key: 'dedicated', value: 'web', effect: eks.TaintEffect.NO_SCHEDULE }, { key: 'example.com/maintenance' }],
        nodeSelector: { 'karpenter.sh/nodepool': 'default' },
        requiredNodeAffinity: [{ key: 'kubernetes.io/arch', operator: FxNodeOperator.IN, values: ['arm64', 'amd64'] }],
        preferredNodeAffinity: [{ weight: 30, requirements: [{ key: 'karpenter.k8s.aws/instance-generation', operator: FxNodeOperator.GT, values: ['5'] }] }],
      },
      spot: true,
    });
    const queue = new sqs.Queue(stack, 'Jobs');
    svc.worker = new FxMicroservice(stack, 'QueueWorker', {
      cluster,
      observability,
      image: TOOL,
      workload: FxWorkload.worker({ replicas: 3 }),
      command: ['python3', '-m', 'worker'],
      args: ['--queue', queue.queueUrl],
      metricsPort: 9100,
      probes: { liveness: FxProbe.exec(['cat', '/tmp/alive'], { period: Duration.seconds(30) }) },
    });
    queue.grantConsumeMessages(svc.worker);
    svc.bare = new FxMicroservice(stack, 'BareWorker', { cluster, image: TOOL, workload: FxWorkload.worker({ replicas: 1 }) });
    svc.stateful = new FxMicroservice(stack, 'Ledger', {
      cluster,
      observability,
      image: TOOL,
      port: 9000,
      metricsPort: 9090,
      probes: { liveness: FxProbe.grpc(), readiness: FxProbe.grpc({ service: 'ledger.v1.Ledger', port: 9000 }) },
      volumes: [FxVolume.gp3({ name: 'data', mountPath: '/var/lib/ledger', size: '50Gi' })],
      securityContext: { writablePaths: ['/var/run/ledger'] },
      migration: { command: ['ledger', 'migrate'] },
    });
    svc.indexer = new FxMicroservice(stack, 'Indexer', {
      cluster,
      observability,
      image: TOOL,
      workload: FxWorkload.worker({ replicas: 2 }),
      volumes: [FxVolume.gp3({ name: 'index', mountPath: '/var/lib/index' })],
    });
    svc.cron = new FxMicroservice(stack, 'Report', {
      cluster,
      observability,
      image: TOOL,
      workload: FxWorkload.scheduledJob({
        schedule: '30 2 * * MON-FRI',
        timeZone: 'Europe/Paris',
        startingDeadline: Duration.minutes(5),
        activeDeadline: Duration.hours(1),
        backoffLimit: 1,
        successfulJobsHistoryLimit: 2,
      }),
      command: ['report', '--daily'],
      placement: { nodeSelector: { 'karpenter.sh/capacity-type': 'on-demand' } },
    });
    svc.job = new FxMicroservice(stack, 'Backfill', {
      cluster,
      image: TOOL,
      workload: FxWorkload.job({ ttlAfterFinished: Duration.days(1), backoffLimit: 0 }),
      args: ['backfill', '--since', '2026-01-01'],
      volumes: [FxVolume.efs({ name: 'exports', mountPath: '/exports' })],
    });
    svc.built = new FxMicroservice(stack, 'Built', {
      cluster,
      image: FxImage.fromAsset(path.join(__dirname, '..', 'examples', 'services'), { file: 'orders-api/Dockerfile' }),
      route: { host: 'built.fx.example.com' },
    });
    template = Template.fromStack(stack);
    for (const [k, s] of Object.entries(svc)) objs[k] = s.chart.toJson();
    all = kubernetesObjectsOf(template);
  });

  test('every object validates against the Kubernetes 1.35 schemas (and CRDs) and Pod Security restricted', () => {
    const ours = Object.values(objs).flat();
    expect(k8sErrors(ours)).toEqual([]);
    expect(restrictedViolationsOf(ours)).toEqual([]);
  });

  test('worker: a Deployment with fixed replicas, no port, Service, HPA or route; PDB; exec probe; PodMonitor on metricsPort', () => {
    const o = objs.worker;
    expect(kinds(o).filter((k) => !k.startsWith('Namespace') && !k.startsWith('ResourceQuota') && !k.startsWith('LimitRange'))).toEqual([
      'Deployment/queueworker', 'NetworkPolicy/default-deny', 'NetworkPolicy/queueworker', 'PodDisruptionBudget/queueworker', 'PodMonitor/queueworker',
      'PrometheusRule/queueworker', 'ServiceAccount/queueworker',
    ]);
    const d = find(o, 'Deployment');
    expect(d.spec.replicas).toBe(3);
    const app = d.spec.template.spec.containers[0];
    expect(app.command).toEqual(['python3', '-m', 'worker']);
    expect(app.args[0]).toBe('--queue');
    expect(app.ports).toEqual([{ name: 'metrics', containerPort: 9100, protocol: 'TCP' }]);
    expect(app.livenessProbe).toEqual({ exec: { command: ['cat', '/tmp/alive'] }, periodSeconds: 30, failureThreshold: 3, timeoutSeconds: 3 });
    expect(app.readinessProbe).toBeUndefined();
    expect(app.startupProbe).toBeUndefined();
    expect(app.lifecycle).toBeUndefined();
    expect(find(o, 'PodMonitor').spec.podMetricsEndpoints).toEqual([{ port: 'metrics', path: '/metrics', interval: '30s', scrapeTimeout: '10s' }]);
    // Ingress only from Prometheus on the metrics port.
    const policy = find(o, 'NetworkPolicy', 'queueworker').spec;
    expect(policy.ingress).toEqual([{
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } }],
      ports: [{ protocol: 'TCP', port: 9100 }],
    }]);
    expect(svc.worker.port).toBeUndefined();
    // No Traefik dashboard or request alerts for a worker: nothing of it goes through Traefik. Its alerts come from kube-state-metrics.
    expect(o.filter((x) => x.kind === 'ConfigMap' || x.kind === 'ServiceMonitor')).toEqual([]);
    expect(find(o, 'PrometheusRule', 'queueworker').spec.groups[0].rules.map((r: Obj) => r.alert)).toEqual(['FxWorkerDown', 'FxWorkerRestarting']);
  });

  test('alerts of workers and jobs read kube-state-metrics series of their own pods and Jobs, and no other workload\'s', () => {
    // PromQL label regexes are anchored at both ends.
    const selector = (expr: string, label: string): RegExp => new RegExp(`^${new RegExp(`${label}=~"([^"]+)"`).exec(expr)![1]}$`);
    const rules = (o: Obj[]) => Object.fromEntries(find(o, 'PrometheusRule').spec.groups[0].rules.map((r: Obj) => [r.alert, r]));
    const worker = rules(objs.worker);
    expect(worker.FxWorkerDown.expr).toBe('kube_deployment_status_replicas_available{namespace="queueworker",deployment="queueworker"} < 1');
    expect(worker.FxWorkerDown.labels).toEqual({ severity: 'critical', service: 'queueworker' });
    const pods = selector(worker.FxWorkerRestarting.expr, 'pod');
    expect(['queueworker-7d9f8c6b5d-x2x7q', 'queueworker-5c8d7-abcde'].filter((p) => pods.test(p))).toHaveLength(2);
    expect(['queueworker-canary-7d9f8c6b5d-x2x7q', 'queueworker-0', 'other-7d9f8c6b5d-x2x7q', 'queueworker'].filter((p) => pods.test(p))).toEqual([]);
    expect(worker.FxWorkerRestarting.expr).toContain('namespace="queueworker"');
    // A worker on gp3 volumes is a StatefulSet: its pods are <name>-<ordinal>.
    const indexer = rules(objs.indexer);
    expect(indexer.FxWorkerDown.expr).toContain('kube_statefulset_status_replicas_available{namespace="indexer",statefulset="indexer"}');
    const ordinals = selector(indexer.FxWorkerRestarting.expr, 'pod');
    expect(['indexer-0', 'indexer-12'].every((p) => ordinals.test(p))).toBe(true);
    expect(['indexer-7d9f8c6b5d-x2x7q', 'indexer-x'].some((p) => ordinals.test(p))).toBe(false);
    // The CronJob's Jobs are <cronjob>-<minutes since epoch>; a one-off Job is <name>-<hash>.
    const cron = rules(objs.cron);
    expect(Object.keys(cron)).toEqual(['FxJobFailed']);
    const jobs = selector(cron.FxJobFailed.expr, 'job_name');
    expect(jobs.test('report-29416230')).toBe(true);
    expect(['report-daily-29416230', 'report', 'reports-29416230'].some((j) => jobs.test(j))).toBe(false);
    expect(cron.FxJobFailed.expr).toMatch(/^sum\(kube_job_status_failed\{namespace="report",job_name=~"[^"]+"\}\) > 0$/);
  });

  test('a workload without observability has no alerts (the PrometheusRule CRD may not exist)', () => {
    expect(objs.bare.filter((x) => x.kind === 'PrometheusRule')).toEqual([]);
    expect(objs.job.filter((x) => x.kind === 'PrometheusRule')).toEqual([]);
  });

  test('worker with an SQS grant: egress to the Pod Identity agent and AWS on 443 at synth; a worker without grants gets none', () => {
    const egress = find(all, 'NetworkPolicy', 'queueworker').spec.egress as Obj[];
    expect(egress).toEqual(expect.arrayContaining([
      { to: [{ ipBlock: { cidr: '169.254.170.23/32' } }], ports: [{ protocol: 'TCP', port: 80 }] },
    ]));
    expect(egress.some((e) => e.ports?.some((p: Obj) => p.port === 443))).toBe(true);
    const bare = find(all, 'NetworkPolicy', 'bareworker').spec;
    expect(bare.ingress).toEqual([]);
    expect(bare.egress.some((e: Obj) => e.ports?.some((p: Obj) => p.port === 443 || p.port === 80))).toBe(false);
    // The grant lands on the worker's own role (inline or attached policy).
    const resources = template.toJSON().Resources as Record<string, unknown>;
    const own = Object.entries(resources).filter(([id]) => id.startsWith('QueueWorker')).map(([, r]) => JSON.stringify(r));
    expect(own.some((r) => r.includes('sqs:ReceiveMessage'))).toBe(true);
  });

  test('reachability (VPC CNI model): the queue worker reaches DNS, the Pod Identity agent and AWS on 443, nothing else; nothing reaches it', () => {
    const network = networkFromTemplate(template.toJSON());
    const model = new ReachabilityModel(all, network);
    const traefik = model.addPod({ namespace: 'traefik', name: 'traefik', labels: { 'app.kubernetes.io/name': 'traefik' } });
    const [worker] = model.podsMatching('queueworker', { 'app.kubernetes.io/name': 'queueworker' });
    const [web] = model.podsMatching('web', { 'app.kubernetes.io/name': 'web' });
    const [dns] = model.podsMatching('kube-system', { 'k8s-app': 'kube-dns' });
    const ok = (from: typeof worker, to: Parameters<ReachabilityModel['allowed']>[1], port: number, protocol: 'TCP' | 'UDP' = 'TCP') => model.allowed(from, to, port, protocol).allowed;
    expect([
      ok(worker, { pod: dns }, 53, 'UDP'),
      ok(worker, { ip: '169.254.170.23' }, 80),
      ok(worker, { ip: network.awsEndpointIps[0] }, 443),
    ]).toEqual([true, true, true]);
    expect([
      ok(worker, { ip: network.awsEndpointIps[0] }, 80),
      ok(worker, { ip: '169.254.169.254' }, 80),
      ok(worker, { ip: '8.8.8.8' }, 53),
      ok(worker, { service: { namespace: 'web', name: 'web' } }, 80),
      ok(worker, { pod: web }, 8080),
      ok(traefik, { pod: worker }, 9100),
      ok(web, { pod: worker }, 9100),
    ]).toEqual([false, false, false, false, false, false, false]);
    // The HTTP service next to it is reached by Traefik, as before.
    expect(ok(traefik, { service: { namespace: 'web', name: 'web' } }, 80)).toBe(true);
  });

  test('bench: a worker without repository or route creates fewer CloudFormation resources than an HTTP service built from source; none more than 6', () => {
    const resources = template.toJSON().Resources as Record<string, { Type: string }>;
    const own = (prefix: string) => Object.keys(resources).filter((id) => id.startsWith(prefix));
    expect(own('BareWorker').map((id) => resources[id].Type).sort()).toEqual([
      'AWS::EKS::PodIdentityAssociation', 'AWS::IAM::Role', 'Custom::AWSCDK-EKS-KubernetesResource',
    ]);
    expect(own('BareWorker').length).toBeLessThan(own('Built').length);
    for (const prefix of ['Web', 'QueueWorker', 'BareWorker', 'Ledger', 'Indexer', 'Report', 'Backfill', 'Built']) expect(own(prefix).length).toBeLessThanOrEqual(6);
  });

  test('scheduled job: a CronJob with schedule, time zone, Forbid, deadlines, history and backoff; hardened pod without probes', () => {
    const o = objs.cron;
    expect(o.filter((x) => ['Deployment', 'Service', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'ServiceMonitor', 'PodMonitor'].includes(x.kind))).toEqual([]);
    const cron = find(o, 'CronJob', 'report');
    expect(cron.spec).toMatchObject({
      schedule: '30 2 * * MON-FRI',
      timeZone: 'Europe/Paris',
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: 300,
      successfulJobsHistoryLimit: 2,
      failedJobsHistoryLimit: 1,
      suspend: false,
    });
    expect(cron.spec.jobTemplate.spec).toMatchObject({ backoffLimit: 1, activeDeadlineSeconds: 3600 });
    const pod = podOf(cron);
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.nodeSelector).toEqual({ 'karpenter.sh/capacity-type': 'on-demand' });
    expect(pod.topologySpreadConstraints).toBeUndefined();
    const app = pod.containers[0];
    expect(app.command).toEqual(['report', '--daily']);
    expect(app.livenessProbe).toBeUndefined();
    expect(app.ports).toBeUndefined();
    expect(app.securityContext).toEqual({
      allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(app.resources).toEqual({ requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } });
    expect(find(o, 'NetworkPolicy', 'report').spec.ingress).toEqual([]);
    expect(app.env.map((e: Obj) => e.name)).toContain('OTEL_EXPORTER_OTLP_ENDPOINT');
  });

  test('one-off job: a Job named after a hash of its spec (immutable template: a change is a new Job), TTL and backoff', () => {
    const job = all.find((x) => x.kind === 'Job' && x.metadata.namespace === 'backfill')!;
    expect(job.metadata.name).toMatch(/^backfill-[0-9a-f]{10}$/);
    expect(job.spec).toMatchObject({ backoffLimit: 0, ttlSecondsAfterFinished: 86400 });
    expect(job.spec.activeDeadlineSeconds).toBeUndefined();
    const pod = job.spec.template.spec;
    expect(pod.containers[0].args).toEqual(['backfill', '--since', '2026-01-01']);
    expect(pod.volumes).toEqual(expect.arrayContaining([{ name: 'exports', persistentVolumeClaim: { claimName: 'backfill-exports' } }]));
    // Same inputs, same name: synthesizing again does not rename (and re-run) the Job.
    const again = kubernetesObjectsOf(Template.fromStack(stack)).find((x) => x.kind === 'Job' && x.metadata.namespace === 'backfill')!;
    expect(again.metadata.name).toBe(job.metadata.name);
  });

  test('one-off job: changing the command changes the Job name', () => {
    const name = (args: string[]) => {
      const app = testApp();
      const s = new Stack(app, 'JobName', { env: ENV });
      const cluster = clusterWithAddons(s, FxProfile.DEVELOPMENT);
      new FxMicroservice(s, 'Backfill', { cluster, image: TOOL, workload: FxWorkload.job(), args });
      return kubernetesObjectsOf(Template.fromStack(s)).find((x) => x.kind === 'Job' && x.metadata.namespace === 'backfill')!.metadata.name;
    };
    const a = name(['one']);
    expect(name(['one'])).toBe(a);
    expect(name(['two'])).not.toBe(a);
  });

  test('HTTP service with overrides: uid/gid, writable paths as emptyDirs, NET_BIND_SERVICE, TCP and HTTP probes', () => {
    const d = find(objs.web, 'Deployment', 'web');
    const pod = d.spec.template.spec;
    expect(pod.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 101, runAsGroup: 101, fsGroup: 101, seccompProfile: { type: 'RuntimeDefault' } });
    const app = pod.containers[0];
    expect(app.securityContext.capabilities).toEqual({ drop: ['ALL'], add: ['NET_BIND_SERVICE'] });
    expect(app.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(app.volumeMounts).toEqual(expect.arrayContaining([{ name: 'tmp', mountPath: '/tmp' }, { name: 'writable-0', mountPath: '/var/cache/nginx' }]));
    expect(pod.volumes).toEqual(expect.arrayContaining([{ name: 'writable-0', emptyDir: { sizeLimit: '256Mi' } }]));
    expect(app.livenessProbe).toEqual({ tcpSocket: { port: 'http' }, periodSeconds: 20, failureThreshold: 3, timeoutSeconds: 3 });
    expect(app.readinessProbe).toEqual({ httpGet: { path: '/', port: 'http' }, periodSeconds: 5, failureThreshold: 2, timeoutSeconds: 3 });
    // The startup probe reuses the liveness check with startup timing.
    expect(app.startupProbe).toEqual({ tcpSocket: { port: 'http' }, periodSeconds: 5, failureThreshold: 30, timeoutSeconds: 3 });
    expect(app.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    expect(find(objs.web, 'Service', 'web').spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
  });

  test('volumes: ConfigMap files, a shared EFS claim (ReadWriteMany on efs-sc), a Secrets Manager secret as files through an ExternalSecret', () => {
    const o = objs.web;
    expect(find(o, 'ConfigMap', 'web-site').data).toEqual({ 'default.conf': 'server { listen 8080; }' });
    expect(find(o, 'PersistentVolumeClaim', 'web-uploads').spec).toEqual({
      accessModes: ['ReadWriteMany'], storageClassName: 'efs-sc', resources: { requests: { storage: '20Gi' } },
    });
    const es = find(o, 'ExternalSecret', 'web-tls');
    expect(es.spec.data).toEqual([{ secretKey: 'cert.pem', remoteRef: { key: 'fx/web/settings', property: 'cert.pem' } }]);
    const pod = find(o, 'Deployment', 'web').spec.template.spec;
    expect(pod.volumes).toEqual(expect.arrayContaining([
      { name: 'site', configMap: { name: 'web-site' } },
      { name: 'uploads', persistentVolumeClaim: { claimName: 'web-uploads' } },
      { name: 'tls', secret: { secretName: 'web-tls' } },
    ]));
    expect(pod.containers[0].volumeMounts).toEqual(expect.arrayContaining([
      { name: 'site', mountPath: '/etc/nginx/conf.d', readOnly: true },
      { name: 'uploads', mountPath: '/srv/uploads' },
      { name: 'tls', mountPath: '/etc/fx/tls', readOnly: true },
    ]));
  });

  test('sidecars are native (restartPolicy Always) before init containers; both hardened with their own resources', () => {
    const pod = find(objs.web, 'Deployment', 'web').spec.template.spec;
    expect(pod.initContainers.map((c: Obj) => c.name)).toEqual(['exporter', 'render']);
    const [exporter, render] = pod.initContainers;
    expect(exporter).toMatchObject({
      restartPolicy: 'Always',
      image: 'ghcr.io/acme/tool:1.0.0',
      args: ['--listen=:9113'],
      ports: [{ containerPort: 9113, protocol: 'TCP' }],
      readinessProbe: { httpGet: { path: '/metrics', port: 9113 } },
      resources: { requests: { cpu: '20m', memory: '32Mi' }, limits: { cpu: '200m', memory: '128Mi' } },
      securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } },
    });
    expect(exporter.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }, { name: 'uploads', mountPath: '/data' }]);
    expect(render.restartPolicy).toBeUndefined();
    expect(render.command).toEqual(['render', '/data']);
    expect(render.securityContext.runAsUser).toBe(2000);
    expect(render.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }, { name: 'render-writable-0', mountPath: '/work' }]);
    expect(pod.volumes).toEqual(expect.arrayContaining([{ name: 'render-writable-0', emptyDir: { sizeLimit: '256Mi' } }]));
  });

  test('placement: tolerations, node selector, required and preferred node affinity, plus the spot taint and preference', () => {
    const pod = find(objs.web, 'Deployment', 'web').spec.template.spec;
    expect(pod.tolerations).toEqual([
      { key: 'dedicated', operator: 'Equal', value: 'web', effect: 'NoSchedule' },
      { key: 'example.com/maintenance', operator: 'Exists' },
      { key: 'fx.platform/capacity', operator: 'Equal', value: 'spot', effect: 'NoSchedule' },
    ]);
    expect(pod.nodeSelector).toEqual({ 'karpenter.sh/nodepool': 'default' });
    expect(pod.affinity.nodeAffinity).toEqual({
      requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['arm64', 'amd64'] }] }] },
      preferredDuringSchedulingIgnoredDuringExecution: [
        { weight: 30, preference: { matchExpressions: [{ key: 'karpenter.k8s.aws/instance-generation', operator: 'Gt', values: ['5'] }] } },
        { weight: 50, preference: { matchExpressions: [{ key: 'fx.platform/capacity', operator: 'In', values: ['spot'] }] } },
      ],
    });
    expect(pod.topologySpreadConstraints.map((t: Obj) => t.topologyKey)).toEqual(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']);
    // Without placement or spot: none of it.
    const bare = find(objs.bare, 'Deployment').spec.template.spec;
    expect([bare.tolerations, bare.nodeSelector, bare.affinity]).toEqual([undefined, undefined, undefined]);
  });

  test('gp3 volume: a StatefulSet with volumeClaimTemplates and a headless Service; the HPA scales the StatefulSet; gRPC probes', () => {
    const o = objs.stateful;
    expect(o.some((x) => x.kind === 'Deployment')).toBe(false);
    const sts = find(o, 'StatefulSet', 'ledger');
    expect(sts.spec.serviceName).toBe('ledger-headless');
    expect(sts.spec.volumeClaimTemplates).toEqual([{
      metadata: { name: 'data', labels: expect.objectContaining({ 'app.kubernetes.io/name': 'ledger' }) },
      spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'gp3', resources: { requests: { storage: '50Gi' } } },
    }]);
    const pod = sts.spec.template.spec;
    // The claim comes from the template, not from the pod's volumes.
    expect(pod.volumes.map((v: Obj) => v.name)).toEqual(['tmp', 'writable-0']);
    expect(pod.containers[0].volumeMounts).toEqual(expect.arrayContaining([{ name: 'data', mountPath: '/var/lib/ledger' }]));
    expect(pod.containers[0].livenessProbe.grpc).toEqual({ port: 9000 });
    expect(pod.containers[0].readinessProbe.grpc).toEqual({ port: 9000, service: 'ledger.v1.Ledger' });
    expect(find(o, 'Service', 'ledger-headless').spec).toMatchObject({ clusterIP: 'None', ports: [{ name: 'http', port: 9000, targetPort: 'http', protocol: 'TCP' }] });
    expect(find(o, 'Service', 'ledger').spec).toMatchObject({
      type: 'ClusterIP',
      ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }, { name: 'metrics', port: 9090, targetPort: 'metrics', protocol: 'TCP' }],
    });
    expect(find(o, 'ServiceMonitor').spec.endpoints[0].port).toBe('metrics');
    expect(find(o, 'HorizontalPodAutoscaler').spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'ledger' });
    expect(find(o, 'PodDisruptionBudget')).toBeDefined();
    expect(find(o, 'PrometheusRule').spec.groups[0].rules[0].expr).toBe('kube_statefulset_status_replicas_available{namespace="ledger",statefulset="ledger"} < 1');
  });

  test('migration Job of a StatefulSet: the pod\'s writable paths, no per-replica claim; the StatefulSet waits for it', () => {
    const job = objs.stateful.find((x) => x.kind === 'Job')!;
    const pod = job.spec.template.spec;
    expect(pod.volumes.map((v: Obj) => v.name)).toEqual(['tmp', 'writable-0']);
    expect(pod.containers[0].volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }, { name: 'writable-0', mountPath: '/var/run/ledger' }]);
    expect(pod.containers[0].command).toEqual(['ledger', 'migrate']);
    const sts = find(objs.stateful, 'StatefulSet', 'ledger').spec.template.spec;
    expect(sts.initContainers.map((c: Obj) => c.name)).toEqual(['wait-for-migration']);
    expect(sts.automountServiceAccountToken).toBe(true);
  });

  test('gp3 volume on a worker: a StatefulSet behind a port-less headless Service, no HPA, a PDB', () => {
    const o = objs.indexer;
    expect(find(o, 'StatefulSet', 'indexer').spec).toMatchObject({ replicas: 2, serviceName: 'indexer-headless' });
    expect(find(o, 'Service', 'indexer-headless').spec).toMatchObject({ clusterIP: 'None', ports: [] });
    expect(o.filter((x) => x.kind === 'HorizontalPodAutoscaler' || (x.kind === 'Service' && x.metadata.name === 'indexer'))).toEqual([]);
    expect(find(o, 'PodDisruptionBudget', 'indexer').spec.maxUnavailable).toBe(1);
  });

  test('the synthesized manifests carry each kind (Template): Deployment, StatefulSet, CronJob, Job', () => {
    const kindOf = (ns: string) => all.filter((x) => x.metadata.namespace === ns && ['Deployment', 'StatefulSet', 'CronJob', 'Job'].includes(x.kind)).map((x) => x.kind);
    expect([kindOf('web'), kindOf('queueworker'), kindOf('ledger'), kindOf('indexer'), kindOf('report'), kindOf('backfill')])
      .toEqual([['Deployment'], ['Deployment'], ['Job', 'StatefulSet'], ['StatefulSet'], ['CronJob'], ['Job']]); // ledger: its migration Job
  });

  test('HTTP service defaults are unchanged: HTTP probes on /healthz and /readyz, preStop sleep, no command', () => {
    const app = find(objs.built, 'Deployment').spec.template.spec.containers[0];
    expect(app.livenessProbe).toEqual({ httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 3 });
    expect(app.startupProbe).toEqual({ httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 5, failureThreshold: 30, timeoutSeconds: 3 });
    expect(app.readinessProbe).toEqual({ httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 5, failureThreshold: 3, timeoutSeconds: 3 });
    expect(app.lifecycle).toEqual({ preStop: { sleep: { seconds: 5 } } });
    expect(app.command).toBeUndefined();
    expect(app.args).toBeUndefined();
  });
});

describe('FxMicroservice workload, container and placement bad input (issue 20)', () => {
  let stack: Stack;
  let cluster: FxCluster;
  let n = 0;
  const secret = () => secretsmanager.Secret.fromSecretNameV2(stack, `S${n}`, 'fx/x');
  const make = (props: Partial<FxMicroserviceProps>) => {
    n += 1;
    return () => new FxMicroservice(stack, `Svc${n}`, { cluster, image: TOOL, ...props });
  };
  const at = () => `FxMicroservice at Bad/Svc${n}`;

  beforeAll(() => {
    stack = new Stack(testApp(), 'Bad', { env: ENV });
    cluster = clusterWithAddons(stack, FxProfile.DEVELOPMENT);
  });

  test.each([
    ['port', { workload: FxWorkload.worker(), port: 8080 },
      'invalid port 8080; allowed: no port on a worker: it has no port or Service (metricsPort to be scraped, or FxWorkload.httpService())'],
    ['route', { workload: FxWorkload.worker(), route: { host: 'w.fx.example.com' } }, "invalid route 'w.fx.example.com'; allowed: no route on a worker: it has no port or Service"],
    ['route on a job', { workload: FxWorkload.job(), route: { host: 'j.fx.example.com', canary: { image: TOOL, weight: 10 } } },
      "invalid route 'j.fx.example.com'; allowed: no route on a one-off job: its pods run to completion and have no Service"],
    ['autoscaling', { workload: FxWorkload.worker(), autoscaling: { maxReplicas: 4 } },
      'invalid autoscaling {"maxReplicas":4}; allowed: no autoscaling on a worker: FxWorkload.worker({ replicas }) sets its replicas'],
    ['autoscaling on a cron job', { workload: FxWorkload.scheduledJob({ schedule: '@daily' }), autoscaling: { minReplicas: 1 } },
      'invalid autoscaling {"minReplicas":1}; allowed: no autoscaling on a scheduled job: its pods run to completion and have no Service'],
    ['migration', { workload: FxWorkload.job(), migration: { command: ['migrate'] } },
      'invalid migration ["migrate"]; allowed: no migration on a one-off job: run it as a job of its own'],
    ['metricsPort', { workload: FxWorkload.scheduledJob({ schedule: '@hourly' }), metricsPort: 9100 },
      'invalid metricsPort 9100; allowed: no metricsPort on a scheduled job: its pods are gone before a scrape (export over OTLP with observability)'],
    ['replicas', { workload: FxWorkload.worker({ replicas: 0 }) }, 'invalid workload replicas 0; allowed: an integer from 1 to 2147483647'],
    ['schedule fields', { workload: FxWorkload.scheduledJob({ schedule: '0 3 * *' }) },
      "invalid workload schedule '0 3 * *'; allowed: a cron schedule of five fields (minute hour day-of-month month day-of-week, e.g. '0 3 * * *') or @hourly, @daily, @weekly, @monthly, @yearly (4 fields, expected 5 (minute hour day-of-month month day-of-week))"],
    ['schedule range', { workload: FxWorkload.scheduledJob({ schedule: '0 25 * * *' }) }, "(hour '25': 25 is outside 0-23)"],
    ['schedule step', { workload: FxWorkload.scheduledJob({ schedule: '*/0 * * * *' }) }, "(minute '*/0': step '0' is not a positive integer)"],
    ['schedule name', { workload: FxWorkload.scheduledJob({ schedule: '0 0 * * FUN' }) }, "(day of week 'FUN': 'FUN' is not a number or name)"],
    ['schedule steps', { workload: FxWorkload.scheduledJob({ schedule: '*/2/3 * * * *' }) }, "(minute '*/2/3': one / at most)"],
    ['schedule range dashes', { workload: FxWorkload.scheduledJob({ schedule: '1-2-3 * * * *' }) }, "(minute '1-2-3': range '1-2-3' has more than one -)"],
    ['schedule backwards', { workload: FxWorkload.scheduledJob({ schedule: '0 0 * DEC-JAN *' }) }, "(month 'DEC-JAN': range 'DEC-JAN' runs backwards)"],
    ['schedule ? in minutes', { workload: FxWorkload.scheduledJob({ schedule: '? * * * *' }) }, "(minute '?': '?' is not a number)"],
    ['schedule TZ', { workload: FxWorkload.scheduledJob({ schedule: 'TZ=UTC 0 0 * * *' }) }, '(TZ= and CRON_TZ= are rejected by Kubernetes: use timeZone)'],
    ['schedule descriptor', { workload: FxWorkload.scheduledJob({ schedule: '@fortnightly' }) }, '(unknown descriptor @fortnightly)'],
    ['timeZone', { workload: FxWorkload.scheduledJob({ schedule: '@daily', timeZone: 'Mars/Olympus' }) },
      "invalid workload timeZone 'Mars/Olympus'; allowed: an IANA time zone such as Europe/Paris or UTC"],
    ['startingDeadline', { workload: FxWorkload.scheduledJob({ schedule: '@daily', startingDeadline: Duration.seconds(5) }) },
      'invalid workload startingDeadline 5; allowed: a whole number of seconds, at least 10 (the CronJob controller looks every 10 s)'],
    ['backoffLimit', { workload: FxWorkload.job({ backoffLimit: -1 }) }, 'invalid workload backoffLimit -1; allowed: an integer from 0 to 2147483647'],
    ['HTTP probe on a worker', { workload: FxWorkload.worker(), probes: { liveness: FxProbe.http('/healthz') } },
      "invalid probes.liveness 'http'; allowed: an exec probe (FxProbe.exec) on a worker, which has no port"],
    ['probe path on a worker', { workload: FxWorkload.worker(), probes: { livenessPath: '/healthz' } },
      "invalid probes.livenessPath '/healthz'; allowed: no HTTP probe path on a worker, which has no HTTP port (use probes.liveness: FxProbe.exec([...]))"],
    ['probe on a job', { workload: FxWorkload.job(), probes: { liveness: FxProbe.exec(['true']) } },
      "invalid probes.liveness 'exec'; allowed: no probes on a one-off job: its pods run to completion (bound a run with activeDeadline)"],
    ['probe and path', { probes: { liveness: FxProbe.tcp(), livenessPath: '/healthz' } },
      "invalid probes.livenessPath '/healthz'; allowed: either probes.liveness or probes.livenessPath, not both"],
    ['alerts on a worker', { workload: FxWorkload.worker(), alerts: { errorRatio: 0.1 } },
      'invalid alerts {"errorRatio":0.1}; allowed: no alerts on a worker: they measure HTTP traffic at Traefik'],
    ['probe path', { probes: { readiness: FxProbe.http('ready') } }, "invalid probes.readiness path 'ready'; allowed: a path starting with '/'"],
    ['runAsUser 0', { securityContext: { runAsUser: 0 } }, 'invalid securityContext.runAsUser 0; allowed: a non-zero id: Pod Security restricted forbids running as root (uid/gid 0)'],
    ['privileged', { securityContext: { privileged: true } }, 'invalid securityContext.privileged true; allowed: false: Pod Security restricted forbids privileged containers'],
    ['allowPrivilegeEscalation', { securityContext: { allowPrivilegeEscalation: true } },
      'invalid securityContext.allowPrivilegeEscalation true; allowed: false: Pod Security restricted forbids privilege escalation'],
    ['capability', { securityContext: { addCapabilities: ['NET_BIND_SERVICE', 'SYS_ADMIN'] } },
      "invalid securityContext.addCapabilities[1] 'SYS_ADMIN'; allowed: NET_BIND_SERVICE only: Pod Security restricted drops every other capability"],
    ['writable path', { securityContext: { writablePaths: ['var/cache'] } },
      "invalid securityContext.writablePaths[0] 'var/cache'; allowed: an absolute path such as /var/cache/nginx (no trailing /, '.' or '..')"],
    ['writable /tmp', { securityContext: { writablePaths: ['/tmp'] } }, "invalid securityContext.writablePaths[0] '/tmp'; allowed: a path other than /tmp, which is always writable"],
    ['sidecar name taken', { sidecars: [{ name: 'app', image: TOOL }] }, "invalid sidecars[0].name 'app'; allowed: a name unique in the pod (app, migrate, wait-for-migration are taken)"],
    ['duplicate container names', { sidecars: [{ name: 'proxy', image: TOOL }], initContainers: [{ name: 'proxy', image: TOOL }] },
      "invalid initContainers[0].name 'proxy'; allowed: a name unique in the pod (app, migrate, wait-for-migration, proxy are taken)"],
    ['sidecar fsGroup', { sidecars: [{ name: 'proxy', image: TOOL, securityContext: { fsGroup: 3000 } }] },
      "invalid sidecars[0].securityContext.fsGroup 3000; allowed: no fsGroup on a sidecar or init container: it is pod-wide, set it on the service's securityContext"],
    ['sidecar root', { sidecars: [{ name: 'proxy', image: TOOL, securityContext: { runAsUser: 0 } }] },
      'invalid sidecars[0].securityContext.runAsUser 0; allowed: a non-zero id: Pod Security restricted forbids running as root (uid/gid 0)'],
    ['sidecar probe without port', { sidecars: [{ name: 'proxy', image: TOOL, livenessProbe: FxProbe.tcp() }] },
      "invalid sidecars[0].livenessProbe 'tcp'; allowed: an exec probe, or a port (sidecars[0].port or the probe's port) to probe"],
    ['sidecar on the service port', { sidecars: [{ name: 'proxy', image: TOOL, port: 8000 }] },
      "invalid sidecars[0].port 8000; allowed: a port other than the service's port and metricsPort (8000)"],
    ['init container port', { initContainers: [{ name: 'seed', image: TOOL, port: 9000 }] },
      'invalid initContainers[0].port 9000; allowed: no port on an init container (it runs to completion before the service starts)'],
    ['sidecar mount of an unknown volume', { sidecars: [{ name: 'proxy', image: TOOL, volumeMounts: [{ volume: 'nope', mountPath: '/x' }] }] },
      "invalid sidecars[0].volumeMounts[0].volume 'nope'; allowed: the name of one of the service's volumes (none)"],
    ['volume name', { volumes: [FxVolume.efs({ name: 'tmp', mountPath: '/data' })] },
      "invalid volumes[0].name 'tmp'; allowed: a DNS-1123 label of at most 40 characters, not tmp, database-credentials or writable-<n> (used by the chart)"],
    ['duplicate volume', { volumes: [FxVolume.efs({ name: 'a', mountPath: '/a' }), FxVolume.configMap({ name: 'a', mountPath: '/b', files: {} })] },
      "invalid volumes[1].name 'a'; allowed: a volume name unique in the service"],
    ['duplicate mount path', { volumes: [FxVolume.efs({ name: 'a', mountPath: '/a' }), FxVolume.configMap({ name: 'b', mountPath: '/a', files: {} })] },
      "invalid volumes[1].mountPath '/a'; allowed: a path no other volume of the service mounts"],
    ['volume size', { volumes: [FxVolume.efs({ name: 'a', mountPath: '/a', size: 'lots' })] }, "invalid volumes[0].size 'lots'; allowed: a positive Kubernetes quantity such as '10Gi'"],
    ['gp3 on a job', { workload: FxWorkload.job(), volumes: [FxVolume.gp3({ name: 'data', mountPath: '/data' })] },
      "invalid volumes[0] 'gp3 data'; allowed: an EFS, ConfigMap or secret volume on a one-off job: a per-replica gp3 claim needs a StatefulSet (an HTTP service or a worker)"],
    ['gp3 with a canary', { route: { host: 'c.fx.example.com', canary: { image: TOOL, weight: 10 } }, volumes: [FxVolume.gp3({ name: 'data', mountPath: '/data' })] },
      "invalid volumes[0] 'gp3 data'; allowed: no gp3 claim on a service with a canary (a StatefulSet has no second track): use FxVolume.efs"],
    ['toleration key', { placement: { tolerations: [{ key: 'bad key' }] } }, "invalid placement.tolerations[0].key 'bad key'; allowed: a label key such as dedicated or example.com/pool"],
    ['nodeSelector value', { placement: { nodeSelector: { 'karpenter.sh/nodepool': 'not valid!' } } },
      "invalid placement.nodeSelector.karpenter.sh/nodepool 'not valid!'; allowed: a label value (at most 63 letters, digits, -, _ or .)"],
    ['In without values', { placement: { requiredNodeAffinity: [{ key: 'kubernetes.io/arch', operator: FxNodeOperator.IN }] } },
      'invalid placement.requiredNodeAffinity[0].values []; allowed: one or more values for operator In'],
    ['Gt with a word', { placement: { requiredNodeAffinity: [{ key: 'gen', operator: FxNodeOperator.GT, values: ['five'] }] } },
      'invalid placement.requiredNodeAffinity[0].values ["five"]; allowed: exactly one integer for operator Gt'],
    ['Exists with values', { placement: { requiredNodeAffinity: [{ key: 'gpu', operator: FxNodeOperator.EXISTS, values: ['yes'] }] } },
      'invalid placement.requiredNodeAffinity[0].values ["yes"]; allowed: no values for operator Exists'],
    ['preference weight', { placement: { preferredNodeAffinity: [{ weight: 0, requirements: [{ key: 'gpu', operator: FxNodeOperator.EXISTS }] }] } },
      'invalid placement.preferredNodeAffinity[0].weight 0; allowed: an integer from 1 to 100'],
  ] as Array<[string, Partial<FxMicroserviceProps>, string]>)('%s', (_name, props, message) => {
    const fn = make(props);
    if (message.startsWith('(')) expect(fn).toThrow(message);
    else expect(fn).toThrow(`${at()}: ${message}`);
  });

  test('dependsOn a worker: it has no Service to call', () => {
    const worker = new FxMicroservice(stack, 'Callee', { cluster, image: TOOL, workload: FxWorkload.worker() });
    expect(make({ dependsOn: [worker] })).toThrow(`${at()}: invalid dependsOn[0] 'Bad/Callee'; allowed: an HTTP service: a worker has no port or Service to call`);
  });

  test('secret volume keys are Secret data keys', () => {
    expect(make({ volumes: [FxVolume.secret({ name: 'creds', mountPath: '/creds', secret: secret(), keys: ['bad key'] })] }))
      .toThrow(`${at()}: invalid volumes[0].keys[0] 'bad key'; allowed: a Secret data key: letters, digits, -, _ and . (at most 253 characters)`);
  });

  test('deploy-time tokens (schedule, time zone, uid) pass unvalidated and are not formatted into literals', () => {
    const schedule = new CfnParameter(stack, 'Schedule').valueAsString;
    const zone = new CfnParameter(stack, 'TimeZone').valueAsString;
    const uid = new CfnParameter(stack, 'Uid', { type: 'Number' }).valueAsNumber;
    const job = make({ workload: FxWorkload.scheduledJob({ schedule, timeZone: zone }), securityContext: { runAsUser: uid } })();
    const cron = job.chart.toJson().find((o: Obj) => o.kind === 'CronJob');
    expect(cron.spec.schedule).toBe(schedule);
    expect(cron.spec.timeZone).toBe(zone);
  });

  test('schedules the CronJob controller accepts pass: lists, ranges, steps, names, ? and descriptors', () => {
    for (const schedule of ['0,15,30,45 * * * *', '*/10 8-18 * * MON-FRI', '0 0 1 JAN-MAR ?', '5 4 ? * sun', '0 12 1-31/2 * *', '@weekly', '@annually']) {
      expect(make({ workload: FxWorkload.scheduledJob({ schedule }) })).not.toThrow();
    }
  });

  test('FxConcurrencyPolicy values are the CronJob API names', () => {
    expect([FxConcurrencyPolicy.FORBID, FxConcurrencyPolicy.ALLOW, FxConcurrencyPolicy.REPLACE]).toEqual(['Forbid', 'Allow', 'Replace']);
  });
});
