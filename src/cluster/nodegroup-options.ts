import { Size } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';

/** Operating system of a managed node group. */
export enum FxNodeImage {
  /** Amazon Linux 2023 EKS-optimized AMI. */
  AL2023 = 'AL2023',
  /** Bottlerocket: minimal, immutable container OS. */
  BOTTLEROCKET = 'BOTTLEROCKET',
}

/** One managed node group of an FxCluster. */
export interface FxNodeGroupOptions {
  /** Name of the node group, unique in the cluster (letters, digits, `-`, `_`; up to 63 characters). */
  readonly name: string;
  /**
   * Instance types. At least t3.medium (2 vCPU, 4 GiB): burstable types from `medium`, other
   * families from `large`, each a size its family has. At most 20 (the EKS node group API); spot
   * groups need at least two types, all of one CPU architecture.
   * @default - the profile's node instance type (t3.large in production, t3.medium in development)
   */
  readonly instanceTypes?: ec2.InstanceType[];
  /**
   * On-demand or spot capacity.
   * @default eks.CapacityType.ON_DEMAND
   */
  readonly capacityType?: eks.CapacityType;
  /**
   * Minimum number of nodes.
   * @default - the profile's node minimum (3 in production, 2 in development)
   */
  readonly minSize?: number;
  /**
   * Desired number of nodes when the group is created.
   * @default - the profile's desired node count (3 in production, 2 in development)
   */
  readonly desiredSize?: number;
  /**
   * Maximum number of nodes.
   * @default - the profile's node maximum (9 in production, 4 in development)
   */
  readonly maxSize?: number;
  /**
   * Kubernetes labels of the nodes.
   * @default - only `fx.platform/node-group: <name>`
   */
  readonly labels?: { [key: string]: string };
  /**
   * Kubernetes taints of the nodes.
   * @default - no taints
   */
  readonly taints?: eks.TaintSpec[];
  /**
   * Size of the encrypted gp3 root (AL2023) or data (Bottlerocket) volume.
   * @default Size.gibibytes(50)
   */
  readonly diskSize?: Size;
  /**
   * Node operating system.
   * @default FxNodeImage.AL2023
   */
  readonly image?: FxNodeImage;
}
