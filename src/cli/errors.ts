/**
 * Errors of the `callgate` command. A CliError carries the exit code and a
 * one-line message that names what to fix; main.ts prints it on stderr.
 *
 * Exit codes: 0 allowed / done, 1 blocked (check only), 2 usage, config or data error.
 */
export const EXIT_OK = 0;
export const EXIT_BLOCKED = 1;
export const EXIT_USAGE = 2;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_USAGE,
    /** Extra lines printed after the message (e.g. every config problem). */
    readonly details: string[] = [],
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Shorthand for a usage error (exit 2). */
export function usage(message: string): CliError {
  return new CliError(message, EXIT_USAGE);
}
