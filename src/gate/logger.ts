/**
 * The one pino logger of a callgate process: JSON lines on stderr (stdout is
 * for command output). Components take child loggers ({ component: 'gate' }).
 *
 * Credentials never appear in logs (DESIGN invariants): any field named
 * password, secret, token or authorization is redacted wherever it sits up to
 * three levels deep. Phone numbers are masked by the callers (./mask.ts) when
 * log.maskNumbers is on.
 */
import pino from 'pino';
import type { Logger } from 'pino';
import type { Config } from '../config/schema';

export type { Logger };

const SECRET_KEYS = ['password', 'secret', 'token', 'authorization', 'apiKey'];
export const REDACT_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `*.*.*.${k}`]);

export function createLogger(cfg: Config['log'], dest?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level: cfg.level,
    base: { pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return pino(options, dest ?? pino.destination({ dest: 2, sync: false }));
}
