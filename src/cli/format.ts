/** Plain-text renderings of import reports and histories (the JSON forms are the data itself). */
import { consentExpiry, decisionToJson, MAX_CONSENT_DAYS, quoteValue } from '../core';
import type { CallOutcome, ConsentRow } from '../gate/store';
import type { Policy } from '../core/types';
import type { History, ImportKind } from '../gate/store';
import type { ImportReport } from '../store/csv-import';

export function formatImportReport(kind: ImportKind, file: string, r: ImportReport): string {
  // lines = inserted + updated + unchanged + rejected (ImportCommitResult in src/gate/store.ts)
  const counts =
    kind === 'opposition'
      ? `${r.inserted} number(s) on the list (it replaces the previous one), ${r.unchanged} repeated`
      : `${r.inserted} inserted, ${r.updated} updated, ${r.unchanged} unchanged`;
  const lines = [`${kind} import of ${quoteValue(file, 240)}: ${r.lines} line(s): ${counts}, ${r.rejected} rejected`];
  if (r.rejected > 0) {
    lines.push(`the file was imported WITHOUT the ${r.rejected} rejected line(s); correct them and import them again:`);
    for (const e of r.errors) lines.push(`  line ${e.line}: ${e.message}`);
  }
  return lines.join('\n') + '\n';
}

const iso = (d: Date | undefined): string => (d ? d.toISOString() : '-');

/**
 * When a consent stops being valid (CONS-3): its valid-until, else collection + policy.consentValidityDays,
 * never more than 365 days after collection (R. 223-1). Said with the reason when it is not the stated date.
 */
function consentValidity(c: ConsentRow, policy: Pick<Policy, 'consentValidityDays'>): string {
  const end = consentExpiry(c, policy);
  if (c.validUntil && end.getTime() === c.validUntil.getTime()) return `valid until ${iso(end)}`;
  if (c.validUntil) return `valid until ${iso(end)} (${MAX_CONSENT_DAYS}-day cap; stated ${iso(c.validUntil)})`;
  return `valid until ${iso(end)} (${Math.min(policy.consentValidityDays, MAX_CONSENT_DAYS)} days from collection, policy.consentValidityDays)`;
}

function formatOutcome(o: CallOutcome): string {
  const parts = [
    o.answered
      ? `answered${o.durationMs !== undefined ? ` ${Math.round(o.durationMs / 1000)} s` : ''}`
      : (o.dialStatus ?? 'not answered'),
  ];
  if (o.answered && o.dialStatus && o.dialStatus !== 'ANSWER') parts.push(o.dialStatus);
  if (o.hangupCause) parts.push(`hangup ${o.hangupCause}`);
  parts.push(`ended ${iso(o.endedAt)}`);
  return parts.join(', ');
}

export function formatHistory(h: History, policy: Pick<Policy, 'consentValidityDays'>): string {
  const out: string[] = [`history of ${h.e164}`];
  out.push(`opposition list: ${h.opposition.listed ? 'LISTED' : 'not listed'} (list of ${iso(h.opposition.asOf)})`);
  out.push(`consents (${h.consents.length}):`);
  for (const c of h.consents) {
    const cats = c.categories.length ? c.categories.join(',') : 'every category';
    const state = c.withdrawnAt ? `withdrawn ${iso(c.withdrawnAt)}` : consentValidity(c, policy);
    out.push(
      `  ${c.professional}  ${cats}  collected ${iso(c.collectedAt)}  ${state}${c.source ? `  source: ${c.source}` : ''}`,
    );
  }
  out.push(`contracts (${h.contracts.length}):`);
  for (const c of h.contracts) {
    out.push(
      `  ${c.professional}  ${c.categories.join(',')}  from ${iso(c.start)}  ${c.end ? `to ${iso(c.end)}` : 'ongoing'}`,
    );
  }
  out.push(`do-not-call (${h.dnc.length}):`);
  for (const d of h.dnc)
    out.push(`  ${d.professional ?? 'every professional'}  since ${iso(d.addedAt)}${d.reason ? `  ${d.reason}` : ''}`);
  out.push(`refusals (${h.refusals.length}):`);
  for (const r of h.refusals) out.push(`  ${r.professional}  ${iso(r.at)}`);
  out.push(`attempts (${h.attempts.length}):`);
  for (const a of h.attempts) {
    const outcome = a.outcome ? `  ${formatOutcome(a.outcome)}` : '';
    out.push(`  ${iso(a.at)}  ${a.professional}/${a.campaignId}  decision ${a.decisionId}${outcome}`);
  }
  out.push(`decisions (${h.decisions.length}):`);
  for (const d of h.decisions) {
    const codes = d.decision.reasons.map((r) => r.code).join(',');
    out.push(`  ${iso(d.at)}  ${d.professional}  ${d.verdict.toUpperCase()}${codes ? `  ${codes}` : ''}  ${d.id}`);
  }
  return out.join('\n') + '\n';
}

/** History as JSON: dates as ISO-8601 strings, each decision in the core's JSON form. */
export function historyToJson(h: History): unknown {
  return JSON.parse(
    JSON.stringify({
      ...h,
      decisions: h.decisions.map((d) => ({ ...d, decision: decisionToJson(d.decision) })),
    }),
  );
}
