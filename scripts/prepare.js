#!/usr/bin/env node
/**
 * npm's `prepare` step (run by `npm ci` and `npm install` in a clone): builds dist/, so that
 * `callgate` runs right after the install command. An install without the dev dependencies
 * (`npm ci --omit=dev`) has no TypeScript compiler: nothing is built then, and it says so.
 */
'use strict';
const { spawnSync } = require('node:child_process');

try {
  require.resolve('typescript');
} catch {
  process.stderr.write(
    'callgate: typescript is not installed (--omit=dev?): dist/ not built; run `npm run build` with the dev dependencies\n',
  );
  process.exit(0);
}
const npm = process.env.npm_execpath;
const r = npm
  ? spawnSync(process.execPath, [npm, 'run', 'build'], { stdio: 'inherit' })
  : spawnSync('npm', ['run', 'build'], { stdio: 'inherit', shell: process.platform === 'win32' });
process.exit(r.status ?? 1);
