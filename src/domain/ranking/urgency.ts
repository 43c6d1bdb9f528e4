import type { Exposure, Tier } from '../inventory';
import { decideExploitation, type Exploitation, type ExploitationEvidence, type TechnicalImpact } from './assessment';

/**
 * Urgency per asset, following the CISA SSVC deployer logic as product.md §2 states it (BOD-style
 * remediation windows): act now (3 days plus forensic triage) / 3 days / 14 days / 60 days / next
 * regular upgrade. The table below is the whole decision; docs/ranking.md reproduces it row by row
 * (a test checks they agree).
 */
export type Urgency = 'act-now' | '3-days' | '14-days' | '60-days' | 'next-upgrade';

/** Most urgent first. */
export const URGENCY_ORDER: readonly Urgency[] = ['act-now', '3-days', '14-days', '60-days', 'next-upgrade'];

export const URGENCY_DAYS: Record<Urgency, number | undefined> = {
  'act-now': 3,
  '3-days': 3,
  '14-days': 14,
  '60-days': 60,
  'next-upgrade': undefined,
};

export interface UrgencyInput {
  exploitation: Exploitation;
  exposure: Exposure;
  automatable: boolean;
  technicalImpact: TechnicalImpact;
}

type Match<T> = T | '*';

export interface UrgencyRule {
  id: string;
  exploitation: Match<Exploitation>;
  exposure: Match<Exposure>;
  automatable: Match<boolean>;
  technicalImpact: Match<TechnicalImpact>;
  urgency: Urgency;
  /** Why this row exists, for the docs and for reviewers. */
  why: string;
}

/** First matching row wins. */
export const URGENCY_RULES: readonly UrgencyRule[] = [
  { id: 'U1', exploitation: 'active', exposure: 'internet', automatable: '*', technicalImpact: 'total', urgency: 'act-now', why: 'exploited, exposed, total impact: assume compromise, patch and triage' },
  { id: 'U2', exploitation: '*', exposure: 'internet', automatable: true, technicalImpact: 'total', urgency: '3-days', why: 'exposed and automatable with total impact: mass exploitation is one script away' },
  { id: 'U3', exploitation: 'active', exposure: '*', automatable: '*', technicalImpact: '*', urgency: '14-days', why: 'known exploited (KEV / asserted): BOD 22-01 remediation window' },
  { id: 'U4', exploitation: 'poc', exposure: 'internet', automatable: '*', technicalImpact: '*', urgency: '14-days', why: 'public exploit against an exposed asset' },
  { id: 'U5', exploitation: '*', exposure: 'internet', automatable: '*', technicalImpact: 'total', urgency: '14-days', why: 'exposed with total impact, not automatable' },
  { id: 'U6', exploitation: '*', exposure: 'internal', automatable: true, technicalImpact: 'total', urgency: '14-days', why: 'wormable inside the perimeter' },
  { id: 'U7', exploitation: '*', exposure: 'internet', automatable: '*', technicalImpact: 'partial', urgency: '60-days', why: 'exposed, partial impact, no exploitation' },
  { id: 'U8', exploitation: 'poc', exposure: 'internal', automatable: '*', technicalImpact: '*', urgency: '60-days', why: 'public exploit, internal asset' },
  { id: 'U9', exploitation: '*', exposure: 'internal', automatable: '*', technicalImpact: 'total', urgency: '60-days', why: 'internal, total impact, needs a foothold first' },
  { id: 'U10', exploitation: '*', exposure: '*', automatable: '*', technicalImpact: '*', urgency: 'next-upgrade', why: 'internal, partial impact, no exploitation' },
];

export interface UrgencyDecision {
  urgency: Urgency;
  /** The table row that decided, e.g. `U1`. */
  rule: string;
  /** Act now also means looking for signs the asset was already compromised. */
  forensicTriage: boolean;
}

function matches<T>(pattern: Match<T>, value: T): boolean {
  return pattern === '*' || pattern === value;
}

export function decideUrgency(input: UrgencyInput): UrgencyDecision {
  const rule = URGENCY_RULES.find(
    (r) =>
      matches(r.exploitation, input.exploitation) &&
      matches(r.exposure, input.exposure) &&
      matches(r.automatable, input.automatable) &&
      matches(r.technicalImpact, input.technicalImpact),
  )!;
  return { urgency: rule.urgency, rule: rule.id, forensicTriage: rule.urgency === 'act-now' };
}

/** Everything that decides one asset's remediation: the evidence, the asset, and what the fix is. */
export interface AssetRemediationInput {
  evidence: ExploitationEvidence;
  exposure: Exposure;
  automatable: boolean;
  technicalImpact: TechnicalImpact;
  /** The asset's tier. It orders the campaign; it does not change the urgency (the table has no tier column). */
  tier: Tier;
  /** The fix includes a kernel package (ranking/kernel.ts). */
  kernelFix: boolean;
  /** The asset's cluster is patched without reboot (policy `noRebootRoles`). */
  noReboot: boolean;
}

export interface AssetRemediation extends UrgencyDecision {
  exploitation: Exploitation;
  /**
   * A kernel fix on a no-reboot tier: installing it does not make it live, so the running kernel
   * stays vulnerable until a maintenance reboot. Exactly `kernelFix && noReboot`.
   */
  runningKernelStaysVulnerable: boolean;
}

/**
 * The whole per-asset decision: SSVC exploitation from the evidence (active only from KEV or an
 * assertion), the urgency row, and whether the running kernel stays vulnerable after patching.
 */
export function decideAssetRemediation(input: AssetRemediationInput): AssetRemediation {
  const { exploitation } = decideExploitation(input.evidence);
  const decision = decideUrgency({ exploitation, exposure: input.exposure, automatable: input.automatable, technicalImpact: input.technicalImpact });
  return { ...decision, exploitation, runningKernelStaysVulnerable: input.kernelFix && input.noReboot };
}

/** 0 for the most urgent; lower sorts first. */
export function urgencyRank(urgency: Urgency | string | undefined): number {
  const index = URGENCY_ORDER.indexOf(urgency as Urgency);
  return index < 0 ? URGENCY_ORDER.length : index;
}

export function mostUrgent<T extends Urgency>(urgencies: readonly T[]): T {
  return urgencies.reduce((best, u) => (urgencyRank(u) < urgencyRank(best) ? u : best));
}

/** The deadline as an ISO timestamp, `days` after `now`; none for "next regular upgrade". */
export function deadlineFor(urgency: Urgency, now: Date | undefined): string | undefined {
  const days = URGENCY_DAYS[urgency];
  if (days === undefined || now === undefined) return undefined;
  return new Date(now.getTime() + days * 86_400_000).toISOString();
}

/** `act now: patch by 2025-08-28 + forensic triage`, `within 14 days (by 2025-09-08)`. */
export function describeUrgency(urgency: Urgency, deadline: string | undefined): string {
  const by = deadline ? deadline.slice(0, 10) : undefined;
  switch (urgency) {
    case 'act-now':
      return `act now: patch ${by ? `by ${by}` : 'within 3 days'} + forensic triage`;
    case 'next-upgrade':
      return 'next regular upgrade';
    default:
      return `within ${URGENCY_DAYS[urgency]} days${by ? ` (by ${by})` : ''}`;
  }
}
