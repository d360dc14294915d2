// Conformance: what a cluster would see of a synthesized assembly. Other checks (e.g. a NetworkPolicy reachability
// model) plug in on the same objects:
//   const assembly = loadAssembly('cdk.out');                      // every stack, nested assembly-* dirs included
//   const rendered = await renderAll(assembly.releases, { repoRoot, chartsDir, apiVersions });
//   for (const { obj, source } of allObjects(assembly, rendered)) { ... }
// `obj` is plain JSON with metadata.namespace set on namespaced objects; `source` is { stack, logicalId, release?, template? }.
export { loadAssembly } from './assembly';
export type { Assembly, HelmRelease, ManifestResource, PodIdentity, IrsaTrust, K8sObject, ResourceId } from './assembly';
export { allObjects, podSpecsOf, containersOf, selectorMatches, subjectOf, isNamespaced } from './objects';
export type { SourcedObject, ObjectSource } from './objects';
export { renderAll, renderRelease, parseRendered } from './render';
export type { RenderedRelease } from './render';
export { K8sSchema } from './k8s-schema';
export { CrdIndex } from './crd-schema';
export { findingText, runChecks } from './checks';
export type { Finding } from './checks';
