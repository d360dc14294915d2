import { ES_SELECTOR, FLUENT_BIT_SELECTOR, Json, KIBANA_SELECTOR, OPERATOR_SELECTOR, elkMeta } from './common';
import { ELK } from './config';
import { WIRING } from '../../core/wiring';

/**
 * The `logging` NetworkPolicies. Ingress is denied in `logging` except: Elasticsearch from Kibana,
 * Fluent Bit, the setup Job, the operator and its own nodes.
 *
 * @internal
 */
export function elkNetworkPolicies(labels: Record<string, string>): Json[] {
  const policy = (name: string, podSelector: Json, ingress: Json[]): Json => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: elkMeta(labels, name),
    spec: { podSelector, policyTypes: ['Ingress'], ingress },
  });
  const pods = (matchLabels: Record<string, string>): Json => ({ podSelector: { matchLabels } });
  const tcp = (...ports: number[]): Json[] => ports.map((port) => ({ protocol: 'TCP', port }));
  return [
    policy('fx-default-deny-ingress', {}, []),
    policy('fx-elasticsearch-http', { matchLabels: ES_SELECTOR }, [{
      from: [
        pods(KIBANA_SELECTOR),
        pods(FLUENT_BIT_SELECTOR),
        pods(ELK.setupLabel),
        pods(ES_SELECTOR),
        {
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ELK.operatorNamespace } },
          podSelector: { matchLabels: OPERATOR_SELECTOR },
        },
      ],
      ports: tcp(9200),
    }]),
    policy('fx-elasticsearch-transport', { matchLabels: ES_SELECTOR }, [{
      from: [
        pods(ES_SELECTOR),
        {
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ELK.operatorNamespace } },
          podSelector: { matchLabels: OPERATOR_SELECTOR },
        },
      ],
      ports: tcp(9300),
    }]),
    policy('fx-kibana', { matchLabels: KIBANA_SELECTOR }, [{
      from: [
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': WIRING.traefik.namespace } }, podSelector: { matchLabels: WIRING.traefik.podLabels } },
        pods(ELK.setupLabel),
      ],
      ports: tcp(5601),
    }]),
    policy('fx-fluent-bit-metrics', { matchLabels: FLUENT_BIT_SELECTOR }, [{
      from: [{
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': WIRING.monitoring.namespace } },
        podSelector: { matchLabels: WIRING.monitoring.prometheusPodLabels },
      }],
      ports: tcp(2020),
    }]),
  ];
}
