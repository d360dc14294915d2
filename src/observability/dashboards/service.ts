import { dashboard, Json, promPanel } from './panels';

/**
 * Request rate, errors and duration of one FxMicroservice, from the metrics its ServiceMonitor
 * scrapes: `http_requests_total{method,route,status}` and the `http_request_duration_seconds`
 * histogram (the names the sample service and prometheus-fastapi-style middlewares use), selected
 * by the `namespace` and `service` labels Prometheus adds to every target of a Service.
 */
export function serviceDashboard(namespace: string, serviceName: string): Json {
  const sel = `namespace="${namespace}",service="${serviceName}"`;
  return dashboard(serviceDashboardUid(namespace, serviceName), `Fx / ${namespace} / ${serviceName}`, ['service', 'red', namespace], [
    promPanel('Requests per second', 'reqps', [[`sum by (route) (rate(http_requests_total{${sel}}[5m]))`, '{{route}}']]),
    promPanel('Error ratio (5xx)', 'percentunit', [[
      `sum(rate(http_requests_total{${sel},status=~"5.."}[5m])) / sum(rate(http_requests_total{${sel}}[5m]))`, '5xx',
    ]]),
    promPanel('Duration', 's', [50, 95, 99].map((q) => [
      `histogram_quantile(0.${q}, sum by (le) (rate(http_request_duration_seconds_bucket{${sel}}[5m])))`, `p${q}`,
    ])),
    promPanel('Pods ready', 'short', [[`sum(kube_pod_status_ready{namespace="${namespace}",condition="true",pod=~"${serviceName}-.*"})`, 'ready']]),
  ]);
}

/** Grafana uids are at most 40 characters; namespace and service are DNS labels. */
export function serviceDashboardUid(namespace: string, serviceName: string): string {
  const uid = `fx-svc-${namespace}-${serviceName}`;
  if (uid.length <= 40) return uid;
  let hash = 0;
  for (const ch of uid) hash = (hash * 31 + ch.charCodeAt(0)) % 0x100000000;
  return `${uid.slice(0, 31)}-${hash.toString(16).padStart(8, '0')}`;
}
