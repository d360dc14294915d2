import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { FxCluster, FxImage, FxMicroservice } from '../src';
import { check, FxValidationError, nonInternetRangeOf, isIpv4Network, trackConstruct } from '../src/core/errors';

class Outer extends Construct {
  constructor(scope: Construct, id: string, port: number) {
    super(scope, id);
    trackConstruct(this);
    new Inner(this, 'Inner', port);
  }
}
class Inner extends Construct {
  constructor(scope: Construct, id: string, port: number) {
    super(scope, id);
    validatePort(port);
  }
}
function validatePort(port: number): void {
  check(Number.isInteger(port) && port > 0, 'Outer', 'port', port, 'an integer from 1 to 65535');
}

describe('FxValidationError', () => {
  test('names the path of the tracked construct whose constructor raised it, from any depth', () => {
    const stack = new Stack(new App(), 'Platform');
    const services = new Construct(stack, 'Services');
    expect(() => new Outer(services, 'Orders', 0)).toThrow('Outer at Platform/Services/Orders: invalid port 0; allowed: an integer from 1 to 65535');
    // A second instance: its own path, not the first one's.
    expect(() => new Outer(services, 'Billing', -1)).toThrow(/^Outer at Platform\/Services\/Billing: invalid port -1/);
  });

  test('outside a tracked constructor there is no path', () => {
    expect(() => validatePort(0)).toThrow(/^Outer: invalid port 0/);
  });

  test('prints the value as given: NaN and Infinity, not null', () => {
    expect(new FxValidationError('X', 'replicas', NaN, 'an integer').message).toBe('X: invalid replicas NaN; allowed: an integer');
    expect(new FxValidationError('X', 'replicas', Infinity, 'an integer').message).toContain('invalid replicas Infinity;');
    expect(new FxValidationError('X', 'name', undefined, 'a name').message).toContain('invalid name (undefined);');
  });
});

describe('CIDR helpers', () => {
  test.each([['10.0.0.0/16', true], ['10.0.0.5/16', false], ['0.0.0.0/0', true], ['192.168.1.128/25', true], ['192.168.1.129/25', false], ['x', false]])(
    'isIpv4Network(%s) = %s', (cidr, expected) => expect(isIpv4Network(cidr)).toBe(expected));
  test.each([['203.0.113.0/24', undefined], ['0.0.0.0/0', undefined], ['10.1.0.0/16', '10.0.0.0/8'], ['172.20.0.0/16', '172.16.0.0/12'],
    ['169.254.170.23/32', '169.254.0.0/16'], ['127.0.0.1/32', '127.0.0.0/8'], ['100.100.0.0/16', '100.64.0.0/10'], ['224.0.0.1/32', '224.0.0.0/4']])(
    'nonInternetRangeOf(%s) = %s', (cidr, expected) => expect(nonInternetRangeOf(cidr)).toBe(expected));
});

describe('errors of the Fx constructs name their construct path', () => {
  const env = { account: '123456789012', region: 'us-east-1' };
  const context = { 'availability-zones:account=123456789012:region=us-east-1': ['us-east-1a', 'us-east-1b', 'us-east-1c'] };

  test('FxCluster, raised in a helper below the constructor', () => {
    const stack = new Stack(new App({ context }), 'Platform', { env });
    expect(() => new FxCluster(stack, 'Cluster', { vpcCidr: '10.0.0.0/24' }))
      .toThrow(/^FxCluster at Platform\/Cluster: invalid vpcCidr '10.0.0.0\/24'; allowed: a \/16 block/);
    expect(() => new FxCluster(stack, 'Other', { nodeGroups: [{ name: 'a', instanceTypes: [new ec2.InstanceType('m9z.large')] }] }))
      .toThrow(/^FxCluster at Platform\/Other: invalid nodeGroups\[0\]\.instanceTypes 'm9z.large'/);
  });

  test('FxMicroservice among many: the one whose props are wrong', () => {
    const stack = new Stack(new App({ context, builtinCloudFormationValidation: false }), 'Platform', { env });
    const cluster = new FxCluster(stack, 'Cluster');
    const services = new Construct(stack, 'Services');
    const image = FxImage.fromRegistry('ghcr.io/acme/api:1.0.0');
    new FxMicroservice(services, 'Billing', { cluster, image, serviceName: 'billing' });
    expect(() => new FxMicroservice(services, 'Orders', { cluster, image, serviceName: 'orders', port: 0 }))
      .toThrow(/^FxMicroservice at Platform\/Services\/Orders: invalid port 0; allowed: /);
  });
});
