/**
 * evaluate(): every rule ID through the public core, with the boundaries of FR-RULES.md.
 * Instants are written with their Paris (or local) offset; the suite must pass under any host TZ
 * (run with TZ=UTC, TZ=Asia/Tokyo, TZ=America/New_York).
 */
import {
  type CallAttempt,
  type Campaign,
  type ConsentRecord,
  DEFAULT_POLICY,
  type Decision,
  EMPTY_FACTS,
  type EvaluationContext,
  type Facts,
  type Policy,
  RULE_IDS,
  evaluate,
  failModeDecision,
  locateCallee,
} from '../../src/core';

const D = (s: string): Date => new Date(s);
const MIN = 60_000;
const DAY = 86_400_000;

const CAMPAIGN: Campaign = {
  id: 'c1',
  professional: 'acme',
  purpose: 'prospecting',
  audience: 'consumer',
  dialing: 'manual',
  sector: 'other',
  categories: ['energy-contract'],
};
const CONSENT: ConsentRecord = { professional: 'acme', categories: [], collectedAt: D('2026-01-02T12:00:00+01:00') };
/** Facts of a consumer who consented, with a fresh opposition list (so both regimes pass by default). */
const OK_FACTS: Facts = {
  ...EMPTY_FACTS,
  consents: [CONSENT],
  opposition: { listed: false, asOf: D('2026-07-25T00:00:00Z') },
};
const MONDAY_1030 = '2026-11-30T10:30:00+01:00';

function attempt(at: string | Date, o: Partial<CallAttempt> = {}): CallAttempt {
  return {
    to: '01 45 67 89 10',
    callerId: { number: '09 48 12 34 56', presentation: 'allowed' },
    at: typeof at === 'string' ? D(at) : at,
    campaignId: 'c1',
    source: { pbx: 'asterisk', channelId: 'PJSIP/1-0001' },
    ...o,
  };
}
function ctx(
  o: { campaign?: Partial<Campaign>; policy?: Partial<Policy>; campaignKnown?: boolean; callerIds?: string[] } = {},
): EvaluationContext {
  return {
    decisionId: 'd-1',
    campaign: { ...CAMPAIGN, ...o.campaign },
    campaignKnown: o.campaignKnown ?? true,
    professional: { id: 'acme', callerIds: o.callerIds ?? [] },
    policy: { ...DEFAULT_POLICY, ...o.policy },
  };
}
function run(
  at: string | Date,
  o: { attempt?: Partial<CallAttempt>; facts?: Partial<Facts> } & Parameters<typeof ctx>[0] = {},
): Decision {
  return evaluate(attempt(at, o.attempt), { ...OK_FACTS, ...o.facts }, ctx(o));
}
const codes = (d: Decision): string[] => d.reasons.map((r) => r.code);
const outcome = (d: Decision, rule: string) => d.rules.find((r) => r.rule === rule)?.outcome;

describe('an allowed attempt', () => {
  const d = run(MONDAY_1030);
  it('is allowed with its basis, callee and caller ID', () => {
    expect(d.verdict).toBe('allow');
    expect(d.reasons).toEqual([]);
    expect(d.tags).toEqual(['basis:consent']);
    expect(d.regime).toBe('consent');
    expect(d.basis).toBe('consent');
    expect(d.id).toBe('d-1');
    expect(d.at.toISOString()).toBe('2026-11-30T09:30:00.000Z');
    expect(d.callee).toEqual({
      e164: '+33145678910',
      territory: 'FR',
      timeZone: 'Europe/Paris',
      timeZones: ['Europe/Paris'],
      localTime: '2026-11-30T10:30:00.000+01:00',
      zoneSource: 'number',
    });
    expect(d.callerId).toEqual({ number: '09 48 12 34 56', e164: '+33948123456', presentation: 'allowed' });
    expect(d.campaign).toEqual({ id: 'c1', professional: 'acme', dialing: 'manual', purpose: 'prospecting' });
    expect(d.source).toEqual({ pbx: 'asterisk', channelId: 'PJSIP/1-0001' });
    expect(d.monitorOnly).toBe(false);
  });
  it('lists every rule the core evaluates exactly once (FREQ-2/3 and SIL-1 live in the store count, GATE-1 in the gate)', () => {
    const listed = d.rules.map((r) => r.rule);
    expect(new Set(listed).size).toBe(listed.length);
    expect([...listed].sort()).toEqual(
      RULE_IDS.filter((r) => !['FREQ-2', 'FREQ-3', 'SIL-1', 'GATE-1'].includes(r)).sort(),
    );
    expect(d.rules.filter((r) => r.outcome === 'fail')).toEqual([]);
  });
});

describe('every path lists each evaluated rule exactly once', () => {
  const expected = RULE_IDS.filter((r) => !['FREQ-2', 'FREQ-3', 'SIL-1', 'GATE-1'].includes(r)).sort();
  it.each([
    ['emergency', run(MONDAY_1030, { attempt: { to: '112' } })],
    ['invalid destination', run(MONDAY_1030, { attempt: { to: 'abc' } })],
    ['not prospecting', run(MONDAY_1030, { campaign: { purpose: 'survey' } })],
    ['opposition regime', run('2026-06-01T11:00:00+02:00')],
    [
      'agreed slot',
      run('2026-11-29T15:00:00+01:00', { facts: { consents: [{ ...CONSENT, slot: D('2026-11-29T15:00:00+01:00') }] } }),
    ],
    ['withheld caller ID', run(MONDAY_1030, { attempt: { callerId: { number: '', presentation: 'restricted' } } })],
  ])('%s', (_n, d) => {
    expect(d.rules.map((r) => r.rule).sort()).toEqual(expected);
  });
});

describe('TIME-3 calling hours, half-open windows in the consumer zone', () => {
  it.each([
    ['2026-11-30T09:59:59.999+01:00', 'block', '2026-11-30T10:00:00+01:00'],
    ['2026-11-30T10:00:00+01:00', 'allow', undefined],
    ['2026-11-30T12:59:59+01:00', 'allow', undefined],
    ['2026-11-30T12:59:59.999+01:00', 'allow', undefined],
    ['2026-11-30T13:00:00+01:00', 'block', '2026-11-30T14:00:00+01:00'],
    ['2026-11-30T13:59:59.999+01:00', 'block', '2026-11-30T14:00:00+01:00'],
    ['2026-11-30T14:00:00+01:00', 'allow', undefined],
    ['2026-11-30T19:59:00+01:00', 'allow', undefined],
    ['2026-11-30T19:59:59.999+01:00', 'allow', undefined],
    ['2026-11-30T20:00:00+01:00', 'block', '2026-12-01T10:00:00+01:00'],
    ['2026-12-04T20:00:00+01:00', 'block', '2026-12-07T10:00:00+01:00'], // Friday evening → Monday
    ['2026-07-01T09:30:00+02:00', 'block', '2026-07-01T10:00:00+02:00'], // summer time
  ])('%s → %s', (at, verdict, retry) => {
    const d = run(at, { policy: { regime: 'consent' } });
    expect(d.verdict).toBe(verdict);
    if (retry) {
      expect(d.reasons).toHaveLength(1);
      expect(d.reasons[0]).toMatchObject({
        code: 'outside_calling_hours',
        rule: 'TIME-3',
        legalRef: 'C. consom. D. 223-9',
      });
      expect(d.reasons[0].retryAfter?.toISOString()).toBe(D(retry).toISOString());
    }
  });
});

describe('TIME-1 / TIME-2 days, DST change days', () => {
  it.each([
    ['Saturday', '2026-12-05T11:00:00+01:00', ['non_working_day'], '2026-12-07T10:00:00+01:00'],
    [
      'Saturday 21:00: both rules listed',
      '2026-12-05T21:00:00+01:00',
      ['non_working_day', 'outside_calling_hours'],
      '2026-12-07T10:00:00+01:00',
    ],
    ['Christmas (Friday)', '2026-12-25T11:00:00+01:00', ['public_holiday'], '2026-12-28T10:00:00+01:00'],
    ['Ascension 2026-05-14', '2026-05-14T11:00:00+02:00', ['public_holiday'], '2026-05-15T10:00:00+02:00'],
    ['spring-forward Sunday 2026-03-29', '2026-03-29T10:30:00+02:00', ['non_working_day'], '2026-03-30T10:00:00+02:00'],
    ['fall-back Sunday 2026-10-25', '2026-10-25T10:30:00+01:00', ['non_working_day'], '2026-10-26T10:00:00+01:00'],
  ])('%s', (_n, at, expected, retry) => {
    const d = run(at, { policy: { regime: 'consent' } });
    expect(codes(d)).toEqual(expected);
    for (const r of d.reasons) expect(r.retryAfter?.toISOString()).toBe(D(retry).toISOString());
  });
  it.each([
    // Monday after spring-forward: 07:30Z is 09:30 CEST (blocked), 08:00Z is 10:00 CEST (allowed).
    ['2026-03-30T07:30:00Z', 'block'],
    ['2026-03-30T08:00:00Z', 'allow'],
    // Monday after fall-back: 08:30Z is 09:30 CET (blocked), 09:00Z is 10:00 CET (allowed).
    ['2026-10-26T08:30:00Z', 'block'],
    ['2026-10-26T09:00:00Z', 'allow'],
  ])('Monday after a DST change, %s → %s', (at, verdict) => {
    expect(run(at, { policy: { regime: 'consent' } }).verdict).toBe(verdict);
  });
});

describe('section 7: overseas numbers, postal code and contact zone', () => {
  it.each(['0596 12 34 56', '+596 596 12 34 56', '+33 596 12 34 56', '0033 596 12 34 56'])(
    '%s at 10:30 Paris is 05:30 in Martinique → outside_calling_hours',
    (to) => {
      const d = run(MONDAY_1030, { attempt: { to } });
      expect(codes(d)).toEqual(['outside_calling_hours']);
      expect(d.callee).toMatchObject({
        e164: '+596596123456',
        territory: 'MQ',
        timeZone: 'America/Martinique',
        localTime: '2026-11-30T05:30:00.000-04:00',
      });
      expect(d.reasons[0].retryAfter?.toISOString()).toBe('2026-11-30T14:00:00.000Z'); // 10:00 in Martinique
      expect(run('2026-11-30T16:30:00+01:00', { attempt: { to } }).verdict).toBe('allow');
    },
  );
  it('La Réunion (UTC+4): 10:30 Paris is 13:30 there → blocked until 14:00 local', () => {
    const d = run(MONDAY_1030, { attempt: { to: '0262 12 34 56' } });
    expect(codes(d)).toEqual(['outside_calling_hours']);
    expect(d.reasons[0].retryAfter?.toISOString()).toBe('2026-11-30T10:00:00.000Z');
  });
  it('09478 (Réunion or Mayotte): allowed only when allowed in both zones', () => {
    const early = run('2026-11-30T06:30:00Z', { attempt: { to: '0947812345' } }); // 10:30 RE, 09:30 YT
    expect(codes(early)).toEqual(['outside_calling_hours']);
    expect(early.callee?.timeZones).toEqual(['Indian/Reunion', 'Indian/Mayotte']);
    expect(early.reasons[0].retryAfter?.toISOString()).toBe('2026-11-30T07:00:00.000Z');
    expect(run('2026-11-30T07:30:00Z', { attempt: { to: '0947812345' } }).verdict).toBe('allow');
    // Mayotte's abolition day (27 Apr 2026, Monday) blocks the ambiguous number too.
    expect(
      codes(run('2026-04-27T08:00:00Z', { attempt: { to: '0947812345' }, policy: { regime: 'consent' } })),
    ).toEqual(['public_holiday']);
  });
  it('Martinique abolition day 22 May 2026 is a holiday there, not in Paris', () => {
    const p = { regime: 'consent' as const };
    expect(codes(run('2026-05-22T15:00:00Z', { attempt: { to: '0596123456' }, policy: p }))).toEqual([
      'public_holiday',
    ]);
    expect(run('2026-05-22T11:00:00+02:00', { policy: p }).verdict).toBe('allow');
    expect(
      run('2026-05-22T15:00:00Z', { attempt: { to: '0596123456' }, policy: { ...p, localHolidays: false } }).verdict,
    ).toBe('allow');
  });
  it('Alsace-Moselle Good Friday (3 Apr 2026): by geographic prefix 0388, by postal code, strict mode', () => {
    const p = { regime: 'consent' as const };
    const at = '2026-04-03T11:00:00+02:00';
    expect(codes(run(at, { attempt: { to: '0388123456' }, policy: p }))).toEqual(['public_holiday']);
    expect(run(at, { policy: p }).verdict).toBe('allow');
    const byPostal = run(at, { attempt: { contact: { postalCode: '67000' } }, policy: p });
    expect(codes(byPostal)).toEqual(['public_holiday']);
    expect(byPostal.callee?.zoneSource).toBe('postal-code');
    // A mobile number (Alsace-Moselle unknown) is blocked on a local day only in strict mode.
    expect(run(at, { attempt: { to: '0612345678' }, policy: p }).verdict).toBe('allow');
    expect(codes(run(at, { attempt: { to: '0612345678' }, policy: { ...p, localHolidaysMode: 'strict' } }))).toEqual([
      'public_holiday',
    ]);
  });
  it('a contact time zone overrides the number; an unreadable one is ignored and tagged', () => {
    const d = run(MONDAY_1030, { attempt: { contact: { timeZone: 'America/Martinique' } } });
    expect(codes(d)).toEqual(['outside_calling_hours']);
    expect(d.callee).toMatchObject({
      e164: '+33145678910',
      timeZone: 'America/Martinique',
      zoneSource: 'contact-zone',
      territory: 'MQ',
    });
    const bad = run(MONDAY_1030, { attempt: { contact: { timeZone: 'Mars/Base', postalCode: '99999' } } });
    expect(bad.verdict).toBe('allow');
    expect(bad.callee?.zoneSource).toBe('number');
    expect(bad.tags).toContain('contact_location_ignored');
  });
  it('locateCallee gives the gate the E.164 and places', () => {
    expect(locateCallee(attempt(MONDAY_1030, { to: '0596123456' }))).toEqual({
      ok: true,
      number: expect.objectContaining({ e164: '+596596123456' }),
      places: [{ timeZone: 'America/Martinique', territories: ['MQ'], alsaceMoselle: false }],
      zoneSource: 'number',
    });
    expect(locateCallee(attempt(MONDAY_1030, { to: '0947812345' }))).toMatchObject({
      places: [
        { timeZone: 'Indian/Reunion', territories: ['RE', 'YT'] },
        { timeZone: 'Indian/Mayotte', territories: ['YT', 'RE'] },
      ],
    });
    expect(locateCallee(attempt(MONDAY_1030, { to: 'nope' })).ok).toBe(false);
  });
});

describe('FREQ-1 through evaluate (30th vs 31st day)', () => {
  const at = D(MONDAY_1030);
  const three = [1, 2, 3].map((d) => new Date(at.getTime() - d * DAY));
  it('oldest 29 d 23 h 59 min ago → frequency_limit with retryAfter = oldest + 30 days', () => {
    const oldest = new Date(at.getTime() - 30 * DAY + MIN);
    const d = run(at, { facts: { recentAttempts: [oldest, ...three] } });
    expect(codes(d)).toEqual(['frequency_limit']);
    expect(d.reasons[0].retryAfter?.toISOString()).toBe(new Date(oldest.getTime() + 30 * DAY).toISOString());
  });
  it('oldest exactly 30 days ago → allowed', () => {
    expect(run(at, { facts: { recentAttempts: [new Date(at.getTime() - 30 * DAY), ...three] } }).verdict).toBe('allow');
  });
  it('FREQ-3: the limit holds with an ongoing contract too', () => {
    const d = run(at, {
      facts: {
        consents: [],
        contracts: [{ professional: 'acme', categories: ['energy-contract'], start: D('2026-01-01T00:00:00Z') }],
        recentAttempts: [new Date(at.getTime() - 5 * DAY), ...three],
      },
    });
    expect(d.basis).toBe('contract');
    expect(codes(d)).toEqual(['frequency_limit']);
  });
});

describe('CONS-* through evaluate', () => {
  const c = { professional: 'acme', categories: [], collectedAt: D('2025-11-30T11:00:00+01:00') };
  it('consent on day 365 passes, on day 366 fails', () => {
    expect(run('2026-11-30T10:59:59.999+01:00', { facts: { consents: [c] } }).verdict).toBe('allow');
    const d = run('2026-11-30T11:00:00+01:00', { facts: { consents: [c] } });
    expect(codes(d)).toEqual(['consent_expired']);
    expect(d.reasons[0]).toMatchObject({ rule: 'CONS-3', legalRef: 'C. consom. R. 223-1' });
  });
  it.each([
    ['no consent', [], ['no_consent'], undefined],
    ['consent of another professional', [{ ...CONSENT, professional: 'other' }], ['no_consent'], 'scope'],
    ['consent for another category', [{ ...CONSENT, categories: ['insurance'] }], ['no_consent'], 'scope'],
    ['withdrawn consent', [{ ...CONSENT, withdrawnAt: D('2026-10-01T00:00:00Z') }], ['consent_withdrawn'], undefined],
  ])('%s', (_n, consents, expected, detail) => {
    const d = run(MONDAY_1030, { facts: { consents } });
    expect(codes(d)).toEqual(expected);
    expect(d.reasons[0].detail).toBe(detail);
    expect(d.basis).toBe('none');
  });
  it('CONS-6: a press campaign needs no consent', () => {
    const d = run(MONDAY_1030, { facts: { consents: [] }, campaign: { purpose: 'press' } });
    expect(d.verdict).toBe('allow');
    expect(d.tags).toEqual(['basis:press']);
  });
});

describe('regime switch at 2026-08-11 00:00 Paris', () => {
  const facts = { consents: [], opposition: { listed: false, asOf: D('2026-08-01T00:00:00Z') } };
  it('2026-08-10 23:59 Paris: opposition regime (no consent needed)', () => {
    const d = run('2026-08-10T23:59:00+02:00', { facts });
    expect(d.regime).toBe('opposition');
    expect(codes(d)).toEqual(['outside_calling_hours']);
    expect(outcome(d, 'OPP-1')).toBe('pass');
    expect(outcome(d, 'CONS-1')).toBe('skip');
  });
  it('2026-08-11 00:00 Paris: consent regime (no consent → no_consent)', () => {
    const d = run('2026-08-11T00:00:00+02:00', { facts });
    expect(d.regime).toBe('consent');
    expect(codes(d)).toEqual(['no_consent', 'outside_calling_hours']);
  });
  it('OPP-1 / OPP-2 in the opposition regime', () => {
    const at = '2026-06-01T11:00:00+02:00';
    expect(codes(run(at, { facts: { opposition: { listed: true, asOf: D('2026-05-20T00:00:00Z') } } }))).toEqual([
      'opposition_list',
    ]);
    expect(codes(run(at, { facts: { opposition: { listed: false } } }))).toEqual(['opposition_list_stale']);
    expect(codes(run(at, { facts: { opposition: { listed: false, asOf: D('2026-04-01T00:00:00Z') } } }))).toEqual([
      'opposition_list_stale',
    ]);
  });
});

describe('SCOPE-1 emergency numbers are never blocked', () => {
  const worst: Partial<Facts> = {
    consents: [],
    dnc: [{ addedAt: D('2020-01-01T00:00:00Z') }],
    recentAttempts: [1, 2, 3, 4, 5].map((h) => D(`2026-11-28T1${h}:00:00Z`)),
  };
  it.each(['112', '15', '17', '18', '114', '115', '116000', '119', '191', '196', '197', '1 1 2'])(
    '%s on Sunday 3 am with a withheld caller ID, on the DNC list and over the frequency limit',
    (to) => {
      const d = run('2026-11-29T03:00:00+01:00', {
        attempt: { to, callerId: { number: 'anonymous', presentation: 'restricted' } },
        facts: worst,
        campaign: { sector: 'energy_renovation', dialing: 'prerecorded' },
      });
      expect(d.verdict).toBe('allow');
      expect(d.reasons).toEqual([]);
      expect(d.tags).toEqual(['emergency']);
      expect(outcome(d, 'SCOPE-1')).toBe('exempt');
      expect(d.rules.filter((r) => r.rule !== 'SCOPE-1').every((r) => r.outcome === 'skip')).toBe(true);
    },
  );
  it('even in fail mode closed', () => {
    const d = failModeDecision(attempt('2026-11-29T03:00:00+01:00', { to: '112' }), ctx(), 'store down');
    expect(d.verdict).toBe('allow');
    expect(d.tags).toEqual(['emergency', 'gate_unavailable']);
  });
});

describe('SCOPE-3 invalid destination', () => {
  it.each(['', 'abc', '0123', '+33 1', '00000000000000000000'])('%j → invalid_destination, callee undefined', (to) => {
    const d = run(MONDAY_1030, { attempt: { to } });
    expect(d.verdict).toBe('block');
    expect(codes(d)).toEqual(['invalid_destination']);
    expect(d.callee).toBeUndefined();
    expect(outcome(d, 'TIME-3')).toBe('skip');
  });
  it('with no facts (the gate cannot look an invalid number up), only the destination and campaign-level rules report', () => {
    const d = evaluate(attempt(MONDAY_1030, { to: 'abc' }), EMPTY_FACTS, ctx({ campaign: { sector: 'cpf_training' } }));
    expect(codes(d)).toEqual(['invalid_destination', 'sector_banned']);
    expect(outcome(d, 'CONS-1')).toBe('skip');
    expect(outcome(d, 'FREQ-1')).toBe('skip');
    expect(d.basis).toBe('none');
  });
  it('caller-ID rules are still checked', () => {
    const d = run(MONDAY_1030, { attempt: { to: 'abc', callerId: { number: '', presentation: 'allowed' } } });
    expect(codes(d)).toEqual(['invalid_destination', 'caller_id_withheld']);
  });
});

describe('SCOPE-2 not prospecting: only caller-ID rules', () => {
  const sundayNight = '2026-11-29T03:00:00+01:00';
  it.each([
    [{ purpose: 'service' as const }],
    [{ purpose: 'survey' as const }],
    [{ purpose: 'charity' as const }],
    [{ purpose: 'collection' as const }],
    [{ audience: 'professional' as const }],
  ])('%j on Sunday 3 am without consent, over the frequency limit → allow, tag not_prospecting', (campaign) => {
    const d = run(sundayNight, {
      campaign,
      facts: {
        consents: [],
        dnc: [{ addedAt: D('2020-01-01T00:00:00Z') }],
        recentAttempts: [1, 2, 3, 4].map((h) => D(`2026-11-28T1${h}:00:00Z`)),
      },
    });
    expect(d.verdict).toBe('allow');
    expect(d.tags).toEqual(['not_prospecting']);
    expect(outcome(d, 'SCOPE-2')).toBe('exempt');
    expect(outcome(d, 'TIME-1')).toBe('skip');
    expect(outcome(d, 'FREQ-1')).toBe('skip');
  });
  it('a service call presenting a mobile is still blocked', () => {
    const d = run(sundayNight, {
      campaign: { purpose: 'service' },
      attempt: { callerId: { number: '0612345678', presentation: 'allowed' } },
    });
    expect(codes(d)).toEqual(['caller_id_mobile']);
  });
  it('an unknown or missing campaign is consumer prospecting whatever the default campaign says', () => {
    const unknown = run(sundayNight, { campaign: { purpose: 'service' }, campaignKnown: false });
    expect(unknown.verdict).toBe('block');
    expect(unknown.tags).toContain('campaign:unknown');
    const missing = run(MONDAY_1030, { campaignKnown: false, attempt: { campaignId: undefined } });
    expect(missing.verdict).toBe('allow');
    expect(missing.tags).toEqual(['campaign:default', 'basis:consent']);
  });
});

describe('CID-*, SEC-*, DNC-1, REF-1, AUTO-1, SIL-2 through evaluate', () => {
  it.each([
    [
      'CID-1',
      { attempt: { callerId: { number: 'Anonymous', presentation: 'allowed' as const } } },
      ['caller_id_withheld'],
    ],
    [
      'CID-1 restricted',
      { attempt: { callerId: { number: '0948123456', presentation: 'restricted' as const } } },
      ['caller_id_withheld'],
    ],
    ['CID-2', { attempt: { callerId: { number: '12ab', presentation: 'allowed' as const } } }, ['caller_id_invalid']],
    [
      'CID-3',
      { attempt: { callerId: { number: '0899123456', presentation: 'allowed' as const } } },
      ['caller_id_forbidden_range'],
    ],
    [
      'CID-4',
      { attempt: { callerId: { number: '+33612345678', presentation: 'allowed' as const } } },
      ['caller_id_mobile'],
    ],
    [
      'CID-5',
      {
        attempt: { callerId: { number: '0145000000', presentation: 'allowed' as const } },
        campaign: { dialing: 'automated' as const },
      },
      ['caller_id_not_npv'],
    ],
    ['CID-6', { callerIds: ['0948000000'] }, ['caller_id_not_authorised']],
    ['SEC-1 (consent does not lift it)', { campaign: { sector: 'energy_renovation' as const } }, ['sector_banned']],
    ['SEC-2', { campaign: { sector: 'cpf_training' as const } }, ['sector_banned']],
    ['DNC-1', { facts: { dnc: [{ professional: 'acme', addedAt: D('2026-10-01T00:00:00Z') }] } }, ['do_not_call']],
    [
      'REF-1 consent regime',
      { facts: { refusals: [{ professional: 'acme', at: D('2025-01-01T00:00:00Z') }] } },
      ['do_not_call'],
    ],
    ['AUTO-1', { campaign: { dialing: 'prerecorded' as const } }, ['robocall_without_consent']],
  ])('%s', (_n, o, expected) => {
    const d = run(MONDAY_1030, o as Parameters<typeof run>[1]);
    expect(codes(d)).toEqual(expected);
    expect(d.verdict).toBe('block');
    for (const r of d.reasons) expect(r.legalRef).toBeTruthy();
  });
  it('REF-1 opposition regime: refusal_cooldown with retryAfter', () => {
    const d = run('2026-06-01T11:00:00+02:00', {
      facts: {
        opposition: { listed: false, asOf: D('2026-05-25T00:00:00Z') },
        refusals: [{ professional: 'acme', at: D('2026-05-01T11:00:00+02:00') }],
      },
    });
    expect(codes(d)).toEqual(['refusal_cooldown']);
    expect(d.reasons[0].retryAfter?.toISOString()).toBe(D('2026-06-30T11:00:00+02:00').toISOString());
  });
  it('AUTO-1 passes with a consent to automated calls', () => {
    const d = run(MONDAY_1030, {
      campaign: { dialing: 'prerecorded' },
      facts: { consents: [{ ...CONSENT, automated: true }] },
    });
    expect(d.verdict).toBe('allow');
  });
  it('SEC-3 insurance is tagged recording_required; SIL-2 tags abandon_rate_high', () => {
    expect(run(MONDAY_1030, { campaign: { sector: 'insurance' } }).tags).toEqual([
      'recording_required',
      'basis:consent',
    ]);
    const d = run(MONDAY_1030, { facts: { abandonRate: 0.05 }, policy: { abandonRateThreshold: 0.03 } });
    expect(d.verdict).toBe('allow');
    expect(d.tags).toContain('abandon_rate_high');
  });
  it('every failed rule is listed, not only the first', () => {
    const d = run('2026-11-29T21:00:00+01:00', {
      attempt: { callerId: { number: '0612345678', presentation: 'allowed' } },
      campaign: { sector: 'renewable_energy', dialing: 'automated' },
      facts: {
        consents: [],
        dnc: [{ addedAt: D('2026-01-01T00:00:00Z') }],
        recentAttempts: [1, 2, 3, 4].map((h) => D(`2026-11-2${h}T10:00:00Z`)),
      },
    });
    expect(codes(d)).toEqual([
      'caller_id_mobile',
      'caller_id_not_npv',
      'sector_banned',
      'no_consent',
      'do_not_call',
      'non_working_day',
      'outside_calling_hours',
      'frequency_limit',
    ]);
  });
});

describe('TIME-4 agreed slot', () => {
  const slot = D('2026-11-29T15:00:00+01:00'); // a Sunday
  const facts = { consents: [{ ...CONSENT, slot }] };
  it.each([
    ['at the slot', 0, 'allow'],
    ['15 min after (tolerance, inclusive)', 15, 'allow'],
    ['15 min before', -15, 'allow'],
    ['16 min after', 16, 'block'],
  ])('%s → %s', (_n, offset, verdict) => {
    const d = run(new Date(slot.getTime() + offset * MIN), { facts });
    expect(d.verdict).toBe(verdict);
    if (verdict === 'allow') {
      expect(d.tags).toContain('agreed_slot');
      expect(outcome(d, 'TIME-1')).toBe('exempt');
      expect(outcome(d, 'TIME-4')).toBe('pass');
    } else {
      expect(codes(d)).toEqual(['non_working_day']);
    }
  });
  it('a slot on a withdrawn consent or another professional’s consent does not exempt', () => {
    expect(
      run(slot, { facts: { consents: [{ ...CONSENT, slot, withdrawnAt: D('2026-11-01T00:00:00Z') }] } }).verdict,
    ).toBe('block');
    expect(run(slot, { facts: { consents: [CONSENT, { ...CONSENT, professional: 'other', slot }] } }).verdict).toBe(
      'block',
    );
  });
});

describe('monitor mode', () => {
  it('allows, keeps the reasons and tags would_block per code', () => {
    const d = run('2026-11-29T11:00:00+01:00', { facts: { consents: [] }, policy: { monitorOnly: true } });
    expect(d.verdict).toBe('allow');
    expect(d.monitorOnly).toBe(true);
    expect(codes(d)).toEqual(['no_consent', 'non_working_day']);
    expect(d.tags).toEqual(['monitor', 'would_block:no_consent', 'would_block:non_working_day']);
  });
  it('an allowed call is tagged monitor only', () => {
    expect(run(MONDAY_1030, { policy: { monitorOnly: true } }).tags).toEqual(['basis:consent', 'monitor']);
  });
});

describe('failModeDecision (GATE-1)', () => {
  it('closed → block gate_unavailable, callee still located', () => {
    const d = failModeDecision(attempt(MONDAY_1030), ctx(), 'CG_ERR_STORE: database is locked');
    expect(d.verdict).toBe('block');
    expect(d.reasons).toEqual([
      expect.objectContaining({
        code: 'gate_unavailable',
        rule: 'GATE-1',
        legalRef: 'callgate failMode (policy, FR-RULES §8)',
      }),
    ]);
    expect(d.reasons[0].message).toContain('database is locked');
    expect(d.callee?.e164).toBe('+33145678910');
    expect(d.regime).toBe('consent');
    expect(d.basis).toBe('none');
  });
  it('open → allow with tag gate_unavailable', () => {
    const d = failModeDecision(attempt(MONDAY_1030), ctx({ policy: { failMode: 'open' } }), 'deadline passed');
    expect(d.verdict).toBe('allow');
    expect(d.reasons).toEqual([]);
    expect(d.tags).toEqual(['gate_unavailable']);
  });
  it('closed in monitor mode → allow, would_block:gate_unavailable', () => {
    const d = failModeDecision(attempt(MONDAY_1030), ctx({ policy: { monitorOnly: true } }), 'x');
    expect(d.verdict).toBe('allow');
    expect(d.tags).toEqual(['monitor', 'would_block:gate_unavailable']);
  });
});

describe('failModeDecision is total: the last resort never throws', () => {
  const throwing = new Proxy(
    {},
    {
      get() {
        throw new Error('getter throws');
      },
      getPrototypeOf() {
        throw new Error('prototype trap throws');
      },
    },
  );
  const { proxy: revoked, revoke } = Proxy.revocable({}, {});
  revoke();
  const attempts: unknown[] = [
    undefined,
    null,
    42,
    'a string',
    Symbol('s'),
    throwing,
    revoked,
    { to: throwing, callerId: throwing, at: throwing, contact: throwing, source: throwing, campaignId: throwing },
    { to: 112, callerId: 7, at: 'yesterday', contact: 'x', source: 'y' },
    { to: '0145678910', at: new Date(NaN), contact: { postalCode: {}, timeZone: 5 } },
    { to: 'x'.repeat(1_000_000), at: D(MONDAY_1030) },
    { to: '\u0000\u202e0145678910', at: D(MONDAY_1030), contact: { postalCode: '\u0000', timeZone: 'Mars/Olympus' } },
  ];
  const contexts: unknown[] = [
    undefined,
    null,
    throwing,
    { decisionId: 5, campaign: throwing, campaignKnown: 'yes', policy: throwing },
    { decisionId: 'd', campaign: null, policy: { failMode: 'sideways', regime: 7, consentRegimeStart: {} } },
    ctx(),
  ];
  const whys: unknown[] = ['store down', Symbol('why'), throwing, undefined];
  it.each(attempts.map((a, i) => [i, a]))(
    'garbage attempt #%d, with every garbage context and reason: a GATE-1 block',
    (_i, a) => {
      for (const c of contexts) {
        for (const why of whys) {
          const d = failModeDecision(a as CallAttempt, c as EvaluationContext, why as string);
          expect(d.verdict).toBe('block');
          expect(codes(d)).toEqual(['gate_unavailable']);
          expect(Number.isNaN(d.at.getTime())).toBe(false);
          expect(() => JSON.stringify(d)).not.toThrow();
        }
      }
    },
  );
  it('an emergency number is let through even when the context is unreadable, and fail open only when it says open', () => {
    expect(failModeDecision(attempt(MONDAY_1030, { to: '112' }), throwing as EvaluationContext, 'x').verdict).toBe(
      'allow',
    );
    expect(
      failModeDecision({ to: '116000' } as CallAttempt, undefined as unknown as EvaluationContext, 'x').tags,
    ).toContain('emergency');
    const open = { ...ctx(), policy: { failMode: 'open' } } as unknown as EvaluationContext;
    expect(failModeDecision(attempt(MONDAY_1030), open, 'x').verdict).toBe('allow');
  });
  it('a well-formed attempt gives the same decision as before (the plain copies change nothing)', () => {
    const a = attempt(MONDAY_1030, { contact: { postalCode: '67000' } });
    const d = failModeDecision(a, ctx(), 'deadline');
    expect(d.callee).toMatchObject({ e164: '+33145678910', zoneSource: 'postal-code' });
    expect(d.source).toEqual({ pbx: 'asterisk', channelId: 'PJSIP/1-0001' });
    expect(d.campaign).toEqual({ id: 'c1', professional: 'acme', dialing: 'manual', purpose: 'prospecting' });
    expect(d.at).toEqual(a.at);
    expect(d.at).not.toBe(a.at);
  });
});

describe('evaluate is total', () => {
  const garbage: unknown[] = [
    { to: undefined, callerId: undefined, at: new Date(NaN), source: { pbx: 'api' } },
    { to: 42, callerId: { number: 7 }, at: 'yesterday', source: { pbx: 'cli' } },
    {
      to: '0145678910',
      callerId: { number: '0948123456', presentation: 'allowed' },
      at: new Date(NaN),
      source: { pbx: 'cli' },
    },
    {
      to: '0145678910',
      callerId: null,
      at: D(MONDAY_1030),
      contact: { postalCode: 67000, timeZone: {} },
      source: { pbx: 'cli' },
    },
    {
      to: '\u0000\u202e112',
      callerId: { number: '\u202e', presentation: 'weird' },
      at: D(MONDAY_1030),
      source: { pbx: 'cli' },
    },
  ];
  it.each(garbage.map((g, i) => [i, g]))('garbage attempt #%d yields a decision', (_i, g) => {
    const d = evaluate(g as CallAttempt, OK_FACTS, ctx());
    expect(['allow', 'block']).toContain(d.verdict);
    expect(d.at).toBeInstanceOf(Date);
    expect(Number.isNaN(d.at.getTime())).toBe(false);
  });
  it('an unreadable instant blocks (GATE-1) even in fail-open mode', () => {
    const d = evaluate(attempt(new Date(NaN)), OK_FACTS, ctx({ policy: { failMode: 'open' } }));
    expect(codes(d)).toEqual(['gate_unavailable']);
  });
  it('missing facts fields do not throw (EMPTY_FACTS is frozen and usable)', () => {
    expect(Object.isFrozen(EMPTY_FACTS)).toBe(true);
    expect(evaluate(attempt(MONDAY_1030), EMPTY_FACTS, ctx()).reasons.map((r) => r.code)).toEqual(['no_consent']);
  });
});
