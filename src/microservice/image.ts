import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { CustomResource, Duration, RemovalPolicy, Stack, Token, Tokenization, Validations } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct, IDependable } from 'constructs';
import { ImageCopy } from './image-copy/provider';
import { checkKnownAtSynth, FxValidationError, isUnresolved } from '../core/errors';

/** What a bound image gives the Deployment. */
export interface FxImageConfig {
  /** Full image reference for the container spec. */
  readonly imageUri: string;
  /** Short, stable identifier of this exact image (names the migration Job of a rollout). */
  readonly version: string;
  /**
   * What must be deployed before a workload runs the image: the copy of an image built from source
   * into the service's repository.
   *
   * @default - nothing (the image is in its registry already)
   */
  readonly dependency?: IDependable;
}

const NAME = 'FxImage';

function shortHash(value: string): string {
  return crypto.createHash('sha256').update(value).digest('hex').slice(0, 10);
}
/** The static factories name themselves in errors (they run before any construct). */
const FROM_ECR = 'FxImage.fromEcr';
const FROM_REGISTRY = 'FxImage.fromRegistry';
/** A digest: sha256 (64 hex characters) or sha512 (128), the algorithms of the OCI image spec. */
const DIGEST = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
/** One path component of an image name (distribution/reference grammar). */
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
/** A registry host, optionally with a port: `ghcr.io`, `localhost:5000`, `123456789012.dkr.ecr.us-east-1.amazonaws.com`. */
const REGISTRY = /^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[a-fA-F0-9:]+\])(?::[0-9]{1,5})?$/;
/** Longest image name (registry and path), distribution/reference's NameTotalLengthMax. */
const NAME_MAX = 255;

function checkTagOrDigest(prop: string, value: string): void {
  // A deploy-time value (an ECR tag from a pipeline parameter) is passed on unvalidated.
  if (Token.isUnresolved(value)) return;
  if (value.toLowerCase() === 'latest') {
    throw new FxValidationError(FROM_ECR, prop, value, 'a pinned tag or sha256 digest; latest is never deployed');
  }
  if (value.startsWith('sha256:') || value.includes(':')) {
    if (!DIGEST.test(value)) throw new FxValidationError(FROM_ECR, prop, value, 'a digest of the form sha256:<64 lowercase hex characters> or sha512:<128 lowercase hex characters>');
    return;
  }
  if (!TAG.test(value)) {
    throw new FxValidationError(FROM_ECR, prop, value, 'a tag ([A-Za-z0-9_.-], up to 128 characters, not starting with . or -) or a sha256:<64 hex> digest');
  }
}

/** Whether a tag-or-digest is a digest (`sha256:...`, `sha512:...`): pulled as `<repository>@<digest>`. */
function isDigest(value: string): boolean {
  return !Token.isUnresolved(value) && DIGEST.test(value);
}

/**
 * Checks the literal parts of a reference that holds deploy-time parts (`${registry}/api:${tag}`):
 * what is written at synth must still be possible in a reference. Text next to a token is judged
 * only where its place is certain: no whitespace anywhere, a path segment written whole between two
 * '/' (or after the last one, before the tag) is a lowercase path component, a tag written whole
 * after the last ':' is a tag and not latest.
 */
function checkReferenceParts(reference: string): void {
  const allowed = (why: string) => new FxValidationError(FROM_REGISTRY, 'reference', reference,
    `a pinned image reference such as ghcr.io/acme/api:1.4.2 or nginx@sha256:<64 hex> (${why})`);
  const fragments = Tokenization.reverseString(reference);
  // Literal text with each deploy-time part as one NUL character (never in a literal reference).
  const marked = String(fragments.mapTokens({ mapToken: () => '\u0000' }).join({ join: (a: unknown, b: unknown) => `${a}${b}` }));
  if (/\s/.test(marked)) throw allowed('no spaces');
  if ((marked.match(/@/g) ?? []).length > 1) throw allowed("one '@' at most");
  const [nameAndTag, digest] = marked.split('@');
  if (digest !== undefined && !digest.includes('\u0000') && !DIGEST.test(digest)) throw allowed(`'${digest}' is not sha256:<64 lowercase hex characters>`);
  const segments = nameAndTag.split('/');
  const last = segments[segments.length - 1];
  const colon = last.lastIndexOf(':');
  const tag = colon >= 0 && !last.startsWith('[') ? last.slice(colon + 1) : undefined;
  if (tag !== undefined) segments[segments.length - 1] = last.slice(0, colon);
  if (tag !== undefined && !tag.includes('\u0000')) {
    if (tag === '') throw allowed('the tag after : is empty');
    if (tag.toLowerCase() === 'latest') throw new FxValidationError(FROM_REGISTRY, 'reference', reference, 'a pinned tag or sha256 digest; latest is never deployed');
    if (!TAG.test(tag)) throw allowed(`tag '${tag}' may use [A-Za-z0-9_.-], up to 128 characters`);
  }
  // The first segment may be a registry host (any case, a port); the others are path components.
  segments.slice(1).forEach((segment) => {
    if (segment.includes('\u0000')) {
      const literal = segment.split('\u0000').join('');
      if (/[^a-z0-9._-]/.test(literal)) throw allowed(`path segment '${segment.replace(/\u0000/g, '<token>')}' must be lowercase letters and digits separated by ., _, __ or -`);
      return;
    }
    if (segment === '') throw allowed('a path segment is empty');
    if (!PATH_COMPONENT.test(segment)) throw allowed(`path segment '${segment}' must be lowercase letters and digits separated by ., _, __ or -`);
  });
}

/** Construct id of the one version function of a stack (a child of the stack). */
const VERSION_FUNCTION_ID = 'FxImageVersionFunction';

/**
 * A short version of a deploy-time image reference, computed at deploy time (the first 10 hex
 * characters of the SHA-256 of the reference CloudFormation resolved), so that what is named after
 * the version (the migration Job of a rollout) changes with a tag that comes from a parameter. One
 * small inline function per stack answers every such image.
 */
function deployTimeVersion(scope: Construct, reference: string): string {
  const stack = Stack.of(scope);
  const existing = stack.node.tryFindChild(VERSION_FUNCTION_ID) as lambda.Function | undefined;
  const fn = existing ?? new lambda.Function(stack, VERSION_FUNCTION_ID, {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    timeout: Duration.seconds(30),
    description: 'Fx: the short version of an image reference known only at deploy time (names its migration Job)',
    code: lambda.Code.fromInline([
      "const crypto = require('crypto');",
      'exports.handler = async (event) => {',
      "  const version = crypto.createHash('sha256').update(String(event.ResourceProperties.Reference)).digest('hex').slice(0, 10);",
      '  const body = JSON.stringify({',
      "    Status: 'SUCCESS', PhysicalResourceId: event.PhysicalResourceId || event.LogicalResourceId, StackId: event.StackId,",
      '    RequestId: event.RequestId, LogicalResourceId: event.LogicalResourceId, Data: { Version: version },',
      '  });',
      "  await fetch(event.ResponseURL, { method: 'PUT', body, headers: { 'content-type': '' } });",
      '};',
    ].join('\n')),
  });
  const known = scope.node.tryFindChild('ImageVersion') as CustomResource | undefined;
  if (known) return known.getAttString('Version');
  if (!existing) acknowledgeVersionFunction(fn);
  const resource = new CustomResource(scope, 'ImageVersion', {
    serviceToken: fn.functionArn,
    resourceType: 'Custom::FxImageVersion',
    properties: { Reference: reference },
  });
  return resource.getAttString('Version');
}

/** cdk-nag findings of the version function, acknowledged once, on its role and itself. */
function acknowledgeVersionFunction(fn: lambda.Function): void {
  if (fn.role) {
    Validations.of(fn.role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'Image version function: the AWS managed execution policy only lets it write its own logs; it calls no AWS API.',
    });
  }
  for (const [id, reason] of [
    ['NIST.800.53.R5-LambdaConcurrency', 'Image version function: runs only while CloudFormation deploys the stack, once per image change.'],
    ['NIST.800.53.R5-LambdaDLQ', 'Image version function: a custom resource handler CloudFormation invokes synchronously; nothing to dead-letter.'],
    ['NIST.800.53.R5-LambdaInsideVPC', 'Image version function: hashes its input and answers CloudFormation\'s pre-signed URL; it reaches no VPC resource.'],
  ]) Validations.of(fn).acknowledge({ id, reason });
}

/**
 * Validates a full image reference `[registry/]path[:tag][@digest]` with a pinned tag or digest,
 * naming what is wrong (empty tag, empty path segment, two tags, malformed digest...).
 */
function checkReference(reference: string): void {
  const allowed = (why: string) => new FxValidationError(FROM_REGISTRY, 'reference', reference, `a pinned image reference such as ghcr.io/acme/api:1.4.2 or nginx@sha256:<64 hex> (${why})`);
  if (reference.trim() !== reference || reference.length === 0) throw allowed('no spaces, not empty');
  const [nameAndTag, digest, ...more] = reference.split('@');
  if (more.length > 0) throw allowed("one '@' at most");
  if (digest !== undefined && !DIGEST.test(digest)) throw allowed(`'${digest}' is not sha256:<64 lowercase hex characters>`);
  const segments = nameAndTag.split('/');
  const last = segments[segments.length - 1];
  // An IPv6 registry with no path ('[::1]:5000') has no tag to split off.
  const colons = segments.length === 1 || !last.startsWith('[') ? last.split(':') : [last];
  if (colons.length > 2) throw allowed('one tag at most');
  const tag = colons.length === 2 ? colons[1] : undefined;
  segments[segments.length - 1] = colons[0];
  if (tag === undefined && digest === undefined) throw allowed('a tag or a digest is required');
  if (tag !== undefined) {
    if (tag === '') throw allowed('the tag after : is empty');
    if (tag.toLowerCase() === 'latest') throw new FxValidationError(FROM_REGISTRY, 'reference', reference, 'a pinned tag or sha256 digest; latest is never deployed');
    if (!TAG.test(tag)) throw allowed(`tag '${tag}' may use [A-Za-z0-9_.-], up to 128 characters`);
  }
  const name = segments.join('/');
  const registry = segments.length > 1 && /[.:[]|^localhost$/.test(segments[0]) ? segments.shift()! : undefined;
  if (registry !== undefined && !REGISTRY.test(registry)) throw allowed(`'${registry}' is not a registry host[:port]`);
  const portText = registry === undefined ? undefined : /:(\d+)$/.exec(registry.replace(/^\[[^\]]*\]/, ''))?.[1];
  const port = portText !== undefined ? Number(portText) : undefined;
  if (port !== undefined && !(port >= 1 && port <= 65535)) throw allowed(`registry port ${port} is not from 1 to 65535`);
  for (const segment of segments) {
    if (segment === '') throw allowed('a path segment is empty');
    if (!PATH_COMPONENT.test(segment)) throw allowed(`path segment '${segment}' must be lowercase letters and digits separated by ., _, __ or -`);
  }
  if (name.length > NAME_MAX) throw allowed(`the name before the tag is ${name.length} characters, at most ${NAME_MAX}`);
}

/**
 * The container image of an FxMicroservice.
 *
 * - `FxImage.fromAsset(dir)`: built from a local Dockerfile directory (DockerImageAsset, published by the CDK CLI to the
 *   bootstrap assets repository), then copied at deploy time into the service's own repository, where pods pull it by digest.
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
    // A reference with a deploy-time part (a tag from a parameter): only its literal parts are checked.
    if (!Token.isUnresolved(reference)) checkReference(reference);
    else if (!reference.includes('#{Token[')) checkReferenceParts(reference);
    return new RegistryImage(reference);
  }

  /**
   * Makes the image usable by a workload: creates what it needs under `scope` and lets
   * `nodeRole` (the role that pulls images) read it.
   *
   * @param scope where the image's resources go
   * @param nodeRole the role that pulls images, if it needs a grant
   * @param repository the service's repository: an image built from source is copied there at deploy time
   * (without one it is pulled from the CDK assets repository); other images ignore it
   */
  public abstract bind(scope: Construct, nodeRole?: iam.IGrantable, repository?: ecr.IRepository): FxImageConfig;
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
   * Target platform: `ecrAssets.Platform.LINUX_AMD64` or `ecrAssets.Platform.LINUX_ARM64` (the node architectures
   * of the platform).
   *
   * @default ecrAssets.Platform.LINUX_AMD64
   */
  readonly platform?: ecrAssets.Platform;
}

const PLATFORMS = [ecrAssets.Platform.LINUX_AMD64.platform, ecrAssets.Platform.LINUX_ARM64.platform];

/** The build context must be a directory holding the Dockerfile (checked when bound, so errors name the service). */
function checkBuildContext(directory: string, options: FxAssetImageOptions): void {
  if (!fs.existsSync(directory) || !fs.statSync(directory).isDirectory()) {
    throw new FxValidationError(NAME, 'directory', directory, `an existing directory (the Docker build context; resolved to ${path.resolve(directory)})`);
  }
  const file = options.file ?? 'Dockerfile';
  if (path.isAbsolute(file) || path.relative(directory, path.resolve(directory, file)).startsWith('..')) {
    throw new FxValidationError(NAME, 'file', file, `a Dockerfile path relative to and inside the directory ${directory}`);
  }
  const dockerfile = path.join(directory, file);
  if (!fs.existsSync(dockerfile) || !fs.statSync(dockerfile).isFile()) {
    if (options.file === undefined) {
      throw new FxValidationError(NAME, 'directory', directory, 'a directory containing a Dockerfile (or name the Dockerfile with the file option)');
    }
    throw new FxValidationError(NAME, 'file', file, `a Dockerfile that exists in the directory ${directory}`);
  }
  for (const [key, value] of Object.entries(options.buildArgs ?? {})) {
    checkKnownAtSynth(key, NAME, 'buildArgs', 'the CDK CLI builds the image before deployment, with the keys and values as written');
    // Passed as --build-arg KEY=VALUE: an empty key or one holding '=' names another argument than written.
    if (key === '' || key.includes('=') || /\s/.test(key)) {
      throw new FxValidationError(NAME, 'buildArgs', key, "build argument names without '=' or whitespace, not empty (each is passed as --build-arg NAME=VALUE)");
    }
    checkKnownAtSynth(value, NAME, `buildArgs.${key}`, 'the CDK CLI builds the image before deployment, with the values as written');
  }
  const platform = options.platform?.platform;
  if (platform !== undefined && !PLATFORMS.includes(platform)) {
    throw new FxValidationError(NAME, 'platform', platform, PLATFORMS.join(' or '));
  }
}

class AssetImage extends FxImage {
  constructor(private readonly directory: string, private readonly options: FxAssetImageOptions) {
    super();
  }

  /** The target platform (`linux/amd64` unless set). */
  public get platform(): string {
    return (this.options.platform ?? ecrAssets.Platform.LINUX_AMD64).platform;
  }

  public bind(scope: Construct, nodeRole?: iam.IGrantable, repository?: ecr.IRepository): FxImageConfig {
    checkBuildContext(this.directory, this.options);
    const asset = new ecrAssets.DockerImageAsset(scope, 'ImageAsset', {
      directory: this.directory,
      file: this.options.file,
      buildArgs: this.options.buildArgs,
      platform: this.options.platform ?? ecrAssets.Platform.LINUX_AMD64,
    });
    const version = shortHash(asset.assetHash);
    if (!repository) {
      if (nodeRole) asset.repository.grantPull(nodeRole);
      return { imageUri: asset.imageUri, version };
    }
    // The asset hash (64 hex characters) is the immutable tag in the service's repository: one build, one tag.
    const copy = new ImageCopy(scope, 'ImageCopy', { source: asset.repository, sourceTag: asset.imageTag, target: repository, targetTag: asset.assetHash });
    if (nodeRole) repository.grantPull(nodeRole);
    return { imageUri: copy.imageUri, version, dependency: copy.resource };
  }
}

class EcrImage extends FxImage {
  constructor(private readonly repository: ecr.IRepository, private readonly tagOrDigest: string) {
    super();
  }

  public bind(_scope: Construct, nodeRole?: iam.IGrantable): FxImageConfig {
    if (nodeRole) this.repository.grantPull(nodeRole);
    // aws-cdk-lib pulls only sha256 digests by '@': any digest is (a sha512 one after ':' is no reference).
    const imageUri = isDigest(this.tagOrDigest)
      ? this.repository.repositoryUriForDigest(this.tagOrDigest)
      : this.repository.repositoryUriForTagOrDigest(this.tagOrDigest);
    return { imageUri, version: shortHash(this.tagOrDigest) };
  }

  /** A tag from a parameter changes at deploy: so does the version then. */
  public deployTimeVersion(scope: Construct): string | undefined {
    if (!isUnresolved(this.tagOrDigest)) return undefined;
    return deployTimeVersion(scope, this.bind(scope).imageUri);
  }
}

class RegistryImage extends FxImage {
  constructor(private readonly reference: string) {
    super();
  }

  public bind(): FxImageConfig {
    return { imageUri: this.reference, version: shortHash(this.reference) };
  }

  /** A reference with a deploy-time part changes at deploy: so does the version then. */
  public deployTimeVersion(scope: Construct): string | undefined {
    return isUnresolved(this.reference) ? deployTimeVersion(scope, this.reference) : undefined;
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

/**
 * The version of an image whose tag or reference is a deploy-time value, worked out at deploy time
 * (a custom resource under `scope`), or `undefined` when the synth-time version already follows the
 * image. For what must be renamed when the image changes: the migration Job.
 *
 * @internal
 */
export function deployTimeVersionOf(image: FxImage, scope: Construct): string | undefined {
  return image instanceof EcrImage || image instanceof RegistryImage ? image.deployTimeVersion(scope) : undefined;
}

/**
 * The platform an image is built for, when this app builds it (`FxImage.fromAsset`): `linux/amd64`
 * or `linux/arm64`; `undefined` for images from a registry, whose platforms are unknown at synth.
 *
 * @internal
 */
export function builtPlatformOf(image: FxImage): string | undefined {
  return image instanceof AssetImage ? image.platform : undefined;
}
