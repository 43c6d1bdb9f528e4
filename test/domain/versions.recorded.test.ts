/**
 * Our dpkg and rpm comparisons against answers the real tools gave (`dpkg --compare-versions`,
 * rpm's `rpm.vercmp`), recorded in __golden__/versions.json by versions.differential.test.ts — which
 * checks on every run that they are still the tools' answers. No process here: this is the
 * differential test mutation testing can afford for every mutant.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compareDpkgVersions, compareRpmVersions, rpmvercmp } from '../../src/domain/versions';

type Row = [string, string, number];
const recorded = JSON.parse(readFileSync(new URL('./__golden__/versions.json', import.meta.url), 'utf8')) as Record<'dpkg' | 'dpkgEdges' | 'rpmvercmp' | 'rpmEvr' | 'rpmEdges', Row[]>;

describe.each([
  ['dpkg --compare-versions', 'dpkg', compareDpkgVersions],
  ['dpkg --compare-versions, hand-picked edges', 'dpkgEdges', compareDpkgVersions],
  ['rpm.vercmp on version strings', 'rpmvercmp', rpmvercmp],
  ['rpm.vercmp on epoch:version-release', 'rpmEvr', compareRpmVersions],
  ['rpm.vercmp, hand-picked edges', 'rpmEdges', compareRpmVersions],
] as const)('%s, as recorded', (_tool, kind, compare) => {
  const rows = recorded[kind];

  it(`agrees on all ${rows.length} pairs, both ways round`, () => {
    expect(rows.length).toBeGreaterThan(100);
    const disagreements = rows.filter(([a, b, answer]) => Math.sign(compare(a, b)) !== answer || Math.sign(compare(b, a)) !== -answer);
    expect(disagreements).toEqual([]);
  });
});
