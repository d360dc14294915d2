import { IConstruct } from 'constructs';
import { ES_SELECTOR, FLUENT_BIT_SELECTOR, KIBANA_SELECTOR, OPERATOR_SELECTOR, elkMeta } from './common';
import { ELK } from './config';
import { declareAwsFlows, declareFlow, FlowPeer } from '../../core/flows';
import { WIRING } from '../../core/wiring';
import { KubeNetworkPolicy, KubeNetworkPolicyManifest, LabelSelector, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort } from '../../k8s/api.generated';

/**
 * The `logging` NetworkPolicies. Ingress is denied in `logging` except: Elasticsearch from Kibana,
 * Fluent Bit, the setup Job, the operator and its own nodes.
 *
 * @internal
 */
export function elkNetworkPolicies(labels: Record<string, string>): KubeNetworkPolicyManifest[] {
  const policy = (name: string, podSelector: LabelSelector, ingress: NetworkPolicyIngressRule[]): KubeNetworkPolicyManifest =>
    KubeNetworkPolicy.manifest({
      metadata: elkMeta(labels, name),
      spec: { podSelector, policyTypes: ['Ingress'], ingress },
    });
  const pods = (matchLabels: Record<string, string>): NetworkPolicyPeer => ({ podSelector: { matchLabels } });
  const tcp = (...ports: number[]): NetworkPolicyPort[] => ports.map((port) => ({ protocol: 'TCP', port }));
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

/**
 * The promised flows of the ELK part (src/core/flows.ts), next to the policies that keep them: log
 * shipping, Kibana, the setup Job and the operator reach Elasticsearch, nothing from another namespace
 * does (not even a pod labelled like Fluent Bit), Traefik reaches Kibana when it is routed.
 *
 * @internal
 */
export function declareElkFlows(scope: IConstruct, kibanaRouted: boolean): void {
  const ns = ELK.namespace;
  const es: FlowPeer = { namespace: ns, podLabels: ES_SELECTOR };
  const fluentBit: FlowPeer = { namespace: ns, podLabels: FLUENT_BIT_SELECTOR };
  const traefik: FlowPeer = { namespace: WIRING.traefik.namespace, podLabels: WIRING.traefik.podLabels };
  const allow = (from: FlowPeer, to: FlowPeer, port: number, reason: string) => declareFlow(scope, { from, to, port, protocol: 'TCP', reason, expect: 'allow' });
  allow(fluentBit, es, 9200, 'Fluent Bit ships logs to Elasticsearch');
  allow({ namespace: ns, podLabels: KIBANA_SELECTOR }, es, 9200, 'Kibana queries Elasticsearch');
  allow({ namespace: ns, podLabels: ELK.setupLabel }, es, 9200, 'the setup Job creates ILM policies and the snapshot repository');
  allow({ namespace: ELK.operatorNamespace, podLabels: OPERATOR_SELECTOR }, es, 9200, 'the ECK operator manages Elasticsearch');
  allow(es, es, 9300, 'Elasticsearch nodes form a cluster');
  allow({ namespace: WIRING.monitoring.namespace, podLabels: WIRING.monitoring.prometheusPodLabels }, fluentBit, 2020, 'Prometheus scrapes Fluent Bit');
  if (kibanaRouted) allow(traefik, { namespace: ns, podLabels: KIBANA_SELECTOR }, 5601, 'Traefik routes the Kibana host');
  declareAwsFlows(scope, fluentBit, 'Fluent Bit (CloudWatch Logs)');
  declareFlow(scope, { from: es, to: { awsEndpoints: true }, port: 443, protocol: 'TCP', reason: 'Elasticsearch writes snapshots to S3 (IRSA)', expect: 'allow' });
  const deny = (from: FlowPeer, reason: string) => declareFlow(scope, { from, to: es, port: 9200, protocol: 'TCP', reason, expect: 'deny' });
  deny({ namespace: 'default', podLabels: FLUENT_BIT_SELECTOR, synthetic: true }, 'a pod of another namespace does not reach Elasticsearch, whatever its labels');
  deny(traefik, 'Traefik does not reach Elasticsearch');
}
