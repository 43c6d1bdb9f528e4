/**
 * The fleet file the simulator runs: clusters of nodes with their packages and config files, a
 * package repository (what a patch installs), latencies, and injected faults. JSON or YAML.
 */
import { createHash } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { InventoryAsset } from '../../domain/inventory';
import { BUNDLE_NAME } from '../../domain/package-source';
import { PatchwaveError, summarizeIssues } from '../../domain/errors';
import { describeZodIssues } from '../../domain/issues';
import { latencyTableSchema } from './latency';

/** Which nodes a fault hits: named nodes, a whole cluster, or everything; `rate` keeps a seeded fraction of those. */
const faultTarget = {
  /** Assigned (`f1`, `f2`, …) when absent; used to clear one fault at runtime. */
  id: z.string().min(1).optional(),
  node: z.string().min(1).optional(),
  nodes: z.array(z.string().min(1)).optional(),
  cluster: z.string().min(1).optional(),
  /** Fraction of the targeted nodes the fault applies to, chosen by the fleet seed (stable across runs). */
  rate: z.number().min(0).max(1).optional(),
};

export const faultSchema = z.discriminatedUnion('kind', [
  /** The patch command ends Failed; with `partial`, half of the requested packages were upgraded first. */
  z.strictObject({ kind: z.literal('patch-fails'), ...faultTarget, partial: z.boolean().default(false) }),
  /**
   * For `checks` health checks after a successful patch (while it is in place: a rollback stops it)
   * the node fails checks: every other one when `probability` is absent, else each with that
   * probability (seeded).
   */
  z.strictObject({
    kind: z.literal('health-flaps'),
    ...faultTarget,
    checks: z.number().int().min(1).default(6),
    probability: z.number().min(0).max(1).optional(),
  }),
  /** A successful patch rewrites a critical config file (`path`, default the node's first one). */
  z.strictObject({ kind: z.literal('config-drift'), ...faultTarget, path: z.string().min(1).optional() }),
  /** Connections take `delayMs` (simulated time, scaled like latencies) longer to drain. */
  z.strictObject({ kind: z.literal('slow-drain'), ...faultTarget, delayMs: z.number().min(0) }),
  /** The patch command never finishes: the caller's timeout has to fire and cancel it. */
  z.strictObject({ kind: z.literal('unreachable-repo'), ...faultTarget }),
  /** restoreConfig and/or restoreData fail every time (a final `conflict`, not an API blip), until the fault is cleared. */
  z.strictObject({
    kind: z.literal('restore-fails'),
    ...faultTarget,
    step: z.enum(['config', 'data', 'both']).default('both'),
  }),
  /** The node fails health checks before anything is done to it. */
  z.strictObject({ kind: z.literal('unhealthy-before'), ...faultTarget }),
  /** While patched nodes of the cluster serve traffic, its error rate and latency rise. */
  z.strictObject({
    kind: z.literal('regression'),
    ...faultTarget,
    errorRateDelta: z.number().min(0).max(1).default(0.2),
    latencyFactor: z.number().min(1).default(3),
  }),
  /**
   * A successful patch leaves `services` running the old library (mapped, deleted on disk) until they
   * are restarted; with `survivesRestart` a restart does not help (the service re-execs a stale binary).
   */
  z.strictObject({
    kind: z.literal('stale-library'),
    ...faultTarget,
    services: z.array(z.string().min(1)).min(1).default(['sshd']),
    survivesRestart: z.boolean().default(false),
  }),
  /** The policy's per-CVE check command exits `exitCode` on the node (the vulnerability still triggers). */
  z.strictObject({ kind: z.literal('check-fails'), ...faultTarget, exitCode: z.number().int().min(1).max(255).default(1), output: z.string().default('still vulnerable') }),
  /**
   * The node's package mirror lags: for `package` (default every package) it offers `version`, or
   * nothing newer than what is installed when `version` is absent. The patch "succeeds" and installs
   * what the mirror has, which may be below the fix: verification must catch it.
   */
  z.strictObject({ kind: z.literal('repo-lag'), ...faultTarget, package: z.string().min(1).optional(), version: z.string().min(1).optional() }),
  /**
   * A fleet API outage window: for `durationMs` of wall-clock time from when the fault is added (or
   * the fleet loaded), every call on the targeted nodes is refused — `unavailable` (503, the API is
   * down) or `throttled` (429). The nodes themselves carry on: running patch commands still finish.
   */
  z.strictObject({
    kind: z.literal('api-outage'),
    ...faultTarget,
    durationMs: z.number().int().min(1),
    answer: z.enum(['unavailable', 'throttled']).default('unavailable'),
    /** Only these calls: `checkHealth`, `readManifest`, `getPatchStatus`, `cancelPatch`, or an operation as the monitor names it (`drain`, `startPatch`…); default every call. */
    calls: z.array(z.string().min(1)).optional(),
    /** Epoch ms the window opens; set by the simulator when absent. */
    startsAt: z.number().int().optional(),
  }),
  /**
   * The node's copy of a bundle is corrupt: `file` (default the bundle's first) reads with another
   * checksum there, so the bundle fails its manifest on the targeted nodes (all of them when untargeted).
   */
  z.strictObject({ kind: z.literal('bundle-corrupt'), ...faultTarget, bundle: z.string().min(1), file: z.string().min(1).optional() }),
  /** Calls on the node are refused with 429 with this probability (seeded per call). */
  z.strictObject({
    kind: z.literal('throttle'),
    ...faultTarget,
    probability: z.number().min(0).max(1).default(0.5),
  }),
]);
export type FaultInput = z.input<typeof faultSchema>;
export type Fault = z.output<typeof faultSchema> & { id: string };
export type FaultKind = Fault['kind'];

const packages = z.record(z.string().min(1), z.string().min(1));

const nodeSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'use letters, digits and . _ : - (it appears in URLs)'),
  packages,
  kernel: z.string().min(1).default('6.8.0-31'),
  /** Critical config file path → content, or its sha256 (64 hex characters) when the content does not matter. */
  configFiles: z.record(z.string().min(1), z.string()).default({}),
  patchGroup: z.string().min(1).optional(),
  dependsOn: z.array(z.string().min(1)).optional(),
  healthy: z.boolean().default(true),
});

/**
 * An offline bundle the fleet holds (policy `packageSource: bundle`): files with their checksums
 * and, for package files, the package and version a patch installs from it. A file's checksum is
 * `sha256`, else the sha256 of `content`, else the sha256 of `<bundle name>/<path>`.
 */
const bundleSchema = z.strictObject({
  name: z.string().regex(BUNDLE_NAME, '3 to 50 letters, digits, . _ or -'),
  files: z
    .array(
      z.strictObject({
        path: z.string().min(1),
        content: z.string().optional(),
        sha256: z.string().regex(/^[0-9a-f]{64}$/, '64 lowercase hex digits').optional(),
        package: z.string().min(1).optional(),
        version: z.string().min(1).optional(),
      }),
    )
    .min(1, 'a bundle needs at least one file'),
});

const clusterSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'use letters, digits and . _ : - (it appears in URLs)'),
  tier: z.union([z.literal(1), z.literal(2), z.literal(3)]).optional(),
  role: z.string().min(1),
  exposure: z.enum(['internet', 'internal']),
  dataSensitivity: z.enum(['high', 'medium', 'low', 'none']),
  loadBalancer: z.string().min(1).optional(),
  osFamily: z.string().min(1).optional(),
  /** Error rate when every node serves; metrics degrade from here. */
  baselineErrorRate: z.number().min(0).max(1).default(0.001),
  /** p50 latency when every node serves. */
  baselineLatencyMs: z.number().positive().default(40),
  nodes: z.array(nodeSchema).min(1, 'a cluster needs at least one node'),
});

export const fleetSpecSchema = z
  .strictObject({
    name: z.string().min(1),
    seed: z.number().int(),
    latency: latencyTableSchema.default({}),
    latencyScale: z.number().positive().default(1),
    /** Versions the package repository offers: a patch upgrades each requested, installed package to these. */
    packageRepo: packages.default({}),
    /** Kernel a `RebootIfNeeded` patch installs (and reboots into) when it differs from the node's. */
    availableKernel: z.string().min(1).optional(),
    clusters: z.array(clusterSchema),
    /** Offline bundles a `packageSource: bundle` policy installs from. */
    bundles: z.array(bundleSchema).default([]),
    faults: z.array(faultSchema).default([]),
  })
  .superRefine((spec, ctx) => {
    const clusterIds = new Set<string>();
    const nodeIds = new Set<string>();
    spec.clusters.forEach((cluster, ci) => {
      if (clusterIds.has(cluster.id)) {
        ctx.addIssue({ code: 'custom', path: ['clusters', ci, 'id'], message: `duplicate cluster id "${cluster.id}"` });
      }
      clusterIds.add(cluster.id);
      cluster.nodes.forEach((node, ni) => {
        if (nodeIds.has(node.id)) {
          ctx.addIssue({ code: 'custom', path: ['clusters', ci, 'nodes', ni, 'id'], message: `duplicate node id "${node.id}"` });
        }
        nodeIds.add(node.id);
      });
    });
    spec.clusters.forEach((cluster, ci) =>
      cluster.nodes.forEach((node, ni) => {
        // Inventory scopes accept both cluster and node ids; one name must mean one thing.
        if (clusterIds.has(node.id)) {
          ctx.addIssue({
            code: 'custom',
            path: ['clusters', ci, 'nodes', ni, 'id'],
            message: `node id "${node.id}" is also a cluster id; rename one of them`,
          });
        }
      }),
    );
    const bundles = new Map<string, Set<string>>();
    spec.bundles.forEach((bundle, bi) => {
      if (bundles.has(bundle.name)) ctx.addIssue({ code: 'custom', path: ['bundles', bi, 'name'], message: `duplicate bundle name "${bundle.name}"` });
      bundles.set(bundle.name, new Set(bundle.files.map((f) => f.path)));
    });
    spec.faults.forEach((fault, fi) => checkFaultTargets(fault, { clusterIds, nodeIds, bundles }, ctx, ['faults', fi]));
  })
  .transform((spec) => ({ ...spec, faults: assignFaultIds(spec.faults, []) }));

export type FleetSpecInput = z.input<typeof fleetSpecSchema>;
export type FleetSpec = z.output<typeof fleetSpecSchema>;
export type ClusterSpec = FleetSpec['clusters'][number];
export type NodeSpec = ClusterSpec['nodes'][number];

/** Reports a fault that names a node or cluster the fleet does not have: a typo would silently inject nothing. */
export function checkFaultTargets(
  fault: z.output<typeof faultSchema>,
  known: { clusterIds: ReadonlySet<string>; nodeIds: ReadonlySet<string>; bundles: ReadonlyMap<string, ReadonlySet<string>> },
  ctx: z.RefinementCtx,
  path: Array<string | number>,
): void {
  for (const nodeId of [...(fault.node ? [fault.node] : []), ...(fault.nodes ?? [])]) {
    if (!known.nodeIds.has(nodeId)) {
      ctx.addIssue({ code: 'custom', path, message: `${fault.kind} fault targets node "${nodeId}", which is not in the fleet` });
    }
  }
  if (fault.cluster && !known.clusterIds.has(fault.cluster)) {
    ctx.addIssue({ code: 'custom', path, message: `${fault.kind} fault targets cluster "${fault.cluster}", which is not in the fleet` });
  }
  if (fault.kind === 'bundle-corrupt') {
    const files = known.bundles.get(fault.bundle);
    if (!files) ctx.addIssue({ code: 'custom', path, message: `bundle-corrupt fault names bundle "${fault.bundle}", which the fleet does not hold` });
    else if (fault.file !== undefined && !files.has(fault.file)) {
      ctx.addIssue({ code: 'custom', path, message: `bundle-corrupt fault names file "${fault.file}", which is not in bundle "${fault.bundle}"` });
    }
  }
}

/** Gives every fault without an id the next free `fN`, skipping ids already taken. */
export function assignFaultIds(faults: ReadonlyArray<z.output<typeof faultSchema>>, existing: readonly Fault[]): Fault[] {
  const taken = new Set([...existing.map((f) => f.id), ...faults.flatMap((f) => (f.id ? [f.id] : []))]);
  let next = 1;
  return faults.map((fault) => {
    if (fault.id) return { ...fault, id: fault.id };
    while (taken.has(`f${next}`)) next++;
    taken.add(`f${next}`);
    return { ...fault, id: `f${next}` };
  });
}

export class FleetSpecError extends PatchwaveError {
  constructor(
    readonly source: string,
    readonly issues: string[],
  ) {
    super(`invalid fleet ${source}: ${summarizeIssues(issues)}`, 'bad-input');
  }
}

/** The issues of a fleet, fault or request document, worded like every other document's (src/domain/issues.ts). */
export function describeIssues(error: z.ZodError, root: string, input: unknown): string[] {
  return describeZodIssues(error.issues, input, [root]);
}

/** Validates a fleet and fills defaults. Throws `FleetSpecError` naming every bad field. */
export function parseFleetSpec(input: unknown, source = 'spec'): FleetSpec {
  const result = fleetSpecSchema.safeParse(input);
  if (result.success) return result.data;
  throw new FleetSpecError(source, describeIssues(result.error, 'fleet', input));
}

/** Parses a fleet file's text; YAML is a superset of JSON, so one parser reads both. */
export function parseFleetText(text: string, fileName: string): FleetSpec {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (err) {
    throw new FleetSpecError(fileName, [`not valid JSON or YAML: ${(err as Error).message}`]);
  }
  return parseFleetSpec(document, fileName);
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

export type BundleSpec = FleetSpec['bundles'][number];

/** A bundle file's checksum as the fleet file defines it (see the bundle schema). */
export function bundleFileChecksum(bundle: BundleSpec, file: BundleSpec['files'][number]): string {
  return file.sha256 ?? createHash('sha256').update(file.content ?? `${bundle.name}/${file.path}`).digest('hex');
}

/** A config file entry is either its content or already its checksum. */
export function configChecksum(contentOrChecksum: string): string {
  return SHA256_HEX.test(contentOrChecksum) ? contentOrChecksum : createHash('sha256').update(contentOrChecksum).digest('hex');
}

/** The planner's view of one node, given its current packages. */
export function assetOf(cluster: ClusterSpec, node: NodeSpec, installed: Record<string, string>): InventoryAsset {
  return {
    id: node.id,
    cluster: cluster.id,
    role: cluster.role,
    exposure: cluster.exposure,
    dataSensitivity: cluster.dataSensitivity,
    ...(cluster.tier !== undefined && { tier: cluster.tier }),
    packages: { ...installed },
    ...(node.dependsOn && { dependsOn: [...node.dependsOn] }),
    ...(node.patchGroup && { patchGroup: node.patchGroup }),
    ...(cluster.osFamily && { osFamily: cluster.osFamily }),
  };
}

/** The fleet as the planner sees it before anything has been patched. */
export function inventoryFromFleet(spec: FleetSpec): InventoryAsset[] {
  return spec.clusters.flatMap((cluster) => cluster.nodes.map((node) => assetOf(cluster, node, node.packages)));
}
