import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { addonReplicas, controllerResources, grantStatements, zoneSpread } from './common';
import { FxCapability } from '../../core/install-order';
import { chartLabels } from '../../core/tags';
import { FxAddonOptions } from '../addon';
import { mergeValues } from '../addon-values';
import type { IFxCluster } from '../contract';

const NAMESPACE = 'kube-system';
const SERVICE_ACCOUNT = 'aws-load-balancer-controller';
/** The tag the controller puts on every load balancer, target group and security group it creates. */
export const LBC_CLUSTER_TAG = 'elbv2.k8s.aws/cluster';

/**
 * AWS Load Balancer Controller: reconciles Ingresses (ALB) and LoadBalancer Services (NLB) of this
 * cluster. Its Pod Identity policy lets it change only load balancers, target groups and security
 * groups tagged `elbv2.k8s.aws/cluster=<cluster name>`, and create them only with that tag.
 *
 * Order: waits for nodes and Pod Identity, installs with `wait` (its webhooks mutate
 * TargetGroupBindings and validate Ingresses; the Service mutator is off) and provides `FxCapability.AWS_LOAD_BALANCER_CONTROLLER`; everything that
 * asks for a load balancer needs that, so it is deleted (and its load balancer removed) first.
 *
 * @internal
 */
export class LoadBalancerControllerAddon {
  public readonly serviceAccount: eks.ServiceAccount;
  public readonly chart: eks.HelmChart;

  constructor(cluster: IFxCluster, options: FxAddonOptions = {}) {
    const replicas = addonReplicas(cluster);
    const clusterName = cluster.cluster.clusterName;
    this.serviceAccount = cluster.addPodIdentityServiceAccount('LoadBalancerControllerServiceAccount', {
      name: SERVICE_ACCOUNT, namespace: NAMESPACE,
    });
    grantStatements(this.serviceAccount, loadBalancerControllerPolicy(Stack.of(cluster), clusterName, cluster.vpc.vpcId),
      'AWS Load Balancer Controller (upstream reference policy, narrowed): Describe calls have no resource-level permissions; '
      + 'load balancer, target group, listener and security group ARNs contain ids the controller generates, so they are '
      + 'wildcards constrained by the elbv2.k8s.aws/cluster=<cluster> resource/request tag or by the VPC.');

    const podLabels = { 'app.kubernetes.io/name': 'aws-load-balancer-controller' };
    this.chart = cluster.addHelmChart('LoadBalancerController', {
      chart: cluster.versions.charts.awsLoadBalancerController,
      version: options.version,
      namespace: NAMESPACE,
      release: 'aws-load-balancer-controller',
      createNamespace: false,
      wait: true,
      values: mergeValues({
        clusterName,
        region: Stack.of(cluster).region,
        vpcId: cluster.vpc.vpcId,
        replicaCount: replicas,
        serviceAccount: { create: false, name: SERVICE_ACCOUNT },
        podDisruptionBudget: replicas > 1 ? { maxUnavailable: 1 } : {},
        topologySpreadConstraints: zoneSpread(podLabels, cluster.profile.settings.strictZoneSpread),
        resources: controllerResources('50m', '128Mi', '256Mi'),
        additionalLabels: chartLabels(cluster.platformName, 'aws-load-balancer-controller'),
        defaultTags: { 'fx:platform': cluster.platformName },
        defaultSSLPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
        // The Service mutating webhook (mservice.elbv2.k8s.aws, failurePolicy Fail, every namespace)
        // would reject every Service created while the controller is not ready: metrics-server,
        // External Secrets, Prometheus, ECK, services... Nothing needs it: the one load-balanced
        // Service the platform creates (Traefik's NLB) names its loadBalancerClass itself.
        enableServiceMutatorWebhook: false,
        enableShield: false,
        enableWaf: false,
        enableWafv2: false,
      }, options.values),
      needs: [FxCapability.POD_IDENTITY],
      provides: [FxCapability.AWS_LOAD_BALANCER_CONTROLLER],
    });
    this.chart.node.addDependency(this.serviceAccount);
  }
}

/**
 * The controller's policy, following the upstream reference policy, with the resource tag
 * narrowed from "present" to "equals this cluster" and security-group changes limited to the VPC.
 * WAF and Shield actions are left out: the chart runs with enableWaf/enableWafv2/enableShield off.
 */
export function loadBalancerControllerPolicy(stack: Stack, clusterName: string, vpcId: string): iam.PolicyStatement[] {
  const arn = (service: string, resource: string, resourceName: string) =>
    stack.formatArn({ service, resource, resourceName, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
  const ownTag = { [`aws:ResourceTag/${LBC_CLUSTER_TAG}`]: clusterName };
  const requestTag = { [`aws:RequestTag/${LBC_CLUSTER_TAG}`]: clusterName };
  const securityGroups = arn('ec2', 'security-group', '*');
  const vpc = arn('ec2', 'vpc', vpcId);
  const loadBalancers = [arn('elasticloadbalancing', 'loadbalancer', 'app/*/*'), arn('elasticloadbalancing', 'loadbalancer', 'net/*/*')];
  const targetGroups = arn('elasticloadbalancing', 'targetgroup', '*/*');
  const listeners = [arn('elasticloadbalancing', 'listener', 'app/*/*/*'), arn('elasticloadbalancing', 'listener', 'net/*/*/*')];
  const listenerRules = [arn('elasticloadbalancing', 'listener-rule', 'app/*/*/*/*'), arn('elasticloadbalancing', 'listener-rule', 'net/*/*/*/*')];

  return [
    new iam.PolicyStatement({
      sid: 'CreateElbServiceLinkedRole',
      actions: ['iam:CreateServiceLinkedRole'],
      resources: [stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: 'aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing' })],
      conditions: { StringEquals: { 'iam:AWSServiceName': 'elasticloadbalancing.amazonaws.com' } },
    }),
    new iam.PolicyStatement({
      // Describe/List/Get calls support no resource-level permissions.
      sid: 'Discover',
      actions: [
        'ec2:DescribeAccountAttributes', 'ec2:DescribeAddresses', 'ec2:DescribeAvailabilityZones', 'ec2:DescribeInternetGateways',
        'ec2:DescribeVpcs', 'ec2:DescribeVpcPeeringConnections', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups',
        'ec2:DescribeInstances', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeTags', 'ec2:DescribeRouteTables',
        'ec2:GetCoipPoolUsage', 'ec2:DescribeCoipPools', 'ec2:GetSecurityGroupsForVpc', 'ec2:DescribeIpamPools',
        'elasticloadbalancing:DescribeLoadBalancers', 'elasticloadbalancing:DescribeLoadBalancerAttributes',
        'elasticloadbalancing:DescribeListeners', 'elasticloadbalancing:DescribeListenerCertificates',
        'elasticloadbalancing:DescribeListenerAttributes', 'elasticloadbalancing:DescribeSSLPolicies',
        'elasticloadbalancing:DescribeRules', 'elasticloadbalancing:DescribeTargetGroups',
        'elasticloadbalancing:DescribeTargetGroupAttributes', 'elasticloadbalancing:DescribeTargetHealth',
        'elasticloadbalancing:DescribeTags', 'elasticloadbalancing:DescribeTrustStores',
        'elasticloadbalancing:DescribeCapacityReservation',
        'acm:ListCertificates', 'acm:DescribeCertificate',
      ],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'CreateSecurityGroupsInVpc',
      actions: ['ec2:CreateSecurityGroup'],
      resources: [vpc],
    }),
    new iam.PolicyStatement({
      sid: 'CreateOwnSecurityGroups',
      actions: ['ec2:CreateSecurityGroup'],
      resources: [securityGroups],
      conditions: { StringEquals: requestTag },
    }),
    new iam.PolicyStatement({
      sid: 'TagOnCreateSecurityGroup',
      actions: ['ec2:CreateTags'],
      resources: [securityGroups],
      conditions: { StringEquals: { 'ec2:CreateAction': 'CreateSecurityGroup', ...requestTag } },
    }),
    new iam.PolicyStatement({
      // The controller opens its own load balancer security groups and the node/pod groups of the VPC to them.
      sid: 'ManageIngressRulesInVpc',
      actions: ['ec2:AuthorizeSecurityGroupIngress', 'ec2:RevokeSecurityGroupIngress'],
      resources: [securityGroups],
      conditions: { ArnEquals: { 'ec2:Vpc': vpc } },
    }),
    new iam.PolicyStatement({
      sid: 'ManageOwnSecurityGroups',
      actions: ['ec2:CreateTags', 'ec2:DeleteTags', 'ec2:DeleteSecurityGroup'],
      resources: [securityGroups],
      conditions: { StringEquals: ownTag },
    }),
    new iam.PolicyStatement({
      sid: 'CreateOwnLoadBalancers',
      actions: ['elasticloadbalancing:CreateLoadBalancer', 'elasticloadbalancing:CreateTargetGroup'],
      resources: [...loadBalancers, targetGroups],
      conditions: { StringEquals: requestTag },
    }),
    new iam.PolicyStatement({
      sid: 'TagOnCreateLoadBalancers',
      actions: ['elasticloadbalancing:AddTags'],
      resources: [...loadBalancers, targetGroups],
      conditions: {
        StringEquals: { 'elasticloadbalancing:CreateAction': ['CreateTargetGroup', 'CreateLoadBalancer'], ...requestTag },
      },
    }),
    new iam.PolicyStatement({
      sid: 'ManageOwnLoadBalancers',
      actions: [
        'elasticloadbalancing:AddTags', 'elasticloadbalancing:RemoveTags',
        'elasticloadbalancing:ModifyLoadBalancerAttributes', 'elasticloadbalancing:SetIpAddressType',
        'elasticloadbalancing:SetSecurityGroups', 'elasticloadbalancing:SetSubnets',
        'elasticloadbalancing:DeleteLoadBalancer', 'elasticloadbalancing:ModifyCapacityReservation',
        'elasticloadbalancing:ModifyIpPools', 'elasticloadbalancing:ModifyTargetGroup',
        'elasticloadbalancing:ModifyTargetGroupAttributes', 'elasticloadbalancing:DeleteTargetGroup',
        'elasticloadbalancing:CreateListener', 'elasticloadbalancing:ModifyListenerAttributes',
      ],
      resources: [...loadBalancers, targetGroups],
      conditions: { StringEquals: ownTag },
    }),
    new iam.PolicyStatement({
      sid: 'RegisterTargets',
      actions: ['elasticloadbalancing:RegisterTargets', 'elasticloadbalancing:DeregisterTargets'],
      resources: [targetGroups],
      conditions: { StringEquals: ownTag },
    }),
    new iam.PolicyStatement({
      // Listeners and rules of the controller's load balancers (their ARNs embed the load balancer's).
      sid: 'ManageListenersAndRules',
      actions: [
        'elasticloadbalancing:DeleteListener', 'elasticloadbalancing:ModifyListener',
        'elasticloadbalancing:AddListenerCertificates', 'elasticloadbalancing:RemoveListenerCertificates',
        'elasticloadbalancing:CreateRule', 'elasticloadbalancing:DeleteRule', 'elasticloadbalancing:ModifyRule',
        'elasticloadbalancing:SetRulePriorities', 'elasticloadbalancing:AddTags', 'elasticloadbalancing:RemoveTags',
      ],
      resources: [...listeners, ...listenerRules],
    }),
  ];
}
