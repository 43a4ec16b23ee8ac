/**
 * isoString (src/core/decision-json.ts) remembers the last instant and the last minute's prefix
 * to spare toISOString on the hot path: it must spell every instant as toISOString does, whatever
 * the order instants come in (a decision's instant and its log line's time alternate), across
 * minute, hour, day and year boundaries, before 1970 and outside the years 0000–9999.
 */
import fc from 'fast-check';
import { isoString } from '../../src/core/decision-json';
import { runs } from '../property/seed';

test('the same text as toISOString around minute, day and year boundaries, in any order', () => {
  const edges = [
    Date.UTC(2026, 11, 31, 23, 59, 59, 999),
    Date.UTC(2027, 0, 1, 0, 0, 0, 0),
    Date.UTC(2026, 2, 29, 0, 59, 59, 999), // the night of a DST change in Paris (UTC has none)
    Date.UTC(2026, 2, 29, 1, 0, 0, 0),
    -1,
    0,
    -60_000,
    -60_001,
    Date.UTC(1969, 11, 31, 23, 59, 0, 1),
    Date.UTC(9999, 11, 31, 23, 59, 59, 999),
    Date.UTC(10000, 0, 1, 0, 0, 0, 0),
    Date.UTC(-1, 0, 1, 0, 0, 30, 5),
    8.64e15,
    -8.64e15,
  ];
  for (const a of edges)
    for (const b of edges)
      for (const t of [a, b, a + 1, b + 1000, a, a + 59_999]) {
        const d = new Date(t);
        if (Number.isNaN(d.getTime())) continue;
        expect(isoString(d)).toBe(d.toISOString());
      }
});

test('the same text as toISOString for runs of nearby and distant instants', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          fc.integer({ min: -8.64e15, max: 8.64e15 }),
          fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2026, 0, 1) + 180_000 }),
        ),
        { minLength: 1, maxLength: 20 },
      ),
      (ts) => {
        for (const t of ts) expect(isoString(new Date(t))).toBe(new Date(t).toISOString());
      },
    ),
    runs(500),
  );
});

test('an invalid date throws, as toISOString does', () => {
  isoString(new Date(Date.UTC(2026, 0, 1)));
  expect(() => isoString(new Date(NaN))).toThrow(RangeError);
});
