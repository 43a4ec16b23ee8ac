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

/** Every key path of a schema: `a.b`, arrays as `a[].b`; a union contributes the keys of each object option. */
function schemaKeys(schema: z.ZodType, prefix = ''): string[] {
  const d = def(schema);
  switch (d.type) {
    case 'object':
      return Object.entries(d.shape!).flatMap(([k, v]) => {
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

/** The example with its commented-out keys turned into keys (`# at: …` → `at: …`), prose left as comments. */
function uncommented(text: string): string {
  return text
    .split('\n')
    .map((line) => line.replace(/^(\s*)# ?(\s*(?:- )?[a-z][A-Za-z0-9]*:(?:\s|$).*)$/, '$1$2'))
    .join('\n');
}

const text = readFileSync(EXAMPLE, 'utf8');
const documented = new Set(valueKeys(YAML.parse(uncommented(text), { uniqueKeys: true })));

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
    const tree = YAML.parse(uncommented(text)) as Record<string, unknown>;
    const asterisk = asteriskConfigSchema.safeParse(tree.asterisk);
    const freeswitch = freeswitchConfigSchema.safeParse(tree.freeswitch);
    expect(asterisk.error?.issues ?? []).toEqual([]);
    expect(freeswitch.error?.issues ?? []).toEqual([]);
  });
});
