import * as fs from 'fs';
import * as path from 'path';
import { ArnFormat, CustomResource, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { acknowledgeServiceRoleFindings } from './nag';
import { CLONE_SUFFIX, IAM_SUFFIX } from './role-handler/sql';
import { FxServiceRoleOptions, FxServiceRoleRemoval, IFxServiceRoleDatabase } from './service-role-options';
import { validateRotationPeriod } from './validation';
import { IFxWorkloadDatabaseRole } from '../core/contracts';
import { check, trackConstruct } from '../core/errors';

const WHO = 'FxDatabaseServiceRole';
/** Where build-tools/bundle-role-handler.ts writes the handler bundle: `<package>/lib/database/role-handler.bundle`. */
const ROLE_HANDLER_BUNDLE = path.join(__dirname, '..', '..', 'lib', 'database', 'role-handler.bundle');
// Leaves room for the `_clone` suffix of the multi-user rotation within PostgreSQL's 63 bytes.
const ROLE_NAME = /^[a-z_][a-z0-9_]{0,56}$/;
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
// `public` and `none` are names PostgreSQL refuses for any role ("role name is reserved").
const SYSTEM_ROLES = new Set(['postgres', 'public', 'none', 'rdsadmin', 'rdsrepladmin', 'rds_superuser', 'rds_iam', 'rds_replication', 'rds_password']);
// Every ASCII punctuation character and the space: generated passwords are letters and digits only
// (safe in a DATABASE_URL, and SCRAM-hashed by the handler without SASLprep).
const PUNCTUATION = ' !"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
// Every role of a database and their provider live under `<database>/ServiceRoles` (addServiceRole).
const CONTAINER_ID = 'ServiceRoles';
/** The transform CloudFormation needs for `HostedRotationLambda` (the one aws-cdk-lib's HostedRotation adds). */
const SECRETS_MANAGER_TRANSFORM = 'AWS::SecretsManager-2024-09-16';
const PROVIDER_ID = 'Provider';

/** Properties of an FxDatabaseServiceRole. */
export interface FxDatabaseServiceRoleProps extends FxServiceRoleOptions {
  /** The database the role is created in. */
  readonly database: IFxServiceRoleDatabase;
}

/**
 * A service's own PostgreSQL login role in an FxDatabase, owning its own schema, with its own
 * KMS-encrypted Secrets Manager secret rotated with the multi-user strategy.
 *
 * Design: one database, one schema per service. The role owns its schema and is granted nothing
 * else: CONNECT on the database (taken from PUBLIC), no CREATE on `public`, no access to the other
 * services' schemas (which grant PUBLIC nothing). The role is created at deploy time by a custom
 * resource whose handler (bundled with the `pg` driver, nothing fetched at deploy) runs in the
 * VPC, reads the master secret and the role's secret, and connects over verified TLS as the master
 * user; every statement is idempotent. The master secret is readable only by that handler and the
 * rotation functions, never by anything in the cluster.
 *
 * Removal follows `removal` (RETAIN by default: a deleted service's data outlives it). A new `name`
 * is a new role: CloudFormation creates it and then removes the old one by the same policy.
 *
 * Scope: the role's secret, custom resource and rotation live where the construct is created
 * (`database.addServiceRole` puts them under the database; FxMicroservice puts them in its own
 * stack through `database.addWorkloadRole`). Nothing in the database's stack refers to them: the
 * one provider of the database reads role secrets by their name prefix
 * (`<database secretName>/roles/*`), so the database stack does not grow per service and service
 * stacks only depend on it.
 *
 * Usually created with `database.addServiceRole(id, { name })`, once per service using the database.
 */
export class FxDatabaseServiceRole extends Construct implements IFxWorkloadDatabaseRole {
  /** The role's secret: `username`, `password`, `host`, `port`, `dbname`, `engine`, `masterarn`. */
  public readonly secret: secretsmanager.ISecret;
  /** Name of the secret: `<database secretName>/roles/<name>`. */
  public readonly secretName: string;
  /** The PostgreSQL login role (password authentication; the `username` of the secret). */
  public readonly username: string;
  /** The schema the role owns. */
  public readonly schema: string;
  /** Whether IAM database authentication is set up (as `iamUsername`). */
  public readonly iamAuth: boolean;
  /** The IAM-auth database user (`<name>_iam`), when `iamAuth` is on. */
  public readonly iamUsername?: string;
  /** The database the role lives in. */
  public readonly database: IFxServiceRoleDatabase;

  constructor(scope: Construct, id: string, props: FxDatabaseServiceRoleProps) {
    super(scope, id);
    trackConstruct(this);
    const database = props.database;
    this.database = database;
    this.username = props.name;
    this.schema = props.schema ?? props.name;
    this.iamAuth = props.iamAuth ?? true;
    this.iamUsername = this.iamAuth ? `${this.username}_iam` : undefined;
    const removal = props.removal ?? FxServiceRoleRemoval.RETAIN;
    const schedule = props.rotationSchedule ?? Duration.days(30);
    validateServiceRole(database, this.username, this.schema, schedule);
    const provider = ServiceRoleProvider.of(database);
    provider.claim(this.username, this.schema);

    this.secretName = `${database.secretName}/roles/${this.username}`;
    // CloudFormation resources (L1), not the L2 Secret and RotationSchedule: one role per service makes
    // this the costliest per-service part of synthesis, and the L2s add nothing used here (the output is
    // the same template, under the same construct paths `Secret/Resource` and `Rotation/Resource`, so the
    // logical ids of the L2 era stay).
    const cfnSecret = new secretsmanager.CfnSecret(new Construct(this, 'Secret'), 'Resource', {
      name: this.secretName,
      description: `Fx database ${database.databaseName}: login role ${this.username} (schema ${this.schema})`,
      kmsKeyId: database.key.keyArn,
      generateSecretString: {
        secretStringTemplate: Stack.of(this).toJsonString({
          engine: 'postgres',
          host: database.endpointAddress,
          port: database.databasePort,
          dbname: database.databaseName,
          username: this.username,
          masterarn: database.credentialsSecret.secretArn,
        }),
        generateStringKey: 'password',
        passwordLength: 32,
        excludeCharacters: PUNCTUATION,
      },
    });
    // The name is fixed (the service's remote key): never plain RETAIN, a rolled-back first create must remove it.
    cfnSecret.applyRemovalPolicy(removal === FxServiceRoleRemoval.DROP ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE);
    const secret = secretsmanager.Secret.fromSecretAttributes(this, 'SecretRef', {
      secretCompleteArn: cfnSecret.ref,
      encryptionKey: database.key,
    });
    this.secret = secret;

    const resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::FxDatabaseServiceRole',
      properties: {
        MasterSecretArn: database.credentialsSecret.secretArn,
        SecretArn: secret.secretArn,
        RoleName: this.username,
        SchemaName: this.schema,
        DatabaseName: database.databaseName,
        IamAuth: String(this.iamAuth),
        Removal: removal.value,
      },
    });
    resource.node.addDependency(database.instance, provider);

    // The first rotation runs as soon as the schedule exists: the role must exist before it.
    // No AWS::SecretsManager::ResourcePolicy per role (the L2 RotationSchedule adds one denying
    // DeleteSecret to the account): one resource more per service (DESIGN: at most 6). What guards the
    // secret instead: CloudFormation never deletes it under the default RETAIN (RETAIN_ON_UPDATE_OR_DELETE),
    // no Fx role may call DeleteSecret, and Secrets Manager deletes only after a 7 to 30 day recovery
    // window (RestoreSecret). The hosted multi-user rotation needs the Secrets Manager transform.
    Stack.of(this).addTransform(SECRETS_MANAGER_TRANSFORM);
    const rotation = new secretsmanager.CfnRotationSchedule(new Construct(this, 'Rotation'), 'Resource', {
      secretId: cfnSecret.ref,
      rotationRules: { scheduleExpression: rotationRate(schedule) },
      hostedRotationLambda: {
        rotationType: 'PostgreSQLMultiUser',
        masterSecretArn: database.credentialsSecret.secretArn,
        masterSecretKmsKeyArn: database.key.keyArn,
        kmsKeyArn: database.key.keyArn,
        vpcSubnetIds: provider.subnetIds,
        vpcSecurityGroupIds: provider.rotationSecurityGroup.securityGroupId,
        excludeCharacters: PUNCTUATION,
      },
    });
    rotation.node.addDependency(resource);
  }

  /**
   * Lets a workload's IAM identity connect with IAM database authentication as this role's IAM
   * user `<name>_iam` (`rds-db:connect` on that one database user), which acts as the role.
   *
   * @param grantee the workload's role or service account
   */
  public grantConnect(grantee: iam.IGrantable): iam.Grant {
    check(this.iamAuth, WHO, 'iamAuth', false, `true to grant IAM database authentication as ${this.username}`);
    return this.database.grantConnectAs(grantee, this.iamUsername!);
  }

  /**
   * Lets a workload read the role's credentials (`secretsmanager:GetSecretValue` on this secret and
   * decryption through Secrets Manager with the database key).
   *
   * @param grantee the workload's role or service account
   */
  public grantSecretRead(grantee: iam.IGrantable): iam.Grant {
    return this.secret.grantRead(grantee);
  }
}

/**
 * The one custom resource provider of a database's service roles, created with the first role:
 * the handler Lambda in the VPC with its own security group (the database admits it on its port),
 * allowed to read the master secret and the role secrets, and nothing else.
 *
 * Subnets: the private subnets when the VPC has them (the platform VPC always does): the handler,
 * the Provider framework and the rotation functions reach the Secrets Manager, Lambda and S3 APIs
 * through NAT, or through interface endpoints with private DNS where the cluster adds them
 * (`interfaceEndpoints`). In a VPC with isolated subnets only, they run there and the VPC needs
 * Secrets Manager and Lambda interface endpoints.
 */
class ServiceRoleProvider extends Construct {
  /** The provider of a database (`<database>/ServiceRoles/Provider`), created on first use. */
  public static of(database: IFxServiceRoleDatabase): ServiceRoleProvider {
    const container = database.node.tryFindChild(CONTAINER_ID) ?? new Construct(database, CONTAINER_ID);
    const existing = container.node.tryFindChild(PROVIDER_ID);
    return existing instanceof ServiceRoleProvider ? existing : new ServiceRoleProvider(container, PROVIDER_ID, database);
  }

  public readonly serviceToken: string;
  public readonly subnets: ec2.SubnetSelection;
  /** The same subnets' ids, comma-separated (the hosted rotation's `VpcSubnetIds`), computed once. */
  public readonly subnetIds: string;
  public readonly rotationSecurityGroup: ec2.SecurityGroup;
  private readonly handler: lambda.Function;
  private readonly roles = new Set<string>();
  private readonly schemas = new Set<string>();

  private constructor(scope: Construct, id: string, database: IFxServiceRoleDatabase) {
    super(scope, id);
    trackConstruct(this);
    check(fs.existsSync(path.join(ROLE_HANDLER_BUNDLE, 'index.js')), WHO, 'handler bundle', ROLE_HANDLER_BUNDLE,
      'a built bundle: run `ts-node --transpile-only --project build-tools/tsconfig.json build-tools/bundle-role-handler.ts` (part of the build)');
    const vpc = database.vpc;
    this.subnets = vpc.privateSubnets.length > 0
      ? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }
      : { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
    this.subnetIds = vpc.selectSubnets(this.subnets).subnetIds.join(',');
    const port = ec2.Port.tcp(database.databasePort);

    const handlerSg = this.securityGroup('HandlerSecurityGroup', vpc, 'Fx database service roles: role handler (database and AWS APIs only)');
    handlerSg.connections.allowTo(database.securityGroup, port, 'Service role handler');
    this.rotationSecurityGroup = this.securityGroup('RotationSecurityGroup', vpc, 'Fx database service roles: multi-user rotation (database and Secrets Manager API only)');
    this.rotationSecurityGroup.connections.allowTo(database.securityGroup, port, 'Service role rotation');

    const stack = Stack.of(this);
    const logGroupName = `/fx/database/${database.instanceIdentifier}/service-roles`;
    database.key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AllowServiceRoleHandlerLogs',
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:DescribeKey'],
      resources: ['*'],
      conditions: {
        ArnEquals: {
          'kms:EncryptionContext:aws:logs:arn': stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: logGroupName, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
        },
      },
    }));
    // Role changes are an audit trail: kept a year, and with the stack (fixed name: not plain RETAIN).
    const logGroup = new logs.LogGroup(this, 'HandlerLogs', {
      logGroupName,
      retention: logs.RetentionDays.ONE_YEAR,
      encryptionKey: database.key,
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });

    this.handler = new lambda.Function(this, 'Handler', {
      description: `Fx database ${database.databaseName}: creates the services' PostgreSQL roles and schemas`,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(ROLE_HANDLER_BUNDLE),
      memorySize: 256,
      timeout: Duration.minutes(2),
      vpc,
      vpcSubnets: this.subnets,
      securityGroups: [handlerSg],
      logGroup,
      // Node.js 20+ runtimes load the Amazon CAs (RDS included) only when asked to.
      environment: { NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem' },
    });
    database.credentialsSecret.grantRead(this.handler);
    // Role secrets by name prefix, not one grant per secret: role secrets live in the services'
    // stacks, and a per-secret grant here would make this stack refer to each of them (a cycle).
    const roleSecrets = roleSecretsArn(database);
    this.handler.addToRolePolicy(new iam.PolicyStatement({
      sid: 'ReadServiceRoleSecrets',
      actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      resources: [roleSecrets],
    }));
    this.handler.addToRolePolicy(new iam.PolicyStatement({
      sid: 'DecryptServiceRoleSecrets',
      actions: ['kms:Decrypt'],
      resources: [database.key.keyArn],
      conditions: {
        StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.${stack.urlSuffix}` },
        StringLike: { 'kms:EncryptionContext:SecretARN': roleSecrets },
      },
    }));

    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.handler,
      vpc,
      vpcSubnets: this.subnets,
      securityGroups: [handlerSg],
    });
    this.serviceToken = provider.serviceToken;
    acknowledgeServiceRoleFindings({ handler: this.handler, provider });
    const policy = this.handler.role!.node.findChild('DefaultPolicy');
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagArn(stack, `secret:${database.secretName}/roles/*`)}]`,
      reason: 'Service role handler: reads the secrets of this database\'s service roles by their name prefix '
        + '(<database secretName>/roles/*, names Fx gives only to role secrets): role secrets live in the services\' stacks, '
        + 'which this stack must not refer to.',
    });
  }

  /** Records a role and schema of this database, refusing a second use of either. */
  public claim(role: string, schema: string): void {
    check(!this.roles.has(role), WHO, 'name', role, 'a role name not used by another service role of this database');
    check(!this.schemas.has(schema), WHO, 'schema', schema, 'a schema not owned by another service role of this database');
    this.roles.add(role);
    this.schemas.add(schema);
  }

  private securityGroup(id: string, vpc: ec2.IVpc, description: string): ec2.SecurityGroup {
    const sg = new ec2.SecurityGroup(this, id, { vpc, description, allowAllOutbound: false });
    sg.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'AWS APIs (HTTPS)');
    return sg;
  }
}

/** ARN pattern of every role secret of a database: `<database secretName>/roles/<role>-<random suffix>`. */
function roleSecretsArn(database: IFxServiceRoleDatabase): string {
  return Stack.of(database).formatArn({
    service: 'secretsmanager', resource: 'secret', resourceName: `${database.secretName}/roles/*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/** A secretsmanager ARN of `stack` the way cdk-nag writes it in a finding id (`<AWS::Partition>`, pseudo parameters). */
function nagArn(stack: Stack, resource: string): string {
  const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
  const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
  return `arn:<AWS::Partition>:secretsmanager:${region}:${account}:${resource}`;
}

function validateServiceRole(database: IFxServiceRoleDatabase, name: string, schema: string, schedule: Duration): void {
  check(ROLE_NAME.test(name), WHO, 'name', name,
    'lowercase letters, digits and _, starting with a letter or _, at most 57 characters (the rotation adds _clone)');
  check(!SYSTEM_ROLES.has(name) && !name.startsWith('pg_') && !name.startsWith('rds') && name !== database.masterUsername
    && !name.endsWith('_clone') && !name.endsWith('_iam'), WHO, 'name', name,
  `a role of its own: not the master user (${database.masterUsername}), a built-in role, starting with pg_ or rds, or ending with _clone or _iam`);
  check(SCHEMA_NAME.test(schema), WHO, 'schema', schema, 'lowercase letters, digits and _, starting with a letter or _, at most 63 characters');
  check(schema !== 'public' && schema !== 'information_schema' && !schema.startsWith('pg_'), WHO, 'schema', schema,
    'a schema of its own: not public, information_schema or pg_*');
  // The users the role handler creates for the role: none may be the master user.
  for (const derived of [name + CLONE_SUFFIX, name + IAM_SUFFIX]) {
    check(derived !== database.masterUsername, WHO, 'name', name,
      `a role whose users (${name}, ${name + CLONE_SUFFIX}, ${name + IAM_SUFFIX}) are not the master user (${database.masterUsername})`);
  }
  validateRotationPeriod(schedule, WHO);
}

/** The Secrets Manager schedule expression of a rotation period (whole hours, see validateRotationPeriod). */
function rotationRate(schedule: Duration): string {
  const days = schedule.toDays({ integral: false });
  return Number.isInteger(days) ? `rate(${days} days)` : `rate(${schedule.toHours()} hours)`;
}
