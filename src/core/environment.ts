import { Stack, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { FxValidationError } from './errors';

/** The account and region of a construct's stack, each `undefined` when it is a deploy-time token. */
function environmentOf(construct: IConstruct): { account?: string; region?: string } {
  const stack = Stack.of(construct);
  return {
    account: Token.isUnresolved(stack.account) ? undefined : stack.account,
    region: Token.isUnresolved(stack.region) ? undefined : stack.region,
  };
}

function describe(env: { account?: string; region?: string }): string {
  return `${env.account ?? '(any account)'}/${env.region ?? '(any region)'}`;
}

/**
 * Fails, in the library's words, when `construct` and `other` live in stacks of different
 * accounts or regions: CloudFormation cannot reference across environments, and aws-cdk-lib would
 * only say so later, naming generated ids. Environment-agnostic stacks are not judged (the CLI
 * may deploy them anywhere).
 *
 * @internal
 */
export function checkSameEnvironment(construct: IConstruct, who: string, prop: string, other: IConstruct): void {
  const mine = environmentOf(construct);
  const theirs = environmentOf(other);
  const differs = (a?: string, b?: string) => a !== undefined && b !== undefined && a !== b;
  if (differs(mine.account, theirs.account) || differs(mine.region, theirs.region)) {
    throw new FxValidationError(`${who} at ${construct.node.path}`, prop, other.node.path,
      `a construct in this stack's account and region ${describe(mine)} (${other.node.path} is in ${describe(theirs)}; `
      + 'CloudFormation cannot reference another account or region: deploy this construct beside it)');
  }
}

/**
 * Fails when exactly one of `construct`'s stack and `other`'s stack is environment-agnostic: a stack
 * deployed to any account and region cannot reference one pinned to an environment (aws-cdk-lib only
 * says so at synth, naming a generated resource). Both agnostic, or both pinned, pass. `noun` names what
 * `construct` is in the message (`this service's stack`).
 *
 * @internal
 */
export function checkEnvironmentKnown(construct: IConstruct, who: string, prop: string, other: IConstruct, noun: string): void {
  const [mine, theirs] = [Stack.of(construct), Stack.of(other)];
  if (mine === theirs) return;
  const agnostic = (stack: Stack) => Token.isUnresolved(stack.account) || Token.isUnresolved(stack.region);
  if (agnostic(mine) === agnostic(theirs)) return;
  const where = (stack: Stack) => (agnostic(stack) ? 'an environment-agnostic stack' : `${stack.account}/${stack.region}`);
  throw new FxValidationError(`${who} at ${construct.node.path}`, prop, other.node.path,
    `a construct in a stack of the same environment: this ${noun}'s stack ${mine.stackName} is in ${where(mine)}, ${other.node.path} in ${where(theirs)} `
    + `(give stack ${agnostic(mine) ? mine.stackName : theirs.stackName} an env with the account and region, e.g. env: { account, region })`);
}

/** Per app: `<kind> <account>/<region>` -> path of the construct that claimed it. */
const CLAIMS = new WeakMap<IConstruct, Map<string, string>>();

/**
 * Claims a resource AWS allows once per account and region (an AWS Config recorder) or once per
 * account (`regional` false: an IAM OIDC provider for one issuer): a second claim in the same app
 * and environment fails, naming the first. Claims in environment-agnostic stacks are not judged.
 *
 * @internal
 */
export function claimAccountSingleton(construct: IConstruct, who: string, prop: string, value: unknown, kind: string, instead: string,
  regional = true): void {
  const env = environmentOf(construct);
  if (env.account === undefined || (regional && env.region === undefined)) return;
  const root = construct.node.root;
  const claims = CLAIMS.get(root) ?? new Map<string, string>();
  CLAIMS.set(root, claims);
  const where = regional ? `${env.account}/${env.region}` : env.account;
  const key = `${kind} ${where}`;
  const first = claims.get(key);
  if (first !== undefined && first !== construct.node.path) {
    throw new FxValidationError(`${who} at ${construct.node.path}`, prop, value,
      `one ${kind} per ${regional ? 'account and region' : 'account (IAM is global)'}: ${first} already creates it in ${where}; ${instead}`);
  }
  claims.set(key, construct.node.path);
}
