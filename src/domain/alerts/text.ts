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

/**
 * `i-0abc…` from every form AWS documents for an EC2 instance: the bare id; the ARN with the
 * resource type, `arn:aws:ec2:<region>:<account>:instance/i-0abc…` (ASFF, CloudTrail, IAM); and the
 * form Inspector writes into Security Hub findings and OCSF `resources[].uid`, without the type
 * segment, `arn:aws:ec2:<region>:<account>:i-0abc…`. Every partition (`aws`, `aws-cn`,
 * `aws-us-gov`, `aws-iso*`). Anything else (an AMI, a volume, a task ARN) is not an instance.
 */
export function instanceIdFrom(idOrArn: string): string | undefined {
  const trimmed = idOrArn.trim();
  if (INSTANCE_ID.test(trimmed)) return trimmed;
  const match = /^arn:aws(?:-[a-z-]+)?:ec2:[a-z0-9-]*:\d*:(?:instance\/)?(i-[0-9a-f]{8,17})$/i.exec(trimmed);
  return match?.[1];
}

const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/i;

/**
 * A timestamp with no zone (`2024-07-10T12:00:00`, `2024-07-10 12:00:00`) is UTC: every AWS and
 * OCSF timestamp is UTC, and reading it in the host's zone would move deadlines and dates with the
 * machine that runs the plan. Epoch numbers (seconds or milliseconds) and zoned strings are read as
 * they say. Returns epoch milliseconds, or undefined when unreadable.
 */
export function parseUtcTimestamp(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined;
    return value < 1e12 ? value * 1000 : value;
  }
  const text = value.trim();
  const local = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)$/.exec(text);
  if (local) {
    const [, date, time] = local;
    // JavaScript keeps at most milliseconds.
    const parsed = Date.parse(`${date}T${time.replace(/(\.\d{3})\d+$/, '$1')}Z`);
    return Number.isNaN(parsed) ? undefined : parsed;
  }
  // Inspector's EventBridge style: `Wed Sep 04 16:59:44.356 UTC 2024`.
  const eventBridge = /^[A-Za-z]{3} ([A-Za-z]{3}) (\d{1,2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,3}))? UTC (\d{4})$/.exec(text);
  if (eventBridge) {
    const [, month, day, time, ms, year] = eventBridge;
    const parsed = Date.parse(`${day} ${month} ${year} ${time}${ms ? `.${ms}` : ''} GMT`);
    return Number.isNaN(parsed) ? undefined : parsed;
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(text) || /(Z|[+-]\d{2}:?\d{2}|\b(UTC|GMT))$/i.test(text)) {
    const parsed = Date.parse(text);
    return Number.isNaN(parsed) ? undefined : parsed;
  }
  return undefined;
}

/**
 * Inspector's timestamps come as ISO strings, epoch seconds, or its EventBridge style
 * (`Wed Sep 04 16:59:44.356 UTC 2024`); all become `YYYY-MM-DD` in UTC (a zone-less timestamp is
 * UTC). Unreadable values are kept, cut short.
 */
export function isoDateOf(value: string | number | undefined): string | undefined {
  if (value === undefined) return undefined;
  const ms = parseUtcTimestamp(value);
  if (ms !== undefined) return new Date(ms).toISOString().slice(0, 10);
  return typeof value === 'number' ? undefined : value.slice(0, 30);
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
