// The full Fx platform in one stack: production profile, ACM TLS, PostgreSQL, observability with ELK,
// and two FastAPI services (orders-api uses the database and calls inventory-api).
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import {
  FxCluster, FxCompliance, FxConfigRecording, FxDatabase, FxGithubDeployRole, FxImage, FxMicroservice, FxNodeAutoscaler, FxObservability,
  FxProfile, FxTls,
} from '../../src';
import { EXAMPLE_ENV } from '../common';

export const PLATFORM_DOMAIN = 'fx.example.com';

export function createPlatformExample(app: App): Stack {
  const stack = new Stack(app, 'FxPlatform', { env: EXAMPLE_ENV, description: 'Fx platform example (production profile)' });
  const zone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0FXEXAMPLE', zoneName: PLATFORM_DOMAIN });

  const cluster = new FxCluster(stack, 'Cluster', {
    profile: FxProfile.PRODUCTION,
    platformName: 'fx',
    tls: FxTls.acm({ hostedZone: zone, domainName: PLATFORM_DOMAIN }),
    admins: [iam.Role.fromRoleName(stack, 'PlatformAdmin', 'platform-admin')],
    endpointAllowlist: ['203.0.113.0/24'],
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

  // GitHub Actions deploys this stack through OIDC (.github/workflows/deploy-example.yml). The account's
  // GitHub OIDC provider (one per account) already exists: the role trusts it at its well-known ARN.
  new FxGithubDeployRole(stack, 'Deploy', { repository: 'fx-orleans/platform', environments: ['example'] });
  return stack;
}
