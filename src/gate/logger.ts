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
import { isoString } from '../core/decision-json';
import { LogBuffer } from './log-buffer';
import { maskUrlCredentials } from './mask';

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

/** Marks loggers made by createLogger: their line layout is known (see infoLineWriter). */
const KNOWN_LAYOUT = Symbol('callgate.knownLayout');
/** The repeat limiters made from a createLogger logger or its children (see limitRepeats). */
const LIMITERS = Symbol('callgate.repeatLimiters');

/**
 * pino's error serializer without the stack: a stack trace is for a developer, so it is logged
 * only when the logger's level is debug or trace (the message, type, code and cause stay).
 */
function errSerializer(isDebug: () => boolean): (e: unknown) => unknown {
  return (e) => {
    if (!(e instanceof Error)) return e;
    const out = pino.stdSerializers.err(e) as unknown as Record<string, unknown>;
    if (!isDebug()) dropStacks(out, 0);
    return out;
  };
}

/** Removes `stack` from a serialized error and the errors it carries (aggregates, errors in fields). */
function dropStacks(o: Record<string, unknown>, depth: number): void {
  delete o.stack;
  if (depth > 8) return;
  for (const v of Object.values(o)) {
    if (Array.isArray(v)) {
      for (const x of v) if (typeof x === 'object' && x !== null) dropStacks(x as Record<string, unknown>, depth + 1);
    } else if (typeof v === 'object' && v !== null) dropStacks(v as Record<string, unknown>, depth + 1);
  }
}

export function createLogger(
  cfg: Pick<Config['log'], 'level'> & Partial<Config['log']>,
  dest?: pino.DestinationStream,
): Logger {
  let logger: Logger | undefined;
  const options: pino.LoggerOptions = {
    level: cfg.level,
    serializers: {
      err: errSerializer(() => logger?.isLevelEnabled('debug') ?? false),
      url: (u: unknown) => (typeof u === 'string' ? maskUrlCredentials(u) : u),
    },
    base: { pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  logger = pino(options, dest ?? bufferedDestination(2));
  (logger as unknown as Record<symbol, boolean>)[KNOWN_LAYOUT] = true;
  // children are made with Object.create(parent): they see this same set
  (logger as unknown as Record<symbol, Set<RepeatLimiter>>)[LIMITERS] = new Set();
  return logger;
}

/**
 * For the gate's decision lines: writes an info line whose fields are
 * already serialized (`"key":value` pairs, without redaction, so only for
 * fields that can hold no credential), byte for byte the line pino would
 * write for the same object (tested), at a third of the cost. Undefined when
 * `logger` (or its parent) was not made by createLogger: use logger.info then.
 */
export function infoLineWriter(logger: Logger): ((fieldsJson: string, msg: string) => void) | undefined {
  const l = logger as unknown as Record<symbol, unknown>;
  if (l[KNOWN_LAYOUT] !== true) return undefined;
  return (fieldsJson, msg) => {
    if (!logger.isLevelEnabled('info')) return;
    const stream = l[pino.symbols.streamSym] as pino.DestinationStream;
    const bindings = l[pino.symbols.chindingsSym] as string;
    stream.write(
      `{"level":"info","time":"${isoString(new Date())}"${bindings},${fieldsJson},"msg":${JSON.stringify(msg)}}\n`,
    );
  };
}

/**
 * The gate's log destination (stderr: 2, or a file path): lines gathered and
 * written in blocks, at most 200 ms late (see log-buffer.ts for why not
 * pino.destination).
 */
export function bufferedDestination(fdOrPath: number | string): LogBuffer {
  return new LogBuffer(fdOrPath);
}

export type RepeatLimit = {
  /** Length of a period, ms (default 10 s). */
  periodMs?: number;
  /** Lines of one kind written in full per period (default 5); the rest are counted. */
  burst?: number;
};

/**
 * Warnings that can repeat once per call (a dropped connection, a late commit, a fail-mode
 * decision under overload) go through a RepeatLimiter, so that an overload writes a few lines and
 * a count instead of one line per call. Each kind (a short fixed string naming the warning, e.g.
 * 'fs.drop') has its own count.
 */
export interface RepeatLimiter {
  warn(kind: string, fields: Record<string, unknown>, msg: string): void;
  error(kind: string, fields: Record<string, unknown>, msg: string): void;
  /** Writes the summary of every kind with lines left out now (the gate calls it when it stops). */
  flush(): void;
}

type KindState = {
  periodStart: number;
  written: number;
  suppressed: number;
  level: 'warn' | 'error';
  last: { fields: Record<string, unknown>; msg: string } | undefined;
  timer: NodeJS.Timeout | undefined;
};

/**
 * The first `burst` lines of a kind in a period are written as usual; the next ones are only
 * counted, and when the period ends one line of the same level sums them up: `repeated` (how many
 * were left out), `kind`, `periodMs` and the fields of the last one left out, with the message
 * "N more like this in the last T s: <its message>". A kind that stops repeating costs nothing.
 * Summaries still pending when the gate stops are written by flushRepeats (main.ts).
 */
export function limitRepeats(logger: Logger, limit: RepeatLimit = {}): RepeatLimiter {
  const periodMs = limit.periodMs ?? 10_000;
  const burst = limit.burst ?? 5;
  const kinds = new Map<string, KindState>();

  const summarize = (kind: string, st: KindState): void => {
    if (st.timer) clearTimeout(st.timer);
    st.timer = undefined;
    if (st.suppressed > 0 && st.last) {
      const n = st.suppressed;
      logger[st.level](
        { ...st.last.fields, kind, repeated: n, periodMs },
        `${n} more like this in the last ${Math.round(periodMs / 1000)} s (left out of the log): ${st.last.msg}`,
      );
    }
    st.suppressed = 0;
    st.written = 0;
    st.last = undefined;
    st.periodStart = Date.now();
  };

  const write = (level: 'warn' | 'error', kind: string, fields: Record<string, unknown>, msg: string): void => {
    if (!logger.isLevelEnabled(level)) return;
    const now = Date.now();
    let st = kinds.get(kind);
    if (st === undefined) {
      st = { periodStart: now, written: 0, suppressed: 0, level, last: undefined, timer: undefined };
      kinds.set(kind, st);
    } else if (now - st.periodStart >= periodMs) {
      summarize(kind, st);
    }
    if (st.written < burst) {
      st.written++;
      logger[level](fields, msg);
      return;
    }
    st.suppressed++;
    st.level = level;
    st.last = { fields, msg };
    if (st.timer === undefined) {
      const s = st;
      s.timer = setTimeout(() => summarize(kind, s), Math.max(0, s.periodStart + periodMs - now));
      s.timer.unref();
    }
  };

  const limiter: RepeatLimiter = {
    warn: (kind, fields, msg) => write('warn', kind, fields, msg),
    error: (kind, fields, msg) => write('error', kind, fields, msg),
    flush: () => {
      for (const [kind, st] of kinds) summarize(kind, st);
    },
  };
  (logger as unknown as Record<symbol, Set<RepeatLimiter> | undefined>)[LIMITERS]?.add(limiter);
  return limiter;
}

/** Writes the pending summaries of every RepeatLimiter made from `logger` (or its children). */
export function flushRepeats(logger: Logger): void {
  const set = (logger as unknown as Record<symbol, Set<RepeatLimiter> | undefined>)[LIMITERS];
  for (const l of set ?? []) l.flush();
}
