/**
 * isAssigned (src/core/numbers.ts) is libphonenumber's isValid with the
 * patterns compiled once: it must agree with it on every number, valid or not.
 */
import maxMetadata from 'libphonenumber-js/metadata.max.json';
import { PhoneNumber } from 'libphonenumber-js/max';
import { isAssigned } from '../../src/core/numbers';

const RegionNumber = PhoneNumber as unknown as new (
  region: string,
  nsn: string,
  metadata: object,
) => { isValid(): boolean };

/** Deterministic pseudo-random digits (xorshift), so a failure is reproducible. */
function* digits(seed: number): Generator<string> {
  let x = seed;
  for (;;) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    yield String(Math.abs(x) % 10);
  }
}

test.each(['FR', 'GP', 'MF', 'BL', 'GF', 'MQ', 'RE', 'YT'])(
  '%s: isAssigned agrees with libphonenumber isValid on every 4-digit prefix, several lengths',
  (region) => {
    const rnd = digits(region.charCodeAt(0) * 31 + region.charCodeAt(1));
    const more = (n: number) => Array.from({ length: n }, () => rnd.next().value as string).join('');
    let valid = 0;
    const disagree: string[] = [];
    for (let prefix = 0; prefix < 10_000; prefix++) {
      const p = String(prefix).padStart(4, '0');
      for (const nsn of [p + more(5), p + more(5), p + '00000', p + '99999', p + more(4), p + more(6)]) {
        const expected = new RegionNumber(region, nsn, maxMetadata).isValid();
        if (expected) valid++;
        if (isAssigned(region, nsn) !== expected) disagree.push(nsn);
      }
    }
    expect(disagree.slice(0, 10)).toEqual([]);
    expect(valid).toBeGreaterThan(100); // the sample does reach assigned ranges
  },
);
