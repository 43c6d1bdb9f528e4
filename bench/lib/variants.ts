/**
 * A/B experiments on the workflow code without touching src/: a variant is the current
 * src/workflows with a few exact text replacements, bundled from a scratch copy under
 * bench/.variant-<name>/ (inside the repository so that node_modules resolves; removed once bundled).
 * A replacement that no longer matches fails loudly: the experiment is then stale, not silently void.
 *
 * A change is measured here before anyone edits src/; what was applied is listed below.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import { quietBundlerLogger } from '../../src/worker';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Replacement {
  file: string;
  /** Exact text, or a pattern (must match exactly once; `$1` etc. in `replace`). */
  find: string | RegExp;
  replace: string;
}

export const VARIANTS: Record<string, { what: string; replacements: Replacement[] }> = {
  /*
   * Measured and applied to src/ (docs/performance.md): "wake-fix" (a lost wake-up in runTier, fixed
   * in 7166b85), "local-short" (preflight, verify and rejoin as local activities) and "poll-50" (the
   * patch poll interval, now the policy's patchPollInterval).
   */
  /**
   * runTier awaits every child start (initiated → started: one server round trip and one more
   * workflow task) and lease request before it looks at finished nodes again. They can be left in
   * flight: the outcome is 'running' from the moment of the command, a failed start is caught in
   * startNode, and only continue-as-new needs them settled.
   */
  'no-await-start': {
    what: 'runTier: do not wait for child starts before refilling the window; continue-as-new waits for them',
    replacements: [
      {
        file: 'workflows/patch-campaign.ts',
        find: `  let wake = true;
  const changed = () => {`,
        replace: `  let wake = true;
  const startsInFlight = new Set<Promise<void>>();
  const changed = () => {`,
      },
      {
        file: 'workflows/patch-campaign.ts',
        find: `      const started = startEligible(tier);`,
        replace: `      const started = startEligible(tier);
      startsInFlight.add(started);
      void started.then(() => startsInFlight.delete(started));`,
      },
      {
        file: 'workflows/patch-campaign.ts',
        find: `      await started;
`,
        replace: '',
      },
      {
        // After the early return of maybeContinueAsNew: settle the starts only when continuing as new.
        find: /(\n    if \(!info\.continueAsNewSuggested[^\n]*\) return;\n)/,
        replace: `$1    await Promise.all([...startsInFlight]);\n`,
        file: 'workflows/patch-campaign.ts',
      },
    ],
  },
};

/** Variants can be combined: `wake-fix+no-await-start`. */
function replacementsOf(spec: string): Replacement[] {
  return spec.split('+').flatMap((name) => {
    const variant = VARIANTS[name];
    if (!variant) throw new Error(`unknown variant "${name}"; known: ${Object.keys(VARIANTS).join(', ')}`);
    return variant.replacements;
  });
}

/** Bundles src/workflows with the variant's replacements applied; returns the bundle's code. */
export async function bundleVariant(spec: string): Promise<string> {
  const replacements = replacementsOf(spec);
  const root = path.join(REPO, 'bench', `.variant-${spec.replace(/[^a-z0-9+-]/gi, '_')}-${process.pid}`);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  try {
    for (const entry of readdirSync(path.join(REPO, 'src'))) {
      if (entry === 'workflows') continue;
      symlinkSync(path.join(REPO, 'src', entry), path.join(root, entry));
    }
    cpSync(path.join(REPO, 'src', 'workflows'), path.join(root, 'workflows'), { recursive: true });
    for (const r of replacements) {
      const file = path.join(root, r.file);
      if (!existsSync(file)) throw new Error(`variant ${spec}: ${r.file} does not exist`);
      const text = readFileSync(file, 'utf8');
      const count = typeof r.find === 'string' ? text.split(r.find).length - 1 : (text.match(new RegExp(r.find.source, 'g')) ?? []).length;
      if (count !== 1) throw new Error(`variant ${spec}: expected the text to replace exactly once in src/${r.file}, found ${count} times:\n${String(r.find)}`);
      writeFileSync(file, typeof r.find === 'string' ? text.replace(r.find, () => r.replace) : text.replace(r.find, r.replace));
    }
    const bundle = await bundleWorkflowCode({ workflowsPath: path.join(root, 'workflows', 'index.ts'), logger: quietBundlerLogger });
    return bundle.code;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
