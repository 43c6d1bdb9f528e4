/** The demo's alert and policy: a real CVE against the simulated fleet, with short durations. */
import type { NormalizedAlert } from '../domain/alert';
import type { PolicyInput } from '../domain/policy';

/** CVE-2024-6387 ("regreSSHion"): unauthenticated remote code execution in OpenSSH's sshd; public exploits exist. */
export function demoAlert(scope = 'demo'): NormalizedAlert {
  return {
    cveId: 'CVE-2024-6387',
    title: 'OpenSSH regreSSHion: signal handler race in sshd allows unauthenticated remote code execution',
    cvss: { score: 8.1, vector: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H', version: '3.1' },
    packages: [{ name: 'openssh-server', fixedVersion: '9.8.1' }],
    exploitAvailable: true,
    remoteCodeExecution: true,
    scope,
    source: 'demo',
  };
}

/** Real procedure, demo clock: seconds instead of minutes. */
export const demoPolicy: PolicyInput = {
  healthCheckInterval: '250ms',
  healthyChecksRequired: 3,
  coolOffMax: '20s',
  drainTimeout: '10s',
  patchTimeout: '30s',
  patchPollInterval: '250ms',
  tierMonitoringWindow: '2s',
  clusterSettle: '500ms',
  haltAfterFailures: 1,
};
