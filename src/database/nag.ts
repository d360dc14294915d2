import { Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

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
