import { AlertValidationError, type AlertIssue } from './errors';
import { formatPath, previewValue } from '../issues';

/**
 * Limits that keep intake bounded in time and memory whatever arrives. They sit well above anything
 * real: an EventBridge event is at most 256 KiB, and AWS findings nest about ten levels deep.
 */
export const ALERT_LIMITS = {
  /** Bytes of alert text accepted. */
  maxBytes: 1024 * 1024,
  /** Levels of nesting accepted. */
  maxDepth: 64,
  /**
   * JSON values (objects, arrays, scalars) accepted in one parsed payload. Text input cannot reach it
   * (1 MiB holds about 500,000 values); it bounds values handed over already parsed. Set high enough
   * that the schemas' own limits ("at most 100 findings") speak first with the precise error.
   */
  maxValues: 1_000_000,
} as const;

/** What the alert text held: one JSON document, or an NDJSON stream (one document per line). */
export interface AlertText {
  document: unknown;
  /** The text was NDJSON: `document` is the array of its lines' documents. */
  ndjson: boolean;
  /**
   * NDJSON lines that are not JSON (or repeat a key), by item index: their item in `document` is
   * undefined, and the caller reports them with the other items' errors.
   */
  lineIssues?: Map<number, AlertIssue[]>;
}

/**
 * Parses alert text — bytes or a string — as JSON, or as NDJSON (one JSON document per line, what
 * `jq -c` and log exports give). Refused with an `AlertValidationError` naming the problem: too
 * large; not UTF-8 (with the byte offset of the first bad byte: a silently replaced byte would turn
 * `linux-image-aws` into a package no node has); gzip-compressed; not JSON; a key twice in one object
 * (parsers disagree on which one wins, so the payload is ambiguous). A byte-order mark is skipped.
 * JSON.parse itself is iterative in V8, so deep nesting cannot overflow the stack here; the depth
 * limit is enforced afterwards by `checkPayloadBounds`.
 */
export function parseAlertText(input: string | Uint8Array): AlertText {
  const bytes = typeof input === 'string' ? utf8Length(input, ALERT_LIMITS.maxBytes) : input.byteLength;
  if (bytes > ALERT_LIMITS.maxBytes) {
    throw new AlertValidationError('alert', [
      { path: '(payload)', value: `more than ${ALERT_LIMITS.maxBytes} bytes`, expected: `at most ${ALERT_LIMITS.maxBytes} bytes (an EventBridge event is at most 256 KiB)` },
    ]);
  }
  const text = (typeof input === 'string' ? input : decodeUtf8(input)).replace(/^\uFEFF/, '');
  if (text.trim().length === 0) {
    throw new AlertValidationError('alert', [{ path: '(payload)', value: 'empty input', expected: 'a JSON document' }]);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (err) {
    const lines = ndjsonLines(text);
    if (lines) return { ...parseNdjson(lines), ndjson: true };
    const message = (err as Error).message.replace(/\s+/g, ' ').slice(0, 160);
    const hint = notAnAlertHint(text);
    throw new AlertValidationError('alert', [{ path: '(payload)', value: `text that is not JSON (${message})`, expected: hint ?? 'a JSON document' }]);
  }
  checkDuplicateKeys(text, []);
  return { document, ndjson: false };
}

/** Strict UTF-8: the first invalid byte is named by its offset, nothing is replaced. */
function decodeUtf8(bytes: Uint8Array): string {
  if (bytes.byteLength >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    throw new AlertValidationError('alert', [
      { path: '(payload)', value: 'gzip-compressed data', expected: 'JSON text (decompress it first; an EPSS .csv.gz is enrichment: pass it with --epss)' },
    ]);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    const offset = firstInvalidUtf8(bytes);
    const shown = Array.from(bytes.subarray(offset, offset + 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new AlertValidationError('alert', [
      { path: '(payload)', value: `invalid UTF-8 at byte offset ${offset} (bytes ${shown})`, expected: 'UTF-8 text (JSON must be UTF-8, RFC 8259 §8.1; re-export the file as UTF-8)' },
    ]);
  }
}

/** Offset of the first byte that does not start a valid UTF-8 sequence (RFC 3629), or -1. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    const rule = utf8Rule(b);
    if (!rule) return i;
    for (let k = 1; k <= rule.continuation; k++) {
      const c = bytes[i + k];
      // The second byte has the narrower range that rules out overlongs, surrogates and > U+10FFFF.
      const [lo, hi] = k === 1 ? [rule.secondMin, rule.secondMax] : [0x80, 0xbf];
      // Like Python's decoder, the offset is where the broken sequence starts.
      if (c === undefined || c < lo || c > hi) return i;
    }
    i += rule.continuation + 1;
  }
  return -1;
}

/** RFC 3629 §4: how many continuation bytes a lead byte takes, and the range of the second byte. */
function utf8Rule(lead: number): { continuation: number; secondMin: number; secondMax: number } | undefined {
  if (lead >= 0xc2 && lead <= 0xdf) return { continuation: 1, secondMin: 0x80, secondMax: 0xbf };
  if (lead === 0xe0) return { continuation: 2, secondMin: 0xa0, secondMax: 0xbf };
  if (lead === 0xed) return { continuation: 2, secondMin: 0x80, secondMax: 0x9f };
  if (lead >= 0xe1 && lead <= 0xef) return { continuation: 2, secondMin: 0x80, secondMax: 0xbf };
  if (lead === 0xf0) return { continuation: 3, secondMin: 0x90, secondMax: 0xbf };
  if (lead >= 0xf1 && lead <= 0xf3) return { continuation: 3, secondMin: 0x80, secondMax: 0xbf };
  if (lead === 0xf4) return { continuation: 3, secondMin: 0x80, secondMax: 0x8f };
  return undefined;
}

/** At most this many NDJSON lines: a stream is a batch of alerts, not a log archive. */
export const MAX_ITEMS = 1_000;

/**
 * The non-empty lines of an NDJSON stream, or undefined when the text is not one: at least two
 * lines, the first of which is a JSON object on its own (a pretty-printed document broken by a typo
 * is reported as broken JSON, not as a stream).
 */
function ndjsonLines(text: string): { line: number; text: string }[] | undefined {
  const lines = text.split(/\r?\n/).map((t, i) => ({ line: i + 1, text: t.trim() })).filter((l) => l.text.length > 0);
  if (lines.length < 2 || !lines[0].text.startsWith('{')) return undefined;
  try {
    JSON.parse(lines[0].text);
  } catch {
    return undefined;
  }
  return lines;
}

function parseNdjson(lines: { line: number; text: string }[]): { document: unknown[]; lineIssues: Map<number, AlertIssue[]> } {
  if (lines.length > MAX_ITEMS) {
    throw new AlertValidationError('NDJSON stream of alerts', [{ path: '(payload)', value: `${lines.length} lines`, expected: `at most ${MAX_ITEMS} alerts per stream` }]);
  }
  const items: unknown[] = [];
  const lineIssues = new Map<number, AlertIssue[]>();
  lines.forEach(({ line, text }, index) => {
    try {
      items.push(JSON.parse(text));
      checkDuplicateKeys(text, [index]);
    } catch (err) {
      items[index] = undefined;
      if (err instanceof AlertValidationError) {
        lineIssues.set(index, err.issues);
        return;
      }
      const message = (err as Error).message.replace(/\s+/g, ' ').slice(0, 120);
      lineIssues.set(index, [{ path: `[${index}]`, value: `line ${line}: text that is not JSON (${message})`, expected: 'one JSON document per line (NDJSON)' }]);
    }
  });
  return { document: items, lineIssues };
}

/** Text that is not JSON but is recognisably something else a team has to hand. */
function notAnAlertHint(text: string): string | undefined {
  const head = text.trimStart().slice(0, 200).toLowerCase();
  if (head.startsWith('#model_version') || head.startsWith('cve,epss')) return 'a JSON alert; this is an EPSS scores CSV (enrichment): pass it with --epss';
  return undefined;
}

interface KeyFrame {
  object: boolean;
  keys: Set<string> | undefined;
  index: number;
  key: string | undefined;
  expectKey: boolean;
}

/**
 * Refuses an object that names a key twice (`{"cveId": "CVE-…", "cveId": "CVE-…"}`): JSON.parse
 * keeps the last, other parsers the first, so two readers of one payload could patch different
 * things. One linear pass over text that JSON.parse already accepted; the error names the path.
 */
function checkDuplicateKeys(text: string, root: PropertyKey[]): void {
  const stack: KeyFrame[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22 /* " */) {
      // The closing quote: a backslash escapes the next character, whatever it is.
      let j = i + 1;
      let escaped = false;
      while (j < text.length && text.charCodeAt(j) !== 0x22) {
        if (text.charCodeAt(j) === 0x5c) {
          escaped = true;
          j++;
        }
        j++;
      }
      const top = stack[stack.length - 1];
      if (top?.object && top.expectKey) {
        const raw = text.slice(i + 1, j);
        const key = escaped ? (JSON.parse(`"${raw}"`) as string) : raw;
        top.keys ??= new Set();
        if (top.keys.has(key)) {
          const path = [...root, ...stack.slice(0, -1).map((f) => (f.object ? f.key! : f.index)), key];
          throw new AlertValidationError('alert', [
            { path: formatPath(path.length > 10 ? [...path.slice(0, 8), '…', path[path.length - 1]] : path), value: `${JSON.stringify(key.slice(0, 40))} a second time in one object`, expected: 'each key at most once per object (parsers disagree on which duplicate wins)' },
          ]);
        }
        top.keys.add(key);
        top.key = key;
        top.expectKey = false;
      }
      i = j;
    } else if (ch === 0x7b /* { */ || ch === 0x5b /* [ */) {
      stack.push({ object: ch === 0x7b, keys: undefined, index: 0, key: undefined, expectKey: ch === 0x7b });
    } else if (ch === 0x7d || ch === 0x5d) {
      stack.pop();
    } else if (ch === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top?.object) top.expectKey = true;
      else if (top) top.index++;
    }
  }
}

/** UTF-8 byte length, stopping early once past `stopAfter`. */
function utf8Length(text: string, stopAfter: number): number {
  // Every UTF-16 unit is at most 3 UTF-8 bytes: short strings need no counting.
  if (text.length * 3 <= stopAfter) return text.length;
  let bytes = 0;
  for (let i = 0; i < text.length && bytes <= stopAfter; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

interface Frame {
  value: unknown;
  depth: number;
  parent: Frame | undefined;
  key: PropertyKey | undefined;
}

function pathOf(frame: Frame): PropertyKey[] {
  const keys: PropertyKey[] = [];
  for (let f: Frame | undefined = frame; f && f.key !== undefined; f = f.parent) keys.push(f.key);
  return keys.reverse();
}

/**
 * Walks a parsed payload without recursion and rejects one nested deeper than `maxDepth` or holding
 * more than `maxValues` values. Runs before any schema, so junk is refused in time linear in its
 * size (itself bounded by `maxBytes` for text input).
 */
export function checkPayloadBounds(document: unknown): void {
  const stack: Frame[] = [{ value: document, depth: 0, parent: undefined, key: undefined }];
  // Values are counted as they are queued, so a huge array is refused before it is queued whole.
  let queued = 1;
  const tooMany = () =>
    new AlertValidationError('alert', [
      { path: '(payload)', value: `more than ${ALERT_LIMITS.maxValues} JSON values`, expected: `at most ${ALERT_LIMITS.maxValues} values (a finding has a few hundred)` },
    ]);
  while (stack.length > 0) {
    const frame = stack.pop()!;
    const { value } = frame;
    if (value === null || typeof value !== 'object') continue;
    if (frame.depth >= ALERT_LIMITS.maxDepth) {
      const path = pathOf(frame);
      const shown = path.length > 8 ? formatPath([...path.slice(0, 6), '…', path[path.length - 1]]) : formatPath(path);
      throw new AlertValidationError('alert', [
        { path: shown, value: `${previewValue(value)} nested ${frame.depth} levels deep`, expected: `at most ${ALERT_LIMITS.maxDepth} levels of nesting` },
      ]);
    }
    if (Array.isArray(value)) {
      queued += value.length;
      if (queued > ALERT_LIMITS.maxValues) throw tooMany();
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], depth: frame.depth + 1, parent: frame, key: i });
    } else {
      const keys = Object.keys(value);
      queued += keys.length;
      if (queued > ALERT_LIMITS.maxValues) throw tooMany();
      for (const key of keys) stack.push({ value: (value as Record<string, unknown>)[key], depth: frame.depth + 1, parent: frame, key });
    }
  }
}
