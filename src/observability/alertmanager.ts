type Json = Record<string, any>;

/** Kubernetes Secret (synced by External Secrets) with the optional Slack URL and PagerDuty key. */
export const RECEIVERS_SECRET = 'fx-alertmanager-receivers';
export const SLACK_KEY = 'slack-webhook-url';
export const PAGERDUTY_KEY = 'pagerduty-routing-key';
/** Where the Prometheus operator mounts `alertmanagerSpec.secrets`. */
const SECRETS_DIR = `/etc/alertmanager/secrets/${RECEIVERS_SECRET}`;

/** @internal */
export interface AlertmanagerConfigOptions {
  readonly topicArn: string;
  readonly region: string;
  readonly platformName: string;
  readonly slack: boolean;
  readonly pagerDuty: boolean;
}

/**
 * Alertmanager's configuration: critical and warning alerts go to the SNS topic (SigV4 signed with
 * the Pod Identity credentials, `severity` as a message attribute so subscriptions can filter),
 * warning and critical also to Slack when configured, critical also to PagerDuty when configured;
 * info alerts and the Watchdog heartbeat go nowhere. Slack URL and PagerDuty key are read from files
 * of the mounted Secret (`api_url_file`, `routing_key_file`) so they never appear in Helm values.
 *
 * Go templates are passed through literally (the chart's `alertmanager.tplConfig` stays false).
 */
export function alertmanagerConfig(o: AlertmanagerConfigOptions): Json {
  const sns = (severity: string): Json => ({
    send_resolved: true,
    topic_arn: o.topicArn,
    sigv4: { region: o.region },
    // SNS subjects are limited to 100 characters and e-mail clients show them first.
    subject: `[${o.platformName}] [{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}`,
    message: '{{ range .Alerts }}{{ .Annotations.summary }}\n{{ .Annotations.description }}\n{{ end }}',
    attributes: { severity, platform: o.platformName },
  });
  const slack: Json = {
    send_resolved: true,
    api_url_file: `${SECRETS_DIR}/${SLACK_KEY}`,
    title: `[${o.platformName}] [{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}`,
    text: '{{ range .Alerts }}*{{ .Annotations.summary }}*\n{{ .Annotations.description }}\n{{ end }}',
  };
  const pagerDuty: Json = {
    send_resolved: true,
    routing_key_file: `${SECRETS_DIR}/${PAGERDUTY_KEY}`,
    severity: 'critical',
  };
  const receiver = (name: string, severity: string, withPagerDuty: boolean): Json => ({
    name,
    sns_configs: [sns(severity)],
    ...(o.slack ? { slack_configs: [slack] } : {}),
    ...(withPagerDuty && o.pagerDuty ? { pagerduty_configs: [pagerDuty] } : {}),
  });
  return {
    global: { resolve_timeout: '5m' },
    route: {
      receiver: 'warning',
      group_by: ['alertname', 'namespace'],
      group_wait: '30s',
      group_interval: '5m',
      repeat_interval: '12h',
      routes: [
        { receiver: 'null', matchers: ['alertname = "Watchdog"'] },
        { receiver: 'null', matchers: ['alertname = "InfoInhibitor"'] },
        { receiver: 'critical', matchers: ['severity = "critical"'], repeat_interval: '4h' },
        { receiver: 'warning', matchers: ['severity = "warning"'] },
        { receiver: 'null', matchers: ['severity = "info"'] },
      ],
    },
    inhibit_rules: [
      { source_matchers: ['severity = "critical"'], target_matchers: ['severity =~ "warning|info"'], equal: ['namespace', 'alertname'] },
      { source_matchers: ['severity = "warning"'], target_matchers: ['severity = "info"'], equal: ['namespace', 'alertname'] },
    ],
    receivers: [
      { name: 'null' },
      receiver('critical', 'critical', true),
      receiver('warning', 'warning', false),
    ],
    templates: ['/etc/alertmanager/config/*.tmpl'],
  };
}
