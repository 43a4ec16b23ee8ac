/**
 * WAL checkpoints off the gate's hot path.
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that crosses
 * wal_autocheckpoint pages: that commit copies the WAL back into the database
 * and fsyncs it, which made one check-and-record in a few hundred take 10–200 ms
 * (the FREQ-1 check-and-record of D. 223-9 al. 3 is on the call path, so its
 * p99 is what the PBX waits for). The gate's connection therefore runs with
 * wal_autocheckpoint=0 and this worker thread, with its own connection to the
 * same file, checkpoints instead:
 *
 * - PASSIVE whenever the WAL holds frames not yet copied (never blocks a
 *   reader or a writer; the next writer rewinds the WAL once it is fully
 *   copied, and journal_size_limit then trims the file);
 * - RESTART when the WAL passes `restartFrames` (under continuous load a
 *   PASSIVE pass never catches the last commits, so the WAL would grow without
 *   bound): right after a PASSIVE pass only the newest frames remain, so the
 *   writers it holds back wait for a short copy only.
 *
 * If the worker cannot run (start failure, crash) the connection falls back to
 * SQLite's automatic checkpoint, so the WAL stays bounded either way.
 *
 * The worker's code is plain JavaScript passed with `eval` so it runs the same
 * from dist/ and under ts-jest; better-sqlite3 is loaded by the path the main
 * thread resolved.
 */
import type Database from 'better-sqlite3';
import { Worker } from 'node:worker_threads';

export type CheckpointerOptions = {
  /** Sleep between passes when the WAL has nothing new, ms. */
  idleMs?: number;
  /** Sleep between passes while commits keep arriving, ms. */
  busyMs?: number;
  /** WAL size (frames, ~4 KiB each) above which a RESTART checkpoint rewinds it. */
  restartFrames?: number;
  /** busy_timeout of the checkpoint connection (waiting for a writer before RESTART), ms. */
  busyTimeoutMs?: number;
};

export type CheckpointStats = { passive: number; restart: number; failed: number; lastError?: string };

const WORKER_JS = `
'use strict';
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.driver);
const ctl = new Int32Array(workerData.ctl); // [0] stop flag, [1] passive, [2] restart, [3] failed
let db;
try {
  db = new Database(workerData.path, { timeout: workerData.busyTimeoutMs, fileMustExist: true });
  db.pragma('wal_autocheckpoint = 0');
} catch (err) {
  parentPort.postMessage({ fatal: String(err && err.message) });
  process.exit(1);
}
let lastLog = -1;
while (Atomics.load(ctl, 0) === 0) {
  let sleep = workerData.idleMs;
  try {
    const r = db.pragma('wal_checkpoint(PASSIVE)')[0];
    Atomics.add(ctl, 1, 1);
    if (r.log > workerData.restartFrames) {
      db.pragma('wal_checkpoint(RESTART)');
      Atomics.add(ctl, 2, 1);
      lastLog = -1;
    } else {
      if (r.log !== lastLog && r.log > 0) sleep = workerData.busyMs;
      lastLog = r.log;
    }
  } catch (err) {
    Atomics.add(ctl, 3, 1);
    parentPort.postMessage({ error: String(err && err.message) });
  }
  Atomics.wait(ctl, 0, 0, sleep);
}
db.close();
`;

export class Checkpointer {
  private readonly ctl = new Int32Array(new SharedArrayBuffer(16));
  private readonly worker: Worker;
  /** Resolves when the worker has ended (stopped, or failed: then SQLite checkpoints by itself again). */
  readonly exited: Promise<void>;
  private lastError: string | undefined;
  private stopped = false;

  /** Starts checkpointing `path`; `db` is the gate's connection (its autocheckpoint is turned off while this runs). */
  constructor(
    private readonly db: Database.Database,
    path: string,
    opts: CheckpointerOptions = {},
  ) {
    db.pragma('wal_autocheckpoint = 0');
    this.worker = new Worker(WORKER_JS, {
      eval: true,
      workerData: {
        driver: require.resolve('better-sqlite3'),
        path,
        ctl: this.ctl.buffer,
        idleMs: opts.idleMs ?? 200,
        busyMs: opts.busyMs ?? 5,
        restartFrames: opts.restartFrames ?? 16_384,
        busyTimeoutMs: opts.busyTimeoutMs ?? 2000,
      },
    });
    this.worker.unref();
    this.worker.on('message', (m: { error?: string; fatal?: string }) => {
      this.lastError = m.fatal ?? m.error;
    });
    this.worker.on('error', (err) => {
      this.lastError = err.message;
    });
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', () => {
        // Crashed or could not open: let SQLite checkpoint by itself again.
        if (!this.stopped && this.db.open) this.db.pragma('wal_autocheckpoint = 1000');
        resolve();
      }),
    );
  }

  stats(): CheckpointStats {
    const s: CheckpointStats = {
      passive: Atomics.load(this.ctl, 1),
      restart: Atomics.load(this.ctl, 2),
      failed: Atomics.load(this.ctl, 3),
    };
    if (this.lastError !== undefined) s.lastError = this.lastError;
    return s;
  }

  /** Stops the worker and waits for its connection to close. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.worker.ref(); // keep the process alive until the worker has closed its connection
    Atomics.store(this.ctl, 0, 1);
    Atomics.notify(this.ctl, 0);
    await this.exited;
  }
}
