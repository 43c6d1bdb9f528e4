/**
 * The patch-command engine: a command is decided when it starts (from the faults active then, like a
 * real run decided by the repository's state at that moment), runs for its drawn duration and then
 * lands on the node — upgraded packages, a new kernel or not, stale services, drifted config.
 */
import { describeBundleCheck, type PackageSource } from '../../domain/package-source';
import { compareVersions } from '../../domain/versions';
import { ProviderError, type PatchStatus } from '../port';
import type { BundleShelf } from './bundles';
import { configChecksum } from './fleet-spec';
import type { FaultInjector } from './faults';
import type { FleetStore } from './journal';
import { notFound, type Applied, type NodeState, type PatchCommand, type RebootOption } from './model';

export interface PatchRequest {
  packages: Array<{ name: string; fixedVersion: string }>;
  rebootOption: RebootOption;
  remediation: 'targeted' | 'baseline';
  /** Absent or `default`: the fleet's repository. */
  source?: PackageSource;
}

export class PatchEngine {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly store: FleetStore,
    private readonly faults: FaultInjector,
    private readonly bundles: BundleShelf,
  ) {}

  /** Sends the command (the body of `startPatch`, run once per idempotency key). */
  async start(nodeId: string, key: string, request: PatchRequest, generation: number): Promise<Applied<{ commandId: string }>> {
    const { store } = this;
    this.refuseUnpatchable(this.settled(nodeId));
    await store.pause(store.latency.draw(nodeId, 'sendCommand'), generation);
    // Checked again: the node may have rejoined or got another command while this one was being sent.
    const node = this.settled(nodeId);
    this.refuseUnpatchable(node);

    const source = request.source;
    if (source?.kind === 'bundle') {
      // Checked again here, not only before the drain: nothing installs from a bundle that fails its manifest now.
      const check = this.bundles.verify(node, source);
      if (!check.ok) throw new ProviderError('conflict', `patch of node ${nodeId} refused before anything was installed: ${describeBundleCheck(check)}`);
    }

    const n = node.commandCount + 1;
    const fail = this.faults.faultOn(node, 'patch-fails');
    const hang = this.faults.faultOn(node, 'unreachable-repo');
    const drift = this.faults.faultOn(node, 'config-drift');
    // The mirror this node installs from, as it is when the command starts.
    const lag = this.faults.faultOn(node, 'repo-lag');
    const kernel = store.fleet.availableKernel;
    const reboot = request.rebootOption === 'RebootIfNeeded' && kernel !== undefined && kernel !== node.kernel;
    const startedAt = Date.now();
    const command: PatchCommand = {
      id: `cmd-${nodeId}-${n}`,
      nodeId,
      key,
      packages: [...new Set(request.packages.map((p) => p.name))],
      remediation: request.remediation,
      ...(source?.kind === 'bundle' && { source: { kind: 'bundle' as const, name: source.name, versions: this.bundles.versions(source) } }),
      ...(source?.kind === 'mirror' && { source: { kind: 'mirror' as const, url: source.url } }),
      ...(lag && { lag: { ...(lag.package !== undefined && { package: lag.package }), ...(lag.version !== undefined && { version: lag.version }) } }),
      rebootOption: request.rebootOption,
      startedAt,
      finishAt: hang ? null : startedAt + store.latency.draw(nodeId, 'patch') + (reboot ? store.latency.draw(nodeId, 'reboot') : 0),
      plan: hang ? 'hang' : fail ? (fail.partial ? 'partial-fail' : 'fail') : 'success',
      reboot,
      ...(drift && { driftPath: drift.path ?? Object.keys(node.configChecksums)[0] }),
      state: 'InProgress',
    };
    store.saveCommand(command);
    store.update(nodeId, { commandCount: n, commandId: command.id });
    this.arm(command);
    return { result: { commandId: command.id }, detail: `${command.id}${hang ? ' (will never finish: unreachable-repo fault)' : ''}` };
  }

  /**
   * The command's state. With `waitMs`, an in-progress command is answered when it finishes or
   * after `waitMs`, whichever is first (a long poll): the fleet runs at a fraction of real time, where
   * polling at a realistic pace would be far too coarse and polling fast would cost more than the
   * work it watches.
   */
  async status(nodeId: string, commandId: string, waitMs: number): Promise<PatchStatus> {
    this.settled(nodeId);
    let command = this.command(nodeId, commandId);
    // A timer may fire a millisecond before Date.now() reaches its due time: wait again rather than
    // answer InProgress for a command that finishes within the wait.
    const deadline = Date.now() + waitMs;
    while (command.state === 'InProgress' && Date.now() < deadline) {
      const untilFinish = command.finishAt === null ? Infinity : command.finishAt - Date.now() + 1;
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.min(deadline - Date.now(), untilFinish))));
      this.settled(nodeId);
      command = this.command(nodeId, commandId);
    }
    if (command.state === 'InProgress') return { state: 'InProgress' };
    if (command.state === 'Success') return { state: 'Success', ...(command.detail && { detail: command.detail }) };
    return { state: 'Failed', detail: command.detail ?? 'failed' };
  }

  /** Stops a running command; the node keeps whatever it had. Idempotent: a finished command stays as it ended. */
  cancel(nodeId: string, commandId: string): void {
    this.settled(nodeId);
    const command = this.command(nodeId, commandId);
    if (command.state !== 'InProgress') {
      this.store.recordOperation({ nodeId, op: 'cancelPatch', outcome: 'ok', detail: `${commandId} had already ended: ${command.state}` });
      return;
    }
    this.disarm(command.id);
    this.store.saveCommand({ ...command, state: 'Failed', detail: `patch command ${commandId} on node ${nodeId} was cancelled` });
    this.store.recordOperation({ nodeId, op: 'cancelPatch', outcome: 'ok', detail: commandId });
  }

  /** The node after completing a patch command whose time has come (timers may lag a busy event loop). */
  settled(nodeId: string): NodeState {
    const node = this.store.node(nodeId);
    const command = node.commandId ? this.store.commands.get(node.commandId) : undefined;
    if (command?.state === 'InProgress' && command.finishAt !== null && command.finishAt <= Date.now()) {
      this.complete(command.id);
      return this.store.node(nodeId);
    }
    return node;
  }

  runningCommand(node: NodeState): PatchCommand | undefined {
    const command = node.commandId ? this.store.commands.get(node.commandId) : undefined;
    return command?.state === 'InProgress' ? command : undefined;
  }

  refuseWhilePatching(node: NodeState, action: string): void {
    const running = this.runningCommand(node);
    if (running) {
      throw new ProviderError(
        'conflict',
        `cannot ${action} node ${node.id}: patch command ${running.id} is still running; wait for it to end or cancel it first`,
      );
    }
  }

  /** After a restart: commands that were running carry on to their end. */
  rearm(): void {
    for (const command of this.store.commands.values()) if (command.state === 'InProgress') this.arm(command);
  }

  disarmAll(): void {
    for (const id of [...this.timers.keys()]) this.disarm(id);
  }

  /** A serving node is never patched: that is the availability guarantee the whole campaign rests on. */
  private refuseUnpatchable(node: NodeState): void {
    if (node.inService) {
      throw new ProviderError('conflict', `node ${node.id} is in service (in the load balancer); drain it before patching`);
    }
    this.refuseWhilePatching(node, 'start another patch on');
  }

  private command(nodeId: string, commandId: string): PatchCommand {
    const command = this.store.commands.get(commandId);
    if (!command || command.nodeId !== nodeId) {
      throw notFound(`patch command "${commandId}" does not exist on node ${nodeId}`, 'use the commandId that startPatch returned for this node');
    }
    return command;
  }

  /** Completes the command when its time comes, so the monitor sees the patch land even if nobody polls. */
  private arm(command: PatchCommand): void {
    if (command.finishAt === null) return;
    const timer = setTimeout(() => this.complete(command.id), Math.max(0, command.finishAt - Date.now()));
    this.timers.set(command.id, timer);
  }

  private disarm(commandId: string): void {
    clearTimeout(this.timers.get(commandId));
    this.timers.delete(commandId);
  }

  private complete(commandId: string): void {
    this.disarm(commandId);
    const { store } = this;
    const command = store.commands.get(commandId);
    if (!command || command.state !== 'InProgress') return;
    const node = store.node(command.nodeId);
    const lag = command.lag;
    const bundle = command.source?.kind === 'bundle' ? command.source : undefined;
    // What the node installs from: a bundle offers its own versions and nothing else (air-gapped);
    // otherwise the fleet's repository (or a mirror of it), unless it lags for this package.
    const offered = (name: string): string | undefined =>
      bundle
        ? bundle.versions[name]
        : lag && (lag.package === undefined || lag.package === name)
          ? (lag.version ?? node.packages[name])
          : store.fleet.packageRepo[name];
    const candidates = command.remediation === 'baseline' ? Object.keys(node.packages) : command.packages;
    const applicable = candidates.filter((name) => {
      const installed = node.packages[name];
      const available = offered(name);
      return installed !== undefined && available !== undefined && compareVersions(available, installed) > 0;
    });
    const upgrade = (names: string[]) => Object.fromEntries(names.map((name) => [name, offered(name)!]));
    const describe = (names: string[]) => names.map((name) => `${name} ${node.packages[name]} → ${offered(name)}`).join(', ');

    if (command.plan === 'fail' || command.plan === 'partial-fail') {
      const done = command.plan === 'partial-fail' ? applicable.slice(0, Math.floor(applicable.length / 2)) : [];
      const detail =
        `patch command ${commandId} on node ${command.nodeId} failed: the package manager exited with code 100 ` +
        `(injected patch-fails fault)${done.length > 0 ? `; already upgraded before the failure: ${describe(done)}` : '; no package was upgraded'}`;
      if (done.length > 0) store.update(command.nodeId, { packages: { ...node.packages, ...upgrade(done) } });
      store.saveCommand({ ...command, state: 'Failed', detail });
      store.recordOperation({ nodeId: command.nodeId, op: 'patchComplete', key: command.key, outcome: 'failed', detail });
      return;
    }

    const configChecksums = { ...node.configChecksums };
    if (command.driftPath) configChecksums[command.driftPath] = configChecksum(`${configChecksums[command.driftPath] ?? ''} reset by the package's postinst`);
    // A kernel image the patch upgraded runs only after a reboot, which NoReboot forbids.
    const kernelUpgrade = applicable.find((name) => /^(kernel|kernel-core|kernel-default|linux-image(-.*)?|linux-generic)$/.test(name));
    const kernel = command.reboot
      ? store.fleet.availableKernel!
      : kernelUpgrade && command.rebootOption === 'RebootIfNeeded'
        ? offered(kernelUpgrade)!
        : node.kernel;
    const stale = applicable.length > 0 ? this.faults.faultOn(node, 'stale-library') : undefined;
    const notes = [
      ...(command.source ? [`installed from ${command.source.kind === 'bundle' ? `bundle ${command.source.name}` : `mirror ${command.source.url}`}`] : []),
      applicable.length > 0
        ? `upgraded ${describe(applicable)}`
        : `no applicable updates for ${command.packages.join(', ')} (not installed, or the repository has nothing newer)`,
      ...(kernel !== node.kernel ? [`rebooted into kernel ${kernel}`] : []),
      ...(kernelUpgrade && kernel === node.kernel ? [`kernel ${offered(kernelUpgrade)} installed; still running ${kernel} (no reboot)`] : []),
      ...(stale ? [`${stale.services.join(', ')} still map the old library`] : []),
      ...(command.driftPath ? [`${command.driftPath} was rewritten`] : []),
    ];
    store.update(command.nodeId, {
      packages: { ...node.packages, ...upgrade(applicable) },
      kernel,
      configChecksums,
      patched: true,
      staleServices: stale ? [...new Set([...(node.staleServices ?? []), ...stale.services])] : (node.staleServices ?? []),
      patchCompletions: node.patchCompletions + 1,
      checksSincePatch: 0,
    });
    store.saveCommand({ ...command, state: 'Success', detail: notes.join('; ') });
    store.recordOperation({ nodeId: command.nodeId, op: 'patchComplete', key: command.key, outcome: 'ok', detail: notes.join('; ') });
  }
}
