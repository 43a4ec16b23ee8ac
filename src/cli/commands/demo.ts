/**
 * `callgate demo`: a working day of calls through a simulated PBX and the real gate, on a temporary
 * store (src/demo/run.ts). Exit 0 at the end of the day, after --calls N calls, or on Ctrl-C.
 */
import { runDemo } from '../../demo/run';
import { EXIT_OK, usage } from '../errors';
import type { Io } from '../io';

export type DemoCommandOptions = {
  pbx?: string;
  calls?: string;
  keep?: boolean;
  api?: boolean;
  apiPort?: string;
  hold?: boolean;
  pace?: string;
};

function integer(text: string, flag: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max)
    throw usage(`${flag} must be a whole number from ${min} to ${max}, not ${JSON.stringify(text.slice(0, 40))}`);
  return Number(text);
}

export async function demoCommand(opts: DemoCommandOptions, io: Io): Promise<number> {
  const pbx = opts.pbx ?? 'asterisk';
  if (pbx !== 'asterisk' && pbx !== 'freeswitch')
    throw usage(`--pbx must be asterisk or freeswitch, not ${JSON.stringify(pbx.slice(0, 40))}`);
  await runDemo(
    {
      pbx,
      ...(opts.calls !== undefined ? { calls: integer(opts.calls, '--calls', 1, 100_000) } : {}),
      keep: opts.keep === true,
      api: opts.api !== false,
      apiPort: opts.apiPort !== undefined ? integer(opts.apiPort, '--api-port', 0, 65535) : 0,
      hold: opts.hold === true,
      paceMs: opts.pace !== undefined ? integer(opts.pace, '--pace', 0, 60_000) : 150,
      speed: 60,
    },
    io,
  );
  return EXIT_OK;
}
