import { Duration, Names, RemovalPolicy, SizeRoundingBehavior, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import { FxDatabaseProps, FxDatabaseRestore, FxDatabaseRestoreType } from './props';
import * as v from './validation';
import { check, checkSizeToken, profileSuffix } from '../core/errors';

const WHO = v.WHO;

/**
 * Resolved settings of an FxDatabase, after defaults and validation.
 * @internal
 */
export interface Settings {
  readonly name: string;
  readonly databaseName: string;
  readonly masterUsername: string;
  readonly identifier: string;
  readonly engine: rds.IInstanceEngine;
  readonly instanceType: ec2.InstanceType;
  readonly multiAz: boolean;
  readonly allocatedGiB: number;
  /** Storage autoscaling limit; undefined: autoscaling off (the default limit would be above RDS's maximum). */
  readonly maxAllocatedGiB?: number;
  readonly port: number;
  readonly backupRetention: Duration;
  readonly backupWindow: string;
  readonly maintenanceWindow: string;
  readonly deletionProtection: boolean;
  readonly removalPolicy: RemovalPolicy;
  readonly logRetention: logs.RetentionDays;
  readonly monitoringInterval: Duration;
  readonly rotationSchedule: Duration;
  readonly dailyRetention: Duration;
  readonly weeklyRetention: Duration;
  readonly replicas: number;
  readonly replicaInstanceType: ec2.InstanceType;
  readonly parameters: { [name: string]: string };
  readonly restore?: FxDatabaseRestore;
}

/**
 * Applies the profile defaults to the props and validates them.
 * @internal
 */
export function resolveSettings(scope: Construct, id: string, props: FxDatabaseProps): Settings {
  const cluster = props.cluster;
  const profile = cluster.profile.settings;

  const name = props.name ?? kebab(id);
  v.validateName(name, props.name === undefined ? 'name (from the construct id)' : 'name');
  const databaseName = props.databaseName ?? 'app';
  v.validateDatabaseName(databaseName);
  // A class instance, not a plain object standing in for one (its type would be read as neither restore).
  check(props.restore === undefined || props.restore instanceof FxDatabaseRestore, WHO, 'restore', props.restore,
    'an FxDatabaseRestore: FxDatabaseRestore.fromSnapshot(), toPointInTime() or toLatestRestorableTime()');
  check(props.removalPolicy === undefined || Object.values(RemovalPolicy).includes(props.removalPolicy), WHO, 'removalPolicy', props.removalPolicy,
    `a RemovalPolicy: ${Object.values(RemovalPolicy).join(', ')}`);
  const masterUsername = props.masterUsername ?? 'fxadmin';
  v.validateMasterUsername(masterUsername);
  const identifier = props.instanceIdentifier ?? defaultIdentifier(scope, cluster.platformName, name);
  v.validateInstanceIdentifier('instanceIdentifier', identifier);

  const engineVersion = props.engineVersion ?? cluster.versions.postgresEngineVersion;
  const major = v.validateEngineVersion(engineVersion);
  const engine = rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.of(engineVersion, major) });
  // A value the user did not set comes from the profile, and the message says so.
  const from = (given: unknown, prop: string) => (given === undefined ? `${prop}${profileSuffix(profile.name)}` : prop);
  const instanceType = props.instanceType ?? profile.databaseInstanceType;
  v.validateInstanceType(from(props.instanceType, 'instanceType'), instanceType);
  const replicaInstanceType = props.readReplicaInstanceType ?? instanceType;
  v.validateInstanceType('readReplicaInstanceType', replicaInstanceType);

  const allocated = props.allocatedStorage ?? profile.databaseAllocatedStorage;
  const maximum = props.maxAllocatedStorage ?? profile.databaseMaxAllocatedStorage;
  const allocatedProp = from(props.allocatedStorage, 'allocatedStorage');
  const maximumProp = from(props.maxAllocatedStorage, 'maxAllocatedStorage');
  // RDS reads both in GiB.
  checkSizeToken(allocated, WHO, allocatedProp, 'gibibytes');
  checkSizeToken(maximum, WHO, maximumProp, 'gibibytes');
  const allocatedGiB = allocated.toGibibytes({ rounding: SizeRoundingBehavior.NONE });
  const givenMaxGiB = maximum.toGibibytes({ rounding: SizeRoundingBehavior.NONE });
  v.validateAllocatedStorage(allocatedGiB, allocatedProp);
  let maxAllocatedGiB: number | undefined = givenMaxGiB;
  if (props.maxAllocatedStorage !== undefined) v.validateMaxStorage(allocatedGiB, givenMaxGiB, maximumProp);
  else maxAllocatedGiB = v.defaultMaxStorage(allocatedGiB, givenMaxGiB, maximumProp);

  const port = props.port ?? 5433;
  v.validatePort(port);
  const backupRetention = props.backupRetention ?? profile.backupRetention;
  v.validateBackupRetention(backupRetention, from(props.backupRetention, 'backupRetention'));
  const backupWindow = props.preferredBackupWindow ?? '03:00-04:00';
  const maintenanceWindow = props.preferredMaintenanceWindow ?? 'sun:06:00-sun:07:00';
  v.validateWindows(backupWindow, maintenanceWindow);
  const monitoringInterval = props.monitoringInterval ?? Duration.seconds(60);
  v.validateMonitoringInterval(monitoringInterval);
  const rotationSchedule = props.rotationSchedule ?? Duration.days(30);
  v.validateRotation(rotationSchedule);
  const dailyRetention = props.dailyBackupRetention ?? profile.backupRetention;
  const weeklyRetention = props.weeklyBackupRetention ?? profile.databaseWeeklyBackupRetention;
  v.validatePlanRetention(dailyRetention, weeklyRetention, from(props.dailyBackupRetention, 'dailyBackupRetention'),
    from(props.weeklyBackupRetention, 'weeklyBackupRetention'));
  const parameters = props.parameters ?? {};
  v.validateParameters(parameters, Number(major));
  v.validateSlowQueryThreshold(props.slowQueryThreshold ?? Duration.seconds(1));
  const logRetention = props.logRetention ?? profile.logRetention;
  v.validateLogRetention(from(props.logRetention, 'logRetention'), logRetention);
  if (props.performanceInsightRetention !== undefined) v.validatePerformanceInsightRetention(props.performanceInsightRetention);
  const replicas = props.readReplicas ?? 0;
  v.validateReplicas(replicas);
  if (props.readReplicaInstanceType !== undefined) {
    check(replicas > 0, 'FxDatabase', 'readReplicaInstanceType', props.readReplicaInstanceType.toString(), 'set only with readReplicas of 1 or more (there is no replica to size)');
  }

  const deletionProtection = props.deletionProtection ?? true;
  check(!(profile.databaseRequireExplicitRemoval && !deletionProtection && props.removalPolicy === undefined), WHO, 'deletionProtection', false,
    `false in ${profile.name} only together with an explicit removalPolicy (the database is kept unless you say otherwise)`);
  const restore = props.restore;
  if (restore?.type === FxDatabaseRestoreType.SNAPSHOT) v.validateSnapshotIdentifier(restore.source);
  if (restore?.type === FxDatabaseRestoreType.POINT_IN_TIME) {
    v.validateInstanceIdentifier('restore.sourceInstanceIdentifier', restore.source);
    check(restore.source !== identifier, WHO, 'restore.sourceInstanceIdentifier', restore.source,
      `an instance other than this database's own (${identifier}): restore into a new FxDatabase`);
    if (!restore.useLatestRestorableTime) v.validateRestoreTime(restore.restoreTime!, new Date());
  }

  return {
    name,
    databaseName,
    masterUsername,
    identifier,
    engine,
    instanceType,
    replicaInstanceType,
    multiAz: props.multiAz ?? profile.databaseMultiAz,
    allocatedGiB,
    maxAllocatedGiB,
    port,
    backupRetention,
    backupWindow,
    maintenanceWindow,
    deletionProtection,
    removalPolicy: props.removalPolicy ?? RemovalPolicy.SNAPSHOT,
    logRetention,
    monitoringInterval,
    rotationSchedule,
    dailyRetention,
    weeklyRetention,
    replicas,
    parameters,
    restore,
  };
}

/**
 * Isolated subnets when the VPC has them (the platform VPC always does). An imported VPC without
 * isolated subnets gets its private subnets: the instance is still not publicly accessible and
 * admits only the cluster, but its route table has a default route through NAT.
 * @internal
 */
export function selectDatabaseSubnets(vpc: ec2.IVpc): ec2.SubnetSelection {
  return vpc.isolatedSubnets.length > 0
    ? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED }
    : { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
}

/** @internal */
export function subnetCidrs(vpc: ec2.IVpc, selection: ec2.SubnetSelection): string[] {
  try {
    return vpc.selectSubnets(selection).subnets.map((subnet) => subnet.ipv4CidrBlock);
  } catch {
    // Imported subnets without CIDRs: the whole VPC.
    return [vpc.vpcCidrBlock];
  }
}

function defaultIdentifier(scope: Construct, platformName: string, name: string): string {
  const platform = Token.isUnresolved(platformName)
    ? Names.uniqueResourceName(scope, { maxLength: 40, separator: '-' })
    : platformName;
  let prefix = platform.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/-+/g, '-').replace(/^[^a-z]+/, '');
  prefix = prefix.slice(0, 62 - name.length).replace(/-+$/, '');
  return prefix ? `${prefix}-${name}` : name;
}

function kebab(id: string): string {
  return id.replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/[^A-Za-z0-9-]/g, '-').toLowerCase();
}
