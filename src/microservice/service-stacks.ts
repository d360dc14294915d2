import { Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { check } from '../core/errors';

const WHO = 'FxServiceStacks';

/** Props of `FxServiceStacks`. */
export interface FxServiceStacksProps {
  /** Environment (account and region) of every service stack: the cluster's. */
  readonly env: StackProps['env'];
  /**
   * Services per stack. Each FxMicroservice costs 4 to 6 CloudFormation resources and one manifest,
   * so 80 keeps every stack well under CloudFormation's 500 resources and 1 MB template.
   *
   * @default 80
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
    this.perStack = props.servicesPerStack ?? 80;
    check(Number.isInteger(this.perStack) && this.perStack >= 1 && this.perStack <= 90, WHO, 'servicesPerStack', this.perStack,
      'an integer from 1 to 90 (6 resources per service must stay under 500 per stack with room for stack-level resources)');
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
