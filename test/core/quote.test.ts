/** quoteValue: the one way a message shows a value it was given (issue 11.8). */
import fc from 'fast-check';
import { quoteValue } from '../../src/core/quote';

describe('quoteValue', () => {
  test('plain values are quoted as they are', () => {
    expect(quoteValue('0612345678')).toBe('"0612345678"');
    expect(quoteValue('café ☎ 😀')).toBe('"café ☎ 😀"');
    expect(quoteValue('')).toBe('""');
  });

  test('control characters, bidi overrides, quotes and backslashes are escaped', () => {
    expect(quoteValue('a\u0007b\nc\rd\te')).toBe('"a\\x07b\\nc\\rd\\te"');
    expect(quoteValue('\u001b[2J\u009b')).toBe('"\\x1B[2J\\x9B"');
    expect(quoteValue('say "hi" \\ ok')).toBe('"say \\"hi\\" \\\\ ok"');
    expect(quoteValue('\u202Etxt.exe\u2066\u2028')).toBe('"\\u202Etxt.exe\\u2066\\u2028"');
    expect(quoteValue('lone \ud800 surrogate')).toBe('"lone \\uD800 surrogate"');
  });

  test('long values are cut and say how long they were', () => {
    expect(quoteValue('x'.repeat(2_000_000))).toBe(`"${'x'.repeat(64)}…" (2000000 characters)`);
    expect(quoteValue('😀'.repeat(70), 4)).toBe('"😀😀😀😀…" (70 characters)');
    expect(quoteValue('x'.repeat(64))).toBe(`"${'x'.repeat(64)}"`);
  });

  test('values that are not strings say their type', () => {
    expect(quoteValue(42)).toBe('number 42');
    expect(quoteValue(undefined)).toBe('undefined');
    expect(quoteValue(null)).toBe('null');
  });

  test('property: one printable line of bounded length that reads back to the value when short', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
        const q = quoteValue(s);
        // eslint-disable-next-line no-control-regex -- the messages must hold none
        if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/.test(q)) return false;
        if (q.length > 64 * 6 + 40) return false;
        if (Array.from(s).length > 64) return q.includes('characters)');
        return JSON.parse(q.replace(/\\x([0-9A-F]{2})/g, '\\u00$1')) === s;
      }),
      { numRuns: 2000 },
    );
  });
});
