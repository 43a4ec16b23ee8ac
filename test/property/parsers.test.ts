/**
 * Hostile input, property-based (issue 14.4): the number parser (src/core/numbers.ts), the date
 * parser (src/core/instant.ts) and the config loader (src/config) given anything. Each answers with
 * a value or a clear error of its own kind, never a throw of another kind.
 */
import fc from 'fast-check';
import YAML from 'yaml';
import { ConfigError, parseConfig } from '../../src/config';
import { isJudgeableInstant, parseCalendarDate, parseInstant } from '../../src/core/instant';
import { isEmergencyNumber, normalizeNumber, writtenNumberProblem } from '../../src/core/numbers';
import { runs } from './seed';

/** Strings as a dialer, a CSV or a hand may write them: digits, separators, letters, odd code points. */
const dialled = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: fc.constantFrom(...'0123456789+ .-()/x#*'.split('')), maxLength: 24 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc
    .tuple(fc.constantFrom('', '+', '00', '0', '+33', '0033', '+590', '+262'), fc.stringMatching(/^[0-9]{0,16}$/))
    .map(([p, d]) => p + d),
  fc.constantFrom(
    '\u0000',
    '\uFFFF',
    '\uD800',
    '٠٦١٢٣٤٥٦٧٨',
    '０６１２３４５６７８',
    '+'.repeat(5000),
    '0'.repeat(10_000),
  ),
);

describe('the number parser, given anything', () => {
  test('normalizeNumber answers ok with a canonical E.164 (stable when parsed again) or an error string; never throws', () => {
    fc.assert(
      fc.property(dialled, (raw) => {
        const r = normalizeNumber(raw);
        if (!r.ok) {
          expect(typeof r.error).toBe('string');
          expect(r.error.length).toBeGreaterThan(0);
          return;
        }
        const v = r.value;
        expect(v.e164).toMatch(/^(\+[1-9][0-9]{5,15}|[0-9]{2,6})$/);
        expect(v.territories[0]).toBe(v.territory);
        expect(v.timeZones.length).toBeGreaterThan(0);
        const again = normalizeNumber(v.e164);
        expect(again.ok && again.value.e164).toBe(v.e164);
      }),
      runs(600),
    );
  });

  test('isEmergencyNumber and writtenNumberProblem never throw', () => {
    fc.assert(
      fc.property(dialled, (raw) => {
        expect(typeof isEmergencyNumber(raw)).toBe('boolean');
        const p = writtenNumberProblem(raw);
        expect(p === undefined || typeof p === 'string').toBe(true);
      }),
      runs(400),
    );
  });
});

/** Text shaped like dates, and not. */
const dateish = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: fc.constantFrom(...'0123456789-:T Z+.WwW,/'.split('')), maxLength: 32 }),
  fc
    .tuple(
      fc.integer({ min: -99999, max: 99999 }),
      fc.integer({ min: -1, max: 14 }),
      fc.integer({ min: -1, max: 33 }),
      fc.integer({ min: -1, max: 25 }),
      fc.integer({ min: -1, max: 61 }),
      fc.constantFrom('', 'Z', '+02:00', '-14:00', '+99:99', '+0530', '.5', '.123456789Z', ' Europe/Paris'),
    )
    .map(
      ([y, mo, d, h, mi, tail]) =>
        `${y}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}T${h}:${mi}${tail}`,
    ),
  fc.constantFrom('2026-02-29', '2026-03-29T02:30', '2026-10-25T02:30', '0000-01-01', '+275760-09-13T00:00:00Z', 'NaN'),
);

describe('the date parser, given anything', () => {
  test('parseInstant answers a judgeable instant or an error string, in any zone asked for; never throws', () => {
    fc.assert(
      fc.property(
        dateish,
        fc.constantFrom(undefined, 'Europe/Paris', 'America/Cayenne', 'Indian/Reunion', 'Not/AZone', ''),
        (text, zone) => {
          let r;
          try {
            r = parseInstant(text, zone === undefined ? {} : { zone });
          } catch (e) {
            // an unknown zone is a programming error of the caller, said as such; never a text's fault
            expect(zone === 'Not/AZone' || zone === '').toBe(true);
            expect(e).toBeInstanceOf(Error);
            return;
          }
          if (r.ok) expect(isJudgeableInstant(r.value)).toBe(true);
          else expect(r.error.length).toBeGreaterThan(0);
        },
      ),
      runs(600),
    );
  });

  test('parseCalendarDate answers a real calendar date or an error string', () => {
    fc.assert(
      fc.property(dateish, (text) => {
        const r = parseCalendarDate(text);
        if (!r.ok) return void expect(r.error.length).toBeGreaterThan(0);
        const { year, month, day } = r.value;
        const d = new Date(Date.UTC(year, month - 1, day));
        expect([d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()]).toEqual([year, month, day]);
      }),
      runs(400),
    );
  });

  test('an instant written in ISO form reads back as itself', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1900-01-02T00:00:00Z'), max: new Date('2199-12-30T00:00:00Z'), noInvalidDate: true }),
        (d) => {
          const r = parseInstant(d.toISOString());
          expect(r.ok && r.value.getTime()).toBe(d.getTime());
        },
      ),
      runs(200),
    );
  });
});

/** A valid configuration, the base the mutations below start from. */
const VALID = {
  store: { driver: 'memory' },
  professionals: [{ id: 'acme', callerIds: ['+33162000001'] }],
  campaigns: [
    {
      id: 'c1',
      professional: 'acme',
      purpose: 'prospecting',
      audience: 'consumer',
      dialing: 'manual',
      categories: ['energy-supply'],
    },
  ],
  defaultCampaign: 'c1',
  policy: { failMode: 'closed', maxAttempts: 4 },
  gate: { deadlineMs: 500 },
  log: { level: 'info' },
  asterisk: { url: 'http://127.0.0.1:8088', username: 'u', password: 'p', allowContext: 'callgate-allowed' },
};

/** Paths of every value of an object tree. */
function paths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (v === null || typeof v !== 'object') return [at];
  const keys = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v);
  return [at, ...keys.flatMap((k) => paths((v as Record<string | number, unknown>)[k], [...at, k]))];
}
const VALID_PATHS = paths(VALID).filter((p) => p.length > 0);

function setAt(root: unknown, path: (string | number)[], value: unknown): unknown {
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let o = copy;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  o[path[path.length - 1]!] = value;
  return copy;
}

/** parseConfig's answer: a config, or the ConfigError it threw; anything else fails the property. */
function loadOrConfigError(text: string): 'config' | 'error' {
  try {
    const c = parseConfig(text, '<property>', {});
    expect(Object.isFrozen(c)).toBe(true);
    return 'config';
  } catch (e) {
    if (!(e instanceof ConfigError))
      throw new Error(`parseConfig threw ${String((e as Error)?.name)}: ${String((e as Error)?.message)}`, {
        cause: e,
      });
    expect(e.code).toMatch(/^CG_ERR_CONFIG/);
    expect(e.problems.length).toBeGreaterThan(0);
    return 'error';
  }
}

describe('the config loader, given anything', () => {
  test('the valid base loads', () => {
    expect(loadOrConfigError(YAML.stringify(VALID))).toBe('config');
  });

  test('random YAML text: a valid config or a CG_ERR_CONFIG* error', () => {
    const yamlish = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.string({ unit: fc.constantFrom(...'ab:- \n\t{}[],"\'&*!|>#%@`?0123456789'.split('')), maxLength: 200 }),
      fc.constantFrom(
        'a: &x [*x]',
        '&a [*a, *a]',
        '!!binary AAAA',
        '? [a]\n: b',
        'store: !!js/function "x"',
        '%YAML 9.9\n---\na: 1',
        '---\n---\n',
      ),
    );
    fc.assert(
      fc.property(yamlish, (t) => void loadOrConfigError(t)),
      runs(400),
    );
  });

  test('random documents (any JSON value) as YAML: a valid config or a CG_ERR_CONFIG* error', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (v) => void loadOrConfigError(YAML.stringify(v))),
      runs(200),
    );
  });

  test('the valid config with one value replaced by anything: a valid config or a CG_ERR_CONFIG* error', () => {
    const hostile = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.constantFrom(null, '', -1, 0, 1e308, -0, '${UNSET}', '${A:-${B}}', 'x'.repeat(5000), [], {}, '__proto__', {
        __proto__: { x: 1 },
      }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...VALID_PATHS), hostile, (path, value) => {
        void loadOrConfigError(YAML.stringify(setAt(VALID, path, value)));
      }),
      runs(400),
    );
  });

  test('a key added anywhere: a valid config or a CG_ERR_CONFIG* error', () => {
    const objectPaths = VALID_PATHS.filter((p) => {
      let o: unknown = VALID;
      for (const k of p) o = (o as Record<string | number, unknown>)[k];
      return o !== null && typeof o === 'object' && !Array.isArray(o);
    });
    fc.assert(
      fc.property(
        fc.constantFrom([] as (string | number)[], ...objectPaths),
        fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString')),
        fc.jsonValue({ maxDepth: 2 }),
        (path, key, value) => {
          const doc = structuredClone(VALID) as Record<string, unknown>;
          let o = doc as Record<string | number, unknown>;
          for (const k of path) o = o[k] as Record<string | number, unknown>;
          Object.defineProperty(o, key, { value, enumerable: true, configurable: true, writable: true });
          void loadOrConfigError(YAML.stringify(doc));
        },
      ),
      runs(300),
    );
  });
});
