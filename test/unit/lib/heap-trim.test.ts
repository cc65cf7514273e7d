import { describe, expect, it } from 'vitest';
import { HeapTrim } from '../../../src/lib/heap-trim.ts';
import type { MemoryReading } from '../../../src/lib/heap-trim.ts';

const MiB = 2 ** 20;

function rig(threshold = 64 * MiB) {
  let now = 0;
  /** Resident memory beyond the heap that a collection leaves. */
  let kept = 140 * MiB;
  let reading: MemoryReading = { rss: 200 * MiB, heapTotal: 50 * MiB, external: 10 * MiB };
  let collected = 0;
  let busy = 0;
  const trims: number[] = [];
  const trim = new HeapTrim({
    thresholdBytes: threshold,
    minIntervalMs: 60_000,
    now: () => now,
    read: () => reading,
    busy: () => busy,
    collect: () => {
      collected++;
      // What a memory-reducing collection does: the pool goes back.
      reading = { ...reading, rss: reading.heapTotal + reading.external + kept };
    },
    onTrim: (before, after) => void trims.push((before.rss - after.rss) / MiB),
  });
  return {
    trim,
    set: (r: Partial<MemoryReading>) => void (reading = { ...reading, ...r }),
    keep: (bytes: number) => void (kept = bytes),
    busy: (share: number) => void (busy = share),
    advance: (ms: number) => void (now += ms),
    collected: () => collected,
    trims,
  };
}

describe('HeapTrim', () => {
  it('trims when resident memory beyond the heap grows past the threshold, not when the heap itself grows', () => {
    const r = rig();
    expect(r.trim.check()).toBe(false);
    // Live data: the heap and RSS grow together.
    r.set({ rss: 500 * MiB, heapTotal: 350 * MiB });
    expect(r.trim.check()).toBe(false);
    // The burst is over: the heap shrank, RSS did not (V8's pool).
    r.set({ heapTotal: 60 * MiB });
    expect(r.trim.check()).toBe(true);
    expect(r.collected()).toBe(1);
    expect(r.trims).toEqual([290]);
  });

  it('waits for a burst to end, trims at most once per interval, and takes what a trim left as the new floor', () => {
    const r = rig();
    r.trim.check();
    // A burst: the event loop is busy, the pool grows.
    r.busy(0.9);
    r.set({ rss: 550 * MiB, heapTotal: 200 * MiB });
    expect(r.trim.check()).toBe(false);
    r.busy(0.05);
    r.set({ rss: 400 * MiB, heapTotal: 50 * MiB });
    // Memory the collection cannot return (native buffers): 100 MiB above the first floor stays.
    r.keep(240 * MiB);
    expect(r.trim.check()).toBe(true);
    expect(r.trims).toEqual([100]);
    // It starts no trim of its own later on.
    r.advance(30_000);
    expect(r.trim.check()).toBe(false);
    // Another burst within the interval: its end waits for the interval's end.
    r.busy(0.9);
    r.set({ rss: 650 * MiB, heapTotal: 200 * MiB });
    expect(r.trim.check()).toBe(false);
    r.busy(0.1);
    r.set({ rss: 500 * MiB, heapTotal: 50 * MiB });
    r.advance(10_000);
    expect(r.trim.check()).toBe(false);
    r.advance(20_000);
    expect(r.trim.check()).toBe(true);
    expect(r.collected()).toBe(2);
  });

  it('trims at once when told (after start-up), and measures later growth from what it left', () => {
    const r = rig();
    r.set({ rss: 450 * MiB });
    r.trim.trimNow();
    expect(r.trims).toEqual([250]);
    // 200 MiB resident again, 140 beyond the heap: the floor the trim left.
    r.set({ rss: 250 * MiB });
    r.advance(120_000);
    expect(r.trim.check()).toBe(false);
  });

  it('runs V8\'s own memory-reducing collection when none is given', () => {
    let reads = 0;
    const trim = new HeapTrim({
      thresholdBytes: 1,
      busy: () => 0,
      // The first reading sets the floor, the second is above it.
      read: () => ({ rss: reads++ === 0 ? 0 : 10 * MiB, heapTotal: 0, external: 0 }),
    });
    trim.check();
    expect(trim.check()).toBe(true);
    expect(trim.trims).toBe(1);
  });
});
