import * as ec2 from 'aws-cdk-lib/aws-ec2';

/**
 * The sizes of each EC2 instance family, as the EC2 API lists its instance types (current
 * generations; families, each with the same sizes, then the sizes smallest first). A family that is
 * not listed (newer than this table) is checked against the rules that hold for every family only.
 */
const SIZES_BY_FAMILY: [families: string, sizes: string][] = [
  ['c8a c8g c8gb c8gd c8gn m8a m8g m8gb', 'medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl'],
  ['m8gd m8gn r8a r8g r8gd r8gn x8g', 'medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl'],
  ['c6g c6gd c7g c7gd c7gn m6g m6gd m7g m7gd r6g r6gd r7g r7gd x2gd', 'medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge metal'],
  ['c6i c6id c6in i4i m6i m6id m6idn m6in r6i r6id r6idn r6in', 'large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge metal'],
  ['m5 m5d m5dn m5n r5 r5b r5d r5dn r5n', 'large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge metal'],
  ['mac-m4 mac-m4max mac-m4pro mac1 mac2 mac2-m1ultra mac2-m2 mac2-m2pro', 'metal'],
  ['c5a c5ad m5a m5ad r5a r5ad', 'large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge'],
  ['c8i c8id m8i m8id r8i', 'large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge 96xlarge metal-48xl metal-96xl'],
  ['r8id', 'large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge 96xlarge metal-48xl metal-96xl'],
  ['u7i-12tb u7ib-12tb u7in-16tb u7in-24tb u7in-32tb', '224xlarge'],
  ['dl1 dl2q p3dn p4d p4de', '24xlarge'],
  ['hpc6a p5e p5en p6-b200 p6-b300', '48xlarge'],
  ['c7i-flex c8i-flex m7i-flex m8i-flex r8i-flex', 'large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge'],
  ['u-12tb1 u-18tb1 u-24tb1 u-9tb1', '112xlarge metal'],
  ['c7i i7i m7i r7i', 'large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl'],
  ['t2 t3 t3a t4g', 'nano micro small medium large xlarge 2xlarge'],
  ['c3 c4 r3', 'large xlarge 2xlarge 4xlarge 8xlarge'],
  ['c6a m6a r6a', 'large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge metal'],
  ['i4g im4gn r4', 'large xlarge 2xlarge 4xlarge 8xlarge 16xlarge'],
  ['c7a m7a r7a', 'medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge metal-48xl'],
  ['g5 g6 g6e', 'xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge'],
  ['u7i-6tb u7i-8tb', '112xlarge'],
  ['hpc6id trn1n', '32xlarge'],
  ['g3 hpc7g', '4xlarge 8xlarge 16xlarge'],
  ['i7ie i8ge', 'large xlarge 2xlarge 3xlarge 6xlarge 12xlarge 18xlarge 24xlarge 48xlarge metal-24xl metal-48xl'],
  ['m5zn z1d', 'large xlarge 2xlarge 3xlarge 6xlarge 12xlarge metal'],
  ['c5 c5d', 'large xlarge 2xlarge 4xlarge 9xlarge 12xlarge 18xlarge 24xlarge metal'],
  ['d2 d3', 'xlarge 2xlarge 4xlarge 8xlarge'],
  ['hpc7a', '12xlarge 24xlarge 48xlarge 96xlarge'],
  ['x2idn', '16xlarge 24xlarge 32xlarge metal'],
  ['x1', '16xlarge 32xlarge'],
  ['trn1', '2xlarge 32xlarge'],
  ['f1', '2xlarge 4xlarge 16xlarge'],
  ['x2iezn', '2xlarge 4xlarge 6xlarge 8xlarge 12xlarge metal'],
  ['g7e', '2xlarge 4xlarge 8xlarge 12xlarge 24xlarge 48xlarge'],
  ['h1', '2xlarge 4xlarge 8xlarge 16xlarge'],
  ['p3', '2xlarge 8xlarge 16xlarge'],
  ['p6e-gb200', '36xlarge'],
  ['trn2', '3xlarge 48xlarge'],
  ['vt1', '3xlarge 6xlarge 24xlarge'],
  ['u7inh-32tb', '480xlarge'],
  ['gr6f', '4xlarge'],
  ['p5', '4xlarge 48xlarge'],
  ['gr6', '4xlarge 8xlarge'],
  ['u-3tb1', '56xlarge'],
  ['u-6tb1', '56xlarge 112xlarge metal'],
  ['f2', '6xlarge 12xlarge 48xlarge'],
  ['hpc8a', '96xlarge'],
  ['i3en', 'large xlarge 2xlarge 3xlarge 6xlarge 12xlarge 24xlarge metal'],
  ['g6f', 'large xlarge 2xlarge 4xlarge'],
  ['m4', 'large xlarge 2xlarge 4xlarge 10xlarge 16xlarge'],
  ['x8i', 'large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge 64xlarge 96xlarge metal-48xl metal-96xl'],
  ['i8g', 'large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl'],
  ['r7iz', 'large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 32xlarge metal-16xl metal-32xl'],
  ['i3', 'large xlarge 2xlarge 4xlarge 8xlarge 16xlarge metal'],
  ['c5n', 'large xlarge 2xlarge 4xlarge 9xlarge 18xlarge metal'],
  ['x8aedz', 'large xlarge 3xlarge 6xlarge 12xlarge 24xlarge metal-12xl metal-24xl'],
  ['m3', 'medium large xlarge 2xlarge'],
  ['is4gen', 'medium large xlarge 2xlarge 4xlarge 8xlarge'],
  ['c6gn', 'medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge'],
  ['r8gb', 'medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge metal-24xl'],
  ['a1', 'medium large xlarge 2xlarge 4xlarge metal'],
  ['m8azn', 'medium large xlarge 3xlarge 6xlarge 12xlarge 24xlarge metal-12xl metal-24xl'],
  ['g3s', 'xlarge'],
  ['d3en', 'xlarge 2xlarge 4xlarge 6xlarge 8xlarge 12xlarge'],
  ['g4dn', 'xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge metal'],
  ['g4ad', 'xlarge 2xlarge 4xlarge 8xlarge 16xlarge'],
  ['x2iedn', 'xlarge 2xlarge 4xlarge 8xlarge 16xlarge 24xlarge 32xlarge metal'],
  ['x1e', 'xlarge 2xlarge 4xlarge 8xlarge 16xlarge 32xlarge'],
  ['g5g', 'xlarge 2xlarge 4xlarge 8xlarge 16xlarge metal'],
  ['inf1', 'xlarge 2xlarge 6xlarge 24xlarge'],
  ['p2', 'xlarge 8xlarge 16xlarge'],
  ['inf2', 'xlarge 8xlarge 24xlarge 48xlarge'],
];
const FAMILY_SIZES = new Map<string, Set<string>>(
  SIZES_BY_FAMILY.flatMap(([families, sizes]) => families.split(' ').map((f) => [f, new Set(sizes.split(' '))] as [string, Set<string>])));

/**
 * EC2 instance families aws-cdk-lib knows (`ec2.InstanceClass` short names such as `m7g`; the
 * long aliases such as `standard5` are not instance type prefixes), and those of the table above.
 */
const FAMILIES = new Set<string>([
  ...Object.values(ec2.InstanceClass).filter((v) => /^[a-z]{1,4}\d/.test(v) || v.startsWith('u-')),
  ...FAMILY_SIZES.keys(),
]);
const SIZES = new Set<string>([...Object.values(ec2.InstanceSize), ...[...FAMILY_SIZES.values()].flatMap((s) => [...s])]);
const BURSTABLE_SIZES = new Set(['nano', 'micro', 'small', 'medium', 'large', 'xlarge', '2xlarge']);

/** Whether `family` is an EC2 instance family aws-cdk-lib or the size table knows (`m7g`, `c7i`). @internal */
export function isInstanceFamily(family: string): boolean {
  return FAMILIES.has(family);
}

/** Whether `size` is the size of some EC2 instance family (`large`, `metal-48xl`). @internal */
export function isInstanceSize(size: string): boolean {
  return SIZES.has(size);
}

/**
 * Why an instance type name (`m7g.large`, or `db.m7g.large` with `prefix: 'db.'`) is not a real
 * one: `undefined` when family and size both exist, else a short reason. EC2 names (no prefix)
 * are also checked against the sizes of their family.
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
  // RDS classes (a prefix) come in fewer sizes than their EC2 family: their own checks say which.
  const sizes = prefix === '' ? FAMILY_SIZES.get(family) : undefined;
  if (sizes && !sizes.has(size)) return `family '${family}' has sizes ${[...sizes].join(', ')}, not '${size}'`;
  return undefined;
}
