/**
 * Entry point of the `callgate` command (bin/callgate.js requires the built
 * dist/src/cli/main.js and calls main()).
 *
 * Exit codes: 0 allowed / done, 1 blocked (check), 2 usage, configuration or
 * data error. Errors are one line on stderr (plus one line per config
 * problem); stdout carries only the command's output.
 */
import { CommanderError } from 'commander';
import type { ConfigError } from '../config/load';
import { CallgateError } from '../errors';
import { CliError, configProblems, EXIT_OK, EXIT_USAGE } from './errors';
import { processIo, type Io } from './io';
import { buildProgram } from './program';

/** Run the command line; resolves with the exit code (never rejects). */
export async function run(argv: string[], io: Io = processIo): Promise<number> {
  let code = EXIT_OK;
  const program = buildProgram(io, (c) => (code = c));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    return reportError(e, io);
  }
}

function reportError(error: unknown, io: Io): number {
  let e = error;
  if (e instanceof CommanderError) {
    // commander already printed its message (and help) on stderr/stdout.
    // Help asked for (--help, `help CMD`) and --version exit 0; help shown because of an error exits 2.
    return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  }
  if (isConfigError(e)) e = configProblems(e.source, e);
  if (e instanceof CliError) {
    // a usage error names its option; any other code (a config file refused…) is shown
    io.err(`callgate: ${e.message}${e.code === 'CG_ERR_USAGE' ? '' : ` [${e.code}]`}\n`);
    for (const d of e.details) io.err(`${d}\n`);
    return e.exitCode;
  }
  if (e instanceof CallgateError) {
    const msg = e.message.startsWith(`${e.code}:`) ? e.message.slice(e.code.length + 1).trim() : e.message;
    io.err(`callgate: ${msg} [${e.code}]\n`);
    return EXIT_USAGE;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  io.err(`callgate: unexpected error: ${err.message} [CG_ERR_INTERNAL]\n`);
  if (process.env.CALLGATE_DEBUG) io.err(`${err.stack ?? ''}\n`);
  return EXIT_USAGE;
}

/**
 * A ConfigError can only come from src/config/load, so it is loaded by then;
 * requiring it here (not at the top) keeps zod and yaml out of `--help`.
 */
function isConfigError(e: unknown): e is ConfigError {
  if (!(e instanceof Error) || e.name !== 'ConfigError') return false;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ConfigError: ConfigErrorClass } = require('../config/load') as typeof import('../config/load');
  return e instanceof ConfigErrorClass;
}

/** Called by bin/callgate.js. */
export function main(argv: string[] = process.argv.slice(2)): void {
  void run(argv).then((code) => {
    process.exitCode = code;
  });
}

if (require.main === module) main();
