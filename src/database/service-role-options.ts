import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { IConstruct } from 'constructs';

// What a service role needs from its database, apart from the database construct itself, so that
// the role (and the workload contract in src/core) never import FxDatabase: FxDatabase implements it.

/**
 * What happens to a service's PostgreSQL role and schema when its FxDatabaseServiceRole leaves the
 * stack (or is replaced by a new name).
 */
export class FxServiceRoleRemoval {
  /** Keep the role, its rotation clone and its schema with all its data (the secret is kept too). */
  public static readonly RETAIN = new FxServiceRoleRemoval('RETAIN');
  /** Drop everything the role owns in the database (its schema and tables), then the role and its clone, and delete the secret. */
  public static readonly DROP = new FxServiceRoleRemoval('DROP');

  private constructor(
    /** `RETAIN` or `DROP`, as the custom resource receives it. */
    public readonly value: string,
  ) {}
}

/** Options of `FxDatabase.addServiceRole()`. */
export interface FxServiceRoleOptions {
  /**
   * PostgreSQL login role of the service (the `username` of its secret). Lowercase letters, digits
   * and `_`, starting with a letter or `_`, at most 57 characters (the multi-user rotation adds
   * `_clone`); not the master user, a built-in role, starting with `pg_` or `rds`, or ending with
   * `_clone` or `_iam`.
   */
  readonly name: string;
  /**
   * Schema the role owns in the database: its only place to create and read objects. Same rules as
   * `name` (at most 63 characters); not `public`, `information_schema` or `pg_*`. Changing it later
   * gives the role a new, empty schema; the old one stays, with its data, owned by the role.
   * @default - the role name
   */
  readonly schema?: string;
  /**
   * Whether the service may also log in with IAM database authentication, as the user
   * `<name>_iam` (granted `rds_iam`, member of the role, acting as it; use `grantConnect()`). RDS
   * lets a user log in with one method only, so the password role itself never gets `rds_iam`.
   * @default true
   */
  readonly iamAuth?: boolean;
  /**
   * What happens to the role and its schema when this construct is removed.
   * @default FxServiceRoleRemoval.RETAIN
   */
  readonly removal?: FxServiceRoleRemoval;
  /**
   * How often the role's password is rotated (multi-user rotation: the new password goes to the
   * alternate user `<name>_clone`, so connections made with the previous one keep working).
   * @default Duration.days(30)
   */
  readonly rotationSchedule?: Duration;
}

/**
 * The database a service role is created in: what FxDatabaseServiceRole reads from it
 * (implemented by FxDatabase).
 */
export interface IFxServiceRoleDatabase extends IConstruct {
  /** The RDS instance the role is created in. */
  readonly instance: rds.IDatabaseInstance;
  /** The database's KMS key (it encrypts the role's secret and its handler's logs). */
  readonly key: kms.IKey;
  /** Master credentials, read only by the role handler and the rotation functions. */
  readonly credentialsSecret: secretsmanager.ISecret;
  /** Name of the master secret (role secrets are named `<secretName>/roles/<name>`). */
  readonly secretName: string;
  /** Security group of the instance. */
  readonly securityGroup: ec2.ISecurityGroup;
  /** The VPC the instance runs in. */
  readonly vpc: ec2.IVpc;
  /** Port the database listens on. */
  readonly databasePort: number;
  /** Name of the database the roles' schemas live in. */
  readonly databaseName: string;
  /** The master user (never a service role's name). */
  readonly masterUsername: string;
  /** RDS instance identifier (names the handler's log group). */
  readonly instanceIdentifier: string;
  /** Address of the instance (written into each role's secret). */
  readonly endpointAddress: string;
  /**
   * Lets `grantee` connect with IAM database authentication as `databaseUser`.
   *
   * @param grantee the workload's role or service account
   * @param databaseUser the database user it connects as
   */
  grantConnectAs(grantee: iam.IGrantable, databaseUser: string): iam.Grant;
}
