/**
 * Small builders for Grafana dashboard JSON (schemaVersion 39). Dashboards are plain data: they are
 * embedded as TypeScript modules because jsii ships only the compiled .js/.d.ts files of lib/.
 */

/** Grafana's datasource uid of the Prometheus the chart provisions (kube-prometheus-stack default). */
export const PROMETHEUS_UID = 'prometheus';
/** Uid of the CloudWatch datasource FxObservability provisions. */
export const CLOUDWATCH_UID = 'cloudwatch';

export type Json = Record<string, any>;

const PROMETHEUS = { type: 'prometheus', uid: PROMETHEUS_UID };
const CLOUDWATCH = { type: 'cloudwatch', uid: CLOUDWATCH_UID };

/** A dashboard with the given panels laid out two per row. */
export function dashboard(uid: string, title: string, tags: string[], panels: Json[], variables: Json[] = []): Json {
  return {
    uid,
    title,
    tags: ['fx-platform', ...tags],
    editable: false,
    schemaVersion: 39,
    version: 1,
    refresh: '1m',
    time: { from: 'now-6h', to: 'now' },
    timezone: 'browser',
    templating: { list: variables },
    panels: panels.map((p, i) => ({ ...p, id: i + 1, gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 } })),
  };
}

/** A time series panel of Prometheus queries (expression, legend). */
export function promPanel(title: string, unit: string, queries: string[][]): Json {
  return {
    type: 'timeseries',
    title,
    datasource: PROMETHEUS,
    fieldConfig: { defaults: { unit }, overrides: [] },
    targets: queries.map(([expr, legendFormat], i) => ({ refId: String.fromCharCode(65 + i), datasource: PROMETHEUS, expr, legendFormat })),
  };
}

/** A time series panel of one CloudWatch metric (name, statistic) per query. */
export function cloudWatchPanel(title: string, unit: string, namespace: string, dimensions: Record<string, string>, metrics: string[][]): Json {
  return {
    type: 'timeseries',
    title,
    datasource: CLOUDWATCH,
    fieldConfig: { defaults: { unit }, overrides: [] },
    targets: metrics.map(([metricName, statistic], i) => ({
      refId: String.fromCharCode(65 + i),
      datasource: CLOUDWATCH,
      queryMode: 'Metrics',
      metricQueryType: 0,
      metricEditorMode: 0,
      region: 'default',
      namespace,
      metricName,
      dimensions,
      statistic,
      matchExact: true,
      period: '',
      id: '',
      expression: '',
    })),
  };
}

/** A Prometheus query variable (multi-value, refreshed on time range change). */
export function promVariable(name: string, label: string, query: string): Json {
  return {
    name,
    label,
    type: 'query',
    datasource: PROMETHEUS,
    query: { query, refId: `${name}-query` },
    refresh: 2,
    includeAll: true,
    multi: true,
    current: {},
  };
}
