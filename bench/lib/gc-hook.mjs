// Preloaded into a server under test (node --expose-gc --import this file):
// on SIGUSR2 it runs full garbage collections and prints
// process.memoryUsage() as one line on stderr, so a memory bench can tell
// live data from garbage not yet collected, with no hook in the server itself.
// With BENCH_HEAP_SNAPSHOT_DIR set, and a file named `next` in that dir, it
// also writes a heap snapshot there and removes `next` (slow, and it needs
// memory of its own: for analysis runs only).
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';

// With BENCH_GC_LAST_RESORT=1 the second collection is V8's "last resort"
// flavour, which also hands back the pages V8 pools after freeing them (as
// src/lib/heap-trim.ts does): RSS then shows what is kept, not what V8 or a
// burst left mapped.
const lastResort = process.env.BENCH_GC_LAST_RESORT === '1';

process.on('SIGUSR2', () => {
  const gc = globalThis.gc;
  // Twice: the first pass may only schedule finalizers that free more.
  if (typeof gc === 'function') {
    gc();
    if (lastResort) gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    else gc();
  }
  const m = process.memoryUsage();
  const dir = process.env.BENCH_HEAP_SNAPSHOT_DIR;
  let snapshot = null;
  if (dir && existsSync(join(dir, 'next'))) {
    rmSync(join(dir, 'next'));
    snapshot = writeHeapSnapshot(join(dir, `server-${process.pid}-${Date.now()}.heapsnapshot`));
  }
  process.stderr.write(`bench-memory: ${JSON.stringify({ ...m, gc: typeof gc === 'function', snapshot })}\n`);
});
