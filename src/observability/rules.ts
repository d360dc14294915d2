import { WIRING } from '../core/wiring';
import { KubePodMonitor, KubePodMonitorManifest, KubePrometheusRule, KubePrometheusRuleManifest, PrometheusRuleProps } from '../k8s/crds.generated';

type Rule = NonNullable<NonNullable<NonNullable<PrometheusRuleProps['spec']>['groups']>[number]['rules']>[number];

/** Name of the PrometheusRule with the platform alerts. */
export const PLATFORM_RULES_NAME = 'fx-platform-rules';
/** Name of the PodMonitor that scrapes Traefik. */
export const TRAEFIK_POD_MONITOR_NAME = 'fx-traefik';

function alert(name: string, expr: string, duration: string, severity: 'warning' | 'critical', summary: string, description: string): Rule {
  return { alert: name, expr, for: duration, labels: { severity, platform: 'fx' }, annotations: { summary, description } };
}

/**
 * Platform alerts on top of the chart's default rules: node pressure, crash-looping pods, volumes
 * filling up, Traefik 5xx ratio and certificate expiry (Traefik-served and cert-manager-managed).
 * Severity decides the Alertmanager route (critical pages, warning notifies).
 */
export function platformRules(namespace: string, labels: Record<string, string>): KubePrometheusRuleManifest {
  return KubePrometheusRule.manifest({
    metadata: { name: PLATFORM_RULES_NAME, namespace, labels },
    spec: {
      groups: [
        {
          name: 'fx.nodes',
          rules: [
            alert('FxNodePressure',
              'max by (node, condition) (kube_node_status_condition{condition=~"MemoryPressure|DiskPressure|PIDPressure",status="true"}) == 1',
              '5m', 'warning', 'Node {{ $labels.node }} reports {{ $labels.condition }}',
              'The kubelet on {{ $labels.node }} reports {{ $labels.condition }}; pods may be evicted.'),
            alert('FxNodeNotReady', 'max by (node) (kube_node_status_condition{condition="Ready",status="true"}) == 0',
              '10m', 'critical', 'Node {{ $labels.node }} is not ready', 'Node {{ $labels.node }} has not been Ready for 10 minutes.'),
          ],
        },
        {
          name: 'fx.workloads',
          rules: [
            alert('FxPodCrashLooping',
              'max by (namespace, pod, container) (max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff"}[5m])) >= 1',
              '10m', 'warning', 'Pod {{ $labels.namespace }}/{{ $labels.pod }} is crash-looping',
              'Container {{ $labels.container }} of {{ $labels.namespace }}/{{ $labels.pod }} has been in CrashLoopBackOff for 10 minutes.'),
            alert('FxPersistentVolumeFillingUp',
              'max by (namespace, persistentvolumeclaim) (kubelet_volume_stats_used_bytes / kubelet_volume_stats_capacity_bytes) > 0.85',
              '15m', 'warning', 'Volume {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} is over 85% full',
              'The volume of claim {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} is {{ $value | humanizePercentage }} full.'),
            alert('FxPersistentVolumeAlmostFull',
              'max by (namespace, persistentvolumeclaim) (kubelet_volume_stats_used_bytes / kubelet_volume_stats_capacity_bytes) > 0.95',
              '5m', 'critical', 'Volume {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} is over 95% full',
              'The volume of claim {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} is {{ $value | humanizePercentage }} full; writes will fail soon.'),
          ],
        },
        {
          name: 'fx.ingress',
          rules: [
            alert('FxTraefikHigh5xxRatio',
              '(sum by (service) (rate(traefik_service_requests_total{code=~"5.."}[5m])) / sum by (service) (rate(traefik_service_requests_total[5m]))) > 0.05'
              + ' and sum by (service) (rate(traefik_service_requests_total[5m])) > 0.1',
              '10m', 'critical', 'Traefik service {{ $labels.service }} answers more than 5% 5xx',
              '{{ $value | humanizePercentage }} of the requests to {{ $labels.service }} failed with 5xx over the last 10 minutes.'),
            alert('FxCertificateExpiringSoon', 'min by (cn) ((traefik_tls_certs_not_after - time()) / 86400) < 14',
              '1h', 'warning', 'TLS certificate {{ $labels.cn }} expires in less than 14 days',
              'Traefik serves a certificate for {{ $labels.cn }} that expires in {{ $value | humanize }} days; renewal has not happened.'),
            alert('FxCertManagerCertificateExpiringSoon',
              'min by (namespace, name) ((certmanager_certificate_expiration_timestamp_seconds - time()) / 86400) < 14',
              '1h', 'warning', 'Certificate {{ $labels.namespace }}/{{ $labels.name }} expires in less than 14 days',
              'cert-manager has not renewed {{ $labels.namespace }}/{{ $labels.name }}; it expires in {{ $value | humanize }} days.'),
          ],
        },
      ],
    },
  });
}

/**
 * Scrapes Traefik's metrics port in its namespace. A PodMonitor in the monitoring namespace, so it
 * does not depend on Traefik's namespace existing first.
 */
export function traefikPodMonitor(namespace: string, labels: Record<string, string>): KubePodMonitorManifest {
  return KubePodMonitor.manifest({
    metadata: { name: TRAEFIK_POD_MONITOR_NAME, namespace, labels },
    spec: {
      namespaceSelector: { matchNames: [WIRING.traefik.namespace] },
      selector: { matchLabels: { ...WIRING.traefik.podLabels } },
      podMetricsEndpoints: [{ port: 'metrics', path: '/metrics', interval: '30s' }],
    },
  });
}
