import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';

/**
 * A PostgreSQL database a workload can be wired to (implemented by FxDatabase).
 */
export interface IFxWorkloadDatabase {
  /**
   * Secrets Manager secret with the standard RDS keys (`username`, `password`, `host`, `port`, `dbname`)
   * that workloads read through External Secrets.
   */
  readonly credentialsSecret: secretsmanager.ISecret;
  /** Name of the credentials secret, known at synth (the External Secrets remote key). */
  readonly secretName: string;
  /** Port the database listens on. */
  readonly databasePort: number;
  /** CIDR blocks the database lives in (egress NetworkPolicy target). */
  readonly databaseCidrs: string[];
  /**
   * Lets a workload connect: IAM database authentication for its role and read access to the
   * credentials for the External Secrets Operator.
   */
  grantConnect(grantee: iam.IGrantable): void;
}

/**
 * An observability stack workloads report to (implemented by FxObservability).
 */
export interface IFxWorkloadObservability {
  /** OTLP/gRPC endpoint for traces, e.g. `http://otel-collector.observability:4317`. */
  readonly otlpEndpoint: string;
  /** OTLP/HTTP endpoint for traces (the OpenTelemetry SDKs' default protocol), e.g. `http://otel-collector.observability:4318`. */
  readonly otlpHttpEndpoint: string;
  /**
   * The request-rate/errors/duration Grafana dashboard of one service, as a ConfigMap in the service's
   * namespace (Grafana's sidecar loads dashboards from every namespace). It goes into the service's own
   * manifest, so each dashboard is deployed and deleted with its service and the platform stack does
   * not grow with the number of services.
   */
  serviceDashboard(namespace: string, serviceName: string): { [key: string]: any };
}
