/**
 * The simulated fleet's state and its persistence. Every mutation goes through `FleetStore`, which
 * keeps the in-memory records and writes them down; the other parts of the simulator (faults,
 * idempotency, patch commands, health) read and change nodes only through it.
 *
 * Persistence is event-sourced so it scales to 10,000 nodes at thousands of operations a minute:
 * - `journal.jsonl`: every state mutation (a node's whole new state, a patch command, an idempotency
 *   result, the fault list), appended without fsync. Compacted into `state.json` when it grows.
 * - `history.jsonl`: the monitor's records and latency draws. History is never rewritten; a reset
 *   truncates it.
 * Startup loads `state.json`, replays the journal and the history; the fleet then re-arms running
 * patch commands.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProviderError } from '../port';
import type { ClusterSpec, Fault, FleetSpec, NodeSpec } from './fleet-spec';
import { LatencyModel, type LatencyOp } from './latency';
import { initialNodeState, iso, notFound, type NodeState, type PatchCommand } from './model';
import { FleetMonitor, type OperationName, type OperationRecord, type OutOfServiceChange } from './monitor';

/** The first successful result of an idempotency key. */
export interface KeyEntry {
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

export interface SavedFleet {
  state: StoredState;
  journal: JournalEntry[];
  history: HistoryEntry[];
}

/** Journal size that triggers compaction: a few MB of snapshot rewritten every few thousand operations at most. */
const COMPACT_AFTER_BYTES = 32 * 1024 * 1024;

/** Append-only files in the state directory. Synchronous writes keep every record in order and on disk (page cache) before the reply. */
export class DiskStore {
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

  load(): SavedFleet | undefined {
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

/** The fleet's records in memory, each change journaled before the call that made it answers. */
export class FleetStore {
  fleet!: FleetSpec;
  clusters = new Map<string, ClusterSpec>();
  nodeSpecs = new Map<string, { cluster: ClusterSpec; node: NodeSpec }>();
  nodes = new Map<string, NodeState>();
  commands = new Map<string, PatchCommand>();
  keys = new Map<string, KeyEntry>();
  faults: Fault[] = [];
  latency!: LatencyModel;
  monitor!: FleetMonitor;
  /** Bumped by a new fleet: an operation that was sleeping across it must not touch the new fleet. */
  generation = 0;
  private outOfService = new Map<string, number>();

  constructor(private readonly disk: DiskStore) {}

  /** Starts over with `fleet`: every node in service, no commands, keys or history. */
  load(fleet: FleetSpec, openFault: (fault: Fault) => Fault): void {
    this.generation++;
    this.index(fleet);
    this.nodes = new Map(fleet.clusters.flatMap((cluster) => cluster.nodes.map((node): [string, NodeState] => [node.id, initialNodeState(cluster, node)])));
    this.commands = new Map();
    this.keys = new Map();
    this.faults = fleet.faults.map(openFault);
    this.outOfService = new Map(fleet.clusters.map((c) => [c.id, 0]));
    this.disk.reset(this.stored());
  }

  /** Rebuilds the records from state.json, the journal and the history. */
  restore({ state, journal, history }: SavedFleet): void {
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
  }

  compact(): void {
    this.disk.compact(this.stored());
  }

  close(): void {
    this.compact();
    this.disk.close();
  }

  node(nodeId: string): NodeState {
    const node = this.nodes.get(nodeId);
    if (!node) throw notFound(`node "${nodeId}" is not in fleet "${this.fleet.name}"`, 'list nodes with GET /inventory?scope=all');
    return node;
  }

  /** Replaces a node's state, journals it, and reports an out-of-service change to the monitor. */
  update(nodeId: string, patch: Partial<NodeState>): NodeState {
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

  saveCommand(command: PatchCommand): void {
    this.commands.set(command.id, command);
    this.journal({ t: 'command', command });
  }

  setFaults(faults: Fault[]): void {
    this.faults = faults;
    this.journal({ t: 'faults', faults });
  }

  rememberKey(key: string, entry: KeyEntry): void {
    this.keys.set(key, entry);
    this.journal({ t: 'key', key, entry });
  }

  recordOperation(record: Omit<OperationRecord, 'at'>): void {
    this.history({ t: 'op', record: { at: iso(), ...record } });
  }

  /** Sleeps a simulated duration; fails if the fleet was replaced meanwhile. */
  async pause(ms: number, generation: number): Promise<void> {
    if (ms > 0) await sleep(ms);
    if (generation !== this.generation) {
      throw new ProviderError('unavailable', 'the simulated fleet was reset while this call was running; the call had no effect');
    }
  }

  private index(fleet: FleetSpec): void {
    this.fleet = fleet;
    this.clusters = new Map(fleet.clusters.map((c) => [c.id, c]));
    this.nodeSpecs = new Map(fleet.clusters.flatMap((cluster) => cluster.nodes.map((node) => [node.id, { cluster, node }] as const)));
    this.latency = new LatencyModel(fleet.seed, fleet.latency, fleet.latencyScale, (subject, op, ms) =>
      this.disk.appendHistory({ t: 'draw', subject, op, ms }),
    );
    this.monitor = new FleetMonitor(fleet.clusters.map((c) => ({ id: c.id, size: c.nodes.length })));
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
    this.disk.appendJournal(entry);
    if (this.disk.journalBytes > COMPACT_AFTER_BYTES) this.compact();
  }

  private history(entry: HistoryEntry): void {
    this.disk.appendHistory(entry);
    if (entry.t === 'op') this.monitor.recordOperation(entry.record);
    else if (entry.t === 'oos') this.monitor.recordOutOfService(entry.change);
  }
}
