// Lets the user watcher skip its query on ticks where nothing can have
// changed. PRAGMA data_version changes only when another connection commits,
// so most ticks cost one pragma and no query; our own commits do not move it,
// which is why the repository also counts its local writes.
import type Database from 'better-sqlite3';

export function unchangedSinceLastLook(db: Database.Database, localWrites: () => number): () => boolean {
  const dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
  let lastVersion = -1;
  let lastLocal = -1;
  return () => {
    if (!db.open) return true;
    // Read the markers before the log: a commit landing in between moves them
    // again, so the next tick looks once more instead of missing it.
    const version = dataVersion.get()!;
    const local = localWrites();
    if (version === lastVersion && local === lastLocal) return true;
    lastVersion = version;
    lastLocal = local;
    return false;
  };
}
