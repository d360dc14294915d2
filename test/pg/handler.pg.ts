// The bundled Lambda handler end to end: custom resource events in, secrets from a fake Secrets
// Manager (the SDK's real client, pointed at 127.0.0.1), verified TLS to the real PostgreSQL that
// test/pg/run-role-tests.sh starts. Without that runner every test fails (never skips).
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';

const BUNDLE = path.join(__dirname, '..', '..', 'lib', 'database', 'role-handler.bundle', 'index.js');
const REQUIRED = ['PGTEST_PORT', 'PGTEST_DATABASE', 'PGTEST_MASTER_USER', 'PGTEST_MASTER_PASSWORD', 'PGTEST_LOG', 'PGTEST_SM_PORT',
  'NODE_EXTRA_CA_CERTS', 'AWS_ENDPOINT_URL_SECRETS_MANAGER'];
const MASTER_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:fx/database/database-AbCdEf';
const ROLE_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:fx/database/database/roles/catalog-GhIjKl';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const bundle = require(BUNDLE);
const secrets = new Map<string, Record<string, unknown>>();
let server: http.Server;
let port: number;
let database: string;

function serveSecretsManager(listenPort: number): Promise<http.Server> {
  const s = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const reply = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(payload));
      };
      if (req.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue') {
        reply(400, { __type: 'InvalidRequestException', message: `unexpected ${req.headers['x-amz-target']}` });
        return;
      }
      const { SecretId } = JSON.parse(body);
      const value = secrets.get(SecretId);
      if (!value) reply(400, { __type: 'ResourceNotFoundException', message: `no secret ${SecretId}` });
      else reply(200, { ARN: SecretId, Name: SecretId.split(':').pop(), VersionId: 'v1', SecretString: JSON.stringify(value) });
    });
  });
  return new Promise((resolve) => s.listen(listenPort, '127.0.0.1', () => resolve(s)));
}

function event(requestType: 'Create' | 'Update' | 'Delete', overrides: Record<string, string> = {}) {
  return {
    RequestType: requestType,
    PhysicalResourceId: requestType === 'Create' ? undefined : `${database}/catalog`,
    ResourceProperties: {
      MasterSecretArn: MASTER_ARN,
      SecretArn: ROLE_ARN,
      RoleName: 'catalog',
      SchemaName: 'catalog',
      DatabaseName: database,
      IamAuth: 'true',
      Removal: 'DROP',
      ...overrides,
    },
  };
}

function master(host = '127.0.0.1') {
  return {
    engine: 'postgres',
    host,
    port,
    dbname: database,
    username: process.env.PGTEST_MASTER_USER,
    password: process.env.PGTEST_MASTER_PASSWORD,
  };
}

async function canLogIn(user: string, password: string): Promise<boolean> {
  const client = new bundle.PgClient({ host: '127.0.0.1', port, user, password, database, ssl: { rejectUnauthorized: true } });
  try {
    await client.connect();
    return (await client.query('SELECT current_user AS who')).rows[0].who === user;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

beforeAll(async () => {
  const missing = REQUIRED.filter((name) => !process.env[name]);
  if (missing.length > 0) throw new Error(`run through test/pg/run-role-tests.sh (missing ${missing.join(', ')})`);
  port = Number(process.env.PGTEST_PORT);
  database = process.env.PGTEST_DATABASE!;
  server = await serveSecretsManager(Number(process.env.PGTEST_SM_PORT));
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
});

describe('the bundled handler (custom resource events, Secrets Manager, TLS)', () => {
  test('Create reads both secrets, connects as the master over verified TLS and creates the role', async () => {
    secrets.set(MASTER_ARN, master());
    secrets.set(ROLE_ARN, { username: 'catalog', password: 'CatalogPassword1111aaaa2222bbbb', host: '127.0.0.1', port, dbname: database });
    const response = await bundle.handler(event('Create'));
    expect(response).toEqual({ PhysicalResourceId: `${database}/catalog`, Data: { Username: 'catalog', Schema: 'catalog' } });
    expect(await canLogIn('catalog', 'CatalogPassword1111aaaa2222bbbb')).toBe(true);
    const log = fs.readFileSync(process.env.PGTEST_LOG!, 'utf8');
    expect(log).toMatch(new RegExp(`connection authorized: user=${process.env.PGTEST_MASTER_USER} database=${database} `
      + 'application_name=fx-service-role SSL enabled'));
  });

  test('Update applies the password the secret holds now', async () => {
    secrets.set(ROLE_ARN, { username: 'catalog', password: 'CatalogPassword3333cccc4444dddd', host: '127.0.0.1', port, dbname: database });
    await bundle.handler(event('Update'));
    expect(await canLogIn('catalog', 'CatalogPassword3333cccc4444dddd')).toBe(true);
    expect(await canLogIn('catalog', 'CatalogPassword1111aaaa2222bbbb')).toBe(false);
  });

  test('fails when the server certificate does not name the host the master secret gives', async () => {
    secrets.set(MASTER_ARN, master('localhost'));
    try {
      await expect(bundle.handler(event('Update'))).rejects.toThrow(/does not match certificate's altnames/);
    } finally {
      secrets.set(MASTER_ARN, master());
    }
  });

  test('fails when a secret is missing or names another user', async () => {
    await expect(bundle.handler(event('Update', { SecretArn: `${ROLE_ARN}-missing` }))).rejects.toThrow(/no secret/);
    secrets.set(`${ROLE_ARN}-other`, { username: 'someone', password: 'x', host: '127.0.0.1', port, dbname: database });
    await expect(bundle.handler(event('Update', { SecretArn: `${ROLE_ARN}-other` }))).rejects.toThrow(/the secret names user 'someone'/);
  });

  test('Delete with RETAIN keeps the role, Delete with DROP removes it and its schema', async () => {
    expect(await bundle.handler(event('Delete', { Removal: 'RETAIN' }))).toEqual({ PhysicalResourceId: `${database}/catalog`, Data: {} });
    expect(await canLogIn('catalog', 'CatalogPassword3333cccc4444dddd')).toBe(true);
    await bundle.handler(event('Delete', { Removal: 'DROP' }));
    expect(await canLogIn('catalog', 'CatalogPassword3333cccc4444dddd')).toBe(false);
    const client = new bundle.PgClient({
      host: '127.0.0.1', port, database, user: process.env.PGTEST_MASTER_USER, password: process.env.PGTEST_MASTER_PASSWORD, ssl: true,
    });
    await client.connect();
    try {
      const { rows } = await client.query("SELECT (SELECT count(*)::int FROM pg_roles WHERE rolname LIKE 'catalog%') AS roles, "
        + "(SELECT count(*)::int FROM pg_namespace WHERE nspname = 'catalog') AS schemas");
      expect(rows[0]).toEqual({ roles: 0, schemas: 0 });
    } finally {
      await client.end();
    }
  });
});
