/**
 * Differential tests: our dpkg and rpm comparisons against the real tools on thousands of generated
 * pairs — `dpkg --compare-versions` and rpm's own `rpm.vercmp` (through `rpm --eval` and its Lua).
 * Pairs are built from a small pool of tricky tokens (tilde, caret, leading zeros, letters vs
 * digits, separators, epochs, revisions), so equal and nearly equal versions come up often.
 * rpm is `apt-get install -y rpm` on Debian; without it that half is skipped, saying so.
 *
 * The tools' answers are also kept in __golden__/versions.json, so versions.recorded.test.ts can
 * check ours against them without a process (what mutation testing runs). Each run here checks the
 * recorded answers are still the tools' own; PATCHWAVE_RECORD_VERSIONS=1 writes them anew.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { compareDpkgVersions, compareRpmVersions, rpmvercmp } from '../../src/domain/versions';

const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const dir = mkdtempSync(path.join(tmpdir(), 'patchwave-vercmp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** [a, b, the tool's answer: -1, 0 or 1] per pair, per comparison. */
type Recorded = Record<'dpkg' | 'dpkgEdges' | 'rpmvercmp' | 'rpmEvr' | 'rpmEdges', Array<[string, string, number]>>;
const RECORDED = new URL('./__golden__/versions.json', import.meta.url);
const recording = process.env.PATCHWAVE_RECORD_VERSIONS === '1';
const recorded: Partial<Recorded> = existsSync(RECORDED) ? (JSON.parse(readFileSync(RECORDED, 'utf8')) as Recorded) : {};
/** Records the tool's answers (PATCHWAVE_RECORD_VERSIONS=1), or checks the recorded ones are still the tool's. */
function keep(kind: keyof Recorded, sample: Array<[string, string]>, real: number[]): void {
  const rows = sample.map(([a, b], i): [string, string, number] => [a, b, real[i]!]);
  if (recording) {
    recorded[kind] = rows;
    writeFileSync(RECORDED, `{\n${(['dpkg', 'dpkgEdges', 'rpmvercmp', 'rpmEvr', 'rpmEdges'] as const).filter((k) => recorded[k]).map((k) => `"${k}": [\n${recorded[k]!.map((r) => JSON.stringify(r)).join(',\n')}\n]`).join(',\n')}\n}\n`);
  } else {
    expect(recorded[kind], `__golden__/versions.json: ${kind} answers no longer the tool's (PATCHWAVE_RECORD_VERSIONS=1 to record)`).toEqual(rows);
  }
}

const SEED = 20261201;
const pick = <T>(items: readonly T[]) => fc.constantFrom(...items);
const word = (tokens: readonly string[], max: number) => fc.array(pick(tokens), { minLength: 1, maxLength: max }).map((t) => t.join(''));

function pairs(arb: fc.Arbitrary<string>, tail: fc.Arbitrary<string>, count: number): Array<[string, string]> {
  // Half independent pairs, half a version against itself, itself plus a few tokens, or a prefix of itself.
  const edited = arb.chain((a) =>
    fc.tuple(fc.constant(a), fc.oneof(fc.constant(a), tail.map((t) => a + t), fc.integer({ min: 1, max: a.length }).map((n) => a.slice(0, n)).filter((p) => !/[-:]$/.test(p)))),
  );
  return fc.sample(fc.oneof(fc.tuple(arb, arb), edited), { numRuns: count, seed: SEED });
}

describe.skipIf(!has('dpkg'))('dpkg: compareDpkgVersions agrees with `dpkg --compare-versions`', () => {
  // Debian Policy 5.6.12: upstream starts with a digit; [A-Za-z0-9.+~] (and - when there is a revision).
  const upstreamTokens = ['0', '1', '2', '9', '10', '01', '00', 'a', 'b', 'z', 'rc', 'p', '.', '.', '+', '~', '~~'];
  const revisionTokens = ['0', '1', '2', '10', '01', 'a', 'ubuntu', 'deb', '.', '+', '~'];
  const version = fc
    .tuple(fc.option(fc.constantFrom('0', '1', '2', '10'), { nil: undefined }), fc.constantFrom('0', '1', '2', '10'), word(upstreamTokens, 6), fc.option(word(revisionTokens, 4), { nil: undefined }))
    .map(([epoch, lead, upstream, revision]) => `${epoch !== undefined ? `${epoch}:` : ''}${lead}${upstream}${revision !== undefined ? `-${revision}` : ''}`)
    // A revision or upstream ending in an operator-looking character is fine for dpkg; a trailing hyphen is not.
    .filter((v) => !v.endsWith('-'));

  it('on 1,500 generated pairs', () => {
    const sample = pairs(version, word(revisionTokens, 3), 1_500);
    const file = path.join(dir, 'dpkg-pairs.txt');
    writeFileSync(file, sample.map(([a, b]) => `${a} ${b}`).join('\n') + '\n');
    // lt answers 0 (true) or 1 (false); anything else is dpkg refusing a version: reported, never read as "greater".
    const script = `while read -r a b; do dpkg --compare-versions "$a" lt "$b" 2>/dev/null; r=$?; if [ $r = 0 ]; then echo -1; elif [ $r != 1 ]; then echo ERR; elif dpkg --compare-versions "$a" eq "$b"; then echo 0; else echo 1; fi; done < "${file}"`;
    const answers = execFileSync('bash', ['-c', script], { encoding: 'utf8', maxBuffer: 1 << 24 }).trim().split('\n');
    expect(sample.filter((_, i) => answers[i] === 'ERR')).toEqual([]);
    const real = answers.map(Number);
    expect(real).toHaveLength(sample.length);
    const disagreements = sample.map(([a, b], i) => ({ a, b, dpkg: real[i], ours: Math.sign(compareDpkgVersions(a, b)) })).filter((d) => d.dpkg !== d.ours);
    expect(disagreements).toEqual([]);
    // The sample really exercised all three answers.
    expect(new Set(real)).toEqual(new Set([-1, 0, 1]));
    keep('dpkg', sample, real);
  }, 120_000);

  it('on hand-picked edges: the ends of the letter and digit ranges, epochs, revisions, empty parts', () => {
    // The generated tokens hold a, b, z and digits; these add A, Z and the neighbours of every range boundary dpkg allows.
    const letters = ['A', 'B', 'Y', 'Z', 'a', 'b', 'y', 'z'];
    const others = ['', '+', '.', '~', '0', '9', '1', '8'];
    const sample: Array<[string, string]> = [];
    for (const x of [...letters, ...others]) for (const y of [...letters, ...others]) if (x !== y) sample.push([`1.0${x}`, `1.0${y}`]);
    sample.push(['1:1.0', '1.0'], ['0:1.0', '1.0'], ['10:1.0', '9:2.0'], ['1.0-1', '1.0'], ['1.0-0', '1.0'], ['1.0-a', '1.0-A'], ['1-2-3', '1-2-4'], ['1-2-3', '1-3'], ['1.09', '1.9'], ['1.19', '1.21'], ['1.0a9', '1.0a10']);
    const file = path.join(dir, 'dpkg-edges.txt');
    writeFileSync(file, sample.map(([a, b]) => `${a} ${b}`).join('\n') + '\n');
    const script = `while read -r a b; do if dpkg --compare-versions "$a" lt "$b" 2>/dev/null; then echo -1; elif dpkg --compare-versions "$a" eq "$b"; then echo 0; else echo 1; fi; done < "${file}"`;
    const real = execFileSync('bash', ['-c', script], { encoding: 'utf8', maxBuffer: 1 << 24 }).trim().split('\n').map(Number);
    const disagreements = sample.map(([a, b], i) => ({ a, b, dpkg: real[i], ours: Math.sign(compareDpkgVersions(a, b)) })).filter((d) => d.dpkg !== d.ours);
    expect(disagreements).toEqual([]);
    keep('dpkgEdges', sample, real);
  }, 120_000);
});

describe.skipIf(!has('rpm'))("rpm: rpmvercmp and compareRpmVersions agree with rpm's own rpm.vercmp", () => {
  const tokens = ['0', '1', '2', '9', '10', '01', '007', 'a', 'b', 'Z', 'rc', 'el', '.', '.', '_', '+', '~', '^', '~~'];
  const segment = fc.tuple(fc.constantFrom('0', '1', '2', '10'), word(tokens, 6)).map(([lead, rest]) => lead + rest);

  function rpmCompare(sample: Array<[string, string]>): number[] {
    const lua = path.join(dir, `vercmp-${sample.length}.lua`);
    const quote = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
    writeFileSync(lua, `local pairs_ = {\n${sample.map(([a, b]) => `{${quote(a)}, ${quote(b)}}`).join(',\n')}\n}\nlocal out = {}\nfor _, p in ipairs(pairs_) do out[#out + 1] = tostring(rpm.vercmp(p[1], p[2])) end\nprint(table.concat(out, ","))\n`);
    // The macro expander swallows print's newlines: one comma-separated line.
    return execFileSync('rpm', ['--eval', `%{lua: dofile("${lua}")}`], { encoding: 'utf8', maxBuffer: 1 << 24 }).trim().split(',').map(Number);
  }

  it('rpmvercmp on 2,000 generated version strings', () => {
    const sample = pairs(segment, word(tokens, 3), 2_000);
    const real = rpmCompare(sample);
    expect(real).toHaveLength(sample.length);
    const disagreements = sample.map(([a, b], i) => ({ a, b, rpm: real[i], ours: Math.sign(rpmvercmp(a, b)) })).filter((d) => d.rpm !== d.ours);
    expect(disagreements).toEqual([]);
    expect(new Set(real)).toEqual(new Set([-1, 0, 1]));
    keep('rpmvercmp', sample, real);
  }, 120_000);

  it('compareRpmVersions on 1,500 generated epoch:version-release pairs (both with a release)', () => {
    const evr = fc
      .tuple(fc.option(fc.constantFrom('0', '1', '2', '10'), { nil: undefined }), segment, segment)
      .map(([epoch, version, release]) => `${epoch !== undefined ? `${epoch}:` : ''}${version}-${release}`);
    const sample = fc.sample(fc.tuple(evr, evr), { numRuns: 750, seed: SEED }).concat(
      fc.sample(evr.chain((a) => fc.tuple(fc.constant(a), fc.constantFrom('', '.1', '~rc1', '^1', 'a').map((s) => a.replace(/-/, `${s}-`)))), { numRuns: 750, seed: SEED }),
    );
    const real = rpmCompare(sample);
    const disagreements = sample.map(([a, b], i) => ({ a, b, rpm: real[i], ours: Math.sign(compareRpmVersions(a, b)) })).filter((d) => d.rpm !== d.ours);
    expect(disagreements).toEqual([]);
    keep('rpmEvr', sample, real);
  }, 120_000);

  it('on hand-picked edges: the ends of the letter and digit ranges, separators, epochs, missing releases', () => {
    const chars = ['A', 'B', 'Y', 'Z', 'a', 'b', 'y', 'z', '0', '1', '8', '9', '', '.', '_', '+', '~', '^', '@', '[', '`', '{', '/', ':'];
    const sample: Array<[string, string]> = [];
    for (const x of chars) for (const y of chars) if (x !== y) sample.push([`1.0${x}1-1`, `1.0${y}1-1`]);
    sample.push(
      ['1a:2.0', '1:2.0'], ['0:1.0', '1.0'], ['10:1.0', '9:2.0'], [':1.0', '1.0'],
      // Not '1.0-': rpm reads an empty release as newer than none, ours as none (docs/testing.md); no package has one.
      ['1.0', '1.0-0'], ['2.0', '1.0-5'], ['1.0-10', '1.0.1-1'], ['-1', '1'], ['1.0-1-2', '1.0-1-3'], ['1.0-1-2', '1.0.1-2'],
      ['1.09', '1.9'], ['1.19', '1.21'], ['abc', 'b'], ['a', 'abc'], ['1.0^', '1.0^1'], ['1.0^a', '1.0~a'], ['^1', '1'], ['1.0', '1.0.0'],
    );
    const real = rpmCompare(sample);
    const disagreements = sample.map(([a, b], i) => ({ a, b, rpm: real[i], ours: Math.sign(compareRpmVersions(a, b)) })).filter((d) => d.rpm !== d.ours);
    expect(disagreements).toEqual([]);
    keep('rpmEdges', sample, real);
  });

  it('a version without a release sorts below the same version with one, in rpm as in ours (not yet fixed)', () => {
    expect(rpmCompare([['1.0.2k', '1.0.2k-24.amzn2'], ['1:1.0', '1:1.0-1']])).toEqual([-1, -1]);
    expect(compareRpmVersions('1.0.2k', '1.0.2k-24.amzn2')).toBe(-1);
    expect(compareRpmVersions('1:1.0', '1:1.0-1')).toBe(-1);
  });
});
