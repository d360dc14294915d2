// Runs only through test/pg/run-role-tests.sh, which starts the PostgreSQL this needs: without it
// every test fails (never skips). The SQL and the driver come from the bundled handler itself.
import * as fs from 'fs';
import * as path from 'path';

const BUNDLE = path.join(__dirname, '..', '..', 'lib', 'database', 'role-handler.bundle', 'index.js');

interface Env { host: string; port: number; database: string; masterUser: string; masterPassword: string; log: string }

function env(): Env {
  const missing = ['PGTEST_HOST', 'PGTEST_PORT', 'PGTEST_DATABASE', 'PGTEST_MASTER_USER', 'PGTEST_MASTER_PASSWORD', 'PGTEST_LOG']
    .filter((name) => !process.env[name]);
  if (missing.length > 0) throw new Error(`run through test/pg/run-role-tests.sh (missing ${missing.join(', ')})`);
  return {
    host: process.env.PGTEST_HOST!,
    port: Number(process.env.PGTEST_PORT),
    database: process.env.PGTEST_DATABASE!,
    masterUser: process.env.PGTEST_MASTER_USER!,
    masterPassword: process.env.PGTEST_MASTER_PASSWORD!,
    log: process.env.PGTEST_LOG!,
  };
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const bundle = require(BUNDLE);
const PASSWORDS = {
  ordersA: 'OrdersPasswordA1b2c3d4e5f6g7h8i9',
  ordersB: 'OrdersPasswordB9h8g7f6e5d4c3b2a1',
  ordersClone: 'OrdersClonePasswordC0c0c0c0c0c0',
  billing: 'BillingPassword0z9y8x7w6v5u4t3s2',
};

let e: Env;
let master: any;

async function connect(user: string, password: string, database?: string): Promise<any> {
  const client = new bundle.PgClient({ host: e.host, port: e.port, user, password, database: database ?? e.database });
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  return client;
}

async function as<T>(user: string, password: string, run: (client: any) => Promise<T>): Promise<T> {
  const client = await connect(user, password);
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

function spec(role: string, schema: string, secretUsername: string, secretPassword: string) {
  return { role, schema, database: e.database, secretUsername, secretPassword, iamAuth: true };
}

beforeAll(async () => {
  e = env();
  expect(fs.existsSync(BUNDLE)).toBe(true);
  master = await connect(e.masterUser, e.masterPassword);
});

afterAll(async () => {
  await master?.end();
});

describe('service roles on a real PostgreSQL (as a non-superuser master, like RDS)', () => {
  test('Create makes a LOGIN role with no other attribute, owning its schema, connecting only where granted', async () => {
    const result = await bundle.ensureRole(master, spec('orders', 'orders', 'orders', PASSWORDS.ordersA));
    // Plain PostgreSQL has no rds_iam role: the IAM user is made, the grant is skipped, and the result says so.
    expect(result).toEqual({ roleCreated: true, cloneCreated: true, passwordSetFor: 'orders', iamUser: 'orders_iam', rdsIamGranted: false });
    await bundle.ensureRole(master, spec('billing', 'invoices', 'billing', PASSWORDS.billing));

    const { rows: [role] } = await master.query(
      'SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls FROM pg_roles WHERE rolname = $1', ['orders']);
    expect(role).toEqual({
      rolcanlogin: true, rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolreplication: false, rolbypassrls: false,
    });
    const { rows: [schema] } = await master.query("SELECT pg_get_userbyid(nspowner) AS owner FROM pg_namespace WHERE nspname = 'orders'");
    expect(schema.owner).toBe('orders');
    // Member of nothing: its only privileges are its own schema and CONNECT.
    const { rows: memberships } = await master.query(
      "SELECT pg_get_userbyid(roleid) AS role FROM pg_auth_members WHERE member = 'orders'::regrole");
    expect(memberships).toEqual([]);
    const { rows: [privileges] } = await master.query(`SELECT
      has_database_privilege('orders', $1, 'CONNECT') AS connect,
      has_database_privilege('orders', $1, 'CREATE') AS create_schema,
      has_database_privilege('orders', $1, 'TEMPORARY') AS temporary,
      has_schema_privilege('orders', 'public', 'CREATE') AS public_create,
      has_schema_privilege('orders', 'invoices', 'USAGE') AS other_usage,
      has_table_privilege('orders', 'public.master_only', 'SELECT') AS master_table`, [e.database]);
    expect(privileges).toEqual({
      connect: true, create_schema: false, temporary: false, public_create: false, other_usage: false, master_table: false,
    });
  });

  test('the role logs in with its password and works in its own schema by default', async () => {
    await as('orders', PASSWORDS.ordersA, async (c) => {
      expect((await c.query('SHOW search_path')).rows[0].search_path).toBe('orders');
      await c.query('CREATE TABLE items (id int PRIMARY KEY, name text)');
      await c.query("INSERT INTO items VALUES (1, 'book')");
      expect((await c.query('SELECT name FROM orders.items')).rows).toEqual([{ name: 'book' }]);
    });
  });

  test("a role cannot read another service's schema, nor create in public, nor read the master's tables", async () => {
    await as('billing', PASSWORDS.billing, async (c) => {
      await c.query('CREATE TABLE invoices.invoice (id int PRIMARY KEY, total numeric)');
      await c.query('INSERT INTO invoice VALUES (1, 9.99)');
    });
    await as('orders', PASSWORDS.ordersA, async (c) => {
      await expect(c.query('SELECT * FROM invoices.invoice')).rejects.toThrow(/permission denied for schema invoices/);
      await expect(c.query('CREATE TABLE public.sneaky (id int)')).rejects.toThrow(/permission denied for schema public/);
      await expect(c.query('SELECT * FROM public.master_only')).rejects.toThrow(/permission denied for table master_only/);
      await expect(c.query('CREATE SCHEMA extra')).rejects.toThrow(/permission denied for database/);
    });
    await as('billing', PASSWORDS.billing, async (c) => {
      await expect(c.query('SELECT * FROM orders.items')).rejects.toThrow(/permission denied for schema orders/);
    });
  });

  test('a role granted nothing cannot connect to the database at all', async () => {
    await expect(connect('outsider', 'outsider-password')).rejects.toThrow(/permission denied for database/);
  });

  test('a repeated Create is a no-op, an Update applies the new password, and the data stays', async () => {
    const again = await bundle.ensureRole(master, spec('orders', 'orders', 'orders', PASSWORDS.ordersA));
    expect(again).toEqual({ roleCreated: false, cloneCreated: false, passwordSetFor: 'orders', iamUser: 'orders_iam', rdsIamGranted: false });
    await as('orders', PASSWORDS.ordersA, async (c) => expect((await c.query('SELECT count(*)::int AS n FROM items')).rows[0].n).toBe(1));

    await bundle.ensureRole(master, spec('orders', 'orders', 'orders', PASSWORDS.ordersB));
    await expect(connect('orders', PASSWORDS.ordersA)).rejects.toThrow(/password authentication failed/);
    await as('orders', PASSWORDS.ordersB, async (c) => expect((await c.query('SELECT count(*)::int AS n FROM items')).rows[0].n).toBe(1));
    const { rows: [privileges] } = await master.query(
      "SELECT has_schema_privilege('orders', 'invoices', 'USAGE') AS other_usage, has_schema_privilege('orders', 'public', 'CREATE') AS public_create");
    expect(privileges).toEqual({ other_usage: false, public_create: false });
  });

  test('after a multi-user rotation to the clone, the clone acts as the role and the live user keeps its password', async () => {
    const rotated = await bundle.ensureRole(master, spec('orders', 'orders', 'orders_clone', PASSWORDS.ordersClone));
    expect(rotated.passwordSetFor).toBe('orders_clone');
    await as('orders_clone', PASSWORDS.ordersClone, async (c) => {
      expect((await c.query('SELECT current_user AS who')).rows[0].who).toBe('orders');
      await c.query('CREATE TABLE shipments (id int)');
      await expect(c.query('SELECT * FROM invoices.invoice')).rejects.toThrow(/permission denied for schema invoices/);
    });
    const { rows: [table] } = await master.query("SELECT tableowner FROM pg_tables WHERE schemaname = 'orders' AND tablename = 'shipments'");
    expect(table.tableowner).toBe('orders');
    // The previous user (the pods not yet restarted) still logs in.
    await as('orders', PASSWORDS.ordersB, async (c) => expect((await c.query('SELECT 1 AS ok')).rows[0].ok).toBe(1));
  });

  test('with rds_iam present (RDS), only the IAM user gets it; it acts as the role and has no password', async () => {
    await master.query('CREATE ROLE rds_iam NOLOGIN');
    try {
      const result = await bundle.ensureRole(master, spec('orders', 'orders', 'orders', PASSWORDS.ordersB));
      expect(result).toMatchObject({ iamUser: 'orders_iam', rdsIamGranted: true });
      const { rows } = await master.query(`SELECT pg_get_userbyid(member) AS member, pg_get_userbyid(roleid) AS role
        FROM pg_auth_members WHERE roleid = 'rds_iam'::regrole ORDER BY 1`);
      expect(rows).toEqual([{ member: 'orders_iam', role: 'rds_iam' }]);
      const { rows: [setting] } = await master.query(`SELECT array_to_string(setconfig, ',') AS config FROM pg_db_role_setting
        WHERE setrole = 'orders_iam'::regrole AND setdatabase = (SELECT oid FROM pg_database WHERE datname = $1)`, [e.database]);
      expect(setting.config).toContain('role=orders');
      // No password: whatever is tried, password login fails (on RDS it authenticates with IAM tokens only).
      for (const guess of [PASSWORDS.ordersB, 'orders_iam']) {
        await expect(connect('orders_iam', guess)).rejects.toThrow(/password authentication failed for user "orders_iam"/);
      }
      // A manual grant of rds_iam to the password role (which would disable its password on RDS) is undone.
      await master.query('GRANT rds_iam TO orders');
      await bundle.ensureRole(master, spec('orders', 'orders', 'orders', PASSWORDS.ordersB));
      const { rows: [orders] } = await master.query("SELECT pg_has_role('orders', 'rds_iam', 'MEMBER') AS member");
      expect(orders.member).toBe(false);
    } finally {
      await master.query('DROP ROLE rds_iam');
    }
  });

  test('turning IAM authentication off drops the IAM user', async () => {
    const result = await bundle.ensureRole(master, { ...spec('orders', 'orders', 'orders', PASSWORDS.ordersB), iamAuth: false });
    expect(result.iamUser).toBeUndefined();
    expect((await master.query("SELECT 1 FROM pg_roles WHERE rolname = 'orders_iam'")).rows).toEqual([]);
    expect((await bundle.ensureRole(master, spec('orders', 'orders', 'orders', PASSWORDS.ordersB))).iamUser).toBe('orders_iam');
  });

  test('no password reaches the server log in clear text', () => {
    const log = fs.readFileSync(e.log, 'utf8');
    expect(log).toMatch(/SCRAM-SHA-256\$4096:/);
    for (const password of Object.values(PASSWORDS)) expect(log).not.toContain(password);
  });

  test('Delete with RETAIN keeps the role, the clone and the schema with its data', async () => {
    expect(await bundle.removeRole(master, 'orders', 'RETAIN')).toEqual({ dropped: [] });
    const { rows } = await master.query("SELECT rolname FROM pg_roles WHERE rolname LIKE 'orders%' ORDER BY 1");
    expect(rows.map((r: any) => r.rolname)).toEqual(['orders', 'orders_clone', 'orders_iam']);
    await as('orders', PASSWORDS.ordersB, async (c) => expect((await c.query('SELECT count(*)::int AS n FROM items')).rows[0].n).toBe(1));
  });

  test('Delete with DROP removes the schema, its tables and both roles; a repeated Delete is a no-op', async () => {
    expect(await bundle.removeRole(master, 'billing', 'DROP')).toEqual({ dropped: ['billing_iam', 'billing_clone', 'billing'] });
    const { rows: roles } = await master.query("SELECT rolname FROM pg_roles WHERE rolname LIKE 'billing%'");
    expect(roles).toEqual([]);
    const { rows: schemas } = await master.query("SELECT nspname FROM pg_namespace WHERE nspname = 'invoices'");
    expect(schemas).toEqual([]);
    expect(await bundle.removeRole(master, 'billing', 'DROP')).toEqual({ dropped: [] });
    // The other service is untouched.
    await as('orders', PASSWORDS.ordersB, async (c) => expect((await c.query('SELECT count(*)::int AS n FROM items')).rows[0].n).toBe(1));
  });

  test('bad input is refused before any statement runs', async () => {
    await expect(bundle.ensureRole(master, spec('orders"; DROP ROLE fxadmin; --', 'x', 'x', 'p'))).rejects.toThrow(/invalid PostgreSQL identifier/);
    await expect(bundle.ensureRole(master, spec('orders', 'public', 'orders', 'p'))).rejects.toThrow(/schema 'public' is reserved/);
    await expect(bundle.ensureRole(master, spec('orders', 'orders', 'someone_else', 'p'))).rejects.toThrow(/the secret names user 'someone_else'/);
    await expect(bundle.removeRole(master, 'orders', 'KEEP')).rejects.toThrow(/unknown removal policy 'KEEP'/);
  });
});
