/**
 * locatePostalCode / locateTimeZone / countryTimeZones — FR-RULES.md §5 (local
 * holidays: Alsace-Moselle, overseas) and §7 (a dialer-supplied location overrides the number).
 */
import { IANAZone } from 'luxon';
import { countryTimeZones, locatePostalCode, locateTimeZone, type Location } from '../../src/core/postal';

function loc(code: string): Location {
  const r = locatePostalCode(code);
  if (!r.ok) throw new Error(`expected ${JSON.stringify(code)} to be located, got: ${r.error}`);
  return r.value;
}

describe('locatePostalCode', () => {
  it.each([
    ['57000', true],
    ['57100', true],
    ['57999', true],
    ['67000', true],
    ['67500', true],
    ['68000', true],
    ['68100', true],
    ['54000', false], // Meurthe-et-Moselle is not Alsace-Moselle
    ['56000', false],
    ['58000', false],
    ['66000', false],
    ['69000', false],
    ['75008', false],
    ['01000', false],
    ['95000', false],
    ['20000', false], // Corse-du-Sud
    ['20200', false], // Haute-Corse
  ])('%s → FR, Europe/Paris, alsaceMoselle %s', (code, am) => {
    expect(loc(code)).toEqual({ territory: 'FR', territories: ['FR'], timeZones: ['Europe/Paris'], alsaceMoselle: am });
  });

  it.each([
    ['97100', 'GP', 'America/Guadeloupe'],
    ['97110', 'GP', 'America/Guadeloupe'],
    ['97132', 'GP', 'America/Guadeloupe'],
    ['97133', 'BL', 'America/St_Barthelemy'],
    ['97134', 'GP', 'America/Guadeloupe'],
    ['97149', 'GP', 'America/Guadeloupe'],
    ['97150', 'MF', 'America/Marigot'],
    ['97151', 'GP', 'America/Guadeloupe'],
    ['97200', 'MQ', 'America/Martinique'],
    ['97300', 'GF', 'America/Cayenne'],
    ['97400', 'RE', 'Indian/Reunion'],
    ['97500', 'PM', 'America/Miquelon'],
    ['97600', 'YT', 'Indian/Mayotte'],
    ['98000', 'MC', 'Europe/Monaco'],
    ['98600', 'WF', 'Pacific/Wallis'],
    ['98800', 'NC', 'Pacific/Noumea'],
  ])('%s → %s, %s', (code, territory, zone) => {
    expect(loc(code)).toEqual({ territory, territories: [territory], timeZones: [zone], alsaceMoselle: false });
  });

  it('98714 → French Polynesia with its three zones, Tahiti first', () => {
    expect(loc('98714')).toMatchObject({
      territory: 'PF',
      timeZones: ['Pacific/Tahiti', 'Pacific/Marquesas', 'Pacific/Gambier'],
    });
  });

  it.each([' 67000 ', '67 000', 'F-67000', 'FR67000', 'fr-67000'])('accepts the written form %j', (code) => {
    expect(loc(code)).toMatchObject({ territory: 'FR', alsaceMoselle: true });
  });

  it.each([
    ['', /empty/],
    ['   ', /empty/],
    ['abcde', /other than digits/],
    ['67-000', /other than digits/],
    ['7500', /4 digits: a leading zero was probably lost \(write "07500"\)/],
    ['750080', /6 digits: a French postal code has exactly 5/],
    ['123', /3 digits/],
    ['00100', /no département starts with 00/],
    ['96000', /not a French postal code/],
    ['97700', /not a French postal code/],
    ['98100', /not a French postal code/],
    ['98001', /not assigned \(Monaco is 98000\)/],
    ['99999', /not a French postal code/],
  ])('%j → error %s', (code, message) => {
    const r = locatePostalCode(code);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(message);
  });

  it('a non-string is refused, not thrown', () => {
    expect(locatePostalCode(67000 as unknown as string).ok).toBe(false);
  });
});

describe('locateTimeZone', () => {
  it.each([
    ['Europe/Paris', 'FR', 'Europe/Paris'],
    ['europe/paris', 'FR', 'Europe/Paris'],
    ['America/Martinique', 'MQ', 'America/Martinique'],
    ['America/Guadeloupe', 'GP', 'America/Guadeloupe'],
    ['America/Marigot', 'MF', 'America/Marigot'],
    ['America/St_Barthelemy', 'BL', 'America/St_Barthelemy'],
    ['America/Cayenne', 'GF', 'America/Cayenne'],
    ['Indian/Reunion', 'RE', 'Indian/Reunion'],
    ['Indian/Mayotte', 'YT', 'Indian/Mayotte'],
    ['America/Miquelon', 'PM', 'America/Miquelon'],
    ['Asia/Tokyo', 'JP', 'Asia/Tokyo'],
    ['US/Eastern', 'US', 'America/New_York'],
    ['UTC', 'ZZ', 'UTC'],
  ])('%s → %s (%s)', (zone, territory, canonical) => {
    expect(locateTimeZone(zone)).toEqual({
      ok: true,
      value: { territory, territories: [territory], timeZones: [canonical], alsaceMoselle: false },
    });
  });

  it.each([
    ['', /empty/],
    ['Mars/Olympus_Mons', /not an IANA zone name/],
    ['+01:00', /not an IANA zone name/],
    ['GMT+1', /not an IANA zone name/],
    ['Europe/Paris; DROP TABLE', /not an IANA zone name/],
    ['Paris', /not an IANA zone name/],
  ])('%j → error %s', (zone, message) => {
    const r = locateTimeZone(zone);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(message);
  });
});

describe('countryTimeZones', () => {
  it('France has one zone', () => {
    expect(countryTimeZones('FR')).toEqual(['Europe/Paris']);
  });

  it('the United States: New York first, distinct offsets only, all valid', () => {
    const zones = countryTimeZones('US');
    expect(zones[0]).toBe('America/New_York');
    expect(zones).toEqual(
      expect.arrayContaining([
        'America/Chicago',
        'America/Denver',
        'America/Phoenix',
        'America/Los_Angeles',
        'America/Anchorage',
        'Pacific/Honolulu',
      ]),
    );
    expect(zones).not.toContain('America/Detroit');
    for (const z of zones) expect(IANAZone.isValidZone(z)).toBe(true);
  });

  it('Russia: Moscow first', () => {
    expect(countryTimeZones('RU')[0]).toBe('Europe/Moscow');
  });

  it('an unknown country has no zone', () => {
    expect(countryTimeZones('XK')).toEqual([]);
  });
});
