import { describe, expect, it } from 'vitest';
import { LocationService } from '../../../src/pbx/registrar/location.ts';
import type { BindingPersistence, LiveBinding, LocationChange } from '../../../src/pbx/registrar/location.ts';

function binding(aor: string, contactUri: string, expiresAt: number, q: number | null = null): LiveBinding {
  return {
    aor, contactUri, contactRaw: contactUri, callId: 'c', cseq: 1, expiresAt, q, path: [], instanceId: null, regId: null,
    pubGruu: null, tempGruu: null, transport: 'udp', sourceAddress: '127.0.0.1', sourcePort: 5060, localAddress: null,
    localPort: null, userAgent: null, updatedAt: 0,
  };
}

/** Records what the location service asks to persist, and serves loadAll from a list. */
function recorder(initial: LiveBinding[] = []) {
  const ops: string[] = [];
  const p: BindingPersistence = {
    loadAll: async () => initial,
    enqueueUpsert: (b) => void ops.push(`upsert ${b.contactUri}`),
    enqueueDelete: (aor, uri) => void ops.push(`delete ${uri}`),
  };
  return { p, ops };
}

describe('LocationService', () => {
  it('keys bindings by AOR and contact, replacing on re-registration, and persists each change', () => {
    let now = 1000;
    const { p, ops } = recorder();
    const loc = new LocationService(p, () => now);
    loc.put(binding('sip:a@d', 'sip:a@1.1.1.1', 5000));
    loc.put(binding('sip:a@d', 'sip:a@2.2.2.2', 5000));
    loc.put(binding('sip:a@d', 'sip:a@1.1.1.1', 9000));
    expect(loc.count).toBe(2);
    expect(loc.lookup('sip:a@d').find((b) => b.contactUri === 'sip:a@1.1.1.1')!.expiresAt).toBe(9000);
    loc.remove('sip:a@d', 'sip:a@2.2.2.2');
    loc.remove('sip:a@d', 'sip:a@nowhere');
    expect(ops).toEqual(['upsert sip:a@1.1.1.1', 'upsert sip:a@2.2.2.2', 'upsert sip:a@1.1.1.1', 'delete sip:a@2.2.2.2']);
    expect(loc.count).toBe(1);
    now = 9000;
    expect(loc.lookup('sip:a@d')).toEqual([]);
  });

  it('mirrors another node\'s writes of an AOR without writing them back, keeping its own contacts', () => {
    const { p, ops } = recorder();
    const changes: string[][] = [];
    const loc = new LocationService(p, () => 0, { onChange: (_aor, list) => void changes.push(list.map((b) => b.contactUri)) });
    loc.put({ ...binding('sip:a@d', 'sip:here', 100), updatedAt: 10 });
    loc.mirror('sip:a@d', [{ ...binding('sip:a@d', 'sip:there', 100), updatedAt: 20 }]);
    expect(loc.lookup('sip:a@d').map((b) => [b.contactUri, b.remote ?? false])).toEqual([['sip:here', false], ['sip:there', true]]);
    expect(loc.count).toBe(2);
    // The same view again changes nothing; the other node's removal removes its contact only.
    loc.mirror('sip:a@d', [{ ...binding('sip:a@d', 'sip:there', 100), updatedAt: 20 }]);
    loc.mirror('sip:a@d', []);
    expect(loc.lookup('sip:a@d').map((b) => b.contactUri)).toEqual(['sip:here']);
    // A newer write of our own contact by the other node (the phone moved there) wins.
    loc.mirror('sip:a@d', [{ ...binding('sip:a@d', 'sip:here', 200), updatedAt: 30 }]);
    expect(loc.lookup('sip:a@d')).toMatchObject([{ contactUri: 'sip:here', expiresAt: 200, remote: true }]);
    expect(loc.count).toBe(1);
    expect(ops).toEqual(['upsert sip:here']);
    expect(changes).toEqual([['sip:here'], ['sip:here', 'sip:there'], ['sip:here'], ['sip:here']]);
  });

  it('publishes each contact\'s change, and takes another worker\'s so that the newer write of a contact wins', () => {
    let now = 1000;
    const published: LocationChange[] = [];
    const w1 = new LocationService(undefined, () => now, { onPublish: (c) => void published.push(c) });
    const w2 = new LocationService(undefined, () => now, {});
    const at = (b: LiveBinding, t: number): LiveBinding => ({ ...b, updatedAt: t });
    // Worker 1 registers phone 1 of extension a, then it unregisters.
    w1.put(at(binding('sip:a@d', 'sip:a@1.1.1.1', 9000), 1000));
    now = 1100;
    w1.remove('sip:a@d', 'sip:a@1.1.1.1');
    expect(published).toEqual([
      { aor: 'sip:a@d', put: expect.objectContaining({ contactUri: 'sip:a@1.1.1.1' }) },
      { aor: 'sip:a@d', remove: 'sip:a@1.1.1.1', at: 1100 },
    ]);
    // Worker 2 took phone 2 of the same extension before the news of either arrived.
    w2.put(at(binding('sip:a@d', 'sip:a@2.2.2.2', 9000), 1050));
    for (const c of published) w2.applyRemote(c);
    expect(w2.lookup('sip:a@d').map((b) => b.contactUri)).toEqual(['sip:a@2.2.2.2']);
    expect(w2.count).toBe(1);
    // A removal older than the write it would undo is ignored; a late put older than ours too.
    w2.put(at(binding('sip:a@d', 'sip:a@1.1.1.1', 9000), 1200));
    w2.applyRemote({ aor: 'sip:a@d', remove: 'sip:a@1.1.1.1', at: 1100 });
    w2.applyRemote({ aor: 'sip:a@d', put: at(binding('sip:a@d', 'sip:a@1.1.1.1', 5000), 1000) });
    expect(w2.lookup('sip:a@d').find((b) => b.contactUri === 'sip:a@1.1.1.1')?.expiresAt).toBe(9000);
    // A newer put replaces; a newer removal removes, and the AOR goes when empty.
    w2.applyRemote({ aor: 'sip:a@d', put: at(binding('sip:a@d', 'sip:a@2.2.2.2', 7000), 1300) });
    expect(w2.lookup('sip:a@d').find((b) => b.contactUri === 'sip:a@2.2.2.2')?.expiresAt).toBe(7000);
    w2.applyRemote({ aor: 'sip:a@d', remove: 'sip:a@2.2.2.2', at: 1400 });
    w2.applyRemote({ aor: 'sip:a@d', remove: 'sip:a@1.1.1.1', at: 1400 });
    expect(w2.count).toBe(0);
    expect(w2.aorCount).toBe(0);
  });

  it('orders lookups by q, highest first, with no q counting as 1.0', () => {
    const loc = new LocationService(undefined, () => 0);
    loc.put(binding('sip:a@d', 'sip:low', 10, 0.1));
    loc.put(binding('sip:a@d', 'sip:none', 10));
    loc.put(binding('sip:a@d', 'sip:mid', 10, 0.5));
    expect(loc.lookup('sip:a@d').map((b) => b.contactUri)).toEqual(['sip:none', 'sip:mid', 'sip:low']);
  });

  it('sweeps every expired binding, including several in one AOR, and forgets empty AORs', () => {
    let now = 0;
    const { p, ops } = recorder();
    const loc = new LocationService(p, () => now);
    for (let i = 0; i < 5; i++) loc.put(binding('sip:a@d', `sip:a${i}`, i < 4 ? 100 : 1000));
    loc.put(binding('sip:b@d', 'sip:b', 100));
    now = 100;
    expect(loc.sweep()).toBe(5);
    expect(loc.count).toBe(1);
    expect(loc.aorCount).toBe(1);
    expect(ops.filter((o) => o.startsWith('delete'))).toHaveLength(5);
  });

  it('loads what was persisted and deletes what expired meanwhile', async () => {
    const { p, ops } = recorder([binding('sip:a@d', 'sip:old', 50), binding('sip:a@d', 'sip:live', 500)]);
    const loc = new LocationService(p, () => 100);
    expect(await loc.load()).toBe(1);
    expect(loc.lookup('sip:a@d').map((b) => b.contactUri)).toEqual(['sip:live']);
    expect(ops).toEqual(['delete sip:old']);
  });

  it('removeAll drops every binding of an AOR and tells the listener', () => {
    const changes: Array<[string, number]> = [];
    const loc = new LocationService(undefined, () => 0, { onChange: (aor, list) => changes.push([aor, list.length]) });
    loc.put(binding('sip:a@d', 'sip:1', 10));
    loc.put(binding('sip:a@d', 'sip:2', 10));
    loc.removeAll('sip:a@d');
    expect(loc.count).toBe(0);
    expect(changes).toEqual([['sip:a@d', 1], ['sip:a@d', 2], ['sip:a@d', 1], ['sip:a@d', 0]]);
  });
});
