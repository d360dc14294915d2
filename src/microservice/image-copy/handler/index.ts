// Lambda entry point of the image-copy custom resource (Custom::FxImageCopy), behind the CloudFormation
// response wrapper of aws-cdk-lib's CustomResourceProvider: it returns the physical id and attributes,
// the wrapper answers CloudFormation. Bundled into one file by build-tools/bundle-image-copy.ts; the
// AWS SDK v3 (`@aws-sdk/client-ecr`) comes with the Lambda Node.js runtime, is left out of the bundle
// and is loaded only when the function runs (tests drive `handleEvent` with an in-memory fake).
import { copyImage, CopyRequest, Download, EcrApi } from './copy';

/** The resource properties FxImage passes (CloudFormation turns every value into a string). */
export interface ImageCopyProperties {
  readonly SourceRepositoryName: string;
  readonly SourceImageTag: string;
  readonly TargetRepositoryName: string;
  readonly TargetImageTag: string;
}

/** The part of a CloudFormation custom resource request this handler reads. */
export interface ImageCopyEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: ImageCopyProperties;
}

/** The answer the response wrapper sends to CloudFormation. */
export interface ImageCopyResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: { readonly Digest: string; readonly ImageTag: string };
}

/**
 * Create and Update copy the image (idempotently); Delete keeps it: the images of a repository go
 * with the repository, whose removal policy decides.
 */
export async function handleEvent(event: ImageCopyEvent, ecr: EcrApi, download: Download): Promise<ImageCopyResponse> {
  const props = event.ResourceProperties;
  const physicalId = `${props.TargetRepositoryName}:${props.TargetImageTag}`;
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId ?? physicalId };
  for (const key of ['SourceRepositoryName', 'SourceImageTag', 'TargetRepositoryName', 'TargetImageTag'] as const) {
    if (typeof props[key] !== 'string' || props[key] === '') throw new Error(`resource property ${key} is missing`);
  }
  const request: CopyRequest = {
    sourceRepository: props.SourceRepositoryName,
    sourceTag: props.SourceImageTag,
    targetRepository: props.TargetRepositoryName,
    targetTag: props.TargetImageTag,
  };
  const result = await copyImage(ecr, download, request);
  console.log(JSON.stringify({ copied: request, ...result }));
  return { PhysicalResourceId: physicalId, Data: { Digest: result.digest, ImageTag: props.TargetImageTag } };
}

interface SdkClient { send(command: unknown): Promise<unknown> }
type SdkModule = Record<string, new (input: unknown) => unknown> & { ECRClient: new (config: object) => SdkClient };

/** The ECR client of the Lambda runtime's AWS SDK v3, behind the `EcrApi` the copy uses. */
function sdkEcr(): EcrApi {
  // The runtime provides the SDK; it is no dependency of the library (nor of the bundle).
  // eslint-disable-next-line @typescript-eslint/no-require-imports, import/no-extraneous-dependencies
  const sdk = require('@aws-sdk/client-ecr') as SdkModule;
  const client = new sdk.ECRClient({});
  const call = <T>(name: string) => (input: object) => client.send(new sdk[`${name}Command`](input)) as Promise<T>;
  return {
    batchGetImage: call('BatchGetImage'),
    batchCheckLayerAvailability: call('BatchCheckLayerAvailability'),
    getDownloadUrlForLayer: call('GetDownloadUrlForLayer'),
    initiateLayerUpload: call('InitiateLayerUpload'),
    uploadLayerPart: call('UploadLayerPart'),
    completeLayerUpload: call('CompleteLayerUpload'),
    putImage: call('PutImage'),
  };
}

/** Streams a pre-signed layer URL (S3) with the runtime's fetch. */
async function* httpDownload(url: string): AsyncIterable<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok || !response.body) throw new Error(`layer download failed: HTTP ${response.status}`);
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) yield chunk;
}

let ecrClient: EcrApi | undefined;

/** The Lambda handler. */
export async function handler(event: ImageCopyEvent): Promise<ImageCopyResponse> {
  ecrClient ??= sdkEcr();
  return handleEvent(event, ecrClient, httpDownload);
}
