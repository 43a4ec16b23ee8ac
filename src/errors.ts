/**
 * The CG_ERR_* catalogue: every fault callgate reports, in one table, with
 * what it means and what to do about it. docs/errors.md lists the same codes
 * with the same text (test/config/errors.test.ts keeps the two in step).
 *
 * A blocked call is never an error: it is a Decision with reason codes
 * (FR-RULES.md). These codes are for faults: bad configuration, a store that
 * cannot be opened, a PBX that cannot be reached, the gate missing its deadline.
 */

export type ErrorInfo = {
  /** What happened, in one sentence. */
  meaning: string;
  /** What the operator should do about it. */
  fix: string;
};

export const ERRORS = {
  CG_ERR_CONFIG: {
    meaning: 'The configuration file is missing, unreadable, not valid YAML, or a setting is invalid.',
    fix: 'Read every listed problem (each names its path, e.g. campaigns[2].dialing), correct callgate.yaml and run `callgate check` again; config/callgate.example.yaml documents every key.',
  },
  CG_ERR_STORE_OPEN: {
    meaning: 'The store could not be opened: the SQLite file is unreadable, not a database, or its folder does not exist.',
    fix: 'Check store.path (relative to the working directory), its permissions and free disk space.',
  },
  CG_ERR_STORE_SCHEMA: {
    meaning: 'The store was written by a newer callgate (schema version too new).',
    fix: 'Upgrade callgate, or point store.path at a database of this version.',
  },
  CG_ERR_STORE_FAULT: {
    meaning: 'A store operation failed while deciding a call; the fail mode (policy.failMode) decided instead.',
    fix: 'Look at the logged cause (disk full, locked database, connection lost); calls are blocked with gate_unavailable while failMode is closed.',
  },
  CG_ERR_GATE_DEADLINE: {
    meaning: 'A decision took longer than gate.deadlineMs; the fail mode (policy.failMode) decided instead.',
    fix: 'Look for a slow or overloaded store; raise gate.deadlineMs only if the PBX can wait that long.',
  },
  CG_ERR_OUTCOME: {
    meaning: 'The outcome of a placed call could not be recorded (unknown decision id or store fault).',
    fix: 'Look at the logged cause; the decision itself was recorded, only its outcome is missing from the audit.',
  },
  CG_ERR_PBX_CONNECT: {
    meaning: 'The gate could not connect to the PBX (ARI or Event Socket) and keeps retrying with backoff.',
    fix: 'Check the url/host, port and credentials of the asterisk: or freeswitch: section and that the PBX is running.',
  },
  CG_ERR_IMPORT: {
    meaning: 'A bulk import (consents, contracts, do-not-call, opposition list) was rejected and nothing was written.',
    fix: 'Correct the listed rows (each names its line and column) and import the file again.',
  },
  CG_ERR_INTERNAL: {
    meaning: 'An unexpected fault inside callgate (a bug).',
    fix: 'Report it with the log lines around it; the fail mode keeps deciding calls meanwhile.',
  },
} as const satisfies Record<string, ErrorInfo>;

export type ErrorCode = keyof typeof ERRORS;

/** Base of every callgate fault: a code from ERRORS and a message that says what to fix. */
export class CallgateError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CallgateError';
  }
}

/** The catalogue entry of a code; undefined for a code that is not ours. */
export function errorInfo(code: string): ErrorInfo | undefined {
  return Object.prototype.hasOwnProperty.call(ERRORS, code) ? ERRORS[code as ErrorCode] : undefined;
}
