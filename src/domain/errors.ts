/**
 * The one error base of patchwave. Every failure a person may see carries a code that says what kind
 * of failure it is, and the code decides the `patchwave` command's exit status: scripts branch on
 * the status, people read the message (which names the field, the value and what to do).
 */

/** Each code's exit status. Several codes may share one: the status is coarse, the code precise. */
export const EXIT_CODES = {
  /** Anything else: a bug, or a failure with no better code. */
  failed: 1,
  /** What was given (a flag, a file, a policy, an alert, a key) is not valid: fix it and run again. */
  'bad-input': 2,
  /** A campaign or the intake understood the request and said no (the message says why). */
  refused: 3,
  /** `plan`: nothing in scope needs the fix. */
  'nothing-to-patch': 3,
  /** Temporal (or another service patchwave needs) could not be reached: nothing was changed. */
  unreachable: 4,
  /** What was named (a campaign, a cluster's state) does not exist. */
  'not-found': 4,
  /** The server was reached but did not answer in time; the command may be tried again. */
  'no-answer': 5,
  /** A fleet provider's call failed (ProviderError says how, by its kind). */
  provider: 1,
} as const;

export type ErrorCode = keyof typeof EXIT_CODES;

export class PatchwaveError extends Error {
  constructor(
    message: string,
    readonly code: ErrorCode = 'failed',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }

  /** The `patchwave` command's exit status for this failure. */
  get exitCode(): number {
    return EXIT_CODES[this.code];
  }
}

/** A document's issues on one line: the first few, and how many more (a 10,000-line file stays readable). */
export function summarizeIssues(issues: readonly string[], shown = 5): string {
  return `${issues.slice(0, shown).join('; ')}${issues.length > shown ? ` (+${issues.length - shown} more)` : ''}`;
}
