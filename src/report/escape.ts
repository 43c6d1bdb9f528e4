/**
 * Escaping for report text. Node reasons, details and operator comments come from fleets and
 * people and can contain anything: markup, pipes, newlines, control characters.
 */

const HTML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Safe in HTML text and in quoted attribute values (SVG included). */
export function escapeHtml(value: unknown): string {
  return stripControl(String(value ?? '')).replace(/[&<>"']/g, (c) => HTML[c]);
}

/**
 * Safe as inline Markdown, including inside a table cell: no emphasis, code, links, HTML, line breaks
 * or cell separators; renders as the literal text in CommonMark and GitHub-flavoured Markdown. Text
 * is always placed after a prefix on its line, so line-start syntax (`#`, `-`, `1.`) cannot trigger,
 * and ids such as CVE-2024-6387 stay readable in the raw file.
 */
export function escapeMarkdown(value: unknown): string {
  return stripControl(String(value ?? ''))
    .replace(/\r\n|\r|\n/g, ' ')
    .replace(/[\\`*_[\]|~]/g, (c) => `\\${c}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;');
}

/** Keeps tab and newline; drops the other C0/C1 controls (terminal escapes in command output, NULs). */
function stripControl(value: string): string {
  return value.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g, '');
}
