/**
 * Test fixtures for the AWS provider: SDK clients pointed at moto (or the fault layer in front of
 * it) with dummy credentials and no SDK retries, and the seeded fleet from src/providers/aws/seed.ts.
 * The peer itself is the local AWS sandbox (src/providers/aws/local/), which the demo uses too.
 */
import type { AwsClients } from '../../src/providers/aws/clients';
import { sandboxClients, SANDBOX_OVERRIDE_BUCKET, SANDBOX_REGION, startLocalAwsSandbox, type LocalAwsSandbox } from '../../src/providers/aws/local/sandbox';
import { AwsFleetProvider, type AwsProviderOptions } from '../../src/providers/aws/provider';
import { seedFleet, type SeededFleet, type SeedOptions } from '../../src/providers/aws/seed';
import type { AwsFaultLayer } from '../../src/providers/aws/local/fault-layer';
import type { SsmAgentEmulator } from '../../src/providers/aws/local/node-emulator';
import type { MotoServer } from '../../src/providers/aws/local/moto';

export const TEST_REGION = SANDBOX_REGION;

/**
 * `maxAttempts: 1` by default: moto answers an unimplemented call with a 500, and SDK retries would
 * only slow the test down. Tests of the retry behaviour pass a higher number.
 * The request timeout is the SDK's production one (30 s), not a shorter one: under CI load (chaos
 * runs beside these files on two cores) one moto answer took over 10 s, and "access denied" came
 * back as `timeout`. Tests of the timeout itself build their own client with a short one.
 */
export function testClients(endpoint: string, maxAttempts = 1): AwsClients {
  return sandboxClients(endpoint, { region: TEST_REGION, maxAttempts, requestTimeoutMs: 30_000 });
}

/** An Auto Scaling group of `size` patchwave-tagged instances behind a target group and load balancer. */
export async function seedTestFleet(endpoint: string, options: SeedOptions = {}): Promise<SeededFleet> {
  const clients = testClients(endpoint);
  try {
    return await seedFleet(clients, options);
  } finally {
    clients.destroy();
  }
}

export type { SeededFleet };

/**
 * moto + the fault layer + the node emulator, wired for one test file: `clients` and `provider()` talk
 * to the fault layer, which forwards to moto what no rule or emulation answers. `reset()` between
 * tests clears moto, the rules, the call log and the emulated nodes.
 */
export interface AwsTestPeer {
  /** The same pieces as a local AWS sandbox (for src/providers/aws/local/scenario.ts). */
  sandbox: LocalAwsSandbox;
  moto: MotoServer;
  layer: AwsFaultLayer;
  emulator: SsmAgentEmulator;
  /** The fault layer's endpoint: what the provider under test uses. */
  endpoint: string;
  clients: AwsClients;
  provider(options?: Omit<AwsProviderOptions, 'clients' | 'clientOptions'>, clients?: AwsClients): AwsFleetProvider;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** Fast polling for tests: moto changes state at once, the emulator after a poll or two. */
export const TEST_PROVIDER_OPTIONS = { packageSource: 'tags', baselineOverrideBucket: SANDBOX_OVERRIDE_BUCKET, pollIntervalMs: 10, snapshotTimeoutMs: 5_000, commandTimeoutMs: 5_000, rejoinTimeoutMs: 5_000, restoreTimeoutMs: 5_000 } as const;

export async function startAwsTestPeer(options: { updates?: Record<string, string> } = {}): Promise<AwsTestPeer> {
  const sandbox = await startLocalAwsSandbox({ region: TEST_REGION, updates: options.updates, pollsInProgress: 1 });
  const clients = testClients(sandbox.endpoint);
  return {
    sandbox,
    moto: sandbox.moto,
    layer: sandbox.layer,
    emulator: sandbox.emulator,
    endpoint: sandbox.endpoint,
    clients,
    provider: (providerOptions = {}, own = clients) => new AwsFleetProvider({ ...TEST_PROVIDER_OPTIONS, ...providerOptions, clients: own }),
    reset: () => sandbox.reset(),
    async stop() {
      clients.destroy();
      await sandbox.stop();
    },
  };
}
