#!/usr/bin/env node
/**
 * The rules must not depend on the host's time zone (FR-RULES: the consumer's
 * zone decides, never the gate's). `npm test` runs the whole suite in the
 * host's zone, then this: the core suites again under zones chosen to break
 * naive date arithmetic — far east, far west, +14 h, a half-hour offset with
 * DST — each in its own jest process (TZ is read when a process starts).
 *
 * Usage: node scripts/test-tz.js [jest args...]   (default: test/core)
 */
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const ZONES = ['UTC', 'Asia/Tokyo', 'America/New_York', 'Pacific/Kiritimati', 'America/St_Johns'];
const args = process.argv.slice(2);
const jest = path.join(__dirname, '..', 'node_modules', 'jest', 'bin', 'jest.js');

for (const tz of ZONES) {
  process.stdout.write(`test-tz: the core suites with TZ=${tz}\n`);
  const r = spawnSync(process.execPath, [jest, '--silent', ...(args.length > 0 ? args : ['test/core'])], {
    stdio: 'inherit',
    env: { ...process.env, TZ: tz },
  });
  if (r.status !== 0) {
    process.stderr.write(`test-tz: the core suites fail with TZ=${tz} (exit ${r.status ?? r.signal})\n`);
    process.exit(1);
  }
}
process.stdout.write(`test-tz: the core suites pass under ${ZONES.join(', ')}\n`);
