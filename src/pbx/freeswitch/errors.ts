/**
 * Faults of the FreeSWITCH adapter. The codes, their meaning and their fix live in the project
 * catalogue (src/errors.ts, docs/errors.md); this file only narrows it to the
 * FreeSWITCH codes (prefix CG_ERR_ + FS_).
 */
import { CallgateError, ERRORS, type ErrorCode } from '../../errors';

export type FsErrorCode = Extract<ErrorCode, `CG_ERR_${'FS'}_${string}`>;

/** Meaning of a FreeSWITCH code, from the catalogue. */
export function fsMeaning(code: FsErrorCode): string {
  return ERRORS[code].meaning;
}

export class FreeswitchAdapterError extends CallgateError {
  constructor(
    override readonly code: FsErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, `${code}: ${message}`, options);
    this.name = 'FreeswitchAdapterError';
  }
}
