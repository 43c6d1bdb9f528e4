/**
 * What is wrong with a document, said one way for every document patchwave reads (alerts, policy and
 * inventory files, the KEV catalog, NVD records, the cluster topology): where, what was there, what
 * should have been. Turns zod's issues into these lines; the one place that knows zod's wording.
 */
import type { z } from 'zod';

/** One thing wrong with a document: where, what was there, what should have been. */
export interface Issue {
  /** Field path in the document, e.g. `detail.packageVulnerabilityDetails.vulnerabilityId`. */
  path: string;
  /** A short, bounded rendering of the value found there (`missing` when absent). */
  value: string;
  /** What the field must be. */
  expected: string;
  /**
   * `expected` is a whole sentence from the field's own check, naming its sub-fields and quoting
   * their values (a policy's `packageSource`): printed as it is, without the whole value.
   */
  worded?: boolean;
}

export function formatIssue(issue: Issue): string {
  if (issue.worded) return `${issue.path}: ${issue.expected}`;
  return `${issue.path}: expected ${issue.expected}, got ${issue.value}`;
}

/** `detail.findings[0].Resources[2].Id`; the root is `(payload)`. */
export function formatPath(path: ReadonlyArray<PropertyKey>, root: ReadonlyArray<PropertyKey> = []): string {
  const all = [...root, ...path];
  if (all.length === 0) return '(payload)';
  let out = '';
  for (const key of all) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (key === '…') out += '.…';
    else {
      const name = String(key);
      out += /^[A-Za-z_$][\w$-]*$/.test(name) ? (out ? `.${name}` : name) : `[${JSON.stringify(name)}]`;
    }
  }
  return out;
}

/**
 * A bounded, one-line rendering of any value: strings are cut, arrays and objects summarised, never
 * serialised whole (a deeply nested or huge value must not blow up an error message).
 */
export function previewValue(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    const cut = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return JSON.stringify(cut);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return `an array of ${value.length} item${value.length === 1 ? '' : 's'}`;
  if (typeof value === 'object') {
    const keys = Object.keys(value as object);
    const shown = keys.slice(0, 4).join(', ');
    return keys.length === 0 ? 'an empty object' : `an object {${shown}${keys.length > 4 ? `, +${keys.length - 4} more` : ''}}`;
  }
  return typeof value;
}

type ZodIssue = z.ZodError['issues'][number];

const ARTICLE = (word: string) => (/^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`);

/** Zod's own wording ("Invalid input: ...") is replaced by ours; messages we wrote are kept. */
function isDefaultMessage(message: string): boolean {
  return /^(Invalid|Too (big|small)|Unrecognized key)/.test(message);
}

function expectationOf(issue: ZodIssue): string {
  if (!isDefaultMessage(issue.message)) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? `${ARTICLE(issue.expected)} (required)` : ARTICLE(issue.expected);
    case 'too_big':
      if (issue.origin === 'array') return `at most ${issue.maximum} items`;
      if (issue.origin === 'string') return `at most ${issue.maximum} characters`;
      return `at most ${issue.maximum}`;
    case 'too_small':
      if (issue.origin === 'array') return `at least ${issue.minimum} item${Number(issue.minimum) === 1 ? '' : 's'}`;
      if (issue.origin === 'string') return Number(issue.minimum) === 1 ? 'a non-empty string' : `at least ${issue.minimum} characters`;
      return `at least ${issue.minimum}`;
    case 'invalid_value':
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_format':
      return issue.format === 'regex' && 'pattern' in issue ? `a string matching ${String(issue.pattern)}` : `a valid ${issue.format}`;
    default:
      return issue.message;
  }
}

/** The value at `path` inside `input`, walked without recursion. */
function valueAt(input: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let current: unknown = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/**
 * Turns zod issues into ours. `input` is the document the schema ran on; `root` prefixes paths when
 * that document sits inside a larger payload (one finding of an envelope).
 */
export function issuesFromZod(issues: readonly ZodIssue[], input: unknown, root: ReadonlyArray<PropertyKey> = []): Issue[] {
  const out: Issue[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const parent = valueAt(input, issue.path);
      for (const key of issue.keys) {
        out.push({
          path: formatPath([...issue.path, key], root),
          value: previewValue((parent as Record<string, unknown> | undefined)?.[key]),
          expected: 'a known field (unknown fields are rejected here: check the spelling)',
        });
      }
      continue;
    }
    const value = 'input' in issue ? issue.input : valueAt(input, issue.path);
    if (issue.code === 'custom' && (issue.params as { worded?: boolean } | undefined)?.worded) {
      out.push({ path: formatPath(issue.path, root), value: previewValue(value), expected: issue.message, worded: true });
      continue;
    }
    out.push({ path: formatPath(issue.path, root), value: previewValue(value), expected: expectationOf(issue) });
  }
  return out;
}

/** The issues as lines (`path: expected …, got …`), for errors that carry strings. */
export function describeZodIssues(issues: readonly ZodIssue[], input: unknown, root: ReadonlyArray<PropertyKey> = []): string[] {
  return issuesFromZod(issues, input, root).map(formatIssue);
}
