/**
 * Seeded randomness and latency distributions for the fleet simulator. Every random choice the
 * simulator makes comes from here, keyed by what it is for (seed, subject, operation, index), so the
 * same fleet gives the same draws whatever order concurrent calls arrive in. No Math.random.
 */
import { z } from 'zod';

/** mulberry32 (Tommy Ettinger): one 32-bit word of state, good statistical quality for simulation. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a over the parts: turns (seed, node, op, index) into the seed of an independent stream. */
function hashParts(...parts: Array<string | number>): number {
  const text = parts.join('\u0000');
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** A random stream that depends only on its parts, never on what was drawn before elsewhere. */
export function streamFor(...parts: Array<string | number>): () => number {
  return mulberry32(hashParts(...parts));
}

/** One uniform draw in [0, 1) keyed by its parts (fault selection, flaps, throttling). */
export function unitDraw(...parts: Array<string | number>): number {
  return streamFor(...parts)();
}

/** Simulated operations that take time. `patch` is the command's run time; `reboot` is added to it when the kernel changes. */
export const LATENCY_OPS = [
  'health',
  'manifest',
  'snapshot',
  'drain',
  'sendCommand',
  'patch',
  'reboot',
  'reapplyConfig',
  'restoreConfig',
  'restoreData',
  'rejoin',
  'quarantine',
  'metrics',
] as const;
export type LatencyOp = (typeof LATENCY_OPS)[number];

/** z of the 99th percentile of the standard normal: turns (median, p99) into the lognormal's sigma. */
const Z_P99 = 2.3263478740408408;

const distributionObject = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('fixed'), ms: z.number().min(0) }),
  z.strictObject({ kind: z.literal('uniform'), minMs: z.number().min(0), maxMs: z.number().min(0) }),
  /** Heavy right tail: most patches take about the median, a few take many times longer. */
  z.strictObject({ kind: z.literal('lognormal'), medianMs: z.number().positive(), p99Ms: z.number().positive() }),
]);

/** A distribution, or a bare number of milliseconds as shorthand for `fixed`. */
export const latencyDistributionSchema = z
  .union([z.number().min(0).transform((ms) => ({ kind: 'fixed' as const, ms })), distributionObject])
  .superRefine((dist, ctx) => {
    if (dist.kind === 'uniform' && dist.maxMs < dist.minMs) {
      ctx.addIssue({ code: 'custom', message: `maxMs (${dist.maxMs}) must be at least minMs (${dist.minMs})` });
    }
    if (dist.kind === 'lognormal' && dist.p99Ms < dist.medianMs) {
      ctx.addIssue({ code: 'custom', message: `p99Ms (${dist.p99Ms}) must be at least medianMs (${dist.medianMs})` });
    }
  });
export type LatencyDistribution = z.output<typeof latencyDistributionSchema>;

/** Per-operation distributions; an operation left out takes no time. */
export const latencyTableSchema = z.partialRecord(z.enum(LATENCY_OPS), latencyDistributionSchema);
export type LatencyTable = z.output<typeof latencyTableSchema>;
export type LatencyTableInput = z.input<typeof latencyTableSchema>;

/** One value from `dist`, in unscaled milliseconds, using the uniforms of `next`. */
export function sampleLatency(dist: LatencyDistribution, next: () => number): number {
  switch (dist.kind) {
    case 'fixed':
      return dist.ms;
    case 'uniform':
      return dist.minMs + next() * (dist.maxMs - dist.minMs);
    case 'lognormal': {
      // Box–Muller; 1 - u keeps the logarithm's argument in (0, 1].
      const u1 = 1 - next();
      const u2 = next();
      const normal = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
      const sigma = (Math.log(dist.p99Ms) - Math.log(dist.medianMs)) / Z_P99;
      return Math.exp(Math.log(dist.medianMs) + sigma * normal);
    }
  }
}

/**
 * Draws and records operation latencies. The n-th draw of an operation on a subject (node or cluster)
 * is a pure function of (seed, subject, op, n): concurrency and other nodes cannot shift it. Recorded
 * draws are what the benchmark sums into its lower bound, and their counts are the next indices, so
 * they are persisted and restored with `record`.
 */
export class LatencyModel {
  private readonly draws = new Map<string, Partial<Record<LatencyOp, number[]>>>();

  constructor(
    private readonly seed: number,
    private readonly table: LatencyTable,
    /** Multiplies every duration: benchmarks run the fleet at 1/60 of real time. */
    readonly scale: number,
    /** Told of every new draw, to persist it. */
    private readonly onDraw: (subject: string, op: LatencyOp, ms: number) => void = () => {},
  ) {}

  /** The next duration of `op` on `subject`, in scaled milliseconds, recorded before it is returned. */
  draw(subject: string, op: LatencyOp): number {
    const dist = this.table[op];
    if (!dist) return 0;
    const index = this.draws.get(subject)?.[op]?.length ?? 0;
    const ms = sampleLatency(dist, streamFor(this.seed, subject, op, index)) * this.scale;
    this.record(subject, op, ms);
    this.onDraw(subject, op, ms);
    return ms;
  }

  /** Adds a draw made earlier (at replay after a restart). */
  record(subject: string, op: LatencyOp, ms: number): void {
    let perOp = this.draws.get(subject);
    if (!perOp) this.draws.set(subject, (perOp = {}));
    (perOp[op] ??= []).push(ms);
  }

  /** Every draw so far: subject → op → scaled milliseconds in draw order. */
  allDraws(): Record<string, Partial<Record<LatencyOp, number[]>>> {
    return Object.fromEntries(this.draws);
  }
}
