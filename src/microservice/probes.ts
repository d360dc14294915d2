import { Duration } from 'aws-cdk-lib';

/** Timing and port of a probe. */
export interface FxProbeOptions {
  /**
   * Container port probed (HTTP, TCP and gRPC probes).
   *
   * @default - the container's port (`port` of the service or sidecar)
   */
  readonly port?: number;
  /**
   * Time between probes.
   *
   * @default - 10 s liveness, 5 s readiness and startup
   */
  readonly period?: Duration;
  /**
   * Time a probe may take.
   *
   * @default Duration.seconds(3)
   */
  readonly timeout?: Duration;
  /**
   * Consecutive failures before the container is restarted (liveness), taken out of its Service
   * (readiness) or declared failed to start (startup).
   *
   * @default - 3 (liveness, readiness), 30 (startup)
   */
  readonly failureThreshold?: number;
  /**
   * Time after the container starts before the first probe.
   *
   * @default - no delay
   */
  readonly initialDelay?: Duration;
}

/** Options of a gRPC probe. */
export interface FxGrpcProbeOptions extends FxProbeOptions {
  /**
   * Service name sent in the gRPC health check request.
   *
   * @default - the server's overall health
   */
  readonly service?: string;
}

/**
 * A liveness, readiness or startup probe of a container.
 *
 * `FxProbe.http('/healthz')`, `FxProbe.tcp()`, `FxProbe.grpc()` or `FxProbe.exec(['cat', '/tmp/ready'])`.
 */
export class FxProbe {
  /** An HTTP GET of `path`; 2xx and 3xx answers pass. */
  public static http(path: string, options: FxProbeOptions = {}): FxProbe {
    return new FxProbe('http', options, path, undefined, undefined);
  }

  /** A TCP connection to the port. */
  public static tcp(options: FxProbeOptions = {}): FxProbe {
    return new FxProbe('tcp', options, undefined, undefined, undefined);
  }

  /** A gRPC health check (grpc.health.v1) on the port. */
  public static grpc(options: FxGrpcProbeOptions = {}): FxProbe {
    return new FxProbe('grpc', options, undefined, undefined, options.service);
  }

  /** A command run in the container; exit code 0 passes. */
  public static exec(command: string[], options: FxProbeOptions = {}): FxProbe {
    return new FxProbe('exec', options, undefined, command, undefined);
  }

  /** `http`, `tcp`, `grpc` or `exec`. */
  public readonly kind: string;
  /** Timing and port. */
  public readonly options: FxProbeOptions;
  /** Path of an HTTP probe. */
  public readonly path?: string;
  /** Command of an exec probe. */
  public readonly command?: string[];
  /** Service of a gRPC probe. */
  public readonly grpcService?: string;

  private constructor(kind: string, options: FxProbeOptions, path: string | undefined, command: string[] | undefined,
    grpcService: string | undefined) {
    this.kind = kind;
    this.options = options;
    this.path = path;
    this.command = command;
    this.grpcService = grpcService;
  }

  /** Whether the probe needs a port of the container (every kind but exec). */
  public get needsPort(): boolean {
    return this.kind !== 'exec';
  }
}
