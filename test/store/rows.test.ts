/** The one set of row checks of the command line and the importer (src/store/rows.ts, issue 11.5). */
import fc from 'fast-check';
import { isJudgeableInstant } from '../../src/core/instant';
import { CLI_ROWS, consentOf, contractOf, CSV_ROWS, RowError, type RowContext } from '../../src/store/rows';

const professionals = ['acme', 'globex'];
const csv: RowContext = { ...CSV_ROWS, professionals };
/** The command line's context with the CSV's names: the separator is then the one difference (names are a table). */
const cli: RowContext = { ...CLI_ROWS, names: CSV_ROWS.names, professionals };

type Outcome = { ok: true; value: unknown } | { ok: false; message: string };
function outcome(fn: () => unknown): Outcome {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    if (!(e instanceof RowError)) throw e; // anything else is a bug
    return { ok: false, message: e.message };
  }
}
/** A message without the separators (`a|b` on one side is `a,b` on the other). */
const plain = (_ctx: RowContext, message: string): string => message.replace(/[,|]/g, '');

const pick = (...values: (string | undefined)[]) => fc.constantFrom(...values);
const dates = pick(
  undefined,
  '2026-11-02',
  '2026-11-01',
  '2026-11-03T10:00',
  '2026-10-25T02:30',
  '2026-03-29T02:30',
  '0026-11-02',
  '9999-12-31',
  '2026-11',
  '11:00',
  '2026-11-02T10:00+15:00',
  '2026-11-02T10:00[Europe/Paris]',
  '2026-11-02T10:00+02:00[Europe/Paris]',
  '',
  'x\u0007',
);
const cats = (sep: string) =>
  fc.oneof(
    pick(undefined, '', sep, `a${sep}${sep}b`, 'energy', `energy${sep}gas${sep}energy`, 'x'.repeat(70), 'a\u001fb'),
    // a comma is a separator on the command line, a character in a CSV category: not generated
    fc.string({ maxLength: 12 }).map((v) => v.replace(/,/g, ';')),
  );
const texts = fc.oneof(pick(undefined, '', 'web form', 'x'.repeat(1001), 'a\nb'), fc.string({ maxLength: 20 }));

describe('rows: the command line and the importer refuse the same things with the same words', () => {
  test('consents (property)', () => {
    fc.assert(
      fc.property(
        fc.record({
          number: pick(
            undefined,
            '',
            '0612345678',
            '(01) 23 45 67 89',
            '112',
            'abc',
            '06--12 34 56 78',
            '+33 6 12 34 56 78',
          ),
          professional: pick(undefined, 'acme', 'ghost', '', 'Acme'),
          categories: cats('|'),
          collectedAt: dates,
          validUntil: dates,
          slot: dates,
          withdrawnAt: dates,
          source: texts,
          automated: pick(undefined, 'yes', 'no', 'maybe', '1'),
        }),
        (w) => {
          // the command line writes categories with commas
          const onCli = { ...w, categories: w.categories?.split('|').join(',') };
          const a = outcome(() => consentOf(csv, w, Date.parse('2026-11-02T09:00:00Z')));
          const b = outcome(() => consentOf(cli, onCli, Date.parse('2026-11-02T09:00:00Z')));
          expect(a.ok).toBe(b.ok);
          if (!a.ok && !b.ok) expect(plain(cli, b.message)).toBe(plain(csv, a.message));
          if (a.ok && b.ok) {
            expect(b.value).toEqual(a.value);
            const c = a.value as ReturnType<typeof consentOf>;
            for (const t of [c.collectedAt, c.validUntil, c.slot, c.withdrawnAt])
              if (t !== null) expect(isJudgeableInstant(new Date(t))).toBe(true);
            if (c.validUntil !== null) expect(c.validUntil).toBeGreaterThan(c.collectedAt);
            if (c.withdrawnAt !== null) expect(c.withdrawnAt).toBeGreaterThanOrEqual(c.collectedAt);
            for (const k of c.categories) expect(k).toMatch(/^\S(.*\S)?$/);
            expect(new Set(c.categories).size).toBe(c.categories.length);
            expect(professionals).toContain(c.professional);
            expect(c.e164).toMatch(/^\+\d+$/);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  test('contracts (property)', () => {
    fc.assert(
      fc.property(
        fc.record({
          number: pick('0612345678', '112', undefined),
          professional: pick('acme', 'ghost'),
          categories: cats('|'),
          start: dates,
          end: dates,
        }),
        (w) => {
          const a = outcome(() => contractOf(csv, w));
          const b = outcome(() => contractOf(cli, { ...w, categories: w.categories?.split('|').join(',') }));
          expect(a.ok).toBe(b.ok);
          if (!a.ok && !b.ok) expect(plain(cli, b.message)).toBe(plain(csv, a.message));
          if (a.ok) {
            const k = a.value as ReturnType<typeof contractOf>;
            expect(k.categories.length).toBeGreaterThan(0);
            if (k.end !== null) expect(k.end).toBeGreaterThan(k.start);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  test('examples from issue 11.5', () => {
    const base = { number: '0612345678', professional: 'acme', collectedAt: '2026-11-02' };
    const refused = (w: Parameters<typeof consentOf>[1]) => outcome(() => consentOf(csv, w));
    expect(refused({ ...base, categories: '|' })).toMatchObject({ ok: false, message: /has an empty category/ });
    expect(refused({ ...base, validUntil: '2026-11-01' })).toMatchObject({
      ok: false,
      message: 'valid_until: "2026-11-01" is not after collected_at "2026-11-02"; a consent ends after it is collected',
    });
    expect(refused({ ...base, withdrawnAt: '2026-11-01' })).toMatchObject({
      ok: false,
      message: /is before collected_at/,
    });
    expect(refused({ ...base, collectedAt: '0026-11-02' })).toMatchObject({ ok: false, message: /year 0026/ });
    expect(refused({ ...base, validUntil: '9999-11-02' })).toMatchObject({ ok: false, message: /year 9999/ });
    expect(refused({ ...base, source: 'x'.repeat(2 * 1024 * 1024) })).toMatchObject({
      ok: false,
      message: /^source: 2097152 characters, at most 1000: "x{64}…" \(2097152 characters\)$/,
    });
  });
});
