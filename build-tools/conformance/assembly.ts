// Reads a synthesized cloud assembly (every stack template, nested `assembly-*` dirs included) into what
// conformance judges: Helm releases with their evaluated Values, the Kubernetes objects the library applies
// itself, Pod Identity associations, IRSA trusts, EKS add-ons, clusters, and the CloudFormation dependency graph.
import * as fs from 'fs';
import * as path from 'path';
import { DEFAULT_REGION, EvalContext, evaluate, evaluateValue } from './placeholders';

/** A Kubernetes object as plain JSON. */
export type K8sObject = Record<string, any>;
type Obj = Record<string, any>;

/** Where a resource sits: stack (template path relative to the assembly root, without `.template.json`) and logical id. */
export interface ResourceId {
  readonly stack: string;
  readonly logicalId: string;
}

/** One CloudFormation stack of the assembly. */
export interface StackInfo {
  readonly name: string;
  readonly artifactId: string;
  readonly templatePath: string;
  readonly template: Obj;
  readonly region: string;
  /** Names of the stacks this one deploys after (directly). */
  readonly dependencies: readonly string[];
}

/** A `Custom::AWSCDK-EKS-HelmChart` resource, its Values evaluated to plain JSON. */
export interface HelmRelease extends ResourceId {
  readonly chart: string;
  readonly version?: string;
  readonly release: string;
  readonly namespace: string;
  readonly createNamespace: boolean;
  readonly wait: boolean;
  /** Helm `--timeout` in seconds, when the release sets one. */
  readonly timeoutSeconds?: number;
  readonly timeoutText?: string;
  readonly skipCrds: boolean;
  readonly values: Obj;
  /** Why the Values could not be evaluated, if they could not. */
  readonly valuesError?: string;
  /** Kubernetes minor of the release's cluster, e.g. `1.35`. */
  readonly kubeVersion?: string;
  /** Lambda timeout (seconds) of the kubectl handler that runs this release: min of the provider function and the handler it calls. */
  readonly handlerTimeoutSeconds?: number;
}

/** A `Custom::AWSCDK-EKS-KubernetesResource`: the objects the library applies with kubectl. */
export interface ManifestResource extends ResourceId {
  readonly objects: readonly K8sObject[];
  readonly error?: string;
}

/** An `AWS::EKS::PodIdentityAssociation`. */
export interface PodIdentity extends ResourceId {
  readonly namespace: string;
  readonly serviceAccount: string;
}

/** An IAM role trusted by a cluster's OIDC provider for these `system:serviceaccount:<ns>:<name>` subjects. */
export interface IrsaTrust extends ResourceId {
  readonly subjects: readonly string[];
}

/** An `AWS::EKS::Addon`. */
export interface EksAddon extends ResourceId {
  readonly name: string;
  readonly version?: string;
}

/** An `AWS::EKS::Cluster` and its Kubernetes minor. */
export interface ClusterInfo extends ResourceId {
  readonly version: string;
}

/** Everything conformance reads from one cloud assembly. */
export interface Assembly {
  readonly dir: string;
  readonly stacks: readonly StackInfo[];
  readonly clusters: readonly ClusterInfo[];
  readonly releases: readonly HelmRelease[];
  readonly manifests: readonly ManifestResource[];
  readonly podIdentities: readonly PodIdentity[];
  readonly irsaTrusts: readonly IrsaTrust[];
  readonly addons: readonly EksAddon[];
  /** True when `from` is created after `to`: a DependsOn/Ref/GetAtt path in one stack, or a stack dependency. */
  dependsOn(from: ResourceId, to: ResourceId): boolean;
}

interface StackArtifact { name: string; artifactId: string; templatePath: string; region: string; deps: string[] }

function readStackArtifacts(root: string, dir: string, out: StackArtifact[]): void {
  const manifestPath = path.join(dir, 'manifest.json');
  if (!fs.existsSync(manifestPath)) throw new Error(`${dir} is not a cloud assembly (no manifest.json)`);
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  const local: { id: string; art: Obj }[] = Object.entries<Obj>(manifest.artifacts ?? {}).map(([id, art]) => ({ id, art }));
  const nameOf = new Map<string, string>();
  for (const { id, art } of local) {
    if (art.type === 'aws:cloudformation:stack') {
      const file = path.join(dir, art.properties.templateFile);
      nameOf.set(id, path.relative(root, file).replace(/\.template\.json$/, ''));
    }
  }
  for (const { id, art } of local) {
    if (art.type === 'aws:cloudformation:stack') {
      const region = /aws:\/\/[^/]+\/([^/]+)/.exec(art.environment ?? '')?.[1];
      out.push({
        name: nameOf.get(id)!,
        artifactId: id,
        templatePath: path.join(dir, art.properties.templateFile),
        region: region && region !== 'unknown-region' ? region : DEFAULT_REGION,
        deps: (art.dependencies ?? []).filter((d: string) => nameOf.has(d)).map((d: string) => nameOf.get(d)!),
      });
    } else if (art.type === 'cdk:cloud-assembly') {
      readStackArtifacts(root, path.join(dir, art.properties.directoryName), out);
    }
  }
}

/** Every Ref/GetAtt/Sub target inside a value (same-stack references). */
function referencedIds(value: unknown, out: Set<string>): void {
  if (Array.isArray(value)) { value.forEach((v) => referencedIds(v, out)); return; }
  if (!value || typeof value !== 'object') return;
  for (const [k, v] of Object.entries(value as Obj)) {
    if (k === 'Ref' && typeof v === 'string') {
      out.add(v);
    } else if (k === 'Fn::GetAtt') {
      out.add(Array.isArray(v) ? v[0] : String(v).split('.')[0]);
    } else if (k === 'Fn::Sub') {
      const tpl = Array.isArray(v) ? v[0] : v;
      for (const m of String(tpl).matchAll(/\$\{([^}.!]+)[^}]*\}/g)) out.add(m[1]);
      if (Array.isArray(v)) referencedIds(v[1], out);
    } else {
      referencedIds(v, out);
    }
  }
}

/** Parses a Helm/Go duration (`600s`, `15m`, `1h2m3s`) to seconds. */
export function durationSeconds(text: string): number | undefined {
  const m = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+(?:\.\d+)?)s)?$/.exec(text.trim());
  if (!m || text.trim() === '') return undefined;
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

function truthy(v: unknown): boolean {
  return v === true || v === 'true';
}

/** Loads a cloud assembly directory (as written by `app.synth()` / `cdk synth --output`). */
export function loadAssembly(dir: string): Assembly {
  const root = path.resolve(dir);
  const arts: StackArtifact[] = [];
  readStackArtifacts(root, root, arts);
  const stacks: StackInfo[] = arts.map((a) => ({
    name: a.name,
    artifactId: a.artifactId,
    templatePath: a.templatePath,
    region: a.region,
    dependencies: a.deps,
    template: JSON.parse(fs.readFileSync(a.templatePath, 'utf8')),
  }));
  const byName = new Map(stacks.map((s) => [s.name, s]));

  // Export name → (stack, value) so Fn::ImportValue resolves to the exporting stack's evaluated value.
  const exports = new Map<string, { stack: StackInfo; value: unknown }>();
  const contexts = new Map<string, EvalContext>();
  const ctxOf = (s: StackInfo): EvalContext => {
    let c = contexts.get(s.name);
    if (!c) {
      c = {
        stackName: s.artifactId,
        region: s.region,
        resources: s.template.Resources ?? {},
        parameters: s.template.Parameters ?? {},
        importValue: (name) => {
          const e = exports.get(name);
          if (!e) throw new Error(`no stack exports ${name}`);
          return evaluate(e.value, ctxOf(e.stack));
        },
      };
      contexts.set(s.name, c);
    }
    return c;
  };
  for (const s of stacks) {
    for (const out of Object.values<Obj>(s.template.Outputs ?? {})) {
      if (out.Export?.Name !== undefined) exports.set(evaluate(out.Export.Name, ctxOf(s)), { stack: s, value: out.Value });
    }
  }
  // The resource a value points at (GetAtt/Ref), following Fn::ImportValue into the exporting stack.
  const targetOf = (s: StackInfo, value: unknown): { stack: StackInfo; logicalId: string } | undefined => {
    const v = value as Obj | undefined;
    if (!v || typeof v !== 'object') return undefined;
    if (typeof v.Ref === 'string') return { stack: s, logicalId: v.Ref };
    if (v['Fn::GetAtt']) return { stack: s, logicalId: Array.isArray(v['Fn::GetAtt']) ? v['Fn::GetAtt'][0] : String(v['Fn::GetAtt']).split('.')[0] };
    if (v['Fn::ImportValue'] !== undefined) {
      const e = exports.get(evaluate(v['Fn::ImportValue'], ctxOf(s)));
      return e ? targetOf(e.stack, e.value) : undefined;
    }
    return undefined;
  };

  const clusters: ClusterInfo[] = [];
  const releases: HelmRelease[] = [];
  const manifests: ManifestResource[] = [];
  const podIdentities: PodIdentity[] = [];
  const irsaTrusts: IrsaTrust[] = [];
  const addons: EksAddon[] = [];
  for (const s of stacks) {
    for (const [id, r] of Object.entries<Obj>(s.template.Resources ?? {})) {
      if (r.Type === 'AWS::EKS::Cluster') clusters.push({ stack: s.name, logicalId: id, version: String(evaluate(r.Properties?.Version ?? '', ctxOf(s))) });
    }
  }
  const clusterVersion = (s: StackInfo, clusterName: unknown): string | undefined => {
    const t = targetOf(s, clusterName);
    const c = t && clusters.find((x) => x.stack === t.stack.name && x.logicalId === t.logicalId);
    return c?.version ?? (clusters.length === 1 ? clusters[0].version : undefined);
  };
  const functionTimeout = (s: StackInfo, token: unknown, depth = 0): number | undefined => {
    const t = targetOf(s, token);
    const fn = t?.stack.template.Resources?.[t.logicalId];
    if (!t || !fn || fn.Type !== 'AWS::Lambda::Function') return undefined;
    const own = Number(fn.Properties?.Timeout ?? 3);
    const inner = depth < 3 ? functionTimeout(t.stack, fn.Properties?.Environment?.Variables?.USER_ON_EVENT_FUNCTION_ARN, depth + 1) : undefined;
    return inner === undefined ? own : Math.min(own, inner);
  };

  for (const s of stacks) {
    const ctx = ctxOf(s);
    for (const [logicalId, r] of Object.entries<Obj>(s.template.Resources ?? {})) {
      const p: Obj = r.Properties ?? {};
      const at = { stack: s.name, logicalId };
      if (r.Type === 'Custom::AWSCDK-EKS-HelmChart') {
        let values: Obj = {};
        let valuesError: string | undefined;
        try {
          values = p.Values === undefined ? {} : JSON.parse(evaluate(p.Values, ctx));
        } catch (e) {
          valuesError = (e as Error).message;
        }
        const timeoutText = p.Timeout === undefined ? undefined : evaluate(p.Timeout, ctx);
        releases.push({
          ...at,
          chart: evaluate(p.Chart, ctx),
          version: p.Version === undefined ? undefined : evaluate(p.Version, ctx),
          release: evaluate(p.Release ?? logicalId, ctx),
          namespace: p.Namespace === undefined ? 'default' : evaluate(p.Namespace, ctx),
          createNamespace: truthy(p.CreateNamespace),
          wait: truthy(p.Wait),
          timeoutText,
          timeoutSeconds: timeoutText === undefined ? undefined : durationSeconds(timeoutText),
          skipCrds: truthy(p.SkipCrds),
          values,
          valuesError,
          kubeVersion: clusterVersion(s, p.ClusterName),
          handlerTimeoutSeconds: functionTimeout(s, p.ServiceToken),
        });
      } else if (r.Type === 'Custom::AWSCDK-EKS-KubernetesResource') {
        try {
          const objects = JSON.parse(evaluate(p.Manifest, ctx));
          manifests.push({ ...at, objects: Array.isArray(objects) ? objects : [objects] });
        } catch (e) {
          manifests.push({ ...at, objects: [], error: (e as Error).message });
        }
      } else if (r.Type === 'AWS::EKS::PodIdentityAssociation') {
        podIdentities.push({ ...at, namespace: evaluate(p.Namespace, ctx), serviceAccount: evaluate(p.ServiceAccount, ctx) });
      } else if (r.Type === 'AWS::EKS::Addon') {
        addons.push({ ...at, name: evaluate(p.AddonName, ctx), version: p.AddonVersion === undefined ? undefined : evaluate(p.AddonVersion, ctx) });
      } else if (r.Type === 'AWS::IAM::Role') {
        const subjects = new Set<string>();
        // The trust may be a JSON string (or a join of one) rather than an object: CloudFormation accepts both.
        const trust = p.AssumeRolePolicyDocument;
        const trustDoc = trust === undefined || (typeof trust === 'object' && !('Fn::Join' in trust)) ? trust : JSON.parse(evaluate(trust, ctx));
        for (const st of trustDoc?.Statement ?? []) {
          const actions: string[] = [].concat(st.Action ?? []);
          if (!actions.includes('sts:AssumeRoleWithWebIdentity') || st.Condition === undefined) continue;
          const cond = evaluateValue(st.Condition, ctx) as Obj;
          for (const op of Object.values<unknown>(cond)) {
            const m = (typeof op === 'string' ? JSON.parse(op) : op) as Obj;
            for (const [key, val] of Object.entries<unknown>(m ?? {})) {
              if (!key.endsWith(':sub')) continue;
              for (const v of ([] as unknown[]).concat(val)) if (typeof v === 'string' && v.startsWith('system:serviceaccount:')) subjects.add(v);
            }
          }
        }
        if (subjects.size > 0) irsaTrusts.push({ ...at, subjects: [...subjects] });
      }
    }
  }

  // Dependency graph: DependsOn plus references, per stack; across stacks, the stack dependency closure.
  const edges = new Map<string, Map<string, Set<string>>>();
  for (const s of stacks) {
    const m = new Map<string, Set<string>>();
    for (const [id, r] of Object.entries<Obj>(s.template.Resources ?? {})) {
      const out = new Set<string>([].concat(r.DependsOn ?? []));
      referencedIds(r.Properties, out);
      m.set(id, out);
    }
    edges.set(s.name, m);
  }
  const stackClosure = new Map<string, Set<string>>();
  const stackDeps = (name: string): Set<string> => {
    let c = stackClosure.get(name);
    if (c) return c;
    c = new Set();
    stackClosure.set(name, c);
    for (const d of byName.get(name)?.dependencies ?? []) { c.add(d); for (const x of stackDeps(d)) c.add(x); }
    return c;
  };
  const reach = new Map<string, Set<string>>();
  const reachable = (stack: string, id: string): Set<string> => {
    const key = `${stack}\0${id}`;
    let r = reach.get(key);
    if (r) return r;
    r = new Set();
    const todo = [id];
    const m = edges.get(stack);
    while (todo.length) {
      const x = todo.pop()!;
      for (const y of m?.get(x) ?? []) if (!r.has(y)) { r.add(y); todo.push(y); }
    }
    reach.set(key, r);
    return r;
  };
  const dependsOn = (from: ResourceId, to: ResourceId): boolean => {
    if (from.stack !== to.stack) return stackDeps(from.stack).has(to.stack);
    return reachable(from.stack, from.logicalId).has(to.logicalId);
  };

  return { dir: root, stacks, clusters, releases, manifests, podIdentities, irsaTrusts, addons, dependsOn };
}
