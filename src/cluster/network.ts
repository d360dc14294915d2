import { RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { check, checkKnownAtSynth, cidrsOverlap, FxValidationError, isIpv4Cidr, isIpv4Network, profileSuffix } from '../core/errors';

const WHO = 'FxCluster';

/** Subnet group names of the platform VPC (other constructs select subnets by these names). */
export const SUBNET_PUBLIC = 'Public';
export const SUBNET_PRIVATE = 'Private';
export const SUBNET_ISOLATED = 'Isolated';

/** @internal */
export interface NetworkProps {
  readonly vpcCidr: string;
  readonly natGateways: number;
  /** The profile that chose `natGateways`, when the prop was not set (named in errors). */
  readonly natGatewaysFromProfile?: string;
  readonly availabilityZones?: string[];
  readonly interfaceEndpoints: ec2.InterfaceVpcEndpointAwsService[];
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The platform VPC: 3 AZs, public / private (NAT egress) / isolated subnets, flow logs to a
 * KMS-encrypted log group, an S3 gateway endpoint and optional interface endpoints.
 * Load-balancer subnet tags are applied by aws-eks-v2's Cluster (`kubernetes.io/role/elb`,
 * `kubernetes.io/role/internal-elb`).
 *
 * @internal
 */
export class FxNetwork extends Construct {
  public readonly vpc: ec2.Vpc;
  public readonly flowLogGroup: logs.LogGroup;
  public readonly logKey: kms.Key;
  /** The services of the interface endpoints. */
  public readonly interfaceEndpoints: ec2.InterfaceVpcEndpointAwsService[];
  /** CIDR blocks (literal) of the subnets holding the interface endpoints' network interfaces. */
  public readonly interfaceEndpointSubnetCidrs: string[];

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    validateNetworkProps(props);
    validateZonesOfStack(Stack.of(this), props.availabilityZones);

    this.vpc = new ec2.Vpc(this, 'Resource', {
      ipAddresses: ec2.IpAddresses.cidr(props.vpcCidr),
      maxAzs: props.availabilityZones ? undefined : 3,
      availabilityZones: props.availabilityZones,
      natGateways: props.natGateways,
      restrictDefaultSecurityGroup: true,
      subnetConfiguration: [
        { name: SUBNET_PUBLIC, subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
        // Large private subnets: VPC CNI prefix delegation hands out /28 blocks per node.
        { name: SUBNET_PRIVATE, subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 19 },
        { name: SUBNET_ISOLATED, subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
    });
    this.acknowledgeRestrictDefaultSecurityGroupHandler();

    this.logKey = this.createLogKey(props.removalPolicy);
    this.flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: props.logRetention,
      encryptionKey: this.logKey,
      removalPolicy: props.removalPolicy,
    });
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(this.flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });

    // In the private subnets, where the pods are; private DNS makes the SDKs' regional host names resolve
    // to the endpoints, so workloads that call only these services need no path to public addresses.
    const endpointSubnets: ec2.SubnetSelection = { subnetGroupName: SUBNET_PRIVATE };
    props.interfaceEndpoints.forEach((service, i) => {
      const endpoint = this.vpc.addInterfaceEndpoint(`Endpoint${i}`, {
        service,
        privateDnsEnabled: true,
        subnets: endpointSubnets,
        // The rule `open` adds names the VPC's CIDR attribute (a token): the same rule with the literal
        // block, which the security group rules of cdk-nag can read.
        open: false,
      });
      endpoint.connections.allowDefaultPortFrom(ec2.Peer.ipv4(props.vpcCidr), 'HTTPS from the VPC');
      // EC2 creates an S3 interface endpoint with private DNS only once the VPC has the S3 gateway endpoint.
      if (service.shortName === 's3') endpoint.node.addDependency(this.vpc.node.findChild('S3'));
    });
    this.interfaceEndpoints = [...props.interfaceEndpoints];
    this.interfaceEndpointSubnetCidrs = props.interfaceEndpoints.length > 0
      ? this.vpc.selectSubnets(endpointSubnets).subnets.map((s) => s.ipv4CidrBlock)
      : [];
  }

  /** A customer key for the platform's CloudWatch log groups (flow logs, control-plane logs). */
  private createLogKey(removalPolicy: RemovalPolicy): kms.Key {
    const key = new kms.Key(this, 'LogKey', {
      description: 'Fx platform: encrypts VPC flow logs and EKS control-plane logs',
      enableKeyRotation: true,
      removalPolicy,
    });
    const region = Stack.of(this).region;
    const account = Stack.of(this).account;
    key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AllowCloudWatchLogs',
      principals: [new iam.ServicePrincipal(`logs.${region}.amazonaws.com`)],
      actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:DescribeKey'],
      resources: ['*'],
      conditions: {
        ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${Stack.of(this).partition}:logs:${region}:${account}:log-group:*` },
      },
    }));
    return key;
  }

  /**
   * `restrictDefaultSecurityGroup` is implemented by a CDK-provided custom resource whose Lambda
   * uses the AWS managed basic execution policy and the runtime CDK chooses.
   */
  private acknowledgeRestrictDefaultSecurityGroupHandler(): void {
    const provider = Stack.of(this).node.tryFindChild('Custom::VpcRestrictDefaultSGCustomResourceProvider');
    if (!provider) return;
    Validations.of(provider).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'CDK-provided singleton handler that removes the rules of the default security group; it only writes its own logs.',
    });
  }
}

function validateNetworkProps(props: NetworkProps): void {
  // The subnets are computed at synth time, so the block must be a literal.
  if (Token.isUnresolved(props.vpcCidr)) {
    throw new FxValidationError(WHO, 'vpcCidr', '(a deploy-time token)', 'a literal IPv4 CIDR block: the subnet layout is computed at synth time');
  }
  check(isIpv4Cidr(props.vpcCidr), WHO, 'vpcCidr', props.vpcCidr, 'an IPv4 CIDR block such as 10.0.0.0/16');
  check(isIpv4Network(props.vpcCidr), WHO, 'vpcCidr', props.vpcCidr,
    `a network address (host bits zero), e.g. ${networkOf(props.vpcCidr)}`);
  // Subnets are allocated on their own size boundaries: 3 public /24s, 3 private /19s (10.x.32.0,
  // .64.0, .96.0), 3 isolated /24s from .128.0: only a /16 (the largest VPC) holds them.
  const reserved = VPC_RESERVED.find((range) => cidrsOverlap(props.vpcCidr, range));
  check(reserved === undefined, WHO, 'vpcCidr', props.vpcCidr,
    `a private (RFC 1918) or publicly routable block; ${props.vpcCidr} overlaps ${reserved}, which EC2 refuses for a VPC (this network, loopback, link-local, multicast or reserved)`);
  check(prefixOf(props.vpcCidr) === 16, WHO, 'vpcCidr', props.vpcCidr,
    'a /16 block (three /19 private subnets plus public and isolated /24s need all of it; a VPC is at most /16)');
  // shortName ('ecr.api'): the full name carries the region, a token in environment-agnostic stacks.
  const names = props.interfaceEndpoints.map((e) => e.shortName);
  const repeated = names.find((n, i) => names.indexOf(n) !== i);
  check(repeated === undefined, WHO, 'interfaceEndpoints', repeated, 'each AWS service once (one interface endpoint per service and VPC)');
  const natProp = props.natGatewaysFromProfile ? `natGateways${profileSuffix(props.natGatewaysFromProfile)}` : 'natGateways';
  // ec2.Vpc sizes the NAT gateways at synth (one per AZ up to the count): a token would build none.
  checkKnownAtSynth(props.natGateways, WHO, natProp, 'the NAT gateways are created at synth, one per AZ up to this count');
  check(Number.isInteger(props.natGateways) && props.natGateways >= 1 && props.natGateways <= 3, WHO,
    props.natGatewaysFromProfile ? `natGateways${profileSuffix(props.natGatewaysFromProfile)}` : 'natGateways', props.natGateways,
    'an integer from 1 to 3 (one per AZ at most; private subnets need egress)');
  if (props.availabilityZones && (Token.isUnresolved(props.availabilityZones) || props.availabilityZones.some((z) => Token.isUnresolved(z)))) {
    throw new FxValidationError(WHO, 'availabilityZones', '(a deploy-time token)',
      "3 availability zone names known at synth such as ['us-east-1a', 'us-east-1b', 'us-east-1c'] (the subnets are laid out per zone at synth)");
  }
  if (props.availabilityZones) {
    check(props.availabilityZones.length === 3 && new Set(props.availabilityZones).size === 3, WHO, 'availabilityZones',
      props.availabilityZones, 'exactly 3 distinct availability zones');
  }
}

/**
 * Availability zones must be the stack's own (aws-cdk-lib would fail later with "must be a subset of
 * the stack's availability zones"): in its region, and among the zones the stack knows (its context
 * lookup), when both are known at synth.
 */
function validateZonesOfStack(stack: Stack, zones: string[] | undefined): void {
  // Without an account and region, the stack's zones are two deploy-time picks (Fn::GetAZs): the VPC
  // would quietly span 2 zones, not 3, and the zone names are needed at synth to lay out the subnets.
  check(zones !== undefined || !(Token.isUnresolved(stack.account) || Token.isUnresolved(stack.region)), WHO, 'availabilityZones', zones,
    `3 availability zones: stack ${stack.node.path} has no account and region (env), so only 2 deploy-time zones are known; `
    + "give the stack an env such as { account: '123456789012', region: 'us-east-1' } (the zones are then looked up), or set availabilityZones");
  if (!zones || Token.isUnresolved(zones) || zones.some((z) => Token.isUnresolved(z))) return;
  const region = stack.region;
  if (!Token.isUnresolved(region)) {
    const foreign = zones.find((z) => !(z.startsWith(region) && /^[a-z]{1,2}$/.test(z.slice(region.length))));
    check(foreign === undefined, WHO, 'availabilityZones', zones,
      `zones of the stack's region ${region} (${region}a, ${region}b, ...); ${foreign} is not one`);
  }
  const known = stack.availabilityZones;
  if (known.some((z) => Token.isUnresolved(z))) return;
  const unknown = zones.find((z) => !known.includes(z));
  check(unknown === undefined, WHO, 'availabilityZones', zones,
    `zones the stack's account has (${known.join(', ')}, from the availability-zones context); ${unknown} is not one`);
}

/** Blocks EC2 refuses in a VPC: this network, loopback, link-local, multicast and the reserved 240.0.0.0/4. */
const VPC_RESERVED = ['0.0.0.0/8', '127.0.0.0/8', '169.254.0.0/16', '224.0.0.0/4', '240.0.0.0/4'];


function prefixOf(cidr: string): number {
  return Number(cidr.split('/')[1]);
}

/** The network address of a valid CIDR block (host bits cleared). */
function networkOf(cidr: string): string {
  const [address, prefix] = cidr.split('/');
  const value = address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
  const size = 2 ** (32 - Number(prefix));
  const base = Math.floor(value / size) * size;
  return `${[24, 16, 8, 0].map((shift) => Math.floor(base / 2 ** shift) % 256).join('.')}/${prefix}`;
}

/**
 * Checks an imported VPC: EKS needs private subnets in at least two AZs.
 * @internal
 */
export function validateImportedVpc(vpc: ec2.IVpc): void {
  const azs = vpc.privateSubnets.map((s) => s.availabilityZone);
  if (azs.some((az) => Token.isUnresolved(az))) return;
  const distinct = [...new Set(azs)];
  check(distinct.length >= 2, WHO, 'vpc.privateSubnets', distinct.length === 0 ? 'none' : `${azs.length} subnet(s) in ${distinct.join(', ')}`,
    'private subnets in at least 2 availability zones');
}
