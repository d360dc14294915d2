import { Duration, Size, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Bad input, reported the same way by every Fx construct: which construct, which prop,
 * which value, and what is allowed. Thrown at synth time, before any template is written.
 */
export class FxValidationError extends Error {
  /** Path of the Fx construct whose construction raised the error (e.g. `Platform/Services/Orders`), when known. */
  public readonly path?: string;

  constructor(
    public readonly construct: string,
    public readonly prop: string,
    public readonly value: unknown,
    public readonly allowed: string,
  ) {
    const path = construct.includes(' at ') ? undefined : runningConstructPath();
    super(`${construct}${path ? ` at ${path}` : ''}: invalid ${prop} ${formatValue(value)}; allowed: ${allowed}`);
    this.name = 'FxValidationError';
    this.path = path;
  }
}

/** The most recent instance of each Fx construct class, by class name (see `trackConstruct`). */
const LIVE = new Map<string, IConstruct>();

/**
 * Registers an Fx construct whose constructor is running, so that a validation error raised
 * anywhere below it (helpers, add-ons, static checks) names its path. Call right after `super()`.
 *
 * @internal
 */
export function trackConstruct(construct: IConstruct): void {
  LIVE.set(construct.constructor.name, construct);
}

/**
 * The path of the innermost tracked construct whose constructor is on the call stack: the first
 * `new <Class>` frame whose class was registered by `trackConstruct`.
 */
function runningConstructPath(): string | undefined {
  return runningConstruct()?.node.path;
}

/**
 * The innermost tracked Fx construct whose constructor is on the call stack, if any.
 *
 * @internal
 */
export function runningConstruct(): IConstruct | undefined {
  return runningConstructLater()();
}

/**
 * `runningConstruct` as of now, worked out only when asked: the call stack is captured here (cheap),
 * its text (costly) is only formatted when an error needs it. For the many calls that never fail.
 *
 * @internal
 */
export function runningConstructLater(): () => IConstruct | undefined {
  if (LIVE.size === 0) return () => undefined;
  const live = new Map(LIVE);
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 200;
  const trace = new Error();
  Error.stackTraceLimit = limit;
  let found: { construct?: IConstruct } | undefined;
  return () => {
    if (!found) {
      found = {};
      for (const match of (trace.stack ?? '').matchAll(/at new (\w+)/g)) {
        const construct = live.get(match[1]);
        if (construct) {
          found.construct = construct;
          break;
        }
      }
    }
    return found.construct;
  };
}

/**
 * Runs `fn` (a method of `scope` called after construction) so that a validation error it raises
 * names `scope`'s path, as errors raised in a constructor do.
 *
 * @internal
 */
export function atConstruct<T>(scope: IConstruct, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof FxValidationError && e.path === undefined && !e.construct.includes(' at ')) {
      throw new FxValidationError(`${e.construct} at ${scope.node.path}`, e.prop, e.value, e.allowed);
    }
    throw e;
  }
}

/**
 * What an error puts after a prop whose value came from a profile, not from the user:
 * `natGateways (from profile lab)`.
 *
 * @internal
 */
export function profileSuffix(profileName: string): string {
  return ` (from profile ${profileName})`;
}

/** Throws an FxValidationError unless `ok`. Values that are unresolved tokens are never validated. */
export function check(ok: boolean, construct: string, prop: string, value: unknown, allowed: string): void {
  if (isUnresolved(value)) return;
  if (!ok) throw new FxValidationError(construct, prop, value, allowed);
}

/**
 * True when the value is (or contains) a CDK token whose real value is only known at deploy time:
 * a string or number token, a list token or one of its elements (`#{Token[...]}`: an element of a
 * CommaDelimitedList parameter), a number token formatted into a message value (`${n} GiB`), or a
 * `Duration`/`Size` of a token in words (`<token> days`).
 */
export function isUnresolved(value: unknown): boolean {
  if (typeof value === 'number') return Token.isUnresolved(value);
  if (typeof value === 'string') {
    return Token.isUnresolved(value) || value.includes('#{Token[') || value.includes('<token>')
      || (value.match(NUMBER) ?? []).some((n) => Token.isUnresolved(Number(n)));
  }
  if (Array.isArray(value)) return Token.isUnresolved(value) || value.some((v) => isUnresolved(v));
  return false;
}

/**
 * A `Duration` or `Size` of a deploy-time number as given, the number shown as `<token>`
 * (`Duration.days(<token>)`), for messages that refuse one.
 */
export function tokenDescription(value: { toString(): string }): string {
  return value.toString().replace(NUMBER, '<token>');
}

/** Numbers in exponent notation: how an encoded number token reads once formatted into a string. */
const NUMBER = /-?\d+(\.\d+)?e[+-]\d+/g;

/** A string token as aws-cdk-lib encodes it (`${Token[NAME.123]}`), or an element of a list token (`#{Token[...]}`). */
const ENCODED_TOKEN = /[$#]\{Token\[[^\]]*\]\}/g;

function formatValue(value: unknown): string {
  if (value === undefined) return '(undefined)';
  // A deploy-time value is described, never printed as its encoding (`${Token[...]}`, -1.888e+289).
  // (Quoted as checkKnownAtSynth words it.)
  if (typeof value === 'number' && Token.isUnresolved(value)) return "'(a deploy-time token)'";
  if (typeof value === 'string') {
    const literal = value.replace(ENCODED_TOKEN, '<token>');
    return `'${literal === '<token>' ? '(a deploy-time token)' : literal}'`;
  }
  // As given: NaN and Infinity, which JSON would print as null.
  if (typeof value === 'number') return String(value);
  try {
    return JSON.stringify(value, (_, v) => {
      if (typeof v === 'number' && Token.isUnresolved(v)) return '<token>';
      return typeof v === 'string' ? v.replace(ENCODED_TOKEN, '<token>') : v;
    });
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

/** The 32-bit value and prefix length of an IPv4 CIDR block (call only on a valid one). */
function parseCidr(cidr: string): { base: number; prefix: number } {
  const [address, prefix] = cidr.split('/');
  const base = address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
  return { base, prefix: Number(prefix) };
}

/** An IPv4 CIDR block whose host bits are zero (`10.0.0.0/16`, not `10.0.0.5/16`). */
export function isIpv4Network(value: string): boolean {
  if (!isIpv4Cidr(value)) return false;
  const { base, prefix } = parseCidr(value);
  const size = 2 ** (32 - prefix);
  return base % size === 0;
}

/**
 * Ranges that never appear as the source address of a connection from the internet: private
 * (RFC 1918), shared (RFC 6598), loopback, link-local, "this network", documentation-free reserved,
 * benchmarking, multicast and future use (RFC 6890).
 */
const NOT_INTERNET = ['0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12',
  '192.0.0.0/24', '192.168.0.0/16', '198.18.0.0/15', '224.0.0.0/4', '240.0.0.0/4'];

/**
 * The reserved or private range an IPv4 CIDR block lies in, if any. A wider block that merely
 * contains such a range (`0.0.0.0/0`, `8.0.0.0/5`) also holds public addresses and is not one.
 */
export function nonInternetRangeOf(value: string): string | undefined {
  if (!isIpv4Cidr(value)) return undefined;
  const a = parseCidr(value);
  const size = 2 ** (32 - a.prefix);
  const base = Math.floor(a.base / size) * size;
  if (!coveredByNonInternet(base, a.prefix)) return undefined;
  return NOT_INTERNET.find((range) => overlap(base, a.prefix, parseCidr(range)));
}

/** Whether two valid IPv4 CIDR blocks share an address. */
export function cidrsOverlap(a: string, b: string): boolean {
  const { base, prefix } = parseCidr(a);
  return overlap(base, prefix, parseCidr(b));
}

/** Whether two blocks share an address. */
function overlap(base: number, prefix: number, b: { base: number; prefix: number }): boolean {
  const size = 2 ** (32 - Math.min(prefix, b.prefix));
  return Math.floor(base / size) === Math.floor(b.base / size);
}

/** Whether every address of the block is in one of the non-internet ranges (`224.0.0.0/3` is: multicast and reserved). */
function coveredByNonInternet(base: number, prefix: number): boolean {
  const ranges = NOT_INTERNET.map(parseCidr).filter((b) => overlap(base, prefix, b));
  if (ranges.length === 0) return false;
  if (ranges.some((b) => b.prefix <= prefix)) return true;
  const half = 2 ** (32 - prefix - 1);
  return coveredByNonInternet(base, prefix + 1) && coveredByNonInternet(base + half, prefix + 1);
}

/** The units a deploy-time `Duration` can be read in, by the name of its `Duration` factory. */
export type FxDurationUnit = 'millis' | 'seconds' | 'minutes' | 'hours' | 'days';

/**
 * Guards a `Duration` that is about to be converted to `unit` (`toSeconds()`, `toDays()`...): a
 * deploy-time value in another unit cannot be converted at synth, so instead of aws-cdk-lib's
 * error (which names no construct or prop) it fails naming `prop` and the unit it must be given in.
 * A literal duration, and a token in `unit`, pass.
 *
 * @internal
 */
export function checkDurationToken(d: Duration, construct: string, prop: string, unit: FxDurationUnit): void {
  if (!d.isUnresolved()) return;
  const convert = {
    millis: () => d.toMilliseconds(), seconds: () => d.toSeconds(), minutes: () => d.toMinutes(), hours: () => d.toHours(), days: () => d.toDays(),
  }[unit];
  try {
    convert();
  } catch {
    throw new FxValidationError(construct, prop, tokenDescription(d), `a deploy-time value only as Duration.${unit}(<token>) (a token in another unit cannot be converted at synth)`);
  }
}

/** The units a deploy-time `Size` can be read in, by the name of its `Size` factory. */
export type FxSizeUnit = 'bytes' | 'kibibytes' | 'mebibytes' | 'gibibytes' | 'tebibytes';

/**
 * `checkDurationToken` for a `Size`: a deploy-time size in another unit than `unit` fails naming
 * `prop`, not inside aws-cdk-lib.
 *
 * @internal
 */
export function checkSizeToken(size: Size, construct: string, prop: string, unit: FxSizeUnit): void {
  if (!size.isUnresolved()) return;
  const convert = {
    bytes: () => size.toBytes(),
    kibibytes: () => size.toKibibytes(),
    mebibytes: () => size.toMebibytes(),
    gibibytes: () => size.toGibibytes(),
    tebibytes: () => size.toTebibytes(),
  }[unit];
  try {
    convert();
  } catch {
    throw new FxValidationError(construct, prop, tokenDescription(size), `a deploy-time value only as Size.${unit}(<token>) (a token in another unit cannot be converted at synth)`);
  }
}

/**
 * Refuses a deploy-time token where the value must be known at synth (it decides what is built, or
 * is computed with): the message says why, instead of the token being read as a number.
 *
 * @internal
 */
export function checkKnownAtSynth(value: unknown, construct: string, prop: string, why: string): void {
  if (isUnresolved(value)) throw new FxValidationError(construct, prop, '(a deploy-time token)', `a value known at synth: ${why}`);
}

/**
 * Levenshtein distance between two names, for "did you mean" hints; `limit` (the caller only wants
 * closer names) is returned as soon as the lengths alone differ by that much.
 *
 * @internal
 */
export function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return previous[b.length];
}
