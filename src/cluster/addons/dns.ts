import { CfnMapping, Names, Stack, Token } from 'aws-cdk-lib';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { IConstruct } from 'constructs';
import { FxValidationError } from '../../core/errors';

/**
 * Canonical hosted zone ids of Elastic Load Balancing (what Route 53 alias records to a load
 * balancer name) in every commercial region that publishes them, from the "Elastic Load Balancing
 * endpoints and quotas" page of the AWS General Reference (docs.aws.amazon.com/general/latest/gr/elb.html):
 * `alb` for Application (and Classic) Load Balancers, `nlb` for Network Load Balancers, which differ in
 * every region. aws-cdk-lib's region-info has no ELB zone facts, and a load balancer the controller
 * creates is only known by its DNS name, so the id comes from this table. test/quality.test.ts fails
 * when aws-cdk-lib knows a commercial region that is missing here.
 */
const ELB_ZONES: Record<string, { alb: string; nlb: string }> = {
  'af-south-1': { alb: 'Z268VQBMOI5EKX', nlb: 'Z203XCE67M25HM' },
  'ap-east-1': { alb: 'Z3DQVH9N71FHZ0', nlb: 'Z12Y7K3UBGUAD1' },
  'ap-east-2': { alb: 'Z02789141MW7T1WBU19PO', nlb: 'Z09176273OC2HWIAUNYW' },
  'ap-northeast-1': { alb: 'Z14GRHDCWA56QT', nlb: 'Z31USIVHYNEOWT' },
  'ap-northeast-2': { alb: 'ZWKZPGTI48KDX', nlb: 'ZIBE1TIR4HY56' },
  'ap-northeast-3': { alb: 'Z5LXEXXYW11ES', nlb: 'Z1GWIQ4HH19I5X' },
  'ap-south-1': { alb: 'ZP97RAFLXTNZK', nlb: 'ZVDDRBQ08TROA' },
  'ap-south-2': { alb: 'Z0173938T07WNTVAEPZN', nlb: 'Z0711778386UTO08407HT' },
  'ap-southeast-1': { alb: 'Z1LMS91P8CMLE5', nlb: 'ZKVM4W9LS7TM' },
  'ap-southeast-2': { alb: 'Z1GM3OXH4ZPM65', nlb: 'ZCT6FZBF4DROD' },
  'ap-southeast-3': { alb: 'Z08888821HLRG5A9ZRTER', nlb: 'Z01971771FYVNCOVWJU1G' },
  'ap-southeast-4': { alb: 'Z09517862IB2WZLPXG76F', nlb: 'Z01156963G8MIIL7X90IV' },
  'ap-southeast-5': { alb: 'Z06010284QMVVW7WO5J', nlb: 'Z026317210H9ACVTRO6FB' },
  'ap-southeast-6': { alb: 'Z023301818UFJ50CIO0MV', nlb: 'Z01392953RKV2Q3RBP0KU' },
  'ap-southeast-7': { alb: 'Z0390008CMBRTHFGWBCB', nlb: 'Z054363131YWATEMWRG5L' },
  'ca-central-1': { alb: 'ZQSVJUPU6J1EY', nlb: 'Z2EPGBW3API2WT' },
  'ca-west-1': { alb: 'Z06473681N0SF6OS049SD', nlb: 'Z02754302KBB00W2LKWZ9' },
  'eu-central-1': { alb: 'Z215JYRZR1TBD5', nlb: 'Z3F0SRJ5LGBH90' },
  'eu-central-2': { alb: 'Z06391101F2ZOEP8P5EB3', nlb: 'Z02239872DOALSIDCX66S' },
  'eu-north-1': { alb: 'Z23TAZ6LKFMNIO', nlb: 'Z1UDT6IFJ4EJM' },
  'eu-south-1': { alb: 'Z3ULH7SSC9OV64', nlb: 'Z23146JA1KNAFP' },
  'eu-south-2': { alb: 'Z0956581394HF5D5LXGAP', nlb: 'Z1011216NVTVYADP1SSV' },
  'eu-west-1': { alb: 'Z32O12XQLNTSW2', nlb: 'Z2IFOLAFXWLO4F' },
  'eu-west-2': { alb: 'ZHURV8PSTC4K8', nlb: 'ZD4D7Y8KGAS4G' },
  'eu-west-3': { alb: 'Z3Q77PNBQS71R4', nlb: 'Z1CMS0P5QUZ6D5' },
  'il-central-1': { alb: 'Z09170902867EHPV2DABU', nlb: 'Z0313266YDI6ZRHTGQY4' },
  'me-central-1': { alb: 'Z08230872XQRWHG2XF6I', nlb: 'Z00282643NTTLPANJJG2P' },
  'me-south-1': { alb: 'ZS929ML54UICD', nlb: 'Z3QSRYVP46NYYV' },
  'mx-central-1': { alb: 'Z023552324OKD1BB28BH5', nlb: 'Z02031231H3ID6HYJ9A7U' },
  'sa-east-1': { alb: 'Z2P70J7HTTTPLU', nlb: 'ZTK26PT1VY4CU' },
  'us-east-1': { alb: 'Z35SXDOTRQ7X7K', nlb: 'Z26RNL4JYFTOTI' },
  'us-east-2': { alb: 'Z3AADJGX6KTTL2', nlb: 'ZLMOA37VPKANP' },
  'us-west-1': { alb: 'Z368ELLRRE2KJ0', nlb: 'Z24FKFUX50B4VW' },
  'us-west-2': { alb: 'Z1H1FL5HABSF5', nlb: 'Z18D5FSROUN65G' },
};

/** Regions whose load balancer zone ids the library knows (Route 53 alias records work there). */
export const ALIAS_REGIONS = Object.keys(ELB_ZONES);

/** The canonical hosted zone id of ALBs (`alb`) or NLBs (`nlb`) in the stack's region. */
export function elbHostedZoneId(scope: IConstruct, kind: 'alb' | 'nlb', who: string): string {
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

/**
 * The fixed name of the platform's internet-facing ALB (the Traefik Ingress sets it with
 * `alb.ingress.kubernetes.io/load-balancer-name`), so the platform can find its own load balancer
 * (alarms scoped to it) instead of every ALB of the account. Unique per FxCluster construct path
 * and stack, at most 32 characters, lowercase letters, digits and hyphens (the ELB name rules).
 *
 * @param fxCluster the FxCluster construct
 * @internal
 */
export function platformAlbName(fxCluster: IConstruct): string {
  return Names.uniqueResourceName(fxCluster, { maxLength: 32, separator: '-' }).toLowerCase().replace(/^-+|-+$/g, '');
}
