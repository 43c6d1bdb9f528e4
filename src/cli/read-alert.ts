import { readFileSync } from 'node:fs';
import { AlertValidationError, formatIssue, parseAlert, type AlertParseResult } from '../domain/alerts';
import { CliError } from './context';

/** Exit code for input the user must fix (bad alert, policy, flag). */
export const BAD_INPUT_EXIT = 2;

/**
 * Reads an alert from a file or stdin (`-`) and parses it; anything that is not an alert becomes a
 * CliError listing every issue with its field path, ending in what did not happen (`nothing was …`).
 */
export async function readAlertFile(file: string, readStdin: () => Promise<string>, nothingWas: 'started' | 'planned'): Promise<AlertParseResult> {
  const source = file === '-' ? 'stdin' : file;
  let text: string;
  try {
    text = file === '-' ? await readStdin() : readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read alert ${source}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, BAD_INPUT_EXIT);
  }
  try {
    return parseAlert(text);
  } catch (err) {
    if (err instanceof AlertValidationError) {
      const more = err.totalIssues > err.issues.length ? `\n  (+${err.totalIssues - err.issues.length} more)` : '';
      throw new CliError(`alert ${source} is not a valid ${err.format}; nothing was ${nothingWas}:\n${err.issues.map((i) => `  ${formatIssue(i)}`).join('\n')}${more}`, BAD_INPUT_EXIT);
    }
    throw err;
  }
}
