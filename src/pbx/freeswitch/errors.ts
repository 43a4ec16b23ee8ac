/**
 * Error codes of the FreeSWITCH adapter (to be merged into the project's CG_ERR_* catalogue).
 * Each message says what to fix.
 */
export const FS_ERRORS = {
  CG_ERR_FS_LISTEN: 'cannot listen for the FreeSWITCH socket app',
  CG_ERR_FS_INBOUND_AUTH: 'FreeSWITCH refused the Event Socket password',
  CG_ERR_FS_INBOUND_SUBSCRIBE: 'FreeSWITCH refused the event subscription',
  CG_ERR_FS_NOT_FULL: 'the socket app is not in full mode',
  CG_ERR_FS_CHANNEL_DATA: 'the channel data cannot be turned into a call attempt',
  CG_ERR_FS_COMMAND: 'an Event Socket command failed or timed out',
} as const;

export type FsErrorCode = keyof typeof FS_ERRORS;

export class FreeswitchAdapterError extends Error {
  constructor(
    readonly code: FsErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
    this.name = 'FreeswitchAdapterError';
  }
}
