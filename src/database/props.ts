import { Duration, RemovalPolicy, Size } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import type { IFxCluster } from '../cluster/contract';

/** How a restored database gets its data. */
export enum FxDatabaseRestoreType {
  /** From a DB snapshot (manual, automated, AWS Backup recovery point or a copy shared with this account). */
  SNAPSHOT = 'SNAPSHOT',
  /** From another instance's automated backups, at a point in time. */
  POINT_IN_TIME = 'POINT_IN_TIME',
}

/**
 * Where an FxDatabase's data comes from when it must not start empty.
 *
 * Restore into a new FxDatabase (a new construct id), check the data, then point the workloads at
 * it: see `docs/database-restore.md`. The restored instance keeps the storage KMS key of its
 * source (RDS cannot re-key a restore); everything else (secret, Performance Insights, logs,
 * backups) uses the new database's own key.
 */
export class FxDatabaseRestore {
  /**
   * Restores from a DB snapshot.
   *
   * @param snapshotIdentifier the snapshot's identifier (`orders-before-migration`,
   * `rds:fx-orders-2026-11-20-03-10` for an automated one, `awsbackup:job-...` for an AWS Backup
   * recovery point) or, for a snapshot shared from another account or copied from another region,
   * its ARN
   */
  public static fromSnapshot(snapshotIdentifier: string): FxDatabaseRestore {
    return new FxDatabaseRestore(FxDatabaseRestoreType.SNAPSHOT, snapshotIdentifier, undefined, undefined);
  }

  /**
   * Restores another instance's data as of a moment within its backup retention period.
   *
   * @param sourceInstanceIdentifier identifier of the instance whose automated backups are used
   * (for an FxDatabase: its `instanceIdentifier`); the instance must still exist
   * @param restoreTime the moment to restore to (UTC, before the source's latest restorable time)
   */
  public static toPointInTime(sourceInstanceIdentifier: string, restoreTime: Date): FxDatabaseRestore {
    return new FxDatabaseRestore(FxDatabaseRestoreType.POINT_IN_TIME, sourceInstanceIdentifier, restoreTime, false);
  }

  /**
   * Restores another instance's data as of its latest restorable time (typically five minutes ago).
   *
   * @param sourceInstanceIdentifier identifier of the instance whose automated backups are used
   */
  public static toLatestRestorableTime(sourceInstanceIdentifier: string): FxDatabaseRestore {
    return new FxDatabaseRestore(FxDatabaseRestoreType.POINT_IN_TIME, sourceInstanceIdentifier, undefined, true);
  }

  private constructor(
    /** Snapshot or point-in-time restore. */
    public readonly type: FxDatabaseRestoreType,
    /** The snapshot identifier or ARN (SNAPSHOT), or the source instance identifier (POINT_IN_TIME). */
    public readonly source: string,
    /** The moment restored to, for a point-in-time restore that is not to the latest restorable time. */
    public readonly restoreTime?: Date,
    /** Whether a point-in-time restore uses the latest restorable time. */
    public readonly useLatestRestorableTime?: boolean,
  ) {}
}

/**
 * Properties of an FxDatabase. Only `cluster` is required: every other default comes from the
 * cluster's profile and versions table, and every default protects the data.
 */
export interface FxDatabaseProps {
  /** The cluster whose workloads use this database: its VPC, security group, profile and versions. */
  readonly cluster: IFxCluster;
  /**
   * Name of the PostgreSQL database created in the instance (and the `dbname` key of the secret).
   * Lowercase letters, digits and `_`, starting with a letter, at most 63 characters, not a
   * PostgreSQL reserved word or a system database name. With `restore` nothing is created (the
   * instance keeps its source's databases): give the name of the source's database, which the secret
   * then carries.
   * @default 'app'
   */
  readonly databaseName?: string;
  /**
   * Short name of this database within the platform. It names the credentials secret
   * (`<platformName>/database/<name>`, the prefix External Secrets may read) and, with the platform
   * name, the RDS instance (`<platformName>-<name>`). Give a restored copy a different name.
   * @default - the construct id in kebab case (`Database` -> `database`)
   */
  readonly name?: string;
  /**
   * RDS instance identifier. Fixed names also make CloudFormation refuse (instead of perform) a
   * replacement of the instance.
   * @default - `<platformName>-<name>`, lowercased and shortened to 63 characters
   */
  readonly instanceIdentifier?: string;
  /**
   * Master user name (stored in the secret). A restore must use the source's master user name.
   * @default 'fxadmin'
   */
  readonly masterUsername?: string;
  /**
   * PostgreSQL engine version (`major.minor`); must be a version of the versions table.
   * @default - the cluster's `versions.postgresEngineVersion`
   */
  readonly engineVersion?: string;
  /**
   * Instance class (without the `db.` prefix), one RDS for PostgreSQL offers.
   * @default - the profile's `databaseInstanceType` (Graviton: t4g.medium development, m7g.large production)
   */
  readonly instanceType?: ec2.InstanceType;
  /**
   * Whether a standby runs in a second AZ.
   * @default - the profile's `databaseMultiAz` (false development, true production)
   */
  readonly multiAz?: boolean;
  /**
   * Allocated gp3 storage, 20 GiB to 64 TiB.
   * @default - the profile's `databaseAllocatedStorage` (20 GiB development, 100 GiB production)
   */
  readonly allocatedStorage?: Size;
  /**
   * Storage autoscaling limit; at least 10% more than `allocatedStorage` and at most 65536 GiB (RDS's rule).
   * @default - the profile's `databaseMaxAllocatedStorage` (100 GiB development, 1 TiB production), raised to
   * 10% above `allocatedStorage` when that is larger; no autoscaling when even that exceeds 65536 GiB
   */
  readonly maxAllocatedStorage?: Size;
  /**
   * Port PostgreSQL listens on. The default is deliberately not 5432 (cdk-nag AwsSolutions-RDS11,
   * port obfuscation); workloads read the port from the secret.
   * @default 5433
   */
  readonly port?: number;
  /**
   * Automated backup retention (point-in-time recovery window), 1 to 35 days.
   * @default - the profile's `backupRetention` (7 days development, 35 days production)
   */
  readonly backupRetention?: Duration;
  /**
   * Daily window (UTC, `hh24:mi-hh24:mi`, at least 30 minutes) for automated backups.
   * @default '03:00-04:00'
   */
  readonly preferredBackupWindow?: string;
  /**
   * Weekly window (UTC, `ddd:hh24:mi-ddd:hh24:mi`, at least 30 minutes) for minor version
   * upgrades and maintenance; must not overlap the backup window.
   * @default 'sun:06:00-sun:07:00'
   */
  readonly preferredMaintenanceWindow?: string;
  /**
   * Whether RDS refuses to delete the instance. Turning it off under a profile with
   * `databaseRequireExplicitRemoval` (production) also requires an
   * explicit `removalPolicy`.
   * @default true
   */
  readonly deletionProtection?: boolean;
  /**
   * What happens to the instance when it leaves the stack. The KMS keys, the backup vault and the
   * log groups are always retained (snapshots and backups stay readable).
   * @default RemovalPolicy.SNAPSHOT
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Statements running longer than this are logged (`log_min_duration_statement`).
   * @default Duration.seconds(1)
   */
  readonly slowQueryThreshold?: Duration;
  /**
   * Further PostgreSQL parameters. `rds.force_ssl` and `ssl` cannot be turned off; `port`,
   * `listen_addresses` and the server's file locations are fixed by RDS. Names must be known at
   * synth (values may be deploy-time values).
   * @default - none beyond force_ssl, slow-query and connection logging
   */
  readonly parameters?: { [name: string]: string };
  /**
   * Retention of the exported `postgresql` and `upgrade` logs.
   * @default - the profile's `logRetention`
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Enhanced monitoring interval: 1, 5, 10, 15, 30 or 60 seconds.
   * @default Duration.seconds(60)
   */
  readonly monitoringInterval?: Duration;
  /**
   * Performance Insights retention.
   * @default rds.PerformanceInsightRetention.DEFAULT (7 days)
   */
  readonly performanceInsightRetention?: rds.PerformanceInsightRetention;
  /**
   * How often the master password is rotated: whole hours from 4 hours to 1000 days (Secrets Manager's range).
   * @default Duration.days(30)
   */
  readonly rotationSchedule?: Duration;
  /**
   * Retention of the daily AWS Backup recovery points, at least 1 day.
   * @default - the profile's `backupRetention`
   */
  readonly dailyBackupRetention?: Duration;
  /**
   * Retention of the weekly AWS Backup recovery points, at least 1 day and at least the daily retention.
   * @default - the profile's `databaseWeeklyBackupRetention` (35 days development, 365 days production)
   */
  readonly weeklyBackupRetention?: Duration;
  /**
   * A backup vault in another region (or account) that receives a copy of every recovery point.
   * Import it with `backup.BackupVault.fromBackupVaultArn()`.
   * @default - no copy
   */
  readonly backupCopyVault?: backup.IBackupVault;
  /**
   * Start from a snapshot or a point in time instead of an empty database.
   * @default - a new, empty database
   */
  readonly restore?: FxDatabaseRestore;
  /**
   * Read replicas in the same region, 0 to 5.
   * @default 0
   */
  readonly readReplicas?: number;
  /**
   * Instance class of the read replicas.
   * @default - the primary's instance class
   */
  readonly readReplicaInstanceType?: ec2.InstanceType;
}
