/**
 * The simulated fleet: node state, the operations the FleetProvider port needs, fault injection, and
 * persistence. The HTTP layer (server.ts) only validates and routes; everything that decides what
 * happens to a node lives here.
 *
 * Persistence is event-sourced so it scales to 10,000 nodes at thousands of operations a minute:
 * - `journal.jsonl`: every state mutation (a node's whole new state, a patch command, an idempotency
 *   result, the fault list), appended without fsync. Compacted into `state.json` when it grows.
 * - `history.jsonl`: the monitor's records and latency draws. History is never rewritten; a reset
 *   truncates it.
 * Startup loads `state.json`, replays the journal and the history, re-arms running patch commands.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { InventoryAsset } from '../../domain/inventory';
import { compareVersions } from '../../domain/versions';
import {
  ProviderError,
  type ClusterMetrics,
  type HealthSample,
  type NodeManifest,
  type PatchStatus,
  type SnapshotRecord,
} from '../port';
import {
  assetOf,
  assignFaultIds,
  checkFaultTargets,
  configChecksum,
  describeIssues,
  faultSchema,
  FleetSpecError,
  parseFleetSpec,
  type ClusterSpec,
  type Fault,
  type FaultKind,
  type FleetSpec,
  type FleetSpecInput,
  type NodeSpec,
} from './fleet-spec';
import { LatencyModel, unitDraw, type LatencyOp } from './latency';
import {
  FleetMonitor,
  type MonitorQuery,
  type MonitorReport,
  type OperationName,
  type OperationRecord,
  type OutOfServiceChange,
} from './monitor';

export interface SavedSnapshot {
  id: string;
  configRef: string;
  createdAt: string;
  packages: Record<string, string>;
  kernel: string;
  configChecksums: Record<string, string>;
  tags: { cveId: string; campaignId: string; retentionDays: number };
}

export interface NodeState {
  id: string;
  cluster: string;
  packages: Record<string, string>;
  kernel: string;
  configChecksums: Record<string, string>;
  /** The node's own health, apart from faults and patching. */
  healthy: boolean;
  /** In the load balancer. Anything else counts as out of service. */
  inService: boolean;
  quarantined: boolean;
  quarantineReason?: string;
  /** When the node left the load balancer, and the idempotency key of the call that took it out. */
  outOfServiceSince?: string;
  outOfServiceBy?: string;
  /** Epoch ms at which the node's connections have drained. */
  drainDoneAt?: number;
  /** Snapshot id → what it saved. */
  snapshots: Record<string, SavedSnapshot>;
  /** The node's latest patch command. */
  commandId?: string;
  /** Make ids readable and unique per node: snap-<node>-<n>, cmd-<node>-<n>. */
  snapshotCount: number;
  commandCount: number;
  /** A successful patch is in place (restoreData clears it): what a `regression` fault reacts to. */
  patched: boolean;
  /** Services still running code the last patch replaced (absent in state saved before this existed). */
  staleServices?: string[];
  /** Successful patch completions, and health checks since the last one (`health-flaps` counts them). */
  patchCompletions: number;
  checksSincePatch: number;
}

export interface PatchCommand {
  id: string;
  nodeId: string;
  key: string;
  packages: string[];
  rebootOption: RebootOption;
  startedAt: number;
  /** Epoch ms at which the command ends; null when it never will (unreachable repository). */
  finishAt: number | null;
  /** Decided from the faults active when the command starts, like a real run decided by the repo state then. */
  plan: 'success' | 'fail' | 'partial-fail' | 'hang';
  reboot: boolean;
  /** `targeted` upgrades the named packages only; `baseline`, every installed package the repository has newer. Absent: targeted. */
  remediation?: 'targeted' | 'baseline';
  /** A `repo-lag` fault active at the start: the node's mirror offers `version` (or nothing newer) for `package` (or every package). */
  lag?: { package?: string; version?: string };
  /** Config file a `config-drift` fault rewrites when the command succeeds. */
  driftPath?: string;
  state: 'InProgress' | 'Success' | 'Failed';
  detail?: string;
}

export type RebootOption = 'RebootIfNeeded' | 'NoReboot';

interface KeyEntry {
  op: OperationName;
  nodeId: string;
  result: unknown;
}

interface StoredState {
  version: 1;
  fleet: FleetSpec;
  nodes: NodeState[];
  commands: PatchCommand[];
  keys: Array<[string, KeyEntry]>;
  faults: Fault[];
}

type JournalEntry =
  | { t: 'node'; node: NodeState }
  | { t: 'command'; command: PatchCommand }
  | { t: 'key'; key: string; entry: KeyEntry }
  | { t: 'faults'; faults: Fault[] };

type HistoryEntry =
  | { t: 'op'; record: OperationRecord }
  | { t: 'oos'; change: OutOfServiceChange }
  | { t: 'draw'; subject: string; op: LatencyOp; ms: number };

/** Journal size that triggers compaction: a few MB of snapshot rewritten every few thousand operations at most. */
const COMPACT_AFTER_BYTES = 32 * 1024 * 1024;

const EMPTY_FLEET: FleetSpecInput = { name: 'empty', seed: 0, clusters: [] };

/** Append-only files in the state directory. Synchronous writes keep every record in order and on disk (page cache) before the reply. */
class DiskStore {
  private readonly statePath: string;
  private readonly journalPath: string;
  private readonly historyPath: string;
  private journalFd: number;
  private historyFd: number;
  journalBytes = 0;

  constructor(dir: string) {
    fs.mkdirSync(dir, { recursive: true });
    this.statePath = path.join(dir, 'state.json');
    this.journalPath = path.join(dir, 'journal.jsonl');
    this.historyPath = path.join(dir, 'history.jsonl');
    this.journalFd = fs.openSync(this.journalPath, 'a');
    this.historyFd = fs.openSync(this.historyPath, 'a');
  }

  load(): { state: StoredState; journal: JournalEntry[]; history: HistoryEntry[] } | undefined {
    if (!fs.existsSync(this.statePath)) return undefined;
    const state = JSON.parse(fs.readFileSync(this.statePath, 'utf8')) as StoredState;
    if (state.version !== 1) {
      throw new Error(`${this.statePath}: unsupported state version ${String(state.version)}; start with --reset to replace it`);
    }
    return { state, journal: readJsonLines<JournalEntry>(this.journalPath), history: readJsonLines<HistoryEntry>(this.historyPath) };
  }

  appendJournal(entry: JournalEntry): void {
    const line = `${JSON.stringify(entry)}\n`;
    fs.writeSync(this.journalFd, line);
    this.journalBytes += Buffer.byteLength(line);
  }

  appendHistory(entry: HistoryEntry): void {
    fs.writeSync(this.historyFd, `${JSON.stringify(entry)}\n`);
  }

  /** Writes the whole state (temp file + rename, so a crash leaves the old or the new one) and empties the journal. */
  compact(state: StoredState): void {
    const temp = `${this.statePath}.tmp`;
    fs.writeFileSync(temp, JSON.stringify(state));
    fs.renameSync(temp, this.statePath);
    // Entries still in the journal would be replayed onto the newer state: they are whole-record
    // upserts in order, so replaying them ends in the same state.
    fs.ftruncateSync(this.journalFd, 0);
    this.journalBytes = 0;
  }

  /** A new fleet: history starts over too. */
  reset(state: StoredState): void {
    fs.ftruncateSync(this.historyFd, 0);
    this.compact(state);
  }

  close(): void {
    fs.closeSync(this.journalFd);
    fs.closeSync(this.historyFd);
  }
}

function readJsonLines<T>(file: string): T[] {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const entries: T[] = [];
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    try {
      entries.push(JSON.parse(line) as T);
    } catch (err) {
      // A process killed mid-write leaves a torn last line; anything else is corruption.
      const isLast = lines.slice(index + 1).every((rest) => rest.trim() === '');
      if (!isLast) throw new Error(`${file}:${index + 1}: corrupt record (${(err as Error).message}); start with --reset to discard the state`);
    }
  });
  return entries;
}

/** Calls the monitor does not record as operations of their own (reads, and a cancel, which acts only if a command runs). */
const READS = new Set(['checkHealth', 'readManifest', 'getPatchStatus', 'cancelPatch', 'runCheck']);

/** An `api-outage` window opens when the fault arrives, unless it says when. */
function openWindow<F extends { kind: string; startsAt?: number }>(fault: F): F {
  return fault.kind === 'api-outage' && fault.startsAt === undefined ? { ...fault, startsAt: Date.now() } : fault;
}

function iso(ms: number = Date.now()): string {
  return new Date(ms).toISOString();
}

function notFound(what: string, hint: string): ProviderError {
  return new ProviderError('not-found', `${what}; ${hint}`);
}

/** What the operation did, for the monitor's record. */
interface Applied<T> {
  result: T;
  detail?: string;
  snapshotId?: string;
}

export interface SimFleetOptions {
  stateDir: string;
  /** Used when stateDir holds no state yet, or with `reset`. */
  fleet?: FleetSpecInput;
  /** Replace the state in stateDir with `fleet`. */
  reset?: boolean;
}

export class SimFleet {
  private fleet!: FleetSpec;
  private clusters = new Map<string, ClusterSpec>();
  private nodeSpecs = new Map<string, { cluster: ClusterSpec; node: NodeSpec }>();
  private nodes = new Map<string, NodeState>();
  private commands = new Map<string, PatchCommand>();
  private keys = new Map<string, KeyEntry>();
  private faults: Fault[] = [];
  private outOfService = new Map<string, number>();
  private latency!: LatencyModel;
  private monitor!: FleetMonitor;
  /** Calls still running, by idempotency key: a repeat waits for the same outcome. */
  private readonly inflight = new Map<string, { op: OperationName; nodeId: string; promise: Promise<unknown> }>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Per node and call: how many calls a `throttle` fault has judged (its draw index). */
  private readonly throttleCalls = new Map<string, number>();
  /** Bumped by reset: an operation that was sleeping across a reset must not touch the new fleet. */
  private generation = 0;

  private constructor(
    private readonly store: DiskStore,
    /** True when the state directory's state was resumed rather than a fleet loaded. */
    readonly resumed: boolean,
  ) {}

  static open(options: SimFleetOptions): SimFleet {
    const store = new DiskStore(options.stateDir);
    const saved = store.load();
    const resume = saved !== undefined && !(options.fleet && options.reset);
    const sim = new SimFleet(store, resume);
    if (saved && resume) sim.restore(saved.state, saved.journal, saved.history);
    else sim.load(parseFleetSpec(options.fleet ?? EMPTY_FLEET, 'spec'));
    return sim;
  }

  get fleetName(): string {
    return this.fleet.name;
  }

  get nodeCount(): number {
    return this.nodes.size;
  }

  // ---- reads ---------------------------------------------------------------------------------

  /** `all` (or the fleet's name), a cluster id, `tier-1`..`tier-3`, a node id, or several of these separated by commas. */
  inventory(scope: string): InventoryAsset[] {
    const wanted = new Set<string>();
    for (const part of scope.split(',').map((s) => s.trim()).filter(Boolean)) {
      const tier = /^tier-?([123])$/.exec(part);
      const matched =
        part === 'all' || part === this.fleet.name
          ? [...this.nodeSpecs.keys()]
          : tier
            ? [...this.nodeSpecs.values()].filter((n) => n.cluster.tier === Number(tier[1])).map((n) => n.node.id)
            : this.clusters.has(part)
              ? this.clusters.get(part)!.nodes.map((n) => n.id)
              : this.nodeSpecs.has(part)
                ? [part]
                : undefined;
      if (!matched) {
        throw notFound(
          `scope "${part}" matches no cluster, tier or node of fleet "${this.fleet.name}"`,
          `use all, "${this.fleet.name}", a cluster id, tier-1..tier-3 or a node id`,
        );
      }
      matched.forEach((id) => wanted.add(id));
    }
    return [...this.nodeSpecs.values()]
      .filter(({ node }) => wanted.has(node.id))
      .map(({ cluster, node }) => assetOf(cluster, node, this.nodes.get(node.id)!.packages));
  }

  async health(nodeId: string): Promise<HealthSample> {
    this.node(nodeId);
    this.throttle(nodeId, 'checkHealth');
    await this.pause(this.latency.draw(nodeId, 'health'), this.generation);
    return this.sampleHealth(nodeId);
  }

  async manifest(nodeId: string): Promise<NodeManifest> {
    this.node(nodeId);
    this.throttle(nodeId, 'readManifest');
    await this.pause(this.latency.draw(nodeId, 'manifest'), this.generation);
    const node = this.settled(nodeId);
    return {
      nodeId,
      packages: { ...node.packages },
      kernel: node.kernel,
      configChecksums: { ...node.configChecksums },
      staleServices: [...(node.staleServices ?? [])],
      capturedAt: iso(),
    };
  }

  /**
   * The command's state. With `waitMs`, an in-progress command is answered when it finishes or
   * after `waitMs`, whichever is first (a long poll): the fleet runs at a fraction of real time, where
   * polling at a realistic pace would be far too coarse and polling fast would cost more than the
   * work it watches.
   */
  async patchStatus(nodeId: string, commandId: string, waitMs = 0): Promise<PatchStatus> {
    this.node(nodeId);
    this.throttle(nodeId, 'getPatchStatus');
    this.settled(nodeId);
    let command = this.command(nodeId, commandId);
    if (command.state === 'InProgress' && waitMs > 0) {
      const untilFinish = command.finishAt === null ? waitMs : command.finishAt - Date.now();
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(waitMs, untilFinish))));
      this.settled(nodeId);
      command = this.command(nodeId, commandId);
    }
    if (command.state === 'InProgress') return { state: 'InProgress' };
    if (command.state === 'Success') return { state: 'Success', ...(command.detail && { detail: command.detail }) };
    return { state: 'Failed', detail: command.detail ?? 'failed' };
  }

  async metrics(clusterId: string): Promise<ClusterMetrics> {
    const cluster = this.clusters.get(clusterId);
    if (!cluster) {
      throw notFound(`cluster "${clusterId}" is not in fleet "${this.fleet.name}"`, 'list clusters with GET /inventory?scope=all');
    }
    await this.pause(this.latency.draw(clusterId, 'metrics'), this.generation);
    return this.computeMetrics(cluster);
  }

  // ---- mutations (each takes an idempotency key) -------------------------------------------

  snapshot(nodeId: string, key: string, tags: SavedSnapshot['tags']): Promise<SnapshotRecord> {
    return this.once('snapshot', nodeId, key, async (generation) => {
      // Point in time: what the node holds when the snapshot starts.
      const before = this.settled(nodeId);
      this.refuseWhilePatching(before, 'snapshot');
      await this.pause(this.latency.draw(nodeId, 'snapshot'), generation);
      const node = this.node(nodeId);
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
      this.update(nodeId, { snapshotCount: n, snapshots: { ...node.snapshots, [saved.id]: saved } });
      return {
        result: { snapshotIds: [saved.id], configRef: saved.configRef, createdAt: saved.createdAt },
        detail: saved.id,
        snapshotId: saved.id,
      };
    });
  }

  /** Takes the node out of the load balancer at once, then waits for its connections to drain, at most `timeoutMs`. */
  drain(nodeId: string, key: string, timeoutMs: number): Promise<Record<string, never>> {
    return this.once('drain', nodeId, key, async (generation) => {
      let node = this.node(nodeId);
      if (!node.inService && node.outOfServiceBy !== key) {
        // Someone else holds this node (another campaign, an operator, a quarantine): never take it over.
        throw new ProviderError(
          'conflict',
          `node ${nodeId} is already out of the load balancer${node.outOfServiceBy ? ` (taken out by ${node.outOfServiceBy.split('#')[0]})` : ''}${node.quarantined ? ', quarantined' : ''}: another operation holds it; try again once it is back in service`,
        );
      }
      if (node.inService) {
        const slow = this.faultOn(node, 'slow-drain');
        const drainMs = this.latency.draw(nodeId, 'drain') + (slow ? slow.delayMs * this.latency.scale : 0);
        node = this.update(nodeId, {
          inService: false,
          outOfServiceSince: iso(),
          outOfServiceBy: key,
          drainDoneAt: Date.now() + drainMs,
        });
      }
      const remaining = Math.max(0, (node.drainDoneAt ?? 0) - Date.now());
      if (remaining > timeoutMs) {
        await this.pause(timeoutMs, generation);
        throw new ProviderError(
          'deadline',
          `drain of node ${nodeId} did not finish within ${timeoutMs}ms (connections still open); ` +
            'the node stays out of the load balancer: retry the drain, or rejoin the node',
        );
      }
      await this.pause(remaining, generation);
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
  ): Promise<{ commandId: string }> {
    return this.once('startPatch', nodeId, key, async (generation) => {
      this.refuseUnpatchable(this.settled(nodeId));
      await this.pause(this.latency.draw(nodeId, 'sendCommand'), generation);
      // Checked again: the node may have rejoined or got another command while this one was being sent.
      const node = this.settled(nodeId);
      this.refuseUnpatchable(node);

      const n = node.commandCount + 1;
      const fail = this.faultOn(node, 'patch-fails');
      const hang = this.faultOn(node, 'unreachable-repo');
      const drift = this.faultOn(node, 'config-drift');
      // The mirror this node installs from, as it is when the command starts.
      const lag = this.faultOn(node, 'repo-lag');
      const kernel = this.fleet.availableKernel;
      const reboot = rebootOption === 'RebootIfNeeded' && kernel !== undefined && kernel !== node.kernel;
      const startedAt = Date.now();
      const command: PatchCommand = {
        id: `cmd-${nodeId}-${n}`,
        nodeId,
        key,
        packages: [...new Set(packages.map((p) => p.name))],
        remediation,
        ...(lag && { lag: { ...(lag.package !== undefined && { package: lag.package }), ...(lag.version !== undefined && { version: lag.version }) } }),
        rebootOption,
        startedAt,
        finishAt: hang ? null : startedAt + this.latency.draw(nodeId, 'patch') + (reboot ? this.latency.draw(nodeId, 'reboot') : 0),
        plan: hang ? 'hang' : fail ? (fail.partial ? 'partial-fail' : 'fail') : 'success',
        reboot,
        ...(drift && { driftPath: drift.path ?? Object.keys(node.configChecksums)[0] }),
        state: 'InProgress',
      };
      this.saveCommand(command);
      this.update(nodeId, { commandCount: n, commandId: command.id });
      this.arm(command);
      return { result: { commandId: command.id }, detail: `${command.id}${hang ? ' (will never finish: unreachable-repo fault)' : ''}` };
    });
  }

  /** Stops a running command; the node keeps whatever it had. Idempotent: a finished command stays as it ended. */
  cancelPatch(nodeId: string, commandId: string): void {
    this.node(nodeId);
    this.throttle(nodeId, 'cancelPatch');
    this.settled(nodeId);
    const command = this.command(nodeId, commandId);
    if (command.state !== 'InProgress') {
      this.recordOperation({ nodeId, op: 'cancelPatch', outcome: 'ok', detail: `${commandId} had already ended: ${command.state}` });
      return;
    }
    this.disarm(command.id);
    this.saveCommand({ ...command, state: 'Failed', detail: `patch command ${commandId} on node ${nodeId} was cancelled` });
    this.recordOperation({ nodeId, op: 'cancelPatch', outcome: 'ok', detail: commandId });
  }

  /** Runs the policy's check command: exit 0, unless a `check-fails` fault says the vulnerability still triggers. */
  async runCheck(nodeId: string, command: string): Promise<{ exitCode: number; output: string }> {
    this.node(nodeId);
    this.throttle(nodeId, 'runCheck');
    await this.pause(this.latency.draw(nodeId, 'manifest'), this.generation);
    const fault = this.faultOn(this.settled(nodeId), 'check-fails');
    const answer = fault ? { exitCode: fault.exitCode, output: fault.output } : { exitCode: 0, output: '' };
    this.recordOperation({ nodeId, op: 'runCheck', outcome: answer.exitCode === 0 ? 'ok' : 'failed', detail: `${command} → exit ${answer.exitCode}` });
    return answer;
  }

  /** Restarts services: they map the new code afterwards, unless a `stale-library` fault says it survives restarts. */
  restartServices(nodeId: string, key: string, services: string[]): Promise<Record<string, never>> {
    return this.once('restartServices', nodeId, key, async (generation) => {
      this.refuseWhilePatching(this.settled(nodeId), 'restart services on');
      await this.pause(this.latency.draw(nodeId, 'reapplyConfig'), generation);
      const node = this.node(nodeId);
      const sticky = this.faultOn(node, 'stale-library')?.survivesRestart === true;
      const still = sticky ? (node.staleServices ?? []) : (node.staleServices ?? []).filter((s) => !services.includes(s));
      this.update(nodeId, { staleServices: still });
      return { result: {}, detail: `${services.join(', ')}${sticky ? ' (still running the old library: injected stale-library fault)' : ''}` };
    });
  }

  reapplyConfig(nodeId: string, key: string, baseline: NodeManifest): Promise<Record<string, never>> {
    return this.once('reapplyConfig', nodeId, key, async (generation) => {
      if (baseline.nodeId !== nodeId) {
        throw new ProviderError('bad-input', `baseline manifest is of node ${baseline.nodeId}, not ${nodeId}; pass this node's pre-patch manifest`);
      }
      this.refuseWhilePatching(this.settled(nodeId), 'reapply config on');
      await this.pause(this.latency.draw(nodeId, 'reapplyConfig'), generation);
      const node = this.node(nodeId);
      this.update(nodeId, { configChecksums: { ...node.configChecksums, ...baseline.configChecksums } });
      return { result: {}, detail: Object.keys(baseline.configChecksums).join(', ') };
    });
  }

  restoreConfig(nodeId: string, key: string, snapshot: SnapshotRecord): Promise<Record<string, never>> {
    return this.once('restoreConfig', nodeId, key, async (generation) => {
      const node = this.settled(nodeId);
      this.refuseWhilePatching(node, 'restore config on');
      const saved = this.findSnapshot(node, snapshot);
      await this.pause(this.latency.draw(nodeId, 'restoreConfig'), generation);
      this.failIfRestoreFault(nodeId, 'config');
      this.update(nodeId, { configChecksums: { ...saved.configChecksums } });
      return { result: {}, detail: saved.configRef, snapshotId: saved.id };
    });
  }

  /** Puts the snapshot's packages and kernel back: the node runs the old version again. */
  restoreData(nodeId: string, key: string, snapshot: SnapshotRecord): Promise<Record<string, never>> {
    return this.once('restoreData', nodeId, key, async (generation) => {
      const node = this.settled(nodeId);
      this.refuseWhilePatching(node, 'restore data on');
      const saved = this.findSnapshot(node, snapshot);
      await this.pause(this.latency.draw(nodeId, 'restoreData'), generation);
      this.failIfRestoreFault(nodeId, 'data');
      this.update(nodeId, { packages: { ...saved.packages }, kernel: saved.kernel, patched: false, staleServices: [] });
      return { result: {}, detail: saved.id, snapshotId: saved.id };
    });
  }

  /** Back into the load balancer. A node already in service is left alone; a quarantine is lifted (an operator's retry). */
  rejoin(nodeId: string, key: string): Promise<Record<string, never>> {
    return this.once('rejoin', nodeId, key, async (generation) => {
      this.refuseWhilePatching(this.settled(nodeId), 'rejoin');
      if (this.node(nodeId).inService) return { result: {}, detail: 'already in service' };
      await this.pause(this.latency.draw(nodeId, 'rejoin'), generation);
      const node = this.settled(nodeId);
      this.refuseWhilePatching(node, 'rejoin');
      if (node.inService) return { result: {}, detail: 'already in service' };
      this.update(nodeId, {
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
    return this.once('quarantine', nodeId, key, async (generation) => {
      const node = this.node(nodeId);
      this.update(nodeId, {
        inService: false,
        quarantined: true,
        quarantineReason: reason,
        outOfServiceSince: node.outOfServiceSince ?? iso(),
        outOfServiceBy: node.outOfServiceBy ?? key,
      });
      await this.pause(this.latency.draw(nodeId, 'quarantine'), generation);
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
    return [...this.faults];
  }

  /** Validates and adds faults; returns them with their ids. */
  addFaults(inputs: unknown[]): Fault[] {
    const known = { clusterIds: new Set(this.clusters.keys()), nodeIds: new Set(this.nodeSpecs.keys()) };
    const schema = z.array(faultSchema.superRefine((fault, ctx) => checkFaultTargets(fault, known, ctx, [])));
    const parsed = schema.safeParse(inputs);
    if (!parsed.success) throw new ProviderError('bad-input', describeIssues(parsed.error, 'faults').join('; '));
    const taken = new Set(this.faults.map((f) => f.id));
    const clash = parsed.data.find((f) => f.id !== undefined && taken.has(f.id));
    if (clash) throw new ProviderError('conflict', `a fault with id "${clash.id}" exists already; delete it first or choose another id`);
    const added = assignFaultIds(parsed.data.map(openWindow), this.faults);
    this.setFaults([...this.faults, ...added]);
    return added;
  }

  /** Removes one fault by id, or all of them; returns how many were removed. */
  clearFaults(id?: string): number {
    if (id === undefined) {
      const removed = this.faults.length;
      this.setFaults([]);
      return removed;
    }
    if (!this.faults.some((f) => f.id === id)) {
      throw notFound(`no fault with id "${id}"`, 'list them with GET /admin/faults');
    }
    this.setFaults(this.faults.filter((f) => f.id !== id));
    return 1;
  }

  monitorReport(query: MonitorQuery): MonitorReport {
    const drainedNow = [...this.nodes.values()]
      .filter((n) => !n.inService)
      .map((n) => ({
        nodeId: n.id,
        cluster: n.cluster,
        quarantined: n.quarantined,
        ...(n.quarantineReason !== undefined && { reason: n.quarantineReason }),
        ...(n.outOfServiceSince !== undefined && { since: n.outOfServiceSince }),
      }));
    return this.monitor.report(query, {
      drainedNow,
      latencyScale: this.latency.scale,
      latencyDraws: () => this.latency.allDraws(),
    });
  }

  /** Everything the simulator holds about one node, with its latest patch command. */
  nodeState(nodeId: string): NodeState & { command?: PatchCommand } {
    const node = this.settled(nodeId);
    const command = node.commandId ? this.commands.get(node.commandId) : undefined;
    return { ...node, ...(command && { command }) };
  }

  /** Compacts and closes the files. Call once no call is running any more (the server waits for them). */
  close(): void {
    for (const id of [...this.timers.keys()]) this.disarm(id);
    this.store.compact(this.stored());
    this.store.close();
  }

  // ---- loading and persistence -----------------------------------------------------------------

  private index(fleet: FleetSpec): void {
    this.fleet = fleet;
    this.clusters = new Map(fleet.clusters.map((c) => [c.id, c]));
    this.nodeSpecs = new Map(fleet.clusters.flatMap((cluster) => cluster.nodes.map((node) => [node.id, { cluster, node }] as const)));
    this.latency = new LatencyModel(fleet.seed, fleet.latency, fleet.latencyScale, (subject, op, ms) =>
      this.store.appendHistory({ t: 'draw', subject, op, ms }),
    );
    this.monitor = new FleetMonitor(fleet.clusters.map((c) => ({ id: c.id, size: c.nodes.length })));
  }

  private load(fleet: FleetSpec): void {
    this.generation++;
    for (const id of [...this.timers.keys()]) this.disarm(id);
    this.inflight.clear();
    this.throttleCalls.clear();
    this.index(fleet);
    this.nodes = new Map(
      fleet.clusters.flatMap((cluster) =>
        cluster.nodes.map((node): [string, NodeState] => [
          node.id,
          {
            id: node.id,
            cluster: cluster.id,
            packages: { ...node.packages },
            kernel: node.kernel,
            configChecksums: Object.fromEntries(Object.entries(node.configFiles).map(([file, content]) => [file, configChecksum(content)])),
            healthy: node.healthy,
            inService: true,
            quarantined: false,
            snapshots: {},
            snapshotCount: 0,
            commandCount: 0,
            patched: false,
            patchCompletions: 0,
            checksSincePatch: 0,
          },
        ]),
      ),
    );
    this.commands = new Map();
    this.keys = new Map();
    this.faults = fleet.faults.map(openWindow);
    this.outOfService = new Map(fleet.clusters.map((c) => [c.id, 0]));
    this.store.reset(this.stored());
  }

  private restore(state: StoredState, journal: JournalEntry[], history: HistoryEntry[]): void {
    this.index(state.fleet);
    this.nodes = new Map(state.nodes.map((n) => [n.id, n]));
    this.commands = new Map(state.commands.map((c) => [c.id, c]));
    this.keys = new Map(state.keys);
    this.faults = state.faults;
    for (const entry of journal) {
      if (entry.t === 'node') this.nodes.set(entry.node.id, entry.node);
      else if (entry.t === 'command') this.commands.set(entry.command.id, entry.command);
      else if (entry.t === 'key') this.keys.set(entry.key, entry.entry);
      else this.faults = entry.faults;
    }
    for (const entry of history) {
      if (entry.t === 'op') this.monitor.recordOperation(entry.record);
      else if (entry.t === 'oos') this.monitor.recordOutOfService(entry.change);
      else this.latency.record(entry.subject, entry.op, entry.ms);
    }
    this.outOfService = new Map(this.fleet.clusters.map((c) => [c.id, 0]));
    for (const node of this.nodes.values()) {
      if (!node.inService) this.outOfService.set(node.cluster, (this.outOfService.get(node.cluster) ?? 0) + 1);
    }
    // A kill between a node's journal write and its history write would leave the monitor one change
    // behind; the node state is the truth, so the monitor catches up here.
    for (const [cluster, count] of this.outOfService) {
      if (this.monitor.outOfServiceNow(cluster) !== count) this.history({ t: 'oos', change: { at: iso(), cluster, count } });
    }
    for (const command of this.commands.values()) if (command.state === 'InProgress') this.arm(command);
    this.store.compact(this.stored());
  }

  private stored(): StoredState {
    return {
      version: 1,
      fleet: this.fleet,
      nodes: [...this.nodes.values()],
      commands: [...this.commands.values()],
      keys: [...this.keys],
      faults: this.faults,
    };
  }

  private journal(entry: JournalEntry): void {
    this.store.appendJournal(entry);
    if (this.store.journalBytes > COMPACT_AFTER_BYTES) this.store.compact(this.stored());
  }

  private history(entry: HistoryEntry): void {
    this.store.appendHistory(entry);
    if (entry.t === 'op') this.monitor.recordOperation(entry.record);
    else if (entry.t === 'oos') this.monitor.recordOutOfService(entry.change);
  }

  private recordOperation(record: Omit<OperationRecord, 'at'>): void {
    this.history({ t: 'op', record: { at: iso(), ...record } });
  }

  /** Replaces a node's state, journals it, and reports an out-of-service change to the monitor. */
  private update(nodeId: string, patch: Partial<NodeState>): NodeState {
    const before = this.node(nodeId);
    const after: NodeState = { ...before, ...patch };
    this.nodes.set(nodeId, after);
    this.journal({ t: 'node', node: after });
    if (before.inService !== after.inService) {
      const count = (this.outOfService.get(after.cluster) ?? 0) + (after.inService ? -1 : 1);
      this.outOfService.set(after.cluster, count);
      this.history({ t: 'oos', change: { at: iso(), cluster: after.cluster, count } });
    }
    return after;
  }

  private setFaults(faults: Fault[]): void {
    this.faults = faults;
    this.journal({ t: 'faults', faults });
  }

  private saveCommand(command: PatchCommand): void {
    this.commands.set(command.id, command);
    this.journal({ t: 'command', command });
  }

  // ---- patch commands ------------------------------------------------------------------------

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
    const command = this.commands.get(commandId);
    if (!command || command.state !== 'InProgress') return;
    const node = this.node(command.nodeId);
    const lag = command.lag;
    // What the node's mirror offers: the fleet's repository, unless it lags for this package.
    const offered = (name: string): string | undefined =>
      lag && (lag.package === undefined || lag.package === name) ? (lag.version ?? node.packages[name]) : this.fleet.packageRepo[name];
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
        `(injected patch-fails fault)${done.length > 0 ? `; already upgraded before the failure: ${describe(done)}` : '; nothing was changed'}`;
      if (done.length > 0) this.update(command.nodeId, { packages: { ...node.packages, ...upgrade(done) } });
      this.saveCommand({ ...command, state: 'Failed', detail });
      this.recordOperation({ nodeId: command.nodeId, op: 'patchComplete', key: command.key, outcome: 'failed', detail });
      return;
    }

    const configChecksums = { ...node.configChecksums };
    if (command.driftPath) configChecksums[command.driftPath] = configChecksum(`${configChecksums[command.driftPath] ?? ''} reset by the package's postinst`);
    // A kernel image the patch upgraded runs only after a reboot, which NoReboot forbids.
    const kernelUpgrade = applicable.find((name) => /^(kernel|kernel-core|kernel-default|linux-image(-.*)?|linux-generic)$/.test(name));
    const kernel = command.reboot
      ? this.fleet.availableKernel!
      : kernelUpgrade && command.rebootOption === 'RebootIfNeeded'
        ? offered(kernelUpgrade)!
        : node.kernel;
    const stale = applicable.length > 0 ? this.faultOn(node, 'stale-library') : undefined;
    const notes = [
      applicable.length > 0
        ? `upgraded ${describe(applicable)}`
        : `no applicable updates for ${command.packages.join(', ')} (not installed, or the repository has nothing newer)`,
      ...(kernel !== node.kernel ? [`rebooted into kernel ${kernel}`] : []),
      ...(kernelUpgrade && kernel === node.kernel ? [`kernel ${offered(kernelUpgrade)} installed; still running ${kernel} (no reboot)`] : []),
      ...(stale ? [`${stale.services.join(', ')} still map the old library`] : []),
      ...(command.driftPath ? [`${command.driftPath} was rewritten`] : []),
    ];
    this.update(command.nodeId, {
      packages: { ...node.packages, ...upgrade(applicable) },
      kernel,
      configChecksums,
      patched: true,
      staleServices: stale ? [...new Set([...(node.staleServices ?? []), ...stale.services])] : (node.staleServices ?? []),
      patchCompletions: node.patchCompletions + 1,
      checksSincePatch: 0,
    });
    this.saveCommand({ ...command, state: 'Success', detail: notes.join('; ') });
    this.recordOperation({ nodeId: command.nodeId, op: 'patchComplete', key: command.key, outcome: 'ok', detail: notes.join('; ') });
  }

  // ---- helpers -------------------------------------------------------------------------------

  /**
   * Runs a mutating call at most once per idempotency key. A key seen before returns the first result;
   * a key still running waits for it. Only successes are remembered: a failed call is retried for real.
   */
  private async once<T>(
    op: OperationName,
    nodeId: string,
    key: string,
    run: (generation: number) => Promise<Applied<T>>,
  ): Promise<T> {
    this.node(nodeId);
    try {
      this.throttle(nodeId, op);
    } catch (err) {
      this.recordOperation({ nodeId, op, key, outcome: 'throttled' });
      throw err;
    }
    const earlier = this.keys.get(key) ?? this.inflight.get(key);
    if (earlier) {
      if (earlier.op !== op || earlier.nodeId !== nodeId) {
        throw new ProviderError(
          'conflict',
          `idempotency key "${key}" was first used for ${earlier.op} on node ${earlier.nodeId}, not ${op} on ${nodeId}; each step of each node needs its own key`,
        );
      }
      this.recordOperation({ nodeId, op, key, outcome: 'replayed' });
      return 'promise' in earlier ? (earlier.promise as Promise<T>) : (earlier.result as T);
    }

    const generation = this.generation;
    const promise = run(generation).then(
      (applied) => {
        const entry: KeyEntry = { op, nodeId, result: applied.result };
        this.keys.set(key, entry);
        this.journal({ t: 'key', key, entry });
        this.recordOperation({
          nodeId,
          op,
          key,
          outcome: 'ok',
          ...(applied.detail !== undefined && { detail: applied.detail }),
          ...(applied.snapshotId !== undefined && { snapshotId: applied.snapshotId }),
        });
        return applied.result;
      },
      (err: unknown) => {
        if (generation === this.generation) {
          const kind = err instanceof ProviderError ? err.kind : 'unavailable';
          this.recordOperation({ nodeId, op, key, outcome: kind, detail: (err as Error).message });
        }
        throw err;
      },
    );
    this.inflight.set(key, { op, nodeId, promise });
    try {
      return await promise;
    } finally {
      if (this.inflight.get(key)?.promise === promise) this.inflight.delete(key);
    }
  }

  /** Sleeps a simulated duration; fails if the fleet was reset meanwhile. */
  private async pause(ms: number, generation: number): Promise<void> {
    if (ms > 0) await sleep(ms);
    if (generation !== this.generation) {
      throw new ProviderError('unavailable', 'the simulated fleet was reset while this call was running; the call had no effect');
    }
  }

  private node(nodeId: string): NodeState {
    const node = this.nodes.get(nodeId);
    if (!node) throw notFound(`node "${nodeId}" is not in fleet "${this.fleet.name}"`, 'list nodes with GET /inventory?scope=all');
    return node;
  }

  /** The node after completing a patch command whose time has come (timers may lag a busy event loop). */
  private settled(nodeId: string): NodeState {
    const node = this.node(nodeId);
    const command = node.commandId ? this.commands.get(node.commandId) : undefined;
    if (command?.state === 'InProgress' && command.finishAt !== null && command.finishAt <= Date.now()) {
      this.complete(command.id);
      return this.node(nodeId);
    }
    return node;
  }

  private command(nodeId: string, commandId: string): PatchCommand {
    const command = this.commands.get(commandId);
    if (!command || command.nodeId !== nodeId) {
      throw notFound(`patch command "${commandId}" does not exist on node ${nodeId}`, 'use the commandId that startPatch returned for this node');
    }
    return command;
  }

  private runningCommand(node: NodeState): PatchCommand | undefined {
    const command = node.commandId ? this.commands.get(node.commandId) : undefined;
    return command?.state === 'InProgress' ? command : undefined;
  }

  private refuseWhilePatching(node: NodeState, action: string): void {
    const running = this.runningCommand(node);
    if (running) {
      throw new ProviderError(
        'conflict',
        `cannot ${action} node ${node.id}: patch command ${running.id} is still running; wait for it to end or cancel it first`,
      );
    }
  }

  /** A serving node is never patched: that is the availability guarantee the whole campaign rests on. */
  private refuseUnpatchable(node: NodeState): void {
    if (node.inService) {
      throw new ProviderError('conflict', `node ${node.id} is in service (in the load balancer); drain it before patching`);
    }
    this.refuseWhilePatching(node, 'start another patch on');
  }

  private findSnapshot(node: NodeState, record: SnapshotRecord): SavedSnapshot {
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

  private failIfRestoreFault(nodeId: string, step: 'config' | 'data'): void {
    const fault = this.faultOn(this.node(nodeId), 'restore-fails');
    if (fault && (fault.step === step || fault.step === 'both')) {
      // A restore that cannot succeed (a broken snapshot, a volume that will not attach) is the node's
      // failure, not the API's: it is final, so compensation ends in quarantine instead of waiting.
      throw new ProviderError(
        'conflict',
        `restoring ${step} on node ${nodeId} failed: the snapshot cannot be restored (injected restore-fails fault ${fault.id}); ` +
          'it fails on every attempt until the fault is cleared, so quarantine the node',
      );
    }
  }

  private faultOn<K extends FaultKind>(node: NodeState, kind: K): Extract<Fault, { kind: K }> | undefined {
    return this.faults.find(
      (fault): fault is Extract<Fault, { kind: K }> => fault.kind === kind && this.faultHits(fault, node),
    );
  }

  private faultHits(fault: Fault, node: NodeState): boolean {
    const untargeted = fault.node === undefined && fault.nodes === undefined && fault.cluster === undefined;
    const targeted = untargeted || fault.node === node.id || fault.nodes?.includes(node.id) === true || fault.cluster === node.cluster;
    // Keyed by fault and node, so a rate picks the same nodes on every run of the same fleet.
    return targeted && (fault.rate === undefined || unitDraw(this.fleet.seed, 'fault', fault.id, node.id) < fault.rate);
  }

  private throttle(nodeId: string, call: string): void {
    const now = Date.now();
    const outage = this.faults.find(
      (f): f is Extract<Fault, { kind: 'api-outage' }> =>
        f.kind === 'api-outage' &&
        now >= (f.startsAt ?? 0) &&
        now < (f.startsAt ?? 0) + f.durationMs &&
        (f.calls === undefined || f.calls.includes(call)) &&
        this.faultHits(f, this.node(nodeId)),
    );
    if (outage) {
      if (READS.has(call)) this.recordOperation({ nodeId, op: 'refusedCall', outcome: outage.answer, detail: call });
      throw new ProviderError(
        outage.answer,
        `${call} on node ${nodeId}: ${outage.answer === 'throttled' ? 'rate exceeded' : 'the fleet API is unavailable'} (injected api-outage fault ${outage.id}, ${Math.ceil(((outage.startsAt ?? 0) + outage.durationMs - now) / 1000)}s left); retry with backoff`,
      );
    }
    const fault = this.faultOn(this.node(nodeId), 'throttle');
    if (!fault) return;
    const counter = `${nodeId}\u0000${call}`;
    const index = this.throttleCalls.get(counter) ?? 0;
    this.throttleCalls.set(counter, index + 1);
    if (unitDraw(this.fleet.seed, 'throttle', nodeId, call, index) < fault.probability) {
      throw new ProviderError('throttled', `rate exceeded for ${call} on node ${nodeId} (injected throttle fault ${fault.id}); retry with backoff`);
    }
  }

  private sampleHealth(nodeId: string): HealthSample {
    const node = this.settled(nodeId);
    const at = iso();
    if (node.quarantined) return { healthy: false, at, detail: `quarantined: ${node.quarantineReason}` };
    const running = this.runningCommand(node);
    if (running) {
      return { healthy: false, at, detail: `patch command ${running.id} in progress${running.reboot ? ' (the node reboots)' : ''}` };
    }
    if (!node.healthy) return { healthy: false, at, detail: 'the node reports unhealthy' };
    if (this.faultOn(node, 'unhealthy-before')) {
      return { healthy: false, at, detail: 'failing before any change was made (injected unhealthy-before fault)' };
    }
    const flap = this.faultOn(node, 'health-flaps');
    // The patch makes it flap: once a rollback has taken the patch off again, it stops.
    if (flap && node.patched && node.checksSincePatch < flap.checks) {
      const check = node.checksSincePatch;
      this.update(nodeId, { checksSincePatch: check + 1 });
      const fails =
        flap.probability === undefined
          ? check % 2 === 0
          : unitDraw(this.fleet.seed, 'flap', nodeId, node.patchCompletions, check) < flap.probability;
      if (fails) {
        return { healthy: false, at, detail: `health check failed (injected health-flaps fault, check ${check + 1} of ${flap.checks} after the patch)` };
      }
    }
    return { healthy: true, at, detail: node.inService ? 'healthy' : 'healthy (out of the load balancer)' };
  }

  /**
   * Synthetic but monotone: fewer serving nodes mean more load on each, so error rate and latency rise;
   * a `regression` fault adds errors and latency in proportion to the serving nodes that are patched.
   */
  private computeMetrics(cluster: ClusterSpec): ClusterMetrics {
    const nodes = cluster.nodes.map((n) => this.settled(n.id));
    const serving = nodes.filter((n) => n.inService && n.healthy && !this.faultOn(n, 'unhealthy-before') && !this.runningCommand(n));
    const at = iso();
    const base = cluster.baselineLatencyMs;
    if (serving.length === 0) {
      return { clusterId: cluster.id, errorRate: 1, latencyP50Ms: base * 10, latencyP99Ms: base * 40, connections: 0, at };
    }
    const load = nodes.length / serving.length;
    let errorRate = cluster.baselineErrorRate * load * load;
    let latencyFactor = 1;
    const regression = nodes.map((n) => this.faultOn(n, 'regression')).find((f) => f !== undefined);
    if (regression) {
      const patchedShare = serving.filter((n) => n.patched).length / serving.length;
      errorRate += regression.errorRateDelta * patchedShare;
      latencyFactor = 1 + (regression.latencyFactor - 1) * patchedShare;
    }
    return {
      clusterId: cluster.id,
      errorRate: Math.min(1, errorRate),
      latencyP50Ms: base * load * latencyFactor,
      latencyP99Ms: base * 4 * load * load * latencyFactor,
      connections: serving.length * 100,
      at,
    };
  }
}
