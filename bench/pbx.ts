/** Runs one PBX latency benchmark in its own process: node dist/bench/pbx.js asterisk|freeswitch SECONDS RATE */
import { emit } from './util';

async function main() {
  const [pbx, seconds, rate] = process.argv.slice(2);
  const opts = { durationS: Number(seconds ?? 30), ratePerS: Number(rate ?? 200) };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(`./${pbx}`);
  const fn = pbx === 'asterisk' ? mod.benchAsterisk : mod.benchFreeswitch;
  emit(await fn(opts));
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
