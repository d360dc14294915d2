import { Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { NetworkPolicyEgressRule } from '../k8s/api.generated';

/** The EKS Pod Identity agent: a hostNetwork DaemonSet answering on this link-local address of every node. */
export const POD_IDENTITY_AGENT = { cidr: '169.254.170.23/32', port: 80 };

/** AWS APIs are HTTPS. */
const HTTPS = 443;

/**
 * What a call to an AWS service needs on the network, by IAM service prefix (the part of an action
 * before `:`). Only the services listed here are narrowed; any other prefix needs the public rule.
 *
 * Where each fact comes from:
 * - the prefixes: the Service Authorization Reference (the "Actions, resources, and condition keys"
 *   page of each service names its prefix: sqs, secretsmanager, kms, sns, sts, logs, ssm, events for
 *   EventBridge, kinesis for Kinesis Data Streams, ecr, xray, dynamodb, s3, rds-db for RDS IAM
 *   database authentication);
 * - the interface endpoint names: "AWS services that integrate with AWS PrivateLink" (the endpoint
 *   service `com.amazonaws.<region>.<name>`, the `shortName` of `ec2.InterfaceVpcEndpointAwsService`):
 *   Kinesis Data Streams is `kinesis-streams`, the ECR API `ecr.api`;
 * - S3 and DynamoDB: the platform gives them gateway endpoints (S3) or none (DynamoDB). A gateway
 *   endpoint is a route to the service's prefix list, i.e. to public addresses, which a NetworkPolicy
 *   can only allow with the public rule ("Gateway endpoints", AWS PrivateLink guide);
 * - rds-db:connect: an IAM database authentication token is a SigV4 signature the client computes
 *   with its credentials, with no call to AWS ("IAM database authentication", RDS user guide). The
 *   credentials still come from the Pod Identity agent.
 */
const SERVICE_NETWORK: Record<string, { readonly endpoint: string } | 'public' | 'local'> = {
  'sqs': { endpoint: 'sqs' },
  'secretsmanager': { endpoint: 'secretsmanager' },
  'kms': { endpoint: 'kms' },
  'sns': { endpoint: 'sns' },
  'sts': { endpoint: 'sts' },
  'logs': { endpoint: 'logs' },
  'ssm': { endpoint: 'ssm' },
  'events': { endpoint: 'events' },
  'kinesis': { endpoint: 'kinesis-streams' },
  'ecr': { endpoint: 'ecr.api' },
  'xray': { endpoint: 'xray' },
  'dynamodb': 'public',
  's3': 'public',
  'rds-db': 'local',
};

/**
 * ECR actions whose use goes beyond the ECR API endpoint: an image's layers are downloaded from S3
 * through the pre-signed URL GetDownloadUrlForLayer returns, and the token of GetAuthorizationToken
 * is for the registry (`<account>.dkr.ecr.<region>.amazonaws.com`, the `ecr.dkr` endpoint), whose
 * clients then fetch layers from S3 as well.
 */
const ECR_BEYOND_API = ['GetDownloadUrlForLayer', 'GetAuthorizationToken'];

/**
 * How a workload reaches AWS, decided at synth from what its role may call:
 * - `none`: no permission, no AWS egress at all;
 * - `credentials`: only actions that make no network call (rds-db:connect): the Pod Identity agent only;
 * - `endpoints`: every service it may call has an interface endpoint in the cluster's VPC: the agent,
 *   and 443 to the endpoint subnets only;
 * - `public`: anything else (`reason` says why): the agent and any address on 443.
 *
 * @internal
 */
export interface AwsEgress {
  readonly kind: 'none' | 'credentials' | 'endpoints' | 'public';
  /** Interface endpoints (short names) the workload needs (kind `endpoints`). */
  readonly endpoints: string[];
  /** CIDR blocks of the endpoint subnets (kind `endpoints`). */
  readonly cidrs: string[];
  /** Why the public rule (kind `public`). */
  readonly reason?: string;
}

/** What a role may do, read from its policies at synth. @internal */
export interface RolePermissions {
  /** Actions of the Allow statements. */
  readonly actions: string[];
  /** Set when some permission cannot be read as a list of actions (managed policy, NotAction, token). */
  readonly opaque?: string;
}

/** The interface endpoints of the cluster's VPC. @internal */
export interface ClusterEndpoints {
  /** Short names (`sqs`, `ecr.api`). */
  readonly services: string[];
  /** CIDR blocks of the subnets the endpoints' network interfaces are in. */
  readonly cidrs: string[];
}

/** What one action needs: an interface endpoint, no network ('local'), or the public rule (the reason). */
function needOf(action: string): { endpoint: string } | 'local' | { public: string } {
  if (Token.isUnresolved(action)) return { public: 'an action that is a deploy-time token' };
  const colon = action.indexOf(':');
  // IAM service prefixes are case-insensitive; a wildcard in the prefix may be any service.
  const prefix = colon < 0 ? action : action.slice(0, colon).toLowerCase();
  if (colon < 0 || !/^[a-z0-9-]+$/.test(prefix)) return { public: `action ${action} (any service)` };
  const need = SERVICE_NETWORK[prefix];
  if (need === undefined) return { public: `action ${action} (no interface endpoint known for ${prefix})` };
  if (need === 'public') return { public: `action ${action} (${prefix} is reached on public addresses)` };
  if (need === 'local') return 'local';
  if (prefix === 'ecr') {
    const name = globRegExp(action.slice(colon + 1));
    const beyond = ECR_BEYOND_API.find((a) => name.test(a));
    if (beyond) return { public: `action ${action} (ecr:${beyond} leads to the registry and to image layers in S3)` };
  }
  return need;
}

/** IAM action-name wildcards (`*`, `?`), case-insensitive. */
function globRegExp(pattern: string): RegExp {
  const body = pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`, 'i');
}

/**
 * The AWS egress of a role with `permissions` on a cluster whose VPC has `endpoints`.
 *
 * @internal
 */
export function awsEgressOf(permissions: RolePermissions, endpoints: ClusterEndpoints): AwsEgress {
  const none = { endpoints: [], cidrs: [] };
  if (permissions.opaque) return { kind: 'public', ...none, reason: permissions.opaque };
  if (permissions.actions.length === 0) return { kind: 'none', ...none };
  const needed = new Set<string>();
  for (const action of permissions.actions) {
    const need = needOf(action);
    if (need === 'local') continue;
    if ('public' in need) return { kind: 'public', ...none, reason: need.public };
    needed.add(need.endpoint);
  }
  if (needed.size === 0) return { kind: 'credentials', ...none };
  const missing = [...needed].filter((s) => !endpoints.services.includes(s));
  if (missing.length > 0) return { kind: 'public', ...none, reason: `no interface endpoint for ${missing.join(', ')} in the cluster's VPC` };
  if (endpoints.cidrs.length === 0) return { kind: 'public', ...none, reason: 'the subnets of the interface endpoints are not known' };
  return { kind: 'endpoints', endpoints: [...needed].sort(), cidrs: endpoints.cidrs };
}

/**
 * Egress rules of a workload's AWS access:
 * - credentials come from the Pod Identity agent (its own rule, link-local) whenever the role has any
 *   permission, rds-db:connect included: the token is signed with those credentials;
 * - when every service the role may call has an interface endpoint (private DNS on, so the SDK's
 *   regional host names resolve to the endpoints' addresses), 443 goes to the endpoint subnets only.
 *   The endpoints' addresses are assigned at deploy time, so the subnets are the narrowest literal
 *   block; they are the cluster's private subnets, where pods and nodes also live, whose own ingress
 *   policies still apply;
 * - otherwise any address on 443 except link-local (IMDS and the agent are only reachable on the rule
 *   above): NetworkPolicies cannot name host names, and public regional endpoints, S3 and DynamoDB
 *   have public addresses;
 * - with nothing needing the network (rds-db:connect only, or no permission), no 443 rule.
 * Ingress of every other pod stays default-deny, so no rule opens a path to the platform's own pods.
 *
 * @internal
 */
export function awsEgressRules(egress: AwsEgress): NetworkPolicyEgressRule[] {
  if (egress.kind === 'none') return [];
  const agent: NetworkPolicyEgressRule = { to: [{ ipBlock: { cidr: POD_IDENTITY_AGENT.cidr } }], ports: [{ protocol: 'TCP', port: POD_IDENTITY_AGENT.port }] };
  const https = [{ protocol: 'TCP', port: HTTPS }];
  switch (egress.kind) {
    case 'credentials': return [agent];
    case 'endpoints': return [agent, { to: egress.cidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: https }];
    default: return [agent, { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.0.0/16'] } }], ports: https }];
  }
}

/**
 * The actions a role may perform, read at synth from its policies: its inline policies named in
 * `inlinePolicyNames` (on the role resource), its default policy, the inline policies attached to it
 * and its managed policies (opaque: their content is not in the app).
 *
 * @internal
 */
export function rolePermissions(role: iam.Role, inlinePolicyNames: string[]): RolePermissions {
  const stack = Stack.of(role);
  const cfn = role.node.defaultChild as iam.CfnRole;
  const managed = stack.resolve(cfn.managedPolicyArns);
  if (Array.isArray(managed) && managed.length > 0) return { actions: [], opaque: 'a managed policy (its actions are not known at synth)' };
  if (Token.isUnresolved(managed) || (managed !== undefined && !Array.isArray(managed))) {
    return { actions: [], opaque: 'managed policies given as a deploy-time token' };
  }
  const documents: unknown[] = [];
  const inline = stack.resolve(cfn.policies);
  if (Array.isArray(inline)) {
    for (const p of inline) if (inlinePolicyNames.includes(p?.policyName)) documents.push(p.policyDocument);
  } else if (inline !== undefined) {
    return { actions: [], opaque: 'inline policies given as a deploy-time token' };
  }
  const defaultPolicy = role.node.tryFindChild('DefaultPolicy') as iam.Policy | undefined;
  if (defaultPolicy) documents.push(stack.resolve(defaultPolicy.document));
  // Policies attached with role.attachInlinePolicy (aws-cdk-lib keeps them on the role, unexposed).
  const attached = (role as unknown as { attachedPolicies?: { policies?: iam.Policy[] } }).attachedPolicies?.policies ?? [];
  for (const p of attached) if (p !== defaultPolicy) documents.push(Stack.of(p).resolve(p.document));
  const actions: string[] = [];
  for (const doc of documents) {
    const statements = (doc as { Statement?: unknown })?.Statement;
    if (statements === undefined) continue;
    if (!Array.isArray(statements)) return { actions: [], opaque: 'a policy document that is a deploy-time token' };
    for (const s of statements) {
      if (s?.Effect !== 'Allow') continue;
      if (s.NotAction !== undefined) return { actions: [], opaque: 'a statement with NotAction (any service but some)' };
      const list = Array.isArray(s.Action) ? s.Action : [s.Action];
      for (const a of list) {
        if (typeof a !== 'string') return { actions: [], opaque: 'an action that is a deploy-time token' };
        actions.push(a);
      }
    }
  }
  return { actions: [...new Set(actions)] };
}
