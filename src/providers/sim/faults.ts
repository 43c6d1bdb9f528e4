/**
 * Fault injection: which injected faults hit which node, the fleet API's outages and throttling,
 * and the admin calls that add and clear faults at runtime. The faults themselves are declared in
 * fleet-spec.ts; the parts of the simulator that act on them ask `faultOn`.
 */
import { z } from 'zod';
import { ProviderError } from '../port';
import { assignFaultIds, checkFaultTargets, describeIssues, faultSchema, type Fault, type FaultKind } from './fleet-spec';
import type { FleetStore } from './journal';
import { unitDraw } from './latency';
import { notFound, type NodeState } from './model';

/** Calls the monitor does not record as operations of their own (reads, and a cancel, which acts only if a command runs). */
const READS = new Set(['checkHealth', 'readManifest', 'getPatchStatus', 'cancelPatch', 'runCheck', 'checkBundle']);

/** An `api-outage` window opens when the fault arrives, unless it says when. */
export function openWindow<F extends { kind: string; startsAt?: number }>(fault: F): F {
  return fault.kind === 'api-outage' && fault.startsAt === undefined ? { ...fault, startsAt: Date.now() } : fault;
}

export class FaultInjector {
  /** Per node and call: how many calls a `throttle` fault has judged (its draw index). */
  private readonly throttleCalls = new Map<string, number>();

  constructor(private readonly store: FleetStore) {}

  /** A new fleet: throttle draws start over. */
  reset(): void {
    this.throttleCalls.clear();
  }

  list(): Fault[] {
    return [...this.store.faults];
  }

  /** Validates and adds faults; returns them with their ids. */
  add(inputs: unknown[]): Fault[] {
    const known = {
      clusterIds: new Set(this.store.clusters.keys()),
      nodeIds: new Set(this.store.nodeSpecs.keys()),
      bundles: new Map(this.store.fleet.bundles.map((b) => [b.name, new Set(b.files.map((f) => f.path))])),
    };
    const schema = z.array(faultSchema.superRefine((fault, ctx) => checkFaultTargets(fault, known, ctx, [])));
    const parsed = schema.safeParse(inputs);
    if (!parsed.success) throw new ProviderError('bad-input', describeIssues(parsed.error, 'faults', inputs).join('; '));
    const faults = this.store.faults;
    const taken = new Set(faults.map((f) => f.id));
    const clash = parsed.data.find((f) => f.id !== undefined && taken.has(f.id));
    if (clash) throw new ProviderError('conflict', `a fault with id "${clash.id}" exists already; delete it first or choose another id`);
    const added = assignFaultIds(parsed.data.map(openWindow), faults);
    this.store.setFaults([...faults, ...added]);
    return added;
  }

  /** Removes one fault by id, or all of them; returns how many were removed. */
  clear(id?: string): number {
    const faults = this.store.faults;
    if (id === undefined) {
      this.store.setFaults([]);
      return faults.length;
    }
    if (!faults.some((f) => f.id === id)) {
      throw notFound(`no fault with id "${id}"`, 'list them with GET /admin/faults');
    }
    this.store.setFaults(faults.filter((f) => f.id !== id));
    return 1;
  }

  /** The first fault of this kind that hits the node, if any. */
  faultOn<K extends FaultKind>(node: NodeState, kind: K): Extract<Fault, { kind: K }> | undefined {
    return this.store.faults.find(
      (fault): fault is Extract<Fault, { kind: K }> => fault.kind === kind && this.hits(fault, node),
    );
  }

  /** Refuses the call when an `api-outage` window is open on the node or a `throttle` fault draws it. */
  throttle(nodeId: string, call: string): void {
    const now = Date.now();
    const node = this.store.node(nodeId);
    const outage = this.store.faults.find(
      (f): f is Extract<Fault, { kind: 'api-outage' }> =>
        f.kind === 'api-outage' &&
        now >= (f.startsAt ?? 0) &&
        now < (f.startsAt ?? 0) + f.durationMs &&
        (f.calls === undefined || f.calls.includes(call)) &&
        this.hits(f, node),
    );
    if (outage) {
      if (READS.has(call)) this.store.recordOperation({ nodeId, op: 'refusedCall', outcome: outage.answer, detail: call });
      throw new ProviderError(
        outage.answer,
        `${call} on node ${nodeId}: ${outage.answer === 'throttled' ? 'rate exceeded' : 'the fleet API is unavailable'} (injected api-outage fault ${outage.id}, ${Math.ceil(((outage.startsAt ?? 0) + outage.durationMs - now) / 1000)}s left); retry with backoff`,
      );
    }
    const fault = this.faultOn(node, 'throttle');
    if (!fault) return;
    const counter = `${nodeId}\u0000${call}`;
    const index = this.throttleCalls.get(counter) ?? 0;
    this.throttleCalls.set(counter, index + 1);
    if (unitDraw(this.store.fleet.seed, 'throttle', nodeId, call, index) < fault.probability) {
      throw new ProviderError('throttled', `rate exceeded for ${call} on node ${nodeId} (injected throttle fault ${fault.id}); retry with backoff`);
    }
  }

  failIfRestoreFault(nodeId: string, step: 'config' | 'data'): void {
    const fault = this.faultOn(this.store.node(nodeId), 'restore-fails');
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

  private hits(fault: Fault, node: NodeState): boolean {
    const untargeted = fault.node === undefined && fault.nodes === undefined && fault.cluster === undefined;
    const targeted = untargeted || fault.node === node.id || fault.nodes?.includes(node.id) === true || fault.cluster === node.cluster;
    // Keyed by fault and node, so a rate picks the same nodes on every run of the same fleet.
    return targeted && (fault.rate === undefined || unitDraw(this.store.fleet.seed, 'fault', fault.id, node.id) < fault.rate);
  }
}
