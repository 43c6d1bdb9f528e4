/** Workflow ids and idempotency keys (src/domain/ids.ts), policy durations, and the availability cap. */
import { describe, expect, it } from 'vitest';
import { clusterCap, MAX_UNAVAILABLE_FRACTION } from '../../src/domain/cap';
import { parseDurationMs } from '../../src/domain/duration';
import { campaignWorkflowId, clusterLeaseWorkflowId, nodeWorkflowId, stepKey } from '../../src/domain/ids';

describe('workflow ids are business keys', () => {
  it('one campaign per CVE (upper-cased) and scope; its nodes and their later attempts below it', () => {
    const campaign = campaignWorkflowId('cve-2024-6387', 'all');
    expect(campaign).toBe('campaign:CVE-2024-6387:all');
    expect(nodeWorkflowId(campaign, 'i-0abc')).toBe('campaign:CVE-2024-6387:all/node:i-0abc');
    expect(nodeWorkflowId(campaign, 'i-0abc', 1)).toBe('campaign:CVE-2024-6387:all/node:i-0abc');
    expect(nodeWorkflowId(campaign, 'i-0abc', 0)).toBe('campaign:CVE-2024-6387:all/node:i-0abc');
    expect(nodeWorkflowId(campaign, 'i-0abc', 2)).toBe('campaign:CVE-2024-6387:all/node:i-0abc/attempt:2');
    expect(stepKey(nodeWorkflowId(campaign, 'i-0abc', 2), 'snapshot')).toBe('campaign:CVE-2024-6387:all/node:i-0abc/attempt:2#snapshot');
    expect(clusterLeaseWorkflowId('patchwave', 'web')).toBe('lease:patchwave:cluster:web');
  });
});

describe('parseDurationMs', () => {
  it('reads every unit, fractions, spaces, bare numbers', () => {
    expect(parseDurationMs('500ms')).toBe(500);
    expect(parseDurationMs('5s')).toBe(5_000);
    expect(parseDurationMs('2m')).toBe(120_000);
    expect(parseDurationMs('1h')).toBe(3_600_000);
    expect(parseDurationMs('3d')).toBe(259_200_000);
    expect(parseDurationMs('1.5s')).toBe(1_500);
    expect(parseDurationMs('0.0004s')).toBe(0);
    expect(parseDurationMs('0.0006s')).toBe(1);
    expect(parseDurationMs(' 2 m ')).toBe(120_000);
    expect(parseDurationMs('250')).toBe(250);
    expect(parseDurationMs(250)).toBe(250);
    expect(parseDurationMs(0)).toBe(0);
    expect(parseDurationMs(0.5)).toBe(0.5);
  });

  it('refuses anything else, naming the field and the value', () => {
    expect(() => parseDurationMs('soon', 'coolOffMax')).toThrow('coolOffMax: expected a duration like 500ms, 5s, 2m, 1h or 3d, got "soon"');
    expect(() => parseDurationMs('')).toThrow('duration: expected a duration like 500ms, 5s, 2m, 1h or 3d, got ""');
    for (const bad of ['5 s s', 'x5s', '5sx', '5w', '-5s', '.5s', '5.s', '1e3']) expect(() => parseDurationMs(bad), bad).toThrow(/expected a duration like/);
    expect(() => parseDurationMs(-1, 'drainTimeout')).toThrow('drainTimeout: expected a non-negative duration, got -1');
    expect(() => parseDurationMs(Number.NaN)).toThrow('duration: expected a non-negative duration, got NaN');
    expect(() => parseDurationMs(Number.POSITIVE_INFINITY)).toThrow('duration: expected a non-negative duration, got Infinity');
  });
});

describe('clusterCap', () => {
  it('floor(fraction × size), at least one, never above 25%', () => {
    expect(MAX_UNAVAILABLE_FRACTION).toBe(0.25);
    expect([1, 4, 7, 8, 11, 12, 100].map((n) => clusterCap(n))).toEqual([1, 1, 1, 2, 2, 3, 25]);
    expect(clusterCap(100, 0.5)).toBe(25);
    expect(clusterCap(100, 0.1)).toBe(10);
    expect(clusterCap(10, 0.1)).toBe(1);
    expect(clusterCap(200, 0.145)).toBe(29); // 0.145 × 200 is 28.999999999999996 in floating point
    expect(clusterCap(199, 0.145)).toBe(28);
    expect(clusterCap(0)).toBe(1);
  });
});
