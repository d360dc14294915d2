import { ArnFormat, CfnJson, Stack, Token } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { controllerResources, grantStatements } from './common';
import { FxCapability } from '../../core/install-order';
import { chartLabels } from '../../core/tags';
import { FxAddonOptions } from '../addon';
import { mergeValues } from '../addon-values';
import type { IFxCluster } from '../contract';
import { FxAutoscalerExpander } from '../props';

const NAMESPACE = 'kube-system';
const SERVICE_ACCOUNT = 'cluster-autoscaler';

/**
 * cluster-autoscaler: discovers the managed node groups through the ASG tags EKS sets
 * (`k8s.io/cluster-autoscaler/enabled`, `k8s.io/cluster-autoscaler/<cluster>`), balances similar
 * groups, and runs the image whose minor equals the cluster's. Its Pod Identity policy is the
 * documented least-privilege one: scaling only ASGs tagged `k8s.io/cluster-autoscaler/<cluster>: owned`.
 *
 * Order: needs nodes and Pod Identity; nothing waits for it (`wait: false` would also do, but a
 * failed rollout should fail the deployment).
 *
 * @internal
 */
export class ClusterAutoscalerAddon {
  public readonly serviceAccount: eks.ServiceAccount;
  public readonly chart: eks.HelmChart;

  constructor(cluster: IFxCluster, scope: Construct, expander: FxAutoscalerExpander, options: FxAddonOptions = {}) {
    const clusterName = cluster.clusterName;
    const stack = Stack.of(cluster);
    this.serviceAccount = cluster.addPodIdentityServiceAccount('ClusterAutoscalerServiceAccount', {
      name: SERVICE_ACCOUNT, namespace: NAMESPACE,
    });
    grantStatements(this.serviceAccount, clusterAutoscalerPolicy(scope, clusterName),
      'cluster-autoscaler documented least-privilege policy: Describe calls have no resource-level permissions; scaling is '
      + 'limited to ASGs tagged k8s.io/cluster-autoscaler/<cluster>=owned (ASG ARNs embed a generated id), DescribeNodegroup '
      + 'to this cluster\'s node groups.');

    const image = cluster.versions.images.clusterAutoscaler;
    this.chart = cluster.addHelmChart('ClusterAutoscaler', {
      chart: cluster.versions.charts.clusterAutoscaler,
      version: options.version,
      namespace: NAMESPACE,
      release: 'cluster-autoscaler',
      createNamespace: false,
      wait: true,
      values: mergeValues({
        cloudProvider: 'aws',
        awsRegion: stack.region,
        autoDiscovery: { clusterName: cluster.cluster.clusterName },
        image: { repository: image.repository, tag: image.tag },
        rbac: { serviceAccount: { create: false, name: SERVICE_ACCOUNT } },
        replicaCount: 1,
        extraArgs: {
          'expander': expander,
          'balance-similar-node-groups': true,
          'skip-nodes-with-system-pods': false,
          'scale-down-utilization-threshold': 0.5,
        },
        resources: controllerResources('100m', '300Mi', '600Mi'),
        additionalLabels: chartLabels(cluster.platformName, 'cluster-autoscaler'),
      }, options.values),
      needs: [FxCapability.POD_IDENTITY],
      provides: ['cluster-autoscaler'],
    });
    this.chart.node.addDependency(this.serviceAccount);
  }
}

/** The autoscaler's policy (kubernetes/autoscaler AWS README, "minimal" policy with the owned-tag condition). */
export function clusterAutoscalerPolicy(scope: Construct, clusterName: string): iam.PolicyStatement[] {
  const stack = Stack.of(scope);
  const tagKey = `aws:ResourceTag/k8s.io/cluster-autoscaler/${clusterName}`;
  // A token cluster name cannot be a JSON key in the template; CfnJson resolves it at deploy time.
  const owned: Record<string, any> = Token.isUnresolved(clusterName)
    ? new CfnJson(scope, 'ClusterAutoscalerCondition', { value: { [tagKey]: 'owned' } })
    : { [tagKey]: 'owned' };
  return [
    new iam.PolicyStatement({
      sid: 'ScaleOwnNodeGroups',
      actions: ['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup'],
      resources: [stack.formatArn({
        service: 'autoscaling', resource: 'autoScalingGroup', resourceName: '*:autoScalingGroupName/*', arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      })],
      conditions: { StringEquals: owned },
    }),
    new iam.PolicyStatement({
      // Describe calls support no resource-level permissions.
      sid: 'Discover',
      actions: [
        'autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeAutoScalingInstances',
        'autoscaling:DescribeLaunchConfigurations', 'autoscaling:DescribeScalingActivities', 'autoscaling:DescribeTags',
        'ec2:DescribeImages', 'ec2:DescribeInstanceTypes', 'ec2:DescribeLaunchTemplateVersions',
        'ec2:GetInstanceTypesFromInstanceRequirements',
      ],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'DescribeOwnNodeGroups',
      actions: ['eks:DescribeNodegroup'],
      resources: [stack.formatArn({ service: 'eks', resource: 'nodegroup', resourceName: `${clusterName}/*/*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME })],
    }),
  ];
}
