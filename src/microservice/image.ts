import * as crypto from 'crypto';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { FxValidationError } from '../core/errors';

/** What a bound image gives the Deployment. */
export interface FxImageConfig {
  /** Full image reference for the container spec. */
  readonly imageUri: string;
  /** Short, stable identifier of this exact image (names the migration Job of a rollout). */
  readonly version: string;
}

const NAME = 'FxImage';

function shortHash(value: string): string {
  return crypto.createHash('sha256').update(value).digest('hex').slice(0, 10);
}
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

function checkTagOrDigest(prop: string, value: string): void {
  if (value.toLowerCase() === 'latest') {
    throw new FxValidationError(NAME, prop, value, 'a pinned tag or sha256 digest; latest is never deployed');
  }
  if (!DIGEST.test(value) && !TAG.test(value)) {
    throw new FxValidationError(NAME, prop, value, 'a tag ([A-Za-z0-9_.-], up to 128 characters) or a sha256:<64 hex> digest');
  }
}

/**
 * The container image of an FxMicroservice.
 *
 * - `FxImage.fromAsset(dir)`: built from a local Dockerfile directory at deploy time (DockerImageAsset).
 * - `FxImage.fromEcr(repository, tagOrDigest)`: an image already pushed to ECR, pinned by tag or digest.
 * - `FxImage.fromRegistry(reference)`: any registry reference with a pinned tag or digest.
 *
 * `latest` and untagged references are rejected: a rollout must be reproducible.
 */
export abstract class FxImage {
  /**
   * An image built from a directory containing a Dockerfile.
   *
   * @param directory path of the build context
   * @param options Docker build options
   */
  public static fromAsset(directory: string, options?: FxAssetImageOptions): FxImage {
    return new AssetImage(directory, options ?? {});
  }

  /**
   * An image in an ECR repository.
   *
   * @param repository the repository
   * @param tagOrDigest an immutable tag such as `1.4.2` or a digest `sha256:...`
   */
  public static fromEcr(repository: ecr.IRepository, tagOrDigest: string): FxImage {
    checkTagOrDigest('tagOrDigest', tagOrDigest);
    return new EcrImage(repository, tagOrDigest);
  }

  /**
   * An image from any registry, e.g. `ghcr.io/acme/api:1.4.2` or `nginx@sha256:...`.
   *
   * @param reference full reference with a pinned tag or digest
   */
  public static fromRegistry(reference: string): FxImage {
    const at = reference.indexOf('@');
    const lastSlash = reference.lastIndexOf('/');
    const colon = reference.lastIndexOf(':');
    if (at >= 0) {
      checkTagOrDigest('reference', reference.slice(at + 1));
    } else if (colon > lastSlash) {
      checkTagOrDigest('reference', reference.slice(colon + 1));
    } else {
      throw new FxValidationError(NAME, 'reference', reference, 'a reference with a pinned tag or digest, e.g. ghcr.io/acme/api:1.4.2');
    }
    if (!/^[a-z0-9]([a-z0-9._\-/:@]*[a-zA-Z0-9])?$/.test(reference.split('@')[0].replace(/:[^/]*$/, ''))) {
      throw new FxValidationError(NAME, 'reference', reference, 'a lowercase image name such as ghcr.io/acme/api:1.4.2');
    }
    return new RegistryImage(reference);
  }

  /**
   * Makes the image usable by a workload: creates what it needs under `scope` and lets
   * `nodeRole` (the role that pulls images) read it.
   */
  public abstract bind(scope: Construct, nodeRole?: iam.IGrantable): FxImageConfig;
}

/** Docker build options of `FxImage.fromAsset`. */
export interface FxAssetImageOptions {
  /**
   * Dockerfile name inside the directory.
   *
   * @default 'Dockerfile'
   */
  readonly file?: string;
  /**
   * Build arguments.
   *
   * @default - none
   */
  readonly buildArgs?: Record<string, string>;
  /**
   * Target platform.
   *
   * @default ecrAssets.Platform.LINUX_AMD64
   */
  readonly platform?: ecrAssets.Platform;
}

class AssetImage extends FxImage {
  constructor(private readonly directory: string, private readonly options: FxAssetImageOptions) {
    super();
  }

  public bind(scope: Construct, nodeRole?: iam.IGrantable): FxImageConfig {
    const asset = new ecrAssets.DockerImageAsset(scope, 'ImageAsset', {
      directory: this.directory,
      file: this.options.file,
      buildArgs: this.options.buildArgs,
      platform: this.options.platform ?? ecrAssets.Platform.LINUX_AMD64,
    });
    if (nodeRole) asset.repository.grantPull(nodeRole);
    return { imageUri: asset.imageUri, version: shortHash(asset.assetHash) };
  }
}

class EcrImage extends FxImage {
  constructor(private readonly repository: ecr.IRepository, private readonly tagOrDigest: string) {
    super();
  }

  public bind(_scope: Construct, nodeRole?: iam.IGrantable): FxImageConfig {
    if (nodeRole) this.repository.grantPull(nodeRole);
    return { imageUri: this.repository.repositoryUriForTagOrDigest(this.tagOrDigest), version: shortHash(this.tagOrDigest) };
  }
}

class RegistryImage extends FxImage {
  constructor(private readonly reference: string) {
    super();
  }

  public bind(): FxImageConfig {
    return { imageUri: this.reference, version: shortHash(this.reference) };
  }
}
