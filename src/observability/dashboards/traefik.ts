import { dashboard, Json, promPanel, promVariable } from './panels';

const SVC = 'service=~"$service"';

/** Traefik: request rate, 5xx ratio, latency per Traefik service, open connections, certificate expiry. */
export function traefikDashboard(): Json {
  return dashboard('fx-traefik', 'Fx / Traefik', ['traefik', 'ingress'], [
    promPanel('Requests per second by service', 'reqps', [[`sum by (service) (rate(traefik_service_requests_total{${SVC}}[5m]))`, '{{service}}']]),
    promPanel('5xx ratio by service', 'percentunit', [[
      `sum by (service) (rate(traefik_service_requests_total{${SVC},code=~"5.."}[5m])) / sum by (service) (rate(traefik_service_requests_total{${SVC}}[5m]))`,
      '{{service}}',
    ]]),
    promPanel('p95 latency by service', 's', [[
      `histogram_quantile(0.95, sum by (service, le) (rate(traefik_service_request_duration_seconds_bucket{${SVC}}[5m])))`, '{{service}}',
    ]]),
    promPanel('Requests per second by entry point and code', 'reqps', [[
      'sum by (entrypoint, code) (rate(traefik_entrypoint_requests_total[5m]))', '{{entrypoint}} {{code}}',
    ]]),
    promPanel('Open connections by entry point', 'short', [['sum by (entrypoint) (traefik_open_connections)', '{{entrypoint}}']]),
    promPanel('Days until TLS certificates expire', 'd', [['min by (cn) ((traefik_tls_certs_not_after - time()) / 86400)', '{{cn}}']]),
  ], [promVariable('service', 'Service', 'label_values(traefik_service_requests_total, service)')]);
}
