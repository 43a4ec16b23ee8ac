/** `callgate start`: run the gate beside the PBX until SIGTERM or SIGINT, then stop gracefully and exit 0. */
import { startGate } from '../../main';
import { loadCliConfig } from '../context';
import { EXIT_OK } from '../errors';
import type { Io } from '../io';

export async function startCommand(opts: { config?: string }, _io: Io): Promise<number> {
  const config = loadCliConfig(opts.config);
  const running = await startGate(config);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  await running.stop(signal); // logged as a JSON line, like every other line of the gate
  return EXIT_OK;
}
