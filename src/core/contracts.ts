import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { FxServiceRoleOptions } from '../database/service-role-options';

/**
 * A workload's own login role in a database (implemented by FxDatabaseServiceRole): its own
 * credentials secret and, where IAM authentication is on, its own IAM database user.
 */
export interface IFxWorkloadDatabaseRole {
  /** The role's Secrets Manager secret (`username`, `password`, `host`, `port`, `dbname`). */
  readonly secret: secretsmanager.ISecret;
  /** Name of the role's secret, known at synth (the External Secrets remote key). */
  readonly secretName: string;
  /** The database login role (the `username` of the secret). */
  readonly username: string;
  /** Whether the workload may also connect with IAM database authentication (`grantConnect`). */
  readonly iamAuth: boolean;
  /**
   * Lets a workload's IAM identity connect with IAM database authentication as this role's IAM
   * user (only when `iamAuth`).
   */
  grantConnect(grantee: iam.IGrantable): iam.Grant;
  /** Lets an IAM identity read the role's secret (and decrypt it through Secrets Manager). */
  grantSecretRead(grantee: iam.IGrantable): iam.Grant;
}

/**
 * A PostgreSQL database a workload can be wired to (implemented by FxDatabase). Workloads get a
 * login role of their own (`addWorkloadRole`), never the master credentials.
 */
export interface IFxWorkloadDatabase {
  /**
   * The master credentials secret (standard RDS keys). Workloads never read it: it is for the
   * database's own role management and rotation.
   */
  readonly credentialsSecret: secretsmanager.ISecret;
  /** Name of the master credentials secret; workload role secrets are named `<secretName>/roles/<role>`. */
  readonly secretName: string;
  /** Port the database listens on. */
  readonly databasePort: number;
  /** CIDR blocks the database lives in (egress NetworkPolicy target). */
  readonly databaseCidrs: string[];
  /**
   * Lets an IAM identity connect with IAM database authentication as the master user. Not used for
   * workloads (they connect as their own role, see `addWorkloadRole`).
   */
  grantConnect(grantee: iam.IGrantable): void;
  /**
   * Creates a workload's own login role in the database, its resources in `scope` (the workload's
   * stack, so the database's stack does not grow with the number of workloads).
   *
   * @param scope where the role's secret, custom resource and rotation are created
   * @param id construct id of the role under `scope`
   * @param options the role's name, schema, IAM authentication, removal policy and rotation
   */
  addWorkloadRole(scope: Construct, id: string, options: FxServiceRoleOptions): IFxWorkloadDatabaseRole;
}

/**
 * An observability stack workloads report to (implemented by FxObservability).
 */
export interface IFxWorkloadObservability {
  /**
   * OTLP/gRPC endpoint for traces, e.g. `http://otel-collector.observability:4317`.
   * @default - no collector: services export no traces (FxObservability without Container Insights)
   */
  readonly otlpEndpoint?: string;
  /**
   * OTLP/HTTP endpoint for traces (the OpenTelemetry SDKs' default protocol), e.g. `http://otel-collector.observability:4318`.
   * @default - no collector, like `otlpEndpoint`
   */
  readonly otlpHttpEndpoint?: string;
  /**
   * The request-rate/errors/duration Grafana dashboard of one service, as a ConfigMap in the service's
   * namespace (Grafana's sidecar loads dashboards from every namespace). It goes into the service's own
   * manifest, so each dashboard is deployed and deleted with its service and the platform stack does
   * not grow with the number of services.
   */
  serviceDashboard(namespace: string, serviceName: string): { [key: string]: any };
}
