import { Annotations, Stack, Token } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { IConstruct } from 'constructs';
import { WHO } from './validation';
import type { IFxCluster } from '../cluster';
import { defaultIpAllowlist } from '../cluster/addons/traefik';
import { FxTlsMode } from '../cluster/tls';
import { check, isIpv4Cidr, isIpv4Network, nonInternetRangeOf } from '../core/errors';
import { platformLabels } from '../core/tags';
import { KubeMiddleware, KubeMiddlewareManifest } from '../k8s/crds.generated';

/** Name of the Traefik ipAllowList middleware in front of Grafana and Kibana (one in each namespace). */
export const ADMIN_ALLOWLIST_MIDDLEWARE = 'fx-admin-allowlist';
const OPEN = '0.0.0.0/0';

/** Who may reach the dashboards' routes. @internal */
export interface AdminAccess {
  /** Source CIDR blocks of the middleware (may be a token list); empty when nothing is routed. */
  readonly cidrs: string[];
}

/**
 * The CIDR blocks allowed to reach Grafana and Kibana: `adminCidrs` when given, otherwise the
 * cluster endpoint's public access CIDRs (FxCluster `endpointAllowlist`). With `privateEndpointOnly`
 * the default is the VPC CIDR, which no client of the internet-facing load balancer ever presents:
 * the dashboards are then reachable only with `kubectl port-forward`.
 *
 * Without a domain nothing is routed and nothing is resolved (a given list is still validated).
 * A default that resolves to 0.0.0.0/0 (an endpoint open to the internet) fails at synth when the
 * profile requires an admin allowlist, and is a warning otherwise. An explicit `adminCidrs` is the
 * user's choice and is only validated.
 *
 * @internal
 */
export function resolveAdminAccess(cluster: IFxCluster, given: string[] | undefined, observability: IConstruct): AdminAccess {
  // Only routed dashboards need an allowlist: without a domain there is no route to guard.
  if (cluster.domainName === undefined) {
    if (given !== undefined) validateAdminCidrs(given);
    return { cidrs: given ?? [] };
  }
  if (given !== undefined) {
    validateAdminCidrs(given);
    if (!Token.isUnresolved(given) && given.includes(OPEN)) {
      Annotations.of(observability).addWarningV2('@fx/observability:open-dashboards',
        `${WHO}: adminCidrs includes ${OPEN}: Grafana and Kibana are reachable from the whole internet behind their own logins only`);
    }
    return { cidrs: given };
  }
  const endpoint = endpointPublicAccess(cluster);
  if (endpoint.private) return { cidrs: defaultIpAllowlist(cluster) };
  if (endpoint.cidrs !== undefined && (Token.isUnresolved(endpoint.cidrs) || !endpoint.cidrs.includes(OPEN))) {
    return { cidrs: endpoint.cidrs };
  }
  // The one profile setting that decides between failing and warning on open dashboards.
  const required = cluster.profile.settings.requireDashboardAllowlist;
  check(!required, WHO, 'adminCidrs (from the cluster\'s endpointAllowlist)', [OPEN],
    'the CIDR blocks of the operators who may open Grafana and Kibana, such as [\'203.0.113.0/24\']: the cluster\'s public endpoint is open '
    + `to ${OPEN}, so the dashboards would be too (profile ${cluster.profile.name}); set adminCidrs, or endpointAllowlist on the FxCluster`);
  Annotations.of(observability).addWarningV2('@fx/observability:open-dashboards',
    `${WHO}: Grafana and Kibana accept ${OPEN} (the cluster's endpointAllowlist is unset); set adminCidrs to the operators' CIDR blocks`);
  return { cidrs: [OPEN] };
}

/** @internal */
export function validateAdminCidrs(cidrs: string[]): void {
  if (Token.isUnresolved(cidrs)) return;
  check(cidrs.length > 0, WHO, 'adminCidrs', cidrs, 'at least one IPv4 CIDR block such as 203.0.113.0/24');
  const seen = new Set<string>();
  cidrs.forEach((cidr, i) => {
    if (Token.isUnresolved(cidr)) return;
    check(isIpv4Cidr(cidr), WHO, `adminCidrs[${i}]`, cidr, 'an IPv4 CIDR block such as 203.0.113.0/24');
    const reserved = nonInternetRangeOf(cidr);
    check(reserved === undefined, WHO, `adminCidrs[${i}]`, cidr,
      `public internet ranges (${cidr} is in the private or reserved range ${reserved}, which never reaches the internet-facing load balancer; `
      + 'from inside the VPC use kubectl port-forward)');
    check(isIpv4Network(cidr), WHO, `adminCidrs[${i}]`, cidr, 'a network address (host bits zero), e.g. 203.0.113.0/24 rather than 203.0.113.5/24');
    check(!seen.has(cidr), WHO, `adminCidrs[${i}]`, cidr, 'each CIDR block once');
    seen.add(cidr);
  });
}

/**
 * The Traefik ipAllowList middleware of the dashboards, in the namespace of the route that uses it.
 * The client address it checks is the real one with both load balancer setups of the platform:
 * behind the ALB (ACM path, IP targets) Traefik's remote address is an ALB node, and the ALB appends
 * the client address as the last X-Forwarded-For entry (its default `append` processing mode; Traefik
 * trusts forwarded headers from the VPC only), so `ipStrategy.depth: 1` takes exactly that entry and a
 * client-supplied X-Forwarded-For cannot spoof it; behind the NLB (Let's Encrypt path) the target group preserves the client IP, so
 * the remote address itself is checked (no ipStrategy).
 *
 * @internal
 */
export function adminAllowlistMiddleware(cluster: IFxCluster, namespace: string, component: string, access: AdminAccess): KubeMiddlewareManifest {
  const behindAlb = cluster.tls?.mode === FxTlsMode.ACM;
  return KubeMiddleware.manifest({
    metadata: { name: ADMIN_ALLOWLIST_MIDDLEWARE, namespace, labels: platformLabels(cluster.platformName, component) },
    spec: {
      ipAllowList: {
        sourceRange: access.cidrs,
        ...(behindAlb ? { ipStrategy: { depth: 1 } } : {}),
      },
    },
  });
}

/** Whether the cluster's API endpoint is private only, and the CIDR blocks of its public endpoint. */
function endpointPublicAccess(cluster: IFxCluster): { private: boolean; cidrs?: string[] } {
  const cfn = cluster.cluster.node.defaultChild as eks.CfnCluster | undefined;
  // An imported cluster's endpoint settings are unknown here: treated as open, so adminCidrs decides.
  if (cfn === undefined) return { private: false };
  const config = Stack.of(cluster).resolve(cfn.resourcesVpcConfig) as { endpointPublicAccess?: boolean; publicAccessCidrs?: unknown[] } | undefined;
  if (config?.endpointPublicAccess === false) return { private: true };
  const cidrs = config?.publicAccessCidrs;
  if (!Array.isArray(cidrs) || cidrs.length === 0) return { private: false };
  // A deploy-time value (an intrinsic once resolved) is passed on as the token it was given as.
  if (cidrs.some((c) => typeof c !== 'string')) {
    return { private: false, cidrs: (cfn.resourcesVpcConfig as eks.CfnCluster.ResourcesVpcConfigProperty).publicAccessCidrs };
  }
  return { private: false, cidrs: cidrs as string[] };
}
