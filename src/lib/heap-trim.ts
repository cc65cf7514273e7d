// Hands memory back to the system after a burst.
//
// V8 keeps the pages of heap it freed in a pool of its own, mapped and
// resident, until a collection that aims to reduce memory. Its memory reducer
// would start one once the process looks idle, but a server never looks idle
// to it (it reports "high alloc" forever), so after a burst of registrations
// the process keeps hundreds of MiB it no longer uses: 30,000 REGISTERs in
// 15 s left a worker at 360 MiB resident with 60 MiB of heap. One
// memory-reducing collection returns it. This watches for that gap and runs
// one, at most once per interval.
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface MemoryReading {
  rss: number;
  heapTotal: number;
  external: number;
}

export interface HeapTrimOptions {
  /** Resident memory beyond the heap, grown past its lowest reading by this much, starts a trim. */
  thresholdBytes?: number;
  /** Least time between two trims: each is a pause of the whole process. */
  minIntervalMs?: number;
  /**
   * A trim waits until the event loop was busy less than this share of the
   * time since the last check: during a burst a trim would pause the process
   * (0.2-1 s) for pages the burst takes again at once.
   */
  maxBusy?: number;
  /** The event loop's busy share since the last call (performance.eventLoopUtilization by default). */
  busy?: () => number;
  now?: () => number;
  read?: () => MemoryReading;
  /** The memory-reducing collection; by default V8's own, made reachable once. */
  collect?: () => void;
  onTrim?: (before: MemoryReading, after: MemoryReading, pauseMs: number) => void;
}

let v8Collect: (() => void) | undefined;

/** V8's gc() with its "last resort" flavour, the one that also releases pooled pages. */
function lastResortGc(): void {
  if (v8Collect === undefined) {
    // gc() exists only with --expose-gc; the flag, set now, makes it for new contexts.
    v8.setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as (opts: object) => void;
    v8Collect = () => gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  }
  v8Collect();
}

export class HeapTrim {
  private readonly threshold: number;
  private readonly minInterval: number;
  private readonly maxBusy: number;
  private readonly busy: () => number;
  private readonly now: () => number;
  private readonly read: () => MemoryReading;
  private readonly collect: () => void;
  /** Lowest resident memory beyond the heap seen so far: code, the binary, buffers. */
  private floor = Infinity;
  private last = -Infinity;
  trims = 0;

  constructor(private readonly opts: HeapTrimOptions = {}) {
    this.threshold = opts.thresholdBytes ?? 64 * 2 ** 20;
    this.minInterval = opts.minIntervalMs ?? 60_000;
    this.maxBusy = opts.maxBusy ?? 0.3;
    this.busy = opts.busy ?? loopBusy();
    this.now = opts.now ?? Date.now;
    this.read = opts.read ?? (() => process.memoryUsage());
    this.collect = opts.collect ?? lastResortGc;
  }

  /** Looks at the process's memory; trims and returns true when the pool has grown past the threshold. */
  check(): boolean {
    const before = this.read();
    const beyond = outsideHeap(before);
    if (beyond < this.floor) this.floor = beyond;
    // Read at every check, so it covers the time since the previous one.
    const busy = this.busy();
    if (beyond - this.floor < this.threshold) return false;
    if (busy > this.maxBusy) return false;
    if (this.now() - this.last < this.minInterval) return false;
    this.trimNow(before);
    return true;
  }

  /**
   * Trims now, whatever the readings: after start-up, which loads every user
   * and leaves their garbage before the first check could see a peak.
   */
  trimNow(before = this.read()): void {
    this.last = this.now();
    const start = performance.now();
    this.collect();
    const pauseMs = performance.now() - start;
    const after = this.read();
    // What a trim leaves is the new floor: memory it cannot return (buffers, sockets) starts no trim a minute later.
    this.floor = outsideHeap(after);
    this.trims++;
    this.opts.onTrim?.(before, after, pauseMs);
  }
}

/** The event loop's busy share between one call and the next. */
function loopBusy(): () => number {
  let last = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const share = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    return share;
  };
}

function outsideHeap(m: MemoryReading): number {
  return m.rss - m.heapTotal - m.external;
}
