import * as crypto from 'crypto';
import { Stack, StackProps } from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import { atConstruct, check, checkKnownAtSynth, FxValidationError, trackConstruct } from '../core/errors';

const WHO = 'FxServiceStacks';
/** Per app: stack name prefix -> path of the FxServiceStacks using it. */
const PREFIXES = new WeakMap<IConstruct, Map<string, string>>();
/** Per app: name of every stack an FxServiceStacks created -> its path (`Svc` + 11 and `Svc1` + 1 are one name). */
const STACK_NAMES = new WeakMap<IConstruct, Map<string, string>>();

/** Props of `FxServiceStacks`. */
export interface FxServiceStacksProps {
  /** Environment (account and region) of every service stack: the cluster's. */
  readonly env: StackProps['env'];
  /**
   * Most services one stack may hold. Each FxMicroservice costs 4 to 6 CloudFormation resources and
   * up to about 25 KB of template (its manifest, with route, database, alerts and dashboard), so 30
   * keeps every stack near 750 KB, under CloudFormation's 1 MB template and 500 resources limits.
   * Synthesis fails, naming the stack, when a stack would hold more.
   *
   * @default 30
   */
  readonly servicesPerStack?: number;
  /**
   * How many stacks services are spread over (by name, see `stackFor`). A stack is created only
   * once a service lands in it. Raising it later moves about `1/stackCount` of the services to the
   * new stacks (rendezvous hashing); every other service stays where it is.
   *
   * @default 10
   */
  readonly stackCount?: number;
  /**
   * Prefix of the stack names (`<prefix>1` ... `<prefix><stackCount>`).
   *
   * @default - the construct id
   */
  readonly stackNamePrefix?: string;
}

/**
 * Spreads many FxMicroservices over stacks within CloudFormation's limits, each service placed by
 * its name: `stackFor('orders-api')` always answers the same stack for the same name and
 * `stackCount`, whatever services are added or removed around it, so inserting a service never
 * moves another one into a different stack (which would replace its resources).
 *
 * Services reference the cluster across stacks (CloudFormation exports), so the platform stack
 * deploys first and is deleted last.
 *
 * @example
 * const services = new FxServiceStacks(app, 'Services', { env });
 * for (const team of teams) new FxMicroservice(services.stackFor(team.name), team.name, { cluster, serviceName: team.name, image: team.image });
 */
export class FxServiceStacks extends Construct {
  /** The stacks created so far (only those holding a service), in slot order. */
  public get stacks(): Stack[] {
    return [...this.slots.entries()].sort(([a], [b]) => a - b).map(([, s]) => s);
  }
  private readonly perStack: number;
  private readonly stackCount: number;
  private readonly prefix: string;
  private readonly env: StackProps['env'];
  private readonly slots = new Map<number, Stack>();
  private readonly members = new Map<number, string[]>();
  private positional = 0;
  private readonly prefixProp: string;

  constructor(scope: Construct, id: string, props: FxServiceStacksProps) {
    super(scope, id);
    trackConstruct(this);
    checkKnownAtSynth(props.servicesPerStack, WHO, 'servicesPerStack', 'synthesis counts the services of each stack against it');
    checkKnownAtSynth(props.stackCount, WHO, 'stackCount', 'it decides which stack each service is placed in');
    this.perStack = props.servicesPerStack ?? 30;
    check(Number.isInteger(this.perStack) && this.perStack >= 1 && this.perStack <= 40, WHO, 'servicesPerStack', this.perStack,
      'an integer from 1 to 40 (at up to 25 KB of template per service, more risks the 1 MB template limit)');
    this.stackCount = props.stackCount ?? 10;
    check(Number.isInteger(this.stackCount) && this.stackCount >= 1 && this.stackCount <= 100, WHO, 'stackCount', this.stackCount,
      'an integer from 1 to 100');
    this.prefix = props.stackNamePrefix ?? id;
    const prefixProp = props.stackNamePrefix !== undefined ? 'stackNamePrefix' : 'stackNamePrefix (from the construct id)';
    checkKnownAtSynth(props.stackNamePrefix, WHO, 'stackNamePrefix', 'it names the stacks, which the CDK CLI deploys by name');
    check(/^[A-Za-z][A-Za-z0-9-]{0,124}$/.test(this.prefix), WHO, prefixProp, this.prefix,
      'a CloudFormation stack name prefix: a letter, then letters, digits and - (no _), up to 125 characters');
    const prefixes = PREFIXES.get(this.node.root) ?? new Map<string, string>();
    PREFIXES.set(this.node.root, prefixes);
    const other = prefixes.get(this.prefix);
    check(other === undefined, WHO, prefixProp, this.prefix,
      `a prefix no other FxServiceStacks of the app uses (${other} does: their stacks ${this.prefix}1, ${this.prefix}2... would have the same names)`);
    prefixes.set(this.prefix, this.node.path);
    this.prefixProp = prefixProp;
    this.env = props.env;
    this.node.addValidation({ validate: () => this.overfull() });
  }

  /**
   * The stack of the service with this name: the slot with the highest hash of (name, slot), so a
   * name keeps its stack when others come and go.
   *
   * @param serviceName the service's name (its `serviceName`), unique among the services
   */
  public stackFor(serviceName: string): Stack {
    atConstruct(this, () => checkKnownAtSynth(serviceName, WHO, 'stackFor(serviceName)', 'the stack is chosen by hashing the name at synth'));
    atConstruct(this, () => check(typeof serviceName === 'string', WHO, 'stackFor(serviceName)', serviceName, 'a service name (a string)'));
    atConstruct(this, () => check(serviceName.length > 0 && serviceName.length <= 253, WHO, 'stackFor(serviceName)', serviceName, 'a non-empty service name (at most 253 characters)'));
    let best = 0;
    let bestScore = '';
    for (let slot = 0; slot < this.stackCount; slot++) {
      const score = crypto.createHash('sha256').update(`${serviceName}\u0000${slot}`).digest('hex');
      if (score > bestScore) {
        bestScore = score;
        best = slot;
      }
    }
    const names = this.members.get(best) ?? [];
    if (names.includes(serviceName)) {
      throw new FxValidationError(`${WHO} at ${this.node.path}`, 'stackFor(serviceName)', serviceName, 'a name not placed before (each service once)');
    }
    names.push(serviceName);
    this.members.set(best, names);
    return this.slot(best);
  }

  /**
   * The stack the next service goes into, by position: a new stack every `servicesPerStack` calls.
   *
   * @deprecated inserting a service moves every later one into another stack; use `stackFor(name)`.
   */
  public next(): Stack {
    const slot = Math.floor(this.positional / this.perStack);
    this.positional++;
    const names = this.members.get(slot) ?? [];
    names.push(`#${this.positional}`);
    this.members.set(slot, names);
    return this.slot(slot, true);
  }

  private slot(index: number, unbounded = false): Stack {
    if (!unbounded && index >= this.stackCount) throw new Error('unreachable: slot out of range');
    let stack = this.slots.get(index);
    if (!stack) {
      const stackName = `${this.prefix}${index + 1}`;
      atConstruct(this, () => check(stackName.length <= 128, WHO, this.prefixProp, this.prefix,
        `a prefix that leaves room for the stack number: stack ${index + 1} would be named ${stackName} (${stackName.length} characters, CloudFormation allows 128)`));
      const names = STACK_NAMES.get(this.node.root) ?? new Map<string, string>();
      STACK_NAMES.set(this.node.root, names);
      const by = names.get(stackName);
      if (by !== undefined) {
        throw new FxValidationError(`${WHO} at ${this.node.path}`, this.prefixProp, this.prefix,
          `a prefix whose stack names no other FxServiceStacks of the app produces: ${stackName} is a stack of ${by} already`);
      }
      names.set(stackName, this.node.path);
      stack = new Stack(this, `${index + 1}`, { env: this.env, stackName });
      this.slots.set(index, stack);
    }
    return stack;
  }

  private overfull(): string[] {
    return [...this.members.entries()].filter(([, names]) => names.length > this.perStack).map(([slot, names]) =>
      `${WHO} at ${this.node.path}: invalid stackCount ${this.stackCount}; stack ${this.prefix}${slot + 1} would hold ${names.length} services `
      + `(more than servicesPerStack ${this.perStack}); allowed: a stackCount with room for every service (raise it: about 1/stackCount of the services move)`);
  }
}
