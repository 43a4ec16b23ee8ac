import { CliError } from '../../src/cli/errors';
import {
  parseCallerId,
  parseCategories,
  parseDay,
  parseDialled,
  parseInstant,
  parsePostalCode,
} from '../../src/cli/args';

function errorOf(fn: () => unknown): CliError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CliError) return e;
    throw e;
  }
  throw new Error('expected a CliError');
}

describe('parseInstant', () => {
  it('reads a date-time without offset as Europe/Paris wall time (winter, +01:00)', () => {
    expect(parseInstant('2026-11-24T11:00', '--at').toISOString()).toBe('2026-11-24T10:00:00.000Z');
  });

  it('reads a date-time without offset as Europe/Paris wall time (summer, +02:00)', () => {
    expect(parseInstant('2026-06-16T11:00:00', '--at').toISOString()).toBe('2026-06-16T09:00:00.000Z');
  });

  it('keeps an explicit offset or Z', () => {
    expect(parseInstant('2026-11-24T11:00:00-04:00', '--at').toISOString()).toBe('2026-11-24T15:00:00.000Z');
    expect(parseInstant('2026-11-24T11:00:00Z', '--at').toISOString()).toBe('2026-11-24T11:00:00.000Z');
  });

  it('reads a date alone as 00:00 Paris', () => {
    expect(parseInstant('2026-11-24', '--at').toISOString()).toBe('2026-11-23T23:00:00.000Z');
  });

  it('refuses a wall time in the spring DST gap instead of shifting it', () => {
    const e = errorOf(() => parseInstant('2026-03-29T02:30', '--at'));
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/--at: "2026-03-29T02:30" does not exist in Europe\/Paris/);
  });

  it('refuses a wall time of the autumn overlap (it happens twice) and names both offsets', () => {
    const e = errorOf(() => parseInstant('2026-10-25T02:30', '--at'));
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/happens twice in Europe\/Paris/);
    expect(e.message).toContain('2026-10-25T02:30+02:00 (first) or 2026-10-25T02:30+01:00 (second)');
    // with the offset it is one instant; the hours on either side are not ambiguous
    expect(parseInstant('2026-10-25T02:30+01:00', '--at').toISOString()).toBe('2026-10-25T01:30:00.000Z');
    expect(parseInstant('2026-10-25T01:59', '--at').toISOString()).toBe('2026-10-24T23:59:00.000Z');
    expect(parseInstant('2026-10-25T03:00', '--at').toISOString()).toBe('2026-10-25T02:00:00.000Z');
  });

  it('accepts a space instead of the T, as SQL tools print it', () => {
    expect(parseInstant('2026-11-24 11:00', '--at').toISOString()).toBe('2026-11-24T10:00:00.000Z');
    expect(parseInstant('2026-11-24 11:00:00Z', '--at').toISOString()).toBe('2026-11-24T11:00:00.000Z');
  });

  it("names the forms it reads (core's one date parser)", () => {
    const e = errorOf(() => parseInstant('now', '--at'));
    expect(e.message).toBe(
      '--at: "now" is not a date or date-time callgate reads; accepted: 2026-11-24 (00:00 Paris time), 2026-11-24T11:00[:30] (Paris time), the same with Z or an offset (2026-11-24T10:00Z, 2026-11-24T11:00+01:00) or with a time zone in brackets (2026-11-24T11:00[America/Martinique])',
    );
  });

  it('refuses garbage with a message naming the flag and an example', () => {
    for (const bad of ['tomorrow', '2026-13-01T10:00', '2026-02-30', '', '24/11/2026 11:00']) {
      const e = errorOf(() => parseInstant(bad, '--at'));
      expect(e.exitCode).toBe(2);
      expect(e.message).toMatch(/^--at: /);
      expect(e.message).not.toMatch(/\n/);
    }
  });
});

describe('parseDay', () => {
  it('takes YYYY-MM-DD as 00:00 Paris', () => {
    expect(parseDay('2026-08-01', '--as-of').toISOString()).toBe('2026-07-31T22:00:00.000Z');
  });
  it('refuses other shapes', () => {
    expect(errorOf(() => parseDay('01/08/2026', '--as-of')).message).toMatch(/--as-of: "01\/08\/2026" is not a date/);
  });
});

describe('parseCategories', () => {
  it('splits, trims and de-duplicates', () => {
    expect(parseCategories(' energy, telecom ,energy', '--categories')).toEqual(['energy', 'telecom']);
  });
  it('refuses empty items', () => {
    expect(errorOf(() => parseCategories('a,,b', '--categories')).message).toMatch(/empty category/);
    expect(errorOf(() => parseCategories('', '--categories')).exitCode).toBe(2);
  });
});

describe('parsePostalCode', () => {
  it('accepts five digits', () => {
    expect(parsePostalCode('67000', '--postal-code')).toBe('67000');
  });
  it('reads what the gate reads (core locatePostalCode): spaces inside are fine', () => {
    expect(parsePostalCode(' 57 100 ', '--postal-code')).toBe('57 100');
  });
  it('refuses anything else', () => {
    expect(errorOf(() => parsePostalCode('2A004', '--postal-code')).message).toMatch(
      /--postal-code: postal code "2A004" .*expected 5 digits/,
    );
  });
});

describe('parseDialled', () => {
  it('accepts national, international and short forms, leaving validity to the gate', () => {
    expect(parseDialled('01 23 45 67 89', '--to')).toBe('01 23 45 67 89');
    expect(parseDialled('+33123456789', '--to')).toBe('+33123456789');
    expect(parseDialled('112', '--to')).toBe('112');
  });
  it('refuses text that is not a number', () => {
    for (const bad of ['abc', '06xx', '', '+', '--']) {
      expect(errorOf(() => parseDialled(bad, '--to')).message).toMatch(/^--to: .*; give a phone number/);
    }
  });
});

describe('parseCallerId', () => {
  it('maps withheld words to a restricted presentation', () => {
    expect(parseCallerId('anonymous')).toEqual({ number: 'anonymous', presentation: 'restricted' });
    expect(parseCallerId('Restricted').presentation).toBe('restricted');
  });
  it('passes a number through as presented', () => {
    expect(parseCallerId('0162123456')).toEqual({ number: '0162123456', presentation: 'allowed' });
  });
  it('refuses other words', () => {
    expect(errorOf(() => parseCallerId('hello')).message).toMatch(/neither a phone number nor 'anonymous'/);
  });
});
