import { CfnParameter, Stack } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { FxImage } from '../src';

describe('FxImage references', () => {
  test.each([
    ['ghcr.io/acme/api:1.4.2'],
    ['nginx:1.27.3'],
    ['docker.io/library/nginx:1.27.3-alpine'],
    ['localhost:5000/team/api:v2'],
    ['123456789012.dkr.ecr.us-east-1.amazonaws.com/orders-api:2026.12.01'],
    [`nginx@sha256:${'a'.repeat(64)}`],
    [`ghcr.io/acme/api:1.4.2@sha256:${'0123456789abcdef'.repeat(4)}`],
    ['registry.example.com:8443/a/b/c__d.e-f:tag_1'],
  ])('accepts %s', (reference) => {
    expect(() => FxImage.fromRegistry(reference)).not.toThrow();
  });

  test.each([
    ['ghcr.io/acme/api:', /FxImage\.fromRegistry: invalid reference 'ghcr.io\/acme\/api:'; allowed: a pinned image reference .*\(the tag after : is empty\)/],
    ['ghcr.io//api:1.0', /invalid reference 'ghcr.io\/\/api:1.0'; .*\(a path segment is empty\)/],
    ['ghcr.io/acme/:1.0', /\(a path segment is empty\)/],
    ['acme/api:1.0:2.0', /invalid reference 'acme\/api:1.0:2.0'; .*\(one tag at most\)/],
    ['acme/api@sha256:abc', /\('sha256:abc' is not sha256:<64 lowercase hex characters>\)/],
    [`acme/api@md5:${'a'.repeat(32)}`, /is not sha256:<64 lowercase hex characters>/],
    [`acme/api@sha256:${'A'.repeat(64)}`, /is not sha256:<64 lowercase hex characters>/],
    ['Acme/API:1.0', /\(path segment 'Acme' must be lowercase/],
    ['acme/api:1.0 ', /\(no spaces, not empty\)/],
    ['', /\(no spaces, not empty\)/],
    ['acme/api:-bad', /\(tag '-bad' may use/],
    ['acme/api:LATEST', /invalid reference 'acme\/api:LATEST'; allowed: a pinned tag or sha256 digest; latest is never deployed/],
    ['acme/api', /\(a tag or a digest is required\)/],
    ['bad_host:5000/api:1', /\(path segment 'bad_host:5000' must be lowercase|is not a registry host/],
  ])('rejects %j', (reference, message) => {
    expect(() => FxImage.fromRegistry(reference)).toThrow(message);
  });

  test('an ECR tag from a pipeline parameter is accepted and passed on', () => {
    const stack = new Stack();
    const tag = new CfnParameter(stack, 'ImageTag', { type: 'String' }).valueAsString;
    const repo = ecr.Repository.fromRepositoryName(stack, 'Repo', 'orders');
    expect(() => FxImage.fromEcr(repo, tag)).not.toThrow();
    expect(() => FxImage.fromRegistry(`ghcr.io/acme/api:${tag}`)).not.toThrow();
  });

  test.each([
    ['', /FxImage\.fromEcr: invalid tagOrDigest ''; allowed: a tag/],
    ['sha256:xyz', /invalid tagOrDigest 'sha256:xyz'; allowed: a digest of the form sha256:<64 lowercase hex characters>/],
    ['1.0 beta', /invalid tagOrDigest '1.0 beta'/],
  ])('fromEcr rejects %j', (tag, message) => {
    const stack = new Stack();
    expect(() => FxImage.fromEcr(ecr.Repository.fromRepositoryName(stack, 'Repo', 'orders'), tag)).toThrow(message);
  });
});
