import * as config from 'aws-cdk-lib/aws-config';

/** How often the AWS Config recorder records changes (its largest cost driver). */
export enum FxConfigRecordingFrequency {
  /** Every change is recorded as it happens: configuration-change rules evaluate within minutes. */
  CONTINUOUS = 'CONTINUOUS',
  /** At most one configuration item per resource per day: cheaper, rules see drift up to a day later. */
  DAILY = 'DAILY',
}

/**
 * What the AWS Config recorder of FxCompliance records, or that the account already has one.
 *
 * An account has at most one configuration recorder (and one delivery channel) per region. Use
 * `FxConfigRecording.EXISTING` where AWS Config is already set up (AWS Control Tower, an
 * organization conformance setup, another stack): FxCompliance then creates only its rules and
 * notifications and relies on that recorder.
 */
export class FxConfigRecording {
  /**
   * The resource types the platform creates and the scoped rules evaluate (EKS, RDS, EC2 network
   * and volumes, S3, IAM roles and policies, KMS, Secrets Manager, ELB, ECR, EFS, SNS, Backup).
   */
  public static readonly PLATFORM_RESOURCES = new FxConfigRecording('platform', []);

  /** Every resource type AWS Config supports in the region, including global IAM types. */
  public static readonly ALL_SUPPORTED = new FxConfigRecording('all', []);

  /** AWS Config is already recording in this account and region: create no recorder, delivery channel or bucket. */
  public static readonly EXISTING = new FxConfigRecording('existing', []);

  /**
   * These resource types, plus those the selected rules are scoped to.
   *
   * @param resourceTypes the types to record, e.g. `[config.ResourceType.EKS_CLUSTER]`
   */
  public static resourceTypes(resourceTypes: config.ResourceType[]): FxConfigRecording {
    return new FxConfigRecording('custom', resourceTypes);
  }

  /** @internal */
  public readonly _mode: string;
  /** @internal */
  public readonly _resourceTypes: config.ResourceType[];

  private constructor(mode: string, resourceTypes: config.ResourceType[]) {
    this._mode = mode;
    this._resourceTypes = resourceTypes;
  }
}
