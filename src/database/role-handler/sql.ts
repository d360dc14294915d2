// The SQL side of the service-role custom resource: plain inputs and a connection, no AWS.
// Runs in the role handler Lambda (bundled with `pg`) and, in test/pg, against a real PostgreSQL.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'crypto';

/** The part of a `pg.Client` the SQL needs. */
export interface SqlClient {
  query(text: string, values?: unknown[]): Promise<{ rows: any[] }>;
}

/** What the custom resource makes sure exists. */
export interface RoleSpec {
  /** Login role of the service (also the IAM database user). */
  readonly role: string;
  /** Schema the role owns; its only place to read and write. */
  readonly schema: string;
  /** Database the schema lives in (the one the role may connect to). */
  readonly database: string;
  /** User name the service's secret currently names: `role`, or `<role>_clone` after a multi-user rotation. */
  readonly secretUsername: string;
  /** Password in the service's secret for `secretUsername`. */
  readonly secretPassword: string;
  /** Whether the IAM-auth user `<role>_iam` exists (granted `rds_iam` where that role exists, i.e. on RDS). */
  readonly iamAuth: boolean;
}

/** What `ensureRole` did, for the custom resource's response and the logs (never a password). */
export interface EnsureResult {
  readonly roleCreated: boolean;
  readonly cloneCreated: boolean;
  readonly passwordSetFor: string;
  /** The IAM-auth user, when `iamAuth` is on. */
  readonly iamUser?: string;
  readonly rdsIamGranted: boolean;
}

/** What happens to a role and its schema when the custom resource is deleted. */
export type RemovalMode = 'RETAIN' | 'DROP';

/** Suffix the Secrets Manager multi-user rotation gives the alternate user. */
export const CLONE_SUFFIX = '_clone';
/**
 * Suffix of the IAM-auth user. RDS lets a user log in with one method only (a member of `rds_iam`
 * can no longer use its password), so IAM authentication gets a user of its own.
 */
export const IAM_SUFFIX = '_iam';
/** PostgreSQL identifiers we create: lowercase, unquoted-safe, at most 63 bytes. */
export const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Validates and double-quotes an identifier (quotes inside are doubled, though the pattern allows none). */
export function quoteIdent(name: string): string {
  if (!IDENTIFIER.test(name)) {
    throw new Error(`invalid PostgreSQL identifier '${name}': lowercase letters, digits and _, starting with a letter or _, at most 63 characters`);
  }
  return `"${name.replace(/"/g, '""')}"`;
}

/** A string literal, safe whatever the value and whatever standard_conforming_strings is set to. */
export function quoteLiteral(value: string): string {
  if (value.includes('\0')) throw new Error('a PostgreSQL string cannot contain NUL');
  const doubled = value.replace(/'/g, "''");
  return value.includes('\\') ? `E'${doubled.replace(/\\/g, '\\\\')}'` : `'${doubled}'`;
}

/**
 * A SCRAM-SHA-256 verifier (RFC 5802/7677, the format `pg_authid` stores) for an ASCII password.
 * Sending the verifier instead of the password keeps clear text out of the server's statement log.
 */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = 4096): string {
  if (!/^[\x21-\x7e]*$/.test(password)) {
    // SASLprep is the identity on printable ASCII only; the generated secrets never contain anything else.
    throw new Error('the password must be printable ASCII without spaces');
  }
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

async function exists(client: SqlClient, role: string): Promise<boolean> {
  const result = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
  return result.rows.length > 0;
}

async function isSuperuser(client: SqlClient): Promise<boolean> {
  const result = await client.query('SELECT rolsuper FROM pg_roles WHERE rolname = current_user');
  return result.rows[0]?.rolsuper === true;
}

/** Checks the inputs before any statement runs. */
export function validateSpec(spec: RoleSpec): void {
  for (const name of [spec.role, spec.schema, spec.database]) quoteIdent(name);
  quoteIdent(spec.role + CLONE_SUFFIX);
  quoteIdent(spec.role + IAM_SUFFIX);
  if (spec.schema === 'public' || spec.schema.startsWith('pg_')) throw new Error(`schema '${spec.schema}' is reserved: each role owns a schema of its own`);
  if (spec.secretUsername !== spec.role && spec.secretUsername !== spec.role + CLONE_SUFFIX) {
    throw new Error(`the secret names user '${spec.secretUsername}': expected '${spec.role}' or '${spec.role}${CLONE_SUFFIX}'`);
  }
}

/**
 * Creates or updates the service's role, its rotation clone and its schema; every statement is
 * idempotent, so Create, a repeated Create and Update all converge on the same state:
 *
 * - `<role>`: LOGIN with the secret's password, no other attribute, CONNECT on `database` only,
 *   `search_path` its schema; never `rds_iam` (that would turn its password off on RDS).
 * - `<role>_clone`: the user the multi-user rotation alternates to. Created here (member of
 *   `<role>`, its sessions `SET ROLE <role>`) so tables it creates belong to `<role>`; the rotation
 *   only sets its password. Until then it has none and cannot log in.
 * - `<role>_iam` when `iamAuth`: the IAM-auth user, without a password, member of `<role>` (its
 *   sessions `SET ROLE <role>` too) and of `rds_iam` where that role exists (RDS); dropped when
 *   `iamAuth` is turned off.
 * - the schema: owned by `<role>`, no privileges for PUBLIC.
 * - `PUBLIC` loses CONNECT/TEMPORARY on the database and CREATE on `public`: only roles granted
 *   CONNECT get in, and nobody writes to `public`.
 *
 * Only the user the secret currently names gets its password (the other keeps its own, so live
 * connections of the previous rotation survive). The connection must be open on `database`.
 */
export async function ensureRole(client: SqlClient, spec: RoleSpec): Promise<EnsureResult> {
  validateSpec(spec);
  const role = quoteIdent(spec.role);
  const clone = quoteIdent(spec.role + CLONE_SUFFIX);
  const schema = quoteIdent(spec.schema);
  const database = quoteIdent(spec.database);
  const current = await client.query('SELECT current_database() AS db');
  if (current.rows[0]?.db !== spec.database) throw new Error(`connected to database '${current.rows[0]?.db}', expected '${spec.database}'`);
  const superuser = await isSuperuser(client);
  const secretPassword = `PASSWORD ${quoteLiteral(scramVerifier(spec.secretPassword))}`;

  const roleCreated = !(await exists(client, spec.role));
  if (roleCreated) {
    const password = spec.secretUsername === spec.role ? secretPassword : 'PASSWORD NULL';
    await client.query(`CREATE ROLE ${role} WITH LOGIN NOCREATEDB NOCREATEROLE NOREPLICATION INHERIT ${password}`);
  } else {
    // REPLICATION (and SUPERUSER) only a superuser can change: a CREATEROLE master cannot have set them.
    await client.query(`ALTER ROLE ${role} WITH LOGIN NOCREATEDB NOCREATEROLE`);
  }
  // RDS's master user is not a superuser: from PostgreSQL 16 on it needs membership (SET) in a
  // role to give it a schema or drop what it owns. A superuser needs nothing.
  if (!superuser) await client.query(`GRANT ${role} TO CURRENT_USER`);

  const cloneCreated = !(await exists(client, spec.role + CLONE_SUFFIX));
  if (cloneCreated) {
    const password = spec.secretUsername !== spec.role ? secretPassword : 'PASSWORD NULL';
    await client.query(`CREATE ROLE ${clone} WITH LOGIN NOCREATEDB NOCREATEROLE NOREPLICATION INHERIT ${password} IN ROLE ${role}`);
  } else {
    await client.query(`GRANT ${role} TO ${clone}`);
  }
  if (!superuser) await client.query(`GRANT ${clone} TO CURRENT_USER`);
  if (!roleCreated && spec.secretUsername === spec.role) await client.query(`ALTER ROLE ${role} WITH ${secretPassword}`);
  if (!cloneCreated && spec.secretUsername !== spec.role) await client.query(`ALTER ROLE ${clone} WITH ${secretPassword}`);

  await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema} AUTHORIZATION ${role}`);
  await client.query(`ALTER SCHEMA ${schema} OWNER TO ${role}`);
  await client.query(`REVOKE ALL ON SCHEMA ${schema} FROM PUBLIC`);
  await client.query(`REVOKE ALL ON DATABASE ${database} FROM PUBLIC`);
  await client.query('REVOKE CREATE ON SCHEMA public FROM PUBLIC');
  await client.query(`GRANT CONNECT ON DATABASE ${database} TO ${role}`);
  for (const user of [role, clone]) {
    await client.query(`ALTER ROLE ${user} IN DATABASE ${database} SET search_path = ${schema}`);
  }
  await client.query(`ALTER ROLE ${clone} IN DATABASE ${database} SET role = ${quoteLiteral(spec.role)}`);

  const rdsIam = await exists(client, 'rds_iam');
  // Password users must never be IAM users (drift from a manual grant is repaired).
  if (rdsIam) await client.query(`REVOKE rds_iam FROM ${role}, ${clone}`);
  const iamName = spec.role + IAM_SUFFIX;
  const iam = quoteIdent(iamName);
  const iamExists = await exists(client, iamName);
  if (!spec.iamAuth) {
    if (iamExists) await dropRoles(client, [iamName]);
    return { roleCreated, cloneCreated, passwordSetFor: spec.secretUsername, rdsIamGranted: false };
  }
  if (!iamExists) {
    await client.query(`CREATE ROLE ${iam} WITH LOGIN NOCREATEDB NOCREATEROLE NOREPLICATION INHERIT PASSWORD NULL IN ROLE ${role}`);
  } else {
    await client.query(`ALTER ROLE ${iam} WITH LOGIN NOCREATEDB NOCREATEROLE PASSWORD NULL`);
    await client.query(`GRANT ${role} TO ${iam}`);
  }
  if (!superuser) await client.query(`GRANT ${iam} TO CURRENT_USER`);
  await client.query(`ALTER ROLE ${iam} IN DATABASE ${database} SET search_path = ${schema}`);
  await client.query(`ALTER ROLE ${iam} IN DATABASE ${database} SET role = ${quoteLiteral(spec.role)}`);
  if (rdsIam) await client.query(`GRANT rds_iam TO ${iam}`);
  return { roleCreated, cloneCreated, passwordSetFor: spec.secretUsername, iamUser: iamName, rdsIamGranted: rdsIam };
}

/**
 * Applies the removal policy: RETAIN leaves role, clone and schema (with its data) as they are;
 * DROP removes everything the two roles own in `database` (the schema and its objects) and then
 * the roles. Missing roles are not an error (a repeated Delete).
 */
export async function removeRole(client: SqlClient, role: string, mode: RemovalMode): Promise<{ dropped: string[] }> {
  quoteIdent(role);
  if (mode === 'RETAIN') return { dropped: [] };
  if (mode !== 'DROP') throw new Error(`unknown removal policy '${mode}': RETAIN or DROP`);
  const present: string[] = [];
  for (const name of [role + IAM_SUFFIX, role + CLONE_SUFFIX, role]) if (await exists(client, name)) present.push(name);
  if (present.length > 0) await dropRoles(client, present);
  return { dropped: present };
}

/** Drops what the roles own in the current database (and their privileges), then the roles. */
async function dropRoles(client: SqlClient, names: string[]): Promise<void> {
  if (!(await isSuperuser(client))) {
    for (const name of names) await client.query(`GRANT ${quoteIdent(name)} TO CURRENT_USER`);
  }
  await client.query(`DROP OWNED BY ${names.map(quoteIdent).join(', ')} CASCADE`);
  for (const name of names) await client.query(`DROP ROLE ${quoteIdent(name)}`);
}
