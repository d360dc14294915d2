import { Duration, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { PG_SETTING_UNITS, PG_SETTINGS, PgSetting } from './pg-settings.generated';
import { check, checkDurationToken, checkKnownAtSynth, editDistance, FxValidationError, isUnresolved, tokenDescription } from '../core/errors';
import { instanceTypeProblem } from '../core/instance-types';
import { FxVersions } from '../core/versions';

/** Construct name in error messages. */
export const WHO = 'FxDatabase';

/** Lowercase PostgreSQL identifier, as RDS accepts it for DBName and MasterUsername. */
const IDENTIFIER = /^[a-z][a-z0-9_]{0,62}$/;

// PostgreSQL's reserved key words (SQL Key Words appendix, "reserved" and "reserved (can be function
// or type)") plus the names RDS keeps for itself.
const RESERVED = new Set([
  'all', 'analyse', 'analyze', 'and', 'any', 'array', 'as', 'asc', 'asymmetric', 'authorization', 'binary', 'both',
  'case', 'cast', 'check', 'collate', 'collation', 'column', 'concurrently', 'constraint', 'create', 'cross',
  'current_catalog', 'current_date', 'current_role', 'current_schema', 'current_time', 'current_timestamp',
  'current_user', 'default', 'deferrable', 'desc', 'distinct', 'do', 'else', 'end', 'except', 'false', 'fetch',
  'for', 'foreign', 'freeze', 'from', 'full', 'grant', 'group', 'having', 'ilike', 'in', 'initially', 'inner',
  'intersect', 'into', 'is', 'isnull', 'join', 'lateral', 'leading', 'left', 'like', 'limit', 'localtime',
  'localtimestamp', 'natural', 'not', 'notnull', 'null', 'offset', 'on', 'only', 'or', 'order', 'outer', 'overlaps',
  'placing', 'primary', 'references', 'returning', 'right', 'select', 'session_user', 'similar', 'some', 'symmetric',
  'system_user', 'table', 'tablesample', 'then', 'to', 'trailing', 'true', 'union', 'unique', 'user', 'using',
  'variadic', 'verbose', 'when', 'where', 'window', 'with',
]);
const SYSTEM_DATABASES = new Set(['postgres', 'template0', 'template1', 'rdsadmin']);
// `public` and `none`: names PostgreSQL refuses for any role ("role name is reserved").
const SYSTEM_USERS = new Set(['postgres', 'rdsadmin', 'rdsrepladmin', 'rds_superuser', 'rds_iam', 'rds_replication', 'public', 'none']);

/** Instance families RDS for PostgreSQL offers as single-instance or Multi-AZ instance deployments. */
const POSTGRES_FAMILIES = new Set([
  't3', 't4g',
  'm5', 'm5d', 'm6g', 'm6gd', 'm6i', 'm6id', 'm6idn', 'm6in', 'm7g', 'm7i', 'm8g',
  'r5', 'r5b', 'r5d', 'r6g', 'r6gd', 'r6i', 'r6id', 'r6idn', 'r6in', 'r7g', 'r7i', 'r8g',
  'x2g', 'x2idn', 'x2iedn',
]);
const BURSTABLE_SIZES = new Set(['micro', 'small', 'medium', 'large', 'xlarge', '2xlarge']);
/**
 * The sizes of each non-burstable family RDS for PostgreSQL offers as DB instances (from the RDS
 * user guide's "Supported DB engines for DB instance classes"). Not EC2's: no metal sizes, no
 * medium, and x2idn and x2iedn start above large. r6idn keeps large, which RDS offers for other engines.
 */
const RDS_SIZES: [families: string, sizes: string][] = [
  ['m6g m6gd m7g r6g r6gd r7g x2g', 'large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge'],
  ['m5 m5d r5 r5b r5d', 'large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge'],
  ['m6i m6id m6idn m6in r6i r6id r6idn r6in', 'large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge'],
  ['m7i r7i m8g r8g', 'large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge'],
  ['x2idn', '16xlarge 24xlarge 32xlarge'],
  ['x2iedn', 'xlarge 2xlarge 4xlarge 8xlarge 16xlarge 24xlarge 32xlarge'],
];
const SIZES_OF: Record<string, string[]> = Object.fromEntries(
  RDS_SIZES.flatMap(([families, sizes]) => families.split(' ').map((family) => [family, sizes.split(' ')])));
const SMALL_SIZES = new Set(['nano', 'micro', 'small', 'medium', 'metal']);

const MONITORING_INTERVALS = [1, 5, 10, 15, 30, 60];
const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const BACKUP_WINDOW = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$/;
const MAINTENANCE_WINDOW = /^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)$/;
const RDS_IDENTIFIER = /^[a-z](?!.*--)[a-z0-9-]{0,62}$/;
const SNAPSHOT_ID = /^(arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:snapshot:)?((rds|awsbackup):)?[A-Za-z][A-Za-z0-9-]{0,254}$/;
const NAME = /^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$/;
const GIB_MIN = 20;
const GIB_MAX = 65536;

/** A database name RDS and PostgreSQL accept unquoted. */
export function validateDatabaseName(name: string): void {
  check(IDENTIFIER.test(name), WHO, 'databaseName', name,
    'a PostgreSQL identifier: lowercase letters, digits and _, starting with a letter, at most 63 characters');
  check(!RESERVED.has(name) && !SYSTEM_DATABASES.has(name), WHO, 'databaseName', name,
    'a name that is not a PostgreSQL reserved word or system database (postgres, template0, template1, rdsadmin)');
}

/** A master user name RDS accepts. */
export function validateMasterUsername(name: string): void {
  check(IDENTIFIER.test(name), WHO, 'masterUsername', name,
    'lowercase letters, digits and _, starting with a letter, at most 63 characters');
  check(!RESERVED.has(name) && !SYSTEM_USERS.has(name) && !name.startsWith('pg_') && !name.startsWith('rds'), WHO, 'masterUsername', name,
    'a name that is not a PostgreSQL reserved word, a built-in role, or starting with pg_ or rds');
}

/** Short name of the database within the platform. */
export function validateName(name: string, prop = 'name'): void {
  check(NAME.test(name), WHO, prop, name,
    'lowercase letters, digits and -, starting with a letter, not ending with -, at most 40 characters');
}

/** An RDS DB instance identifier. */
export function validateInstanceIdentifier(prop: string, id: string): void {
  check(RDS_IDENTIFIER.test(id) && !id.endsWith('-'), WHO, prop, id,
    '1 to 63 lowercase letters, digits and -, starting with a letter, no -- and no trailing -');
}

/** The engine version must be one the versions table pins; returns the major version. */
export function validateEngineVersion(version: string): string {
  checkKnownAtSynth(version, WHO, 'engineVersion', 'the parameter group family and the settings checked are chosen from it');
  const known = [...new Set(FxVersions.SUPPORTED_KUBERNETES_VERSIONS.map((k) => FxVersions.forKubernetes(k).postgresEngineVersion))];
  check(known.includes(version), WHO, 'engineVersion', version, `a PostgreSQL version of the versions table: ${known.join(', ')}`);
  return version.split('.')[0];
}

/** An instance class RDS for PostgreSQL offers. */
export function validateInstanceType(prop: string, instanceType: ec2.InstanceType): void {
  // A plain object in place of the class (from JavaScript or a cast) would be read as '[object Object]'.
  check(typeof (instanceType as { sameInstanceClassAs?: unknown } | undefined)?.sameInstanceClassAs === 'function', WHO, prop, instanceType,
    "an ec2.InstanceType such as new ec2.InstanceType('m7g.large')");
  const name = instanceType.toString();
  if (Token.isUnresolved(name)) return;
  check(!name.startsWith('db.'), WHO, prop, name, `the class without the 'db.' prefix (ec2.InstanceType '${name.slice(3)}'): aws-cdk-lib adds it`);
  const problem = instanceTypeProblem(`db.${name}`, 'db.');
  check(problem === undefined, WHO, prop, name, `an RDS instance class that exists: ${problem}`);
  const [family, size] = name.split('.');
  const burstable = family.startsWith('t');
  const offered = POSTGRES_FAMILIES.has(family) && size !== undefined
    && (burstable ? BURSTABLE_SIZES.has(size) : !SMALL_SIZES.has(size));
  check(offered, WHO, prop, name,
    'an instance class RDS for PostgreSQL offers: t3/t4g (micro to 2xlarge) or large and up of '
    + 'm5, m5d, m6g, m6gd, m6i, m6id, m6idn, m6in, m7g, m7i, m8g, r5, r5b, r5d, r6g, r6gd, r6i, r6id, r6idn, r6in, r7g, r7i, r8g, x2g, x2idn, x2iedn');
  const sizes = SIZES_OF[family];
  if (sizes !== undefined) {
    check(sizes.includes(size), WHO, prop, name,
      `a size the ${family} family has: ${sizes[0]} to ${sizes[sizes.length - 1]} (${sizes.join(', ')}; RDS has no metal sizes)`);
  }
}

/** The storage autoscaling limit RDS accepts for `allocated` GiB: 10% above it at least, rounded up. */
function autoscalingMinimum(allocated: number): number {
  return Math.ceil((allocated * 11) / 10);
}

/** Allocated storage in GiB (a deploy-time value passes). */
export function validateAllocatedStorage(allocated: number, allocatedProp = 'allocatedStorage'): void {
  check(Number.isInteger(allocated) && allocated >= GIB_MIN && allocated <= GIB_MAX, WHO, allocatedProp, `${allocated} GiB`,
    `${GIB_MIN} to ${GIB_MAX} GiB of gp3 storage`);
}

/** A storage autoscaling limit in GiB the user gave for `allocated` GiB. */
export function validateMaxStorage(allocated: number, maximum: number, maximumProp = 'maxAllocatedStorage'): void {
  check(Number.isInteger(maximum) && maximum <= GIB_MAX, WHO, maximumProp, `${maximum} GiB`, `a whole number of GiB, at most ${GIB_MAX} GiB`);
  // Compared only with a value known at synth.
  if (Token.isUnresolved(allocated) || Token.isUnresolved(maximum)) return;
  // RDS refuses a maximum storage threshold less than 10% above the allocated storage.
  const step = autoscalingMinimum(allocated);
  check(step <= GIB_MAX, WHO, maximumProp, `${maximum} GiB`,
    `no value with allocatedStorage ${allocated} GiB: RDS needs 10% above it (${step} GiB), more than its ${GIB_MAX} GiB; leave maxAllocatedStorage unset (storage autoscaling is then off)`);
  check(maximum >= step, WHO, maximumProp, `${maximum} GiB`,
    `at least 10% above allocatedStorage (${allocated} GiB), i.e. ${step} GiB or more (RDS storage autoscaling's minimum)`);
}

/**
 * The default storage autoscaling limit: the profile's, or 10% above `allocated` when that is more;
 * none (autoscaling off) when even that is above RDS's maximum storage.
 */
export function defaultMaxStorage(allocated: number, profileMaximum: number, maximumProp: string): number | undefined {
  check(Number.isInteger(profileMaximum) && profileMaximum <= GIB_MAX, WHO, maximumProp, `${profileMaximum} GiB`, `a whole number of GiB, at most ${GIB_MAX} GiB`);
  if (Token.isUnresolved(allocated)) return profileMaximum;
  const maximum = Math.max(profileMaximum, autoscalingMinimum(allocated));
  return maximum <= GIB_MAX ? maximum : undefined;
}

const LOG_RETENTION_VALUES = (Object.values(logs.RetentionDays).filter((r) => typeof r === 'number') as number[]).sort((a, b) => a - b);

/** CloudWatch Logs retention of the exported PostgreSQL logs. */
export function validateLogRetention(prop: string, retention: logs.RetentionDays): void {
  check(LOG_RETENTION_VALUES.includes(retention), WHO, prop, retention,
    `a retention CloudWatch Logs supports (logs.RetentionDays): ${LOG_RETENTION_VALUES.join(', ')} days`);
}

/** Performance Insights keeps 7 days, 1 to 23 months of 31 days, or 731 days. */
const PI_RETENTION_VALUES = [7, ...Array.from({ length: 23 }, (_, i) => 31 * (i + 1)), 731];

/** Performance Insights retention (days). */
export function validatePerformanceInsightRetention(days: number): void {
  check(PI_RETENTION_VALUES.includes(days), WHO, 'performanceInsightRetention', days,
    '7, a multiple of 31 up to 713 (1 to 23 months), or 731 days (rds.PerformanceInsightRetention)');
}

/** PostgreSQL `int` settings (milliseconds) hold at most 2^31 - 1. */
const PG_INT_MAX = 2 ** 31 - 1;

/** The slow-query threshold, written to `log_min_duration_statement` in milliseconds. */
export function validateSlowQueryThreshold(threshold: Duration): void {
  if (threshold.isUnresolved()) {
    try {
      threshold.toMilliseconds();
    } catch {
      throw new FxValidationError(WHO, 'slowQueryThreshold', tokenDescription(threshold),
        'a deploy-time value only as Duration.millis(<token>): log_min_duration_statement is in milliseconds');
    }
    return;
  }
  const ms = threshold.toMilliseconds({ integral: false });
  check(Number.isInteger(ms) && ms >= 0 && ms <= PG_INT_MAX, WHO, 'slowQueryThreshold', `${ms} ms`,
    `a whole number of milliseconds from 0 to ${PG_INT_MAX} (log_min_duration_statement is a PostgreSQL int)`);
}

/** Automated backup retention. */
export function validateBackupRetention(retention: Duration, prop = 'backupRetention'): void {
  checkDurationToken(retention, WHO, prop, 'days');
  const days = retention.toDays({ integral: false });
  // Whole days as days; anything else as given (Duration.hours(36)), which RDS would round silently.
  check(Number.isInteger(days) && days >= 1 && days <= 35, WHO, prop, Number.isInteger(days) ? `${days} days` : retention.toString(),
    '1 to 35 days, in whole days');
}

/** AWS Backup retention of the daily and weekly rules. */
export function validatePlanRetention(daily: Duration, weekly: Duration, dailyProp = 'dailyBackupRetention', weeklyProp = 'weeklyBackupRetention'): void {
  checkDurationToken(daily, WHO, dailyProp, 'days');
  checkDurationToken(weekly, WHO, weeklyProp, 'days');
  const d = daily.toDays({ integral: false });
  const w = weekly.toDays({ integral: false });
  check(Number.isInteger(d) && d >= 1, WHO, dailyProp, daysAsGiven(daily), 'a whole number of days, at least 1');
  // Compared with the daily retention only when that is known at synth.
  check(Number.isInteger(w) && (Token.isUnresolved(d) || w >= d) && w >= 1, WHO, weeklyProp, daysAsGiven(weekly),
    Token.isUnresolved(d) ? 'a whole number of days, at least 1' : `a whole number of days, at least dailyBackupRetention (${d} days)`);
}

/** A duration for a message: `<n> days` when whole days, otherwise as given (`5 hours`, not `0.2083 days`). */
function daysAsGiven(duration: Duration): string {
  const d = duration.toDays({ integral: false });
  return Number.isInteger(d) || Token.isUnresolved(d) ? `${d} days` : duration.toHumanString();
}

/** TCP port RDS for PostgreSQL accepts. */
export function validatePort(port: number): void {
  check(Number.isInteger(port) && port >= 1150 && port <= 65535, WHO, 'port', port, 'an integer from 1150 to 65535');
}

/** Backup and maintenance windows: format, length, and no overlap. */
export function validateWindows(backupWindow: string, maintenanceWindow: string): void {
  const b = BACKUP_WINDOW.exec(backupWindow);
  check(b !== null, WHO, 'preferredBackupWindow', backupWindow, 'a daily UTC window hh24:mi-hh24:mi such as 03:00-04:00');
  const m = MAINTENANCE_WINDOW.exec(maintenanceWindow);
  check(m !== null, WHO, 'preferredMaintenanceWindow', maintenanceWindow, 'a weekly UTC window ddd:hh24:mi-ddd:hh24:mi such as sun:06:00-sun:07:00');
  if (!b || !m) return;
  const bStart = Number(b[1]) * 60 + Number(b[2]);
  const bLength = mod(Number(b[3]) * 60 + Number(b[4]) - bStart, 1440);
  check(bLength >= 30, WHO, 'preferredBackupWindow', backupWindow, 'a window of at least 30 minutes');
  const week = 7 * 1440;
  const mStart = DAYS.indexOf(m[1]) * 1440 + Number(m[2]) * 60 + Number(m[3]);
  const mLength = mod(DAYS.indexOf(m[4]) * 1440 + Number(m[5]) * 60 + Number(m[6]) - mStart, week);
  check(mLength >= 30, WHO, 'preferredMaintenanceWindow', maintenanceWindow, 'a window of at least 30 minutes');
  for (let day = 0; day < 7; day++) {
    const start = day * 1440 + bStart;
    check(!overlaps(start, bLength, mStart, mLength, week), WHO, 'preferredMaintenanceWindow', maintenanceWindow,
      `a window that does not overlap the backup window ${backupWindow}`);
  }
}

/** Enhanced monitoring interval. */
export function validateMonitoringInterval(interval: Duration): void {
  checkDurationToken(interval, WHO, 'monitoringInterval', 'seconds');
  const seconds = interval.toSeconds({ integral: false });
  check(MONITORING_INTERVALS.includes(seconds), WHO, 'monitoringInterval', `${seconds} seconds`, `one of ${MONITORING_INTERVALS.join(', ')} seconds`);
}

/**
 * A rotation period must be known at synth: aws-cdk-lib's RotationSchedule converts it into a
 * schedule expression of days, which a deploy-time value cannot be.
 */
export function checkLiteralRotation(schedule: Duration, who: string = WHO): void {
  if (schedule.isUnresolved()) {
    throw new FxValidationError(who, 'rotationSchedule', tokenDescription(schedule),
      "a duration known at synth such as Duration.days(30) (Secrets Manager's schedule expression is written at synth)");
  }
}

/**
 * A password rotation period Secrets Manager takes: every 4 hours to every 1000 days, in whole hours
 * (written as `rate(<n> days)`, or `rate(<n> hours)` when not whole days).
 */
export function validateRotationPeriod(schedule: Duration, who: string = WHO): void {
  checkLiteralRotation(schedule, who);
  const hours = schedule.toHours({ integral: false });
  check(Number.isInteger(hours) && hours >= 4 && hours <= 1000 * 24, who, 'rotationSchedule', schedule.toHumanString(),
    'whole hours from 4 hours to 1000 days (Secrets Manager rotation)');
}

/** Master password rotation period. */
export function validateRotation(schedule: Duration): void {
  validateRotationPeriod(schedule);
}

/**
 * PostgreSQL settings removed from the server (major version that no longer has them, and what replaced
 * them, from the PostgreSQL release notes): RDS refuses them in a parameter group of that version.
 */
const REMOVED_PARAMETERS: Record<string, [number, string]> = {
  checkpoint_segments: [10, 'max_wal_size'],
  replacement_sort_tuples: [11, 'nothing (removed)'],
  default_with_oids: [12, 'nothing (tables have no OIDs)'],
  wal_keep_segments: [13, 'wal_keep_size'],
  operator_precedence_warning: [14, 'nothing (removed)'],
  vacuum_cleanup_index_scale_factor: [14, 'nothing (removed)'],
  stats_temp_directory: [15, 'nothing (statistics live in shared memory)'],
  force_parallel_mode: [16, 'debug_parallel_query'],
  vacuum_defer_cleanup_age: [16, 'hot_standby_feedback or replication slots'],
  promote_trigger_file: [16, 'pg_ctl promote or pg_promote()'],
  old_snapshot_threshold: [17, 'nothing (removed)'],
  db_user_namespace: [17, 'nothing (removed)'],
  trace_recovery_messages: [17, 'nothing (removed)'],
};
/** Settings the construct sets itself from other props: a value in `parameters` would be silently overridden. */
const OWNED_PARAMETERS: Record<string, string> = { log_min_duration_statement: 'slowQueryThreshold' };
/**
 * Settings RDS fixes for every instance (not modifiable in a DB parameter group): where the server
 * listens, and the files and directories of its data and configuration. The port is the instance's.
 */
const FIXED_BY_RDS: Record<string, string> = {
  port: 'RDS sets it from the instance\'s port (the port prop)',
  listen_addresses: 'RDS fixes where the server listens',
  unix_socket_directories: 'RDS fixes where the server listens',
  data_directory: 'RDS fixes the server\'s files and directories',
  config_file: 'RDS fixes the server\'s files and directories',
  hba_file: 'RDS fixes the server\'s files and directories',
  ident_file: 'RDS fixes the server\'s files and directories',
  external_pid_file: 'RDS fixes the server\'s files and directories',
};
/** Values of a boolean setting that turn it on. */
const BOOLEAN_ON = /^(on|true|yes|1)$/i;
/** A PostgreSQL setting name: lowercase words, optionally prefixed by an extension or `rds.` namespace. */
const PARAMETER_NAME = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/;

/** Extra parameters may add settings but not weaken the ones the construct enforces. */
export function validateParameters(parameters: { [name: string]: string }, major?: number): void {
  const forceSsl = parameters['rds.force_ssl'];
  if (forceSsl !== undefined) {
    check(forceSsl === '1', WHO, "parameters['rds.force_ssl']", forceSsl, "'1' (TLS is required for every connection)");
  }
  for (const [name, value] of Object.entries(parameters)) {
    // A key of the parameter group's Parameters map: CloudFormation needs it as a literal string.
    checkKnownAtSynth(name, WHO, 'parameters', 'each name is a key of the parameter group, written at synth (its value may be a deploy-time value)');
    check(PARAMETER_NAME.test(name), WHO, 'parameters', name,
      'PostgreSQL setting names: lowercase letters, digits and _, optionally <extension>. or rds. first (e.g. work_mem, pg_stat_statements.track)');
    const removed = REMOVED_PARAMETERS[name];
    if (removed && major !== undefined) {
      check(major < removed[0], WHO, 'parameters', name, `settings PostgreSQL ${major} knows: ${name} was removed in ${removed[0]}; use ${removed[1]}`);
    }
    check(Token.isUnresolved(value) || String(value).trim() !== '', WHO, `parameters['${name}']`, value,
      'a non-empty value (RDS refuses an empty parameter value; leave the setting out for its default)');
    check(Token.isUnresolved(value) || !/^\s|\s$/.test(String(value)), WHO, `parameters['${name}']`, value,
      'a value without leading or trailing whitespace or line breaks (the parameter group keeps them, and the server reads them as part of the value)');
    const fixed = FIXED_BY_RDS[name];
    if (fixed) throw new FxValidationError(WHO, `parameters['${name}']`, shown(value), `no value here: ${fixed}`);
    if (name === 'shared_preload_libraries') checkPreloadLibraries(value);
    if (name === 'ssl') {
      check(Token.isUnresolved(value) || BOOLEAN_ON.test(String(value)), WHO, "parameters['ssl']", value, "on or '1' (TLS is required for every connection)");
    }
    const known = major === undefined ? undefined : PG_SETTINGS[String(major)];
    // RDS settings (`rds.force_ssl`) are not in the server's list; the contrib modules' are (the newest
    // major's when the version is not known).
    if (name.includes('.')) checkExtensionSetting(name, value, major ?? NEWEST_MAJOR);
    else if (known) checkServerSetting(name, value, major!, known);
    const owner = OWNED_PARAMETERS[name];
    if (owner) throw new FxValidationError(WHO, `parameters['${name}']`, shown(value), `no value here: the construct sets it from ${owner}`);
  }
}

/** A value for a message that refuses the setting whatever its value: a deploy-time value is not printed as a token. */
function shown(value: string): string {
  return isUnresolved(value) ? '(a deploy-time token)' : value;
}

/** Settings the server fixes at build or initdb time: a parameter group cannot set them. */
const READ_ONLY_CONTEXTS = new Set(['internal']);
const BOOLEAN_VALUES = /^(on|off|true|false|yes|no|1|0)$/i;
/** A number as PostgreSQL reads it, optionally with a memory or time unit. */
const NUMBER_VALUE = /^(-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)\s*(B|kB|MB|GB|TB|us|ms|s|min|h|d)?$/;
/** An RDS parameter formula such as {DBInstanceClassMemory/32768} or GREATEST(...). */
/** The newest PostgreSQL major with settings data. */
const NEWEST_MAJOR = Math.max(...Object.keys(PG_SETTINGS).map(Number));
const RDS_FORMULA = /^\s*(\{.*\}|(GREATEST|LEAST|SUM)\s*\(.*\))\s*$/i;

/** Memory units in bytes, time units in microseconds (PostgreSQL's, case-sensitive). */
const MEMORY_UNITS: Record<string, number> = { 'B': 1, 'kB': 1024, '8kB': 8192, 'MB': 1024 ** 2, 'GB': 1024 ** 3, 'TB': 1024 ** 4 };
const TIME_UNITS: Record<string, number> = { us: 1, ms: 1000, s: 1e6, min: 60e6, h: 3600e6, d: 86400e6 };

/**
 * Namespaces of the extension settings an RDS for PostgreSQL parameter group has, besides `rds.`:
 * pg_stat_statements, auto_explain, pgaudit, pg_hint_plan, pglogical, pg_cron (`cron.`),
 * pg_partman's background worker, pg_prewarm, pg_transport, pg_tle, query plan management
 * (`apg_plan_mgmt.`, with `rds.enable_plan_management`), pg_bigm and pg_similarity.
 */
const EXTENSION_PREFIXES = ['rds', 'pg_stat_statements', 'auto_explain', 'pgaudit', 'pg_hint_plan', 'pglogical', 'cron',
  'pg_partman_bgw', 'pg_prewarm', 'pg_transport', 'pgtle', 'apg_plan_mgmt', 'pg_bigm', 'pg_similarity'];

/** An extension or RDS setting: a namespace RDS has, and for the contrib modules a setting they have. */
function checkExtensionSetting(name: string, value: string, major: number): void {
  const prefix = name.split('.')[0];
  const near = EXTENSION_PREFIXES.includes(prefix) ? undefined : closest(prefix, EXTENSION_PREFIXES);
  check(EXTENSION_PREFIXES.includes(prefix), WHO, 'parameters', name,
    `a server setting, or a setting of rds. or of an extension RDS configures by parameter (${EXTENSION_PREFIXES.map((p) => `${p}.`).join(', ')})`
    + (near ? `; did you mean ${near}.?` : ''));
  if (prefix === 'pgaudit') {
    checkPgauditSetting(name, value);
    return;
  }
  if (prefix !== 'pg_stat_statements' && prefix !== 'auto_explain') return;
  const known = PG_SETTINGS[String(major)] ?? {};
  const setting = known[name];
  if (setting === undefined) {
    const names = Object.keys(known).filter((n) => n.startsWith(`${prefix}.`));
    const suggestion = closest(name, names);
    throw new FxValidationError(WHO, 'parameters', name,
      `a setting ${prefix} has: ${names.join(', ')}${suggestion ? `; did you mean ${suggestion}?` : ''}`);
  }
  checkValue(name, value, setting, major);
}

/** The settings of pgaudit (1.7 and later) and the kind of value each takes. */
const PGAUDIT_SETTINGS: Record<string, 'classes' | 'bool' | 'level' | 'integer' | 'string'> = {
  'pgaudit.log': 'classes',
  'pgaudit.log_catalog': 'bool',
  'pgaudit.log_client': 'bool',
  'pgaudit.log_level': 'level',
  'pgaudit.log_parameter': 'bool',
  'pgaudit.log_parameter_max_size': 'integer',
  'pgaudit.log_relation': 'bool',
  'pgaudit.log_rows': 'bool',
  'pgaudit.log_statement': 'bool',
  'pgaudit.log_statement_once': 'bool',
  'pgaudit.role': 'string',
};
/** The statement classes of `pgaudit.log`, each optionally excluded with a leading `-`. */
const PGAUDIT_CLASSES = ['read', 'write', 'function', 'role', 'ddl', 'misc', 'misc_set', 'all', 'none'];
/** The levels of `pgaudit.log_level`: pgaudit refuses error, fatal and panic. */
const PGAUDIT_LEVELS = ['debug5', 'debug4', 'debug3', 'debug2', 'debug1', 'info', 'notice', 'warning', 'log'];

/** A pgaudit setting pgaudit has, with a value it accepts (names and values case-insensitive, as pgaudit reads them). */
function checkPgauditSetting(name: string, value: string): void {
  const kind = PGAUDIT_SETTINGS[name];
  if (kind === undefined) {
    const names = Object.keys(PGAUDIT_SETTINGS);
    const suggestion = closest(name, names);
    throw new FxValidationError(WHO, 'parameters', name, `a setting pgaudit has: ${names.join(', ')}${suggestion ? `; did you mean ${suggestion}?` : ''}`);
  }
  if (Token.isUnresolved(value)) return;
  const text = String(value).trim().toLowerCase();
  const prop = `parameters['${name}']`;
  if (kind === 'classes') {
    const classes = text.split(',').map((c) => c.trim().replace(/^-/, ''));
    check(classes.every((c) => PGAUDIT_CLASSES.includes(c)), WHO, prop, value,
      `a comma-separated list of pgaudit classes (${PGAUDIT_CLASSES.join(', ')}), each optionally excluded with a leading - (e.g. 'all, -misc')`);
  } else if (kind === 'bool') {
    check(BOOLEAN_VALUES.test(text), WHO, prop, value, 'a boolean: 1 or 0 (on, off, true, false)');
  } else if (kind === 'level') {
    check(PGAUDIT_LEVELS.includes(text), WHO, prop, value, `one of ${PGAUDIT_LEVELS.join(', ')} (pgaudit refuses error, fatal and panic)`);
  } else if (kind === 'integer') {
    check(/^\d+$/.test(text) && Number(text) <= PG_INT_MAX, WHO, prop, value, `a whole number from 0 to ${PG_INT_MAX} (bytes; 0 logs every parameter whole)`);
  }
}

/**
 * The libraries RDS for PostgreSQL lets `shared_preload_libraries` load (the parameter's allowed
 * values in RDS, across the supported versions; a newer version may lack some).
 */
const RDS_PRELOAD_LIBRARIES = ['auto_explain', 'orafce', 'pgaudit', 'pglogical', 'pg_bigm', 'pg_cron', 'pg_hint_plan', 'pg_overexplain',
  'pg_prewarm', 'pg_similarity', 'pg_stat_monitor', 'pg_stat_statements', 'pg_tle', 'pg_transport', 'plprofiler', 'plrust'];

/** `shared_preload_libraries`: a comma-separated list of libraries RDS preloads (whitespace between entries ignored). */
function checkPreloadLibraries(value: string): void {
  if (Token.isUnresolved(value)) return;
  const unknown = String(value).split(',').map((l) => l.trim()).filter((l) => !RDS_PRELOAD_LIBRARIES.includes(l));
  const near = unknown.length > 0 ? closest(unknown[0], RDS_PRELOAD_LIBRARIES) : undefined;
  check(unknown.length === 0, WHO, "parameters['shared_preload_libraries']", value,
    `a comma-separated list of libraries RDS for PostgreSQL preloads: ${RDS_PRELOAD_LIBRARIES.join(', ')}`
    + `${near ? ` (${unknown[0]}: did you mean ${near}?)` : ` (not ${unknown.map((l) => `'${l}'`).join(', ')})`}`);
}

/** A core server setting of PostgreSQL `major` (pg_settings of that version), and a value it can take. */
function checkServerSetting(name: string, value: string, major: number, known: Record<string, PgSetting>): void {
  const setting = known[name] ?? Object.entries(known).find(([n]) => n.toLowerCase() === name)?.[1];
  if (setting === undefined) {
    const near = closest(name, Object.keys(known).map((n) => n.toLowerCase()));
    throw new FxValidationError(WHO, 'parameters', name,
      `a setting PostgreSQL ${major} has (pg_settings)${near ? `; did you mean ${near}?` : ''}, or an <extension>. or rds. setting`);
  }
  check(!READ_ONLY_CONTEXTS.has(setting[0]), WHO, 'parameters', name, `a setting that can be changed: ${name} is fixed when PostgreSQL is built`);
  checkValue(name, value, setting, major);
}

/** A value a setting of this type, range and unit takes. */
function checkValue(name: string, value: string, [, type, min, max, enumvals]: PgSetting, major: number): void {
  if (Token.isUnresolved(value)) return;
  const text = String(value).trim();
  const prop = `parameters['${name}']`;
  if (type === 'bool') {
    check(BOOLEAN_VALUES.test(text), WHO, prop, value, 'a boolean: 1 or 0 (on, off, true, false)');
  } else if (type === 'enum' && enumvals) {
    check(enumvals.includes(text.toLowerCase()), WHO, prop, value, `one of ${enumvals.join(', ')}`);
  } else if ((type === 'integer' || type === 'real') && !RDS_FORMULA.test(text)) {
    const parsed = NUMBER_VALUE.exec(text);
    check(parsed !== null, WHO, prop, value,
      'a number, optionally with a unit (kB, MB, GB, ms, s, min, h, d), or an RDS formula such as {DBInstanceClassMemory/32768}');
    const unit = PG_SETTING_UNITS[String(major)]?.[name];
    const amount = inSettingUnit(name, value, Number(parsed![1]), parsed![4], unit);
    if (min !== undefined && max !== undefined) {
      const rounded = type === 'integer' ? Math.round(amount) : amount;
      check(rounded >= Number(min) && rounded <= Number(max), WHO, prop, value,
        `a value from ${min} to ${max}${unit ? ` ${unit}` : ''}${parsed![4] && parsed![4] !== unit ? ` (${value} is ${rounded} ${unit})` : ''}`);
    }
  }
}

/** A number with an optional unit in the setting's own unit (PostgreSQL refuses a unit of the wrong kind). */
function inSettingUnit(name: string, value: string, amount: number, given: string | undefined, unit: string | undefined): number {
  if (given === undefined) return amount;
  const scale = unit === undefined ? undefined : MEMORY_UNITS[unit] !== undefined ? MEMORY_UNITS : TIME_UNITS;
  check(scale !== undefined && scale[given] !== undefined, WHO, `parameters['${name}']`, value, unit === undefined
    ? `a number without a unit (${name} has none)`
    : `a number with a ${scale === MEMORY_UNITS ? 'memory unit (B, kB, MB, GB, TB)' : 'time unit (us, ms, s, min, h, d)'} or none (${unit})`);
  return (amount * scale![given]) / scale![unit!];
}

/** The nearest name by edit distance, when it is close enough to be a typo. */
function closest(name: string, names: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 4)) + 1;
  for (const candidate of names) {
    const d = editDistance(name, candidate, bestDistance);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}


/** Number of read replicas. */
export function validateReplicas(count: number): void {
  checkKnownAtSynth(count, WHO, 'readReplicas', 'it is the number of replica instances built');
  check(Number.isInteger(count) && count >= 0 && count <= 5, WHO, 'readReplicas', count, 'an integer from 0 to 5');
}

/** The snapshot identifier (or ARN) of a snapshot restore. */
export function validateSnapshotIdentifier(id: string): void {
  check(!/^arn:[^:]*:rds:[^:]*:[^:]*:cluster-snapshot:/.test(id), WHO, 'restore.snapshotIdentifier', id,
    'a DB snapshot: a DB cluster snapshot (cluster-snapshot:) restores a DB cluster, not a DB instance');
  check(SNAPSHOT_ID.test(id) && !id.includes('--') && !id.endsWith('-'), WHO, 'restore.snapshotIdentifier', id,
    'a DB snapshot identifier (letters, digits and -, starting with a letter, optionally rds: or awsbackup:) or a DB snapshot ARN');
}

/** The point of a point-in-time restore. */
export function validateRestoreTime(time: Date, now: Date): void {
  const ms = time.getTime();
  check(!Number.isNaN(ms), WHO, 'restore.restoreTime', 'Invalid Date', 'a valid date (UTC)');
  check(ms < now.getTime(), WHO, 'restore.restoreTime', time.toISOString(), 'a moment in the past (use toLatestRestorableTime for the newest data)');
  const earliest = new Date(now.getTime() - MAX_BACKUP_RETENTION_DAYS * 86_400_000);
  check(ms >= earliest.getTime(), WHO, 'restore.restoreTime', time.toISOString(),
    `a moment within the last ${MAX_BACKUP_RETENTION_DAYS} days (the longest backup retention): after ${earliest.toISOString()}`);
}

/** RDS keeps automated backups (the point-in-time window) for at most 35 days. */
const MAX_BACKUP_RETENTION_DAYS = 35;

/** A PostgreSQL role name an IAM identity may connect as (`rds-db:connect` on that one user). */
export function validateDatabaseUser(user: string): void {
  check(ROLE_NAME.test(user) && user !== 'public' && user !== 'none', WHO, 'databaseUser', user,
    'a PostgreSQL role name: lowercase letters, digits and _, starting with a letter or _, at most 63 characters, not public or none (no wildcards); '
    + '$ is allowed after the first character');
}
/** An unquoted PostgreSQL identifier: $ may follow the first character. */
const ROLE_NAME = /^[a-z_][a-z0-9_$]{0,62}$/;

function mod(n: number, m: number): number {
  return ((n % m) + m) % m;
}

function overlaps(aStart: number, aLength: number, bStart: number, bLength: number, period: number): boolean {
  // Two intervals on a circle overlap when either starts inside the other.
  const inside = (x: number, start: number, length: number) => mod(x - start, period) < length;
  return inside(aStart, bStart, bLength) || inside(bStart, aStart, aLength);
}
