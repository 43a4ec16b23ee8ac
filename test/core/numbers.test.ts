/**
 * normalizeNumber / isEmergencyNumber — FR-RULES.md §1 (SCOPE-1, SCOPE-3), §7.
 */
import { IANAZone } from 'luxon';
import { isEmergencyNumber, normalizeNumber, type NumberInfo } from '../../src/core/numbers';

function ok(raw: string): NumberInfo {
  const r = normalizeNumber(raw);
  if (!r.ok) throw new Error(`expected ${JSON.stringify(raw)} to normalize, got: ${r.error}`);
  return r.value;
}

function err(raw: string): string {
  const r = normalizeNumber(raw);
  if (r.ok) throw new Error(`expected ${JSON.stringify(raw)} to be refused, got ${r.value.e164}`);
  return r.error;
}

const GP_ZONE = ['America/Guadeloupe'];
const RE_YT_ZONES = ['Indian/Reunion', 'Indian/Mayotte'];

// FR-RULES §7 table: [national, calling code, territories, zones, kind]
const OVERSEAS: [string, string, string[], string[], NumberInfo['kind']][] = [
  ['0590123456', '590', ['GP', 'MF', 'BL'], GP_ZONE, 'fixed'],
  ['0690123456', '590', ['GP', 'MF', 'BL'], GP_ZONE, 'mobile'],
  ['0691123456', '590', ['GP', 'MF', 'BL'], GP_ZONE, 'mobile'],
  ['0947512345', '590', ['GP', 'MF', 'BL'], GP_ZONE, 'voip'],
  ['0594123456', '594', ['GF'], ['America/Cayenne'], 'fixed'],
  ['0694123456', '594', ['GF'], ['America/Cayenne'], 'mobile'],
  ['0947612345', '594', ['GF'], ['America/Cayenne'], 'voip'],
  ['0596123456', '596', ['MQ'], ['America/Martinique'], 'fixed'],
  ['0696123456', '596', ['MQ'], ['America/Martinique'], 'mobile'],
  ['0697123456', '596', ['MQ'], ['America/Martinique'], 'mobile'],
  ['0947712345', '596', ['MQ'], ['America/Martinique'], 'voip'],
  ['0262123456', '262', ['RE'], ['Indian/Reunion'], 'fixed'],
  ['0263123456', '262', ['RE'], ['Indian/Reunion'], 'fixed'],
  ['0692123456', '262', ['RE'], ['Indian/Reunion'], 'mobile'],
  ['0693123456', '262', ['RE'], ['Indian/Reunion'], 'mobile'],
  ['0269123456', '262', ['YT'], ['Indian/Mayotte'], 'fixed'],
  ['0639123456', '262', ['YT'], ['Indian/Mayotte'], 'mobile'],
  ['0947812345', '262', ['RE', 'YT'], RE_YT_ZONES, 'voip'],
  ['0947912345', '262', ['RE', 'YT'], RE_YT_ZONES, 'voip'],
];

describe('overseas numbers: every prefix of the §7 table, in every written form', () => {
  describe.each(OVERSEAS)('%s → +%s', (national, cc, territories, zones, kind) => {
    const nsn = national.slice(1);
    const e164 = `+${cc}${nsn}`;
    const spaced = `${national.slice(0, 4)} ${national.slice(4, 6)} ${national.slice(6, 8)} ${national.slice(8)}`;
    it.each([
      ['national', national],
      ['national with spaces', spaced],
      ['national with dots', national.replace(/(\d\d)(?=\d)/g, '$1.')],
      ['E.164', e164],
      ['E.164 spaced', `+${cc} ${nsn.slice(0, 3)} ${nsn.slice(3, 5)} ${nsn.slice(5, 7)} ${nsn.slice(7)}`],
      ['00 international', `00${cc}${nsn}`],
      ['E.164 with trunk (0)', `+${cc} (0)${nsn}`],
      ['wrong +33 form', `+33${nsn}`],
      ['wrong +33 spaced form', `+33 ${nsn.slice(0, 3)} ${nsn.slice(3)}`],
      ['wrong 0033 form', `0033 ${nsn}`],
      ['wrong +33 (0) form', `+33 (0)${nsn}`],
      ['bare calling code', `${cc}${nsn}`],
    ])('%s: %s', (_form, input) => {
      const n = ok(input);
      expect(n.input).toBe(input);
      expect(n.e164).toBe(e164);
      expect(n.national).toBe(national);
      expect(n.territories).toEqual(territories);
      expect(n.territory).toBe(territories[0]);
      expect(n.timeZones).toEqual(zones);
      expect(n.kind).toBe(kind);
      expect(n.alsaceMoselle).toBe(false);
    });
  });
});

describe('overseas blocks outside the §7 table (validated against the assigned ranges)', () => {
  it.each([
    ['0598712345', '+590598712345', 'GP', 'fixed'],
    ['0598812345', '+594598812345', 'GF', 'fixed'],
    ['0598912345', '+596598912345', 'MQ', 'fixed'],
    ['0268812345', '+262268812345', 'RE', 'fixed'],
    ['0268912345', '+262268912345', 'YT', 'fixed'],
    ['0709012345', '+590709012345', 'GP', 'mobile'],
    ['0709112345', '+596709112345', 'MQ', 'mobile'],
    ['0709212345', '+262709212345', 'RE', 'mobile'],
    ['0709301234', '+594709301234', 'GF', 'mobile'],
    ['0709351234', '+262709351234', 'YT', 'mobile'],
    ['0939512345', '+590939512345', 'GP', 'voip'],
    ['0939612345', '+594939612345', 'GF', 'voip'],
    ['0939712345', '+596939712345', 'MQ', 'voip'],
    ['0939801234', '+262939801234', 'YT', 'voip'],
    ['0939901234', '+262939901234', 'RE', 'voip'],
    ['0976221234', '+262976221234', 'RE', 'voip'],
    ['0976912345', '+262976912345', 'YT', 'voip'],
  ])('%s → %s (%s, %s)', (national, e164, territory, kind) => {
    for (const form of [national, `+33${national.slice(1)}`, e164]) {
      const n = ok(form);
      expect(n.e164).toBe(e164);
      expect(n.territory).toBe(territory);
      expect(n.kind).toBe(kind);
    }
  });

  it('refuses a number of a newer overseas block that is not assigned', () => {
    expect(err('0976212345')).toMatch(/not an assigned number in La Réunion/);
  });
});

describe('Guadeloupe, Saint-Martin, Saint-Barthélemy share +590', () => {
  it('keeps GP first for a range only Guadeloupe holds', () => {
    expect(ok('0590 81 12 34').territories).toEqual(['GP', 'MF', 'BL']);
  });
  it('puts the regions whose ranges hold the number first, with their zone', () => {
    const n = ok('+590 590 87 12 34');
    expect(n.territories.slice(0, 2).sort()).toEqual(['BL', 'MF']);
    expect(n.territories).toContain('GP');
    expect(n.timeZones).toEqual([n.territory === 'MF' ? 'America/Marigot' : 'America/St_Barthelemy']);
  });
});

describe('ambiguous Réunion/Mayotte 09478 and 09479', () => {
  it.each(['09478 01234', '+262 9478 01234', '+33 9 47 80 12 34', '0947912345'])(
    '%s → both territories and both zones',
    (s) => {
      const n = ok(s);
      expect(n.territories).toEqual(['RE', 'YT']);
      expect(n.timeZones).toEqual(['Indian/Reunion', 'Indian/Mayotte']);
      expect(n.npv).toBe(true);
    },
  );
});

describe('mismatched calling code and overseas prefix', () => {
  it.each([
    ['+262 947512345', /09475 belongs to Guadeloupe.*\+590.*not \+262/],
    ['+590 596 12 34 56', /0596 belongs to Martinique \(\+596\), not \+590/],
    ['+596 694 12 34 56', /0694 belongs to Guyane \(\+594\), not \+596/],
  ])('%s is refused with an explanation', (input, message) => {
    expect(err(input)).toMatch(message);
  });
});

describe('Saint-Pierre-et-Miquelon (+508)', () => {
  it.each([
    ['+508 41 12 34', 'fixed'],
    ['00508 41 12 34', 'fixed'],
    ['+508 55 12 34', 'mobile'],
  ])('%s → PM, America/Miquelon, %s', (input, kind) => {
    const n = ok(input);
    expect(n.territory).toBe('PM');
    expect(n.territories).toEqual(['PM']);
    expect(n.timeZones).toEqual(['America/Miquelon']);
    expect(n.kind).toBe(kind);
    expect(n.national).toBeUndefined();
  });
  it('refuses bare 508… (collides with 05 08… missing its 0)', () => {
    expect(err('508411234')).toMatch(/9 digits and no leading 0/);
  });
});

describe('metropolitan numbers and their kinds', () => {
  it.each([
    ['01 23 45 67 89', '+33123456789', 'fixed'],
    ['0556123456', '+33556123456', 'fixed'],
    ['06 12 34 56 78', '+33612345678', 'mobile'],
    ['07 56 12 34 56', '+33756123456', 'mobile'],
    ['09 48 12 34 56', '+33948123456', 'voip'],
    ['0800 12 34 56', '+33800123456', 'toll_free'],
    ['0805 12 34 56', '+33805123456', 'toll_free'],
    ['0806 12 34 56', '+33806123456', 'other'],
    ['0810 12 34 56', '+33810123456', 'shared_cost'],
    ['0825 12 34 56', '+33825123456', 'shared_cost'],
    ['0890 12 34 56', '+33890123456', 'premium'],
    ['0899 12 34 56', '+33899123456', 'premium'],
  ])('%s → %s %s', (input, e164, kind) => {
    const n = ok(input);
    expect(n.e164).toBe(e164);
    expect(n.national).toBe('0' + e164.slice(3));
    expect(n.territory).toBe('FR');
    expect(n.territories).toEqual(['FR']);
    expect(n.timeZones).toEqual(['Europe/Paris']);
    expect(n.kind).toBe(kind);
  });

  it.each([
    ['+33 6 12 34 56 78'],
    ['+33612345678'],
    ['0033 6 12 34 56 78'],
    ['+33 (0)6 12 34 56 78'],
    ['+33 0612345678'],
    ['33612345678'],
    ['(06) 12-34-56-78'],
    ['06/12/34/56/78'],
    ['\u00a006\u00a012 34 56 78 '],
  ])('written as %j → +33612345678', (input) => {
    expect(ok(input).e164).toBe('+33612345678');
  });
});

describe('Alsace-Moselle from the geographic prefix', () => {
  it.each([
    ['0387123456', true],
    ['0388123456', true],
    ['0389123456', true],
    ['0390123456', true],
    ['0386123456', false],
    ['0391123456', false],
    ['0123456789', false],
    ['0382123456', 'unknown'], // Thionville (57) shares 0382 with Meurthe-et-Moselle (54)
    ['0612345678', 'unknown'],
    ['0948123456', 'unknown'],
    ['0800123456', 'unknown'],
    ['0596123456', false],
    ['+262269123456', false],
  ])('%s → %s', (input, expected) => {
    expect(ok(input).alsaceMoselle).toBe(expected);
  });
});

describe('emergency and short numbers (SCOPE-1)', () => {
  const EMERGENCY = [
    '15',
    '17',
    '18',
    '112',
    '114',
    '115',
    '116000',
    '116006',
    '116111',
    '116117',
    '116123',
    '119',
    '191',
    '196',
    '197',
  ];

  it.each(EMERGENCY)('%s is an emergency number, normalized to its digits', (code) => {
    expect(isEmergencyNumber(code)).toBe(true);
    const n = ok(code);
    expect(n.kind).toBe('emergency');
    expect(n.e164).toBe(code);
    expect(n.territory).toBe('FR');
    expect(n.timeZones).toEqual(['Europe/Paris']);
    expect(n.npv).toBe(false);
  });

  it.each([' 112 ', '1 12', '116-000'])('%j with separators is an emergency number', (s) => {
    expect(isEmergencyNumber(s)).toBe(true);
  });

  it.each([
    '16',
    '113',
    '116',
    '1160',
    '11600',
    '1160000',
    '120',
    '198',
    '0112',
    '+33112',
    '112a',
    '',
    '3010',
    '0612345678',
  ])('%j is not an emergency number', (s) => {
    expect(isEmergencyNumber(s)).toBe(false);
  });

  it('isEmergencyNumber never throws on a non-string', () => {
    expect(isEmergencyNumber(undefined as unknown as string)).toBe(false);
  });

  it.each([
    ['3010', 'short'],
    ['3000', 'short'],
    ['3199', 'short'],
    ['3900', 'short'],
    ['118712', 'directory'],
    ['118 218', 'directory'],
  ])('%s → kind %s, e164 = digits', (input, kind) => {
    const n = ok(input);
    expect(n.kind).toBe(kind);
    expect(n.e164).toBe(input.replace(/\D/g, ''));
  });

  it.each(['1187', '11871', '1014', '2010', '12345'])('%s is not a known short number', (input) => {
    expect(err(input)).toMatch(/not a known short number/);
  });
});

describe('other countries', () => {
  it('United Kingdom: one zone', () => {
    const n = ok('+44 20 7946 0958');
    expect(n).toMatchObject({
      e164: '+442079460958',
      territory: 'GB',
      territories: ['GB'],
      timeZones: ['Europe/London'],
    });
    expect(n.kind).toBe('fixed');
    expect(n.national).toBeUndefined();
    expect(n.alsaceMoselle).toBe(false);
    expect(n.npv).toBe(false);
  });

  it('"+44 (0)20…" drops the trunk 0', () => {
    expect(ok('+44 (0)20 7946 0958').e164).toBe('+442079460958');
  });

  it('United States: main zone first, one zone per distinct offset', () => {
    const n = ok('+1 212 555 1234');
    expect(n.territory).toBe('US');
    expect(n.timeZones[0]).toBe('America/New_York');
    expect(n.timeZones).toEqual(expect.arrayContaining(['America/Chicago', 'America/Los_Angeles', 'Pacific/Honolulu']));
    expect(n.timeZones).not.toContain('America/Detroit'); // same offsets as New York
    expect(new Set(n.timeZones).size).toBe(n.timeZones.length);
  });

  it('Spain: Madrid first, then the Canaries', () => {
    expect(ok('+34 922 123 456').timeZones).toEqual(['Europe/Madrid', 'Atlantic/Canary']);
  });

  it('Germany: a single zone (Busingen merged)', () => {
    expect(ok('+49 30 123456').timeZones).toEqual(['Europe/Berlin']);
  });

  it('New Caledonia (+687) is another plan', () => {
    expect(ok('+687 27 12 34')).toMatchObject({ territory: 'NC', timeZones: ['Pacific/Noumea'] });
  });

  it('a mobile of another plan is a mobile', () => {
    expect(ok('+44 7400 123456').kind).toBe('mobile');
  });

  it('a country with no known zone is refused with a hint', () => {
    expect(err('+383 44 123 456')).toMatch(/no time zone is known for country XK.*contact\.timeZone/);
  });

  it('an international non-geographic number is refused', () => {
    expect(err('+800 1234 5678')).toMatch(/non-geographic/);
  });
});

describe('the usual punctuation of written numbers (issue 11.8)', () => {
  it.each([
    '(01) 23 45 67 89',
    '01 23 45 67 89',
    '01.23.45.67.89',
    '01-23-45-67-89',
    '01/23/45/67/89',
    '01 - 23 - 45 - 67 - 89',
    '01\u00a023\u202f45 67  89',
    '+33 (0)1 23 45 67 89',
    '+33(0)123456789',
    '(+33) 1 23 45 67 89'.replace('(+33)', '+33'),
  ])('%j is +33123456789', (written) => {
    expect(ok(written).e164).toBe('+33123456789');
  });
  it('a bracketed area code abroad', () => {
    expect(ok('+1 (212) 555-0100').e164).toBe('+12125550100');
  });
});

describe('invalid input is refused with a message saying what is wrong; never throws', () => {
  it.each([
    ['', /empty/],
    ['   ', /empty/],
    ['abc', /contains letters/],
    ['06 12 34 56 7a', /contains letters/],
    ['tel:+33612345678', /contains letters/],
    ['06#1234567', /contains "#"/],
    ['06*12345678', /contains "\*"/],
    ['06--12 34 56 78', /is not written as a phone number/],
    ['06(12)(34 56 78', /is not written as a phone number/],
    ['(06 12 34 56 78)', /is not written as a phone number/],
    ['06 12 34 56 78-', /is not written as a phone number/],
    ['06 12\u0007 34 56 78', /contains "\\x07"/],
    ['0612+345678', /'\+' is only allowed at the start/],
    ['+', /no digits/],
    ['()', /no digits/],
    ['061234567', /9 digits: a French national number has 10/],
    ['06123456789', /11 digits: a French national number has 10/],
    ['612345678', /9 digits and no leading 0: write it 0612345678 or \+33612345678/],
    ['+33 6 12 34 56 7', /9 digits after \+33.*got 8/],
    ['+33 6 12 34 56 78 9', /9 digits after \+33.*got 10/],
    ['+596 596 12 34 5', /9 digits after \+596.*got 8/],
    ['+1234567890123456', /at most 15/],
    ['0700000000', /not an assigned number in metropolitan France/],
    ['+33 7 12 34 56 78', /not an assigned number/],
    ['+999 123456', /not a valid international number/],
    ['1234567', /ambiguous/],
  ])('%j → %s', (input, message) => {
    expect(err(input)).toMatch(message);
  });

  it('a non-string input is refused, not thrown', () => {
    expect(normalizeNumber(null as unknown as string)).toEqual({
      ok: false,
      error: expect.stringMatching(/must be a string/),
    });
  });

  it('random garbage never throws and always returns a well-formed result', () => {
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const alphabet = '0123456789+ .-()/#*aZ\u00a0';
    for (let i = 0; i < 3000; i++) {
      const len = Math.floor(rand() * 18);
      let s = '';
      for (let j = 0; j < len; j++) s += alphabet[Math.floor(rand() * alphabet.length)];
      const r = normalizeNumber(s);
      if (r.ok) {
        expect(r.value.timeZones.length).toBeGreaterThan(0);
        expect(r.value.territories[0]).toBe(r.value.territory);
      } else {
        expect(r.error.length).toBeGreaterThan(10);
      }
    }
  });
});

describe('every zone returned is a real IANA zone', () => {
  it.each([
    '0612345678',
    '0590811234',
    '0590871234',
    '0594123456',
    '0596123456',
    '0262123456',
    '0639123456',
    '0947812345',
    '+508411234',
    '+1 212 555 1234',
    '+7 495 123 45 67',
    '+61 2 9876 5432',
  ])('%s', (input) => {
    for (const z of ok(input).timeZones) expect(IANAZone.isValidZone(z)).toBe(true);
  });
});
