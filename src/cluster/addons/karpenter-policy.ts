import { ArnFormat, CfnJson, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/**
 * Karpenter's controller policy, statement by statement after the upstream v1.14.1 reference
 * (website/content/en/v1.14/getting-started/getting-started-with-karpenter/cloudformation.yaml,
 * policies NodeLifecycle, IAMIntegration, EKSIntegration, Interruption, ResourceDiscovery and
 * ZonalShift), written for this cluster. Differences from upstream are in the comment of each
 * statement; all statements go into one inline policy of the Pod Identity role instead of six
 * managed policies (same permissions).
 *
 * @internal
 */
export function karpenterControllerPolicy(
  scope: Construct, clusterName: string, clusterArn: string, nodeRole: iam.IRole, queue: sqs.IQueue,
): iam.PolicyStatement[] {
  const stack = Stack.of(scope);
  const region = stack.region;
  const ec2Arn = (resource: string, account: string = stack.account) => stack.formatArn({
    service: 'ec2', account, resource, resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
  const instanceProfiles = stack.formatArn({ service: 'iam', region: '', resource: 'instance-profile', resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
  const owned = `kubernetes.io/cluster/${clusterName}`;
  let n = 0;
  // Condition keys embed the cluster name; a token name cannot be a JSON key, CfnJson resolves it at deploy time.
  // iam.PolicyStatement wants a map of operators, so each operator's keys are one CfnJson.
  const cond = (value: Record<string, Record<string, unknown>>): Record<string, any> => (Token.isUnresolved(clusterName)
    ? Object.fromEntries(Object.entries(value).map(([operator, keys]) => [operator, new CfnJson(scope, `PolicyCondition${n++}`, { value: keys })]))
    : value);
  const created = ['fleet', 'instance', 'volume', 'network-interface', 'launch-template', 'spot-instances-request'].map((r) => ec2Arn(r));
  return [
    new iam.PolicyStatement({
      // Upstream: security-group, subnet, capacity-reservation, placement-group of any account (`*`).
      // Here: this account, where the platform's VPC and reservations live. Images and snapshots keep
      // an empty account: public EKS AMIs are owned by AWS accounts.
      sid: 'AllowScopedEC2InstanceAccessActions',
      actions: ['ec2:RunInstances', 'ec2:CreateFleet'],
      resources: [
        ec2Arn('image', ''), ec2Arn('snapshot', ''),
        ec2Arn('security-group'), ec2Arn('subnet'), ec2Arn('capacity-reservation'), ec2Arn('placement-group'),
      ],
    }),
    new iam.PolicyStatement({
      // Upstream: launch templates of any account; here this account (Karpenter creates them here).
      sid: 'AllowScopedEC2LaunchTemplateAccessActions',
      actions: ['ec2:RunInstances', 'ec2:CreateFleet'],
      resources: [ec2Arn('launch-template')],
      conditions: cond({ StringEquals: { [`aws:ResourceTag/${owned}`]: 'owned' }, StringLike: { 'aws:ResourceTag/karpenter.sh/nodepool': '*' } }),
    }),
    new iam.PolicyStatement({
      // As upstream; the resources are limited to this account (upstream `*`).
      sid: 'AllowScopedEC2InstanceActionsWithTags',
      actions: ['ec2:RunInstances', 'ec2:CreateFleet', 'ec2:CreateLaunchTemplate'],
      resources: created,
      conditions: cond({
        StringEquals: { [`aws:RequestTag/${owned}`]: 'owned', 'aws:RequestTag/eks:eks-cluster-name': clusterName },
        StringLike: { 'aws:RequestTag/karpenter.sh/nodepool': '*' },
      }),
    }),
    new iam.PolicyStatement({
      // As upstream; resources limited to this account.
      sid: 'AllowScopedResourceCreationTagging',
      actions: ['ec2:CreateTags'],
      resources: created,
      conditions: cond({
        StringEquals: {
          [`aws:RequestTag/${owned}`]: 'owned',
          'aws:RequestTag/eks:eks-cluster-name': clusterName,
          'ec2:CreateAction': ['RunInstances', 'CreateFleet', 'CreateLaunchTemplate'],
        },
        StringLike: { 'aws:RequestTag/karpenter.sh/nodepool': '*' },
      }),
    }),
    new iam.PolicyStatement({
      // As upstream; instances of this account only.
      sid: 'AllowScopedResourceTagging',
      actions: ['ec2:CreateTags'],
      resources: [ec2Arn('instance')],
      conditions: cond({
        'StringEquals': { [`aws:ResourceTag/${owned}`]: 'owned' },
        'StringLike': { 'aws:ResourceTag/karpenter.sh/nodepool': '*' },
        'StringEqualsIfExists': { 'aws:RequestTag/eks:eks-cluster-name': clusterName },
        'ForAllValues:StringEquals': { 'aws:TagKeys': ['eks:eks-cluster-name', 'karpenter.sh/nodeclaim', 'Name'] },
      }),
    }),
    new iam.PolicyStatement({
      // As upstream; this account only.
      sid: 'AllowScopedDeletion',
      actions: ['ec2:TerminateInstances', 'ec2:DeleteLaunchTemplate'],
      resources: [ec2Arn('instance'), ec2Arn('launch-template')],
      conditions: cond({ StringEquals: { [`aws:ResourceTag/${owned}`]: 'owned' }, StringLike: { 'aws:ResourceTag/karpenter.sh/nodepool': '*' } }),
    }),
    new iam.PolicyStatement({
      // As upstream: only the node role, only to EC2.
      sid: 'AllowPassingInstanceRole',
      actions: ['iam:PassRole'],
      resources: [nodeRole.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': ['ec2.amazonaws.com', 'ec2.amazonaws.com.cn'] } },
    }),
    new iam.PolicyStatement({
      // As upstream: Karpenter creates one instance profile per EC2NodeClass, tagged for this cluster and region.
      sid: 'AllowScopedInstanceProfileCreationActions',
      actions: ['iam:CreateInstanceProfile'],
      resources: [instanceProfiles],
      conditions: cond({
        StringEquals: { [`aws:RequestTag/${owned}`]: 'owned', 'aws:RequestTag/eks:eks-cluster-name': clusterName, 'aws:RequestTag/topology.kubernetes.io/region': region },
        StringLike: { 'aws:RequestTag/karpenter.k8s.aws/ec2nodeclass': '*' },
      }),
    }),
    new iam.PolicyStatement({
      // As upstream.
      sid: 'AllowScopedInstanceProfileTagActions',
      actions: ['iam:TagInstanceProfile'],
      resources: [instanceProfiles],
      conditions: cond({
        StringEquals: {
          [`aws:ResourceTag/${owned}`]: 'owned',
          'aws:ResourceTag/topology.kubernetes.io/region': region,
          [`aws:RequestTag/${owned}`]: 'owned',
          'aws:RequestTag/eks:eks-cluster-name': clusterName,
          'aws:RequestTag/topology.kubernetes.io/region': region,
        },
        StringLike: { 'aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass': '*', 'aws:RequestTag/karpenter.k8s.aws/ec2nodeclass': '*' },
      }),
    }),
    new iam.PolicyStatement({
      // As upstream.
      sid: 'AllowScopedInstanceProfileActions',
      actions: ['iam:AddRoleToInstanceProfile', 'iam:RemoveRoleFromInstanceProfile', 'iam:DeleteInstanceProfile'],
      resources: [instanceProfiles],
      conditions: cond({
        StringEquals: { [`aws:ResourceTag/${owned}`]: 'owned', 'aws:ResourceTag/topology.kubernetes.io/region': region },
        StringLike: { 'aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass': '*' },
      }),
    }),
    new iam.PolicyStatement({
      // As upstream: API endpoint and CA discovery of this cluster.
      sid: 'AllowAPIServerEndpointDiscovery',
      actions: ['eks:DescribeCluster'],
      resources: [clusterArn],
    }),
    new iam.PolicyStatement({
      // As upstream: the interruption queue only.
      sid: 'AllowInterruptionQueueActions',
      actions: ['sqs:DeleteMessage', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'],
      resources: [queue.queueArn],
    }),
    // Upstream's ZonalShift policy (arc-zonal-shift:GetManagedResource) is left out: it is used only with
    // settings.enableZonalShift, which stays false here.
    new iam.PolicyStatement({
      // As upstream: Describe calls have no resource-level permissions; limited to this region.
      sid: 'AllowRegionalReadActions',
      actions: [
        'ec2:DescribeCapacityReservations', 'ec2:DescribeImages', 'ec2:DescribeInstances', 'ec2:DescribeInstanceStatus',
        'ec2:DescribeInstanceTypeOfferings', 'ec2:DescribeInstanceTypes', 'ec2:DescribeLaunchTemplates',
        'ec2:DescribePlacementGroups', 'ec2:DescribeSecurityGroups', 'ec2:DescribeSpotPriceHistory', 'ec2:DescribeSubnets',
      ],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:RequestedRegion': region } },
    }),
    new iam.PolicyStatement({
      // As upstream: public AWS parameters (EKS AMI ids) in this region.
      sid: 'AllowSSMReadActions',
      actions: ['ssm:GetParameter'],
      resources: [stack.formatArn({ service: 'ssm', account: '', resource: 'parameter', resourceName: 'aws/service/*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME })],
    }),
    new iam.PolicyStatement({
      // As upstream: the Price List API has no resource-level permissions.
      sid: 'AllowPricingReadActions',
      actions: ['pricing:GetProducts'],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      // As upstream: ListInstanceProfiles has no resource-level permissions (garbage collection of Karpenter's profiles).
      sid: 'AllowUnscopedInstanceProfileListAction',
      actions: ['iam:ListInstanceProfiles'],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      // As upstream.
      sid: 'AllowInstanceProfileReadActions',
      actions: ['iam:GetInstanceProfile'],
      resources: [instanceProfiles],
    }),
  ];
}
