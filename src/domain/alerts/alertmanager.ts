import { z } from 'zod';
import { ECOSYSTEMS, type Ecosystem } from '../versions';
import type { AlertIssue } from './errors';
import type { FindingAlert, FindingOutcome } from './finding';
import { formatPath, previewValue } from '../issues';
import { boundedArray } from './schema-helpers';
import { CVE_ID_PATTERN, isUsableFixedVersion, normaliseCveId, shortText, withoutZeroEpoch } from './text';

/**
 * A Prometheus Alertmanager webhook (payload version 4,
 * https://prometheus.io/docs/alerting/latest/configuration/#webhook_config), as homegrown scanners
 * fire them through Alertmanager. Each alert's labels must carry:
 *
 * | label           | meaning                                                        |
 * |-----------------|----------------------------------------------------------------|
 * | `cve`           | the CVE id                                                     |
 * | `package`       | the OS package name                                            |
 * | `fixed_version` | the first fixed version                                        |
 * | `instance`      | the node id (a `:port` suffix, as Prometheus adds, is dropped) |
 *
 * Optional: `ecosystem` (dpkg, rpm, semver, generic), `scope`. Annotations `summary` / `description`
 * give the title. Resolved alerts are skipped. Everything else in the payload is ignored.
 */
export const ALERTMANAGER_LABELS = ['cve', 'package', 'fixed_version', 'instance'] as const;

/** Alertmanager's `max_alerts` defaults to unlimited; 1,000 alerts of one group is already a fleet. */
const MAX_ALERTS = 1_000;

const labelsSchema = z.record(z.string(), z.string());

const alertSchema = z.object({
  status: z.string().optional(),
  labels: labelsSchema,
  annotations: labelsSchema.optional(),
  startsAt: z.string().optional(),
  fingerprint: z.string().optional(),
});

export const alertmanagerWebhookSchema = z.object({
  version: z.literal('4', { error: '"4" (the Alertmanager webhook payload version patchwave reads)' }),
  groupKey: z.string().optional(),
  status: z.string().optional(),
  receiver: z.string().optional(),
  alerts: boundedArray(alertSchema, { min: 1, max: MAX_ALERTS, what: 'alerts' }),
});

export type AlertmanagerWebhook = z.output<typeof alertmanagerWebhookSchema>;

export function looksLikeAlertmanager(document: Record<string, unknown>): boolean {
  return Array.isArray(document.alerts) && ('groupKey' in document || 'receiver' in document || 'version' in document);
}

/**
 * Checks the labels patchwave needs on every firing alert; an alert without them is refused with the
 * names of the labels it lacks (the whole payload: a partial campaign from half a webhook would
 * look complete).
 */
export function checkAlertmanagerLabels(webhook: AlertmanagerWebhook): AlertIssue[] {
  const issues: AlertIssue[] = [];
  webhook.alerts.forEach((alert, index) => {
    if ((alert.status ?? 'firing') === 'resolved') return;
    for (const label of ALERTMANAGER_LABELS) {
      const value = alert.labels[label];
      if (value === undefined || value.trim().length === 0) {
        issues.push({
          path: formatPath(['alerts', index, 'labels', label]),
          value: previewValue(value),
          expected: `label "${label}" (patchwave reads labels ${ALERTMANAGER_LABELS.join(', ')}; this alert has ${Object.keys(alert.labels).slice(0, 8).join(', ') || 'none'})`,
        });
      }
    }
    const cve = alert.labels.cve?.trim();
    if (cve && !CVE_ID_PATTERN.test(cve.toUpperCase())) issues.push({ path: formatPath(['alerts', index, 'labels', 'cve']), value: previewValue(cve), expected: 'a CVE id like CVE-2024-6387' });
    const fixed = alert.labels.fixed_version;
    if (fixed && !isUsableFixedVersion(fixed)) issues.push({ path: formatPath(['alerts', index, 'labels', 'fixed_version']), value: previewValue(fixed), expected: 'a fixed version (an alert without a fix cannot be patched)' });
    const ecosystem = alert.labels.ecosystem;
    if (ecosystem !== undefined && !ECOSYSTEMS.includes(ecosystem as Ecosystem)) issues.push({ path: formatPath(['alerts', index, 'labels', 'ecosystem']), value: previewValue(ecosystem), expected: `one of ${ECOSYSTEMS.join(', ')}` });
    const scope = alert.labels.scope;
    if (scope !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._:-]{0,62}$/.test(scope)) issues.push({ path: formatPath(['alerts', index, 'labels', 'scope']), value: previewValue(scope), expected: 'a scope name of letters, digits and . _ : - (at most 63)' });
  });
  return issues;
}

/** `i-0abc:9100` → `i-0abc`: Prometheus's instance label is host:port. */
function nodeIdOf(instance: string): string {
  const trimmed = instance.trim();
  const port = /^(.+):(\d{1,5})$/.exec(trimmed);
  return port && !port[1].includes(':') ? port[1] : trimmed;
}

/** One outcome per alert of the webhook (merged per CVE afterwards, like findings). */
export function normalizeAlertmanagerWebhook(webhook: AlertmanagerWebhook): FindingOutcome[] {
  return webhook.alerts.map((alert, index): FindingOutcome => {
    const findingId = alert.fingerprint ?? `alerts[${index}]`;
    if ((alert.status ?? 'firing') === 'resolved') return { skipped: { findingId, reason: `alert is resolved: ${alert.labels.alertname ?? 'no alertname'} on ${alert.labels.instance ?? '?'}` } };
    const labels = alert.labels;
    const ecosystem = labels.ecosystem as Ecosystem | undefined;
    const finding: FindingAlert = {
      findingId,
      cveId: normaliseCveId(labels.cve),
      ...((alert.annotations?.summary ?? alert.annotations?.description) && { title: shortText(alert.annotations?.summary ?? alert.annotations?.description) }),
      packages: [{ name: labels.package.trim(), fixedVersion: withoutZeroEpoch(labels.fixed_version), ...(ecosystem && { ecosystem }) }],
      resourceIds: [nodeIdOf(labels.instance)],
      exploitedInWild: false,
      exploitAvailable: false,
      remoteCodeExecution: false,
      ...(labels.scope && { scope: labels.scope }),
      source: 'alertmanager',
    };
    return { alert: finding };
  });
}
