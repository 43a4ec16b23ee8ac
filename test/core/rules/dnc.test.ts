import { checkDnc } from '../../../src/core/rules/dnc';
import { newAcc } from '../../../src/core/rules/result';
import { DEFAULT_POLICY, type DncRecord, type RefusalRecord, type Regime } from '../../../src/core/types';

const D = (s: string): Date => new Date(s);
const at = D('2026-11-30T11:00:00+01:00');

function run(regime: Regime, dnc: DncRecord[], refusals: RefusalRecord[], policy = DEFAULT_POLICY) {
  const acc = newAcc();
  checkDnc(acc, regime, at, { dnc, refusals }, { professional: 'acme' }, policy);
  return acc;
}
const codes = (acc: ReturnType<typeof run>) => acc.reasons.map((r) => `${r.rule}:${r.code}`);

describe('DNC-1', () => {
  it.each([
    [
      'own entry',
      [{ professional: 'acme', addedAt: D('2026-01-01T00:00:00Z'), reason: 'complaint' }],
      ['DNC-1:do_not_call'],
    ],
    ['global entry', [{ addedAt: D('2026-01-01T00:00:00Z') }], ['DNC-1:do_not_call']],
    ["another professional's entry", [{ professional: 'other', addedAt: D('2026-01-01T00:00:00Z') }], []],
    ['entry added after the attempt (replay)', [{ professional: 'acme', addedAt: new Date(at.getTime() + 1) }], []],
    ['entry added exactly at the attempt', [{ professional: 'acme', addedAt: at }], ['DNC-1:do_not_call']],
  ])('%s', (_n, dnc, expected) => {
    expect(codes(run('consent', dnc, []))).toEqual(expected);
    expect(codes(run('opposition', dnc, []))).toEqual(expected);
  });
});

describe('REF-1', () => {
  const refusedAt = D('2026-11-01T15:00:00+01:00');
  it('consent regime: any refusal is permanent (policy default) → do_not_call', () => {
    const acc = run('consent', [], [{ professional: 'acme', at: D('2024-01-01T00:00:00Z') }]);
    expect(codes(acc)).toEqual(['REF-1:do_not_call']);
    expect(acc.reasons[0].legalRef).toBe('C. consom. R. 223-3');
  });

  it('opposition regime: 60 calendar days of cool-down with retryAfter', () => {
    const acc = run('opposition', [], [{ professional: 'acme', at: refusedAt }]);
    expect(codes(acc)).toEqual(['REF-1:refusal_cooldown']);
    // 1 Nov 15:00 CET + 60 days = 31 Dec 15:00 CET.
    expect(acc.reasons[0].retryAfter?.toISOString()).toBe(D('2026-12-31T15:00:00+01:00').toISOString());
  });

  it('opposition regime: cool-down counted in Paris calendar days across the DST change, boundary exact', () => {
    const r = D('2026-10-01T15:00:00+02:00');
    const end = D('2026-11-30T15:00:00+01:00');
    const before = newAcc();
    checkDnc(
      before,
      'opposition',
      new Date(end.getTime() - 1),
      { dnc: [], refusals: [{ professional: 'acme', at: r }] },
      { professional: 'acme' },
      DEFAULT_POLICY,
    );
    expect(before.reasons[0]?.retryAfter?.toISOString()).toBe(end.toISOString());
    const after = newAcc();
    checkDnc(
      after,
      'opposition',
      end,
      { dnc: [], refusals: [{ professional: 'acme', at: r }] },
      { professional: 'acme' },
      DEFAULT_POLICY,
    );
    expect(after.reasons).toEqual([]);
  });

  it('the latest refusal counts; refusals to another professional or after the attempt do not', () => {
    const acc = run(
      'opposition',
      [],
      [
        { professional: 'acme', at: D('2026-01-01T00:00:00Z') },
        { professional: 'acme', at: refusedAt },
        { professional: 'other', at: D('2026-11-29T00:00:00Z') },
        { professional: 'acme', at: new Date(at.getTime() + 1) },
      ],
    );
    expect(acc.reasons[0].retryAfter?.toISOString()).toBe(D('2026-12-31T15:00:00+01:00').toISOString());
    expect(codes(run('consent', [], [{ professional: 'other', at: refusedAt }]))).toEqual([]);
  });

  it('consent regime with the permanent policy off: cool-down applies', () => {
    const acc = run('consent', [], [{ professional: 'acme', at: refusedAt }], {
      ...DEFAULT_POLICY,
      refusalIsPermanentInConsentRegime: false,
    });
    expect(codes(acc)).toEqual(['REF-1:refusal_cooldown']);
  });

  it('both DNC-1 and REF-1 are listed when both fail', () => {
    const acc = run('consent', [{ addedAt: D('2026-01-01T00:00:00Z') }], [{ professional: 'acme', at: refusedAt }]);
    expect(codes(acc)).toEqual(['DNC-1:do_not_call', 'REF-1:do_not_call']);
  });
});
