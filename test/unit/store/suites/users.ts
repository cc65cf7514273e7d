import { describe, expect, it } from 'vitest';
import type { Store } from '../../../../src/store/index.ts';
import type { User } from '../../../../src/store/types.ts';
import { storePerTest, type StoreEngine, type TestDatabase } from '../engines.ts';
import { storeError } from '../helpers.ts';

export function usersSuite(engine: StoreEngine): void {
  describe(`UserRepository (${engine.name})`, () => {
    let t: TestDatabase;
    let store: Store;
    let clock: number;

    storePerTest(engine, (db, s) => {
      t = db;
      store = s;
      clock = 1_700_000_000_000;
    }, { now: () => clock });

    it('adds a user with defaults and reads it back by extension and auth user', async () => {
      const u = await store.users.add({ extension: '41510', password: 'secret' });
      expect(u).toMatchObject({
        extension: '41510', name: '', authUser: '41510', password: 'secret',
        voicemailCode: null, enabled: true, callWaiting: true, codecs: null, maxCalls: null,
        noAnswerTimeoutSec: null, createdAt: clock, updatedAt: clock,
      });
      expect(u.id).toBeGreaterThan(0);
      expect(await store.users.getByExtension('41510')).toEqual(u);
      expect(await store.users.getByAuthUser('41510')).toEqual(u);
      expect(await store.users.getByExtension('41511')).toBeUndefined();
    });

    it('stores every field, including lists and nulls', async () => {
      const u = await store.users.add({
        extension: '200', password: 'p', name: 'Spectralink', authUser: 'dect200',
        voicemailCode: '1234', enabled: false, callWaiting: false, codecs: ['PCMA', 'G722'], maxCalls: 2,
        noAnswerTimeoutSec: 20,
      });
      expect(await store.users.getByAuthUser('dect200')).toEqual(u);
      expect(u.codecs).toEqual(['PCMA', 'G722']);
      expect(u.enabled).toBe(false);
      expect(u.callWaiting).toBe(false);
      expect(await store.users.getByAuthUser('200')).toBeUndefined();
    });

    it('rejects duplicates with the clashing field', async () => {
      await store.users.add({ extension: '100', password: 'a', name: 'Alice', authUser: 'alice' });
      const cases: [Parameters<typeof store.users.add>[0], string][] = [
        [{ extension: '100', password: 'b' }, 'extension'],
        [{ extension: '101', password: 'b', authUser: 'alice' }, 'authUser'],
      ];
      for (const [input, field] of cases) {
        const e = (await storeError(async () => await store.users.add(input)));
        expect(e.code).toBe('duplicate');
        expect(e.field).toBe(field);
      }
      expect(await store.users.count()).toBe(1);
      // A display name is not an identity: two users may share one.
      expect((await store.users.add({ extension: '102', password: 'b', name: 'Alice' })).name).toBe('Alice');
    });

    it('rejects invalid input with the field at fault', async () => {
      const cases: [unknown, string][] = [
        [{ extension: '', password: 'x' }, 'extension'],
        [{ extension: '10 0', password: 'x' }, 'extension'],
        [{ extension: '100;user=phone', password: 'x' }, 'extension'],
        [{ extension: 'a'.repeat(65), password: 'x' }, 'extension'],
        [{ extension: 100, password: 'x' }, 'extension'],
        [{ extension: '100', password: '' }, 'password'],
        [{ extension: '100' }, 'password'],
        [{ extension: '100', password: 'x\r\n' }, 'password'],
        [{ extension: '100', password: 'x', authUser: 'a:b' }, 'authUser'],
        [{ extension: '100', password: 'x', voicemailCode: '12a' }, 'voicemailCode'],
        [{ extension: '100', password: 'x', codecs: [] }, 'codecs'],
        [{ extension: '100', password: 'x', codecs: ['PC MU'] }, 'codecs'],
        [{ extension: '100', password: 'x', maxCalls: 0 }, 'maxCalls'],
        [{ extension: '100', password: 'x', noAnswerTimeoutSec: 1.5 }, 'noAnswerTimeoutSec'],
        [{ extension: '100', password: 'x', enabled: 'yes' }, 'enabled'],
      ];
      for (const [input, field] of cases) {
        const e = (await storeError(async () => await store.users.add(input as never)));
        expect(e.code, JSON.stringify(input)).toBe('invalid');
        expect(e.field, JSON.stringify(input)).toBe(field);
      }
      expect(await store.users.count()).toBe(0);
      expect((await store.users.add({ extension: "+49-30_x.!~*'()&=$,", password: 'x' })).extension).toBe("+49-30_x.!~*'()&=$,");
    });

    it('updates fields, keeps the rest and stamps updatedAt', async () => {
      await store.users.add({ extension: '100', password: 'a', name: 'Old', maxCalls: 3 });
      clock += 5000;
      const u = await store.users.update('100', { name: 'New', maxCalls: null, codecs: ['PCMU'] });
      expect(u).toMatchObject({ name: 'New', maxCalls: null, codecs: ['PCMU'], password: 'a', updatedAt: clock });
      expect(u.createdAt).toBe(clock - 5000);
      expect(await store.users.getByExtension('100')).toEqual(u);
    });

    it('renumbers a user, moving a defaulted auth user along but not an explicit one', async () => {
      await store.users.add({ extension: '100', password: 'a' });
      await store.users.add({ extension: '200', password: 'b', authUser: 'bob' });
      expect((await store.users.update('100', { extension: '101' })).authUser).toBe('101');
      expect((await store.users.update('200', { extension: '201' })).authUser).toBe('bob');
      expect(await store.users.getByExtension('100')).toBeUndefined();
      expect((await store.users.getByAuthUser('101'))?.extension).toBe('101');
    });

    it('reports not-found and duplicate on update, and not-found on remove', async () => {
      await store.users.add({ extension: '100', password: 'a' });
      await store.users.add({ extension: '200', password: 'b' });
      expect((await storeError(async () => await store.users.update('300', { name: 'x' }))).code).toBe('not-found');
      const dup = (await storeError(async () => await store.users.update('200', { extension: '100' })));
      expect([dup.code, dup.field]).toEqual(['duplicate', 'extension']);
      expect((await storeError(async () => await store.users.update('200', { password: '' }))).field).toBe('password');
      expect((await store.users.getByExtension('200'))?.password).toBe('b');
      const removed = await store.users.remove('100');
      expect(removed.extension).toBe('100');
      expect(await store.users.getByExtension('100')).toBeUndefined();
      expect((await storeError(async () => await store.users.remove('100'))).code).toBe('not-found');
    });

    it('lists in extension order with paging and case-insensitive search', async () => {
      for (const ext of ['30', '100', '4', '2000', '101']) {
        await store.users.add({ extension: ext, password: 'p', name: ext === '101' ? 'Maria Garcia' : `User ${ext}` });
      }
      expect((await store.users.list()).map((u) => u.extension)).toEqual(['4', '30', '100', '101', '2000']);
      expect((await store.users.list({ offset: 1, limit: 2 })).map((u) => u.extension)).toEqual(['30', '100']);
      expect(await store.users.list({ offset: 10 })).toEqual([]);
      expect((await store.users.list({ search: 'garc' })).map((u) => u.extension)).toEqual(['101']);
      expect((await store.users.list({ search: '10' })).map((u) => u.extension)).toEqual(['100', '101']);
      expect(await store.users.count('10')).toBe(2);
      expect(await store.users.count()).toBe(5);
      // LIKE wildcards in the search are literal.
      expect(await store.users.count('%')).toBe(0);
      expect(await store.users.count('_')).toBe(0);
    });

    it('snapshot returns all users and the change sequence they reflect', async () => {
      await store.users.add({ extension: '1', password: 'p' });
      await store.users.add({ extension: '2', password: 'p' });
      const snap = await store.users.snapshot();
      expect(snap.users.map((u) => u.extension)).toEqual(['1', '2']);
      expect(snap.seq).toBe(await store.users.lastChangeSeq());
      expect(snap.seq).toBeGreaterThan(0);
    });

    it('eachUser hands over every user, as snapshot() has them, and the same change sequence', async () => {
      await store.users.add({ extension: '1', password: 'p' });
      await store.users.add({ extension: '2', password: 'p', codecs: ['PCMA'], dnd: true });
      await store.users.remove('1');
      const seen: User[] = [];
      const seq = await store.users.eachUser((u) => seen.push(u));
      const snap = await store.users.snapshot();
      expect(seen).toEqual(snap.users);
      expect(seen.map((u) => u.extension)).toEqual(['2']);
      expect(seq).toBe(snap.seq);
    });

    it('keeps users across close and reopen', async () => {
      const u = await store.users.add({ extension: '100', password: 'a', codecs: ['G722'] });
      await store.close();
      const again = await t.open();
      expect(await again.users.getByExtension('100')).toEqual(u);
    });

    it('rehearse() shows its own writes, uniqueness included, and leaves nothing behind', async () => {
      await store.users.add({ extension: '100', password: 'a' });
      const seen = await store.rehearse(async (scratch) => {
        await scratch.users.add({ extension: '101', password: 'b' });
        await scratch.users.update('100', { name: 'Changed' });
        const dup = await storeError(() => scratch.users.add({ extension: '101', password: 'c' }));
        // Reads that take a snapshot of their own work inside the rehearsal too.
        const listed = (await scratch.users.snapshot()).users.length;
        await scratch.huntGroups.list();
        return { count: await scratch.users.count(), listed, name: (await scratch.users.getByExtension('100'))?.name, dup: dup.code };
      });
      expect(seen).toEqual({ count: 2, listed: 2, name: 'Changed', dup: 'duplicate' });
      expect(await store.users.count()).toBe(1);
      expect((await store.users.getByExtension('100'))?.name).toBe('');
      // The store takes writes as before.
      await store.users.add({ extension: '101', password: 'b' });
      expect(await store.users.count()).toBe(2);
    });
  });
}
