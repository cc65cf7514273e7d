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
    whenDurable: (done) => done(),
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

  it('updates a binding in place, and what raw() returned before stays as it was', () => {
    const loc = new LocationService(undefined, () => 0);
    loc.put({ ...binding('sip:a@d', 'sip:1', 100), cseq: 1 });
    const before = loc.raw('sip:a@d');
    loc.put({ ...binding('sip:a@d', 'sip:1', 200), cseq: 2, connectionId: 7 });
    expect(loc.count).toBe(1);
    expect(before).toMatchObject([{ cseq: 1, expiresAt: 100 }]);
    expect(loc.raw('sip:a@d')).toMatchObject([{ cseq: 2, expiresAt: 200, connectionId: 7 }]);
    expect(loc.lookup('sip:a@d')[0]).toEqual({ ...binding('sip:a@d', 'sip:1', 200), cseq: 2, connectionId: 7 });
  });

  it('holds many contacts per AOR and removes them one by one down to none', () => {
    const loc = new LocationService(undefined, () => 0);
    for (let i = 0; i < 200; i++) loc.put(binding('sip:a@d', `sip:a@10.0.${i >> 8}.${i & 255}`, 1000 + i));
    // A contact that is a prefix of another is a different contact.
    loc.put(binding('sip:a@d', 'sip:a@10.0.0.1', 5));
    expect(loc.count).toBe(200);
    expect(loc.raw('sip:a@d').find((b) => b.contactUri === 'sip:a@10.0.0.1')!.expiresAt).toBe(5);
    for (let i = 199; i >= 1; i--) loc.remove('sip:a@d', `sip:a@10.0.${i >> 8}.${i & 255}`);
    expect(loc.raw('sip:a@d').map((b) => b.contactUri)).toEqual(['sip:a@10.0.0.0']);
    loc.put(binding('sip:a@d', 'sip:again', 10));
    expect(loc.raw('sip:a@d').map((b) => b.contactUri)).toEqual(['sip:a@10.0.0.0', 'sip:again']);
    loc.removeAll('sip:a@d');
    expect([loc.count, loc.aorCount, loc.raw('sip:a@d').length]).toEqual([0, 0, 0]);
  });

  it('takes another worker\'s contacts as they are, without persisting or publishing them', () => {
    const { p, ops } = recorder();
    const published: string[] = [];
    const loc = new LocationService(p, () => 0, { onPublish: (c) => void published.push(c.aor) });
    loc.put(binding('sip:a@d', 'sip:mine', 100));
    loc.applyRemote({ aor: 'sip:a@d', put: binding('sip:a@d', 'sip:x', 100) });
    loc.applyRemote({ aor: 'sip:a@d', put: { ...binding('sip:a@d', 'sip:y', 100), connectionId: 3 } });
    expect(loc.count).toBe(3);
    expect(loc.raw('sip:a@d')).toEqual([binding('sip:a@d', 'sip:mine', 100), binding('sip:a@d', 'sip:x', 100), { ...binding('sip:a@d', 'sip:y', 100), connectionId: 3 }]);
    loc.applyRemote({ aor: 'sip:b@d', put: binding('sip:b@d', 'sip:b', 100) });
    loc.applyRemote({ aor: 'sip:a@d', remove: 'sip:x', at: 0 });
    loc.applyRemote({ aor: 'sip:a@d', remove: 'sip:y', at: 0 });
    expect([loc.count, loc.aorCount]).toEqual([2, 2]);
    expect(ops).toEqual(['upsert sip:mine']);
    expect(published).toEqual(['sip:a@d']);
  });

  it('sweeps a binding added after a sweep that found nothing due, even one expiring sooner than all others', () => {
    let now = 0;
    const loc = new LocationService(undefined, () => now);
    loc.put(binding('sip:a@d', 'sip:late', 10_000));
    now = 50;
    expect(loc.sweep()).toBe(0);
    loc.applyRemote({ aor: 'sip:b@d', put: binding('sip:b@d', 'sip:soon', 100) });
    now = 100;
    expect(loc.sweep()).toBe(1);
    expect(loc.raw('sip:b@d')).toEqual([]);
    now = 9_999;
    expect(loc.sweep()).toBe(0);
    now = 10_000;
    expect(loc.sweep()).toBe(1);
    expect(loc.count).toBe(0);
  });

  it('keeps long and non-ASCII values as they came', () => {
    const loc = new LocationService(undefined, () => 0);
    const b = { ...binding('sip:ü@d', `sip:ü@${'h'.repeat(5000)}.example`, 100), userAgent: 'Téléphone ☎ 😀', path: ['<sip:ρ@p;lr>'] };
    loc.put(b);
    expect(loc.lookup('sip:ü@d')).toEqual([b]);
    expect([...loc.all()]).toEqual([b]);
  });

  it('keeps AORs apart that differ only in a leading zero, the domain or the scheme, and gives each back as it was', () => {
    let now = 0;
    const loc = new LocationService(undefined, () => now);
    const aors = ['sip:100@d', 'sip:0100@d', 'sip:100@e', 'sips:100@d', 'sip:100@d.x', 'sip:1073741824@d', 'sip:0@d', 'sip:@d', 'sip:100', 'sip:alice@d'];
    aors.forEach((aor, i) => loc.put(binding(aor, `sip:c${i}`, 100 + i)));
    expect(loc.aorCount).toBe(aors.length);
    aors.forEach((aor, i) => expect(loc.lookup(aor).map((b) => [b.aor, b.contactUri])).toEqual([[aor, `sip:c${i}`]]));
    expect([...loc.all()].map((b) => b.aor).sort()).toEqual([...aors].sort());
    now = 100;
    expect(loc.sweep()).toBe(1);
    expect(loc.raw('sip:100@d')).toEqual([]);
    expect(loc.raw('sip:0100@d')).toHaveLength(1);
  });
});
