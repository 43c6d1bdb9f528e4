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
