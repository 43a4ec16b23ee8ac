/**
 * Errors of the `callgate` command. A CliError carries the exit code and a
 * one-line message that names what to fix; main.ts prints it on stderr.
 *
 * Exit codes: 0 allowed / done, 1 blocked (check only), 2 usage, config or data error.
 */
import type { ConfigError } from '../config/load';
import { CallgateError, type ErrorCode } from '../errors';

export const EXIT_OK = 0;
export const EXIT_BLOCKED = 1;
export const EXIT_USAGE = 2;

export class CliError extends CallgateError {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_USAGE,
    /** Extra lines printed after the message (e.g. every config problem). */
    readonly details: string[] = [],
    code: ErrorCode = 'CG_ERR_USAGE',
  ) {
    super(code, message);
    this.name = 'CliError';
  }
}

/** Shorthand for a usage error (exit 2). */
export function usage(message: string): CliError {
  return new CliError(message, EXIT_USAGE);
}

/** A ConfigError as a CliError: one headline, then one line per problem. */
export function configProblems(file: string, e: Pick<ConfigError, 'problems' | 'code'>): CliError {
  const n = e.problems.length;
  const problems = e.problems.map((p) => `  ${p.path || '(file)'}: ${p.message}`);
  return new CliError(
    `${file.startsWith('(') ? 'configuration' : `config ${file}`}: ${n} problem${n === 1 ? '' : 's'}; fix ${n === 1 ? 'it' : 'them'} (see config/callgate.example.yaml)`,
    EXIT_USAGE,
    problems,
    e.code,
  );
}
