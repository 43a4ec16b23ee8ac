import { regimeAt } from '../../../src/core/regime';
import { DEFAULT_POLICY } from '../../../src/core/types';

describe('regimeAt (section 0, Europe/Paris date of the attempt)', () => {
  it.each([
    ['2026-08-10T23:59:00+02:00', 'opposition'],
    ['2026-08-10T23:59:59.999+02:00', 'opposition'],
    ['2026-08-11T00:00:00+02:00', 'consent'],
    ['2026-08-10T22:00:00Z', 'consent'], // = 2026-08-11 00:00 in Paris, still 10 Aug in UTC
    ['2026-08-10T21:59:59Z', 'opposition'],
    ['2023-03-01T10:00:00+01:00', 'opposition'],
    ['2027-01-04T10:00:00+01:00', 'consent'],
  ])('%s → %s', (at, regime) => {
    expect(regimeAt(new Date(at), DEFAULT_POLICY)).toBe(regime);
  });

  it('a forced regime wins', () => {
    expect(regimeAt(new Date('2025-01-01T10:00:00Z'), { regime: 'consent', consentRegimeStart: '2026-08-11' })).toBe(
      'consent',
    );
    expect(regimeAt(new Date('2027-01-01T10:00:00Z'), { regime: 'opposition', consentRegimeStart: '2026-08-11' })).toBe(
      'opposition',
    );
  });

  it('a configurable start date', () => {
    const policy = { regime: 'auto' as const, consentRegimeStart: '2026-12-01' };
    expect(regimeAt(new Date('2026-11-30T22:59:59Z'), policy)).toBe('opposition');
    expect(regimeAt(new Date('2026-11-30T23:00:00Z'), policy)).toBe('consent');
  });

  it('an unreadable start date or instant selects the stricter consent regime instead of throwing', () => {
    expect(regimeAt(new Date('2025-01-01T10:00:00Z'), { regime: 'auto', consentRegimeStart: '11/08/2026' })).toBe(
      'consent',
    );
    expect(regimeAt(new Date('2025-01-01T10:00:00Z'), { regime: 'auto', consentRegimeStart: '2026-02-30' })).toBe(
      'consent',
    );
    expect(regimeAt(new Date(NaN), DEFAULT_POLICY)).toBe('consent');
  });
});
