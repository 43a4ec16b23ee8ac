/**
 * Builds native/walbuf.c (the WAL write buffer of the SQLite store, see its
 * header) into build/walbuf.so with the machine's C compiler. `npm install` and
 * `npm ci` run it (postinstall), `npm run build` too (so `npm start` and
 * `npm test` after a checkout that changed the source rebuild it); it does
 * nothing when the library is newer than its source, unless given --force.
 * `npm run build:native` forces a build.
 *
 * The buffer is an optimisation: without a compiler, or if the build fails,
 * this prints why and exits 0, and the store runs on SQLite's own unix VFS
 * (`callgate start` says so in its log). `--strict` makes a failure exit 1.
 * Headers: the sqlite3ext.h shipped with better-sqlite3, the SQLite the
 * extension is loaded into.
 */
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const src = path.join(root, 'native', 'walbuf.c');
const out = path.join(root, 'build', 'walbuf.so');
const strict = process.argv.includes('--strict');
const force = process.argv.includes('--force');

function upToDate() {
  try {
    return fs.statSync(out).mtimeMs >= fs.statSync(src).mtimeMs;
  } catch {
    return false;
  }
}
if (!force && upToDate()) process.exit(0);

function fail(why) {
  process.stderr.write(
    `callgate: the SQLite WAL write buffer was not built (${why}).\n` +
      'callgate works without it, with ~15% fewer check-and-record decisions per second.\n' +
      'Install a C compiler (Debian: apt-get install gcc) and run: npm run build:native\n',
  );
  process.exit(strict ? 1 : 0);
}

if (process.platform === 'win32') fail('not supported on Windows');
let include;
try {
  include = path.join(path.dirname(require.resolve('better-sqlite3/package.json')), 'deps', 'sqlite3');
} catch {
  fail('better-sqlite3 is not installed');
}
if (!fs.existsSync(path.join(include, 'sqlite3ext.h'))) fail(`no sqlite3ext.h in ${include}`);

const cc = process.env.CC || 'cc';
const shared = process.platform === 'darwin' ? ['-dynamiclib'] : ['-shared'];
fs.mkdirSync(path.dirname(out), { recursive: true });
const tmp = `${out}.${process.pid}.tmp`;
try {
  execFileSync(
    cc,
    ['-O2', '-fPIC', ...shared, '-Wall', '-Wextra', '-Wno-unused-parameter', '-I', include, '-o', tmp, src],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  fs.renameSync(tmp, out); // a half-written library is never loaded
} catch (err) {
  fs.rmSync(tmp, { force: true });
  fail(err.code === 'ENOENT' ? `no C compiler: ${cc} not found` : `${cc} failed: ${err.message.split('\n')[0]}`);
}
process.stdout.write(`callgate: built ${path.relative(root, out)}\n`);
