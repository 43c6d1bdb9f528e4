import type { z } from 'zod';
import type { NormalizedAlert } from '../alert';
import { checkPayloadBounds, parseAlertText } from './bounds';
import { AlertValidationError, issuesFromZod, MAX_REPORTED_ISSUES, previewValue, type AlertIssue } from './errors';
import { mergeFindingAlerts, type FindingAlert, type FindingOutcome, type SkippedFinding } from './finding';
import { checkGenericAlert, genericAlertSchema, normalizeGenericAlert } from './generic';
import { inspectorEventSchema, inspectorFindingSchema, normalizeInspectorFinding } from './inspector';
import { asffBatchSchema, asffFindingSchema, normalizeAsffFinding, securityHubEventSchema } from './securityhub';

export type AlertFormat =
  | 'inspector2-event'
  | 'inspector2-finding'
  | 'securityhub-event'
  | 'asff-findings'
  | 'asff-finding'
  | 'generic';

/** Human names, used in errors: "not a valid Inspector2 EventBridge event: ...". */
export const ALERT_FORMAT_NAMES: Record<AlertFormat, string> = {
  'inspector2-event': 'Inspector2 EventBridge event',
  'inspector2-finding': 'Inspector2 finding',
  'securityhub-event': 'Security Hub EventBridge event',
  'asff-findings': 'ASFF Findings document',
  'asff-finding': 'ASFF finding',
  generic: 'patchwave generic alert',
};

export interface AlertParseResult {
  format: AlertFormat;
  /** One alert per CVE: findings about the same CVE are merged. */
  alerts: NormalizedAlert[];
  /** Findings read but not planned, each with its reason (no CVE, no fix, not an instance, closed). */
  skipped: SkippedFinding[];
}

const EXPECTED_PAYLOAD =
  'an alert: an Inspector2 finding event (source aws.inspector2), a Security Hub findings event (source aws.securityhub), ' +
  'an ASFF finding or {"Findings": [...]}, or a patchwave generic alert ({"cveId", "packages"}; see docs/alerts.md)';

/**
 * Reads any accepted alert payload — JSON text, bytes, or an already-parsed value — and normalises
 * it. Throws `AlertValidationError` (field path, bad value, expectation) when the payload is not an
 * alert; nothing may start or change because of such a payload. A valid payload whose findings are
 * all unusable returns no alerts and says why in `skipped`.
 */
export function parseAlert(input: unknown): AlertParseResult {
  const document = typeof input === 'string' || input instanceof Uint8Array ? parseAlertText(input) : input;
  checkPayloadBounds(document);
  if (document === null || typeof document !== 'object' || Array.isArray(document)) {
    throw new AlertValidationError('alert', [{ path: '(payload)', value: previewValue(document), expected: EXPECTED_PAYLOAD }]);
  }
  const format = detectAlertFormat(document as Record<string, unknown>);
  switch (format) {
    case 'inspector2-event': {
      const event = validate(inspectorEventSchema, document, format);
      return result(format, [normalizeInspectorFinding(event.detail)]);
    }
    case 'inspector2-finding':
      return result(format, [normalizeInspectorFinding(validate(inspectorFindingSchema, document, format))]);
    case 'securityhub-event': {
      const event = validate(securityHubEventSchema, document, format);
      return result(format, validateAsffFindings(event.detail.findings, ['detail', 'findings'], format));
    }
    case 'asff-findings': {
      const batch = validate(asffBatchSchema, document, format);
      return result(format, validateAsffFindings(batch.Findings, ['Findings'], format));
    }
    case 'asff-finding':
      return result(format, normalizeAsffFinding(validate(asffFindingSchema, document, format)));
    case 'generic': {
      const alert = validate(genericAlertSchema, document, format);
      const issues = checkGenericAlert(alert);
      if (issues.length > 0) throw new AlertValidationError(ALERT_FORMAT_NAMES.generic, issues);
      return result(format, [{ alert: normalizeGenericAlert(alert) }]);
    }
  }
}

/** Like `parseAlert`, without throwing for a payload that is not an alert. */
export function safeParseAlert(input: unknown): { ok: true; value: AlertParseResult } | { ok: false; error: AlertValidationError } {
  try {
    return { ok: true, value: parseAlert(input) };
  } catch (err) {
    if (err instanceof AlertValidationError) return { ok: false, error: err };
    throw err;
  }
}

/**
 * Which format a payload claims to be, from the fields that identify each one. An EventBridge event
 * from another source, or an object with none of the markers, is refused with what was expected.
 */
export function detectAlertFormat(document: Record<string, unknown>): AlertFormat {
  const source = document.source;
  if (source === 'aws.inspector2') return 'inspector2-event';
  if (source === 'aws.securityhub') return 'securityhub-event';
  if ('detail-type' in document || 'detail' in document) {
    throw new AlertValidationError('alert', [
      { path: 'source', value: previewValue(source), expected: '"aws.inspector2" or "aws.securityhub" (events from other sources carry no vulnerability findings)' },
    ]);
  }
  if ('findingArn' in document) return 'inspector2-finding';
  if ('Findings' in document) return 'asff-findings';
  if ('SchemaVersion' in document || 'ProductArn' in document || 'Vulnerabilities' in document) return 'asff-finding';
  // `packages` alone still means "generic": a generic alert that forgot its cveId gets that error.
  if ('cveId' in document || 'packages' in document) return 'generic';
  const keys = Object.keys(document);
  throw new AlertValidationError('alert', [
    { path: '(payload)', value: previewValue(document), expected: `${EXPECTED_PAYLOAD}${keys.length === 0 ? '' : '; none of their identifying fields is present'}` },
  ]);
}

function validate<S extends z.ZodType>(schema: S, document: unknown, format: AlertFormat): z.output<S> {
  const parsed = schema.safeParse(document, { reportInput: true });
  if (parsed.success) return parsed.data;
  const issues = issuesFromZod(parsed.error.issues, document);
  throw new AlertValidationError(ALERT_FORMAT_NAMES[format], issues, issues.length);
}

/** Every finding of an envelope must be valid ASFF: one malformed finding refuses the whole payload. */
function validateAsffFindings(findings: readonly unknown[], root: ReadonlyArray<PropertyKey>, format: AlertFormat): FindingOutcome[] {
  const outcomes: FindingOutcome[] = [];
  const issues: AlertIssue[] = [];
  let total = 0;
  findings.forEach((finding, index) => {
    const parsed = asffFindingSchema.safeParse(finding, { reportInput: true });
    if (parsed.success) {
      outcomes.push(...normalizeAsffFinding(parsed.data));
      return;
    }
    const found = issuesFromZod(parsed.error.issues, finding, [...root, index]);
    total += found.length;
    if (issues.length < MAX_REPORTED_ISSUES) issues.push(...found.slice(0, MAX_REPORTED_ISSUES - issues.length));
  });
  if (total > 0) throw new AlertValidationError(ALERT_FORMAT_NAMES[format], issues, total);
  return outcomes;
}

function result(format: AlertFormat, outcomes: readonly FindingOutcome[]): AlertParseResult {
  const findingAlerts: FindingAlert[] = outcomes.flatMap((o) => (o.alert ? [o.alert] : []));
  return {
    format,
    alerts: mergeFindingAlerts(findingAlerts),
    skipped: outcomes.flatMap((o) => (o.skipped ? [o.skipped] : [])),
  };
}
