import { AlertValidationError, formatPath, previewValue } from './errors';

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

/**
 * Parses alert text as JSON. Too large or not JSON → `AlertValidationError` naming the problem.
 * JSON.parse itself is iterative in V8, so deep nesting cannot overflow the stack here; the depth
 * limit is enforced afterwards by `checkPayloadBounds`.
 */
export function parseAlertText(input: string | Uint8Array): unknown {
  const bytes = typeof input === 'string' ? utf8Length(input, ALERT_LIMITS.maxBytes) : input.byteLength;
  if (bytes > ALERT_LIMITS.maxBytes) {
    throw new AlertValidationError('alert', [
      { path: '(payload)', value: `more than ${ALERT_LIMITS.maxBytes} bytes`, expected: `at most ${ALERT_LIMITS.maxBytes} bytes (an EventBridge event is at most 256 KiB)` },
    ]);
  }
  const text = (typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: false }).decode(input)).replace(/^\uFEFF/, '');
  if (text.trim().length === 0) {
    throw new AlertValidationError('alert', [{ path: '(payload)', value: 'empty input', expected: 'a JSON document' }]);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message.replace(/\s+/g, ' ').slice(0, 160);
    throw new AlertValidationError('alert', [{ path: '(payload)', value: `text that is not JSON (${message})`, expected: 'a JSON document' }]);
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
