// Follows the user change log so the server sees edits the CLI makes from
// another process. PRAGMA data_version changes only when another connection
// commits, so most ticks cost one pragma and no query; our own commits do not
// move it, which is why the repository also counts its local writes.
import type Database from 'better-sqlite3';
import type { ChangeListener, ChangeWatcher, UserChange } from '../types.ts';

export interface WatchedRepository {
  readonly db: Database.Database;
  readonly localWrites: number;
  lastChangeSeq(): number;
  pollChanges(afterSeq: number, limit?: number): UserChange[];
}

const BATCH = 1000;

export function watchUserChanges(
  repo: WatchedRepository,
  listener: ChangeListener,
  opts: { intervalMs?: number; afterSeq?: number },
): ChangeWatcher {
  const dataVersion = repo.db.prepare<[], number>('PRAGMA data_version').pluck();
  let seq = opts.afterSeq ?? repo.lastChangeSeq();
  let lastVersion = -1;
  let lastLocal = -1;
  let timer: NodeJS.Timeout | undefined;

  function poll(): boolean {
    if (!repo.db.open) return false;
    // Read the markers before the log: a commit landing in between moves them
    // again, so the next tick looks once more instead of missing it.
    const version = dataVersion.get()!;
    const local = repo.localWrites;
    if (version === lastVersion && local === lastLocal) return false;
    lastVersion = version;
    lastLocal = local;
    let called = false;
    for (;;) {
      const changes = repo.pollChanges(seq, BATCH);
      if (changes.length === 0) break;
      const reset = changes[0]!.seq > seq + 1;
      seq = changes[changes.length - 1]!.seq;
      listener(changes, reset);
      called = true;
      if (changes.length < BATCH) break;
    }
    return called;
  }

  if (opts.intervalMs !== 0) {
    timer = setInterval(poll, opts.intervalMs ?? 500);
    timer.unref();
  }
  return {
    poll,
    stop: () => clearInterval(timer),
    get seq() { return seq; },
  };
}
