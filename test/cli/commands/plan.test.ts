import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { NOTHING_TO_PATCH_EXIT_CODE, registerPlanCommand, type PlanCommandIo } from '../../../src/cli/commands/plan';
import { CliError } from '../../../src/cli/context';

const root = path.resolve(new URL('../../..', import.meta.url).pathname);
const alerts = (name: string) => path.join(root, 'test/fixtures/alerts', name);
const inventory = path.join(root, 'test/fixtures/inventory/demo-fleet.yaml');
const kev = path.join(root, 'data/kev/known_exploited_vulnerabilities.json');

async function run(args: string[], stdin = ''): Promise<{ stdout: string; stderr: string; error?: CliError }> {
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
    if (err instanceof CliError) return { stdout, stderr, error: err };
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
    expect(error?.exitCode).toBe(NOTHING_TO_PATCH_EXIT_CODE);
    expect(NOTHING_TO_PATCH_EXIT_CODE).toBe(3);
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

  describe('bad input: exit code 2, precise message on stderr, nothing planned', () => {
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
      expect(error).toBeInstanceOf(CliError);
      expect(error!.exitCode).toBe(2);
      expect(error!.message).toMatch(message);
      expect(stdout).toBe('');
    });

    it('a policy above the 25% cap', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'patchwave-plan-'));
      writeFileSync(path.join(dir, 'policy.json'), '{"maxUnavailableFraction": 0.5}');
      const { error } = await run([alerts('generic-log4shell.json'), '--inventory', inventory, '--kev', kev, '--policy', path.join(dir, 'policy.json')]);
      expect(error?.exitCode).toBe(2);
      expect(error?.message).toContain('maxUnavailableFraction: may be lowered, never raised above 0.25');
    });
  });
});
