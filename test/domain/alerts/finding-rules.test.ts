/**
 * The vendor finding readers rule by rule (src/domain/alerts/inspector.ts, securityhub.ts,
 * ocsf.ts), on small hand-made findings: which findings are skipped and why, which package
 * managers are the OS's, which resources are instances, where the OS comes from, scores, EPSS,
 * exploit evidence, and the notes on a partly planned finding.
 */
import { describe, expect, it } from 'vitest';
import { parseAlert, safeParseAlert } from '../../../src/domain/alerts';

const V31 = 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H';
const ID = 'i-0abc1234def567890';
const reasons = (input: unknown) => parseAlert(input).skipped.map((s) => s.reason);
const only = (input: unknown) => {
  const { alerts } = parseAlert(input);
  expect(alerts).toHaveLength(1);
  return alerts[0]!;
};
const issues = (input: unknown) => {
  const result = safeParseAlert(input);
  if (result.ok) throw new Error('accepted');
  return result.error.issues;
};

describe('Inspector findings', () => {
  const finding = (over: Record<string, unknown> = {}, details: Record<string, unknown> = {}) => ({
    findingArn: 'arn:aws:inspector2:eu-west-1:1:finding/abc',
    type: 'PACKAGE_VULNERABILITY',
    packageVulnerabilityDetails: { vulnerabilityId: 'CVE-2024-6387', vulnerablePackages: [{ name: 'openssh-server', fixedInVersion: '1:9.6p1-3ubuntu13.3', packageManager: 'DPKG' }], ...details },
    resources: [{ type: 'AWS_EC2_INSTANCE', id: ID, details: { awsEc2Instance: { platform: 'UBUNTU_24_04' } } }],
    ...over,
  });

  it('skips suppressed findings and findings without package details', () => {
    expect(reasons(finding({ status: 'suppressed' }))).toEqual(['finding is SUPPRESSED by a suppression rule']);
    expect(reasons({ ...finding(), packageVulnerabilityDetails: undefined })).toEqual(['no packageVulnerabilityDetails: nothing to patch']);
    expect(only(finding({ status: 'ACTIVE' })).cveId).toBe('CVE-2024-6387');
  });

  it('a vulnerability without a CVE id names up to five related CVEs', () => {
    const related = ['CVE-2024-1', 'x', 'CVE-2024-0001', 'CVE-2024-0002', 'CVE-2024-0003', 'CVE-2024-0004', 'CVE-2024-0005', 'CVE-2024-0006'];
    expect(reasons(finding({}, { vulnerabilityId: 'GHSA-1', relatedVulnerabilities: related }))).toEqual([
      'no CVE id: vulnerability GHSA-1 (related: CVE-2024-0001, CVE-2024-0002, CVE-2024-0003, CVE-2024-0004, CVE-2024-0005) is not a CVE',
    ]);
    expect(reasons(finding({}, { vulnerabilityId: 'GHSA-1', relatedVulnerabilities: ['x'] }))).toEqual(['no CVE id: vulnerability GHSA-1 is not a CVE']);
  });

  it('every OS package manager, any case, or none given; application packages named (three) when alone', () => {
    for (const packageManager of ['OS', 'dpkg', 'RPM', 'APT', 'YUM', 'DNF', 'ZYPPER', undefined]) {
      expect(only(finding({}, { vulnerablePackages: [{ name: 'p', fixedInVersion: '1', packageManager }] })).packages, String(packageManager)).toEqual([{ name: 'p', fixedVersion: '1', ecosystem: 'dpkg' }]);
    }
    const apps = ['a', 'b', 'c', 'd'].map((name) => ({ name, fixedInVersion: '1', packageManager: 'NPM' }));
    expect(reasons(finding({}, { vulnerablePackages: apps }))).toEqual(['CVE-2024-6387: only application packages (NPM: a, NPM: b, NPM: c); patchwave patches OS packages']);
    expect(reasons(finding({}, { vulnerablePackages: [] }))).toEqual(['CVE-2024-6387: no vulnerable package listed']);
  });

  it('the platform from the first instance that gives one; none from resources without details', () => {
    const resources = [
      { type: 'AWS_EC2_INSTANCE', id: 'i-0aaa1111' },
      { type: 'AWS_EC2_INSTANCE', id: 'i-0bbb2222', details: {} },
      { type: 'AWS_EC2_INSTANCE', id: 'i-0ccc3333', details: { awsEc2Instance: { platform: 'AMAZON_LINUX_2' } } },
    ];
    expect(only(finding({ resources })).packages[0]!.ecosystem).toBe('rpm');
    expect(only(finding({ resources: resources.slice(0, 2) })).packages[0]).not.toHaveProperty('ecosystem');
    expect(reasons(finding({ resources: [{ type: 'AWS_ECR_CONTAINER_IMAGE', id: 'x' }, { type: 'AWS_LAMBDA_FUNCTION', id: 'y' }] }))).toEqual([
      'CVE-2024-6387: resource type AWS_ECR_CONTAINER_IMAGE, AWS_LAMBDA_FUNCTION is not an EC2 instance (patchwave patches instances)',
    ]);
  });

  it('the same package and fix listed twice is one entry; unfixed packages are noted', () => {
    const vulnerablePackages = [
      { name: 'p', fixedInVersion: '1' },
      { name: 'p', fixedInVersion: '1' },
      { name: 'p', fixedInVersion: '2' },
      { name: 'q', fixedInVersion: 'NotAvailable' },
      { name: 'r' },
    ];
    const result = parseAlert(finding({}, { vulnerablePackages }));
    expect(result.alerts[0]!.packages.map((p) => `${p.name} ${p.fixedVersion}`)).toEqual(['p 1', 'p 2']);
    expect(result.skipped).toEqual([{ findingId: 'arn:aws:inspector2:eu-west-1:1:finding/abc', reason: 'CVE-2024-6387: partly planned, no fixed version yet for q, r' }]);
  });

  it('Inspector\'s adjusted score first, from the source it names; then the advisories\'', () => {
    const score = (adjusted: Record<string, unknown> | undefined, cvss: unknown[] = []) => only(finding({ inspectorScoreDetails: adjusted && { adjustedCvss: adjusted } }, { cvss })).cvss;
    expect(score({ score: 9.8, scoringVector: V31, version: '3.1', cvssSource: 'NVD', scoreSource: 'INSPECTOR' })).toEqual({ score: 9.8, vector: V31, version: '3.1', source: 'NVD' });
    expect(score({ score: 9.8, scoringVector: V31, scoreSource: 'UBUNTU_CVE' })).toEqual({ score: 9.8, vector: V31, version: '3.1', source: 'UBUNTU_CVE' });
    expect(score({ score: 9.8, scoringVector: V31 })).toMatchObject({ source: 'Inspector' });
    expect(score(undefined, [{ baseScore: 7, scoringVector: V31, source: 'UBUNTU_CVE' }])).toEqual({ score: 7, vector: V31, version: '3.1', source: 'UBUNTU_CVE' });
    expect(score(undefined, [{ baseScore: 7, scoringVector: V31 }])).toMatchObject({ source: 'Inspector' });
  });

  it('EPSS and a known exploit (any case)', () => {
    expect(only(finding({ epss: { score: 0.4 }, exploitAvailable: 'yes' }))).toMatchObject({ epss: 0.4, exploitAvailable: true });
    expect(only(finding({ exploitAvailable: 'NO' })).exploitAvailable).toBeUndefined();
  });

  it('limits: 200 packages, 50 scores, in words', () => {
    expect(issues(finding({}, { vulnerablePackages: Array(201).fill({ name: 'p' }) }))).toEqual([{ path: 'packageVulnerabilityDetails.vulnerablePackages', value: 'an array of 201 items', expected: 'at most 200 vulnerable packages' }]);
    expect(issues(finding({}, { cvss: Array(51).fill({ baseScore: 1, scoringVector: V31 }) }))).toEqual([{ path: 'packageVulnerabilityDetails.cvss', value: 'an array of 51 items', expected: 'at most 50 CVSS scores' }]);
  });
});

describe('ASFF findings', () => {
  const vulnerability = (over: Record<string, unknown> = {}) => ({ Id: 'CVE-2021-4034', VulnerablePackages: [{ Name: 'polkit', FixedInVersion: '0.112-26.amzn2.1', PackageManager: 'OS' }], ...over });
  const finding = (over: Record<string, unknown> = {}) => ({ SchemaVersion: '2018-10-08', Id: 'f-1', Resources: [{ Type: 'AwsEc2Instance', Id: ID }], Vulnerabilities: [vulnerability()], ...over });

  it('the instance id and platform from ProductFields, by their last path segment; the first of each', () => {
    const fields = {
      'aws/inspector/instanceId': 'i-0aaa11112222',
      'other/instanceid': 'i-0bbb11112222',
      'aws/inspector/resources/1/resourceDetails/awsEc2InstanceDetails/platform': ' AMAZON_LINUX_2 ',
      'x/platform': 'UBUNTU',
      'aws/inspector/instanceId/extra': 'i-0ccc11112222',
    };
    const alert = only(finding({ ProductFields: fields, Resources: [{ Type: 'AwsEc2Instance', Id: 'unreadable' }] }));
    expect(alert.resourceIds).toEqual(['i-0aaa11112222']);
    expect(alert.packages[0]!.ecosystem).toBe('rpm');
  });

  it('the ProductFields id stands in only for a single instance, or when no id is readable at all', () => {
    const fields = { 'aws/inspector/instanceId': 'i-0aaa11112222' };
    const two = parseAlert(finding({ ProductFields: fields, Resources: [{ Type: 'AwsEc2Instance', Id: ID }, { Type: 'AwsEc2Instance', Id: 'junk' }] }));
    expect(two.alerts[0]!.resourceIds).toEqual([ID]);
    expect(two.skipped[0]!.reason).toBe('CVE-2021-4034: resource Id "junk" is not an EC2 instance id or ARN: that node is not named');
    const none = parseAlert(finding({ ProductFields: fields, Resources: [{ Type: 'AwsEc2Instance', Id: 'a' }, { Type: 'AwsEc2Instance', Id: 'b' }, { Type: 'AwsEc2Instance', Id: 'c' }, { Type: 'AwsEc2Instance', Id: 'd' }] }));
    expect(none.alerts[0]!.resourceIds).toEqual(['i-0aaa11112222']);
    expect(none.skipped[0]!.reason).toBe('CVE-2021-4034: resource Id "a", "b", "c" is not an EC2 instance id or ARN: that node is not named');
    expect(only(finding({ Resources: [{ Type: 'AwsEc2Instance', Id: ID }] })).resourceIds).toEqual([ID]);
  });

  it('an instance by its Details whatever its Type; other resources named', () => {
    expect(only(finding({ Resources: [{ Type: 'Other', Id: ID, Details: { AwsEc2Instance: {} } }] })).resourceIds).toEqual([ID]);
    expect(reasons(finding({ Resources: [{ Type: 'AwsS3Bucket', Id: 'b' }, { Type: 'AwsLambdaFunction', Id: 'f' }] }))).toEqual(['resource type AwsS3Bucket, AwsLambdaFunction is not an EC2 instance (patchwave patches instances)']);
  });

  it('skips what cannot be patched, per vulnerability', () => {
    const result = parseAlert(
      finding({
        Vulnerabilities: [
          vulnerability({ Id: 'GHSA-x' }),
          vulnerability({ Id: 'CVE-2024-0001', FixAvailable: 'no' }),
          vulnerability({ Id: 'CVE-2024-0002', VulnerablePackages: [] }),
          vulnerability({ Id: 'CVE-2024-0003', VulnerablePackages: ['a', 'b', 'c', 'd'].map((n) => ({ Name: n, FixedInVersion: '1', PackageManager: 'PIP' })) }),
          vulnerability({ Id: 'CVE-2024-0004', VulnerablePackages: [{ Name: 'a', FixedInVersion: 'none' }, { Name: 'b' }] }),
          vulnerability({ Id: 'CVE-2024-0005', VulnerablePackages: [{ Name: 'a', FixedInVersion: '1', PackageManager: 'os' }, { Name: 'b', FixedInVersion: '1' }] }),
        ],
      }),
    );
    expect(result.skipped.map((s) => s.reason)).toEqual([
      'no CVE id: vulnerability GHSA-x is not a CVE',
      'CVE-2024-0001: no fix available (FixAvailable NO)',
      'CVE-2024-0002: no vulnerable package listed',
      'CVE-2024-0003: only application packages (PIP: a, PIP: b, PIP: c); patchwave patches OS packages',
      'CVE-2024-0004: no fixed version for a, b',
    ]);
    expect(result.alerts.map((a) => [a.cveId, a.packages.map((p) => p.name)])).toEqual([['CVE-2024-0005', ['a', 'b']]]);
  });

  it('partly planned and unreadable notes together', () => {
    const result = parseAlert(finding({ Resources: [{ Type: 'AwsEc2Instance', Id: ID }, { Type: 'AwsEc2Instance', Id: 'junk' }], Vulnerabilities: [vulnerability({ VulnerablePackages: [{ Name: 'a', FixedInVersion: '1' }, { Name: 'b' }] })] }));
    expect(result.skipped).toEqual([{ findingId: 'f-1', reason: 'CVE-2021-4034: partly planned, no fixed version yet for b; resource Id "junk" is not an EC2 instance id or ARN: that node is not named' }]);
  });

  it('scores need a vector and a score; EPSS and exploit fields are read', () => {
    const cvss = [{ BaseVector: V31 }, { BaseScore: 7 }, { BaseScore: 5, BaseVector: V31, Source: 'AMAZON' }];
    expect(only(finding({ Vulnerabilities: [vulnerability({ Cvss: cvss, EpssScore: 0, ExploitAvailable: 'yes' })] }))).toMatchObject({ cvss: { score: 5, source: 'AMAZON' }, epss: 0, exploitAvailable: true });
    expect(only(finding({ Vulnerabilities: [vulnerability({ Cvss: [{ BaseScore: 5, BaseVector: V31 }] })] })).cvss).toMatchObject({ source: 'Security Hub' });
    expect(only(finding())).not.toHaveProperty('epss');
    expect(only(finding({ Vulnerabilities: [vulnerability({ LastKnownExploitAt: '2024-01-02T00:00:00Z' })] })).exploitEvidence).toBe('Security Hub: public exploit, last seen 2024-01-02');
  });

  it('limits in words', () => {
    const path = (over: Record<string, unknown>) => issues(finding(over))[0];
    expect(path({ Vulnerabilities: Array(101).fill(vulnerability()) })).toEqual({ path: 'Vulnerabilities', value: 'an array of 101 items', expected: 'at most 100 vulnerabilities' });
    expect(path({ Vulnerabilities: [vulnerability({ VulnerablePackages: Array(201).fill({ Name: 'p' }) })] })).toEqual({ path: 'Vulnerabilities[0].VulnerablePackages', value: 'an array of 201 items', expected: 'at most 200 vulnerable packages' });
    expect(path({ Vulnerabilities: [vulnerability({ Cvss: Array(51).fill({}) })] })).toEqual({ path: 'Vulnerabilities[0].Cvss', value: 'an array of 51 items', expected: 'at most 50 CVSS scores' });
    expect(issues({ Findings: Array(101).fill(finding()) })[0]).toEqual({ path: 'Findings', value: 'an array of 101 items', expected: 'at most 100 findings (BatchImportFindings takes at most 100)' });
  });
});

describe('OCSF findings', () => {
  const vulnerability = (over: Record<string, unknown> = {}) => ({
    cve: { uid: 'CVE-2022-0847' },
    affected_packages: [{ name: 'linux-image-aws', fixed_in_version: '5.15.0-1031.35', package_manager: 'DPKG' }],
    ...over,
  });
  const finding = (over: Record<string, unknown> = {}) => ({
    class_uid: 2002,
    finding_info: { uid: 'f-1', title: 'Dirty Pipe' },
    vulnerabilities: [vulnerability()],
    resources: [{ type: 'AWS::EC2::Instance', uid: ID }],
    device: { os: { name: 'Ubuntu' } },
    ...over,
  });

  it('is recognised by its class, or by finding_info with vulnerabilities or metadata', () => {
    const { class_uid: _class, ...withoutClass } = finding();
    const refused = safeParseAlert(withoutClass);
    expect(refused.ok ? undefined : [refused.error.format, refused.error.issues[0]!.path]).toEqual(['OCSF Vulnerability Finding', 'class_uid']);
    expect(parseAlert({ ...finding(), metadata: {} }).format).toBe('ocsf-finding');
    const metadataOnly = { finding_info: { uid: 'f' }, metadata: {}, class_uid: 2002 };
    expect(parseAlert(metadataOnly).format).toBe('ocsf-finding');
    expect(issues({ finding_info: { uid: 'f' }, metadata: {} })[0]!.path).toBe('class_uid');
  });

  it('closed findings by status id or status word, whole', () => {
    for (const [status_id, word] of [[3, 'Suppressed'], [4, 'Resolved'], [5, 'Archived']] as const) expect(reasons(finding({ status_id }))).toEqual([`finding status is ${word}`]);
    expect(reasons(finding({ status: 'archived' }))).toEqual(['finding status is archived']);
    expect(only(finding({ status: 'not resolved' })).cveId).toBe('CVE-2022-0847');
    expect(only(finding({ status: 'Resolved later' })).cveId).toBe('CVE-2022-0847');
    expect(only(finding({ status_id: 1 })).cveId).toBe('CVE-2022-0847');
    expect(reasons(finding({ vulnerabilities: [] }))).toEqual(['no vulnerabilities listed']);
  });

  it('instances by resource type, by a readable uid, or the device; the others named', () => {
    expect(only(finding({ resources: [{ type: 'Ec2Instance', uid: `arn:aws:ec2:r:1:instance/${ID}` }] })).resourceIds).toEqual([ID]);
    expect(only(finding({ resources: [{ type: 'AwsEc2Instance', uid: ID }] })).resourceIds).toEqual([ID]);
    expect(only(finding({ resources: [{ uid: ID }] })).resourceIds).toEqual([ID]);
    expect(only(finding({ resources: [], device: { instance_uid: ID, uid: 'i-0fff0000' } })).resourceIds).toEqual([ID]);
    expect(only(finding({ resources: [], device: { uid: ID } })).resourceIds).toEqual([ID]);
    expect(reasons(finding({ resources: [{ type: 'AWS::S3::Bucket' }, { name: 'x' }] }))).toEqual(['resource type AWS::S3::Bucket, (no type) is not an EC2 instance (patchwave patches instances)']);
    expect(reasons(finding({ resources: undefined, device: undefined }))).toEqual(['resource type (no resources) is not an EC2 instance (patchwave patches instances)']);
    const named = parseAlert(finding({ resources: [{ type: 'AWS::EC2::Instance', uid: ID }, { type: 'AWS::EC2::Instance', name: 'web-1' }, { type: 'AWS::EC2::Instance' }, { type: 'AWS::EC2::Instance', uid: 'x' }, { type: 'AWS::EC2::Instance', uid: 'y' }] }));
    expect(named.skipped[0]!.reason).toBe('CVE-2022-0847: resource uid "web-1", "(no uid)", "x" is not an EC2 instance id or ARN: that node is not named');
  });

  it('a resource typed as an instance whose uid cannot be read is named as such, not called something else', () => {
    for (const type of ['AWS::EC2::Instance', 'AwsEc2Instance', 'EC2 Instance']) {
      const result = parseAlert(finding({ resources: [{ type, name: 'web-1' }], device: { os: { name: 'Ubuntu' } } }));
      expect(result.skipped, type).toEqual([{ findingId: 'f-1', reason: 'CVE-2022-0847: resource uid "web-1" is not an EC2 instance id or ARN: that node is not named' }]);
      expect(result.alerts[0]!.resourceIds, type).toBeUndefined();
    }
    expect(reasons(finding({ resources: [{ type: 'AWS::EC2::Volume', name: 'v' }] }))).toEqual(['resource type AWS::EC2::Volume is not an EC2 instance (patchwave patches instances)']);
  });

  it('the OS from the device; no ecosystem without one', () => {
    expect(only(finding()).packages[0]!.ecosystem).toBe('dpkg');
    expect(only(finding({ device: {} })).packages[0]).not.toHaveProperty('ecosystem');
  });

  it('skips what cannot be patched, per vulnerability', () => {
    const result = parseAlert(
      finding({
        vulnerabilities: [
          vulnerability({ cve: undefined, title: 'no id' }),
          vulnerability({ cve: undefined }),
          vulnerability({ cve: { uid: 'CVE-2024-0001' }, fix_available: false }),
          vulnerability({ cve: { uid: 'CVE-2024-0002' }, is_fix_available: false }),
          vulnerability({ cve: { uid: 'CVE-2024-0003' }, affected_packages: undefined }),
          vulnerability({ cve: { uid: 'CVE-2024-0004' }, affected_packages: ['a', 'b', 'c', 'd'].map((name) => ({ name, fixed_in_version: '1', package_manager: 'npm' })) }),
          vulnerability({ cve: { uid: 'CVE-2024-0005' }, affected_packages: [{ name: 'a' }, { name: 'b', fixed_in_version: 'n/a' }] }),
          vulnerability({ cve: { uid: 'CVE-2024-0006' }, affected_packages: undefined, packages: [{ name: 'old', fixed_in_version: '2', package_manager: 'apk' }] }),
        ],
      }),
    );
    expect(result.skipped.map((s) => s.reason)).toEqual([
      'no CVE id: vulnerability no id is not a CVE',
      'no CVE id: vulnerability (no cve.uid) is not a CVE',
      'CVE-2024-0001: no fix available (is_fix_available false)',
      'CVE-2024-0002: no fix available (is_fix_available false)',
      'CVE-2024-0003: no affected package listed',
      'CVE-2024-0004: only application packages (npm: a, npm: b, npm: c); patchwave patches OS packages',
      'CVE-2024-0005: no fixed version for a, b',
    ]);
    expect(result.alerts.map((a) => [a.cveId, a.packages])).toEqual([['CVE-2024-0006', [{ name: 'old', fixedVersion: '2', ecosystem: 'dpkg' }]]]);
    expect(only(finding({ vulnerabilities: [vulnerability({ fix_available: true, is_fix_available: true })] })).cveId).toBe('CVE-2022-0847');
  });

  it('every OS package manager, any case', () => {
    for (const package_manager of ['OS', 'dpkg', 'DEB', 'APT', 'RPM', 'YUM', 'DNF', 'ZYPPER', 'APK', undefined]) {
      expect(only(finding({ vulnerabilities: [vulnerability({ affected_packages: [{ name: 'p', fixed_in_version: '1', package_manager }] })] })).packages, String(package_manager)).toHaveLength(1);
    }
  });

  it('scores: a vector needed; who scored it from its vendor, an NVD link, or the vulnerability\'s vendor', () => {
    const cvss = (entries: unknown[], over: Record<string, unknown> = {}) => only(finding({ vulnerabilities: [vulnerability({ cve: { uid: 'CVE-2022-0847', cvss: entries }, ...over })] })).cvssScores?.map((c) => c.source);
    expect(cvss([{ base_score: 7, vector_string: V31, vendor_name: 'Ubuntu' }, { base_score: 7.8, vector_string: V31, src_url: 'https://nvd.nist.gov/vuln/detail/CVE-2022-0847' }, { base_score: 1 }])).toEqual(['Ubuntu', 'NVD']);
    const source = (entries: unknown[], over: Record<string, unknown> = {}) => only(finding({ vulnerabilities: [vulnerability({ cve: { uid: 'CVE-2022-0847', cvss: entries }, ...over })] })).cvss?.source;
    expect(source([{ base_score: 7, vector_string: V31, src_url: 'https://ubuntu.com/security' }], { vendor_name: 'Amazon Inspector' })).toBe('Amazon Inspector');
    expect(source([{ base_score: 7, vector_string: V31 }])).toBe('Security Hub');
    expect(only(finding({ vulnerabilities: [vulnerability({ cvss: [{ base_score: 7, vector_string: V31, vendor_name: 'old' }] })] })).cvss).toMatchObject({ source: 'old' });
  });

  it('EPSS as a number or a string, only between 0 and 1', () => {
    const epss = (score: unknown) => only(finding({ vulnerabilities: [vulnerability({ cve: { uid: 'CVE-2022-0847', epss: { score } } })] })).epss;
    expect(epss('0.5')).toBe(0.5);
    expect(epss(0)).toBe(0);
    expect(epss(1)).toBe(1);
    expect(epss(1.5)).toBeUndefined();
    expect(epss(-0.1)).toBeUndefined();
    expect(epss('x')).toBeUndefined();
    expect(only(finding({ vulnerabilities: [vulnerability({ cve: { uid: 'CVE-2022-0847', epss: {} } })] }))).not.toHaveProperty('epss');
  });

  it('exploit evidence and code execution from the finding or the vulnerability', () => {
    expect(only(finding({ vulnerabilities: [vulnerability({ is_exploit_available: true })] })).exploitAvailable).toBe(true);
    expect(only(finding({ vulnerabilities: [vulnerability({ is_exploit_available: false })] })).exploitAvailable).toBeUndefined();
    expect(only(finding({ finding_info: { uid: 'f', desc: 'allows remote code execution' } })).remoteCodeExecution).toBe(true);
    expect(only(finding({ vulnerabilities: [vulnerability({ cve: { uid: 'CVE-2022-0847', desc: 'leads to arbitrary code execution' } })] })).remoteCodeExecution).toBe(true);
    expect(only(finding()).remoteCodeExecution).toBeUndefined();
  });

  it('limits in words', () => {
    const first = (over: Record<string, unknown>) => issues(finding(over))[0];
    expect(first({ vulnerabilities: Array(101).fill(vulnerability()) })).toEqual({ path: 'vulnerabilities', value: 'an array of 101 items', expected: 'at most 100 vulnerabilities' });
    expect(first({ resources: Array(33).fill({}) })).toEqual({ path: 'resources', value: 'an array of 33 items', expected: 'at most 32 resources (Security Hub allows up to 32 resources per finding)' });
    expect(first({ vulnerabilities: [vulnerability({ cvss: Array(51).fill({}) })] })).toEqual({ path: 'vulnerabilities[0].cvss', value: 'an array of 51 items', expected: 'at most 50 CVSS scores' });
    expect(first({ vulnerabilities: [vulnerability({ cve: { uid: 'CVE-2022-0847', cvss: Array(51).fill({}) } })] })).toEqual({ path: 'vulnerabilities[0].cve.cvss', value: 'an array of 51 items', expected: 'at most 50 CVSS scores' });
    expect(first({ vulnerabilities: [vulnerability({ affected_packages: Array(201).fill({ name: 'p' }) })] })).toEqual({ path: 'vulnerabilities[0].affected_packages', value: 'an array of 201 items', expected: 'at most 200 affected packages' });
    expect(first({ vulnerabilities: [vulnerability({ packages: Array(201).fill({ name: 'p' }) })] })).toEqual({ path: 'vulnerabilities[0].packages', value: 'an array of 201 items', expected: 'at most 200 packages' });
    expect(first({ vulnerabilities: [vulnerability({ affected_packages: [{ name: 'p', epoch: -1 }] })] })!.path).toBe('vulnerabilities[0].affected_packages[0].epoch');
    expect(only(finding({ vulnerabilities: [vulnerability({ affected_packages: [{ name: 'p', fixed_in_version: '1', epoch: 2 }] })] })).packages).toHaveLength(1);
    expect(first({ device: { os: { name: 'x'.repeat(201) } } })!.path).toBe('device.os.name');
    expect(issues({ source: 'aws.securityhub', 'detail-type': 'Findings Imported V2', detail: { findings: Array(101).fill(finding()) } })[0]).toEqual({
      path: 'detail.findings',
      value: 'an array of 101 items',
      expected: 'at most 100 findings (Security Hub sends one finding per event)',
    });
  });
});
