/**
 * The text ELK runs on: the Fluent Bit pipeline, and the Elasticsearch and Kibana API bodies the
 * setup Job PUTs (lifecycle policy, index templates, snapshot repository and policy, dashboard).
 * Plain data, so tests read exactly what is applied.
 */

type Json = Record<string, any>;

/** Names shared by the ELK objects (Kubernetes and Elasticsearch). @internal */
export const ELK = {
  namespace: 'logging',
  operatorNamespace: 'elastic-system',
  /** Elasticsearch and Kibana resource name: Services `fx-es-http`, `fx-kb-http`. */
  name: 'fx',
  esService: 'fx-es-http',
  kibanaService: 'fx-kb-http',
  /** ECK-generated Secrets. */
  elasticUserSecret: 'fx-es-elastic-user',
  httpCaSecret: 'fx-es-http-certs-public',
  /** File-realm user of the log shipper (synced from Secrets Manager) and the roles Secret. */
  shipperUserSecret: 'fx-log-shipper',
  shipperUser: 'fx-log-shipper',
  shipperRole: 'fx_log_writer',
  rolesSecret: 'fx-elastic-roles',
  esServiceAccount: 'fx-elasticsearch',
  fluentBitServiceAccount: 'fx-fluent-bit',
  fluentBitRelease: 'fluent-bit',
  setupLabel: { 'fx.platform/role': 'elasticsearch-setup' } as Record<string, string>,
  /** Data streams and the objects the setup Job manages in Elasticsearch. */
  containerStream: 'fx-logs-containers',
  traefikStream: 'fx-logs-traefik',
  ilmPolicy: 'fx-logs',
  repository: 'fx-s3',
  slmPolicy: 'fx-daily-snapshots',
  dashboardId: 'fx-operations',
  /** Where the projected IRSA token is mounted: the only path Elasticsearch 9.2's S3 client may read. */
  esConfigDir: '/usr/share/elasticsearch/config',
} as const;

/** ES and Kibana URLs inside the cluster. @internal */
export const ES_URL = `https://${ELK.esService}.${ELK.namespace}.svc:9200`;
export const KIBANA_URL = `http://${ELK.kibanaService}.${ELK.namespace}.svc:5601`;

/** What the Fluent Bit pipeline needs to know. @internal */
export interface FluentBitConfigOptions {
  readonly region: string;
  /** `/aws/containerinsights/<cluster>` (may contain a token). */
  readonly logGroupPrefix: string;
}

const ES_OUTPUT = (match: string, index: string): string => `[OUTPUT]
    Name es
    Match ${match}
    Host ${ELK.esService}.${ELK.namespace}.svc
    Port 9200
    HTTP_User \${ES_USER}
    HTTP_Passwd \${ES_PASSWORD}
    tls On
    tls.verify On
    tls.ca_file /fluent-bit/etc/elasticsearch-ca/ca.crt
    Index ${index}
    Suppress_Type_Name On
    Write_Operation create
    Replace_Dots On
    Buffer_Size 1MB
    Retry_Limit 10
    storage.total_limit_size 2G
`;

const CLOUDWATCH_OUTPUT = (match: string, group: string, o: FluentBitConfigOptions): string => `[OUTPUT]
    Name cloudwatch_logs
    ${match}
    region ${o.region}
    log_group_name ${o.logGroupPrefix}/${group}
    log_stream_prefix \${HOST_NAME}-
    auto_create_group Off
    Retry_Limit 10
    storage.total_limit_size 1G
`;

/**
 * The Fluent Bit pipeline (classic format, the chart's `config.*` strings): one agent per node feeds
 * both CloudWatch Logs (the Container Insights application, host and dataplane groups) and
 * Elasticsearch. Container logs are decoded (JSON lines merged under `app`) and enriched with
 * Kubernetes metadata; Traefik's logs (its JSON access log included) are re-tagged into their own
 * data stream. Chunks are buffered on the node's disk with a cap per output, so an Elasticsearch
 * outage drops the oldest Elasticsearch chunks instead of stalling CloudWatch.
 *
 * @internal
 */
export function fluentBitConfig(o: FluentBitConfigOptions): Record<string, string> {
  return {
    service: `[SERVICE]
    Daemon Off
    Flush 5
    Log_Level info
    Parsers_File /fluent-bit/etc/parsers.conf
    HTTP_Server On
    HTTP_Listen 0.0.0.0
    HTTP_Port 2020
    Health_Check On
    storage.path /var/fluent-bit/state/buffer
    storage.sync normal
    storage.backlog.mem_limit 16M
`,
    inputs: `[INPUT]
    Name tail
    Tag kube.*
    Path /var/log/containers/*.log
    Exclude_Path /var/log/containers/fluent-bit*
    multiline.parser cri, docker
    DB /var/fluent-bit/state/containers.db
    Mem_Buf_Limit 50MB
    Skip_Long_Lines On
    Refresh_Interval 10
    storage.type filesystem

[INPUT]
    Name systemd
    Tag dataplane.systemd.*
    Path /var/log/journal
    Systemd_Filter _SYSTEMD_UNIT=kubelet.service
    Systemd_Filter _SYSTEMD_UNIT=containerd.service
    DB /var/fluent-bit/state/systemd.db
    Read_From_Tail On
    Strip_Underscores On
    storage.type filesystem

[INPUT]
    Name tail
    Tag host.*
    Path /var/log/dmesg,/var/log/secure,/var/log/messages
    DB /var/fluent-bit/state/host.db
    Mem_Buf_Limit 5MB
    Skip_Long_Lines On
    storage.type filesystem
`,
    filters: `[FILTER]
    Name kubernetes
    Match kube.*
    Merge_Log On
    Merge_Log_Key app
    Keep_Log Off
    K8S-Logging.Parser On
    K8S-Logging.Exclude On
    Labels On
    Annotations Off
    Buffer_Size 0

[FILTER]
    Name rewrite_tag
    Match kube.*
    Rule $kubernetes['namespace_name'] ^traefik$ traefik.access false
    Emitter_Name traefik_emitter
    Emitter_Storage.type filesystem
`,
    outputs: [
      CLOUDWATCH_OUTPUT('Match_Regex ^(kube|traefik)\\..*', 'application', o),
      CLOUDWATCH_OUTPUT('Match dataplane.*', 'dataplane', o),
      CLOUDWATCH_OUTPUT('Match host.*', 'host', o),
      ES_OUTPUT('kube.*', ELK.containerStream),
      ES_OUTPUT('traefik.access', ELK.traefikStream),
    ].join('\n'),
  };
}

/** Index lifecycle: roll over daily or at 50 GB per primary shard, delete `days` after rollover. @internal */
export function ilmPolicy(days: number): Json {
  return {
    policy: {
      _meta: { managed_by: 'fx-platform' },
      phases: {
        hot: { min_age: '0ms', actions: { rollover: { max_age: '1d', max_primary_shard_size: '50gb' } } },
        delete: { min_age: `${days}d`, actions: { delete: {} } },
      },
    },
  };
}

const KEYWORD = { type: 'keyword', ignore_above: 1024 };

/**
 * Index templates of the two data streams. Strings are keywords (logs are filtered and aggregated,
 * rarely full-text searched) except the message fields; a field whose type differs between services
 * is ignored instead of rejecting the document.
 *
 * @internal
 */
export function indexTemplates(replicas: number): Record<string, Json> {
  const settings = {
    'index.lifecycle.name': ELK.ilmPolicy,
    'index.number_of_shards': 1,
    'index.number_of_replicas': replicas,
    'index.mapping.ignore_malformed': true,
    'index.mapping.total_fields.limit': 5000,
  };
  const common = {
    '@timestamp': { type: 'date' },
    'log': { type: 'text' },
    'stream': KEYWORD,
    'kubernetes': {
      properties: {
        namespace_name: KEYWORD, pod_name: KEYWORD, container_name: KEYWORD, host: KEYWORD, container_image: KEYWORD,
      },
    },
  };
  const mappings = (extra: Json): Json => ({
    dynamic_templates: [{ strings_as_keywords: { match_mapping_type: 'string', mapping: KEYWORD } }],
    properties: { ...common, ...extra },
  });
  return {
    [ELK.containerStream]: {
      index_patterns: ['fx-logs-*'],
      data_stream: {},
      priority: 500,
      template: {
        settings,
        mappings: mappings({ app: { properties: { message: { type: 'text' }, msg: { type: 'text' }, level: KEYWORD } } }),
      },
      _meta: { managed_by: 'fx-platform' },
    },
    [ELK.traefikStream]: {
      index_patterns: [ELK.traefikStream],
      data_stream: {},
      priority: 510,
      template: {
        settings,
        mappings: mappings({
          app: {
            properties: {
              DownstreamStatus: { type: 'long' },
              Duration: { type: 'long' },
              RequestMethod: KEYWORD,
              RequestHost: KEYWORD,
              RequestPath: KEYWORD,
              RouterName: KEYWORD,
              ServiceName: KEYWORD,
              ClientHost: KEYWORD,
            },
          },
        }),
      },
      _meta: { managed_by: 'fx-platform' },
    },
  };
}

/** The S3 snapshot repository (credentials from the environment: IRSA). @internal */
export function snapshotRepository(bucketName: string): Json {
  return { type: 's3', settings: { bucket: bucketName, base_path: 'elasticsearch' } };
}

/** Daily snapshot of the log data streams and the cluster state at 01:30 UTC, expired after `days`. @internal */
export function slmPolicy(days: number): Json {
  return {
    schedule: '0 30 1 * * ?',
    name: '<fx-logs-{now/d}>',
    repository: ELK.repository,
    config: { indices: ['fx-logs-*'], include_global_state: true, ignore_unavailable: true },
    retention: { expire_after: `${days}d`, min_count: 3, max_count: 500 },
  };
}

const ERRORS_QUERY = 'stream : "stderr" or app.level : ("error" or "ERROR" or "fatal" or "FATAL" or "critical")';

function lineChart(title: string, splitField: string, splitLabel: string): string {
  return JSON.stringify({
    title,
    type: 'line',
    params: {
      type: 'line',
      grid: { categoryLines: false },
      categoryAxes: [{ id: 'CategoryAxis-1', type: 'category', position: 'bottom', show: true, scale: { type: 'linear' }, labels: { show: true, filter: true, truncate: 100 }, title: {} }],
      valueAxes: [{ id: 'ValueAxis-1', name: 'LeftAxis-1', type: 'value', position: 'left', show: true, scale: { type: 'linear', mode: 'normal' }, labels: { show: true, rotate: 0, filter: false, truncate: 100 }, title: { text: 'Count' } }],
      seriesParams: [{ show: true, type: 'line', mode: 'normal', data: { label: 'Count', id: '1' }, valueAxis: 'ValueAxis-1', drawLinesBetweenPoints: true, lineWidth: 2, showCircles: true }],
      addTooltip: true,
      addLegend: true,
      legendPosition: 'right',
      times: [],
      addTimeMarker: false,
    },
    aggs: [
      { id: '1', enabled: true, type: 'count', schema: 'metric', params: {} },
      { id: '2', enabled: true, type: 'date_histogram', schema: 'segment', params: { field: '@timestamp', interval: 'auto', min_doc_count: 1, extended_bounds: {} } },
      { id: '3', enabled: true, type: 'terms', schema: 'group', params: { field: splitField, size: 10, order: 'desc', orderBy: '1', customLabel: splitLabel } },
    ],
  });
}

function visualization(id: string, title: string, dataView: string, query: string, splitField: string, splitLabel: string): Json {
  return {
    type: 'visualization',
    id,
    attributes: {
      title,
      description: '',
      visState: lineChart(title, splitField, splitLabel),
      uiStateJSON: '{}',
      kibanaSavedObjectMeta: {
        searchSourceJSON: JSON.stringify({
          query: { query, language: 'kuery' },
          filter: [],
          indexRefName: 'kibanaSavedObjectMeta.searchSourceJSON.index',
        }),
      },
    },
    references: [{ name: 'kibanaSavedObjectMeta.searchSourceJSON.index', type: 'index-pattern', id: dataView }],
  };
}

/**
 * The operator dashboard as Kibana saved objects (one JSON object per line, for
 * `POST /api/saved_objects/_import?overwrite=true`): data views of all logs and of Traefik's, and a
 * dashboard with errors by service (stderr or an error level, by container), requests by router and
 * 5xx responses by Traefik service from the access log.
 *
 * @internal
 */
export function kibanaObjects(): Json[] {
  const panels = [
    { id: 'fx-errors-by-service', title: 'Errors by service', x: 0, y: 0, w: 48 },
    { id: 'fx-requests-by-router', title: 'Requests by router (Traefik)', x: 0, y: 15, w: 24 },
    { id: 'fx-5xx-by-service', title: '5xx responses by service (Traefik)', x: 24, y: 15, w: 24 },
  ];
  return [
    { type: 'index-pattern', id: 'fx-logs', attributes: { title: 'fx-logs-*', timeFieldName: '@timestamp', name: 'Fx logs' }, references: [] },
    { type: 'index-pattern', id: 'fx-logs-traefik', attributes: { title: ELK.traefikStream, timeFieldName: '@timestamp', name: 'Fx Traefik access logs' }, references: [] },
    visualization('fx-errors-by-service', 'Errors by service', 'fx-logs', ERRORS_QUERY, 'kubernetes.container_name', 'Service (container)'),
    visualization('fx-requests-by-router', 'Requests by router (Traefik)', 'fx-logs-traefik', 'app.RequestMethod : *', 'app.RouterName', 'Router'),
    visualization('fx-5xx-by-service', '5xx responses by service (Traefik)', 'fx-logs-traefik', 'app.DownstreamStatus >= 500', 'app.ServiceName', 'Service'),
    {
      type: 'dashboard',
      id: ELK.dashboardId,
      attributes: {
        title: 'Fx operations',
        description: 'Errors by service from container logs; request rates and 5xx responses from Traefik access logs.',
        timeRestore: true,
        timeFrom: 'now-24h',
        timeTo: 'now',
        refreshInterval: { pause: false, value: 60000 },
        optionsJSON: JSON.stringify({ useMargins: true, hidePanelTitles: false }),
        panelsJSON: JSON.stringify(panels.map((p, i) => ({
          panelIndex: `${i + 1}`,
          gridData: { x: p.x, y: p.y, w: p.w, h: 15, i: `${i + 1}` },
          embeddableConfig: {},
          panelRefName: `panel_${i}`,
        }))),
        kibanaSavedObjectMeta: { searchSourceJSON: JSON.stringify({ query: { query: '', language: 'kuery' }, filter: [] }) },
      },
      references: panels.map((p, i) => ({ name: `panel_${i}`, type: 'visualization', id: p.id })),
    },
  ];
}

/**
 * The setup Job's script: waits for Elasticsearch, PUTs the lifecycle policy, index templates,
 * snapshot repository (Elasticsearch verifies it can write to the bucket) and snapshot policy, then
 * waits for Kibana and imports the dashboard. Every call is a PUT or an overwriting import, so the
 * Job can run again on every deploy.
 *
 * @internal
 */
export function setupScript(): string {
  return `#!/bin/bash
set -euo pipefail
ES='${ES_URL}'
KB='${KIBANA_URL}'
es() { curl -sS --fail-with-body --cacert /etc/elasticsearch-ca/ca.crt -u "elastic:\${ELASTIC_PASSWORD}" -H 'Content-Type: application/json' "$@"; echo; }
until es -o /dev/null "$ES/_cluster/health?wait_for_status=yellow&timeout=30s"; do echo 'waiting for Elasticsearch'; sleep 10; done
es -X PUT "$ES/_ilm/policy/${ELK.ilmPolicy}" --data-binary @/setup/ilm-policy.json
es -X PUT "$ES/_index_template/${ELK.containerStream}" --data-binary @/setup/template-containers.json
es -X PUT "$ES/_index_template/${ELK.traefikStream}" --data-binary @/setup/template-traefik.json
es -X PUT "$ES/_snapshot/${ELK.repository}" --data-binary @/setup/snapshot-repository.json
es -X PUT "$ES/_slm/policy/${ELK.slmPolicy}" --data-binary @/setup/slm-policy.json
until curl -sS --fail -o /dev/null -u "elastic:\${ELASTIC_PASSWORD}" "$KB/api/status"; do echo 'waiting for Kibana'; sleep 10; done
curl -sS --fail-with-body -u "elastic:\${ELASTIC_PASSWORD}" -H 'kbn-xsrf: fx-setup' -X POST "$KB/api/saved_objects/_import?overwrite=true" -F file=@/setup/kibana-objects.ndjson
echo
echo 'Elasticsearch and Kibana are set up'
`;
}
