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
        if (e.type === FLOW_METADATA && e.data) out.push({ ...(e.data as FxFlow), declaredBy: constructPath });
      }
    }
  }
  return out;
}

/**
 * The network context of a synthesized stack template (the stack holding the FxCluster's VPC): the VPC
 * CIDR, the private subnets (nodes, pods and the EKS control-plane ENIs live there) and, as API server
 * addresses, one address in each private subnet. `extraPods` are the EKS add-on pods no manifest holds.
 */
export function networkFromTemplate(template: { Resources?: Record<string, any> }): NetworkContext {
  const resources = Object.values(template.Resources ?? {});
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
    extraPods: EKS_ADDON_PODS,
  };
}
