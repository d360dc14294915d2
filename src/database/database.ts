import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledgeDatabaseFindings } from './nag';
import { FxDatabaseProps, FxDatabaseRestoreType } from './props';
import { FxDatabaseServiceRole } from './service-role';
import { FxServiceRoleOptions, IFxServiceRoleDatabase } from './service-role-options';
import { resolveSettings, selectDatabaseSubnets, Settings, subnetCidrs } from './settings';
import { validateDatabaseUser } from './validation';
import type { IFxCluster } from '../cluster/contract';
import { IFxWorkloadDatabase, IFxWorkloadDatabaseRole } from '../core/contracts';
import { checkSameEnvironment } from '../core/environment';
import { atConstruct, checkKnownAtSynth, trackConstruct } from '../core/errors';
import { tagPlatform } from '../core/tags';

/** Log types RDS for PostgreSQL exports to CloudWatch Logs. */
const LOG_EXPORTS = ['postgresql', 'upgrade'];
// Every ASCII punctuation character but - _ . : passwords go into DATABASE_URL without escaping.
const PASSWORD_EXCLUDE = ' !"#$%&\'()*+,/:;<=>?@[\\]^`{|}~';

/**
 * A PostgreSQL database for the platform's workloads: RDS for PostgreSQL in the cluster VPC's
 * isolated subnets, reachable only from the cluster.
 *
 * Every default protects the data: storage, secret, logs and Performance Insights encrypted with
 * the database's own rotating KMS key (retained); TLS forced; IAM authentication; deletion
 * protection and a final snapshot on removal; automated backups with point-in-time recovery;
 * an AWS Backup plan (daily and weekly) into an encrypted vault with optional cross-region copy;
 * credentials generated in Secrets Manager under `<platformName>/database/<name>` and rotated.
 *
 * In an imported VPC without isolated subnets the instance goes into the private subnets (still
 * not publicly accessible, still reachable only from the cluster).
 *
 * Pass it to FxMicroservice (`database`): the service gets a login role and schema of its own
 * (`addWorkloadRole`) whose credentials arrive through External Secrets, egress to `databaseCidrs`
 * on `databasePort`, and IAM authentication as its own role; never the master credentials.
 */
export class FxDatabase extends Construct implements IFxWorkloadDatabase, IFxServiceRoleDatabase {
  /** The primary RDS instance (new, or restored from a snapshot or a point in time). */
  public readonly instance: rds.IDatabaseInstance;
  /** Read replicas, in order (empty unless `readReplicas` is set). */
  public readonly readReplicas: rds.IDatabaseInstance[];
  /** Customer KMS key (rotated yearly, retained) of storage, secret, logs and Performance Insights. */
  public readonly key: kms.IKey;
  /**
   * Credentials secret (`username`, `password`, `host`, `port`, `dbname`, `engine`,
   * `dbInstanceIdentifier`), attached to the instance and rotated.
   */
  public readonly credentialsSecret: secretsmanager.ISecret;
  /** Name of the credentials secret: `<platformName>/database/<name>`. */
  public readonly secretName: string;
  /** Security group of the instance and its replicas. */
  public readonly securityGroup: ec2.ISecurityGroup;
  /** The VPC the instance lives in (the cluster's). */
  public readonly vpc: ec2.IVpc;
  /** Network connections of the instance (default port: `databasePort`). */
  public readonly connections: ec2.Connections;
  /** Port PostgreSQL listens on. */
  public readonly databasePort: number;
  /** CIDR blocks of the subnets the instance and its replicas live in. */
  public readonly databaseCidrs: string[];
  /** Name of the database created in the instance. */
  public readonly databaseName: string;
  /** Master user name (also in the secret). */
  public readonly masterUsername: string;
  /** RDS instance identifier of the primary. */
  public readonly instanceIdentifier: string;
  /** Endpoint address of the primary. */
  public readonly endpointAddress: string;
  /** AWS Backup vault holding the recovery points. */
  public readonly backupVault: backup.IBackupVault;
  /** KMS key of the backup vault (rotated yearly, retained). */
  public readonly backupVaultKey: kms.IKey;
  /** AWS Backup plan with a daily and a weekly rule. */
  public readonly backupPlan: backup.BackupPlan;
  /** Log groups of the exported logs, by log type (`postgresql`, `upgrade`). */
  public readonly logGroups: { [logType: string]: logs.ILogGroup };

  /** The cluster the database serves (its workloads must run on it). */
  public readonly cluster: IFxCluster;

  constructor(scope: Construct, id: string, props: FxDatabaseProps) {
    super(scope, id);
    trackConstruct(this);
    checkSameEnvironment(this, 'FxDatabase', 'cluster', props.cluster);
    this.cluster = props.cluster;
    this.vpc = props.cluster.vpc;
    const s = resolveSettings(this, id, props);
    this.databaseName = s.databaseName;
    this.masterUsername = s.masterUsername;
    this.instanceIdentifier = s.identifier;
    this.databasePort = s.port;
    this.secretName = `${this.cluster.platformName}/database/${s.name}`;
    tagPlatform(this, this.cluster.platformName, 'database');

    const subnets = selectDatabaseSubnets(this.cluster.vpc);
    this.databaseCidrs = subnetCidrs(this.cluster.vpc, subnets);
    const key = new kms.Key(this, 'Key', {
      description: `Fx platform ${this.cluster.platformName}: database ${s.name} (storage, credentials, logs, Performance Insights)`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.key = key;
    allowLogsService(key, this);

    this.securityGroup = this.createSecurityGroup(s.port);
    const secret = new rds.DatabaseSecret(this, 'Secret', {
      secretName: this.secretName,
      username: s.masterUsername,
      dbname: s.databaseName,
      encryptionKey: key,
      excludeCharacters: PASSWORD_EXCLUDE,
    });
    // A retained instance keeps its credentials; otherwise the secret goes with it (a restore sets a new password).
    // The name is fixed (workloads' remote key), so never plain RETAIN: a rolled-back first create must remove it.
    // CloudFormation deletes secrets without a recovery window, so a deleted name is free again at once.
    const retained = s.removalPolicy === RemovalPolicy.RETAIN || s.removalPolicy === RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;
    secret.applyRemovalPolicy(retained ? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE : RemovalPolicy.DESTROY);
    const parameterGroup = new rds.ParameterGroup(this, 'Parameters', {
      engine: s.engine,
      description: `Fx database ${s.name}: TLS only, slow-query and connection logging`,
      parameters: {
        'log_connections': '1',
        'log_disconnections': '1',
        ...s.parameters,
        'rds.force_ssl': '1',
        'log_min_duration_statement': String((props.slowQueryThreshold ?? Duration.seconds(1)).toMilliseconds()),
      },
    });
    const monitoringRole = new iam.Role(this, 'MonitoringRole', {
      description: 'RDS enhanced monitoring of the Fx database',
      assumedBy: new iam.ServicePrincipal('monitoring.rds.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonRDSEnhancedMonitoringRole')],
    });

    const common: rds.DatabaseInstanceNewProps = {
      vpc: this.cluster.vpc,
      vpcSubnets: subnets,
      securityGroups: [this.securityGroup],
      port: s.port,
      multiAz: s.multiAz,
      storageType: rds.StorageType.GP3,
      maxAllocatedStorage: s.maxAllocatedGiB,
      parameterGroup,
      iamAuthentication: true,
      cloudwatchLogsExports: LOG_EXPORTS,
      enablePerformanceInsights: true,
      performanceInsightEncryptionKey: key,
      performanceInsightRetention: props.performanceInsightRetention ?? rds.PerformanceInsightRetention.DEFAULT,
      monitoringInterval: s.monitoringInterval,
      monitoringRole,
      autoMinorVersionUpgrade: true,
      preferredMaintenanceWindow: s.maintenanceWindow,
      deletionProtection: s.deletionProtection,
      removalPolicy: s.removalPolicy,
      copyTagsToSnapshot: true,
      publiclyAccessible: false,
      caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
    };

    this.logGroups = this.createLogGroups('', s.identifier, key, s.logRetention);
    const instance = this.createInstance(s, common, secret, key);
    Object.values(this.logGroups).forEach((group) => instance.node.addDependency(group));
    this.instance = instance;
    this.connections = instance.connections;
    this.endpointAddress = instance.dbInstanceEndpointAddress;
    this.credentialsSecret = instance.secret!;

    this.addRotation(s.rotationSchedule);
    this.readReplicas = this.createReplicas(s, common, instance, key);

    this.backupVaultKey = new kms.Key(this, 'BackupVaultKey', {
      description: `Fx platform ${this.cluster.platformName}: AWS Backup vault of database ${s.name}`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Backups must outlive the stack, but the vault's name is derived from its path: RETAIN would keep
    // the (empty) vault of a rolled-back first create and fail every retry; this one removes it.
    this.backupVault = new backup.BackupVault(this, 'BackupVault', {
      encryptionKey: this.backupVaultKey,
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
      blockRecoveryPointDeletion: this.cluster.profile.settings.databaseBlockRecoveryPointDeletion,
    });
    this.backupPlan = this.createBackupPlan(instance, s, props.backupCopyVault);

    acknowledgeDatabaseFindings({
      monitoringRole,
      backupRole: this.backupPlan.node.tryFindChild('Selection')?.node.tryFindChild('Role'),
      instances: [instance, ...this.readReplicas],
      multiAz: s.multiAz,
      restored: s.restore !== undefined,
    });
  }

  /**
   * Creates a service's own PostgreSQL login role owning its own schema, with its own secret
   * (rotated with the multi-user strategy) and, by default, IAM database authentication. The role
   * is created at deploy time by a custom resource in the VPC; see FxDatabaseServiceRole.
   *
   * @param id construct id of the role (under this database's `ServiceRoles`)
   * @param options the role's name, schema, IAM authentication, removal policy and rotation
   */
  public addServiceRole(id: string, options: FxServiceRoleOptions): FxDatabaseServiceRole {
    atConstruct(this, () => checkKnownAtSynth(id, 'FxDatabase', 'addServiceRole id', 'it is a construct id, and constructs cannot name a child after a deploy-time value'));
    const scope = this.node.tryFindChild('ServiceRoles') ?? new Construct(this, 'ServiceRoles');
    return new FxDatabaseServiceRole(scope, id, { ...options, database: this });
  }

  /**
   * Creates a workload's own login role (an FxDatabaseServiceRole) with its resources in `scope`,
   * usually the workload's own stack: FxMicroservice calls it for its database. The database's
   * stack gains nothing per workload (its one role provider reads role secrets by name prefix).
   *
   * @param scope where the role's secret, custom resource and rotation are created
   * @param id construct id of the role under `scope`
   * @param options the role's name, schema, IAM authentication, removal policy and rotation
   */
  public addWorkloadRole(scope: Construct, id: string, options: FxServiceRoleOptions): IFxWorkloadDatabaseRole {
    return new FxDatabaseServiceRole(scope, id, { ...options, database: this });
  }

  /**
   * Lets a workload's IAM identity connect with IAM database authentication as the master user
   * (`rds-db:connect` on that one database user). The workload still needs the PostgreSQL role to
   * be granted `rds_iam` before tokens work; password authentication with the secret works without.
   *
   * @param grantee the workload's role or service account
   */
  public grantConnect(grantee: iam.IGrantable): void {
    this.grantConnectAs(grantee, this.masterUsername);
  }

  /**
   * Lets a workload's IAM identity connect as a given database user with IAM authentication.
   *
   * @param grantee the workload's role or service account
   * @param databaseUser the PostgreSQL role (granted `rds_iam`) it connects as
   */
  public grantConnectAs(grantee: iam.IGrantable, databaseUser: string): iam.Grant {
    atConstruct(this, () => validateDatabaseUser(databaseUser));
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['rds-db:connect'],
      resourceArns: [Stack.of(this).formatArn({
        service: 'rds-db',
        resource: 'dbuser',
        resourceName: `${this.instance.instanceResourceId}/${databaseUser}`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      })],
    });
  }

  /** A CloudWatch metric of the primary instance (`AWS/RDS`, by `DBInstanceIdentifier`). */
  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.instance.metric(metricName, props);
  }

  /** CPU utilization in percent (average). */
  public metricCpuUtilization(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.instance.metricCPUUtilization(props);
  }

  /** Free storage in bytes (minimum). */
  public metricFreeStorageSpace(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.instance.metricFreeStorageSpace({ statistic: 'Minimum', ...props });
  }

  /** Open connections (maximum). */
  public metricDatabaseConnections(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.instance.metricDatabaseConnections({ statistic: 'Maximum', ...props });
  }

  /** Freeable memory in bytes (minimum). */
  public metricFreeableMemory(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.instance.metricFreeableMemory({ statistic: 'Minimum', ...props });
  }

  /** Average read latency in seconds. */
  public metricReadLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.instance.metric('ReadLatency', { statistic: 'Average', ...props });
  }

  /** Average write latency in seconds. */
  public metricWriteLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.instance.metric('WriteLatency', { statistic: 'Average', ...props });
  }

  /**
   * Only the cluster reaches the database; the instance itself needs no outbound traffic. The
   * rotation function's own group is added in `addRotation`.
   */
  private createSecurityGroup(port: number): ec2.SecurityGroup {
    const sg = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: this.cluster.vpc,
      description: 'Fx database: PostgreSQL from the EKS cluster only',
      allowAllOutbound: false,
    });
    sg.addIngressRule(this.cluster.clusterSecurityGroup, ec2.Port.tcp(port), 'PostgreSQL from the EKS cluster (nodes and pods)');
    return sg;
  }

  private createLogGroups(prefix: string, identifier: string, key: kms.IKey, retention: logs.RetentionDays): { [logType: string]: logs.ILogGroup } {
    // Created before the instance so RDS writes into groups with our retention and key, and
    // without the LogRetention custom resource Lambda.
    const groups: { [logType: string]: logs.ILogGroup } = {};
    for (const type of LOG_EXPORTS) {
      groups[type] = new logs.LogGroup(this, `${prefix}${capitalize(type)}Logs`, {
        logGroupName: `/aws/rds/instance/${identifier}/${type}`,
        retention,
        encryptionKey: key,
        // RDS writes to this fixed name: never plain RETAIN (see FxProfileSettings.removalPolicy).
        removalPolicy: this.cluster.profile.settings.removalPolicy,
      });
    }
    return groups;
  }

  private createInstance(
    s: Settings, common: rds.DatabaseInstanceNewProps, secret: rds.DatabaseSecret, key: kms.IKey,
  ): rds.DatabaseInstance | rds.DatabaseInstanceFromSnapshot {
    const source = {
      ...common,
      engine: s.engine,
      instanceType: s.instanceType,
      instanceIdentifier: s.identifier,
      allowMajorVersionUpgrade: false,
      allocatedStorage: s.allocatedGiB,
      // Automated backups outlive the instance (for their retention): point-in-time restore stays possible.
      deleteAutomatedBackups: false,
      backupRetention: s.backupRetention,
      preferredBackupWindow: s.backupWindow,
    };
    if (s.restore?.type === FxDatabaseRestoreType.SNAPSHOT) {
      // Encryption and its key, the master user name and the database come from the snapshot.
      return new rds.DatabaseInstanceFromSnapshot(this, 'Resource', {
        ...source,
        snapshotIdentifier: s.restore.source,
        credentials: rds.SnapshotCredentials.fromSecret(secret),
      });
    }
    const instance = new rds.DatabaseInstance(this, 'Resource', {
      ...source,
      databaseName: s.databaseName,
      credentials: rds.Credentials.fromSecret(secret),
      storageEncrypted: true,
      storageEncryptionKey: key,
    });
    if (s.restore?.type === FxDatabaseRestoreType.POINT_IN_TIME) {
      // aws-cdk-lib has no L2 for point-in-time restore: the same AWS::RDS::DBInstance with
      // SourceDBInstanceIdentifier plus RestoreTime or UseLatestRestorableTime. Encryption, key,
      // master user name and databases are inherited from the source and must not be set.
      const cfn = instance.node.defaultChild as rds.CfnDBInstance;
      cfn.sourceDbInstanceIdentifier = s.restore.source;
      if (s.restore.useLatestRestorableTime) cfn.useLatestRestorableTime = true;
      else cfn.restoreTime = isoSeconds(s.restore.restoreTime!);
      cfn.masterUsername = undefined;
      cfn.dbName = undefined;
      cfn.kmsKeyId = undefined;
      cfn.storageEncrypted = undefined;
    }
    return instance;
  }

  /**
   * Single-user hosted rotation: Secrets Manager runs its PostgreSQL rotation function in the
   * VPC's private subnets (it reaches the Secrets Manager API through NAT or an interface
   * endpoint) with its own security group, the only other source the database admits.
   */
  private addRotation(schedule: Duration): void {
    const vpc = this.cluster.vpc;
    const rotationSg = new ec2.SecurityGroup(this, 'RotationSecurityGroup', {
      vpc,
      description: 'Fx database: password rotation function (database and Secrets Manager API only)',
      allowAllOutbound: false,
    });
    rotationSg.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'Secrets Manager API (HTTPS)');
    rotationSg.connections.allowTo(this.securityGroup, ec2.Port.tcp(this.databasePort), 'Password rotation');
    new secretsmanager.RotationSchedule(this, 'Rotation', {
      secret: this.credentialsSecret,
      automaticallyAfter: schedule,
      hostedRotation: secretsmanager.HostedRotation.postgreSqlSingleUser({
        vpc,
        vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        securityGroups: [rotationSg],
        excludeCharacters: PASSWORD_EXCLUDE,
      }),
    });
  }

  private createReplicas(s: Settings, common: rds.DatabaseInstanceNewProps, source: rds.IDatabaseInstance, key: kms.IKey): rds.IDatabaseInstance[] {
    const replicas: rds.IDatabaseInstance[] = [];
    for (let i = 1; i <= s.replicas; i++) {
      const identifier = `${s.identifier.slice(0, 63 - `-replica${i}`.length).replace(/-+$/, '')}-replica${i}`;
      const groups = this.createLogGroups(`Replica${i}`, identifier, key, s.logRetention);
      const replica = new rds.DatabaseInstanceReadReplica(this, `Replica${i}`, {
        ...common,
        sourceDatabaseInstance: source,
        instanceType: s.replicaInstanceType,
        instanceIdentifier: identifier,
        // Same region: the replica is encrypted like its source (the restored source keeps its own key).
        storageEncryptionKey: s.restore ? undefined : key,
        // Replicas hold no data of their own: their removal needs no snapshot.
        removalPolicy: RemovalPolicy.DESTROY,
      });
      // cdk-nag and drift detection read the engine; CloudFormation accepts it on a replica.
      (replica.node.defaultChild as rds.CfnDBInstance).engine = 'postgres';
      Object.values(groups).forEach((group) => replica.node.addDependency(group));
      replicas.push(replica);
    }
    return replicas;
  }

  private createBackupPlan(instance: rds.IDatabaseInstance, s: Settings, copyVault: backup.IBackupVault | undefined): backup.BackupPlan {
    const copy = (deleteAfter: Duration): backup.BackupPlanCopyActionProps[] | undefined =>
      copyVault ? [{ destinationBackupVault: copyVault, deleteAfter }] : undefined;
    // After the automated backup window (03:00-04:00 by default) and outside maintenance.
    const plan = new backup.BackupPlan(this, 'BackupPlan', {
      backupPlanName: `${s.identifier.slice(0, 43).replace(/-+$/, '')}-backup`,
      backupVault: this.backupVault,
      backupPlanRules: [
        new backup.BackupPlanRule({
          ruleName: 'Daily',
          scheduleExpression: events.Schedule.cron({ minute: '0', hour: '5' }),
          startWindow: Duration.hours(1),
          completionWindow: Duration.hours(4),
          deleteAfter: s.dailyRetention,
          copyActions: copy(s.dailyRetention),
        }),
        new backup.BackupPlanRule({
          ruleName: 'Weekly',
          scheduleExpression: events.Schedule.cron({ minute: '0', hour: '5', weekDay: 'SAT' }),
          startWindow: Duration.hours(1),
          completionWindow: Duration.hours(4),
          deleteAfter: s.weeklyRetention,
          copyActions: copy(s.weeklyRetention),
        }),
      ],
    });
    plan.addSelection('Selection', {
      resources: [backup.BackupResource.fromRdsDatabaseInstance(instance)],
    });
    return plan;
  }
}


/** Lets CloudWatch Logs use the key for this account's log groups. */
function allowLogsService(key: kms.Key, scope: Construct): void {
  const stack = Stack.of(scope);
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'AllowCloudWatchLogs',
    principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
    actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:DescribeKey'],
    resources: ['*'],
    conditions: {
      ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:/aws/rds/instance/*` },
    },
  }));
}


function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** `2026-11-20T03:15:00Z`: the format RestoreTime takes. */
function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
