import { Lazy } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * The promised-flows table: each construct that promises a network flow (or promises that one is
 * closed) records it next to the code that makes the promise, as construct metadata of type
 * `fx:flow`. aws-cdk-lib writes it to the stack artifact's metadata (`<stack>.metadata.json`, keyed
 * by construct path), where the reachability check (`build-tools/conformance/reachability.ts`) reads
 * it and proves every `allow` flow allowed and every `deny` flow denied by the NetworkPolicies.
 *
 * Internal: not exported from the package.
 *
 * @internal
 */
export const FLOW_METADATA = 'fx:flow';

/**
 * Label FxMicroservice puts on its Services (and pods): the reachability check expands
 * `{ anyService: true }` over the Services carrying it.
 *
 * @internal
 */
export const MICROSERVICE_TRACK_LABEL = 'fx.platform/track';

/**
 * One end of a flow. Exactly one shape is used per peer:
 * - pods: `namespace` + `podLabels` (every pod of the namespace whose labels include these), or
 *   `namespace` + `serviceAccount` (every pod running as that service account);
 *   `synthetic: true` means "a pod with these labels in this namespace", created by the check (used by
 *   deny flows from a namespace that has no such pod);
 * - a Service: `namespace` + `service` (the port is the Service port, judged after translation to its
 *   endpoints and target port, as the VPC CNI does);
 * - outside the pod network: `cidr` (with `database: true` for a database subnet), `awsEndpoints`
 *   (AWS on its public regional addresses), `interfaceEndpoint` (the interface VPC endpoint of that
 *   service, by short name such as `sqs`, in the cluster's VPC), `internet` (an address on the internet
 *   that is no AWS endpoint), `podIdentityAgent`, `apiServer`;
 * - wildcards of deny flows: `anyService` (every FxMicroservice Service the source was not promised),
 *   `anyDatabase` (every database endpoint promised to some other workload and not to the source).
 *
 * @internal
 */
export interface FlowPeer {
  readonly namespace?: string;
  readonly podLabels?: Record<string, string>;
  readonly serviceAccount?: string;
  readonly synthetic?: boolean;
  readonly service?: string;
  readonly cidr?: string;
  readonly database?: boolean;
  readonly awsEndpoints?: boolean;
  readonly interfaceEndpoint?: string;
  readonly internet?: boolean;
  readonly podIdentityAgent?: boolean;
  readonly apiServer?: boolean;
  readonly anyService?: boolean;
  readonly anyDatabase?: boolean;
}

/** @internal */
export type FlowProtocol = 'TCP' | 'UDP';

/**
 * A promised flow. `port` 0 means "the port of each endpoint the wildcard expands to".
 *
 * @internal
 */
export interface FxFlow {
  readonly from: FlowPeer;
  readonly to: FlowPeer;
  readonly port: number;
  readonly protocol: FlowProtocol;
  readonly reason: string;
  readonly expect: 'allow' | 'deny';
}

/** Records a promised flow on `scope` (see `FLOW_METADATA`). @internal */
export function declareFlow(scope: IConstruct, flow: FxFlow): void {
  scope.node.addMetadata(FLOW_METADATA, flow);
}

/**
 * Records flows that are only known at synth, as one metadata entry holding a list (the reader
 * accepts a flow or a list of flows per entry): `produce` runs when the metadata is resolved.
 *
 * @internal
 */
export function declareFlowsAtSynth(scope: IConstruct, produce: () => FxFlow[]): void {
  scope.node.addMetadata(FLOW_METADATA, Lazy.any({ produce }, { omitEmptyArray: false }));
}

/** The CoreDNS pods every pod resolves names through (EKS add-on `coredns`). @internal */
export const COREDNS_PEER: FlowPeer = { namespace: 'kube-system', podLabels: { 'k8s-app': 'kube-dns' } };

/** Declares DNS (UDP and TCP 53 to CoreDNS) for the pods `from`. @internal */
export function declareDnsFlows(scope: IConstruct, from: FlowPeer, who: string): void {
  for (const protocol of ['UDP', 'TCP'] as const) {
    declareFlow(scope, { from, to: COREDNS_PEER, port: 53, protocol, reason: `${who} resolves names through CoreDNS`, expect: 'allow' });
  }
}

/**
 * Declares what a workload with AWS permissions through EKS Pod Identity needs: the Pod Identity agent
 * (link-local 169.254.170.23:80 on its node) for credentials, and the AWS endpoints on 443. When
 * `allowed()` is false at synth (no permissions granted) both are promised closed instead.
 *
 * @internal
 */
export function declareAwsFlows(scope: IConstruct, from: FlowPeer, who: string, allowed: () => boolean = () => true): void {
  declareLazyFlow(scope, { from, to: { podIdentityAgent: true }, port: 80, protocol: 'TCP', reason: `${who} gets AWS credentials from the Pod Identity agent` }, allowed);
  declareLazyFlow(scope, { from, to: { awsEndpoints: true }, port: 443, protocol: 'TCP', reason: `${who} calls AWS APIs` }, allowed);
}

/**
 * Records a flow whose expectation is only known at synth (e.g. AWS access, which grants made after the
 * construct decide): `allowed()` runs when the metadata is resolved.
 *
 * @internal
 */
export function declareLazyFlow(scope: IConstruct, flow: Omit<FxFlow, 'expect'>, allowed: () => boolean): void {
  const expect = Lazy.string({ produce: () => (allowed() ? 'allow' : 'deny') }) as FxFlow['expect'];
  declareFlow(scope, { ...flow, expect });
}

/**
 * How a workload reaches AWS, as decided at synth (see src/microservice/aws-egress.ts):
 * `credentials` whether it gets credentials from the Pod Identity agent; `publicEndpoints` whether
 * it may reach AWS on public addresses (any address on 443); `interfaceEndpoints` the interface
 * endpoints it reaches otherwise; `internetClosed` whether an internet address on 443 is promised
 * closed (nothing else opens it, e.g. `egressCidrs`).
 *
 * @internal
 */
export interface AwsAccessFlows {
  readonly credentials: boolean;
  readonly publicEndpoints: boolean;
  readonly interfaceEndpoints: string[];
  readonly internetClosed: boolean;
}

/**
 * Declares a workload's AWS flows, decided at synth by `access()`: the Pod Identity agent allowed
 * or denied, AWS's public addresses on 443 allowed or denied, each interface endpoint it needs
 * allowed on 443, and, unless the public addresses are open, an internet address on 443 denied: a
 * workload granted a queue reaches that queue's endpoint and nothing else.
 *
 * @internal
 */
export function declareAwsAccessFlows(scope: IConstruct, from: FlowPeer, who: string, access: () => AwsAccessFlows): void {
  declareFlowsAtSynth(scope, () => {
    const a = access();
    const flows: FxFlow[] = [
      { from, to: { podIdentityAgent: true }, port: 80, protocol: 'TCP', reason: `${who} gets AWS credentials from the Pod Identity agent`, expect: a.credentials ? 'allow' : 'deny' },
      {
        from,
        to: { awsEndpoints: true },
        port: 443,
        protocol: 'TCP',
        reason: a.publicEndpoints ? `${who} calls AWS APIs` : `${who} reaches no AWS API on a public address`,
        expect: a.publicEndpoints ? 'allow' : 'deny',
      },
      ...a.interfaceEndpoints.map((service): FxFlow => ({
        from, to: { interfaceEndpoint: service }, port: 443, protocol: 'TCP', reason: `${who} calls ${service} through its interface endpoint`, expect: 'allow',
      })),
    ];
    if (!a.publicEndpoints && a.internetClosed) {
      flows.push({ from, to: { internet: true }, port: 443, protocol: 'TCP', reason: `${who} reaches nothing on the internet`, expect: 'deny' });
    }
    return flows;
  });
}
