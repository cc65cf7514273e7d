import { describe, expect, it } from 'vitest';
import { workerAllocator } from '../../../src/cluster/allocator.ts';

const DEBIAN = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2';

describe('workerAllocator', () => {
  it('preloads Debian\'s jemalloc for the workers when it is installed', () => {
    expect(workerAllocator({}, (p) => p === DEBIAN)).toEqual({ preload: DEBIAN, name: `jemalloc (${DEBIAN})` });
  });

  it('keeps the system allocator when jemalloc is missing or the operator says so', () => {
    expect(workerAllocator({}, () => false).preload).toBeUndefined();
    expect(workerAllocator({ SWITCHBOARD_MALLOC: 'system' }, () => true)).toEqual({ preload: undefined, name: 'system malloc (SWITCHBOARD_MALLOC=system)' });
  });

  it('leaves an LD_PRELOAD the operator set as it is', () => {
    expect(workerAllocator({ LD_PRELOAD: '/opt/tcmalloc.so' }, () => true).preload).toBe('/opt/tcmalloc.so');
  });
});
