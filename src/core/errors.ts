import { Token } from 'aws-cdk-lib';

/**
 * Bad input, reported the same way by every Fx construct: which construct, which prop,
 * which value, and what is allowed. Thrown at synth time, before any template is written.
 */
export class FxValidationError extends Error {
  constructor(
    public readonly construct: string,
    public readonly prop: string,
    public readonly value: unknown,
    public readonly allowed: string,
  ) {
    super(`${construct}: invalid ${prop} ${formatValue(value)}; allowed: ${allowed}`);
    this.name = 'FxValidationError';
  }
}

/** Throws an FxValidationError unless `ok`. Values that are unresolved tokens are never validated. */
export function check(ok: boolean, construct: string, prop: string, value: unknown, allowed: string): void {
  if (isUnresolved(value)) return;
  if (!ok) throw new FxValidationError(construct, prop, value, allowed);
}

/** True when the value is (or contains) a CDK token whose real value is only known at deploy time. */
export function isUnresolved(value: unknown): boolean {
  if (typeof value === 'string' || typeof value === 'number') return Token.isUnresolved(value);
  if (Array.isArray(value)) return Token.isUnresolved(value) || value.some((v) => isUnresolved(v));
  return false;
}

function formatValue(value: unknown): string {
  if (value === undefined) return '(undefined)';
  if (typeof value === 'string') return `'${value}'`;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

const IPV4_CIDR = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}\/(3[0-2]|[12]?\d)$/;

/** An IPv4 CIDR block such as `203.0.113.0/24`. */
export function isIpv4Cidr(value: string): boolean {
  return IPV4_CIDR.test(value);
}

const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;

/** An e-mail address such as `ops@example.com`. */
export function isEmail(value: string): boolean {
  return EMAIL.test(value);
}
