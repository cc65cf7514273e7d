// Which C allocator the workers run on. glibc's malloc keeps the native
// memory a burst of traffic freed (receive buffers and the like): after a
// million REGISTERs a worker stayed ~340 MiB above its heap, where jemalloc
// hands it back (bench/README.md, "Memory with workers"). So a worker starts
// with Debian's libjemalloc2 preloaded when the system has it, unless the
// operator chose otherwise (SWITCHBOARD_MALLOC=system, or an LD_PRELOAD of
// their own, which is left as it is).
import { existsSync } from 'node:fs';

/** Where Debian and other distributions put the shared library. */
const JEMALLOC = [
  '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2',
  '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2',
  '/usr/lib64/libjemalloc.so.2',
  '/usr/lib/libjemalloc.so.2',
];

export interface WorkerAllocator {
  /** The LD_PRELOAD for the workers (undefined: none). */
  preload: string | undefined;
  /** For the start-up log line. */
  name: string;
}

export function workerAllocator(env: NodeJS.ProcessEnv, exists: (path: string) => boolean = existsSync): WorkerAllocator {
  if (env.LD_PRELOAD) return { preload: env.LD_PRELOAD, name: `as preloaded (${env.LD_PRELOAD})` };
  if (env.SWITCHBOARD_MALLOC === 'system') return { preload: undefined, name: 'system malloc (SWITCHBOARD_MALLOC=system)' };
  const lib = JEMALLOC.find((p) => exists(p));
  return lib === undefined ? { preload: undefined, name: 'system malloc (no libjemalloc2 installed)' } : { preload: lib, name: `jemalloc (${lib})` };
}
