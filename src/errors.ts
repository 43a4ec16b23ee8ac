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
    fix: 'Read every listed problem (each names its path, e.g. campaigns[2].dialing), correct callgate.yaml and run `callgate config check` again; config/callgate.example.yaml documents every key.',
  },
  CG_ERR_CONFIG_ALIASES: {
    meaning:
      'The configuration file uses more YAML aliases (*name) than callgate expands, as a file built to exhaust memory does; it was not loaded.',
    fix: 'Write the repeated settings out instead of through aliases; if nobody wrote the file that way, find out who changed it.',
  },
  CG_ERR_USAGE: {
    meaning: 'A command-line argument or option is missing or invalid; nothing was done.',
    fix: 'Correct what the message names (it gives an example), or run the command with --help.',
  },
  CG_ERR_STORE_OPEN: {
    meaning:
      'The store could not be opened: the SQLite file is unreadable, not a database, or its folder does not exist; or PostgreSQL (store.url) refused or did not answer.',
    fix: 'Check store.path (relative to the working directory), its permissions and free disk space; for PostgreSQL, store.url (host, port, database, role) and that the server runs.',
  },
  CG_ERR_STORE_NOT_SQLITE: {
    meaning: 'store.path names a file that exists but is not a SQLite database; it was left untouched.',
    fix: 'Point store.path at a callgate database or at a new file name.',
  },
  CG_ERR_STORE_READONLY: {
    meaning:
      'The store can be read but not written (file or folder permissions, a read-only file system); `callgate start` refuses to run a gate that could record no attempt.',
    fix: 'Give the user callgate runs as write access to store.path, its folder and its -wal and -shm files, or point store.path at a writable place.',
  },
  CG_ERR_STORE_SCHEMA: {
    meaning: 'The store was written by a newer callgate (schema version too new).',
    fix: 'Upgrade callgate, or point store.path (store.url) at a database of this version.',
  },
  CG_ERR_STORE_FAULT: {
    meaning: 'A store operation failed while deciding a call; the fail mode (policy.failMode) decided instead.',
    fix: 'Look at the logged cause (disk full, locked database, connection lost); calls are blocked with gate_unavailable while failMode is closed.',
  },
  CG_ERR_STORE_INVALID: {
    meaning: 'A row given to the store is invalid (empty number, bad date, bad category); nothing was written.',
    fix: 'Correct the row the message names (number in E.164, ISO dates, non-empty categories).',
  },
  CG_ERR_STORE_DUPLICATE: {
    meaning: 'A decision with this id was already recorded.',
    fix: 'Decision ids must be unique; if you supply an id generator, make it return a new id each time.',
  },
  CG_ERR_STORE_IMPORT: {
    meaning:
      'An import session was misused (wrong kind of rows, already committed or rolled back, opposition list without its date).',
    fix: 'Start a new import of the right kind; give the opposition list its date (--as-of).',
  },
  CG_ERR_GATE_DEADLINE: {
    meaning: 'A decision took longer than gate.deadlineMs; the fail mode (policy.failMode) decided instead.',
    fix: 'Look for a slow or overloaded store; raise gate.deadlineMs only if the PBX can wait that long.',
  },
  CG_ERR_OUTCOME: {
    meaning: 'The outcome of a placed call could not be recorded (unknown decision id or store fault).',
    fix: 'Look at the logged cause; the decision itself was recorded, only its outcome is missing from the audit.',
  },
  CG_ERR_OUTCOME_UNKNOWN: {
    meaning:
      'The gate could not see how some calls it allowed ended (the PBX connection was down when they ended, or they were still up when callgate stopped): no outcome is recorded for them; the warning says how many, with their decision ids.',
    fix: 'Nothing to repair: their attempts were recorded and still count (FREQ-2). Frequent warnings mean the PBX connection drops: look for the CG_ERR_PBX_CONNECT lines around them.',
  },
  CG_ERR_PBX_CONNECT: {
    meaning: 'The gate could not connect to the PBX (ARI or Event Socket) and keeps retrying with backoff.',
    fix: 'Check the url/host, port and credentials of the asterisk: or freeswitch: section and that the PBX is running.',
  },
  CG_ERR_ARI_AUTH: {
    meaning: 'Asterisk refused the ARI user of the gate (HTTP 401 or 403); no call is gated until it accepts it.',
    fix: 'Set asterisk.username and asterisk.password to a user of ari.conf (read_only = no) and restart.',
  },
  CG_ERR_ARI_REQUEST: {
    meaning: 'An ARI REST request on a call (continue, hang up, set a variable) was refused or failed.',
    fix: 'Look at the logged ARI message: a channel that hung up meanwhile is normal; otherwise check the ARI user may control channels.',
  },
  CG_ERR_FS_LISTEN: {
    meaning: 'The gate cannot listen for the FreeSWITCH socket app (address in use or not allowed).',
    fix: 'Check freeswitch.listen.host and port: free the port or choose another, and use the same in the dialplan socket app.',
  },
  CG_ERR_FS_INBOUND_AUTH: {
    meaning:
      'FreeSWITCH refused the Event Socket password of the inbound connection; call outcomes are not recorded, calls are still gated.',
    fix: 'Set freeswitch.inbound.password to the password of event_socket.conf.xml and restart.',
  },
  CG_ERR_FS_INBOUND_SUBSCRIBE: {
    meaning: 'FreeSWITCH refused the event subscription of the inbound connection.',
    fix: 'Check the ACL of event_socket.conf.xml allows the gate host.',
  },
  CG_ERR_FS_NOT_FULL: {
    meaning: 'The dialplan socket app is not in full mode, so FreeSWITCH refuses the commands the gate needs.',
    fix: 'Add `full` to the socket app data (e.g. `socket 127.0.0.1:8085 full`) as in dialplan/freeswitch/.',
  },
  CG_ERR_FS_CHANNEL_DATA: {
    meaning:
      'The channel data FreeSWITCH sent cannot be turned into a call attempt (no destination number); the call was dropped.',
    fix: 'Check the dialplan passes the dialled number (destination_number) to the socket app.',
  },
  CG_ERR_FS_COMMAND: {
    meaning: 'An Event Socket command failed or timed out.',
    fix: 'Look at the logged reply; raise freeswitch.commandTimeoutMs if FreeSWITCH is slow to answer.',
  },
  CG_ERR_IMPORT: {
    meaning: 'A bulk import (consents, contracts, do-not-call, opposition list) was rejected and nothing was written.',
    fix: 'Correct the listed rows (each names its line and column) and import the file again.',
  },
  CG_ERR_API_INPUT: {
    meaning:
      'An admin API request was refused as invalid (a missing or wrong field, a bad number or date, an unknown campaign or professional); nothing was changed.',
    fix: 'Read every listed problem (each names its field, e.g. body.collectedAt) and send the request again; GET /v1/openapi.json describes every route.',
  },
  CG_ERR_API_AUTH: {
    meaning: 'An admin API request had no bearer token, or not the configured one (HTTP 401); nothing was done.',
    fix: 'Send `Authorization: Bearer <token>` with the token of api.token (or CALLGATE_API_TOKEN) of the gate.',
  },
  CG_ERR_API_NOT_FOUND: {
    meaning: 'The admin API has no such route or method (HTTP 404 or 405).',
    fix: 'Check the path and method against GET /v1/openapi.json; routes are versioned under /v1.',
  },
  CG_ERR_API_STORE: {
    meaning:
      'The store failed while serving an admin API request (locked, read-only, disk full, connection lost); the request changed nothing (HTTP 503).',
    fix: 'Look at the logged cause and send the request again once the store is back; GET /readyz says when it is.',
  },
  CG_ERR_API_LISTEN: {
    meaning: 'The gate cannot listen for the admin API (address in use or not allowed); `callgate start` stops.',
    fix: 'Check api.listen.host and port: free the port or choose another one.',
  },
  CG_ERR_PBX_ORIGINATE: {
    meaning:
      'An allowed POST /v1/originate could not be handed to the PBX (no PBX that can originate, not connected, or it refused the request); no call was placed (HTTP 502 or 503).',
    fix: 'Look at the message: connect the PBX (GET /readyz), configure freeswitch.inbound for FreeSWITCH originates, or correct the connect context and extension.',
  },
  CG_ERR_INTERNAL: {
    meaning: 'An unexpected fault inside callgate (a bug).',
    fix: 'Report it with the log lines around it; the fail mode keeps deciding calls meanwhile.',
  },
} as const satisfies Record<string, ErrorInfo>;

export type ErrorCode = keyof typeof ERRORS;

/**
 * Base of every callgate fault: a code from ERRORS and a message that says what to fix. Every
 * error class of src/ derives from it (test/config/errors.test.ts checks), so whatever reaches
 * the command line or the log carries its code, never CG_ERR_INTERNAL by accident.
 */
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
