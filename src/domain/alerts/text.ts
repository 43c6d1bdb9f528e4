/** Small readers shared by the alert formats. Pure string work. */

export const CVE_ID_PATTERN = /^CVE-\d{4}-\d{4,19}$/;

export function isCveId(value: string | undefined): value is string {
  return value !== undefined && CVE_ID_PATTERN.test(value.trim().toUpperCase());
}

export function normaliseCveId(value: string): string {
  return value.trim().toUpperCase();
}

/**
 * Does the advisory text describe code execution? Used only to raise technical impact to "total"
 * (CVSS C/I/A are not always all high for an RCE); the phrases are those NVD, distributions and CISA
 * use. Documented in docs/ranking.md as a heuristic.
 */
const CODE_EXECUTION = /\b(remote code execution|arbitrary code execution|code execution|execute arbitrary (code|commands?)|run arbitrary (code|commands?)|command injection|execute (os |shell |system )?commands)\b/i;

export function describesCodeExecution(...texts: Array<string | undefined>): boolean {
  return texts.some((text) => text !== undefined && CODE_EXECUTION.test(text.slice(0, 4_000)));
}

/** `i-0abc…` from an instance id or an EC2 instance ARN (`arn:aws:ec2:…:instance/i-0abc…`). */
export function instanceIdFrom(idOrArn: string): string | undefined {
  const trimmed = idOrArn.trim();
  if (/^i-[0-9a-f]{8,17}$/i.test(trimmed)) return trimmed;
  const match = /^arn:aws[a-z-]*:ec2:[^:]*:\d*:instance\/(i-[0-9a-f]{8,17})$/i.exec(trimmed);
  return match?.[1];
}

/**
 * Inspector's timestamps come as ISO strings, epoch seconds, or its EventBridge style
 * (`Wed Sep 04 16:59:44.356 UTC 2024`); all become `YYYY-MM-DD`. Unreadable values are kept, cut short.
 */
export function isoDateOf(value: string | number | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number') {
    const ms = value < 1e12 ? value * 1000 : value;
    const date = new Date(ms);
    return Number.isNaN(date.getTime()) ? undefined : date.toISOString().slice(0, 10);
  }
  const parsed = Date.parse(value);
  if (!Number.isNaN(parsed)) return new Date(parsed).toISOString().slice(0, 10);
  return value.slice(0, 30);
}

/** Epoch 0 means "no epoch" for both dpkg and rpm; dropping it keeps versions readable. */
export function withoutZeroEpoch(version: string): string {
  return version.trim().replace(/^0:/, '');
}

/** Inspector writes `NotAvailable` (and sometimes nothing) where no fixed version exists. */
export function isUsableFixedVersion(version: string | undefined): version is string {
  if (version === undefined) return false;
  const trimmed = version.trim();
  return trimmed.length > 0 && !/^(notavailable|none|n\/a|unknown)$/i.test(trimmed);
}

/** Caps a free-text field carried into the alert: alerts travel through Temporal history. */
export function shortText(text: string | undefined, max = 200): string | undefined {
  if (text === undefined) return undefined;
  const oneLine = text.replace(/\s+/g, ' ').trim();
  if (oneLine.length === 0) return undefined;
  return oneLine.length > max ? `${oneLine.slice(0, max - 3)}...` : oneLine;
}
