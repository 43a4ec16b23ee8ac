#!/usr/bin/env node
'use strict';
// The `callgate` command. The TypeScript sources compile to dist/ (npm run build).
let cli;
try {
  cli = require('../dist/src/cli/main.js');
} catch (e) {
  if (e && e.code === 'MODULE_NOT_FOUND' && String(e.message).includes('dist/src/cli/main.js')) {
    process.stderr.write('callgate: not built yet; run `npm run build` first\n');
    process.exit(2);
  }
  throw e;
}
cli.main(process.argv.slice(2));
