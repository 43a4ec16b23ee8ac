/**
 * callerIdRange / isMobile / isNpv — FR-RULES.md §2 CID-3, CID-4, CID-5.
 */
import { callerIdRange, isMobile, isNpv, isNpvNumber } from '../../src/core/callerid-ranges';
import { normalizeNumber, type NumberInfo } from '../../src/core/numbers';

function n(raw: string): NumberInfo {
  const r = normalizeNumber(raw);
  if (!r.ok) throw new Error(`test number ${raw} does not normalize: ${r.error}`);
  return r.value;
}

const BLOCK = { blockSharedCost: true };
const ALLOW_SHARED = { blockSharedCost: false };

describe('CID-3 forbidden ranges (arrêté du 5 juillet 2016)', () => {
  it.each([
    ['0890123456', 'premium'],
    ['0899123456', 'premium'],
    ['+33 8 99 12 34 56', 'premium'],
    ['0836123456', 'premium'],
    ['118712', 'directory'],
    ['118218', 'directory'],
    ['3200', 'short'],
    ['3615', 'short'],
    ['3900', 'short'],
    ['3999', 'short'],
    ['112', 'short'],
    ['0810123456', 'shared_cost'],
    ['0820123456', 'shared_cost'],
    ['0825123456', 'shared_cost'],
    ['0826123456', 'shared_cost'],
  ])('%s is forbidden (%s)', (raw, why) => {
    expect(callerIdRange(n(raw), BLOCK)).toEqual({ forbidden: true, why });
  });

  it.each(['3000', '3010', '3099', '3100', '3179', '3199'])('%s (30PQ/31PQ) may be presented', (raw) => {
    expect(callerIdRange(n(raw), BLOCK)).toEqual({ forbidden: false });
  });

  it.each(['0810123456', '0825123456', '+590 810 12 34 56'])(
    '%s is allowed when the shared-cost policy is off',
    (raw) => {
      expect(callerIdRange(n(raw), ALLOW_SHARED)).toEqual({ forbidden: false });
      expect(callerIdRange(n(raw), BLOCK)).toEqual({ forbidden: true, why: 'shared_cost' });
    },
  );

  it.each([
    '0123456789',
    '0387123456',
    '0612345678',
    '0948123456',
    '0800123456',
    '0805123456',
    '0806123456',
    '0596123456',
    '+44 20 7946 0958',
  ])('%s is not a CID-3 range', (raw) => {
    expect(callerIdRange(n(raw), BLOCK)).toEqual({ forbidden: false });
  });
});

describe('CID-4 mobile numbers', () => {
  const MOBILES = [
    '0612345678',
    '0756123456',
    '0690123456',
    '0691123456',
    '0694123456',
    '0696123456',
    '0697123456',
    '0692123456',
    '0693123456',
    '0639123456',
    '0709212345',
  ];

  it.each(MOBILES)('%s is a mobile in national, E.164 and wrong +33 forms', (national) => {
    const info = n(national);
    expect(isMobile(info)).toBe(true);
    expect(isMobile(n(info.e164))).toBe(true);
    expect(isMobile(n('+33' + national.slice(1)))).toBe(true);
  });

  it.each(['+508 55 12 34', '+44 7400 123456'])('%s (another plan) is a mobile', (raw) => {
    expect(isMobile(n(raw))).toBe(true);
  });

  it.each([
    '0123456789',
    '0590123456',
    '0596123456',
    '0262123456',
    '0269123456',
    '0948123456',
    '0800123456',
    '3010',
    '+508 41 12 34',
  ])('%s is not a mobile', (raw) => {
    expect(isMobile(n(raw))).toBe(false);
  });
});

describe('CID-5 numéros polyvalents vérifiés', () => {
  const METRO = ['0162', '0163', '0270', '0271', '0377', '0378', '0424', '0425', '0568', '0569', '0948', '0949'];

  it.each(METRO)('%s… is an NPV, national and +33 forms', (prefix) => {
    const national = prefix + '123456';
    expect(isNpv(n(national))).toBe(true);
    expect(n(national).npv).toBe(true);
    expect(isNpv(n('+33 ' + national.slice(1)))).toBe(true);
  });

  it.each([
    '0161123456',
    '0164123456',
    '0269123456',
    '0272123456',
    '0376123456',
    '0379123456',
    '0423123456',
    '0426123456',
    '0567123456',
    '0570123456',
    '0947012345',
    '0950123456',
    '0612345678',
  ])('%s is a near miss, not an NPV', (national) => {
    expect(isNpv(n(national))).toBe(false);
    expect(n(national).npv).toBe(false);
  });

  it.each([
    ['0947512345', '+590947512345'],
    ['0947612345', '+594947612345'],
    ['0947712345', '+596947712345'],
    ['0947812345', '+262947812345'],
    ['0947912345', '+262947912345'],
  ])('overseas %s is an NPV in national, E.164 and wrong +33 forms', (national, e164) => {
    for (const form of [national, e164, '+33' + national.slice(1), '0033 ' + national.slice(1)]) {
      const info = n(form);
      expect(info.e164).toBe(e164);
      expect(isNpv(info)).toBe(true);
    }
  });

  it('an overseas NPV prefix under the wrong calling code is not an NPV', () => {
    expect(isNpvNumber('0947512345', '+33947512345')).toBe(false);
    expect(isNpvNumber('0947512345', '+262947512345')).toBe(false);
    expect(isNpvNumber('0948123456', '+590948123456')).toBe(false);
  });

  it('short codes and foreign numbers are not NPVs', () => {
    expect(isNpv(n('3010'))).toBe(false);
    expect(isNpv(n('+44 20 7946 0958'))).toBe(false);
  });
});
