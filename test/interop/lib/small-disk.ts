// A small tmpfs to run a server's data directory on, and a filler file that
// takes its last free byte: the "disk full" of the hardening tests. Needs
// root (CI runs as root); mounts only under the temp directory.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, removeDir } from '../process.ts';

export interface SmallDisk {
  readonly dir: string;
  /** Writes a filler file until the file system says ENOSPC. */
  fill(): void;
  /** Frees the space the filler took. */
  free(): void;
  unmount(): void;
}

export function mountSmallDisk(sizeMiB: number): SmallDisk {
  const dir = makeTempDir('small-disk');
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0700`, 'tmpfs', dir]);
  const filler = join(dir, 'filler');
  return {
    dir,
    fill() {
      const fd = openSync(filler, 'a');
      const chunk = Buffer.alloc(64 * 1024, 0x5a);
      try {
        for (let i = 0; i < 1_000_000; i++) writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
        // The last partial chunk: byte by byte until nothing fits.
        for (let i = 0; i < 65_536; i++) {
          try {
            writeSync(fd, chunk, 0, 1);
          } catch {
            break;
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    free() {
      rmSync(filler, { force: true });
    },
    unmount() {
      try {
        execFileSync('umount', ['-l', dir]);
      } finally {
        removeDir(dir);
      }
    },
  };
}
