/**
 * What the docs and the comments name exists: a file a source comment cites is in the repository,
 * a `callgate …` command the docs show is a command of the program, and the docs promise no
 * interface callgate does not have.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { buildProgram } from '../src/cli/program';

const root = path.join(__dirname, '..');
const tracked = execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);
const trackedNames = new Set(tracked.map((f) => path.basename(f)));

/** Files of other software that comments name as such (Asterisk, FreeSWITCH, SQLite configuration and sources). */
const OTHER_SOFTWARE = new Set([
  'http.conf',
  'ari.conf',
  'extensions.conf',
  'event_socket.conf',
  'event_socket.conf.xml',
  'res/ari/resource_channels.c',
  'sqlite3ext.h',
  'pbx.c',
  'app.c',
  'func_timeout.c',
  'ari_websockets.c',
  // a placeholder in a command synopsis (`callgate store copy --to OTHER.yaml`)
  'OTHER.yaml',
]);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'fixtures' || e.name === 'node_modules' ? [] : sources(p);
    return /\.(ts|js)$/.test(e.name) ? [p] : [];
  });
}

const PATH =
  /(?<![\w/.@-])((?:\.{1,2}\/|\/)?[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)*\.(?:ts|js|md|c|h|xml|conf|yaml|yml|json|jsonl|csv|sh|gyp))(?![\w-])/g;

function resolves(cited: string, from: string): boolean {
  if (cited.startsWith('/')) return false; // outside the repository
  if (/^(\.\.\/)*dist\//.test(cited)) return true; // build output
  if (OTHER_SOFTWARE.has(cited)) return true;
  const here = path.dirname(from);
  if (cited.startsWith('../')) return existsSync(path.resolve(here, cited));
  // the file's folder or one above it (src/store for a file of src/store/memory), the root, docs/, a package
  const bases = [path.join(root, 'docs'), path.join(root, 'node_modules')];
  for (let d = here; d.startsWith(root); d = path.dirname(d)) bases.push(d);
  if (bases.some((b) => existsSync(path.join(b, cited)))) return true;
  return !cited.includes('/') && trackedNames.has(cited);
}

describe('source comments', () => {
  it('cite only files that are in the repository (or name another program’s file as such)', () => {
    const missing: string[] = [];
    const files = ['src', 'test', 'bench', 'scripts', 'bin'].flatMap((d) => sources(path.join(root, d)));
    expect(files.length).toBeGreaterThan(100);
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      for (const comment of text.match(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g) ?? []) {
        for (const m of comment.matchAll(PATH)) {
          const cited = m[1]!;
          if (/^\d/.test(cited)) continue; // a section number (RGPD art. 5.1.c), not a file
          if (!resolves(cited, file)) missing.push(`${path.relative(root, file)}: ${cited}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });
});

describe('the docs', () => {
  const docs = [
    'README.md',
    'config/callgate.example.yaml',
    'config/callgate.yaml',
    ...tracked.filter((f) => /^(docs|dialplan\/\w+)\/[^/]+\.md$/.test(f)),
  ];

  function commands(cmd: Command, prefix: string[] = []): string[][] {
    return cmd.commands.flatMap((c) => [[...prefix, c.name()], ...commands(c, [...prefix, c.name()])]);
  }

  it('show only `callgate` commands that exist', () => {
    const known = commands(buildProgram({ out: () => undefined, err: () => undefined }, () => undefined));
    const isKnown = (words: string[]): boolean =>
      known.some(
        (k) =>
          k.length <= words.length &&
          k.every((w, i) => w === words[i]) &&
          // a group (consent, dnc…) must be followed by one of its subcommands
          !known.some((sub) => sub.length === k.length + 1 && k.every((w, i) => w === sub[i])),
      );
    const unknown: string[] = [];
    for (const doc of docs) {
      const text = readFileSync(path.join(root, doc), 'utf8');
      for (const m of text.matchAll(/(?<![\w/-])callgate((?: [a-z][a-z-]*){1,2})(?=[ `'"\n]|$)/g)) {
        const words = m[1]!.trim().split(' ');
        // prose such as "callgate is …" or "callgate start line" starts with a word that is no command
        if (!known.some((k) => k[0] === words[0])) continue;
        if (!isKnown(words)) unknown.push(`${doc}: callgate ${words.join(' ')}`);
      }
    }
    expect(unknown).toEqual([]);
  });

  it('show complete `callgate …` invocations with the options their command requires, and no other', () => {
    const program = buildProgram({ out: () => undefined, err: () => undefined }, () => undefined);
    const find = (words: string[]): Command | undefined => {
      let cmd: Command | undefined = program;
      for (const w of words) {
        const sub: Command | undefined = cmd?.commands.find((c) => c.name() === w);
        if (!sub) break;
        cmd = sub;
      }
      return cmd === program ? undefined : cmd;
    };
    const wrong: string[] = [];
    let seen = 0;
    for (const doc of docs) {
      const text = readFileSync(path.join(root, doc), 'utf8');
      for (const m of text.matchAll(/`callgate ([^`]+)`/g)) {
        const span = m[1]!;
        if (/…|\.\.\.|\[/.test(span)) continue; // shortened on purpose
        const words = span.split(/\s+/);
        const cmd = find(words.filter((w) => !w.startsWith('-')).slice(0, 2));
        if (!cmd) continue;
        if (words.length === cmd.name().split(' ').length + (cmd.parent === program ? 0 : 1)) continue; // a name, not an invocation
        seen++;
        const given = words.filter((w) => w.startsWith('--')).map((w) => w.split('=')[0]!);
        const options = cmd.options.map((o) => o.long);
        const required = cmd.options.filter((o) => o.mandatory).map((o) => o.long!);
        const problems = [
          ...given.filter((g) => !options.includes(g) && g !== '--help').map((g) => `unknown option ${g}`),
          ...(given.includes('--help') ? [] : required.filter((r) => !given.includes(r)).map((r) => `missing ${r}`)),
        ];
        if (problems.length > 0) wrong.push(`${doc}: \`callgate ${span}\`: ${problems.join(', ')}`);
      }
    }
    expect(seen).toBeGreaterThan(3);
    expect(wrong).toEqual([]);
  });

  it('the command list above is read from the program (a renamed command would be caught)', () => {
    const known = commands(buildProgram({ out: () => undefined, err: () => undefined }, () => undefined));
    expect(known).toEqual(expect.arrayContaining([['config', 'check'], ['check'], ['consent', 'import']]));
  });
});
