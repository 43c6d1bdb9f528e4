/**
 * A synthetic inventory the size of a large estate, for tests of what a plan weighs: instance ids
 * and cluster names random (seeded), as a real estate's are, so compression is not flattered by
 * sequential names.
 */
import type { InventoryAsset } from '../../src/domain/inventory';
import { mulberry32 } from '../../src/providers/sim/latency';

const WORDS = ['api', 'web', 'db', 'cache', 'queue', 'auth', 'search', 'billing', 'orders', 'users', 'media', 'edge'];

export function randomEstate(clusterCount: number, nodesPerCluster: number, seed = 1): InventoryAsset[] {
  const random = mulberry32(seed);
  const hex = (digits: number) => Array.from({ length: digits }, () => Math.floor(random() * 16).toString(16)).join('');
  const names = Array.from({ length: clusterCount }, (_, c) => `${WORDS[c % WORDS.length]}-${hex(6)}`);
  const out: InventoryAsset[] = [];
  names.forEach((cluster, c) => {
    for (let n = 0; n < nodesPerCluster; n++)
      out.push({
        id: `i-0${hex(16)}`,
        cluster,
        role: ['public-web', 'database', 'worker'][c % 3],
        exposure: c % 3 === 0 ? 'internet' : 'internal',
        exposureVia: c % 3 === 0 ? `internet-facing ALB ${cluster}-alb` : undefined,
        dataSensitivity: c % 3 === 1 ? 'high' : 'low',
        osFamily: 'ubuntu',
        packages: { 'openssh-server': '1:8.9p1-3ubuntu0.6' },
        dependsOn: [names[(c + 1) % clusterCount]],
      });
  });
  return out;
}

/**
 * The sequential synthetic estate the size tests and `bench/measure-carry.ts` share: clusters
 * `svc-0000…` (or `ok-…` when not vulnerable), roles and exposure in a cycle of three, sequential
 * instance ids from `offset`. Its plan sizes are the documented limits; keep it byte-for-byte stable.
 */
export function sequentialEstate(clusterCount: number, nodesPerCluster: number, options: { vulnerable?: boolean; offset?: number } = {}): InventoryAsset[] {
  const { vulnerable = true, offset = 0 } = options;
  const instanceId = (n: number) => `i-0${n.toString(16).padStart(16, '0')}`;
  const out: InventoryAsset[] = [];
  for (let c = 0; c < clusterCount; c++)
    for (let n = 0; n < nodesPerCluster; n++)
      out.push({
        id: instanceId(offset + c * nodesPerCluster + n),
        cluster: `${vulnerable ? 'svc' : 'ok'}-${c.toString().padStart(4, '0')}`,
        role: ['public-web', 'database', 'worker'][c % 3]!,
        exposure: c % 3 === 0 ? 'internet' : 'internal',
        exposureVia: c % 3 === 0 ? `internet-facing ALB svc-${c}` : undefined,
        dataSensitivity: c % 3 === 1 ? 'high' : 'low',
        osFamily: 'ubuntu',
        packages: { 'openssh-server': vulnerable ? '1:8.9p1-3ubuntu0.6' : '1:8.9p1-3ubuntu0.10' },
        dependsOn: [`svc-${((c + 1) % clusterCount).toString().padStart(4, '0')}`],
        ...(c % 10 === 0 && { patchGroup: `pg-${c % 30}` }),
      });
  return out;
}
