import { Duration } from 'aws-cdk-lib';

/** What a CronJob does when a run is due while the previous one is still running. */
export enum FxConcurrencyPolicy {
  /** Skip the new run (the safe default for jobs that must not overlap). */
  FORBID = 'Forbid',
  /** Run both. */
  ALLOW = 'Allow',
  /** Stop the running job and start the new one. */
  REPLACE = 'Replace',
}

/** Options of a worker: a long-running process without a port, a Service or a route (e.g. a queue consumer). */
export interface FxWorkerOptions {
  /**
   * Replicas (a worker is not autoscaled on CPU or memory: its load is the length of its queue).
   *
   * @default - the profile's serviceMinReplicas (1 development, 2 production)
   */
  readonly replicas?: number;
}

/** Options shared by one-off and scheduled jobs. */
export interface FxJobRunOptions {
  /**
   * Retries of a failed pod before the job is marked failed.
   *
   * @default 3
   */
  readonly backoffLimit?: number;
  /**
   * Longest time one run may take (the Job's activeDeadlineSeconds); the run is then stopped and failed.
   *
   * @default - no limit
   */
  readonly activeDeadline?: Duration;
}

/** Options of a one-off Job. */
export interface FxJobOptions extends FxJobRunOptions {
  /**
   * Time after which the finished Job and its pods are deleted by Kubernetes.
   *
   * Kept by default: the Job is named after a hash of its pod template, so a change of image, command
   * or env creates a new Job (run once) and the manifest prunes the old one. A Job deleted by this TTL
   * runs again whenever the service's manifest is next applied (any change of the service).
   *
   * @default - kept until the manifest replaces it
   */
  readonly ttlAfterFinished?: Duration;
}

/** Options of a scheduled job (a CronJob). */
export interface FxScheduledJobOptions extends FxJobRunOptions {
  /**
   * Cron schedule: five fields (minute hour day-of-month month day-of-week, e.g. `0 3 * * *`) or one of
   * `@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight`, `@hourly`.
   */
  readonly schedule: string;
  /**
   * IANA time zone the schedule is read in, e.g. `Europe/Paris`.
   *
   * @default - the kube-controller-manager's zone (UTC on EKS)
   */
  readonly timeZone?: string;
  /**
   * What happens when a run is due while the previous one still runs.
   *
   * @default FxConcurrencyPolicy.FORBID
   */
  readonly concurrencyPolicy?: FxConcurrencyPolicy;
  /**
   * How late a missed run may still start (e.g. after a control-plane outage).
   *
   * @default - no deadline
   */
  readonly startingDeadline?: Duration;
  /**
   * Finished successful jobs kept for inspection.
   *
   * @default 3
   */
  readonly successfulJobsHistoryLimit?: number;
  /**
   * Failed jobs kept for inspection.
   *
   * @default 1
   */
  readonly failedJobsHistoryLimit?: number;
  /**
   * Create the CronJob suspended (no runs until resumed).
   *
   * @default false
   */
  readonly suspend?: boolean;
}

/**
 * The kind of workload an FxMicroservice runs.
 *
 * - `FxWorkload.httpService()`: a Deployment (or StatefulSet, with a gp3 volume) behind a Service, HPA,
 *   optional route and canary (the default);
 * - `FxWorkload.worker()`: a Deployment without port, Service, route or HPA; exec probes or none;
 * - `FxWorkload.scheduledJob({ schedule })`: a CronJob;
 * - `FxWorkload.job()`: a one-off Job, re-run when its pod template changes.
 */
export class FxWorkload {
  /** An HTTP service (today's default). */
  public static httpService(): FxWorkload {
    return new FxWorkload('http-service', 'an HTTP service', {});
  }

  /** A long-running process without port or Service, e.g. a queue consumer. */
  public static worker(options: FxWorkerOptions = {}): FxWorkload {
    return new FxWorkload('worker', 'a worker', { worker: options });
  }

  /** A job run on a cron schedule (CronJob). */
  public static scheduledJob(options: FxScheduledJobOptions): FxWorkload {
    return new FxWorkload('scheduled-job', 'a scheduled job', { scheduled: options });
  }

  /** A job run once per version of its pod template (Job). */
  public static job(options: FxJobOptions = {}): FxWorkload {
    return new FxWorkload('job', 'a one-off job', { job: options });
  }

  /** `http-service`, `worker`, `scheduled-job` or `job`. */
  public readonly kind: string;
  /** Worker options (worker only). */
  public readonly workerOptions?: FxWorkerOptions;
  /** Scheduled job options (scheduled job only). */
  public readonly scheduledJobOptions?: FxScheduledJobOptions;
  /** One-off job options (job only). */
  public readonly jobOptions?: FxJobOptions;
  /** How error messages name the kind ("a worker"). */
  public readonly description: string;

  private constructor(kind: string, description: string,
    options: { worker?: FxWorkerOptions; scheduled?: FxScheduledJobOptions; job?: FxJobOptions }) {
    this.kind = kind;
    this.description = description;
    this.workerOptions = options.worker;
    this.scheduledJobOptions = options.scheduled;
    this.jobOptions = options.job;
  }

  /** Whether pods run to completion (Job or CronJob). */
  public get runsToCompletion(): boolean {
    return this.kind === 'job' || this.kind === 'scheduled-job';
  }

  /** Whether the workload has an HTTP port, a Service and may have a route. */
  public get servesHttp(): boolean {
    return this.kind === 'http-service';
  }
}
