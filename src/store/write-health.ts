// Whether the store's background writes (registrations, call records) are
// getting to disk, for both engines. A disk that fills or goes read-only
// fails every retry: the outage is reported when it starts, then once per
// interval while it lasts, and when it ends, never once per attempt (issue 11
// item 3). /healthz and the database alarm read problem() from here.

export interface WriteHealthOptions {
  /** The start of an outage, and a reminder per reportEveryMs while it lasts. */
  report: (err: Error) => void;
  /** The end of an outage (the first write that went through). */
  recovered?: (what: string, failedForMs: number) => void;
  now?: () => number;
  /** Default 60 s. */
  reportEveryMs?: number;
}

interface Outage {
  since: number;
  lastError: Error;
  lastReportAt: number;
  attempts: number;
}

/** One per store; each write-behind queue reports under its own name ("registration writes", "call record writes"). */
export class WriteHealth {
  private readonly failing = new Map<string, Outage>();
  private readonly now: () => number;

  constructor(private readonly opts: WriteHealthOptions) {
    this.now = opts.now ?? Date.now;
  }

  failed(what: string, err: Error): void {
    const t = this.now();
    const o = this.failing.get(what);
    if (o === undefined) {
      this.failing.set(what, { since: t, lastError: err, lastReportAt: t, attempts: 1 });
      this.opts.report(new StoreWriteError(`${what} failing: ${describeStoreError(err)}`, err));
      return;
    }
    o.lastError = err;
    o.attempts++;
    if (t - o.lastReportAt >= (this.opts.reportEveryMs ?? 60_000)) {
      o.lastReportAt = t;
      this.opts.report(new StoreWriteError(
        `${what} still failing after ${Math.round((t - o.since) / 1000)} s (${o.attempts} attempts): ${describeStoreError(err)}`, err));
    }
  }

  succeeded(what: string): void {
    const o = this.failing.get(what);
    if (o === undefined) return;
    this.failing.delete(what);
    this.opts.recovered?.(what, this.now() - o.since);
  }

  /** When this queue's writes began failing (undefined: they go through). */
  failingSince(what: string): number | undefined {
    return this.failing.get(what)?.since;
  }

  lastError(what: string): Error | undefined {
    return this.failing.get(what)?.lastError;
  }

  /** "database not writable: ..." while any queue's writes fail; undefined otherwise. */
  problem(): string | undefined {
    if (this.failing.size === 0) return undefined;
    const t = this.now();
    const parts = [...this.failing].map(([what, o]) =>
      `${what} failing for ${Math.round((t - o.since) / 1000)} s: ${describeStoreError(o.lastError)}`);
    return `database not writable: ${parts.join('; ')}`;
  }
}

/** A write failure as reported once: the cause is kept, the text says what failed without a stack per attempt. */
export class StoreWriteError extends Error {
  readonly code: string | undefined;

  constructor(message: string, override readonly cause: Error) {
    super(message);
    this.name = 'StoreWriteError';
    const code = (cause as { code?: unknown }).code;
    this.code = typeof code === 'string' ? code : undefined;
  }
}

/** "SQLITE_FULL: database or disk is full" — the code a search finds and the words an operator reads. */
export function describeStoreError(err: Error): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
}

/** A write-behind repository as the store's close() sees it. */
export interface ClosableQueue {
  readonly pending: number;
  close(): Promise<void>;
}

/**
 * Closes every queue (each flushes first), even after one failed, and names
 * what could not be written: losing acknowledged data silently is the one
 * thing a stop must not do. @throws StoreWriteError
 */
export async function closeQueues(queues: ReadonlyArray<[noun: string, queue: ClosableQueue]>): Promise<void> {
  const unwritten: string[] = [];
  let cause: Error | undefined;
  for (const [noun, q] of queues) {
    try {
      await q.close();
    } catch (err) {
      cause ??= err as Error;
      unwritten.push(`${q.pending} ${noun}(s)`);
    }
  }
  if (cause !== undefined) throw new StoreWriteError(`not written before closing: ${unwritten.join(', ')}: ${describeStoreError(cause)}`, cause);
}
