import {
  type CallAttempt,
  DEFAULT_POLICY,
  type Decision,
  EMPTY_FACTS,
  LEGAL_REFS,
  REASON_CODES,
  REASON_MESSAGES,
  RULE_IDS,
  decisionFromJson,
  decisionToJson,
  evaluate,
  explainDecision,
  failModeDecision,
} from '../../../src/core';
import { newAcc } from '../../../src/core/rules/result';
import { checkTime } from '../../../src/core/rules/time';

const ctx = {
  decisionId: 'd-42',
  campaign: {
    id: 'c1',
    professional: 'acme',
    purpose: 'prospecting' as const,
    audience: 'consumer' as const,
    dialing: 'automated' as const,
    sector: 'other' as const,
    categories: [],
  },
  campaignKnown: true,
  policy: DEFAULT_POLICY,
};
const attempt = (to: string, at: string, number = '0948123456'): CallAttempt => ({
  to,
  callerId: { number, presentation: 'allowed' },
  at: new Date(at),
  source: { pbx: 'freeswitch', channelId: 'uuid-1' },
});

const samples: [string, Decision][] = [
  [
    'blocked with retryAfter and detail',
    evaluate(
      attempt('0596123456', '2026-11-29T10:30:00+01:00'),
      {
        ...EMPTY_FACTS,
        consents: [{ professional: 'other', categories: [], collectedAt: new Date('2026-01-01T00:00:00Z') }],
      },
      ctx,
    ),
  ],
  [
    'invalid destination, no callee, no caller e164',
    evaluate(attempt('zz', '2026-11-30T10:30:00+01:00', 'anonymous'), EMPTY_FACTS, ctx),
  ],
  [
    'monitor',
    evaluate(attempt('0145678910', '2026-11-29T10:30:00+01:00'), EMPTY_FACTS, {
      ...ctx,
      policy: { ...DEFAULT_POLICY, monitorOnly: true },
    }),
  ],
  ['fail mode', failModeDecision(attempt('0145678910', '2026-11-30T10:30:00+01:00'), ctx, 'store down')],
];

describe('decisionToJson / decisionFromJson', () => {
  it.each(samples)('round-trips: %s', (_n, d) => {
    const text = JSON.stringify(decisionToJson(d));
    const back = decisionFromJson(JSON.parse(text));
    expect(back).toEqual(d);
    expect(JSON.stringify(decisionToJson(back))).toBe(text);
  });

  it('Dates become ISO-8601 strings; keys come in a fixed order', () => {
    const j = decisionToJson(samples[0][1]);
    expect(j.at).toBe('2026-11-29T09:30:00.000Z');
    expect(typeof j.reasons.find((r) => r.retryAfter)?.retryAfter).toBe('string');
    expect(Object.keys(j)).toEqual([
      'id',
      'verdict',
      'at',
      'regime',
      'basis',
      'monitorOnly',
      'reasons',
      'tags',
      'callee',
      'callerId',
      'campaign',
      'rules',
      'source',
    ]);
    expect(Object.keys(j.reasons[0])).toEqual(['code', 'rule', 'message', 'legalRef', 'detail']);
    expect(Object.keys(j.reasons[1])).toEqual(['code', 'rule', 'message', 'legalRef', 'retryAfter']);
    expect(j.reasons.find((r) => r.detail)?.detail).toBe('scope');
  });

  it.each([
    [null, 'decision must be an object'],
    [{ ...decisionToJson(samples[0][1]), verdict: 'maybe' }, 'verdict must be one of allow, block'],
    [{ ...decisionToJson(samples[0][1]), at: 'yesterday' }, 'at must be an ISO-8601 date-time'],
    [{ ...decisionToJson(samples[0][1]), reasons: [{ code: 'nope' }] }, 'reasons[0].code must be one of'],
    [{ ...decisionToJson(samples[0][1]), rules: [{ rule: 'CID-1', outcome: 'maybe' }] }, 'rules[0].outcome'],
  ])('rejects a malformed decision with the field named (%#)', (j, msg) => {
    expect(() => decisionFromJson(j)).toThrow(msg);
  });
});

describe('explainDecision', () => {
  it('says the verdict, where and when, and one line per reason with its legal reference', () => {
    const text = explainDecision(samples[0][1]);
    expect(text).toMatch(/^BLOCK \+596596123456: 3 rules failed\n/);
    expect(text).toContain(
      'local time 2026-11-29T05:30:00.000-04:00 in America/Martinique, zone from number; territory MQ',
    );
    expect(text).toContain('- no_consent [CONS-2, C. consom. R. 223-1]');
    expect(text).toContain('- non_working_day [TIME-1, C. consom. D. 223-9]');
    expect(text.endsWith('\n')).toBe(true);
  });
  it('monitor mode and fail mode read clearly', () => {
    expect(explainDecision(samples[2][1])).toMatch(/^ALLOW \+33145678910 \(monitor mode: would block on 2 rules\)/);
    expect(explainDecision(samples[3][1])).toContain('gate_unavailable [GATE-1');
    expect(explainDecision(samples[1][1])).toMatch(/^BLOCK \(invalid destination\)/);
  });
});

describe('legal-refs table', () => {
  it('has a legal reference for every rule and a message for every reason code', () => {
    for (const r of RULE_IDS) expect(LEGAL_REFS[r]).toMatch(/\S{3}/);
    for (const c of REASON_CODES) expect(REASON_MESSAGES[c]).toMatch(/\S{3}/);
    expect(Object.keys(LEGAL_REFS).sort()).toEqual([...RULE_IDS].sort());
    expect(Object.keys(REASON_MESSAGES).sort()).toEqual([...REASON_CODES].sort());
  });
});

describe('checkTime when the time arithmetic fails', () => {
  it('fails TIME-3 closed, without retryAfter, instead of throwing', () => {
    const acc = newAcc();
    checkTime(
      acc,
      new Date('2026-11-30T10:30:00Z'),
      [{ timeZone: 'Mars/Base', territories: ['FR'], alsaceMoselle: false }],
      [],
      DEFAULT_POLICY,
    );
    expect(acc.reasons).toHaveLength(1);
    expect(acc.reasons[0]).toMatchObject({ code: 'outside_calling_hours', rule: 'TIME-3' });
    expect(acc.reasons[0].retryAfter).toBeUndefined();
    expect(acc.reasons[0].message).toMatch(/cannot establish the consumer's local calling hours/);
  });
  it('empty places fail closed too', () => {
    const acc = newAcc();
    checkTime(acc, new Date('2026-11-30T10:30:00Z'), [], [], DEFAULT_POLICY);
    expect(acc.reasons.map((r) => r.code)).toEqual(['outside_calling_hours']);
  });
});
