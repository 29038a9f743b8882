/**
 * The Pod Security Standards' "restricted" profile (kubernetes.io/docs/concepts/security/
 * pod-security-standards), checked control by control as the standard lists them: the baseline
 * controls, which restricted includes, then restricted's own. Each control names the fields the
 * standard restricts and allows only the values it lists. A pure function of one pod template;
 * the Windows exemptions (spec.os.name: windows) are not modelled: these pods run on Linux.
 */

export interface Violation {
  /** The control's name in the standard, e.g. "Privilege Escalation". */
  control: string;
  profile: 'baseline' | 'restricted';
  /** The field, e.g. spec.containers[gateway].securityContext.allowPrivilegeEscalation. */
  field: string;
  /** What the field holds (undefined when it must be set and is not). */
  value: unknown;
}

/** The parts of a pod (or a pod template) the standard looks at. */
export interface PodLike {
  metadata?: { annotations?: Record<string, string> } | undefined;
  spec: PodSpec;
}

interface SecurityContext {
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  runAsNonRoot?: boolean;
  runAsUser?: number;
  procMount?: string;
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: { type?: string };
  appArmorProfile?: { type?: string };
  seLinuxOptions?: { type?: string; user?: string; role?: string; level?: string };
  windowsOptions?: { hostProcess?: boolean };
}

interface Container {
  name: string;
  ports?: { hostPort?: number }[];
  securityContext?: SecurityContext;
}

interface PodSpec {
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  securityContext?: Omit<SecurityContext, 'privileged' | 'allowPrivilegeEscalation' | 'procMount' | 'capabilities'> & {
    sysctls?: { name: string; value?: string }[];
  };
  containers: Container[];
  initContainers?: Container[];
  ephemeralContainers?: Container[];
  volumes?: Record<string, unknown>[];
}

/** Baseline "Capabilities": what may be added. */
const BASELINE_CAPABILITIES = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);
/** Baseline "SELinux": allowed types ("" and undefined too). */
const SELINUX_TYPES = new Set(['container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);
/** Baseline "Sysctls": the safe set. */
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);
/** Restricted "Volume Types": the only volume sources allowed. */
const RESTRICTED_VOLUME_SOURCES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);

/** Every container with the path of its list, as the standard writes it: spec.containers[*], spec.initContainers[*], spec.ephemeralContainers[*]. */
function containersOf(spec: PodSpec): { path: string; container: Container }[] {
  return (['containers', 'initContainers', 'ephemeralContainers'] as const).flatMap((list) =>
    (spec[list] ?? []).map((container) => ({ path: `spec.${list}[${container.name}]`, container })),
  );
}

/** Violations of the restricted profile (baseline controls included); empty when the pod meets it. */
export function restrictedViolations(pod: PodLike): Violation[] {
  const violations: Violation[] = [];
  const spec = pod.spec;
  const podSc = spec.securityContext ?? {};
  const containers = containersOf(spec);
  const baseline = (control: string, field: string, value: unknown) => violations.push({ control, profile: 'baseline', field, value });
  const restricted = (control: string, field: string, value: unknown) => violations.push({ control, profile: 'restricted', field, value });

  // ---- Baseline ------------------------------------------------------------------------
  // HostProcess: undefined/nil, false.
  if (podSc.windowsOptions?.hostProcess) baseline('HostProcess', 'spec.securityContext.windowsOptions.hostProcess', podSc.windowsOptions.hostProcess);
  for (const { path, container } of containers) {
    const v = container.securityContext?.windowsOptions?.hostProcess;
    if (v) baseline('HostProcess', `${path}.securityContext.windowsOptions.hostProcess`, v);
  }
  // Host Namespaces: undefined/nil, false.
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
    if (spec[field]) baseline('Host Namespaces', `spec.${field}`, spec[field]);
  }
  // Privileged Containers: undefined/nil, false.
  for (const { path, container } of containers) {
    if (container.securityContext?.privileged) baseline('Privileged Containers', `${path}.securityContext.privileged`, true);
  }
  // Capabilities (baseline): add only from the default set.
  for (const { path, container } of containers) {
    for (const cap of container.securityContext?.capabilities?.add ?? []) {
      if (!BASELINE_CAPABILITIES.has(cap)) baseline('Capabilities', `${path}.securityContext.capabilities.add`, cap);
    }
  }
  // HostPath Volumes: undefined/nil.
  for (const volume of spec.volumes ?? []) {
    if (volume.hostPath !== undefined) baseline('HostPath Volumes', `spec.volumes[${String(volume.name)}].hostPath`, volume.hostPath);
  }
  // Host Ports: undefined/nil, 0 (the known-list variant is not what the built-in admission enforces).
  for (const { path, container } of containers) {
    for (const port of container.ports ?? []) {
      if (port.hostPort !== undefined && port.hostPort !== 0) baseline('Host Ports', `${path}.ports[*].hostPort`, port.hostPort);
    }
  }
  // AppArmor: profile type undefined/nil, RuntimeDefault, Localhost; annotations runtime/default, localhost/*.
  const appArmorTypes = new Set([undefined, 'RuntimeDefault', 'Localhost']);
  if (!appArmorTypes.has(podSc.appArmorProfile?.type)) baseline('AppArmor', 'spec.securityContext.appArmorProfile.type', podSc.appArmorProfile?.type);
  for (const { path, container } of containers) {
    const type = container.securityContext?.appArmorProfile?.type;
    if (!appArmorTypes.has(type)) baseline('AppArmor', `${path}.securityContext.appArmorProfile.type`, type);
  }
  for (const [key, value] of Object.entries(pod.metadata?.annotations ?? {})) {
    if (key.startsWith('container.apparmor.security.beta.kubernetes.io/') && value !== 'runtime/default' && !value.startsWith('localhost/')) {
      baseline('AppArmor', `metadata.annotations['${key}']`, value);
    }
  }
  // SELinux: type undefined/"" or a container type; user and role undefined/"".
  const seLinux = (field: string, options: SecurityContext['seLinuxOptions']) => {
    if (!options) return;
    if (options.type !== undefined && options.type !== '' && !SELINUX_TYPES.has(options.type))
      baseline('SELinux', `${field}.seLinuxOptions.type`, options.type);
    if (options.user !== undefined && options.user !== '') baseline('SELinux', `${field}.seLinuxOptions.user`, options.user);
    if (options.role !== undefined && options.role !== '') baseline('SELinux', `${field}.seLinuxOptions.role`, options.role);
  };
  seLinux('spec.securityContext', podSc.seLinuxOptions);
  for (const { path, container } of containers) seLinux(`${path}.securityContext`, container.securityContext?.seLinuxOptions);
  // /proc Mount Type: undefined/nil, Default.
  for (const { path, container } of containers) {
    const v = container.securityContext?.procMount;
    if (v !== undefined && v !== 'Default') baseline('/proc Mount Type', `${path}.securityContext.procMount`, v);
  }
  // Seccomp (baseline): never Unconfined.
  if (podSc.seccompProfile?.type === 'Unconfined') baseline('Seccomp', 'spec.securityContext.seccompProfile.type', 'Unconfined');
  for (const { path, container } of containers) {
    if (container.securityContext?.seccompProfile?.type === 'Unconfined') baseline('Seccomp', `${path}.securityContext.seccompProfile.type`, 'Unconfined');
  }
  // Sysctls: only the safe set.
  for (const sysctl of podSc.sysctls ?? []) {
    if (!SAFE_SYSCTLS.has(sysctl.name)) baseline('Sysctls', 'spec.securityContext.sysctls[*].name', sysctl.name);
  }

  // ---- Restricted ----------------------------------------------------------------------
  // Volume Types: only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret.
  for (const volume of spec.volumes ?? []) {
    for (const source of Object.keys(volume).filter((k) => k !== 'name')) {
      if (!RESTRICTED_VOLUME_SOURCES.has(source)) restricted('Volume Types', `spec.volumes[${String(volume.name)}].${source}`, volume[source]);
    }
  }
  // Privilege Escalation: allowPrivilegeEscalation must be false (set, not left to the default).
  for (const { path, container } of containers) {
    const v = container.securityContext?.allowPrivilegeEscalation;
    if (v !== false) restricted('Privilege Escalation', `${path}.securityContext.allowPrivilegeEscalation`, v);
  }
  // Running as Non-root: runAsNonRoot true at pod level (containers undefined or true), or true in every container.
  if (podSc.runAsNonRoot === false) restricted('Running as Non-root', 'spec.securityContext.runAsNonRoot', false);
  for (const { path, container } of containers) {
    const v = container.securityContext?.runAsNonRoot;
    if (v === false || (v === undefined && podSc.runAsNonRoot !== true)) restricted('Running as Non-root', `${path}.securityContext.runAsNonRoot`, v);
  }
  // Running as Non-root user: runAsUser undefined/nil or non-zero.
  if (podSc.runAsUser === 0) restricted('Running as Non-root user', 'spec.securityContext.runAsUser', 0);
  for (const { path, container } of containers) {
    if (container.securityContext?.runAsUser === 0) restricted('Running as Non-root user', `${path}.securityContext.runAsUser`, 0);
  }
  // Seccomp (restricted): RuntimeDefault or Localhost at pod level, or in every container; containers never anything else.
  const seccompTypes = new Set(['RuntimeDefault', 'Localhost']);
  const podSeccomp = podSc.seccompProfile?.type;
  if (podSeccomp !== undefined && !seccompTypes.has(podSeccomp)) restricted('Seccomp', 'spec.securityContext.seccompProfile.type', podSeccomp);
  for (const { path, container } of containers) {
    const v = container.securityContext?.seccompProfile?.type;
    if ((v !== undefined && !seccompTypes.has(v)) || (v === undefined && !seccompTypes.has(podSeccomp ?? '')))
      restricted('Seccomp', `${path}.securityContext.seccompProfile.type`, v);
  }
  // Capabilities (restricted): drop must include ALL; add only NET_BIND_SERVICE.
  for (const { path, container } of containers) {
    const caps = container.securityContext?.capabilities;
    if (!caps?.drop?.includes('ALL')) restricted('Capabilities', `${path}.securityContext.capabilities.drop`, caps?.drop);
    for (const cap of caps?.add ?? []) {
      if (cap !== 'NET_BIND_SERVICE') restricted('Capabilities', `${path}.securityContext.capabilities.add`, cap);
    }
  }
  return violations;
}

/** The pod templates of workload objects (Deployment, StatefulSet, DaemonSet, Job, ReplicaSet) and bare Pods. */
export function podsOf(objects: readonly { kind: string; metadata: { name: string }; [k: string]: unknown }[]): { owner: string; pod: PodLike }[] {
  const pods: { owner: string; pod: PodLike }[] = [];
  for (const o of objects) {
    const spec = o.spec as { template?: PodLike; jobTemplate?: { spec?: { template?: PodLike } } } | undefined;
    if (o.kind === 'Pod') pods.push({ owner: `Pod/${o.metadata.name}`, pod: o as unknown as PodLike });
    else if (spec?.template?.spec) pods.push({ owner: `${o.kind}/${o.metadata.name}`, pod: spec.template });
    else if (spec?.jobTemplate?.spec?.template?.spec) pods.push({ owner: `${o.kind}/${o.metadata.name}`, pod: spec.jobTemplate.spec.template });
  }
  return pods;
}
