// Copies one image between two ECR repositories of the same registry with the ECR API alone: the
// source manifest from BatchGetImage, every blob the target lacks (BatchCheckLayerAvailability) read
// from the source's pre-signed layer URL (GetDownloadUrlForLayer) and written in parts
// (InitiateLayerUpload / UploadLayerPart / CompleteLayerUpload), then PutImage with the manifest's
// exact bytes and media type. An image index (multi-arch, or with attestations) has each child
// manifest copied by digest first. No third-party code: the AWS SDK v3 of the Lambda runtime is
// adapted to `EcrApi` in ./index.ts, and tests drive this file with an in-memory fake.
import { createHash } from 'crypto';

/** The manifest media types the copy reads and writes (BatchGetImage returns nothing else). */
export const MANIFEST_MEDIA_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];
const INDEX_MEDIA_TYPES = new Set(MANIFEST_MEDIA_TYPES.slice(0, 2));
/** ECR's BatchCheckLayerAvailability takes at most 100 digests. */
const AVAILABILITY_BATCH = 100;
/** Used when InitiateLayerUpload names no part size. */
const DEFAULT_PART_SIZE = 10 * 1024 * 1024;

/** An image by tag or digest (the fields of ECR's ImageIdentifier). */
export interface ImageId {
  readonly imageTag?: string;
  readonly imageDigest?: string;
}

/** The ECR operations the copy uses, with the AWS SDK v3 input and output shapes it reads. */
export interface EcrApi {
  batchGetImage(input: { repositoryName: string; imageIds: ImageId[]; acceptedMediaTypes: string[] }): Promise<{
    images?: Array<{ imageId?: ImageId; imageManifest?: string; imageManifestMediaType?: string }>;
    failures?: Array<{ imageId?: ImageId; failureCode?: string; failureReason?: string }>;
  }>;
  batchCheckLayerAvailability(input: { repositoryName: string; layerDigests: string[] }): Promise<{
    layers?: Array<{ layerDigest?: string; layerAvailability?: string }>;
    failures?: Array<{ layerDigest?: string; failureCode?: string; failureReason?: string }>;
  }>;
  getDownloadUrlForLayer(input: { repositoryName: string; layerDigest: string }): Promise<{ downloadUrl?: string }>;
  initiateLayerUpload(input: { repositoryName: string }): Promise<{ uploadId?: string; partSize?: number }>;
  uploadLayerPart(input: UploadLayerPartInput): Promise<unknown>;
  completeLayerUpload(input: { repositoryName: string; uploadId: string; layerDigests: string[] }): Promise<unknown>;
  putImage(input: PutImageInput): Promise<unknown>;
}

/** The input of ECR's UploadLayerPart (`partLastByte` is inclusive). */
export interface UploadLayerPartInput {
  readonly repositoryName: string;
  readonly uploadId: string;
  readonly partFirstByte: number;
  readonly partLastByte: number;
  readonly layerPartBlob: Uint8Array;
}

/** The input of ECR's PutImage: the manifest's exact bytes, its media type and digest, and a tag or none. */
export interface PutImageInput {
  readonly repositoryName: string;
  readonly imageManifest: string;
  readonly imageManifestMediaType: string;
  readonly imageDigest: string;
  readonly imageTag?: string;
}

/** Reads a blob from the pre-signed URL GetDownloadUrlForLayer returned. */
export type Download = (url: string) => AsyncIterable<Uint8Array>;

/** What to copy where: both repositories are in the caller's registry. */
export interface CopyRequest {
  readonly sourceRepository: string;
  readonly sourceTag: string;
  readonly targetRepository: string;
  readonly targetTag: string;
}

/** The copied image. */
export interface CopyResult {
  /** Digest of the image (of its index, for a multi-arch image) in the target repository. */
  readonly digest: string;
  /** Blobs uploaded by this run (0 when the target had them all). */
  readonly blobsUploaded: number;
  /** Whether the target already had the tag at this digest (nothing was written). */
  readonly alreadyPresent: boolean;
}

interface FetchedManifest {
  readonly digest: string;
  readonly body: string;
  readonly mediaType: string;
}

interface ParsedManifest {
  readonly mediaType?: string;
  readonly manifests?: Array<{ digest?: string }>;
  readonly config?: { digest?: string };
  readonly layers?: Array<{ digest?: string; urls?: string[] }>;
}

function errorName(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'name' in err ? String((err as { name: unknown }).name) : undefined;
}

/**
 * Copies `sourceRepository:sourceTag` to `targetRepository:targetTag`. Idempotent: when the target
 * has the tag at the source's digest nothing is written. Fails when the target has the tag at another
 * digest (tags are immutable) and when the source image does not exist.
 */
export async function copyImage(ecr: EcrApi, download: Download, request: CopyRequest): Promise<CopyResult> {
  const source = await getManifest(ecr, request.sourceRepository, { imageTag: request.sourceTag });
  if (!source) {
    throw new Error(`source image ${request.sourceRepository}:${request.sourceTag} not found `
      + '(was the asset published? the CDK CLI pushes it before deploying the stack)');
  }
  const existing = await getManifest(ecr, request.targetRepository, { imageTag: request.targetTag });
  if (existing) {
    if (existing.digest === source.digest) return { digest: source.digest, blobsUploaded: 0, alreadyPresent: true };
    throw new Error(`${request.targetRepository}:${request.targetTag} already exists at ${existing.digest}, `
      + `not at ${source.digest} (tags are immutable: delete that image from ${request.targetRepository} to let the copy write the tag again)`);
  }
  const copier = new Copier(ecr, download, request.sourceRepository, request.targetRepository);
  await copier.copyManifest(source, request.targetTag);
  return { digest: source.digest, blobsUploaded: copier.uploaded, alreadyPresent: false };
}

async function getManifest(ecr: EcrApi, repositoryName: string, imageId: ImageId): Promise<FetchedManifest | undefined> {
  const out = await ecr.batchGetImage({ repositoryName, imageIds: [imageId], acceptedMediaTypes: MANIFEST_MEDIA_TYPES });
  const image = out.images?.[0];
  if (!image?.imageManifest) {
    const failure = out.failures?.[0];
    if (!failure || failure.failureCode === 'ImageNotFound' || failure.failureCode === 'ImageTagDoesNotMatchDigest') return undefined;
    throw new Error(`BatchGetImage ${repositoryName} ${JSON.stringify(imageId)}: ${failure.failureCode}: ${failure.failureReason ?? ''}`.trim());
  }
  const body = image.imageManifest;
  const digest = image.imageId?.imageDigest ?? `sha256:${createHash('sha256').update(body).digest('hex')}`;
  const mediaType = image.imageManifestMediaType ?? (JSON.parse(body) as ParsedManifest).mediaType;
  if (!mediaType) throw new Error(`${repositoryName} ${JSON.stringify(imageId)}: the manifest names no media type`);
  return { digest, body, mediaType };
}

class Copier {
  public uploaded = 0;
  private readonly present = new Set<string>();

  constructor(
    private readonly ecr: EcrApi,
    private readonly download: Download,
    private readonly source: string,
    private readonly target: string,
  ) {}

  /** Copies what the manifest references, then the manifest itself (tagged, or by digest only). */
  public async copyManifest(manifest: FetchedManifest, tag?: string): Promise<void> {
    const parsed = JSON.parse(manifest.body) as ParsedManifest;
    if (INDEX_MEDIA_TYPES.has(manifest.mediaType) || Array.isArray(parsed.manifests)) {
      for (const child of parsed.manifests ?? []) {
        if (!child.digest) throw new Error(`${this.source}@${manifest.digest}: an index entry has no digest`);
        const fetched = await getManifest(this.ecr, this.source, { imageDigest: child.digest });
        if (!fetched) throw new Error(`${this.source}@${child.digest} (listed by the index ${manifest.digest}) not found`);
        await this.copyManifest(fetched);
      }
    } else {
      // Foreign layers (with urls) are not stored in registries and are never uploaded.
      const blobs = [parsed.config?.digest, ...(parsed.layers ?? []).filter((l) => !l.urls?.length).map((l) => l.digest)];
      if (blobs.some((d) => !d)) throw new Error(`${this.source}@${manifest.digest}: a config or layer has no digest`);
      await this.copyBlobs([...new Set(blobs as string[])]);
    }
    try {
      await this.ecr.putImage({
        repositoryName: this.target,
        imageManifest: manifest.body,
        imageManifestMediaType: manifest.mediaType,
        imageDigest: manifest.digest,
        imageTag: tag,
      });
    } catch (err) {
      // An untagged child manifest (or the tagged image, written by a concurrent run) that is there already.
      if (errorName(err) !== 'ImageAlreadyExistsException') throw err;
    }
  }

  private async copyBlobs(digests: string[]): Promise<void> {
    const wanted = digests.filter((d) => !this.present.has(d));
    for (let i = 0; i < wanted.length; i += AVAILABILITY_BATCH) {
      const batch = wanted.slice(i, i + AVAILABILITY_BATCH);
      const out = await this.ecr.batchCheckLayerAvailability({ repositoryName: this.target, layerDigests: batch });
      const available = new Set((out.layers ?? []).filter((l) => l.layerAvailability === 'AVAILABLE').map((l) => l.layerDigest));
      for (const digest of batch) {
        if (!available.has(digest)) await this.copyBlob(digest);
        this.present.add(digest);
      }
    }
  }

  private async copyBlob(digest: string): Promise<void> {
    const { downloadUrl } = await this.ecr.getDownloadUrlForLayer({ repositoryName: this.source, layerDigest: digest });
    if (!downloadUrl) throw new Error(`GetDownloadUrlForLayer ${this.source} ${digest}: no URL returned`);
    const { uploadId, partSize } = await this.ecr.initiateLayerUpload({ repositoryName: this.target });
    if (!uploadId) throw new Error(`InitiateLayerUpload ${this.target}: no upload id returned`);
    const size = partSize && partSize > 0 ? partSize : DEFAULT_PART_SIZE;
    const hash = createHash('sha256');
    let offset = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const send = async (part: Buffer) => {
      await this.ecr.uploadLayerPart({
        repositoryName: this.target, uploadId, partFirstByte: offset, partLastByte: offset + part.length - 1, layerPartBlob: part,
      });
      offset += part.length;
    };
    for await (const chunk of this.download(downloadUrl)) {
      hash.update(chunk);
      pending.push(Buffer.from(chunk));
      pendingBytes += chunk.length;
      while (pendingBytes >= size) {
        const all = Buffer.concat(pending);
        await send(all.subarray(0, size));
        pending = [all.subarray(size)];
        pendingBytes = all.length - size;
      }
    }
    if (pendingBytes > 0) await send(Buffer.concat(pending));
    const actual = `sha256:${hash.digest('hex')}`;
    if (actual !== digest) throw new Error(`blob ${digest} of ${this.source} read back as ${actual} (${offset} bytes): download corrupted`);
    try {
      await this.ecr.completeLayerUpload({ repositoryName: this.target, uploadId, layerDigests: [digest] });
    } catch (err) {
      // Uploaded meanwhile by another copy into the same repository.
      if (errorName(err) !== 'LayerAlreadyExistsException') throw err;
    }
    this.uploaded++;
  }
}
