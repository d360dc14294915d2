import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { FxContainer, FxNodeOperator, FxPlacement, FxSecurityContext, FxVolume } from './container';
import { FxProbe } from './probes';
import { FxProbes, FxResources, FxRoute } from './props';
import { checkListKnownAtSynth, DOT_KEY_RULE, ENV_NAME_RULE, INT32_MAX, isDotFreeKey, isEnvName, isSecretKey } from './validation';
import { FxWorkload } from './workload';
import { check, checkDurationToken, FxValidationError, isUnresolved } from '../core/errors';
import { isDnsLabel, isLabelKey, isLabelValue, isMemoryQuantity, isQuantity, quantityValue } from '../core/k8s-names';
import { SPOT_TAINT } from '../core/wiring';
import * as k8s from '../k8s/api.generated';

/** Where the pods find the database credentials as files (kubelet updates them after a rotation). */
export const DATABASE_CREDENTIALS_DIR = '/var/run/secrets/fx/database';

export interface ExternalSecretSpec {
  readonly name: string;
  /** Secrets Manager secret name (the remote key). */
  readonly remoteKey: string;
  /** Keys of the JSON secret to copy; empty copies every key. */
  readonly properties: string[];
  /** Extra keys rendered from the secret's keys with ESO templates (e.g. DATABASE_URL). */
  readonly templates?: Record<string, string>;
  /** How often External Secrets re-reads Secrets Manager (a Go duration); default 1h. */
  readonly refreshInterval?: string;
}

/** What the pod builder reads of FxMicroserviceProps (a subset, so this file never imports the construct). */
export interface PodProps {
  readonly command?: string[];
  readonly args?: string[];
  readonly initContainers?: FxContainer[];
  readonly sidecars?: FxContainer[];
  readonly metricsPort?: number;
  readonly placement?: FxPlacement;
  readonly port?: number;
  readonly probes?: FxProbes;
  readonly route?: FxRoute;
  readonly securityContext?: FxSecurityContext;
  readonly spot?: boolean;
  readonly volumes?: FxVolume[];
  /** Secrets delivered as env vars (their ExternalSecrets are `<service>-env-<i>`). */
  readonly secretEnv?: ReadonlyArray<unknown>;
  /** The database (its credentials are mounted at DATABASE_CREDENTIALS_DIR, ExternalSecret `<service>-database`). */
  readonly database?: unknown;
}

const WHO = 'FxMicroservice';
/** Default user and group of every container (the images of the sample services create them). */
export const DEFAULT_UID = 10001;
/** Container names the chart uses itself. */
const RESERVED_CONTAINERS = ['app', 'migrate', 'wait-for-migration'];
/** Volume names the chart uses itself. */
const RESERVED_VOLUME = /^(tmp|database-credentials|writable-\d+|.+-writable-\d+)$/;
const SIDECAR_RESOURCES = { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '200m', memory: '128Mi' } };

/** The requests and limits of a sidecar or init container (its own, or the defaults). */
export function containerResources(c: FxContainer): { requests: { cpu: string; memory: string }; limits: { cpu: string; memory: string } } {
  const r = c.resources;
  return {
    requests: { cpu: r?.cpuRequest ?? SIDECAR_RESOURCES.requests.cpu, memory: r?.memoryRequest ?? SIDECAR_RESOURCES.requests.memory },
    limits: { cpu: r?.cpuLimit ?? SIDECAR_RESOURCES.limits.cpu, memory: r?.memoryLimit ?? SIDECAR_RESOURCES.limits.memory },
  };
}

/**
 * Checks the resources of one container: quantities (memory without the milli suffix) and each
 * request at most its limit, naming the prop the user set (a default is said to be one).
 */
export function checkResources(given: FxResources | undefined, requests: { cpu: string; memory: string }, limits: { cpu: string; memory: string },
  at: string, example: string): void {
  for (const kind of ['cpu', 'memory'] as const) {
    const request = given?.[`${kind}Request`];
    const limit = given?.[`${kind}Limit`];
    for (const [prop, q] of [[`${kind}Request`, request], [`${kind}Limit`, limit]] as const) {
      if (q === undefined) continue;
      check(isQuantity(q), WHO, `${at}.${prop}`, q, example);
      if (kind === 'memory') check(isMemoryQuantity(q), WHO, `${at}.${prop}`, q, "a quantity of bytes such as '512Mi' or '1Gi' (not the milli suffix m: '512m' is 0.512 bytes)");
    }
    const r = request ?? requests[kind];
    const l = limit ?? limits[kind];
    if (isUnresolved(r) || isUnresolved(l) || quantityValue(l) >= quantityValue(r)) continue;
    if (limit === undefined) {
      throw new FxValidationError(WHO, `${at}.${kind}Request`, r, `at most ${at}.${kind}Limit (${l}, the default): set ${at}.${kind}Limit too`);
    }
    throw new FxValidationError(WHO, `${at}.${kind}Limit`, l, `at least ${at}.${kind}Request (${r}${request === undefined ? ', the default' : ''})`);
  }
}

/** Pod-level pieces of a service's workload beyond the defaults (internal). */
export interface PodExtras {
  readonly command?: string[];
  readonly args?: string[];
  /** Rendered probes of the service container (absent: no such probe). */
  readonly probes: { readonly liveness?: k8s.Probe; readonly readiness?: k8s.Probe; readonly startup?: k8s.Probe };
  readonly podSecurity: k8s.PodSecurityContext;
  readonly containerSecurity: k8s.SecurityContext;
  /**
   * Volumes of the pod besides `tmp`: writable paths, service volumes. Others append their own
   * (e.g. database credentials as files); keep it an array.
   */
  readonly volumes: k8s.Volume[];
  /** Mounts of the service container besides `/tmp` (same rule: append, do not replace). */
  readonly volumeMounts: k8s.VolumeMount[];
  /** Native sidecars: init containers with restartPolicy Always, running beside the service (and ending with a Job). */
  readonly sidecars: k8s.Container[];
  /** Init containers run to completion before the service starts. */
  readonly initContainers: k8s.Container[];
  readonly placement: Pick<k8s.PodSpec, 'tolerations' | 'nodeSelector' | 'affinity'>;
  /** Shared claims (EFS) the chart creates. */
  readonly claims: Array<{ readonly name: string; readonly storageClassName: string; readonly accessMode: string; readonly size: string }>;
  /** Per-replica claims (gp3): the workload becomes a StatefulSet. */
  readonly claimTemplates: Array<{ readonly name: string; readonly storageClassName: string; readonly size: string }>;
  /** ConfigMaps the chart creates for file volumes. */
  readonly configMaps: Array<{ readonly name: string; readonly data: Record<string, string> }>;
}

export const PROBE_DEFAULTS = {
  startup: { periodSeconds: 5, failureThreshold: 30, timeoutSeconds: 3 },
  liveness: { periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 3 },
  readiness: { periodSeconds: 5, failureThreshold: 3, timeoutSeconds: 3 },
} as const;

/**
 * The Kubernetes probe of `probe` in `role`. `port` is the container's port: a number, or its name
 * (`http`) for HTTP and TCP probes given no port. `defaultTiming` ignores the probe's own timing (the
 * liveness probe reused as startup probe).
 */
export function renderProbe(probe: FxProbe, role: keyof typeof PROBE_DEFAULTS, port: number | string | undefined, defaultTiming = false): k8s.Probe {
  const o = probe.options;
  const timing: Record<string, number> = { ...PROBE_DEFAULTS[role] };
  if (!defaultTiming) {
    if (o.period) timing.periodSeconds = o.period.toSeconds();
    if (o.timeout) timing.timeoutSeconds = o.timeout.toSeconds();
    if (o.failureThreshold !== undefined) timing.failureThreshold = o.failureThreshold;
    if (o.initialDelay) timing.initialDelaySeconds = o.initialDelay.toSeconds();
  }
  const target = o.port ?? port;
  switch (probe.kind) {
    case 'http': return { httpGet: { path: probe.path, port: target }, ...timing };
    case 'tcp': return { tcpSocket: { port: target }, ...timing };
    // gRPC probes take a port number, never a name.
    case 'grpc': return { grpc: { port: (o.port ?? port) as number, ...(probe.grpcService !== undefined ? { service: probe.grpcService } : {}) }, ...timing };
    default: return { exec: { command: probe.command }, ...timing };
  }
}

/** The probes of the service container: HTTP on /healthz and /readyz for an HTTP service unless set, none otherwise. */
function serviceProbes(props: PodProps, workload: FxWorkload, port: number | undefined): PodExtras['probes'] {
  const p = props.probes ?? {};
  if (!workload.servesHttp) {
    return {
      liveness: p.liveness && renderProbe(p.liveness, 'liveness', port),
      readiness: p.readiness && renderProbe(p.readiness, 'readiness', port),
      startup: p.startup && renderProbe(p.startup, 'startup', port),
    };
  }
  // HTTP and TCP probes use the named port `http`; gRPC needs the number.
  const portFor = (probe: FxProbe) => (probe.kind === 'grpc' ? port : 'http');
  const liveness = p.liveness ?? FxProbe.http(p.livenessPath ?? '/healthz');
  const readiness = p.readiness ?? FxProbe.http(p.readinessPath ?? '/readyz');
  const startup = p.startup ?? (p.startupPath !== undefined ? FxProbe.http(p.startupPath) : undefined);
  return {
    liveness: renderProbe(liveness, 'liveness', portFor(liveness)),
    readiness: renderProbe(readiness, 'readiness', portFor(readiness)),
    startup: startup ? renderProbe(startup, 'startup', portFor(startup)) : renderProbe(liveness, 'startup', portFor(liveness), true),
  };
}

function containerSecurity(sc: FxSecurityContext | undefined, withIds: boolean): k8s.SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    ...(withIds && sc?.runAsUser !== undefined ? { runAsUser: sc.runAsUser } : {}),
    ...(withIds && sc?.runAsGroup !== undefined ? { runAsGroup: sc.runAsGroup } : {}),
    capabilities: { drop: ['ALL'], ...(sc?.addCapabilities?.length ? { add: [...sc.addCapabilities] } : {}) },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** emptyDir volumes (and mounts) for writable paths of one container. */
function writable(prefix: string, paths: string[] | undefined): { volumes: k8s.Volume[]; mounts: k8s.VolumeMount[] } {
  const list = paths ?? [];
  return {
    volumes: list.map((_, i) => ({ name: `${prefix}writable-${i}`, emptyDir: { sizeLimit: '256Mi' } })),
    mounts: list.map((mountPath, i) => ({ name: `${prefix}writable-${i}`, mountPath })),
  };
}

const EFFECTS: Record<string, string> = {
  [eks.TaintEffect.NO_SCHEDULE]: 'NoSchedule',
  [eks.TaintEffect.PREFER_NO_SCHEDULE]: 'PreferNoSchedule',
  [eks.TaintEffect.NO_EXECUTE]: 'NoExecute',
};

function renderPlacement(placement: FxPlacement | undefined, spot: boolean): PodExtras['placement'] {
  const tolerations: k8s.Toleration[] = (placement?.tolerations ?? []).map((t) => ({
    key: t.key,
    ...(t.value !== undefined ? { operator: 'Equal', value: t.value } : { operator: 'Exists' }),
    ...(t.effect !== undefined ? { effect: EFFECTS[t.effect] } : {}),
  }));
  const requirement = (r: { key: string; operator: string; values?: string[] }) =>
    ({ key: r.key, operator: r.operator, ...(r.values ? { values: [...r.values] } : {}) });
  const preferred: k8s.PreferredSchedulingTerm[] = (placement?.preferredNodeAffinity ?? []).map((p) => ({
    weight: p.weight, preference: { matchExpressions: p.requirements.map(requirement) },
  }));
  if (spot) {
    tolerations.push({ key: SPOT_TAINT.key, operator: 'Equal', value: SPOT_TAINT.value, effect: 'NoSchedule' });
    preferred.push({ weight: 50, preference: { matchExpressions: [{ key: SPOT_TAINT.key, operator: 'In', values: [SPOT_TAINT.value] }] } });
  }
  const required = placement?.requiredNodeAffinity ?? [];
  const nodeAffinity: k8s.NodeAffinity = {
    ...(required.length > 0
      ? { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: required.map(requirement) }] } }
      : {}),
    ...(preferred.length > 0 ? { preferredDuringSchedulingIgnoredDuringExecution: preferred } : {}),
  };
  const selector = placement?.nodeSelector;
  return {
    ...(tolerations.length > 0 ? { tolerations } : {}),
    ...(selector && Object.keys(selector).length > 0 ? { nodeSelector: { ...selector } } : {}),
    ...(Object.keys(nodeAffinity).length > 0 ? { affinity: { nodeAffinity } } : {}),
  };
}

/** Context a service gives `podExtras`. */
export interface PodContext {
  readonly serviceName: string;
  readonly port?: number;
  readonly workload: FxWorkload;
  /** Where ExternalSecrets of secret volumes go (the service's list). */
  readonly externalSecrets: ExternalSecretSpec[];
  readonly grantSecretRead: (secret: secretsmanager.ISecret) => void;
}

/** Resolves the container, volume and placement props of a service (validated before by `validatePodProps`). */
export function podExtras(scope: Construct, props: PodProps, ctx: PodContext): PodExtras {
  const sc = props.securityContext;
  const uid = sc?.runAsUser ?? DEFAULT_UID;
  const gid = sc?.runAsGroup ?? DEFAULT_UID;
  const own = writable('', sc?.writablePaths);
  const volumes: k8s.Volume[] = [...own.volumes];
  const volumeMounts: k8s.VolumeMount[] = [...own.mounts];
  const claims: Array<PodExtras['claims'][number]> = [];
  const claimTemplates: Array<PodExtras['claimTemplates'][number]> = [];
  const configMaps: Array<PodExtras['configMaps'][number]> = [];
  const mountOf = new Map<string, FxVolume>();
  for (const v of props.volumes ?? []) {
    mountOf.set(v.name, v);
    const resource = `${ctx.serviceName}-${v.name}`;
    volumeMounts.push({ name: v.name, mountPath: v.mountPath, ...(v.readOnly ? { readOnly: true } : {}) });
    switch (v.kind) {
      case 'efs':
        claims.push({ name: resource, storageClassName: EFS_STORAGE_CLASS, accessMode: 'ReadWriteMany', size: v.size ?? '10Gi' });
        volumes.push({ name: v.name, persistentVolumeClaim: { claimName: resource, ...(v.readOnly ? { readOnly: true } : {}) } });
        break;
      case 'gp3':
        // A volumeClaimTemplate: the StatefulSet names each replica's claim <template>-<pod>.
        claimTemplates.push({ name: v.name, storageClassName: GP3_STORAGE_CLASS, size: v.size ?? '10Gi' });
        break;
      case 'configMap':
        configMaps.push({ name: resource, data: { ...v.files } });
        volumes.push({ name: v.name, configMap: { name: resource } });
        break;
      default:
        ctx.externalSecrets.push({ name: resource, remoteKey: v.sourceSecret!.secretName, properties: v.keys ?? [] });
        ctx.grantSecretRead(v.sourceSecret!);
        volumes.push({ name: v.name, secret: { secretName: resource } });
    }
  }
  const container = (c: FxContainer, sidecar: boolean): k8s.Container => {
    const image = c.image.bind(new Construct(scope, `Container-${c.name}`));
    const extra = writable(`${c.name}-`, c.securityContext?.writablePaths);
    volumes.push(...extra.volumes);
    const mounts = (c.volumeMounts ?? []).map((m) => {
      const readOnly = m.readOnly ?? mountOf.get(m.volume)?.readOnly ?? false;
      return { name: m.volume, mountPath: m.mountPath, ...(readOnly ? { readOnly: true } : {}) };
    });
    const r = containerResources(c);
    return {
      name: c.name,
      image: image.imageUri,
      imagePullPolicy: 'IfNotPresent',
      ...(c.command ? { command: [...c.command] } : {}),
      ...(c.args ? { args: [...c.args] } : {}),
      ...(sidecar ? { restartPolicy: 'Always' } : {}),
      // Unnamed: port names must be unique in the pod, and probes of a sidecar use its port number.
      ...(c.port !== undefined ? { ports: [{ containerPort: c.port, protocol: 'TCP' }] } : {}),
      ...(c.env ? { env: Object.entries(c.env).map(([name, value]) => ({ name, value })) } : {}),
      resources: r,
      ...(c.livenessProbe ? { livenessProbe: renderProbe(c.livenessProbe, 'liveness', c.port) } : {}),
      ...(c.readinessProbe ? { readinessProbe: renderProbe(c.readinessProbe, 'readiness', c.port) } : {}),
      securityContext: containerSecurity(c.securityContext, true),
      volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }, ...extra.mounts, ...mounts],
    };
  };
  const sidecars = (props.sidecars ?? []).map((c) => container(c, true));
  const initContainers = (props.initContainers ?? []).map((c) => container(c, false));
  return {
    command: props.command ? [...props.command] : undefined,
    args: props.args ? [...props.args] : undefined,
    probes: serviceProbes(props, ctx.workload, ctx.port),
    podSecurity: {
      runAsNonRoot: true,
      runAsUser: uid,
      runAsGroup: gid,
      fsGroup: sc?.fsGroup ?? gid,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    containerSecurity: containerSecurity(sc, false),
    volumes,
    volumeMounts,
    sidecars,
    initContainers,
    placement: renderPlacement(props.placement, props.spot ?? false),
    claims,
    claimTemplates,
    configMaps,
  };
}

/** StorageClasses of FxCluster's storage chart (src/cluster/storage.ts). */
const EFS_STORAGE_CLASS = 'efs-sc';
const GP3_STORAGE_CLASS = 'gp3';

const isId = (n: number) => Number.isInteger(n) && n >= 1 && n <= INT32_MAX;
const isAbsolutePath = (p: string) => /^\/[^\0]+$/.test(p) && !p.endsWith('/') && !p.includes('//') && !p.split('/').some((s) => s === '..' || s === '.');

function validateSecurity(sc: FxSecurityContext | undefined, at: string, podWide: boolean, taken: Set<string>): void {
  if (!sc) return;
  for (const key of ['runAsUser', 'runAsGroup', ...(podWide ? ['fsGroup'] : [])] as const) {
    const id = sc[key as keyof FxSecurityContext] as number | undefined;
    if (id === undefined) continue;
    check(id !== 0, WHO, `${at}${key}`, id, 'a non-zero id: Pod Security restricted forbids running as root (uid/gid 0)');
    check(isId(id), WHO, `${at}${key}`, id, `an integer id from 1 to ${INT32_MAX}`);
  }
  if (!podWide && sc.fsGroup !== undefined) {
    throw new FxValidationError(WHO, `${at}fsGroup`, sc.fsGroup, "no fsGroup on a sidecar or init container: it is pod-wide, set it on the service's securityContext");
  }
  check(sc.privileged !== true, WHO, `${at}privileged`, sc.privileged, 'false: Pod Security restricted forbids privileged containers');
  check(sc.allowPrivilegeEscalation !== true, WHO, `${at}allowPrivilegeEscalation`, sc.allowPrivilegeEscalation,
    'false: Pod Security restricted forbids privilege escalation');
  (sc.addCapabilities ?? []).forEach((cap, i) => check(cap === 'NET_BIND_SERVICE', WHO, `${at}addCapabilities[${i}]`, cap,
    'NET_BIND_SERVICE only: Pod Security restricted drops every other capability'));
  checkListKnownAtSynth(sc.writablePaths, `${at}writablePaths`, 'each path becomes its own emptyDir volume and mount');
  (sc.writablePaths ?? []).forEach((p, i) => {
    const prop = `${at}writablePaths[${i}]`;
    check(isAbsolutePath(p), WHO, prop, p, "an absolute path such as /var/cache/nginx (no trailing /, '.' or '..')");
    check(p !== '/tmp', WHO, prop, p, 'a path other than /tmp, which is always writable');
    check(!taken.has(p), WHO, prop, p, 'a path mounted once in the container');
    taken.add(p);
  });
}

/** Checks the container, probe, volume and placement props of a service against its kind (issue 20). */
export function validatePodProps(props: PodProps, workload: FxWorkload): void {
  const kind = workload.description;
  if (props.command) check(props.command.length > 0, WHO, 'command', props.command, 'a non-empty command (or leave it unset for the image ENTRYPOINT)');
  if (props.command?.length) check(props.command[0] !== '', WHO, 'command[0]', props.command[0], 'an executable name or path (not empty)');
  const p = props.probes ?? {};
  for (const role of ['liveness', 'readiness', 'startup'] as const) {
    const probe = p[role];
    const pathProp = `${role}Path` as const;
    if (p[pathProp] !== undefined && !workload.servesHttp) {
      throw new FxValidationError(WHO, `probes.${pathProp}`, p[pathProp], `no HTTP probe path on ${kind}, which has no HTTP port (use probes.${role}: FxProbe.exec([...]))`);
    }
    if (probe && p[pathProp] !== undefined) {
      throw new FxValidationError(WHO, `probes.${pathProp}`, p[pathProp], `either probes.${role} or probes.${pathProp}, not both`);
    }
    if (!probe) continue;
    if (workload.runsToCompletion) {
      throw new FxValidationError(WHO, `probes.${role}`, probe.kind, `no probes on ${kind}: its pods run to completion (bound a run with activeDeadline)`);
    }
    if (!workload.servesHttp) {
      check(probe.kind === 'exec', WHO, `probes.${role}`, probe.kind, `an exec probe (FxProbe.exec) on ${kind}, which has no port`);
    }
    validateProbe(probe, `probes.${role}`);
  }
  validateVolumes(props, workload);
  const taken = new Set((props.volumes ?? []).map((v) => v.mountPath));
  if (props.database !== undefined) taken.add(DATABASE_CREDENTIALS_DIR);
  validateSecurity(props.securityContext, 'securityContext.', true, taken);
  const names = new Set<string>(RESERVED_CONTAINERS);
  const servicePorts = [props.port ?? (workload.servesHttp ? 8000 : undefined), props.metricsPort].filter((port) => port !== undefined);
  const volumes = new Set((props.volumes ?? []).map((v) => v.name));
  // Containers of a pod share its network: one port, one listener.
  const sidecarPorts = new Map<number, string>();
  for (const [list, sidecar] of [['sidecars', true], ['initContainers', false]] as const) {
    (props[list] ?? []).forEach((c, i) => {
      const at = `${list}[${i}].`;
      check(isDnsLabel(c.name), WHO, `${at}name`, c.name, 'a DNS-1123 label (lowercase letters, digits, -)');
      check(!names.has(c.name), WHO, `${at}name`, c.name, `a name unique in the pod (${[...names].join(', ')} are taken)`);
      names.add(c.name);
      if (c.command) check(c.command.length > 0, WHO, `${at}command`, c.command, 'a non-empty command');
      if (c.command?.length) check(c.command[0] !== '', WHO, `${at}command[0]`, c.command[0], 'an executable name or path (not empty)');
      if (c.port !== undefined) {
        check(Number.isInteger(c.port) && c.port >= 1 && c.port <= 65535, WHO, `${at}port`, c.port, 'an integer from 1 to 65535');
        check(!sidecar || !servicePorts.includes(c.port), WHO, `${at}port`, c.port, `a port other than the service's port and metricsPort (${servicePorts.join(', ')})`);
        const other = sidecar ? sidecarPorts.get(c.port) : undefined;
        check(other === undefined, WHO, `${at}port`, c.port, `a port no other container of the pod listens on (${other}port is ${c.port}: the containers share the pod's network)`);
        if (sidecar && !isUnresolved(c.port)) sidecarPorts.set(c.port, at);
        check(sidecar, WHO, `${at}port`, c.port, 'no port on an init container (it runs to completion before the service starts)');
      }
      for (const role of ['livenessProbe', 'readinessProbe'] as const) {
        const probe = c[role];
        if (!probe) continue;
        check(sidecar, WHO, `${at}${role}`, probe.kind, 'no probe on an init container (it runs to completion)');
        if (probe.needsPort) {
          check(probe.options.port !== undefined || c.port !== undefined, WHO, `${at}${role}`, probe.kind, `an exec probe, or a port (${at}port or the probe's port) to probe`);
        }
        validateProbe(probe, `${at}${role}`);
      }
      const defaults = containerResources({ ...c, resources: undefined });
      checkResources(c.resources, defaults.requests, defaults.limits, `${at}resources`, "a Kubernetes quantity such as '50m', '1', '64Mi'");
      for (const [key, value] of Object.entries(c.env ?? {})) {
        check(isEnvName(key), WHO, `${at}env`, key, ENV_NAME_RULE);
        check(typeof value === 'string', WHO, `${at}env.${key}`, value, "a string (quote numbers: '8000')");
      }
      // Each writable path is an emptyDir volume <container>-writable-<i>: a volume name is a DNS label of at most 63.
      (c.securityContext?.writablePaths ?? []).forEach((_, j) => {
        const volume = `${c.name}-writable-${j}`;
        check(volume.length <= 63, WHO, `${at}securityContext.writablePaths[${j}]`, c.securityContext!.writablePaths![j],
          `a writable path of a container whose name leaves room for its volume ${volume} (${volume.length} characters, at most 63): shorten ${at}name`);
      });
      const paths = new Set<string>();
      (c.volumeMounts ?? []).forEach((m, j) => {
        check(volumes.has(m.volume), WHO, `${at}volumeMounts[${j}].volume`, m.volume, `the name of one of the service's volumes (${[...volumes].join(', ') || 'none'})`);
        check(isAbsolutePath(m.mountPath) && m.mountPath !== '/tmp' && !paths.has(m.mountPath), WHO, `${at}volumeMounts[${j}].mountPath`, m.mountPath,
          'an absolute path other than /tmp, mounted once in the container');
        paths.add(m.mountPath);
      });
      validateSecurity(c.securityContext, `${at}securityContext.`, false, paths);
    });
  }
  validatePlacement(props.placement);
}

function validateProbe(probe: FxProbe, prop: string): void {
  const o = probe.options;
  if (probe.kind === 'http') check(probe.path!.startsWith('/'), WHO, `${prop} path`, probe.path, "a path starting with '/'");
  // kubelet sends the path as written: whitespace would be part of the URL (or refused as a control character).
  if (probe.kind === 'http') check(!/\s/.test(probe.path!), WHO, `${prop} path`, probe.path, 'a URL path without whitespace');
  if (probe.kind === 'exec') check(probe.command!.length > 0, WHO, `${prop} command`, probe.command, 'a non-empty command');
  if (probe.kind === 'exec' && probe.command!.length > 0) {
    check(probe.command![0] !== '', WHO, `${prop} command[0]`, probe.command![0], 'an executable name or path (not empty)');
  }
  if (o.port !== undefined) check(Number.isInteger(o.port) && o.port >= 1 && o.port <= 65535, WHO, `${prop} port`, o.port, 'an integer from 1 to 65535');
  if (o.failureThreshold !== undefined) check(Number.isInteger(o.failureThreshold) && o.failureThreshold >= 1, WHO, `${prop} failureThreshold`, o.failureThreshold, 'an integer of at least 1');
  if (o.failureThreshold !== undefined) check(o.failureThreshold <= INT32_MAX, WHO, `${prop} failureThreshold`, o.failureThreshold, `an integer from 1 to ${INT32_MAX} (the int32 maximum)`);
  for (const [k, d] of [['period', o.period], ['timeout', o.timeout], ['initialDelay', o.initialDelay]] as const) {
    if (d) checkDurationToken(d, WHO, `${prop} ${k}`, 'seconds');
  }
  for (const [k, d] of [['period', o.period], ['timeout', o.timeout]] as const) {
    if (d && !d.isUnresolved()) check(d.toSeconds({ integral: false }) >= 1 && Number.isInteger(d.toSeconds({ integral: false })), WHO, `${prop} ${k}`, d.toSeconds({ integral: false }), 'a whole number of seconds, at least 1');
    if (d && !d.isUnresolved()) check(d.toSeconds({ integral: false }) <= INT32_MAX, WHO, `${prop} ${k}`, d.toSeconds({ integral: false }), `a whole number of seconds up to ${INT32_MAX} (the int32 maximum)`);
  }
  const delay = o.initialDelay;
  if (delay && !delay.isUnresolved()) {
    check(Number.isInteger(delay.toSeconds({ integral: false })) && delay.toSeconds({ integral: false }) >= 0, WHO, `${prop} initialDelay`, delay.toHumanString(),
      'a whole number of seconds, 0 or more');
    check(delay.toSeconds({ integral: false }) <= INT32_MAX, WHO, `${prop} initialDelay`, delay.toSeconds({ integral: false }), `a whole number of seconds up to ${INT32_MAX} (the int32 maximum)`);
  }
}

function validateVolumes(props: PodProps, workload: FxWorkload): void {
  const names = new Set<string>();
  const paths = new Set<string>();
  // ExternalSecrets the service creates itself, named <service>-<suffix> like a secret volume's.
  const secretNames = new Map<string, string>();
  (props.secretEnv ?? []).forEach((_, i) => secretNames.set(`env-${i}`, `secretEnv[${i}]`));
  if (props.route?.basicAuth) secretNames.set('basic-auth', 'route.basicAuth');
  if (props.database !== undefined) secretNames.set('database', 'database');
  (props.volumes ?? []).forEach((v, i) => {
    const at = `volumes[${i}]`;
    check(isDnsLabel(v.name, 40) && !RESERVED_VOLUME.test(v.name), WHO, `${at}.name`, v.name,
      'a DNS-1123 label of at most 40 characters, not tmp, database-credentials or writable-<n> (used by the chart)');
    check(!names.has(v.name), WHO, `${at}.name`, v.name, 'a volume name unique in the service');
    names.add(v.name);
    check(isAbsolutePath(v.mountPath) && v.mountPath !== '/tmp', WHO, `${at}.mountPath`, v.mountPath, 'an absolute path other than /tmp (no trailing /)');
    check(!paths.has(v.mountPath), WHO, `${at}.mountPath`, v.mountPath, 'a path no other volume of the service mounts');
    if (props.database !== undefined) {
      check(v.mountPath !== DATABASE_CREDENTIALS_DIR, WHO, `${at}.mountPath`, v.mountPath, `a path other than ${DATABASE_CREDENTIALS_DIR}, where the database credentials are mounted`);
    }
    paths.add(v.mountPath);
    if (v.kind === 'secret' && secretNames.has(v.name)) {
      throw new FxValidationError(WHO, `${at}.name`, v.name, `a name other than ${[...secretNames.keys()].join(', ')}: the ExternalSecret of ${secretNames.get(v.name)} is named <service>-${v.name} already`);
    }
    if (v.size !== undefined) check(isQuantity(v.size) && quantityValue(v.size) > 0, WHO, `${at}.size`, v.size, "a positive Kubernetes quantity such as '10Gi'");
    // An EBS gp3 volume is 1 GiB to 16 TiB (the CSI driver rounds a request up to whole GiB).
    if (v.kind === 'gp3' && v.size !== undefined && isQuantity(v.size)) {
      check(quantityValue(v.size) <= 16 * 2 ** 40, WHO, `${at}.size`, v.size, "at most 16Ti, the largest EBS gp3 volume (e.g. '10Gi')");
    }
    if (v.kind === 'gp3') {
      check(!workload.runsToCompletion, WHO, `${at}`, `gp3 ${v.name}`, `an EFS, ConfigMap or secret volume on ${workload.description}: a per-replica gp3 claim needs a StatefulSet (an HTTP service or a worker)`);
      check(props.route?.canary === undefined, WHO, `${at}`, `gp3 ${v.name}`, 'no gp3 claim on a service with a canary (a StatefulSet has no second track): use FxVolume.efs');
    }
    if (v.kind === 'configMap') check(Object.keys(v.files ?? {}).length > 0, WHO, `${at}.files`, v.files, 'at least one file (an empty ConfigMap mounts an empty directory)');
    Object.keys(v.files ?? {}).forEach((f) => check(isSecretKey(f), WHO, `${at}.files`, f, 'file names of letters, digits, -, _ and . (at most 253 characters)'));
    Object.keys(v.files ?? {}).forEach((f) => check(isDotFreeKey(f), WHO, `${at}.files`, f, `file names: ${DOT_KEY_RULE}`));
    if (v.kind === 'configMap') {
      // The API server refuses a ConfigMap whose keys and values exceed 1 MiB in all.
      const bytes = Object.entries(v.files!).reduce((sum, [f, text]) =>
        sum + Buffer.byteLength(f) + (isUnresolved(text) ? 0 : Buffer.byteLength(String(text))), 0);
      check(bytes <= 2 ** 20, WHO, `${at}.files`, `${bytes} bytes`, 'files of at most 1 MiB (1048576 bytes) in all, names included (the ConfigMap size limit)');
    }
    Object.entries(v.files ?? {}).forEach(([f, text]) => check(typeof text === 'string', WHO, `${at}.files.${f}`, text,
      "a string, the file's content (quote numbers and JSON: '8000', JSON.stringify(config))"));
    if (v.kind === 'secret') checkListKnownAtSynth(v.keys, `${at}.keys`, 'each key becomes its own ExternalSecret entry and file');
    if (v.kind === 'secret' && v.keys !== undefined && !isUnresolved(v.keys)) {
      check(v.keys.length > 0, WHO, `${at}.keys`, v.keys, 'at least one key (leave keys unset to mount every key of the secret)');
    }
    (v.keys ?? []).forEach((k, j) => check(isSecretKey(k), WHO, `${at}.keys[${j}]`, k, 'a Secret data key: letters, digits, -, _ and . (at most 253 characters)'));
    (v.keys ?? []).forEach((k, j) => check(isDotFreeKey(k), WHO, `${at}.keys[${j}]`, k, `a Secret data key: ${DOT_KEY_RULE}`));
  });
}

/** A decimal int64, as the scheduler parses a Gt/Lt value (strconv.ParseInt). */
function isInt64(value: string): boolean {
  return /^[-+]?\d+$/.test(value) && BigInt(value) >= -(2n ** 63n) && BigInt(value) < 2n ** 63n;
}

function validatePlacement(placement: FxPlacement | undefined): void {
  if (!placement) return;
  (placement.tolerations ?? []).forEach((t, i) => {
    // An empty key with operator Exists (no value) tolerates every taint.
    if (!(t.key === '' && t.value === undefined)) {
      check(isLabelKey(t.key), WHO, `placement.tolerations[${i}].key`, t.key, "a label key such as dedicated or example.com/pool ('' only without a value: every taint)");
    }
    if (t.effect !== undefined) {
      check(EFFECTS[t.effect] !== undefined, WHO, `placement.tolerations[${i}].effect`, t.effect, `an eks.TaintEffect: ${Object.keys(EFFECTS).join(', ')}`);
    }
    if (t.value !== undefined) check(isLabelValue(t.value), WHO, `placement.tolerations[${i}].value`, t.value, 'a label value (at most 63 letters, digits, -, _ or .)');
  });
  for (const [k, v] of Object.entries(placement.nodeSelector ?? {})) {
    check(isLabelKey(k), WHO, 'placement.nodeSelector', k, 'label keys such as karpenter.sh/nodepool');
    check(isLabelValue(v), WHO, `placement.nodeSelector.${k}`, v, 'a label value (at most 63 letters, digits, -, _ or .)');
  }
  const requirements = (list: Array<{ key: string; operator: string; values?: string[] }>, at: string) => list.forEach((r, i) => {
    const prop = `${at}[${i}]`;
    check(isLabelKey(r.key), WHO, `${prop}.key`, r.key, 'a label key such as node.kubernetes.io/instance-type');
    check((Object.values(FxNodeOperator) as string[]).includes(r.operator), WHO, `${prop}.operator`, r.operator, `an FxNodeOperator: ${Object.values(FxNodeOperator).join(', ')}`);
    const values = r.values ?? [];
    if (r.operator === 'In' || r.operator === 'NotIn') check(values.length > 0, WHO, `${prop}.values`, values, `one or more values for operator ${r.operator}`);
    else if (r.operator === 'Gt' || r.operator === 'Lt') check(values.length === 1 && isInt64(values[0]), WHO, `${prop}.values`, values, `exactly one integer for operator ${r.operator} (an int64)`);
    else check(values.length === 0, WHO, `${prop}.values`, values, `no values for operator ${r.operator}`);
    values.forEach((v, j) => check(isLabelValue(v), WHO, `${prop}.values[${j}]`, v, 'a label value (at most 63 letters, digits, -, _ or .)'));
  });
  requirements(placement.requiredNodeAffinity ?? [], 'placement.requiredNodeAffinity');
  (placement.preferredNodeAffinity ?? []).forEach((p, i) => {
    check(Number.isInteger(p.weight) && p.weight >= 1 && p.weight <= 100, WHO, `placement.preferredNodeAffinity[${i}].weight`, p.weight, 'an integer from 1 to 100');
    check(p.requirements.length > 0, WHO, `placement.preferredNodeAffinity[${i}].requirements`, p.requirements, 'at least one requirement');
    requirements(p.requirements, `placement.preferredNodeAffinity[${i}].requirements`);
  });
}
