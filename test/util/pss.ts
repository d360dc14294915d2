/**
 * Pod Security Standards "restricted" profile, checked on plain Kubernetes objects.
 * https://kubernetes.io/docs/concepts/security/pod-security-standards/ (v1.30+ rules).
 */

type Obj = Record<string, any>;

const ALLOWED_VOLUME_TYPES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);

/** The pod spec inside any workload object (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob). */
export function podSpecOf(obj: Obj): Obj | undefined {
  switch (obj.kind) {
    case 'Pod': return obj.spec;
    case 'Deployment': case 'StatefulSet': case 'DaemonSet': case 'ReplicaSet': case 'Job': return obj.spec?.template?.spec;
    case 'CronJob': return obj.spec?.jobTemplate?.spec?.template?.spec;
    default: return undefined;
  }
}

/** Violations of the restricted profile by one pod spec, as readable strings (empty when compliant). */
export function restrictedViolations(pod: Obj): string[] {
  const v: string[] = [];
  const podSc = pod.securityContext ?? {};
  for (const f of ['hostNetwork', 'hostPID', 'hostIPC']) if (pod[f] === true) v.push(`${f} is true`);
  for (const vol of pod.volumes ?? []) {
    const type = Object.keys(vol).find((k) => k !== 'name');
    if (!type || !ALLOWED_VOLUME_TYPES.has(type)) v.push(`volume ${vol.name} has type ${type}`);
  }
  if (podSc.runAsUser === 0) v.push('pod runAsUser is 0');
  const podSeccomp = podSc.seccompProfile?.type;
  if (podSeccomp !== undefined && !['RuntimeDefault', 'Localhost'].includes(podSeccomp)) v.push(`pod seccompProfile ${podSeccomp}`);
  const containers: Obj[] = [...(pod.initContainers ?? []), ...(pod.containers ?? []), ...(pod.ephemeralContainers ?? [])];
  if (containers.length === 0) v.push('no containers');
  for (const c of containers) {
    const sc = c.securityContext ?? {};
    const who = `container ${c.name}`;
    if (sc.privileged === true) v.push(`${who} is privileged`);
    if (sc.allowPrivilegeEscalation !== false) v.push(`${who} allowPrivilegeEscalation is not false`);
    const drop: string[] = sc.capabilities?.drop ?? [];
    if (!drop.includes('ALL')) v.push(`${who} does not drop ALL capabilities`);
    for (const cap of sc.capabilities?.add ?? []) if (cap !== 'NET_BIND_SERVICE') v.push(`${who} adds capability ${cap}`);
    const runAsNonRoot = sc.runAsNonRoot ?? podSc.runAsNonRoot;
    if (runAsNonRoot !== true) v.push(`${who} runAsNonRoot is not true`);
    if (sc.runAsUser === 0) v.push(`${who} runAsUser is 0`);
    const seccomp = sc.seccompProfile?.type ?? podSeccomp;
    if (!['RuntimeDefault', 'Localhost'].includes(seccomp)) v.push(`${who} seccompProfile is ${seccomp ?? 'unset'}`);
    for (const p of c.ports ?? []) if (p.hostPort) v.push(`${who} uses hostPort ${p.hostPort}`);
    if (sc.procMount && sc.procMount !== 'Default') v.push(`${who} procMount ${sc.procMount}`);
  }
  return v;
}

/** Violations of every workload in a list of objects, prefixed with `Kind/name`. */
export function restrictedViolationsOf(objects: Obj[]): string[] {
  return objects.flatMap((o) => {
    const pod = podSpecOf(o);
    return pod ? restrictedViolations(pod).map((x) => `${o.kind}/${o.metadata?.name}: ${x}`) : [];
  });
}

/** Number of workload objects (objects with a pod template) in the list. */
export function workloadCount(objects: Obj[]): number {
  return objects.filter((o) => podSpecOf(o) !== undefined).length;
}
