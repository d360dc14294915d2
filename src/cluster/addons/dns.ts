import { CfnMapping, Stack, Token } from 'aws-cdk-lib';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import { FxValidationError } from '../../core/errors';

/**
 * Canonical hosted zone ids of Elastic Load Balancing (what Route 53 alias records to a load
 * balancer name), from the "Elastic Load Balancing endpoints and quotas" page of the AWS General
 * Reference. A load balancer the controller creates is only known by its DNS name, so the zone id
 * comes from this table.
 */
const ELB_ZONES: Record<string, { alb: string; nlb: string }> = {
  'us-east-1': { alb: 'Z35SXDOTRQ7X7K', nlb: 'Z26RNL4JYFTOTI' },
  'us-east-2': { alb: 'Z3AADJGX6KTTL2', nlb: 'ZLMOA37VPKANP' },
  'us-west-1': { alb: 'Z368ELLRRE2KJ0', nlb: 'Z24FKFUX50B4VW' },
  'us-west-2': { alb: 'Z1H1FL5HABSF5', nlb: 'Z18D5FSROUN65G' },
  'eu-west-1': { alb: 'Z32O12XQLNTSW2', nlb: 'Z2IFOLAFXWLO4F' },
  'eu-west-2': { alb: 'ZHURV8PSTC4K8', nlb: 'ZD4D7Y8KGAS4G' },
  'eu-central-1': { alb: 'Z215JYRZR1TBD5', nlb: 'Z3F0SRJ5LGBH90' },
  'ap-northeast-1': { alb: 'Z14GRHDCWA56QT', nlb: 'Z31USIVHYNEOWT' },
};

/** Regions whose load balancer zone ids the library knows (Route 53 alias records work there). */
export const ALIAS_REGIONS = Object.keys(ELB_ZONES);

/** The canonical hosted zone id of ALBs (`alb`) or NLBs (`nlb`) in the stack's region. */
export function elbHostedZoneId(scope: Construct, kind: 'alb' | 'nlb', who: string): string {
  const stack = Stack.of(scope);
  const region = stack.region;
  if (!Token.isUnresolved(region)) {
    const zones = ELB_ZONES[region];
    if (!zones) {
      throw new FxValidationError(who, 'tls', `a stack in ${region}`,
        `a stack in a region whose load balancer hosted zone id is known for Route 53 alias records: ${ALIAS_REGIONS.join(', ')}`);
    }
    return zones[kind];
  }
  const id = 'FxElbHostedZoneIds';
  const mapping = (stack.node.tryFindChild(id) as CfnMapping | undefined) ?? new CfnMapping(stack, id, { mapping: ELB_ZONES });
  return mapping.findInMap(Stack.of(scope).region, kind);
}

/** A Route 53 alias target given by a load balancer's DNS name and canonical hosted zone id. */
export function loadBalancerAlias(dnsName: string, hostedZoneId: string): route53.RecordTarget {
  return route53.RecordTarget.fromAlias({
    bind: () => ({ dnsName, hostedZoneId, evaluateTargetHealth: true }),
  });
}
