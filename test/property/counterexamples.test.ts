/**
 * The shrunk counter-examples the property tests of this folder found, kept as regular tests (each
 * with the defect it showed and the fix).
 */
import { ConfigError, parseConfig } from '../../src/config';

describe('config loader', () => {
  // found by parsers.test.ts ("random YAML text"): a RangeError (maximum call stack size exceeded)
  // out of the environment expansion, instead of a configuration error
  test.each(['a: &x [*x]', 'store: &s { driver: memory, again: *s }', '&a [*a]'])(
    'an alias inside its own anchor (%s) is a CG_ERR_CONFIG error, not a stack overflow',
    (text) => {
      const e = (() => {
        try {
          parseConfig(text, '<test>', {});
        } catch (err) {
          return err;
        }
      })();
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).code).toBe('CG_ERR_CONFIG');
      expect((e as ConfigError).problems).toEqual([
        { path: 'YAML', message: expect.stringMatching(/inside the very node its anchor/) as unknown },
      ]);
    },
  );

  test('an anchor used twice, neither inside the other, is still fine', () => {
    const c = parseConfig(
      `store: {driver: memory}
professionals: [{id: acme}]
campaigns:
  - &c {id: a, professional: acme, dialing: manual, categories: &cats [energy-supply]}
  - {id: b, professional: acme, dialing: manual, categories: *cats}
`,
      '<test>',
      {},
    );
    expect(c.campaigns.map((x) => x.categories)).toEqual([['energy-supply'], ['energy-supply']]);
  });
});
