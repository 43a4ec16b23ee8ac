/**
 * The one pino logger of a callgate process: JSON lines on stderr (stdout is
 * for command output), buffered (see bufferedDestination). Components take child loggers ({ component: 'gate' }).
 *
 * Credentials never appear in logs (DESIGN invariants): any field named
 * password, secret, token, authorization or apiKey is redacted at the top level
 * and inside the objects that carry credentials (REDACT_PATHS). Phone numbers
 * are masked by the callers (./mask.ts) when log.maskNumbers is on.
 */
import pino from 'pino';
import type { Logger } from 'pino';
import type { Config } from '../config/schema';

export type { Logger };

const SECRET_KEYS = ['password', 'secret', 'token', 'authorization', 'apiKey'];
/** Objects that may carry a credential when logged (config sections, requests). */
const HOLDERS = ['config', 'inbound', 'asterisk', 'freeswitch', 'headers', 'auth', 'credentials', 'options', 'opts'];
/**
 * Explicit paths only: pino's redaction with wildcards (`*.*.password`) costs
 * ~85 µs per line, explicit paths ~5 µs, and the gate writes one line per call.
 */
export const REDACT_PATHS = [
  ...SECRET_KEYS,
  ...HOLDERS.flatMap((o) => SECRET_KEYS.map((k) => `${o}.${k}`)),
  'config.inbound.password',
  'config.asterisk.password',
  'config.freeswitch.inbound.password',
  'freeswitch.inbound.password',
  'req.headers.authorization',
];

export function createLogger(cfg: Config['log'], dest?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level: cfg.level,
    base: { pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return pino(options, dest ?? bufferedDestination(2));
}

/** Bytes of log lines gathered before one write (about 15 decision lines). */
const LOG_BUFFER_BYTES = 4096;
/** A line waits at most this long in the buffer, ms. */
const LOG_FLUSH_MS = 200;

/**
 * A log destination (stderr: 2) written asynchronously in blocks of LOG_BUFFER_BYTES instead of one
 * write per line: each write is a round trip through libuv's thread pool, and
 * at one line per decision those round trips cost the gate a third of its
 * throughput. A timer writes what is left every LOG_FLUSH_MS; pino writes the
 * rest synchronously when the process exits.
 */
export function bufferedDestination(fdOrPath: number | string): pino.DestinationStream {
  const dest = pino.destination({ dest: fdOrPath, sync: false, minLength: LOG_BUFFER_BYTES });
  const timer = setInterval(() => {
    try {
      dest.flush();
    } catch {
      clearInterval(timer); // destroyed: nothing more will be written
    }
  }, LOG_FLUSH_MS);
  timer.unref();
  return dest;
}
