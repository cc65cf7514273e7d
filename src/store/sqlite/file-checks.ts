// What can go wrong with the SQLite files on disk, said in the words an
// operator acts on (issue 11 item 3): before opening (a file the server
// cannot write, a full disk), when opening fails (a damaged file), and while
// running (someone truncates or removes the -shm index: SQLite maps that
// file, and a mapping past its end is a SIGBUS that kills the process).
import { closeSync, fstatSync, ftruncateSync, openSync, statfsSync, watch, type FSWatcher } from 'node:fs';
import { basename } from 'node:path';

/** Below this much free space the server refuses to start rather than fail on its first write. */
const MIN_FREE_BYTES = 1024 * 1024;

/**
 * Throws an Error naming the file and what to do when the database files
 * cannot be written or the disk has no room. The -wal and -shm files only
 * exist after an unclean stop; each must be writable too.
 */
export function checkDatabaseFiles(file: string, dir: string): void {
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    let fd: number;
    try {
      fd = openSync(f, 'r+');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') continue;
      throw new Error(`cannot write ${f} (${code}): the server needs to write its database files; ` +
        'check their owner and permissions, and attributes such as immutable (lsattr, chattr -i)' +
        (f.endsWith('-shm') || f.endsWith('-wal') ? `, or remove ${basename(f)} while no switchboard process runs (SQLite recreates it)` : ''));
    }
    closeSync(fd);
  }
  let free: number;
  try {
    const s = statfsSync(dir);
    free = s.bavail * s.bsize;
  } catch {
    return; // No answer from the file system: the open itself will say more.
  }
  if (free < MIN_FREE_BYTES) {
    throw new Error(`the disk holding ${dir} is full (${Math.floor(free / 1024)} KiB free): free some space, then start again`);
  }
}

/** An open() failure in words: a damaged file says so, anything else keeps SQLite's text. */
export function describeOpenError(file: string, err: unknown): Error {
  const code = (err as { code?: unknown }).code;
  const message = (err as Error).message ?? String(err);
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') {
    return new Error(`the database ${file} is damaged (${code}: ${message}): stop every switchboard process, ` +
      `then restore it from a backup, or try \`sqlite3 ${basename(file)} .recover\`, or move it aside to start empty`, { cause: err });
  }
  if (code === 'SQLITE_FULL') return new Error(`cannot open ${file}: the disk is full: free some space, then start again`, { cause: err });
  if (typeof code === 'string' && /^SQLITE_(READONLY|CANTOPEN|IOERR)/.test(code)) {
    return new Error(`cannot open ${file} (${code}: ${message}): check the disk, and the owner, permissions and attributes of the database files`, { cause: err });
  }
  return err instanceof Error ? err : new Error(message);
}

/**
 * Watches the -shm file SQLite maps: if something outside truncates it,
 * its size is put back at once (the pages read as zeros, which SQLite takes
 * as an index to rebuild from the WAL) instead of the next access faulting
 * the process. Its removal is reported: another process would then build a
 * second index, so the server should be restarted.
 */
/**
 * What the -shm guard saw: an operator's problem said in one line (no stack:
 * the code path is always the guard's watcher and tells nothing).
 */
export class StoreFileNotice extends Error {
  override readonly name = 'StoreFileNotice';
}

/**
 * Puts a truncated -shm back to its size. It narrows the window, it cannot
 * close it: a process of this server that reads the index between the cut and
 * this watcher's turn dies of SIGBUS (the kernel's, for a mapping past the end
 * of its file), and the supervisor starts that worker again; registrations
 * were stored before their 200 OK (group commit), so none is lost.
 */
export class ShmGuard {
  private watcher: FSWatcher | undefined;
  private fd: number | undefined;
  private size = 0;

  constructor(
    private readonly file: string,
    private readonly report: (what: 'restored' | 'removed', detail: string) => void,
  ) {}

  start(): void {
    const shm = `${this.file}-shm`;
    try {
      this.fd = openSync(shm, 'r+');
      this.size = fstatSync(this.fd).size;
      this.watcher = watch(shm, { persistent: false }, (event) => this.changed(event));
      this.watcher.on('error', () => this.stop());
    } catch {
      // No -shm (not in WAL mode, or not created yet): nothing mapped to guard.
      this.stop();
    }
  }

  private changed(event: string): void {
    if (this.fd === undefined) return;
    const st = fstatSync(this.fd);
    if (st.nlink === 0) {
      this.report('removed', `${this.file}-shm was removed while the server runs: restart the server before running any other switchboard command`);
      this.stop();
      return;
    }
    if (st.size >= this.size) {
      this.size = st.size; // SQLite grew it.
      return;
    }
    try {
      ftruncateSync(this.fd, this.size);
      this.report('restored', `${this.file}-shm was cut from ${this.size} to ${st.size} bytes (${event}) while the server runs; its size is restored and SQLite rebuilds its index`);
    } catch (err) {
      this.report('restored', `${this.file}-shm was cut to ${st.size} bytes and could not be restored (${(err as NodeJS.ErrnoException).code}): restart the server`);
    }
  }

  stop(): void {
    this.watcher?.close();
    this.watcher = undefined;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
