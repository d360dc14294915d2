import { CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { acknowledgeDeployTimeLambda, acknowledgeRoleInlinePolicy } from '../cluster/nag';

/** @internal */
export interface DatabaseFindings {
  readonly monitoringRole: IConstruct;
  readonly backupRole?: IConstruct;
  readonly instances: IConstruct[];
  readonly multiAz: boolean;
  readonly restored: boolean;
}

/**
 * cdk-nag (AwsSolutions) findings the database accepts on purpose, each acknowledged on the one
 * construct it is about, with the reason. With the defaults of the production profile no RDS rule
 * is acknowledged: these RDS acknowledgements only appear for an explicit single-AZ choice (the
 * development profile) or a restore.
 *
 * @internal
 */
export function acknowledgeDatabaseFindings(f: DatabaseFindings): void {
  ack(f.monitoringRole, managed('service-role/AmazonRDSEnhancedMonitoringRole'),
    'RDS enhanced monitoring requires its service role to carry AmazonRDSEnhancedMonitoringRole (writes the RDSOSMetrics log group only).');
  if (f.backupRole) {
    ack(f.backupRole, managed('service-role/AWSBackupServiceRolePolicyForBackup'),
      'AWS Backup selection role: AWSBackupServiceRolePolicyForBackup is the documented policy that lets AWS Backup snapshot the instance.');
  }
  for (const instance of f.instances) {
    if (!f.multiAz) {
      ack(instance, 'AwsSolutions-RDS3',
        'Single-AZ by explicit choice (multiAz false, the development profile default): the production profile runs Multi-AZ.');
      ack(instance, 'NIST.800.53.R5-RDSMultiAZSupport',
        'Single-AZ by explicit choice (multiAz false, the development profile default): the production profile runs Multi-AZ.');
    }
    if (f.restored) {
      ack(instance, 'AwsSolutions-RDS2',
        'Restored instance: CloudFormation forbids StorageEncrypted/KmsKeyId on a restore; encryption and key are inherited from the '
        + 'snapshot or source instance, which an FxDatabase always encrypts with its retained customer key.');
    }
  }
}

function managed(policy: string): string {
  return `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${policy}]`;
}

function ack(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/** @internal */
export interface ServiceRoleFindings {
  readonly handler: IConstruct;
  readonly provider: IConstruct;
}

/**
 * cdk-nag (AwsSolutions) findings of the service-role custom resource: the AWS managed execution
 * policies a Lambda function in a VPC needs, and the Provider framework that aws-cdk-lib builds.
 *
 * @internal
 */
export function acknowledgeServiceRoleFindings(f: ServiceRoleFindings): void {
  acknowledgeDeployTimeLambda(f.handler, 'the database service role handler (creates each service\'s PostgreSQL role)');
  const handlerRole = f.handler.node.tryFindChild('ServiceRole');
  if (handlerRole) {
    acknowledgeRoleInlinePolicy(handlerRole, 'the database service role handler (reads the master secret and the service role secrets, decrypts them through Secrets Manager only)');
    ack(handlerRole, managed('service-role/AWSLambdaBasicExecutionRole'),
      'Service role handler: the documented execution policy of a Lambda function (writes its own log streams).');
    ack(handlerRole, managed('service-role/AWSLambdaVPCAccessExecutionRole'),
      'Service role handler: runs in the VPC to reach the database; this documented policy manages its network interfaces.');
  }
  const framework = f.provider.node.tryFindChild('framework-onEvent');
  if (framework) {
    const role = framework.node.tryFindChild('ServiceRole');
    if (role) {
      ack(role, managed('service-role/AWSLambdaBasicExecutionRole'),
        'aws-cdk-lib Provider framework function: the documented execution policy of a Lambda function.');
      ack(role, managed('service-role/AWSLambdaVPCAccessExecutionRole'),
        'aws-cdk-lib Provider framework function in the VPC: the documented policy that manages its network interfaces.');
      const handler = f.handler.node.defaultChild as CfnElement;
      ack(role, `AwsSolutions-IAM5[Resource::<${Stack.of(handler).getLogicalId(handler)}.Arn>:*]`,
        'aws-cdk-lib Provider framework function: may invoke the versions of the one service role handler (<arn>:*) and nothing else.');
    }
    acknowledgeDeployTimeLambda(framework, 'the aws-cdk-lib Provider framework of the database service roles');
    if (role) acknowledgeRoleInlinePolicy(role, 'the aws-cdk-lib Provider framework of the database service roles (invokes the one handler)');
    ack(framework, 'AwsSolutions-L1',
      'aws-cdk-lib Provider framework function: its runtime is chosen and updated by aws-cdk-lib, not by this library.');
  }
}
