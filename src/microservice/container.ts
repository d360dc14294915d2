import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { FxImage } from './image';
import { FxProbe } from './probes';
import { FxResources } from './props';

/**
 * Security context overrides for images that need them, always inside Pod Security Standards
 * "restricted": non-root, no privilege escalation, all capabilities dropped (NET_BIND_SERVICE may be
 * added back), RuntimeDefault seccomp, read-only root file system.
 */
export interface FxSecurityContext {
  /**
   * User id the container runs as (not 0).
   *
   * @default 10001
   */
  readonly runAsUser?: number;
  /**
   * Primary group id (not 0).
   *
   * @default 10001
   */
  readonly runAsGroup?: number;
  /**
   * Group owning mounted volumes (pod-wide: only on the service itself, not on a sidecar).
   *
   * @default 10001
   */
  readonly fsGroup?: number;
  /**
   * Paths made writable with an emptyDir each (the root file system stays read-only), e.g.
   * `['/var/cache/nginx']`. `/tmp` is always writable.
   *
   * @default - none besides /tmp
   */
  readonly writablePaths?: string[];
  /**
   * Capabilities added back after dropping ALL: only `NET_BIND_SERVICE` is allowed by Pod Security restricted.
   *
   * @default - none
   */
  readonly addCapabilities?: string[];
  /**
   * Privileged mode: never allowed (Pod Security restricted); stated only to be rejected with a clear message.
   *
   * @default false
   */
  readonly privileged?: boolean;
  /**
   * Privilege escalation (setuid binaries): never allowed (Pod Security restricted).
   *
   * @default false
   */
  readonly allowPrivilegeEscalation?: boolean;
}

/** A volume of the service mounted into a sidecar or init container. */
export interface FxVolumeMount {
  /** Name of one of the service's `volumes`. */
  readonly volume: string;
  /** Where it is mounted. */
  readonly mountPath: string;
  /**
   * Mount read-only.
   *
   * @default - as the volume is mounted in the service container
   */
  readonly readOnly?: boolean;
}

/** A sidecar or init container, hardened like the service container. */
export interface FxContainer {
  /** Container name (a DNS label, unique in the pod; `app` is the service's). */
  readonly name: string;
  /** Image (pinned tag or digest). */
  readonly image: FxImage;
  /**
   * Entrypoint.
   *
   * @default - the image's ENTRYPOINT
   */
  readonly command?: string[];
  /**
   * Arguments.
   *
   * @default - the image's CMD
   */
  readonly args?: string[];
  /**
   * Plain environment variables.
   *
   * @default - none
   */
  readonly env?: Record<string, string>;
  /**
   * CPU and memory of this container.
   *
   * @default - 50m/64Mi requested, 200m/128Mi limit
   */
  readonly resources?: FxResources;
  /**
   * Port the container listens on (sidecars only; reachable from the pod's other containers on localhost).
   *
   * @default - none
   */
  readonly port?: number;
  /**
   * Liveness probe (sidecars only).
   *
   * @default - none
   */
  readonly livenessProbe?: FxProbe;
  /**
   * Readiness probe (sidecars only).
   *
   * @default - none
   */
  readonly readinessProbe?: FxProbe;
  /**
   * Security context overrides (`fsGroup` is pod-wide and not allowed here).
   *
   * @default - the service's user and group, read-only root file system, /tmp writable
   */
  readonly securityContext?: FxSecurityContext;
  /**
   * Service volumes mounted into this container.
   *
   * @default - none
   */
  readonly volumeMounts?: FxVolumeMount[];
}

/** Options common to every volume. */
export interface FxVolumeOptions {
  /** Volume name (a DNS label, unique in the service). */
  readonly name: string;
  /** Where the service container mounts it. */
  readonly mountPath: string;
}

/** A claim on a storage class. */
export interface FxClaimVolumeOptions extends FxVolumeOptions {
  /**
   * Requested size (a Kubernetes quantity). EFS grows as needed and only records it.
   *
   * @default '10Gi'
   */
  readonly size?: string;
  /**
   * Mount read-only.
   *
   * @default false
   */
  readonly readOnly?: boolean;
}

/** ConfigMap data mounted as files. */
export interface FxConfigMapVolumeOptions extends FxVolumeOptions {
  /** File name to content. */
  readonly files: Record<string, string>;
}

/** A Secrets Manager secret mounted as files (one per JSON key) through External Secrets. */
export interface FxSecretVolumeOptions extends FxVolumeOptions {
  /** The secret (a JSON object). */
  readonly secret: secretsmanager.ISecret;
  /**
   * JSON keys to mount, each as a file of the same name.
   *
   * @default - every key of the secret
   */
  readonly keys?: string[];
}

/**
 * A volume of the service.
 *
 * - `FxVolume.efs(...)`: a shared ReadWriteMany claim on the cluster's `efs-sc` StorageClass (EFS);
 * - `FxVolume.gp3(...)`: a ReadWriteOnce claim per pod on `gp3` (EBS): the workload becomes a StatefulSet
 *   with a headless Service, each replica keeping its own volume;
 * - `FxVolume.configMap(...)`: files from data in the stack;
 * - `FxVolume.secret(...)`: files from a Secrets Manager secret (synced by External Secrets).
 */
export class FxVolume {
  /** A shared EFS claim (ReadWriteMany), the same files in every replica. */
  public static efs(options: FxClaimVolumeOptions): FxVolume {
    return new FxVolume('efs', options);
  }

  /** An EBS gp3 claim per replica (ReadWriteOnce): makes the workload a StatefulSet. */
  public static gp3(options: FxClaimVolumeOptions): FxVolume {
    return new FxVolume('gp3', options);
  }

  /** Files from ConfigMap data. */
  public static configMap(options: FxConfigMapVolumeOptions): FxVolume {
    return new FxVolume('configMap', options, options.files);
  }

  /** Files from a Secrets Manager secret. */
  public static secret(options: FxSecretVolumeOptions): FxVolume {
    return new FxVolume('secret', options, undefined, options.secret, options.keys);
  }

  /** `efs`, `gp3`, `configMap` or `secret`. */
  public readonly kind: string;
  /** Volume name. */
  public readonly name: string;
  /** Mount path in the service container. */
  public readonly mountPath: string;
  /** Claim size (efs, gp3). */
  public readonly size?: string;
  /** Whether the service container mounts it read-only. */
  public readonly readOnly: boolean;
  /** ConfigMap files. */
  public readonly files?: Record<string, string>;
  /** Secrets Manager secret (secret volumes). */
  public readonly sourceSecret?: secretsmanager.ISecret;
  /** Secret keys. */
  public readonly keys?: string[];

  private constructor(kind: string, options: FxClaimVolumeOptions,
    files?: Record<string, string>, secret?: secretsmanager.ISecret, keys?: string[]) {
    this.kind = kind;
    this.name = options.name;
    this.mountPath = options.mountPath;
    this.size = options.size;
    // ConfigMap and Secret volumes are always read-only in Kubernetes.
    this.readOnly = kind === 'configMap' || kind === 'secret' ? true : options.readOnly ?? false;
    this.files = files;
    this.sourceSecret = secret;
    this.keys = keys;
  }
}

/** Operator of a node affinity requirement. */
export enum FxNodeOperator {
  /** The label's value is one of `values`. */
  IN = 'In',
  /** The label's value is none of `values` (or the label is absent). */
  NOT_IN = 'NotIn',
  /** The label is present (no `values`). */
  EXISTS = 'Exists',
  /** The label is absent (no `values`). */
  DOES_NOT_EXIST = 'DoesNotExist',
  /** The label's value is an integer greater than the one value. */
  GT = 'Gt',
  /** The label's value is an integer less than the one value. */
  LT = 'Lt',
}

/** One condition on a node label. */
export interface FxNodeRequirement {
  /** Node label key, e.g. `karpenter.sh/nodepool` or `node.kubernetes.io/instance-type`. */
  readonly key: string;
  /** How the label is compared. */
  readonly operator: FxNodeOperator;
  /**
   * Values (one or more for In/NotIn, exactly one integer for Gt/Lt, none for Exists/DoesNotExist).
   *
   * @default - none
   */
  readonly values?: string[];
}

/** A weighted node preference: the scheduler favours nodes meeting every requirement. */
export interface FxNodePreference {
  /** Weight from 1 to 100. */
  readonly weight: number;
  /** Requirements a preferred node meets. */
  readonly requirements: FxNodeRequirement[];
}

/** A taint the pods tolerate. */
export interface FxToleration {
  /** Taint key. */
  readonly key: string;
  /**
   * Taint value.
   *
   * @default - any value (operator Exists)
   */
  readonly value?: string;
  /**
   * Taint effect.
   *
   * @default - every effect
   */
  readonly effect?: eks.TaintEffect;
}

/** Where the pods may run. Spot capacity is the separate `spot` prop; topology spread is always on. */
export interface FxPlacement {
  /**
   * Taints tolerated (e.g. of a dedicated node group).
   *
   * @default - none besides the spot taint when `spot` is set
   */
  readonly tolerations?: FxToleration[];
  /**
   * Node labels every node running the pods carries, e.g. `{ 'karpenter.sh/nodepool': 'batch' }`.
   *
   * @default - any node
   */
  readonly nodeSelector?: Record<string, string>;
  /**
   * Requirements every node must meet (node affinity, required during scheduling).
   *
   * @default - none
   */
  readonly requiredNodeAffinity?: FxNodeRequirement[];
  /**
   * Weighted preferences (node affinity, preferred during scheduling).
   *
   * @default - none besides spot nodes when `spot` is set
   */
  readonly preferredNodeAffinity?: FxNodePreference[];
}
