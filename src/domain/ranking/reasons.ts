/**
 * One-line reasons a human can check. Each part is a fact with its source ("behind internet-facing
 * ALB web-prod", "KEV-listed since 2021-12-10"), joined by "; ". Bounded: reasons are repeated per
 * cluster in plans that travel through Temporal history.
 */
export const MAX_REASON_LENGTH = 400;

export function joinReason(parts: ReadonlyArray<string | undefined | false>): string {
  const text = parts.filter((p): p is string => typeof p === 'string' && p.length > 0).join('; ');
  return text.length > MAX_REASON_LENGTH ? `${text.slice(0, MAX_REASON_LENGTH - 3)}...` : text;
}

/** `3 dependent services, high-sensitivity data`; empty when there is nothing to say. */
export function blastRadiusPhrase(dependents: number, sensitivity: string): string | undefined {
  const parts: string[] = [];
  if (dependents > 0) parts.push(`${dependents} dependent service${dependents === 1 ? '' : 's'}`);
  if (sensitivity === 'high' || sensitivity === 'medium') parts.push(`${sensitivity}-sensitivity data`);
  return parts.length > 0 ? parts.join(', ') : undefined;
}

/** `3 of 6 nodes below openssh-server 1:8.9p1-3ubuntu0.10`, `2 nodes named by the finding`. */
export function affectedPhrase(affected: number, size: number, packages: ReadonlyArray<{ name: string; fixedVersion: string }>, namedOnly: number): string {
  const of = affected === size ? `${affected} node${affected === 1 ? '' : 's'}` : `${affected} of ${size} nodes`;
  const unique = [...new Map(packages.map((p) => [`${p.name} ${p.fixedVersion}`, p])).values()];
  const shown = unique.slice(0, 2).map((p) => `${p.name} ${p.fixedVersion}`).join(', ');
  const more = unique.length > 2 ? ` +${unique.length - 2}` : '';
  const named = namedOnly > 0 ? ` (${namedOnly} named by the finding, version not in inventory)` : '';
  return `${of} below ${shown}${more}${named}`;
}
