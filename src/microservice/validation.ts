import { Token } from 'aws-cdk-lib';
import { FxValidationError } from '../core/errors';
import { explainNeeds, FxCapability } from '../core/install-order';
import { isConfigKey } from '../core/k8s-names';
import { WIRING } from '../core/wiring';

// What makes a service need each capability: a need nobody provides names the prop.
explainNeeds('FxMicroservice', {
  [FxCapability.NODES]: 'its pods',
  [FxCapability.POD_IDENTITY]: 'its Pod Identity association',
  [FxCapability.TRAEFIK_CRDS]: "prop 'route'",
  [FxCapability.EXTERNAL_SECRETS_CRDS]: "prop 'secretEnv', 'database' or 'route.basicAuth', which External Secrets syncs",
  [FxCapability.EXTERNAL_SECRETS_WEBHOOK]: "prop 'secretEnv', 'database' or 'route.basicAuth', which External Secrets syncs",
  [FxCapability.PROMETHEUS_OPERATOR_CRDS]: "prop 'observability', its ServiceMonitor and PrometheusRule",
});

/**
 * Refuses a list that is a deploy-time token as a whole (a CommaDelimitedList parameter): its
 * elements are only known at deploy time, but each must become its own object at synth. A list
 * written at synth passes, whatever deploy-time strings it holds.
 */
export function checkListKnownAtSynth(list: readonly string[] | undefined, prop: string, why: string): void {
  if (list === undefined) return;
  if (Token.isUnresolved(list) || list.some((x) => typeof x === 'string' && x.includes('#{Token['))) {
    throw new FxValidationError('FxMicroservice', prop, '(a deploy-time list, e.g. a CommaDelimitedList parameter)',
      `a list written at synth; each element may be a deploy-time string (e.g. [parameter.valueAsString]), since ${why}`);
  }
}

/** Largest value of a Kubernetes int32 field (replicas, ports, percentages, counts). */
export const INT32_MAX = 2 ** 31 - 1;

/**
 * Namespaces a service must not be placed in: Kubernetes' own, and the ones the platform's add-ons
 * install into. A service namespace gets restricted Pod Security and a default-deny policy, which
 * would break the system components living there.
 */
export const RESERVED_NAMESPACES: readonly string[] = [
  'kube-system', 'kube-public', 'kube-node-lease', 'default',
  WIRING.traefik.namespace, WIRING.externalSecrets.namespace, WIRING.monitoring.namespace,
  // add-ons of src/cluster/addons (cert-manager, velero; karpenter, LB controller and cluster-autoscaler use kube-system)
  'cert-manager', 'velero', 'karpenter',
  // FxObservability: ELK (src/observability/elk/config.ts) and Container Insights
  'logging', 'elastic-system', 'amazon-cloudwatch',
];

/** A secret data key of letters, digits, `-`, `_` and `.` (Secret `data` keys, External Secrets `secretKey`); see also `isDotFreeKey`. */
export function isSecretKey(value: string): boolean {
  return value.length <= 253 && /^[-._a-zA-Z0-9]+$/.test(value);
}

/** A config key Kubernetes accepts beyond its characters: not `.` or `..`, not starting with `..` (`isConfigKey`). */
export function isDotFreeKey(value: string): boolean {
  return isConfigKey(value) || !isSecretKey(value);
}

/** What the dot rule of config keys allows. */
export const DOT_KEY_RULE = "a key other than '.' or '..', not starting with '..' (kubelet's own names in a mounted volume, such as ..data)";

/**
 * An environment variable name the API server accepts on every supported minor (1.34 and later, where
 * relaxed environment variable validation is GA): one or more printable ASCII characters, none of them
 * `=` (`LOG_LEVEL`, `my.var`, `1A`, `A-B`).
 */
export function isEnvName(value: string): boolean {
  return /^[\x20-\x3c\x3e-\x7e]+$/.test(value);
}

/** What the env name checks say is allowed. */
export const ENV_NAME_RULE = "environment variable names: printable ASCII characters other than '=' (e.g. LOG_LEVEL or my.var)";

type Tok = { kind: 'num' | 'ident' | 'op' | 'punct'; text: string; at: number };

const OPERATORS = ['&&', '||', '<=', '>=', '==', '!=', '<', '>'];
const COMPARISONS = new Set(['<', '<=', '>', '>=', '==', '!=']);

function tokenize(expression: string): Tok[] {
  const tokens: Tok[] = [];
  let i = 0;
  while (i < expression.length) {
    const rest = expression.slice(i);
    const space = /^\s+/.exec(rest);
    if (space) {
      i += space[0].length;
      continue;
    }
    const num = /^(\d+\.\d*|\.\d+|\d+)/.exec(rest);
    const ident = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
    const op = OPERATORS.find((o) => rest.startsWith(o));
    if (num) tokens.push({ kind: 'num', text: num[0], at: i });
    else if (ident) tokens.push({ kind: 'ident', text: ident[0], at: i });
    else if (op) tokens.push({ kind: 'op', text: op, at: i });
    else if ('(),'.includes(rest[0])) tokens.push({ kind: 'punct', text: rest[0], at: i });
    else throw new Error(`unexpected '${rest[0]}' at ${i}`);
    i += (num ?? ident)?.[0].length ?? op?.length ?? 1;
  }
  return tokens;
}

const isFloat = (t: Tok) => t.kind === 'num' && t.text.includes('.');
const isInt = (t: Tok) => t.kind === 'num' && !t.text.includes('.');

/**
 * Why a Traefik circuit breaker expression does not parse, or `undefined` when it does.
 *
 * Grammar (Traefik's CircuitBreaker middleware, evaluated by oxy's predicate parser):
 * `expr := and ('||' and)*`, `and := term ('&&' term)*`, `term := '(' expr ')' | call cmp number`,
 * with calls `NetworkErrorRatio()` and `ResponseCodeRatio(from, to, from, to)` (integers; compared
 * with a float) and `LatencyAtQuantileMS(quantile)` (a float; compared with an integer of milliseconds).
 */
export function circuitBreakerProblem(expression: string): string | undefined {
  let tokens: Tok[];
  try {
    tokens = tokenize(expression);
  } catch (e) {
    return (e as Error).message;
  }
  let pos = 0;
  const peek = (): Tok | undefined => tokens[pos];
  const where = () => (peek() ? `'${peek()!.text}' at ${peek()!.at}` : 'the end');
  const expect = (text: string) => {
    if (peek()?.text !== text) throw new Error(`expected '${text}', found ${where()}`);
    pos++;
  };
  const number = (ok: (t: Tok) => boolean, what: string): Tok => {
    const t = peek();
    if (!t || !ok(t)) throw new Error(`expected ${what}, found ${where()}`);
    pos++;
    return t;
  };
  const call = (): 'ratio' | 'latency' => {
    const name = peek();
    if (name?.kind !== 'ident') throw new Error(`expected NetworkErrorRatio, LatencyAtQuantileMS or ResponseCodeRatio, found ${where()}`);
    pos++;
    expect('(');
    if (name.text === 'NetworkErrorRatio') {
      expect(')');
      return 'ratio';
    }
    if (name.text === 'LatencyAtQuantileMS') {
      const q = Number(number(isFloat, 'a float quantile such as 50.0').text);
      if (q <= 0 || q > 100) throw new Error(`quantile ${q} is not above 0 and at most 100`);
      expect(')');
      return 'latency';
    }
    if (name.text === 'ResponseCodeRatio') {
      const codes: number[] = [];
      for (let k = 0; k < 4; k++) {
        if (k > 0) expect(',');
        codes.push(Number(number(isInt, 'an integer status code').text));
      }
      expect(')');
      if (codes[0] >= codes[1] || codes[2] >= codes[3]) throw new Error('ResponseCodeRatio(from, to, from, to) needs each from below its to');
      return 'ratio';
    }
    throw new Error(`unknown function '${name.text}' at ${name.at}`);
  };
  const term = (): void => {
    if (peek()?.text === '(') {
      pos++;
      or();
      expect(')');
      return;
    }
    const kind = call();
    const op = peek();
    if (op?.kind !== 'op' || !COMPARISONS.has(op.text)) throw new Error(`expected a comparison (<, <=, >, >=, ==, !=), found ${where()}`);
    pos++;
    if (kind === 'ratio') number(isFloat, 'a float ratio such as 0.30');
    else number(isInt, 'an integer number of milliseconds');
  };
  const and = (): void => {
    term();
    while (peek()?.text === '&&') {
      pos++;
      term();
    }
  };
  const or = (): void => {
    and();
    while (peek()?.text === '||') {
      pos++;
      and();
    }
  };
  try {
    if (tokens.length === 0) return 'the expression is empty';
    or();
    if (pos < tokens.length) return `unexpected ${where()}`;
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}

const MACROS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const FIELDS: Array<{ name: string; min: number; max: number; names?: string[]; question?: boolean }> = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31, question: true },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day of week', min: 0, max: 6, names: DAYS, question: true },
];

/**
 * Why a CronJob schedule does not parse the way the CronJob controller (robfig/cron standard parser)
 * reads it, or `undefined` when it does.
 */
export function cronScheduleProblem(schedule: string): string | undefined {
  const trimmed = schedule.trim();
  if (/^(CRON_)?TZ=/.test(trimmed)) return 'TZ= and CRON_TZ= are rejected by Kubernetes: use timeZone';
  // robfig/cron: '@every <Go duration>' (exactly one space), rounded up to at least a second.
  if (trimmed.startsWith('@every ')) return isGoDuration(trimmed.slice('@every '.length)) ? undefined : `'${trimmed.slice('@every '.length)}' is not a Go duration such as 1h30m or 90s`;
  if (trimmed.startsWith('@')) return MACROS.includes(trimmed) ? undefined : `unknown descriptor ${trimmed}`;
  const parts = trimmed.split(/\s+/);
  if (parts.length !== 5) return `${parts.length} fields, expected 5 (minute hour day-of-month month day-of-week)`;
  for (let i = 0; i < 5; i++) {
    const problem = fieldProblem(parts[i], FIELDS[i]);
    if (problem) return `${FIELDS[i].name} '${parts[i]}': ${problem}`;
  }
  return undefined;
}

/** The values a field of a schedule that parses selects, and whether it is starred (`*` or `?`, no step above 1). */
function fieldValues(field: string, spec: typeof FIELDS[number]): { values: Set<number>; star: boolean } {
  const value = (text: string): number => {
    if (/^\d+$/.test(text)) return Number(text);
    return spec.names!.indexOf(text.toUpperCase()) + (spec.name === 'month' ? 1 : 0);
  };
  const values = new Set<number>();
  let star = false;
  for (const item of field.split(',')) {
    const [range, stepText] = item.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    const all = range === '*' || range === '?';
    if (all && step === 1) star = true;
    const [from, to] = all ? [spec.min, spec.max] : range.split('-').map(value);
    // 'N/step' runs from N to the field's maximum (robfig/cron).
    const end = all ? spec.max : to ?? (stepText !== undefined ? spec.max : from);
    for (let n = from; n <= end; n += step) values.add(n);
  }
  return { values, star };
}

/** Longest month of each month number (February: 29, in leap years). */
const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Why a five-field schedule that parses never fires, or `undefined`: a day of month no selected
 * month has (`0 0 31 2 *`, `0 0 30 2 *`). The CronJob controller (robfig/cron) requires both the
 * day of month and the day of week when either is `*`, and either one when both are restricted
 * (then the day of week fires anyway).
 */
export function cronNeverFires(schedule: string): string | undefined {
  const parts = schedule.trim().split(/\s+/);
  if (parts.length !== 5 || schedule.trim().startsWith('@')) return undefined;
  const dom = fieldValues(parts[2], FIELDS[2]);
  const dow = fieldValues(parts[4], FIELDS[4]);
  if (dom.star || !dow.star) return undefined;
  const months = [...fieldValues(parts[3], FIELDS[3]).values];
  const fits = months.some((m) => [...dom.values].some((d) => d <= MONTH_DAYS[m - 1]));
  return fits ? undefined : `no month ${parts[3]} has day ${parts[2]}, so the schedule never fires`;
}

function fieldProblem(field: string, spec: typeof FIELDS[number]): string | undefined {
  const value = (text: string): number | undefined => {
    if (/^\d+$/.test(text)) return Number(text);
    const named = spec.names?.indexOf(text.toUpperCase()) ?? -1;
    return named >= 0 ? named + (spec.name === 'month' ? 1 : 0) : undefined;
  };
  for (const item of field.split(',')) {
    const [range, step, ...extra] = item.split('/');
    if (extra.length > 0) return 'one / at most';
    if (step !== undefined && !/^[1-9]\d*$/.test(step)) return `step '${step}' is not a positive integer`;
    if (range === '*' || (range === '?' && spec.question)) continue;
    const [from, to, ...more] = range.split('-');
    if (more.length > 0) return `range '${range}' has more than one -`;
    for (const end of to === undefined ? [from] : [from, to]) {
      const n = value(end);
      if (n === undefined) return `'${end}' is not a number${spec.names ? ' or name' : ''}`;
      if (n < spec.min || n > spec.max) return `${n} is outside ${spec.min}-${spec.max}`;
    }
    if (to !== undefined && value(from)! > value(to)!) return `range '${range}' runs backwards`;
  }
  return undefined;
}

/** A Go duration (time.ParseDuration), unsigned: `0`, `90s`, `1h30m`, `1.5h`, `500ms`. */
function isGoDuration(value: string): boolean {
  return value === '0' || /^((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+$/.test(value);
}

/** Zones the tz database dropped (2020b): Go's time.LoadLocation no longer finds them, though ICU may. */
const REMOVED_ZONES = /^(US\/Pacific-New|SystemV\/.*)$/;

/** Canonical zones of the runtime, by lower-cased name (to tell a wrong case from an alias). */
let canonicalZones: Map<string, string> | undefined;

/**
 * Whether the runtime knows `zone` as an IANA time zone (the API server checks it against its tzdata
 * with Go's time.LoadLocation, which is case-sensitive: `Europe/Paris`, not `europe/paris`).
 */
export function isTimeZone(zone: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(zone) || REMOVED_ZONES.test(zone)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    return false;
  }
  canonicalZones ??= new Map([...Intl.supportedValuesOf('timeZone'), 'UTC', 'Etc/UTC', 'GMT', 'Etc/GMT'].map((z) => [z.toLowerCase(), z]));
  // A canonical zone (or UTC) in another case is refused; an alias (US/Pacific, Etc/GMT+5) is not in the list.
  const canonical = canonicalZones.get(zone.toLowerCase());
  if (canonical !== undefined) return canonical === zone;
  // An alias (US/Pacific, Etc/GMT+5, EST5EDT): the tz database capitalises each part and word.
  return !/(^|[/_])[a-z]/.test(zone);
}

/** Why a zone the runtime knows is still refused (`isTimeZone`), for the message; '' when it is unknown. */
export function timeZoneHint(zone: string): string {
  if (REMOVED_ZONES.test(zone)) return ' (it was removed from the tz database in 2020b)';
  const canonical = canonicalZones?.get(zone.toLowerCase());
  if (canonical !== undefined) return ` (in the exact case of the tz database: ${canonical}; Go reads it case-sensitively)`;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return ' (in the exact case of the tz database; Go reads it case-sensitively)';
  } catch {
    return '';
  }
}
