import { Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { acknowledgeRoleInlinePolicy } from '../cluster/nag';

/** @internal */
export interface ComplianceFindings {
  readonly role: IConstruct;
  readonly bucket: IConstruct;
  readonly serverAccessLogs: boolean;
}

/**
 * cdk-nag (AwsSolutions) findings FxCompliance accepts on purpose, each acknowledged on the one
 * construct it is about, with the reason.
 *
 * @internal
 */
export function acknowledgeComplianceFindings(f: ComplianceFindings): void {
  Validations.of(f.role).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWS_ConfigRole]',
    reason: 'AWS Config recorder role: AWS_ConfigRole is the AWS-documented policy for a recorder (read-only Describe/List/Get on '
      + 'the recorded services) and AWS keeps it current as Config supports new resource types; its write access is limited to '
      + 'its own prefix of the delivery bucket by the bucket policy.',
  });
  Validations.of(f.bucket).acknowledge({
    id: 'NIST.800.53.R5-S3BucketReplicationEnabled',
    reason: 'AWS Config delivery bucket: configuration history is re-creatable from the recorder, and an organization that needs a '
      + 'second copy aggregates Config data across accounts and regions instead of replicating each bucket.',
  }, {
    id: 'NIST.800.53.R5-S3DefaultEncryptionKMS',
    reason: 'AWS Config delivery bucket: SSE-S3, because AWS Config delivers with its service role and a customer key would need a key '
      + 'policy for the recorder role; the bucket holds resource configurations, no application data.',
  });
  if (!f.serverAccessLogs) {
    Validations.of(f.bucket).acknowledge({
      id: 'NIST.800.53.R5-S3BucketLoggingEnabled',
      reason: 'AWS Config delivery bucket: object access is audited through CloudTrail data events; pass serverAccessLogsBucket to add '
        + 'S3 server access logs.',
    });
    Validations.of(f.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'AWS Config delivery bucket: only the recorder role writes it (bucket policy) and it is read for audits; object access '
        + 'is audited through CloudTrail data events rather than a second logging bucket. Pass serverAccessLogsBucket to add S3 '
        + 'server access logs.',
    });
  }
}

/**
 * The role EventBridge publishes non-compliance notifications with: its grants (sns:Publish on the
 * topic, the topic key's data-key actions) are inline on it, and publishing to a KMS-encrypted topic
 * needs `kms:GenerateDataKey*`.
 *
 * @internal
 */
export function acknowledgeNotificationRole(role: IConstruct): void {
  acknowledgeRoleInlinePolicy(role, 'the EventBridge notification role of FxCompliance');
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
    reason: 'Publishing to the KMS-encrypted alarm topic needs kms:GenerateDataKey* (the SNS publish grant); the statement names only the topic key.',
  });
}
