// A development platform: development profile, Let's Encrypt TLS, no ELK, one service.
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { FxCluster, FxCompliance, FxDatabase, FxGithubDeployRole, FxImage, FxMicroservice, FxObservability, FxProfile, FxTls } from '../../src';
import { EXAMPLE_ENV } from '../common';

export function createDevExample(app: App): Stack {
  const stack = new Stack(app, 'FxDev', { env: EXAMPLE_ENV, description: 'Fx platform example (development profile)' });
  const zone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0FXDEV', zoneName: 'dev.fx.example.com' });

  const cluster = new FxCluster(stack, 'Cluster', {
    profile: FxProfile.DEVELOPMENT,
    platformName: 'fx-dev',
    tls: FxTls.letsEncrypt({ hostedZone: zone, domainName: 'dev.fx.example.com', email: 'ops@example.com' }),
    endpointAllowlist: ['203.0.113.0/24'],
  });
  const database = new FxDatabase(stack, 'Database', { cluster, databaseName: 'orders' });
  const observability = new FxObservability(stack, 'Observability', { cluster, alarmEmails: ['dev-team@example.com'], monthlyBudget: 600 });

  new FxMicroservice(stack, 'OrdersApi', {
    cluster,
    database,
    observability,
    serviceName: 'orders-api',
    image: FxImage.fromAsset(path.join(__dirname, '..', 'services'), { file: 'orders-api/Dockerfile' }),
    migration: { command: ['python3', '-m', 'orders_api.migrate'] },
    route: { host: 'api.dev.fx.example.com', pathPrefix: '/orders' },
  });

  // The development account sits under the organization's AWS Config setup: its recorder is used
  // (no `recording`), and only the platform's rules and notifications are added.
  new FxCompliance(stack, 'Compliance', { cluster, database, topic: observability.alarmTopic });
  // A fresh sandbox account with no GitHub OIDC provider yet: this stack creates it (one per account;
  // a second stack in the same account must leave createOidcProvider unset).
  new FxGithubDeployRole(stack, 'Deploy', {
    repository: 'fx-orleans/platform', environments: ['dev'], createOidcProvider: true, platformName: 'fx-dev',
  });
  return stack;
}
