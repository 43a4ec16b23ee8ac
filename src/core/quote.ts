/**
 * The one way a message shows a value it was given (a flag's argument, a CSV field, a number
 * as dialled, a config string): quoted, escaped and bounded, so that a message is always one
 * printable line of a bounded length whatever the input held.
 *
 * - Control characters (C0, DEL, C1), the line and paragraph separators, the bidirectional
 *   overrides and isolates (which can make a terminal show text in another order than it is,
 *   "Trojan Source") and lone surrogates are written as escapes: \n \r \t, \xNN below U+0100,
 *   \uNNNN above. The quote and the backslash are escaped too, so the text between the quotes
 *   reads back unambiguously (the same escapes as a JavaScript string literal).
 * - Longer values are cut after `max` characters (code points) and say how long they were:
 *   "0123456789…" (2097152 characters).
 *
 * Pure: used by core (number and date messages), config, CLI and importer alike.
 */

/** Characters shown at most by default. */
export const QUOTE_MAX = 64;

// C0 controls, ", \, DEL and C1 controls, U+2028/2029, bidi embeddings/overrides/isolates, U+FEFF, lone surrogates
const NEEDS_ESCAPE =
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  /[\u0000-\u001f"\\\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '"': '\\"', '\\': '\\\\' };

function escapeChar(c: string): string {
  const short = SHORT[c];
  if (short !== undefined) return short;
  const code = c.charCodeAt(0);
  return code < 0x100
    ? `\\x${code.toString(16).toUpperCase().padStart(2, '0')}`
    : `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

function bounded(text: string, max: number): { body: string; more: string } {
  // cheap bound first (UTF-16 units), then exact in code points
  if (text.length <= max) return { body: text.replace(NEEDS_ESCAPE, escapeChar), more: '' };
  const points = Array.from(text.slice(0, max * 2 + 2));
  if (points.length <= max) return { body: text.replace(NEEDS_ESCAPE, escapeChar), more: '' };
  let total = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const next = text.charCodeAt(i + 1); // NaN past the end
    if (!(c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff)) total++; // a pair counts once
  }
  return { body: points.slice(0, max).join('').replace(NEEDS_ESCAPE, escapeChar), more: `… (${total} characters)` };
}

/**
 * `value` for a message: in double quotes, escaped, at most `max` characters of it
 * ("abc…" (2097152 characters) beyond). Not a string (a number from YAML, undefined): its
 * type and String() form, unquoted, bounded and escaped the same way.
 */
export function quoteValue(value: unknown, max: number = QUOTE_MAX): string {
  if (typeof value === 'string') {
    const { body, more } = bounded(value, max);
    return more === '' ? `"${body}"` : `"${body}…"${more.slice(1)}`;
  }
  const text = value === undefined || value === null ? String(value) : `${typeof value} ${String(value)}`;
  const { body, more } = bounded(text, max);
  return body + more;
}

/**
 * Text that already says what it quotes (commander's usage errors: "unknown option '--x'") made
 * printable the same way: every character quoteValue escapes is escaped, except the newlines
 * between lines; each line is bounded to `max` characters.
 */
export function printableLines(text: string, max = 400): string {
  return text
    .split('\n')
    .map((line) => {
      const { body, more } = bounded(line, max);
      return body.replace(/\\(?=["\\])/g, '') + more; // quotes and backslashes as written
    })
    .join('\n');
}
