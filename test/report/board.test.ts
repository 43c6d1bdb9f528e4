/**
 * The `status` headline: its counts add up to the nodes finished. A skipped node was left out
 * ("40/40 patched 38 rolled back 1 quarantined 0").
 */
import { describe, expect, it } from 'vitest';
import { renderBoard } from '../../src/report/board';
import type { CampaignStatus } from '../../src/workflows/types';

const counts = { total: 40, pending: 0, running: 0, patched: 35, pendingReboot: 0, restartPending: 0, rolledBack: 1, quarantined: 0, unhealthy: 1, failed: 1, skipped: 2 };
const status = { campaignId: 'campaign:CVE-2024-6387:all', phase: 'completed', counts, tiers: [], halts: [] } as unknown as CampaignStatus;
const plain = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, '');

describe('renderBoard headline', () => {
  it('names every outcome that has nodes, so the numbers add up to the finished count', () => {
    const headline = plain(renderBoard(status)).split('\n')[0];
    expect(headline).toContain('40/40');
    expect(headline).toContain('patched 35  rolled back 1  quarantined 0  unhealthy 1  failed 1  skipped 2  in flight 0');
    const named = [...headline.matchAll(/(patched|rolled back|quarantined|unhealthy|failed|skipped|pending reboot|restart pending) (\d+)/g)].reduce((n, m) => n + Number(m[2]), 0);
    expect(named).toBe(40);
  });

  it('leaves out outcomes no node has', () => {
    const headline = plain(renderBoard({ ...status, counts: { ...counts, patched: 39, unhealthy: 0, failed: 0, skipped: 0 } })).split('\n')[0];
    expect(headline).not.toMatch(/unhealthy|failed|skipped/);
  });
});
