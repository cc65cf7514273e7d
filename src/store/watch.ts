// The repositories' change feeds, shared by both engines. A watcher runs a
// check ("did anything change since I last looked? then tell the listener")
// when something wakes it: a timer (SQLite, whose other writers are processes
// that cannot signal us) or a notification (PostgreSQL LISTEN/NOTIFY, with the
// timer kept as a safety net for notifications lost while reconnecting).
// Checks run one at a time, in order, so a listener never overlaps itself.
import type { ChangeWatcher, UserChange, UserRepository } from './types.ts';

export interface WatchTriggers {
  /** Timer period; 0 = no timer (only poll() and wake-ups look). */
  intervalMs: number;
  /** Subscribes to wake-ups; returns the unsubscribe. */
  wake?: (fire: () => void) => () => void;
  /** Where failed checks go (a failed check is retried on the next wake-up). */
  onError: (err: Error) => void;
}

export function startWatch(check: () => Promise<boolean>, t: WatchTriggers): ChangeWatcher {
  let chain: Promise<boolean> = Promise.resolve(false);
  let queued = 0;
  let stopped = false;
  /** Checks that called the listener, so poll() also counts a wake-up's check that ran ahead of it. */
  let delivered = 0;
  // poll() looks even after stop() (a last look); timers and wake-ups do not.
  const run = (background: boolean): Promise<boolean> => {
    queued++;
    chain = chain
      .then(() => (background && stopped ? false : check()))
      .then((called) => {
        if (called) delivered++;
        return called;
      })
      .catch((err: unknown) => {
        t.onError(err instanceof Error ? err : new Error(String(err)));
        return false;
      })
      .finally(() => queued--);
    return chain;
  };
  // A wake-up while a check waits in line is covered by that check.
  const background = () => {
    if (queued < 2) void run(true);
  };
  const timer = t.intervalMs > 0 ? setInterval(background, t.intervalMs) : undefined;
  timer?.unref();
  const unsubscribe = t.wake?.(background);
  return {
    poll: async () => {
      const before = delivered;
      await run(false);
      return delivered > before;
    },
    stop() {
      stopped = true;
      clearInterval(timer);
      unsubscribe?.();
    },
  };
}

/**
 * Calls listener whenever revision() differs from what the last check saw;
 * the first check always calls it, so `await watch(...).poll()` is the
 * initial load.
 */
export function watchRevision(
  revision: () => Promise<number>,
  listener: () => void | Promise<void>,
  t: WatchTriggers,
): ChangeWatcher {
  let seen: number | undefined;
  return startWatch(async () => {
    const r = await revision();
    if (r === seen) return false;
    await listener();
    seen = r;
    return true;
  }, t);
}

/** A change log: entries numbered by an increasing seq, trimmed from the old end. */
export interface ChangeLog<E extends { seq: number }> {
  lastSeq(): Promise<number>;
  /** Entries with seq > afterSeq, oldest first, at most limit. */
  after(afterSeq: number, limit: number): Promise<E[]>;
}

const BATCH = 1000;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Follows a change log from afterSeq (default: its end when the watch
 * starts); reset tells the listener entries were trimmed before it saw them.
 * unchanged, when given, is a cheap test that lets a tick skip the query
 * (SQLite's data_version).
 */
export function watchLog<E extends { seq: number }>(
  log: ChangeLog<E>,
  listener: (entries: readonly E[], reset: boolean) => void | Promise<void>,
  afterSeq: number | undefined,
  t: WatchTriggers,
  unchanged?: () => boolean,
): ChangeWatcher {
  let seq: number | undefined = afterSeq;
  const w = startWatch(async () => {
    if (seq === undefined) {
      seq = await log.lastSeq();
      return false;
    }
    if (unchanged?.()) return false;
    let called = false;
    for (;;) {
      const entries = await log.after(seq, BATCH);
      if (entries.length === 0) break;
      const reset = entries[0]!.seq > seq + 1;
      await listener(entries, reset);
      seq = entries[entries.length - 1]!.seq;
      called = true;
      if (entries.length < BATCH) break;
      // A backlog (a big import landed) is caught up a batch per turn of the event loop, not in one go.
      await nextTurn();
    }
    return called;
  }, t);
  // The starting point is read at once, so changes made from now on are seen.
  if (seq === undefined) void w.poll();
  return w;
}

/** A user repository's change log as a ChangeLog. */
export function userChangeLog(users: UserRepository): ChangeLog<UserChange> {
  return { lastSeq: () => users.lastChangeSeq(), after: (seq, limit) => users.pollChanges(seq, limit) };
}
