/**
 * An option left without its value must be named as such, not reported as a
 * missing other option (`check --to --caller-id X` used to say "--caller-id not
 * specified"). In-process: these usage errors are found before any config or store.
 */
import { run } from '../../src/cli/main';

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(args, { out: (s) => void (out += s), err: (s) => void (err += s) });
  return { code, out, err };
}

describe('an option value that is another option', () => {
  it('check --to --caller-id X names --to as the option without a value', async () => {
    const r = await cli(['check', '--to', '--caller-id', '0162123456', '--at', '2026-11-24T11:00']);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toBe(
      'callgate: --to: no value given ("--caller-id" is the next option, not a value for --to); e.g. --to 0123456789\n',
    );
    expect(r.err).not.toMatch(/not specified/);
  });

  it('the last value-taking option before another one, in any command', async () => {
    const r = await cli(['consent', 'add', '0123456789', '--professional', '--source', 'web']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^callgate: --professional: no value given \("--source" is the next option/);
    expect(r.err).toMatch(/e\.g\. --professional acme/);

    const dnc = await cli(['dnc', 'add', '0123456789', '--reason', '--professional', 'acme']);
    expect(dnc.err).toMatch(/^callgate: --reason: no value given/);

    const imp = await cli(['opposition', 'import', 'list.csv', '--as-of', '--config', 'x.yaml']);
    expect(imp.err).toMatch(/^callgate: --as-of: no value given \("--config"/);

    const eq = await cli(['check', '--to=--caller-id', '--caller-id', '0162123456']);
    expect(eq.err).toMatch(/^callgate: --to: no value given/);
  });

  it('ordinary values, including ones starting with a single dash or a +, go through to the next check', async () => {
    // the config does not exist: the command gets as far as loading it, so the values were accepted
    const r = await cli([
      'check',
      '--to',
      '+33123456789',
      '--caller-id',
      'anonymous',
      '--config',
      '/nonexistent/c.yaml',
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/c\.yaml/);
    expect(r.err).not.toMatch(/no value given/);
    const reason = await cli(['dnc', 'add', '0123456789', '--reason', '-5% promo', '--config', '/nonexistent/c.yaml']);
    expect(reason.err).not.toMatch(/no value given/);
  });
});
