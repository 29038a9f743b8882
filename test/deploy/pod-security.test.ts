/**
 * The restricted-profile rules (test/deploy/pod-security.ts) on hand-made pods: one that meets
 * the profile, and for each control of the standard a pod that breaks it, with the exact
 * violations expected.
 */
import { describe, expect, it } from 'vitest';
import { podsOf, restrictedViolations, type PodLike } from './pod-security.js';

/** The smallest pod that meets the restricted profile. */
// Loosely typed on purpose: the tests write fields the standard forbids.
function compliant(): { metadata: { annotations: Record<string, string> }; spec: Record<string, any> } {
  return {
    metadata: { annotations: {} },
    spec: {
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{ name: 'app', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
    },
  };
}

const violationsOf = (change: (pod: ReturnType<typeof compliant>) => void) => {
  const pod = compliant();
  change(pod);
  return restrictedViolations(pod as PodLike);
};

const app = 'spec.containers[app]';

describe('the restricted Pod Security Standard, control by control', () => {
  it('finds nothing in a pod with non-root at pod level, RuntimeDefault seccomp, no escalation and every capability dropped', () => {
    expect(restrictedViolations(compliant() as PodLike)).toEqual([]);
  });

  it('accepts runAsNonRoot and seccomp set in every container instead of the pod, and NET_BIND_SERVICE added back', () => {
    expect(
      violationsOf((pod) => {
        pod.spec.securityContext = {};
        pod.spec.containers[0].securityContext = {
          allowPrivilegeEscalation: false,
          runAsNonRoot: true,
          seccompProfile: { type: 'Localhost' },
          capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] },
        };
      }),
    ).toEqual([]);
  });

  it('HostProcess: refuses Windows host-process containers at pod and container level', () => {
    expect(
      violationsOf((pod) => {
        pod.spec.securityContext.windowsOptions = { hostProcess: true };
        pod.spec.containers[0].securityContext.windowsOptions = { hostProcess: true };
      }),
    ).toEqual([
      { control: 'HostProcess', profile: 'baseline', field: 'spec.securityContext.windowsOptions.hostProcess', value: true },
      { control: 'HostProcess', profile: 'baseline', field: `${app}.securityContext.windowsOptions.hostProcess`, value: true },
    ]);
  });

  it("Host Namespaces: refuses the host's network, PID and IPC namespaces", () => {
    expect(
      violationsOf((pod) => {
        pod.spec.hostNetwork = true;
        pod.spec.hostPID = true;
        pod.spec.hostIPC = true;
      }).map((v) => [v.control, v.field]),
    ).toEqual([
      ['Host Namespaces', 'spec.hostNetwork'],
      ['Host Namespaces', 'spec.hostPID'],
      ['Host Namespaces', 'spec.hostIPC'],
    ]);
  });

  it('Privileged Containers: refuses a privileged init container', () => {
    expect(
      violationsOf((pod) => {
        pod.spec.initContainers = [{ name: 'init', securityContext: { privileged: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }];
      }),
    ).toEqual([{ control: 'Privileged Containers', profile: 'baseline', field: 'spec.initContainers[init].securityContext.privileged', value: true }]);
  });

  it('Capabilities: refuses adding SYS_ADMIN (baseline and restricted) and CHOWN (restricted only), and a drop list without ALL', () => {
    expect(
      violationsOf((pod) => {
        pod.spec.containers[0].securityContext.capabilities = { drop: ['NET_RAW'], add: ['SYS_ADMIN', 'CHOWN'] };
      }),
    ).toEqual([
      { control: 'Capabilities', profile: 'baseline', field: `${app}.securityContext.capabilities.add`, value: 'SYS_ADMIN' },
      { control: 'Capabilities', profile: 'restricted', field: `${app}.securityContext.capabilities.drop`, value: ['NET_RAW'] },
      { control: 'Capabilities', profile: 'restricted', field: `${app}.securityContext.capabilities.add`, value: 'SYS_ADMIN' },
      { control: 'Capabilities', profile: 'restricted', field: `${app}.securityContext.capabilities.add`, value: 'CHOWN' },
    ]);
  });

  it('HostPath Volumes and Volume Types: refuses hostPath and nfs, allows emptyDir, configMap, secret, projected, PVCs', () => {
    expect(
      violationsOf((pod) => {
        pod.spec.volumes = [
          { name: 'tmp', emptyDir: {} },
          { name: 'cfg', configMap: { name: 'c' } },
          { name: 'sec', secret: { secretName: 's' } },
          { name: 'token', projected: { sources: [] } },
          { name: 'data', persistentVolumeClaim: { claimName: 'd' } },
          { name: 'host', hostPath: { path: '/var/run' } },
          { name: 'share', nfs: { server: 'nfs', path: '/' } },
        ];
      }),
    ).toEqual([
      { control: 'HostPath Volumes', profile: 'baseline', field: 'spec.volumes[host].hostPath', value: { path: '/var/run' } },
      { control: 'Volume Types', profile: 'restricted', field: 'spec.volumes[host].hostPath', value: { path: '/var/run' } },
      { control: 'Volume Types', profile: 'restricted', field: 'spec.volumes[share].nfs', value: { server: 'nfs', path: '/' } },
    ]);
  });

  it('Host Ports: refuses a hostPort, allows 0', () => {
    expect(
      violationsOf((pod) => {
        pod.spec.containers[0].ports = [
          { containerPort: 80, hostPort: 0 },
          { containerPort: 81, hostPort: 8081 },
        ];
      }),
    ).toEqual([{ control: 'Host Ports', profile: 'baseline', field: `${app}.ports[*].hostPort`, value: 8081 }]);
  });

  it('AppArmor: refuses Unconfined profiles and the unconfined annotation, allows runtime/default and localhost/*', () => {
    expect(
      violationsOf((pod) => {
        pod.spec.securityContext.appArmorProfile = { type: 'Unconfined' };
        pod.spec.containers[0].securityContext.appArmorProfile = { type: 'Localhost' };
        pod.metadata.annotations = {
          'container.apparmor.security.beta.kubernetes.io/app': 'unconfined',
          'container.apparmor.security.beta.kubernetes.io/other': 'localhost/custom',
          'container.apparmor.security.beta.kubernetes.io/third': 'runtime/default',
        };
      }),
    ).toEqual([
      { control: 'AppArmor', profile: 'baseline', field: 'spec.securityContext.appArmorProfile.type', value: 'Unconfined' },
      { control: 'AppArmor', profile: 'baseline', field: "metadata.annotations['container.apparmor.security.beta.kubernetes.io/app']", value: 'unconfined' },
    ]);
  });

  it('SELinux: refuses a custom type, user and role, allows container_t and a level', () => {
    expect(
      violationsOf((pod) => {
        pod.spec.securityContext.seLinuxOptions = { type: 'spc_t', user: 'system_u' };
        pod.spec.containers[0].securityContext.seLinuxOptions = { type: 'container_t', role: 'sysadm_r', level: 's0:c1,c2' };
      }),
    ).toEqual([
      { control: 'SELinux', profile: 'baseline', field: 'spec.securityContext.seLinuxOptions.type', value: 'spc_t' },
      { control: 'SELinux', profile: 'baseline', field: 'spec.securityContext.seLinuxOptions.user', value: 'system_u' },
      { control: 'SELinux', profile: 'baseline', field: `${app}.securityContext.seLinuxOptions.role`, value: 'sysadm_r' },
    ]);
  });

  it('/proc Mount Type: refuses Unmasked', () => {
    expect(violationsOf((pod) => (pod.spec.containers[0].securityContext.procMount = 'Unmasked'))).toEqual([
      { control: '/proc Mount Type', profile: 'baseline', field: `${app}.securityContext.procMount`, value: 'Unmasked' },
    ]);
  });

  it('Seccomp: refuses Unconfined (baseline and restricted) and a pod with no profile anywhere (restricted)', () => {
    expect(violationsOf((pod) => (pod.spec.securityContext.seccompProfile = { type: 'Unconfined' }))).toEqual([
      { control: 'Seccomp', profile: 'baseline', field: 'spec.securityContext.seccompProfile.type', value: 'Unconfined' },
      { control: 'Seccomp', profile: 'restricted', field: 'spec.securityContext.seccompProfile.type', value: 'Unconfined' },
      { control: 'Seccomp', profile: 'restricted', field: `${app}.securityContext.seccompProfile.type`, value: undefined },
    ]);
    expect(violationsOf((pod) => delete pod.spec.securityContext.seccompProfile)).toEqual([
      { control: 'Seccomp', profile: 'restricted', field: `${app}.securityContext.seccompProfile.type`, value: undefined },
    ]);
  });

  it('Sysctls: refuses an unsafe sysctl, allows a safe one', () => {
    expect(
      violationsOf((pod) => {
        pod.spec.securityContext.sysctls = [
          { name: 'net.ipv4.tcp_syncookies', value: '1' },
          { name: 'kernel.msgmax', value: '65536' },
        ];
      }),
    ).toEqual([{ control: 'Sysctls', profile: 'baseline', field: 'spec.securityContext.sysctls[*].name', value: 'kernel.msgmax' }]);
  });

  it('Privilege Escalation: refuses allowPrivilegeEscalation left unset as well as true', () => {
    expect(
      violationsOf((pod) => {
        delete pod.spec.containers[0].securityContext.allowPrivilegeEscalation;
        pod.spec.containers.push({ name: 'side', securityContext: { allowPrivilegeEscalation: true, capabilities: { drop: ['ALL'] } } });
      }),
    ).toEqual([
      { control: 'Privilege Escalation', profile: 'restricted', field: `${app}.securityContext.allowPrivilegeEscalation`, value: undefined },
      { control: 'Privilege Escalation', profile: 'restricted', field: 'spec.containers[side].securityContext.allowPrivilegeEscalation', value: true },
    ]);
  });

  it('Running as Non-root: refuses a container that overrides runAsNonRoot with false, and a pod where nothing requires it', () => {
    expect(violationsOf((pod) => (pod.spec.containers[0].securityContext.runAsNonRoot = false))).toEqual([
      { control: 'Running as Non-root', profile: 'restricted', field: `${app}.securityContext.runAsNonRoot`, value: false },
    ]);
    expect(violationsOf((pod) => delete pod.spec.securityContext.runAsNonRoot)).toEqual([
      { control: 'Running as Non-root', profile: 'restricted', field: `${app}.securityContext.runAsNonRoot`, value: undefined },
    ]);
  });

  it('Running as Non-root user: refuses uid 0 at pod and container level', () => {
    expect(
      violationsOf((pod) => {
        pod.spec.securityContext.runAsUser = 0;
        pod.spec.containers[0].securityContext.runAsUser = 0;
      }),
    ).toEqual([
      { control: 'Running as Non-root user', profile: 'restricted', field: 'spec.securityContext.runAsUser', value: 0 },
      { control: 'Running as Non-root user', profile: 'restricted', field: `${app}.securityContext.runAsUser`, value: 0 },
    ]);
  });

  it('checks ephemeral containers too, and finds the pod templates of Deployments, StatefulSets and CronJobs', () => {
    const pod = compliant();
    pod.spec.ephemeralContainers = [{ name: 'debug' }];
    expect(restrictedViolations(pod as PodLike).map((v) => `${v.control}: ${v.field}`)).toEqual([
      'Privilege Escalation: spec.ephemeralContainers[debug].securityContext.allowPrivilegeEscalation',
      'Capabilities: spec.ephemeralContainers[debug].securityContext.capabilities.drop',
    ]);
    const template = compliant();
    const found = podsOf([
      { kind: 'Deployment', metadata: { name: 'd' }, spec: { template } },
      { kind: 'StatefulSet', metadata: { name: 's' }, spec: { template } },
      { kind: 'CronJob', metadata: { name: 'c' }, spec: { jobTemplate: { spec: { template } } } },
      { kind: 'Service', metadata: { name: 'svc' }, spec: { ports: [] } },
    ]);
    expect(found.map((p) => p.owner)).toEqual(['Deployment/d', 'StatefulSet/s', 'CronJob/c']);
  });
});
