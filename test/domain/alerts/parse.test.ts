import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AlertValidationError, parseAlert, safeParseAlert } from '../../../src/domain/alerts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/alerts/${name}`, import.meta.url), 'utf8');
const json = (name: string) => JSON.parse(fixture(name)) as Record<string, any>;

describe('Amazon Inspector findings', () => {
  it('normalises the documented EC2 package finding: Inspector\'s chosen CVSS, dpkg from the platform, epoch 0 dropped', () => {
    const { format, alerts, skipped } = parseAlert(fixture('inspector2-ec2-snapd-active.json'));
    expect(format).toBe('inspector2-event');
    expect(skipped).toEqual([]);
    expect(alerts).toEqual([
      {
        cveId: 'CVE-2024-29069',
        title: 'CVE-2024-29069 - snapd',
        // The vendor's (Ubuntu's) score is used; NVD's is kept beside it to be shown.
        cvss: { score: 4.8, vector: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:U/C:L/I:L/A:L', version: '3.1', source: 'UBUNTU_CVE' },
        cvssScores: [
          { source: 'UBUNTU_CVE', score: 4.8, vector: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:U/C:L/I:L/A:L', version: '3.1' },
          { source: 'NVD', score: 7.3, vector: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:U/C:H/I:H/A:H', version: '3.1' },
        ],
        packages: [{ name: 'snapd', fixedVersion: '2.63+22.04ubuntu0.1', ecosystem: 'dpkg' }],
        epss: 0.00043,
        resourceIds: ['i-12345678901234567'],
        findingIds: ['arn:aws:inspector2:eu-central-1:123456789012:finding/0b1f8a3c5d7e9f2a4b6c8d0e1f3a5b7c'],
        source: 'inspector2',
      },
    ]);
  });

  it('skips the documented example as published: a CLOSED finding starts nothing', () => {
    const { alerts, skipped } = parseAlert(fixture('inspector2-ec2-snapd-closed.json'));
    expect(alerts).toEqual([]);
    expect(skipped).toEqual([{ findingId: expect.stringContaining('finding/'), reason: 'finding is CLOSED: Inspector no longer sees the vulnerability' }]);
  });

  it('reads a known public exploit as PoC evidence (never as exploitation in the wild) and code execution', () => {
    const [alert] = parseAlert(fixture('inspector2-ec2-log4shell.json')).alerts;
    // lastKnownExploitAt says a public exploit is known: SSVC "PoC". Only KEV or a generic assertion is "active".
    expect(alert.exploitedInWild).toBeUndefined();
    expect(alert).toMatchObject({
      cveId: 'CVE-2021-44228',
      exploitEvidence: 'Inspector: public exploit, last seen 2025-08-18',
      exploitAvailable: true,
      remoteCodeExecution: true,
      packages: [{ name: 'liblog4j2-java', fixedVersion: '2.15.0-1~deb11u1', ecosystem: 'dpkg' }],
      cvss: { score: 10, version: '3.1' },
    });
  });

  it('says why network-reachability and container-image findings are not planned', () => {
    expect(parseAlert(fixture('inspector2-ec2-network-reachability.json')).skipped[0].reason).toBe('NETWORK_REACHABILITY finding: no package to patch');
    expect(parseAlert(fixture('inspector2-ecr-openssl.json')).skipped[0].reason).toBe(
      'CVE-2024-6119: resource type AWS_ECR_CONTAINER_IMAGE is not an EC2 instance (patchwave patches instances)',
    );
  });

  it('accepts the bare finding (list-findings output) the same as the event', () => {
    const event = parseAlert(fixture('inspector2-ec2-regresshion.json'));
    const bare = parseAlert(json('inspector2-ec2-regresshion.json').detail);
    expect(bare.format).toBe('inspector2-finding');
    expect(bare.alerts).toEqual(event.alerts);
  });

  it('reports, not guesses, findings without a CVE or without a fix', () => {
    const noCve = json('inspector2-ec2-regresshion.json');
    noCve.detail.packageVulnerabilityDetails.vulnerabilityId = 'ALAS2-2024-2585';
    noCve.detail.packageVulnerabilityDetails.relatedVulnerabilities = ['CVE-2024-6387'];
    expect(parseAlert(noCve).skipped[0].reason).toBe('no CVE id: vulnerability ALAS2-2024-2585 (related: CVE-2024-6387) is not a CVE');

    const noFix = json('inspector2-ec2-regresshion.json');
    noFix.detail.fixAvailable = 'NO';
    expect(parseAlert(noFix).skipped[0].reason).toBe('CVE-2024-6387: no fix available (fixAvailable NO)');

    const notAvailable = json('inspector2-ec2-regresshion.json');
    for (const p of notAvailable.detail.packageVulnerabilityDetails.vulnerablePackages) p.fixedInVersion = 'NotAvailable';
    expect(parseAlert(notAvailable).skipped[0].reason).toBe('CVE-2024-6387: no fixed version for openssh-server, openssh-client');

    const partly = json('inspector2-ec2-regresshion.json');
    partly.detail.packageVulnerabilityDetails.vulnerablePackages[1].fixedInVersion = 'NotAvailable';
    const result = parseAlert(partly);
    expect(result.alerts[0].packages.map((p) => p.name)).toEqual(['openssh-server']);
    expect(result.skipped[0].reason).toBe('CVE-2024-6387: partly planned, no fixed version yet for openssh-client');

    const jar = json('inspector2-ec2-log4shell.json');
    jar.detail.packageVulnerabilityDetails.vulnerablePackages = [{ name: 'log4j-core', packageManager: 'JAR', fixedInVersion: '2.15.0' }];
    expect(parseAlert(jar).skipped[0].reason).toBe('CVE-2021-44228: only application packages (JAR: log4j-core); patchwave patches OS packages');
  });

  it('tolerates fields AWS adds over time, at any level', () => {
    const extended = json('inspector2-ec2-regresshion.json');
    extended.newEnvelopeField = { anything: [1, 2, 3] };
    extended.detail.codeVulnerabilityDetails = { future: true };
    extended.detail.packageVulnerabilityDetails.vulnerablePackages[0].sourceLambdaLayerArn = 'arn:aws:lambda:x';
    extended.detail.resources[0].details.awsEc2Instance.newMetadata = { k: 'v' };
    expect(parseAlert(extended).alerts).toEqual(parseAlert(fixture('inspector2-ec2-regresshion.json')).alerts);
  });

  it('refuses non-finding Inspector events with the expected detail-type', () => {
    const coverage = { ...json('inspector2-ec2-regresshion.json'), 'detail-type': 'Inspector2 Coverage' };
    expect(() => parseAlert(coverage)).toThrow('detail-type: expected "Inspector2 Finding" (coverage, scan and auto-enable events carry no vulnerability), got "Inspector2 Coverage"');
  });
});

describe('Security Hub (ASFF) findings', () => {
  it('reads one ASFF finding: instance id from the ARN, rpm from the platform Inspector writes into ProductFields', () => {
    const { format, alerts } = parseAlert(fixture('securityhub-asff-pwnkit.json'));
    expect(format).toBe('asff-finding');
    expect(alerts[0]).toMatchObject({
      cveId: 'CVE-2021-4034',
      packages: [{ name: 'polkit', fixedVersion: '0.112-26.amzn2.1', ecosystem: 'rpm' }],
      resourceIds: ['i-0c100000000000001'],
      exploitAvailable: true,
      source: 'securityhub',
    });
    const noPlatform = json('securityhub-asff-pwnkit.json');
    delete noPlatform.ProductFields;
    expect(parseAlert(noPlatform).alerts[0].packages[0].ecosystem).toBeUndefined();
  });

  it.each([
    ['arn:aws:ec2:eu-central-1:123456789012:instance/i-0c100000000000001', 'i-0c100000000000001'],
    // The form Inspector writes into Security Hub: no "instance/" segment.
    ['arn:aws:ec2:eu-central-1:123456789012:i-0c100000000000001', 'i-0c100000000000001'],
    ['arn:aws-us-gov:ec2:us-gov-west-1:123456789012:instance/i-0c100000000000001', 'i-0c100000000000001'],
    ['arn:aws-cn:ec2:cn-north-1:123456789012:i-0c100000000000001', 'i-0c100000000000001'],
    ['i-0c100000000000001', 'i-0c100000000000001'],
    ['i-1234abcd', 'i-1234abcd'],
  ])('names the instance from Resources[].Id %s', (id, instanceId) => {
    const finding = json('securityhub-asff-pwnkit.json');
    finding.Resources[0].Id = id;
    const { alerts, skipped } = parseAlert(finding);
    expect(alerts[0].resourceIds).toEqual([instanceId]);
    expect(skipped).toEqual([]);
  });

  it('falls back to the ProductFields instance id, takes Details.AwsEc2Instance as an instance, and says when no id is readable', () => {
    const finding = json('securityhub-asff-pwnkit.json');
    finding.Resources[0] = { Type: 'Other', Id: 'my-host', Details: { AwsEc2Instance: { ImageId: 'ami-0abc', IpV4Addresses: ['10.0.0.5'] } } };
    finding.ProductFields['aws/inspector/instanceId'] = 'i-0c100000000000002';
    expect(parseAlert(finding).alerts[0].resourceIds).toEqual(['i-0c100000000000002']);

    delete finding.ProductFields['aws/inspector/instanceId'];
    const { alerts, skipped } = parseAlert(finding);
    expect(alerts[0].resourceIds).toBeUndefined();
    expect(skipped[0].reason).toBe('CVE-2021-4034: resource Id "my-host" is not an EC2 instance id or ARN: that node is not named');
  });

  it('merges findings for one CVE from an envelope, keeping per-release fixed versions with their nodes', () => {
    const { format, alerts, skipped } = parseAlert(fixture('securityhub-imported-envelope.json'));
    expect(format).toBe('securityhub-event');
    expect(alerts).toHaveLength(1);
    expect(alerts[0].packages).toEqual([
      { name: 'openssh-server', fixedVersion: '1:8.9p1-3ubuntu0.10', resourceIds: ['i-0eb00000000000002'] },
      { name: 'openssh-server', fixedVersion: '1:9.6p1-3ubuntu13.3', resourceIds: ['i-05a90000000000001'] },
    ]);
    expect(alerts[0].resourceIds).toEqual(['i-0eb00000000000002', 'i-05a90000000000001']);
    expect(alerts[0].findingIds).toHaveLength(2);
    expect(skipped.map((s) => s.reason)).toEqual([
      'not a vulnerability finding (no Vulnerabilities)',
      'CVE-2025-48384: no fix available (FixAvailable NO)',
      'resource type AwsEcrContainerImage is not an EC2 instance (patchwave patches instances)',
    ]);
  });

  it('reads the documented Vulnerabilities example: a prefix-less V3 vector, the V2 one ignored', () => {
    const { format, alerts } = parseAlert(fixture('asff-findings-documented-example.json'));
    expect(format).toBe('asff-findings');
    expect(alerts[0].cvss).toEqual({ score: 4.7, vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N', version: '3.1', source: 'Security Hub' });
  });

  it('accepts the Custom Action event; a "Findings Imported V2" event must carry OCSF, not ASFF', () => {
    const custom = { ...json('securityhub-imported-envelope.json'), 'detail-type': 'Security Hub Findings - Custom Action' };
    expect(parseAlert(custom).alerts).toHaveLength(1);
    const v2 = { ...json('securityhub-imported-envelope.json'), 'detail-type': 'Findings Imported V2' };
    expect(() => parseAlert(v2)).toThrow(/^not a valid Security Hub "Findings Imported V2" event: detail\.findings\[0\]\.class_uid: expected a number \(required\), got missing/);
    const insight = { ...json('securityhub-imported-envelope.json'), 'detail-type': 'Security Hub Insight Results' };
    expect(() => parseAlert(insight)).toThrow(/detail-type: expected .*"Findings Imported V2" \(OCSF findings\), got "Security Hub Insight Results"/);
  });

  it('skips archived, resolved and suppressed findings', () => {
    const archived = { ...json('securityhub-asff-pwnkit.json'), RecordState: 'ARCHIVED' };
    expect(parseAlert(archived).skipped[0].reason).toBe('finding is ARCHIVED: the provider no longer reports it');
    const resolved = { ...json('securityhub-asff-pwnkit.json'), Workflow: { Status: 'RESOLVED' } };
    expect(parseAlert(resolved).skipped[0].reason).toBe('finding workflow status is RESOLVED');
  });
});

describe('generic alerts', () => {
  it('normalises the generic format, the vector prefixed, the target kept', () => {
    const [alert] = parseAlert(fixture('generic-regresshion.json')).alerts;
    expect(alert).toEqual({
      cveId: 'CVE-2024-6387',
      title: 'OpenSSH sshd signal handler race (regreSSHion)',
      cvss: { score: 8.1, vector: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H', version: '3.1' },
      packages: [
        { name: 'openssh-server', fixedVersion: '1:8.9p1-3ubuntu0.10', ecosystem: 'dpkg' },
        { name: 'openssh-server', fixedVersion: '1:9.6p1-3ubuntu13.3', ecosystem: 'dpkg' },
      ],
      exploitAvailable: true,
      epss: 0.38,
      scope: 'prod',
      source: 'generic',
    });
  });

  it('maps target.nodeIds to resourceIds and the exploitation assertion to evidence', () => {
    const [alert] = parseAlert({
      cveId: 'cve-2024-6387'.toUpperCase(),
      packages: [{ name: 'openssh-server', fixedVersion: '1:8.9p1-3ubuntu0.10' }],
      exploitedInWild: true,
      target: { nodeIds: ['i-1', 'i-1', 'i-2'] },
    }).alerts;
    expect(alert).toMatchObject({ resourceIds: ['i-1', 'i-2'], exploitedInWild: true, exploitEvidence: 'exploitation asserted by the alert' });
  });

  it('checks the CVSS vector the schema cannot', () => {
    const bad = safeParseAlert({ cveId: 'CVE-2024-6387', cvss: { score: 8.1, vector: 'CVSS:3.1/AV:N' }, packages: [{ name: 'a', fixedVersion: '1' }] });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.issues[0]).toMatchObject({ path: 'cvss.vector', expected: expect.stringContaining('missing AC, PR, UI, S, C, I, A') });
    const mismatch = safeParseAlert({ cveId: 'CVE-2024-6387', cvss: { score: 8.1, vector: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H', version: '4.0' }, packages: [{ name: 'a', fixedVersion: '1' }] });
    expect(mismatch.ok).toBe(false);
    if (!mismatch.ok) expect(mismatch.error.issues[0]).toEqual({ path: 'cvss.version', value: '"4.0"', expected: "the vector's version 3.1" });
  });
});

describe('any payload', () => {
  it('accepts text, bytes and parsed values alike', () => {
    const text = fixture('generic-log4shell.json');
    const expected = parseAlert(text).alerts;
    expect(parseAlert(new TextEncoder().encode(text)).alerts).toEqual(expected);
    expect(parseAlert(JSON.parse(text)).alerts).toEqual(expected);
  });

  it('refuses events from other sources and objects of no known format', () => {
    expect(() => parseAlert({ source: 'aws.guardduty', 'detail-type': 'GuardDuty Finding', detail: {} })).toThrow(
      'source: expected "aws.inspector2" or "aws.securityhub" (events from other sources carry no vulnerability findings), got "aws.guardduty"',
    );
    const error = safeParseAlert({ hello: 'world' });
    expect(error.ok).toBe(false);
    if (!error.ok) {
      expect(error.error).toBeInstanceOf(AlertValidationError);
      expect(error.error.issues[0]).toMatchObject({ path: '(payload)', value: 'an object {hello}' });
    }
    for (const value of [null, 42, 'null', '[]', [], true]) expect(() => parseAlert(value)).toThrow(AlertValidationError);
  });
});
