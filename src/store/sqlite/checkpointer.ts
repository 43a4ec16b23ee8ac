/**
 * WAL checkpoints off the gate's hot path.
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that crosses
 * wal_autocheckpoint pages: that commit copies the WAL back into the database
 * and fsyncs it, which made one check-and-record in a few hundred take 10–200 ms
 * (the FREQ-1 check-and-record of D. 223-9 al. 3 is on the call path, so its
 * p99 is what the PBX waits for). The gate's connection therefore runs with
 * wal_autocheckpoint=0 and this worker thread, with its own connection to the
 * same file, checkpoints instead, PASSIVE only (it never blocks a reader or a
 * writer). Once a pass has copied every frame, the next writer rewinds the WAL
 * to its start instead of growing it: with any idle moment between calls, the
 * WAL stays small by itself.
 *
 * Under continuous load a pass never catches the last commits, so past
 * `restartFrames` the worker asks the store for a pause: between two group
 * commits (no transaction open) the store stops writing, the worker copies the
 * few frames left (and fsyncs, as every checkpoint must before the WAL can be
 * overwritten), answers, and the store's next commit rewinds the WAL (see
 * SqliteStore.flush). The store waits at most `pauseMs` (the copy's two fsyncs
 * take 2–10 ms on a busy VM disk, sometimes 100): if the copy is not done by
 * then it goes on and the worker asks again after its next pass. Past
 * `hardFrames` it waits for the copy whatever it takes, which bounds the WAL
 * file. Defaults: a pause every 512 MiB of WAL (~50,000 decisions), the
 * file never past ~2 GiB.
 *
 * Not RESTART: it holds the write lock while waiting, in SQLite's sleeping
 * busy handler, for the gate's read lock to go, while the gate's next BEGIN
 * IMMEDIATE sleeps in its own; that convoy stalled the gate ~100 ms at every
 * rewind. Nor journal_size_limit on the gate's connection (see open.ts):
 * trimming a 1 GiB WAL is one ftruncate of ~300 ms inside a commit. The WAL
 * file keeps its largest size until close(), which truncates it.
 *
 * If the worker cannot run (start failure, crash) the connection falls back to
 * SQLite's automatic checkpoint, so the WAL stays bounded either way.
 *
 * Durability (store.durability): the worker's connection runs at the gate
 * connection's PRAGMA synchronous (FULL or NORMAL), never OFF. At either level
 * a checkpoint fsyncs the WAL before copying it and the database file before
 * the WAL may be rewound (SQLite syncs checkpoints unless synchronous = OFF):
 * a frame is never overwritten before its page is on disk in the database. A
 * COMMIT's own fsync at durability full is the store's fdatasync of the WAL after the COMMIT (the
 * gate connection runs at NORMAL then, see wal-sync.ts); the worker never commits. The worker's
 * connection reads the gate connection's level before the store switches it to NORMAL, so at full
 * it checkpoints at FULL (a checkpoint syncs the same way at FULL and NORMAL).
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
  /** WAL size (frames, ~4 KiB each) above which the store is asked for a short pause to rewind it. */
  restartFrames?: number;
  /** WAL size (frames) above which the store pauses until the copy is done, however long. */
  hardFrames?: number;
  /** Longest short pause, ms. */
  pauseMs?: number;
  /** busy_timeout of the checkpoint connection, ms. */
  busyTimeoutMs?: number;
};

export type CheckpointStats = {
  /** PASSIVE passes run. */
  passive: number;
  /** Pauses of the store's writes that let the worker copy the WAL's last frames. */
  pauses: number;
  /** Of those, how many ended with the copy done (the next commit rewound the WAL). */
  caughtUp: number;
  /** Total and longest pause, ms: what calls queued meanwhile waited for. */
  pauseMsTotal: number;
  pauseMsMax: number;
  failed: number;
  lastError?: string;
  /** PRAGMA synchronous of the worker's connection (2 FULL, 1 NORMAL), once it has opened. */
  synchronous?: number;
};

/** Slots of the shared control array. */
const STOP = 0;
const PASSIVE = 1;
const CAUGHT_UP = 2;
const FAILED = 3;
/** Pause handshake: NONE → WANT or WANT_HARD (worker) → PAUSED (store stopped writing) → DONE (worker) → NONE (store). */
const STATE = 4;
const NONE = 0;
const WANT = 1;
const PAUSED = 2;
const DONE = 3;
const WANT_HARD = 4;
const SLOTS = 5;

const WORKER_JS = `
'use strict';
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.driver);
const ctl = new Int32Array(workerData.ctl);
const [STOP, PASSIVE, CAUGHT_UP, FAILED, STATE] = [${STOP}, ${PASSIVE}, ${CAUGHT_UP}, ${FAILED}, ${STATE}];
const [NONE, WANT, PAUSED, DONE, WANT_HARD] = [${NONE}, ${WANT}, ${PAUSED}, ${DONE}, ${WANT_HARD}];
let db;
try {
  db = new Database(workerData.path, { timeout: workerData.busyTimeoutMs, fileMustExist: true });
  db.pragma('wal_autocheckpoint = 0');
  // the store's durability: checkpoints fsync at FULL and NORMAL alike (never OFF)
  db.pragma('synchronous = ' + workerData.synchronous);
  parentPort.postMessage({ synchronous: db.pragma('synchronous', { simple: true }) });
} catch (err) {
  parentPort.postMessage({ fatal: String(err && err.message) });
  process.exit(1);
}
const passive = () => {
  const r = db.pragma('wal_checkpoint(PASSIVE)')[0];
  Atomics.add(ctl, PASSIVE, 1);
  return r;
};
let lastLog = -1;
// the WAL size at the last complete copy during a pause: not asked again before the store's commit
let caughtUpAt = -1;
while (Atomics.load(ctl, STOP) === 0) {
  try {
    const state = Atomics.load(ctl, STATE);
    if (state === PAUSED) {
      // the store writes nothing until DONE: copy what is left, so that its next commit rewinds the WAL
      try {
        const r = passive();
        if (r.checkpointed === r.log) {
          Atomics.add(ctl, CAUGHT_UP, 1);
          caughtUpAt = r.log;
        }
      } finally {
        // unless the store stopped waiting and went on already
        Atomics.compareExchange(ctl, STATE, PAUSED, DONE);
        Atomics.notify(ctl, STATE);
      }
      continue;
    }
    if (state === DONE) {
      // the store has not taken the answer yet
      Atomics.wait(ctl, STATE, DONE, workerData.busyMs);
      continue;
    }
    if (state === WANT || state === WANT_HARD) {
      // asked, not answered yet: the store has no group to run (idle) or has not reached the
      // end of its current one; an idle store rewinds by itself at its next commit
      Atomics.wait(ctl, STATE, state, workerData.busyMs);
      if (Atomics.load(ctl, STATE) === state) Atomics.compareExchange(ctl, STATE, state, NONE);
      continue;
    }
    const r = passive();
    // still growing: the store is writing (an idle store rewinds the WAL by itself at its next commit)
    const growing = r.log !== lastLog && r.log > 0;
    lastLog = r.log;
    if (growing && r.log > workerData.restartFrames && r.log !== caughtUpAt) {
      // just after a pass: what a pause has to copy is only what came since
      Atomics.compareExchange(ctl, STATE, NONE, r.log > workerData.hardFrames ? WANT_HARD : WANT);
      continue;
    }
    Atomics.wait(ctl, STOP, 0, growing ? workerData.busyMs : workerData.idleMs);
  } catch (err) {
    Atomics.add(ctl, FAILED, 1);
    parentPort.postMessage({ error: String(err && err.message) });
    Atomics.wait(ctl, STOP, 0, workerData.idleMs);
  }
}
db.close();
`;

export class Checkpointer {
  private readonly ctl = new Int32Array(new SharedArrayBuffer(4 * SLOTS));
  private readonly worker: Worker;
  /** Resolves when the worker has ended (stopped, or failed: then SQLite checkpoints by itself again). */
  readonly exited: Promise<void>;
  private lastError: string | undefined;
  private synchronous: number | undefined;
  private stopped = false;

  /** Starts checkpointing `path`; `db` is the gate's connection (its autocheckpoint is turned off while this runs). */
  private readonly pauseMs: number;
  /** A pause past hardFrames still ends if the worker never answers (it died). */
  private readonly hardPauseMs = 5000;

  constructor(
    private readonly db: Database.Database,
    path: string,
    opts: CheckpointerOptions = {},
  ) {
    this.pauseMs = opts.pauseMs ?? 25;
    // the gate connection's level (store.durability), for the worker's own connection; OFF is never used
    const synchronous = db.pragma('synchronous', { simple: true }) === 1 ? 'NORMAL' : 'FULL';
    db.pragma('wal_autocheckpoint = 0');
    this.worker = new Worker(WORKER_JS, {
      eval: true,
      workerData: {
        driver: require.resolve('better-sqlite3'),
        path,
        ctl: this.ctl.buffer,
        idleMs: opts.idleMs ?? 200,
        busyMs: opts.busyMs ?? 5,
        restartFrames: opts.restartFrames ?? 131_072,
        hardFrames: opts.hardFrames ?? 524_288,
        busyTimeoutMs: opts.busyTimeoutMs ?? 2000,
        synchronous,
      },
    });
    this.worker.on('message', (m: { error?: string; fatal?: string; synchronous?: number }) => {
      if (m.synchronous !== undefined) {
        this.synchronous = m.synchronous;
        return;
      }
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
    // After the listeners: adding a 'message' listener refs the worker's port again, and a store
    // its owner forgot to close must not keep the process alive (the worker dies with it).
    this.worker.unref();
  }

  stats(): CheckpointStats {
    const s: CheckpointStats = {
      passive: Atomics.load(this.ctl, PASSIVE),
      pauses: this.pauses,
      caughtUp: Atomics.load(this.ctl, CAUGHT_UP),
      pauseMsTotal: Math.round(this.pauseMsTotal * 1000) / 1000,
      pauseMsMax: Math.round(this.pauseMsMax * 1000) / 1000,
      failed: Atomics.load(this.ctl, FAILED),
    };
    if (this.lastError !== undefined) s.lastError = this.lastError;
    if (this.synchronous !== undefined) s.synchronous = this.synchronous;
    return s;
  }

  private pauses = 0;
  private pauseMsTotal = 0;
  private pauseMsMax = 0;

  /** True when the worker asks the store to pause its writes so that the WAL can be rewound. */
  wantsPause(): boolean {
    const s = Atomics.load(this.ctl, STATE);
    return s === WANT || s === WANT_HARD;
  }

  /**
   * Called by the store with no transaction open, when wantsPause(): the store
   * writes nothing until this resolves, once the worker has copied the WAL's
   * last frames or after `pauseMs` (unless the WAL is past `hardFrames`).
   */
  async pause(): Promise<void> {
    const want = Atomics.load(this.ctl, STATE);
    if ((want !== WANT && want !== WANT_HARD) || Atomics.compareExchange(this.ctl, STATE, want, PAUSED) !== want)
      return;
    const t0 = process.hrtime.bigint();
    Atomics.notify(this.ctl, STATE);
    const w = (
      Atomics as unknown as {
        waitAsync(a: Int32Array, i: number, v: number, t: number): { async: boolean; value: Promise<string> | string };
      }
    ).waitAsync(this.ctl, STATE, PAUSED, want === WANT_HARD ? this.hardPauseMs : this.pauseMs);
    if (w.async) await w.value;
    // DONE, or not done in time: the store writes again either way (the worker asks again later)
    Atomics.store(this.ctl, STATE, NONE);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    this.pauses++;
    this.pauseMsTotal += ms;
    if (ms > this.pauseMsMax) this.pauseMsMax = ms;
  }

  /** Stops the worker and waits for its connection to close. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.worker.ref(); // keep the process alive until the worker has closed its connection
    Atomics.store(this.ctl, STOP, 1);
    Atomics.notify(this.ctl, STOP);
    await this.exited;
  }
}
