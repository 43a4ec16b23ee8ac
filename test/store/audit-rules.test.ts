/**
 * The short form of an audit row's rule list (src/store/audit-rules.ts):
 * it reads back to exactly the rules core produced, on every path of core;
 * its tables only ever grow (rows written years ago are read with them);
 * anything it does not know is written in full, never dropped; a corrupt
 * entry is an error that names it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  type CallAttempt,
  type Campaign,
  DEFAULT_POLICY,
  type Decision,
  EMPTY_FACTS,
  type Facts,
  type Policy,
  REASON_CODES,
  RULE_IDS,
  type RuleOutcome,
  evaluate,
  failModeDecision,
} from '../../src/core';
import { AUDIT_NOTES, AUDIT_RULE_IDS, decodeRules, encodeRules } from '../../src/store/audit-rules';
import { decisionFromText, decisionToText } from '../../src/store/memory/common';
import { SCHEMA_VERSION } from '../../src/store/sqlite/migrations';

const D = (s: string) => new Date(s);
const DAY = 86_400_000;

// Copies of the tables as first released. Rows on disk hold these indices: an entry may be
// appended to the tables, never changed, removed or moved.
const RELEASED_RULE_IDS = [
  'SCOPE-1', 'SCOPE-2', 'SCOPE-3', 'CID-1', 'CID-2', 'CID-3', 'CID-4', 'CID-5', 'CID-6', 'SEC-1', 'SEC-2',
  'SEC-3', 'CONS-1', 'CONS-2', 'CONS-3', 'CONS-4', 'CONS-5', 'CONS-6', 'OPP-1', 'OPP-2', 'DNC-1', 'REF-1',
  'TIME-1', 'TIME-2', 'TIME-3', 'TIME-4', 'FREQ-1', 'FREQ-2', 'FREQ-3', 'AUTO-1', 'SIL-1', 'SIL-2', 'GATE-1',
]; // prettier-ignore
const RELEASED_NOTES = [
  'not an emergency number', 'consumer prospecting', 'manual dialing', 'not an insurance campaign',
  'consent regime', 'no ongoing related contract', "purpose is not 'press'", 'no agreed slot',
  'not a pre-recorded campaign', 'abandonRateThreshold is off (policy)', 'emergency number: never blocked',
  'emergency number (SCOPE-1)', 'not consumer prospecting (SCOPE-2)',
  'destination invalid (SCOPE-3): no consumer to look up', 'no caller ID number', 'caller ID does not parse',
  'the professional declares no caller IDs', 'ongoing related contract',
  'training action in progress (ongoing related contract)', 'insurance: record the call and announce it',
  'opposition regime', 'ongoing related contract (L. 223-1 al. 4)', "purpose 'press' (L. 223-5)",
  'legal basis: consent', 'legal basis: contract', 'legal basis: press',
  'no consent record at the time of the attempt', 'no covering consent', 'consent withdrawn', "purpose 'press'",
  'robocallNeedsConsent is off (policy)', 'valid consent to automated calls', 'abandon rate unknown',
  'not evaluated: time arithmetic failed', 'invalid_destination', 'caller_id_withheld', 'caller_id_invalid',
  'caller_id_forbidden_range', 'caller_id_mobile', 'caller_id_not_npv', 'caller_id_not_authorised',
  'sector_banned', 'no_consent', 'consent_expired', 'consent_withdrawn', 'opposition_list',
  'opposition_list_stale', 'do_not_call', 'refusal_cooldown', 'non_working_day', 'public_holiday',
  'outside_calling_hours', 'frequency_limit', 'robocall_without_consent', 'gate_unavailable',
]; // prettier-ignore

/** The table sizes each schema version reads (migration 5 introduced the short form). */
const RELEASES = [{ schema: 5, ruleIds: 33, notes: 55 }];

describe('the tables', () => {
  it('grow only with a new schema version, so that an older callgate refuses rows it cannot read', () => {
    const last = RELEASES[RELEASES.length - 1]!;
    expect(RELEASED_RULE_IDS).toHaveLength(last.ruleIds);
    expect(RELEASED_NOTES).toHaveLength(last.notes);
    // When this fails: add a migration (a version bump is enough), a RELEASES entry with its
    // version, and extend the RELEASED_ copies below.
    expect([AUDIT_RULE_IDS.length, AUDIT_NOTES.length]).toEqual([last.ruleIds, last.notes]);
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(last.schema);
    for (let i = 1; i < RELEASES.length; i++) expect(RELEASES[i]!.schema).toBeGreaterThan(RELEASES[i - 1]!.schema);
  });
  it('only grow: every released entry keeps its index', () => {
    expect(AUDIT_RULE_IDS.slice(0, RELEASED_RULE_IDS.length)).toEqual(RELEASED_RULE_IDS);
    expect(AUDIT_NOTES.slice(0, RELEASED_NOTES.length)).toEqual(RELEASED_NOTES);
  });
  it('have no duplicates (an index must mean one thing)', () => {
    expect(new Set(AUDIT_RULE_IDS).size).toBe(AUDIT_RULE_IDS.length);
    expect(new Set(AUDIT_NOTES).size).toBe(AUDIT_NOTES.length);
  });
  it("know every rule ID of core and every reason code (a failed rule's note)", () => {
    expect(RULE_IDS.filter((r) => !AUDIT_RULE_IDS.includes(r))).toEqual([]);
    expect(REASON_CODES.filter((c) => !AUDIT_NOTES.includes(c))).toEqual([]);
  });
  it("know every fixed note written in core's source (one missing would be written verbatim: correct, only longer)", () => {
    const dir = path.join(__dirname, '../../src/core');
    const files = [
      path.join(dir, 'evaluate.ts'),
      ...fs.readdirSync(path.join(dir, 'rules')).map((f) => path.join(dir, 'rules', f)),
    ];
    const found: string[] = [];
    for (const f of files) {
      const src = fs.readFileSync(f, 'utf8');
      for (const m of src.matchAll(/\b(?:pass|skip|exempt)\(\s*acc,[^;]*?,\s*(?:'([^']*)'|"([^"]*)")\s*\)/g))
        found.push(m[1] ?? m[2]!);
    }
    expect(found.length).toBeGreaterThan(25);
    expect(found.filter((n) => !AUDIT_NOTES.includes(n))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------- every path of core

const CAMPAIGN: Campaign = {
  id: 'c1',
  professional: 'acme',
  purpose: 'prospecting',
  audience: 'consumer',
  dialing: 'manual',
  sector: 'other',
  categories: ['energy-contract'],
};
const MONDAY = D('2026-11-30T10:30:00+01:00');
const OPP_ERA = D('2026-07-06T10:30:00+02:00');
const CONSENT = { professional: 'acme', categories: [], collectedAt: D('2026-09-02T12:00:00+02:00') };
const OK: Facts = {
  ...EMPTY_FACTS,
  consents: [CONSENT],
  opposition: { listed: false, asOf: D('2026-06-25T00:00:00Z') },
};
const CONTRACT = { professional: 'acme', categories: ['energy-contract'], start: D('2025-01-01T00:00:00Z') };

type Scenario = {
  at?: Date;
  attempt?: Partial<CallAttempt>;
  facts?: Partial<Facts>;
  campaign?: Partial<Campaign>;
  policy?: Partial<Policy>;
  callerIds?: string[];
};
const SCENARIOS: Record<string, Scenario> = {
  'allowed on consent': {},
  'monitor mode': { policy: { monitorOnly: true }, at: D('2026-11-29T10:30:00+01:00') },
  emergency: { attempt: { to: '112', callerId: { number: '', presentation: 'restricted' } } },
  'invalid destination': { attempt: { to: '01 23' } },
  'no valid instant': { at: D('nonsense') },
  'professional audience': { campaign: { audience: 'professional' } },
  'caller ID withheld': { attempt: { callerId: { number: '', presentation: 'restricted' } } },
  'caller ID invalid': { attempt: { callerId: { number: 'abc', presentation: 'allowed' } } },
  'caller ID mobile': { attempt: { callerId: { number: '0612345678', presentation: 'allowed' } } },
  'caller ID shared cost': { attempt: { callerId: { number: '0812345678', presentation: 'allowed' } } },
  'caller ID not declared': { callerIds: ['+33948123457'] },
  'caller ID declared': { callerIds: ['+33948123456'] },
  'automated dialing': { campaign: { dialing: 'automated' } },
  'renovation, banned': { campaign: { sector: 'energy_renovation' } },
  'renovation, contract': { campaign: { sector: 'energy_renovation' }, facts: { contracts: [CONTRACT] } },
  'CPF, banned': { campaign: { sector: 'cpf_training' } },
  'CPF, training in progress': { campaign: { sector: 'cpf_training' }, facts: { contracts: [CONTRACT] } },
  insurance: { campaign: { sector: 'insurance' } },
  'no consent': { facts: { consents: [] } },
  'no consent, contract': { facts: { consents: [], contracts: [CONTRACT] } },
  'no consent, press': { facts: { consents: [] }, campaign: { purpose: 'press' } },
  'consent of another professional': { facts: { consents: [{ ...CONSENT, professional: 'globex' }] } },
  'consent to other categories': { facts: { consents: [{ ...CONSENT, categories: ['insurance-offer'] }] } },
  'consent withdrawn': { facts: { consents: [{ ...CONSENT, withdrawnAt: D('2026-10-01T00:00:00Z') }] } },
  'consent expired': { facts: { consents: [{ ...CONSENT, collectedAt: D('2025-11-01T00:00:00Z') }] } },
  'consent valid until': { facts: { consents: [{ ...CONSENT, validUntil: D('2027-01-01T00:00:00Z') }] } },
  'agreed slot': {
    at: D('2026-11-29T15:00:00+01:00'),
    facts: { consents: [{ ...CONSENT, slot: D('2026-11-29T15:05:00+01:00') }] },
  },
  'do not call': { facts: { dnc: [{ addedAt: D('2026-10-01T00:00:00Z'), reason: 'asked, "never"' }] } },
  'refused, consent regime': { facts: { refusals: [{ professional: 'acme', at: D('2026-11-01T00:00:00Z') }] } },
  'refused, cooling down': {
    at: OPP_ERA,
    facts: { refusals: [{ professional: 'acme', at: D('2026-06-01T00:00:00Z') }] },
  },
  'refused, cool-down over': {
    at: OPP_ERA,
    facts: { refusals: [{ professional: 'acme', at: D('2025-06-01T00:00:00Z') }] },
  },
  'opposition era, allowed': { at: OPP_ERA },
  'opposition era, listed': { at: OPP_ERA, facts: { opposition: { listed: true, asOf: D('2026-06-25T00:00:00Z') } } },
  'opposition era, listed, contract': {
    at: OPP_ERA,
    facts: { opposition: { listed: true, asOf: D('2026-06-25T00:00:00Z') }, contracts: [CONTRACT] },
  },
  'opposition era, press': { at: OPP_ERA, campaign: { purpose: 'press' } },
  'opposition era, no list': { at: OPP_ERA, facts: { opposition: { listed: false } } },
  'opposition era, stale list': {
    at: OPP_ERA,
    facts: { opposition: { listed: false, asOf: D('2025-01-01T00:00:00Z') } },
  },
  'opposition era, stale list tolerated': {
    at: OPP_ERA,
    facts: { opposition: { listed: false, asOf: D('2025-01-01T00:00:00Z') } },
    policy: { oppositionStaleBlocks: false },
  },
  sunday: { at: D('2026-11-29T10:30:00+01:00') },
  'public holiday': { at: D('2026-12-25T10:30:00+01:00') },
  lunch: { at: D('2026-11-30T13:30:00+01:00') },
  evening: { at: D('2026-11-30T20:00:00+01:00') },
  overseas: { attempt: { to: '0696 12 34 56' }, at: D('2026-11-30T14:30:00Z') },
  'fifth attempt': {
    facts: { recentAttempts: [1, 2, 3, 4].map((k) => new Date(MONDAY.getTime() - k * DAY)) },
  },
  prerecorded: { campaign: { dialing: 'prerecorded' } },
  'prerecorded, consent to robots': {
    campaign: { dialing: 'prerecorded' },
    facts: { consents: [{ ...CONSENT, automated: true }] },
  },
  'prerecorded, policy off': { campaign: { dialing: 'prerecorded' }, policy: { robocallNeedsConsent: false } },
  'abandon threshold, rate unknown': { policy: { abandonRateThreshold: 0.03 } },
  'abandon threshold, rate high': { policy: { abandonRateThreshold: 0.03 }, facts: { abandonRate: 0.05 } },
  'abandon threshold, rate low': { policy: { abandonRateThreshold: 0.03 }, facts: { abandonRate: 0.01 } },
};

function scenario(s: Scenario): Decision {
  return evaluate(
    {
      to: '01 45 67 89 10',
      callerId: { number: '09 48 12 34 56', presentation: 'allowed' },
      at: s.at ?? MONDAY,
      campaignId: 'c1',
      source: { pbx: 'asterisk', channelId: 'PJSIP/1-0001' },
      ...s.attempt,
    },
    { ...OK, ...s.facts },
    {
      decisionId: 'd-1',
      campaign: { ...CAMPAIGN, ...s.campaign },
      campaignKnown: true,
      professional: { id: 'acme', callerIds: s.callerIds ?? [] },
      policy: { ...DEFAULT_POLICY, ...s.policy },
    },
  );
}
const base = {
  decisionId: 'd-2',
  campaign: CAMPAIGN,
  campaignKnown: true,
  professional: { id: 'acme', callerIds: [] },
};
const attempt = (to: string): CallAttempt => ({
  to,
  callerId: { number: '0948123456', presentation: 'allowed' },
  at: MONDAY,
  campaignId: 'c1',
  source: { pbx: 'freeswitch' },
});
const decisions: [string, Decision][] = [
  ...Object.entries(SCENARIOS).map(([name, s]): [string, Decision] => [name, scenario(s)]),
  ['fail mode closed', failModeDecision(attempt('0145678910'), { ...base, policy: DEFAULT_POLICY }, 'store fault')],
  [
    'fail mode open',
    failModeDecision(attempt('0145678910'), { ...base, policy: { ...DEFAULT_POLICY, failMode: 'open' } }, 'timeout'),
  ],
  ['fail mode, emergency', failModeDecision(attempt('15'), { ...base, policy: DEFAULT_POLICY }, 'store fault')],
];

describe('every path of core', () => {
  it('covers the rules, outcomes and reason codes it claims to', () => {
    const seen = new Set(decisions.flatMap(([, d]) => d.rules.map((r) => `${r.rule}:${r.outcome}`)));
    for (const o of ['pass', 'fail', 'skip', 'exempt']) expect([...seen].some((s) => s.endsWith(`:${o}`))).toBe(true);
    const codes = new Set(decisions.flatMap(([, d]) => d.reasons.map((r) => r.code)));
    expect(codes.size).toBeGreaterThanOrEqual(15);
  });

  test.each(decisions)('%s: the row reads back to the same decision, with the short rule list', (_name, d) => {
    const text = decisionToText(d);
    const j = JSON.parse(text) as { rules: unknown };
    expect(typeof j.rules).toBe('string');
    expect(decisionFromText(text)).toEqual(d);
    expect(decodeRules(...(Object.values(encodeRules(d.rules)!) as [string, string[]]))).toEqual(d.rules);
  });

  // The notes core builds from the call's data (template literals). A fixed note missing from
  // AUDIT_NOTES shows up here: add it to the table (it works without, only longer).
  const DATA_NOTES = [
    /^valid until \d{4}-/,
    /^\d+ of \d+ attempts in \d+ days$/,
    /^agreed slot \d{4}-.* ±\d+ min$/,
    /^cool-down after the refusal of \d{4}-.* is over$/,
    /^stale list tolerated by policy: /,
    /^gate unavailable \(.*\); /,
    /^abandon rate [\d.]+ % above [\d.]+ %$/,
    /^purpose '\w+', audience '\w+': only caller-ID rules apply$/,
  ];
  it("writes verbatim only the notes built from the call's data", () => {
    const verbatim = decisions.flatMap(([, d]) => encodeRules(d.rules)!.ruleNotes ?? []);
    expect(verbatim.length).toBeGreaterThan(decisions.length);
    expect(verbatim.filter((n) => !DATA_NOTES.some((re) => re.test(n)))).toEqual([]);
  });

  it('makes the allowed call’s row about half as long', () => {
    const d = scenario({});
    const full = JSON.stringify({ ...d, rules: d.rules.map((r) => Object.values(r)) });
    expect(decisionToText(d).length).toBeLessThan(full.length * 0.6);
  });
});

// ---------------------------------------------------------------------------------- what it does not know

describe('what the tables do not know', () => {
  const withNotes: RuleOutcome[] = [
    { rule: 'SCOPE-1', outcome: 'pass', note: 'a note, with "quotes", !bangs, .dots and 1,2,3' },
    { rule: 'CID-5', outcome: 'skip' },
    { rule: 'TIME-4', outcome: 'exempt', note: 'a note, with "quotes", !bangs, .dots and 1,2,3' },
    { rule: 'FREQ-1', outcome: 'pass', note: '' },
    { rule: 'SEC-3', outcome: 'skip', note: 'not an insurance campaign' },
  ];
  it('a note outside the table is written verbatim, once, and reads back', () => {
    const e = encodeRules(withNotes)!;
    expect(e.ruleNotes).toEqual(['a note, with "quotes", !bangs, .dots and 1,2,3', '']);
    expect(e.rules).toBe('0p!0,7s,25e!0,26p!1,11s.3');
    expect(decodeRules(e.rules, e.ruleNotes)).toEqual(withNotes);
  });
  it('an empty rule list', () => {
    expect(encodeRules([])).toEqual({ rules: '' });
    expect(decodeRules('', undefined)).toEqual([]);
  });
  it('a rule ID or outcome it does not know makes the row fall back to the full form', () => {
    for (const odd of [
      { rule: 'NEW-1', outcome: 'pass' },
      { rule: 'NEW-1', outcome: 'pass', note: 'consent regime' },
      { rule: 'CID-1', outcome: 'maybe' },
      { rule: 'CID-1', outcome: 'maybe', note: 'x' },
      { rule: 'CID-1', outcome: 'toString' },
      { rule: 'constructor', outcome: 'pass' },
    ] as unknown as RuleOutcome[]) {
      expect(encodeRules([{ rule: 'SCOPE-1', outcome: 'pass' }, odd])).toBeUndefined();
    }
    const d = scenario({});
    d.rules.push({ rule: 'NEW-1', outcome: 'pass', note: 'consent regime' } as unknown as RuleOutcome);
    const j = JSON.parse(decisionToText(d)) as { rules: unknown[] };
    expect(j.rules.at(-1)).toEqual(['NEW-1', 'pass', 'consent regime']);
    expect(j.rules.at(0)).toEqual(['SCOPE-1', 'pass', 'not an emergency number']);
  });
});

describe('rows it cannot read', () => {
  test.each([
    ['99p', /rules entry 1 "99p" is not a known rule and outcome/],
    ['0p,1x', /rules entry 2 "1x" is not a known rule and outcome/],
    ['0p,,1p', /rules entry 2 "" is not/],
    ['0p.9999', /rules entry 1 "0p.9999" refers to a note that does not exist/],
    ['0p!0', /rules entry 1 "0p!0" refers to a note that does not exist/],
    ['0p.1a', /rules entry 1 "0p.1a" is not/],
  ])('%j: an error naming the entry', (rules, message) => {
    expect(() => decodeRules(rules, undefined)).toThrow(message);
    const row = JSON.parse(decisionToText(scenario({}))) as Record<string, unknown>;
    const text = JSON.stringify({ ...row, rules, ruleNotes: undefined });
    expect(() => decisionFromText(text)).toThrow(message);
  });
  it('ruleNotes that are not strings', () => {
    expect(() => decodeRules('0p!0', [1])).toThrow(/ruleNotes must be an array of strings/);
    expect(() => decodeRules('0p!0', 'x')).toThrow(/ruleNotes must be an array of strings/);
  });
});

describe('rows of earlier versions', () => {
  const d = scenario({ facts: { consents: [] } });
  it('rules as [rule, outcome, note] arrays', () => {
    const old = JSON.stringify({ ...JSON.parse(decisionToText(d)), rules: d.rules.map((r) => Object.values(r)) });
    expect(decisionFromText(old)).toEqual(d);
  });
  it("rules as core's { rule, outcome, note } objects", () => {
    const old = JSON.stringify({ ...JSON.parse(decisionToText(d)), rules: d.rules });
    expect(decisionFromText(old)).toEqual(d);
  });
});
