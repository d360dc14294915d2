import * as crypto from 'crypto';
import { RemovalPolicy, Token } from 'aws-cdk-lib';
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
/** One path component of an image name (distribution/reference grammar). */
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
/** A registry host, optionally with a port: `ghcr.io`, `localhost:5000`, `123456789012.dkr.ecr.us-east-1.amazonaws.com`. */
const REGISTRY = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]{1,5})?$/;

function checkTagOrDigest(prop: string, value: string): void {
  // A deploy-time value (an ECR tag from a pipeline parameter) is passed on unvalidated.
  if (Token.isUnresolved(value)) return;
  if (value.toLowerCase() === 'latest') {
    throw new FxValidationError(NAME, prop, value, 'a pinned tag or sha256 digest; latest is never deployed');
  }
  if (value.startsWith('sha256:') || value.includes(':')) {
    if (!DIGEST.test(value)) throw new FxValidationError(NAME, prop, value, 'a digest of the form sha256:<64 lowercase hex characters>');
    return;
  }
  if (!TAG.test(value)) {
    throw new FxValidationError(NAME, prop, value, 'a tag ([A-Za-z0-9_.-], up to 128 characters, not starting with . or -) or a sha256:<64 hex> digest');
  }
}

/**
 * Validates a full image reference `[registry/]path[:tag][@digest]` with a pinned tag or digest,
 * naming what is wrong (empty tag, empty path segment, two tags, malformed digest...).
 */
function checkReference(reference: string): void {
  const allowed = (why: string) => new FxValidationError(NAME, 'reference', reference, `a pinned image reference such as ghcr.io/acme/api:1.4.2 or nginx@sha256:<64 hex> (${why})`);
  if (reference.trim() !== reference || reference.length === 0) throw allowed('no spaces, not empty');
  const [nameAndTag, digest, ...more] = reference.split('@');
  if (more.length > 0) throw allowed("one '@' at most");
  if (digest !== undefined && !DIGEST.test(digest)) throw allowed(`'${digest}' is not sha256:<64 lowercase hex characters>`);
  const segments = nameAndTag.split('/');
  const last = segments[segments.length - 1];
  const colons = last.split(':');
  if (colons.length > 2) throw allowed('one tag at most');
  const tag = colons.length === 2 ? colons[1] : undefined;
  segments[segments.length - 1] = colons[0];
  if (tag === undefined && digest === undefined) throw allowed('a tag or a digest is required');
  if (tag !== undefined) {
    if (tag === '') throw allowed('the tag after : is empty');
    if (tag.toLowerCase() === 'latest') throw new FxValidationError(NAME, 'reference', reference, 'a pinned tag or sha256 digest; latest is never deployed');
    if (!TAG.test(tag)) throw allowed(`tag '${tag}' may use [A-Za-z0-9_.-], up to 128 characters`);
  }
  const registry = segments.length > 1 && /[.:]|^localhost$/.test(segments[0]) ? segments.shift()! : undefined;
  if (registry !== undefined && !REGISTRY.test(registry)) throw allowed(`'${registry}' is not a registry host[:port]`);
  for (const segment of segments) {
    if (segment === '') throw allowed('a path segment is empty');
    if (!PATH_COMPONENT.test(segment)) throw allowed(`path segment '${segment}' must be lowercase letters and digits separated by ., _, __ or -`);
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
    // A reference with a deploy-time part (a tag from a parameter) is passed on as it is.
    if (!Token.isUnresolved(reference)) checkReference(reference);
    return new RegistryImage(reference);
  }

  /**
   * Makes the image usable by a workload: creates what it needs under `scope` and lets
   * `nodeRole` (the role that pulls images) read it.
   */
  public abstract bind(scope: Construct, nodeRole?: iam.IGrantable): FxImageConfig;
}

/**
 * The ECR repository of one service, for CI pipelines that push its images.
 *
 * No explicit name: CloudFormation generates one (the repository's URI is exposed), so a
 * repository left behind by a rolled-back first create or a destroyed stack never blocks a
 * retry with AlreadyExists. `removalPolicy` comes from the profile (`FxProfileSettings.removalPolicy`):
 * `DESTROY` empties the repository on delete (CloudFormation's EmptyOnDelete, no custom resource),
 * `RETAIN_ON_UPDATE_OR_DELETE` keeps images when the stack is updated or deleted.
 *
 * @internal
 */
export function createServiceRepository(scope: Construct, id: string, imagesToKeep: number, removalPolicy: RemovalPolicy): ecr.Repository {
  const destroy = removalPolicy === RemovalPolicy.DESTROY;
  return new ecr.Repository(scope, id, {
    imageScanOnPush: true,
    imageTagMutability: ecr.TagMutability.IMMUTABLE,
    encryption: ecr.RepositoryEncryption.KMS,
    lifecycleRules: [{ description: `keep the last ${imagesToKeep} images`, maxImageCount: imagesToKeep }],
    removalPolicy: destroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    emptyOnDelete: destroy ? true : undefined,
  });
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

/**
 * Whether the image is built from source by this app (`FxImage.fromAsset`): only such a service gets
 * an ECR repository of its own; registry and existing ECR images need none.
 *
 * @internal
 */
export function isBuiltImage(image: FxImage): boolean {
  return image instanceof AssetImage;
}
