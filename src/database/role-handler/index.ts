// Lambda entry point of the service-role custom resource (the onEvent handler of an aws-cdk-lib
// custom-resources Provider). Bundled with `pg` into one file by build-tools/bundle-role-handler.ts;
// the AWS SDK v3 comes with the Lambda Node.js runtime and is left out of the bundle.
// The Lambda runtime provides the SDK; pg is bundled at build time: neither is a runtime dependency of the library.
// eslint-disable-next-line import/no-extraneous-dependencies
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
// eslint-disable-next-line import/no-extraneous-dependencies
import { Client } from 'pg';
import { ensureRole, removeRole, RemovalMode } from './sql';

// The SQL part and the bundled driver, exported so that test/pg runs them from the bundle itself.
export { ensureRole, removeRole } from './sql';
// eslint-disable-next-line import/no-extraneous-dependencies
export { Client as PgClient } from 'pg';

/** The resource properties FxDatabaseServiceRole passes (CloudFormation turns every value into a string). */
export interface RoleProperties {
  readonly MasterSecretArn: string;
  readonly SecretArn: string;
  readonly RoleName: string;
  readonly SchemaName: string;
  readonly DatabaseName: string;
  readonly IamAuth: string;
  readonly Removal: string;
}

/** The part of the Provider framework's onEvent request this handler reads. */
export interface RoleEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: RoleProperties;
}

interface Credentials {
  readonly username: string;
  readonly password: string;
  readonly host?: string;
  readonly port?: number | string;
}

const secrets = new SecretsManagerClient({});

async function readSecret(arn: string): Promise<Credentials> {
  const value = await secrets.send(new GetSecretValueCommand({ SecretId: arn }));
  if (!value.SecretString) throw new Error(`secret ${arn} has no SecretString`);
  const parsed = JSON.parse(value.SecretString) as Credentials;
  if (typeof parsed.username !== 'string' || typeof parsed.password !== 'string') {
    throw new Error(`secret ${arn} lacks username or password`);
  }
  return parsed;
}

async function connectAsMaster(props: RoleProperties): Promise<Client> {
  const master = await readSecret(props.MasterSecretArn);
  if (!master.host || !master.port) throw new Error('the master secret lacks host or port (is it attached to the instance?)');
  // RDS forces TLS; the server certificate is verified against the Amazon RDS CAs, which the
  // runtime loads from /var/runtime/ca-cert.pem because the function sets NODE_EXTRA_CA_CERTS.
  const client = new Client({
    host: master.host,
    port: Number(master.port),
    user: master.username,
    password: master.password,
    database: props.DatabaseName,
    ssl: { rejectUnauthorized: true },
    connectionTimeoutMillis: 15_000,
    statement_timeout: 60_000,
    application_name: 'fx-service-role',
  });
  await client.connect();
  return client;
}

/** Creates/updates the role on Create and Update, applies the removal policy on Delete. */
export async function handler(event: RoleEvent): Promise<{ PhysicalResourceId: string; Data: Record<string, string> }> {
  const props = event.ResourceProperties;
  // A new role or database name means a new resource: CloudFormation then deletes the old one.
  const physicalId = `${props.DatabaseName}/${props.RoleName}`;
  const client = await connectAsMaster(props);
  try {
    if (event.RequestType === 'Delete') {
      const { dropped } = await removeRole(client, props.RoleName, props.Removal as RemovalMode);
      console.log(JSON.stringify({ event: 'Delete', role: props.RoleName, removal: props.Removal, dropped }));
      return { PhysicalResourceId: event.PhysicalResourceId ?? physicalId, Data: {} };
    }
    const secret = await readSecret(props.SecretArn);
    const result = await ensureRole(client, {
      role: props.RoleName,
      schema: props.SchemaName,
      database: props.DatabaseName,
      secretUsername: secret.username,
      secretPassword: secret.password,
      iamAuth: props.IamAuth === 'true',
    });
    console.log(JSON.stringify({ event: event.RequestType, role: props.RoleName, schema: props.SchemaName, ...result }));
    return { PhysicalResourceId: physicalId, Data: { Username: props.RoleName, Schema: props.SchemaName } };
  } finally {
    await client.end();
  }
}
