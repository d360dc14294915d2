import { Token } from 'aws-cdk-lib';
import { FxAddonName, FxAddonSelection, IFxAddon } from './addon';
import { check, runningConstruct } from '../core/errors';
import { noteRemovedAddon } from '../core/install-order';
import { FxHelmChartVersion } from '../core/versions';

/**
 * Composes the add-ons to install: the defaults less `remove`, `replace` in place of their
 * namesakes, then `extra`.
 *
 * @internal
 */
export function selectAddons(who: string, defaults: IFxAddon[], selection: FxAddonSelection = {}): IFxAddon[] {
  const names = new Set(defaults.map((a) => a.name));
  (selection.remove ?? []).forEach((name, i, all) => {
    check(names.has(name), who, 'addons.remove', name, `names of default add-ons of this cluster: ${[...names].join(', ')}`);
    check(all.indexOf(name) === i, who, `addons.remove[${i}]`, name, `each add-on once (it is addons.remove[${all.indexOf(name)}] already)`);
  });
  const replacements = new Map<string, IFxAddon>();
  for (const addon of selection.replace ?? []) {
    check(names.has(addon.name), who, 'addons.replace', addon.name, `names of default add-ons of this cluster: ${[...names].join(', ')}`);
    check(!(selection.remove ?? []).includes(addon.name), who, 'addons.replace', addon.name, 'an add-on not also in addons.remove');
    check(!replacements.has(addon.name), who, 'addons.replace', addon.name, 'one replacement per add-on');
    replacements.set(addon.name, addon);
  }
  // A need of what a removed add-on provided then names the add-on to keep.
  const cluster = runningConstruct();
  for (const addon of defaults) {
    if (cluster && (selection.remove ?? []).includes(addon.name)) {
      noteRemovedAddon(cluster, addon.name, addon.provides, `addons.remove of ${who} at ${cluster.node.path}`);
    }
  }
  const kept = defaults.filter((a) => !(selection.remove ?? []).includes(a.name)).map((a) => replacements.get(a.name) ?? a);
  const installed = new Set(kept.map((a) => a.name));
  for (const [i, addon] of (selection.extra ?? []).entries()) {
    // Two of one add-on would install two Helm releases of the same chart into one namespace.
    check(!installed.has(addon.name), who, `addons.extra[${i}]`, addon.name,
      'an add-on the cluster does not install already (use addons.replace to swap a default add-on for your own)');
    installed.add(addon.name);
  }
  // Two node autoscalers would both scale the same capacity and fight over it.
  check(!(installed.has(FxAddonName.KARPENTER) && installed.has(FxAddonName.CLUSTER_AUTOSCALER)), who, 'addons.extra',
    [FxAddonName.CLUSTER_AUTOSCALER, FxAddonName.KARPENTER], 'one node autoscaler: Karpenter or cluster-autoscaler, not both (set nodeAutoscaler instead)');
  return [...kept, ...(selection.extra ?? [])];
}

/**
 * `extra` deep-merged over `base`: plain objects merge key by key, anything else in `extra`
 * (arrays, scalars, tokens) replaces.
 *
 * @internal
 */
export function mergeValues(base: { [key: string]: any }, extra: { [key: string]: any } | undefined): { [key: string]: any } {
  if (!extra) return base;
  check(isPlainObject(extra) || Token.isUnresolved(extra), 'FxCluster', 'values', extra,
    "a plain object of Helm values, deep-merged over the add-on's own (e.g. { resources: { limits: { memory: '1Gi' } } })");
  const out: { [key: string]: any } = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? mergeValues(current, value) : value;
  }
  return out;
}

/** The chart with the version override, if any. @internal */
export function withVersion(chart: FxHelmChartVersion, version: string | undefined): FxHelmChartVersion {
  return version === undefined ? chart : { ...chart, version };
}

function isPlainObject(x: unknown): x is { [key: string]: any } {
  return x !== null && typeof x === 'object' && !Array.isArray(x) && Object.getPrototypeOf(x) === Object.prototype;
}
