import { Duration } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { FxImage } from './image';
import { FxProbe } from './probes';
import { FxRateLimit } from '../cluster/props';

/** Basic authentication of a route; the htpasswd lines come from Secrets Manager. */
export interface FxBasicAuth {
  /**
   * Secret whose JSON key `users` holds htpasswd lines (`user:$apr1$...`, one per line).
   */
  readonly secret: secretsmanager.ISecret;
}

/** Canary: a second version of the service receiving a share of the route's traffic. */
export interface FxCanary {
  /** Image of the canary version. */
  readonly image: FxImage;
  /** Percentage of requests sent to the canary (1 to 99). */
  readonly weight: number;
}

/** How a microservice is exposed through Traefik. */
export interface FxRoute {
  /** Host name served, e.g. `api.fx.example.com`. */
  readonly host: string;
  /**
   * Whether the hosts are outside the cluster's domain (or deeper than `*.<domain>`) and served with a
   * certificate and DNS record of your own: the platform's certificate and DNS then do not cover them,
   * and the domain check is skipped.
   *
   * @default false
   */
  readonly external?: boolean;
  /**
   * More host names served by the same route.
   *
   * @default - none
   */
  readonly additionalHosts?: string[];
  /**
   * Path prefix routed to the service.
   *
   * @default '/'
   */
  readonly pathPrefix?: string;
  /**
   * Whether the prefix is removed before the request reaches the service.
   *
   * @default false
   */
  readonly stripPrefix?: boolean;
  /**
   * Rate limit per client IP.
   *
   * @default - no rate limit
   */
  readonly rateLimit?: FxRateLimit;
  /**
   * Only these client CIDRs may call the route.
   *
   * @default - any client
   */
  readonly ipAllowList?: string[];
  /**
   * Largest request body Traefik forwards, in bytes: larger requests get 413 before they reach a pod
   * (a Buffering middleware; bodies are buffered, in memory up to 1 MiB, on Traefik's /tmp beyond).
   * The sample services accept 16 KiB.
   *
   * @default 1048576 (1 MiB)
   */
  readonly maxRequestBodyBytes?: number;
  /**
   * Retries of idempotent failures before the error reaches the client (0 turns retries off).
   *
   * @default 2
   */
  readonly retryAttempts?: number;
  /**
   * Traefik circuit breaker expression, e.g. `NetworkErrorRatio() > 0.30 || ResponseCodeRatio(500, 600, 0, 600) > 0.25`.
   *
   * @default - no circuit breaker
   */
  readonly circuitBreaker?: string;
  /**
   * Basic authentication in front of the service.
   *
   * @default - none
   */
  readonly basicAuth?: FxBasicAuth;
  /**
   * Forward authentication: each request is first sent to this URL; a 2xx answer lets it through.
   *
   * @default - none
   */
  readonly forwardAuthUrl?: string;
  /**
   * Weighted routing to a canary version.
   *
   * @default - no canary
   */
  readonly canary?: FxCanary;
}

/** Autoscaling of a microservice. */
export interface FxAutoscaling {
  /**
   * Minimum replicas.
   *
   * @default - the profile's serviceMinReplicas (1 development, 2 production)
   */
  readonly minReplicas?: number;
  /**
   * Maximum replicas.
   *
   * @default - the profile's serviceMaxReplicas (3 development, 10 production)
   */
  readonly maxReplicas?: number;
  /**
   * Target average CPU utilisation, percent of requests.
   *
   * @default 70
   */
  readonly cpuTargetPercent?: number;
  /**
   * Target average memory utilisation, percent of requests.
   *
   * @default 80
   */
  readonly memoryTargetPercent?: number;
}

/** CPU and memory of the service container, as Kubernetes quantities. */
export interface FxResources {
  /** @default '250m' */
  readonly cpuRequest?: string;
  /** @default '256Mi' */
  readonly memoryRequest?: string;
  /** @default '1' */
  readonly cpuLimit?: string;
  /** @default '512Mi' */
  readonly memoryLimit?: string;
}

/** Probes of the service container. */
export interface FxProbes {
  /**
   * Liveness probe (HTTP, TCP, gRPC or exec; exec only on a worker; none on a job).
   *
   * @default - HTTP GET /healthz for an HTTP service, none for a worker
   */
  readonly liveness?: FxProbe;
  /**
   * Readiness probe.
   *
   * @default - HTTP GET /readyz for an HTTP service, none for a worker
   */
  readonly readiness?: FxProbe;
  /**
   * Startup probe (30 failures at 5 s allowed before the container is restarted).
   *
   * @default - the liveness probe, with startup timing (HTTP service); none for a worker
   */
  readonly startup?: FxProbe;
  /**
   * @default '/healthz'
   * @deprecated use `liveness: FxProbe.http(path)`
   */
  readonly livenessPath?: string;
  /**
   * @default '/readyz'
   * @deprecated use `readiness: FxProbe.http(path)`
   */
  readonly readinessPath?: string;
  /**
   * @default - the liveness path
   * @deprecated use `startup: FxProbe.http(path)`
   */
  readonly startupPath?: string;
}

/** A secret from Secrets Manager delivered to the service as env vars through External Secrets. */
export interface FxSecretEnv {
  /** The secret (a JSON object). */
  readonly secret: secretsmanager.ISecret;
  /**
   * JSON keys to expose, each as an env var of the same name.
   *
   * @default - every key of the secret
   */
  readonly keys?: string[];
}

/** A schema migration Job that must complete before the new version rolls out. */
export interface FxMigration {
  /** Command run in the service image, e.g. `['python', '-m', 'orders_api.migrate']`. */
  readonly command: string[];
  /**
   * Longest time the migration may run.
   *
   * @default Duration.minutes(10)
   */
  readonly timeout?: Duration;
}

/** Namespace resource limits. */
export interface FxNamespaceQuota {
  /** Total CPU requests and limits. @default - the profile's `serviceQuotaCpu` (4 development, 16 production) */
  readonly cpu?: string;
  /** Total memory requests and limits. @default - the profile's `serviceQuotaMemory` (8Gi development, 32Gi production) */
  readonly memory?: string;
  /** Pods. @default 50 */
  readonly pods?: number;
}

/** Alerting of a microservice when observability is given. */
export interface FxServiceAlerts {
  /** @default 0.05 */
  readonly errorRatio?: number;
  /** @default Duration.seconds(1) */
  readonly latencyP99?: Duration;
}
