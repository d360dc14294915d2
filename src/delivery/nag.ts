import { Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * cdk-nag findings FxGithubDeployRole accepts on purpose, acknowledged on the one construct each is about.
 *
 * @internal
 */
export function acknowledgeDeployRoleFindings(role: IConstruct): void {
  const policy = role.node.tryFindChild('DefaultPolicy');
  if (!policy) return;
  Validations.of(policy).acknowledge({
    id: 'NIST.800.53.R5-IAMNoInlinePolicy',
    reason: 'The deploy role\'s only statement (sts:AssumeRole/TagSession on the four CDK bootstrap roles of this account and region) '
      + 'stays inline on that role: a customer managed policy could be attached to other principals.',
  });
}
