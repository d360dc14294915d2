import * as ec2 from 'aws-cdk-lib/aws-ec2';

/**
 * EC2 instance families aws-cdk-lib knows (`ec2.InstanceClass` short names such as `m7g`; the
 * long aliases such as `standard5` are not instance type prefixes).
 */
const FAMILIES = new Set<string>(Object.values(ec2.InstanceClass).filter((v) => /^[a-z]{1,4}\d/.test(v) || v.startsWith('u-')));
const SIZES = new Set<string>(Object.values(ec2.InstanceSize));
const BURSTABLE_SIZES = new Set(['nano', 'micro', 'small', 'medium', 'large', 'xlarge', '2xlarge']);

/** Whether `family` is an EC2 instance family aws-cdk-lib knows (`m7g`, `c7i`). @internal */
export function isInstanceFamily(family: string): boolean {
  return FAMILIES.has(family);
}

/**
 * Why an instance type name (`m7g.large`, or `db.m7g.large` with `prefix: 'db.'`) is not a real
 * one: `undefined` when family and size both exist, else a short reason.
 *
 * @internal
 */
export function instanceTypeProblem(name: string, prefix: string = ''): string | undefined {
  if (!name.startsWith(prefix)) return `it does not start with '${prefix}'`;
  const parts = name.slice(prefix.length).split('.');
  if (parts.length !== 2) return `it is not '${prefix}<family>.<size>'`;
  const [family, size] = parts;
  if (!FAMILIES.has(family)) return `there is no instance family '${family}'`;
  if (!SIZES.has(size)) return `there is no size '${size}'`;
  // Sizes that exist in no family of the kind: burstable T families stop at 2xlarge and have no
  // metal; nano and micro exist only in T families; Mac instances are metal only.
  if (/^t\d/.test(family) && !BURSTABLE_SIZES.has(size)) return `burstable family '${family}' has sizes nano to 2xlarge only, not '${size}'`;
  if (!/^t\d/.test(family) && (size === 'nano' || size === 'micro')) return `size '${size}' exists only in burstable T families, not in '${family}'`;
  if (family.startsWith('mac') && !size.startsWith('metal')) return `Mac family '${family}' has metal sizes only, not '${size}'`;
  return undefined;
}
