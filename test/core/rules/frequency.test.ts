import { addCalendarDays } from '../../../src/core/rules/calendar';
import { checkFrequency, countedAttempts, frequencyWindowStart } from '../../../src/core/rules/frequency';
import { newAcc } from '../../../src/core/rules/result';
import { DEFAULT_POLICY } from '../../../src/core/types';

const D = (s: string): Date => new Date(s);
const MIN = 60_000;
const DAY = 86_400_000;

function run(at: Date, attempts: Date[], policy = DEFAULT_POLICY) {
  const acc = newAcc();
  checkFrequency(acc, at, { recentAttempts: attempts }, policy);
  return acc;
}

describe('frequencyWindowStart: first counted instant = at − N Europe/Paris calendar days + 1 ms', () => {
  it.each([
    ['no DST change in the window', '2026-11-30T10:00:00+01:00', '2026-10-31T09:00:00.001Z'],
    // 30 calendar days back from 15 Nov 10:00 CET is 16 Oct 10:00 CEST: 30 × 24 h + 1 h.
    ['window spans the October DST change', '2026-11-15T10:00:00+01:00', '2026-10-16T08:00:00.001Z'],
    // 30 calendar days back from 15 Apr 10:00 CEST is 16 Mar 10:00 CET: 30 × 24 h − 1 h.
    ['window spans the March DST change', '2026-04-15T10:00:00+02:00', '2026-03-16T09:00:00.001Z'],
  ])('%s', (_name, at, start) => {
    expect(frequencyWindowStart(D(at), { windowDays: 30 }).toISOString()).toBe(start);
  });

  it('does not depend on the host time zone', () => {
    // Run under TZ=UTC, Asia/Tokyo, America/New_York: the result is fixed.
    expect(frequencyWindowStart(D('2026-03-31T00:30:00+02:00'), { windowDays: 30 }).toISOString()).toBe(
      '2026-02-28T23:30:00.001Z',
    );
  });
});

describe('FREQ-1', () => {
  const at = D('2026-11-30T11:00:00+01:00');
  const recent3 = [at.getTime() - 3 * DAY, at.getTime() - 2 * DAY, at.getTime() - DAY].map((t) => new Date(t));

  it('30th day: 4 attempts, the oldest 29 d 23 h 59 min ago → frequency_limit, retryAfter = oldest + 30 days', () => {
    const oldest = new Date(at.getTime() - 30 * DAY + MIN);
    const acc = run(at, [oldest, ...recent3]);
    expect(acc.reasons).toHaveLength(1);
    expect(acc.reasons[0]).toMatchObject({
      code: 'frequency_limit',
      rule: 'FREQ-1',
      legalRef: 'C. consom. D. 223-9 al. 3',
    });
    expect(acc.reasons[0].retryAfter?.toISOString()).toBe(new Date(oldest.getTime() + 30 * DAY).toISOString());
    expect(acc.rules).toEqual([{ rule: 'FREQ-1', outcome: 'fail', note: 'frequency_limit' }]);
  });

  it('31st day: 4 attempts, the oldest exactly 30 days ago → passes (3 counted)', () => {
    const oldest = new Date(at.getTime() - 30 * DAY);
    const acc = run(at, [oldest, ...recent3]);
    expect(acc.reasons).toEqual([]);
    expect(acc.rules[0]).toMatchObject({ rule: 'FREQ-1', outcome: 'pass', note: '3 of 4 attempts in 30 days' });
  });

  it('retryAfter is exactly the first instant at which the attempt passes', () => {
    const oldest = new Date(at.getTime() - 10 * DAY);
    const retry = run(at, [oldest, ...recent3]).reasons[0].retryAfter as Date;
    expect(run(new Date(retry.getTime() - 1), [oldest, ...recent3]).reasons).toHaveLength(1);
    expect(run(retry, [oldest, ...recent3]).reasons).toEqual([]);
  });

  it('counts calendar days across the DST change (oldest 16 Oct 10:30 CEST counts on 15 Nov 10:00 CET)', () => {
    const at2 = D('2026-11-15T10:00:00+01:00');
    const oldest = D('2026-10-16T10:30:00+02:00'); // 30 d − 30 min in wall-clock terms, 30 d + 30 min in hours
    const others = [D('2026-11-01T10:00:00+01:00'), D('2026-11-02T10:00:00+01:00'), D('2026-11-03T10:00:00+01:00')];
    const acc = run(at2, [oldest, ...others]);
    expect(acc.reasons[0]?.code).toBe('frequency_limit');
    expect(acc.reasons[0].retryAfter?.toISOString()).toBe(D('2026-11-15T10:30:00+01:00').toISOString());
    expect(run(at2, [D('2026-10-16T10:00:00+02:00'), ...others]).reasons).toEqual([]);
  });

  it('above the limit (monitor mode let a 5th through): retry when enough attempts aged out', () => {
    const five = [5, 4, 3, 2, 1].map((d) => new Date(at.getTime() - d * DAY));
    const acc = run(at, five);
    expect(acc.reasons[0].retryAfter?.toISOString()).toBe(new Date(five[1].getTime() + 30 * DAY).toISOString());
  });

  it('agrees with the store port: attempts at or after frequencyWindowStart count, earlier ones do not', () => {
    const start = frequencyWindowStart(at, DEFAULT_POLICY);
    expect(run(at, [start, ...recent3]).reasons.map((r) => r.code)).toEqual(['frequency_limit']);
    expect(run(at, [new Date(start.getTime() - 1), ...recent3]).reasons).toEqual([]);
  });

  it('an attempt stamped after the instant counts (a gate whose clock runs ahead, a clock stepped back)', () => {
    const later = new Date(at.getTime() + MIN);
    const acc = run(at, [later, ...recent3]);
    expect(acc.reasons.map((r) => r.code)).toEqual(['frequency_limit']);
    // the oldest of the four ages out first
    expect(acc.reasons[0].retryAfter?.toISOString()).toBe(addCalendarDays(recent3[0], 30).toISOString());
  });

  it('unordered input is handled', () => {
    expect(countedAttempts(at, [recent3[2], recent3[0], recent3[1]], DEFAULT_POLICY).counted).toEqual(recent3);
  });

  it.each([
    [0, true],
    [3, true],
    [4, false],
  ])('maxAttempts %d with 3 attempts: blocked=%s', (maxAttempts, blocked) => {
    const acc = run(at, recent3, { ...DEFAULT_POLICY, maxAttempts });
    expect(acc.reasons.length > 0).toBe(blocked);
  });
});
