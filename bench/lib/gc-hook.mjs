// Preloaded into a server under test (node --expose-gc --import this file):
// on SIGUSR2 it runs full garbage collections and prints
// process.memoryUsage() as one line on stderr, so a memory bench can tell
// live data from garbage not yet collected, with no hook in the server itself.
process.on('SIGUSR2', () => {
  const gc = globalThis.gc;
  // Twice: the first pass may only schedule finalizers that free more.
  if (typeof gc === 'function') {
    gc();
    gc();
  }
  const m = process.memoryUsage();
  process.stderr.write(`bench-memory: ${JSON.stringify({ ...m, gc: typeof gc === 'function' })}\n`);
});
