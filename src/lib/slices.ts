// Long work on an event loop that also answers SIP: iterate in slices of a
// few milliseconds and let the loop turn (setImmediate, so pending I/O runs)
// between them. A big import then delays a SIP answer by one slice, not by
// the whole file.
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';

/** Work done between two turns of the event loop. */
export const SLICE_MS = 10;

/** The items of source, the event loop turning whenever sliceMs of work (ours and the caller's) has passed. */
export async function* inSlices<T>(source: AsyncIterable<T> | Iterable<T>, sliceMs = SLICE_MS): AsyncGenerator<T> {
  let start = performance.now();
  for await (const item of source) {
    yield item;
    if (performance.now() - start >= sliceMs) {
      await nextTurn();
      start = performance.now();
    }
  }
}

/** Waits until done items are no more than perSec a second since startedAt (performance.now()). */
export async function pace(done: number, startedAt: number, perSec: number): Promise<void> {
  const ahead = startedAt + (done * 1000) / perSec - performance.now();
  if (ahead > 0) await sleep(ahead);
}
