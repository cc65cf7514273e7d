// Mailboxes (VoicemailRepository) on either store engine: messages with their
// WAV, folders, counts, greetings, the change feed, and the mailbox following
// its user (removed with it, moved by a renumbering).
import { describe, expect, it } from 'vitest';
import type { Store } from '../../../../src/store/index.ts';
import { storePerTest, type StoreEngine, type TestDatabase } from '../engines.ts';
import { storeError } from '../helpers.ts';

/** Not a real recording: the store keeps bytes; the API checks the format. */
const wav = (n: number) => Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(n, 0x5a)]);
const meta = (receivedAt: number, caller = '2001') => ({ caller, callerName: `Caller ${caller}`, receivedAt, durationMs: 4200 });

export function voicemailSuite(engine: StoreEngine): void {
  describe(`voicemail (${engine.name})`, () => {
    let t: TestDatabase;
    let store: Store;

    storePerTest(engine, async (db, s) => {
      t = db;
      store = s;
      await s.users.add({ extension: '1001', password: 'p' });
      await s.users.add({ extension: '1002', password: 'p' });
    });

    it("the user's mailbox switch (on by default) and MWI mode (subscribe by default) are stored and validated", async () => {
      expect(await store.users.getByExtension('1001')).toMatchObject({ voicemail: true, mwi: 'subscribe' });
      const u = await store.users.add({ extension: '1003', password: 'p', voicemail: false, mwi: 'unsolicited' });
      expect([u.voicemail, u.mwi]).toEqual([false, 'unsolicited']);
      expect(await store.users.update('1001', { voicemail: false })).toMatchObject({ voicemail: false, mwi: 'subscribe' });
      expect(await store.users.update('1001', { mwi: 'unsolicited', name: 'x' })).toMatchObject({ voicemail: false, mwi: 'unsolicited' });
      const e = await storeError(() => store.users.update('1001', { mwi: 'always' as never }));
      expect([e.code, e.field]).toEqual(['invalid', 'mwi']);
      await store.close();
      const again = await t.open();
      expect((await again.users.list()).map((x) => [x.extension, x.voicemail, x.mwi])).toEqual([
        ['1001', false, 'unsolicited'], ['1002', true, 'subscribe'], ['1003', false, 'unsolicited']]);
    });

    it('deposit stores metadata and the WAV byte for byte; list is oldest first, by folder; survives reopen', async () => {
      const b = await store.voicemail.deposit('1001', meta(2000, '2002'), wav(3000));
      const a = await store.voicemail.deposit('1001', meta(1000), wav(10));
      expect(a).toEqual({ id: a.id, mailbox: '1001', caller: '2001', callerName: 'Caller 2001', receivedAt: 1000, durationMs: 4200, folder: 'new', bytes: 14 });
      expect(a.id).toMatch(/^[0-9a-f]{16}$/);
      expect(a.id).not.toBe(b.id);
      expect((await store.voicemail.list('1001')).map((m) => m.id)).toEqual([a.id, b.id]);
      expect(await store.voicemail.list('1002')).toEqual([]);
      expect(await store.voicemail.get('1001', b.id)).toEqual(b);
      expect(await store.voicemail.get('1002', b.id)).toBeUndefined();
      expect((await store.voicemail.audio('1001', b.id))!.equals(wav(3000))).toBe(true);
      expect(await store.voicemail.audio('1002', b.id)).toBeUndefined();
      expect(await store.voicemail.setFolder('1001', a.id, 'saved')).toBe(true);
      expect(await store.voicemail.setFolder('1001', a.id, 'saved')).toBe(true);
      expect(await store.voicemail.setFolder('1001', 'ffffffffffffffff', 'saved')).toBe(false);
      expect((await store.voicemail.list('1001', 'new')).map((m) => m.id)).toEqual([b.id]);
      expect((await store.voicemail.list('1001', 'saved')).map((m) => m.id)).toEqual([a.id]);
      await store.close();
      const again = await t.open();
      expect(await again.voicemail.counts('1001')).toEqual({ new: 1, saved: 1 });
      expect((await again.voicemail.audio('1001', a.id))!.equals(wav(10))).toBe(true);
    });

    it('counts and allCounts; remove; bad input is refused', async () => {
      expect(await store.voicemail.counts('1001')).toEqual({ new: 0, saved: 0 });
      const m1 = await store.voicemail.deposit('1001', meta(1), wav(1));
      await store.voicemail.deposit('1001', meta(2), wav(1));
      const m3 = await store.voicemail.deposit('1002', meta(3), wav(1));
      await store.voicemail.setFolder('1002', m3.id, 'saved');
      expect(await store.voicemail.counts('1001')).toEqual({ new: 2, saved: 0 });
      expect([...(await store.voicemail.allCounts())].sort()).toEqual([['1001', { new: 2, saved: 0 }], ['1002', { new: 0, saved: 1 }]]);
      expect(await store.voicemail.remove('1002', m1.id)).toBe(false);
      expect(await store.voicemail.remove('1001', m1.id)).toBe(true);
      expect(await store.voicemail.remove('1001', m1.id)).toBe(false);
      expect(await store.voicemail.counts('1001')).toEqual({ new: 1, saved: 0 });

      let e = await storeError(() => store.voicemail.deposit('1999', meta(1), wav(1)));
      expect([e.code, e.field]).toEqual(['not-found', 'mailbox']);
      e = await storeError(() => store.voicemail.deposit('1001', meta(1), Buffer.alloc(0)));
      expect([e.code, e.field]).toEqual(['invalid', 'wav']);
      e = await storeError(() => store.voicemail.deposit('1001', { ...meta(1), durationMs: -1 }, wav(1)));
      expect([e.code, e.field]).toEqual(['invalid', 'durationMs']);
      e = await storeError(() => store.voicemail.setFolder('1001', 'x', 'old' as never));
      expect([e.code, e.field]).toEqual(['invalid', 'folder']);
      // A caller name from the network is kept, bounded.
      const long = await store.voicemail.deposit('1001', { ...meta(5), callerName: 'x'.repeat(5000) }, wav(1));
      expect(long.callerName.length).toBe(256);
      expect(await store.voicemail.counts('1001')).toEqual({ new: 2, saved: 0 });
    });

    it('greetings: set, replace, remove; only for a user', async () => {
      expect(await store.voicemail.greeting('1001')).toBeUndefined();
      await store.voicemail.setGreeting('1001', wav(5));
      await store.voicemail.setGreeting('1001', wav(7));
      expect((await store.voicemail.greeting('1001'))!.equals(wav(7))).toBe(true);
      expect(await store.voicemail.greeting('1002')).toBeUndefined();
      await store.voicemail.setGreeting('1001', null);
      expect(await store.voicemail.greeting('1001')).toBeUndefined();
      const e = await storeError(() => store.voicemail.setGreeting('1999', wav(5)));
      expect([e.code, e.field]).toEqual(['not-found', 'mailbox']);
    });

    it('a mailbox goes with its user: removed with it, moved by a renumbering', async () => {
      const m = await store.voicemail.deposit('1001', meta(1), wav(9));
      await store.voicemail.setGreeting('1001', wav(3));
      await store.voicemail.deposit('1002', meta(2), wav(9));
      await store.users.update('1001', { extension: '1501' });
      expect(await store.voicemail.list('1001')).toEqual([]);
      expect((await store.voicemail.list('1501')).map((x) => [x.id, x.mailbox])).toEqual([[m.id, '1501']]);
      expect((await store.voicemail.greeting('1501'))!.equals(wav(3))).toBe(true);
      await store.users.remove('1501');
      expect(await store.voicemail.list('1501')).toEqual([]);
      expect(await store.voicemail.greeting('1501')).toBeUndefined();
      // Given to someone else, the extension starts with an empty mailbox.
      await store.users.add({ extension: '1501', password: 'p' });
      expect(await store.voicemail.counts('1501')).toEqual({ new: 0, saved: 0 });
      expect(await store.voicemail.counts('1002')).toEqual({ new: 1, saved: 0 });
    });

    it('the change feed names the mailboxes that changed, to this store and to another one on the database', async () => {
      const other = await t.open();
      const seenHere: string[][] = [];
      const seenThere: string[][] = [];
      // A PostgreSQL watcher may be woken by NOTIFY before poll() looks: what was delivered is what counts.
      const here = store.voicemail.watch((boxes) => { seenHere.push([...boxes].sort()); }, { intervalMs: 0 });
      const there = other.voicemail.watch((boxes) => { seenThere.push([...boxes].sort()); }, { intervalMs: 0 });
      await here.poll();
      await there.poll();
      const m = await store.voicemail.deposit('1001', meta(1), wav(1));
      await store.voicemail.deposit('1002', meta(1), wav(1));
      await here.poll();
      await there.poll();
      expect(seenHere.flat().sort()).toEqual(['1001', '1002']);
      expect(seenThere.flat().sort()).toEqual(['1001', '1002']);
      seenHere.length = 0;
      seenThere.length = 0;
      await other.voicemail.setFolder('1001', m.id, 'saved');
      await here.poll();
      expect(seenHere.flat()).toEqual(['1001']);
      // Moving to the folder it is in changes nothing, and says nothing.
      seenHere.length = 0;
      await other.voicemail.setFolder('1001', m.id, 'saved');
      await here.poll();
      expect(seenHere).toEqual([]);
      await store.users.remove('1002');
      await there.poll();
      expect(seenThere.flat()).toContain('1002');
      here.stop();
      there.stop();
    });
  });
}
