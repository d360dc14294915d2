/** Kubernetes naming and quantity rules, shared by every construct that writes Kubernetes objects. */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;
const HOSTNAME = /^(\*\.)?([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const QUANTITY = /^(\d+(\.\d+)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;

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

/** The numeric value of a Kubernetes quantity (cores for CPU, bytes for memory). */
export function quantityValue(value: string): number {
  const m = QUANTITY.exec(value);
  if (!m) throw new Error(`not a Kubernetes quantity: ${value}`);
  return Number(m[1]) * SUFFIX[m[3] ?? ''];
}
