/** The EKS Pod Identity agent: a hostNetwork DaemonSet answering on this link-local address of every node. */
export const POD_IDENTITY_AGENT = { cidr: '169.254.170.23/32', port: 80 };

/**
 * Egress of a service with AWS permissions: credentials from the Pod Identity agent, then AWS APIs on
 * 443. NetworkPolicies cannot name host names, and the regional endpoints are public addresses (or
 * interface endpoints in the VPC), so the rule is any address on 443 except link-local (IMDS and the
 * agent are only reachable on the rule above). Ingress of every other pod stays default-deny, so
 * this opens no path to the platform's own pods.
 */
export function awsEgressRules(): Array<Record<string, unknown>> {
  return [
    { to: [{ ipBlock: { cidr: POD_IDENTITY_AGENT.cidr } }], ports: [{ protocol: 'TCP', port: POD_IDENTITY_AGENT.port }] },
    { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.0.0/16'] } }], ports: [{ protocol: 'TCP', port: 443 }] },
  ];
}
