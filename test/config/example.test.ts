/**
 * config/callgate.example.yaml says it shows every key: held to the schema. The key list is read
 * from the zod schema itself (src/config/schema.ts and the PBX sections it includes), so a key
 * added to or removed from the schema fails here until the example follows.
 *
 * Keys the example shows commented out (alternatives such as clock.at, the PBX sections that a
 * copy of the example must not turn on) are written `# key: value` at the indentation the key
 * would have: uncommenting them gives the full tree of keys the example documents.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import { parseConfig } from '../../src/config';
import { configSchema } from '../../src/config/schema';
import { asteriskConfigSchema } from '../../src/pbx/asterisk/config';
import { freeswitchConfigSchema } from '../../src/pbx/freeswitch/config';

const EXAMPLE = path.join(__dirname, '..', '..', 'config', 'callgate.example.yaml');

type Def = {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  options?: z.ZodType[];
  element?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
};
const def = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** A key the schema keeps only to refuse it (removedKey: an optional `never`). */
function isRemoved(s: z.ZodType): boolean {
  const d = def(s);
  return d.type === 'never' || (d.type === 'optional' && def(d.innerType!).type === 'never');
}

/** Every key path of a schema: `a.b`, arrays as `a[].b`; a union contributes the keys of each object option. */
function schemaKeys(schema: z.ZodType, prefix = ''): string[] {
  const d = def(schema);
  switch (d.type) {
    case 'object':
      return Object.entries(d.shape!).flatMap(([k, v]) => {
        if (isRemoved(v)) return []; // a removed key (src/config/removed.ts): refused with what replaces it
        const p = prefix ? `${prefix}.${k}` : k;
        return [p, ...schemaKeys(v, p)];
      });
    case 'optional':
    case 'default':
    case 'prefault':
    case 'nullable':
    case 'readonly':
      return schemaKeys(d.innerType!, prefix);
    case 'pipe':
      return [...schemaKeys(d.in!, prefix), ...schemaKeys(d.out!, prefix)];
    case 'union':
      return [...new Set(d.options!.flatMap((o) => schemaKeys(o, prefix)))];
    case 'array':
      return schemaKeys(d.element!, `${prefix}[]`);
    default:
      return [];
  }
}

/** Every key path of a parsed YAML value, in the same notation. */
function valueKeys(v: unknown, prefix = ''): string[] {
  if (Array.isArray(v)) return [...new Set(v.flatMap((x) => valueKeys(x, `${prefix}[]`)))];
  if (v === null || typeof v !== 'object') return [];
  return Object.entries(v as Record<string, unknown>).flatMap(([k, x]) => {
    const p = prefix ? `${prefix}.${k}` : k;
    return [p, ...valueKeys(x, p)];
  });
}

/**
 * The example with its commented-out keys turned into keys (`# at: …` → `at: …`, twice for a key
 * commented out inside a commented-out section), prose left as comments.
 */
function uncommented(text: string): string {
  const key = /^\s*(?:- )?[a-z][A-Za-z0-9]*:(?:\s|$)/;
  const commentedKey = /^\s*# ?\s*(?:- )?[a-z][A-Za-z0-9]*:(?:\s|$)/;
  const uncomment = (line: string): string => {
    let out = line;
    for (let level = 0; level < 2; level++) {
      const m = /^(\s*)# ?(.*)$/.exec(out);
      if (!m) break;
      const candidate = m[1]! + m[2]!;
      if (!key.test(candidate) && !commentedKey.test(candidate)) break;
      out = candidate;
    }
    return key.test(out) ? out : line;
  };
  return text.split('\n').map(uncomment).join('\n');
}

/**
 * Its top-level sections, each parsed on its own: an alternative section shown commented out
 * (a PostgreSQL `store:` after the SQLite one) is a second `store:` once uncommented.
 */
function sections(yamlText: string): Record<string, unknown>[] {
  const chunks: string[][] = [];
  for (const line of yamlText.split('\n')) {
    if (/^[A-Za-z]\w*:/.test(line) || chunks.length === 0) chunks.push([]);
    chunks[chunks.length - 1]!.push(line);
  }
  return chunks.map((c) => (YAML.parse(c.join('\n'), { uniqueKeys: true }) ?? {}) as Record<string, unknown>);
}

const text = readFileSync(EXAMPLE, 'utf8');
const documented = new Set(sections(uncommented(text)).flatMap((section) => valueKeys(section)));

describe('config/callgate.example.yaml', () => {
  it('is a valid configuration as it is', () => {
    expect(() => parseConfig(text, EXAMPLE, { CALLGATE_ARI_PASSWORD: 'x' })).not.toThrow();
  });

  it('shows every key of the schema (set, or commented out where it is an alternative)', () => {
    const keys = schemaKeys(configSchema);
    expect(keys.length).toBeGreaterThan(50);
    expect(keys.filter((k) => !documented.has(k))).toEqual([]);
  });

  it('shows no key the schema does not have (a removed or misspelt key)', () => {
    const keys = new Set(schemaKeys(configSchema));
    expect([...documented].filter((k) => !keys.has(k))).toEqual([]);
  });

  it('reads its commented-out keys where they belong', () => {
    // guards the uncommenting above: a commented key must land under its section
    expect([...documented]).toEqual(
      expect.arrayContaining(['clock.at', 'clock.start', 'asterisk.url', 'freeswitch.inbound.password']),
    );
  });

  it('shows valid values in its commented-out PBX sections (they are meant to be uncommented)', () => {
    const tree = Object.assign({}, ...sections(uncommented(text))) as Record<string, unknown>;
    const asterisk = asteriskConfigSchema.safeParse(tree.asterisk);
    const freeswitch = freeswitchConfigSchema.safeParse(tree.freeswitch);
    expect(asterisk.error?.issues ?? []).toEqual([]);
    expect(freeswitch.error?.issues ?? []).toEqual([]);
  });
});
