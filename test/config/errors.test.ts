/** The CG_ERR_* catalogue (src/errors.ts), its documentation (docs/errors.md) and the code that uses it agree. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { ERRORS, errorInfo } from '../../src/errors';

const root = path.join(__dirname, '..', '..');

function docsTable(): Map<string, { meaning: string; fix: string }> {
  const md = readFileSync(path.join(root, 'docs', 'errors.md'), 'utf8');
  const rows = new Map<string, { meaning: string; fix: string }>();
  for (const line of md.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    // '| code | meaning | fix |' → ['', code, meaning, fix, '']
    if (cells.length === 5 && /^CG_ERR_[A-Z_]+$/.test(cells[1]!))
      rows.set(cells[1]!, { meaning: cells[2]!, fix: cells[3]! });
  }
  return rows;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('error catalogue', () => {
  it('docs/errors.md lists exactly the codes of src/errors.ts, with the same meaning and fix', () => {
    const docs = docsTable();
    expect([...docs.keys()].sort()).toEqual(Object.keys(ERRORS).sort());
    for (const [code, info] of Object.entries(ERRORS)) expect({ code, ...docs.get(code) }).toEqual({ code, ...info });
  });

  // Prefixes such as CG_ERR_FS_* or `CG_ERR_FS_${string}` are not codes.
  it('every CG_ERR_* code written in src/ is in the catalogue', () => {
    const unknown = new Set<string>();
    for (const file of tsFiles(path.join(root, 'src'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/CG_ERR_[A-Z][A-Z_]*[A-Z](?![A-Z_$])/g)) {
        if (!errorInfo(m[0])) unknown.add(`${m[0]} (${path.relative(root, file)})`);
      }
    }
    expect([...unknown]).toEqual([]);
  });

  // One catalogue: an error class that derives from Error directly (or from another such class)
  // reaches the command line and the log as CG_ERR_INTERNAL, whatever it means.
  it('every error class in src/ derives from CallgateError', () => {
    const parents = new Map<string, { parent: string; file: string }>();
    for (const file of tsFiles(path.join(root, 'src'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/\bclass\s+(\w+)\s+extends\s+([\w.]+)/g))
        parents.set(m[1]!, { parent: m[2]!, file: path.relative(root, file) });
    }
    const derivesFromError = (name: string, seen = new Set<string>()): boolean =>
      name === 'Error' ||
      (!seen.has(name) && parents.has(name) && derivesFromError(parents.get(name)!.parent, seen.add(name)));
    const reachesCatalogue = (name: string, seen = new Set<string>()): boolean =>
      name === 'CallgateError' ||
      (!seen.has(name) && parents.has(name) && reachesCatalogue(parents.get(name)!.parent, seen.add(name)));
    const outside = [...parents]
      .filter(([name]) => name !== 'CallgateError' && derivesFromError(name) && !reachesCatalogue(name))
      .map(([name, { file }]) => `${name} (${file})`);
    expect(parents.size).toBeGreaterThan(5);
    expect(outside).toEqual([]);
  });

  it('errorInfo answers only for our codes', () => {
    expect(errorInfo('CG_ERR_CONFIG')?.fix).toMatch(/callgate config check/);
    expect(errorInfo('toString')).toBeUndefined();
    expect(errorInfo('CG_ERR_NOPE')).toBeUndefined();
  });
});
