import { checkLegalBasis } from '../../../src/core/rules/legal-basis';
import { consentExpiry, consentStateAt } from '../../../src/core/rules/records';
import { newAcc } from '../../../src/core/rules/result';
import {
  type ConsentRecord,
  type ContractRecord,
  DEFAULT_POLICY,
  type Facts,
  type Regime,
} from '../../../src/core/types';

const D = (s: string): Date => new Date(s);
const DAY = 86_400_000;
const campaign = { professional: 'acme', categories: ['energy-contract'], purpose: 'prospecting' as const };
const collectedAt = D('2025-12-01T10:00:00+01:00');
const consent = (o: Partial<ConsentRecord> = {}): ConsentRecord => ({
  professional: 'acme',
  categories: ['energy-contract'],
  collectedAt,
  ...o,
});
const contract = (o: Partial<ContractRecord> = {}): ContractRecord => ({
  professional: 'acme',
  categories: ['energy-contract'],
  start: D('2025-01-01T00:00:00Z'),
  ...o,
});
const facts = (o: Partial<Facts> = {}): Pick<Facts, 'consents' | 'contracts' | 'opposition'> => ({
  consents: [],
  contracts: [],
  opposition: { listed: false, asOf: D('2026-11-20T00:00:00Z') },
  ...o,
});

function run(
  regime: Regime,
  at: Date,
  f: Pick<Facts, 'consents' | 'contracts' | 'opposition'>,
  c = campaign,
  policy = DEFAULT_POLICY,
) {
  const acc = newAcc();
  const res = checkLegalBasis(acc, regime, at, f, c, policy);
  const outcome = (rule: string) => acc.rules.find((r) => r.rule === rule)?.outcome;
  return {
    ...res,
    acc,
    codes: acc.reasons.map((r) => `${r.rule}:${r.code}${r.detail ? `/${r.detail}` : ''}`),
    outcome,
  };
}

describe('CONS-3 consent validity: day 365 passes, day 366 fails (collection instant starts day 1)', () => {
  // 2025-12-01 10:00 Paris + 365 calendar days = 2026-12-01 10:00 Paris.
  const expiry = D('2026-12-01T10:00:00+01:00');
  it('expiry = collectedAt + 365 Europe/Paris calendar days', () => {
    expect(consentExpiry(consent(), DEFAULT_POLICY).toISOString()).toBe(expiry.toISOString());
  });
  it.each([
    ['day 365, midday', new Date(collectedAt.getTime() + 364 * DAY + DAY / 2), 'valid'],
    ['day 365, last millisecond', new Date(expiry.getTime() - 1), 'valid'],
    ['day 366, first instant', expiry, 'expired'],
    ['day 366, midday', new Date(collectedAt.getTime() + 365 * DAY + DAY / 2), 'expired'],
    ['before collection', new Date(collectedAt.getTime() - 1), 'not_collected'],
    ['at collection', collectedAt, 'valid'],
  ])('%s → %s', (_n, at, state) => {
    expect(consentStateAt(consent(), at, DEFAULT_POLICY)).toBe(state);
  });
  it('across the DST change: collected in winter, expires at the same Paris wall time a year later', () => {
    const c = consent({ collectedAt: D('2026-03-01T10:00:00+01:00') });
    expect(consentExpiry(c, DEFAULT_POLICY).toISOString()).toBe(D('2027-03-01T10:00:00+01:00').toISOString());
    const s = consent({ collectedAt: D('2026-07-01T10:00:00+02:00') });
    expect(consentExpiry(s, DEFAULT_POLICY).toISOString()).toBe(D('2027-07-01T10:00:00+02:00').toISOString());
  });
  it('validUntil earlier than 365 days wins; later is capped at 365 days; consentValidityDays is capped too', () => {
    const early = D('2026-02-01T00:00:00Z');
    expect(consentExpiry(consent({ validUntil: early }), DEFAULT_POLICY)).toEqual(early);
    expect(consentExpiry(consent({ validUntil: D('2030-01-01T00:00:00Z') }), DEFAULT_POLICY)).toEqual(expiry);
    expect(consentExpiry(consent(), { consentValidityDays: 500 })).toEqual(expiry);
    expect(consentExpiry(consent(), { consentValidityDays: 180 }).toISOString()).toBe(
      D('2026-05-30T10:00:00+02:00').toISOString(),
    );
  });
  it('CONS-3 fails with consent_expired on day 366 in the consent regime', () => {
    const r = run('consent', expiry, facts({ consents: [consent()] }));
    expect(r.codes).toEqual(['CONS-3:consent_expired']);
    expect(r.basis).toBe('none');
    expect(run('consent', new Date(expiry.getTime() - 1), facts({ consents: [consent()] })).codes).toEqual([]);
  });
});

describe('consent regime', () => {
  const at = D('2026-11-30T11:00:00+01:00');
  it.each([
    ['valid consent', [consent()], [], [], 'consent', ['basis:consent']],
    ['no consent at all → CONS-1', [], [], ['CONS-1:no_consent'], 'none', []],
    [
      'consent collected after the attempt → CONS-1',
      [consent({ collectedAt: D('2026-12-01T00:00:00Z') })],
      [],
      ['CONS-1:no_consent'],
      'none',
      [],
    ],
    [
      'consent of another professional → CONS-2 scope',
      [consent({ professional: 'other' })],
      [],
      ['CONS-2:no_consent/scope'],
      'none',
      [],
    ],
    [
      'consent for another category → CONS-2 scope',
      [consent({ categories: ['insurance'] })],
      [],
      ['CONS-2:no_consent/scope'],
      'none',
      [],
    ],
    ['consent with no categories covers all', [consent({ categories: [] })], [], [], 'consent', ['basis:consent']],
    [
      'withdrawn before → CONS-4',
      [consent({ withdrawnAt: D('2026-06-01T00:00:00Z') })],
      [],
      ['CONS-4:consent_withdrawn'],
      'none',
      [],
    ],
    [
      'withdrawn exactly at the attempt → CONS-4',
      [consent({ withdrawnAt: at })],
      [],
      ['CONS-4:consent_withdrawn'],
      'none',
      [],
    ],
    [
      'withdrawn after the attempt → valid',
      [consent({ withdrawnAt: new Date(at.getTime() + 1) })],
      [],
      [],
      'consent',
      ['basis:consent'],
    ],
    [
      'withdrawn, then a new consent → valid',
      [consent({ withdrawnAt: D('2026-06-01T00:00:00Z') }), consent({ collectedAt: D('2026-07-01T00:00:00Z') })],
      [],
      [],
      'consent',
      ['basis:consent'],
    ],
    [
      'withdrawn and expired: withdrawal reported',
      [consent({ withdrawnAt: D('2026-06-01T00:00:00Z') }), consent({ collectedAt: D('2025-01-01T00:00:00Z') })],
      [],
      ['CONS-4:consent_withdrawn'],
      'none',
      [],
    ],
    ['CONS-5 ongoing related contract, no consent', [], [contract()], [], 'contract', ['basis:contract']],
    [
      'CONS-5 contract ended exactly at the attempt does not count',
      [],
      [contract({ end: at })],
      ['CONS-1:no_consent'],
      'none',
      [],
    ],
    [
      'CONS-5 contract starting after the attempt does not count',
      [],
      [contract({ start: new Date(at.getTime() + 1) })],
      ['CONS-1:no_consent'],
      'none',
      [],
    ],
    [
      'CONS-5 unrelated contract does not count',
      [],
      [contract({ categories: ['telecom'] })],
      ['CONS-1:no_consent'],
      'none',
      [],
    ],
    [
      'CONS-5 contract of another professional does not count',
      [],
      [contract({ professional: 'other' })],
      ['CONS-1:no_consent'],
      'none',
      [],
    ],
    [
      'CONS-5 lifts a withdrawn consent (exempt)',
      [consent({ withdrawnAt: D('2026-06-01T00:00:00Z') })],
      [contract()],
      [],
      'contract',
      ['basis:contract'],
    ],
  ])('%s', (_n, consents, contracts, codes, basis, tags) => {
    const r = run('consent', at, facts({ consents, contracts }));
    expect(r.codes).toEqual(codes);
    expect(r.basis).toBe(basis);
    expect(r.acc.tags).toEqual(tags);
    expect(r.outcome('OPP-1')).toBe('skip');
    expect(r.outcome('OPP-2')).toBe('skip');
  });

  it('failed consent checks are exempt when an exception applies', () => {
    const r = run('consent', at, facts({ contracts: [contract()] }));
    expect(r.outcome('CONS-1')).toBe('exempt');
    expect(r.outcome('CONS-5')).toBe('pass');
    expect(r.outcome('CONS-6')).toBe('skip');
  });

  it('CONS-6 press campaign: basis press', () => {
    const r = run('consent', at, facts(), { ...campaign, purpose: 'press' as never });
    expect(r.codes).toEqual([]);
    expect(r.basis).toBe('press');
    expect(r.acc.tags).toEqual(['basis:press']);
    expect(r.outcome('CONS-6')).toBe('pass');
  });

  it('a campaign without categories is covered by any consent of its professional, but no contract relates to it', () => {
    const bare = { ...campaign, categories: [] };
    expect(run('consent', at, facts({ consents: [consent({ categories: ['x'] })] }), bare).basis).toBe('consent');
    expect(run('consent', at, facts({ contracts: [contract()] }), bare).codes).toEqual(['CONS-1:no_consent']);
  });

  it('lists every CONS rule once', () => {
    const r = run('consent', at, facts());
    expect(r.acc.rules.map((x) => x.rule).sort()).toEqual(
      ['CONS-1', 'CONS-2', 'CONS-3', 'CONS-4', 'CONS-5', 'CONS-6', 'OPP-1', 'OPP-2'].sort(),
    );
  });
});

describe('opposition regime', () => {
  const at = D('2026-05-20T11:00:00+02:00');
  const asOf = D('2026-05-01T00:00:00Z');
  it.each([
    ['not listed, fresh list', { listed: false, asOf }, [], 'prospecting', [], 'none'],
    ['OPP-1 listed', { listed: true, asOf }, [], 'prospecting', ['OPP-1:opposition_list'], 'none'],
    ['OPP-1 listed, ongoing related contract', { listed: true, asOf }, [contract()], 'prospecting', [], 'contract'],
    ['OPP-1 listed, press', { listed: true, asOf }, [], 'press', [], 'press'],
    ['OPP-2 no list ever imported', { listed: false }, [], 'prospecting', ['OPP-2:opposition_list_stale'], 'none'],
    [
      'OPP-2 list 30 days + 1 ms old',
      { listed: false, asOf: D('2026-04-20T08:59:59.999Z') },
      [],
      'prospecting',
      ['OPP-2:opposition_list_stale'],
      'none',
    ],
    [
      'OPP-2 list exactly 30 days old',
      { listed: false, asOf: D('2026-04-20T09:00:00.000Z') },
      [],
      'prospecting',
      [],
      'none',
    ],
    [
      'listed and stale: both',
      { listed: true },
      [],
      'prospecting',
      ['OPP-1:opposition_list', 'OPP-2:opposition_list_stale'],
      'none',
    ],
  ])('%s', (_n, opposition, contracts, purpose, codes, basis) => {
    const r = run('opposition', at, facts({ opposition, contracts }), { ...campaign, purpose: purpose as never });
    expect(r.codes).toEqual(codes);
    expect(r.basis).toBe(basis);
    expect(r.outcome('CONS-1')).toBe('skip');
  });

  it('a valid consent is recorded as the basis but does not lift OPP-1', () => {
    const r = run('opposition', at, facts({ opposition: { listed: true, asOf }, consents: [consent()] }));
    expect(r.codes).toEqual(['OPP-1:opposition_list']);
    expect(r.basis).toBe('consent');
    expect(r.validConsents).toHaveLength(1);
  });

  it('stale list tolerated by policy: tag instead of block', () => {
    const r = run('opposition', at, facts({ opposition: { listed: false } }), campaign, {
      ...DEFAULT_POLICY,
      oppositionStaleBlocks: false,
    });
    expect(r.codes).toEqual([]);
    expect(r.acc.tags).toEqual(['opposition_list_stale']);
    expect(r.outcome('OPP-2')).toBe('pass');
  });
});
