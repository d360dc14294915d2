import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { bundleImageCopy, IMAGE_COPY_BUNDLE_DIR, imageCopyBundleIsFresh } from '../build-tools/bundle-image-copy';
import { FxCluster, FxImage, FxMicroservice, FxProfile } from '../src';
import { ENV, testApp } from './util/fixtures';
import { copyImage, Download, EcrApi, ImageId, MANIFEST_MEDIA_TYPES, PutImageInput, UploadLayerPartInput } from '../src/microservice/image-copy/handler/copy';
import { handleEvent, handler, ImageCopyEvent } from '../src/microservice/image-copy/handler/index';

type Obj = Record<string, any>;

// The Lambda runtime's AWS SDK v3 (not a dependency of this package): each XCommand goes to the fake ECR's x method.
const mockEcrTarget: { current?: Obj } = {};
jest.mock('@aws-sdk/client-ecr', () => {
  const sdk: Obj = {
    ECRClient: class {
      public async send(command: { operation: string; input: object }) {
        return mockEcrTarget.current![command.operation](command.input);
      }
    },
  };
  for (const name of ['BatchGetImage', 'BatchCheckLayerAvailability', 'GetDownloadUrlForLayer', 'InitiateLayerUpload', 'UploadLayerPart',
    'CompleteLayerUpload', 'PutImage']) {
    sdk[`${name}Command`] = class {
      public readonly operation = name[0].toLowerCase() + name.slice(1);
      constructor(public readonly input: object) {}
    };
  }
  return sdk;
}, { virtual: true });

beforeAll(() => {
  if (!imageCopyBundleIsFresh()) bundleImageCopy();
});

// ---------------------------------------------------------------------------------------------
// An in-memory ECR: repositories of blobs, manifests and immutable tags, enforcing what ECR enforces
// (parts in order, blob digests, referenced blobs and child manifests present, immutable tags).

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

function sha(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function awsError(name: string, message: string): Error {
  const err = new Error(message);
  err.name = name;
  return err;
}

interface Repo {
  readonly blobs: Map<string, Buffer>;
  readonly manifests: Map<string, { body: string; mediaType: string }>;
  readonly tags: Map<string, string>;
  readonly uploads: Map<string, Buffer[]>;
}

class FakeEcr implements EcrApi {
  public readonly calls: string[] = [];
  public readonly repos = new Map<string, Repo>();
  public partSize = 8;
  private uploadCount = 0;

  public repo(name: string): Repo {
    let repo = this.repos.get(name);
    if (!repo) {
      repo = { blobs: new Map(), manifests: new Map(), tags: new Map(), uploads: new Map() };
      this.repos.set(name, repo);
    }
    return repo;
  }

  public addBlob(repository: string, content: string): { digest: string; size: number; mediaType: string } {
    const data = Buffer.from(content);
    const digest = sha(data);
    this.repo(repository).blobs.set(digest, data);
    return { digest, size: data.length, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' };
  }

  public addManifest(repository: string, manifest: Obj, tag?: string): string {
    const body = JSON.stringify(manifest);
    const digest = sha(body);
    this.repo(repository).manifests.set(digest, { body, mediaType: manifest.mediaType });
    if (tag) this.repo(repository).tags.set(tag, digest);
    return digest;
  }

  /** A single-platform image of `layers` (contents) in `repository`. */
  public addImage(repository: string, layers: string[], tag?: string, mediaType = OCI_MANIFEST): string {
    const config = this.addBlob(repository, `{"architecture":"amd64","layers":${JSON.stringify(layers)}}`);
    return this.addManifest(repository, {
      schemaVersion: 2,
      mediaType,
      config: { ...config, mediaType: 'application/vnd.oci.image.config.v1+json' },
      layers: layers.map((l) => this.addBlob(repository, l)),
    }, tag);
  }

  /** Serves the `mem://` URLs of getDownloadUrlForLayer, 5 bytes a chunk. */
  public readonly downloads: Download = (url: string) => this.read(url);

  private async *read(url: string): AsyncIterable<Uint8Array> {
    const [, repository, digest] = /^mem:\/\/([^/]+)\/(.+)$/.exec(url)!;
    const data = this.repo(repository).blobs.get(digest)!;
    for (let i = 0; i < data.length; i += 5) yield data.subarray(i, i + 5);
  }

  private existing(name: string): Repo {
    const repo = this.repos.get(name);
    if (!repo) throw awsError('RepositoryNotFoundException', `The repository with name '${name}' does not exist`);
    return repo;
  }

  public async batchGetImage(input: { repositoryName: string; imageIds: ImageId[]; acceptedMediaTypes: string[] }) {
    this.calls.push(`BatchGetImage ${input.repositoryName} ${input.imageIds[0].imageTag ?? input.imageIds[0].imageDigest}`);
    expect(input.acceptedMediaTypes).toEqual(MANIFEST_MEDIA_TYPES);
    const repo = this.existing(input.repositoryName);
    const id = input.imageIds[0];
    const digest = id.imageTag !== undefined ? repo.tags.get(id.imageTag) : id.imageDigest;
    const manifest = digest ? repo.manifests.get(digest) : undefined;
    if (!manifest) return { images: [], failures: [{ imageId: id, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' }] };
    const image = { imageId: { ...id, imageDigest: digest }, imageManifest: manifest.body, imageManifestMediaType: manifest.mediaType };
    return { images: [image], failures: [] };
  }

  public async batchCheckLayerAvailability(input: { repositoryName: string; layerDigests: string[] }) {
    this.calls.push(`BatchCheckLayerAvailability ${input.repositoryName} ${input.layerDigests.length}`);
    const repo = this.existing(input.repositoryName);
    return {
      layers: input.layerDigests.filter((d) => repo.blobs.has(d)).map((d) => ({ layerDigest: d, layerAvailability: 'AVAILABLE' })),
      failures: input.layerDigests.filter((d) => !repo.blobs.has(d)).map((d) => ({ layerDigest: d, failureCode: 'MissingLayerDigest' })),
    };
  }

  public async getDownloadUrlForLayer(input: { repositoryName: string; layerDigest: string }) {
    this.calls.push(`GetDownloadUrlForLayer ${input.repositoryName}`);
    if (!this.existing(input.repositoryName).blobs.has(input.layerDigest)) throw awsError('LayerInaccessibleException', 'no such layer');
    return { downloadUrl: `mem://${input.repositoryName}/${input.layerDigest}` };
  }

  public async initiateLayerUpload(input: { repositoryName: string }) {
    this.calls.push(`InitiateLayerUpload ${input.repositoryName}`);
    const uploadId = `upload-${++this.uploadCount}`;
    this.existing(input.repositoryName).uploads.set(uploadId, []);
    return { uploadId, partSize: this.partSize };
  }

  public async uploadLayerPart(input: UploadLayerPartInput) {
    this.calls.push(`UploadLayerPart ${input.repositoryName}`);
    const parts = this.existing(input.repositoryName).uploads.get(input.uploadId)!;
    const received = parts.reduce((n, p) => n + p.length, 0);
    if (input.partFirstByte !== received || input.partLastByte - input.partFirstByte + 1 !== input.layerPartBlob.length) {
      throw awsError('InvalidLayerPartException', `part ${input.partFirstByte}-${input.partLastByte} after ${received} bytes`);
    }
    parts.push(Buffer.from(input.layerPartBlob));
    return {};
  }

  public async completeLayerUpload(input: { repositoryName: string; uploadId: string; layerDigests: string[] }) {
    this.calls.push(`CompleteLayerUpload ${input.repositoryName}`);
    const repo = this.existing(input.repositoryName);
    const data = Buffer.concat(repo.uploads.get(input.uploadId)!);
    if (sha(data) !== input.layerDigests[0]) throw awsError('InvalidLayerException', 'digest mismatch');
    if (repo.blobs.has(input.layerDigests[0])) throw awsError('LayerAlreadyExistsException', 'exists');
    repo.blobs.set(input.layerDigests[0], data);
    return {};
  }

  public async putImage(input: PutImageInput) {
    this.calls.push(`PutImage ${input.repositoryName} ${input.imageTag ?? input.imageDigest}`);
    const repo = this.existing(input.repositoryName);
    if (sha(input.imageManifest) !== input.imageDigest) throw awsError('InvalidParameterException', 'digest does not match the manifest');
    const parsed = JSON.parse(input.imageManifest);
    for (const child of parsed.manifests ?? []) {
      if (!repo.manifests.has(child.digest)) throw awsError('ReferencedImagesNotFoundException', `missing ${child.digest}`);
    }
    for (const blob of [parsed.config, ...(parsed.layers ?? [])].filter(Boolean)) {
      if (!repo.blobs.has(blob.digest)) throw awsError('LayersNotFoundException', `missing ${blob.digest}`);
    }
    const tagged = input.imageTag !== undefined ? repo.tags.get(input.imageTag) : undefined;
    if (tagged !== undefined && tagged !== input.imageDigest) throw awsError('ImageTagAlreadyExistsException', 'immutable');
    if (repo.manifests.has(input.imageDigest) && (input.imageTag === undefined || tagged === input.imageDigest)) {
      throw awsError('ImageAlreadyExistsException', 'exists');
    }
    repo.manifests.set(input.imageDigest, { body: input.imageManifest, mediaType: input.imageManifestMediaType });
    if (input.imageTag !== undefined) repo.tags.set(input.imageTag, input.imageDigest);
    return {};
  }
}

let FAKE: FakeEcr;
const ASSETS = 'cdk-hnb659fds-container-assets-123456789012-us-east-1';
const SERVICE = 'platform-ordersrepository-abc';
const HASH = 'a1'.repeat(32);
const request = { sourceRepository: ASSETS, sourceTag: HASH, targetRepository: SERVICE, targetTag: HASH };

beforeEach(() => {
  FAKE = new FakeEcr();
  FAKE.repo(ASSETS);
  FAKE.repo(SERVICE);
});

function writes(fake: FakeEcr): string[] {
  return fake.calls.filter((c) => /^(InitiateLayerUpload|UploadLayerPart|CompleteLayerUpload|PutImage)/.test(c));
}

describe('image copy handler (fake ECR)', () => {
  beforeEach(() => jest.spyOn(console, 'log').mockImplementation(() => undefined));
  afterEach(() => jest.restoreAllMocks());

  test('copies a single-platform image: every blob in parts of the size ECR asks for, then the manifest under the tag', async () => {
    const digest = FAKE.addImage(ASSETS, ['layer-one-twenty-bytes', 'layer-two'], HASH, DOCKER_MANIFEST);
    const result = await copyImage(FAKE, FAKE.downloads, request);
    expect(result).toEqual({ digest, blobsUploaded: 3, alreadyPresent: false });
    const target = FAKE.repo(SERVICE);
    expect(target.tags.get(HASH)).toBe(digest);
    expect(target.manifests.get(digest)).toEqual(FAKE.repo(ASSETS).manifests.get(digest));
    expect([...target.blobs.keys()].sort()).toEqual([...FAKE.repo(ASSETS).blobs.keys()].sort());
    // 'layer-one-twenty-bytes' is 22 bytes: three parts of at most 8.
    const config = FAKE.calls.filter((c) => c.startsWith('UploadLayerPart')).length;
    expect(config).toBe(Math.ceil(22 / 8) + Math.ceil(9 / 8) + Math.ceil(Buffer.from('{"architecture":"amd64","layers":["layer-one-twenty-bytes","layer-two"]}').length / 8));
    expect(FAKE.calls.filter((c) => c.startsWith('PutImage'))).toEqual([`PutImage ${SERVICE} ${HASH}`]);
  });

  test('copies an image index: each child manifest by digest first, shared blobs once, then the index under the tag', async () => {
    const amd64 = FAKE.addImage(ASSETS, ['shared-base', 'amd64-app']);
    const arm64 = FAKE.addImage(ASSETS, ['shared-base', 'arm64-app']);
    const index = FAKE.addManifest(ASSETS, {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        { mediaType: OCI_MANIFEST, digest: amd64, size: 1, platform: { architecture: 'amd64', os: 'linux' } },
        { mediaType: OCI_MANIFEST, digest: arm64, size: 1, platform: { architecture: 'arm64', os: 'linux' } },
      ],
    }, HASH);
    const result = await copyImage(FAKE, FAKE.downloads, request);
    expect(result).toEqual({ digest: index, blobsUploaded: 5, alreadyPresent: false });
    expect(FAKE.calls.filter((c) => c.startsWith('PutImage'))).toEqual([`PutImage ${SERVICE} ${amd64}`, `PutImage ${SERVICE} ${arm64}`, `PutImage ${SERVICE} ${HASH}`]);
    const target = FAKE.repo(SERVICE);
    expect(target.tags.get(HASH)).toBe(index);
    expect(target.manifests.get(index)?.mediaType).toBe(OCI_INDEX);
    expect(target.manifests.has(amd64) && target.manifests.has(arm64)).toBe(true);
  });

  test('idempotent: a rerun finds the tag at the same digest and writes nothing', async () => {
    const digest = FAKE.addImage(ASSETS, ['only-layer'], HASH);
    await copyImage(FAKE, FAKE.downloads, request);
    FAKE.calls.length = 0;
    expect(await copyImage(FAKE, FAKE.downloads, request)).toEqual({ digest, blobsUploaded: 0, alreadyPresent: true });
    expect(writes(FAKE)).toEqual([]);
  });

  test('blobs the target already has are not uploaded again (a new build sharing base layers)', async () => {
    FAKE.addImage(ASSETS, ['base-layer', 'app-v1'], 'old');
    await copyImage(FAKE, FAKE.downloads, { ...request, sourceTag: 'old', targetTag: 'old' });
    FAKE.addImage(ASSETS, ['base-layer', 'app-v2'], HASH);
    const result = await copyImage(FAKE, FAKE.downloads, request);
    expect(result.blobsUploaded).toBe(2); // the new config and app-v2
  });

  test('two copies at once into one repository: a blob the other one completed first is accepted', async () => {
    const first = FAKE.addImage(ASSETS, ['shared-layer', 'app-one'], 'one');
    const second = FAKE.addImage(ASSETS, ['shared-layer', 'app-two'], 'two');
    const results = await Promise.all([
      copyImage(FAKE, FAKE.downloads, { ...request, sourceTag: 'one', targetTag: 'one' }),
      copyImage(FAKE, FAKE.downloads, { ...request, sourceTag: 'two', targetTag: 'two' }),
    ]);
    expect(results.map((r) => r.digest)).toEqual([first, second]);
    expect(FAKE.repo(SERVICE).tags.get('one')).toBe(first);
    expect(FAKE.repo(SERVICE).tags.get('two')).toBe(second);
  });

  test('a child manifest already in the target (untagged, from an earlier index) is accepted', async () => {
    const amd64 = FAKE.addImage(ASSETS, ['amd64-only']);
    FAKE.addManifest(ASSETS, { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: amd64, size: 1 }] }, 'first');
    await copyImage(FAKE, FAKE.downloads, { ...request, sourceTag: 'first', targetTag: 'first' });
    const index = FAKE.addManifest(ASSETS, {
      schemaVersion: 2, mediaType: OCI_INDEX, annotations: { build: '2' }, manifests: [{ mediaType: OCI_MANIFEST, digest: amd64, size: 1 }],
    }, HASH);
    expect((await copyImage(FAKE, FAKE.downloads, request)).digest).toBe(index);
    expect(FAKE.repo(SERVICE).tags.get(HASH)).toBe(index);
  });

  test('a tag that exists at another digest fails: tags are immutable', async () => {
    const built = FAKE.addImage(ASSETS, ['new-build'], HASH);
    const other = FAKE.addImage(SERVICE, ['someone-else'], HASH);
    await expect(copyImage(FAKE, FAKE.downloads, request)).rejects.toThrow(
      `${SERVICE}:${HASH} already exists at ${other}, not at ${built} (tags are immutable: delete that image from ${SERVICE} to let the copy write the tag again)`);
    expect(writes(FAKE)).toEqual([]);
  });

  test('a missing source image fails and names it', async () => {
    await expect(copyImage(FAKE, FAKE.downloads, request)).rejects.toThrow(
      `source image ${ASSETS}:${HASH} not found (was the asset published? the CDK CLI pushes it before deploying the stack)`);
  });

  test('an index entry missing in the source fails and names it', async () => {
    const missing = sha('not there');
    FAKE.addManifest(ASSETS, { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: missing, size: 1 }] }, HASH);
    await expect(copyImage(FAKE, FAKE.downloads, request)).rejects.toThrow(`${ASSETS}@${missing} (listed by the index `);
  });

  test('a corrupted download fails before completing the upload', async () => {
    FAKE.addImage(ASSETS, ['payload'], HASH);
    const corrupt: Download = async function* () {
      yield Buffer.from('garbage');
    };
    await expect(copyImage(FAKE, corrupt, request)).rejects.toThrow(/read back as sha256:[0-9a-f]{64} \(7 bytes\): download corrupted/);
    expect(FAKE.calls.some((c) => c.startsWith('CompleteLayerUpload'))).toBe(false);
  });

  test('a missing target repository surfaces the ECR error', async () => {
    FAKE.addImage(ASSETS, ['x'], HASH);
    await expect(copyImage(FAKE, FAKE.downloads, { ...request, targetRepository: 'gone' })).rejects.toThrow("The repository with name 'gone' does not exist");
  });

  describe('custom resource events', () => {
    const props = { SourceRepositoryName: ASSETS, SourceImageTag: HASH, TargetRepositoryName: SERVICE, TargetImageTag: HASH };

    test('Create and Update copy and return the digest; Delete keeps the image and calls nothing', async () => {
      const digest = FAKE.addImage(ASSETS, ['l'], HASH);
      expect(await handleEvent({ RequestType: 'Create', ResourceProperties: props }, FAKE, FAKE.downloads))
        .toEqual({ PhysicalResourceId: `${SERVICE}:${HASH}`, Data: { Digest: digest, ImageTag: HASH } });
      expect(await handleEvent({ RequestType: 'Update', PhysicalResourceId: `${SERVICE}:${HASH}`, ResourceProperties: props }, FAKE, FAKE.downloads))
        .toEqual({ PhysicalResourceId: `${SERVICE}:${HASH}`, Data: { Digest: digest, ImageTag: HASH } });
      FAKE.calls.length = 0;
      expect(await handleEvent({ RequestType: 'Delete', PhysicalResourceId: 'old:tag', ResourceProperties: props }, FAKE, FAKE.downloads))
        .toEqual({ PhysicalResourceId: 'old:tag' });
      expect(FAKE.calls).toEqual([]);
      expect(FAKE.repo(SERVICE).tags.get(HASH)).toBe(digest);
    });

    test('the Lambda handler drives ECR through the runtime SDK and streams layers from their pre-signed URLs with fetch', async () => {
      mockEcrTarget.current = FAKE;
      const fetched: string[] = [];
      const fetchMock = jest.spyOn(globalThis, 'fetch').mockImplementation(async (url) => {
        fetched.push(String(url));
        const [, repository, digest] = /^mem:\/\/([^/]+)\/(.+)$/.exec(String(url))!;
        return new Response(FAKE.repo(repository).blobs.get(digest));
      });
      const digest = FAKE.addImage(ASSETS, ['through-the-sdk'], HASH);
      expect(await handler({ RequestType: 'Create', ResourceProperties: props })).toEqual({ PhysicalResourceId: `${SERVICE}:${HASH}`, Data: { Digest: digest, ImageTag: HASH } });
      expect(fetched).toHaveLength(2);
      expect(FAKE.repo(SERVICE).tags.get(HASH)).toBe(digest);
      // A failed download (an expired URL) fails the copy.
      fetchMock.mockImplementation(async () => new Response('denied', { status: 403 }));
      FAKE.addImage(ASSETS, ['another-build'], 'b2'.repeat(32));
      const other = { ...props, SourceImageTag: 'b2'.repeat(32), TargetImageTag: 'b2'.repeat(32) };
      await expect(handler({ RequestType: 'Create', ResourceProperties: other })).rejects.toThrow('layer download failed: HTTP 403');
    });

    test('a missing property fails', async () => {
      const event = { RequestType: 'Create', ResourceProperties: { ...props, TargetRepositoryName: '' } } as ImageCopyEvent;
      await expect(handleEvent(event, FAKE, FAKE.downloads)).rejects.toThrow('resource property TargetRepositoryName is missing');
    });

    test('the bundled handler (what Lambda runs) copies too, with the AWS SDK left out of the bundle', async () => {
      const bundle = path.join(IMAGE_COPY_BUNDLE_DIR, 'index.js');
      const source = fs.readFileSync(bundle, 'utf8');
      expect(source).toContain('require("@aws-sdk/client-ecr")');
      expect(source).not.toMatch(/node_modules/);
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const bundled = require(bundle) as { handleEvent: typeof handleEvent; handler: unknown };
      expect(typeof bundled.handler).toBe('function');
      const digest = FAKE.addImage(ASSETS, ['from-bundle'], HASH);
      expect((await bundled.handleEvent({ RequestType: 'Create', ResourceProperties: props }, FAKE, FAKE.downloads)).Data?.Digest).toBe(digest);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Synthesized: repositories, copies, the provider and its IAM.

const SERVICES = path.join(__dirname, '..', 'examples', 'services');
const PUSH = ['ecr:PutImage', 'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload'];

/** Every IAM statement of the template (roles' inline policies and AWS::IAM::Policy). */
function statements(template: Obj): Obj[] {
  const out: Obj[] = [];
  for (const r of Object.values<Obj>(template.Resources)) {
    if (r.Type === 'AWS::IAM::Policy') out.push(...r.Properties.PolicyDocument.Statement);
    if (r.Type === 'AWS::IAM::Role') for (const p of r.Properties.Policies ?? []) out.push(...p.PolicyDocument.Statement);
  }
  return out;
}
const asList = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

describe('FxImage.fromAsset: copied into the service repository at deploy time', () => {
  let stack: Stack;
  let template: Template;
  let json: Obj;
  let orders: FxMicroservice;
  let billing: FxMicroservice;
  beforeAll(() => {
    stack = new Stack(testApp(), 'Platform', { env: ENV });
    const cluster = new FxCluster(stack, 'Cluster', { profile: FxProfile.PRODUCTION, platformName: 'fx' });
    orders = new FxMicroservice(stack, 'Orders', { cluster, serviceName: 'orders', image: FxImage.fromAsset(SERVICES, { file: 'orders-api/Dockerfile' }) });
    billing = new FxMicroservice(stack, 'Billing', {
      cluster, serviceName: 'billing', image: FxImage.fromAsset(SERVICES, { file: 'inventory-api/Dockerfile', platform: ecrAssets.Platform.LINUX_ARM64 }),
    });
    new FxMicroservice(stack, 'Public', { cluster, serviceName: 'public', image: FxImage.fromRegistry('ghcr.io/acme/public:1.0.0') });
    template = Template.fromStack(stack);
    json = template.toJSON();
  });
  const id = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as never);
  const copies = () => Object.entries<Obj>(json.Resources).filter(([, r]) => r.Type === 'Custom::FxImageCopy');

  test('one repository per built image (immutable tags, scan on push, KMS, lifecycle); a public image gets none', () => {
    template.resourceCountIs('AWS::ECR::Repository', 2);
    template.allResourcesProperties('AWS::ECR::Repository', {
      ImageScanningConfiguration: { ScanOnPush: true },
      ImageTagMutability: 'IMMUTABLE',
      EncryptionConfiguration: { EncryptionType: 'KMS' },
      LifecyclePolicy: { LifecyclePolicyText: JSON.stringify({ rules: [{ rulePriority: 1, description: 'keep the last 30 images', selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 30 }, action: { type: 'expire' } }] }) },
    });
    expect(copies()).toHaveLength(2);
  });

  test('the copy reads the asset from the bootstrap assets repository and writes it under its hash in the service repository', () => {
    const hashes = copies().map(([, r]) => r.Properties.SourceImageTag);
    for (const [, r] of copies()) {
      expect(r.Properties).toEqual({
        ServiceToken: expect.anything(),
        SourceRepositoryName: 'cdk-hnb659fds-container-assets-123456789012-us-east-1',
        SourceImageTag: expect.stringMatching(/^[0-9a-f]{64}$/),
        TargetRepositoryName: { Ref: expect.stringMatching(/Repository/) },
        TargetImageTag: r.Properties.SourceImageTag,
      });
      expect(r.DeletionPolicy ?? 'Delete').toBe('Delete');
    }
    expect(new Set(hashes).size).toBe(2);
    const targets = copies().map(([, r]) => r.Properties.TargetRepositoryName.Ref).sort();
    expect(targets).toEqual([id(billing.repository!), id(orders.repository!)].sort());
  });

  test('one provider for the stack: a Node.js 24 function behind the CloudFormation response wrapper, not in a VPC', () => {
    const functions = Object.entries<Obj>(json.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function'
      && r.Properties.Description === 'Fx: copies images built from source into their services\' ECR repositories (deploy time)');
    expect(functions).toHaveLength(1);
    const [[fnId, fn]] = functions;
    expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Handler: '__entrypoint__.handler', MemorySize: 1024, Timeout: 900 });
    expect(fn.Properties.VpcConfig).toBeUndefined();
    for (const [, r] of copies()) expect(r.Properties.ServiceToken).toEqual({ 'Fn::GetAtt': [fnId, 'Arn'] });
  });

  test('least privilege: pull from the assets repository, push to the two service repositories by ARN, no * on push actions', () => {
    const all = statements(json);
    for (const s of all) {
      const actions = asList(s.Action);
      if (actions.some((a: string) => PUSH.includes(a) || a === 'ecr:*')) {
        expect(asList(s.Resource)).not.toContain('*');
      }
    }
    const pull = all.find((s) => s.Sid === 'PullAssetImages')!;
    expect(pull.Action).toEqual(['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer']);
    expect(pull.Resource).toEqual([{
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecr:us-east-1:123456789012:repository/cdk-hnb659fds-container-assets-123456789012-us-east-1']],
    }]);
    const push = all.find((s) => s.Sid === 'PushServiceRepositories')!;
    expect(push.Action).toEqual(['ecr:BatchGetImage', 'ecr:BatchCheckLayerAvailability', 'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart',
      'ecr:CompleteLayerUpload', 'ecr:PutImage']);
    expect(push.Resource).toEqual([{ 'Fn::GetAtt': [id(orders.repository!), 'Arn'] }, { 'Fn::GetAtt': [id(billing.repository!), 'Arn'] }]);
    // Only the copy provider holds push rights.
    expect(all.filter((s) => asList(s.Action).includes('ecr:PutImage'))).toEqual([push]);
  });

  test('a built image adds its repository and its copy: still at most 6 CloudFormation resources per service', () => {
    const own = Object.entries<Obj>(json.Resources).filter(([logicalId]) => logicalId.startsWith('Orders')).map(([, r]) => r.Type).sort();
    expect(own).toEqual(['AWS::ECR::Repository', 'AWS::EKS::PodIdentityAssociation', 'AWS::IAM::Role', 'Custom::AWSCDK-EKS-KubernetesResource',
      'Custom::FxImageCopy']);
    const publicOwn = Object.keys(json.Resources).filter((logicalId) => logicalId.startsWith('Public'));
    expect(publicOwn).toHaveLength(3);
  });

  test('the manifest depends on the copy and its pods pull <service repository>@<copied digest>', () => {
    const [copyId] = copies().find(([, r]) => r.Properties.TargetRepositoryName.Ref === id(orders.repository!))!;
    const manifest = json.Resources[id(orders.manifest)];
    expect(manifest.DependsOn).toContain(copyId);
    const parts: unknown[] = manifest.Properties.Manifest['Fn::Join'][1];
    const at = parts.findIndex((p) => JSON.stringify(p) === JSON.stringify({ Ref: id(orders.repository!) }));
    expect(parts.slice(at - 1, at + 3)).toEqual(['/', { Ref: id(orders.repository!) }, '@', { 'Fn::GetAtt': [copyId, 'Digest'] }]);
    expect(parts[at - 5]).toBe('.dkr.ecr.');
    expect(JSON.stringify(parts)).not.toContain('container-assets');
  });
});

describe('FxImage.fromAsset bound without a repository', () => {
  test('pulls from the CDK assets repository, granted to the node role', () => {
    const stack = new Stack(testApp(), 'Bare', { env: ENV });
    const nodeRole = new iam.Role(stack, 'Nodes', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
    const config = FxImage.fromAsset(SERVICES, { file: 'orders-api/Dockerfile' }).bind(stack, nodeRole);
    expect(stack.resolve(config.imageUri)['Fn::Sub']).toMatch(/^123456789012\.dkr\.ecr\.us-east-1\..*container-assets-123456789012-us-east-1:[0-9a-f]{64}$/);
    expect(config.dependency).toBeUndefined();
    const t = Template.fromStack(stack);
    t.resourceCountIs('Custom::FxImageCopy', 0);
    t.hasResourceProperties('AWS::IAM::Policy', { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['ecr:BatchGetImage']) })]) } });
  });
});

// ---------------------------------------------------------------------------------------------
// Bad asset directories, said in the library's words.

describe('FxImage.fromAsset: the build context is checked when the service binds it', () => {
  let stack: Stack;
  let cluster: FxCluster;
  let empty: string;
  let n = 0;
  beforeAll(() => {
    stack = new Stack(testApp(), 'Errors', { env: ENV });
    cluster = new FxCluster(stack, 'Cluster', { profile: FxProfile.DEVELOPMENT, platformName: 'fx' });
    empty = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-empty-context-'));
  });
  afterAll(() => fs.rmSync(empty, { recursive: true, force: true }));

  function messageOf(image: () => FxImage): string {
    const serviceId = `Svc${++n}`;
    try {
      new FxMicroservice(stack, serviceId, { cluster, serviceName: `svc${n}`, image: image() });
    } catch (err) {
      return (err as Error).message.replace(`Errors/${serviceId}`, 'Errors/Svc');
    }
    throw new Error('no error');
  }

  test('a missing directory', () => {
    expect(messageOf(() => FxImage.fromAsset('/nonexistent/orders'))).toBe(
      "FxImage at Errors/Svc: invalid directory '/nonexistent/orders'; allowed: an existing directory (the Docker build context; resolved to /nonexistent/orders)");
  });

  test('a file given as the directory', () => {
    const file = path.join(SERVICES, 'orders-api', 'Dockerfile');
    expect(messageOf(() => FxImage.fromAsset(file))).toBe(
      `FxImage at Errors/Svc: invalid directory '${file}'; allowed: an existing directory (the Docker build context; resolved to ${file})`);
  });

  test('a directory without a Dockerfile', () => {
    expect(messageOf(() => FxImage.fromAsset(empty))).toBe(
      `FxImage at Errors/Svc: invalid directory '${empty}'; allowed: a directory containing a Dockerfile (or name the Dockerfile with the file option)`);
  });

  test('a named Dockerfile that is not there, and one outside the directory', () => {
    expect(messageOf(() => FxImage.fromAsset(SERVICES, { file: 'billing-api/Dockerfile' }))).toBe(
      `FxImage at Errors/Svc: invalid file 'billing-api/Dockerfile'; allowed: a Dockerfile that exists in the directory ${SERVICES}`);
    expect(messageOf(() => FxImage.fromAsset(path.join(SERVICES, 'orders-api'), { file: '../inventory-api/Dockerfile' }))).toBe(
      `FxImage at Errors/Svc: invalid file '../inventory-api/Dockerfile'; allowed: a Dockerfile path relative to and inside the directory ${path.join(SERVICES, 'orders-api')}`);
  });

  test('a platform the nodes do not run', () => {
    expect(messageOf(() => FxImage.fromAsset(SERVICES, { file: 'orders-api/Dockerfile', platform: ecrAssets.Platform.custom('windows/amd64') }))).toBe(
      "FxImage at Errors/Svc: invalid platform 'windows/amd64'; allowed: linux/amd64 or linux/arm64");
  });
});
