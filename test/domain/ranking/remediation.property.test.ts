import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ExploitationEvidence } from '../../../src/domain/ranking/assessment';
import { decideAssetRemediation, URGENCY_ORDER, type AssetRemediationInput } from '../../../src/domain/ranking/urgency';
import { runs } from '../support/mutation';

/**
 * Properties of the per-asset decision the planner makes (decideAssetRemediation), over every
 * combination of exploitation evidence, exposure, automatability, impact, tier, kernel fix and
 * no-reboot tier: the whole input space is small enough to enumerate, and fast-check adds random
 * evidence phrases and dates on top.
 */
const evidenceArb: fc.Arbitrary<ExploitationEvidence> = fc.record(
  {
    kevDateAdded: fc.constantFrom('2021-12-10', '2022-04-25'),
    kevVia: fc.constantFrom('', ' (per NVD)'),
    ransomware: fc.boolean(),
    asserted: fc.boolean(),
    publicExploit: fc.boolean(),
    evidence: fc.string({ maxLength: 40 }),
  },
  { requiredKeys: ['asserted', 'publicExploit'] },
);

const inputArb: fc.Arbitrary<AssetRemediationInput> = fc.record({
  evidence: evidenceArb,
  exposure: fc.constantFrom('internet' as const, 'internal' as const),
  automatable: fc.boolean(),
  technicalImpact: fc.constantFrom('total' as const, 'partial' as const),
  tier: fc.constantFrom(1 as const, 2 as const, 3 as const),
  kernelFix: fc.boolean(),
  noReboot: fc.boolean(),
});

/** Every combination, exhaustively (2^3 evidence flags × 2 × 2 × 2 × 3 × 2 × 2). */
function everyInput(): AssetRemediationInput[] {
  const out: AssetRemediationInput[] = [];
  for (const kev of [false, true])
    for (const asserted of [false, true])
      for (const publicExploit of [false, true])
        for (const exposure of ['internet', 'internal'] as const)
          for (const automatable of [false, true])
            for (const technicalImpact of ['partial', 'total'] as const)
              for (const tier of [1, 2, 3] as const)
                for (const kernelFix of [false, true])
                  for (const noReboot of [false, true])
                    out.push({ evidence: { ...(kev && { kevDateAdded: '2022-04-25' }), asserted, publicExploit }, exposure, automatable, technicalImpact, tier, kernelFix, noReboot });
  return out;
}

const rank = (input: AssetRemediationInput) => URGENCY_ORDER.indexOf(decideAssetRemediation(input).urgency);
/** Evidence strength: KEV or an assertion (active) > a public exploit (PoC) > nothing. */
const strength = (e: ExploitationEvidence) => (e.kevDateAdded !== undefined || e.asserted ? 2 : e.publicExploit ? 1 : 0);

/** b is at least a in every input (evidence, exposure, automatability, impact); tier, kernel and reboot free. */
function atLeast(b: AssetRemediationInput, a: AssetRemediationInput): boolean {
  return (
    strength(b.evidence) >= strength(a.evidence) &&
    (b.exposure === 'internet' || a.exposure === 'internal') &&
    (b.automatable || !a.automatable) &&
    (b.technicalImpact === 'total' || a.technicalImpact === 'partial')
  );
}

describe('per-asset remediation decision (properties)', () => {
  const all = everyInput();

  it('is monotone in each input, over every combination', () => {
    // Each decision once (the decision is pure), then every ordered pair: ~590,000 pairs, so the
    // pairs compare numbers and only a violation builds a message.
    const ranks = all.map(rank);
    all.forEach((a, i) =>
      all.forEach((b, j) => {
        if (atLeast(b, a) && ranks[j] > ranks[i]) expect(ranks[j], `${JSON.stringify(a)} → ${JSON.stringify(b)}`).toBeLessThanOrEqual(ranks[i]);
      }),
    );
  });

  it('is monotone for random evidence too', () => {
    fc.assert(
      fc.property(inputArb, inputArb, (a, b) => {
        if (atLeast(b, a)) expect(rank(b)).toBeLessThanOrEqual(rank(a));
      }),
      { numRuns: runs(2_000) },
    );
  });

  it('reaches "active" only from a KEV listing or an explicit assertion: a public exploit alone is PoC', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const decision = decideAssetRemediation(input);
        const kevOrAsserted = input.evidence.kevDateAdded !== undefined || input.evidence.asserted;
        expect(decision.exploitation === 'active').toBe(kevOrAsserted);
        if (!kevOrAsserted) {
          expect(decision.exploitation).toBe(input.evidence.publicExploit ? 'poc' : 'none');
          // Without active exploitation no row of the "act now" kind or the KEV window applies.
          expect(decision.rule).not.toBe('U1');
          expect(decision.rule).not.toBe('U3');
          expect(decision.forensicTriage).toBe(false);
        }
      }),
      { numRuns: runs(2_000) },
    );
  });

  it('a public exploit on an internal, non-automatable, partial-impact asset is 60 days, not the 14 days of a KEV entry', () => {
    const base: AssetRemediationInput = { evidence: { asserted: false, publicExploit: true, evidence: 'Inspector: public exploit, last seen 2025-06-02' }, exposure: 'internal', automatable: false, technicalImpact: 'partial', tier: 3, kernelFix: false, noReboot: false };
    expect(decideAssetRemediation(base)).toMatchObject({ exploitation: 'poc', urgency: '60-days', rule: 'U8' });
    expect(decideAssetRemediation({ ...base, evidence: { ...base.evidence, kevDateAdded: '2022-04-25' } })).toMatchObject({ exploitation: 'active', urgency: '14-days', rule: 'U3' });
    expect(decideAssetRemediation({ ...base, evidence: { ...base.evidence, asserted: true } })).toMatchObject({ exploitation: 'active', urgency: '14-days' });
  });

  it('flags "the running kernel stays vulnerable" exactly for a kernel fix on a no-reboot tier', () => {
    for (const input of all) expect(decideAssetRemediation(input).runningKernelStaysVulnerable, JSON.stringify(input)).toBe(input.kernelFix && input.noReboot);
  });

  it('neither the tier nor the kernel flag changes the urgency', () => {
    for (const input of all) {
      const reference = decideAssetRemediation({ ...input, tier: 1, kernelFix: false, noReboot: false });
      const decision = decideAssetRemediation(input);
      expect({ urgency: decision.urgency, rule: decision.rule }).toEqual({ urgency: reference.urgency, rule: reference.rule });
    }
  });
});
