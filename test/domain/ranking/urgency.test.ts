import { describe, expect, it } from 'vitest';
import { deadlineFor, decideUrgency, describeUrgency, URGENCY_ORDER, URGENCY_RULES, type UrgencyInput } from '../../../src/domain/ranking/urgency';

const all: UrgencyInput[] = [];
for (const exploitation of ['active', 'poc', 'none'] as const)
  for (const exposure of ['internet', 'internal'] as const)
    for (const automatable of [true, false])
      for (const technicalImpact of ['total', 'partial'] as const) all.push({ exploitation, exposure, automatable, technicalImpact });

describe('urgency decision table', () => {
  it('product.md §2: exploited + exposed + total impact = act now, with forensic triage', () => {
    for (const automatable of [true, false]) {
      expect(decideUrgency({ exploitation: 'active', exposure: 'internet', automatable, technicalImpact: 'total' })).toEqual({ urgency: 'act-now', rule: 'U1', forensicTriage: true });
    }
  });

  it('product.md §2: exposed + automatable + total impact = 3 days, whatever the exploitation', () => {
    for (const exploitation of ['poc', 'none'] as const) {
      expect(decideUrgency({ exploitation, exposure: 'internet', automatable: true, technicalImpact: 'total' }).urgency).toBe('3-days');
    }
  });

  it.each([
    [{ exploitation: 'active', exposure: 'internal', automatable: false, technicalImpact: 'partial' }, '14-days', 'U3'],
    [{ exploitation: 'active', exposure: 'internet', automatable: true, technicalImpact: 'partial' }, '14-days', 'U3'],
    [{ exploitation: 'poc', exposure: 'internet', automatable: false, technicalImpact: 'partial' }, '14-days', 'U4'],
    [{ exploitation: 'none', exposure: 'internet', automatable: false, technicalImpact: 'total' }, '14-days', 'U5'],
    [{ exploitation: 'none', exposure: 'internal', automatable: true, technicalImpact: 'total' }, '14-days', 'U6'],
    [{ exploitation: 'none', exposure: 'internet', automatable: true, technicalImpact: 'partial' }, '60-days', 'U7'],
    [{ exploitation: 'poc', exposure: 'internal', automatable: false, technicalImpact: 'partial' }, '60-days', 'U8'],
    [{ exploitation: 'none', exposure: 'internal', automatable: false, technicalImpact: 'total' }, '60-days', 'U9'],
    [{ exploitation: 'none', exposure: 'internal', automatable: true, technicalImpact: 'partial' }, 'next-upgrade', 'U10'],
  ] as const)('%o → %s (%s)', (input, urgency, rule) => {
    expect(decideUrgency(input)).toMatchObject({ urgency, rule });
  });

  it('is monotone: more exploitation, more exposure or more impact never lowers urgency', () => {
    const rank = (i: UrgencyInput) => URGENCY_ORDER.indexOf(decideUrgency(i).urgency);
    const exploitationOrder = { none: 0, poc: 1, active: 2 };
    for (const a of all)
      for (const b of all) {
        const bAtLeastA =
          exploitationOrder[b.exploitation] >= exploitationOrder[a.exploitation] &&
          (b.exposure === 'internet' || a.exposure === 'internal') &&
          (b.automatable || !a.automatable) &&
          (b.technicalImpact === 'total' || a.technicalImpact === 'partial');
        if (bAtLeastA) expect(rank(b), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBeLessThanOrEqual(rank(a));
      }
  });

  it('every row is reachable (no dead rule)', () => {
    const used = new Set(all.map((i) => decideUrgency(i).rule));
    expect([...used].sort()).toEqual(URGENCY_RULES.map((r) => r.id).sort());
  });

  it('turns urgency into a deadline and a phrase', () => {
    const now = new Date('2025-08-25T14:34:00Z');
    expect(deadlineFor('act-now', now)).toBe('2025-08-28T14:34:00.000Z');
    expect(deadlineFor('60-days', now)).toBe('2025-10-24T14:34:00.000Z');
    expect(deadlineFor('next-upgrade', now)).toBeUndefined();
    expect(deadlineFor('3-days', undefined)).toBeUndefined();
    expect(describeUrgency('act-now', '2025-08-28T14:34:00.000Z')).toBe('act now: patch by 2025-08-28 + forensic triage');
    expect(describeUrgency('act-now', undefined)).toBe('act now: patch within 3 days + forensic triage');
    expect(describeUrgency('14-days', '2025-09-08T14:34:00.000Z')).toBe('within 14 days (by 2025-09-08)');
    expect(describeUrgency('next-upgrade', undefined)).toBe('next regular upgrade');
  });
});
