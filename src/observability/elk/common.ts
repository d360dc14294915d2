import { ELK } from './config';
import { ObjectMeta } from '../../k8s/api.generated';

/** A Kubernetes object or Helm values. @internal */
export type Json = Record<string, any>;

/** The node label of the availability zone. @internal */
export const ZONE_LABEL = 'topology.kubernetes.io/zone';
/** Pod labels ECK sets on the Elasticsearch pods. @internal */
export const ES_SELECTOR = { 'elasticsearch.k8s.elastic.co/cluster-name': ELK.name };
/** Pod labels ECK sets on the Kibana pods. @internal */
export const KIBANA_SELECTOR = { 'kibana.k8s.elastic.co/name': ELK.name };
/** Pod labels of the Fluent Bit chart's DaemonSet. @internal */
export const FLUENT_BIT_SELECTOR = { 'app.kubernetes.io/name': 'fluent-bit', 'app.kubernetes.io/instance': ELK.fluentBitRelease };
/** Pod labels of the ECK operator. @internal */
// The eck-operator chart labels its pods app.kubernetes.io/name=elastic-operator (rendered with helm
// 3.5.0); it sets no control-plane label, so a selector on one matched nothing and the operator
// could not reach Elasticsearch.
export const OPERATOR_SELECTOR = { 'app.kubernetes.io/name': 'elastic-operator' };
/** Container security context of every restricted container we emit. @internal */
export const HARDENED = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  privileged: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  seccompProfile: { type: 'RuntimeDefault' },
};
/** Pod security context of the Elastic images (uid 1000). @internal */
export const ELASTIC_POD = { runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } };

/** Metadata of an object in the `logging` namespace with the platform labels. @internal */
export function elkMeta(labels: Record<string, string>, name: string, extra: Record<string, string> = {}): ObjectMeta {
  return { name, namespace: ELK.namespace, labels: { ...labels, ...extra } };
}
