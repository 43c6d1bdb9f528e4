/** A fleet simulator per test: real HTTP on 127.0.0.1, its own state dir, its independent monitor. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SimAdminClient, SimFleetProvider } from '../../src/providers/sim/client';
import type { FleetSpecInput } from '../../src/providers/sim/fleet-spec';
import { startSimServer, type SimServer } from '../../src/providers/sim/server';

export interface TestSim {
  server: SimServer;
  url: string;
  provider: SimFleetProvider;
  admin: SimAdminClient;
  stateDir: string;
  close(): Promise<void>;
}

export async function startTestSim(fleet: FleetSpecInput): Promise<TestSim> {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'patchwave-test-sim-'));
  const server = await startSimServer({ stateDir, fleet, host: '127.0.0.1', port: 0 });
  return {
    server,
    url: server.url,
    provider: new SimFleetProvider(server.url),
    admin: new SimAdminClient(server.url),
    stateDir,
    async close() {
      await server.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
