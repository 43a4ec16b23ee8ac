import { checkCallerId, isWithheldNumber } from '../../../src/core/rules/caller-id';
import { newAcc } from '../../../src/core/rules/result';
import { DEFAULT_POLICY, type Dialing, type Professional } from '../../../src/core/types';

function run(
  number: string,
  o: {
    presentation?: 'allowed' | 'restricted';
    dialing?: Dialing;
    professional?: Professional;
    blockSharedCost?: boolean;
  } = {},
) {
  const acc = newAcc();
  const n = checkCallerId(
    acc,
    { number, presentation: o.presentation ?? 'allowed' },
    { dialing: o.dialing ?? 'manual' },
    o.professional,
    { ...DEFAULT_POLICY, blockSharedCostCallerId: o.blockSharedCost ?? true },
  );
  return { acc, n, codes: acc.reasons.map((r) => `${r.rule}:${r.code}`) };
}

describe('CID-1 withheld caller ID', () => {
  it.each(['', '   ', 'anonymous', 'Anonymous', 'UNKNOWN', 'restricted', 'Unavailable'])(
    '%j → caller_id_withheld, nothing else to check',
    (n) => {
      const r = run(n);
      expect(r.codes).toEqual(['CID-1:caller_id_withheld']);
      expect(r.acc.rules.filter((x) => x.outcome === 'skip').map((x) => x.rule)).toEqual([
        'CID-2',
        'CID-3',
        'CID-4',
        'CID-5',
        'CID-6',
      ]);
      expect(r.n).toBeUndefined();
    },
  );
  it('presentation restricted with a real number: withheld, and the number is still checked', () => {
    expect(run('0612345678', { presentation: 'restricted' }).codes).toEqual([
      'CID-1:caller_id_withheld',
      'CID-4:caller_id_mobile',
    ]);
    expect(run('0142000000', { presentation: 'restricted' }).codes).toEqual(['CID-1:caller_id_withheld']);
  });
  it('isWithheldNumber treats non-strings as withheld', () => {
    expect(isWithheldNumber(undefined)).toBe(true);
    expect(isWithheldNumber('0142000000')).toBe(false);
  });
});

describe('CID-2..5 numbering rules', () => {
  it.each([
    ['0142000000', 'manual', []],
    ['+33 1 42 00 00 00', 'manual', []],
    ['not a number', 'manual', ['CID-2:caller_id_invalid']],
    ['0123', 'manual', ['CID-2:caller_id_invalid']],
    ['0899123456', 'manual', ['CID-3:caller_id_forbidden_range']],
    ['118218', 'manual', ['CID-3:caller_id_forbidden_range']],
    ['3900', 'manual', ['CID-3:caller_id_forbidden_range']],
    ['3010', 'manual', []],
    ['3179', 'manual', []],
    ['0810123456', 'manual', ['CID-3:caller_id_forbidden_range']],
    ['0820123456', 'manual', ['CID-3:caller_id_forbidden_range']],
    ['0612345678', 'manual', ['CID-4:caller_id_mobile']],
    ['0756123456', 'manual', ['CID-4:caller_id_mobile']],
    ['+33612345678', 'manual', ['CID-4:caller_id_mobile']],
    ['0690123456', 'manual', ['CID-4:caller_id_mobile']],
    ['+590690123456', 'manual', ['CID-4:caller_id_mobile']],
    ['0696123456', 'manual', ['CID-4:caller_id_mobile']],
    ['0692123456', 'manual', ['CID-4:caller_id_mobile']],
    ['0639123456', 'manual', ['CID-4:caller_id_mobile']],
    ['0142000000', 'automated', ['CID-5:caller_id_not_npv']],
    ['0142000000', 'prerecorded', ['CID-5:caller_id_not_npv']],
    ['0948123456', 'automated', []],
    ['0162123456', 'automated', []],
    ['+33377123456', 'automated', []],
    ['0947512345', 'automated', []],
    ['+590947512345', 'automated', []],
    ['0947812345', 'automated', []],
    ['0612345678', 'automated', ['CID-4:caller_id_mobile', 'CID-5:caller_id_not_npv']],
  ] as [string, Dialing, string[]][])('%s (%s dialing) → %j', (number, dialing, codes) => {
    const r = run(number, { dialing });
    expect(r.codes).toEqual(codes);
    for (const reason of r.acc.reasons) expect(reason.legalRef.length).toBeGreaterThan(5);
  });

  it('shared-cost numbers are allowed when the policy is off', () => {
    expect(run('0810123456', { blockSharedCost: false }).codes).toEqual([]);
  });
  it('CID-5 is skipped for manual dialing', () => {
    expect(run('0142000000').acc.rules.find((x) => x.rule === 'CID-5')?.outcome).toBe('skip');
  });
});

describe('CID-6 declared caller IDs', () => {
  const acme: Professional = { id: 'acme', callerIds: ['+33 1 42 00 00 00', '09 48 12 34 56'] };
  it.each([
    ['0142000000', []],
    ['+33142000000', []],
    ['0033 1 42 00 00 00', []],
    ['+33948123456', []],
    ['0142000001', ['CID-6:caller_id_not_authorised']],
  ])('%s → %j', (number, codes) => {
    expect(run(number, { professional: acme }).codes).toEqual(codes);
  });
  it('no professional or no declared list → skip', () => {
    expect(run('0142000001').acc.rules.find((x) => x.rule === 'CID-6')?.outcome).toBe('skip');
    expect(
      run('0142000001', { professional: { id: 'x', callerIds: [] } }).acc.rules.find((x) => x.rule === 'CID-6')
        ?.outcome,
    ).toBe('skip');
  });
});

test('the words for a withheld caller ID are one list, shared by the CLI and the API', () => {
  for (const w of ['anonymous', 'Restricted', 'unknown', 'unavailable', 'Private', 'withheld'])
    expect(isWithheldNumber(w)).toBe(true);
  expect(isWithheldNumber('0162000001')).toBe(false);
});
