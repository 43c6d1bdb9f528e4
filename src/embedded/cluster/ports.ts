/** Finding a free block of ports for the cluster: the topology's layout, moved as a whole. */
import { createServer } from 'node:net';
import { shiftPorts, type Ports } from './topology';

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export async function allFree(ports: number[]): Promise<boolean> {
  for (const port of ports) if (!(await isFree(port))) return false;
  return true;
}

/** Ports of the block plus one metrics port per extra worker. */
export function blockPorts(ports: Ports, workers: number): number[] {
  return [...Object.values(ports), ...Array.from({ length: workers }, (_, i) => ports.workerMetrics + i)];
}

/**
 * The documented ports when they are all free (or exactly `requested`), else (or with `avoidDefaults`, for tests) a random
 * offset that keeps the frontend between 17233 and 31233 and every Temporal port <= 32767.
 */
export async function chooseOffset(base: Ports, workers: number, requested?: number, avoidDefaults = false): Promise<number> {
  if (requested !== undefined) {
    const ports = shiftPorts(base, requested);
    if (!(await allFree(blockPorts(ports, workers)))) throw new Error(`some of ports ${blockPorts(ports, workers).join(', ')} are taken: choose another --port-offset`);
    return requested;
  }
  if (!avoidDefaults && (await allFree(blockPorts(base, workers)))) return 0;
  for (let attempt = 0; attempt < 50; attempt++) {
    const offset = 10_000 + 100 * Math.floor(Math.random() * 140);
    if (await allFree(blockPorts(shiftPorts(base, offset), workers))) return offset;
  }
  throw new Error('found no free block of ports for the cluster after 50 tries');
}
