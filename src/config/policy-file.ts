/**
 * The one reader of policy files (`--policy` of `alert`, `serve` and `plan`): YAML or JSON, checked
 * when read, so that a bad policy is refused before anything is planned or started.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { PatchwaveError } from '../domain/errors';
import { parsePolicy, PolicyError, type Policy, type PolicyInput } from '../domain/policy';

export interface PolicyFile {
  /**
   * The document as written: what travels to a campaign, which fills the defaults itself (so a
   * campaign keeps the defaults of the patchwave that started it, across upgrades of the CLI).
   */
  written: PolicyInput;
  /** The same with every default filled in: what `plan` plans with. */
  policy: Policy;
}

/** Reads and checks a policy file; every failure is bad input (exit 2) naming the file and what is wrong. */
export function readPolicyFile(file: string): PolicyFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PatchwaveError(`cannot read policy ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'bad-input');
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (err) {
    throw new PatchwaveError(`policy ${file} is not valid JSON or YAML: ${(err as Error).message.split('\n')[0]}`, 'bad-input');
  }
  try {
    return { written: (document ?? {}) as PolicyInput, policy: parsePolicy(document) };
  } catch (err) {
    if (err instanceof PolicyError) throw new PatchwaveError(`policy ${file} is not valid:\n${err.issues.map((i) => `  ${i}`).join('\n')}`, 'bad-input');
    throw err;
  }
}
