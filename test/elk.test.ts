import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CfnElement, Size, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { FxCluster, FxObservability, FxObservabilityProps, FxProfile, FxVersions } from '../src';
import { clusterWithAddons, ENV, ObservabilityScenario, testApp } from './util/fixtures';
import { checkHelmValues } from './util/helm-values';
import { k8sErrors } from './util/k8s';
import { joinedString, kubernetesObjectsOf } from './util/manifests';
import { restrictedViolations, restrictedViolationsOf } from './util/pss';

type Json = Record<string, any>;

const ROW = FxVersions.forKubernetes(FxVersions.DEFAULT_KUBERNETES_VERSION);

interface Scenario extends ObservabilityScenario {
  readonly objects: Json[];
}

function helmValues(template: Template, chart: string): Json {
  const releases = Object.values(template.findResources('Custom::AWSCDK-EKS-HelmChart', { Properties: { Chart: chart } }));
  expect(releases).toHaveLength(1);
  return JSON.parse(joinedString((releases[0] as Json).Properties.Values, 'TOKEN'));
}

function find(objects: Json[], kind: string, name?: string): Json {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) throw new Error(`${found.length} ${kind}/${name ?? '*'}`);
  return found[0];
}

function logicalId(stack: Stack, construct: { node: { defaultChild?: unknown } } | undefined): string {
  return stack.getLogicalId(construct!.node.defaultChild as CfnElement);
}

function dependsOn(template: Template, id: string): string[] {
  return (template.toJSON().Resources[id].DependsOn ?? []) as string[];
}

function scenario(profile: FxProfile, props: Partial<FxObservabilityProps>, withDomain: boolean, outdir?: string): Scenario {
  const app = testApp(outdir);
  const stack = new Stack(app, 'Platform', { env: ENV });
  const cluster = withDomain ? clusterWithAddons(stack, profile) : new FxCluster(stack, 'Cluster', { profile, platformName: 'fx' });
  const observability = new FxObservability(stack, 'Observability', { cluster, ...props });
  if (outdir) app.synth();
  const template = Template.fromStack(stack);
  return { app, stack, cluster, observability, template, objects: kubernetesObjectsOf(template, 'TOKEN') };
}

let prod: Scenario;
let dev: Scenario;
let devDefault: Template;
let outdir: string;
let bare: { stack: Stack; cluster: FxCluster };
let bareProd: { stack: Stack; cluster: FxCluster };

beforeAll(() => {
  outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-elk-'));
  prod = scenario(FxProfile.PRODUCTION, { adminCidrs: ['198.51.100.0/24'] }, true, outdir);
  dev = scenario(FxProfile.DEVELOPMENT, { elk: true, elasticsearchStorage: Size.gibibytes(15), elasticsearchRetentionDays: 3 }, false);
  devDefault = scenario(FxProfile.DEVELOPMENT, {}, false).template;
  const bareApp = testApp();
  const devStack = new Stack(bareApp, 'Bare', { env: ENV });
  bare = { stack: devStack, cluster: new FxCluster(devStack, 'Cluster', { platformName: 'bare' }) };
  const prodStack = new Stack(bareApp, 'BareProd', { env: ENV });
  bareProd = { stack: prodStack, cluster: new FxCluster(prodStack, 'Cluster', { profile: FxProfile.PRODUCTION, platformName: 'bareprod' }) };
});

afterAll(() => {
  if (outdir) fs.rmSync(outdir, { recursive: true, force: true });
});

describe('ECK operator', () => {
  test('installs the pinned chart into elastic-system, waiting, after the storage classes; it provides the Elastic CRDs', () => {
    prod.template.hasResourceProperties('Custom::AWSCDK-EKS-HelmChart', {
      Chart: 'eck-operator',
      Version: ROW.charts.eckOperator.version,
      Repository: 'https://helm.elastic.co',
      Namespace: 'elastic-system',
      Wait: true,
    });
    expect(ROW.charts.eckOperator.version).toBe('3.5.0');
    const values = helmValues(prod.template, 'eck-operator');
    expect(values.installCRDs).toBe(true);
    expect(values.managedNamespaces).toEqual(['logging']);
    const id = logicalId(prod.stack, prod.observability.eckOperator);
    expect(dependsOn(prod.template, id)).toContain(logicalId(prod.stack, prod.cluster.storageManifest));
    expect(prod.cluster.hasCapability('crd:k8s.elastic.co')).toBe(true);
  });

  test('every Elastic object depends on the ECK chart', () => {
    const operatorId = logicalId(prod.stack, prod.observability.eckOperator);
    const resources = prod.template.findResources('Custom::AWSCDK-EKS-KubernetesResource');
    const elastic = Object.entries(resources).filter(([, r]) => (JSON.parse(joinedString((r as Json).Properties.Manifest, 'TOKEN')) as Json[])
      .some((o) => /k8s\.elastic\.co\//.test(o.apiVersion)));
    expect(elastic.length).toBeGreaterThan(0);
    for (const [id] of elastic) expect(dependsOn(prod.template, id)).toContain(operatorId);
    expect(dependsOn(prod.template, logicalId(prod.stack, prod.observability.elasticsearchSetup)))
      .toContain(logicalId(prod.stack, prod.observability.elasticsearch));
  });

  test('is not installed in development unless asked for', () => {
    devDefault.resourceCountIs('AWS::S3::Bucket', 1); // Velero's only
    expect(Object.keys(devDefault.findResources('Custom::AWSCDK-EKS-HelmChart', { Properties: { Chart: 'eck-operator' } }))).toHaveLength(0);
    expect(Object.keys(devDefault.findResources('Custom::AWSCDK-EKS-HelmChart', { Properties: { Chart: 'fluent-bit' } }))).toHaveLength(0);
  });
});

describe('Elasticsearch', () => {
  test('production: 3 nodes of the pinned version, spread over zones with zone-aware shard allocation', () => {
    const es = find(prod.objects, 'Elasticsearch', 'fx');
    expect(es.apiVersion).toBe('elasticsearch.k8s.elastic.co/v1');
    expect(es.spec.version).toBe(ROW.images.elasticsearch.tag);
    expect(es.spec.image).toBe(`docker.elastic.co/elasticsearch/elasticsearch:${ROW.images.elasticsearch.tag}`);
    const [set] = es.spec.nodeSets;
    expect(es.spec.nodeSets).toHaveLength(1);
    expect(set.count).toBe(3);
    expect(set.config['node.attr.zone']).toBe('${ZONE}');
    expect(set.config['cluster.routing.allocation.awareness.attributes']).toBe('k8s_node_name,zone');
    expect(set.podTemplate.metadata.annotations['eck.k8s.elastic.co/downward-node-labels']).toBe('topology.kubernetes.io/zone');
    const container = set.podTemplate.spec.containers[0];
    expect(container.env).toContainEqual({ name: 'ZONE', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['topology.kubernetes.io/zone']" } } });
    expect(set.podTemplate.spec.topologySpreadConstraints).toEqual([expect.objectContaining({
      topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', maxSkew: 1,
    })]);
    // ECK must copy exactly the zone label onto the pods.
    expect(helmValues(prod.template, 'eck-operator').config.exposedNodeLabels).toEqual(['topology\\.kubernetes\\.io/zone']);
  });

  test('gp3 volumes sized by prop, heap and resources per profile, TLS on HTTP, a PodDisruptionBudget', () => {
    const es = find(prod.objects, 'Elasticsearch', 'fx');
    const set = es.spec.nodeSets[0];
    expect(set.volumeClaimTemplates).toEqual([{
      metadata: { name: 'elasticsearch-data' },
      spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'gp3', resources: { requests: { storage: '100Gi' } } },
    }]);
    const container = set.podTemplate.spec.containers[0];
    expect(container.env).toContainEqual({ name: 'ES_JAVA_OPTS', value: '-Xms2g -Xmx2g' });
    expect(container.resources).toEqual({ requests: { cpu: '1', memory: '4Gi' }, limits: { memory: '4Gi' } });
    expect(es.spec.http.tls.selfSignedCertificate.disabled).toBe(false);
    expect(es.spec.podDisruptionBudget.spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: { 'elasticsearch.k8s.elastic.co/cluster-name': 'fx' } } });
    expect(es.spec.volumeClaimDeletePolicy).toBe('DeleteOnScaledownOnly');

    const devEs = find(dev.objects, 'Elasticsearch', 'fx');
    const devSet = devEs.spec.nodeSets[0];
    expect(devSet.count).toBe(1);
    expect(devSet.config['cluster.routing.allocation.awareness.attributes']).toBeUndefined();
    expect(devSet.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('15Gi');
    expect(devSet.podTemplate.spec.containers[0].env).toContainEqual({ name: 'ES_JAVA_OPTS', value: '-Xms1g -Xmx1g' });
    expect(devSet.podTemplate.spec.containers[0].resources.limits.memory).toBe('2Gi');
  });

  test('no mmap, no privileged init container: pods pass restricted Pod Security with explicit security contexts', () => {
    for (const s of [prod, dev]) {
      const es = find(s.objects, 'Elasticsearch', 'fx');
      const set = es.spec.nodeSets[0];
      expect(set.config['node.store.allow_mmap']).toBe(false);
      const pod = set.podTemplate.spec;
      expect(pod.initContainers).toBeUndefined();
      expect(pod.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } });
      expect(pod.containers[0].securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, privileged: false });
      expect(restrictedViolations(pod)).toEqual([]);
    }
  });

  test('the snapshot repository identity is IRSA, its token mounted where repository-s3 may read it', () => {
    const es = find(prod.objects, 'Elasticsearch', 'fx');
    const pod = es.spec.nodeSets[0].podTemplate.spec;
    expect(pod.serviceAccountName).toBe('fx-elasticsearch');
    expect(pod.volumes).toEqual([{
      name: 'aws-snapshot-token',
      projected: { sources: [{ serviceAccountToken: { audience: 'sts.amazonaws.com', expirationSeconds: 86400, path: 'aws-web-identity-token-file' } }] },
    }]);
    expect(pod.containers[0].volumeMounts).toEqual([{ name: 'aws-snapshot-token', mountPath: '/usr/share/elasticsearch/config/repository-s3', readOnly: true }]);
    expect(pod.containers[0].env).toContainEqual({ name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: '/usr/share/elasticsearch/config/repository-s3/aws-web-identity-token-file' });
    const sa = find(prod.objects, 'ServiceAccount', 'fx-elasticsearch');
    expect(sa.metadata.namespace).toBe('logging');
    expect(sa.metadata.annotations).toEqual({ 'eks.amazonaws.com/role-arn': 'TOKEN' });
    expect(prod.template.findResources('Custom::AWSCDKOpenIdConnectProvider')).toEqual({});
    prod.template.resourceCountIs('AWS::IAM::OIDCProvider', 1);
    // The role trusts the cluster's one OIDC provider for exactly this service account: a JSON string, no CfnJson.
    expect(prod.template.findResources('Custom::AWSCDKCfnJson')).toEqual({});
    const [provider] = Object.keys(prod.template.findResources('AWS::IAM::OIDCProvider'));
    const roles = Object.entries(prod.template.findResources('AWS::IAM::Role')) as Array<[string, Json]>;
    const trusting = roles.filter(([, r]) => JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('system:serviceaccount:logging:fx-elasticsearch'));
    expect(trusting.map(([id]) => id)).toEqual([expect.stringMatching(/^ObservabilityElasticsearchSnapshotRole[0-9A-F]{8}$/)]);
    const document = trusting[0][1].Properties.AssumeRolePolicyDocument;
    expect(JSON.parse(joinedString(document, 'ISSUER'))).toEqual({
      Version: '2012-10-17',
      Statement: [{
        Effect: 'Allow',
        Principal: { Federated: 'ISSUER' },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: { StringEquals: { 'ISSUER:sub': 'system:serviceaccount:logging:fx-elasticsearch', 'ISSUER:aud': 'sts.amazonaws.com' } },
      }],
    });
    const issuer = { 'Fn::Select': [1, { 'Fn::Split': [':oidc-provider/', { Ref: provider }] }] };
    expect(document['Fn::Join'][1].filter((x: unknown) => typeof x !== 'string')).toEqual([{ Ref: provider }, issuer, issuer]);
  });
});

describe('snapshot repository and lifecycle', () => {
  test('the snapshot bucket is KMS-encrypted, versioned, private, SSL-only and retained', () => {
    const bucketId = logicalId(prod.stack, prod.observability.snapshotBucket);
    const bucket = prod.template.toJSON().Resources[bucketId];
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true,
    });
    const sse = bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0];
    expect(sse.ServerSideEncryptionByDefault.SSEAlgorithm).toBe('aws:kms');
    expect(sse.ServerSideEncryptionByDefault.KMSMasterKeyID).toEqual({ 'Fn::GetAtt': [logicalId(prod.stack, prod.observability.snapshotKey), 'Arn'] });
    prod.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    expect(prod.template.toJSON().Resources[logicalId(prod.stack, prod.observability.snapshotKey)].DeletionPolicy).toBe('Retain');
  });

  test('the Elasticsearch role may only use its own bucket and key', () => {
    const policies = Object.values(prod.template.findResources('AWS::IAM::Policy')) as Json[];
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement as Json[]);
    const objects = statements.find((s) => s.Sid === 'SnapshotObjects')!;
    expect(objects.Action).toEqual(['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts']);
    const bucketId = logicalId(prod.stack, prod.observability.snapshotBucket);
    expect(JSON.stringify(objects.Resource)).toContain(bucketId);
    expect(statements.find((s) => s.Sid === 'SnapshotBucket')!.Resource).toEqual({ 'Fn::GetAtt': [bucketId, 'Arn'] });
  });

  test('the setup Job applies the lifecycle policy with the retention, the snapshot repository and the snapshot policy', () => {
    const config = prod.objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('fx-elasticsearch-setup-'))!;
    const ilm = JSON.parse(config.data['ilm-policy.json']);
    expect(ilm.policy.phases.hot.actions.rollover).toEqual({ max_age: '1d', max_primary_shard_size: '50gb' });
    expect(ilm.policy.phases.delete).toEqual({ min_age: '30d', actions: { delete: {} } });
    const devConfig = dev.objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('fx-elasticsearch-setup-'))!;
    expect(JSON.parse(devConfig.data['ilm-policy.json']).policy.phases.delete.min_age).toBe('3d');
    expect(JSON.parse(devConfig.data['slm-policy.json']).retention.expire_after).toBe('6d');

    for (const file of ['template-containers.json', 'template-traefik.json']) {
      const template = JSON.parse(config.data[file]);
      expect(template.data_stream).toEqual({});
      expect(template.template.settings['index.lifecycle.name']).toBe('fx-logs');
      expect(template.template.settings['index.number_of_replicas']).toBe(1);
      expect(JSON.parse(devConfig.data[file]).template.settings['index.number_of_replicas']).toBe(0);
    }
    const repo = JSON.parse(config.data['snapshot-repository.json']);
    expect(repo).toEqual({ type: 's3', settings: { bucket: 'TOKEN', base_path: 'elasticsearch' } });
    const slm = JSON.parse(config.data['slm-policy.json']);
    expect(slm).toMatchObject({ repository: 'fx-s3', config: { indices: ['fx-logs-*'] }, retention: { expire_after: '60d' } });

    const script: string = config.data['setup.sh'];
    const puts = [...script.matchAll(/-X PUT "\$ES\/([^"]+)"/g)].map((m) => m[1]);
    expect(puts).toEqual(['_ilm/policy/fx-logs', '_index_template/fx-logs-containers', '_index_template/fx-logs-traefik', '_snapshot/fx-s3', '_slm/policy/fx-daily-snapshots']);
    expect(script).toContain('--cacert /etc/elasticsearch-ca/ca.crt');
    expect(script).toContain('_import?overwrite=true');
  });

  test('the setup Job runs the pinned Elasticsearch image, restricted, with the elastic password from ECK', () => {
    const job = prod.objects.find((o) => o.kind === 'Job')!;
    expect(job.metadata.name).toMatch(/^fx-elasticsearch-setup-[0-9a-f]{10}$/);
    const pod = job.spec.template.spec;
    expect(pod.containers[0].image).toBe(`${ROW.images.elasticsearch.repository}:${ROW.images.elasticsearch.tag}`);
    expect(pod.containers[0].env).toContainEqual({ name: 'ELASTIC_PASSWORD', valueFrom: { secretKeyRef: { name: 'fx-es-elastic-user', key: 'elastic' } } });
    expect(restrictedViolationsOf([job])).toEqual([]);
    expect(pod.volumes.find((v: Json) => v.name === 'setup').configMap.name).toBe(job.metadata.name);
  });
});

describe('Kibana', () => {
  test('replicas per profile, pinned version, connected to Elasticsearch, restricted', () => {
    const kb = find(prod.objects, 'Kibana', 'fx');
    expect(kb.spec.version).toBe(ROW.images.kibana.tag);
    expect(kb.spec.count).toBe(2);
    expect(kb.spec.elasticsearchRef).toEqual({ name: 'fx' });
    expect(kb.spec.config['server.publicBaseUrl']).toBe('https://kibana.fx.example.com');
    expect(find(dev.objects, 'Kibana', 'fx').spec.count).toBe(1);
    for (const s of [prod, dev]) expect(restrictedViolations(find(s.objects, 'Kibana', 'fx').spec.podTemplate.spec)).toEqual([]);
  });

  test('is routed on kibana.<domain> through Traefik, only for adminCidrs, with the shared secure-headers middleware', () => {
    const route = find(prod.objects, 'IngressRoute', 'kibana');
    expect(route.metadata.namespace).toBe('logging');
    expect(route.spec.entryPoints).toEqual(['web']);
    const allowlist = prod.objects.find((o) => o.kind === 'Middleware' && o.metadata.name === 'fx-admin-allowlist' && o.metadata.namespace === 'logging');
    expect(allowlist?.spec).toEqual({ ipAllowList: { sourceRange: ['198.51.100.0/24'], ipStrategy: { depth: 1 } } });
    expect(route.spec.routes).toEqual([{
      kind: 'Rule',
      match: 'Host(`kibana.fx.example.com`)',
      middlewares: [{ name: 'fx-admin-allowlist', namespace: 'logging' }, { name: 'fx-secure-headers', namespace: 'traefik' }],
      services: [{ name: 'fx-kb-http', port: 5601 }],
    }]);
    expect(prod.observability.kibanaHost).toBe('kibana.fx.example.com');
    expect(dev.objects.filter((o) => o.kind === 'IngressRoute' && o.metadata.name === 'kibana')).toHaveLength(0);
  });

  test('the operator dashboard is provisioned as saved objects', () => {
    const config = prod.objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('fx-elasticsearch-setup-'))!;
    const objects = (config.data['kibana-objects.ndjson'] as string).trim().split('\n').map((l) => JSON.parse(l));
    const dashboard = objects.find((o) => o.type === 'dashboard');
    expect(dashboard.id).toBe('fx-operations');
    const panels = dashboard.references.map((r: Json) => objects.find((o) => o.id === r.id));
    expect(panels.map((p: Json) => p.attributes.title)).toEqual(['Errors by service', 'Requests by router (Traefik)', '5xx responses by service (Traefik)']);
    for (const panel of panels) {
      const dataView = objects.find((o) => o.id === panel.references[0].id);
      expect(dataView.type).toBe('index-pattern');
      expect(JSON.parse(panel.attributes.visState).aggs).toHaveLength(3);
    }
    expect(JSON.parse(panels[1].attributes.kibanaSavedObjectMeta.searchSourceJSON).query.query).toBe('app.RequestMethod : *');
  });
});

describe('log shipping', () => {
  test('Fluent Bit (pinned chart) is the one node agent: CloudWatch Logs and Elasticsearch; the add-on ships no logs', () => {
    prod.template.hasResourceProperties('Custom::AWSCDK-EKS-HelmChart', { Chart: 'fluent-bit', Version: ROW.charts.fluentBit.version, Namespace: 'logging' });
    expect(ROW.charts.fluentBit.version).toBe('0.58.1');
    const addon = Object.values(prod.template.findResources('AWS::EKS::Addon', { Properties: { AddonName: 'amazon-cloudwatch-observability' } }))[0] as Json;
    expect(JSON.parse(addon.Properties.ConfigurationValues).containerLogs.enabled).toBe(false);
    const values = helmValues(prod.template, 'fluent-bit');
    const outputs: string = values.config.outputs;
    for (const group of ['application', 'host', 'dataplane']) expect(outputs).toContain(`log_group_name /aws/containerinsights/TOKEN/${group}`);
    expect(outputs).toMatch(/Name es\n\s+Match kube\.\*[\s\S]*Index fx-logs-containers/);
    expect(outputs).toMatch(/Match traefik\.access[\s\S]*Index fx-logs-traefik/);
    expect(outputs).toContain('tls.verify On');
    expect(outputs).toContain('Write_Operation create');
    expect(values.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(values.testFramework.enabled).toBe(false);
  });

  test('decodes JSON logs with Kubernetes metadata and routes Traefik access logs to their own stream', () => {
    const values = helmValues(prod.template, 'fluent-bit');
    expect(values.config.filters).toMatch(/Name kubernetes[\s\S]*Merge_Log On[\s\S]*K8S-Logging.Parser On/);
    expect(values.config.filters).toContain("Rule $kubernetes['namespace_name'] ^traefik$ traefik.access false");
    expect(values.config.inputs).toContain('Path /var/log/containers/*.log');
    expect(values.config.inputs).toContain('multiline.parser cri, docker');
  });

  test('Pod Security exception: only Fluent Bit, which reads the node logs through hostPath, as root without capabilities', () => {
    const values = helmValues(prod.template, 'fluent-bit');
    expect(values.daemonSetVolumes.map((v: Json) => v.hostPath.path)).toEqual(['/var/log', '/var/fluent-bit/state', '/etc/machine-id']);
    expect(values.securityContext).toMatchObject({ runAsUser: 0, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true });
    const ns = find(prod.objects, 'Namespace', 'logging');
    expect(ns.metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'privileged', 'pod-security.kubernetes.io/audit': 'restricted', 'pod-security.kubernetes.io/warn': 'restricted',
    });
    expect(find(prod.objects, 'Namespace', 'elastic-system').metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    const operator = helmValues(prod.template, 'eck-operator');
    expect(restrictedViolations({ securityContext: operator.podSecurityContext, containers: [{ name: 'manager', securityContext: operator.securityContext }] })).toEqual([]);
  });

  test('the shipper authenticates as a file-realm user whose password comes from Secrets Manager, allowed only to write logs', () => {
    const external = find(prod.objects, 'ExternalSecret', 'fx-log-shipper');
    expect(external.spec.target.template.type).toBe('kubernetes.io/basic-auth');
    expect(external.spec.target.template.data).toMatchObject({ username: 'fx-log-shipper', roles: 'fx_log_writer' });
    const roles = find(prod.objects, 'Secret', 'fx-elastic-roles').stringData['roles.yml'];
    expect(roles).toContain('privileges: ["create_doc", "auto_configure"]');
    expect(find(prod.objects, 'Elasticsearch', 'fx').spec.auth).toEqual({ fileRealm: [{ secretName: 'fx-log-shipper' }], roles: [{ secretName: 'fx-elastic-roles' }] });
    // No fixed name (a rolled-back first create must not block the retry); External Secrets reads it by ARN.
    prod.template.hasResource('AWS::SecretsManager::Secret', {
      Properties: { Name: Match.absent(), Description: Match.stringLikeRegexp('log shipper'), GenerateSecretString: Match.objectLike({ PasswordLength: 32 }) },
      DeletionPolicy: 'RetainExceptOnCreate',
    });
    expect(external.spec.data[0].remoteRef.key).toMatch(/^arn:|TOKEN|\$\{/);
    // Fluent Bit writes to the Container Insights log groups through Pod Identity.
    prod.template.hasResourceProperties('AWS::EKS::PodIdentityAssociation', { Namespace: 'logging', ServiceAccount: 'fx-fluent-bit' });
  });
});

describe('NetworkPolicies', () => {
  test('only Kibana, Fluent Bit, the setup Job, the operator and the nodes themselves reach Elasticsearch', () => {
    const policies = prod.objects.filter((o) => o.kind === 'NetworkPolicy' && o.metadata.namespace === 'logging');
    const deny = policies.find((p) => p.metadata.name === 'fx-default-deny-ingress')!;
    expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress'], ingress: [] });
    const http = policies.find((p) => p.metadata.name === 'fx-elasticsearch-http')!;
    expect(http.spec.ingress[0].ports).toEqual([{ protocol: 'TCP', port: 9200 }]);
    const sources = http.spec.ingress[0].from.map((f: Json) => JSON.stringify(f.podSelector.matchLabels));
    expect(sources).toEqual([
      JSON.stringify({ 'kibana.k8s.elastic.co/name': 'fx' }),
      JSON.stringify({ 'app.kubernetes.io/name': 'fluent-bit', 'app.kubernetes.io/instance': 'fluent-bit' }),
      JSON.stringify({ 'fx.platform/role': 'elasticsearch-setup' }),
      JSON.stringify({ 'elasticsearch.k8s.elastic.co/cluster-name': 'fx' }),
      JSON.stringify({ 'app.kubernetes.io/name': 'elastic-operator' }),
    ]);
    const transport = policies.find((p) => p.metadata.name === 'fx-elasticsearch-transport')!;
    expect(transport.spec.ingress[0].ports).toEqual([{ protocol: 'TCP', port: 9300 }]);
    // The setup Job's pods carry the label the policy admits.
    expect(prod.objects.find((o) => o.kind === 'Job')!.spec.template.metadata.labels['fx.platform/role']).toBe('elasticsearch-setup');
  });

  test('core objects validate against the Kubernetes schemas', () => {
    const core = prod.objects.filter((o) => ['logging', 'elastic-system'].includes(o.metadata?.namespace ?? o.metadata?.name) && !o.apiVersion.includes('.'));
    const networking = prod.objects.filter((o) => o.apiVersion === 'networking.k8s.io/v1' || o.apiVersion === 'batch/v1');
    expect(k8sErrors([...core, ...networking])).toEqual([]);
  });
});

describe('schemas', () => {
  test('Elastic objects validate against the ECK 3.5.0 CRD schemas', () => {
    // k8sErrors checks custom resources against the pinned charts' CRD schemas (../shared/charts/*/crds.json).
    const elastic = [...prod.objects, ...dev.objects].filter((o) => /k8s\.elastic\.co\//.test(o.apiVersion));
    expect(elastic.map((o) => o.kind).sort()).toEqual(['Elasticsearch', 'Elasticsearch', 'Kibana', 'Kibana']);
    expect(k8sErrors(elastic)).toEqual([]);
    // The validator catches a typo.
    const typo = { ...elastic[0], spec: { ...elastic[0].spec, nodeSet: [] } };
    expect(k8sErrors([typo])).toEqual([`Elasticsearch/${elastic[0].metadata.name}: data.spec.nodeSet is not a field of the CRD schema (CRD of eck-operator 3.5.0)`]);
  });

  test('check-helm-values passes for the ECK, Fluent Bit and every other chart and manifest', () => {
    const result = checkHelmValues(outdir);
    expect(result.stdout).toMatch(/check-helm-values: 9 releases, \d+ objects checked, \d+ not checked, 0 errors/);
    expect(result.stdout).not.toMatch(/^ERROR/m);
    expect(result.status).toBe(0);
  });
});

describe('validation', () => {
  const make = (s: { stack: Stack; cluster: FxCluster }, id: string, props: Partial<FxObservabilityProps>) =>
    () => new FxObservability(s.stack, id, { cluster: s.cluster, elk: true, ...props });

  test('fails when the node count is 2, 0 or below 3 in production', () => {
    expect(make(bare, 'Two', { elasticsearchNodes: 2 })).toThrow(/FxObservability(?: at [^:]+)?: invalid elasticsearchNodes 2; allowed: 1, or 3 to 50/);
    expect(make(bare, 'Zero', { elasticsearchNodes: 0 })).toThrow(/invalid elasticsearchNodes 0/);
    expect(make(bareProd, 'One', { elasticsearchNodes: 1 })).toThrow(/invalid elasticsearchNodes 1; allowed: at least 3 in production/);
  });

  test('fails when storage is too small or not whole GiB', () => {
    expect(make(bare, 'Small', { elasticsearchStorage: Size.gibibytes(5) })).toThrow(/invalid elasticsearchStorage '5 GiB'; allowed: at least 10 GiB/);
    expect(make(bare, 'Frac', { elasticsearchStorage: Size.mebibytes(20000) })).toThrow(/invalid elasticsearchStorage '20000 MiB'; allowed: whole GiB/);
  });

  test('fails when retention is out of range or snapshots expire before the data', () => {
    expect(make(bare, 'Ret0', { elasticsearchRetentionDays: 0 })).toThrow(/invalid elasticsearchRetentionDays 0; allowed: an integer number of days from 1 to 3650/);
    expect(make(bare, 'RetBig', { elasticsearchRetentionDays: 4000 })).toThrow(/invalid elasticsearchRetentionDays 4000/);
    expect(make(bare, 'Snap', { elasticsearchRetentionDays: 30, snapshotRetentionDays: 7 })).toThrow(/invalid snapshotRetentionDays 7; allowed: at least elasticsearchRetentionDays \(30\)/);
    expect(make(bare, 'Kb', { kibanaReplicas: 0 })).toThrow(/invalid kibanaReplicas 0/);
  });

  test('fails when ELK settings are given with elk off', () => {
    expect(make(bare, 'Off', { elk: false, elasticsearchNodes: 3 })).toThrow(/invalid elasticsearchNodes 'set while elk is false'/);
  });
});
