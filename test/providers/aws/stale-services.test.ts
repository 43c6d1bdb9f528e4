/**
 * Stale services on AWS: the parsers of `needrestart -b` and `needs-restarting -s` over sample
 * outputs; the manifest script running the tool for real in this machine's bash (a stand-in tool on
 * PATH prints the sample, the script's own plumbing — gzip, base64, JSON — is real); and, against
 * moto with the node emulator, the request shape and the restart that clears them.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { manifestScript, parseManifest } from '../../../src/providers/aws/manifest';
import type { AwsFleetProvider } from '../../../src/providers/aws/provider';
import { parseNeedrestart, parseNeedsRestarting, parseStaleServices } from '../../../src/providers/aws/stale-services';
import { seedTestFleet, startAwsTestPeer, type AwsTestPeer } from '../../support/aws-fleet';

/** The example in needrestart's own README.batch.md (needrestart 3.6, Debian 12's package). */
const NEEDRESTART_README = [
  'NEEDRESTART-VER: 2.1',
  'NEEDRESTART-KCUR: 3.19.3-tl1+',
  'NEEDRESTART-KEXP: 3.19.3-tl1+',
  'NEEDRESTART-KSTA: 1',
  'NEEDRESTART-SVC: systemd-journald.service',
  'NEEDRESTART-SVC: systemd-machined.service',
  'NEEDRESTART-CONT: LXC web1',
  'NEEDRESTART-SESS: metabase @ user manager service',
  'NEEDRESTART-SESS: root @ session #28017',
  '',
].join('\n');

/**
 * Captured on this project's build machine (Debian 12 container, no systemd): `needrestart -b -r l`
 * from Debian's needrestart 3.6-4+deb12u4 while a process mapped a replaced library — it found the
 * process, but with no systemd there is no service to name. Note the empty UCEXP value.
 */
const NEEDRESTART_NO_SERVICES = ['NEEDRESTART-VER: 3.6', 'NEEDRESTART-KCUR: 6.18.44-fc-v669', 'NEEDRESTART-KSTA: 0', 'NEEDRESTART-UCSTA: 1', 'NEEDRESTART-UCCUR: 0x0001', 'NEEDRESTART-UCEXP: ', ''].join('\n');

/**
 * `needs-restarting -s` (dnf-plugins-core, plugins/needs_restarting.py: one unit id per line, as
 * systemd names the unit of each stale process), on a RHEL host registered with subscription-manager,
 * whose dnf plugin prints its notice first.
 */
const NEEDS_RESTARTING = [
  'Updating Subscription Management repositories.',
  'sshd.service',
  'NetworkManager.service',
  'user@1000.service',
  'systemd-fsck@dev-disk-by\\x2duuid-0f3c.service',
  'session-4.scope',
  'sshd.service',
  '',
].join('\n');

describe('parsing what the tools print', () => {
  it('needrestart -b: the NEEDRESTART-SVC units, nothing from kernel, container or session lines', () => {
    expect(parseNeedrestart(NEEDRESTART_README)).toEqual(['systemd-journald.service', 'systemd-machined.service']);
    expect(parseNeedrestart(NEEDRESTART_NO_SERVICES)).toEqual([]);
    // CRLF, as a Windows-edited fixture or a pasted log would have it.
    expect(parseNeedrestart('NEEDRESTART-SVC: ssh.service\r\n')).toEqual(['ssh.service']);
  });

  it('needs-restarting -s: service units, each once, sorted; not notices, scopes or user managers', () => {
    expect(parseNeedsRestarting(NEEDS_RESTARTING)).toEqual(['NetworkManager.service', 'sshd.service', 'systemd-fsck@dev-disk-by\\x2duuid-0f3c.service']);
    expect(parseNeedsRestarting('')).toEqual([]);
  });

  it('no tool, or a tool that failed: not checked (undefined), never "nothing stale"', () => {
    expect(parseStaleServices('none', '')).toBeUndefined();
    expect(parseStaleServices('failed', NEEDRESTART_README)).toBeUndefined();
    expect(parseStaleServices(undefined, '')).toBeUndefined();
    expect(parseStaleServices('needrestart', NEEDRESTART_README)).toHaveLength(2);
  });
});

describe('the manifest script runs the tool', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'patchwave-stale-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs the real script with `tool` on PATH printing `output` (and logging its arguments). */
  function runWith(tool: 'needrestart' | 'needs-restarting', output: string) {
    const bin = join(dir, 'bin');
    execFileSync('mkdir', ['-p', bin]);
    writeFileSync(join(dir, 'out.txt'), output);
    writeFileSync(join(bin, tool), `#!/bin/sh\necho "$@" > '${dir}/args.txt'\ncat '${dir}/out.txt'\n`);
    chmodSync(join(bin, tool), 0o755);
    const stdout = execFileSync('bash', ['-c', manifestScript('i-local', [], join(dir, 'backup')).join('\n')], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin` },
    });
    return { manifest: parseManifest('i-local', stdout, 'now'), args: execFileSync('cat', [join(dir, 'args.txt')], { encoding: 'utf8' }).trim() };
  }

  it('needrestart in batch, list-only mode; its services reach the manifest', () => {
    const { manifest, args } = runWith('needrestart', NEEDRESTART_README);
    expect(args).toBe('-b -r l');
    expect(manifest.staleServices).toEqual(['systemd-journald.service', 'systemd-machined.service']);
  });

  it('needs-restarting -s on the RHEL family', () => {
    const { manifest, args } = runWith('needs-restarting', NEEDS_RESTARTING);
    expect(args).toBe('-s');
    expect(manifest.staleServices).toEqual(['NetworkManager.service', 'sshd.service', 'systemd-fsck@dev-disk-by\\x2duuid-0f3c.service']);
  });

  it('neither installed: the manifest says not checked', () => {
    const stdout = execFileSync('bash', ['-c', manifestScript('i-local', [], join(dir, 'backup')).join('\n')], { encoding: 'utf8', env: { ...process.env, PATH: '/usr/bin:/bin' } });
    expect(parseManifest('i-local', stdout, 'now').staleServices).toBeUndefined();
  });
});

describe('against moto with the node emulator', () => {
  let peer: AwsTestPeer;
  let provider: AwsFleetProvider;
  const ctx = (node: string, step: string) => ({ idempotencyKey: `campaign:CVE-2024-6387:all/node:${node}#${step}`, campaignId: 'campaign:CVE-2024-6387:all', cveId: 'CVE-2024-6387' });

  beforeAll(async () => {
    peer = await startAwsTestPeer();
  }, 180_000);
  afterAll(async () => peer?.stop());

  it('the manifest command asks the node, a patch that leaves ssh on the old library shows it, a restart clears it', async () => {
    await peer.reset();
    const [node] = (await seedTestFleet(peer.moto.endpoint, { size: 1 })).instanceIds;
    provider = peer.provider();
    peer.emulator.staleOnPatch(node, 'ssh.service');
    expect((await provider.readManifest(node, ctx(node, 'preflight'))).staleServices).toEqual([]);

    // The request: AWS-RunShellScript whose script runs the tools, listing only.
    const manifestCall = peer.layer.callsOf('SendCommand').find((c) => c.params.DocumentName === 'AWS-RunShellScript')!;
    const script = (manifestCall.params.Parameters as { commands: string[] }).commands.join('\n');
    expect(script).toContain('needrestart -b -r l');
    expect(script).toContain('needs-restarting -s');

    await provider.drainNode(node, { ...ctx(node, 'drain'), timeoutMs: 5_000 });
    const { commandId } = await provider.startPatch(node, { ...ctx(node, 'patch'), packages: [{ name: 'openssh-server', fixedVersion: '1:8.9p1-3ubuntu0.10' }], rebootOption: 'NoReboot' });
    for (let i = 0; i < 20 && (await provider.getPatchStatus(node, commandId)).state === 'InProgress'; i++);
    expect((await provider.readManifest(node, ctx(node, 'verify'))).staleServices).toEqual(['ssh.service']);

    await provider.restartServices(node, ['ssh.service'], ctx(node, 'restart-services'));
    const restart = peer.layer.callsOf('SendCommand').filter((c) => c.params.DocumentName === 'AWS-RunShellScript').at(-1)!;
    expect((restart.params.Parameters as { commands: string[] }).commands).toContain("systemctl restart -- 'ssh.service'");
    expect((await provider.readManifest(node, ctx(node, 'verify-after-restart'))).staleServices).toEqual([]);
  });
});
