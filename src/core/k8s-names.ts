import { Token } from 'aws-cdk-lib';

/** Kubernetes naming and quantity rules, shared by every construct that writes Kubernetes objects. */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;
const HOSTNAME = /^(\*\.)?([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
/**
 * Kubernetes' quantity grammar (k8s.io/apimachinery resource.Quantity), unsigned: a number
 * (`1`, `1.5`, `.5`, `1.`) then a binary suffix, a decimal suffix or a decimal exponent (`1e3`, `1E-2`).
 */
const QUANTITY = /^(\d+(?:\.\d*)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][-+]?\d+)?$/;

const SUFFIX: Record<string, number> = {
  'm': 1e-3,
  '': 1,
  'k': 1e3,
  'M': 1e6,
  'G': 1e9,
  'T': 1e12,
  'P': 1e15,
  'E': 1e18,
  'Ki': 2 ** 10,
  'Mi': 2 ** 20,
  'Gi': 2 ** 30,
  'Ti': 2 ** 40,
  'Pi': 2 ** 50,
  'Ei': 2 ** 60,
};

/** A DNS-1123 label: lowercase letters, digits and '-', at most 63 characters (names of namespaces, services...). */
export function isDnsLabel(value: string, maxLength = 63): boolean {
  return value.length <= maxLength && DNS1123_LABEL.test(value);
}

/** A DNS-1123 subdomain: lowercase letters, digits, '-' and '.', at most 253 characters (names of most objects). */
export function isDnsSubdomain(value: string): boolean {
  return DNS1123_SUBDOMAIN.test(value);
}

/** A fully qualified host name (lowercase), optionally a leading wildcard. */
export function isHostname(value: string): boolean {
  return value.length <= 253 && HOSTNAME.test(value);
}

/** A Kubernetes resource quantity such as `250m`, `1`, `512Mi`. */
export function isQuantity(value: string): boolean {
  return QUANTITY.test(value);
}

/**
 * The numeric value of a Kubernetes quantity (cores for CPU, bytes for memory). A deploy-time token
 * gives a number token: comparisons with it are not decided at synth, and the checks that use it
 * skip the token.
 */
export function quantityValue(value: string): number {
  if (Token.isUnresolved(value)) return Token.asNumber(value);
  const m = QUANTITY.exec(value);
  if (!m) throw new Error(`not a Kubernetes quantity: ${value}`);
  const suffix = m[2] ?? '';
  return /^[eE][-+]?\d+$/.test(suffix) ? Number(`${m[1]}${suffix}`) : Number(m[1]) * SUFFIX[suffix];
}

/** A memory quantity: a quantity without the milli suffix (`512m` is 0.512 bytes, never meant). */
export function isMemoryQuantity(value: string): boolean {
  return isQuantity(value) && !value.endsWith('m');
}

/** A DNS-1035 label: a DNS-1123 label starting with a letter (names of Services). */
export function isDns1035Label(value: string, maxLength = 63): boolean {
  return isDnsLabel(value, maxLength) && /^[a-z]/.test(value);
}

/**
 * A Kubernetes config key (ConfigMap and Secret data keys, External Secrets `secretKey`): letters,
 * digits, `-`, `_` and `.`, at most 253 characters, not `.` or `..` and not starting with `..`
 * (kubelet's own names in a mounted volume, such as `..data`).
 */
export function isConfigKey(value: string): boolean {
  return value.length <= 253 && /^[-._a-zA-Z0-9]+$/.test(value) && value !== '.' && !value.startsWith('..');
}

const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;

/** A label (or annotation, taint) key: `[prefix/]name`, prefix a DNS subdomain of up to 253 characters, name up to 63. */
export function isLabelKey(value: string): boolean {
  const slash = value.lastIndexOf('/');
  const prefix = slash >= 0 ? value.slice(0, slash) : undefined;
  const name = slash >= 0 ? value.slice(slash + 1) : value;
  if (prefix !== undefined && !(prefix.length <= 253 && isDnsSubdomain(prefix))) return false;
  return LABEL_NAME.test(name);
}

/** Domains the EKS managed node group API refuses in a label key (InvalidParameterException). */
const MANAGED_NODE_GROUP_RESERVED = ['kubernetes.io/', 'k8s.io/', 'eks.amazonaws.com/'];

/**
 * The reserved prefix a managed node group label key contains, if any: the EKS API refuses every
 * key whose prefix contains kubernetes.io/, k8s.io/ or eks.amazonaws.com/ ("Label cannot contain
 * reserved prefixes"), node.kubernetes.io/, node-role.kubernetes.io/ and
 * node-restriction.kubernetes.io/ included (kubernetes/cloud-provider-aws#242).
 *
 * @internal
 */
export function reservedNodeGroupLabelPrefix(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  if (slash < 0) return undefined;
  const prefix = key.slice(0, slash + 1).toLowerCase();
  return MANAGED_NODE_GROUP_RESERVED.find((reserved) => prefix === reserved || prefix.endsWith(`.${reserved}`));
}

/** A label (or taint) value: empty, or up to 63 letters, digits, '-', '_', '.', starting and ending alphanumeric. */
export function isLabelValue(value: string): boolean {
  return value === '' || LABEL_NAME.test(value);
}

/** A Helm release name: a DNS-1123 subdomain of at most 53 characters (Helm's own limit). */
export function isHelmReleaseName(value: string): boolean {
  return value.length <= 53 && isDnsSubdomain(value);
}
