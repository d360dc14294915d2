// Pod Security Standards (https://kubernetes.io/docs/concepts/security/pod-security-standards/), the checks the
// PodSecurity admission controller enforces, at the `baseline` and `restricted` levels, on plain pod specs.
// Pod templates are judged like the pods they create: a rejected pod is a Deployment that never becomes ready.
type Obj = Record<string, any>;

/** A Pod Security level, as in the `pod-security.kubernetes.io/enforce` label. */
export type PssLevel = 'privileged' | 'baseline' | 'restricted';

const BASELINE_CAPABILITIES = new Set([
  'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT',
]);
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start', 'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes',
]);
const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);
const RESTRICTED_VOLUMES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);

function containersOf(pod: Obj): Obj[] {
  return [...(pod.initContainers ?? []), ...(pod.containers ?? []), ...(pod.ephemeralContainers ?? [])];
}

function appArmorOk(p: Obj | undefined): boolean {
  return p?.type === undefined || p.type === 'RuntimeDefault' || p.type === 'Localhost';
}

/** Violations of the baseline level by a pod spec (and the pod's annotations, for AppArmor). */
export function baselineViolations(pod: Obj, annotations: Record<string, string> = {}): string[] {
  const v: string[] = [];
  const psc: Obj = pod.securityContext ?? {};
  if (psc.windowsOptions?.hostProcess === true) v.push('pod windowsOptions.hostProcess is true');
  for (const f of ['hostNetwork', 'hostPID', 'hostIPC']) if (pod[f] === true) v.push(`${f} is true`);
  for (const vol of pod.volumes ?? []) if (vol.hostPath) v.push(`volume ${vol.name} is a hostPath (${vol.hostPath.path})`);
  if (!appArmorOk(psc.appArmorProfile)) v.push(`pod appArmorProfile ${psc.appArmorProfile.type}`);
  for (const [k, val] of Object.entries(annotations)) {
    if (k.startsWith('container.apparmor.security.beta.kubernetes.io/') && val !== 'runtime/default' && !val.startsWith('localhost/')) v.push(`annotation ${k}=${val}`);
  }
  const se = (o: Obj | undefined, who: string): void => {
    if (!o) return;
    if (!SELINUX_TYPES.has(o.type ?? '')) v.push(`${who} seLinuxOptions.type ${o.type}`);
    if (o.user) v.push(`${who} seLinuxOptions.user is set`);
    if (o.role) v.push(`${who} seLinuxOptions.role is set`);
  };
  se(psc.seLinuxOptions, 'pod');
  if (psc.seccompProfile?.type === 'Unconfined') v.push('pod seccompProfile Unconfined');
  for (const s of psc.sysctls ?? []) if (!SAFE_SYSCTLS.has(s.name)) v.push(`sysctl ${s.name} is not safe`);
  for (const c of containersOf(pod)) {
    const sc: Obj = c.securityContext ?? {};
    const who = `container ${c.name}`;
    if (sc.windowsOptions?.hostProcess === true) v.push(`${who} windowsOptions.hostProcess is true`);
    if (sc.privileged === true) v.push(`${who} is privileged`);
    for (const cap of sc.capabilities?.add ?? []) if (!BASELINE_CAPABILITIES.has(cap)) v.push(`${who} adds capability ${cap}`);
    for (const p of c.ports ?? []) if (p.hostPort) v.push(`${who} uses hostPort ${p.hostPort}`);
    if (!appArmorOk(sc.appArmorProfile)) v.push(`${who} appArmorProfile ${sc.appArmorProfile.type}`);
    se(sc.seLinuxOptions, who);
    if (sc.procMount !== undefined && sc.procMount !== 'Default') v.push(`${who} procMount ${sc.procMount}`);
    if (sc.seccompProfile?.type === 'Unconfined') v.push(`${who} seccompProfile Unconfined`);
  }
  return v;
}

/** Violations of the restricted level beyond baseline. */
export function restrictedOnlyViolations(pod: Obj): string[] {
  const v: string[] = [];
  const psc: Obj = pod.securityContext ?? {};
  for (const vol of pod.volumes ?? []) {
    const type = Object.keys(vol).find((k) => k !== 'name');
    if (!type || !RESTRICTED_VOLUMES.has(type)) v.push(`volume ${vol.name} has type ${type}`);
  }
  if (psc.runAsUser === 0) v.push('pod runAsUser is 0');
  const podSeccomp = psc.seccompProfile?.type;
  for (const c of containersOf(pod)) {
    const sc: Obj = c.securityContext ?? {};
    const who = `container ${c.name}`;
    if (sc.allowPrivilegeEscalation !== false) v.push(`${who} allowPrivilegeEscalation is not false`);
    if ((sc.runAsNonRoot ?? psc.runAsNonRoot) !== true) v.push(`${who} runAsNonRoot is not true`);
    if (sc.runAsUser === 0) v.push(`${who} runAsUser is 0`);
    const seccomp = sc.seccompProfile?.type ?? podSeccomp;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') v.push(`${who} seccompProfile is ${seccomp ?? 'unset'} (RuntimeDefault or Localhost required)`);
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) v.push(`${who} does not drop ALL capabilities`);
    for (const cap of sc.capabilities?.add ?? []) if (cap !== 'NET_BIND_SERVICE') v.push(`${who} adds capability ${cap}`);
  }
  return v;
}

/** Violations of a pod spec at a level (empty for privileged). */
export function pssViolations(pod: Obj, level: PssLevel, annotations: Record<string, string> = {}): string[] {
  if (level === 'privileged') return [];
  const base = baselineViolations(pod, annotations);
  return level === 'baseline' ? base : [...base, ...restrictedOnlyViolations(pod)];
}

/** Parses an enforce label value; unknown values are treated as restricted (the strictest reading). */
export function parseLevel(value: string | undefined): PssLevel | undefined {
  if (value === undefined) return undefined;
  return value === 'privileged' || value === 'baseline' ? value : 'restricted';
}
