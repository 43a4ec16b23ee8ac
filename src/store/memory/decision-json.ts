/**
 * Audit JSON of a Decision (FR-RULES.md section 9: every decision is kept
 * whole, inputs, zone, rules, legal references, verdict).
 *
 * Temporary local helper until core provides decisionToJson/decisionFromJson
 * in src/core/decision-json.ts: Dates are written as ISO-8601 strings and the
 * known Date fields (at, reasons[].retryAfter) are parsed back. Strings that
 * merely look like dates (callee.localTime) stay strings.
 */
import type { Decision } from '../../core/types';

export function decisionToJsonText(d: Decision): string {
  return JSON.stringify(d);
}

export function decisionFromJsonText(text: string): Decision {
  const raw = JSON.parse(text) as Decision & { at: string; reasons: { retryAfter?: string }[] };
  const d = raw as unknown as Decision;
  d.at = new Date(raw.at as unknown as string);
  for (const r of d.reasons) {
    if (r.retryAfter !== undefined) r.retryAfter = new Date(r.retryAfter as unknown as string);
  }
  return d;
}
