import { checkAbandonRate } from '../../../src/core/rules/abandon';
import { newAcc } from '../../../src/core/rules/result';
import { checkRobocall } from '../../../src/core/rules/robocall';
import { checkSector } from '../../../src/core/rules/sector';
import { type ContractRecord, DEFAULT_POLICY, type Sector } from '../../../src/core/types';

const D = (s: string): Date => new Date(s);
const at = D('2026-11-30T11:00:00+01:00');
const ongoing: ContractRecord = { professional: 'acme', categories: ['heat-pump'], start: D('2026-01-01T00:00:00Z') };

function sector(s: Sector, contracts: ContractRecord[] = []) {
  const acc = newAcc();
  checkSector(acc, at, contracts, { professional: 'acme', categories: ['heat-pump'], sector: s });
  return acc;
}

describe('SEC-1 / SEC-2 / SEC-3', () => {
  it.each([
    ['energy_renovation', [], ['SEC-1:sector_banned']],
    ['renewable_energy', [], ['SEC-1:sector_banned']],
    ['housing_adaptation', [], ['SEC-1:sector_banned']],
    ['cpf_training', [], ['SEC-2:sector_banned']],
    ['insurance', [], []],
    ['other', [], []],
    ['energy_renovation', [ongoing], []],
    ['cpf_training', [ongoing], []],
    ['energy_renovation', [{ ...ongoing, end: D('2026-06-01T00:00:00Z') }], ['SEC-1:sector_banned']],
    ['energy_renovation', [{ ...ongoing, categories: ['gas'] }], ['SEC-1:sector_banned']],
    ['renewable_energy', [{ ...ongoing, professional: 'other' }], ['SEC-1:sector_banned']],
  ] as [Sector, ContractRecord[], string[]][])('%s with contracts %j', (s, contracts, expected) => {
    const acc = sector(s, contracts);
    expect(acc.reasons.map((r) => `${r.rule}:${r.code}`)).toEqual(expected);
    for (const r of acc.reasons) expect(r.legalRef).toMatch(/L\. 223-1|L\. 6323-8-1/);
  });

  it('an ongoing related contract exempts (recorded as exempt, not pass)', () => {
    expect(sector('energy_renovation', [ongoing]).rules.find((r) => r.rule === 'SEC-1')?.outcome).toBe('exempt');
    expect(sector('cpf_training', [ongoing]).rules.find((r) => r.rule === 'SEC-2')?.note).toMatch(
      /training action in progress/,
    );
  });

  it('insurance is tagged recording_required and never blocked', () => {
    const acc = sector('insurance');
    expect(acc.tags).toEqual(['recording_required']);
    expect(acc.reasons).toEqual([]);
    expect(sector('other').tags).toEqual([]);
  });
});

describe('AUTO-1', () => {
  const valid = { professional: 'acme', categories: [], collectedAt: D('2026-01-01T00:00:00Z') };
  function run(
    dialing: 'manual' | 'automated' | 'prerecorded',
    consents: (typeof valid & { automated?: boolean })[],
    policy = DEFAULT_POLICY,
  ) {
    const acc = newAcc();
    checkRobocall(acc, consents, { dialing }, policy);
    return acc;
  }
  it.each([
    ['prerecorded', [], ['AUTO-1:robocall_without_consent']],
    ['prerecorded', [valid], ['AUTO-1:robocall_without_consent']],
    ['prerecorded', [{ ...valid, automated: false }], ['AUTO-1:robocall_without_consent']],
    ['prerecorded', [{ ...valid, automated: true }], []],
    ['automated', [], []],
    ['manual', [], []],
  ] as const)('%s with %j', (dialing, consents, expected) => {
    expect(run(dialing, [...consents]).reasons.map((r) => `${r.rule}:${r.code}`)).toEqual(expected);
  });
  it('off by policy', () => {
    expect(run('prerecorded', [], { ...DEFAULT_POLICY, robocallNeedsConsent: false }).rules[0].outcome).toBe('skip');
  });
});

describe('SIL-2', () => {
  it.each([
    [null, 0.5, []],
    [0.03, undefined, []],
    [0.03, 0.03, []],
    [0.03, 0.031, ['abandon_rate_high']],
  ])('threshold %p, rate %p → tags %j', (threshold, rate, tags) => {
    const acc = newAcc();
    checkAbandonRate(acc, { abandonRate: rate }, { abandonRateThreshold: threshold });
    expect(acc.tags).toEqual(tags);
    expect(acc.reasons).toEqual([]);
  });
});
