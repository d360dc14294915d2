// Reads the promised-flows table (src/core/flows.ts) from a synthesized cloud assembly: every stack
// artifact's metadata entries of type `fx:flow`, from manifest.json or the artifact's additional
// metadata file (`<stack>.metadata.json`, where aws-cdk-lib 2.27x writes construct metadata).
import * as fs from 'fs';
import * as path from 'path';
import { cidrAddress, EKS_ADDON_PODS, NetworkContext } from './reachability';
import { FLOW_METADATA, FxFlow } from '../../src/core/flows';

/** A flow with the construct path that declared it. */
export interface DeclaredFlow extends FxFlow {
  readonly declaredBy: string;
}

type Metadata = Record<string, Array<{ type: string; data?: unknown }>>;

/** Every `fx:flow` entry of every stack of the assembly in `dir`. */
export function flowsOfAssembly(dir: string): DeclaredFlow[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf-8'));
  const out: DeclaredFlow[] = [];
  for (const artifact of Object.values<any>(manifest.artifacts ?? {})) {
    if (artifact.type !== 'aws:cloudformation:stack') continue;
    const metadata: Metadata = { ...artifact.metadata };
    if (artifact.additionalMetadataFile) {
      const extra = JSON.parse(fs.readFileSync(path.join(dir, artifact.additionalMetadataFile), 'utf-8')) as Metadata;
      for (const [p, entries] of Object.entries(extra)) metadata[p] = [...(metadata[p] ?? []), ...entries];
    }
    for (const [constructPath, entries] of Object.entries(metadata)) {
      for (const e of entries) {
        if (e.type !== FLOW_METADATA || !e.data) continue;
        // One flow per entry, or a list of the flows decided at synth (declareFlowsAtSynth).
        for (const flow of Array.isArray(e.data) ? e.data as FxFlow[] : [e.data as FxFlow]) out.push({ ...flow, declaredBy: constructPath });
      }
    }
  }
  return out;
}

/**
 * The network context of a synthesized stack template (the stack holding the FxCluster's VPC): the VPC
 * CIDR, the private subnets (nodes, pods and the EKS control-plane ENIs live there) and, as API server
 * addresses, one address in each private subnet; for each interface VPC endpoint, one address in each
 * of its subnets (its ENIs' addresses are assigned at deploy time). `extraPods` are the EKS add-on pods
 * no manifest holds.
 */
export function networkFromTemplate(template: { Resources?: Record<string, any> }): NetworkContext {
  const all = template.Resources ?? {};
  const resources = Object.values(all);
  const vpcs = resources.filter((r) => r.Type === 'AWS::EC2::VPC' && typeof r.Properties?.CidrBlock === 'string');
  if (vpcs.length !== 1) throw new Error(`expected one VPC with a literal CIDR in the template, found ${vpcs.length}`);
  const privateCidrs = resources
    .filter((r) => r.Type === 'AWS::EC2::Subnet' && (r.Properties?.Tags ?? []).some((t: any) => t.Key === 'aws-cdk:subnet-type' && t.Value === 'Private'))
    .map((r) => r.Properties.CidrBlock)
    .filter((c): c is string => typeof c === 'string');
  if (privateCidrs.length === 0) throw new Error('no private subnet with a literal CIDR in the template');
  return {
    vpcCidr: vpcs[0].Properties.CidrBlock,
    podSubnetCidrs: privateCidrs,
    apiServerIps: privateCidrs.map((c) => cidrAddress(c, 200)!),
    // Sample public addresses of AWS regional endpoints (NetworkPolicies cannot name host names).
    awsEndpointIps: ['52.94.0.10', '3.5.0.20'],
    interfaceEndpointIps: interfaceEndpointsOf(all),
    extraPods: EKS_ADDON_PODS,
  };
}

/**
 * Interface VPC endpoints of the template by short name (`sqs`, `ecr.api`): a sample address in
 * each of their subnets (subnets of the template with a literal CIDR), far from the addresses the
 * model gives pods (from the bottom of a subnet) and nodes (from the top).
 */
function interfaceEndpointsOf(resources: Record<string, any>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const r of Object.values(resources)) {
    if (r.Type !== 'AWS::EC2::VPCEndpoint' || r.Properties?.VpcEndpointType !== 'Interface') continue;
    const name = endpointShortName(r.Properties.ServiceName);
    if (!name) continue;
    const cidrs = (r.Properties.SubnetIds ?? [])
      .map((id: any) => (typeof id?.Ref === 'string' ? resources[id.Ref]?.Properties?.CidrBlock : undefined))
      .filter((c: unknown): c is string => typeof c === 'string');
    out[name] = cidrs.map((c: string) => cidrAddress(c, 1000)!).filter((ip: string | undefined) => ip !== undefined);
  }
  return out;
}

/** `com.amazonaws.<region>.<name>` (a string, or the Fn::Join aws-cdk-lib writes around the region) -> `<name>`. */
function endpointShortName(serviceName: unknown): string | undefined {
  if (typeof serviceName === 'string') return /^com\.amazonaws\.[a-z0-9-]+\.(.+)$/.exec(serviceName)?.[1];
  const join = (serviceName as any)?.['Fn::Join'];
  if (!Array.isArray(join) || join[0] !== '' || !Array.isArray(join[1])) return undefined;
  const parts: unknown[] = join[1];
  const last = parts[parts.length - 1];
  return typeof last === 'string' && last.startsWith('.') && parts.length > 1 ? last.slice(1) : undefined;
}
