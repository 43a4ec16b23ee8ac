/*
 * callgate-walbuf: a SQLite VFS shim that writes each WAL commit with one
 * pwrite instead of two per page.
 *
 * Why. SQLite writes every WAL frame as two pwrite calls (the 24-byte frame
 * header, then the page). A check-and-record commits ~20 frames per group of
 * 8 decisions, so ~5 pwrites per decision. On the virtual machines callgate
 * was measured on, a system call costs ~2.5 us (fstat alone), and those
 * pwrites were a quarter of the gate's thread. Buffering the frames of one
 * commit and writing them at once gave ~20% more decisions per second
 * (docs/BENCHMARKS.md).
 *
 * What it changes: nothing of SQLite's file format, locking or durability.
 * Only writes to a WAL file go through the buffer, and only appends of the
 * connection's current write transaction (a write that is not contiguous with
 * the buffer flushes it first; a write before the transaction's furthest
 * write, such as SQLite rewriting a frame checksum, goes straight to the
 * file). The buffer reaches the file:
 *   - right after the page of a commit frame (frame header bytes 4-7 non-zero)
 *     is added, inside that xWrite, so a failed write fails the COMMIT exactly
 *     as an unbuffered one would, before SQLite publishes the new frames in
 *     the wal-index (shared memory) to other connections and processes;
 *   - before any read, sync, truncate, size query or file-control of the WAL,
 *     and before any shared-memory lock change or barrier of its database
 *     (SQLite publishes frames only between a barrier and an unlock, so no
 *     reader, in this process or another, can ever look at a frame that is
 *     still in this buffer);
 *   - when it is full (128 KiB - 1: the unix VFS writes at most that much per
 *     call) and at close.
 * A crash loses what the buffer holds: frames of a transaction that had not
 * committed, which SQLite discards on recovery anyway (synchronous=NORMAL, as
 * callgate runs, never promised more: a commit is durable once its frames
 * are in the OS, and they are, before the commit returns).
 *
 * Every other file (database, journals, temp files) and every other VFS call
 * passes through to the default VFS ("unix") unchanged.
 *
 * Loaded by src/store/sqlite/walbuf.ts with sqlite3_load_extension, it
 * registers itself as the process's default VFS and stays loaded; it also
 * registers, for every connection, the SQL function callgate_walbuf() that
 * returns {"vfs": <this connection's VFS>, "writes": <WAL writes buffered>,
 * "flushes": <pwrites they took>} so that tests and the gate can check it
 * is in use.
 *
 * Build: scripts/build-walbuf.js (npm install runs it). SQLite's own API
 * comes through sqlite3_api (sqlite3ext.h): no link to a libsqlite3.
 */
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT1
#include <stdio.h>
#include <string.h>

#define WB_VFS_NAME "callgate-walbuf"
/* seekAndWriteFd() of the unix VFS masks each write to 17 bits */
#define WB_CAP 0x1ffff
/* the WAL write lock is shared-memory lock slot 0 (WAL_WRITE_LOCK in sqlite3.c) */
#define WB_WAL_WRITE_LOCK 0
#define WB_FRAME_HDR 24

typedef struct WbFile WbFile;
struct WbFile {
  sqlite3_file base;  /* methods: wbMethods */
  sqlite3_file *real; /* the default VFS's file, allocated right after this struct */
  int isWal;          /* a WAL file whose database was opened through this VFS */
  WbFile *wal;        /* database file: its open WAL (same connection) */
  WbFile *db;         /* WAL file: its database file */
  unsigned char *buf; /* WAL: pending bytes, written at offset off */
  int len;
  sqlite3_int64 off;
  sqlite3_int64 end;  /* WAL: end of the furthest write of the current write transaction */
  int commitHdr;      /* WAL: the last write added was the header of a commit frame */
};

static sqlite3_vfs wbVfs;
static sqlite3_vfs *realVfs;
static sqlite3_int64 statWrites;  /* WAL writes that went into the buffer */
static sqlite3_int64 statFlushes; /* writes of the buffer to the file */

#define REAL(f) (((WbFile *)(f))->real)
#define COUNT(x) __atomic_fetch_add(&(x), 1, __ATOMIC_RELAXED)

static int wbFlush(WbFile *p) {
  int rc = SQLITE_OK;
  if (p->len > 0) {
    rc = p->real->pMethods->xWrite(p->real, p->buf, p->len, p->off);
    p->len = 0;
    COUNT(statFlushes);
  }
  p->commitHdr = 0;
  return rc;
}

static int wbClose(sqlite3_file *f) {
  WbFile *p = (WbFile *)f;
  int rc = SQLITE_OK, rc2;
  if (p->isWal) {
    rc = wbFlush(p);
    if (p->db && p->db->wal == p) p->db->wal = 0;
    sqlite3_free(p->buf);
    p->buf = 0;
  } else if (p->wal) {
    p->wal->db = 0;
  }
  rc2 = p->real->pMethods->xClose(p->real);
  return rc != SQLITE_OK ? rc : rc2;
}

static int wbRead(sqlite3_file *f, void *b, int n, sqlite3_int64 o) {
  WbFile *p = (WbFile *)f;
  if (p->isWal) {
    int rc = wbFlush(p);
    if (rc != SQLITE_OK) return rc;
  }
  return p->real->pMethods->xRead(p->real, b, n, o);
}

static int wbWrite(sqlite3_file *f, const void *b, int n, sqlite3_int64 o) {
  WbFile *p = (WbFile *)f;
  int rc;
  if (!p->isWal) return p->real->pMethods->xWrite(p->real, b, n, o);
  if (p->len > 0 && o == p->off + p->len && p->len + n <= WB_CAP) {
    memcpy(p->buf + p->len, b, n);
    p->len += n;
  } else {
    rc = wbFlush(p);
    if (rc != SQLITE_OK) return rc;
    if (o < p->end || n > WB_CAP) {
      /* a rewrite of this transaction's frames, or too large: straight to the file */
      rc = p->real->pMethods->xWrite(p->real, b, n, o);
      if (rc == SQLITE_OK && o + n > p->end) p->end = o + n;
      return rc;
    }
    if (!p->buf) {
      p->buf = sqlite3_malloc(WB_CAP);
      if (!p->buf) return p->real->pMethods->xWrite(p->real, b, n, o);
    }
    memcpy(p->buf, b, n);
    p->len = n;
    p->off = o;
  }
  COUNT(statWrites);
  if (o + n > p->end) p->end = o + n;
  /* the page of a commit frame: the commit's last write, so the buffer goes now */
  if (p->commitHdr) return wbFlush(p);
  if (n == WB_FRAME_HDR) {
    const unsigned char *h = (const unsigned char *)b;
    p->commitHdr = (h[4] | h[5] | h[6] | h[7]) != 0;
  }
  return SQLITE_OK;
}

static int wbTruncate(sqlite3_file *f, sqlite3_int64 size) {
  WbFile *p = (WbFile *)f;
  if (p->isWal) {
    int rc = wbFlush(p);
    if (rc != SQLITE_OK) return rc;
    if (p->end > size) p->end = size;
  }
  return p->real->pMethods->xTruncate(p->real, size);
}

static int wbSync(sqlite3_file *f, int flags) {
  WbFile *p = (WbFile *)f;
  if (p->isWal) {
    int rc = wbFlush(p);
    if (rc != SQLITE_OK) return rc;
  }
  return p->real->pMethods->xSync(p->real, flags);
}

static int wbFileSize(sqlite3_file *f, sqlite3_int64 *s) {
  WbFile *p = (WbFile *)f;
  if (p->isWal) {
    int rc = wbFlush(p);
    if (rc != SQLITE_OK) return rc;
  }
  return p->real->pMethods->xFileSize(p->real, s);
}

static int wbLock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xLock(REAL(f), l); }
static int wbUnlock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xUnlock(REAL(f), l); }
static int wbCheckReservedLock(sqlite3_file *f, int *r) {
  return REAL(f)->pMethods->xCheckReservedLock(REAL(f), r);
}

static int wbFileControl(sqlite3_file *f, int op, void *a) {
  WbFile *p = (WbFile *)f;
  if (p->isWal) {
    int rc = wbFlush(p);
    if (rc != SQLITE_OK) return rc;
  }
  return p->real->pMethods->xFileControl(p->real, op, a);
}

static int wbSectorSize(sqlite3_file *f) { return REAL(f)->pMethods->xSectorSize(REAL(f)); }
static int wbDeviceCharacteristics(sqlite3_file *f) {
  return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}
static int wbShmMap(sqlite3_file *f, int i, int sz, int ext, void volatile **pp) {
  return REAL(f)->pMethods->xShmMap(REAL(f), i, sz, ext, pp);
}

static int wbShmLock(sqlite3_file *f, int ofst, int n, int flags) {
  WbFile *p = (WbFile *)f;
  int rc;
  if (p->wal) {
    rc = wbFlush(p->wal);
    if (rc != SQLITE_OK) {
      if (flags & SQLITE_SHM_LOCK) return rc; /* not taken: the caller sees the error */
      sqlite3_log(rc, WB_VFS_NAME ": a WAL write failed before a shared-memory unlock");
    }
  }
  rc = p->real->pMethods->xShmLock(p->real, ofst, n, flags);
  if (rc == SQLITE_OK && p->wal && ofst == WB_WAL_WRITE_LOCK &&
      flags == (SQLITE_SHM_LOCK | SQLITE_SHM_EXCLUSIVE)) {
    p->wal->end = 0; /* a new write transaction: its first WAL write is an append */
  }
  return rc;
}

static void wbShmBarrier(sqlite3_file *f) {
  WbFile *p = (WbFile *)f;
  if (p->wal) {
    /* never reached with bytes pending in practice (commits flush at their last frame) */
    int rc = wbFlush(p->wal);
    if (rc != SQLITE_OK) sqlite3_log(rc, WB_VFS_NAME ": a WAL write failed before a wal-index update");
  }
  p->real->pMethods->xShmBarrier(p->real);
}

static int wbShmUnmap(sqlite3_file *f, int del) { return REAL(f)->pMethods->xShmUnmap(REAL(f), del); }

static int wbFetch(sqlite3_file *f, sqlite3_int64 o, int n, void **pp) {
  WbFile *p = (WbFile *)f;
  if (p->isWal) {
    int rc = wbFlush(p);
    if (rc != SQLITE_OK) return rc;
  }
  return p->real->pMethods->xFetch(p->real, o, n, pp);
}

static int wbUnfetch(sqlite3_file *f, sqlite3_int64 o, void *pg) {
  return REAL(f)->pMethods->xUnfetch(REAL(f), o, pg);
}

static const sqlite3_io_methods wbMethods = {
    3,
    wbClose,
    wbRead,
    wbWrite,
    wbTruncate,
    wbSync,
    wbFileSize,
    wbLock,
    wbUnlock,
    wbCheckReservedLock,
    wbFileControl,
    wbSectorSize,
    wbDeviceCharacteristics,
    wbShmMap,
    wbShmLock,
    wbShmBarrier,
    wbShmUnmap,
    wbFetch,
    wbUnfetch,
};

static int wbOpen(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f, int flags, int *outFlags) {
  WbFile *p = (WbFile *)f;
  int rc;
  (void)vfs;
  memset(p, 0, sizeof(*p));
  p->real = (sqlite3_file *)&p[1];
  rc = realVfs->xOpen(realVfs, name, p->real, flags, outFlags);
  if (rc != SQLITE_OK) {
    p->base.pMethods = 0;
    return rc;
  }
  if (p->real->pMethods == 0 || p->real->pMethods->iVersion < 3) {
    if (p->real->pMethods) p->real->pMethods->xClose(p->real);
    p->base.pMethods = 0;
    return SQLITE_CANTOPEN;
  }
  p->base.pMethods = &wbMethods;
  if ((flags & SQLITE_OPEN_WAL) && name) {
    sqlite3_file *db = sqlite3_database_file_object(name);
    /* buffered only when its database's barrier and locks can flush it (see the header) */
    if (db && db->pMethods == &wbMethods) {
      p->isWal = 1;
      p->db = (WbFile *)db;
      p->db->wal = p;
    }
  }
  return SQLITE_OK;
}

static int vDelete(sqlite3_vfs *v, const char *z, int s) { return realVfs->xDelete(realVfs, z, s); }
static int vAccess(sqlite3_vfs *v, const char *z, int f, int *r) { return realVfs->xAccess(realVfs, z, f, r); }
static int vFullPathname(sqlite3_vfs *v, const char *z, int n, char *o) {
  return realVfs->xFullPathname(realVfs, z, n, o);
}
static void *vDlOpen(sqlite3_vfs *v, const char *z) { return realVfs->xDlOpen(realVfs, z); }
static void vDlError(sqlite3_vfs *v, int n, char *z) { realVfs->xDlError(realVfs, n, z); }
static void (*vDlSym(sqlite3_vfs *v, void *h, const char *z))(void) { return realVfs->xDlSym(realVfs, h, z); }
static void vDlClose(sqlite3_vfs *v, void *h) { realVfs->xDlClose(realVfs, h); }
static int vRandomness(sqlite3_vfs *v, int n, char *z) { return realVfs->xRandomness(realVfs, n, z); }
static int vSleep(sqlite3_vfs *v, int us) { return realVfs->xSleep(realVfs, us); }
static int vCurrentTime(sqlite3_vfs *v, double *t) { return realVfs->xCurrentTime(realVfs, t); }
static int vGetLastError(sqlite3_vfs *v, int n, char *z) { return realVfs->xGetLastError(realVfs, n, z); }
static int vCurrentTimeInt64(sqlite3_vfs *v, sqlite3_int64 *t) { return realVfs->xCurrentTimeInt64(realVfs, t); }

/* callgate_walbuf(): {"vfs": …, "writes": …, "flushes": …} */
static void statsFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  sqlite3_vfs *vfs = 0;
  char out[200];
  (void)argc;
  (void)argv;
  sqlite3_file_control(sqlite3_context_db_handle(ctx), "main", SQLITE_FCNTL_VFS_POINTER, &vfs);
  snprintf(out, sizeof(out), "{\"vfs\":\"%s\",\"writes\":%lld,\"flushes\":%lld}", vfs ? vfs->zName : "",
           (long long)__atomic_load_n(&statWrites, __ATOMIC_RELAXED),
           (long long)__atomic_load_n(&statFlushes, __ATOMIC_RELAXED));
  sqlite3_result_text(ctx, out, -1, SQLITE_TRANSIENT);
}

static int registerVfs(void) {
  if (sqlite3_vfs_find(WB_VFS_NAME)) return SQLITE_OK;
  realVfs = sqlite3_vfs_find(0);
  if (!realVfs || realVfs->iVersion < 2 || strcmp(realVfs->zName, "unix") != 0) return SQLITE_ERROR;
  wbVfs.iVersion = 2;
  wbVfs.szOsFile = (int)sizeof(WbFile) + realVfs->szOsFile;
  wbVfs.mxPathname = realVfs->mxPathname;
  wbVfs.zName = WB_VFS_NAME;
  wbVfs.xOpen = wbOpen;
  wbVfs.xDelete = vDelete;
  wbVfs.xAccess = vAccess;
  wbVfs.xFullPathname = vFullPathname;
  wbVfs.xDlOpen = vDlOpen;
  wbVfs.xDlError = vDlError;
  wbVfs.xDlSym = vDlSym;
  wbVfs.xDlClose = vDlClose;
  wbVfs.xRandomness = vRandomness;
  wbVfs.xSleep = vSleep;
  wbVfs.xCurrentTime = vCurrentTime;
  wbVfs.xGetLastError = vGetLastError;
  wbVfs.xCurrentTimeInt64 = vCurrentTimeInt64;
  return sqlite3_vfs_register(&wbVfs, 1);
}

/* run by SQLite for every connection opened after the load (an auto-extension must return SQLITE_OK) */
static int wbConnectionInit(sqlite3 *db, char **err, const sqlite3_api_routines *api) {
  (void)err;
  (void)api;
  return sqlite3_create_function(db, "callgate_walbuf", 0, SQLITE_UTF8, 0, statsFunc, 0, 0);
}

#ifdef _WIN32
__declspec(dllexport)
#endif
int sqlite3_walbuf_init(sqlite3 *db, char **err, const sqlite3_api_routines *api) {
  int rc;
  SQLITE_EXTENSION_INIT2(api);
  rc = registerVfs();
  if (rc != SQLITE_OK) {
    if (err) *err = sqlite3_mprintf(WB_VFS_NAME ": the default VFS is not SQLite's unix VFS; not enabled");
    return rc;
  }
  /* every later connection gets callgate_walbuf() too */
  rc = sqlite3_auto_extension((void (*)(void))wbConnectionInit);
  if (rc == SQLITE_OK) rc = wbConnectionInit(db, err, api);
  return rc == SQLITE_OK ? SQLITE_OK_LOAD_PERMANENTLY : rc;
}
