import * as config from 'aws-cdk-lib/aws-config';

/** How AWS Config triggers a managed rule (from the rule's page in the AWS Config developer guide). */
enum Trigger {
  /** Evaluated when a recorded resource of the scoped types changes: the rule is scoped to those types. */
  CONFIGURATION_CHANGES = 'configuration changes',
  /** Evaluated on a schedule against the service APIs: AWS Config rejects a scope on these rules. */
  PERIODIC = 'periodic',
}

/** Every rule FxCompliance knows, by identifier, in declaration order (filled as the constants below are defined). */
const CATALOGUE = new Map<string, FxComplianceRule>();

interface RuleDefinition {
  readonly identifier: string;
  readonly description: string;
  readonly trigger: Trigger;
  readonly resourceTypes: config.ResourceType[];
}

/**
 * An AWS Config managed rule that FxCompliance knows how to deploy: its identifier, what it
 * checks, and the resource types it is scoped to.
 *
 * Pick rules with the constants (`FxComplianceRule.EKS_SECRETS_ENCRYPTED`), so an unknown rule
 * cannot be named. `FxComplianceRule.of('IDENTIFIER')` is the escape hatch for identifiers held
 * as strings (configuration files, context): FxCompliance rejects an identifier that is not one
 * of `FxComplianceRule.known()` when it is created.
 */
export class FxComplianceRule {
  /**
   * The EKS API server endpoint is not publicly accessible (eks-endpoint-no-public-access, periodic).
   * Only valid for a cluster created with `privateEndpointOnly`.
   */
  public static readonly EKS_ENDPOINT_NO_PUBLIC_ACCESS = FxComplianceRule.define({
    identifier: config.ManagedRuleIdentifiers.EKS_ENDPOINT_NO_PUBLIC_ACCESS,
    description: 'the EKS API server endpoint is not publicly accessible',
    trigger: Trigger.PERIODIC,
    resourceTypes: [],
  });

  /** Kubernetes Secrets are envelope-encrypted with a KMS key (eks-secrets-encrypted, periodic). */
  public static readonly EKS_SECRETS_ENCRYPTED = FxComplianceRule.define({
    identifier: config.ManagedRuleIdentifiers.EKS_SECRETS_ENCRYPTED,
    description: 'Kubernetes Secrets are encrypted with a KMS key',
    trigger: Trigger.PERIODIC,
    resourceTypes: [],
  });

  /**
   * All five control-plane log types are enabled (eks-cluster-log-enabled, configuration changes).
   * Not in aws-cdk-lib's `ManagedRuleIdentifiers`; documented at
   * https://docs.aws.amazon.com/config/latest/developerguide/eks-cluster-log-enabled.html
   */
  public static readonly EKS_CLUSTER_LOG_ENABLED = FxComplianceRule.define({
    identifier: 'EKS_CLUSTER_LOG_ENABLED',
    description: 'the EKS control plane sends api, audit, authenticator, controllerManager and scheduler logs',
    trigger: Trigger.CONFIGURATION_CHANGES,
    resourceTypes: [config.ResourceType.EKS_CLUSTER],
  });

  /** The cluster runs a Kubernetes minor the platform supports (eks-cluster-supported-version, configuration changes). */
  public static readonly EKS_CLUSTER_SUPPORTED_VERSION = FxComplianceRule.define({
    identifier: config.ManagedRuleIdentifiers.EKS_CLUSTER_SUPPORTED_VERSION,
    description: 'the EKS cluster runs a supported Kubernetes version',
    trigger: Trigger.CONFIGURATION_CHANGES,
    resourceTypes: [config.ResourceType.EKS_CLUSTER],
  });

  /** RDS instance storage is encrypted (rds-storage-encrypted, configuration changes). */
  public static readonly RDS_STORAGE_ENCRYPTED = FxComplianceRule.define({
    identifier: config.ManagedRuleIdentifiers.RDS_STORAGE_ENCRYPTED,
    description: 'RDS instance storage is encrypted',
    trigger: Trigger.CONFIGURATION_CHANGES,
    resourceTypes: [config.ResourceType.RDS_DB_INSTANCE],
  });

  /** RDS instances run Multi-AZ (rds-multi-az-support, configuration changes). */
  public static readonly RDS_MULTI_AZ_SUPPORT = FxComplianceRule.define({
    identifier: config.ManagedRuleIdentifiers.RDS_MULTI_AZ_SUPPORT,
    description: 'RDS instances run Multi-AZ',
    trigger: Trigger.CONFIGURATION_CHANGES,
    resourceTypes: [config.ResourceType.RDS_DB_INSTANCE],
  });

  /** RDS automated backups are enabled (db-instance-backup-enabled, configuration changes). */
  public static readonly RDS_DB_INSTANCE_BACKUP_ENABLED = FxComplianceRule.define({
    identifier: config.ManagedRuleIdentifiers.RDS_DB_INSTANCE_BACKUP_ENABLED,
    description: 'RDS automated backups are enabled',
    trigger: Trigger.CONFIGURATION_CHANGES,
    resourceTypes: [config.ResourceType.RDS_DB_INSTANCE],
  });

  /** RDS snapshots are not public (rds-snapshots-public-prohibited, configuration changes). */
  public static readonly RDS_SNAPSHOTS_PUBLIC_PROHIBITED = FxComplianceRule.define({
    identifier: config.ManagedRuleIdentifiers.RDS_SNAPSHOTS_PUBLIC_PROHIBITED,
    description: 'RDS snapshots are not public',
    trigger: Trigger.CONFIGURATION_CHANGES,
    resourceTypes: [config.ResourceType.RDS_DB_SNAPSHOT, config.ResourceType.RDS_DB_CLUSTER_SNAPSHOT],
  });

  /** RDS instances have deletion protection (rds-instance-deletion-protection-enabled, configuration changes). */
  public static readonly RDS_INSTANCE_DELETION_PROTECTION_ENABLED = FxComplianceRule.define({
    identifier: config.ManagedRuleIdentifiers.RDS_INSTANCE_DELETION_PROTECTION_ENABLED,
    description: 'RDS instances have deletion protection',
    trigger: Trigger.CONFIGURATION_CHANGES,
    resourceTypes: [config.ResourceType.RDS_DB_INSTANCE],
  });

  /** Attached EBS volumes are encrypted (encrypted-volumes, configuration changes). */
  public static readonly EBS_ENCRYPTED_VOLUMES = FxComplianceRule.define({
    identifier: config.ManagedRuleIdentifiers.EBS_ENCRYPTED_VOLUMES,
    description: 'attached EBS volumes are encrypted',
    trigger: Trigger.CONFIGURATION_CHANGES,
    resourceTypes: [config.ResourceType.EBS_VOLUME],
  });

  /** Bucket-level settings make no S3 bucket public (s3-bucket-level-public-access-prohibited, configuration changes). */
  public static readonly S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED = FxComplianceRule.define({
    identifier: config.ManagedRuleIdentifiers.S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED,
    description: 'S3 buckets block public access',
    trigger: Trigger.CONFIGURATION_CHANGES,
    resourceTypes: [config.ResourceType.S3_BUCKET],
  });

  /** S3 buckets have default server-side encryption (s3-bucket-server-side-encryption-enabled, configuration changes). */
  public static readonly S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED = FxComplianceRule.define({
    identifier: config.ManagedRuleIdentifiers.S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED,
    description: 'S3 buckets encrypt objects at rest by default',
    trigger: Trigger.CONFIGURATION_CHANGES,
    resourceTypes: [config.ResourceType.S3_BUCKET],
  });

  /** CloudWatch Logs log groups are encrypted with a KMS key (cloudwatch-log-group-encrypted, periodic). */
  public static readonly CLOUDWATCH_LOG_GROUP_ENCRYPTED = FxComplianceRule.define({
    identifier: config.ManagedRuleIdentifiers.CLOUDWATCH_LOG_GROUP_ENCRYPTED,
    description: 'CloudWatch Logs log groups are encrypted with a KMS key',
    trigger: Trigger.PERIODIC,
    resourceTypes: [],
  });

  /**
   * No customer managed IAM policy allows `*` on `*` (iam-policy-no-statements-with-admin-access,
   * configuration changes). AWS Config evaluates customer managed policies only; inline policies
   * written by the platform are checked at synth time by cdk-nag (AwsSolutions-IAM5).
   */
  public static readonly IAM_POLICY_NO_STATEMENTS_WITH_ADMIN_ACCESS = FxComplianceRule.define({
    identifier: config.ManagedRuleIdentifiers.IAM_POLICY_NO_STATEMENTS_WITH_ADMIN_ACCESS,
    description: 'no customer managed IAM policy allows every action on every resource',
    trigger: Trigger.CONFIGURATION_CHANGES,
    resourceTypes: [config.ResourceType.IAM_POLICY],
  });

  /** Every VPC has flow logs (vpc-flow-logs-enabled, periodic). */
  public static readonly VPC_FLOW_LOGS_ENABLED = FxComplianceRule.define({
    identifier: config.ManagedRuleIdentifiers.VPC_FLOW_LOGS_ENABLED,
    description: 'every VPC has flow logs enabled',
    trigger: Trigger.PERIODIC,
    resourceTypes: [],
  });

  /** Opt-in: EBS encryption by default is on for the account and region (ec2-ebs-encryption-by-default, periodic). */
  public static readonly EC2_EBS_ENCRYPTION_BY_DEFAULT = FxComplianceRule.define({
    identifier: config.ManagedRuleIdentifiers.EC2_EBS_ENCRYPTION_BY_DEFAULT,
    description: 'EBS encryption by default is enabled for the account and region',
    trigger: Trigger.PERIODIC,
    resourceTypes: [],
  });

  /** Opt-in: RDS snapshots are encrypted (rds-snapshot-encrypted, configuration changes). */
  public static readonly RDS_SNAPSHOT_ENCRYPTED = FxComplianceRule.define({
    identifier: config.ManagedRuleIdentifiers.RDS_SNAPSHOT_ENCRYPTED,
    description: 'RDS snapshots are encrypted',
    trigger: Trigger.CONFIGURATION_CHANGES,
    resourceTypes: [config.ResourceType.RDS_DB_SNAPSHOT, config.ResourceType.RDS_DB_CLUSTER_SNAPSHOT],
  });

  /**
   * A rule named by its AWS Config managed rule identifier, e.g. `'RDS_STORAGE_ENCRYPTED'`.
   *
   * Returns the same object as the matching constant. An identifier FxCompliance does not know is
   * rejected (with the list of known identifiers) when the FxCompliance is created.
   *
   * @param identifier the managed rule identifier (upper case, as in the AWS Config developer guide)
   */
  public static of(identifier: string): FxComplianceRule {
    return CATALOGUE.get(identifier) ?? new FxComplianceRule({
      identifier,
      description: 'unknown rule',
      trigger: Trigger.PERIODIC,
      resourceTypes: [],
    }, false);
  }

  /** Every rule FxCompliance knows, in catalogue order. */
  public static known(): FxComplianceRule[] {
    return [...CATALOGUE.values()];
  }

  private static define(definition: RuleDefinition): FxComplianceRule {
    const rule = new FxComplianceRule(definition, true);
    CATALOGUE.set(definition.identifier, rule);
    return rule;
  }

  /** The AWS Config managed rule identifier (`Source.SourceIdentifier`). */
  public readonly identifier: string;
  /** What a COMPLIANT evaluation means, in words. */
  public readonly description: string;
  /**
   * Whether AWS Config runs the rule on a schedule rather than on configuration changes. Periodic
   * rules carry no scope (AWS Config rejects one) and need no recorded resource types.
   */
  public readonly periodic: boolean;
  /** Resource types the rule is scoped to, and that the recorder must record (empty for periodic rules). */
  public readonly resourceTypes: config.ResourceType[];
  /** Whether the identifier is one of `FxComplianceRule.known()`. */
  public readonly isKnown: boolean;

  private constructor(definition: RuleDefinition, known: boolean) {
    this.identifier = definition.identifier;
    this.description = definition.description;
    this.periodic = definition.trigger === Trigger.PERIODIC;
    this.resourceTypes = definition.resourceTypes;
    this.isKnown = known;
  }
}
