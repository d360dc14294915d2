// NetworkPolicy reachability model (pure: no I/O). Given every Kubernetes object of an assembly and
// the network around the cluster, it answers whether one flow is allowed, with Kubernetes
// NetworkPolicy semantics as the Amazon VPC CNI enforces them. `checkFlows` judges the promised-flows
// table (src/core/flows.ts) against it.
//
// Kubernetes semantics modelled: policyTypes (explicit, or implicit: Ingress always, Egress when the
// policy has an egress section), podSelector (matchLabels + matchExpressions In/NotIn/Exists/
// DoesNotExist), namespaceSelector (against the namespace's labels, which always include
// kubernetes.io/metadata.name), a peer with both selectors (pods matching in matching namespaces),
// ipBlock with except, ports by number or by name (a name resolves on the destination pod's container
// ports, with protocol), endPort ranges, default deny once any policy selects a pod in a direction, the
// union of every policy and rule. A flow between pods needs the source's egress AND the destination's
// ingress; a destination outside the pod network is judged on egress only.
//
// VPC CNI enforcement (amazon-vpc-cni-k8s network policy agent, eBPF on each pod's interface) as
// assumed here:
// - Service traffic is judged after kube-proxy's translation to an endpoint IP and target port: a
//   rule naming a ClusterIP (or the Service CIDR) allows nothing, a rule naming the backing pods does.
// - ipBlock matches any address, pod addresses included (pods have VPC addresses under the VPC CNI).
// - The Kubernetes API server (`kubernetes.default` → 172.20.0.1) translates to the EKS control-plane
//   ENIs, which sit in the cluster's (private) subnets and listen on 443: an egress rule must name those
//   addresses.
// - hostNetwork pods are not subject to policies (no eBPF program on their interface). As a source
//   they appear with their node's address; as a destination only the source's egress applies, and pod
//   or namespace selectors never match them (their address is the node's, not a pod's).
// - Traffic from the node itself (kubelet probes) to its pods is allowed regardless of policies.
// - Link-local addresses are not special: egress to the Pod Identity agent (169.254.170.23:80, a
//   hostNetwork DaemonSet on every node) and to IMDS (169.254.169.254) needs an egress rule.
// - AWS is reached on public addresses (sampled by `awsEndpointIps`) or, with private DNS, on the
//   addresses of the VPC's interface endpoints, assigned at deploy time inside their subnets (sampled by
//   `interfaceEndpointIps`, one per subnet): only a rule naming those subnets (or wider) reaches them.
//   An internet address that is no AWS endpoint is sampled by `internetIps`.
// - Pods whose namespace has no Namespace object in the assembly still get the
//   kubernetes.io/metadata.name label (the API server sets it).
import { FlowPeer, FxFlow, MICROSERVICE_TRACK_LABEL } from '../../src/core/flows';

export type Obj = Record<string, any>;

/** The network around the pods, which the Kubernetes objects do not say. */
export interface NetworkContext {
  /** The VPC's CIDR. */
  readonly vpcCidr: string;
  /** Subnets pods and nodes get their addresses from (VPC CNI: the node's subnets). */
  readonly podSubnetCidrs: string[];
  /** Addresses the API server's `kubernetes` Service translates to (control-plane ENIs). */
  readonly apiServerIps: string[];
  /** Service CIDR of the cluster. @default 172.20.0.0/16 */
  readonly serviceCidr?: string;
  /** The EKS Pod Identity agent's address. @default 169.254.170.23 */
  readonly podIdentityAgentIp?: string;
  /** Sample public addresses of AWS regional endpoints. */
  readonly awsEndpointIps: string[];
  /** Sample addresses of the VPC's interface endpoints, by short name (`sqs`): one in each of their subnets. @default none */
  readonly interfaceEndpointIps?: Record<string, string[]>;
  /** Sample addresses on the internet that are no AWS endpoint. @default INTERNET_SAMPLE_IPS */
  readonly internetIps?: string[];
  /** Pods that are not in the objects (EKS add-ons such as CoreDNS, stand-ins for Helm releases). */
  readonly extraPods?: PodSpecInput[];
}

/** A pod that is not among the objects. */
export interface PodSpecInput {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly serviceAccount?: string;
  readonly hostNetwork?: boolean;
  readonly ports?: ContainerPort[];
}

export interface ContainerPort { readonly name?: string; readonly port: number; readonly protocol: string }

/** One pod (one per workload: every replica has the same labels and policies). */
export interface Pod {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly serviceAccount: string;
  readonly hostNetwork: boolean;
  readonly ip: string;
  readonly ports: ContainerPort[];
}

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

/** Where a flow goes: a pod, a Service (namespace/name, port = Service port) or an address. */
export interface ServiceRef { readonly namespace: string; readonly name: string }
export type Destination = { readonly pod: Pod } | { readonly service: ServiceRef } | { readonly ip: string };

export interface Verdict { readonly allowed: boolean; readonly reason: string }

export const EKS_SERVICE_CIDR = '172.20.0.0/16';
export const POD_IDENTITY_AGENT_IP = '169.254.170.23';
export const IMDS_IP = '169.254.169.254';
/** An internet address (TEST-NET-2, RFC 5737): no AWS endpoint, no VPC address. */
export const INTERNET_SAMPLE_IPS = ['198.51.100.23'];

/**
 * Pods of the EKS managed add-ons our flows reach (not in any manifest). Assumptions from the add-ons'
 * documentation: CoreDNS pods carry `k8s-app: kube-dns` and serve 53/UDP+TCP on container ports named
 * dns and dns-tcp; the CloudWatch agent's pods run in amazon-cloudwatch and receive OTLP on 4317/4318.
 */
export const EKS_ADDON_PODS: PodSpecInput[] = [
  {
    namespace: 'kube-system',
    name: 'coredns',
    labels: { 'k8s-app': 'kube-dns', 'eks.amazonaws.com/component': 'coredns' },
    serviceAccount: 'coredns',
    ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }, { name: 'metrics', port: 9153, protocol: 'TCP' }],
  },
  {
    namespace: 'amazon-cloudwatch',
    name: 'cloudwatch-agent',
    labels: { 'app.kubernetes.io/name': 'cloudwatch-agent', 'app.kubernetes.io/component': 'amazon-cloudwatch-agent' },
    serviceAccount: 'cloudwatch-agent',
    ports: [{ name: 'otlp-grpc', port: 4317, protocol: 'TCP' }, { name: 'otlp-http', port: 4318, protocol: 'TCP' }],
  },
];

// ---------- IPv4 ----------

function ipToInt(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return parts.reduce((acc, p) => acc * 256 + p, 0);
}

function intToIp(n: number): string {
  return [2 ** 24, 2 ** 16, 2 ** 8, 1].map((unit) => Math.floor(n / unit) % 256).join('.');
}

function parseCidr(cidr: string): { base: number; size: number } | undefined {
  const [ip, bitsText] = cidr.split('/');
  const base = ipToInt(ip);
  const bits = Number(bitsText);
  if (base === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) return undefined;
  const size = 2 ** (32 - bits);
  return { base: Math.floor(base / size) * size, size };
}

/** Whether `ip` lies in `cidr` (false for anything unparseable, e.g. an unresolved token). */
export function cidrContains(cidr: string, ip: string): boolean {
  const c = parseCidr(cidr);
  const n = ipToInt(ip);
  return c !== undefined && n !== undefined && n >= c.base && n < c.base + c.size;
}

/** The n-th address of a CIDR (wrapping inside it), or undefined when the CIDR does not parse. */
export function cidrAddress(cidr: string, n: number): string | undefined {
  const c = parseCidr(cidr);
  return c ? intToIp(c.base + (n % c.size)) : undefined;
}

// ---------- selectors ----------

interface LabelSelector {
  readonly matchLabels?: Record<string, string>;
  readonly matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

/** Kubernetes label selector semantics; an empty selector matches everything. */
export function selectorMatches(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In': if (!has || !values.includes(labels[e.key])) return false; break;
      case 'NotIn': if (has && values.includes(labels[e.key])) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
      default: throw new Error(`unknown label selector operator ${e.operator}`);
    }
  }
  return true;
}

// ---------- objects → pods ----------

function podTemplates(o: Obj): Array<{ name: string; template: Obj; extraLabels: Record<string, string>; extraPorts: ContainerPort[] }> {
  const name = o.metadata?.name ?? '';
  switch (o.kind) {
    case 'Pod': return [{ name, template: o, extraLabels: {}, extraPorts: [] }];
    case 'Deployment': case 'StatefulSet': case 'DaemonSet': case 'ReplicaSet': case 'Job':
      return o.spec?.template ? [{ name, template: o.spec.template, extraLabels: {}, extraPorts: [] }] : [];
    case 'CronJob': return o.spec?.jobTemplate?.spec?.template ? [{ name, template: o.spec.jobTemplate.spec.template, extraLabels: {}, extraPorts: [] }] : [];
    case 'Elasticsearch':
      // ECK labels every Elasticsearch pod with the cluster name and type and opens 9200 (http) and 9300 (transport).
      return (o.spec?.nodeSets ?? []).map((ns: Obj) => ({
        name: `${name}-es-${ns.name}`,
        template: ns.podTemplate ?? {},
        extraLabels: {
          'elasticsearch.k8s.elastic.co/cluster-name': name,
          'elasticsearch.k8s.elastic.co/statefulset-name': `${name}-es-${ns.name}`,
          'common.k8s.elastic.co/type': 'elasticsearch',
        },
        extraPorts: [{ name: o.spec?.http?.tls?.selfSignedCertificate?.disabled ? 'http' : 'https', port: 9200, protocol: 'TCP' }, { name: 'transport', port: 9300, protocol: 'TCP' }],
      }));
    case 'Kibana':
      return [{
        name: `${name}-kb`,
        template: o.spec?.podTemplate ?? {},
        extraLabels: { 'kibana.k8s.elastic.co/name': name, 'common.k8s.elastic.co/type': 'kibana' },
        extraPorts: [{ name: o.spec?.http?.tls?.selfSignedCertificate?.disabled ? 'http' : 'https', port: 5601, protocol: 'TCP' }],
      }];
    case 'Prometheus':
    case 'Alertmanager': {
      // The Prometheus operator runs these as StatefulSets of its own: pods labelled with the kind
      // and instance (prometheus-operator pkg/prometheus/statefulset.go and pkg/alertmanager), the
      // CR's podMetadata labels and serviceAccountName; ports web (9090 / 9093), mesh 9094 and the
      // config reloader's 8080.
      if (!String(o.apiVersion).startsWith('monitoring.coreos.com/')) return [];
      const kind = o.kind === 'Prometheus' ? 'prometheus' : 'alertmanager';
      const web = o.kind === 'Prometheus' ? 9090 : 9093;
      return [{
        name: `${kind}-${name}`,
        template: {
          metadata: { labels: { ...(o.spec?.podMetadata?.labels ?? {}) } },
          spec: { serviceAccountName: o.spec?.serviceAccountName, containers: [] },
        },
        extraLabels: {
          'app.kubernetes.io/name': kind,
          'app.kubernetes.io/instance': name,
          'app.kubernetes.io/managed-by': 'prometheus-operator',
          [kind]: name,
        },
        extraPorts: [
          { name: 'web', port: web, protocol: 'TCP' },
          { name: 'reloader-web', port: 8080, protocol: 'TCP' },
          ...(o.kind === 'Alertmanager' ? [{ name: 'mesh-tcp', port: 9094, protocol: 'TCP' }, { name: 'mesh-udp', port: 9094, protocol: 'UDP' }] : []),
        ],
      }];
    }
    default: return [];
  }
}

function containerPorts(spec: Obj): ContainerPort[] {
  const containers = [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
  return containers.flatMap((c: Obj) => (c.ports ?? []).map((p: Obj) => ({ name: p.name, port: p.containerPort, protocol: p.protocol ?? 'TCP' })));
}

interface Policy { readonly namespace: string; readonly name: string; readonly spec: Obj; readonly types: Set<string> }

/** The model of one assembly's pod network. */
export class ReachabilityModel {
  public readonly pods: Pod[] = [];
  public readonly services: Obj[];
  private readonly policies: Policy[];
  private readonly namespaceLabels = new Map<string, Record<string, string>>();
  private readonly network: NetworkContext;
  private readonly serviceCidr: string;
  private nextPod = 10;
  private nextNode = 0;

  constructor(objects: Obj[], network: NetworkContext) {
    this.network = network;
    this.serviceCidr = network.serviceCidr ?? EKS_SERVICE_CIDR;
    for (const o of objects) {
      if (o.kind === 'Namespace') this.namespaceLabels.set(o.metadata.name, { ...o.metadata.labels, 'kubernetes.io/metadata.name': o.metadata.name });
    }
    for (const o of objects) {
      for (const t of podTemplates(o)) {
        const spec = t.template.spec ?? {};
        this.addPod({
          namespace: o.metadata?.namespace ?? 'default',
          name: t.name,
          labels: { ...t.template.metadata?.labels, ...t.extraLabels },
          serviceAccount: spec.serviceAccountName ?? 'default',
          hostNetwork: spec.hostNetwork === true,
          ports: [...containerPorts(spec), ...t.extraPorts],
        });
      }
    }
    for (const p of network.extraPods ?? []) this.addPod(p);
    this.services = objects.filter((o) => o.kind === 'Service' && o.apiVersion === 'v1');
    this.policies = objects.filter((o) => o.kind === 'NetworkPolicy').map((o) => {
      const spec = o.spec ?? {};
      const types = new Set<string>(spec.policyTypes ?? (spec.egress ? ['Ingress', 'Egress'] : ['Ingress']));
      return { namespace: o.metadata?.namespace ?? 'default', name: o.metadata?.name, spec, types };
    });
  }

  /** Adds a pod (a stand-in, or a synthetic source of a deny flow) and returns it. */
  public addPod(p: PodSpecInput): Pod {
    const cidrs = this.network.podSubnetCidrs.length > 0 ? this.network.podSubnetCidrs : [this.network.vpcCidr];
    const ip = p.hostNetwork ? this.nodeIp() : cidrAddress(cidrs[this.pods.length % cidrs.length], this.nextPod++);
    const pod: Pod = {
      namespace: p.namespace,
      name: p.name,
      labels: p.labels,
      serviceAccount: p.serviceAccount ?? 'default',
      hostNetwork: p.hostNetwork ?? false,
      ip: ip ?? '0.0.0.0',
      ports: [...(p.ports ?? [])],
    };
    this.pods.push(pod);
    return pod;
  }

  /** An address of a node (nodes share the pods' subnets under the VPC CNI; taken from the top, pods from the bottom). */
  public nodeIp(): string {
    const cidrs = this.network.podSubnetCidrs.length > 0 ? this.network.podSubnetCidrs : [this.network.vpcCidr];
    const c = parseCidr(cidrs[0]);
    return c ? intToIp(c.base + c.size - 2 - this.nextNode++) : '0.0.0.0';
  }

  public podsMatching(namespace: string, labels: Record<string, string>): Pod[] {
    return this.pods.filter((p) => p.namespace === namespace && selectorMatches({ matchLabels: labels }, p.labels));
  }

  public podsOfServiceAccount(namespace: string, serviceAccount: string): Pod[] {
    return this.pods.filter((p) => p.namespace === namespace && p.serviceAccount === serviceAccount);
  }

  public service(namespace: string, name: string): Obj | undefined {
    return this.services.find((s) => s.metadata?.name === name && (s.metadata?.namespace ?? 'default') === namespace);
  }

  /** Whether `from` may open a connection to `to` on `port`/`protocol`. `from: 'node'` is the node itself (kubelet). */
  public allowed(from: Pod | 'node', to: Destination, port: number, protocol: Protocol = 'TCP'): Verdict {
    if ('service' in to) return this.allowedToService(from, to.service, port, protocol);
    if ('ip' in to) {
      const pod = this.pods.find((p) => p.ip === to.ip && !p.hostNetwork);
      if (pod) return this.allowed(from, { pod }, port, protocol);
      if (cidrContains(this.serviceCidr, to.ip)) {
        return { allowed: false, reason: `${to.ip} is a ClusterIP: the CNI judges Service traffic after translation; name the Service instead` };
      }
      if (from === 'node') return { allowed: true, reason: 'the node is not subject to policies' };
      return this.egress(from, to.ip, undefined, port, protocol);
    }
    const dest = to.pod;
    if (from !== 'node') {
      const out = this.egress(from, dest.ip, dest, port, protocol);
      if (!out.allowed) return out;
    }
    return this.ingress(dest, from, port, protocol);
  }

  private allowedToService(from: Pod | 'node', ref: { namespace: string; name: string }, port: number, protocol: Protocol): Verdict {
    const svc = this.service(ref.namespace, ref.name);
    if (!svc) return { allowed: false, reason: `no Service ${ref.namespace}/${ref.name}` };
    const sp = (svc.spec?.ports ?? []).find((p: Obj) => p.port === port && (p.protocol ?? 'TCP') === protocol);
    if (!sp) return { allowed: false, reason: `Service ${ref.namespace}/${ref.name} has no ${protocol} port ${port}` };
    const selector = svc.spec?.selector as Record<string, string> | undefined;
    if (!selector || Object.keys(selector).length === 0) return { allowed: false, reason: `Service ${ref.namespace}/${ref.name} has no selector (endpoints unknown)` };
    const endpoints = this.podsMatching(ref.namespace, selector);
    if (endpoints.length === 0) return { allowed: false, reason: `Service ${ref.namespace}/${ref.name} selects no pod` };
    for (const pod of endpoints) {
      const target = sp.targetPort ?? sp.port;
      const targetPort = typeof target === 'number' ? target : pod.ports.find((p) => p.name === target && p.protocol === protocol)?.port;
      if (targetPort === undefined) return { allowed: false, reason: `pod ${pod.namespace}/${pod.name} has no container port named ${target}` };
      const v = this.allowed(from, { pod }, targetPort, protocol);
      if (!v.allowed) return { allowed: false, reason: `via Service ${ref.namespace}/${ref.name}: ${v.reason}` };
    }
    return { allowed: true, reason: `every endpoint of Service ${ref.namespace}/${ref.name} is reachable` };
  }

  private selecting(pod: Pod, type: 'Ingress' | 'Egress'): Policy[] {
    return this.policies.filter((p) => p.namespace === pod.namespace && p.types.has(type) && selectorMatches(p.spec.podSelector, pod.labels));
  }

  private nsLabels(ns: string): Record<string, string> {
    return this.namespaceLabels.get(ns) ?? { 'kubernetes.io/metadata.name': ns };
  }

  /** Whether a peer of a rule in `policyNs` matches the address `ip` (the pod at it, if any). */
  private peerMatches(peer: Obj, policyNs: string, ip: string, pod: Pod | undefined): boolean {
    if (peer.ipBlock) {
      if (!cidrContains(peer.ipBlock.cidr, ip)) return false;
      return !(peer.ipBlock.except ?? []).some((e: string) => cidrContains(e, ip));
    }
    if (!pod || pod.hostNetwork) return false;
    if (peer.namespaceSelector) {
      if (!selectorMatches(peer.namespaceSelector, this.nsLabels(pod.namespace))) return false;
    } else if (pod.namespace !== policyNs) {
      return false;
    }
    return peer.podSelector ? selectorMatches(peer.podSelector, pod.labels) : true;
  }

  /** Whether a rule's ports admit `port`; a named port resolves on the destination pod (`dest`). */
  private portMatches(ports: Obj[] | undefined, port: number, protocol: Protocol, dest: Pod | undefined): boolean {
    if (!ports || ports.length === 0) return true;
    return ports.some((p) => {
      if ((p.protocol ?? 'TCP') !== protocol) return false;
      if (p.port === undefined) return true;
      if (typeof p.port === 'string') {
        const named = dest?.ports.find((c) => c.name === p.port && c.protocol === protocol);
        return named !== undefined && named.port === port;
      }
      return p.endPort !== undefined ? port >= p.port && port <= p.endPort : port === p.port;
    });
  }

  private egress(from: Pod, ip: string, dest: Pod | undefined, port: number, protocol: Protocol): Verdict {
    if (from.hostNetwork) return { allowed: true, reason: 'hostNetwork pods are not subject to policies' };
    const policies = this.selecting(from, 'Egress');
    if (policies.length === 0) return { allowed: true, reason: `no egress policy selects ${from.namespace}/${from.name}` };
    for (const p of policies) {
      for (const rule of p.spec.egress ?? []) {
        const to: Obj[] = rule.to ?? [];
        const peerOk = to.length === 0 || to.some((peer) => this.peerMatches(peer, p.namespace, ip, dest));
        if (peerOk && this.portMatches(rule.ports, port, protocol, dest)) return { allowed: true, reason: `egress allowed by ${p.namespace}/${p.name}` };
      }
    }
    const where = dest ? `${dest.namespace}/${dest.name} (${ip})` : ip;
    return { allowed: false, reason: `egress of ${from.namespace}/${from.name} to ${where}:${port}/${protocol} denied by ${policies.map((p) => p.name).join(', ')}` };
  }

  private ingress(dest: Pod, from: Pod | 'node', port: number, protocol: Protocol): Verdict {
    if (dest.hostNetwork) return { allowed: true, reason: 'hostNetwork pods are not subject to policies' };
    if (from === 'node') return { allowed: true, reason: 'traffic from the node (kubelet) is always allowed' };
    const policies = this.selecting(dest, 'Ingress');
    if (policies.length === 0) return { allowed: true, reason: `no ingress policy selects ${dest.namespace}/${dest.name}` };
    for (const p of policies) {
      for (const rule of p.spec.ingress ?? []) {
        const peers: Obj[] = rule.from ?? [];
        const peerOk = peers.length === 0 || peers.some((peer) => this.peerMatches(peer, p.namespace, from.ip, from));
        if (peerOk && this.portMatches(rule.ports, port, protocol, dest)) return { allowed: true, reason: `ingress allowed by ${p.namespace}/${p.name}` };
      }
    }
    return { allowed: false, reason: `ingress of ${dest.namespace}/${dest.name}:${port}/${protocol} from ${from.namespace}/${from.name} denied by ${policies.map((p) => p.name).join(', ')}` };
  }
}

// ---------- the promised flows ----------

export interface Finding {
  readonly flow: FxFlow;
  /** blocked: an allow flow is denied; open: a deny flow is allowed; unresolved: an end matches nothing. */
  readonly kind: 'blocked' | 'open' | 'unresolved';
  readonly detail: string;
}

function describePeer(p: FlowPeer): string {
  if (p.podIdentityAgent) return 'pod-identity-agent';
  if (p.awsEndpoints) return 'aws-endpoints';
  if (p.interfaceEndpoint) return `interface-endpoint/${p.interfaceEndpoint}`;
  if (p.internet) return 'internet';
  if (p.apiServer) return 'api-server';
  if (p.anyService) return 'any-other-service';
  if (p.anyDatabase) return 'any-database';
  if (p.cidr) return p.cidr;
  const who = p.service ? `svc/${p.service}` : p.serviceAccount ? `sa/${p.serviceAccount}` : JSON.stringify(p.podLabels ?? {});
  return `${p.namespace}/${who}`;
}

/** A short text of a flow, for messages. */
export function describeFlow(f: FxFlow): string {
  return `${describePeer(f.from)} -> ${describePeer(f.to)}:${f.port}/${f.protocol} (${f.expect}: ${f.reason})`;
}

const sameTarget = (a: FlowPeer, b: FlowPeer) => a.namespace === b.namespace && a.service === b.service && a.cidr === b.cidr;
const samePeer = (a: FlowPeer, b: FlowPeer) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Judges every flow: each `allow` flow must be allowed from every pod of its source to every
 * destination it names, each `deny` flow denied for all of them.
 */
export function checkFlows(objects: Obj[], flows: FxFlow[], network: NetworkContext): Finding[] {
  const model = new ReachabilityModel(objects, network);
  const findings: Finding[] = [];
  for (const flow of flows) {
    const sources = sourcePods(model, flow.from);
    if (sources.length === 0) {
      findings.push({ flow, kind: 'unresolved', detail: `no pod matches the source of ${describeFlow(flow)}` });
      continue;
    }
    const targets = destinations(model, flow, flows, network);
    // A wildcard of a deny flow may expand to nothing (no other service, no database elsewhere).
    if (targets.length === 0 && !(flow.to.anyService || flow.to.anyDatabase)) {
      findings.push({ flow, kind: 'unresolved', detail: `the destination of ${describeFlow(flow)} matches nothing` });
      continue;
    }
    for (const src of sources) {
      for (const t of targets) {
        const v = model.allowed(src, t.to, t.port, flow.protocol);
        if (flow.expect === 'allow' && !v.allowed) findings.push({ flow, kind: 'blocked', detail: `${describeFlow(flow)} from ${src.namespace}/${src.name}: ${v.reason}` });
        if (flow.expect === 'deny' && v.allowed) findings.push({ flow, kind: 'open', detail: `${describeFlow(flow)} from ${src.namespace}/${src.name} to ${t.label}: ${v.reason}` });
      }
    }
  }
  return findings;
}

function sourcePods(model: ReachabilityModel, from: FlowPeer): Pod[] {
  if (!from.namespace) return [];
  if (from.synthetic) return [model.addPod({ namespace: from.namespace, name: 'synthetic-source', labels: from.podLabels ?? {} })];
  if (from.serviceAccount) return model.podsOfServiceAccount(from.namespace, from.serviceAccount);
  return model.podsMatching(from.namespace, from.podLabels ?? {});
}

interface Target { readonly to: Destination; readonly port: number; readonly label: string }

function destinations(model: ReachabilityModel, flow: FxFlow, flows: FxFlow[], network: NetworkContext): Target[] {
  const to = flow.to;
  const ips = (list: string[], port: number) => list.map((ip) => ({ to: { ip }, port, label: ip }));
  if (to.podIdentityAgent) return ips([network.podIdentityAgentIp ?? POD_IDENTITY_AGENT_IP], flow.port);
  if (to.awsEndpoints) return ips(network.awsEndpointIps, flow.port);
  // No sample address when the VPC has no such endpoint: the flow is unresolved.
  if (to.interfaceEndpoint) return ips(network.interfaceEndpointIps?.[to.interfaceEndpoint] ?? [], flow.port);
  if (to.internet) return ips(network.internetIps ?? INTERNET_SAMPLE_IPS, flow.port);
  if (to.apiServer) return ips(network.apiServerIps, flow.port);
  if (to.cidr) {
    const ip = cidrAddress(to.cidr, 10);
    return ip ? ips([ip], flow.port) : [];
  }
  if (to.anyService) {
    // Every FxMicroservice Service other than the source's own and those it was promised.
    const promised = flows.filter((f) => f.expect === 'allow' && samePeer(f.from, flow.from) && f.to.service);
    return model.services
      .filter((s) => s.metadata?.labels?.[MICROSERVICE_TRACK_LABEL] !== undefined)
      .filter((s) => !(s.metadata.namespace === flow.from.namespace
        && selectorMatches({ matchLabels: s.spec?.selector ?? {} }, flow.from.podLabels ?? {})))
      .filter((s) => !promised.some((f) => f.to.namespace === s.metadata.namespace && f.to.service === s.metadata.name))
      .flatMap((s) => (s.spec?.ports ?? []).map((p: Obj) => ({ to: { service: { namespace: s.metadata.namespace, name: s.metadata.name } }, port: p.port, label: `${s.metadata.namespace}/${s.metadata.name}:${p.port}` })));
  }
  if (to.anyDatabase) {
    const mine = flows.filter((f) => f.expect === 'allow' && samePeer(f.from, flow.from) && f.to.database);
    const all = flows.filter((f) => f.expect === 'allow' && f.to.database && f.to.cidr && !mine.some((m) => sameTarget(m.to, f.to) && m.port === f.port));
    const seen = new Set<string>();
    const out: Target[] = [];
    for (const f of all) {
      const key = `${f.to.cidr}:${f.port}`;
      const ip = cidrAddress(f.to.cidr!, 10);
      if (seen.has(key) || !ip) continue;
      seen.add(key);
      out.push({ to: { ip }, port: f.port, label: key });
    }
    return out;
  }
  if (to.namespace && to.service) return [{ to: { service: { namespace: to.namespace, name: to.service } }, port: flow.port, label: `${to.namespace}/${to.service}` }];
  if (to.namespace) {
    const pods = to.serviceAccount
      ? model.podsOfServiceAccount(to.namespace, to.serviceAccount)
      : model.podsMatching(to.namespace, to.podLabels ?? {});
    return pods.map((pod) => ({ to: { pod }, port: flow.port, label: `${pod.namespace}/${pod.name}` }));
  }
  return [];
}
