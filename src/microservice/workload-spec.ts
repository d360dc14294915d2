import * as crypto from 'crypto';
import { Duration, Lazy, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { FxAutoscaling, FxMigration, FxRoute, FxServiceAlerts } from './props';
import { cronNeverFires, cronScheduleProblem, INT32_MAX, isTimeZone, timeZoneHint } from './validation';
import { FxConcurrencyPolicy, FxJobRunOptions, FxWorkload } from './workload';
import { check, checkDurationToken, FxValidationError } from '../core/errors';
import { JobSpec } from '../k8s/api.generated';

/** What the workload checks read of FxMicroserviceProps (a subset, so this file never imports the construct). */
export interface WorkloadProps {
  readonly alerts?: FxServiceAlerts;
  readonly autoscaling?: FxAutoscaling;
  /** The services called: each says what kind of workload it is. */
  readonly dependsOn?: ReadonlyArray<{ readonly workload: FxWorkload; readonly node: { readonly path: string } }>;
  readonly metricsPort?: number;
  readonly migration?: FxMigration;
  readonly port?: number;
  readonly route?: FxRoute;
}

const WHO = 'FxMicroservice';

/** The resolved workload kind of a service's chart (internal). */
export interface WorkloadChartSpec {
  /** `http-service`, `worker`, `scheduled-job` or `job`. */
  readonly kind: string;
  readonly cron?: {
    readonly schedule: string;
    readonly timeZone?: string;
    readonly concurrencyPolicy: string;
    readonly startingDeadlineSeconds?: number;
    readonly successfulJobsHistoryLimit: number;
    readonly failedJobsHistoryLimit: number;
    readonly suspend: boolean;
  };
  /** Job settings of a one-off job or of each run of a scheduled job. */
  readonly job?: { readonly backoffLimit: number; readonly activeDeadlineSeconds?: number; readonly ttlSecondsAfterFinished?: number };
  /** Name of the one-off Job from its spec (the pod template is immutable: a change makes a new Job). */
  readonly jobName?: (jobSpec: JobSpec) => string;
}

function seconds(d: Duration | undefined): number | undefined {
  return d === undefined ? undefined : d.toSeconds();
}

function checkSeconds(d: Duration | undefined, prop: string, min: number, allowed: string): void {
  if (d === undefined) return;
  checkDurationToken(d, WHO, prop, 'seconds');
  if (d.isUnresolved()) return;
  const s = d.toSeconds({ integral: false });
  check(Number.isInteger(s) && s >= min, WHO, prop, s, allowed);
  check(s <= INT32_MAX, WHO, prop, s, `a whole number of seconds up to ${INT32_MAX} (the int32 maximum)`);
}

function checkCount(n: number | undefined, prop: string, min: number): void {
  if (n !== undefined) check(Number.isInteger(n) && n >= min && n <= INT32_MAX, WHO, prop, n, `an integer from ${min} to ${INT32_MAX}`);
}

/** Props that only an HTTP service takes, and the options of each kind (issue 20). */
export function validateWorkload(props: WorkloadProps, workload: FxWorkload): void {
  const kind = workload.description;
  if (!workload.servesHttp) {
    const why = workload.runsToCompletion ? 'its pods run to completion and have no Service' : 'it has no port or Service';
    if (props.port !== undefined) {
      throw new FxValidationError(WHO, 'port', props.port, `no port on ${kind}: ${why} (metricsPort to be scraped, or FxWorkload.httpService())`);
    }
    if (props.route) throw new FxValidationError(WHO, 'route', props.route.host, `no route on ${kind}: ${why}`);
    if (props.autoscaling) {
      throw new FxValidationError(WHO, 'autoscaling', props.autoscaling, workload.runsToCompletion
        ? `no autoscaling on ${kind}: ${why}`
        : `no autoscaling on ${kind}: FxWorkload.worker({ replicas }) sets its replicas`);
    }
    if (props.alerts) throw new FxValidationError(WHO, 'alerts', props.alerts, `no alerts on ${kind}: they measure HTTP traffic at Traefik`);
  }
  if (workload.runsToCompletion) {
    if (props.migration) throw new FxValidationError(WHO, 'migration', props.migration.command, `no migration on ${kind}: run it as a job of its own`);
    if (props.metricsPort !== undefined) {
      throw new FxValidationError(WHO, 'metricsPort', props.metricsPort, `no metricsPort on ${kind}: its pods are gone before a scrape (export over OTLP with observability)`);
    }
  }
  (props.dependsOn ?? []).forEach((callee, i) => check(callee.workload.servesHttp, WHO, `dependsOn[${i}]`, callee.node.path,
    `an HTTP service: ${callee.workload.description} has no port or Service to call`));
  checkCount(workload.workerOptions?.replicas, 'workload replicas', 1);
  const run: FxJobRunOptions | undefined = workload.scheduledJobOptions ?? workload.jobOptions;
  if (run) {
    checkCount(run.backoffLimit, 'workload backoffLimit', 0);
    checkSeconds(run.activeDeadline, 'workload activeDeadline', 1, 'a whole number of seconds, at least 1');
  }
  checkSeconds(workload.jobOptions?.ttlAfterFinished, 'workload ttlAfterFinished', 0, 'a whole number of seconds, at least 0');
  const cron = workload.scheduledJobOptions;
  if (cron) {
    const problem = cronScheduleProblem(cron.schedule);
    check(problem === undefined, WHO, 'workload schedule', cron.schedule,
      `a cron schedule of five fields (minute hour day-of-month month day-of-week, e.g. '0 3 * * *') or @hourly, @daily, @weekly, @monthly, @yearly${cron.schedule.trim().startsWith('@every') ? ', @every <Go duration>' : ''} (${problem})`);
    const never = problem === undefined ? cronNeverFires(cron.schedule) : undefined;
    check(never === undefined, WHO, 'workload schedule', cron.schedule, `a schedule that fires: ${never}`);
    if (cron.suspend !== undefined) check(typeof cron.suspend === 'boolean', WHO, 'workload suspend', cron.suspend, 'true or false');
    if (cron.timeZone !== undefined) {
      check(isTimeZone(cron.timeZone), WHO, 'workload timeZone', cron.timeZone,
        `an IANA time zone such as Europe/Paris or UTC${timeZoneHint(cron.timeZone)}`);
    }
    if (cron.concurrencyPolicy !== undefined) {
      check((Object.values(FxConcurrencyPolicy) as string[]).includes(cron.concurrencyPolicy), WHO, 'workload concurrencyPolicy', cron.concurrencyPolicy,
        `an FxConcurrencyPolicy: ${Object.values(FxConcurrencyPolicy).join(', ')}`);
    }
    checkSeconds(cron.startingDeadline, 'workload startingDeadline', 10, 'a whole number of seconds, at least 10 (the CronJob controller looks every 10 s)');
    checkCount(cron.successfulJobsHistoryLimit, 'workload successfulJobsHistoryLimit', 0);
    checkCount(cron.failedJobsHistoryLimit, 'workload failedJobsHistoryLimit', 0);
  }
}

/**
 * The chart's view of the workload kind. A one-off Job is named `<service>-<hash of its spec>`, hashed at
 * synth over the resolved spec (CloudFormation references, not token numbers, which shift when other
 * constructs are added): the same template keeps its name and never re-runs; a changed one is a new Job,
 * and the manifest prunes the old. An image whose tag is a deploy-time value adds its deploy-time
 * version (`deployTimeVersion`) to the name, so that a new tag is a new Job too.
 */
export function workloadSpec(workload: FxWorkload, scope: IConstruct, name: string, deployTimeVersion?: string): WorkloadChartSpec {
  const run: FxJobRunOptions | undefined = workload.scheduledJobOptions ?? workload.jobOptions;
  const cron = workload.scheduledJobOptions;
  return {
    kind: workload.kind,
    cron: cron ? {
      schedule: cron.schedule.trim(),
      timeZone: cron.timeZone,
      concurrencyPolicy: cron.concurrencyPolicy ?? FxConcurrencyPolicy.FORBID,
      startingDeadlineSeconds: seconds(cron.startingDeadline),
      successfulJobsHistoryLimit: cron.successfulJobsHistoryLimit ?? 3,
      failedJobsHistoryLimit: cron.failedJobsHistoryLimit ?? 1,
      suspend: cron.suspend ?? false,
    } : undefined,
    job: workload.runsToCompletion ? {
      backoffLimit: run?.backoffLimit ?? 3,
      activeDeadlineSeconds: seconds(run?.activeDeadline),
      ttlSecondsAfterFinished: seconds(workload.jobOptions?.ttlAfterFinished),
    } : undefined,
    // An image tag from a parameter resolves to the same reference whatever its value: its deploy-time
    // version joins the name (at most 40 + 1 + 10 + 1 + 10 = 62 characters, under the Job name's 63).
    jobName: workload.kind === 'job' ? (jobSpec) => Lazy.string({
      produce: () => `${name}-${crypto.createHash('sha256').update(JSON.stringify(Stack.of(scope).resolve(jobSpec))).digest('hex').slice(0, 10)}`
        + (deployTimeVersion !== undefined ? `-${deployTimeVersion}` : ''),
    }) : undefined,
  };
}
