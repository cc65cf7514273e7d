import { afterEach, describe, expect, it } from 'vitest';
import { TrustRecorder } from '../../../src/security/trust-recorder.ts';
import type { TrustedSourceRepository } from '../../../src/store/admin-types.ts';
import { tempStores } from '../store/helpers.ts';

const DAY = 86_400_000;

describe('TrustRecorder (allow-list write-behind, real SQLite)', () => {
  const stores = tempStores();
  afterEach(() => stores.cleanup());

  it('batches sightings into the store on flush, newest time per key, and ages out old ones', async () => {
    let t = 100 * DAY;
    const repo = stores.open().admin.trustedSources;
    const rec = new TrustRecorder(repo, { now: () => t, flushMs: 60_000 });
    await repo.record([{ kind: 'sip', subject: 'old', address: '192.0.2.9', at: t - 31 * DAY }]);
    rec.add('sip', '1001', '192.0.2.1');
    t += 5;
    rec.add('sip', '1001', '192.0.2.1');
    expect(await repo.has('sip', '1001', '192.0.2.1', 0)).toBe(false); // nothing written before the flush
    await rec.flush();
    expect(await repo.list('sip', '1001', rec.since())).toEqual([expect.objectContaining({ address: '192.0.2.1', lastSeenAt: t })]);
    expect(await repo.has('sip', 'old', '192.0.2.9', 0)).toBe(false); // older than 30 days: pruned
    await rec.close();
  });

  it('drops (and counts) sightings beyond maxPending, and keeps a failed batch for the next one', async () => {
    const real = stores.open().admin.trustedSources;
    let failNext = true;
    const errors: string[] = [];
    const repo: TrustedSourceRepository = {
      ...real,
      has: real.has.bind(real),
      list: real.list.bind(real),
      remove: real.remove.bind(real),
      prune: real.prune.bind(real),
      record: async (s) => {
        if (failNext) {
          failNext = false;
          throw new Error('disk full');
        }
        return real.record(s);
      },
    };
    const rec = new TrustRecorder(repo, { now: () => 1_000, flushMs: 60_000, maxPending: 2, onError: (e) => errors.push(e.message) });
    rec.add('sip', 'a', '192.0.2.1');
    rec.add('sip', 'b', '192.0.2.1');
    rec.add('sip', 'c', '192.0.2.1');
    expect(rec.dropped).toBe(1);
    await rec.flush();
    expect(errors).toEqual(['disk full']);
    expect(await real.has('sip', 'a', '192.0.2.1', 0)).toBe(false);
    await rec.close(); // the kept batch is written now
    expect(await real.has('sip', 'a', '192.0.2.1', 0)).toBe(true);
    expect(await real.has('sip', 'b', '192.0.2.1', 0)).toBe(true);
    expect(await real.has('sip', 'c', '192.0.2.1', 0)).toBe(false);
  });
});
