import * as fs from 'fs';
import * as path from 'path';
import { CustomResource, CustomResourceProvider, CustomResourceProviderRuntime, Duration, Lazy, Size, Stack, Validations } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { Construct } from 'constructs';
import { check } from '../../core/errors';

/** Where build-tools/bundle-image-copy.ts writes the handler bundle: `<package>/lib/microservice/image-copy.bundle`. */
const IMAGE_COPY_BUNDLE = path.join(__dirname, '..', '..', '..', 'lib', 'microservice', 'image-copy.bundle');
/** The CloudFormation type of the copy. */
export const IMAGE_COPY_RESOURCE_TYPE = 'Custom::FxImageCopy';
/** Construct id of the one provider of a stack (a child of the stack). */
export const IMAGE_COPY_PROVIDER_ID = 'FxImageCopyProvider';

/** Read the source image: its manifests and the pre-signed URLs of its blobs. */
const PULL_ACTIONS = ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'];
/** Read the target's tag (idempotence, conflicts) and write blobs and manifests. */
const PUSH_ACTIONS = ['ecr:BatchGetImage', 'ecr:BatchCheckLayerAvailability', 'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart',
  'ecr:CompleteLayerUpload', 'ecr:PutImage'];

const GRANTS = new WeakMap<CustomResourceProvider, Grants>();

/** The repositories the stack's provider may read from and write to, by ARN (deduplicated). */
class Grants {
  public static of(provider: CustomResourceProvider): Grants {
    let grants = GRANTS.get(provider);
    if (!grants) {
      grants = new Grants(provider);
      GRANTS.set(provider, grants);
    }
    return grants;
  }

  private readonly sources = new Map<string, string>();
  private readonly targets = new Map<string, string>();

  private constructor(provider: CustomResourceProvider) {
    // Two statements whatever the number of services: each lists its repositories by ARN, never `*`.
    provider.addToRolePolicy({
      Sid: 'PullAssetImages',
      Effect: 'Allow',
      Action: PULL_ACTIONS,
      Resource: Lazy.list({ produce: () => [...this.sources.values()] }),
    });
    provider.addToRolePolicy({
      Sid: 'PushServiceRepositories',
      Effect: 'Allow',
      Action: PUSH_ACTIONS,
      Resource: Lazy.list({ produce: () => [...this.targets.values()] }),
    });
  }

  public add(stack: Stack, source: ecr.IRepository, target: ecr.IRepository): void {
    this.sources.set(JSON.stringify(stack.resolve(source.repositoryArn)), source.repositoryArn);
    this.targets.set(JSON.stringify(stack.resolve(target.repositoryArn)), target.repositoryArn);
  }
}

/** Props of `ImageCopy`. */
export interface ImageCopyProps {
  /** Repository holding the built image (the CDK bootstrap assets repository of the stack's synthesizer). */
  readonly source: ecr.IRepository;
  /** Tag of the built image in `source` (the asset's tag). */
  readonly sourceTag: string;
  /** The service's repository. */
  readonly target: ecr.IRepository;
  /** Immutable tag written in `target`. */
  readonly targetTag: string;
}

/**
 * Copies a built image into a service's repository at deploy time (Custom::FxImageCopy), with one
 * Lambda provider per stack (aws-cdk-lib's CustomResourceProvider: a function and its role, no VPC)
 * that may pull from the given asset repositories and push to the given service repositories only.
 * Deleting the resource keeps the image: the repository's removal policy decides about its images.
 *
 * @internal
 */
export class ImageCopy extends Construct {
  /** Digest of the copied image (of its index for a multi-arch image), a deploy-time value. */
  public readonly digest: string;
  /** `<target uri>@<digest>`: the reference pods pull, available once the copy succeeded. */
  public readonly imageUri: string;
  /** The custom resource (whatever uses `imageUri` depends on it through the attribute). */
  public readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: ImageCopyProps) {
    super(scope, id);
    check(fs.existsSync(path.join(IMAGE_COPY_BUNDLE, 'index.js')), 'FxImage', 'image copy handler bundle', IMAGE_COPY_BUNDLE,
      'a built bundle: run `ts-node --transpile-only --project build-tools/tsconfig.json build-tools/bundle-image-copy.ts` (part of the build)');
    const stack = Stack.of(this);
    const provider = CustomResourceProvider.getOrCreateProvider(stack, IMAGE_COPY_PROVIDER_ID, {
      codeDirectory: IMAGE_COPY_BUNDLE,
      runtime: CustomResourceProviderRuntime.NODEJS_24_X,
      description: 'Fx: copies images built from source into their services\' ECR repositories (deploy time)',
      // Layers stream through in parts of the size ECR asks for (10 MiB or so), one blob at a time.
      memorySize: Size.mebibytes(1024),
      timeout: Duration.minutes(15),
    });
    acknowledgeProvider(provider);
    Grants.of(provider).add(stack, props.source, props.target);

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: IMAGE_COPY_RESOURCE_TYPE,
      properties: {
        SourceRepositoryName: props.source.repositoryName,
        SourceImageTag: props.sourceTag,
        TargetRepositoryName: props.target.repositoryName,
        TargetImageTag: props.targetTag,
      },
    });
    this.digest = this.resource.getAttString('Digest');
    this.imageUri = props.target.repositoryUriForDigest(this.digest);
  }
}

const ACKNOWLEDGED = new WeakSet<CustomResourceProvider>();

/** cdk-nag findings of the provider, acknowledged once on its role and function. */
function acknowledgeProvider(provider: CustomResourceProvider): void {
  if (ACKNOWLEDGED.has(provider)) return;
  ACKNOWLEDGED.add(provider);
  const role = provider.node.tryFindChild('Role');
  if (role) {
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'Image copy provider (aws-cdk-lib CustomResourceProvider): the AWS managed execution policy only lets it write its own logs.',
    });
    Validations.of(role).acknowledge({
      id: 'NIST.800.53.R5-IAMNoInlinePolicy',
      reason: 'Image copy provider: CustomResourceProvider keeps its statements (pull the listed asset repositories, push the listed '
        + 'service repositories, by ARN) inline on its own role.',
    });
  }
  const handler = provider.node.tryFindChild('Handler');
  if (!handler) return;
  Validations.of(handler).acknowledge({
    id: 'NIST.800.53.R5-LambdaConcurrency',
    reason: 'Image copy provider: runs only while CloudFormation deploys this stack, one invocation per image change; reserved '
      + 'concurrency would only take capacity from the account pool.',
  });
  Validations.of(handler).acknowledge({
    id: 'NIST.800.53.R5-LambdaDLQ',
    reason: 'Image copy provider: a custom resource handler that CloudFormation invokes synchronously; a failure fails the stack '
      + 'operation, there is no asynchronous event to dead-letter.',
  });
  Validations.of(handler).acknowledge({
    id: 'NIST.800.53.R5-LambdaInsideVPC',
    reason: 'Image copy provider: calls only the ECR API and the pre-signed S3 layer URLs ECR returns (no VPC resource); '
      + 'CustomResourceProvider offers no VPC placement.',
  });
}
