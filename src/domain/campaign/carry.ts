/**
 * The plan across continue-as-new, in two parts (docs/performance.md, "Carry less"):
 *
 * - the **core**, what the campaign decides with — every cluster's id, nodes in order, canary,
 *   rescue, cap, size and flags — carried in the continue-as-new input in columnar form;
 * - the **prose**, what people read — reasons, urgencies, deadlines, the assessment, the summary,
 *   the not-affected list — which never changes after planning except through a joining alert. It
 *   is not carried: each later run reads it back with an activity from the run before it (which
 *   recorded it as the planning result or as its own read), and only what joining alerts changed
 *   since is carried.
 *
 * A 10,000-node plan in single-node clusters is 3.7 MB as JSON, 1,000 clusters of 10 are 0.57 MB;
 * their core is about a tenth (test/domain/campaign/carry.test.ts measures both). Pure.
 */
import type { CampaignPlan, ClusterPlan } from '../plan';
import type { Tier } from '../inventory';

/** The core of a plan, columnar: per tier, cluster ids, their nodes and an index into `shapes`. */
export interface PlanCore {
  cveId: string;
  scope: string;
  totalNodes: number;
  tiers: { tier: Tier; ids: string[]; nodes: string[][]; shape: number[] }[];
  /**
   * Distinct [cap, size, canary index, rescue index (−1: none), flags (1 needs approval, 2 no reboot),
   * the cluster's own tier (a join may place a cluster in a later tier than its own)].
   */
  shapes: number[][];
}

/**
 * A plan's prose, encoded: strings cut at "; " into segments kept once in `strings`, each value a
 * list of segment indices in base 36 joined by "."; per cluster field one column in plan order.
 */
export interface EncodedProse {
  /** Plan-level fields other than the core, as they are. */
  plan: Record<string, unknown>;
  strings: string[];
  /** Field → one entry per cluster in plan order: encoded string, or null when the cluster has none. */
  columns: Record<string, (string | null)[]>;
  /** Values that are not strings (e.g. `kernelStaysVulnerable`), by cluster id and field. */
  other: Record<string, Record<string, unknown>>;
}

/** What joining alerts changed in the prose since it was recorded: whole fields, per cluster or plan-level. */
export interface ProseChanges {
  plan?: Record<string, unknown>;
  clusters?: Record<string, Record<string, unknown>>;
  /** The recorded prose's cluster order, when the plan's order differs from it (a join moved or added clusters). */
  order?: string[];
}

/** The recorded prose, decoded (in memory only). */
export interface RecordedProse {
  /** Cluster ids in the order of the plan the prose was recorded with. */
  order: string[];
  plan: Record<string, unknown>;
  clusters: Map<string, Record<string, unknown>>;
}

const CORE_PLAN_FIELDS = new Set(['cveId', 'scope', 'totalNodes', 'tiers']);
const CORE_CLUSTER_FIELDS = new Set(['id', 'tier', 'nodes', 'canary', 'rescue', 'cap', 'size', 'needsApproval', 'noReboot']);
const SEGMENT = '; ';

export function planCore(plan: CampaignPlan): PlanCore {
  const shapes: number[][] = [];
  const shapeIndex = new Map<string, number>();
  const tiers = plan.tiers.map((t) => {
    const shape = t.clusters.map((c) => {
      const s = [c.cap, c.size, c.nodes.indexOf(c.canary), c.rescue === undefined ? -1 : c.nodes.indexOf(c.rescue), (c.needsApproval ? 1 : 0) | (c.noReboot ? 2 : 0), c.tier];
      const key = s.join(',');
      let index = shapeIndex.get(key);
      if (index === undefined) shapeIndex.set(key, (index = shapes.push(s) - 1));
      return index;
    });
    return { tier: t.tier, ids: t.clusters.map((c) => c.id), nodes: t.clusters.map((c) => [...c.nodes]), shape };
  });
  return { cveId: plan.cveId, scope: plan.scope, totalNodes: plan.totalNodes, tiers, shapes };
}

/** The prose of a plan (every field that is not core), encoded: what the activity returns. */
export function encodeProse(plan: CampaignPlan): EncodedProse {
  const strings: string[] = [];
  const stringIndex = new Map<string, number>();
  const encodeString = (value: string) =>
    value
      .split(SEGMENT)
      .map((segment) => {
        let index = stringIndex.get(segment);
        if (index === undefined) stringIndex.set(segment, (index = strings.push(segment) - 1));
        return index.toString(36);
      })
      .join('.');
  const clusters = plan.tiers.flatMap((t) => t.clusters);
  const columns: EncodedProse['columns'] = {};
  const other: EncodedProse['other'] = {};
  clusters.forEach((c, i) => {
    for (const [field, value] of Object.entries(proseOfCluster(c))) {
      if (typeof value === 'string') (columns[field] ??= Array<string | null>(clusters.length).fill(null))[i] = encodeString(value);
      else (other[c.id] ??= {})[field] = value;
    }
  });
  return { plan: proseOfPlan(plan), strings, columns, other };
}

/** Encoded prose back, given the cluster order of the plan it was recorded with. */
export function decodeProse(encoded: EncodedProse, order: string[]): RecordedProse {
  const decodeString = (value: string) =>
    value
      .split('.')
      .map((i) => {
        const segment = encoded.strings[parseInt(i, 36)];
        if (segment === undefined) throw new Error(`recorded plan prose refers to segment ${i}, which it does not have`);
        return segment;
      })
      .join(SEGMENT);
  const clusters = new Map<string, Record<string, unknown>>();
  order.forEach((id, i) => {
    const prose: Record<string, unknown> = {};
    for (const [field, column] of Object.entries(encoded.columns)) {
      const value = column[i];
      if (value !== null && value !== undefined) prose[field] = decodeString(value);
    }
    clusters.set(id, Object.assign(prose, encoded.other[id]));
  });
  return { order, plan: encoded.plan, clusters };
}

/** A plan's own prose, as recorded (the first run's plan, or one carried whole by an older version). */
export function proseOf(plan: CampaignPlan): RecordedProse {
  const clusters = plan.tiers.flatMap((t) => t.clusters);
  return { order: clusters.map((c) => c.id), plan: proseOfPlan(plan), clusters: new Map(clusters.map((c) => [c.id, proseOfCluster(c)])) };
}

/** The cluster order the recorded prose follows: as carried when a join changed it, else the core's. */
export function recordedOrder(core: PlanCore, changes: ProseChanges | undefined): string[] {
  return changes?.order ?? core.tiers.flatMap((t) => t.ids);
}

/** The plan again: the core, the recorded prose, and what joining alerts changed since. */
export function restorePlan(core: PlanCore, recorded: RecordedProse, changes: ProseChanges = {}): CampaignPlan {
  const planProse: Record<string, unknown> = { ...recorded.plan };
  for (const [field, value] of Object.entries(changes.plan ?? {})) {
    if (value === null) delete planProse[field];
    else planProse[field] = value;
  }
  return {
    ...planProse,
    cveId: core.cveId,
    scope: core.scope,
    totalNodes: core.totalNodes,
    tiers: core.tiers.map((t) => ({
      tier: t.tier,
      clusters: t.ids.map((id, j): ClusterPlan => {
        const shape = core.shapes[t.shape[j]!];
        if (!shape) throw new Error(`carried plan: cluster ${id} has no shape ${t.shape[j]}`);
        const [cap, size, canary, rescue, flags, tier] = shape as [number, number, number, number, number, Tier];
        const nodes = [...t.nodes[j]!];
        return {
          id,
          tier,
          nodes,
          canary: nodes[canary]!,
          ...(rescue >= 0 && { rescue: nodes[rescue] }),
          cap,
          size,
          needsApproval: (flags & 1) !== 0,
          noReboot: (flags & 2) !== 0,
          ...((changes.clusters?.[id] ?? recorded.clusters.get(id) ?? {}) as Pick<ClusterPlan, 'reason'>),
        };
      }),
    })),
  } as CampaignPlan;
}

/** What differs between a plan's prose and the recorded prose (what joins changed), and the recorded order if the plan's differs. */
export function proseChanges(plan: CampaignPlan, recorded: RecordedProse): ProseChanges {
  const changes: ProseChanges = {};
  const planNow = proseOfPlan(plan);
  for (const field of new Set([...Object.keys(planNow), ...Object.keys(recorded.plan)])) {
    if (JSON.stringify(planNow[field]) !== JSON.stringify(recorded.plan[field])) (changes.plan ??= {})[field] = planNow[field] ?? null;
  }
  const clusters = plan.tiers.flatMap((t) => t.clusters);
  for (const cluster of clusters) {
    const now = proseOfCluster(cluster);
    const before = recorded.clusters.get(cluster.id);
    if (!before || JSON.stringify(sorted(now)) !== JSON.stringify(sorted(before))) (changes.clusters ??= {})[cluster.id] = now;
  }
  const ids = clusters.map((c) => c.id);
  if (ids.length !== recorded.order.length || ids.some((id, i) => id !== recorded.order[i])) changes.order = recorded.order;
  return changes;
}

function proseOfPlan(plan: CampaignPlan): Record<string, unknown> {
  return Object.fromEntries(Object.entries(plan).filter(([field, value]) => !CORE_PLAN_FIELDS.has(field) && value !== undefined));
}

function proseOfCluster(cluster: ClusterPlan): Record<string, unknown> {
  return Object.fromEntries(Object.entries(cluster).filter(([field, value]) => !CORE_CLUSTER_FIELDS.has(field) && value !== undefined));
}

function sorted(record: Record<string, unknown>): [string, unknown][] {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
