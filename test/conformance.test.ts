// Each conformance checker proves it can fail: small fixtures (already-rendered objects, a minimal cloud
// assembly on disk) with one defect each. Nothing here reads ../shared or runs helm.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { applyAllowlist, AllowEntry, unusedEntries } from '../build-tools/conformance/allowlist';
import { durationSeconds, loadAssembly } from '../build-tools/conformance/assembly';
import {
  checkImages, checkNamespaces, checkPodSecurity, checkReferences, checkRequests, checkSchemas, checkServiceAccounts, checkTimeouts,
  checkWebhookOrder, CheckContext, Finding, findingText,
} from '../build-tools/conformance/checks';
import { CrdIndex } from '../build-tools/conformance/crd-schema';
import { K8sSchema } from '../build-tools/conformance/k8s-schema';
import { compactSchemaJson } from '../build-tools/conformance/k8s-schema-data';
import { allObjects } from '../build-tools/conformance/objects';
import { evaluate } from '../build-tools/conformance/placeholders';
import { pssViolations } from '../build-tools/conformance/pss';
import { parseRendered, RenderedRelease } from '../build-tools/conformance/render';

type Obj = Record<string, any>;

const k8s = K8sSchema.fromFile(path.join(__dirname, 'data', 'k8s', 'k8s-1.35-fields.json'));
const tmpDirs: string[] = [];
afterAll(() => tmpDirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const SECURE = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } };
const REQUESTS = { requests: { cpu: '10m', memory: '32Mi' } };

function deployment(name: string, ns: string, container: Obj = {}, pod: Obj = {}): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { serviceAccountName: name, containers: [{ name, image: 'ghcr.io/fx/app:1.2.3', resources: REQUESTS, securityContext: SECURE, ...container }], ...pod },
      },
    },
  };
}

function namespace(name: string, enforce?: string): Obj {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: enforce ? { 'pod-security.kubernetes.io/enforce': enforce } : {} } };
}

function serviceAccount(name: string, ns: string): Obj {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: ns } };
}

/** A one-stack cloud assembly with a cluster, the kubectl handler, release `a` (namespace `a`) and manifest `B`. */
function fixture(opts: { manifest: Obj[]; bDependsOnA?: boolean; timeout?: string; extra?: Record<string, Obj> }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-conformance-test-'));
  tmpDirs.push(dir);
  const resources: Record<string, Obj> = {
    Cluster: { Type: 'AWS::EKS::Cluster', Properties: { Version: '1.35' } },
    Handler: { Type: 'AWS::Lambda::Function', Properties: { Timeout: 900 } },
    ReleaseA: {
      Type: 'Custom::AWSCDK-EKS-HelmChart',
      Properties: {
        ServiceToken: { 'Fn::GetAtt': ['Handler', 'Arn'] },
        ClusterName: { Ref: 'Cluster' },
        Chart: 'a',
        Version: '1.0.0',
        Release: 'a',
        Namespace: 'a',
        CreateNamespace: true,
        Wait: true,
        Timeout: opts.timeout ?? '600s',
        Values: '{"replicas":1}',
      },
    },
    B: {
      Type: 'Custom::AWSCDK-EKS-KubernetesResource',
      Properties: { ServiceToken: { 'Fn::GetAtt': ['Handler', 'Arn'] }, ClusterName: { Ref: 'Cluster' }, Manifest: JSON.stringify(opts.manifest) },
      ...(opts.bDependsOnA ? { DependsOn: ['ReleaseA'] } : {}),
    },
    ...opts.extra,
  };
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({
    version: '48.0.0',
    artifacts: { S: { type: 'aws:cloudformation:stack', environment: 'aws://123456789012/us-east-1', properties: { templateFile: 'S.template.json' } } },
  }));
  fs.writeFileSync(path.join(dir, 'S.template.json'), JSON.stringify({ Resources: resources }));
  return dir;
}

function context(dir: string, rendered: Obj[], crds = new CrdIndex()): CheckContext {
  const assembly = loadAssembly(dir);
  const r: RenderedRelease[] = [{ release: assembly.releases[0], objects: rendered.map((obj) => ({ obj })) }];
  return { assembly, rendered: r, objects: allObjects(assembly, r), k8s, crds };
}

const texts = (fs_: Finding[]): string[] => fs_.map(findingText);

describe('strict Kubernetes schema', () => {
  test('a valid Deployment has no finding', () => {
    expect(k8s.validate(deployment('web', 'default'))).toEqual([]);
  });

  test('fails when a container mounts two volumes at one mountPath', () => {
    const d = deployment('velero', 'velero', {
      volumeMounts: [{ name: 'plugins', mountPath: '/plugins' }, { name: 'scratch', mountPath: '/tmp' }, { name: 'tmp', mountPath: '/tmp' }],
    }, { volumes: [{ name: 'plugins', emptyDir: {} }, { name: 'scratch', emptyDir: {} }, { name: 'tmp', emptyDir: {} }] });
    const ctx = context(fixture({ manifest: [] }), [d]);
    expect(texts(checkSchemas(ctx))).toEqual([
      expect.stringMatching(/\[schema\] S\/ReleaseA \(release a\) Deployment\/velero\/velero: .*volumeMounts: duplicate entries for key \[mountPath="\/tmp"\]/),
    ]);
  });

  test('fails on an unknown field, a wrong type, two env entries with one name and two ports with one containerPort/protocol', () => {
    const d = deployment('web', 'default', {
      replicaz: 2,
      env: [{ name: 'A', value: '1' }, { name: 'A', value: '2' }],
      // protocol defaults to TCP: these two are one key.
      ports: [{ containerPort: 80 }, { containerPort: 80, protocol: 'TCP' }, { containerPort: 80, protocol: 'UDP' }],
    });
    d.spec.replicas = '3';
    const errors = k8s.validate(d);
    expect(errors).toEqual(expect.arrayContaining([
      expect.stringContaining('containers[0].replicaz: unknown field "replicaz"'),
      expect.stringContaining('.spec.replicas: expected numeric'),
      expect.stringMatching(/env: duplicate entries for key \[name="A"\]/),
      expect.stringMatching(/ports: duplicate entries for key \[containerPort=80,protocol="TCP"\]/),
    ]));
    expect(errors).toHaveLength(4);
  });

  test('fails on a kind the minor does not serve (a removed API)', () => {
    expect(k8s.validate({ apiVersion: 'policy/v1beta1', kind: 'PodSecurityPolicy', metadata: { name: 'x' } })).toEqual([expect.stringContaining('not serve')]);
  });

  test('the compact schema data is deterministic and keeps list keys and key defaults', () => {
    const schema = {
      types: [
        { name: 'b', map: { fields: [{ name: 'p', type: { scalar: 'string' }, default: 'TCP' }], unions: [{ fields: [] }] } },
        { name: 'a', list: { elementType: { namedType: 'b' }, elementRelationship: 'associative', keys: ['p'] } },
      ],
    } as any;
    const text = compactSchemaJson(schema, 'x.yaml');
    expect(text).toBe(compactSchemaJson({ types: [...schema.types].reverse() }, 'x.yaml'));
    const parsed = JSON.parse(text);
    expect(parsed.types.map((t: Obj) => t.name)).toEqual(['a', 'b']);
    expect(parsed.types[0].list.keys).toEqual(['p']);
    expect(parsed.types[1].map.fields[0].default).toBe('TCP');
    expect(parsed.types[1].map.unions).toBeUndefined();
  });
});

describe('CRD schemas', () => {
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.com' },
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: { kind: 'Widget', plural: 'widgets' },
      versions: [
        { name: 'v1', served: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', required: ['size'], properties: { size: { type: 'integer', minimum: 1 }, mode: { type: 'string', enum: ['a', 'b'] } } } } } } },
        { name: 'v1beta1', served: false, schema: { openAPIV3Schema: { type: 'object' } } },
      ],
    },
  };
  const widget = (spec: Obj, version = 'v1'): Obj => ({ apiVersion: `example.com/${version}`, kind: 'Widget', metadata: { name: 'w', namespace: 'b' }, spec });

  test('a valid custom object has no finding; unknown field, enum, minimum and required fail', () => {
    const crds = new CrdIndex();
    crds.addCrdObject(crd, 'chart a');
    const ok = context(fixture({ manifest: [widget({ size: 2, mode: 'a' })] }), [], crds);
    expect(checkSchemas(ok)).toEqual([]);
    const bad = context(fixture({ manifest: [widget({ sise: 2, mode: 'c' }), widget({ size: 0 })] }), [], crds);
    expect(texts(checkSchemas(bad))).toEqual([
      expect.stringContaining('.spec.size: required field missing'),
      expect.stringContaining('.spec.sise: unknown field "sise"'),
      expect.stringContaining('"c" is not one of ["a","b"]'),
      expect.stringContaining('0 < minimum 1'),
    ]);
  });

  test('fails when an ECK podTemplate (free-form in its CRD) has a duplicate mountPath', () => {
    const crds = new CrdIndex();
    crds.addCrdsJson([{ group: 'elasticsearch.k8s.elastic.co', kind: 'Elasticsearch', plural: 'elasticsearches', scope: 'Namespaced', versions: [{ name: 'v1', served: true, schema: { 'type': 'object', 'x-kubernetes-preserve-unknown-fields': true } }] }], 'chart eck-operator');
    const es = {
      apiVersion: 'elasticsearch.k8s.elastic.co/v1',
      kind: 'Elasticsearch',
      metadata: { name: 'es', namespace: 'b' },
      spec: { nodeSets: [{ name: 'default', podTemplate: { spec: { containers: [{ name: 'elasticsearch', volumeMounts: [{ name: 'a', mountPath: '/tmp' }, { name: 'b', mountPath: '/tmp' }] }] } } }] },
    };
    expect(texts(checkSchemas(context(fixture({ manifest: [es] }), [], crds)))).toEqual([
      expect.stringContaining('.spec.nodeSets[0].podTemplate.spec.containers[0].volumeMounts: duplicate entries for key [mountPath="/tmp"]'),
    ]);
  });

  test('fails on a version the chart does not serve, and on a kind nobody serves', () => {
    const crds = new CrdIndex();
    crds.addCrdObject(crd, 'chart a');
    const ctx = context(fixture({ manifest: [widget({ size: 1 }, 'v1beta1'), { apiVersion: 'other.io/v1', kind: 'Thing', metadata: { name: 't' } }] }), [], crds);
    expect(texts(checkSchemas(ctx))).toEqual([
      expect.stringContaining('example.com/v1beta1 is not served; chart a serves Widget at v1'),
      expect.stringContaining('no chart or add-on in the assembly serves other.io/v1 Thing'),
    ]);
  });
});

describe('Pod Security Standards', () => {
  const risky = deployment('agent', 'b', { securityContext: { privileged: true } }, { volumes: [{ name: 'host', hostPath: { path: '/var/log' } }] });

  test('fails when a chart pod is privileged and mounts a hostPath in a namespace enforcing restricted', () => {
    const ctx = context(fixture({ manifest: [namespace('b', 'restricted')] }), [risky]);
    const found = texts(checkPodSecurity(ctx));
    expect(found).toEqual(expect.arrayContaining([
      expect.stringMatching(/\[pss\] S\/ReleaseA \(release a\) Deployment\/b\/agent: .* container agent is privileged \(namespace b enforces restricted\)/),
      expect.stringContaining('volume host is a hostPath (/var/log)'),
      expect.stringContaining('volume host has type hostPath'),
    ]));
  });

  test('the same pod passes in a privileged namespace; a namespace without a label is a warning', () => {
    expect(checkPodSecurity(context(fixture({ manifest: [namespace('b', 'privileged')] }), [risky]))).toEqual([]);
    const unlabeled = checkPodSecurity(context(fixture({ manifest: [] }), [risky]));
    expect(unlabeled).toEqual([expect.objectContaining({ severity: 'warning', subject: 'Namespace/b' })]);
  });

  test('baseline allows what restricted forbids, and forbids host namespaces, capabilities, sysctls and Unconfined seccomp', () => {
    const pod = { containers: [{ name: 'c', securityContext: {} }] };
    expect(pssViolations(pod, 'baseline')).toEqual([]);
    expect(pssViolations(pod, 'restricted')).toEqual(expect.arrayContaining([expect.stringContaining('allowPrivilegeEscalation'), expect.stringContaining('runAsNonRoot')]));
    const bad = {
      hostNetwork: true,
      securityContext: { sysctls: [{ name: 'kernel.msgmax', value: '1' }], seccompProfile: { type: 'Unconfined' } },
      containers: [{ name: 'c', ports: [{ containerPort: 80, hostPort: 80 }], securityContext: { capabilities: { add: ['NET_ADMIN'] }, procMount: 'Unmasked' } }],
    };
    expect(pssViolations(bad, 'baseline')).toEqual([
      'hostNetwork is true', 'pod seccompProfile Unconfined', 'sysctl kernel.msgmax is not safe', 'container c adds capability NET_ADMIN', 'container c uses hostPort 80', 'container c procMount Unmasked',
    ]);
  });
});

describe('webhook order', () => {
  const webhook = (failurePolicy?: string): Obj => ({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: 'a-webhook' },
    webhooks: [{
      name: 'mservice.a.io',
      ...(failurePolicy ? { failurePolicy } : {}),
      rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['services'] }],
      namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system'] }] },
    }],
  });
  const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc', namespace: 'b' }, spec: { ports: [{ port: 80 }] } };
  const systemService = { ...service, metadata: { name: 'svc', namespace: 'kube-system' } };

  test('fails when a Fail webhook of release A intercepts a Service that manifest B creates without depending on A', () => {
    const ctx = context(fixture({ manifest: [namespace('b', 'restricted'), service, systemService] }), [webhook()]);
    expect(texts(checkWebhookOrder(ctx))).toEqual([
      expect.stringMatching(/\[webhook-order\] S\/B 1 object\(s\): created without a dependency on release a \(ReleaseA\), .*mservice\.a\.io .*Service\/b\/svc$/),
    ]);
  });

  test('no finding once B depends on A, or when the webhook does not fail closed', () => {
    expect(checkWebhookOrder(context(fixture({ manifest: [service], bDependsOnA: true }), [webhook('Fail')]))).toEqual([]);
    expect(checkWebhookOrder(context(fixture({ manifest: [service] }), [webhook('Ignore')]))).toEqual([]);
  });

  test('a dependency through a reference (Ref/GetAtt) counts as an order', () => {
    const dir = fixture({ manifest: [], extra: { C: { Type: 'Custom::AWSCDK-EKS-KubernetesResource', Properties: { Manifest: JSON.stringify([service]), Other: { 'Fn::GetAtt': ['B', 'X'] } } } }, bDependsOnA: true });
    expect(checkWebhookOrder(context(dir, [webhook()]))).toEqual([]);
  });
});

describe('requests, images, timeouts, service accounts and references', () => {
  test('fails when a container or init container has no cpu/memory request', () => {
    const d = deployment('web', 'b', { resources: { requests: { memory: '1Gi' } } }, { initContainers: [{ name: 'init', image: 'busybox:1.36' }] });
    expect(texts(checkRequests(context(fixture({ manifest: [d] }), [])))).toEqual([
      expect.stringContaining('init container init has no cpu or memory request'),
      expect.stringContaining('container web has no cpu request'),
    ]);
  });

  test('fails on an image without a tag and on :latest; a tag or a digest passes', () => {
    const objs = ['nginx', 'nginx:latest', 'registry:5000/nginx', 'nginx:1.27', 'nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef']
      .map((image, i) => deployment(`w${i}`, 'b', { image }));
    expect(texts(checkImages(context(fixture({ manifest: objs }), [])))).toEqual([
      expect.stringContaining('image nginx has no tag or digest'),
      expect.stringContaining('image nginx:latest is :latest'),
      expect.stringContaining('image registry:5000/nginx has no tag or digest'),
    ]);
  });

  test('fails when a waiting release\'s Helm Timeout of 900s leaves no margin under the 900s handler Lambda', () => {
    expect(durationSeconds('15m')).toBe(900);
    expect(durationSeconds('1h2m3s')).toBe(3723);
    expect(texts(checkTimeouts(loadAssembly(fixture({ manifest: [], timeout: '900s' })).releases))).toEqual([
      expect.stringContaining('Helm Timeout 900s leaves less than 120s under the kubectl handler Lambda timeout 900s (max 780s)'),
    ]);
    expect(checkTimeouts(loadAssembly(fixture({ manifest: [], timeout: '780s' })).releases)).toEqual([]);
  });

  test('fails when a Pod Identity association names a service account nobody creates or no pod runs as', () => {
    const extra = {
      Assoc: { Type: 'AWS::EKS::PodIdentityAssociation', Properties: { ClusterName: { Ref: 'Cluster' }, Namespace: 'b', ServiceAccount: 'ghost', RoleArn: 'arn:aws:iam::123456789012:role/x' } },
      Good: { Type: 'AWS::EKS::PodIdentityAssociation', Properties: { ClusterName: { Ref: 'Cluster' }, Namespace: 'b', ServiceAccount: 'web', RoleArn: 'arn:aws:iam::123456789012:role/y' } },
    };
    const ctx = context(fixture({ manifest: [serviceAccount('web', 'b'), deployment('web', 'b')], extra }), []);
    expect(texts(checkServiceAccounts(ctx))).toEqual([
      '[service-account] S/Assoc ServiceAccount/b/ghost: Pod Identity association names a service account that nothing in the assembly creates',
      '[service-account] S/Assoc ServiceAccount/b/ghost: Pod Identity association names a service account no rendered or applied pod runs as',
    ]);
  });

  test('fails when an IRSA trust names a service account nobody creates', () => {
    const extra = {
      Cond: { Type: 'Custom::AWSCDKCfnJson', Properties: { Value: { 'Fn::Join': ['', ['{"', { 'Fn::GetAtt': ['Cluster', 'OpenIdConnectIssuerUrl'] }, ':sub":"system:serviceaccount:b:es"}']] } } },
      Role: {
        Type: 'AWS::IAM::Role',
        Properties: { AssumeRolePolicyDocument: { Statement: [{ Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringEquals: { 'Fn::GetAtt': ['Cond', 'Value'] } } }] } },
      },
    };
    const ctx = context(fixture({ manifest: [], extra }), []);
    expect(ctx.assembly.irsaTrusts).toEqual([expect.objectContaining({ logicalId: 'Role', subjects: ['system:serviceaccount:b:es'] })]);
    expect(texts(checkServiceAccounts(ctx))).toEqual([expect.stringContaining('ServiceAccount/b/es: IRSA trust (oidc sub) names a service account that nothing in the assembly creates'), expect.anything()]);
  });

  test('reads an IRSA trust written as a JSON string, and counts a SecretStore\'s JWT service account as in use', () => {
    const trust = (sub: string) => ({
      'Fn::Join': ['', ['{"Statement":[{"Action":"sts:AssumeRoleWithWebIdentity","Effect":"Allow","Condition":{"StringEquals":{"',
        { 'Fn::GetAtt': ['Cluster', 'OpenIdConnectIssuerUrl'] }, `:sub":"${sub}"}}}]}`]],
    });
    const store = (sa: string): Obj => ({
      apiVersion: 'external-secrets.io/v1',
      kind: 'SecretStore',
      metadata: { name: 'st', namespace: 'b' },
      spec: { provider: { aws: { service: 'SecretsManager', region: 'us-east-1', auth: { jwt: { serviceAccountRef: { name: sa } } } } } },
    });
    const extra = {
      Good: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: trust('system:serviceaccount:b:web-secrets') } },
      Bad: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: trust('system:serviceaccount:b:other') } },
    };
    const ctx = context(fixture({ manifest: [serviceAccount('web-secrets', 'b'), store('web-secrets')], extra }), []);
    expect(ctx.assembly.irsaTrusts.map((t) => [t.logicalId, t.subjects])).toEqual([['Good', ['system:serviceaccount:b:web-secrets']], ['Bad', ['system:serviceaccount:b:other']]]);
    expect(texts(checkServiceAccounts(ctx))).toEqual([
      '[service-account] S/Bad ServiceAccount/b/other: IRSA trust (oidc sub) names a service account that nothing in the assembly creates',
      '[service-account] S/Bad ServiceAccount/b/other: IRSA trust (oidc sub) names a service account no rendered or applied pod runs as',
    ]);
    // Without the store, nothing uses the Good trust's account either.
    const bare = context(fixture({ manifest: [serviceAccount('web-secrets', 'b')], extra: { Good: extra.Good } }), []);
    expect(texts(checkServiceAccounts(bare))).toEqual([
      '[service-account] S/Good ServiceAccount/b/web-secrets: IRSA trust (oidc sub) names a service account no rendered or applied pod runs as',
    ]);
  });

  test('fails when an object goes to a namespace nothing creates; release namespaces, Namespace objects and built-ins count', () => {
    const cm = (name: string, ns: string): Obj => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns } });
    const ctx = context(fixture({ manifest: [namespace('b'), cm('x', 'b'), cm('y', 'a'), cm('z', 'kube-system'), cm('w', 'ghost')], bDependsOnA: true }), []);
    expect(texts(checkNamespaces(ctx))).toEqual(['[reference] S/B Namespace/ghost: 1 object(s) go to namespace ghost, which nothing in the assembly creates: ConfigMap/ghost/w']);
  });

  test('fails when an object goes to a namespace another resource creates, without depending on it', () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'a' } };
    expect(texts(checkNamespaces(context(fixture({ manifest: [cm] }), [])))).toEqual([
      '[namespace-order] S/B Namespace/a: 1 object(s) go to namespace a without a dependency on what creates it (ReleaseA): ConfigMap/a/x',
    ]);
    expect(checkNamespaces(context(fixture({ manifest: [cm], bDependsOnA: true }), []))).toEqual([]);
  });

  test('fails when a pod needs a Secret, ConfigMap, ServiceAccount or StorageClass nothing creates; an ExternalSecret target counts', () => {
    const d = deployment('web', 'b', {
      envFrom: [{ secretRef: { name: 'web-env' } }, { configMapRef: { name: 'maybe', optional: true } }],
      env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'web-config', key: 'x' } } }],
    }, { volumes: [{ name: 'db', secret: { secretName: 'web-db' } }] });
    const es = { apiVersion: 'external-secrets.io/v1', kind: 'ExternalSecret', metadata: { name: 'web-db-sync', namespace: 'b' }, spec: { target: { name: 'web-db' } } };
    const pvc = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'b' }, spec: { storageClassName: 'fast' } };
    expect(texts(checkReferences(context(fixture({ manifest: [d, es, pvc] }), [])))).toEqual([
      expect.stringContaining('runs as ServiceAccount b/web, which nothing in the assembly creates'),
      expect.stringContaining('container web envFrom needs Secret b/web-env'),
      expect.stringContaining('container web env X needs ConfigMap b/web-config'),
      expect.stringContaining('spec.storageClassName needs StorageClass fast'),
    ]);
  });
});

describe('assembly reading and allowlist', () => {
  test('reads nested assemblies and orders a stack after the stacks it depends on; allObjects fills namespaces', () => {
    const dir = fixture({ manifest: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }, namespace('n')] });
    const nested = path.join(dir, 'assembly-Prod');
    fs.mkdirSync(nested);
    fs.writeFileSync(path.join(nested, 'manifest.json'), JSON.stringify({
      version: '48.0.0',
      artifacts: {
        Base: { type: 'aws:cloudformation:stack', environment: 'aws://123456789012/eu-west-1', properties: { templateFile: 'Base.template.json' } },
        Svc: { type: 'aws:cloudformation:stack', environment: 'aws://123456789012/eu-west-1', properties: { templateFile: 'Svc.template.json' }, dependencies: ['Base'] },
      },
    }));
    fs.writeFileSync(path.join(nested, 'Base.template.json'), JSON.stringify({
      Resources: { Bucket: { Type: 'AWS::S3::Bucket' } },
      Outputs: { B: { Value: { Ref: 'Bucket' }, Export: { Name: 'Base:Bucket' } } },
    }));
    fs.writeFileSync(path.join(nested, 'Svc.template.json'), JSON.stringify({
      Resources: { M: { Type: 'Custom::AWSCDK-EKS-KubernetesResource', Properties: { Manifest: { 'Fn::Join': ['', ['[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"', { 'Fn::ImportValue': 'Base:Bucket' }, '"}}]']] } } } },
    }));
    fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({
      version: '48.0.0',
      artifacts: {
        S: { type: 'aws:cloudformation:stack', environment: 'aws://123456789012/us-east-1', properties: { templateFile: 'S.template.json' } },
        Prod: { type: 'cdk:cloud-assembly', properties: { directoryName: 'assembly-Prod' } },
      },
    }));
    const a = loadAssembly(dir);
    expect(a.stacks.map((s) => s.name)).toEqual(['S', 'assembly-Prod/Base', 'assembly-Prod/Svc']);
    expect(a.dependsOn({ stack: 'assembly-Prod/Svc', logicalId: 'M' }, { stack: 'assembly-Prod/Base', logicalId: 'Bucket' })).toBe(true);
    expect(a.dependsOn({ stack: 'assembly-Prod/Base', logicalId: 'Bucket' }, { stack: 'assembly-Prod/Svc', logicalId: 'M' })).toBe(false);
    const objs = allObjects(a, []);
    expect(objs.map((o) => [o.obj.kind, o.obj.metadata.name, o.obj.metadata.namespace, o.source.stack])).toEqual([
      ['ConfigMap', 'c', 'default', 'S'],
      ['Namespace', 'n', undefined, 'S'],
      ['ConfigMap', 'bucket', 'default', 'assembly-Prod/Svc'],
    ]);
  });

  test('intrinsics become placeholders valid for their field', () => {
    const ctx = {
      stackName: 'S',
      region: 'us-east-1',
      resources: { Vpc: { Type: 'AWS::EC2::VPC' }, Bucket: { Type: 'AWS::S3::Bucket' }, Role: { Type: 'AWS::IAM::Role' }, Secret: { Type: 'AWS::SecretsManager::Secret' } },
    };
    expect(evaluate({ Ref: 'Vpc' }, ctx)).toBe('vpc-0123456789abcdef0');
    expect(evaluate({ 'Fn::GetAtt': ['Role', 'Arn'] }, ctx)).toBe('arn:aws:iam::123456789012:role/Role');
    expect(evaluate({ Ref: 'Bucket' }, ctx)).toMatch(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/);
    // CDK's secret-name parsing: the 7th ARN field split on '-'.
    const name = { 'Fn::Select': [6, { 'Fn::Split': [':', { Ref: 'Secret' }] }] };
    expect(evaluate({ 'Fn::Join': ['-', [0, 1].map((i) => ({ 'Fn::Select': [i, { 'Fn::Split': ['-', name] }] }))] }, ctx)).toBe('Secret-AbCdEfGhIjKl');
    expect(evaluate({ 'Fn::Sub': '${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/r' }, ctx)).toBe('123456789012.dkr.ecr.us-east-1.amazonaws.com/r');
  });

  test('rendered output: List documents are expanded and a duplicated mapping key is reported', () => {
    const text = '---\n# Source: c/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels:\n    x: "1"\n    x: "2"\n---\n# Source: c/templates/l.yaml\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n';
    const parsed = parseRendered(text);
    expect(parsed.objects.map((o) => o.obj.metadata.name)).toEqual(['a', 'b']);
    expect(parsed.objects[0].obj.metadata.labels.x).toBe('2');
    expect(parsed.problems).toEqual([expect.stringContaining('c/templates/a.yaml ConfigMap/a: duplicated mapping key')]);
  });

  test('allowlist entries allow matching findings by substring or /regex/, and an entry that matches nothing is reported', () => {
    const entries: AllowEntry[] = [
      { defect: 'velero-duplicate-tmp-mount', assembly: 'platform', match: 'duplicate entries for key [mountPath="/tmp"]' },
      { defect: 'kps-timeout', assembly: 'platform', match: '/Timeout 9\\d\\ds/' },
      { defect: 'stale', assembly: 'platform', match: 'nothing like this' },
      { defect: 'other-assembly', assembly: 'dev', match: 'x' },
    ];
    const used = new Set<AllowEntry>();
    const res = applyAllowlist(entries, 'platform', ['a: duplicate entries for key [mountPath="/tmp"] (items 1 and 2)', 'b: Helm Timeout 900s leaves', 'c: new finding'], used);
    expect(res.errors).toEqual(['c: new finding']);
    expect(res.allowed.map((a) => a.defect)).toEqual(['velero-duplicate-tmp-mount', 'kps-timeout']);
    expect(unusedEntries(entries, used, ['platform']).map((e) => e.defect)).toEqual(['stale']);
  });
});
