// The full Fx platform in one stack: production profile, ACM TLS, PostgreSQL, observability with ELK,
// two FastAPI services (orders-api uses the database and calls inventory-api), a queue worker, a CronJob
// and an off-the-shelf nginx status page.
import * as path from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import {
  FxCluster, FxCompliance, FxConfigRecording, FxDatabase, FxGithubDeployRole, FxImage, FxMicroservice, FxNodeAutoscaler, FxObservability,
  FxProbe, FxProfile, FxTls, FxVolume, FxWorkload,
} from '../../src';
import { EXAMPLE_ENV } from '../common';

export const PLATFORM_DOMAIN = 'fx.example.com';

// Off-the-shelf application images of the example, pinned here (the versions table in src/core pins the
// platform's own components, per Kubernetes minor; these belong to the example's workloads).
/** AWS CLI v2 (Pod Identity credentials need 2.15 or later): the queue worker and the redrive CronJob. */
export const AWS_CLI_IMAGE = 'public.ecr.aws/aws-cli/aws-cli:2.22.0';
/** nginx built to run unprivileged (uid 101, port 8080, pid file in /tmp): the status page. */
export const NGINX_UNPRIVILEGED_IMAGE = 'nginxinc/nginx-unprivileged:1.27.4-alpine';

/** The status page's nginx configuration: static files and a health endpoint, on the image's port 8080. */
const STATUS_NGINX_CONF = [
  'server {',
  '  listen 8080;',
  '  server_tokens off;',
  '  location = /healthz { access_log off; default_type text/plain; return 200 "ok\\n"; }',
  '  location / { root /usr/share/nginx/html; index index.html; }',
  '}',
  '',
].join('\n');

export function createPlatformExample(app: App): Stack {
  const stack = new Stack(app, 'FxPlatform', { env: EXAMPLE_ENV, description: 'Fx platform example (production profile)' });
  const zone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0FXEXAMPLE', zoneName: PLATFORM_DOMAIN });

  const cluster = new FxCluster(stack, 'Cluster', {
    profile: FxProfile.PRODUCTION,
    platformName: 'fx',
    tls: FxTls.acm({ hostedZone: zone, domainName: PLATFORM_DOMAIN }),
    admins: [iam.Role.fromRoleName(stack, 'PlatformAdmin', 'platform-admin')],
    endpointAllowlist: ['203.0.113.0/24'],
    // What the workloads' roles call: order-events and its redrive job only SQS (orders-api and
    // inventory-api only rds-db:connect, which makes no call). With the SQS endpoint their egress on
    // 443 goes to the endpoint subnets, not to any address (Pod Identity needs no STS endpoint).
    interfaceEndpoints: [ec2.InterfaceVpcEndpointAwsService.SQS],
    // A small fixed on-demand group, one node per AZ, for the system pods and Karpenter itself; Karpenter
    // launches the application capacity: an untainted on-demand pool and a spot pool that only workloads
    // tolerating the platform's spot taint use (sizes and limits from the production profile).
    nodeGroups: [
      { name: 'system', instanceTypes: [new ec2.InstanceType('t3.large')], minSize: 3, desiredSize: 3, maxSize: 3 },
    ],
    nodeAutoscaler: FxNodeAutoscaler.karpenter({
      nodePools: [
        { name: 'default' },
        { name: 'spot', capacityType: eks.CapacityType.SPOT, instanceFamilies: ['m5', 'm6i', 'm6a', 'm7i'] },
      ],
    }),
  });

  const database = new FxDatabase(stack, 'Database', { cluster, databaseName: 'orders' });
  const observability = new FxObservability(stack, 'Observability', {
    cluster,
    alarmEmails: ['ops@example.com'],
    monthlyBudget: 4000,
  });
  observability.watchDatabase(database.instance);
  // AWS Config keeps checking what the platform promises; non-compliance arrives with the alarms.
  // This account has no AWS Config recorder yet, so the platform creates it (an account has at most one
  // per region: under Control Tower or Security Hub, leave `recording` unset to use the existing one).
  new FxCompliance(stack, 'Compliance', {
    cluster, database, topic: observability.alarmTopic, recording: FxConfigRecording.PLATFORM_RESOURCES,
  });

  // The services' HS256 signing key, created once outside the stack (README: "Deploying for real"), so a
  // redeploy never changes it and its rotation stays with the team that issues tokens.
  const jwtSecret = secretsmanager.Secret.fromSecretNameV2(stack, 'ApiJwtSecret', 'fx/services/jwt');

  // inventory-api keeps stock and reservations in a database of its own (row locks, migrations).
  const inventoryDatabase = new FxDatabase(stack, 'InventoryDatabase', { cluster, databaseName: 'inventory' });
  const inventory = new FxMicroservice(stack, 'InventoryApi', {
    cluster,
    database: inventoryDatabase,
    observability,
    serviceName: 'inventory-api',
    image: FxImage.fromAsset(path.join(__dirname, '..', 'services'), { file: 'inventory-api/Dockerfile' }),
    port: 8080,
    // Tokens must name this issuer and, for inventory-api, its own audience (service calls only).
    env: { JWT_ISSUER: 'fx-platform', JWT_AUDIENCE: 'inventory-api' },
    secretEnv: [{ secret: jwtSecret, keys: ['JWT_SECRET'] }],
    migration: { command: ['python3', '-m', 'inventory_api.migrate'] },
  });

  new FxMicroservice(stack, 'OrdersApi', {
    cluster,
    database,
    observability,
    serviceName: 'orders-api',
    image: FxImage.fromAsset(path.join(__dirname, '..', 'services'), { file: 'orders-api/Dockerfile' }),
    port: 8000,
    dependsOn: [inventory],
    env: {
      INVENTORY_URL: `http://${inventory.internalHostname}`,
      JWT_ISSUER: 'fx-platform',
      JWT_AUDIENCE: 'orders-api',
      INVENTORY_AUDIENCE: 'inventory-api',
    },
    secretEnv: [{ secret: jwtSecret, keys: ['JWT_SECRET'] }],
    migration: { command: ['python3', '-m', 'orders_api.migrate'] },
    // Stateless, 2+ replicas with a disruption budget: it may run on (cheaper) spot capacity.
    spot: true,
    // orders-api accepts bodies up to 16 KiB: Traefik refuses larger ones before they reach a pod.
    route: { host: `api.${PLATFORM_DOMAIN}`, pathPrefix: '/orders', rateLimit: { average: 50, burst: 100 }, maxRequestBodyBytes: 16 * 1024 },
  });

  // order-events: a queue worker (no port, Service or route) draining an encrypted SQS queue; its only grant
  // is the queue, so its egress is DNS, the Pod Identity agent and the cluster's SQS endpoint on 443,
  // nothing else (SQS-managed encryption: no KMS key, so no KMS endpoint). Producers are
  // whatever is granted `orderEvents.grantSendMessages`; failed messages go to the dead-letter queue.
  const deadLetters = new sqs.Queue(stack, 'OrderEventsDeadLetters', { enforceSSL: true, encryption: sqs.QueueEncryption.SQS_MANAGED });
  const orderEvents = new sqs.Queue(stack, 'OrderEvents', {
    enforceSSL: true,
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    deadLetterQueue: { queue: deadLetters, maxReceiveCount: 5 },
  });
  const awsCliEnv = { AWS_REGION: stack.region, AWS_DEFAULT_REGION: stack.region, HOME: '/tmp' };
  const worker = new FxMicroservice(stack, 'OrderEventsWorker', {
    cluster,
    serviceName: 'order-events',
    workload: FxWorkload.worker({ replicas: 2 }),
    image: FxImage.fromRegistry(AWS_CLI_IMAGE),
    env: { ...awsCliEnv, QUEUE_URL: orderEvents.queueUrl },
    // Long-polls the queue, logs each event (to CloudWatch Logs and Elasticsearch) and deletes it.
    command: ['/bin/bash', '-c'],
    args: [[
      'set -uo pipefail',
      'while true; do',
      '  aws sqs receive-message --queue-url "$QUEUE_URL" --wait-time-seconds 20 --max-number-of-messages 10 \\',
      "    --query 'Messages[].[ReceiptHandle,Body]' --output text | while IFS=$'\\t' read -r handle body; do",
      '    [ -z "$handle" ] || [ "$handle" = None ] && continue',
      '    echo "order event: $body"',
      '    aws sqs delete-message --queue-url "$QUEUE_URL" --receipt-handle "$handle"',
      '  done || sleep 5',
      '  touch /tmp/alive',
      'done',
    ].join('\n')],
    // Alive while the loop turns: each long poll lasts at most 20 s.
    probes: { liveness: FxProbe.exec(['/bin/bash', '-c', 'test $(( $(date +%s) - $(stat -c %Y /tmp/alive) )) -lt 120'], { initialDelay: Duration.seconds(60), period: Duration.seconds(30) }) },
    resources: { cpuRequest: '50m', memoryRequest: '128Mi', cpuLimit: '250m', memoryLimit: '256Mi' },
    // A reclaimed node only delays messages: SQS redelivers what was not deleted.
    spot: true,
  });
  orderEvents.grantConsumeMessages(worker);

  // order-events-redrive: every night at 03:30 Paris time, moves the dead letters back to the queue.
  const redrive = new FxMicroservice(stack, 'OrderEventsRedrive', {
    cluster,
    serviceName: 'order-events-redrive',
    workload: FxWorkload.scheduledJob({ schedule: '30 3 * * *', timeZone: 'Europe/Paris', activeDeadline: Duration.minutes(15), backoffLimit: 2 }),
    image: FxImage.fromRegistry(AWS_CLI_IMAGE),
    env: awsCliEnv,
    args: ['sqs', 'start-message-move-task', '--source-arn', deadLetters.queueArn, '--destination-arn', orderEvents.queueArn],
    resources: { cpuRequest: '50m', memoryRequest: '128Mi', cpuLimit: '250m', memoryLimit: '256Mi' },
  });
  // What a message move task needs: read and delete on the source, send on the destination.
  deadLetters.grantConsumeMessages(redrive);
  deadLetters.grant(redrive, 'sqs:StartMessageMoveTask', 'sqs:ListMessageMoveTasks');
  orderEvents.grantSendMessages(redrive);

  // status: an unmodified off-the-shelf image. nginx-unprivileged runs as uid 101 and writes its caches
  // under /var/cache/nginx: the overrides below keep the read-only root file system and restricted Pod Security.
  new FxMicroservice(stack, 'Status', {
    cluster,
    serviceName: 'status',
    image: FxImage.fromRegistry(NGINX_UNPRIVILEGED_IMAGE),
    port: 8080,
    securityContext: { runAsUser: 101, runAsGroup: 101, writablePaths: ['/var/cache/nginx'] },
    probes: { liveness: FxProbe.http('/healthz'), readiness: FxProbe.http('/healthz') },
    volumes: [
      FxVolume.configMap({ name: 'conf', mountPath: '/etc/nginx/conf.d', files: { 'default.conf': STATUS_NGINX_CONF } }),
      FxVolume.configMap({
        name: 'html',
        mountPath: '/usr/share/nginx/html',
        files: { 'index.html': '<!doctype html><title>Fx status</title><h1>Fx platform: operational</h1>\n' },
      }),
    ],
    resources: { cpuRequest: '50m', memoryRequest: '64Mi', cpuLimit: '250m', memoryLimit: '128Mi' },
    route: { host: `status.${PLATFORM_DOMAIN}` },
  });

  // GitHub Actions deploys this stack through OIDC (.github/workflows/deploy-example.yml). The account's
  // GitHub OIDC provider (one per account) already exists: the role trusts it at its well-known ARN.
  new FxGithubDeployRole(stack, 'Deploy', { repository: 'fx-orleans/platform', environments: ['example'] });
  return stack;
}
