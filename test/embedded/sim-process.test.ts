/**
 * startSimProcess starts the simulator itself, not the tsx wrapper: a SIGKILL of the pid it returns
 * stops the fleet API (with the wrapper, the real simulator ran on as an orphan and kept answering),
 * and a start on the same state directory and port resumes the fleet.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../src/embedded/dev-server';
import { processExists } from '../../src/embedded/node-process';
import { startSimProcess } from '../../src/embedded/sim-process';
import { demoFleet } from '../../src/providers/sim/demo-fleet';

describe('startSimProcess', () => {
  it('returns the simulator process itself: SIGKILL stops the fleet API, a restart resumes it', async () => {
    const stateDir = mkdtempSync(path.join(tmpdir(), 'patchwave-sim-process-'));
    const port = await freePort();
    const sim = await startSimProcess({ stateDir, fleet: demoFleet(), port });
    try {
      expect((await fetch(`${sim.url}/healthz`)).ok).toBe(true);
      await sim.kill('SIGKILL');
      expect(processExists(sim.pid)).toBe(false);
      // Nothing may answer on the port any more: an orphan would.
      await expect(fetch(`${sim.url}/healthz`, { signal: AbortSignal.timeout(2_000) })).rejects.toThrow();

      const again = await startSimProcess({ stateDir, port });
      try {
        const health = (await (await fetch(`${again.url}/healthz`)).json()) as { nodes: number };
        expect(health.nodes).toBeGreaterThan(0);
      } finally {
        await again.stop();
      }
    } finally {
      await sim.stop();
      rmSync(stateDir, { recursive: true, force: true });
    }
  }, 60_000);
});
