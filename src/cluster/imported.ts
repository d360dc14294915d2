import { Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { FxClusterBase } from './cluster-base';
import { IFxCluster } from './contract';
import { FxClusterAttributes } from './props';
import { FxTls, FxTlsMode } from './tls';
import { check, isIpv4Cidr, isIpv4Network, trackConstruct } from '../core/errors';
import { FxCapability } from '../core/install-order';
import { isLabelValue } from '../core/k8s-names';
import { FxProfile } from '../core/profile';
import { FxComponentVersions, FxVersions } from '../core/versions';

const WHO = 'FxCluster.fromClusterAttributes';

/**
 * An EKS cluster created elsewhere, imported with its kubectl provider: its add-ons and the services
 * on it install through the same install-order registry as on an FxCluster.
 *
 * @internal
 */
export class ImportedFxCluster extends FxClusterBase {
  public readonly cluster: eks.ICluster;
  public readonly clusterName: string;
  public readonly vpc: ec2.IVpc;
  public readonly clusterSecurityGroup: ec2.ISecurityGroup;
  public readonly connections: ec2.Connections;
  public readonly profile: FxProfile;
  public readonly versions: FxComponentVersions;
  public readonly kubernetesVersion: string;
  public readonly platformName: string;
  public readonly tls?: FxTls;
  public readonly domainName?: string;
  public readonly tlsTerminatedByTraefik: boolean;
  public readonly loadBalancerDnsName?: string;
  public readonly openIdConnectProvider?: iam.IOidcProvider;
  public readonly interfaceEndpoints?: ec2.InterfaceVpcEndpointAwsService[];
  public readonly interfaceEndpointSubnetCidrs?: string[];
  private readonly externalSecretsRole?: iam.IRole;
  private readonly granted = new Set<secretsmanager.ISecret>();

  constructor(scope: Construct, id: string, attrs: FxClusterAttributes) {
    super(scope, id, WHO);
    trackConstruct(this);
    validate(attrs);
    this.clusterName = attrs.clusterName;
    this.vpc = attrs.vpc;
    this.profile = attrs.profile ?? FxProfile.DEVELOPMENT;
    this.versions = FxVersions.forKubernetes(attrs.kubernetesVersion ?? FxVersions.DEFAULT_KUBERNETES_VERSION, WHO);
    this.kubernetesVersion = this.versions.kubernetesVersion;
    this.platformName = attrs.platformName ?? Stack.of(this).stackName;
    check(Token.isUnresolved(this.platformName) || (isLabelValue(this.platformName) && this.platformName !== '' && this.platformName.length <= 40), WHO,
      attrs.platformName === undefined ? 'platformName (from the stack name)' : 'platformName', this.platformName,
      'up to 40 letters, digits, -, _ and ., starting and ending with a letter or digit (a Kubernetes label value and a secret name prefix)');
    this.tls = attrs.tls;
    this.domainName = attrs.tls?.domainName;
    this.tlsTerminatedByTraefik = attrs.tls?.mode === FxTlsMode.LETS_ENCRYPT;
    this.externalSecretsRole = attrs.externalSecretsRole;
    this.openIdConnectProvider = attrs.openIdConnectProvider;
    this.interfaceEndpoints = [...attrs.interfaceEndpoints ?? []];
    this.interfaceEndpointSubnetCidrs = [...attrs.interfaceEndpointSubnetCidrs ?? []];

    const base: eks.ClusterAttributes = {
      clusterName: attrs.clusterName,
      vpc: attrs.vpc,
      clusterSecurityGroupId: attrs.clusterSecurityGroupId,
    };
    // aws-eks-v2's imported cluster takes a ready provider only: one made from options needs the
    // cluster (its ARN and network) first, so it is built on a provider-less import of the same cluster.
    const kubectlProvider = attrs.kubectlProvider ?? new eks.KubectlProvider(this, 'KubectlProvider', {
      ...attrs.kubectlProviderOptions!,
      cluster: eks.Cluster.fromClusterAttributes(this, 'ClusterForProvider', base),
    });
    this.cluster = eks.Cluster.fromClusterAttributes(this, 'Resource', { ...base, kubectlProvider });
    this.clusterSecurityGroup = this.cluster.clusterSecurityGroup;
    this.connections = this.cluster.connections;

    // Installed outside this app: there is nothing to wait for, only something to have.
    const installed = new Construct(this, 'Installed');
    this.registerProvider(installed, ...(attrs.installedCapabilities ?? [FxCapability.NODES]));
    this.installAddons(this, attrs.addons ?? []);
  }

  protected grantExternalSecretReadWithoutAddon(secret: secretsmanager.ISecret): void {
    if (!this.externalSecretsRole) {
      super.grantExternalSecretReadWithoutAddon(secret);
      return;
    }
    if (this.granted.has(secret)) return;
    this.granted.add(secret);
    secret.grantRead(this.externalSecretsRole);
  }
}

function validate(attrs: FxClusterAttributes): void {
  for (const [prop, value] of [['clusterName', attrs.clusterName], ['vpc', attrs.vpc], ['clusterSecurityGroupId', attrs.clusterSecurityGroupId]] as const) {
    check(value !== undefined && value !== null && value !== '', WHO, prop, value, `the imported cluster's ${prop} (required)`);
  }
  check(Token.isUnresolved(attrs.clusterName) || /^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/.test(attrs.clusterName), WHO, 'clusterName', attrs.clusterName,
    'an EKS cluster name: up to 100 letters, digits, - and _, starting with a letter or digit');
  check(Token.isUnresolved(attrs.clusterSecurityGroupId) || /^sg-[0-9a-f]{1,17}$/.test(attrs.clusterSecurityGroupId), WHO, 'clusterSecurityGroupId',
    attrs.clusterSecurityGroupId, 'a security group id such as sg-0123456789abcdef0 (the cluster security group EKS created)');
  validateEndpoints(attrs);
  const providers = [attrs.kubectlProvider, attrs.kubectlProviderOptions].filter((x) => x !== undefined).length;
  check(providers === 1, WHO, 'kubectlProvider', providers === 0 ? 'neither kubectlProvider nor kubectlProviderOptions' : 'both kubectlProvider and kubectlProviderOptions',
    'exactly one of kubectlProvider (an existing provider) and kubectlProviderOptions (a new one in this stack)');
}

/** Endpoints and their subnets come together; each service once; literal CIDRs are IPv4 blocks (tokens pass). */
function validateEndpoints(attrs: FxClusterAttributes): void {
  const services = attrs.interfaceEndpoints ?? [];
  const cidrs = attrs.interfaceEndpointSubnetCidrs ?? [];
  if (Token.isUnresolved(services) || Token.isUnresolved(cidrs)) return;
  const names = services.map((e) => e.shortName);
  const repeated = names.find((n, i) => names.indexOf(n) !== i);
  check(repeated === undefined, WHO, 'interfaceEndpoints', repeated, 'each AWS service once (one interface endpoint per service and VPC)');
  check(services.length === 0 || cidrs.length > 0, WHO, 'interfaceEndpointSubnetCidrs', cidrs,
    `the CIDR blocks of the subnets holding the interface endpoints (${names.join(', ')}): workloads' egress on 443 is narrowed to them`);
  check(cidrs.length === 0 || services.length > 0, WHO, 'interfaceEndpointSubnetCidrs', cidrs,
    'no CIDR blocks without interfaceEndpoints (the services whose endpoints are in those subnets)');
  cidrs.forEach((cidr, i) => {
    check(isIpv4Cidr(cidr), WHO, `interfaceEndpointSubnetCidrs[${i}]`, cidr, 'an IPv4 CIDR block such as 10.0.32.0/19 (or a deploy-time token)');
    check(isIpv4Network(cidr), WHO, `interfaceEndpointSubnetCidrs[${i}]`, cidr, 'a network address (host bits zero), e.g. 10.0.32.0/19 rather than 10.0.32.5/19');
    check(cidrs.indexOf(cidr) === i, WHO, `interfaceEndpointSubnetCidrs[${i}]`, cidr, 'each CIDR block once');
  });
}

/** @internal */
export function importCluster(scope: Construct, id: string, attrs: FxClusterAttributes): IFxCluster {
  return new ImportedFxCluster(scope, id, attrs);
}
