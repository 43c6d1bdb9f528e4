import { describe, expect, it } from 'vitest';
import type { InventoryAsset } from '../../../src/domain/inventory';
import { assetTier, normaliseRole } from '../../../src/domain/ranking/tiers';

const asset = (over: Partial<InventoryAsset>): InventoryAsset => ({ id: 'a', cluster: 'c', role: 'worker', exposure: 'internal', dataSensitivity: 'none', packages: {}, ...over });

describe('tiers (product.md §3)', () => {
  it.each([
    [{ exposure: 'internet', exposureVia: 'internet-facing ALB web-prod' }, 1, 'behind internet-facing ALB web-prod'],
    [{ exposure: 'internet', exposureVia: 'public IP 203.0.113.7' }, 1, 'internet-facing via public IP 203.0.113.7'],
    [{ exposure: 'internet' }, 1, 'internet-facing'],
    [{ role: 'auth' }, 1, 'auth endpoint (front door)'],
    [{ role: 'ALB' }, 1, 'load balancer (front door)'],
    [{ role: 'api-gateway' }, 1, 'API gateway (front door)'],
    [{ role: 'database', dataSensitivity: 'high' }, 2, 'database, internal, high-sensitivity data'],
    [{ role: 'queue' }, 2, 'message queue, internal'],
    [{ role: 'ci-runner' }, 2, 'CI/CD runner, internal'],
    [{ role: 'cache', dataSensitivity: 'high' }, 2, 'cache holding high-sensitivity data'],
    [{ role: 'monitoring' }, 3, 'monitoring, internal, no sensitive data'],
    [{ role: 'staging', dataSensitivity: 'low' }, 3, 'staging, internal, low-sensitivity data'],
    [{ role: 'monitoring', tier: 2 }, 2, 'inventory label (monitoring, internal)'],
    // The front door is patched first: a label cannot demote an internet-facing asset.
    [{ exposure: 'internet', tier: 3 }, 1, 'internet-facing (overrides label tier 3)'],
  ] as const)('%o → tier %i: %s', (over, tier, reason) => {
    expect(assetTier(asset(over as Partial<InventoryAsset>))).toEqual({ tier, reason });
  });

  it('normalises role spellings', () => {
    expect(['Load Balancer', 'load_balancer', 'NLB', 'lb'].map(normaliseRole)).toEqual(['load-balancer', 'load-balancer', 'load-balancer', 'load-balancer']);
    expect(normaliseRole('Message Queue')).toBe('queue');
  });
});
