/**
 * The local AWS sandbox: moto server (EC2, Auto Scaling, ELBv2 and SSM on one loopback port), the
 * fault layer in front of it (`fault-layer.ts`) and the node emulator behind that (`node-emulator.ts`:
 * what the SSM Agent and the package manager inside the instances would do). The AWS provider talks
 * to `endpoint` — the fault layer — exactly as it talks to AWS; whatever no emulation answers is
 * moto's. Used by the provider's tests and by `patchwave demo --provider aws`. Nothing here ever
 * talks to a real AWS account: the endpoint is always loopback and the credentials are dummies.
 */
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { createAwsClients, type AwsClients } from '../clients';
import { DEMO_FIXED_PACKAGES } from '../seed';
import { AwsFaultLayer, type RecordedCall } from './fault-layer';
import { startMoto, type MotoServer } from './moto';
import { SsmAgentEmulator } from './node-emulator';

export const SANDBOX_REGION = 'us-east-1';
/** The bucket targeted remediation writes its patch baseline overrides to, created in moto. */
export const SANDBOX_OVERRIDE_BUCKET = 'patchwave-sandbox-baseline-overrides';
/** moto accepts any signature; these never leave the machine. */
export const SANDBOX_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' } as const;

export interface LocalAwsSandboxOptions {
  region?: string;
  /** What the emulated patch baseline installs (package → version); default DEMO_FIXED_PACKAGES. */
  updates?: Record<string, string>;
  /** GetCommandInvocation polls answered `InProgress` before a command's outcome. */
  pollsInProgress?: number;
  /** Progress messages (moto being installed, …); default: stderr. */
  log?: (message: string) => void;
}

export interface LocalAwsSandbox {
  moto: MotoServer;
  layer: AwsFaultLayer;
  emulator: SsmAgentEmulator;
  /** The fault layer's endpoint: what the provider under test (or the demo's worker) uses. */
  endpoint: string;
  region: string;
  /** Exists in moto (again after `reset`): pass it as the provider's `baselineOverrideBucket`. */
  overrideBucket: string;
  /**
   * SDK clients with dummy credentials. `direct` talks to moto itself (seeding, asserting the end
   * state) and stays out of the fault layer's call log. `maxAttempts` 1 by default: an unimplemented
   * call answers 500 and retrying it only slows things down.
   */
  clients(options?: { direct?: boolean; maxAttempts?: number; requestTimeoutMs?: number }): AwsClients;
  /** Clears moto's state, the fault rules, the call log and the emulated nodes. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export function sandboxClients(endpoint: string, options: { region?: string; maxAttempts?: number; requestTimeoutMs?: number } = {}): AwsClients {
  return createAwsClients({
    endpoint,
    region: options.region ?? SANDBOX_REGION,
    credentials: { ...SANDBOX_CREDENTIALS },
    maxAttempts: options.maxAttempts ?? 1,
    requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
  });
}

export async function startLocalAwsSandbox(options: LocalAwsSandboxOptions = {}): Promise<LocalAwsSandbox> {
  const region = options.region ?? SANDBOX_REGION;
  const updates = () => ({ ...(options.updates ?? DEMO_FIXED_PACKAGES) });
  const pollsInProgress = options.pollsInProgress ?? 1;
  const moto = await startMoto({ log: options.log });
  let layer: AwsFaultLayer;
  try {
    layer = await AwsFaultLayer.start(moto.endpoint);
  } catch (err) {
    await moto.stop();
    throw err;
  }
  const emulator = SsmAgentEmulator.install(layer, { motoEndpoint: moto.endpoint, region, updates: updates(), pollsInProgress });
  const createBucket = async () => {
    const clients = sandboxClients(moto.endpoint, { region });
    try {
      await clients.s3.send(new CreateBucketCommand({ Bucket: SANDBOX_OVERRIDE_BUCKET }));
    } finally {
      clients.destroy();
    }
  };
  try {
    await createBucket();
  } catch (err) {
    emulator.destroy();
    await layer.stop();
    await moto.stop();
    throw err;
  }
  return {
    moto,
    layer,
    emulator,
    endpoint: layer.endpoint,
    region,
    overrideBucket: SANDBOX_OVERRIDE_BUCKET,
    clients: (o = {}) => sandboxClients(o.direct ? moto.endpoint : layer.endpoint, { region, maxAttempts: o.maxAttempts, requestTimeoutMs: o.requestTimeoutMs }),
    async reset() {
      await moto.reset();
      layer.reset();
      emulator.reset();
      emulator.updates = updates();
      emulator.pollsInProgress = pollsInProgress;
      await createBucket();
    },
    async stop() {
      emulator.destroy();
      await layer.stop();
      await moto.stop();
    },
  };
}

/** The instance ids of a query-protocol list parameter (`InstanceIds.member.1`, …). */
export function memberList(params: Record<string, unknown>, name: string): string[] {
  return Object.entries(params)
    .filter(([key]) => new RegExp(`^${name}\\.member\\.\\d+$`).test(key))
    .sort(([a], [b]) => Number(a.split('.').pop()) - Number(b.split('.').pop()))
    .map(([, value]) => String(value));
}

export interface StandbyHistory {
  /** Per Auto Scaling group: the most instances in Standby at the same time. */
  maxInStandby: Record<string, number>;
  /** Instances that entered Standby and never left it (by the call log). */
  stillInStandby: string[];
}

/**
 * Out of service as AWS saw it: replays the successful EnterStandby / ExitStandby calls in the fault
 * layer's log. Independent of the workflow's own bookkeeping.
 */
export function standbyHistory(calls: readonly RecordedCall[]): StandbyHistory {
  const inStandby = new Map<string, Set<string>>();
  const maxInStandby: Record<string, number> = {};
  for (const call of calls) {
    if (call.service !== 'autoscaling' || call.status !== 200 || !['EnterStandby', 'ExitStandby'].includes(call.operation)) continue;
    const group = String(call.params.AutoScalingGroupName ?? '');
    const set = inStandby.get(group) ?? new Set<string>();
    inStandby.set(group, set);
    for (const id of memberList(call.params, 'InstanceIds')) {
      if (call.operation === 'EnterStandby') set.add(id);
      else set.delete(id);
    }
    maxInStandby[group] = Math.max(maxInStandby[group] ?? 0, set.size);
  }
  return { maxInStandby, stillInStandby: [...inStandby.values()].flatMap((s) => [...s]).sort() };
}
