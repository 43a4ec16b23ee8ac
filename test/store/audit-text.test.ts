/**
 * The audit text of a decision (src/store/memory/common.ts decisionToText) is
 * exactly JSON.stringify of core's decisionToJson form with the rules in the
 * short form of src/store/audit-rules.ts (tested there), escaping included,
 * and reads back whole.
 */
import { decisionToJson } from '../../src/core';
import type { Decision } from '../../src/core/types';
import { encodeRules } from '../../src/store/audit-rules';
import { decisionFromText, decisionToText } from '../../src/store/memory/common';
import { decision } from './contract';

const reference = (d: Decision): string => {
  // spelled out here so that a faster encoder can be checked against it
  const j = decisionToJson(d) as unknown as { rules: unknown; ruleNotes?: string[] };
  const short = encodeRules(d.rules)!;
  j.rules = short.rules;
  if (short.ruleNotes) j.ruleNotes = short.ruleNotes;
  return JSON.stringify(j);
};

const cases: [string, Decision][] = [
  ['an allowed call with one rule', decision()],
  ['no callee, no rules, no channel', decision({ e164: null, rules: [], source: { pbx: 'freeswitch' } })],
  [
    'a block with reasons, retryAfter, detail and notes that need escaping',
    decision({
      verdict: 'block',
      reasons: [
        {
          code: 'outside_calling_hours',
          rule: 'TIME-2',
          message: 'calls are allowed 10:00–13:00 and 14:00–20:00 "local" time',
          legalRef: 'D. 223-8',
          retryAfter: new Date('2026-12-01T09:00:00Z'),
          detail: 'callee \\ local time\n19:59:59',
        },
      ],
      rules: [
        { rule: 'SCOPE-1', outcome: 'pass', note: 'not an emergency number' },
        { rule: 'TIME-2', outcome: 'fail', note: 'outside "10:00–13:00" \u2028 window' },
        { rule: 'CID-5', outcome: 'skip' },
      ],
      tags: ['basis:consent', 'monitor"only'],
    }),
  ],
];

test.each(cases)('%s: the same text as JSON.stringify, and it reads back whole', (_name, d) => {
  const text = decisionToText(d);
  expect(text).toBe(reference(d));
  expect(decisionFromText(text)).toEqual(d);
});
