/** CSV imports through the command: reports with line numbers, whole-file rejection that writes nothing. */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CALLEE, CALLEE_E164, CALLER, TUESDAY_11H, json, sandbox, type Sandbox } from './helpers';

let sb: Sandbox;
beforeEach(() => {
  sb = sandbox();
});
afterEach(() => sb.cleanup());

/** Tuesday 16 June 2026, 11:00 Paris: the legacy opposition regime. */
const JUNE_TUESDAY = '2026-06-16T11:00';

describe('callgate … import', () => {
  it('imports the good lines of a consent file and reports each broken line by its number', () => {
    const file = sb.write(
      'consents.csv',
      [
        'number,professional,categories,collected_at,source',
        `${CALLEE},acme,energy,2026-11-01,web form 1`, // line 2
        'not-a-number,acme,energy,2026-11-01,web form 2', // line 3: bad number
        '0123456780,acme,energy|gas,2026-11-01T10:30,web form 3', // line 4
        '0123456781,acme,energy,2026-13-45,web form 4', // line 5: bad date
        '0123456782,acme,,2026-11-02,', // line 6
      ].join('\n') + '\n',
    );
    const r = sb.run(['consent', 'import', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/5 line\(s\): 3 inserted, 0 updated, 0 unchanged, 2 rejected/);
    expect(r.stdout).toMatch(/WITHOUT the 2 rejected line\(s\)/);
    expect(r.stdout).toMatch(/line 3: .*not-a-number/);
    expect(r.stdout).toMatch(/line 5: .*collected_at/);
    expect(r.stdout).not.toMatch(/line [246]:/);

    // the imported consent is a legal basis; the rejected number has none
    expect(sb.run(['check', '--to', CALLEE, '--caller-id', CALLER, '--at', TUESDAY_11H]).code).toBe(0);
    expect(sb.run(['check', '--to', '0123456781', '--caller-id', CALLER, '--at', TUESDAY_11H]).code).toBe(1);
    const h = json(sb.run(['history', '0123456780', '--json']));
    expect(h.consents[0].categories).toEqual(['energy', 'gas']);
  });

  it('rejects a file with a bad header as a whole: exit 2, the store unchanged', () => {
    expect(sb.run(['consent', 'add', CALLEE, '--professional', 'acme', '--collected-at', '2026-11-01']).code).toBe(0);
    const before = sb.run(['history', CALLEE, '--json']).stdout;
    const file = sb.write('bad.csv', `telephone,pro,date\n${CALLEE},acme,2026-11-01\n0123456780,acme,2026-11-01\n`);
    const r = sb.run(['consent', 'import', file]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/rejected as a whole, nothing written/);
    expect(r.stderr).toMatch(/number/);
    expect(sb.run(['history', CALLEE, '--json']).stdout).toBe(before);
    expect(json(sb.run(['history', '0123456780', '--json'])).consents).toEqual([]);
  });

  it('a rejected import does not even create the database', () => {
    const file = sb.write('bad.csv', `telephone\n${CALLEE}\n`);
    const r = sb.run(['dnc', 'import', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown column/);
    expect(existsSync(sb.db)).toBe(false);
  });

  it('dnc import: numbers for every or one professional', () => {
    const file = sb.write('dnc.csv', `number,professional,reason\n${CALLEE},,complaint\n0123456780,other-pro,\n`);
    const r = sb.run(['dnc', 'import', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/2 inserted, 0 updated, 0 unchanged, 0 rejected/);
    const h = json(sb.run(['history', CALLEE, '--json']));
    expect(h.dnc).toHaveLength(1);
    expect(h.dnc[0].reason).toBe('complaint');
  });

  it('contract import gives the CONS-5 legal basis', () => {
    const file = sb.write(
      'contracts.csv',
      `number,professional,categories,start,end\n${CALLEE},acme,energy,2026-01-01,\n`,
    );
    expect(sb.run(['contract', 'import', file]).code).toBe(0);
    const r = sb.run(['check', '--to', CALLEE, '--caller-id', CALLER, '--at', TUESDAY_11H, '--json']);
    expect(r.code).toBe(0);
    expect(json(r).basis).toBe('contract');
  });

  it('opposition import --as-of: a listed number is blocked in the legacy regime, and the list dates the screening', () => {
    const file = sb.write('bloctel.csv', `number\n${CALLEE_E164}\n`);
    const r = sb.run(['opposition', 'import', file, '--as-of', '2026-06-01']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/1 number\(s\) on the list/);
    const listed = sb.run(['check', '--to', CALLEE, '--caller-id', CALLER, '--at', JUNE_TUESDAY, '--json']);
    expect(listed.code).toBe(1);
    const d = json(listed);
    expect(d.regime).toBe('opposition');
    expect(d.reasons.map((x: { code: string }) => x.code)).toEqual(['opposition_list']);
    // another number passes while the list is fresh …
    expect(sb.run(['check', '--to', '0123456780', '--caller-id', CALLER, '--at', JUNE_TUESDAY]).code).toBe(0);
    // … and cannot be screened once it is more than 30 days old (OPP-2)
    const stale = sb.run(['check', '--to', '0123456780', '--caller-id', CALLER, '--at', '2026-07-21T11:00', '--json']);
    expect(stale.code).toBe(1);
    expect(json(stale).reasons.map((x: { code: string }) => x.code)).toContain('opposition_list_stale');
  });

  it('opposition import with a bad --as-of is a usage error', () => {
    const file = sb.write('bloctel.csv', `number\n${CALLEE_E164}\n`);
    const r = sb.run(['opposition', 'import', file, '--as-of', '1 June']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--as-of: "1 June" is not a date/);
  });

  it('importing the same file again reports its rows as unchanged, not as inserted', () => {
    const file = sb.write('dnc.csv', `number,professional,reason\n${CALLEE},acme,complaint\n0123456780,,\n`);
    expect(sb.run(['dnc', 'import', file]).stdout).toMatch(
      /2 line\(s\): 2 inserted, 0 updated, 0 unchanged, 0 rejected/,
    );
    const again = sb.run(['dnc', 'import', file]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/2 line\(s\): 0 inserted, 0 updated, 2 unchanged, 0 rejected/);
  });

  it('a consent file imported again with withdrawals blocks the withdrawn numbers at once (issue 11.1)', () => {
    const header = 'number,professional,categories,collected_at,withdrawn_at,source';
    const first = sb.write(
      'c1.csv',
      `${header}\n${CALLEE},acme,energy,2026-11-01,,web 1\n0123456780,acme,energy,2026-11-01,,web 2\n`,
    );
    expect(sb.run(['consent', 'import', first]).stdout).toMatch(/2 inserted, 0 updated, 0 unchanged/);
    expect(sb.run(['check', '--to', CALLEE, '--caller-id', CALLER, '--at', TUESDAY_11H]).code).toBe(0);
    const later = sb.write(
      'c2.csv',
      `${header}\n${CALLEE},acme,energy,2026-11-01,2026-11-20T18:00,web 1\n0123456780,acme,energy,2026-11-01,,web 2\n`,
    );
    const r = sb.run(['consent', 'import', later]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/2 line\(s\): 0 inserted, 1 updated, 1 unchanged, 0 rejected/);
    const blocked = sb.run(['check', '--to', CALLEE, '--caller-id', CALLER, '--at', TUESDAY_11H, '--json']);
    expect(blocked.code).toBe(1);
    expect(json(blocked).reasons.map((x: { code: string }) => x.code)).toEqual(['consent_withdrawn']);
    expect(sb.run(['check', '--to', '0123456780', '--caller-id', CALLER, '--at', TUESDAY_11H]).code).toBe(0);
    // the first file again does not bring the consent back
    expect(sb.run(['consent', 'import', first]).stdout).toMatch(/0 inserted, 0 updated, 2 unchanged/);
    expect(sb.run(['check', '--to', CALLEE, '--caller-id', CALLER, '--at', TUESDAY_11H]).code).toBe(1);
  });

  it('a line naming a professional the config does not declare is rejected with its number', () => {
    const file = sb.write(
      'consents.csv',
      `number,professional,collected_at\n${CALLEE},acme,2026-11-01\n0123456780,ghost,2026-11-01\n0123456781,other-pro,2026-11-01\n`,
    );
    const r = sb.run(['consent', 'import', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/3 line\(s\): 2 inserted, 0 updated, 0 unchanged, 1 rejected/);
    expect(r.stdout).toContain(
      'line 3: professional: "ghost" is not a professional declared in the config (declared: acme, other-pro)',
    );
    expect(json(sb.run(['history', '0123456780', '--json'])).consents).toEqual([]);
    // dnc: an empty professional means every professional and is not checked
    const dnc = sb.write('dnc.csv', `number,professional\n${CALLEE},\n0123456780,ghost\n0123456781,acme\n`);
    const d = sb.run(['dnc', 'import', dnc]);
    expect(d.stdout).toMatch(/2 inserted, 0 updated, 0 unchanged, 1 rejected/);
    expect(d.stdout).toMatch(/line 3: professional: "ghost"/);
  });

  it('a semicolon-separated file is refused as a whole with the fix, and creates no database', () => {
    const file = sb.write('excel.csv', `number;professional;collected_at\r\n${CALLEE};acme;2026-11-01\r\n`);
    const r = sb.run(['consent', 'import', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/rejected as a whole, nothing written/);
    expect(r.stderr).toMatch(/separated by semicolons .*commas as the field separator/);
    expect(r.stderr).not.toMatch(/unknown column/);
    expect(existsSync(sb.db)).toBe(false);
  });

  it('a Latin-1 file is refused as a whole, naming the first line that is not UTF-8', () => {
    const file = join(sb.dir, 'latin1.csv');
    writeFileSync(
      file,
      Buffer.concat([
        Buffer.from(`number,professional,collected_at,source\n${CALLEE},acme,2026-11-01,web\n`, 'utf8'),
        Buffer.from('0123456780,acme,2026-11-01,caf\xe9\n', 'latin1'),
      ]),
    );
    const r = sb.run(['consent', 'import', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/line 3 is not UTF-8 \(".*caf\\xE9"\); the file must be UTF-8/);
    expect(r.stderr).toMatch(/CSV UTF-8/);
    expect(existsSync(sb.db)).toBe(false);
  });

  it('each import help lists its CSV columns', () => {
    const r = sb.run(['consent', 'import', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/required: number, professional, collected_at/);
    expect(sb.run(['contract', 'import', '--help']).stdout).toMatch(
      /required: number, professional, categories \(a\|b\), start/,
    );
    expect(sb.run(['dnc', 'import', '--help']).stdout).toMatch(/required: number\n/);
    expect(sb.run(['opposition', 'import', '--help']).stdout).toMatch(/one number per line/);
    expect(r.stdout).toMatch(/Professional ids must be declared in the config: a line naming another one is rejected/);
    expect(r.stdout).not.toMatch(/does not check them/);
    expect(r.stdout).toMatch(/UTF-8 and comma-separated/);
  });
});
