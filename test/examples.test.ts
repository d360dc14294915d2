import { Template } from 'aws-cdk-lib/assertions';
import { createClusterExample } from '../examples/cluster/app';
import { exampleApp } from '../examples/common';
import { normalisedTemplate } from './util/snapshot';

describe('example: cluster', () => {
  let template: Template;
  let snapshot: unknown;
  beforeAll(() => {
    // The same app the CLI synthesizes (cdk-nag registered), without the built-in CloudFormation validation.
    const app = exampleApp({ builtinCloudFormationValidation: false });
    const stack = createClusterExample(app);
    app.synth();
    template = Template.fromStack(stack);
    snapshot = normalisedTemplate(stack);
  });

  test('synthesizes the production cluster', () => {
    template.resourceCountIs('AWS::EC2::NatGateway', 3);
    template.hasResourceProperties('AWS::EKS::Cluster', { Version: '1.35' });
  });

  test('matches the snapshot', () => {
    expect(snapshot).toMatchSnapshot();
  });
});
