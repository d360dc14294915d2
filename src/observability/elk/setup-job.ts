import { createHash } from 'crypto';
import { Stack } from 'aws-cdk-lib';
import { ELASTIC_POD, HARDENED, elkMeta } from './common';
import {
  ELK, ilmPolicy, indexTemplates, kibanaObjects, setupScript, slmPolicy, snapshotRepository,
} from './config';
import type { IFxCluster } from '../../cluster';
import { KubeConfigMap, KubeJob, KubeObject, KubeServiceAccount, ObjectMeta } from '../../k8s/api.generated';

/** Inputs of the setup Job. @internal */
export interface ElkSetupJobOptions {
  readonly cluster: IFxCluster;
  readonly labels: Record<string, string>;
  readonly nodes: number;
  readonly retentionDays: number;
  readonly snapshotRetentionDays: number;
  readonly snapshotBucketName: string;
}

/**
 * ConfigMap, ServiceAccount and Job that apply the Elasticsearch and Kibana settings through their
 * APIs. The Job's name carries a hash of its inputs: a changed setting is a new Job (a Job's pod
 * template is immutable), an unchanged one is left alone.
 *
 * @internal
 */
export function elkSetupJob(o: ElkSetupJobOptions): KubeObject[] {
  const stack = Stack.of(o.cluster);
  const meta = (name: string): ObjectMeta => elkMeta(o.labels, name);
  const templates = indexTemplates(o.nodes > 1 ? 1 : 0);
  const data: Record<string, string> = {
    'setup.sh': setupScript(),
    'ilm-policy.json': JSON.stringify(ilmPolicy(o.retentionDays)),
    'template-containers.json': JSON.stringify(templates[ELK.containerStream]),
    'template-traefik.json': JSON.stringify(templates[ELK.traefikStream]),
    'snapshot-repository.json': JSON.stringify(snapshotRepository(o.snapshotBucketName)),
    'slm-policy.json': JSON.stringify(slmPolicy(o.snapshotRetentionDays)),
    'kibana-objects.ndjson': kibanaObjects().map((x) => JSON.stringify(x)).join('\n') + '\n',
  };
  const hash = createHash('sha256').update(JSON.stringify(stack.resolve(data))).digest('hex').slice(0, 10);
  const name = 'fx-elasticsearch-setup';
  const image = o.cluster.versions.images.elasticsearch;
  return [
    KubeConfigMap.manifest({ metadata: meta(`${name}-${hash}`), data }),
    KubeServiceAccount.manifest({ metadata: meta(name), automountServiceAccountToken: false }),
    KubeJob.manifest({
      metadata: meta(`${name}-${hash}`),
      spec: {
        backoffLimit: 6,
        activeDeadlineSeconds: 3600,
        ttlSecondsAfterFinished: 7 * 86400,
        template: {
          metadata: { labels: { ...o.labels, ...ELK.setupLabel } },
          spec: {
            serviceAccountName: name,
            automountServiceAccountToken: false,
            restartPolicy: 'Never',
            securityContext: ELASTIC_POD,
            containers: [{
              name: 'setup',
              // The Elasticsearch image brings bash and curl: no further image to pin.
              image: `${image.repository}:${image.tag}`,
              command: ['/bin/bash', '/setup/setup.sh'],
              env: [
                { name: 'ELASTIC_PASSWORD', valueFrom: { secretKeyRef: { name: ELK.elasticUserSecret, key: 'elastic' } } },
                { name: 'HOME', value: '/tmp' },
              ],
              resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '128Mi' } },
              securityContext: HARDENED,
              volumeMounts: [
                { name: 'setup', mountPath: '/setup', readOnly: true },
                { name: 'elasticsearch-ca', mountPath: '/etc/elasticsearch-ca', readOnly: true },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            }],
            volumes: [
              { name: 'setup', configMap: { name: `${name}-${hash}` } },
              { name: 'elasticsearch-ca', secret: { secretName: ELK.httpCaSecret, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
              { name: 'tmp', emptyDir: { sizeLimit: '16Mi' } },
            ],
          },
        },
      },
    }),
  ];
}
