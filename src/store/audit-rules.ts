/**
 * The rule list of an audit row (FR-RULES.md section 9: every rule evaluated,
 * with its outcome), in a short text that reads back to exactly the same list.
 *
 * A decision evaluates ~30 rules; spelled as JSON ([rule, outcome, note] per
 * rule) they are ~850 of the row's ~1,400 bytes, and the row's size is a large
 * share of what a check-and-record costs (docs/BENCHMARKS.md). Most of that
 * text repeats: the rule IDs, and notes that are fixed sentences of core
 * ("not an insurance campaign", "consent regime"). Here:
 *
 *   rules      "0p.0,1p.1,2p,3p,...,14p!0,..."  one entry per rule, in order:
 *              <rule>  index in AUDIT_RULE_IDS (decimal)
 *              <o>     p pass, f fail, s skip, e exempt
 *              .<k>    note k of AUDIT_NOTES (a fixed sentence), or
 *              !<k>    note k of ruleNotes (any other note, verbatim), or
 *                      nothing (no note)
 *   ruleNotes  ["valid until 2027-…", "0 of 4 attempts in 30 days"]
 *
 * Nothing is dropped: a note that is not in the table is written verbatim, and
 * a rule ID or outcome the tables do not know makes the encoder return
 * undefined (the caller then writes the plain form). Both tables are
 * append-only: rows written years ago are read with them, so an entry is never
 * changed, removed or reordered (test/store/audit-rules.test.ts holds a copy
 * and fails if one is). A new fixed note of core goes at the end of
 * AUDIT_NOTES; until it is added, it is simply written verbatim. Growing a
 * table needs a schema migration too (sqlite/migrations.ts): a callgate with
 * the shorter table could not read the new rows, so it must refuse the file
 * at open rather than fail on `history` (the test says so when it is missing).
 */
import type { RuleId, RuleOutcome } from '../core/types';

/** Rule IDs by their index in an encoded row. Append-only. */
export const AUDIT_RULE_IDS: readonly string[] = Object.freeze([
  'SCOPE-1',
  'SCOPE-2',
  'SCOPE-3',
  'CID-1',
  'CID-2',
  'CID-3',
  'CID-4',
  'CID-5',
  'CID-6',
  'SEC-1',
  'SEC-2',
  'SEC-3',
  'CONS-1',
  'CONS-2',
  'CONS-3',
  'CONS-4',
  'CONS-5',
  'CONS-6',
  'OPP-1',
  'OPP-2',
  'DNC-1',
  'REF-1',
  'TIME-1',
  'TIME-2',
  'TIME-3',
  'TIME-4',
  'FREQ-1',
  'FREQ-2',
  'FREQ-3',
  'AUTO-1',
  'SIL-1',
  'SIL-2',
  'GATE-1',
]);

/** Fixed notes of core's rules (src/core/rules/, src/core/evaluate.ts) by their index. Append-only. */
export const AUDIT_NOTES: readonly string[] = Object.freeze([
  // the allowed call's usual path
  'not an emergency number',
  'consumer prospecting',
  'manual dialing',
  'not an insurance campaign',
  'consent regime',
  'no ongoing related contract',
  "purpose is not 'press'",
  'no agreed slot',
  'not a pre-recorded campaign',
  'abandonRateThreshold is off (policy)',
  // other paths
  'emergency number: never blocked',
  'emergency number (SCOPE-1)',
  'not consumer prospecting (SCOPE-2)',
  'destination invalid (SCOPE-3): no consumer to look up',
  'no caller ID number',
  'caller ID does not parse',
  'the professional declares no caller IDs',
  'ongoing related contract',
  'training action in progress (ongoing related contract)',
  'insurance: record the call and announce it',
  'opposition regime',
  'ongoing related contract (L. 223-1 al. 4)',
  "purpose 'press' (L. 223-5)",
  'legal basis: consent',
  'legal basis: contract',
  'legal basis: press',
  'no consent record at the time of the attempt',
  'no covering consent',
  'consent withdrawn',
  "purpose 'press'",
  'robocallNeedsConsent is off (policy)',
  'valid consent to automated calls',
  'abandon rate unknown',
  'not evaluated: time arithmetic failed',
  // a failed rule's note is its reason code (src/core/rules/result.ts fail())
  'invalid_destination',
  'caller_id_withheld',
  'caller_id_invalid',
  'caller_id_forbidden_range',
  'caller_id_mobile',
  'caller_id_not_npv',
  'caller_id_not_authorised',
  'sector_banned',
  'no_consent',
  'consent_expired',
  'consent_withdrawn',
  'opposition_list',
  'opposition_list_stale',
  'do_not_call',
  'refusal_cooldown',
  'non_working_day',
  'public_holiday',
  'outside_calling_hours',
  'frequency_limit',
  'robocall_without_consent',
  'gate_unavailable',
]);

const LETTER_OUTCOME: Record<string, RuleOutcome['outcome']> = { p: 'pass', f: 'fail', s: 'skip', e: 'exempt' };

const noteIndex = new Map(AUDIT_NOTES.map((n, k) => [n, k]));

/**
 * For a rule ID and outcome: '<rule><o>', and '<rule><o>.<k>' for the fixed notes met so far; each
 * also with a leading comma (every entry but the first), so that an entry is one concatenation.
 */
type Entries = { plain: string; plainC: string; fixed: Map<string, [string, string]> };
type ByOutcome = { pass: Entries; fail: Entries; skip: Entries; exempt: Entries };
const entries = new Map<string, ByOutcome>(
  AUDIT_RULE_IDS.map((rule, i) => {
    const e = (o: string): Entries => ({ plain: `${i}${o}`, plainC: `,${i}${o}`, fixed: new Map() });
    return [rule, { pass: e('p'), fail: e('f'), skip: e('s'), exempt: e('e') }];
  }),
);

/** The entries of an outcome (only the four of RuleOutcome: an outcome such as 'toString' finds nothing). */
function byOutcome(b: ByOutcome, outcome: string): Entries | undefined {
  switch (outcome) {
    case 'pass':
      return b.pass;
    case 'fail':
      return b.fail;
    case 'skip':
      return b.skip;
    case 'exempt':
      return b.exempt;
    default:
      return undefined;
  }
}

export type EncodedRules = { rules: string; ruleNotes?: string[] };

/** The short form of `rules`, or undefined when a rule ID or outcome is not in the tables. */
export function encodeRules(rules: readonly RuleOutcome[]): EncodedRules | undefined {
  let text = '';
  let notes: string[] | undefined;
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i]!;
    const b = entries.get(r.rule);
    const e = b === undefined ? undefined : byOutcome(b, r.outcome);
    if (e === undefined) return undefined;
    if (r.note === undefined) text += i === 0 ? e.plain : e.plainC;
    else {
      let fixed = e.fixed.get(r.note);
      if (fixed === undefined) {
        const k = noteIndex.get(r.note);
        if (k !== undefined) e.fixed.set(r.note, (fixed = [`${e.plain}.${k}`, `${e.plainC}.${k}`]));
      }
      if (fixed !== undefined) text += fixed[i === 0 ? 0 : 1];
      else {
        notes ??= [];
        let k = notes.indexOf(r.note);
        if (k < 0) k = notes.push(r.note) - 1;
        text += `${i === 0 ? e.plain : e.plainC}!${k}`;
      }
    }
  }
  return notes === undefined ? { rules: text } : { rules: text, ruleNotes: notes };
}

const ENTRY = /^(\d+)([pfse])(?:([.!])(\d+))?$/;

/**
 * The rule list of an encoded row. Throws an Error naming the first entry it
 * cannot read (a corrupt or newer audit row is a fault, not something to guess).
 */
export function decodeRules(rules: string, ruleNotes: unknown): RuleOutcome[] {
  if (ruleNotes !== undefined && (!Array.isArray(ruleNotes) || ruleNotes.some((n) => typeof n !== 'string')))
    throw new Error('decisionFromText: ruleNotes must be an array of strings');
  const verbatim = (ruleNotes ?? []) as string[];
  if (rules === '') return [];
  return rules.split(',').map((entry, i) => {
    const m = ENTRY.exec(entry);
    const rule = m ? AUDIT_RULE_IDS[Number(m[1])] : undefined;
    if (!m || rule === undefined)
      throw new Error(
        `decisionFromText: rules entry ${i + 1} ${JSON.stringify(entry)} is not a known rule and outcome`,
      );
    const out: RuleOutcome = { rule: rule as RuleId, outcome: LETTER_OUTCOME[m[2]!]! };
    if (m[3] !== undefined) {
      const note = m[3] === '.' ? AUDIT_NOTES[Number(m[4])] : verbatim[Number(m[4])];
      if (note === undefined)
        throw new Error(
          `decisionFromText: rules entry ${i + 1} ${JSON.stringify(entry)} refers to a note that does not exist`,
        );
      out.note = note;
    }
    return out;
  });
}
