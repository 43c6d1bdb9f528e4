/**
 * Test fixtures for the AWS provider: SDK clients pointed at moto (or the fault layer in front of
 * it) with dummy credentials and no SDK retries, and the seeded fleet from src/providers/aws/seed.ts.
 */
import { createAwsClients, type AwsClients } from '../../src/providers/aws/clients';
import { AwsFleetProvider, type AwsProviderOptions } from '../../src/providers/aws/provider';
import { DEMO_FIXED_PACKAGES, seedFleet, type SeededFleet, type SeedOptions } from '../../src/providers/aws/seed';
import { AwsFaultLayer } from './aws-fault-layer';
import { SsmAgentEmulator } from './aws-node-emulator';
import { startMoto, type MotoServer } from './moto';

export const TEST_REGION = 'us-east-1';

/**
 * `maxAttempts: 1` by default: moto answers an unimplemented call with a 500, and SDK retries would
 * only slow the test down. Tests of the retry behaviour pass a higher number.
 */
export function testClients(endpoint: string, maxAttempts = 1): AwsClients {
  return createAwsClients({
    endpoint,
    region: TEST_REGION,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts,
    requestTimeoutMs: 10_000,
  });
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
export const TEST_PROVIDER_OPTIONS = { packageSource: 'tags', pollIntervalMs: 10, snapshotTimeoutMs: 5_000, commandTimeoutMs: 5_000, rejoinTimeoutMs: 5_000, restoreTimeoutMs: 5_000 } as const;

export async function startAwsTestPeer(options: { updates?: Record<string, string> } = {}): Promise<AwsTestPeer> {
  const moto = await startMoto();
  const layer = await AwsFaultLayer.start(moto.endpoint);
  const emulator = SsmAgentEmulator.install(layer, { motoEndpoint: moto.endpoint, region: TEST_REGION, updates: options.updates ?? DEMO_FIXED_PACKAGES });
  const clients = testClients(layer.endpoint);
  return {
    moto,
    layer,
    emulator,
    endpoint: layer.endpoint,
    clients,
    provider: (providerOptions = {}, own = clients) => new AwsFleetProvider({ ...TEST_PROVIDER_OPTIONS, ...providerOptions, clients: own }),
    async reset() {
      await moto.reset();
      layer.reset();
      emulator.reset();
      emulator.updates = options.updates ?? DEMO_FIXED_PACKAGES;
      emulator.pollsInProgress = 1;
    },
    async stop() {
      clients.destroy();
      emulator.destroy();
      await layer.stop();
      await moto.stop();
    },
  };
}
