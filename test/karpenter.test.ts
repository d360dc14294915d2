import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { FxCluster, FxClusterProps, FxConsolidationPolicy, FxNodeAutoscaler, FxProfile } from '../src';
import { testApp, ENV } from './util/fixtures';
import { CHART_DATA_DIR, checkHelmValues } from './util/helm-values';
import { k8sErrors } from './util/k8s';
import { joinedString, kubernetesObjectsOf, TOKEN } from './util/manifests';

const HELM = 'Custom::AWSCDK-EKS-HelmChart';
const MANIFEST = 'Custom::AWSCDK-EKS-KubernetesResource';
const CLUSTER_NAME = 'fx-platform';

/**
 * Karpenter's v1.14.1 reference controller policy (our transcription of the statement ids and action
 * names of the getting-started cloudformation.yaml of that version), statement id -> actions.
 */
const UPSTREAM_STATEMENTS: Record<string, string[]> = {
  // NodeLifecyclePolicy
  AllowScopedEC2InstanceAccessActions: ['ec2:RunInstances', 'ec2:CreateFleet'],
  AllowScopedEC2LaunchTemplateAccessActions: ['ec2:RunInstances', 'ec2:CreateFleet'],
  AllowScopedEC2InstanceActionsWithTags: ['ec2:RunInstances', 'ec2:CreateFleet', 'ec2:CreateLaunchTemplate'],
  AllowScopedResourceCreationTagging: ['ec2:CreateTags'],
  AllowScopedResourceTagging: ['ec2:CreateTags'],
  AllowScopedDeletion: ['ec2:TerminateInstances', 'ec2:DeleteLaunchTemplate'],
  // IAMIntegrationPolicy
  AllowPassingInstanceRole: ['iam:PassRole'],
  AllowScopedInstanceProfileCreationActions: ['iam:CreateInstanceProfile'],
  AllowScopedInstanceProfileTagActions: ['iam:TagInstanceProfile'],
  AllowScopedInstanceProfileActions: ['iam:AddRoleToInstanceProfile', 'iam:RemoveRoleFromInstanceProfile', 'iam:DeleteInstanceProfile'],
  // EKSIntegrationPolicy, InterruptionPolicy, ZonalShiftPolicy
  AllowAPIServerEndpointDiscovery: ['eks:DescribeCluster'],
  AllowInterruptionQueueActions: ['sqs:DeleteMessage', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'],
  AllowZonalShiftStatusReadOnly: ['arc-zonal-shift:GetManagedResource'],
  // ResourceDiscoveryPolicy
  AllowRegionalReadActions: [
    'ec2:DescribeCapacityReservations', 'ec2:DescribeImages', 'ec2:DescribeInstances', 'ec2:DescribeInstanceStatus',
    'ec2:DescribeInstanceTypeOfferings', 'ec2:DescribeInstanceTypes', 'ec2:DescribeLaunchTemplates', 'ec2:DescribePlacementGroups',
    'ec2:DescribeSecurityGroups', 'ec2:DescribeSpotPriceHistory', 'ec2:DescribeSubnets',
  ],
  AllowSSMReadActions: ['ssm:GetParameter'],
  AllowPricingReadActions: ['pricing:GetProducts'],
  AllowUnscopedInstanceProfileListAction: ['iam:ListInstanceProfiles'],
  AllowInstanceProfileReadActions: ['iam:GetInstanceProfile'],
};
/** Upstream statements we leave out, each with its reason (see karpenterControllerPolicy). */
const OMITTED: Record<string, string> = {
  AllowZonalShiftStatusReadOnly: 'only used with settings.enableZonalShift, which stays false',
};
/** The EventBridge rules of the upstream v1.14.1 template (source, detail-type). */
const UPSTREAM_RULES: [string, string][] = [
  ['aws.health', 'AWS Health Event'],
  ['aws.ec2', 'EC2 Spot Instance Interruption Warning'],
  ['aws.ec2', 'EC2 Instance Rebalance Recommendation'],
  ['aws.ec2', 'EC2 Instance State-change Notification'],
  ['aws.ec2', 'EC2 Capacity Reservation Instance Interruption Warning'],
];

interface Scenario {
  readonly outdir: string;
  readonly cluster: FxCluster;
  readonly template: Template;
  readonly resources: Record<string, any>;
}

function build(props: Partial<FxClusterProps>): Scenario {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-karpenter-'));
  const app = testApp(outdir);
  const stack = new Stack(app, 'Platform', { env: ENV });
  const cluster = new FxCluster(stack, 'Cluster', { clusterName: CLUSTER_NAME, platformName: 'fx', velero: false, ...props });
  app.synth();
  const template = Template.fromStack(stack);
  return { outdir, cluster, template, resources: template.toJSON().Resources };
}

function newCluster(props: Partial<FxClusterProps>): FxCluster {
  const stack = new Stack(testApp(), 'Platform', { env: ENV });
  return new FxCluster(stack, 'Cluster', { clusterName: CLUSTER_NAME, velero: false, ...props });
}

function ofType(s: Scenario, type: string): [string, any][] {
  return Object.entries(s.resources).filter(([, r]) => r.Type === type);
}

function karpenterRelease(s: Scenario): [string, any] {
  const found = ofType(s, HELM).filter(([, r]) => r.Properties.Release === 'karpenter');
  expect(found).toHaveLength(1);
  return found[0];
}

function karpenterObjects(s: Scenario, kind: string): any[] {
  return kubernetesObjectsOf(s.template).filter((o) => o.kind === kind);
}

function controllerStatements(s: Scenario): any[] {
  const assoc = ofType(s, 'AWS::EKS::PodIdentityAssociation').find(([, r]) => r.Properties.ServiceAccount === 'karpenter');
  expect(assoc).toBeDefined();
  const roleId = assoc![1].Properties.RoleArn['Fn::GetAtt'][0];
  return ofType(s, 'AWS::IAM::Policy')
    .filter(([, r]) => r.Properties.Roles.some((x: any) => x.Ref === roleId))
    .flatMap(([, r]) => r.Properties.PolicyDocument.Statement);
}

/** Values of string fields that have a `pattern` in the CRD schema and do not match it (Kubernetes rejects them). */
function patternErrors(obj: any): string[] {
  const [group, version] = obj.apiVersion.split('/');
  const crds = JSON.parse(fs.readFileSync(path.join(CHART_DATA_DIR, 'karpenter', '1.14.1', 'crds.json'), 'utf8')) as any[];
  const crd = crds.find((c) => c.group === group && c.kind === obj.kind);
  if (!crd) return [`no CRD for ${obj.apiVersion} ${obj.kind}`];
  const v = crd.versions.find((x: any) => x.name === version);
  const schema = v.schema.openAPIV3Schema ?? v.schema;
  const errors: string[] = [];
  const walk = (sch: any, value: any, at: string) => {
    if (!sch || value === undefined || value === null) return;
    if (typeof value === 'string' && sch.pattern && !value.includes(TOKEN) && !new RegExp(sch.pattern).test(value)) {
      errors.push(`${at} '${value}' does not match ${sch.pattern}`);
    }
    if (Array.isArray(value)) {value.forEach((item, i) => walk(sch.items, item, `${at}[${i}]`));} else if (typeof value === 'object') {
      for (const [k, child] of Object.entries(value)) walk(sch.properties?.[k] ?? sch.additionalProperties, child, `${at}.${k}`);
    }
  };
  walk(schema.properties.spec, obj.spec, 'spec');
  return errors;
}

describe('Karpenter as the node autoscaler (production profile)', () => {
  let s: Scenario;
  beforeAll(() => {
    s = build({ profile: FxProfile.PRODUCTION, nodeAutoscaler: FxNodeAutoscaler.karpenter({ nodeImageAlias: 'al2023@v20251120' }) });
  });

  test('installs the pinned OCI chart in kube-system with its own Pod Identity service account', () => {
    const [, release] = karpenterRelease(s);
    expect(release.Properties).toMatchObject({
      Repository: 'oci://public.ecr.aws/karpenter/karpenter', Version: '1.14.1', Namespace: 'kube-system', Wait: true,
    });
    const values = JSON.parse(joinedString(release.Properties.Values));
    expect(values.serviceAccount).toEqual({ create: false, name: 'karpenter' });
    expect(values.settings.clusterName).toBe(TOKEN);
    expect(values.settings.interruptionQueue).toBe(TOKEN);
    expect(values.replicas).toBe(2);
    s.template.hasResourceProperties('AWS::EKS::PodIdentityAssociation', { ServiceAccount: 'karpenter', Namespace: 'kube-system' });
  });

  test('the controller runs only on managed node group nodes, never on a NodePool\'s', () => {
    const values = JSON.parse(joinedString(karpenterRelease(s)[1].Properties.Values));
    expect(values.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms).toEqual([{
      matchExpressions: [
        { key: 'eks.amazonaws.com/nodegroup', operator: 'Exists' },
        { key: 'karpenter.sh/nodepool', operator: 'DoesNotExist' },
      ],
    }]);
  });

  test('Helm values and custom objects pass the values-key and CRD checks of the pinned chart', () => {
    const run = checkHelmValues(s.outdir);
    expect(run.stdout).toMatch(/0 errors/);
    expect(run.status).toBe(0);
  });

  test('node role with the node policies and an EC2_LINUX access entry', () => {
    s.template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'ec2.amazonaws.com' } })] },
      ManagedPolicyArns: ['AmazonEKSWorkerNodePolicy', 'AmazonEKS_CNI_Policy', 'AmazonEC2ContainerRegistryPullOnly'].map((p) => ({
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::aws:policy/${p}`]],
      })),
    });
    const [roleId] = ofType(s, 'AWS::IAM::Role').find(([id]) => id.includes('KarpenterNodeRole'))!;
    s.template.hasResourceProperties('AWS::EKS::AccessEntry', {
      Type: 'EC2_LINUX', PrincipalArn: { 'Fn::GetAtt': [roleId, 'Arn'] },
    });
  });

  test('IAM: every upstream v1.14.1 statement is granted with the same actions, except the explained omissions, and nothing else', () => {
    const statements = controllerStatements(s);
    const ours = Object.fromEntries(statements.map((st) => [st.Sid, ([st.Action].flat() as string[]).sort()]));
    expect(statements.map((st) => st.Sid)).toHaveLength(Object.keys(ours).length);
    const expected = Object.fromEntries(Object.entries(UPSTREAM_STATEMENTS)
      .filter(([sid]) => !(sid in OMITTED))
      .map(([sid, actions]) => [sid, [...actions].sort()]));
    expect(ours).toEqual(expected);
  });

  test('IAM: launch, tag and delete are scoped to resources tagged for this cluster', () => {
    const statements = controllerStatements(s);
    const bySid = (sid: string) => statements.find((st) => st.Sid === sid);
    expect(bySid('AllowScopedDeletion').Condition).toEqual({
      StringEquals: { [`aws:ResourceTag/kubernetes.io/cluster/${CLUSTER_NAME}`]: 'owned' },
      StringLike: { 'aws:ResourceTag/karpenter.sh/nodepool': '*' },
    });
    expect(bySid('AllowScopedEC2InstanceActionsWithTags').Condition.StringEquals['aws:RequestTag/eks:eks-cluster-name']).toBe(CLUSTER_NAME);
    expect(bySid('AllowPassingInstanceRole').Resource).toEqual({ 'Fn::GetAtt': [expect.stringContaining('KarpenterNodeRole'), 'Arn'] });
    expect(bySid('AllowRegionalReadActions').Condition).toEqual({ StringEquals: { 'aws:RequestedRegion': ENV.region } });
    // Created resources are limited to this account (upstream: any account).
    expect(JSON.stringify(bySid('AllowScopedDeletion').Resource)).toContain(`:${ENV.account}:instance/*`);
    expect(statements.every((st) => st.Effect === 'Allow' && st.Action !== '*')).toBe(true);
  });

  test('interruption queue: SQS-managed encryption, TLS only, sends only from this account\'s rules', () => {
    s.template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 300 });
    const [queueId] = ofType(s, 'AWS::SQS::Queue')[0];
    const ruleIds = ofType(s, 'AWS::Events::Rule').map(([id]) => id);
    const policy = ofType(s, 'AWS::SQS::QueuePolicy').find(([, r]) => r.Properties.Queues.some((q: any) => q.Ref === queueId))![1];
    const statements = policy.Properties.PolicyDocument.Statement;
    expect(statements).toEqual(expect.arrayContaining([
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Condition: {
          ArnEquals: { 'aws:SourceArn': ruleIds.map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] })) },
          StringEquals: { 'aws:SourceAccount': ENV.account },
        },
      }),
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'sqs.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Condition: { StringEquals: { 'aws:SourceAccount': ENV.account } },
      }),
    ]));
    expect(statements.filter((st: any) => st.Effect === 'Allow').every((st: any) => st.Condition)).toBe(true);
  });

  test('EventBridge rules match the events Karpenter 1.14.1 documents, each targeting the queue', () => {
    const [queueId] = ofType(s, 'AWS::SQS::Queue')[0];
    const rules = ofType(s, 'AWS::Events::Rule').map(([, r]) => r.Properties);
    expect(rules.map((r) => [r.EventPattern.source[0], r.EventPattern['detail-type'][0]]).sort()).toEqual([...UPSTREAM_RULES].sort());
    for (const r of rules) {
      expect(r.EventPattern.source).toHaveLength(1);
      expect(r.Targets).toEqual([{ Arn: { 'Fn::GetAtt': [queueId, 'Arn'] }, Id: 'KarpenterInterruptionQueueTarget' }]);
    }
  });

  test('private subnets and the cluster security group carry the discovery tag; public subnets do not', () => {
    const subnets = ofType(s, 'AWS::EC2::Subnet').map(([, r]) => r.Properties);
    const tagged = (p: any) => (p.Tags ?? []).some((t: any) => t.Key === 'karpenter.sh/discovery' && t.Value === CLUSTER_NAME);
    const isPublic = (p: any) => p.MapPublicIpOnLaunch === true;
    expect(subnets.filter((p) => !isPublic(p) && tagged(p)).length).toBe(3);
    expect(subnets.filter((p) => isPublic(p) && tagged(p))).toEqual([]);

    // EKS creates the cluster security group: one CreateTags call tags it, undone on delete.
    const [, tagger] = ofType(s, 'Custom::AWS').find(([id]) => id.includes('SecurityGroupDiscoveryTag'))!;
    const create = JSON.parse(joinedString(tagger.Properties.Create));
    expect(create).toMatchObject({
      service: 'EC2',
      action: 'createTags',
      parameters: { Resources: [TOKEN], Tags: [{ Key: 'karpenter.sh/discovery', Value: CLUSTER_NAME }] },
    });
    expect(JSON.stringify(tagger.Properties.Create)).toContain('ClusterSecurityGroupId');
    expect(JSON.parse(joinedString(tagger.Properties.Delete))).toMatchObject({ action: 'deleteTags' });
    const policy = ofType(s, 'AWS::IAM::Policy').find(([id]) => id.includes('SecurityGroupDiscoveryTag'))![1];
    expect(policy.Properties.PolicyDocument.Statement).toEqual([expect.objectContaining({
      Action: ['ec2:CreateTags', 'ec2:DeleteTags'],
      Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['karpenter.sh/discovery'] } },
    })]);
    expect(JSON.stringify(policy.Properties.PolicyDocument.Statement[0].Resource)).toContain('security-group/');

    for (const nc of karpenterObjects(s, 'EC2NodeClass')) {
      expect(nc.spec.subnetSelectorTerms).toEqual([{ tags: { 'karpenter.sh/discovery': CLUSTER_NAME } }]);
      expect(nc.spec.securityGroupSelectorTerms).toEqual([{ tags: { 'karpenter.sh/discovery': CLUSTER_NAME } }]);
    }
  });

  test('NodePools and EC2NodeClasses validate against the karpenter 1.14.1 CRD schemas', () => {
    const objects = [...karpenterObjects(s, 'NodePool'), ...karpenterObjects(s, 'EC2NodeClass')];
    expect(objects).toHaveLength(4);
    expect(k8sErrors(objects)).toEqual([]);
    expect(objects.flatMap(patternErrors)).toEqual([]);
  });

  test('fails when a NodePool breaks the CRD schema (bad fixture: the checks can fail)', () => {
    const pool = karpenterObjects(s, 'NodePool')[0];
    const bad = { ...pool, spec: { ...pool.spec, disruption: { ...pool.spec.disruption, consolidationPolicy: 'Sometimes', consolidateAfterr: '1m' } } };
    const errors = k8sErrors([bad]);
    expect(errors.join('\n')).toMatch(/consolidationPolicy must be one of/);
    expect(errors.join('\n')).toMatch(/consolidateAfterr is not a field/);
    const badDuration = { ...pool, spec: { ...pool.spec, template: { ...pool.spec.template, spec: { ...pool.spec.template.spec, expireAfter: '30d' } } } };
    expect(patternErrors(badDuration)).toEqual([expect.stringMatching(/spec\.template\.spec\.expireAfter '30d' does not match/)]);
  });

  test('the on-demand pool has no taint; the spot pool carries the platform spot taint and label', () => {
    const pools = Object.fromEntries(karpenterObjects(s, 'NodePool').map((p) => [p.metadata.name, p]));
    expect(pools.default.spec.template.spec.taints).toBeUndefined();
    expect(pools.default.spec.template.spec.requirements).toContainEqual({ key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'] });
    expect(pools.spot.spec.template.spec.taints).toEqual([{ key: 'fx.platform/capacity', value: 'spot', effect: 'NoSchedule' }]);
    expect(pools.spot.spec.template.metadata.labels['fx.platform/capacity']).toBe('spot');
    expect(pools.spot.spec.template.spec.requirements).toContainEqual({ key: 'karpenter.sh/capacity-type', operator: 'In', values: ['spot'] });
  });

  test('production defaults come from the profile', () => {
    const pool = karpenterObjects(s, 'NodePool').find((p) => p.metadata.name === 'default');
    expect(pool.spec.disruption).toEqual({ consolidationPolicy: 'WhenEmptyOrUnderutilized', consolidateAfter: '5m', budgets: [{ nodes: '10%' }] });
    expect(pool.spec.template.spec.expireAfter).toBe('720h');
    expect(pool.spec.limits).toEqual({ cpu: '256', memory: '1024Gi' });
    expect(pool.spec.template.spec.requirements).toContainEqual({
      key: 'karpenter.k8s.aws/instance-family', operator: 'In', values: FxProfile.PRODUCTION.settings.karpenterInstanceFamilies,
    });
    const nc = karpenterObjects(s, 'EC2NodeClass').find((p) => p.metadata.name === 'default');
    expect(nc.spec.amiSelectorTerms).toEqual([{ alias: 'al2023@v20251120' }]);
    expect(nc.spec.metadataOptions).toMatchObject({ httpTokens: 'required', httpPutResponseHopLimit: 1 });
    expect(nc.spec.blockDeviceMappings).toEqual([{ deviceName: '/dev/xvda', rootVolume: true, ebs: { volumeSize: '50Gi', volumeType: 'gp3', encrypted: true, deleteOnTermination: true } }]);
  });

  test('NodePools are applied after the chart (CRDs) and the node access entry, and deleted before them', () => {
    const [chartId] = karpenterRelease(s);
    const [, manifest] = ofType(s, MANIFEST).find(([id]) => id.includes('KarpenterNodePools'))!;
    const [accessId] = ofType(s, 'AWS::EKS::AccessEntry').find(([, r]) => r.Properties.Type === 'EC2_LINUX')!;
    const [tagId] = ofType(s, 'Custom::AWS').find(([id]) => id.includes('SecurityGroupDiscoveryTag'))!;
    expect(manifest.DependsOn).toEqual(expect.arrayContaining([chartId, accessId, tagId]));
  });

  test('Karpenter replaces cluster-autoscaler', () => {
    expect(s.cluster.clusterAutoscaler).toBeUndefined();
    expect(s.cluster.karpenter).toBeDefined();
    expect(ofType(s, HELM).filter(([, r]) => r.Properties.Chart === 'cluster-autoscaler')).toEqual([]);
  });
});

describe('Karpenter choices and defaults', () => {
  test('the default node autoscaler is cluster-autoscaler, without Karpenter resources', () => {
    const cluster = newCluster({});
    const template = Template.fromStack(Stack.of(cluster));
    expect(cluster.clusterAutoscaler).toBeDefined();
    expect(cluster.karpenter).toBeUndefined();
    template.resourceCountIs('AWS::SQS::Queue', 0);
    template.resourceCountIs('AWS::Events::Rule', 0);
  });

  test('clusterAutoscaler: false still installs no autoscaler', () => {
    const cluster = newCluster({ clusterAutoscaler: false });
    expect(cluster.clusterAutoscaler).toBeUndefined();
    expect(cluster.karpenter).toBeUndefined();
  });

  test('development defaults and custom pools', () => {
    const s = build({
      nodeAutoscaler: FxNodeAutoscaler.karpenter({
        nodePools: [{
          name: 'arm',
          instanceFamilies: ['m7g', 'c7g'],
          instanceSizes: ['large', 'xlarge'],
          architectures: [ec2.InstanceArchitecture.ARM_64],
          cpuLimit: 64,
          consolidationPolicy: FxConsolidationPolicy.WHEN_EMPTY,
          consolidateAfter: Duration.seconds(90),
          expireAfter: Duration.hours(36),
          weight: 10,
          labels: { team: 'data' },
        }],
      }),
    });
    const [pool] = karpenterObjects(s, 'NodePool');
    expect(pool.spec.disruption).toMatchObject({ consolidationPolicy: 'WhenEmpty', consolidateAfter: '90s' });
    expect(pool.spec.template.spec.expireAfter).toBe('36h');
    expect(pool.spec.weight).toBe(10);
    expect(pool.spec.template.spec.requirements).toContainEqual({ key: 'kubernetes.io/arch', operator: 'In', values: ['arm64'] });
    expect(pool.spec.template.metadata.labels).toEqual({ 'team': 'data', 'fx.platform/node-pool': 'arm' });
    expect(k8sErrors(karpenterObjects(s, 'NodePool'))).toEqual([]);
    expect(JSON.parse(joinedString(karpenterRelease(s)[1].Properties.Values)).replicas).toBe(1);

    const dev = build({ nodeAutoscaler: FxNodeAutoscaler.karpenter() });
    const def = karpenterObjects(dev, 'NodePool').find((p) => p.metadata.name === 'default');
    expect(def.spec.disruption.consolidateAfter).toBe('30s');
    expect(def.spec.template.spec.expireAfter).toBe('168h');
    expect(def.spec.limits.cpu).toBe('32');
  });

  test('an unpinned node image is a synth warning', () => {
    const cluster = newCluster({ nodeAutoscaler: FxNodeAutoscaler.karpenter() });
    const warnings = cluster.node.metadata.filter((m) => m.type === 'aws:cdk:warning').map((m) => String(m.data));
    expect(warnings.join('\n')).toMatch(/al2023@latest; pin nodeAutoscaler.nodeImageAlias/);
  });

  test('fails when nodeAutoscaler and clusterAutoscaler are both set', () => {
    expect(() => newCluster({ clusterAutoscaler: false, nodeAutoscaler: FxNodeAutoscaler.karpenter() }))
      .toThrow(/FxCluster(?: at [^:]+)?: invalid clusterAutoscaler .*allowed: either nodeAutoscaler or clusterAutoscaler, not both/);
  });

  test('fails when an expander is given with Karpenter', () => {
    expect(() => newCluster({ nodeAutoscaler: FxNodeAutoscaler.karpenter(), autoscalerExpander: 'random' as any }))
      .toThrow(/invalid autoscalerExpander 'random'; allowed: no expander unless cluster-autoscaler/);
  });

  test.each([
    [{ nodePools: [] }, /nodeAutoscaler.nodePools \[\]; allowed: at least one NodePool/],
    [{ nodePools: [{ name: 'Default' }] }, /nodePools\[0\].name 'Default'; allowed: a DNS label/],
    [{ nodePools: [{ name: 'a' }, { name: 'a' }] }, /nodePools\[1\].name 'a'; allowed: a name not used/],
    [{ nodePools: [{ name: 'a', instanceFamilies: ['m6i'], instanceSizes: ['medium'] }] }, /instanceSizes 'm6i.medium'; allowed: instance types of at least t3.medium/],
    [{ nodePools: [{ name: 'a', instanceSizes: ['huge'] }] }, /instanceSizes 'huge'; allowed: EC2 instance sizes/],
    [{ nodePools: [{ name: 's', capacityType: eks.CapacityType.SPOT, instanceFamilies: ['m7i'], instanceSizes: ['large'] }] }, /at least two instance types .* for a spot NodePool/],
    [{ nodePools: [{ name: 'c', capacityType: eks.CapacityType.CAPACITY_BLOCK }] }, /capacityType 'CAPACITY_BLOCK'; allowed: ON_DEMAND or SPOT/],
    [{ nodePools: [{ name: 'e', expireAfter: Duration.minutes(30) }] }, /expireAfter '1800s'; allowed: whole seconds, at least 1 hour/],
    [{ nodePools: [{ name: 'l', cpuLimit: 0 }] }, /cpuLimit 0; allowed: an integer of at least 2/],
    [{ nodePools: [{ name: 'w', weight: 101 }] }, /weight 101; allowed: an integer from 1 to 100 \(the NodePool schema\)/],
    [{ nodePools: [{ name: 'k', labels: { 'karpenter.sh/capacity-type': 'spot' } }] }, /labels 'karpenter.sh\/capacity-type'; allowed: label keys outside/],
    [{ nodeImageAlias: 'ubuntu' }, /nodeImageAlias 'ubuntu'; allowed: an EKS AMI alias/],
    [{ replicas: 0 }, /nodeAutoscaler.replicas 0; allowed: an integer from 1 to 5/],
  ])('fails when Karpenter options are invalid (%#)', (options, message) => {
    expect(() => newCluster({ nodeAutoscaler: FxNodeAutoscaler.karpenter(options as any) })).toThrow(message);
  });

  test('an imported VPC: subnets are selected by id', () => {
    const app = new App({ builtinCloudFormationValidation: false });
    const stack = new Stack(app, 'Platform', { env: ENV });
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-0123',
      availabilityZones: ['us-east-1a', 'us-east-1b'],
      privateSubnetIds: ['subnet-0aaa', 'subnet-0bbb'],
      publicSubnetIds: ['subnet-0ccc', 'subnet-0ddd'],
    });
    new FxCluster(stack, 'Cluster', { vpc, clusterName: CLUSTER_NAME, velero: false, nodeAutoscaler: FxNodeAutoscaler.karpenter() });
    const ncs = kubernetesObjectsOf(Template.fromStack(stack)).filter((o) => o.kind === 'EC2NodeClass');
    expect(ncs.length).toBe(2);
    for (const nc of ncs) expect(nc.spec.subnetSelectorTerms).toEqual([{ id: 'subnet-0aaa' }, { id: 'subnet-0bbb' }]);
  });
});
