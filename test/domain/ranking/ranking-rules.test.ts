/**
 * The ranking's building blocks one rule at a time: which fixed version applies to a node, when an
 * advisory is for another package family, how the assessment reads the evidence (KEV from NVD,
 * EPSS, CVSS choice, impact), "now", the fleet graph and blocks, kernel package names, reasons.
 */
import { describe, expect, it } from 'vitest';
import type { NormalizedAlert } from '../../../src/domain/alert';
import type { InventoryAsset } from '../../../src/domain/inventory';
import { applicablePackages, ecosystemFor, matchAsset, upstreamOf, withAdvisoryEcosystems } from '../../../src/domain/ranking/affected';
import { assessVulnerability, decideExploitation } from '../../../src/domain/ranking/assessment';
import { resolveNow } from '../../../src/domain/ranking/context';
import { buildBlocks, buildFleetGraph, orderWithinBlock } from '../../../src/domain/ranking/graph';
import { isKernelPackage } from '../../../src/domain/ranking/kernel';
import { affectedPhrase, blastRadiusPhrase, joinReason, MAX_REASON_LENGTH } from '../../../src/domain/ranking/reasons';
import { assetTier, exposurePhrase, normaliseRole, roleWords } from '../../../src/domain/ranking/tiers';
import { mostUrgent, urgencyRank } from '../../../src/domain/ranking/urgency';

const asset = (id: string, over: Partial<InventoryAsset> = {}): InventoryAsset => ({ id, cluster: 'c', role: 'web', exposure: 'internal', dataSensitivity: 'none', packages: {}, ...over });
const alertOf = (over: Partial<NormalizedAlert>): NormalizedAlert => ({ cveId: 'CVE-2024-0001', packages: [], source: 'generic', ...over });
const TOTAL = 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H';

describe('which fixed version applies to a node', () => {
  it('the alert\'s ecosystem, else the node\'s OS family\'s, else generic', () => {
    expect(ecosystemFor({}, { osFamily: 'ubuntu' })).toBe('dpkg');
    expect(ecosystemFor({ ecosystem: 'rpm' }, { osFamily: 'ubuntu' })).toBe('rpm');
    expect(ecosystemFor({}, {})).toBe('generic');
  });

  it('the version reported for this node, else the one for every node, else the lowest of any', () => {
    const packages = [
      { name: 'openssl', fixedVersion: '3.0.13', resourceIds: ['n1'] },
      { name: 'openssl', fixedVersion: '3.0.10' },
      { name: 'openssl', fixedVersion: '3.0.2', resourceIds: ['n9'] },
    ];
    expect(applicablePackages({ packages }, asset('n1')).map((p) => p.fixedVersion)).toEqual(['3.0.13']);
    expect(applicablePackages({ packages }, asset('n2')).map((p) => p.fixedVersion)).toEqual(['3.0.10']);
    expect(applicablePackages({ packages: [packages[0]!, packages[2]!] }, asset('n2')).map((p) => p.fixedVersion)).toEqual(['3.0.2']);
  });

  it('among several, the one on the node\'s own upstream line, else the lowest; equal ones keep the first listed', () => {
    const packages = [
      { name: 'openssh-server', fixedVersion: '1:9.6p1-3ubuntu13.3', ecosystem: 'dpkg' as const },
      { name: 'openssh-server', fixedVersion: '1:8.9p1-3ubuntu0.10', ecosystem: 'dpkg' as const },
    ];
    expect(applicablePackages({ packages }, asset('n', { packages: { 'openssh-server': '1:9.6p1-3ubuntu13' } }))[0]!.fixedVersion).toBe('1:9.6p1-3ubuntu13.3');
    expect(applicablePackages({ packages }, asset('n', { packages: { 'openssh-server': '1:7.4p1-1' } }))[0]!.fixedVersion).toBe('1:8.9p1-3ubuntu0.10');
    const equal = [
      { name: 'p', fixedVersion: '1.0', ecosystem: 'dpkg' as const },
      { name: 'p', fixedVersion: '1.0-0', ecosystem: 'dpkg' as const },
    ];
    expect(applicablePackages({ packages: equal }, asset('n'))[0]!.fixedVersion).toBe('1.0');
  });

  it('upstreamOf: the version without its revision, a zero epoch dropped, blanks ignored', () => {
    expect(upstreamOf(' 1:8.9p1-3ubuntu0.10 ')).toBe('1:8.9p1');
    expect(upstreamOf('0:1.2-3')).toBe('1.2');
    expect(upstreamOf('10:1.2-3')).toBe('10:1.2');
    expect(upstreamOf('1.2')).toBe('1.2');
    expect(upstreamOf('-1')).toBe('-1');
  });
});

describe('matchAsset', () => {
  const dpkgFix = { name: 'openssl', fixedVersion: '3.0.2-0ubuntu1.15', ecosystem: 'dpkg' as const };

  it('an advisory for the other package family is not compared; a semver or generic one is', () => {
    expect(matchAsset(alertOf({ packages: [dpkgFix] }), asset('n', { osFamily: 'amazon', packages: { openssl: '1.0.2k-24' } }))).toEqual({
      affected: false,
      reason: "no advisory for its OS: openssl: the advisory's fixed version is a dpkg version, the node runs amazon (rpm)",
    });
    const semverFix = { name: 'openssl', fixedVersion: '3.0.8', ecosystem: 'semver' as const };
    expect(matchAsset(alertOf({ packages: [semverFix] }), asset('n', { osFamily: 'ubuntu', packages: { openssl: '3.0.1' } })).affected).toBe(true);
  });

  it('each package is judged by its own advisory', () => {
    const packages = [
      { name: 'libssl', fixedVersion: '1.0.2k-25', ecosystem: 'rpm' as const },
      { name: 'openssl', fixedVersion: '3.0.2-0ubuntu1.15', ecosystem: 'dpkg' as const },
    ];
    expect(matchAsset(alertOf({ packages }), asset('n', { osFamily: 'ubuntu', packages: { libssl: '1.0.2k-1', openssl: '3.0.2-0ubuntu1.1' } }))).toEqual({
      affected: true,
      named: false,
      vulnerable: [{ name: 'openssl', installed: '3.0.2-0ubuntu1.1', fixedVersion: '3.0.2-0ubuntu1.15', ecosystem: 'dpkg' }],
    });
  });

  it('a package of the other family beside one not installed: not installed', () => {
    const packages = [dpkgFix, { name: 'libfoo', fixedVersion: '2.0' }];
    expect(matchAsset(alertOf({ packages }), asset('n', { osFamily: 'amazon' }))).toEqual({ affected: false, reason: 'not installed: libfoo' });
  });

  it('a named node is trusted only when the inventory cannot contradict it, and only with a package that applies', () => {
    const named = alertOf({ packages: [dpkgFix], resourceIds: ['n'] });
    expect(matchAsset(named, asset('n', { osFamily: 'amazon' }))).toEqual({ affected: false, reason: "no advisory for its OS: openssl: the advisory's fixed version is a dpkg version, the node runs amazon (rpm)" });
    expect(matchAsset(named, asset('n', { osFamily: 'ubuntu' }))).toEqual({ affected: true, named: true, vulnerable: [{ name: 'openssl', fixedVersion: '3.0.2-0ubuntu1.15', ecosystem: 'dpkg' }] });
    expect(matchAsset(named, asset('n', { osFamily: 'ubuntu', packages: { openssl: '3.0.2-0ubuntu1.15' } }))).toEqual({
      affected: false,
      reason: 'already fixed: openssl 3.0.2-0ubuntu1.15 (named by a finding that predates the fix)',
    });
  });

  it('already fixed lists every package; only dpkg and rpm fixes on another upstream line are flagged', () => {
    const packages = [
      { name: 'a', fixedVersion: '1.5' },
      { name: 'b', fixedVersion: '2.0' },
    ];
    expect(matchAsset(alertOf({ packages }), asset('n', { packages: { a: '2.0', b: '2.0' } }))).toEqual({ affected: false, reason: 'already fixed: a 2.0, b 2.0' });
    const rpm = [{ name: 'openssl', fixedVersion: '1:1.0.2k-24.amzn2', ecosystem: 'rpm' as const }];
    expect(matchAsset(alertOf({ packages: rpm }), asset('n', { osFamily: 'amazon', packages: { openssl: '1:1.1.1k-5.amzn2' } }))).toEqual({
      affected: false,
      reason: 'already fixed: openssl 1:1.1.1k-5.amzn2 (newer upstream than the only fixed version given, 1:1.0.2k-24.amzn2: confirm for its release)',
    });
  });
});

describe('withAdvisoryEcosystems', () => {
  const inventory = [asset('u1', { osFamily: 'ubuntu' }), asset('u2', { osFamily: 'Ubuntu' }), asset('a1', { osFamily: 'amazon' }), asset('w1', { osFamily: 'windows' })];

  it('fills in the family of the nodes named, when they agree; leaves a stated ecosystem as it is', () => {
    const alert = alertOf({ resourceIds: ['u1', 'u2'], packages: [{ name: 'x', fixedVersion: '1', ecosystem: 'rpm' }, { name: 'y', fixedVersion: '1' }] });
    expect(withAdvisoryEcosystems(alert, inventory).packages).toEqual([
      { name: 'x', fixedVersion: '1', ecosystem: 'rpm' },
      { name: 'y', fixedVersion: '1', ecosystem: 'dpkg' },
    ]);
    const perPackage = alertOf({ packages: [{ name: 'y', fixedVersion: '1', resourceIds: ['a1'] }] });
    expect(withAdvisoryEcosystems(perPackage, inventory).packages[0]!.ecosystem).toBe('rpm');
  });

  it('leaves it unknown when the named nodes disagree, are unknown to the inventory, or run an OS without a family', () => {
    for (const resourceIds of [['u1', 'a1'], ['ghost'], ['w1'], []]) {
      expect(withAdvisoryEcosystems(alertOf({ resourceIds, packages: [{ name: 'y', fixedVersion: '1' }] }), inventory).packages[0]!.ecosystem, resourceIds.join()).toBeUndefined();
    }
  });
});

describe('assessVulnerability', () => {
  it('KEV from NVD\'s copy: the date, the due date, the name (and code execution in it), or empty when NVD gives none', () => {
    const nvd = [{ cveId: 'CVE-2024-0001', cvss: [], kev: { dateAdded: '2024-02-01', dueDate: '2024-02-22', vulnerabilityName: 'Acme Remote Code Execution Vulnerability' } }];
    const withNames = assessVulnerability(alertOf({}), { nvd });
    expect(withNames.kev).toEqual({ dateAdded: '2024-02-01', dueDate: '2024-02-22', knownRansomwareUse: false, vulnerabilityName: 'Acme Remote Code Execution Vulnerability' });
    expect(withNames.exploitationReason).toBe('KEV-listed since 2024-02-01 (per NVD)');
    expect(withNames.remoteCodeExecution).toBe(true);
    const bare = assessVulnerability(alertOf({}), { nvd: [{ cveId: 'CVE-2024-0001', cvss: [], kev: { dateAdded: '2024-02-01' } }] });
    expect(bare.kev).toEqual({ dateAdded: '2024-02-01', dueDate: '', knownRansomwareUse: false, vulnerabilityName: '' });
    expect(bare.remoteCodeExecution).toBe(false);
  });

  it('EPSS beside weaker evidence: two decimals, two significant digits below 0.01, the percentile when known', () => {
    const reason = (epss: number, percentile?: number) =>
      assessVulnerability(alertOf({}), { epss: { scores: { 'CVE-2024-0001': { epss, percentile: percentile ?? 0.5 } } } }).exploitationReason;
    expect(reason(0.38, 0.971)).toBe('no known exploitation (EPSS 0.38, p97)');
    expect(reason(0.01)).toBe('no known exploitation (EPSS 0.01, p50)');
    expect(reason(0.00043)).toBe('no known exploitation (EPSS 0.00043, p50)');
    expect(reason(0)).toBe('no known exploitation (EPSS 0.00, p50)');
    expect(assessVulnerability(alertOf({ epss: 0.2 })).exploitationReason).toBe('no known exploitation (EPSS 0.20)');
    expect(assessVulnerability(alertOf({ epss: 0.2 })).epss).toEqual({ score: 0.2 });
    expect(assessVulnerability(alertOf({}), { epss: { scores: { 'CVE-2024-0001': { epss: 0.2, percentile: 0.9 } } } }).epss).toEqual({ score: 0.2, percentile: 0.9 });
  });

  it('an assertion by the alert is active exploitation', () => {
    expect(assessVulnerability(alertOf({ exploitedInWild: true })).exploitation).toBe('active');
    expect(assessVulnerability(alertOf({ exploitedInWild: false, exploitAvailable: true })).exploitation).toBe('poc');
  });

  it('impact in words', () => {
    const impact = (vector: string | undefined, rce = false) => assessVulnerability(alertOf({ ...(vector && { cvss: { score: 5, vector, version: '3.1' } }), remoteCodeExecution: rce })).impactReason;
    expect(impact(undefined, true)).toBe('RCE (attack path unknown: no readable CVSS vector)');
    expect(impact(undefined)).toBe('impact unknown (no readable CVSS vector), treated as partial');
    expect(impact('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N')).toBe('partial impact (confidentiality, integrity high), network, no auth');
    expect(impact('CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:U/C:L/I:L/A:N')).toBe('partial impact (confidentiality, integrity low), local, low privileges, user action needed');
    expect(impact('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N')).toBe('partial impact (no impact), network, no auth');
  });

  it('an empty list of scores falls back to the alert\'s one score', () => {
    expect(assessVulnerability(alertOf({ cvssScores: [], cvss: { score: 9.8, vector: TOTAL, version: '3.1' } })).cvss).toMatchObject({ score: 9.8, source: 'generic alert' });
  });

  it('which score is used, and why, when there are several', () => {
    const nvd = { source: 'nvd@nist.gov', score: 7.8, vector: TOTAL, version: '3.1' };
    const vendor = (source: string, score?: number) => ({ source, ...(score !== undefined && { score }), vector: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H', version: '3.1' });
    const choice = (cvssScores: NormalizedAlert['cvssScores']) => assessVulnerability(alertOf({ cvssScores })).cvssChoice;
    expect(choice([nvd, vendor('UBUNTU_CVE', 4.8)])).toBe('CVSS UBUNTU_CVE 4.8 (v3.1) used over NVD 7.8 (v3.1) (vendor before NVD)');
    expect(choice([vendor('A', 5), { ...vendor('B', 7), vector: 'CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H' }])).toBe('CVSS A 5 (v3.1) used over B 7 (v3.1) (newest version, first listed)');
    expect(choice([vendor('A'), { ...vendor('B', 7), vector: 'CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H' }, nvd])).toBe('CVSS A ? (v3.1) used over B 7 (v3.1), NVD 7.8 (v3.1) (vendor before NVD)');
    const nvdOnly = assessVulnerability(alertOf({ cvssScores: [nvd, { ...nvd, source: 'NVD', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N', score: 9.1 }] }));
    expect(nvdOnly.cvssChoice).toBe('CVSS NVD 7.8 (v3.1) used over NVD 9.1 (v3.1) (no vendor score)');
    expect(nvdOnly.cvssScores?.map((r) => r.used)).toEqual([true, false]);
  });
});

describe('decideExploitation', () => {
  it('KEV first, with where it was read and ransomware; then an assertion with its own words unless they only claim a public exploit', () => {
    expect(decideExploitation({ kevDateAdded: '2021-12-10', asserted: false, publicExploit: false })).toEqual({ exploitation: 'active', reason: 'KEV-listed since 2021-12-10' });
    expect(decideExploitation({ kevDateAdded: '2021-12-10', kevVia: ' (per NVD)', ransomware: true, asserted: true, publicExploit: true })).toEqual({
      exploitation: 'active',
      reason: 'KEV-listed since 2021-12-10 (per NVD), ransomware use known',
    });
    expect(decideExploitation({ asserted: true, publicExploit: false, evidence: 'Inspector: exploit seen 2024-07-10' }).reason).toBe('Inspector: exploit seen 2024-07-10');
    expect(decideExploitation({ asserted: true, publicExploit: true, evidence: 'public exploit available' }).reason).toBe('exploitation asserted by the alert');
    expect(decideExploitation({ asserted: true, publicExploit: false }).reason).toBe('exploitation asserted by the alert');
    expect(decideExploitation({ asserted: false, publicExploit: true, evidence: 'ExploitDB 1234' })).toEqual({ exploitation: 'poc', reason: 'public exploit available (ExploitDB 1234), not KEV-listed' });
    expect(decideExploitation({ asserted: false, publicExploit: false })).toEqual({ exploitation: 'none', reason: 'no known exploitation' });
  });
});

describe('resolveNow', () => {
  it('a date, an ISO timestamp (UTC without a zone), epoch ms, or a clock', () => {
    const at = new Date('2025-08-25T14:34:00Z');
    expect(resolveNow(undefined)).toBeUndefined();
    expect(resolveNow(at)).toBe(at);
    expect(resolveNow('2025-08-25T14:34:00')).toEqual(at);
    expect(resolveNow('2025-08-25T16:34:00+02:00')).toEqual(at);
    expect(resolveNow(at.getTime())).toEqual(at);
    expect(resolveNow(() => at)).toBe(at);
  });

  it('a timestamp without a zone is UTC whatever the host zone', () => {
    const savedTz = process.env.TZ;
    try {
      for (const tz of ['America/Los_Angeles', 'Asia/Tokyo']) {
        process.env.TZ = tz;
        expect(resolveNow('2025-08-25T14:34:00'), tz).toEqual(new Date(Date.UTC(2025, 7, 25, 14, 34)));
      }
    } finally {
      if (savedTz === undefined) delete process.env.TZ;
      else process.env.TZ = savedTz;
    }
  });

  it('refuses what is not a time, saying what it got', () => {
    expect(() => resolveNow('soon')).toThrow('planning context: "now" is not a valid time (soon)');
    expect(() => resolveNow(Number.NaN)).toThrow('planning context: "now" is not a valid time (NaN)');
    expect(() => resolveNow(() => new Date(Number.NaN))).toThrow('planning context: "now" is not a valid time (clock result)');
  });
});

describe('the fleet graph', () => {
  it('dependencies by asset or cluster id, never on itself, unknown names ignored', () => {
    const g = buildFleetGraph([
      asset('w1', { cluster: 'web', dependsOn: ['a1', 'db', 'w2', 'web', 'stripe.com'] }),
      asset('w2', { cluster: 'web' }),
      asset('a1', { cluster: 'api' }),
      asset('d1', { cluster: 'db' }),
    ]);
    expect(g.dependsOn).toEqual(new Map([['web', new Set(['api', 'db'])]]));
    expect(g.dependents).toEqual(
      new Map([
        ['api', new Set(['web'])],
        ['db', new Set(['web'])],
      ]),
    );
  });

  it('blocks: shared patch groups and couplings between affected assets, each named once and sorted', () => {
    const blocks = buildBlocks([
      asset('b1', { cluster: 'b', patchGroup: 'pg', coupledWith: ['a1', 'b2', 'b'] }),
      asset('b2', { cluster: 'b', patchGroup: 'pg' }),
      asset('a1', { cluster: 'a', coupledWith: ['c'] }),
      asset('c1', { cluster: 'c', patchGroup: 'pg' }),
      asset('z1', { cluster: 'z', patchGroup: 'solo', coupledWith: ['unaffected-9'] }),
    ]);
    expect(blocks).toEqual([
      { clusters: ['b', 'a', 'c'], couplings: ['coupled a + b', 'coupled a + c', 'patch group pg'] },
      { clusters: ['z'], couplings: [] },
    ]);
  });

  it('orderWithinBlock: dependencies first, dependencies outside the block ignored, ties and cycles by rank', () => {
    const graph = buildFleetGraph([
      asset('a1', { cluster: 'a', dependsOn: ['outside'] }),
      asset('b1', { cluster: 'b', dependsOn: ['a'] }),
      asset('c1', { cluster: 'c', dependsOn: ['b'] }),
      asset('x1', { cluster: 'x', dependsOn: ['y'] }),
      asset('y1', { cluster: 'y', dependsOn: ['x'] }),
      asset('o1', { cluster: 'outside' }),
    ]);
    const reverse = (p: string, q: string) => (p < q ? 1 : p > q ? -1 : 0);
    expect(orderWithinBlock(['c', 'b', 'a'], graph, reverse)).toEqual(['a', 'b', 'c']);
    expect(orderWithinBlock(['a', 'z'], graph, reverse)).toEqual(['z', 'a']);
    expect(orderWithinBlock(['x', 'y'], graph, reverse)).toEqual(['y', 'x']);
    expect(orderWithinBlock(['y', 'x'], graph, (p, q) => (p < q ? -1 : 1))).toEqual(['x', 'y']);
  });
});

describe('kernel packages', () => {
  it.each(['linux-image', 'linux-modules', 'linux-signed', 'linux-signed-generic', 'linux-hwe', 'linux-hwe-6.5', 'linux-aws-6.8', 'kernel-modules', 'kernel-rt', 'kernel-64k', 'kernel-64k-core', 'kernel-uek-core', ' Linux-Image-AWS '])(
    '%s is the running kernel',
    (name) => expect(isKernelPackage(name)).toBe(true),
  );
  it.each(['python3-ipykernel', 'php-symfony-http-kernel', 'linux-image-', 'kernel-uekx'])('%s is not', (name) => expect(isKernelPackage(name)).toBe(false));
});

describe('tiers and reasons', () => {
  it('every role alias, and roles in words', () => {
    const aliases = {
      lb: 'load-balancer', alb: 'load-balancer', nlb: 'load-balancer', elb: 'load-balancer', loadbalancer: 'load-balancer', 'reverse-proxy': 'load-balancer',
      apigateway: 'api-gateway', 'api-gw': 'api-gateway', 'auth-endpoint': 'auth', sso: 'auth', idp: 'auth',
      db: 'database', rds: 'database', 'message-queue': 'queue', mq: 'queue', broker: 'queue', ci: 'ci-runner', 'build-runner': 'ci-runner', 'cicd-runner': 'ci-runner',
    };
    expect(Object.keys(aliases).map(normaliseRole)).toEqual(Object.values(aliases));
    expect(normaliseRole('  Reverse__Proxy ')).toBe('load-balancer');
    expect(normaliseRole('API \t Gateway')).toBe('api-gateway');
    expect(roleWords('public web')).toBe('public web app');
    expect(assetTier(asset('p', { role: 'public-web' }))).toEqual({ tier: 1, reason: 'public web app (front door)' });
  });

  it('exposure in words: "behind" only for a phrase that starts internet-facing', () => {
    expect(exposurePhrase({ exposureVia: 'Internet-facing ALB web' })).toBe('behind Internet-facing ALB web');
    expect(exposurePhrase({ exposureVia: 'CDN in front of internet-facing ALB web' })).toBe('internet-facing via CDN in front of internet-facing ALB web');
  });

  it('a label of tier 1 on an internet-facing asset needs no override note', () => {
    expect(assetTier(asset('e', { exposure: 'internet', tier: 1 }))).toEqual({ tier: 1, reason: 'internet-facing' });
  });

  it('joinReason: non-empty parts joined, cut at 400 characters', () => {
    expect(joinReason(['a', '', undefined, false, 'b'])).toBe('a; b');
    expect(joinReason(['x'.repeat(MAX_REASON_LENGTH)])).toBe('x'.repeat(MAX_REASON_LENGTH)); // whole, not cut to the same length
    expect(joinReason(['x'.repeat(MAX_REASON_LENGTH + 1)])).toBe(`${'x'.repeat(MAX_REASON_LENGTH - 3)}...`);
  });

  it('blast radius and affected phrases', () => {
    expect(blastRadiusPhrase(0, 'low')).toBeUndefined();
    expect(blastRadiusPhrase(1, 'none')).toBe('1 dependent service');
    expect(blastRadiusPhrase(0, 'medium')).toBe('medium-sensitivity data');
    const pkgs = [
      { name: 'a', fixedVersion: '1' },
      { name: 'a', fixedVersion: '1' },
      { name: 'b', fixedVersion: '2' },
      { name: 'c', fixedVersion: '3' },
    ];
    expect(affectedPhrase(1, 1, pkgs.slice(0, 1), 0)).toBe('1 node below a 1');
    expect(affectedPhrase(2, 5, pkgs.slice(0, 3), 0)).toBe('2 of 5 nodes below a 1, b 2');
    expect(affectedPhrase(3, 3, pkgs, 1)).toBe('3 nodes below a 1, b 2 +1 (1 named by the finding, version not in inventory)');
  });

  it('urgency ranks: unknown sorts last; the most urgent wins', () => {
    expect(urgencyRank('soon')).toBe(5);
    expect(urgencyRank(undefined)).toBe(5);
    expect(urgencyRank('act-now')).toBe(0);
    expect(mostUrgent(['60-days', '14-days', '14-days', 'next-upgrade'])).toBe('14-days');
  });
});
