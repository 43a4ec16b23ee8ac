/**
 * The log destination of the gate: JSON lines gathered in memory and written
 * in blocks to a file descriptor (stderr by default).
 *
 * pino's own asynchronous destination (sonic-boom) costs the gate dearly at one
 * line per decision: without a minimum length it submits one write to libuv's
 * thread pool per event-loop turn; with one, it measures the byte length of its
 * whole pending buffer again at every line. Here a line costs an array push,
 * and a block (`blockBytes`, or whatever is pending every `flushMs`) is one
 * write() from the main thread: in order, nothing in flight to lose at exit.
 *
 * The event loop never waits for a slow reader: on a full non-blocking pipe
 * (EAGAIN) the block stays pending and is retried at the next flush. Nothing is
 * lost silently: past `maxPendingBytes` new lines are dropped instead of
 * growing memory without bound, as is a block whose write fails otherwise, and
 * the next line written says how many were dropped and why. What is pending
 * when the process exits is written then.
 */
import * as fs from 'node:fs';

export type LogBufferOptions = {
  /** Pending bytes (approximately: string length) that start a write. */
  blockBytes?: number;
  /** A line waits at most this long, ms. */
  flushMs?: number;
  /** Pending bytes above which new lines are dropped (and counted). */
  maxPendingBytes?: number;
};

export class LogBuffer {
  private lines: string[] = [];
  private pending = 0;
  /** Bytes of a block the reader did not take yet (EAGAIN, short write). */
  private carry: Buffer | undefined;
  private dropped = 0;
  private dropCause = '';
  private closed = false;
  private readonly blockBytes: number;
  private readonly maxPendingBytes: number;
  private readonly timer: NodeJS.Timeout;
  private readonly onExit = () => this.flushSync();

  /** `target`: a file descriptor (2 = stderr) or a file path, opened for appending. */
  constructor(target: number | string, opts: LogBufferOptions = {}) {
    this.fd = typeof target === 'number' ? target : fs.openSync(target, 'a');
    this.blockBytes = opts.blockBytes ?? 16 * 1024;
    this.maxPendingBytes = opts.maxPendingBytes ?? 16 * 1024 * 1024;
    this.timer = setInterval(() => this.flush(), opts.flushMs ?? 200);
    this.timer.unref();
    process.once('exit', this.onExit);
  }

  readonly fd: number;

  /** pino's destination interface: one serialized line, newline included. */
  write(line: string): boolean {
    if (this.closed) return false;
    if (this.pending + (this.carry?.length ?? 0) + line.length > this.maxPendingBytes) {
      this.drop(1, 'the log reader is not keeping up');
      return false;
    }
    this.lines.push(line);
    this.pending += line.length;
    if (this.pending >= this.blockBytes) this.flush();
    return true;
  }

  /** Writes what is pending, as far as the reader takes it without waiting. */
  flush(): void {
    this.writeOut(false);
  }

  /** Writes everything pending now, waiting for a slow reader if need be (exit, shutdown). */
  flushSync(): void {
    this.writeOut(true);
  }

  /** Writes what is pending and stops the timer; later lines are refused. */
  end(): void {
    this.flushSync();
    this.closed = true;
    clearInterval(this.timer);
    process.removeListener('exit', this.onExit);
  }

  private writeOut(wait: boolean): void {
    if (this.lines.length === 0 && this.dropped === 0 && this.carry === undefined) return;
    const fresh = this.lines.length > 0 || this.dropped > 0 ? this.take() : undefined;
    let buf = this.carry === undefined ? fresh! : fresh === undefined ? this.carry : Buffer.concat([this.carry, fresh]);
    this.carry = undefined;
    for (let spins = 0; buf.length > 0;) {
      try {
        buf = buf.subarray(fs.writeSync(this.fd, buf));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' && (!wait || ++spins > 100_000)) {
          this.carry = buf; // the reader is slow: try again at the next flush
          return;
        }
        if (code !== 'EAGAIN') {
          this.drop(countLines(buf, 0), `writing the log failed (${code ?? (err as Error).message})`);
          return;
        }
      }
    }
  }

  private take(): Buffer {
    if (this.dropped > 0) {
      this.lines.push(
        `${JSON.stringify({ level: 'warn', time: new Date().toISOString(), pid: process.pid, component: 'log', dropped: this.dropped, msg: `${this.dropped} log line(s) dropped: ${this.dropCause}` })}\n`,
      );
      this.dropped = 0;
    }
    const buf = Buffer.from(this.lines.length === 1 ? this.lines[0]! : this.lines.join(''));
    this.lines = [];
    this.pending = 0;
    return buf;
  }

  private drop(lines: number, cause: string): void {
    this.dropped += lines;
    this.dropCause = cause;
  }
}

function countLines(buf: Buffer, from: number): number {
  let n = 0;
  for (let i = buf.indexOf(10, from); i !== -1; i = buf.indexOf(10, i + 1)) n++;
  return n;
}
