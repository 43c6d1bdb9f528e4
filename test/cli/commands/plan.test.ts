import { EXIT_CODES, PatchwaveError } from '../../../src/domain/errors';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { registerPlanCommand, type PlanCommandIo } from '../../../src/cli/commands/plan';

const root = path.resolve(new URL('../../..', import.meta.url).pathname);
const alerts = (name: string) => path.join(root, 'test/fixtures/alerts', name);
const inventory = path.join(root, 'test/fixtures/inventory/demo-fleet.yaml');
const kev = path.join(root, 'data/kev/known_exploited_vulnerabilities.json');

async function run(args: string[], stdin: string | Uint8Array = ''): Promise<{ stdout: string; stderr: string; error?: PatchwaveError }> {
  let stdout = '';
  let stderr = '';
  const io: PlanCommandIo = {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    readStdin: async () => stdin,
    now: () => new Date('2025-08-25T14:34:00Z'),
  };
  const program = new Command('patchwave').exitOverride().configureOutput({ writeErr: (t) => void (stderr += t), writeOut: (t) => void (stdout += t) });
  registerPlanCommand(program, io);
  try {
    await program.parseAsync(['plan', ...args], { from: 'user' });
    return { stdout, stderr };
  } catch (err) {
    if (err instanceof PatchwaveError) return { stdout, stderr, error: err };
    throw err;
  }
}

describe('patchwave plan', () => {
  const savedEnv = process.env.PATCHWAVE_KEV_PATH;
  afterEach(() => {
    if (savedEnv === undefined) delete process.env.PATCHWAVE_KEV_PATH;
    else process.env.PATCHWAVE_KEV_PATH = savedEnv;
  });

  it('prints tier → cluster → node order with canary, rescue, cap, urgency, deadline and reasons (golden)', async () => {
    const { stdout, error } = await run([alerts('generic-regresshion.json'), '--inventory', inventory, '--kev', kev]);
    expect(error).toBeUndefined();
    await expect(stdout).toMatchFileSnapshot('./__golden__/plan-generic-regresshion.txt');
    expect(stdout).toContain('i-0eb00000000000001 [canary]');
    expect(stdout).toContain('i-0eb00000000000005 [rescue]');
    expect(stdout).toMatch(/monitoring {2}1 of 1 node · cap 1 · within 14 days \(by 2025-09-08\) · NEEDS APPROVAL/);
    expect(stdout.trimEnd().endsWith('Dry run: nothing was executed.')).toBe(true);
  });

  it('says KEV-listed Log4Shell behind an ALB must be patched now, with triage', async () => {
    const { stdout } = await run([alerts('inspector2-ec2-log4shell.json'), '--inventory', inventory, '--kev', kev]);
    await expect(stdout).toMatchFileSnapshot('./__golden__/plan-inspector2-ec2-log4shell.txt');
    expect(stdout).toContain('urgency:   act now: patch by 2025-08-28 + forensic triage');
    expect(stdout).toContain('why:   tier 1: behind internet-facing ALB api-public; KEV-listed since 2021-12-10');
  });

  it('lists skipped findings of an envelope', async () => {
    const { stdout } = await run([alerts('securityhub-imported-envelope.json'), '--inventory', inventory, '--kev', kev]);
    await expect(stdout).toMatchFileSnapshot('./__golden__/plan-securityhub-imported-envelope.txt');
    expect(stdout).toContain('Skipped findings (3):');
    expect(stdout).toContain('CVE-2025-48384: no fix available (FixAvailable NO)');
  });

  it('says when there is nothing to plan, and exits 3 (not 0 like a plan, not 2 like bad input)', async () => {
    const { stdout, error } = await run([alerts('inspector2-ec2-snapd-closed.json'), '--inventory', inventory, '--kev', kev]);
    expect(error?.exitCode).toBe(EXIT_CODES['nothing-to-patch']);
    expect(EXIT_CODES['nothing-to-patch']).toBe(3);
    expect(error?.message).toBe('nothing to patch: no actionable finding in the alert (exit 3)');
    expect(stdout).toContain('No actionable alert in this payload: nothing to plan.');
    expect(stdout).toContain('finding is CLOSED');
  });

  it('exits 3 when the alert is valid but no node of the inventory needs the fix, 0 when one does', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'patchwave-plan-'));
    const file = path.join(dir, 'fixed.json');
    writeFileSync(file, JSON.stringify({ cveId: 'CVE-2024-6387', packages: [{ name: 'openssh-server', fixedVersion: '1:8.9p1-3ubuntu0.1', ecosystem: 'dpkg' }] }));
    const nothing = await run([file, '--inventory', inventory, '--kev', kev, '--json']);
    expect(nothing.error?.exitCode).toBe(3);
    expect(nothing.error?.message).toBe('nothing to patch: no node in the inventory needs the fix (exit 3)');
    expect(JSON.parse(nothing.stdout)).toMatchObject({ exitCode: 3, plans: [{ plan: { totalNodes: 0 } }] });
    const ready = await run([alerts('generic-log4shell.json'), '--inventory', inventory, '--kev', kev, '--json']);
    expect(ready.error).toBeUndefined();
    expect(JSON.parse(ready.stdout).exitCode).toBe(0);
  });

  it('--json gives machines the plans, the skipped findings and the enrichment used', async () => {
    const { stdout } = await run([alerts('securityhub-asff-pwnkit.json'), '--inventory', inventory, '--kev', kev, '--json']);
    const out = JSON.parse(stdout);
    expect(out).toMatchObject({ format: 'asff-finding', executed: false, kev: { catalogVersion: '2025.08.25' }, skipped: [] });
    expect(out.plans[0].plan.tiers[0].clusters[0]).toMatchObject({ id: 'ci-runners', tier: 2, urgency: '14-days', deadline: '2025-09-08T14:34:00.000Z' });
    expect(out.plans[0].alert.cveId).toBe('CVE-2021-4034');
  });

  it('reads the alert from stdin with -', async () => {
    const { stdout } = await run(['-', '--inventory', inventory, '--kev', kev, '--json'], readFileSync(alerts('generic-log4shell.json'), 'utf8'));
    expect(JSON.parse(stdout).plans[0].plan.urgency).toBe('act-now');
  });

  it('uses EPSS scores and a policy file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'patchwave-plan-'));
    writeFileSync(path.join(dir, 'epss.csv'), '#model_version:v2025.03.14,score_date:2025-08-25T00:00:00Z\ncve,epss,percentile\nCVE-2024-6387,0.51234,0.97766\n');
    writeFileSync(path.join(dir, 'policy.yaml'), 'maxUnavailableFraction: 0.1\nrescueNodeMinClusterSize: 10\n');
    const { stdout } = await run([alerts('generic-regresshion.json'), '--inventory', inventory, '--kev', kev, '--epss', path.join(dir, 'epss.csv'), '--policy', path.join(dir, 'policy.yaml'), '--json']);
    const plan = JSON.parse(stdout).plans[0].plan;
    expect(plan.assessment.epss).toEqual({ score: 0.51234, percentile: 0.97766 });
    expect(plan.summary).toContain('EPSS 0.51, p97');
    expect(plan.tiers[0].clusters[0].rescue).toBeUndefined();
  });

  it('plans without KEV data, and says so, when the default catalog is missing', async () => {
    process.env.PATCHWAVE_KEV_PATH = '/nonexistent/kev.json';
    const { stdout, stderr } = await run([alerts('generic-log4shell.json'), '--inventory', inventory, '--json']);
    expect(stderr).toContain('no KEV catalog at /nonexistent/kev.json; planning without KEV data');
    expect(JSON.parse(stdout).plans[0].plan.assessment.exploitation).toBe('none');
  });

  describe('the new formats, one plan each (golden)', () => {
    it.each([
      ['securityhub-v2-ocsf-dirtypipe-db.json', ['tier 2: database', 'no reboot: KERNEL STAYS VULNERABLE', '! db-prod (database tier: no reboot): kernel fix linux-image-aws 5.15.0.1019.21 — the running kernel stays vulnerable until a maintenance reboot on i-0db00000000000001, i-0db00000000000002, i-0db00000000000003']],
      ['ocsf-finding-regresshion.json', ['cvss:      * UBUNTU_CVE    8.1  CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H  (used)', 'CVSS UBUNTU_CVE 8.1 (v3.1) used over NVD 8.1 (v3.1) (vendor before NVD)']],
      ['securityhub-getfindingsv2-ocsf.json', ['finding status is Resolved']],
      ['ocsf-findings-array.json', ['Read 2 items (json-array): 2 × ocsf-finding']],
      ['alertmanager-regresshion.json', ['from alertmanager', 'alert is resolved']],
      ['inspector2-ndjson-systemd-local-dos-poc.ndjson', ['Read 4 items (ndjson): 4 × inspector2-event', 'evidence:  public exploit available (Inspector: public exploit, last seen 2025-06-02), not KEV-listed', 'worker-prod  4 of 4 nodes · cap 1 · within 60 days (by 2025-10-24)']],
      ['mixed-array-log4shell.json', ['Read 2 items (json-array): 1 × generic, 1 × inspector2-event']],
      ['securityhub-asff-inspector-arn-forms.json', ['! 1 node named by the finding is not in the inventory and will not be patched: i-0c1000000000000ff']],
    ])('%s', async (file, expected) => {
      const { stdout, error } = await run([alerts(file), '--inventory', inventory, '--kev', kev]);
      expect(error).toBeUndefined();
      await expect(stdout).toMatchFileSnapshot(`./__golden__/plan-${file.replace(/\.(nd)?json$/, '')}.txt`);
      for (const text of expected) expect(stdout).toContain(text);
    });
  });

  describe('enrichment', () => {
    const enrichment = (name: string) => path.join(root, 'test/fixtures/alerts/enrichment', name);

    it.each(['epss-scores.csv', 'epss-scores.csv.gz', 'epss-api-response.json'])('--epss %s', async (file) => {
      const { stdout, error } = await run([alerts('generic-regresshion.json'), '--inventory', inventory, '--kev', kev, '--epss', enrichment(file), '--json']);
      expect(error).toBeUndefined();
      expect(JSON.parse(stdout).plans[0].plan.assessment.epss).toEqual({ score: 0.51234, percentile: 0.97766 });
    });

    it('--epss refuses a binary that is not gzip, and a corrupt gzip, without printing their bytes', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'patchwave-plan-'));
      writeFileSync(path.join(dir, 'x.bin'), Buffer.from([0x00, 0xff, 0xfe, 0x80]));
      writeFileSync(path.join(dir, 'x.csv.gz'), Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x01]));
      const binary = await run([alerts('generic-regresshion.json'), '--inventory', inventory, '--kev', kev, '--epss', path.join(dir, 'x.bin')]);
      expect(binary.error?.exitCode).toBe(2);
      expect(binary.error?.message).toBe(`EPSS scores ${path.join(dir, 'x.bin')} is neither text nor gzip: expected the EPSS CSV, its .csv.gz, or the EPSS API JSON response`);
      const corrupt = await run([alerts('generic-regresshion.json'), '--inventory', inventory, '--kev', kev, '--epss', path.join(dir, 'x.csv.gz')]);
      expect(corrupt.error?.exitCode).toBe(2);
      expect(corrupt.error?.message).toMatch(/is gzip but cannot be decompressed/);
    });

    it("--nvd: vendor and NVD CVSS both shown, the vendor's used, and said", async () => {
      const { stdout, error } = await run([alerts('inspector2-ec2-snapd-active.json'), '--inventory', inventory, '--kev', kev, '--nvd', enrichment('nvd-cve-2024-29069.json')]);
      expect(error).toBeUndefined();
      await expect(stdout).toMatchFileSnapshot('./__golden__/plan-inspector2-ec2-snapd-active-nvd.txt');
      expect(stdout).toContain('cvss:      * UBUNTU_CVE    4.8  CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:U/C:L/I:L/A:L  (used)');
      expect(stdout).toContain('cvss:        NVD           7.3  CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:U/C:H/I:H/A:H');
      // The CNA's score (Canonical's, the same vector as UBUNTU_CVE) is one reading with the finding's own.
      expect(stdout).toContain('CVSS UBUNTU_CVE 4.8 (v3.1) used over NVD 7.3 (v3.1) (vendor before NVD)');
    });

    it('--nvd gives an alert without CVSS its vector (an Alertmanager alert), and says which score was used', async () => {
      const { stdout } = await run([alerts('alertmanager-regresshion.json'), '--inventory', inventory, '--kev', kev, '--nvd', enrichment('nvd-cve-2024-6387-record.json'), '--json']);
      const plan = JSON.parse(stdout).plans[0].plan;
      expect(plan.assessment.cvss).toMatchObject({ source: 'CNA secalert@redhat.com', score: 8.1, attackVector: 'network' });
      expect(plan.assessment.technicalImpact).toBe('total');
      expect(plan.urgency).toBe('3-days');
    });

    it('--nvd for another CVE is said, not silently used', async () => {
      const { stderr } = await run([alerts('generic-log4shell.json'), '--inventory', inventory, '--kev', kev, '--nvd', enrichment('nvd-cve-2024-29069.json')]);
      expect(stderr).toContain('the NVD record given (CVE-2024-29069) is for another CVE than the alert (CVE-2021-44228): not used');
    });

    it.each([
      ['nvd-cve-2024-29069.json', 'an NVD CVE API 2.0 response (CVE-2024-29069)', '--nvd'],
      ['nvd-cve-2024-6387-record.json', 'an NVD CVE API 2.0 record (CVE-2024-6387)', '--nvd'],
      ['epss-api-response.json', 'an EPSS API response', '--epss'],
    ])('an enrichment file given as the alert (%s) says what it is and which flag takes it', async (file, what, flag) => {
      const { error } = await run([enrichment(file), '--inventory', inventory, '--kev', kev]);
      expect(error?.exitCode).toBe(2);
      expect(error?.message).toContain(`(payload): expected an alert; this is enrichment, not an alert: pass it to \`patchwave plan\` with ${flag}, got ${what}`);
    });

    it('the EPSS .csv.gz given as the alert: said, its bytes never printed', async () => {
      const { error } = await run([enrichment('epss-scores.csv.gz'), '--inventory', inventory, '--kev', kev]);
      expect(error?.exitCode).toBe(2);
      expect(error?.message).toContain('(payload): expected JSON text (decompress it first; an EPSS .csv.gz is enrichment: pass it with --epss), got gzip-compressed data');
      expect(error?.message).not.toMatch(/[\u0000-\u0008\uFFFD]/);
    });
  });

  describe('bad input: exit code 2, precise message on stderr, nothing planned', () => {
    it('invalid UTF-8 in the alert file or on stdin: refused with the byte offset, never replaced', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'patchwave-plan-'));
      const good = readFileSync(alerts('inspector2-ec2-regresshion.json'));
      const at = good.indexOf('"name": "openssh-server') + '"name": "openssh-server'.length;
      const bad = Buffer.concat([good.subarray(0, at), Buffer.from([0xff, 0xfe]), good.subarray(at)]);
      writeFileSync(path.join(dir, 'bad.json'), bad);
      const fromFile = await run([path.join(dir, 'bad.json'), '--inventory', inventory, '--kev', kev]);
      expect(fromFile.error?.exitCode).toBe(2);
      expect(fromFile.error?.message).toBe(
        `alert ${path.join(dir, 'bad.json')} is not a valid alert; nothing was planned:\n  (payload): expected UTF-8 text (JSON must be UTF-8, RFC 8259 §8.1; re-export the file as UTF-8), got invalid UTF-8 at byte offset ${at} (bytes ff fe 22 2c)`,
      );
      expect(fromFile.stdout).toBe('');
      const fromStdin = await run(['-', '--inventory', inventory, '--kev', kev], bad);
      expect(fromStdin.error?.message).toContain(`alert stdin is not a valid alert; nothing was planned:\n  (payload): expected UTF-8 text`);
    });

    it('an array with a bad item names the item', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'patchwave-plan-'));
      const items = JSON.parse(readFileSync(alerts('mixed-array-log4shell.json'), 'utf8'));
      items[1].detail.packageVulnerabilityDetails.vulnerabilityId = 7;
      writeFileSync(path.join(dir, 'items.json'), JSON.stringify(items));
      const { error } = await run([path.join(dir, 'items.json'), '--inventory', inventory, '--kev', kev]);
      expect(error?.exitCode).toBe(2);
      expect(error?.message).toContain('is not a valid JSON array of alerts; nothing was planned:\n  [1].detail.packageVulnerabilityDetails.vulnerabilityId: expected a string (Inspector2 EventBridge event), got 7');
    });

    it.each([
      [['bad/generic-wrong-types.json', '--inventory', inventory], /alert .*generic-wrong-types\.json is not a valid patchwave generic alert; nothing was planned:\n {2}cveId: expected a CVE id like CVE-2024-6387, got 2024/],
      [['bad/not-json.txt', '--inventory', inventory], /is not a valid alert; nothing was planned:\n {2}\(payload\): expected a JSON document, got text that is not JSON/],
      [['missing.json', '--inventory', inventory], /cannot read alert .*missing\.json: ENOENT/],
      [['generic-log4shell.json', '--inventory', path.join(root, 'test/fixtures/inventory/bad/numeric-version.yaml')], /inventory .* is not valid:\n {2}assets\[0\]\.packages\.openssl: expected a version string/],
      [['generic-log4shell.json', '--inventory', inventory, '--kev', '/nonexistent/kev.json'], /cannot read KEV catalog \/nonexistent\/kev\.json: ENOENT/],
      [['generic-log4shell.json', '--inventory', inventory, '--kev', alerts('generic-log4shell.json')], /KEV catalog .* is not valid:\n {2}catalogVersion: expected a string \(required\), got missing/],
    ])('%j', async (args, message) => {
      const [alert, ...rest] = args as string[];
      const { stdout, error } = await run([path.isAbsolute(alert) ? alert : alerts(alert), ...rest]);
      expect(error).toBeInstanceOf(PatchwaveError);
      expect(error!.exitCode).toBe(2);
      expect(error!.message).toMatch(message);
      expect(stdout).toBe('');
    });

    it('a policy above the 25% cap', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'patchwave-plan-'));
      writeFileSync(path.join(dir, 'policy.json'), '{"maxUnavailableFraction": 0.5}');
      const { error } = await run([alerts('generic-log4shell.json'), '--inventory', inventory, '--kev', kev, '--policy', path.join(dir, 'policy.json')]);
      expect(error?.exitCode).toBe(2);
      expect(error?.message).toContain('maxUnavailableFraction: expected a fraction of at most 0.25 (the availability cap may be lowered, never raised above 0.25), got 0.5');
    });
  });
});
