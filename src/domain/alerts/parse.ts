import type { z } from 'zod';
import type { NormalizedAlert } from '../alert';
import { looksLikeEpssResponse } from '../enrichment/epss';
import { looksLikeNvd } from '../enrichment/nvd';
import { alertmanagerWebhookSchema, checkAlertmanagerLabels, looksLikeAlertmanager, normalizeAlertmanagerWebhook } from './alertmanager';
import { checkPayloadBounds, MAX_ITEMS, parseAlertText } from './bounds';
import { AlertValidationError, MAX_REPORTED_ISSUES, type AlertIssue } from './errors';
import { issuesFromZod, previewValue } from '../issues';
import { mergeFindingAlerts, type FindingAlert, type FindingOutcome, type SkippedFinding } from './finding';
import { checkGenericAlert, genericAlertSchema, normalizeGenericAlert } from './generic';
import { inspectorEventSchema, inspectorFindingSchema, normalizeInspectorFinding } from './inspector';
import { looksLikeOcsf, normalizeOcsfFinding, ocsfFindingSchema, SECURITY_HUB_V2_EVENT, securityHubV2EventSchema } from './ocsf';
import { asffBatchSchema, asffFindingSchema, normalizeAsffFinding, securityHubEventSchema } from './securityhub';

export type AlertFormat =
  | 'inspector2-event'
  | 'inspector2-finding'
  | 'securityhub-event'
  | 'securityhub-v2-event'
  | 'asff-findings'
  | 'asff-finding'
  | 'ocsf-finding'
  | 'alertmanager'
  | 'generic'
  | 'json-array'
  | 'ndjson';

/** Human names, used in errors: "not a valid Inspector2 EventBridge event: ...". */
export const ALERT_FORMAT_NAMES: Record<AlertFormat, string> = {
  'inspector2-event': 'Inspector2 EventBridge event',
  'inspector2-finding': 'Inspector2 finding',
  'securityhub-event': 'Security Hub EventBridge event',
  'securityhub-v2-event': 'Security Hub "Findings Imported V2" event',
  'asff-findings': 'Security Hub Findings document',
  'asff-finding': 'ASFF finding',
  'ocsf-finding': 'OCSF Vulnerability Finding',
  alertmanager: 'Alertmanager webhook',
  generic: 'patchwave generic alert',
  'json-array': 'JSON array of alerts',
  ndjson: 'NDJSON stream of alerts',
};

export interface AlertParseResult {
  format: AlertFormat;
  /** For a JSON array or NDJSON: the format of each item, in order. */
  itemFormats?: AlertFormat[];
  /** One alert per CVE: findings about the same CVE are merged. */
  alerts: NormalizedAlert[];
  /** Findings read but not planned, each with its reason (no CVE, no fix, not an instance, closed). */
  skipped: SkippedFinding[];
}

const EXPECTED_PAYLOAD =
  'an alert: an Inspector2 finding event (source aws.inspector2), a Security Hub findings event (source aws.securityhub, ASFF or OCSF), ' +
  'an ASFF or OCSF finding or {"Findings": [...]}, an Alertmanager webhook, or a patchwave generic alert ({"cveId", "packages"}; see docs/alerts.md)';

/**
 * Reads any accepted alert payload — JSON text, bytes, or an already-parsed value — and normalises
 * it. A JSON array or an NDJSON stream of accepted payloads is read item by item (each item's errors
 * carry its index, `[3].detail...`). Throws `AlertValidationError` (field path, bad value,
 * expectation) when the payload is not an alert; nothing may start or change because of such a
 * payload. A valid payload whose findings are all unusable returns no alerts and says why in `skipped`.
 */
export function parseAlert(input: unknown): AlertParseResult {
  const { document, ndjson, lineIssues } = typeof input === 'string' || input instanceof Uint8Array ? parseAlertText(input) : { document: input, ndjson: false, lineIssues: undefined };
  checkPayloadBounds(document);
  if (Array.isArray(document)) return parseItems(document, ndjson ? 'ndjson' : 'json-array', lineIssues);
  const { format, outcomes } = readDocument(document);
  return { format, ...result(outcomes) };
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
 * Every item must be an accepted payload: one bad item refuses the whole batch (a campaign planned
 * from part of a batch would look complete), with every bad item's issues named by its index.
 */
function parseItems(items: readonly unknown[], format: 'json-array' | 'ndjson', lineIssues?: ReadonlyMap<number, AlertIssue[]>): AlertParseResult {
  if (items.length === 0) throw new AlertValidationError(ALERT_FORMAT_NAMES[format], [{ path: '(payload)', value: 'an empty array', expected: 'at least one alert' }]);
  if (items.length > MAX_ITEMS) throw new AlertValidationError(ALERT_FORMAT_NAMES[format], [{ path: '(payload)', value: `an array of ${items.length} items`, expected: `at most ${MAX_ITEMS} alerts per batch` }]);
  const outcomes: FindingOutcome[] = [];
  const itemFormats: AlertFormat[] = [];
  const issues: AlertIssue[] = [];
  let total = 0;
  items.forEach((item, index) => {
    const unreadable = lineIssues?.get(index);
    if (unreadable) {
      // The line is not JSON (or repeats a key): its own issues, in order with the others.
      total += unreadable.length;
      for (const issue of unreadable) if (issues.length < MAX_REPORTED_ISSUES) issues.push(issue);
      return;
    }
    try {
      if (Array.isArray(item)) throw new AlertValidationError('alert', [{ path: '(payload)', value: previewValue(item), expected: 'an alert object (arrays of arrays are not read)' }]);
      const read = readDocument(item);
      itemFormats.push(read.format);
      outcomes.push(...read.outcomes);
    } catch (err) {
      if (!(err instanceof AlertValidationError)) throw err;
      total += err.totalIssues;
      const kind = err.format === 'alert' ? '' : ` (${err.format})`;
      for (const issue of err.issues) if (issues.length < MAX_REPORTED_ISSUES) issues.push({ ...issue, path: prefixPath(index, issue.path), expected: `${issue.expected}${kind}` });
    }
  });
  if (total > 0) throw new AlertValidationError(ALERT_FORMAT_NAMES[format], issues, total);
  return { format, itemFormats, ...result(outcomes) };
}

function prefixPath(index: number, path: string): string {
  if (path === '(payload)') return `[${index}]`;
  return path.startsWith('[') ? `[${index}]${path}` : `[${index}].${path}`;
}

/** One payload (not an array): its format and what each of its findings says. */
function readDocument(document: unknown): { format: AlertFormat; outcomes: FindingOutcome[] } {
  if (document === null || typeof document !== 'object' || Array.isArray(document)) {
    throw new AlertValidationError('alert', [{ path: '(payload)', value: previewValue(document), expected: EXPECTED_PAYLOAD }]);
  }
  const format = detectAlertFormat(document as Record<string, unknown>);
  switch (format) {
    case 'inspector2-event':
      return { format, outcomes: [normalizeInspectorFinding(validate(inspectorEventSchema, document, format).detail)] };
    case 'inspector2-finding':
      return { format, outcomes: [normalizeInspectorFinding(validate(inspectorFindingSchema, document, format))] };
    case 'securityhub-event': {
      const event = validate(securityHubEventSchema, document, format);
      return { format, outcomes: validateFindings(event.detail.findings, ['detail', 'findings'], format, 'asff') };
    }
    case 'securityhub-v2-event': {
      const event = validate(securityHubV2EventSchema, document, format);
      return { format, outcomes: validateFindings(event.detail.findings, ['detail', 'findings'], format, 'ocsf') };
    }
    case 'asff-findings': {
      // GetFindings (ASFF) and GetFindingsV2 (OCSF) both answer {"Findings": [...]}.
      const batch = validate(asffBatchSchema, document, format);
      return { format, outcomes: validateFindings(batch.Findings, ['Findings'], format, 'either') };
    }
    case 'asff-finding':
      return { format, outcomes: normalizeAsffFinding(validate(asffFindingSchema, document, format)) };
    case 'ocsf-finding':
      return { format, outcomes: normalizeOcsfFinding(validate(ocsfFindingSchema, document, format)) };
    case 'alertmanager': {
      const webhook = validate(alertmanagerWebhookSchema, document, format);
      const issues = checkAlertmanagerLabels(webhook);
      if (issues.length > 0) throw new AlertValidationError(ALERT_FORMAT_NAMES.alertmanager, issues.slice(0, MAX_REPORTED_ISSUES), issues.length);
      return { format, outcomes: normalizeAlertmanagerWebhook(webhook) };
    }
    case 'generic': {
      const alert = validate(genericAlertSchema, document, format);
      const issues = checkGenericAlert(alert);
      if (issues.length > 0) throw new AlertValidationError(ALERT_FORMAT_NAMES.generic, issues);
      return { format, outcomes: [{ alert: normalizeGenericAlert(alert) }] };
    }
    case 'json-array':
    case 'ndjson':
      throw new Error('unreachable: arrays are read by parseItems');
  }
}

/**
 * Which format a payload claims to be, from the fields that identify each one. An EventBridge event
 * from another source, an enrichment file (NVD record, EPSS response, KEV catalog: each is said to be
 * what it is, with the flag that takes it), or an object with none of the markers is refused.
 */
export function detectAlertFormat(document: Record<string, unknown>): AlertFormat {
  const source = document.source;
  if (source === 'aws.inspector2') return 'inspector2-event';
  if (source === 'aws.securityhub') return document['detail-type'] === SECURITY_HUB_V2_EVENT ? 'securityhub-v2-event' : 'securityhub-event';
  if ('detail-type' in document || 'detail' in document) {
    throw new AlertValidationError('alert', [
      { path: 'source', value: previewValue(source), expected: '"aws.inspector2" or "aws.securityhub" (events from other sources carry no vulnerability findings)' },
    ]);
  }
  if ('findingArn' in document) return 'inspector2-finding';
  if ('Findings' in document) return 'asff-findings';
  if (looksLikeOcsf(document)) return 'ocsf-finding';
  if ('SchemaVersion' in document || 'ProductArn' in document || 'Vulnerabilities' in document) return 'asff-finding';
  if (looksLikeAlertmanager(document)) return 'alertmanager';
  refuseEnrichment(document);
  // `packages` alone still means "generic": a generic alert that forgot its cveId gets that error.
  if ('cveId' in document || 'packages' in document) return 'generic';
  const keys = Object.keys(document);
  throw new AlertValidationError('alert', [
    { path: '(payload)', value: previewValue(document), expected: `${EXPECTED_PAYLOAD}${keys.length === 0 ? '' : '; none of their identifying fields is present'}` },
  ]);
}

/** Enrichment files given where an alert belongs: say what they are and which flag takes them. */
function refuseEnrichment(document: Record<string, unknown>): void {
  const refuse = (what: string, flag: string) => {
    throw new AlertValidationError('alert', [{ path: '(payload)', value: what, expected: `an alert; this is enrichment, not an alert: pass it to \`patchwave plan\` with ${flag}` }]);
  };
  if (looksLikeNvd(document)) {
    const cve = (document.cve as { id?: unknown } | undefined)?.id ?? document.id ?? (document.vulnerabilities as { cve?: { id?: unknown } }[] | undefined)?.[0]?.cve?.id;
    refuse(`an NVD CVE API 2.0 ${'vulnerabilities' in document ? 'response' : 'record'}${typeof cve === 'string' ? ` (${cve.slice(0, 30)})` : ''}`, '--nvd');
  }
  if (looksLikeEpssResponse(document)) refuse('an EPSS API response', '--epss');
  if ('catalogVersion' in document && 'vulnerabilities' in document) refuse('the CISA KEV catalog', '--kev');
}

function validate<S extends z.ZodType>(schema: S, document: unknown, format: AlertFormat): z.output<S> {
  const parsed = schema.safeParse(document, { reportInput: true });
  if (parsed.success) return parsed.data;
  const issues = issuesFromZod(parsed.error.issues, document);
  throw new AlertValidationError(ALERT_FORMAT_NAMES[format], issues, issues.length);
}

/** Every finding of an envelope must be valid: one malformed finding refuses the whole payload. */
function validateFindings(findings: readonly unknown[], root: ReadonlyArray<PropertyKey>, format: AlertFormat, kind: 'asff' | 'ocsf' | 'either'): FindingOutcome[] {
  const outcomes: FindingOutcome[] = [];
  const issues: AlertIssue[] = [];
  let total = 0;
  findings.forEach((finding, index) => {
    const ocsf = kind === 'ocsf' || (kind === 'either' && finding !== null && typeof finding === 'object' && !Array.isArray(finding) && looksLikeOcsf(finding as Record<string, unknown>));
    const parsed = ocsf ? ocsfFindingSchema.safeParse(finding, { reportInput: true }) : asffFindingSchema.safeParse(finding, { reportInput: true });
    if (parsed.success) {
      outcomes.push(...(ocsf ? normalizeOcsfFinding(parsed.data as z.output<typeof ocsfFindingSchema>) : normalizeAsffFinding(parsed.data as z.output<typeof asffFindingSchema>)));
      return;
    }
    const found = issuesFromZod(parsed.error.issues, finding, [...root, index]);
    total += found.length;
    if (issues.length < MAX_REPORTED_ISSUES) issues.push(...found.slice(0, MAX_REPORTED_ISSUES - issues.length));
  });
  if (total > 0) throw new AlertValidationError(ALERT_FORMAT_NAMES[format], issues, total);
  return outcomes;
}

function result(outcomes: readonly FindingOutcome[]): Pick<AlertParseResult, 'alerts' | 'skipped'> {
  const findingAlerts: FindingAlert[] = outcomes.flatMap((o) => (o.alert ? [o.alert] : []));
  return {
    alerts: mergeFindingAlerts(findingAlerts),
    skipped: outcomes.flatMap((o) => (o.skipped ? [o.skipped] : [])),
  };
}
