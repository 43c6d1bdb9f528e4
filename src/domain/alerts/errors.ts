import { PatchwaveError } from '../errors';
import { formatIssue, type Issue } from '../issues';

/** One thing wrong with an alert payload (the document issue, under the name the alert modules use). */
export type AlertIssue = Issue;

/** Errors show at most this many issues: a payload with 10,000 bad items gets a readable message. */
export const MAX_REPORTED_ISSUES = 20;

/**
 * The payload is not an alert we accept. Nothing may be started or changed because of it. Carries
 * every issue (up to MAX_REPORTED_ISSUES) with its field path, the bad value and the expectation.
 */
export class AlertValidationError extends PatchwaveError {
  readonly issues: AlertIssue[];
  constructor(
    /** What the payload was taken for: `Inspector2 EventBridge event`, `generic alert`, ... */
    readonly format: string,
    issues: AlertIssue[],
    /** Issues found in total, including those not kept. */
    readonly totalIssues: number = issues.length,
  ) {
    const kept = issues.slice(0, MAX_REPORTED_ISSUES);
    const shown = kept.slice(0, 5).map(formatIssue).join('; ');
    const more = totalIssues > 5 ? ` (+${totalIssues - 5} more)` : '';
    super(`not a valid ${format}: ${shown}${more}`, 'bad-input');
    this.issues = kept;
  }
}

