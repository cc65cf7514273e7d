// Sessions kept open for watching (issue 12 item 4): a status page or
// wallboard that is open and visible tells the live feed so ("watching"),
// every WATCH_EVERY_MS while visible, "hidden" when it is not. Such a session
// outlives the idle timeout for the status routes only: once idle it can watch
// (GET the status, the alarms, its own session, the feed) but nothing else,
// and never change anything, until its owner logs in again. The idle timeout
// of editing sessions is unchanged.

/** How often a visible page says it is watching. */
export const WATCH_EVERY_MS = 30_000;
/** A page that has not said so for this long is taken as gone or hidden (a missed message or two is fine). */
export const WATCH_FRESH_MS = 3 * WATCH_EVERY_MS;

/** One feed client's latest word. */
export interface Watcher {
  watchedAt: number;
}

export class SessionWatch {
  private readonly bySession = new Map<string, Set<Watcher>>();
  /** "watching" messages heard so far. */
  heardWatching = 0;

  constructor(private readonly now: () => number) {}

  /** A feed client of the session (not yet watching: its page says so first). */
  add(sessionHash: string): Watcher {
    const w: Watcher = { watchedAt: -Infinity };
    let set = this.bySession.get(sessionHash);
    if (!set) this.bySession.set(sessionHash, (set = new Set()));
    set.add(w);
    return w;
  }

  remove(sessionHash: string, w: Watcher): void {
    const set = this.bySession.get(sessionHash);
    if (!set) return;
    set.delete(w);
    if (set.size === 0) this.bySession.delete(sessionHash);
  }

  /**
   * What a feed client sent: "watching" or "hidden"; anything else is
   * ignored (the feed carries nothing else from the browser).
   */
  heard(w: Watcher, text: string): void {
    if (text === 'watching') {
      w.watchedAt = this.now();
      this.heardWatching++;
    }
    else if (text === 'hidden') w.watchedAt = -Infinity;
  }

  /** Is a page of this session open and visible now? */
  isWatched(sessionHash: string): boolean {
    const set = this.bySession.get(sessionHash);
    if (!set) return false;
    const now = this.now();
    for (const w of set) if (now - w.watchedAt < WATCH_FRESH_MS) return true;
    return false;
  }

  /** Sessions being watched now: idle-session housekeeping keeps them. */
  watched(): string[] {
    return [...this.bySession.keys()].filter((h) => this.isWatched(h));
  }
}
