/**
 * The simulated fleet: the operations the FleetProvider port needs and the admin calls, composed from
 * the parts that decide what happens to a node — the journaled state (journal.ts), the idempotency
 * engine, fault injection, the patch-command engine and synthetic health (health.ts). The HTTP layer
 * (server.ts) only validates and routes.
 */
import type { InventoryAsset } from '../../domain/inventory';
import { checkBundle, describeBundleCheck, type BundleSource, type PackageSource } from '../../domain/package-source';
import { ProviderError, type ClusterMetrics, type HealthSample, type NodeManifest, type PatchStatus, type SnapshotRecord } from '../port';
import { assetOf, FleetSpecError, parseFleetSpec, type Fault, type FleetSpec, type FleetSpecInput } from './fleet-spec';
import { BundleShelf } from './bundles';
import { FaultInjector, openWindow } from './faults';
import { HealthModel } from './health';
import { IdempotencyEngine } from './idempotency';
import { DiskStore, FleetStore } from './journal';
import { iso, notFound, type NodeState, type PatchCommand, type RebootOption, type SavedSnapshot } from './model';
import type { MonitorQuery, MonitorReport } from './monitor';
import { PatchEngine } from './patch-engine';

const EMPTY_FLEET: FleetSpecInput = { name: 'empty', seed: 0, clusters: [] };

export interface SimFleetOptions {
  stateDir: string;
  /** Used when stateDir holds no state yet, or with `reset`. */
  fleet?: FleetSpecInput;
  /** Replace the state in stateDir with `fleet`. */
  reset?: boolean;
}

export class SimFleet {
  private readonly store: FleetStore;
  private readonly faults: FaultInjector;
  private readonly keys: IdempotencyEngine;
  private readonly commands: PatchEngine;
  private readonly health: HealthModel;
  private readonly bundles: BundleShelf;

  private constructor(
    disk: DiskStore,
    /** True when the state directory's state was resumed rather than a fleet loaded. */
    readonly resumed: boolean,
  ) {
    this.store = new FleetStore(disk);
    this.faults = new FaultInjector(this.store);
    this.keys = new IdempotencyEngine(this.store, this.faults);
    this.bundles = new BundleShelf(this.store, this.faults);
    this.commands = new PatchEngine(this.store, this.faults, this.bundles);
    this.health = new HealthModel(this.store, this.faults, this.commands);
  }

  static open(options: SimFleetOptions): SimFleet {
    const disk = new DiskStore(options.stateDir);
    const saved = disk.load();
    const resume = saved !== undefined && !(options.fleet && options.reset);
    const sim = new SimFleet(disk, resume);
    if (saved && resume) {
      sim.store.restore(saved);
      sim.commands.rearm();
      sim.store.compact();
    } else {
      sim.load(parseFleetSpec(options.fleet ?? EMPTY_FLEET, 'spec'));
    }
    return sim;
  }

  get fleetName(): string {
    return this.store.fleet.name;
  }

  get nodeCount(): number {
    return this.store.nodes.size;
  }

  // ---- reads ---------------------------------------------------------------------------------

  /** `all` (or the fleet's name), a cluster id, `tier-1`..`tier-3`, a node id, or several of these separated by commas. */
  inventory(scope: string): InventoryAsset[] {
    const { fleet, clusters, nodeSpecs } = this.store;
    const wanted = new Set<string>();
    for (const part of scope.split(',').map((s) => s.trim()).filter(Boolean)) {
      const tier = /^tier-?([123])$/.exec(part);
      const matched =
        part === 'all' || part === fleet.name
          ? [...nodeSpecs.keys()]
          : tier
            ? [...nodeSpecs.values()].filter((n) => n.cluster.tier === Number(tier[1])).map((n) => n.node.id)
            : clusters.has(part)
              ? clusters.get(part)!.nodes.map((n) => n.id)
              : nodeSpecs.has(part)
                ? [part]
                : undefined;
      if (!matched) {
        throw notFound(
          `scope "${part}" matches no cluster, tier or node of fleet "${fleet.name}"`,
          `use all, "${fleet.name}", a cluster id, tier-1..tier-3 or a node id`,
        );
      }
      matched.forEach((id) => wanted.add(id));
    }
    return [...nodeSpecs.values()]
      .filter(({ node }) => wanted.has(node.id))
      .map(({ cluster, node }) => assetOf(cluster, node, this.store.node(node.id).packages));
  }

  async checkHealth(nodeId: string): Promise<HealthSample> {
    this.read(nodeId, 'checkHealth');
    await this.store.pause(this.store.latency.draw(nodeId, 'health'), this.store.generation);
    return this.health.sample(nodeId);
  }

  async manifest(nodeId: string): Promise<NodeManifest> {
    this.read(nodeId, 'readManifest');
    await this.store.pause(this.store.latency.draw(nodeId, 'manifest'), this.store.generation);
    const node = this.commands.settled(nodeId);
    return {
      nodeId,
      packages: { ...node.packages },
      kernel: node.kernel,
      configChecksums: { ...node.configChecksums },
      staleServices: [...(node.staleServices ?? [])],
      capturedAt: iso(),
    };
  }

  /** The sha256 of each manifest file in the node's copy of the bundle (null: missing); a read, recorded with its verdict. */
  async bundleChecksums(nodeId: string, source: BundleSource): Promise<Record<string, string | null>> {
    this.read(nodeId, 'checkBundle');
    await this.store.pause(this.store.latency.draw(nodeId, 'manifest'), this.store.generation);
    const sums = this.bundles.checksums(this.commands.settled(nodeId), source);
    const check = checkBundle(source, sums);
    this.store.recordOperation({ nodeId, op: 'checkBundle', outcome: check.ok ? 'ok' : 'failed', detail: describeBundleCheck(check) });
    return sums;
  }

  /** The command's state; with `waitMs`, a long poll (see PatchEngine.status). */
  patchStatus(nodeId: string, commandId: string, waitMs = 0): Promise<PatchStatus> {
    this.read(nodeId, 'getPatchStatus');
    return this.commands.status(nodeId, commandId, waitMs);
  }

  async metrics(clusterId: string): Promise<ClusterMetrics> {
    const cluster = this.store.clusters.get(clusterId);
    if (!cluster) {
      throw notFound(`cluster "${clusterId}" is not in fleet "${this.store.fleet.name}"`, 'list clusters with GET /inventory?scope=all');
    }
    await this.store.pause(this.store.latency.draw(clusterId, 'metrics'), this.store.generation);
    return this.health.metrics(cluster);
  }

  // ---- mutations (each takes an idempotency key) -------------------------------------------

  snapshot(nodeId: string, key: string, tags: SavedSnapshot['tags']): Promise<SnapshotRecord> {
    return this.keys.once('snapshot', nodeId, key, async (generation) => {
      // Point in time: what the node holds when the snapshot starts.
      const before = this.commands.settled(nodeId);
      this.commands.refuseWhilePatching(before, 'snapshot');
      await this.store.pause(this.store.latency.draw(nodeId, 'snapshot'), generation);
      const node = this.store.node(nodeId);
      const n = node.snapshotCount + 1;
      const saved: SavedSnapshot = {
        id: `snap-${nodeId}-${n}`,
        configRef: `cfg-${nodeId}-${n}`,
        createdAt: iso(),
        packages: { ...before.packages },
        kernel: before.kernel,
        configChecksums: { ...before.configChecksums },
        tags,
      };
      this.store.update(nodeId, { snapshotCount: n, snapshots: { ...node.snapshots, [saved.id]: saved } });
      return {
        result: { snapshotIds: [saved.id], configRef: saved.configRef, createdAt: saved.createdAt },
        detail: saved.id,
        snapshotId: saved.id,
      };
    });
  }

  /** Takes the node out of the load balancer at once, then waits for its connections to drain, at most `timeoutMs`. */
  drain(nodeId: string, key: string, timeoutMs: number): Promise<Record<string, never>> {
    return this.keys.once('drain', nodeId, key, async (generation) => {
      let node = this.store.node(nodeId);
      if (!node.inService && node.outOfServiceBy !== key) {
        // Someone else holds this node (another campaign, an operator, a quarantine): never take it over.
        throw new ProviderError(
          'conflict',
          `node ${nodeId} is already out of the load balancer${node.outOfServiceBy ? ` (taken out by ${node.outOfServiceBy.split('#')[0]})` : ''}${node.quarantined ? ', quarantined' : ''}: another operation holds it; try again once it is back in service`,
        );
      }
      if (node.inService) {
        const slow = this.faults.faultOn(node, 'slow-drain');
        const drainMs = this.store.latency.draw(nodeId, 'drain') + (slow ? slow.delayMs * this.store.latency.scale : 0);
        node = this.store.update(nodeId, {
          inService: false,
          outOfServiceSince: iso(),
          outOfServiceBy: key,
          drainDoneAt: Date.now() + drainMs,
        });
      }
      const remaining = Math.max(0, (node.drainDoneAt ?? 0) - Date.now());
      if (remaining > timeoutMs) {
        await this.store.pause(timeoutMs, generation);
        throw new ProviderError(
          'deadline',
          `drain of node ${nodeId} did not finish within ${timeoutMs}ms (connections still open); ` +
            'the node stays out of the load balancer: retry the drain, or rejoin the node',
        );
      }
      await this.store.pause(remaining, generation);
      return { result: {} };
    });
  }

  /** Sends the patch command; it then runs for its drawn duration (see `patchStatus`). */
  startPatch(
    nodeId: string,
    key: string,
    packages: Array<{ name: string; fixedVersion: string }>,
    rebootOption: RebootOption,
    remediation: 'targeted' | 'baseline' = 'targeted',
    source?: PackageSource,
  ): Promise<{ commandId: string }> {
    return this.keys.once('startPatch', nodeId, key, (generation) =>
      this.commands.start(nodeId, key, { packages, rebootOption, remediation, ...(source && { source }) }, generation),
    );
  }

  /** Stops a running command; the node keeps whatever it had. Idempotent: a finished command stays as it ended. */
  cancelPatch(nodeId: string, commandId: string): void {
    this.read(nodeId, 'cancelPatch');
    this.commands.cancel(nodeId, commandId);
  }

  /** Runs the policy's check command: exit 0, unless a `check-fails` fault says the vulnerability still triggers. */
  async runCheck(nodeId: string, command: string): Promise<{ exitCode: number; output: string }> {
    this.read(nodeId, 'runCheck');
    await this.store.pause(this.store.latency.draw(nodeId, 'manifest'), this.store.generation);
    const fault = this.faults.faultOn(this.commands.settled(nodeId), 'check-fails');
    const answer = fault ? { exitCode: fault.exitCode, output: fault.output } : { exitCode: 0, output: '' };
    this.store.recordOperation({ nodeId, op: 'runCheck', outcome: answer.exitCode === 0 ? 'ok' : 'failed', detail: `${command} → exit ${answer.exitCode}` });
    return answer;
  }

  /** Restarts services: they map the new code afterwards, unless a `stale-library` fault says it survives restarts. */
  restartServices(nodeId: string, key: string, services: string[]): Promise<Record<string, never>> {
    return this.keys.once('restartServices', nodeId, key, async (generation) => {
      this.commands.refuseWhilePatching(this.commands.settled(nodeId), 'restart services on');
      await this.store.pause(this.store.latency.draw(nodeId, 'reapplyConfig'), generation);
      const node = this.store.node(nodeId);
      const sticky = this.faults.faultOn(node, 'stale-library')?.survivesRestart === true;
      const still = sticky ? (node.staleServices ?? []) : (node.staleServices ?? []).filter((s) => !services.includes(s));
      this.store.update(nodeId, { staleServices: still });
      return { result: {}, detail: `${services.join(', ')}${sticky ? ' (still running the old library: injected stale-library fault)' : ''}` };
    });
  }

  reapplyConfig(nodeId: string, key: string, baseline: NodeManifest): Promise<Record<string, never>> {
    return this.keys.once('reapplyConfig', nodeId, key, async (generation) => {
      if (baseline.nodeId !== nodeId) {
        throw new ProviderError('bad-input', `baseline manifest is of node ${baseline.nodeId}, not ${nodeId}; pass this node's pre-patch manifest`);
      }
      this.commands.refuseWhilePatching(this.commands.settled(nodeId), 'reapply config on');
      await this.store.pause(this.store.latency.draw(nodeId, 'reapplyConfig'), generation);
      const node = this.store.node(nodeId);
      this.store.update(nodeId, { configChecksums: { ...node.configChecksums, ...baseline.configChecksums } });
      return { result: {}, detail: Object.keys(baseline.configChecksums).join(', ') };
    });
  }

  restoreConfig(nodeId: string, key: string, snapshot: SnapshotRecord): Promise<Record<string, never>> {
    return this.keys.once('restoreConfig', nodeId, key, async (generation) => {
      const node = this.commands.settled(nodeId);
      this.commands.refuseWhilePatching(node, 'restore config on');
      const saved = findSnapshot(node, snapshot);
      await this.store.pause(this.store.latency.draw(nodeId, 'restoreConfig'), generation);
      this.faults.failIfRestoreFault(nodeId, 'config');
      this.store.update(nodeId, { configChecksums: { ...saved.configChecksums } });
      return { result: {}, detail: saved.configRef, snapshotId: saved.id };
    });
  }

  /** Puts the snapshot's packages and kernel back: the node runs the old version again. */
  restoreData(nodeId: string, key: string, snapshot: SnapshotRecord): Promise<Record<string, never>> {
    return this.keys.once('restoreData', nodeId, key, async (generation) => {
      const node = this.commands.settled(nodeId);
      this.commands.refuseWhilePatching(node, 'restore data on');
      const saved = findSnapshot(node, snapshot);
      await this.store.pause(this.store.latency.draw(nodeId, 'restoreData'), generation);
      this.faults.failIfRestoreFault(nodeId, 'data');
      this.store.update(nodeId, { packages: { ...saved.packages }, kernel: saved.kernel, patched: false, staleServices: [] });
      return { result: {}, detail: saved.id, snapshotId: saved.id };
    });
  }

  /** Back into the load balancer. A node already in service is left alone; a quarantine is lifted (an operator's retry). */
  rejoin(nodeId: string, key: string): Promise<Record<string, never>> {
    return this.keys.once('rejoin', nodeId, key, async (generation) => {
      this.commands.refuseWhilePatching(this.commands.settled(nodeId), 'rejoin');
      if (this.store.node(nodeId).inService) return { result: {}, detail: 'already in service' };
      await this.store.pause(this.store.latency.draw(nodeId, 'rejoin'), generation);
      const node = this.commands.settled(nodeId);
      this.commands.refuseWhilePatching(node, 'rejoin');
      if (node.inService) return { result: {}, detail: 'already in service' };
      this.store.update(nodeId, {
        inService: true,
        quarantined: false,
        quarantineReason: undefined,
        outOfServiceSince: undefined,
        outOfServiceBy: undefined,
        drainDoneAt: undefined,
      });
      return { result: {}, ...(node.quarantined && { detail: `lifted quarantine: ${node.quarantineReason}` }) };
    });
  }

  /** Out of service at once, with the reason kept; allowed in any state, since it is the last resort. */
  quarantine(nodeId: string, key: string, reason: string): Promise<Record<string, never>> {
    return this.keys.once('quarantine', nodeId, key, async (generation) => {
      const node = this.store.node(nodeId);
      this.store.update(nodeId, {
        inService: false,
        quarantined: true,
        quarantineReason: reason,
        outOfServiceSince: node.outOfServiceSince ?? iso(),
        outOfServiceBy: node.outOfServiceBy ?? key,
      });
      await this.store.pause(this.store.latency.draw(nodeId, 'quarantine'), generation);
      return { result: {}, detail: reason };
    });
  }

  // ---- admin ---------------------------------------------------------------------------------

  /** Loads a new fleet; everything the old one did is forgotten. */
  reset(input: unknown): FleetSpec {
    let spec: FleetSpec;
    try {
      spec = parseFleetSpec(input, 'in reset request');
    } catch (err) {
      if (err instanceof FleetSpecError) throw new ProviderError('bad-input', err.message);
      throw err;
    }
    this.load(spec);
    return spec;
  }

  listFaults(): Fault[] {
    return this.faults.list();
  }

  /** Validates and adds faults; returns them with their ids. */
  addFaults(inputs: unknown[]): Fault[] {
    return this.faults.add(inputs);
  }

  /** Removes one fault by id, or all of them; returns how many were removed. */
  clearFaults(id?: string): number {
    return this.faults.clear(id);
  }

  monitorReport(query: MonitorQuery): MonitorReport {
    const drainedNow = [...this.store.nodes.values()]
      .filter((n) => !n.inService)
      .map((n) => ({
        nodeId: n.id,
        cluster: n.cluster,
        quarantined: n.quarantined,
        ...(n.quarantineReason !== undefined && { reason: n.quarantineReason }),
        ...(n.outOfServiceSince !== undefined && { since: n.outOfServiceSince }),
      }));
    const { latency } = this.store;
    return this.store.monitor.report(query, { drainedNow, latencyScale: latency.scale, latencyDraws: () => latency.allDraws() });
  }

  /** Everything the simulator holds about one node, with its latest patch command. */
  nodeState(nodeId: string): NodeState & { command?: PatchCommand } {
    const node = this.commands.settled(nodeId);
    const command = node.commandId ? this.store.commands.get(node.commandId) : undefined;
    return { ...node, ...(command && { command }) };
  }

  /** Compacts and closes the files. Call once no call is running any more (the server waits for them). */
  close(): void {
    this.commands.disarmAll();
    this.store.close();
  }

  /** A read: the node must exist and the fleet API must answer (faults may refuse it). */
  private read(nodeId: string, call: string): void {
    this.store.node(nodeId);
    this.faults.throttle(nodeId, call);
  }

  private load(fleet: FleetSpec): void {
    this.commands.disarmAll();
    this.keys.reset();
    this.faults.reset();
    this.store.load(fleet, openWindow);
  }
}

function findSnapshot(node: NodeState, record: SnapshotRecord): SavedSnapshot {
  const saved =
    record.snapshotIds.map((id) => node.snapshots[id]).find((s) => s !== undefined) ??
    Object.values(node.snapshots).find((s) => s.configRef === record.configRef);
  if (!saved) {
    const known = Object.keys(node.snapshots);
    throw notFound(
      `snapshot ${record.snapshotIds.join(', ') || record.configRef} does not belong to node ${node.id}`,
      known.length > 0 ? `its snapshots are ${known.join(', ')}` : 'the node has no snapshots; take one first',
    );
  }
  return saved;
}
