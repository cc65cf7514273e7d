import { describe, expect, it } from 'vitest';
import type { Binding, Store } from '../../../../src/store/index.ts';
import { storePerTest, type StoreEngine, type TestDatabase } from '../engines.ts';

export function binding(aor: string, contactUri: string, over: Partial<Binding> = {}): Binding {
  return {
    aor, contactUri, contactRaw: `<${contactUri}>;expires=3600`, callId: 'c1@h', cseq: 1,
    expiresAt: 2_000_000, q: null, path: [], instanceId: null, regId: null, pubGruu: null, tempGruu: null,
    transport: 'udp', sourceAddress: '192.0.2.1', sourcePort: 5060, localAddress: null, localPort: null,
    userAgent: null, updatedAt: 1_000_000, node: null, ...over,
  };
}

export function registrationsSuite(engine: StoreEngine): void {
  describe(`RegistrationRepository (${engine.name})`, () => {
    let t: TestDatabase;
    let store: Store;
    const errors: Error[] = [];

    storePerTest(engine, (db, s) => {
      t = db;
      store = s;
      errors.length = 0;
    }, { onError: (e) => errors.push(e) });

    it('round-trips every field of a binding', async () => {
      const b = binding('sip:100@example.com', 'sip:100@192.0.2.1:5062;transport=tcp', {
        q: 0.5, path: ['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>'], instanceId: '"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"',
        regId: 1, pubGruu: 'sip:100@example.com;gr=urn:uuid:x', tempGruu: 'sip:tgruu.1@example.com;gr', transport: 'tcp',
        localAddress: '192.0.2.10', localPort: 5060, userAgent: 'Spectralink 8440', cseq: 42, node: 'bravo',
      });
      store.registrations.enqueueUpsert(b);
      expect(await store.registrations.loadAll()).toEqual([]);
      await store.registrations.flush();
      expect(await store.registrations.loadAll()).toEqual([b]);
    });

    it('applies deletes and whole-AOR deletes in order with later upserts', async () => {
      const r = store.registrations;
      r.enqueueUpsert(binding('sip:a@h', 'sip:a@1'));
      r.enqueueUpsert(binding('sip:a@h', 'sip:a@2'));
      r.enqueueUpsert(binding('sip:b@h', 'sip:b@1'));
      r.enqueueUpsert(binding('sip:b@h', 'sip:b@2'));
      await r.flush();
      r.enqueueDelete('sip:b@h', 'sip:b@1');
      r.enqueueUpsert(binding('sip:a@h', 'sip:a@3'));
      r.enqueueDeleteAor('sip:a@h');
      r.enqueueUpsert(binding('sip:a@h', 'sip:a@4'));
      expect(r.pending).toBe(3);
      await r.flush();
      const keys = (await r.loadAll()).map((b) => b.contactUri).sort();
      expect(keys).toEqual(['sip:a@4', 'sip:b@2']);
    });

    it('loses nothing across close and reopen', async () => {
      for (let i = 0; i < 500; i++) store.registrations.enqueueUpsert(binding(`sip:${i}@h`, `sip:${i}@c`));
      store.registrations.enqueueDelete('sip:7@h', 'sip:7@c');
      await store.close();
      const again = await t.open();
      const all = await again.registrations.loadAll();
      expect(all).toHaveLength(499);
      expect(all.some((b) => b.aor === 'sip:7@h')).toBe(false);
      store.registrations.enqueueUpsert(binding('sip:late@h', 'sip:late@c'));
      expect(store.registrations.pending).toBe(0);
    });

    it('sweeps expired bindings, including ones still queued', async () => {
      const r = store.registrations;
      r.enqueueUpsert(binding('sip:a@h', 'sip:a@1', { expiresAt: 100 }));
      r.enqueueUpsert(binding('sip:a@h', 'sip:a@2', { expiresAt: 200 }));
      await r.flush();
      r.enqueueUpsert(binding('sip:a@h', 'sip:a@3', { expiresAt: 150 }));
      expect((await r.loadAll(150)).map((b) => b.contactUri)).toEqual(['sip:a@2']);
      expect(await r.deleteExpired(150)).toBe(2);
      expect((await r.loadAll()).map((b) => b.contactUri)).toEqual(['sip:a@2']);
    });

    it('drops an entry the database refuses without blocking the others', async () => {
      const r = store.registrations;
      r.enqueueUpsert(binding('sip:ok@h', 'sip:ok@1'));
      r.enqueueUpsert(binding('sip:bad@h', 'sip:bad@1', { callId: null as never }));
      await r.flush();
      expect((await r.loadAll()).map((b) => b.aor)).toEqual(['sip:ok@h']);
      expect(errors).toHaveLength(1);
      expect(errors[0]!.message).toMatch(/sip:bad@h/);
      expect(r.pending).toBe(0);
    });

    it('tells other store instances which AORs a batch wrote, not itself; loadAor reads them', async () => {
      const other = await t.open();
      const seenByOther: string[] = [];
      const seenBySelf: string[] = [];
      const wOther = other.registrations.watch((aors) => void seenByOther.push(...aors), { intervalMs: 0 });
      const wSelf = store.registrations.watch((aors) => void seenBySelf.push(...aors), { intervalMs: 0 });
      expect(await wOther.poll()).toBe(false);
      store.registrations.enqueueUpsert(binding('sip:a@h', 'sip:a@1'));
      store.registrations.enqueueUpsert(binding('sip:b@h', 'sip:b@1'));
      await store.registrations.flush();
      // Heard by this poll, or already by a wake-up (PostgreSQL's NOTIFY) that ran before it.
      await wOther.poll();
      expect(seenByOther.sort()).toEqual(['sip:a@h', 'sip:b@h']);
      expect(await wSelf.poll()).toBe(false);
      expect(seenBySelf).toEqual([]);
      expect((await other.registrations.loadAor('sip:a@h')).map((b) => b.contactUri)).toEqual(['sip:a@1']);
      expect(await other.registrations.loadAor('sip:a@h', 3_000_000)).toEqual([]);
      wOther.stop();
      wSelf.stop();
    });
  });
}
