import { Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { check } from '../core/errors';

const WHO = 'FxServiceStacks';

/** Props of `FxServiceStacks`. */
export interface FxServiceStacksProps {
  /** Environment (account and region) of every service stack: the cluster's. */
  readonly env: StackProps['env'];
  /**
   * Services per stack. Each FxMicroservice costs 4 to 6 CloudFormation resources and up to about
   * 25 KB of template (its manifest, with route, database, alerts and dashboard), so 30 keeps every
   * stack near 750 KB, under CloudFormation's 1 MB template and 500 resources limits.
   *
   * @default 30
   */
  readonly servicesPerStack?: number;
  /**
   * Prefix of the stack names (`<prefix>1`, `<prefix>2`, ...).
   *
   * @default - the construct id
   */
  readonly stackNamePrefix?: string;
}

/**
 * Spreads many FxMicroservices over as many stacks as CloudFormation's limits require.
 *
 * Call `next()` for the scope of each new service: a new stack is opened every `servicesPerStack`
 * services. Services reference the cluster across stacks (CloudFormation exports), so the
 * platform stack deploys first and is deleted last.
 *
 * @example
 * const services = new FxServiceStacks(app, 'Services', { env });
 * for (const team of teams) new FxMicroservice(services.next(), team.name, { cluster, image: team.image });
 */
export class FxServiceStacks extends Construct {
  /** The stacks opened so far. */
  public readonly stacks: Stack[] = [];
  private readonly perStack: number;
  private readonly prefix: string;
  private readonly env: StackProps['env'];
  private count = 0;

  constructor(scope: Construct, id: string, props: FxServiceStacksProps) {
    super(scope, id);
    this.perStack = props.servicesPerStack ?? 30;
    check(Number.isInteger(this.perStack) && this.perStack >= 1 && this.perStack <= 40, WHO, 'servicesPerStack', this.perStack,
      'an integer from 1 to 40 (at up to 25 KB of template per service, more risks the 1 MB template limit)');
    this.prefix = props.stackNamePrefix ?? id;
    this.env = props.env;
  }

  /** The stack the next service goes into. */
  public next(): Stack {
    if (this.count % this.perStack === 0) {
      const n = this.stacks.length + 1;
      this.stacks.push(new Stack(this, `${n}`, { env: this.env, stackName: `${this.prefix}${n}` }));
    }
    this.count++;
    return this.stacks[this.stacks.length - 1];
  }
}
